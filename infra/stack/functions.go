package stack

import (
	"path/filepath"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/cascade-oss/cascade/internal/channel"
)

// spec sizes one function.
type spec struct {
	id      string  // construct id
	timeout float64 // seconds
	memory  float64 // MB
}

// specs are the functions by name, the names of functions/<name>.
// The api answers API Gateway within its 30 s limit; fanout and
// report-export work through whole files.
var specs = map[string]spec{
	"api":              {"Api", 10, 256},
	"fanout":           {"Fanout", 120, 512},
	"sender-whatsapp":  {"SenderWhatsApp", 30, 256},
	"sender-rcs":       {"SenderRcs", 30, 256},
	"sender-sms":       {"SenderSms", 30, 256},
	"webhook-whatsapp": {"WebhookWhatsApp", 10, 256},
	"webhook-rcs":      {"WebhookRcs", 10, 256},
	"webhook-sms":      {"WebhookSms", 10, 256},
	"status-processor": {"StatusProcessor", 30, 256},
	"outcome":          {"Outcome", 30, 256},
	"report-export":    {"ReportExport", 300, 1024},
}

// queueConsumers are the functions fed by a work queue of their own.
func queueConsumers() []string {
	names := []string{"fanout"}
	for _, c := range channel.All {
		names = append(names, senderName(c))
	}
	return append(names, "outcome", "report-export")
}

func senderName(c channel.Channel) string  { return "sender-" + string(c) }
func webhookName(c channel.Channel) string { return "webhook-" + string(c) }

// env is a function's environment.
type env map[string]*string

// newFunction declares the function name from dist/<name>/bootstrap
// with its own role, log group and environment.
func (s *CascadeStack) newFunction(p CascadeStackProps, name string, e env) awslambda.Function {
	sp := specs[name]
	group := constructs.NewConstruct(s.Stack, jsii.String(sp.id))
	logs := awslogs.NewLogGroup(group, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention: p.LogRetention,
	})
	role := awsiam.NewRole(group, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	logs.GrantWrite(role)

	e["TABLE_NAME"] = s.Table.TableName()
	vars := map[string]*string(e)
	fn := awslambda.NewFunction(group, jsii.String("Function"), &awslambda.FunctionProps{
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(p.AssetDir, name)), nil),
		Role:          role,
		Timeout:       awscdk.Duration_Seconds(jsii.Number(sp.timeout)),
		MemorySize:    jsii.Number(sp.memory),
		Tracing:       awslambda.Tracing_ACTIVE,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Environment:   &vars,
	})
	s.Table.GrantReadWriteData(fn)
	s.accept(role, wildcardRule, starReason, "Resource::*")
	s.accept(role, wildcardRule, indexReason, resourceOf(s.Table, "Arn", "/index/*"))
	s.Functions[name] = fn
	return fn
}

// consume feeds fn from q, reporting failed records one by one;
// maxConcurrency caps its pollers when above zero.
func consume(fn awslambda.Function, q awssqs.IQueue, maxConcurrency int) {
	props := &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(10),
		ReportBatchItemFailures: jsii.Bool(true),
	}
	if maxConcurrency > 0 {
		props.MaxConcurrency = jsii.Number(float64(maxConcurrency))
	}
	fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(q, props))
}

// FunctionNames lists every function the stack deploys, sorted.
func FunctionNames() []string {
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
