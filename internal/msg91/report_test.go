package msg91_test

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/msg91"
	"github.com/cascade-oss/cascade/internal/status"
)

const form = "application/x-www-form-urlencoded"

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ist reads a report date as MSG91 writes it, in India's time.
func ist(s string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02 15:04:05", s, time.FixedZone("IST", 19800))
	return t.UTC()
}

func failed(requestID, number, code, date string) status.Event {
	r := failure.MSG91Report(code)
	return status.Event{ProviderID: requestID, Recipient: number, Status: status.Failed,
		At: ist(date), Code: code, Class: r.Class, Reason: r.Reason}
}

var v2Events = []status.Event{
	{ProviderID: "3466FAKE0000000000000130", Recipient: "919900000001",
		Status: status.Delivered, At: ist("2026-01-01 10:06:20")},
	failed("3466FAKE0000000000000131", "919900000002", "9", "2026-01-01 10:06:21"),
	failed("3466FAKE0000000000000131", "919900000003", "26", "2026-01-01 10:06:22"),
}

func TestParseReport(t *testing.T) {
	v3 := failed("3466FAKE0000000000000132", "919900000004", "16", "2026-01-01 10:06:23")
	wrapped := []byte(`{"data":` + quote(string(readFile(t, "v2.json"))) + `}`)
	tests := []struct {
		name        string
		contentType string
		body        []byte
		want        []status.Event
	}{
		{"v2 form with a data field", form, readFile(t, "v2.form"), v2Events},
		{"v2 form with a charset", form + "; charset=UTF-8", readFile(t, "v2.form"), v2Events},
		{"v3 flat object", "application/json", readFile(t, "v3.json"), []status.Event{v3}},
		{"v3 array", "application/json", []byte("[" + string(readFile(t, "v3.json")) + "]"),
			[]status.Event{v3}},
		{"JSON-wrapped v2 as the help page shows", "application/json", wrapped, v2Events},
		{"numbers instead of strings", "application/json", []byte(`{"requestId":"r1",` +
			`"number":919900000005,"status":1,"date":"2026-01-01 10:00:00"}`),
			[]status.Event{{ProviderID: "r1", Recipient: "919900000005",
				Status: status.Delivered, At: ist("2026-01-01 10:00:00")}}},
		{"unreadable date leaves the time zero", "application/json",
			[]byte(`{"requestId":"r2","number":"919900000006","status":"17","date":"soon"}`),
			[]status.Event{{ProviderID: "r2", Recipient: "919900000006", Status: status.Failed,
				Code: "17", Class: failure.MSG91Report("17").Class, Reason: failure.MSG91Report("17").Reason}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := msg91.ParseReport(tt.contentType, tt.body)
			if err != nil {
				t.Fatalf("ParseReport() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseReport() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// quote returns s as a JSON string.
func quote(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestParseReportRefuses(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        []byte
		want        error // nil: any error
	}{
		{"v4 carries no request id", "application/json", readFile(t, "v4.json"), msg91.ErrUnsupported},
		{"form without data", form, []byte("other=1"), msg91.ErrNoData},
		{"form data not JSON", form, []byte("data=%5Bnot"), nil},
		{"bad form encoding", form, []byte("data=%zz"), nil},
		{"report without request id", "application/json",
			[]byte(`[{"report":[{"number":"919900000001","status":"1"}]}]`), msg91.ErrNoRequestID},
		{"flat report without request id", "application/json",
			[]byte(`{"number":"919900000001","status":"1"}`), msg91.ErrNoRequestID},
		{"malformed JSON", "application/json", []byte(`{"requestId":`), nil},
		{"object status", "application/json", []byte(`{"requestId":"r","status":{}}`), nil},
		{"XML", "application/xml", []byte(`<r/>`), msg91.ErrUnsupported},
		{"no content type", "", []byte(`{}`), msg91.ErrUnsupported},
		{"over the limit", "application/json", bytes.Repeat([]byte(" "), msg91.MaxBody+1),
			msg91.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := msg91.ParseReport(tt.contentType, tt.body)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ParseReport() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTokenMatches(t *testing.T) {
	tests := []struct {
		name      string
		got, want string
		match     bool
	}{
		{"same token", "tok-FAKE-0001", "tok-FAKE-0001", true},
		{"other token", "tok-FAKE-0002", "tok-FAKE-0001", false},
		{"prefix", "tok-FAKE", "tok-FAKE-0001", false},
		{"empty given", "", "tok-FAKE-0001", false},
		{"nothing configured", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := msg91.TokenMatches(tt.got, tt.want); got != tt.match {
				t.Errorf("TokenMatches(%q, %q) = %v, want %v", tt.got, tt.want, got, tt.match)
			}
		})
	}
}

// TestFormRoundTrip checks a report encoded as MSG91 posts it reads
// back, whatever characters the JSON holds.
func TestFormRoundTrip(t *testing.T) {
	js := `[{"requestId":"r&=+1","report":[{"number":"919900000001","status":"2",` +
		`"desc":"caf\u00e9"}]}]`
	body := []byte(url.Values{"data": {js}}.Encode())
	got, err := msg91.ParseReport(form, body)
	if err != nil || len(got) != 1 || got[0].ProviderID != "r&=+1" {
		t.Errorf("ParseReport() = %v, %v; want one event for r&=+1", got, err)
	}
}
