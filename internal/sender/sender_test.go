package sender

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/logging"
	"github.com/cascade-oss/cascade/internal/secrets"
	"github.com/cascade-oss/cascade/internal/status"
)

// scripted is a provider whose answer per number is set by the test,
// and which counts its calls per number.
type scripted struct {
	mu      sync.Mutex
	answers map[string]error
	calls   map[string]int
}

func (p *scripted) Send(_ context.Context, r Request) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[string(r.To)]++
	if err := p.answers[string(r.To)]; err != nil {
		return "", err
	}
	return "wamid." + r.Attempt.ID, nil
}

func (p *scripted) ByProviderID() bool { return false }

type noSecrets struct{}

func (noSecrets) Get(context.Context, string) (secrets.Values, error) { return secrets.Values{}, nil }

type visibility struct{ calls []int32 }

func (v *visibility) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	v.calls = append(v.calls, in.VisibilityTimeout)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

const campaignID = "c0000000000000000001"

func setup(t *testing.T) *dynamo.Store {
	t.Helper()
	ctx := context.Background()
	db := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "sender")
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(db, table)
	c := campaign.Campaign{ID: campaignID, Tenant: "t1", Name: "x", State: campaign.Running, Created: time.Now(),
		Channels: []campaign.Step{{Channel: "whatsapp", WhatsApp: &campaign.WhatsApp{Template: "t", Language: "en"}}}}
	must(t, st.PutCampaign(ctx, c))
	must(t, st.PutChannel(ctx, dynamo.ChannelConfig{Tenant: "t1", Channel: "whatsapp", SecretARN: "arn"}))
	for _, p := range []string{"+919900000001", "+919900000002", "+919900000003"} {
		if _, _, err := st.AddRecipient(ctx, dynamo.Recipient{Campaign: campaignID, Phone: p}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func msg(id, phone string, receives string) events.SQSMessage {
	body, _ := json.Marshal(cascade.Task{TaskToken: "tok-" + phone, Tenant: "t1", Campaign: campaignID,
		Recipient: phone, Mode: "fallback", Step: 0, Channel: "whatsapp", Steps: 1})
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: string(body),
		Attributes: map[string]string{"ApproximateReceiveCount": receives}}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestBatchWithOneServerError sends a batch of three whose second
// provider call fails with a 500: only the second is handed back to
// SQS, and a redelivery of the whole batch sends the others no again.
func TestBatchWithOneServerError(t *testing.T) {
	ctx := context.Background()
	st := setup(t)
	p := &scripted{calls: map[string]int{}, answers: map[string]error{
		"+919900000002": errors.New("status 500"),
	}}
	vis := &visibility{}
	h := New(Config{Channel: "whatsapp", QueueURL: "q", Backoff: time.Second}, st, noSecrets{}, p, vis,
		logging.New(io.Discard, "sender"))
	batch := events.SQSEvent{Records: []events.SQSMessage{
		msg("m1", "+919900000001", "1"), msg("m2", "+919900000002", "1"), msg("m3", "+919900000003", "1"),
	}}
	resp, err := h.Handle(ctx, batch)
	if err != nil {
		t.Fatalf("Handle returned %v, want nil", err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m2" {
		t.Fatalf("failures = %+v, want only m2", resp.BatchItemFailures)
	}
	if len(vis.calls) != 1 {
		t.Errorf("visibility changes = %v, want one backoff", vis.calls)
	}

	delete(p.answers, "+919900000002")
	for i := range batch.Records {
		batch.Records[i].Attributes["ApproximateReceiveCount"] = "2"
	}
	resp, _ = h.Handle(ctx, batch)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("redelivery failures = %+v, want none", resp.BatchItemFailures)
	}
	wantCalls := map[string]int{"+919900000001": 1, "+919900000002": 2, "+919900000003": 1}
	for phone, want := range wantCalls {
		if p.calls[phone] != want {
			t.Errorf("%s sent %d times, want %d", phone, p.calls[phone], want)
		}
		a, err := st.Attempt(ctx, dynamo.AttemptKeyOf{Campaign: campaignID, Recipient: phone})
		must(t, err)
		if a.Status != status.Submitted {
			t.Errorf("%s status = %s, want submitted", phone, a.Status)
		}
	}
}

func TestSendOutcomes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		answer      error
		receives    string
		crashed     bool // a previous run claimed the call and died
		wantRetry   bool
		wantCalls   int
		wantStatus  status.Status
		wantClass   string
		wantVisible int32
	}{
		{name: "accepted is submitted", wantCalls: 1, wantStatus: status.Submitted},
		{name: "refusal fails the attempt with its class",
			answer:    failure.New("whatsapp", "131026", failure.WhatsApp(131026)),
			wantCalls: 1, wantStatus: status.Failed, wantClass: "fallback-now"},
		{name: "throughput limit backs off, doubling",
			answer: failure.New("whatsapp", "130429", failure.WhatsApp(130429)), receives: "3",
			wantRetry: true, wantCalls: 1, wantStatus: status.Queued, wantVisible: 4},
		{name: "throughput limit after the last try fails with class retry",
			answer: failure.New("whatsapp", "130429", failure.WhatsApp(130429)), receives: "5",
			wantCalls: 1, wantStatus: status.Failed, wantClass: "retry"},
		{name: "promotional window defers without sending",
			answer: &DeferError{Until: time.Now().Add(time.Hour)}, wantRetry: true,
			wantCalls: 1, wantStatus: status.Queued, wantVisible: 3600},
		{name: "a crash after the provider call never sends again",
			crashed: true, wantCalls: 0, wantStatus: status.Queued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := setup(t)
			if tt.crashed {
				a, _, err := st.RecordAttempt(ctx, dynamo.NewAttempt{Tenant: "t1", Campaign: campaignID,
					Recipient: "+919900000001", Channel: "whatsapp", TaskToken: "tok", At: time.Now()})
				must(t, err)
				must(t, st.Claim(ctx, a.Key(), time.Now()))
			}
			p := &scripted{calls: map[string]int{}, answers: map[string]error{"+919900000001": tt.answer}}
			vis := &visibility{}
			h := New(Config{Channel: "whatsapp", QueueURL: "q", Backoff: time.Second}, st, noSecrets{}, p, vis,
				logging.New(io.Discard, "sender"))
			receives := tt.receives
			if receives == "" {
				receives = "1"
			}
			resp, _ := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{msg("m1", "+919900000001", receives)}})
			if got := len(resp.BatchItemFailures) == 1; got != tt.wantRetry {
				t.Errorf("handed back to SQS = %v, want %v", got, tt.wantRetry)
			}
			if p.calls["+919900000001"] != tt.wantCalls {
				t.Errorf("provider calls = %d, want %d", p.calls["+919900000001"], tt.wantCalls)
			}
			a, err := st.Attempt(ctx, dynamo.AttemptKeyOf{Campaign: campaignID, Recipient: "+919900000001"})
			must(t, err)
			if a.Status != tt.wantStatus || a.FailClass != tt.wantClass {
				t.Errorf("attempt = %s/%s, want %s/%s", a.Status, a.FailClass, tt.wantStatus, tt.wantClass)
			}
			if tt.wantVisible > 0 && (len(vis.calls) != 1 || vis.calls[0] < tt.wantVisible-5 || vis.calls[0] > tt.wantVisible) {
				t.Errorf("visibility = %v, want about %d", vis.calls, tt.wantVisible)
			}
		})
	}
}
