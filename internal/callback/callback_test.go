package callback

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/logging"
)

// fakeSFN records callbacks and answers as a task that is open, timed
// out, or already answered.
type fakeSFN struct {
	closed    bool
	successes []string
	failures  []string
}

func (f *fakeSFN) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	if f.closed {
		return nil, &types.TaskTimedOut{Message: aws.String("timed out")}
	}
	f.successes = append(f.successes, *in.Output)
	f.closed = true
	return &sfn.SendTaskSuccessOutput{}, nil
}

func (f *fakeSFN) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	if f.closed {
		return nil, &types.InvalidToken{Message: aws.String("invalid")}
	}
	f.failures = append(f.failures, *in.Error)
	f.closed = true
	return &sfn.SendTaskFailureOutput{}, nil
}

func image(status string) map[string]events.DynamoDBAttributeValue {
	return map[string]events.DynamoDBAttributeValue{
		"kind": events.NewStringAttribute("attempt"), "campaign": events.NewStringAttribute("c1"),
		"recipient": events.NewStringAttribute("+919900000001"), "step": events.NewNumberAttribute("0"),
		"channel": events.NewStringAttribute("whatsapp"), "attemptId": events.NewStringAttribute("a1"),
		"taskToken": events.NewStringAttribute("tok"), "status": events.NewStringAttribute(status),
		"failClass": events.NewStringAttribute("fallback-now"),
	}
}

func record(seq, from, to string) events.DynamoDBEventRecord {
	r := events.DynamoDBEventRecord{EventName: "MODIFY"}
	r.Change.SequenceNumber = seq
	r.Change.NewImage = image(to)
	if from != "" {
		r.Change.OldImage = image(from)
	}
	return r
}

func TestProcessor(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "callback")
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(db, table)

	tests := []struct {
		name          string
		recs          []events.DynamoDBEventRecord
		closed        bool
		wantSuccesses int
		wantFailures  []string
		wantAfter     int64
	}{
		{name: "delivered answers success once, even when the batch repeats",
			recs:          []events.DynamoDBEventRecord{record("1", "sent", "delivered"), record("1", "sent", "delivered")},
			wantSuccesses: 1},
		{name: "read after delivered is not a second callback",
			recs:          []events.DynamoDBEventRecord{record("1", "queued", "delivered"), record("2", "delivered", "read")},
			wantSuccesses: 1},
		{name: "failed answers with the class's error name",
			recs:         []events.DynamoDBEventRecord{record("1", "submitted", "failed")},
			wantFailures: []string{"Cascade.FallbackNow"}},
		{name: "delivered after the task timed out counts after fallback",
			recs: []events.DynamoDBEventRecord{record("1", "submitted", "delivered")}, closed: true,
			wantAfter: 1},
		{name: "non-terminal moves are ignored",
			recs: []events.DynamoDBEventRecord{record("1", "queued", "submitted"), record("2", "", "queued")}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			campaign := "cb" + string(rune('a'+i))
			_, _, err := store.RecordAttempt(ctx, dynamo.NewAttempt{Tenant: "t1", Campaign: campaign,
				Recipient: "+919900000001", Channel: "whatsapp", TaskToken: "tok", At: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			for j := range tt.recs {
				tt.recs[j].Change.NewImage["campaign"] = events.NewStringAttribute(campaign)
			}
			f := &fakeSFN{closed: tt.closed}
			var logs bytes.Buffer
			p := New(f, store, logging.New(&logs, "status-processor"))
			resp, err := p.Handle(ctx, events.DynamoDBEvent{Records: tt.recs})
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("Handle = %+v, %v (logs %s)", resp, err, logs.String())
			}
			if len(f.successes) != tt.wantSuccesses {
				t.Errorf("successes = %v, want %d", f.successes, tt.wantSuccesses)
			}
			if len(f.failures) != len(tt.wantFailures) || (len(f.failures) > 0 && f.failures[0] != tt.wantFailures[0]) {
				t.Errorf("failures = %v, want %v", f.failures, tt.wantFailures)
			}
			got, _ := store.Counters(ctx, campaign)
			if got["whatsapp"][dynamo.AfterFallback] != tt.wantAfter {
				t.Errorf("afterFallback = %d, want %d", got["whatsapp"][dynamo.AfterFallback], tt.wantAfter)
			}

		})
	}
}
