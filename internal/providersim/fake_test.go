package providersim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cascade-oss/cascade/internal/providersim"
)

// counter is a webhook endpoint that counts posts and answers code.
type counter struct {
	code  int
	posts atomic.Int32
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.posts.Add(1)
	_, _ = io.Copy(io.Discard, r.Body)
	w.WriteHeader(c.code)
}

func call(t *testing.T, h http.Handler, method, target string, header map[string]string,
	body string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func TestWhatsAppFakeChecks(t *testing.T) {
	f, err := providersim.NewWhatsApp(providersim.WhatsAppConfig{Token: "tok", PhoneNumberID: "200"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	auth := map[string]string{"Authorization": "Bearer tok"}
	send := `{"messaging_product":"whatsapp","to":"+919900000001","type":"template",` +
		`"template":{"name":"t","language":{"code":"en"}}}`
	tests := []struct {
		name     string
		method   string
		path     string
		header   map[string]string
		body     string
		wantCode int
		wantBody string
	}{
		{"accepted", "POST", "/v25.0/200/messages", auth, send, 200, `"message_status":"accepted"`},
		{"any version", "POST", "/v19.0/200/messages", auth, send, 200, `"wa_id":"919900000001"`},
		{"no token", "POST", "/v25.0/200/messages", nil, send, 401, `"code":190`},
		{"unknown path", "POST", "/v25.0/200/media", auth, send, 404, `"code":100`},
		{"GET", "GET", "/v25.0/200/messages", auth, "", 405, `"code":100`},
		{"not JSON", "POST", "/v25.0/200/messages", auth, "{", 400, `"code":100`},
		{"wrong product", "POST", "/v25.0/200/messages", auth,
			strings.Replace(send, `"whatsapp"`, `"sms"`, 1), 400, `"code":100`},
		{"text type", "POST", "/v25.0/200/messages", auth,
			strings.Replace(send, `"template",`, `"text",`, 1), 400, `"code":131051`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, f, tt.method, tt.path, tt.header, tt.body)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("answer %d %s, want %d with %s", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestRBMFakeChecks(t *testing.T) {
	f, err := providersim.NewRBM(providersim.RBMConfig{Token: "tok", AgentID: "agent",
		Config: providersim.Config{Script: providersim.Script{Numbers: map[string]providersim.Outcome{
			"+919900000002": providersim.NotRCSCapable}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	auth := map[string]string{"Authorization": "Bearer tok"}
	id := "3f2a7c1e-0000-4000-8000-000000000001"
	msg := `{"contentMessage":{"text":"hi"}}`
	tests := []struct {
		name, method, target string
		body                 string
		wantCode             int
		wantBody             string
	}{
		{"send", "POST", "/v1/phones/+919900000001/agentMessages?agentId=agent&messageId=" + id, msg,
			200, `"name":"phones/+919900000001/agentMessages/` + id},
		{"send with encoded plus", "POST",
			"/v1/phones/%2B919900000001/agentMessages?agentId=agent&messageId=" + id, msg,
			200, `"sendTime"`},
		{"capable", "GET", "/v1/phones/+919900000001/capabilities?agentId=agent&requestId=" + id, "",
			200, "RICHCARD_STANDALONE"},
		{"not capable", "GET", "/v1/phones/+919900000002/capabilities?agentId=agent&requestId=" + id, "",
			404, "NOT_FOUND"},
		{"no agent", "POST", "/v1/phones/+919900000001/agentMessages?messageId=" + id, msg,
			400, "INVALID_ARGUMENT"},
		{"bad message id", "POST", "/v1/phones/+919900000001/agentMessages?agentId=agent&messageId=x",
			msg, 400, "UUID"},
		{"not E.164", "POST", "/v1/phones/919900000001/agentMessages?agentId=agent&messageId=" + id,
			msg, 400, "E.164"},
		{"text and card", "POST", "/v1/phones/+919900000003/agentMessages?agentId=agent&messageId=" + id,
			`{"contentMessage":{"text":"a","richCard":{"standaloneCard":{}}}}`, 400, "more than one"},
		{"ttl and expireTime", "POST",
			"/v1/phones/+919900000003/agentMessages?agentId=agent&messageId=" + id,
			`{"contentMessage":{"text":"a"},"ttl":"60s","expireTime":"2026-01-01T00:00:00Z"}`,
			400, "exclusive"},
		{"ttl over 15 days", "POST",
			"/v1/phones/+919900000003/agentMessages?agentId=agent&messageId=" + id,
			`{"contentMessage":{"text":"a"},"ttl":"1296001s"}`, 400, "15 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, f, tt.method, tt.target, auth, tt.body)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("answer %d %s, want %d with %s", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestMSG91FakeChecks(t *testing.T) {
	f, err := providersim.NewMSG91(providersim.MSG91Config{AuthKey: "key"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	auth := map[string]string{"authkey": "key"}
	tests := []struct {
		name     string
		path     string
		header   map[string]string
		body     string
		wantCode int
		wantBody string
	}{
		{"success", "/api/v5/flow", auth,
			`{"template_id":"t1","short_url":"0","recipients":[{"mobiles":"919900000001","a":"b"}]}`,
			200, `"type":"success"`},
		{"trailing slash and flow_id", "/api/v5/flow/", auth,
			`{"flow_id":"t1","recipients":[{"mobiles":"919900000001,919900000002"}]}`,
			200, `"type":"success"`},
		{"no auth key", "/api/v5/flow", nil, `{}`, 401, "AuthenticationFailure"},
		{"no recipients", "/api/v5/flow", auth, `{"template_id":"t1"}`, 400, "recipients"},
		{"plus in mobiles", "/api/v5/flow", auth,
			`{"template_id":"t1","recipients":[{"mobiles":"+919900000001"}]}`, 400, "mobiles"},
		{"unknown path", "/api/v5/otp", auth, `{}`, 404, `"type":"error"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, f, "POST", tt.path, tt.header, tt.body)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("answer %d %s, want %d with %s", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestNewRefusesOutcomesItCannotPlay(t *testing.T) {
	script := func(o providersim.Outcome) providersim.Config {
		return providersim.Config{Script: providersim.Script{
			Numbers: map[string]providersim.Outcome{"+919900000001": o}}}
	}
	tests := []struct {
		name string
		new  func() error
	}{
		{"whatsapp cannot expire", func() error {
			_, err := providersim.NewWhatsApp(providersim.WhatsAppConfig{
				Config: script(providersim.Expired)})
			return err
		}},
		{"rbm has no failure webhooks", func() error {
			_, err := providersim.NewRBM(providersim.RBMConfig{Config: script(providersim.NotOnWhatsApp)})
			return err
		}},
		{"rbm errors are HTTP statuses", func() error {
			_, err := providersim.NewRBM(providersim.RBMConfig{
				Config: script(providersim.SyncError("131026"))})
			return err
		}},
		{"msg91 cannot read", func() error {
			_, err := providersim.NewMSG91(providersim.MSG91Config{Config: script(providersim.Read)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.new(); err == nil {
				t.Error("constructor error = nil, want one")
			}
		})
	}
}

// TestCloseStopsPendingWebhooks checks Close drops what is scheduled,
// stops retries in progress and leaves no goroutine behind.
func TestCloseStopsPendingWebhooks(t *testing.T) {
	down := &counter{code: http.StatusInternalServerError}
	hook := httptest.NewServer(down)
	defer hook.Close()
	before := runtime.NumGoroutine()

	f, err := providersim.NewMSG91(providersim.MSG91Config{AuthKey: "key", Config: providersim.Config{
		WebhookURL: hook.URL, Delay: time.Hour, Tries: 1000, RetryWait: time.Hour,
		Script: providersim.Script{Numbers: map[string]providersim.Outcome{
			"+919900000002": providersim.Late}}}})
	if err != nil {
		t.Fatal(err)
	}
	// One report due in an hour, and one retrying against a failing
	// receiver, both pending when Close is called.
	body := `{"template_id":"t","recipients":[{"mobiles":"919900000001"}]}`
	call(t, f, "POST", "/api/v5/flow", map[string]string{"authkey": "key"}, body)
	f2, err := providersim.NewMSG91(providersim.MSG91Config{AuthKey: "key",
		Config: providersim.Config{WebhookURL: hook.URL, Tries: 1000, RetryWait: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	call(t, f2, "POST", "/api/v5/flow", map[string]string{"authkey": "key"}, body)
	for down.posts.Load() == 0 {
		time.Sleep(time.Millisecond)
	}

	done := make(chan struct{})
	go func() { f.Close(); f2.Close(); f.Wait(); f2.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close and Wait did not return")
	}
	hook.CloseClientConnections()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}
