package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/jsii-runtime-go"

	"github.com/cascade-oss/cascade/internal/channel"
)

// Actions on provider secrets: the api connects channels, the others
// only read what it stored.
var (
	secretWrite = []string{
		"secretsmanager:CreateSecret",
		"secretsmanager:PutSecretValue",
		"secretsmanager:GetSecretValue",
		"secretsmanager:DescribeSecret",
	}
	secretRead = []string{
		"secretsmanager:GetSecretValue",
		"secretsmanager:DescribeSecret",
	}
)

// Actions on objects: Bucket's Grant helpers add wildcard actions
// (s3:GetObject*, s3:List*) that no function needs.
var (
	objectRead  = []string{"s3:GetObject"}
	objectWrite = []string{"s3:PutObject", "s3:AbortMultipartUpload"}
)

// newFunctions declares every function with the environment and
// grants it needs, and nothing more.
func (s *CascadeStack) newFunctions(p CascadeStackProps) {
	secrets := secretsARN(s.Stack, p.SecretPrefix)
	urls := map[channel.Channel]*string{}
	for _, c := range channel.All {
		urls[c] = s.newWebhook(p, c, secrets)
		s.newSender(p, c, secrets)
	}
	s.newAPI(p, urls, secrets)
	s.newFanout(p)
	s.newStatusProcessor(p)

	outcome := s.newFunction(p, "outcome", env{})
	consume(outcome, s.Queues["outcome"], 0)

	report := s.newFunction(p, "report-export", env{
		"BUCKET_NAME": s.Bucket.BucketName(),
	})
	s.grantObjects(report, "reports/*", objectWrite)
	consume(report, s.Queues["report-export"], 0)
}

// secretsARN matches every secret whose name starts with prefix.
// The api creates one per tenant and channel at run time, so their
// names cannot be known here.
func secretsARN(s awscdk.Stack, prefix string) *string {
	return s.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("secretsmanager"),
		Resource:     jsii.String("secret"),
		ResourceName: jsii.String(prefix + "*"),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// grantSecrets lets fn take actions on the provider secrets.
func (s *CascadeStack) grantSecrets(fn awslambda.Function, arn *string, actions []string) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      fn,
		Actions:      jsii.Strings(actions...),
		ResourceArns: &[]*string{arn},
	})
	s.accept(fn.Role(), wildcardRule, secretsReason, secretsFinding)
}

// grantObjects lets fn take actions on the bucket's keys matching
// pattern.
func (s *CascadeStack) grantObjects(fn awslambda.Function, pattern string, actions []string) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      fn,
		Actions:      jsii.Strings(actions...),
		ResourceArns: &[]*string{s.Bucket.ArnForObjects(jsii.String(pattern))},
	})
	s.accept(fn.Role(), wildcardRule, objectsReason, resourceOf(s.Bucket, "Arn", "/"+pattern))
}

// newSender declares channel c's sender on its own queue, with its
// concurrency capped to the provider's throughput.
func (s *CascadeStack) newSender(p CascadeStackProps, c channel.Channel, secrets *string) {
	name := senderName(c)
	q := s.Queues[name]
	fn := s.newFunction(p, name, env{
		"QUEUE_URL":     q.QueueUrl(),
		"SECRET_PREFIX": jsii.String(p.SecretPrefix),
	})
	s.grantSecrets(fn, secrets, secretRead)
	consume(fn, q, p.SenderConcurrency[c])
}

// newWebhook declares channel c's webhook behind a public function
// URL and returns the URL.
func (s *CascadeStack) newWebhook(p CascadeStackProps, c channel.Channel, secrets *string) *string {
	fn := s.newFunction(p, webhookName(c), env{
		"SECRET_PREFIX": jsii.String(p.SecretPrefix),
	})
	s.grantSecrets(fn, secrets, secretRead)
	url := fn.AddFunctionUrl(&awslambda.FunctionUrlOptions{
		AuthType: awslambda.FunctionUrlAuthType_NONE,
	})
	s.suppressPublicURL(url, c)
	awscdk.NewCfnOutput(s.Stack, jsii.String(specs[webhookName(c)].id+"Url"),
		&awscdk.CfnOutputProps{
			Description: jsii.String("The " + string(c) + " webhook's function URL; " +
				"PUT /v1/channels/" + string(c) + " answers it with the tenant added."),
			Value: url.Url(),
		})
	return url.Url()
}

// newAPI declares the HTTP API's function: it stores campaigns,
// connects channels, hands out upload and report links and queues
// launches and report jobs.
func (s *CascadeStack) newAPI(p CascadeStackProps, urls map[channel.Channel]*string,
	secrets *string) {
	fn := s.newFunction(p, "api", env{
		"BUCKET_NAME":          s.Bucket.BucketName(),
		"FANOUT_QUEUE_URL":     s.Queues["fanout"].QueueUrl(),
		"REPORT_QUEUE_URL":     s.Queues["report-export"].QueueUrl(),
		"SECRET_PREFIX":        jsii.String(p.SecretPrefix),
		"WEBHOOK_URL_WHATSAPP": urls[channel.WhatsApp],
		"WEBHOOK_URL_RCS":      urls[channel.RCS],
		"WEBHOOK_URL_SMS":      urls[channel.SMS],
	})
	s.grantSecrets(fn, secrets, secretWrite)
	// Presigned links carry the api's own permissions. Launch copies
	// the upload to audiences/ (a copy reads its source and writes its
	// target) and reads the copy's first bytes.
	s.grantObjects(fn, "uploads/*", []string{"s3:PutObject", "s3:GetObject"})
	s.grantObjects(fn, "audiences/*", []string{"s3:PutObject", "s3:GetObject"})
	s.grantObjects(fn, "reports/*", objectRead)
	s.Queues["fanout"].GrantSendMessages(fn)
	s.Queues["report-export"].GrantSendMessages(fn)
}

// newFanout declares the function that turns a launch into one
// cascade execution per recipient, in chunks it queues to itself.
func (s *CascadeStack) newFanout(p CascadeStackProps) {
	q := s.Queues["fanout"]
	fn := s.newFunction(p, "fanout", env{
		"BUCKET_NAME":       s.Bucket.BucketName(),
		"FANOUT_QUEUE_URL":  q.QueueUrl(),
		"STATE_MACHINE_ARN": s.StateMachine.StateMachineArn(),
	})
	// Fan-out reads only the audience sealed at launch.
	s.grantObjects(fn, "audiences/*", objectRead)
	q.GrantSendMessages(fn)
	s.StateMachine.GrantStartExecution(fn)
	consume(fn, q, p.FanoutConcurrency)
}

// newStatusProcessor declares the stream consumer that answers the
// cascade's task tokens. Records it cannot handle after bounded
// retries go to a dead-letter queue of their own.
func (s *CascadeStack) newStatusProcessor(p CascadeStackProps) {
	fn := s.newFunction(p, "status-processor", env{})
	s.StateMachine.GrantTaskResponse(fn)
	dlq := newDeadLetterQueue(s.Stack, "StreamDeadLetters")
	s.accept(dlq, "AwsSolutions-SQS3", streamDLQReason)
	fn.AddEventSource(awslambdaeventsources.NewDynamoEventSource(s.Table,
		&awslambdaeventsources.DynamoEventSourceProps{
			StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
			BatchSize:               jsii.Number(100),
			MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(1)),
			BisectBatchOnError:      jsii.Bool(true),
			RetryAttempts:           jsii.Number(10),
			MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(6)),
			ReportBatchItemFailures: jsii.Bool(true),
			OnFailure:               awslambdaeventsources.NewSqsDlq(dlq),
		}))
}
