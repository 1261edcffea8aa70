package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/logging"
	"github.com/cascade-oss/cascade/internal/secrets"
)

// newAPI wires the API to a real table, queue, bucket and secrets on
// the moto server.
func newAPI(t *testing.T) (*API, *sqs.Client, string) {
	t.Helper()
	ctx := context.Background()
	cfg := awstest.Config(t)
	db := dynamodb.NewFromConfig(cfg)
	table := awstest.Name(t, "api")
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "fanout"))})
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := strings.ToLower(awstest.Name(t, "up"))
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	links := S3Links{Presign: s3.NewPresignClient(s3c), S3: s3c, Bucket: bucket}
	st := dynamo.New(db, table)
	sec := secrets.New(secretsmanager.NewFromConfig(cfg), awstest.Name(t, "sec")+"/", time.Minute)
	a := New(Config{WebhookURLs: map[string]string{"sms": "http://127.0.0.1:1/hooks/sms"}},
		st, sec, QueueLauncher{SQS: q, QueueURL: *queue.QueueUrl}, links,
		Reports{Store: st, SQS: q, QueueURL: *queue.QueueUrl, Links: links},
		logging.New(os.Stderr, "api"))
	return a, q, *queue.QueueUrl
}

// call sends one request through Handle and decodes its JSON answer.
func call(t *testing.T, a *API, tenant, method, path, body string) (int, map[string]any) {
	t.Helper()
	res := do(t, a, tenant, method, path, body)
	var out map[string]any
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
		t.Fatalf("%s %s body is not JSON: %s", method, path, res.Body)
	}
	return res.StatusCode, out
}

const goodCampaign = `{
  "name": "Order shipped",
  "channels": [
    {"channel": "whatsapp", "whatsapp": {"template": "order_shipped", "language": "en", "parameters": ["{{name}}"]}},
    {"channel": "sms", "sms": {"templateId": "65e0000000000000000000a1", "dltTemplateId": "1107160000000000001",
      "dltText": "Dear {#var#}, shipped. -CSCADE", "header": "CSCADE", "principalEntityId": "1101160000000000001",
      "category": "service-implicit", "variables": ["{{name}}"]}}
  ],
  "audience": {"recipients": [{"phone": "9900000001", "vars": {"name": "Asha"}}]}
}`

