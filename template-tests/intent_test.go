package templatetests

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/infra/stack"
	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/channel"
)

// obj and arr shorten assertion patterns.
type obj = map[string]interface{}
type arr = []interface{}

func like(m obj) assertions.Matcher { return assertions.Match_ObjectLike(&m) }
func arrayWith(a ...interface{}) assertions.Matcher {
	return assertions.Match_ArrayWith(&a)
}

func TestIntent(t *testing.T) {
	s := sharedStack(t)
	tests := []struct {
		name  string
		check func(template) []string
	}{
		{"every queue has a dead-letter queue with an alarm", checkDeadLetters},
		{"every queue is encrypted and TLS-only", checkQueueSecurity},
		{"event sources report failures and outlast consumers", checkEventSources},
		{"no wildcard grants", checkWildcards},
		{"each sender uses only its own queue", checkSenders},
		{"state machine runs the substituted ASL", func(t template) []string {
			return checkStateMachine(t, s.def)
		}},
		{"no physical names", checkPhysicalNames},
		{"buckets block public access and enforce TLS", checkBuckets},
		{"environment comes from construct attributes", checkEnvironment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range tt.check(s.doc) {
				t.Error(p)
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	s := sharedStack(t)
	check(t, "function count", func() {
		s.tmpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"),
			jsii.Number(float64(len(stack.FunctionNames()))))
	})
	check(t, "every function", func() {
		s.tmpl.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), like(obj{
			"Architectures": arr{"arm64"},
			"Runtime":       "provided.al2023",
			"Handler":       "bootstrap",
			"TracingConfig": obj{"Mode": "Active"},
			"LoggingConfig": like(obj{
				"LogFormat": "JSON",
				"LogGroup":  assertions.Match_AnyValue(),
			}),
		}))
	})
	check(t, "every log group", func() {
		s.tmpl.AllResourcesProperties(jsii.String("AWS::Logs::LogGroup"), like(obj{
			"RetentionInDays": assertions.Match_AnyValue(),
		}))
	})
}

// wantEnv is each function's environment, by name.
var wantEnv = map[string][]string{
	"api": {"TABLE_NAME", "BUCKET_NAME", "FANOUT_QUEUE_URL", "REPORT_QUEUE_URL",
		"SECRET_PREFIX", "WEBHOOK_URL_WHATSAPP", "WEBHOOK_URL_RCS", "WEBHOOK_URL_SMS"},
	"fanout":           {"TABLE_NAME", "BUCKET_NAME", "FANOUT_QUEUE_URL", "STATE_MACHINE_ARN"},
	"sender-whatsapp":  {"TABLE_NAME", "QUEUE_URL", "SECRET_PREFIX"},
	"sender-rcs":       {"TABLE_NAME", "QUEUE_URL", "SECRET_PREFIX"},
	"sender-sms":       {"TABLE_NAME", "QUEUE_URL", "SECRET_PREFIX"},
	"webhook-whatsapp": {"TABLE_NAME", "SECRET_PREFIX"},
	"webhook-rcs":      {"TABLE_NAME", "SECRET_PREFIX"},
	"webhook-sms":      {"TABLE_NAME", "SECRET_PREFIX"},
	"status-processor": {"TABLE_NAME"},
	"outcome":          {"TABLE_NAME"},
	"report-export":    {"TABLE_NAME", "BUCKET_NAME"},
}

func TestEnvironment(t *testing.T) {
	s := sharedStack(t)
	for _, name := range stack.FunctionNames() {
		t.Run(name, func(t *testing.T) {
			fn := logicalID(s.stack.Functions[name])
			var got []string
			for k := range s.doc.functionEnv(fn) {
				got = append(got, k)
			}
			sort.Strings(got)
			want := append([]string(nil), wantEnv[name]...)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s environment (-want +got):\n%s", s.doc.name(fn), diff)
			}
		})
	}
}

// logicalID is the logical id of c's CloudFormation resource, got
// from the construct rather than written down.
func logicalID(c constructs.IConstruct) string {
	el := c.Node().DefaultChild().(awscdk.CfnElement)
	return *awscdk.Stack_Of(el).GetLogicalId(el)
}

func TestSenderConcurrency(t *testing.T) {
	s := sharedStack(t)
	for _, c := range channel.All {
		t.Run(string(c), func(t *testing.T) {
			fn := s.stack.Functions["sender-"+string(c)]
			check(t, "mapping", func() {
				s.tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), like(obj{
					"FunctionName": obj{"Ref": logicalID(fn)},
					"ScalingConfig": obj{
						"MaximumConcurrency": stack.DefaultSenderConcurrency[c],
					},
				}))
			})
		})
	}
}

func TestTable(t *testing.T) {
	s := sharedStack(t)
	check(t, "table", func() {
		s.tmpl.HasResource(jsii.String("AWS::DynamoDB::Table"), like(obj{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": like(obj{
				"KeySchema": arr{
					obj{"AttributeName": "pk", "KeyType": "HASH"},
					obj{"AttributeName": "sk", "KeyType": "RANGE"},
				},
				"BillingMode":                      "PAY_PER_REQUEST",
				"StreamSpecification":              obj{"StreamViewType": "NEW_AND_OLD_IMAGES"},
				"TimeToLiveSpecification":          obj{"AttributeName": "expiresAt", "Enabled": true},
				"PointInTimeRecoverySpecification": obj{"PointInTimeRecoveryEnabled": true},
				"GlobalSecondaryIndexes": arr{obj{
					"IndexName":  "byMessage",
					"KeySchema":  arr{obj{"AttributeName": "msgKey", "KeyType": "HASH"}},
					"Projection": obj{"ProjectionType": "ALL"},
				}},
			}),
		}))
	})
}

