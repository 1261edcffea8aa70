package whatsapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/failure/failuretest"
	"github.com/cascade-oss/cascade/internal/phone"
	"github.com/cascade-oss/cascade/internal/providersim"
	"github.com/cascade-oss/cascade/internal/whatsapp"
)

const (
	testToken = "EAAG-FAKE-TOKEN"
	testPNID  = "200000000000001"
)

// startFake serves a WhatsApp fake with cfg's script on 127.0.0.1.
func startFake(t *testing.T, wc providersim.WhatsAppConfig) (
	*providersim.WhatsApp, *httptest.Server) {
	t.Helper()
	wc.Token, wc.PhoneNumberID, wc.AppSecret = testToken, testPNID, testSecret
	wc.WABAID = "100000000000001"
	f, err := providersim.NewWhatsApp(wc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(func() { f.Close(); srv.Close() })
	return f, srv
}

func message(to string) whatsapp.Message {
	return whatsapp.Message{
		To: phone.Number(to), Template: "order_shipped", Language: "en",
		Params: []string{"Asha", "ORD-1042"}, CallbackData: "att-" + to[len(to)-4:],
	}
}

// TestSendClasses sends to scripted numbers and checks each answer's
// class and code, over real HTTP to the fake.
func TestSendClasses(t *testing.T) {
	script := map[string]providersim.Outcome{
		"+919900000001": providersim.Delivered,
		"+919900000002": providersim.NotOnWhatsApp,
		"+919900000003": providersim.Throughput,
		"+919900000004": providersim.TemplatePaused,
		"+919900000005": providersim.SyncError("131056"),
		"+919900000006": providersim.SyncError("131021"),
		"+919900000007": providersim.SyncError("131050"),
	}
	f, srv := startFake(t, providersim.WhatsAppConfig{
		Config: providersim.Config{Script: providersim.Script{Numbers: script}},
	})
	c := whatsapp.New(srv.Client(), srv.URL, "v25.0", testPNID, testToken)

	tests := []struct {
		name      string
		to        string
		wantClass failure.Class // "" means accepted
		wantCode  string
	}{
		{"delivered number is accepted", "+919900000001", "", ""},
		{"not on whatsapp is accepted then fails by webhook", "+919900000002", "", ""},
		{"throughput limit retries", "+919900000003", failure.Retry, "130429"},
		{"template paused is a config error", "+919900000004", failure.ConfigError, "132015"},
		{"pair rate limit retries", "+919900000005", failure.Retry, "131056"},
		{"sender is recipient is final", "+919900000006", failure.Final, "131021"},
		{"marketing opt-out falls back", "+919900000007", failure.FallbackNow, "131050"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wamid, err := c.Send(context.Background(), message(tt.to))
			failuretest.CheckRefusal(t, err, whatsapp.Provider, tt.wantClass, tt.wantCode)
			if tt.wantClass == "" && !strings.HasPrefix(wamid, "wamid.") {
				t.Errorf("Send() wamid = %q, want a wamid", wamid)
			}
			if got := f.Sends(tt.to); got != 1 {
				t.Errorf("fake got %d sends to %s, want 1", got, tt.to)
			}
		})
	}
}

func TestThroughputClearsAfterFirstSends(t *testing.T) {
	to := "+919900000011"
	f, srv := startFake(t, providersim.WhatsAppConfig{
		Config: providersim.Config{Script: providersim.Script{
			Numbers: map[string]providersim.Outcome{to: providersim.Throughput}}},
		ThroughputFailures: 2,
	})
	c := whatsapp.New(srv.Client(), srv.URL, "v25.0", testPNID, testToken)
	var classes []failure.Class
	for range 3 {
		_, err := c.Send(context.Background(), message(to))
		var fe *failure.Error
		if errors.As(err, &fe) {
			classes = append(classes, fe.Class)
		} else if err != nil {
			t.Fatal(err)
		} else {
			classes = append(classes, "accepted")
		}
	}
	want := []failure.Class{failure.Retry, failure.Retry, "accepted"}
	if diff := cmp.Diff(want, classes); diff != "" {
		t.Errorf("answers mismatch (-want +got):\n%s", diff)
	}
	if got := f.Sends(to); got != 3 {
		t.Errorf("fake got %d sends, want 3", got)
	}
}

