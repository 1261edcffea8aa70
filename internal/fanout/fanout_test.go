package fanout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/logging"
)

// fakeSFN records started executions and refuses a name twice, as
// Step Functions does.
type fakeSFN struct {
	mu      sync.Mutex
	started map[string]cascade.Input
}

func (f *fakeSFN) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.started[*in.Name]; ok {
		return nil, &sfntypes.ExecutionAlreadyExists{Message: aws.String("exists")}
	}
	var input cascade.Input
	if err := json.Unmarshal([]byte(*in.Input), &input); err != nil {
		return nil, err
	}
	f.started[*in.Name] = input
	return &sfn.StartExecutionOutput{ExecutionArn: in.Name}, nil
}

// queue collects the chunks the handler hands on.
type queue struct{ bodies []string }

func (q *queue) ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func (q *queue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	q.bodies = append(q.bodies, *in.MessageBody)
	return &sqs.SendMessageOutput{}, nil
}

func TestCSVChunksDedupeAndRedelivery(t *testing.T) {
	ctx := context.Background()
	cfg := awstest.Config(t)
	db := dynamodb.NewFromConfig(cfg)
	table := awstest.Name(t, "fanout")
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(db, table)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := awstest.Name(t, "audience")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// Ten rows: formats people paste, a duplicate, a bad number, a
	// quoted cell with a comma, two lines the CSV rules cannot read (one
	// opens a quote it never closes, which must not swallow the rest),
	// a blank line, and a recipient after them.
	csv := "\ufeffPhone,Name\n" +
		"+91 99000 00001,Asha\n" +
		"09900000002,\"Ravi, Jr\"\n" +
		"9900000003,Meera\n" +
		"0091-99000-00001,Asha again\n" +
		"990000001,Short\n" +
		"919900000004,Arjun\n" +
		"9900000005,Kiran\n" +
		"9900000006,Say \"hi\"\n" +
		"\"9900000007,Open quote\n" +
		"\r\n" +
		"9900000008,After the broken line\n"
	_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
		Key: aws.String("uploads/a.csv"), Body: strings.NewReader(csv)})
	if err != nil {
		t.Fatal(err)
	}
	c := campaign.Campaign{ID: "c0000000000000000001", Tenant: "t1", Name: "x", State: campaign.Launching,
		Channels: []campaign.Step{{Channel: "whatsapp"}, {Channel: "sms", TimeoutSeconds: 30}},
		Audience: campaign.Audience{S3Key: "uploads/a.csv"}, Created: time.Now()}
	if err := st.PutCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}

	f := &fakeSFN{started: map[string]cascade.Input{}}
	q := &queue{}
	h := New(Config{StateMachineARN: "arn", QueueURL: "q", Bucket: bucket, ChunkSize: 3},
		st, f, q, s3c, logging.New(io.Discard, "fanout"))
	deliver := func(body string) {
		t.Helper()
		resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: body}}})
		if err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("Handle(%s) = %+v, %v", body, resp, err)
		}
	}
	first := fmt.Sprintf(`{"tenant":"t1","campaign":"%s","row":1}`, c.ID)
	deliver(first)
	deliver(first) // a redelivered chunk starts nothing twice
	for i := 0; i < len(q.bodies); i++ {
		deliver(q.bodies[i])
	}
	if len(q.bodies) != 3 {
		t.Errorf("chunks handed on = %d (%v), want 3", len(q.bodies), q.bodies)
	}

	var names []string
	for n := range f.started {
		names = append(names, n)
	}
	// Named for audience rows, never numbers: rows 4 (a duplicate) and
	// 5 (not a number) start nothing.
	want := []string{}
	for _, row := range []string{"1", "2", "3", "6", "7", "10"} {
		want = append(want, c.ID+"-r"+row)
	}
	if diff := cmp.Diff(want, names, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("executions (-want +got):\n%s", diff)
	}
	in := f.started[c.ID+"-r2"]
	wantIn := cascade.Input{Tenant: "t1", Campaign: c.ID, Recipient: "+919900000002", Mode: "fallback",
		Steps: []cascade.Step{{Channel: "whatsapp", TimeoutSeconds: 600}, {Channel: "sms", TimeoutSeconds: 30}}}
	if diff := cmp.Diff(wantIn, in); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
	r, err := st.Recipient(ctx, c.ID, "+919900000002")
	if err != nil || r.Vars["name"] != "Ravi, Jr" {
		t.Errorf("recipient vars = %v, %v; want name Ravi, Jr", r.Vars, err)
	}

	var rejected []string
	_ = st.RejectedRows(ctx, c.ID, func(r dynamo.RejectedRow) error {
		rejected = append(rejected, fmt.Sprintf("%d %s: %s", r.Row, r.Raw, r.Reason))
		return nil
	})
	wantRej := []string{"4 0091-99000-00001: duplicate of row 1", "5 990000001: not a phone number",
		`8 : malformed CSV line: bare " in non-quoted-field`,
		`9 : malformed CSV line: extraneous or missing " in quoted-field`}
	if diff := cmp.Diff(wantRej, rejected); diff != "" {
		t.Errorf("rejected rows (-want +got):\n%s", diff)
	}
	got, _ := st.Campaign(ctx, "t1", c.ID)
	if got.State != campaign.Running {
		t.Errorf("state = %s, want running after the last chunk", got.State)
	}
	counts, _ := st.Counters(ctx, c.ID)
	if counts[dynamo.Scope][dynamo.Recipients] != 6 || counts[dynamo.Scope][dynamo.Rejected] != 4 {
		t.Errorf("campaign counters = %v, want 6 recipients and 4 rejected", counts[dynamo.Scope])
	}
}

func TestRetriesPlan(t *testing.T) {
	c := campaign.Campaign{ID: "c1", Tenant: "t1", Mode: campaign.Retries,
		Retry:    &campaign.Retry{Count: 2, IntervalSeconds: 3600},
		Channels: []campaign.Step{{Channel: "whatsapp", TimeoutSeconds: 60}}}
	got, err := NewInput(c, "+919900000001")
	if err != nil {
		t.Fatal(err)
	}
	want := []cascade.Step{
		{Channel: "whatsapp", TimeoutSeconds: 60},
		{Channel: "whatsapp", TimeoutSeconds: 60, DelaySeconds: 3600},
		{Channel: "whatsapp", TimeoutSeconds: 60, DelaySeconds: 3600},
	}
	if diff := cmp.Diff(want, got.Steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}
