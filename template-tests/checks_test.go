package templatetests

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The checks below read the template as data and return one problem
// per fault, each naming the resource at fault. The intent tests run
// them on the real stack, the negative tests on broken variants.

// deadLetterQueues are the queues something dead-letters into: the
// target of a redrive policy or an event source's failure
// destination.
func deadLetterQueues(t template) map[string]bool {
	dlqs := map[string]bool{}
	for _, id := range t.ids("AWS::SQS::Queue") {
		if q := target(t.prop(id, "RedrivePolicy", "deadLetterTargetArn")); q != "" {
			dlqs[q] = true
		}
	}
	for _, id := range t.ids("AWS::Lambda::EventSourceMapping") {
		if q := target(t.prop(id, "DestinationConfig", "OnFailure", "Destination")); q != "" {
			dlqs[q] = true
		}
	}
	return dlqs
}

// checkDeadLetters wants every work queue to have a dead-letter
// queue that takes a message after five receives, and every
// dead-letter queue an alarm on its depth.
func checkDeadLetters(t template) []string {
	var problems []string
	dlqs := deadLetterQueues(t)
	for _, id := range t.ids("AWS::SQS::Queue") {
		switch {
		case dlqs[id]:
			if !hasDepthAlarm(t, id) {
				problems = append(problems, t.name(id)+": dead-letter queue without a depth alarm")
			}
		case t.prop(id, "RedrivePolicy") == nil:
			problems = append(problems, t.name(id)+": queue has no dead-letter queue")
		case t.prop(id, "RedrivePolicy", "maxReceiveCount") != 5.0:
			problems = append(problems, fmt.Sprintf("%s: maxReceiveCount %v, want 5",
				t.name(id), t.prop(id, "RedrivePolicy", "maxReceiveCount")))
		}
	}
	return problems
}

// hasDepthAlarm reports whether an alarm fires as soon as queue holds
// a visible message.
func hasDepthAlarm(t template, queue string) bool {
	for _, id := range t.ids("AWS::CloudWatch::Alarm") {
		dims := list(t.prop(id, "Dimensions"))
		if t.prop(id, "Namespace") == "AWS/SQS" &&
			t.prop(id, "MetricName") == "ApproximateNumberOfMessagesVisible" &&
			t.prop(id, "ComparisonOperator") == "GreaterThanThreshold" &&
			t.prop(id, "Threshold") == 0.0 &&
			len(dims) == 1 && target(dig(dims[0], "Value")) == queue {
			return true
		}
	}
	return false
}

// checkQueueSecurity wants every queue encrypted and refusing
// requests without TLS.
func checkQueueSecurity(t template) []string {
	var problems []string
	for _, id := range t.ids("AWS::SQS::Queue") {
		if t.prop(id, "SqsManagedSseEnabled") != true && t.prop(id, "KmsMasterKeyId") == nil {
			problems = append(problems, t.name(id)+": queue is not encrypted")
		}
		if !deniesPlainHTTP(t, "AWS::SQS::QueuePolicy", "Queues", id) {
			problems = append(problems, t.name(id)+": queue accepts requests without TLS")
		}
	}
	return problems
}

// deniesPlainHTTP reports whether a resource policy of type typ,
// whose key field lists res, denies every request made without TLS.
func deniesPlainHTTP(t template, typ, key, res string) bool {
	for _, id := range t.ids(typ) {
		if !refersTo(t.prop(id, key), res) {
			continue
		}
		for _, s := range list(t.prop(id, "PolicyDocument", "Statement")) {
			if dig(s, "Effect") == "Deny" && dig(s, "Action") != nil &&
				dig(s, "Condition", "Bool", "aws:SecureTransport") == "false" {
				return true
			}
		}
	}
	return false
}

func refersTo(v any, res string) bool {
	for _, x := range list(v) {
		if target(x) == res {
			return true
		}
	}
	return false
}

