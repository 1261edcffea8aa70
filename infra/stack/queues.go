package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Queue settings shared by every queue.
const (
	maxReceiveCount = 5
	// visibilityFactor times a consumer's timeout is its queue's
	// visibility timeout, so a message is not redelivered while a
	// slow invocation, or Lambda's own retry of it, still holds it.
	visibilityFactor = 6
	deadLetterDays   = 14
)

// newQueues declares one work queue per queue-driven function.
func (s *CascadeStack) newQueues() {
	for _, name := range queueConsumers() {
		spec := specs[name]
		s.Queues[name] = newQueue(s.Stack, spec.id+"Queue", spec.timeout)
	}
}

// newQueue declares a work queue for a consumer with the given
// timeout in seconds, its dead-letter queue and an alarm on it.
func newQueue(scope constructs.Construct, id string, consumerTimeout float64) awssqs.Queue {
	group := constructs.NewConstruct(scope, jsii.String(id))
	dlq := newDeadLetterQueue(group, "DeadLetters")
	return awssqs.NewQueue(group, jsii.String("Queue"), &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(
			jsii.Number(visibilityFactor * consumerTimeout)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           dlq,
			MaxReceiveCount: jsii.Number(maxReceiveCount),
		},
		Encryption: awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL: jsii.Bool(true),
	})
}

// newDeadLetterQueue declares a queue that keeps what its source gave
// up on for two weeks and alarms as soon as anything lands in it.
func newDeadLetterQueue(scope constructs.Construct, id string) awssqs.Queue {
	q := awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(deadLetterDays)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
	})
	depth := q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
		Period:    awscdk.Duration_Minutes(jsii.Number(5)),
		Statistic: jsii.String("Maximum"),
	})
	path := *constructs.Node_Of(scope).Path()
	depth.CreateAlarm(scope, jsii.String(id+"Alarm"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription: jsii.String(fmt.Sprintf(
			"%s: messages reached the dead-letter queue", path)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		Threshold:          jsii.Number(0),
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	return q
}
