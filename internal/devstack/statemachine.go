package devstack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/moto"
)

// createStateMachine creates the cascade from the same embedded ASL the
// CDK stack deploys, with the same substitutions.
func createStateMachine(ctx context.Context, c *sfn.Client, prefix string, queues map[string]string) (string, error) {
	def, err := cascade.Definition(map[string]string{
		"WhatsAppQueueUrl": queues[QueueWhatsApp],
		"RcsQueueUrl":      queues[QueueRCS],
		"SmsQueueUrl":      queues[QueueSMS],
		"OutcomeQueueUrl":  queues[QueueOutcome],
	})
	if err != nil {
		return "", err
	}
	out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(prefix + "-cascade"),
		Definition: aws.String(def),
		RoleArn:    aws.String("arn:aws:iam::" + moto.Account + ":role/cascade-local"),
		Type:       sfntypes.StateMachineTypeStandard,
	})
	if err != nil {
		return "", fmt.Errorf("create state machine: %w", err)
	}
	return aws.ToString(out.StateMachineArn), nil
}