// checkEventSources wants every mapping to report failed records one
// by one, a queue's visibility timeout to outlast its consumer six
// times over, and a stream mapping to bisect, retry a bounded number
// of times and have somewhere to put what it gives up on.
func checkEventSources(t template) []string {
	var problems []string
	for _, id := range t.ids("AWS::Lambda::EventSourceMapping") {
		name := t.name(id)
		fn := target(t.prop(id, "FunctionName"))
		if !contains(list(t.prop(id, "FunctionResponseTypes")), "ReportBatchItemFailures") {
			problems = append(problems, name+": does not report batch item failures")
		}
		src := t.Resources[target(t.prop(id, "EventSourceArn"))]
		switch src.Type {
		case "AWS::SQS::Queue":
			vis, _ := src.Properties["VisibilityTimeout"].(float64)
			timeout, _ := t.prop(fn, "Timeout").(float64)
			if timeout == 0 || vis < 6*timeout {
				problems = append(problems, fmt.Sprintf(
					"%s: visibility timeout %vs, want at least 6 x %s's %vs",
					name, vis, t.name(fn), timeout))
			}
		case "AWS::DynamoDB::Table":
			problems = append(problems, checkStreamMapping(t, id)...)
		default:
			problems = append(problems, name+": source is neither a queue nor the table's stream")
		}
	}
	return problems
}

func checkStreamMapping(t template, id string) []string {
	var problems []string
	retries, ok := t.prop(id, "MaximumRetryAttempts").(float64)
	if !ok || retries < 0 || retries > 100 {
		problems = append(problems, fmt.Sprintf("%s: retries %v, want a bound", t.name(id), retries))
	}
	if t.prop(id, "BisectBatchOnFunctionError") != true {
		problems = append(problems, t.name(id)+": does not bisect a failing batch")
	}
	if t.prop(id, "DestinationConfig", "OnFailure", "Destination") == nil {
		problems = append(problems, t.name(id)+": has no on-failure destination")
	}
	return problems
}

func contains(vs []any, s string) bool {
	for _, v := range vs {
		if v == s {
			return true
		}
	}
	return false
}

// noResourceLevel are the actions IAM cannot scope to a resource, so
// they alone may be granted on "*".
var noResourceLevel = map[string]bool{
	"xray:PutTraceSegments":         true,
	"xray:PutTelemetryRecords":      true,
	"xray:GetSamplingRules":         true,
	"xray:GetSamplingTargets":       true,
	"dynamodb:ListStreams":          true,
	"logs:CreateLogDelivery":        true,
	"logs:GetLogDelivery":           true,
	"logs:UpdateLogDelivery":        true,
	"logs:DeleteLogDelivery":        true,
	"logs:ListLogDeliveries":        true,
	"logs:PutResourcePolicy":        true,
	"logs:DescribeResourcePolicies": true,
	"logs:DescribeLogGroups":        true,
}

// checkWildcards wants no role to hold a wildcard action, a managed
// policy, or an action on "*" that IAM could have scoped.
func checkWildcards(t template) []string {
	var problems []string
	for _, role := range t.ids("AWS::IAM::Role") {
		if t.prop(role, "ManagedPolicyArns") != nil {
			problems = append(problems, t.name(role)+": has managed policies")
		}
		for _, s := range t.statements(role) {
			problems = append(problems, wildcards(t, role, s)...)
		}
	}
	return problems
}

func wildcards(t template, role string, s statement) []string {
	var problems []string
	star := contains(s.resources, "*")
	for _, a := range s.actions {
		if strings.Contains(a, "*") {
			problems = append(problems, fmt.Sprintf("%s: wildcard action %s", t.name(role), a))
		}
		if star && !noResourceLevel[a] {
			problems = append(problems, fmt.Sprintf("%s: %s on every resource (\"*\")", t.name(role), a))
		}
	}
	return problems
}

// senderActions are all a sender needs: its queue, the table, the
// provider secrets, its logs and traces.
var senderActions = setOf(
	"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
	"sqs:GetQueueAttributes", "sqs:GetQueueUrl",
	"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
	"dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem",
	"dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:PutItem",
	"dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem",
	"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
	"logs:CreateLogStream", "logs:PutLogEvents",
	"xray:PutTraceSegments", "xray:PutTelemetryRecords",
)

