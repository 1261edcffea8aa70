package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/cascade-oss/cascade/internal/channel"
)

// PublicURLRule is the cdk-nag rule for a function URL without IAM
// auth. AwsSolutions does not run it, but the suppression records
// why each webhook URL is open, and the template tests require it.
const PublicURLRule = "AwsSolutions-LambdaFunctionUrlAuth"

const wildcardRule = "AwsSolutions-IAM5"

// Reasons for the wildcards cdk-nag finds in the functions' and the
// state machine's policies.
const (
	starReason = "X-Ray's PutTraceSegments and PutTelemetryRecords, and " +
		"dynamodb:ListStreams for the stream consumer, support no " +
		"resource-level permissions, so IAM only takes them on \"*\". The " +
		"template tests fail if any other action is granted on \"*\"."
	logDeliveryReason = "Step Functions writes execution logs through " +
		"CloudWatch Logs vended delivery and traces through X-Ray; neither " +
		"set of actions supports resource-level permissions, and CDK adds " +
		"exactly those for logging and tracing."
	logLevelReason = "Every execution's full history stays readable in " +
		"Step Functions for 90 days, and every step's outcome is on its " +
		"attempt item; logging ALL would copy each transition into " +
		"CloudWatch Logs at about $16 per million recipients (make bench), " +
		"a quarter of the whole budget, to tell nothing new. ERROR keeps " +
		"the failed, timed-out and aborted executions, which are the ones " +
		"an operator looks for."
	indexReason = "The grant covers the table's own indexes (byMessage) " +
		"so that webhooks and senders can query by provider message id; " +
		"an index holds nothing the table does not."
	secretsReason = "Provider secrets are created at run time, one per " +
		"tenant and channel, so their names cannot be listed here; the " +
		"ARN pattern confines access to secrets under this stack's prefix."
	objectsReason = "Object keys are chosen at run time (one per upload " +
		"or report); the grant names its actions and is confined to one " +
		"key prefix of the bucket."
	streamDLQReason = "This queue is itself a dead-letter queue: the " +
		"status processor's on-failure destination for stream records it " +
		"gave up on. It has its own depth alarm; a DLQ behind it would " +
		"only move the problem."
)

// note is a cdk-nag finding the stack accepts, applied once every
// grant is made, so that it reaches policies CDK creates late.
type note struct {
	scope     constructs.IConstruct
	rule      string
	reason    string
	appliesTo []interface{}
}

// accept records that rule's finding on scope, limited to appliesTo
// when given, is accepted for reason.
func (s *CascadeStack) accept(scope constructs.IConstruct, rule, reason string,
	appliesTo ...interface{}) {
	s.notes = append(s.notes, note{scope, rule, reason, appliesTo})
}

// suppressFindings applies every accepted finding.
func suppressFindings(s *CascadeStack) {
	for _, n := range s.notes {
		sup := &cdknag.NagPackSuppression{
			Id:     jsii.String(n.rule),
			Reason: jsii.String(n.reason),
		}
		if len(n.appliesTo) > 0 {
			sup.AppliesTo = &n.appliesTo
		}
		cdknag.NagSuppressions_AddResourceSuppressions(n.scope,
			&[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
	}
}

// suppressPublicURL records why a webhook's URL takes no AWS auth.
func (s *CascadeStack) suppressPublicURL(url awslambda.FunctionUrl, c channel.Channel) {
	s.accept(url, PublicURLRule, "Providers cannot sign requests with AWS "+
		"credentials. The "+string(c)+" webhook verifies the provider's "+
		"signature or token on every call before it reads the body, and "+
		"rejects and counts the call (WebhookRejected) otherwise.")
}

// resourceOf is how cdk-nag spells a resource ARN attribute in an
// IAM5 finding, followed by suffix.
func resourceOf(c constructs.IConstruct, attr, suffix string) string {
	el := c.Node().DefaultChild().(awscdk.CfnElement)
	id := *awscdk.Stack_Of(c).GetLogicalId(el)
	return fmt.Sprintf("Resource::<%s.%s>%s", id, attr, suffix)
}

// secretsFinding matches cdk-nag's spelling of secretsARN, whatever
// the prefix.
var secretsFinding = cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:` +
	`<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:[^*]+\*$/g`)}
