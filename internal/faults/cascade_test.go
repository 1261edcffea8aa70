package faults

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/function"
	"github.com/cascade-oss/cascade/internal/logging"
	"github.com/cascade-oss/cascade/internal/status"
)

// throughputBurst is fault 7: WhatsApp answers 130429 to a burst of
// sends. Each is retried after a backoff and delivered: none counts as
// a failure, none falls back, none is dropped. Refused audience rows
// ride along and are reported.
func throughputBurst(t *testing.T, s *suite) {
	ctx := context.Background()
	var nums []string
	for i := 1; i <= 5; i++ {
		nums = append(nums, num(sThroughput, i))
	}
	// Two refused rows: too short, and the first number again as it is
	// written in a spreadsheet.
	rows := audience(append(append([]string{}, nums...), "990000001", "0"+nums[0][3:])...)
	id := s.create(t, "fault 7 throughput", true, rows, waStep(60), rcsStep(30))
	got := s.wait(t, id, time.Minute)
	checkInvariants(t, s.st.Store, s.fakes(), id, want{order: []string{"whatsapp", "rcs"}, numbers: nums, rejected: 2})

	reasons := map[int]string{}
	err := s.st.Store.RejectedRows(ctx, id, func(r dynamo.RejectedRow) error {
		reasons[r.Row] = r.Reason
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[int]string{6: "not a phone number", 7: "duplicate of row 1"}, reasons); diff != "" {
		t.Errorf("rejected rows (-want +got):\n%s", diff)
	}
	if got.Reached.By["whatsapp"] != 5 || got.Rejected != 2 {
		t.Errorf("reached %+v, rejected %d; want 5 on whatsapp and 2 rejected", got.Reached, got.Rejected)
	}
	c, err := s.st.Store.Counters(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c["whatsapp"]["failed"] != 0 || c["rcs"]["queued"] != 0 {
		t.Errorf("whatsapp failed %d, rcs attempted %d; want none", c["whatsapp"]["failed"], c["rcs"]["queued"])
	}
	for _, n := range nums {
		var answers []int
		for _, r := range s.st.Fakes.WhatsApp.Requests() {
			if r.To == n {
				answers = append(answers, r.Status)
			}
		}
		if diff := cmp.Diff([]int{http.StatusBadRequest, http.StatusOK}, answers); diff != "" {
			t.Errorf("%s: WhatsApp answers (-want +got):\n%s", n, diff)
		}
		a, err := s.st.Store.Attempt(ctx, dynamo.AttemptKeyOf{Campaign: id, Recipient: n})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != status.Delivered {
			t.Errorf("%s attempt = %s, want delivered", n, a.Status)
		}
		backoffs := s.logs.records("send postponed", map[string]string{"attemptId": a.ID})
		if len(backoffs) != 1 {
			t.Errorf("%s postponed %d times, want once", n, len(backoffs))
			continue
		}
		if secs, _ := backoffs[0]["seconds"].(float64); secs < senderBackoff.Seconds() {
			t.Errorf("%s backed off %v s, want at least %v", n, secs, senderBackoff.Seconds())
		}
	}
}

// callbackTimeout is fault 8: a task that never hears back times out
// at its channel's timeout and the cascade moves on; when the last
// channel times out too, the recipient is unreached. No execution is
// left waiting, and the timed-out RCS message is revoked.
func callbackTimeout(t *testing.T, s *suite) {
	ctx := context.Background()
	toRCS, nowhere := num(sTimeout, 1), num(sTimeout, 2)
	// RCS waits long enough for a loaded machine to carry the fake's
	// delivery through moto; only WhatsApp's short wait is under test.
	id := s.create(t, "fault 8 timeout", true, audience(toRCS, nowhere), waStep(3), rcsStep(20))
	got := s.wait(t, id, time.Minute)
	if got.Reached.By["rcs"] != 1 || got.Unreached.By["timeout"] != 1 {
		t.Errorf("reached %+v, unreached %+v; want 1 on rcs and 1 timeout", got.Reached, got.Unreached)
	}
	for _, n := range []string{toRCS, nowhere} {
		a, err := s.st.Store.Attempt(ctx, dynamo.AttemptKeyOf{Campaign: id, Recipient: n})
		if err != nil {
			t.Fatal(err)
		}
		if !a.MovedOn || a.Status != status.Submitted {
			t.Errorf("%s whatsapp attempt = %s, moved on %v; want submitted and moved on", n, a.Status, a.MovedOn)
		}
		r, err := s.st.Store.Recipient(ctx, id, n)
		if err != nil {
			t.Fatal(err)
		}
		e, err := s.st.Clients.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{
			ExecutionArn: aws.String(executionARN(s.st.SFNArn, id, r.Row))})
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != sfntypes.ExecutionStatusSucceeded {
			t.Errorf("%s execution is %s, want SUCCEEDED", n, e.Status)
		}
	}
	// The revoke runs beside the outcome; wait for it.
	rcs := waitAttempt(t, s.st.Store, id, nowhere, 1, 20*time.Second, func(a dynamo.Attempt) bool {
		return a.Status == status.Failed
	})
	if rcs.FailCode != "revoked" {
		t.Errorf("timed-out RCS attempt failed with %q, want revoked", rcs.FailCode)
	}
	revokes := 0
	for _, r := range s.st.Fakes.RBM.Requests() {
		if r.Method == http.MethodDelete && r.ID == rcs.ID && r.Status == http.StatusOK {
			revokes++
		}
	}
	if revokes != 1 {
		t.Errorf("RBM revoked the message %d times, want once", revokes)
	}
	checkInvariants(t, s.st.Store, s.fakes(), id, want{order: []string{"whatsapp", "rcs"}, numbers: []string{toRCS, nowhere}})
}

// lateSuccess is fault 9: a delivery after the task timed out makes
// the status processor answer a closed task. It carries on, and the
// delivery counts as delivered after fallback. The same stream record
// handed to the processor a second time changes nothing.
//
// TODO(cascade): moto 5.2.5 accepts SendTaskSuccess for a timed-out
// task while its execution runs and answers InvalidToken once it has
// ended, where AWS answers TaskTimedOut; the TaskTimedOut branch is
// covered only by internal/callback's unit test. This can go when
// moto answers as AWS does.
func lateSuccess(t *testing.T, s *suite) {
	ctx := context.Background()
	nums := []string{num(sLate, 1), num(sLate, 2)}
	id := s.create(t, "fault 9 late", true, audience(nums...), waStep(3), rcsStep(30))
	got := s.wait(t, id, time.Minute)
	if got.Reached.By["rcs"] != 2 {
		t.Errorf("reached %+v, want 2 on rcs", got.Reached)
	}
	var late []dynamo.Attempt
	for _, n := range nums {
		a := waitAttempt(t, s.st.Store, id, n, 0, lateDelay+20*time.Second, func(a dynamo.Attempt) bool {
			return a.AfterFallback
		})
		if a.Status != status.Delivered || !a.MovedOn {
			t.Errorf("%s whatsapp attempt = %s, moved on %v; want delivered after moving on", n, a.Status, a.MovedOn)
		}
		late = append(late, a)
	}
	checkInvariants(t, s.st.Store, s.fakes(), id, want{order: []string{"whatsapp", "rcs"}, numbers: nums})
	before, err := s.st.Store.Counters(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if before["whatsapp"][dynamo.AfterFallback] != 2 {
		t.Errorf("afterFallback = %d, want 2", before["whatsapp"][dynamo.AfterFallback])
	}

	// A second SendTaskSuccess for each: the execution has ended.
	p := function.StatusProcessor(s.st.Config, s.st.Clients, logging.New(s.logs, "status-processor"))
	var recs []events.DynamoDBEventRecord
	for i, a := range late {
		recs = append(recs, streamRecord(a, status.Submitted, fmt.Sprint(900000+i)))
	}
	resp, err := p.Handle(ctx, events.DynamoDBEvent{Records: recs})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("second callback: %+v, %v; want the batch taken", resp, err)
	}
	after, err := s.st.Store.Counters(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("counters moved on a second callback (-before +after):\n%s", diff)
	}
	for _, a := range late {
		if n := len(s.logs.records("callback already made", map[string]string{"attemptId": a.ID})); n == 0 {
			t.Errorf("%s: the repeated callback was not logged", a.Recipient)
		}
	}
}

// streamRecord is the stream record of an attempt's move from old to
// its stored status, as DynamoDB would write it.
func streamRecord(a dynamo.Attempt, old status.Status, seq string) events.DynamoDBEventRecord {
	img := func(st status.Status) map[string]events.DynamoDBAttributeValue {
		return map[string]events.DynamoDBAttributeValue{
			"pk": events.NewStringAttribute(a.PK), "sk": events.NewStringAttribute(a.SK),
			"kind": events.NewStringAttribute("attempt"), "campaign": events.NewStringAttribute(a.Campaign),
			"recipient": events.NewStringAttribute(a.Recipient), "step": events.NewNumberAttribute(strconv.Itoa(a.Step)),
			"channel": events.NewStringAttribute(a.Channel), "attemptId": events.NewStringAttribute(a.ID),
			"taskToken": events.NewStringAttribute(a.TaskToken), "status": events.NewStringAttribute(string(st)),
		}
	}
	r := events.DynamoDBEventRecord{EventName: "MODIFY", EventSource: "aws:dynamodb"}
	r.Change.SequenceNumber = seq
	r.Change.NewImage = img(a.Status)
	r.Change.OldImage = img(old)
	return r
}
