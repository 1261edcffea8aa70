package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/status"
)

// newStore creates a fresh table on the moto server for one test.
func newStore(t *testing.T) *Store {
	t.Helper()
	db := dynamodb.NewFromConfig(awstest.Config(t))
	name := awstest.Name(t, "cascade")
	if err := CreateTable(context.Background(), db, name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return New(db, name)
}

func record(t *testing.T, s *Store, campaign, phone, ch string, step int) Attempt {
	t.Helper()
	a, created, err := s.RecordAttempt(context.Background(), NewAttempt{
		Tenant: "t1", Campaign: campaign, Recipient: phone, Channel: ch,
		Step: step, TaskToken: "token-" + phone, At: time.Now(),
	})
	if err != nil || !created {
		t.Fatalf("RecordAttempt = created %v, %v; want a new attempt", created, err)
	}
	return a
}

// checkRecount fails the test when the counters differ from a recount.
func checkRecount(t *testing.T, s *Store, campaign string) map[string]Counters {
	t.Helper()
	ctx := context.Background()
	got, err := s.Counters(ctx, campaign)
	if err != nil {
		t.Fatalf("Counters: %v", err)
	}
	want, err := s.Recount(ctx, campaign)
	if err != nil {
		t.Fatalf("Recount: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("counters differ from the recount (-recount +counters):\n%s", diff)
	}
	return got
}

func TestApplyStatusSequences(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	failed := status.Event{Status: status.Failed, Code: "131026",
		Class: failure.FallbackNow, Reason: "not on WhatsApp"}
	tests := []struct {
		name      string
		events    []status.Event
		want      status.Status
		wantNoOps int
		wantCount Counters
	}{
		{
			name: "read before delivered counts both once",
			events: []status.Event{{Status: status.Submitted}, {Status: status.Read},
				{Status: status.Delivered}, {Status: status.Delivered}, {Status: status.Sent}},
			want: status.Read, wantNoOps: 3,
			wantCount: Counters{"queued": 1, "submitted": 1, "sent": 1, "delivered": 1, "read": 1},
		},
		{
			name:   "failure is counted with class and code",
			events: []status.Event{{Status: status.Submitted}, failed, failed},
			want:   status.Failed, wantNoOps: 1,
			wantCount: Counters{"queued": 1, "submitted": 1, "failed": 1,
				"fc_fallback-now": 1, "code_131026": 1},
		},
		{
			name:   "failure after delivery is ignored",
			events: []status.Event{{Status: status.Delivered}, failed},
			want:   status.Delivered, wantNoOps: 1,
			wantCount: Counters{"queued": 1, "submitted": 1, "sent": 1, "delivered": 1},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			campaign := fmt.Sprintf("seq%d", i)
			a := record(t, s, campaign, "+919900000001", "whatsapp", 0)
			noOps := 0
			var last Applied
			for _, ev := range tt.events {
				got, err := s.ApplyStatus(ctx, a.Key(), ev)
				if err != nil {
					t.Fatalf("ApplyStatus(%s): %v", ev.Status, err)
				}
				if got.Change.NoOp {
					noOps++
				}
				last = got
			}
			if last.Attempt.Status != tt.want {
				t.Errorf("final status = %q, want %q", last.Attempt.Status, tt.want)
			}
			if noOps != tt.wantNoOps {
				t.Errorf("no-ops = %d, want %d", noOps, tt.wantNoOps)
			}
			got := checkRecount(t, s, campaign)["whatsapp"]
			for k := range got {
				if len(k) > 4 && k[:4] == "lat_" {
					delete(got, k)
				}
			}
			if diff := cmp.Diff(tt.wantCount, got); diff != "" {
				t.Errorf("counters (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConcurrentEventsMatchRecount applies shuffled, duplicated status
// events for the same attempts from many goroutines at once.
func TestConcurrentEventsMatchRecount(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const campaign, recipients = "busy", 12
	var keys []AttemptKeyOf
	for i := 0; i < recipients; i++ {
		a := record(t, s, campaign, fmt.Sprintf("+9199000%05d", i), "whatsapp", 0)
		keys = append(keys, a.Key())
	}
	type job struct {
		k  AttemptKeyOf
		ev status.Event
	}
	var jobs []job
	for i, k := range keys {
		evs := []status.Status{status.Submitted, status.Sent, status.Delivered, status.Read}
		if i%3 == 0 {
			evs = []status.Status{status.Submitted, status.Failed, status.Delivered}
		}
		for _, st := range evs {
			for dup := 0; dup < 3; dup++ {
				jobs = append(jobs, job{k, status.Event{Status: st, Code: "2",
					Class: failure.FallbackNow, At: time.Now()}})
			}
		}
	}
	rand.New(rand.NewSource(7)).Shuffle(len(jobs), func(i, j int) {
		jobs[i], jobs[j] = jobs[j], jobs[i]
	})

	var wg sync.WaitGroup
	errs := make(chan error, len(jobs))
	work := make(chan job)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if _, err := s.ApplyStatus(ctx, j.k, j.ev); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("ApplyStatus: %v", err)
	}

	got := checkRecount(t, s, campaign)["whatsapp"]
	if got["queued"] != recipients {
		t.Errorf("queued = %d, want %d", got["queued"], recipients)
	}
	// Each attempt ends delivered (or read) or failed, never both.
	if got["delivered"]+got["failed"] != recipients {
		t.Errorf("delivered %d + failed %d, want %d in all", got["delivered"], got["failed"], recipients)
	}
}

func TestRecordAttemptOnceAndClaimOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a := record(t, s, "c1", "+919900000001", "rcs", 1)

	again, created, err := s.RecordAttempt(ctx, NewAttempt{
		Tenant: "t1", Campaign: "c1", Recipient: "+919900000001",
		Channel: "rcs", Step: 1, TaskToken: "other",
	})
	if err != nil || created {
		t.Fatalf("second RecordAttempt = created %v, %v; want the stored one", created, err)
	}
	if again.TaskToken != a.TaskToken || again.ID != a.ID {
		t.Errorf("second RecordAttempt returned %+v, want the first", again)
	}
	if err := s.Claim(ctx, a.Key(), time.Now()); err != nil {
		t.Fatalf("first Claim: %v", err)
	}
	if err := s.Claim(ctx, a.Key(), time.Now()); !errors.Is(err, ErrClaimed) {
		t.Errorf("second Claim = %v, want ErrClaimed", err)
	}
	if err := s.Release(ctx, a.Key()); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := s.Claim(ctx, a.Key(), time.Now()); err != nil {
		t.Errorf("Claim after Release: %v", err)
	}
	checkRecount(t, s, "c1")
}

func TestFindByMessageAndPending(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a := record(t, s, "c2", "+919900000002", "sms", 2)

	got, err := s.FindByMessage(ctx, MessageKey("sms", a.ID))
	if err != nil || got.ID != a.ID {
		t.Fatalf("FindByMessage(attempt id) = %v, %v; want %s", got.ID, err, a.ID)
	}
	got, err = s.FindByIndex(ctx, MessageKey("sms", a.ID))
	if err != nil || got.ID != a.ID {
		t.Fatalf("FindByIndex(attempt id) = %v, %v; want %s", got.ID, err, a.ID)
	}
	if _, err := s.FindByMessage(ctx, MessageKey("sms", "req-1")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("FindByMessage(unknown) = %v, want ErrNotFound", err)
	}

	ev := status.Event{ProviderID: "req-1", Status: status.Delivered, At: time.Now().UTC()}
	if err := s.AddPending(ctx, MessageKey("sms", "req-1"), ev); err != nil {
		t.Fatalf("AddPending: %v", err)
	}
	if err := s.SetProviderID(ctx, a.Key(), "sms", "req-1", true); err != nil {
		t.Fatalf("SetProviderID: %v", err)
	}
	got, err = s.FindByMessage(ctx, MessageKey("sms", "req-1"))
	if err != nil || got.ID != a.ID {
		t.Fatalf("FindByMessage(provider id) = %v, %v; want %s", got.ID, err, a.ID)
	}
	evs, clear, err := s.Pending(ctx, MessageKey("sms", "req-1"))
	if err != nil || len(evs) != 1 || evs[0].Status != status.Delivered {
		t.Fatalf("Pending = %v, %v; want the delivered event", evs, err)
	}
	// An event that arrives between the read and the delete is kept.
	if err := s.AddPending(ctx, MessageKey("sms", "req-1"), status.Event{Status: status.Read}); err != nil {
		t.Fatal(err)
	}
	if err := clear(ctx); !errors.Is(err, ErrConflict) {
		t.Fatalf("clear after a new event = %v, want ErrConflict", err)
	}
	evs, clear, _ = s.Pending(ctx, MessageKey("sms", "req-1"))
	if len(evs) != 2 {
		t.Fatalf("pending after a second event = %v, want 2", evs)
	}
	if err := clear(ctx); err != nil {
		t.Fatalf("delete pending: %v", err)
	}
	if evs, _, _ := s.Pending(ctx, MessageKey("sms", "req-1")); len(evs) != 0 {
		t.Errorf("Pending after delete = %v, want none", evs)
	}
}

func TestRecipientsOutcomesAndMoves(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const c = "c3"
	tests := []struct {
		name      string
		phone     string
		row       int
		wantAdded bool
		wantDupOf int
	}{
		{"first row is added", "+919900000001", 1, true, 0},
		{"other number is added", "+919900000002", 2, true, 0},
		{"same number on a later row is a duplicate", "+919900000001", 3, false, 1},
		{"same row again is a redelivery", "+919900000002", 2, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dup, added, err := s.AddRecipient(ctx, Recipient{Campaign: c, Phone: tt.phone, Row: tt.row})
			if err != nil {
				t.Fatalf("AddRecipient: %v", err)
			}
			if added != tt.wantAdded || dup != tt.wantDupOf {
				t.Errorf("AddRecipient = (%d, %v), want (%d, %v)", dup, added, tt.wantDupOf, tt.wantAdded)
			}
		})
	}
	if err := s.AddRejected(ctx, c, 3, "+919900000001", "duplicate of row 1"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRejected(ctx, c, 3, "+919900000001", "duplicate of row 1"); err != nil {
		t.Fatal(err)
	}

	first := record(t, s, c, "+919900000001", "whatsapp", 0)
	record(t, s, c, "+919900000001", "rcs", 1)
	for i := 0; i < 2; i++ {
		if err := s.MarkMovedOn(ctx, first.Key(), NewAttempt{}); err != nil {
			t.Fatalf("MarkMovedOn: %v", err)
		}
		if err := s.SetOutcome(ctx, c, "+919900000001", OutcomeDelivered, "rcs", "", time.Now()); err != nil {
			t.Fatalf("SetOutcome: %v", err)
		}
		if err := s.SetOutcome(ctx, c, "+919900000002", OutcomeUnreached, "", "timeout", time.Now()); err != nil {
			t.Fatalf("SetOutcome: %v", err)
		}
	}
	// A step whose sender never ran is recorded as failed and moved
	// on, so a late sender finds it and sends nothing.
	skipped := AttemptKeyOf{c, "+919900000009", 0}
	err := s.MarkMovedOn(ctx, skipped, NewAttempt{Tenant: "t1", Campaign: c,
		Recipient: "+919900000009", Channel: "whatsapp", At: time.Now()})
	if err != nil {
		t.Fatalf("MarkMovedOn(missing) = %v", err)
	}
	if a, err := s.Attempt(ctx, skipped); err != nil || a.Status != status.Failed || !a.MovedOn {
		t.Errorf("skipped step = %+v, %v; want failed and moved on", a, err)
	}

	got := checkRecount(t, s, c)
	want := Counters{Recipients: 2, Rejected: 1, Reached: 1, "reached_rcs": 1,
		Unreached: 1, "unreached_timeout": 1}
	if diff := cmp.Diff(want, got[Scope]); diff != "" {
		t.Errorf("campaign counters (-want +got):\n%s", diff)
	}
	if got["whatsapp"][MovedOn] != 2 || got["rcs"]["queued"] != 1 {
		t.Errorf("whatsapp movedOn %d, rcs queued %d; want 2 and 1",
			got["whatsapp"][MovedOn], got["rcs"]["queued"])
	}
}

// TestLongTaskTokenRoundTrips stores a 2,048-character token of the
// characters Step Functions uses and reads it back byte for byte.
func TestLongTaskTokenRoundTrips(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tok := strings.Repeat("A+/=", 512)
	a, _, err := s.RecordAttempt(ctx, NewAttempt{Tenant: "t1", Campaign: "tok",
		Recipient: "+919900000001", Channel: "rcs", Step: 0, TaskToken: tok, At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Attempt(ctx, a.Key())
	if err != nil || got.TaskToken != tok {
		t.Fatalf("token read back differs (len %d, %v)", len(got.TaskToken), err)
	}
	if strings.Contains(got.PK+got.SK+got.MessageKey, "A+/=") {
		t.Errorf("token is part of a key: %s %s %s", got.PK, got.SK, got.MessageKey)
	}
}
