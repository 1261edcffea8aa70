package rbm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/failure/failuretest"
	"github.com/cascade-oss/cascade/internal/phone"
	"github.com/cascade-oss/cascade/internal/providersim"
	"github.com/cascade-oss/cascade/internal/rbm"
)

const (
	testToken = "ya29.FAKE"
	agentID   = "demo_agent"
)

// uuid returns a fake but well-formed message id ending in n.
func uuid(n int) string {
	return "3f2a7c1e-0000-4000-8000-" + strings.Repeat("0", 8) + string(rune('0'+n/10)) +
		string(rune('0'+n%10)) + "01"
}

var text = rbm.Message{Text: "Your order ORD-1042 has shipped.", TrafficType: "TRANSACTION"}

// startFake serves an RBM fake on 127.0.0.1.
func startFake(t *testing.T, rc providersim.RBMConfig) (*providersim.RBM, *httptest.Server) {
	t.Helper()
	rc.Token, rc.AgentID, rc.ClientToken = testToken, agentID, clientToken
	f, err := providersim.NewRBM(rc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(func() { f.Close(); srv.Close() })
	return f, srv
}

func TestSendClasses(t *testing.T) {
	script := map[string]providersim.Outcome{
		"+919900000001": providersim.Delivered,
		"+919900000002": providersim.NotRCSCapable,
		"+919900000003": providersim.SyncError("429"),
		"+919900000004": providersim.SyncError("503"),
		"+919900000005": providersim.SyncError("400"),
	}
	f, srv := startFake(t, providersim.RBMConfig{
		Config: providersim.Config{Script: providersim.Script{Numbers: script}}})
	c := rbm.New(srv.Client(), srv.URL, agentID, testToken)

	tests := []struct {
		name      string
		to        string
		wantClass failure.Class
		wantCode  string
	}{
		{"capable number is accepted", "+919900000001", "", ""},
		{"not RCS-capable falls back now", "+919900000002", failure.FallbackNow, "404"},
		{"throttled retries", "+919900000003", failure.Retry, "429"},
		{"unavailable retries", "+919900000004", failure.Retry, "503"},
		{"unsupported feature falls back", "+919900000005", failure.FallbackNow, "400"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Send(context.Background(), phone.Number(tt.to), uuid(i), text, time.Hour)
			failuretest.CheckRefusal(t, err, rbm.Provider, tt.wantClass, tt.wantCode)
			if got := f.Sends(tt.to); got != 1 {
				t.Errorf("fake got %d sends to %s, want 1", got, tt.to)
			}
		})
	}
}

func TestSendConfigRefusals(t *testing.T) {
	_, srv := startFake(t, providersim.RBMConfig{})
	long := rbm.Message{Text: "x", Suggestions: []campaign.Suggestion{
		{Text: "a suggestion far over the limit", PostbackData: "p"}}}
	tests := []struct {
		name      string
		token     string
		agent     string
		id        string
		msg       rbm.Message
		wantClass failure.Class
		wantCode  string
	}{
		{"expired token", "ya29.OTHER", agentID, uuid(1), text, failure.ConfigError, "401"},
		{"another agent", testToken, "other_agent", uuid(2), text, failure.ConfigError, "403"},
		{"message id not a UUID", testToken, agentID, "attempt-1", text,
			failure.ConfigError, "messageId"},
		{"suggestion over 25 characters", testToken, agentID, uuid(3), long, failure.FallbackNow, "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rbm.New(srv.Client(), srv.URL, tt.agent, tt.token)
			err := c.Send(context.Background(), "+919900000001", tt.id, tt.msg, 0)
			failuretest.CheckRefusal(t, err, rbm.Provider, tt.wantClass, tt.wantCode)
		})
	}

	c := rbm.New(srv.Client(), srv.URL, agentID, testToken)
	err := c.Send(context.Background(), "+919900000001", uuid(4), text, 16*24*time.Hour)
	if !errors.Is(err, rbm.ErrBadTTL) {
		t.Errorf("Send(ttl 16 days) = %v, want ErrBadTTL", err)
	}
}

// TestRepeatedMessageIDIsIgnored checks a resend with the same id is
// answered as a success and delivered once.
func TestRepeatedMessageIDIsIgnored(t *testing.T) {
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	f, srv := startFake(t, providersim.RBMConfig{Config: providersim.Config{WebhookURL: hook.URL}})
	c := rbm.New(srv.Client(), srv.URL, agentID, testToken)
	for range 3 {
		if err := c.Send(context.Background(), "+919900000001", uuid(7), text, 0); err != nil {
			t.Fatal(err)
		}
	}
	f.Wait()
	var repeats int
	for _, r := range f.Requests() {
		if r.Repeat {
			repeats++
		}
	}
	if repeats != 2 || len(rc.events) != 1 {
		t.Errorf("fake saw %d repeats and posted %d events, want 2 and 1", repeats, len(rc.events))
	}
}