// TestSendConfigRefusals covers the fake's auth and validation checks.
func TestSendConfigRefusals(t *testing.T) {
	_, srv := startFake(t, providersim.WhatsAppConfig{
		Templates: map[string]int{"order_shipped": 2},
	})
	tests := []struct {
		name     string
		token    string
		pnid     string
		msg      whatsapp.Message
		wantCode string
	}{
		{"expired token", "EAAG-OTHER", testPNID, message("+919900000001"), "190"},
		{"unknown phone number id", testToken, "200000000000009", message("+919900000001"), "100"},
		{"unknown template", testToken, testPNID,
			whatsapp.Message{To: "+919900000001", Template: "nope", Language: "en"}, "132001"},
		{"wrong parameter count", testToken, testPNID,
			whatsapp.Message{To: "+919900000001", Template: "order_shipped", Language: "en",
				Params: []string{"Asha"}}, "132000"},
		{"missing language", testToken, testPNID,
			whatsapp.Message{To: "+919900000001", Template: "order_shipped"}, "131008"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := whatsapp.New(srv.Client(), srv.URL, "v25.0", tt.pnid, tt.token)
			_, err := c.Send(context.Background(), tt.msg)
			failuretest.CheckRefusal(t, err, whatsapp.Provider, failure.ConfigError, tt.wantCode)
		})
	}
}

// TestSendTransportErrors checks answers without a Graph envelope are
// plain errors, which callers retry.
func TestSendTransportErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wantIs  error
	}{
		{"bare 502", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		}, nil},
		{"html 500", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "<html>oops</html>")
		}, nil},
		{"200 without a message id", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"messaging_product":"whatsapp","messages":[]}`)
		}, whatsapp.ErrNoMessageID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := whatsapp.New(srv.Client(), srv.URL, "v25.0", testPNID, testToken)
			_, err := c.Send(context.Background(), message("+919900000001"))
			var fe *failure.Error
			if err == nil || errors.As(err, &fe) {
				t.Fatalf("Send() error = %v, want a plain error", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Send() error = %v, want %v", err, tt.wantIs)
			}
		})
	}

	t.Run("server gone", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c := whatsapp.New(srv.Client(), srv.URL, "v25.0", testPNID, testToken)
		if _, err := c.Send(context.Background(), message("+919900000001")); err == nil {
			t.Error("Send() error = nil, want a transport error")
		}
	})
}

// TestSendRequest checks the exact request the adapter makes.
func TestSendRequest(t *testing.T) {
	var got struct {
		path, auth, contentType string
		body                    map[string]any
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path, got.auth = r.URL.Path, r.Header.Get("Authorization")
		got.contentType = r.Header.Get("Content-Type")
		_ = json.NewDecoder(r.Body).Decode(&got.body)
		io.WriteString(w, `{"messages":[{"id":"wamid.X","message_status":"accepted"}]}`)
	}))
	defer srv.Close()

	c := whatsapp.New(srv.Client(), srv.URL+"/", "v25.0", testPNID, testToken)
	if _, err := c.Send(context.Background(), message("+919900000001")); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual",
		"to": "+919900000001", "type": "template",
		"biz_opaque_callback_data": "att-0001",
		"template": map[string]any{
			"name":     "order_shipped",
			"language": map[string]any{"code": "en", "policy": "deterministic"},
			"components": []any{map[string]any{"type": "body", "parameters": []any{
				map[string]any{"type": "text", "text": "Asha"},
				map[string]any{"type": "text", "text": "ORD-1042"},
			}}},
		},
	}
	if diff := cmp.Diff(want, got.body); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	if got.path != "/v25.0/"+testPNID+"/messages" || got.auth != "Bearer "+testToken ||
		got.contentType != "application/json" {
		t.Errorf("path, auth, type = %q, %q, %q", got.path, got.auth, got.contentType)
	}
}
