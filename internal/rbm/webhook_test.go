package rbm_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/rbm"
	"github.com/cascade-oss/cascade/internal/status"
)

const clientToken = "SJENCPGJESMGUFPY"

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// push wraps decoded event data in a Pub/Sub envelope.
func push(data string) []byte {
	b, _ := json.Marshal(map[string]any{"message": map[string]any{
		"data":        base64.StdEncoding.EncodeToString([]byte(data)),
		"messageId":   "1",
		"publishTime": "2026-01-01T10:00:09Z",
	}})
	return b
}

func TestParseWebhookEvents(t *testing.T) {
	at := func(s string) time.Time {
		v, _ := time.Parse(time.RFC3339, s)
		return v
	}
	tests := []struct {
		name string
		body []byte
		want []status.Event
	}{
		{"delivered from the reference", readFile(t, "delivered.json"), []status.Event{{
			AttemptID:  "3f2a7c1e-0000-4000-8000-000000000001",
			ProviderID: "3f2a7c1e-0000-4000-8000-000000000001",
			Recipient:  "+919900000001", Status: status.Delivered, At: at("2026-01-01T10:00:00Z"),
		}}},
		{"expired falls back now", readFile(t, "expired.json"), []status.Event{{
			AttemptID:  "3f2a7c1e-0000-4000-8000-000000000002",
			ProviderID: "3f2a7c1e-0000-4000-8000-000000000002",
			Recipient:  "+919900000002", Status: status.Failed, At: at("2026-01-01T10:05:00Z"),
			Code: "TTL_EXPIRATION_REVOKED", Class: failure.FallbackNow, Reason: failure.RBMExpired.Reason,
		}}},
		{"read without sendTime takes publishTime", push(
			`{"senderPhoneNumber":"+919900000005","eventType":"READ","eventId":"Mx5","messageId":"m5"}`),
			[]status.Event{{AttemptID: "m5", ProviderID: "m5", Recipient: "+919900000005",
				Status: status.Read, At: at("2026-01-01T10:00:09Z")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := rbm.ParseWebhook(tt.body, clientToken)
			if err != nil {
				t.Fatalf("ParseWebhook() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, w.Events); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
			if len(w.Notices) != 0 || w.Secret != "" {
				t.Errorf("notices %v, secret %q; want none", w.Notices, w.Secret)
			}
		})
	}
}

func TestParseWebhookNotices(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want rbm.Notice
	}{
		{"unsubscribe is an opt-out", readFile(t, "unsubscribe.json"), rbm.Notice{
			Type: "UNSUBSCRIBE", EventID: "MxTEST0003", Phone: "+919900000003",
			At: time.Date(2026, 1, 1, 10, 6, 0, 0, time.UTC), OptOut: true,
			Reason: "user unsubscribed from promotional messages"}},
		{"STOP message is an opt-out", readFile(t, "stop.json"), rbm.Notice{
			Type: "MESSAGE", MessageID: "MsTEST0004", Phone: "+919900000004",
			At: time.Date(2026, 1, 1, 10, 7, 0, 0, time.UTC), OptOut: true, Reason: "user message"}},
		{"revoke failed waits for delivery", push(`{"phoneNumber":"+919900000006","eventType":` +
			`"TTL_EXPIRATION_REVOKE_FAILED","eventId":"Mx6","messageId":"m6",` +
			`"sendTime":"2026-01-01T10:00:00Z"}`),
			rbm.Notice{Type: "TTL_EXPIRATION_REVOKE_FAILED", EventID: "Mx6", MessageID: "m6",
				Phone: "+919900000006", At: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC),
				Reason: "expiry revoke failed; the message was or will be delivered"}},
		{"typing is activity", push(`{"senderPhoneNumber":"+919900000007",` +
			`"eventType":"IS_TYPING","eventId":"Mx7"}`),
			rbm.Notice{Type: "IS_TYPING", EventID: "Mx7", Phone: "+919900000007",
				At: time.Date(2026, 1, 1, 10, 0, 9, 0, time.UTC), Reason: "user activity"}},
		{"suggestion tap", push(`{"senderPhoneNumber":"+919900000008","messageId":"Ms8",` +
			`"suggestionResponse":{"postbackData":"track","text":"Track"}}`),
			rbm.Notice{Type: "SUGGESTION_RESPONSE", MessageID: "Ms8", Phone: "+919900000008",
				At: time.Date(2026, 1, 1, 10, 0, 9, 0, time.UTC), Reason: "user tapped a suggestion"}},
		{"unknown event type", push(`{"senderPhoneNumber":"+919900000009","eventType":"SOMETHING_NEW"}`),
			rbm.Notice{Type: "SOMETHING_NEW", Phone: "+919900000009",
				At: time.Date(2026, 1, 1, 10, 0, 9, 0, time.UTC), Reason: "unknown event type"}},
		{"delivered without message id",
			push(`{"senderPhoneNumber":"+919900000010","eventType":"DELIVERED"}`),
			rbm.Notice{Type: "DELIVERED", Phone: "+919900000010",
				At: time.Date(2026, 1, 1, 10, 0, 9, 0, time.UTC), Reason: "status without message id or time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := rbm.ParseWebhook(tt.body, clientToken)
			if err != nil {
				t.Fatalf("ParseWebhook() error = %v", err)
			}
			if diff := cmp.Diff([]rbm.Notice{tt.want}, w.Notices); diff != "" {
				t.Errorf("notices mismatch (-want +got):\n%s", diff)
			}
			if len(w.Events) != 0 {
				t.Errorf("events = %v, want none", w.Events)
			}
		})
	}
}

func TestParseWebhookHandshake(t *testing.T) {
	hs := string(readFile(t, "handshake.json"))
	tests := []struct {
		name       string
		body       string
		token      string
		wantSecret string
		wantErr    error
	}{
		{"matching token gets the secret", hs, clientToken, "1234567890", nil},
		{"other token", hs, "OTHERTOKEN000000", "", rbm.ErrBadClientToken},
		{"no token configured", hs, "", "", rbm.ErrNoClientToken},
		{"empty secret", `{"clientToken":"SJENCPGJESMGUFPY","secret":""}`, clientToken, "",
			rbm.ErrNoMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := rbm.ParseWebhook([]byte(tt.body), tt.token)
			if w.Secret != tt.wantSecret || !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseWebhook() = %q, %v; want %q, %v", w.Secret, err, tt.wantSecret, tt.wantErr)
			}
		})
	}
}

func TestParseWebhookRefuses(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want error // nil: any error
	}{
		{"malformed JSON", []byte(`{"message":`), nil},
		{"no message", []byte(`{"subscription":"x"}`), rbm.ErrNoMessage},
		{"empty data", []byte(`{"message":{"data":""}}`), rbm.ErrNoMessage},
		{"data not base64", []byte(`{"message":{"data":"!!!"}}`), nil},
		{"data not JSON", push(`not json`), nil},
		{"data not an object", push(`[1]`), nil},
		{"over the limit", bytes.Repeat([]byte(" "), rbm.MaxBody+1), rbm.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rbm.ParseWebhook(tt.body, clientToken)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ParseWebhook() error = %v, want %v", err, tt.want)
			}
		})
	}
}