func TestCreateLaunchAndIsolation(t *testing.T) {
	a, q, queue := newAPI(t)
	code, c := call(t, a, "t1", "POST", "/v1/campaigns", goodCampaign)
	if code != http.StatusCreated {
		t.Fatalf("create = %d %v", code, c)
	}
	id := c["id"].(string)

	code, got := call(t, a, "t1", "POST", "/v1/campaigns/"+id+"/launch", "")
	if code != http.StatusAccepted || got["state"] != "launching" {
		t.Fatalf("launch = %d %v", code, got)
	}
	if code, _ := call(t, a, "t1", "POST", "/v1/campaigns/"+id+"/launch", ""); code != http.StatusConflict {
		t.Errorf("second launch = %d, want 409", code)
	}
	msgs, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &queue, MaxNumberOfMessages: 10})
	if err != nil || len(msgs.Messages) != 1 || !strings.Contains(*msgs.Messages[0].Body, id) {
		t.Fatalf("fan-out queue holds %v, %v; want one launch message", msgs, err)
	}

	// Another tenant sees nothing of t1's campaign, on any route.
	routes := []struct{ method, path, body string }{
		{"GET", "/v1/campaigns/" + id, ""},
		{"GET", "/v1/campaigns/" + id + "/stats", ""},
		{"POST", "/v1/campaigns/" + id + "/launch", ""},
		{"POST", "/v1/campaigns/" + id + "/cancel", ""},
		{"POST", "/v1/campaigns/" + id + "/audience-upload-url", ""},
		{"POST", "/v1/campaigns/" + id + "/reports", `{"kind":"journey"}`},
		{"GET", "/v1/campaigns/" + id + "/reports/0123456789abcdef0123", ""},
		{"GET", "/v1/campaigns/0123456789abcdef0123", ""},
		{"GET", "/v1/campaigns/not-an-id", ""},
		{"GET", "/v1/channels/whatsapp", ""},
	}
	for _, r := range routes {
		code, body := call(t, a, "t2", r.method, r.path, r.body)
		if code != http.StatusNotFound {
			t.Errorf("t2 %s %s = %d %v, want 404", r.method, r.path, code, body)
		}
		if b, _ := json.Marshal(body); bytes.Contains(b, []byte("Order shipped")) {
			t.Errorf("t2 %s %s leaked t1's campaign: %s", r.method, r.path, b)
		}
	}
	if code, _ := call(t, a, "", "GET", "/v1/campaigns/"+id, ""); code != http.StatusUnauthorized {
		t.Errorf("no tenant claim = %d, want 401", code)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	a, _, _ := newAPI(t)
	fiveMistakes := `{"name": "", "mode": "both",
	  "channels": [{"channel": "whatsapp", "whatsapp": {"template": "", "language": "en"}},
	               {"channel": "whatsapp", "whatsapp": {"template": "x", "language": "en"}}],
	  "audience": {"recipients": [{"phone": "9900000001"}], "s3Key": "uploads/a.csv"}}`
	tests := []struct {
		name      string
		body      string
		wantCode  int
		wantError string
		wantProbs int
	}{
		{"empty body", "", 400, "body: required", 0},
		{"not JSON", "{", 400, "body: not valid JSON", 0},
		{"unknown field", `{"nmae": "x"}`, 400, "nmae: unknown field", 0},
		{"wrong type", `{"name": 5}`, 400, "name: must be a string, not number", 0},
		{"nested wrong type", `{"name":"x","channels":[{"channel":"sms","timeoutSeconds":"soon"}]}`, 400, "channels[0].timeoutSeconds: must be a whole number, not string", 1},
		{"wrong type deep in an array", `{"name":"x","channels":[{"channel":"whatsapp"},{"channel":"rcs","rcs":{"text":"hi","suggestions":[{"text":"ok"},{"text":1}]}}]}`,
			400, "channels[1].rcs.suggestions[1].text: must be a string, not number", 1},
		{"object where a string goes", `{"name":{"first":"x"}}`, 400, "name: must be a string, not object", 1},
		{"array where an object goes", `[]`, 400, "body: must be an object, not array", 0},
		{"string where an array goes", `{"name":"x","channels":"whatsapp"}`, 400, "channels: must be an array, not string", 0},
		{"five mistakes, five problems", fiveMistakes, 400, "", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, a, "t1", "POST", "/v1/campaigns", tt.body)
			if code != tt.wantCode {
				t.Fatalf("code = %d (%v), want %d", code, body, tt.wantCode)
			}
			msg, _ := body["error"].(string)
			if !strings.Contains(msg, tt.wantError) {
				t.Errorf("error = %q, want it to contain %q", msg, tt.wantError)
			}
			probs, _ := body["problems"].([]any)
			if tt.wantProbs > 0 && len(probs) != tt.wantProbs {
				t.Errorf("problems = %v, want %d", probs, tt.wantProbs)
			}
		})
	}
}

