package whatsapp_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/status"
	"github.com/cascade-oss/cascade/internal/whatsapp"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// summary is what a test compares of a Batch: the events, and the
// reasons things were parked.
type summary struct {
	Events  []status.Event
	Reasons []string
}

func summarize(b whatsapp.Batch) summary {
	s := summary{Events: b.Events}
	for _, p := range b.Parked {
		s.Reasons = append(s.Reasons, p.Reason)
	}
	return s
}

func TestParseWebhook(t *testing.T) {
	tests := []struct {
		name string
		file string
		want summary
	}{
		{
			name: "reference vector",
			file: "vector.json",
			want: summary{Events: []status.Event{{
				ProviderID: "wamid.TEST0001", Recipient: "919900000001",
				Status: status.Delivered, At: time.Unix(1767225600, 0).UTC(),
			}}},
		},
		{
			name: "delivered with pricing and a failed status in one post",
			file: "two_statuses.json",
			want: summary{Events: []status.Event{{
				AttemptID: "att-0001", ProviderID: "wamid.FAKE0000000000000001",
				Recipient: "919900000001", Status: status.Delivered,
				At:      time.Unix(1767225600, 0).UTC(),
				Pricing: &status.Pricing{Billable: true, Model: "PMP", Category: "utility", Type: "regular"},
			}, {
				AttemptID: "att-0002", ProviderID: "wamid.FAKE0000000000000002",
				Recipient: "919900000002", Status: status.Failed,
				At:   time.Unix(1767225601, 0).UTC(),
				Code: "131026", Class: failure.FallbackNow,
				Reason: failure.WhatsApp(131026).Reason,
			}}},
		},
		{
			name: "inbound message, odd statuses and template update are parked",
			file: "mixed.json",
			want: summary{
				Events: []status.Event{{
					AttemptID: "att-0003", ProviderID: "wamid.FAKE0003",
					Recipient: "919900000003", Status: status.Read,
					At: time.Unix(1767225603, 0).UTC(),
				}},
				Reasons: []string{
					"inbound messages",
					`unknown status "played"`,
					"unreadable timestamp",
					`change field "message_template_status_update"`,
				},
			},
		},
		{
			name: "another object type is parked whole",
			file: "page_object.json",
			want: summary{Reasons: []string{`object "page"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := whatsapp.ParseWebhook(readFile(t, tt.file))
			if err != nil {
				t.Fatalf("ParseWebhook() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(b)); diff != "" {
				t.Errorf("ParseWebhook() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParkedKeepsRawJSON checks parked parts are the exact JSON that
// came in, so nothing Meta said is lost.
func TestParkedKeepsRawJSON(t *testing.T) {
	body := readFile(t, "mixed.json")
	b, err := whatsapp.ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range b.Parked {
		if len(p.Raw) == 0 || !bytes.Contains(body, p.Raw) {
			t.Errorf("parked %q: raw %s is not a part of the body", p.Reason, p.Raw)
		}
	}
	if got := string(b.Parked[1].Raw); !strings.Contains(got, `"played"`) {
		t.Errorf("parked played status = %s, want the played status object", got)
	}
}

func TestParseWebhookFailedWithoutCode(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",` +
		`"value":{"statuses":[{"id":"wamid.X","status":"failed","timestamp":"1767225600",` +
		`"recipient_id":"919900000001","errors":[{"code":"131049"}]},` +
		`{"id":"wamid.Y","status":"failed","timestamp":"1767225600",` +
		`"recipient_id":"919900000002"}]}}]}]}`)
	b, err := whatsapp.ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []status.Event{{
		ProviderID: "wamid.X", Recipient: "919900000001", Status: status.Failed,
		At: time.Unix(1767225600, 0).UTC(), Code: "131049",
		Class: failure.FallbackNow, Reason: failure.WhatsApp(131049).Reason,
	}, {
		ProviderID: "wamid.Y", Recipient: "919900000002", Status: status.Failed,
		At: time.Unix(1767225600, 0).UTC(), Class: failure.FallbackNow,
		Reason: "failed without an error code",
	}}
	if diff := cmp.Diff(want, b.Events); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

func TestParseWebhookRefuses(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want error // nil: any error
	}{
		{"malformed JSON", []byte(`{"object":"whatsapp_business_account","entry":[`), nil},
		{"not an object", []byte(`[1,2,3]`), nil},
		{"entry of the wrong type", []byte(`{"object":"whatsapp_business_account","entry":{}}`), nil},
		{"empty body", nil, nil},
		{"over 3 MB", bytes.Repeat([]byte(" "), whatsapp.MaxBody+1), whatsapp.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := whatsapp.ParseWebhook(tt.body)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ParseWebhook() error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestFastPathDeclines checks the hand-written walker refuses what is
// not valid JSON, or not its shape, and leaves it to encoding/json.
func TestFastPathDeclines(t *testing.T) {
	const head = `{"object":"whatsapp_business_account","entry":[{"changes":[` +
		`{"field":"messages","value":{"statuses":[`
	const tail = `]}}]}]}`
	const st = `{"id":"w1","status":"sent","timestamp":"1767225600"}`
	tests := []struct {
		name      string
		body      string
		wantError bool
	}{
		{"missing comma", head + st + st + tail, true},
		{"trailing comma", head + st + "," + tail, true},
		{"control character in a string",
			head + `{"id":"w` + "\x01" + `","status":"sent","timestamp":"1"}` + tail, true},
		{"bad escape", head + `{"id":"w\x","status":"sent","timestamp":"1"}` + tail, true},
		{"trailing garbage", head + st + tail + "x", true},
		{"bad literal", head + `{"id":"w1","status":"sent","timestamp":"1","x":truex}` + tail, true},
		{"bad number", head + `{"id":"w1","status":"sent","timestamp":"1","x":01}` + tail, true},
		{"unterminated", head + `{"id":"w1`, true},
		{"key differing in case", head + `{"ID":"w1","status":"sent","timestamp":"1"}` + tail, false},
		{"repeated key", head + `{"id":"w1","id":"w2","status":"sent","timestamp":"1"}` + tail, false},
		{"null field is parked", head + `{"id":null,"status":"sent","timestamp":"1"}` + tail, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := whatsapp.ParseFast([]byte(tt.body)); ok {
				t.Errorf("fast path accepted %s", tt.body)
			}
			_, err := whatsapp.ParseWebhook([]byte(tt.body))
			if (err != nil) != tt.wantError {
				t.Errorf("ParseWebhook() error = %v, want error %v", err, tt.wantError)
			}
		})
	}
}