func TestBucketLifecycle(t *testing.T) {
	s := sharedStack(t)
	check(t, "files bucket", func() {
		s.tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), like(obj{
			"LoggingConfiguration": like(obj{"DestinationBucketName": assertions.Match_AnyValue()}),
			"LifecycleConfiguration": obj{"Rules": arrayWith(
				like(obj{"Prefix": "reports/", "ExpirationInDays": 7, "Status": "Enabled"}),
				like(obj{"Prefix": "uploads/", "ExpirationInDays": 30, "Status": "Enabled"}),
			)},
		}))
	})
}

func TestHTTPAPI(t *testing.T) {
	s := sharedStack(t)
	check(t, "route", func() {
		s.tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), like(obj{
			"RouteKey":          "ANY /v1/{proxy+}",
			"AuthorizationType": "JWT",
		}))
	})
	check(t, "authorizer", func() {
		s.tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), like(obj{
			"AuthorizerType": "JWT",
			"JwtConfiguration": obj{
				"Issuer":   obj{"Ref": "JwtIssuer"},
				"Audience": obj{"Ref": "JwtAudience"},
			},
		}))
	})
	check(t, "stage", func() {
		s.tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), like(obj{
			"StageName":         "$default",
			"AccessLogSettings": like(obj{"DestinationArn": assertions.Match_AnyValue()}),
		}))
	})
}

func TestWebhookURLs(t *testing.T) {
	s := sharedStack(t)
	urls := s.doc.ids("AWS::Lambda::Url")
	if len(urls) != len(channel.All) {
		t.Fatalf("%d function URLs, want %d", len(urls), len(channel.All))
	}
	for _, id := range urls {
		if got := s.doc.prop(id, "AuthType"); got != "NONE" {
			t.Errorf("%s: AuthType %v, want NONE", s.doc.name(id), got)
		}
		reason := suppression(s.doc, id, stack.PublicURLRule)
		if !strings.Contains(reason, "signature") {
			t.Errorf("%s: suppression reason %q does not say the function verifies the signature",
				s.doc.name(id), reason)
		}
	}
}

// suppression is the reason recorded on resource id for cdk-nag
// rule, or "".
func suppression(t template, id, rule string) string {
	for _, r := range list(dig(t.Resources[id].Metadata, "cdk_nag", "rules_to_suppress")) {
		if dig(r, "id") == rule {
			s, _ := dig(r, "reason").(string)
			return s
		}
	}
	return ""
}

func TestAlarms(t *testing.T) {
	s := sharedStack(t)
	check(t, "failed executions", func() {
		s.tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), like(obj{
			"Namespace":  "AWS/States",
			"MetricName": "ExecutionsFailed",
			"Dimensions": arr{like(obj{"Name": "StateMachineArn"})},
		}))
	})
	for _, c := range channel.All {
		check(t, "webhook rejections on "+string(c), func() {
			s.tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), like(obj{
				"Namespace":  "Cascade",
				"MetricName": "WebhookRejected",
				"Dimensions": arr{obj{"Name": "Channel", "Value": string(c)}},
			}))
		})
	}
}

func TestDashboard(t *testing.T) {
	s := sharedStack(t)
	ids := s.doc.ids("AWS::CloudWatch::Dashboard")
	if len(ids) != 1 {
		t.Fatalf("%d dashboards, want 1", len(ids))
	}
	body := flatten(s.doc.prop(ids[0], "DashboardBody"))
	for _, c := range channel.All {
		for _, m := range []string{"Sent", "Delivered", "Read", "Failed", "MovedOn"} {
			want := `["Cascade","` + m + `","Channel","` + string(c) + `"`
			if !strings.Contains(body, want) {
				t.Errorf("dashboard has no %s graph for %s (want %s)", m, c, want)
			}
		}
	}
}

// flatten joins the literal parts of an Fn::Join, dropping the
// references between them.
func flatten(v any) string {
	parts, _ := dig(v, "Fn::Join").([]any)
	if len(parts) != 2 {
		s, _ := v.(string)
		return s
	}
	var b strings.Builder
	for _, p := range list(parts[1]) {
		if s, ok := p.(string); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}

func TestPlaceholders(t *testing.T) {
	var stackNames []string
	for name := range stack.PlaceholderQueues {
		stackNames = append(stackNames, name)
	}
	sort.Strings(stackNames)
	if diff := cmp.Diff(cascade.Placeholders(), stackNames); diff != "" {
		t.Errorf("stack substitutes other names than the definition holds (-definition +stack):\n%s",
			diff)
	}
	if diff := cmp.Diff(cascade.Placeholders(), placeholders(cascade.RawDefinition())); diff != "" {
		t.Errorf("checks read other placeholders than package cascade (-cascade +checks):\n%s", diff)
	}
}