func TestChannelsHideSecrets(t *testing.T) {
	a, _, _ := newAPI(t)
	code, body := call(t, a, "t1", "PUT", "/v1/channels/sms", `{"credentials":{"authKey":"fake-key"}}`)
	if code != http.StatusOK {
		t.Fatalf("PUT sms = %d %v", code, body)
	}
	url, _ := body["webhookUrl"].(string)
	if !strings.Contains(url, "tenant=t1") || !strings.Contains(url, "token=") {
		t.Errorf("webhookUrl = %q, want tenant and token", url)
	}
	code, body = call(t, a, "t1", "GET", "/v1/channels/sms", "")
	b, _ := json.Marshal(body)
	if code != http.StatusOK || bytes.Contains(b, []byte("fake-key")) || bytes.Contains(b, []byte("token=")) {
		t.Errorf("GET sms = %d %s; want 200 without key or token", code, b)
	}
	long := strings.Repeat("x", 4097)
	code, body = call(t, a, "t1", "PUT", "/v1/channels/sms", `{"credentials":{"authKey":"`+long+`"}}`)
	if code != 400 || !strings.HasPrefix(body["error"].(string), "credentials.authKey: at most 4096") {
		t.Errorf("PUT sms with a 4,097-character key = %d %v; want a 400 naming credentials.authKey", code, body)
	}
	code, body = call(t, a, "t1", "PUT", "/v1/channels/whatsapp", `{"credentials":{}}`)
	if code != 400 || len(body["problems"].([]any)) != 4 {
		t.Errorf("PUT whatsapp without settings = %d %v; want 400 with 4 problems", code, body)
	}
}

// TestSMSWebhookTokenSurvivesAPut: the token sits in the URL pasted in
// MSG91's console, so changing settings or the auth key must not break
// it; only an explicit rotation makes a new one.
func TestSMSWebhookTokenSurvivesAPut(t *testing.T) {
	a, _, _ := newAPI(t)
	tokenOf := func(body string) string {
		t.Helper()
		code, res := call(t, a, "t1", "PUT", "/v1/channels/sms", body)
		if code != http.StatusOK {
			t.Fatalf("PUT sms %s = %d %v", body, code, res)
		}
		u, err := url.Parse(res["webhookUrl"].(string))
		if err != nil {
			t.Fatal(err)
		}
		tok := u.Query().Get("token")
		if len(tok) < 32 {
			t.Fatalf("webhook token %q is missing or short", tok)
		}
		return tok
	}
	first := tokenOf(`{"credentials":{"authKey":"fake-key"}}`)
	if again := tokenOf(`{"settings":{"route":"4"},"credentials":{"authKey":"fake-key-2"}}`); again != first {
		t.Errorf("a PUT without rotation changed the token")
	}
	rotated := tokenOf(`{"rotateWebhookToken":true,"credentials":{"authKey":"fake-key-2"}}`)
	if rotated == first {
		t.Errorf("rotateWebhookToken kept the old token")
	}
	if other := tokenOf(`{"credentials":{"authKey":"fake-key-3"}}`); other != rotated {
		t.Errorf("the PUT after a rotation did not keep the rotated token")
	}
	code, res := call(t, a, "t1", "PUT", "/v1/channels/rcs",
		`{"rotateWebhookToken":true,"settings":{"agentId":"a"},"credentials":{"accessToken":"x","clientToken":"y"}}`)
	if code != 400 || !strings.HasPrefix(res["error"].(string), "rotateWebhookToken:") {
		t.Errorf("rotate on rcs = %d %v, want a 400 naming rotateWebhookToken", code, res)
	}
}

