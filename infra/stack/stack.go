// Package stack declares Cascade's production resources as one CDK
// stack: the table, queues, functions, HTTP API, webhook function
// URLs, the cascade state machine, the report bucket, alarms and a
// dashboard. cmd-style wiring lives in infra/main.go; the template
// tests build the same stack through NewCascadeStack.
package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/cascade-oss/cascade/internal/channel"
)

// CascadeStackProps configure NewCascadeStack. Only Definition is
// required.
type CascadeStackProps struct {
	awscdk.StackProps

	// Definition is the cascade's ASL with its ${Name} placeholders
	// (package cascade's RawDefinition).
	Definition string

	// AssetDir holds one folder per function with the bootstrap
	// binary `make build` writes; "dist" when empty.
	AssetDir string

	// SenderConcurrency caps each channel sender's concurrent
	// invocations; channels left out use DefaultSenderConcurrency.
	SenderConcurrency map[channel.Channel]int

	// FanoutConcurrency caps the fan-out function's concurrent
	// invocations, and with them the rate of StartExecution calls,
	// which Step Functions meters per account and region; 5 when
	// zero. Throttled starts are retried by the queue.
	FanoutConcurrency int

	// SecretPrefix starts the name of every provider secret; the
	// stack name and a slash when empty.
	SecretPrefix string

	// LogRetention applies to every log group; one month when zero.
	LogRetention awslogs.RetentionDays
}

// DefaultSenderConcurrency sizes each sender's maximum concurrency to
// its provider. A sender invocation takes a batch of up to ten
// messages and spends about a quarter second on each provider call,
// so one invocation sustains roughly four messages a second.
// WhatsApp's Cloud API allows 80 messages a second per number by
// default: 20 invocations. RBM and MSG91 publish no fixed figure for
// a new account, so their senders start at half that.
var DefaultSenderConcurrency = map[channel.Channel]int{
	channel.WhatsApp: 20,
	channel.RCS:      10,
	channel.SMS:      10,
}

// CascadeStack is the stack and the handles tests use to build
// variants of it.
type CascadeStack struct {
	awscdk.Stack

	Table        awsdynamodb.Table
	Bucket       awss3.Bucket
	StateMachine awsstepfunctions.StateMachine

	// Queues are the work queues by consumer function name
	// ("fanout", "sender-sms", ...); each has its own DLQ.
	Queues map[string]awssqs.Queue

	// Functions are the Lambda functions by name ("api",
	// "sender-whatsapp", ...), the names of functions/<name>.
	Functions map[string]awslambda.Function

	notes []note
}

// NewCascadeStack builds the whole production stack. It names no
// physical resource and assumes no account or region.
func NewCascadeStack(scope constructs.Construct, id string,
	props *CascadeStackProps) *CascadeStack {
	p := props.withDefaults()
	s := &CascadeStack{
		Stack:     awscdk.NewStack(scope, jsii.String(id), &p.StackProps),
		Queues:    map[string]awssqs.Queue{},
		Functions: map[string]awslambda.Function{},
	}
	pinFeatureFlags(s.Stack)
	if p.SecretPrefix == "" {
		p.SecretPrefix = *awscdk.Aws_STACK_NAME() + "/"
	}

	s.Table = newTable(s.Stack)
	s.Bucket = newBuckets(s.Stack)
	s.newQueues()
	s.StateMachine = s.newStateMachine(p)
	s.newFunctions(p)
	newHTTPAPI(s.Stack, p, s.Functions["api"])
	newDashboard(s.Stack, s.StateMachine)
	suppressFindings(s)
	return s
}

// withDefaults returns a copy of p with every empty field filled in.
func (p *CascadeStackProps) withDefaults() CascadeStackProps {
	out := CascadeStackProps{}
	if p != nil {
		out = *p
	}
	if out.AssetDir == "" {
		out.AssetDir = "dist"
	}
	if out.FanoutConcurrency == 0 {
		out.FanoutConcurrency = 5
	}
	if out.LogRetention == "" {
		out.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	conc := map[channel.Channel]int{}
	for c, n := range DefaultSenderConcurrency {
		conc[c] = n
	}
	for c, n := range out.SenderConcurrency {
		conc[c] = n
	}
	out.SenderConcurrency = conc
	return out
}

// pinFeatureFlags turns on the CDK behaviours this stack relies on,
// so that cdk.json stays minimal and tests synthesize what deploys.
func pinFeatureFlags(s awscdk.Stack) {
	flags := map[string]bool{
		// Access-log delivery by bucket policy rather than ACLs,
		// which new buckets have switched off.
		"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
		// One statement per action set rather than per grant.
		"@aws-cdk/aws-iam:minimizePolicies": true,
	}
	for k, v := range flags {
		s.Node().SetContext(jsii.String(k), v)
	}
}
