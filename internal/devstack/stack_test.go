package devstack

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/providersim"
)

// TestSmallCampaignEndToEnd runs events/small-campaign.json through the
// whole local stack: WhatsApp fails five recipients by webhook and
// refuses one at once, so RCS gets exactly six attempts.
func TestSmallCampaignEndToEnd(t *testing.T) {
	ctx := context.Background()
	wa := map[string]providersim.Outcome{}
	for _, n := range []string{"01", "02", "03", "04", "05"} {
		wa["+9199000001"+n] = providersim.NotOnWhatsApp
	}
	wa["+919900000106"] = providersim.SyncError("132015")
	var logs bytes.Buffer
	st, err := Start(ctx, Options{
		Endpoint: awstest.Endpoint(t), Log: &logs, Seed: 7,
		Fakes: FakeOptions{
			Numbers: map[string]map[string]providersim.Outcome{"whatsapp": wa},
			Mix: map[string][]providersim.Share{
				"whatsapp": {{Outcome: providersim.Read, Weight: 1}},
				"rcs":      {{Outcome: providersim.Delivered, Weight: 1}},
			},
			Delay: 20 * time.Millisecond, Batch: 5,
		},
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	defer func() {
		st.StopExecutions(context.Background())
		st.Stop()
		if t.Failed() {
			t.Logf("function logs:\n%s", logs.String())
		}
	}()

	c := &Client{URL: st.URL, Token: st.Token}
	if err := st.ConnectChannels(ctx, c); err != nil {
		t.Fatal(err)
	}
	csv, err := os.ReadFile("../../events/small-audience.csv")
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.Launch(ctx, c, "../../events/small-campaign.json", csv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Wait(ctx, c, id, nil, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(ctx, id, []string{"whatsapp", "rcs"}); err != nil {
		t.Errorf("invariants: %v", err)
	}

	type row struct{ Attempted, Sent, Delivered, Read, Failed, MovedOn int64 }
	got := map[string]row{}
	for _, ch := range s.Channels {
		got[ch.Channel] = row{ch.Attempted, ch.Sent, ch.Delivered, ch.Read, ch.Failed.Total, ch.MovedOn}
	}
	want := map[string]row{
		"whatsapp": {Attempted: 10, Sent: 9, Delivered: 4, Read: 4, Failed: 6, MovedOn: 6},
		"rcs":      {Attempted: 6, Sent: 6, Delivered: 6, Read: 0, Failed: 0, MovedOn: 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("per-channel statistics (-want +got):\n%s", diff)
	}
	if s.Recipients != 10 || s.Reached.Total != 10 || s.Reached.By["rcs"] != 6 || s.Reached.By["whatsapp"] != 4 {
		t.Errorf("campaign = %+v, want 10 reached: 4 on whatsapp, 6 on rcs", s)
	}
	for n := 1; n <= 10; n++ {
		num := "+9199000001" + string(rune('0'+n/10)) + string(rune('0'+n%10))
		if got := st.Fakes.WhatsApp.Sends(num); got != 1 {
			t.Errorf("%s got %d WhatsApp sends, want exactly 1", num, got)
		}
	}
}
