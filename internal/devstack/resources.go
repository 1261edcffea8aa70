package devstack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/function"
)

// Queue names the stack creates, each with a dead-letter queue.
const (
	QueueFanout   = "fanout"
	QueueWhatsApp = "whatsapp"
	QueueRCS      = "rcs"
	QueueSMS      = "sms"
	QueueOutcome  = "outcome"
	QueueReport   = "report"
)

var queueNames = []string{QueueFanout, QueueWhatsApp, QueueRCS, QueueSMS, QueueOutcome, QueueReport}

// resources are the AWS resources of one stack, named with a prefix so
// several stacks can share one moto server.
type resources struct {
	table     string
	streamARN string
	bucket    string
	queueURLs map[string]string
	queueARNs map[string]string
}

// maxReceives sends a message to its dead-letter queue after this many
// failed deliveries, as the CDK stack does.
const maxReceives = 5

func createResources(ctx context.Context, cl function.Clients, prefix string) (resources, error) {
	r := resources{
		table: prefix + "-table", bucket: prefix + "-bucket",
		queueURLs: map[string]string{}, queueARNs: map[string]string{},
	}
	if err := dynamo.CreateTable(ctx, cl.DynamoDB, r.table); err != nil {
		return r, err
	}
	desc, err := cl.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.table)})
	if err != nil {
		return r, fmt.Errorf("describe table: %w", err)
	}
	r.streamARN = aws.ToString(desc.Table.LatestStreamArn)

	if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(r.bucket)}); err != nil {
		return r, fmt.Errorf("create bucket: %w", err)
	}
	for _, q := range queueNames {
		url, arn, err := createQueue(ctx, cl.SQS, prefix+"-"+q)
		if err != nil {
			return r, err
		}
		r.queueURLs[q], r.queueARNs[q] = url, arn
	}
	return r, nil
}

// createQueue makes a queue and its dead-letter queue.
func createQueue(ctx context.Context, c *sqs.Client, name string) (url, arn string, err error) {
	_, dlqARN, err := plainQueue(ctx, c, name+"-dlq", nil)
	if err != nil {
		return "", "", err
	}
	policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": maxReceives})
	return plainQueue(ctx, c, name, map[string]string{
		string(sqstypes.QueueAttributeNameRedrivePolicy): string(policy),
	})
}

func plainQueue(ctx context.Context, c *sqs.Client, name string, attrs map[string]string) (string, string, error) {
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s: %w", name, err)
	}
	got, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("queue arn %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}
