package api

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cascade-oss/cascade/internal/fanout"
)

// QueueLauncher launches campaigns by putting their first chunk on the
// fan-out queue.
type QueueLauncher struct {
	SQS interface {
		SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	}
	QueueURL string
}

// Launch enqueues the campaign's first audience chunk.
func (l QueueLauncher) Launch(ctx context.Context, tenant, id string) error {
	body, err := json.Marshal(fanout.Message{Tenant: tenant, Campaign: id, Row: 1})
	if err != nil {
		return fmt.Errorf("encode launch: %w", err)
	}
	_, err = l.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(l.QueueURL), MessageBody: aws.String(string(body)),
	})
	if err != nil {
		return fmt.Errorf("launch %s: %w", id, err)
	}
	return nil
}

// S3Links signs S3 links for one bucket.
type S3Links struct {
	Presign *s3.PresignClient
	Bucket  string
}

// UploadURL signs a PUT for key.
func (l S3Links) UploadURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := l.Presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(l.Bucket), Key: aws.String(key),
		ContentType: aws.String("text/csv"),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("sign upload: %w", err)
	}
	return req.URL, nil
}

// DownloadURL signs a GET for key.
func (l S3Links) DownloadURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := l.Presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(l.Bucket), Key: aws.String(key),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("sign download: %w", err)
	}
	return req.URL, nil
}
