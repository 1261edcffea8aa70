package faults

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cascade-oss/cascade/internal/devstack"
	"github.com/cascade-oss/cascade/internal/dynamo"
)

// TestFaults runs every fault of issue 9 on one shared stack, each
// with recipients of its own, in parallel. Each scenario ends with the
// invariants check.
func TestFaults(t *testing.T) {
	s := stack(t)
	tests := []struct {
		name string
		run  func(*testing.T, *suite)
	}{
		{"01 escaped webhook body is verified over the bytes received", escapedBody},
		{"02 base64 body is decoded before it is verified", base64Body},
		{"03 one POST with three statuses applies all three", threeStatuses},
		{"04 read delivered delivered sent ends read, counted once", outOfOrder},
		{"05 delivered before the send is stored ends delivered, one callback", earlyDelivery},
		{"06 webhook while the table fails is a 5xx; odd shapes are parked", tableDown},
		{"07 throughput refusals are retried, not failed", throughputBurst},
		{"08 a task that never hears back times out and moves on", callbackTimeout},
		{"08 a send that comes after its step timed out is not made", sendAfterTimeout},
		{"09 a late success is counted after fallback, a repeat is harmless", lateSuccess},
		{"10 a 2048-character token round-trips and is never a key", longToken},
		{"11 a 500 in a batch of three fails only that send", batchServerError},
		{"12 a sender that dies after the provider accepted never resends", crashAfterSend},
		{"13 a stream batch retried after a crash moves no counter twice", streamRetry},
	}
	// The scenarios wait on the stack far more than they compute, so
	// a few run at once whatever -parallel says; more would slow moto's
	// one process past the scenarios' step timeouts.
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4)
	for _, tt := range tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			t.Run(tt.name, func(t *testing.T) { tt.run(t, s) })
		}()
	}
	wg.Wait()
}

// TestLogsHoldNoSecrets runs a campaign through every channel, with
// refused rows, and then scans every log line the handlers wrote in
// this test binary (every fault scenario too, when they ran first):
// no full phone number of any audience, no task token, no provider
// credential and no API token may appear.
func TestLogsHoldNoSecrets(t *testing.T) {
	ctx := context.Background()
	s := stack(t)
	nums := []string{num(sLogs, 1), num(sLogs, 2), num(sLogs, 3)}
	rows := audience(append(append([]string{}, nums...), "990000001", "call me", "0"+nums[0][3:])...)
	id := s.create(t, "logs", true, rows, waStep(10), rcsStep(10), smsStep(10))
	got := s.wait(t, id, time.Minute)
	if got.Reached.By["sms"] != 1 || got.Reached.By["whatsapp"] != 1 || got.Reached.By["rcs"] != 1 {
		t.Errorf("reached %+v, want one on each channel", got.Reached)
	}
	checkInvariants(t, s.st.Store, s.fakes(), id, want{order: []string{"whatsapp", "rcs", "sms"}, numbers: nums, rejected: 3})

	secrets := map[string]string{
		"WhatsApp access token": devstack.FakeWhatsAppToken, "WhatsApp app secret": devstack.FakeAppSecret,
		"WhatsApp verify token": devstack.FakeVerifyToken, "RBM access token": devstack.FakeRBMToken,
		"RBM client token": devstack.FakeClientToken, "MSG91 auth key": devstack.FakeAuthKey,
		"MSG91 webhook token": s.smsToken, "dev JWT": s.st.Token,
		"JWT signing key":             base64.RawURLEncoding.EncodeToString(s.st.JWT.Secret),
		"a 2048-character task token": strings.Repeat("AAA+//==", 256)[:64],
	}
	s.mu.Lock()
	stores := map[*dynamo.Store][]string{s.st.Store: append([]string(nil), s.campaigns...)}
	for _, l := range s.lanes {
		stores[l.store] = append(stores[l.store], l.campaigns...)
	}
	s.mu.Unlock()
	for store, ids := range stores {
		for _, c := range ids {
			err := store.Recipients(ctx, c, func(r dynamo.Recipient) error {
				secrets["number "+r.Phone] = r.Phone
				secrets["digits of "+r.Phone] = strings.TrimPrefix(r.Phone, "+")
				secrets["national form of "+r.Phone] = strings.TrimPrefix(r.Phone, "+91")
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			err = store.Attempts(ctx, c, func(a dynamo.Attempt) error {
				if a.TaskToken != "" {
					secrets["task token of "+a.ID] = a.TaskToken
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	logs := s.logs.String()
	if n := strings.Count(logs, "\n"); n < 20 {
		t.Fatalf("only %d log lines: the scan would prove nothing", n)
	}
	if !strings.Contains(logs, `"phone":"+9199******01"`) {
		t.Errorf("the logs show no masked number; the scan may be looking at the wrong logs")
	}
	for what, secret := range secrets {
		if secret == "" {
			t.Errorf("%s is empty: nothing to look for", what)
			continue
		}
		if i := strings.Index(logs, secret); i >= 0 {
			start := strings.LastIndex(logs[:i], "\n") + 1
			end := i + strings.Index(logs[i:]+"\n", "\n")
			t.Errorf("the logs hold the %s:\n%s", what, logs[start:end])
		}
	}
}
