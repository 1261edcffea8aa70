package stats

import (
	"testing"

	"github.com/cascade-oss/cascade/internal/dynamo"
)

func TestStateAndInFlight(t *testing.T) {
	tests := []struct {
		name         string
		stored       string
		counters     dynamo.Counters
		wantState    string
		wantInFlight int64
	}{
		{"fan-out still running", "launching",
			dynamo.Counters{dynamo.Recipients: 10, dynamo.Reached: 10}, "launching", 0},
		{"journeys under way", "running",
			dynamo.Counters{dynamo.Recipients: 10, dynamo.Reached: 6, dynamo.Unreached: 1}, "running", 3},
		{"every journey ended", "running",
			dynamo.Counters{dynamo.Recipients: 10, dynamo.Reached: 8, dynamo.Unreached: 2}, "completed", 0},
		{"every row rejected", "running",
			dynamo.Counters{dynamo.Rejected: 4}, "completed", 0},
		{"cancelled stays cancelled", "cancelled",
			dynamo.Counters{dynamo.Recipients: 2, dynamo.Reached: 2}, "cancelled", 0},
		{"draft", "draft", nil, "draft", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := From("c1", tt.stored, map[string]dynamo.Counters{dynamo.Scope: tt.counters})
			if s.State != tt.wantState || s.InFlight != tt.wantInFlight {
				t.Errorf("state, in flight = %q, %d; want %q, %d",
					s.State, s.InFlight, tt.wantState, tt.wantInFlight)
			}
		})
	}
}

func TestFunnelFromCounters(t *testing.T) {
	c := map[string]dynamo.Counters{
		dynamo.Scope: {dynamo.Recipients: 3, dynamo.Reached: 2, "reached_whatsapp": 1, "reached_rcs": 1,
			dynamo.Unreached: 1, "unreached_timeout": 1},
		"whatsapp": {"queued": 3, "submitted": 3, "delivered": 1, "failed": 2, "fc_fallback-now": 2,
			"code_131026": 2, dynamo.MovedOn: 2},
		"rcs": {"queued": 2, "submitted": 2, "delivered": 1, "read": 1, dynamo.MovedOn: 1},
	}
	s := From("c1", "running", c)
	if len(s.Channels) != 2 || s.Channels[0].Channel != "whatsapp" || s.Channels[1].Channel != "rcs" {
		t.Fatalf("channels = %+v, want whatsapp then rcs", s.Channels)
	}
	wa := s.Channels[0]
	if wa.Attempted != 3 || wa.Sent != 3 || wa.Delivered != 1 || wa.Failed.Total != 2 || wa.MovedOn != 2 ||
		wa.Failed.ByClass["fallback-now"] != 2 || len(wa.Failed.TopCodes) != 1 || wa.Failed.TopCodes[0] != (Code{"131026", 2}) {
		t.Errorf("whatsapp = %+v", wa)
	}
	if s.Reached.By["rcs"] != 1 || s.Unreached.By["timeout"] != 1 || s.State != "completed" {
		t.Errorf("campaign = %+v", s)
	}
}

func TestFunnelFindsBrokenCounts(t *testing.T) {
	good := func() map[string]dynamo.Counters {
		return map[string]dynamo.Counters{
			dynamo.Scope: {"reached_whatsapp": 5, "reached_rcs": 2},
			"whatsapp":   {"queued": 10, "delivered": 6, dynamo.AfterFallback: 1, dynamo.MovedOn: 4},
			"rcs":        {"queued": 4, "delivered": 2},
		}
	}
	tests := []struct {
		name   string
		change func(map[string]dynamo.Counters)
		want   int
	}{
		{"consistent", func(map[string]dynamo.Counters) {}, 0},
		{"an attempt that nothing moved on to", func(c map[string]dynamo.Counters) { c["rcs"]["queued"] = 5 }, 1},
		{"a late delivery not counted after fallback", func(c map[string]dynamo.Counters) { c["whatsapp"][dynamo.AfterFallback] = 0 }, 1},
		{"the last step is not held to it", func(c map[string]dynamo.Counters) { c["rcs"]["delivered"] = 3 }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.change(c)
			if got := Funnel([]string{"whatsapp", "rcs"}, c); len(got) != tt.want {
				t.Errorf("Funnel = %q, want %d problems", got, tt.want)
			}
		})
	}
	if got := Funnel(nil, good()); len(got) != 0 {
		t.Errorf("no order: %q", got)
	}
}
