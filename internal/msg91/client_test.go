package msg91_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/failure/failuretest"
	"github.com/cascade-oss/cascade/internal/msg91"
	"github.com/cascade-oss/cascade/internal/phone"
	"github.com/cascade-oss/cascade/internal/providersim"
	"github.com/cascade-oss/cascade/internal/status"
)

const (
	authKey  = "999999AFAKEKEY00000000P1"
	template = "65e0000000000000000000a1"
	token    = "tok-FAKE-0001"
)

var vars = map[string]string{"name": "Asha", "order": "ORD-1042"}

// startFake serves an MSG91 fake on 127.0.0.1.
func startFake(t *testing.T, mc providersim.MSG91Config) (*providersim.MSG91, *httptest.Server) {
	t.Helper()
	mc.AuthKey = authKey
	mc.Templates = map[string]bool{template: true}
	f, err := providersim.NewMSG91(mc)
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
		"+919900000002": providersim.SyncError("418"),
		"+919900000003": providersim.SyncError("301"),
		"+919900000004": providersim.SyncError("500"),
		"+919900000005": providersim.SyncError("311"),
	}
	f, srv := startFake(t, providersim.MSG91Config{
		Config: providersim.Config{Script: providersim.Script{Numbers: script}}})
	c := msg91.New(srv.Client(), srv.URL, authKey)
	tests := []struct {
		name      string
		to        string
		wantClass failure.Class
		wantCode  string
	}{
		{"accepted with a request id", "+919900000001", "", ""},
		{"IP not allow-listed", "+919900000002", failure.ConfigError, "418"},
		{"balance exhausted", "+919900000003", failure.ConfigError, "301"},
		{"server error retries", "+919900000004", failure.Retry, "500"},
		{"duplicate within 10 s retries", "+919900000005", failure.Retry, "311"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := c.Send(context.Background(), template, phone.Number(tt.to), vars)
			failuretest.CheckRefusal(t, err, msg91.Provider, tt.wantClass, tt.wantCode)
			if tt.wantClass == "" && !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) {
				t.Errorf("request id = %q, want 24 hex digits", id)
			}
			if got := f.Sends(tt.to); got != 1 {
				t.Errorf("fake got %d sends to %s, want 1", got, tt.to)
			}
		})
	}
}

func TestSendConfigRefusals(t *testing.T) {
	_, srv := startFake(t, providersim.MSG91Config{})
	tests := []struct {
		name     string
		key      string
		template string
		wantCode string
	}{
		{"wrong auth key", "999999AOTHERKEY0000000P1", template, "401"},
		{"unknown template", authKey, "65e0000000000000000000ff", "400"},
		{"no template", authKey, "", "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := msg91.New(srv.Client(), srv.URL, tt.key)
			_, err := c.Send(context.Background(), tt.template, "+919900000001", vars)
			failuretest.CheckRefusal(t, err, msg91.Provider, failure.ConfigError, tt.wantCode)
		})
	}

	c := msg91.New(srv.Client(), srv.URL, authKey)
	_, err := c.Send(context.Background(), template, "+919900000001",
		map[string]string{"mobiles": "1"})
	if !errors.Is(err, msg91.ErrReservedVar) {
		t.Errorf("Send(var named mobiles) = %v, want ErrReservedVar", err)
	}
}

func TestSendTransportErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"bare 502", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		}},
		{"success without an id", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"type":"success","message":""}`)
		}},
		{"200 with HTML", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := msg91.New(srv.Client(), srv.URL, authKey)
			_, err := c.Send(context.Background(), template, "+919900000001", vars)
			var fe *failure.Error
			if err == nil || errors.As(err, &fe) {
				t.Errorf("Send() error = %v, want a plain error", err)
			}
		})
	}
}

func TestSendRequest(t *testing.T) {
	var gotPath, gotKey string
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotKey = r.URL.Path, r.Header.Get("authkey")
		_ = json.NewDecoder(r.Body).Decode(&got)
		io.WriteString(w, `{"type":"success","message":"5e1e93cad6fc054d8e759a5b"}`)
	}))
	defer srv.Close()
	c := msg91.New(srv.Client(), srv.URL, authKey)
	id, err := c.Send(context.Background(), template, "+919900000001", vars)
	if err != nil || id != "5e1e93cad6fc054d8e759a5b" {
		t.Fatalf("Send() = %q, %v", id, err)
	}
	want := map[string]any{"template_id": template, "short_url": "0", "recipients": []any{
		map[string]any{"mobiles": "919900000001", "name": "Asha", "order": "ORD-1042"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	if gotPath != "/api/v5/flow" || gotKey != authKey {
		t.Errorf("path, authkey = %q, %q", gotPath, gotKey)
	}
}

// receiver is a report endpoint: the secret token in the URL, then
// the adapter's parser.
type receiver struct {
	mu       sync.Mutex
	events   []status.Event
	rejected int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !msg91.TokenMatches(r.URL.Query().Get("token"), token) {
		rc.rejected++
		http.Error(w, "unknown token", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, msg91.MaxBody))
	if err != nil {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	evs, err := msg91.ParseReport(r.Header.Get("Content-Type"), body)
	if err != nil {
		http.Error(w, "bad report", http.StatusBadRequest)
		return
	}
	rc.events = append(rc.events, evs...)
}

func TestFakeReportsReachTheParser(t *testing.T) {
	script := map[string]providersim.Outcome{
		"+919900000001": providersim.Delivered,
		"+919900000002": providersim.NDNC,
		"+919900000003": providersim.SMSFailed,
		"+919900000004": providersim.Rejected,
		"+919900000005": providersim.Silent,
		"+919900000006": providersim.Late,
	}
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	f, srv := startFake(t, providersim.MSG91Config{Config: providersim.Config{
		Script: providersim.Script{Numbers: script}, WebhookURL: hook.URL + "/?token=" + token,
		Batch: 10, BatchWindow: 20 * time.Millisecond, Duplicate: true,
		LateDelay: 30 * time.Millisecond,
	}})
	c := msg91.New(srv.Client(), srv.URL, authKey)
	ids := map[string]string{}
	for to := range script {
		id, err := c.Send(context.Background(), template, phone.Number(to), vars)
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = to
	}
	f.Wait()

	got := map[string][]string{}
	for _, e := range rc.events {
		got[ids[e.ProviderID]] = append(got[ids[e.ProviderID]], string(e.Status)+" "+e.Code)
	}
	want := map[string][]string{
		"+919900000001": {"delivered ", "delivered "},
		"+919900000002": {"failed 9", "failed 9"},
		"+919900000003": {"failed 2", "failed 2"},
		"+919900000004": {"failed 16", "failed 16"},
		"+919900000006": {"delivered ", "delivered "},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reports per number mismatch (-want +got):\n%s", diff)
	}
	if n := len(f.Posts()); n >= 10 || rc.rejected != 0 {
		t.Errorf("fake made %d posts (rejected %d) for 10 reports, want them batched", n, rc.rejected)
	}
}