// TestMethodsAndContentTypes: a route that exists answers a method it
// does not take with 405 naming the one it does, and a body that says
// it is not JSON is a 415, before anything is stored.
func TestMethodsAndContentTypes(t *testing.T) {
	a, _, _ := newAPI(t)
	code, c := call(t, a, "t1", "POST", "/v1/campaigns", goodCampaign)
	if code != 201 {
		t.Fatalf("create = %d %v", code, c)
	}
	id := c["id"].(string)
	tests := []struct {
		name, method, path, contentType string
		wantCode                        int
		wantError                       string
	}{
		{"list is not a route", "GET", "/v1/campaigns", "", 405, "method: use POST"},
		{"delete a campaign", "DELETE", "/v1/campaigns/" + id, "", 405, "method: use GET"},
		{"GET launch", "GET", "/v1/campaigns/" + id + "/launch", "", 405, "method: use POST"},
		{"PUT stats", "PUT", "/v1/campaigns/" + id + "/stats", "", 405, "method: use GET"},
		{"POST a report id", "POST", "/v1/campaigns/" + id + "/reports/" + id, "", 405, "method: use GET"},
		{"unknown sub-route", "GET", "/v1/campaigns/" + id + "/nothing", "", 404, "not found"},
		{"form body", "POST", "/v1/campaigns", "application/x-www-form-urlencoded", 415, "content-type: send application/json"},
		{"text body", "PUT", "/v1/channels/sms", "text/plain", 415, "content-type: send application/json"},
		{"DELETE a channel", "DELETE", "/v1/channels/sms", "", 405, "method: use GET, PUT"},
		{"JSON with charset", "POST", "/v1/campaigns", "application/json; charset=utf-8", 201, ""},
		{"problem+json", "POST", "/v1/campaigns", "application/merge-patch+json", 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := events.APIGatewayV2HTTPRequest{RawPath: tt.path, Headers: map[string]string{}}
			if tt.method != "GET" {
				req.Body = goodCampaign
			}
			if tt.contentType != "" {
				req.Headers["content-type"] = tt.contentType
			}
			req.RequestContext.HTTP.Method = tt.method
			req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"tenant": "t1"}}}
			res, err := a.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.wantCode || !strings.Contains(res.Body, tt.wantError) {
				t.Errorf("%s %s = %d %s, want %d with %q", tt.method, tt.path, res.StatusCode, res.Body, tt.wantCode, tt.wantError)
			}
			// A 405 says in its Allow header what the route takes.
			if allow := res.Headers["Allow"]; tt.wantCode == 405 && "method: use "+allow != tt.wantError {
				t.Errorf("Allow = %q with %q", allow, tt.wantError)
			}
		})
	}
}

// TestCancelOnlyWhatIsUnderWay: a running campaign with journeys under
// way can be cancelled; one whose every journey has ended cannot be
// relabelled cancelled.
func TestCancelOnlyWhatIsUnderWay(t *testing.T) {
	ctx := context.Background()
	a, _, _ := newAPI(t)
	st := a.store.(*dynamo.Store)
	tests := []struct {
		name       string
		recipients int
		wantCode   int
	}{
		{"a journey under way", 1, 200},
		{"every journey ended", 0, 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, c := call(t, a, "t1", "POST", "/v1/campaigns", goodCampaign)
			if code != 201 {
				t.Fatalf("create = %d %v", code, c)
			}
			id := c["id"].(string)
			for _, to := range []campaign.State{campaign.Launching, campaign.Running} {
				from := map[campaign.State]campaign.State{campaign.Launching: campaign.Draft, campaign.Running: campaign.Launching}[to]
				if err := st.SetCampaignState(ctx, "t1", id, to, from); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < tt.recipients; i++ {
				if _, _, err := st.AddRecipient(ctx, dynamo.Recipient{Campaign: id, Phone: "+919900000001", Row: 1}); err != nil {
					t.Fatal(err)
				}
			}
			if code, res := call(t, a, "t1", "POST", "/v1/campaigns/"+id+"/cancel", ""); code != tt.wantCode {
				t.Errorf("cancel = %d %v, want %d", code, res, tt.wantCode)
			}
		})
	}
}

func TestLaunchACancelledDraftIsAConflict(t *testing.T) {
	a, _, _ := newAPI(t)
	code, c := call(t, a, "t1", "POST", "/v1/campaigns", strings.Replace(goodCampaign,
		`"audience": {"recipients": [{"phone": "9900000001", "vars": {"name": "Asha"}}]}`, `"audience": {}`, 1))
	if code != 201 {
		t.Fatalf("create = %d %v", code, c)
	}
	id := c["id"].(string)
	if code, res := call(t, a, "t1", "POST", "/v1/campaigns/"+id+"/cancel", ""); code != 200 {
		t.Fatalf("cancel = %d %v", code, res)
	}
	code, res := call(t, a, "t1", "POST", "/v1/campaigns/"+id+"/launch", "")
	if code != 409 || !strings.HasPrefix(res["error"].(string), "state:") {
		t.Errorf("launch after cancel = %d %v, want a 409 on state", code, res)
	}
}
