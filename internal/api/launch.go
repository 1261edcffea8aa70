package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

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

// S3Links signs S3 links for one bucket and seals uploads in it.
type S3Links struct {
	Presign *s3.PresignClient
	S3      interface {
		CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
		GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	}
	Bucket string
}

// Seal copies from to to inside the bucket, then reads the copy's
// first n bytes. A single CopyObject takes objects up to 5 GB, far
// more than any audience file.
func (l S3Links) Seal(ctx context.Context, from, to string, n int64) ([]byte, error) {
	_, err := l.S3.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String(l.Bucket), Key: aws.String(to),
		CopySource: aws.String(url.PathEscape(l.Bucket + "/" + from)),
	})
	var noKey *s3types.NoSuchKey
	var apiErr smithy.APIError
	if errors.As(err, &noKey) || errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchKey" {
		return nil, ErrNoUpload
	}
	if err != nil {
		return nil, fmt.Errorf("seal audience %s: %w", from, err)
	}
	obj, err := l.S3.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(l.Bucket), Key: aws.String(to),
		Range: aws.String(fmt.Sprintf("bytes=0-%d", n-1)),
	})
	var rangeErr smithy.APIError
	if errors.As(err, &rangeErr) && rangeErr.ErrorCode() == "InvalidRange" {
		return nil, nil // an empty object has no byte 0
	}
	if err != nil {
		return nil, fmt.Errorf("read sealed audience %s: %w", to, err)
	}
	defer obj.Body.Close()
	head, err := io.ReadAll(io.LimitReader(obj.Body, n))
	if err != nil {
		return nil, fmt.Errorf("read sealed audience %s: %w", to, err)
	}
	return head, nil
}

// UploadContentType is the Content-Type an audience upload is signed
// with, and so the one its PUT must send.
const UploadContentType = "text/csv"

// UploadURL signs a PUT for key.
func (l S3Links) UploadURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := l.Presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(l.Bucket), Key: aws.String(key),
		ContentType: aws.String(UploadContentType),
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
