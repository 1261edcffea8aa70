package cascade

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/channel"
)

func TestPlan(t *testing.T) {
	wa := Step{Channel: channel.WhatsApp, TimeoutSeconds: 300}
	rcs := Step{Channel: channel.RCS, TimeoutSeconds: 600}
	sms := Step{Channel: channel.SMS, TimeoutSeconds: 900}
	tests := []struct {
		name     string
		mode     campaign.Mode
		channels []Step
		retries  int
		interval int
		want     []Step
	}{
		{"fallback keeps the order", campaign.Fallback, []Step{sms, wa, rcs}, 0, 0,
			[]Step{sms, wa, rcs}},
		{"fallback ignores given delays", campaign.Fallback,
			[]Step{{Channel: channel.RCS, TimeoutSeconds: 5, DelaySeconds: 9}}, 0, 0,
			[]Step{{Channel: channel.RCS, TimeoutSeconds: 5}}},
		{"retries repeats with the interval after the first", campaign.Retries,
			[]Step{wa}, 2, 60,
			[]Step{wa,
				{Channel: channel.WhatsApp, TimeoutSeconds: 300, DelaySeconds: 60},
				{Channel: channel.WhatsApp, TimeoutSeconds: 300, DelaySeconds: 60}}},
		{"retries with none is one step", campaign.Retries, []Step{sms}, 0, 60,
			[]Step{sms}},
		{"retries up to the most steps", campaign.Retries, []Step{rcs}, 3, 0,
			[]Step{rcs, rcs, rcs, rcs}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(tt.mode, tt.channels, tt.retries, tt.interval)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanRefuses(t *testing.T) {
	wa := Step{Channel: channel.WhatsApp, TimeoutSeconds: 300}
	tests := []struct {
		name     string
		mode     campaign.Mode
		channels []Step
		retries  int
		interval int
	}{
		{"no channels", campaign.Fallback, nil, 0, 0},
		{"more channels than steps", campaign.Fallback, []Step{wa, wa, wa, wa, wa}, 0, 0},
		{"unknown channel", campaign.Fallback, []Step{{Channel: "fax", TimeoutSeconds: 1}}, 0, 0},
		{"no timeout", campaign.Fallback, []Step{{Channel: channel.SMS}}, 0, 0},
		{"fallback with retries", campaign.Fallback, []Step{wa}, 1, 0},
		{"retries on two channels", campaign.Retries, []Step{wa, wa}, 1, 0},
		{"too many retries", campaign.Retries, []Step{wa}, 4, 0},
		{"negative retries", campaign.Retries, []Step{wa}, -1, 0},
		{"negative interval", campaign.Retries, []Step{wa}, 1, -5},
		{"unknown mode", "both", []Step{wa}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Plan(tt.mode, tt.channels, tt.retries, tt.interval)
			if !errors.Is(err, ErrPlan) {
				t.Errorf("Plan error = %v, want ErrPlan", err)
			}
		})
	}
}

// TestInputJSON checks the wire shape of an execution input: a zero
// delay is written, because the definition compares it.
func TestInputJSON(t *testing.T) {
	in := Input{Tenant: "t1", Campaign: "c1", Recipient: "+919900000001",
		Mode:  campaign.Fallback,
		Steps: []Step{{Channel: channel.WhatsApp, TimeoutSeconds: 300}}}
	got, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	want := `{"tenant":"t1","campaign":"c1","recipient":"+919900000001",` +
		`"mode":"fallback","steps":[{"channel":"whatsapp","timeoutSeconds":300,` +
		`"delaySeconds":0}]}`
	if string(got) != want {
		t.Errorf("input JSON:\ngot  %s\nwant %s", got, want)
	}
}