func setOf(items ...string) map[string]bool {
	m := map[string]bool{}
	for _, s := range items {
		m[s] = true
	}
	return m
}

// checkSenders wants each sender, a function with a QUEUE_URL, fed
// by that queue alone, touching no other queue and calling nothing
// beyond senderActions.
func checkSenders(t template) []string {
	var problems []string
	for _, fn := range t.ids("AWS::Lambda::Function") {
		own := target(t.functionEnv(fn)["QUEUE_URL"])
		if own == "" {
			continue
		}
		problems = append(problems, checkSenderSources(t, fn, own)...)
		role := target(t.prop(fn, "Role"))
		for _, s := range t.statements(role) {
			problems = append(problems, checkSenderStatement(t, fn, own, s)...)
		}
	}
	return problems
}

func checkSenderSources(t template, fn, own string) []string {
	var problems []string
	for _, id := range t.ids("AWS::Lambda::EventSourceMapping") {
		if target(t.prop(id, "FunctionName")) != fn {
			continue
		}
		if src := target(t.prop(id, "EventSourceArn")); src != own {
			problems = append(problems, fmt.Sprintf("%s: fed by %s, not by its own queue",
				t.name(fn), t.name(src)))
		}
	}
	return problems
}

func checkSenderStatement(t template, fn, own string, s statement) []string {
	var problems []string
	for _, a := range s.actions {
		if !senderActions[a] {
			problems = append(problems, fmt.Sprintf("%s: may call %s, which a sender does not need",
				t.name(fn), a))
		}
		if service(a) != "sqs" {
			continue
		}
		for _, r := range s.resources {
			if target(r) != own {
				problems = append(problems, fmt.Sprintf("%s: %s on %s, not its own queue",
					t.name(fn), a, describe(t, r)))
			}
		}
	}
	return problems
}

