package whatsapp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/providersim"
	"github.com/cascade-oss/cascade/internal/status"
	"github.com/cascade-oss/cascade/internal/whatsapp"
)

// receiver is a webhook endpoint built on the adapter's own checks.
type receiver struct {
	secret string

	mu       sync.Mutex
	events   []status.Event
	rejected int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		challenge, err := whatsapp.Handshake(r.URL.Query(), "vt-fake")
		if err != nil {
			http.Error(w, "refused", http.StatusForbidden)
			return
		}
		io.WriteString(w, challenge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, whatsapp.MaxBody))
	if err != nil {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	err = whatsapp.VerifySignature([]byte(rc.secret), body, r.Header.Get(whatsapp.SignatureHeader))
	if err != nil {
		rc.mu.Lock()
		rc.rejected++
		rc.mu.Unlock()
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	b, err := whatsapp.ParseWebhook(body)
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.events = append(rc.events, b.Events...)
	rc.mu.Unlock()
}

// byAttempt lists each attempt's statuses in arrival order.
func (rc *receiver) byAttempt() map[string][]status.Status {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string][]status.Status{}
	for _, e := range rc.events {
		out[e.AttemptID] = append(out[e.AttemptID], e.Status)
	}
	return out
}

// startPair starts a receiver and a fake that posts to it, and returns
// a client for the fake.
func startPair(t *testing.T, cfg providersim.Config, secret string) (
	*providersim.WhatsApp, *receiver, *whatsapp.Client) {
	t.Helper()
	rc := &receiver{secret: secret}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	cfg.WebhookURL = hook.URL
	f, srv := startFake(t, providersim.WhatsAppConfig{Config: cfg})
	return f, rc, whatsapp.New(srv.Client(), srv.URL, "v25.0", testPNID, testToken)
}

// TestFakeWebhooksPassVerification plays every webhook outcome and
// checks what the adapter's own verification and parser make of it.
func TestFakeWebhooksPassVerification(t *testing.T) {
	script := map[string]providersim.Outcome{
		"+919900000001": providersim.Read,
		"+919900000002": providersim.Delivered,
		"+919900000003": providersim.NotOnWhatsApp,
		"+919900000004": providersim.MarketingLimit,
		"+919900000005": providersim.Silent,
		"+919900000006": providersim.Late,
	}
	f, rc, c := startPair(t, providersim.Config{
		Script: providersim.Script{Numbers: script}, LateDelay: 30 * time.Millisecond,
	}, testSecret)

	wamids := map[string]string{}
	for to := range script {
		m := message(to)
		m.CallbackData += " café/🚀" // survives Meta-style escaping
		id, err := c.Send(context.Background(), m)
		if err != nil {
			t.Fatalf("Send(%s) error = %v", to, err)
		}
		wamids[m.CallbackData] = id
	}
	f.Wait()

	sdf := []status.Status{status.Sent, status.Delivered}
	want := map[string][]status.Status{
		"att-0001 café/🚀": {status.Sent, status.Delivered, status.Read},
		"att-0002 café/🚀": sdf,
		"att-0003 café/🚀": {status.Failed},
		"att-0004 café/🚀": {status.Failed},
		"att-0006 café/🚀": sdf,
	}
	if diff := cmp.Diff(want, rc.byAttempt()); diff != "" {
		t.Errorf("statuses per attempt mismatch (-want +got):\n%s", diff)
	}
	checkEvents(t, rc, wamids)
	checkWire(t, f.Posts())
}

// checkEvents checks correlation and failure codes of every event.
func checkEvents(t *testing.T, rc *receiver, wamids map[string]string) {
	t.Helper()
	codes := map[string]string{"att-0003 café/🚀": "131026", "att-0004 café/🚀": "131049"}
	for _, e := range rc.events {
		if e.ProviderID != wamids[e.AttemptID] {
			t.Errorf("%s: ProviderID = %q, want the send's wamid %q",
				e.AttemptID, e.ProviderID, wamids[e.AttemptID])
		}
		if e.Status == status.Failed &&
			(e.Code != codes[e.AttemptID] || e.Class != failure.FallbackNow) {
			t.Errorf("%s: failure %s %s, want %s fallback-now",
				e.AttemptID, e.Code, e.Class, codes[e.AttemptID])
		}
	}
	if rc.rejected != 0 {
		t.Errorf("receiver rejected %d posts, want 0", rc.rejected)
	}
}

