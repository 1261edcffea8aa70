package stack

import (
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

// PlaceholderQueues maps each placeholder of the cascade definition
// to the queue, by consumer name, whose URL replaces it.
var PlaceholderQueues = map[string]string{
	"WhatsAppQueueUrl": "sender-whatsapp",
	"RcsQueueUrl":      "sender-rcs",
	"SmsQueueUrl":      "sender-sms",
	"OutcomeQueueUrl":  "outcome",
}

// newStateMachine declares the cascade from its ASL, with each queue
// placeholder substituted. Its role may send to those queues and to
// no other; CDK adds only what logging and tracing need.
func (s *CascadeStack) newStateMachine(p CascadeStackProps) awsstepfunctions.StateMachine {
	subs := map[string]*string{}
	for name, consumer := range PlaceholderQueues {
		subs[name] = s.Queues[consumer].QueueUrl()
	}
	logs := awslogs.NewLogGroup(s.Stack, jsii.String("CascadeLogs"), &awslogs.LogGroupProps{
		Retention: p.LogRetention,
	})
	sm := awsstepfunctions.NewStateMachine(s.Stack, jsii.String("Cascade"),
		&awsstepfunctions.StateMachineProps{
			DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(p.Definition)),
			DefinitionSubstitutions: &subs,
			StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
			Logs: &awsstepfunctions.LogOptions{
				Destination: logs,
				// ERROR, not ALL: see logLevelReason.
				Level: awsstepfunctions.LogLevel_ERROR,
				// Execution data holds phone numbers, which
				// must not reach logs unmasked.
				IncludeExecutionData: jsii.Bool(false),
			},
			TracingEnabled: jsii.Bool(true),
		})
	for _, consumer := range slices.Sorted(maps.Values(PlaceholderQueues)) {
		s.Queues[consumer].Grant(sm, jsii.String("sqs:SendMessage"))
	}
	s.accept(sm.Role(), wildcardRule, logDeliveryReason, "Resource::*")
	s.accept(sm, "AwsSolutions-SF1", logLevelReason)
	return sm
}