func TestRevoke(t *testing.T) {
	script := map[string]providersim.Outcome{
		"+919900000001": providersim.Silent,
		"+919900000002": providersim.Delivered,
	}
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	f, srv := startFake(t, providersim.RBMConfig{Config: providersim.Config{
		Script: providersim.Script{Numbers: script}, WebhookURL: hook.URL}})
	c := rbm.New(srv.Client(), srv.URL, agentID, testToken)
	ctx := context.Background()
	for i, to := range []phone.Number{"+919900000001", "+919900000002"} {
		if err := c.Send(ctx, to, uuid(i), text, 0); err != nil {
			t.Fatal(err)
		}
	}
	f.Wait()

	tests := []struct {
		name string
		to   phone.Number
		id   string
		want bool
	}{
		{"undelivered message is revoked", "+919900000001", uuid(0), true},
		{"revoking again still answers revoked", "+919900000001", uuid(0), true},
		{"delivered message is not", "+919900000002", uuid(1), false},
		{"unknown message is not", "+919900000003", uuid(9), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Revoke(ctx, tt.to, tt.id)
			if got != tt.want || err != nil {
				t.Errorf("Revoke() = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}

	bad := rbm.New(srv.Client(), srv.URL, agentID, "ya29.OTHER")
	_, err := bad.Revoke(ctx, "+919900000001", uuid(0))
	failuretest.CheckRefusal(t, err, rbm.Provider, failure.ConfigError, "401")
}

// TestRevokeBeforeLateDelivery checks a revoke wins over a delivery
// still on its way: the fake drops it.
func TestRevokeBeforeLateDelivery(t *testing.T) {
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	f, srv := startFake(t, providersim.RBMConfig{Config: providersim.Config{
		Script:    providersim.Script{Mix: []providersim.Share{{Outcome: providersim.Late, Weight: 1}}},
		LateDelay: 50 * time.Millisecond, WebhookURL: hook.URL}})
	c := rbm.New(srv.Client(), srv.URL, agentID, testToken)
	ctx := context.Background()
	if err := c.Send(ctx, "+919900000001", uuid(1), text, 0); err != nil {
		t.Fatal(err)
	}
	if revoked, err := c.Revoke(ctx, "+919900000001", uuid(1)); !revoked || err != nil {
		t.Fatalf("Revoke() = %v, %v; want true, nil", revoked, err)
	}
	f.Wait()
	if len(rc.events) != 0 {
		t.Errorf("receiver got %v after the revoke, want nothing", rc.events)
	}
}

func TestSendTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c := rbm.New(srv.Client(), srv.URL, agentID, testToken)
	err := c.Send(context.Background(), "+919900000001", uuid(1), text, 0)
	var fe *failure.Error
	if err == nil || errors.As(err, &fe) {
		t.Errorf("Send() to a closed server = %v, want a plain error", err)
	}
	if _, err := c.Revoke(context.Background(), "+919900000001", uuid(1)); err == nil {
		t.Error("Revoke() to a closed server = nil, want an error")
	}
}

// TestSendRequest checks the exact request for a card with actions.
func TestSendRequest(t *testing.T) {
	var gotURL string
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotURL = r.URL.String()
		_ = json.NewDecoder(r.Body).Decode(&got)
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	m := rbm.Message{
		Card: &campaign.Card{Title: "Order shipped", Description: "ORD-1042 arrives Friday.",
			ImageURL: "https://cdn.example.invalid/ord-1042.png"},
		Suggestions: []campaign.Suggestion{
			{Text: "Track", PostbackData: "track", URL: "https://example.invalid/t/ORD-1042"},
			{Text: "Call us", PostbackData: "call", Dial: "+919900000099"},
			{Text: "Thanks", PostbackData: "thanks"},
		},
		TrafficType: "TRANSACTION",
	}
	c := rbm.New(srv.Client(), srv.URL, agentID, testToken)
	if err := c.Send(context.Background(), "+919900000001", uuid(1), m, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	wantURL := "/v1/phones/+919900000001/agentMessages?agentId=demo_agent&messageId=" + uuid(1)
	if gotURL != wantURL {
		t.Errorf("URL = %s, want %s", gotURL, wantURL)
	}
	want := map[string]any{
		"messageTrafficType": "TRANSACTION", "ttl": "90s",
		"contentMessage": map[string]any{"richCard": map[string]any{"standaloneCard": map[string]any{
			"cardOrientation": "VERTICAL",
			"cardContent": map[string]any{
				"title": "Order shipped", "description": "ORD-1042 arrives Friday.",
				"media": map[string]any{"height": "MEDIUM", "contentInfo": map[string]any{
					"fileUrl": "https://cdn.example.invalid/ord-1042.png"}},
				"suggestions": []any{
					map[string]any{"action": map[string]any{"text": "Track", "postbackData": "track",
						"openUrlAction": map[string]any{"url": "https://example.invalid/t/ORD-1042"}}},
					map[string]any{"action": map[string]any{"text": "Call us", "postbackData": "call",
						"dialAction": map[string]any{"phoneNumber": "+919900000099"}}},
					map[string]any{"reply": map[string]any{"text": "Thanks", "postbackData": "thanks"}},
				},
			},
		}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}