// checkWire checks the fake writes Meta's escaped form: ASCII only,
// with slashes escaped.
func checkWire(t *testing.T, posts []providersim.Post) {
	t.Helper()
	for _, p := range posts {
		for _, c := range p.Body {
			if c >= 0x80 {
				t.Fatalf("webhook body has a non-ASCII byte: %s", p.Body)
			}
		}
		if !bytes.Contains(p.Body, []byte(`\/`)) || !bytes.Contains(p.Body, []byte(`\ud83d\ude80`)) {
			t.Errorf("webhook body lacks \\/ or surrogate escapes: %s", p.Body)
		}
	}
}

func TestFakeWebhookKnobs(t *testing.T) {
	tests := []struct {
		name      string
		cfg       providersim.Config
		want      []status.Status
		wantPosts func(posts int) bool
	}{
		{
			name: "batched statuses share posts",
			cfg:  providersim.Config{Batch: 100, BatchWindow: 40 * time.Millisecond},
			want: []status.Status{status.Sent, status.Delivered, status.Read},
			// Six sends, eighteen statuses: far fewer posts.
			wantPosts: func(n int) bool { return n < 9 },
		},
		{
			name: "duplicates post every status twice",
			cfg:  providersim.Config{Duplicate: true},
			want: []status.Status{status.Sent, status.Sent,
				status.Delivered, status.Delivered, status.Read, status.Read},
			wantPosts: func(n int) bool { return n == 36 },
		},
		{
			name:      "read before delivered",
			cfg:       providersim.Config{Reorder: true},
			want:      []status.Status{status.Sent, status.Read, status.Delivered},
			wantPosts: func(n int) bool { return n == 18 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Script = providersim.Script{Mix: []providersim.Share{
				{Outcome: providersim.Read, Weight: 1}}}
			f, rc, c := startPair(t, tt.cfg, testSecret)
			for i := range 6 {
				to := "+91990000002" + string(rune('0'+i))
				if _, err := c.Send(context.Background(), message(to)); err != nil {
					t.Fatal(err)
				}
			}
			f.Wait()
			for id, got := range rc.byAttempt() {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s statuses mismatch (-want +got):\n%s", id, diff)
				}
			}
			if n := len(f.Posts()); !tt.wantPosts(n) {
				t.Errorf("fake made %d posts", n)
			}
		})
	}
}

// TestEarlyWebhook checks the first status reaches the receiver before
// Send returns.
func TestEarlyWebhook(t *testing.T) {
	f, rc, c := startPair(t, providersim.Config{Early: true, Delay: time.Hour}, testSecret)
	if _, err := c.Send(context.Background(), message("+919900000031")); err != nil {
		t.Fatal(err)
	}
	want := map[string][]status.Status{"att-0031": {status.Sent}}
	if diff := cmp.Diff(want, rc.byAttempt()); diff != "" {
		t.Errorf("statuses when Send returned (-want +got):\n%s", diff)
	}
	f.Close() // drops the delivered status due in an hour
}

// TestWrongSecretIsRejectedAndRetried checks a receiver with another
// secret refuses every post and the fake gives up after its tries.
func TestWrongSecretIsRejectedAndRetried(t *testing.T) {
	f, rc, c := startPair(t, providersim.Config{Tries: 3, RetryWait: time.Millisecond},
		"another_secret")
	if _, err := c.Send(context.Background(), message("+919900000041")); err != nil {
		t.Fatal(err)
	}
	f.Wait()
	if len(rc.events) != 0 || rc.rejected != 6 {
		t.Errorf("receiver took %d events and rejected %d posts, want 0 and 6",
			len(rc.events), rc.rejected)
	}
	for _, p := range f.Posts() {
		if p.Tries != 3 || p.Status != http.StatusForbidden {
			t.Errorf("post tried %d times, last status %d; want 3 and 403", p.Tries, p.Status)
		}
	}
}

func TestFakeSubscribe(t *testing.T) {
	rc := &receiver{secret: testSecret}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	f, err := providersim.NewWhatsApp(providersim.WhatsAppConfig{
		Config: providersim.Config{WebhookURL: hook.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Subscribe("vt-fake"); err != nil {
		t.Errorf("Subscribe(right token) = %v, want nil", err)
	}
	if err := f.Subscribe("vt-wrong"); err == nil {
		t.Error("Subscribe(wrong token) = nil, want an error")
	}
}

func TestFakeRefusesOutcomesItCannotPlay(t *testing.T) {
	_, err := providersim.NewWhatsApp(providersim.WhatsAppConfig{Config: providersim.Config{
		Script: providersim.Script{Mix: []providersim.Share{{Outcome: providersim.Expired, Weight: 1}}}}})
	if err == nil {
		t.Errorf("NewWhatsApp(expired outcome) error = %v, want one", err)
	}
}
