package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/logging"
	"github.com/cascade-oss/cascade/internal/secrets"
	"github.com/cascade-oss/cascade/internal/status"
)

// testProvider accepts bodies signed with the header x-test-sig equal
// to the tenant's secret, and reads a JSON list of events.
type testProvider struct{}

func (testProvider) Channel() string { return "whatsapp" }
func (testProvider) MaxBody() int    { return 1024 }
func (testProvider) Handshake(r Request, sec secrets.Values) (string, bool, error) {
	if r.Method != http.MethodGet {
		return "", false, nil
	}
	if r.Query.Get("verify") != sec["secret"] {
		return "", true, errors.New("wrong verify token")
	}
	return r.Query.Get("challenge"), true, nil
}
func (testProvider) Verify(r Request, sec secrets.Values) error {
	if r.Header("X-Test-Sig") != sec["secret"] {
		return ErrUnauthorized
	}
	return nil
}
func (testProvider) Parse(r Request) ([]status.Event, error) {
	var evs []status.Event
	if err := json.Unmarshal(r.Body, &evs); err != nil {
		return nil, err
	}
	return evs, nil
}

type fixedSecrets struct{}

func (fixedSecrets) Get(context.Context, string) (secrets.Values, error) {
	return secrets.Values{"secret": "s3cret"}, nil
}

func (f fixedSecrets) Refresh(ctx context.Context, arn string, _ time.Duration) (secrets.Values, bool, error) {
	v, err := f.Get(ctx, arn)
	return v, true, err
}

// brokenStore fails every write, as a throttled or unreachable table.
type brokenStore struct{ *dynamo.Store }

func (brokenStore) ApplyStatus(context.Context, dynamo.AttemptKeyOf, status.Event) (dynamo.Applied, error) {
	return dynamo.Applied{}, errors.New("table unavailable")
}

func TestWebhookAnswers(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "webhook")
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(db, table)
	must(t, st.PutChannel(ctx, dynamo.ChannelConfig{Tenant: "t1", Channel: "whatsapp", SecretARN: "arn"}))
	must(t, st.PutChannel(ctx, dynamo.ChannelConfig{Tenant: "t2", Channel: "whatsapp", SecretARN: "arn"}))
	a, _, err := st.RecordAttempt(ctx, dynamo.NewAttempt{Tenant: "t1", Campaign: "c1",
		Recipient: "+919900000001", Channel: "whatsapp", TaskToken: "tok", At: time.Now()})
	must(t, err)
	delivered := `[{"AttemptID":"` + a.ID + `","Status":"delivered"}]`

	tests := []struct {
		name       string
		store      Store
		method     string
		query      string
		sig        string
		body       string
		base64     bool
		wantCode   int
		wantStatus status.Status
	}{
		{name: "missing signature is refused", method: "POST", query: "tenant=t1", body: delivered,
			wantCode: 401, wantStatus: status.Queued},
		{name: "wrong signature is refused", method: "POST", query: "tenant=t1", sig: "guess", body: delivered,
			wantCode: 401, wantStatus: status.Queued},
		{name: "unknown tenant is not found", method: "POST", query: "tenant=nobody", sig: "s3cret", body: delivered,
			wantCode: 404, wantStatus: status.Queued},
		{name: "another tenant's message changes nothing", method: "POST", query: "tenant=t2", sig: "s3cret", body: delivered,
			wantCode: 200, wantStatus: status.Queued},
		{name: "a failing table write is a 5xx so the provider retries", store: brokenStore{st},
			method: "POST", query: "tenant=t1", sig: "s3cret", body: delivered, wantCode: 500, wantStatus: status.Queued},
		{name: "an unexpected shape is parked with a 200", method: "POST", query: "tenant=t1", sig: "s3cret",
			body: `{"surprise":true}`, wantCode: 200, wantStatus: status.Queued},
		{name: "a body over the limit is refused", method: "POST", query: "tenant=t1", sig: "s3cret",
			body: strings.Repeat("x", 2000), wantCode: 413, wantStatus: status.Queued},
		{name: "handshake with the right token echoes the challenge", method: "GET",
			query: "tenant=t1&verify=s3cret&challenge=42", wantCode: 200, wantStatus: status.Queued},
		{name: "handshake with a wrong token is refused", method: "GET",
			query: "tenant=t1&verify=nope&challenge=42", wantCode: 403, wantStatus: status.Queued},
		{name: "a base64 body is decoded before it is read", method: "POST", query: "tenant=t1", sig: "s3cret",
			body: delivered, base64: true, wantCode: 200, wantStatus: status.Delivered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store
			if store == nil {
				store = st
			}
			var logs bytes.Buffer
			rejected := 0
			h := New(testProvider{}, store, fixedSecrets{}, logging.New(&logs, "webhook"),
				func(string, string) { rejected++ })
			ev := events.LambdaFunctionURLRequest{RawQueryString: tt.query, Body: tt.body,
				Headers: map[string]string{"X-Test-Sig": tt.sig}}
			if tt.base64 {
				ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(tt.body)), true
			}
			ev.RequestContext.HTTP.Method = tt.method
			res, err := h.Handle(ctx, ev)
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			if res.StatusCode != tt.wantCode {
				t.Errorf("status = %d (%s), want %d; logs: %s", res.StatusCode, res.Body, tt.wantCode, logs.String())
			}
			if (tt.wantCode >= 400 && tt.wantCode < 500) != (rejected == 1) {
				t.Errorf("rejections counted = %d for a %d", rejected, tt.wantCode)
			}
			got, err := st.Attempt(ctx, a.Key())
			must(t, err)
			if got.Status != tt.wantStatus {
				t.Errorf("attempt status = %s, want %s", got.Status, tt.wantStatus)
			}
		})
	}
}

func TestEarlyStatusIsKeptPending(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "webhook")
	must(t, dynamo.CreateTable(ctx, db, table))
	st := dynamo.New(db, table)
	must(t, st.PutChannel(ctx, dynamo.ChannelConfig{Tenant: "t1", Channel: "whatsapp", SecretARN: "arn"}))

	h := New(testProvider{}, st, fixedSecrets{}, logging.New(&bytes.Buffer{}, "webhook"), nil)
	ev := events.LambdaFunctionURLRequest{RawQueryString: "tenant=t1",
		Body:    `[{"ProviderID":"req-9","Status":"delivered"}]`,
		Headers: map[string]string{"x-test-sig": "s3cret"}}
	ev.RequestContext.HTTP.Method = "POST"
	res, _ := h.Handle(ctx, ev)
	if res.StatusCode != 200 {
		t.Fatalf("status = %d, want 200", res.StatusCode)
	}
	evs, _, err := st.Pending(ctx, dynamo.MessageKey("whatsapp", "req-9"))
	if err != nil || len(evs) != 1 || evs[0].Status != status.Delivered {
		t.Errorf("pending = %v, %v; want the delivered event kept", evs, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