// describe names a policy resource: the resource it refers to, or
// the literal.
func describe(t template, r any) string {
	if id := target(r); id != "" {
		return t.name(id)
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// placeholder matches a ${Name} substitution in a definition.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// placeholders lists the names def substitutes, sorted and unique.
func placeholders(def string) []string {
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(def, -1) {
		seen[m[1]] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkStateMachine wants one Standard state machine that runs def
// with every placeholder given a queue's URL, logs ALL and traces,
// and whose role may send to exactly those queues and do nothing
// else with SQS.
func checkStateMachine(t template, def string) []string {
	sms := t.ids("AWS::StepFunctions::StateMachine")
	if len(sms) != 1 {
		return []string{fmt.Sprintf("%d state machines, want 1", len(sms))}
	}
	sm := sms[0]
	name := t.name(sm)
	var problems []string
	if t.prop(sm, "StateMachineType") != "STANDARD" {
		problems = append(problems, name+": not a Standard workflow")
	}
	if t.prop(sm, "DefinitionString") != def {
		problems = append(problems, name+": definition is not the embedded ASL")
	}
	// ERROR on purpose (the cdk-nag suppression says why); OFF or a
	// missing destination would leave failures unlogged.
	if t.prop(sm, "LoggingConfiguration", "Level") != "ERROR" ||
		t.prop(sm, "LoggingConfiguration", "Destinations") == nil {
		problems = append(problems, name+": does not log its errors")
	}
	if t.prop(sm, "TracingConfiguration", "Enabled") != true {
		problems = append(problems, name+": tracing is off")
	}
	queues, subProblems := substitutedQueues(t, sm, def)
	problems = append(problems, subProblems...)
	role := target(t.prop(sm, "RoleArn"))
	return append(problems, checkSendOnly(t, role, queues)...)
}

// substitutedQueues checks that every placeholder of def, and no
// other name, is substituted with a queue's URL, and returns those
// queues.
func substitutedQueues(t template, sm, def string) (map[string]bool, []string) {
	var problems []string
	subs, _ := t.prop(sm, "DefinitionSubstitutions").(map[string]any)
	queues := map[string]bool{}
	for _, p := range placeholders(def) {
		q := target(subs[p])
		if t.Resources[q].Type != "AWS::SQS::Queue" {
			problems = append(problems, fmt.Sprintf("%s: ${%s} is not a queue's URL", t.name(sm), p))
			continue
		}
		queues[q] = true
	}
	for k := range subs {
		if !strings.Contains(def, "${"+k+"}") {
			problems = append(problems, fmt.Sprintf(
				"%s: substitution %s matches no placeholder", t.name(sm), k))
		}
	}
	return queues, problems
}

// checkSendOnly wants role's only SQS action to be sqs:SendMessage,
// on exactly queues.
func checkSendOnly(t template, role string, queues map[string]bool) []string {
	var problems []string
	got := map[string]bool{}
	for _, s := range t.statements(role) {
		for _, a := range s.actions {
			if service(a) != "sqs" {
				continue
			}
			if a != "sqs:SendMessage" {
				problems = append(problems, fmt.Sprintf("%s: may call %s", t.name(role), a))
			}
			for _, r := range s.resources {
				got[target(r)] = true
				if !queues[target(r)] {
					problems = append(problems, fmt.Sprintf("%s: %s on %s, not a cascade queue",
						t.name(role), a, describe(t, r)))
				}
			}
		}
	}
	for q := range queues {
		if !got[q] {
			problems = append(problems, fmt.Sprintf("%s: may not send to %s", t.name(role), t.name(q)))
		}
	}
	sort.Strings(problems)
	return problems
}

// physicalNames are properties that would fix a resource's name, so
// that a second stack in the account, or a replacement, collides.
var physicalNames = []string{
	"TableName", "QueueName", "BucketName", "FunctionName", "RoleName",
	"StateMachineName", "LogGroupName", "AlarmName", "DashboardName",
	"TopicName", "ManagedPolicyName", "InstanceProfileName",
}

// checkPhysicalNames wants no resource to set a physical name.
func checkPhysicalNames(t template) []string {
	var problems []string
	for id, r := range t.Resources {
		if r.Type == "AWS::Lambda::EventSourceMapping" || r.Type == "AWS::Lambda::Permission" ||
			r.Type == "AWS::Lambda::Url" {
			continue // FunctionName there refers to a function
		}
		for _, k := range physicalNames {
			if v, ok := r.Properties[k]; ok {
				problems = append(problems, fmt.Sprintf("%s: %s is set to %v", t.name(id), k, v))
			}
		}
		if r.Type == "AWS::SecretsManager::Secret" && r.Properties["Name"] != nil {
			problems = append(problems, t.name(id)+": secret has a fixed name")
		}
	}
	sort.Strings(problems)
	return problems
}

// checkBuckets wants every bucket to block public access, be
// encrypted and refuse requests without TLS.
func checkBuckets(t template) []string {
	var problems []string
	flags := []string{
		"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets",
	}
	for _, id := range t.ids("AWS::S3::Bucket") {
		for _, f := range flags {
			if t.prop(id, "PublicAccessBlockConfiguration", f) != true {
				problems = append(problems, fmt.Sprintf("%s: %s is off", t.name(id), f))
			}
		}
		if t.prop(id, "BucketEncryption") == nil {
			problems = append(problems, t.name(id)+": bucket is not encrypted")
		}
		if !deniesPlainHTTP(t, "AWS::S3::BucketPolicy", "Bucket", id) {
			problems = append(problems, t.name(id)+": bucket accepts requests without TLS")
		}
	}
	return problems
}

// checkEnvironment wants every environment value to come from a
// construct attribute (a Ref, Fn::GetAtt or Fn::Join of them), never
// a literal.
func checkEnvironment(t template) []string {
	var problems []string
	for _, fn := range t.ids("AWS::Lambda::Function") {
		for k, v := range t.functionEnv(fn) {
			if _, literal := v.(string); literal {
				problems = append(problems, fmt.Sprintf("%s: %s is the literal %q", t.name(fn), k, v))
			}
		}
	}
	sort.Strings(problems)
	return problems
}
