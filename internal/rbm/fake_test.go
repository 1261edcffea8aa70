package rbm_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/phone"
	"github.com/cascade-oss/cascade/internal/providersim"
	"github.com/cascade-oss/cascade/internal/rbm"
	"github.com/cascade-oss/cascade/internal/status"
)

// receiver is an RBM webhook endpoint built on the adapter's checks.
type receiver struct {
	token string // "" means clientToken

	mu       sync.Mutex
	events   []status.Event
	notices  []rbm.Notice
	rejected int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := rc.token
	if token == "" {
		token = clientToken
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rbm.MaxBody))
	if err != nil {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	wh, err := rbm.ParseWebhook(body, token)
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if wh.Secret != "" {
		io.WriteString(w, wh.Secret)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := wh.Verify(token, r.Header.Get(rbm.SignatureHeader)); err != nil {
		rc.rejected++
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	rc.events = append(rc.events, wh.Events...)
	rc.notices = append(rc.notices, wh.Notices...)
}

// kinds lists what arrived per phone number: event statuses, and
// notice types in brackets.
func (rc *receiver) kinds() map[string][]string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string][]string{}
	for _, e := range rc.events {
		out[e.Recipient] = append(out[e.Recipient], string(e.Status))
	}
	for _, n := range rc.notices {
		out[n.Phone] = append(out[n.Phone], "["+n.Type+"]")
	}
	return out
}

func startPair(t *testing.T, cfg providersim.Config, token string) (
	*providersim.RBM, *receiver, *rbm.Client) {
	t.Helper()
	rc := &receiver{token: token}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	cfg.WebhookURL = hook.URL
	f, srv := startFake(t, providersim.RBMConfig{Config: cfg})
	return f, rc, rbm.New(srv.Client(), srv.URL, agentID, testToken)
}

func TestFakeWebhooksPassVerification(t *testing.T) {
	script := map[string]providersim.Outcome{
		"+919900000001": providersim.Read,
		"+919900000002": providersim.Delivered,
		"+919900000003": providersim.Expired,
		"+919900000004": providersim.RevokeFailed,
		"+919900000005": providersim.Unsubscribe,
		"+919900000006": providersim.Silent,
	}
	f, rc, c := startPair(t, providersim.Config{Script: providersim.Script{Numbers: script}}, "")
	if err := f.Handshake(); err != nil {
		t.Fatalf("Handshake() = %v", err)
	}
	i := 0
	for to := range script {
		i++
		if err := c.Send(context.Background(), phone.Number(to), uuid(i), text, 0); err != nil {
			t.Fatal(err)
		}
	}
	f.Wait()

	want := map[string][]string{
		"+919900000001": {"delivered", "read"},
		"+919900000002": {"delivered"},
		"+919900000003": {"failed"},
		"+919900000004": {"delivered", "[TTL_EXPIRATION_REVOKE_FAILED]"},
		"+919900000005": {"delivered", "[UNSUBSCRIBE]"},
	}
	if diff := cmp.Diff(want, rc.kinds()); diff != "" {
		t.Errorf("arrivals per number mismatch (-want +got):\n%s", diff)
	}
	if rc.rejected != 0 {
		t.Errorf("receiver rejected %d posts, want 0", rc.rejected)
	}
}

func TestFakeWebhookKnobs(t *testing.T) {
	tests := []struct {
		name string
		cfg  providersim.Config
		want []string
	}{
		{"read before delivered", providersim.Config{Reorder: true}, []string{"read", "delivered"}},
		{"duplicates", providersim.Config{Duplicate: true},
			[]string{"delivered", "delivered", "read", "read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Script = providersim.Script{Mix: []providersim.Share{
				{Outcome: providersim.Read, Weight: 1}}}
			f, rc, c := startPair(t, tt.cfg, "")
			if err := c.Send(context.Background(), "+919900000001", uuid(1), text, 0); err != nil {
				t.Fatal(err)
			}
			f.Wait()
			want := map[string][]string{"+919900000001": tt.want}
			if diff := cmp.Diff(want, rc.kinds()); diff != "" {
				t.Errorf("arrivals mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWrongClientTokenIsRejected(t *testing.T) {
	f, rc, c := startPair(t, providersim.Config{Tries: 2, RetryWait: 1}, "OTHERTOKEN000000")
	if err := f.Handshake(); err == nil {
		t.Error("Handshake() with another token = nil, want an error")
	}
	if err := c.Send(context.Background(), "+919900000001", uuid(1), text, 0); err != nil {
		t.Fatal(err)
	}
	f.Wait()
	if len(rc.events) != 0 || rc.rejected != 2 {
		t.Errorf("receiver took %d events, rejected %d posts; want 0 and 2", len(rc.events), rc.rejected)
	}
}
