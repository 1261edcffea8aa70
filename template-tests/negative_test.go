package templatetests

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/cascade-oss/cascade/infra/stack"
)

// breakStack adds one fault for each intent check, each on a
// resource of its own, so one synth shows every check biting.
func breakStack(st *stack.CascadeStack) {
	s := st.Stack
	awssqs.NewQueue(s, jsii.String("NoDeadLetters"), &awssqs.QueueProps{
		EnforceSSL: jsii.Bool(true),
	})
	awssqs.NewQueue(s, jsii.String("Named"), &awssqs.QueueProps{
		QueueName: jsii.String("cascade-fixed-name"),
	})
	awss3.NewBucket(s, jsii.String("Open"), nil)

	sms := st.Functions["sender-sms"]
	sms.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sqs:*"),
		Resources: jsii.Strings("*"),
	}))
	st.Queues["sender-whatsapp"].GrantConsumeMessages(st.Functions["sender-rcs"])
	st.Queues["fanout"].GrantSendMessages(st.StateMachine)

	awslambda.NewFunction(s, jsii.String("Intel"), &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_X86_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(assetDir+"/api"), nil),
		Environment:  &map[string]*string{"MODE": jsii.String("literal")},
	})
}

func TestChecksBite(t *testing.T) {
	broken, err := synth(variant{
		change: breakStack,
		edit: func(def string) string {
			return strings.ReplaceAll(def, "${OutcomeQueueUrl}", "${ReportQueueUrl}")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		check func(template) []string
		want  []string // each must appear in some problem
	}{
		{"queue without DLQ", checkDeadLetters, []string{
			"Cascade/NoDeadLetters (", "queue has no dead-letter queue",
		}},
		{"unencrypted queue", checkQueueSecurity, []string{
			"Cascade/NoDeadLetters (", "queue is not encrypted",
		}},
		{"wildcard grant", checkWildcards, []string{
			"Cascade/SenderSms/Role (", "wildcard action sqs:*",
			"Cascade/Intel/ServiceRole (", "has managed policies",
		}},
		{"sender on another queue", checkSenders, []string{
			"Cascade/SenderRcs/Function (", "Cascade/SenderWhatsAppQueue/Queue (",
			"Cascade/SenderSms/Function (", `on "*"`,
		}},
		{"state machine", func(t template) []string {
			return checkStateMachine(t, broken.def)
		}, []string{
			"Cascade/Cascade/Role (", "Cascade/FanoutQueue/Queue (", "sqs:GetQueueAttributes",
			"${ReportQueueUrl} is not a queue's URL", "substitution OutcomeQueueUrl matches no placeholder",
		}},
		{"physical name", checkPhysicalNames, []string{"Cascade/Named (", "cascade-fixed-name"}},
		{"public bucket", checkBuckets, []string{"Cascade/Open (", "BlockPublicAcls is off"}},
		{"literal environment", checkEnvironment, []string{"Cascade/Intel (", `"literal"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := strings.Join(tt.check(broken.doc), "\n")
			for _, w := range tt.want {
				if !strings.Contains(problems, w) {
					t.Errorf("problems do not mention %q; got:\n%s", w, problems)
				}
			}
		})
	}

	t.Run("x86 function", func(t *testing.T) {
		err := try(func() {
			broken.tmpl.AllResourcesProperties(jsii.String("AWS::Lambda::Function"),
				like(obj{"Architectures": arr{"arm64"}}))
		})
		want := logicalID(broken.stack.Node().FindChild(jsii.String("Intel")))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("arm64 assertion error = %v, want one naming %s", err, want)
		}
	})
}
