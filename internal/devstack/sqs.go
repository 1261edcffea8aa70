// Package devstack is Cascade's local stack: moto's server for
// DynamoDB with streams, SQS, S3, Secrets Manager and Step Functions;
// an event-source runner that does what Lambda's event source mappings
// do and invokes the real handlers with aws-lambda-go event types; an
// HTTP gateway for the API and the webhook function URLs; and the
// provider fakes. Everything listens on 127.0.0.1.
package devstack

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSHandler is the shape of every queue-triggered handler.
type SQSHandler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// SQSSource polls one queue the way a Lambda event source mapping
// does: batches of up to BatchSize, the handler's batch item failures
// left on the queue for redelivery after the visibility timeout, the
// rest deleted.
type SQSSource struct {
	Name       string
	QueueURL   string
	QueueARN   string
	Handler    SQSHandler
	BatchSize  int32
	Pollers    int
	Visibility int32 // seconds a received message stays hidden

	invocations atomic.Int64
}

// Invocations counts handler calls so far.
func (s *SQSSource) Invocations() int64 { return s.invocations.Load() }

// run polls until ctx ends.
func (s *SQSSource) run(ctx context.Context, client *sqs.Client, log *slog.Logger, wg *sync.WaitGroup) {
	for i := 0; i < max(s.Pollers, 1); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := s.poll(ctx, client); err != nil && ctx.Err() == nil {
					log.Warn("queue poll failed", "queue", s.Name, "err", err)
					sleep(ctx, time.Second)
				}
			}
		}()
	}
}

func (s *SQSSource) poll(ctx context.Context, client *sqs.Client) error {
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(s.QueueURL),
		MaxNumberOfMessages:         max(s.BatchSize, 1),
		WaitTimeSeconds:             1,
		VisibilityTimeout:           max(s.Visibility, 1),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil || len(out.Messages) == 0 {
		return err
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(out.Messages))}
	for i, m := range out.Messages {
		ev.Records[i] = events.SQSMessage{
			MessageId:      aws.ToString(m.MessageId),
			ReceiptHandle:  aws.ToString(m.ReceiptHandle),
			Body:           aws.ToString(m.Body),
			Md5OfBody:      aws.ToString(m.MD5OfBody),
			Attributes:     m.Attributes,
			EventSource:    "aws:sqs",
			EventSourceARN: s.QueueARN,
			AWSRegion:      "us-east-1",
		}
	}
	s.invocations.Add(1)
	resp, err := s.Handler(invocation(ctx), ev)
	if err != nil {
		// A handler error fails the whole batch: nothing is deleted.
		return errors.Join(errors.New("handler error"), err)
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var del []types.DeleteMessageBatchRequestEntry
	for _, m := range ev.Records {
		if !failed[m.MessageId] {
			del = append(del, types.DeleteMessageBatchRequestEntry{
				Id: aws.String(m.MessageId), ReceiptHandle: aws.String(m.ReceiptHandle),
			})
		}
	}
	if len(del) == 0 {
		return nil
	}
	_, err = client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(s.QueueURL), Entries: del,
	})
	return err
}

var requestSeq atomic.Int64

// invocation gives each handler call a Lambda context with a request
// id, as the Lambda runtime does.
func invocation(ctx context.Context) context.Context {
	id := time.Now().UTC().Format("20060102T150405") + "-" + strconv.FormatInt(requestSeq.Add(1), 10)
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: id})
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
