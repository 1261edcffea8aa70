package providersim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// WhatsAppConfig configures the WhatsApp Cloud API fake.
type WhatsAppConfig struct {
	Config
	// Token is the bearer token sends must carry.
	Token string
	// PhoneNumberID is the business number's id in the send path.
	PhoneNumberID string
	// WABAID is the account id webhooks name in entry[].id.
	WABAID string
	// AppSecret signs the webhooks.
	AppSecret string
	// ThroughputFailures is how many sends to a Throughput number are
	// refused with 130429 before one is accepted; 0 means 1.
	ThroughputFailures int
	// Templates, when set, maps each known template to its body
	// parameter count: others get 132001, a wrong count 132000.
	Templates map[string]int
	// Category is the pricing category webhooks report; 0 means
	// utility.
	Category string
}

// WhatsApp fakes the Cloud API's send endpoint and status webhooks.
// Besides ServeHTTP it offers SetWebhookURL, Requests, Sends, Posts,
// Wait and Close.
type WhatsApp struct {
	core
	out   *poster[waStatus]
	wc    WhatsAppConfig
	sends map[string]int // sends per number, for Throughput
}

// WhatsAppMix is a default mix for demos: most people get and read
// the message, some are not on WhatsApp or over the marketing limit,
// a few never answer.
var WhatsAppMix = []Share{
	{Read, 45}, {Delivered, 25}, {NotOnWhatsApp, 15},
	{MarketingLimit, 5}, {Silent, 5}, {Late, 5},
}

// NewWhatsApp returns the fake, or an error naming an outcome in the
// script it cannot play.
func NewWhatsApp(wc WhatsAppConfig) (*WhatsApp, error) {
	err := wc.Script.check("whatsapp", func(o Outcome) bool {
		switch kind, code := o.split(); kind {
		case "error", "fail":
			_, err := strconv.Atoi(code)
			return err == nil
		case string(Delivered), string(Read), string(Silent), string(Late),
			string(Throughput):
			return true
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	if wc.ThroughputFailures <= 0 {
		wc.ThroughputFailures = 1
	}
	if wc.Category == "" {
		wc.Category = "utility"
	}
	f := &WhatsApp{core: newCore(wc.Config), wc: wc, sends: map[string]int{}}
	f.out = newPoster(f.cfg, f.cfg.Batch, f.webhookURL, f.buildWebhook)
	f.core.hooks = f.out
	return f, nil
}

// sendPath matches /{version}/{phone-number-id}/messages.
var sendPath = regexp.MustCompile(`^/(v[0-9]+\.[0-9]+)/([^/]+)/messages$`)

// waSend is the part of a send body the fake reads.
type waSend struct {
	Product      string `json:"messaging_product"`
	To           string `json:"to"`
	Type         string `json:"type"`
	CallbackData string `json:"biz_opaque_callback_data"`
	Template     *struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string            `json:"type"`
			Parameters []json.RawMessage `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
}

// ServeHTTP answers POST /{version}/{phone-number-id}/messages.
func (f *WhatsApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := sendPath.FindStringSubmatch(r.URL.Path)
	switch {
	case m == nil:
		graphFail(w, http.StatusNotFound, 100, "unknown path")
		return
	case r.Method != http.MethodPost:
		graphFail(w, http.StatusMethodNotAllowed, 100, "unsupported method")
		return
	case r.Header.Get("Authorization") != "Bearer "+f.wc.Token || f.wc.Token == "":
		// Meta's HTTP status for 190 is unconfirmed [U]; 401 is Graph's
		// usual answer to a bad token.
		graphFail(w, http.StatusUnauthorized, 190, "invalid OAuth access token")
		return
	case m[2] != f.wc.PhoneNumberID:
		graphFail(w, http.StatusBadRequest, 100, "phone number id does not exist")
		return
	}
	var s waSend
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&s); err != nil {
		graphFail(w, http.StatusBadRequest, 100, "request body is not JSON")
		return
	}
	f.send(w, r, s)
}

// send validates one decoded send and plays its outcome.
func (f *WhatsApp) send(w http.ResponseWriter, r *http.Request, s waSend) {
	req := Request{Method: r.Method, Path: r.URL.Path, ID: s.CallbackData}
	if d := digits(s.To); len(d) >= 8 {
		req.To = "+" + d
	}
	if s.Template != nil {
		req.Template = s.Template.Name
	}
	if code, msg := f.validate(s, req.To); code != 0 {
		f.refuse(w, req, code, msg)
		return
	}

	f.mu.Lock()
	req.Outcome = f.cfg.Script.For(req.To)
	f.sends[req.To]++
	throttled := req.Outcome == Throughput && f.sends[req.To] <= f.wc.ThroughputFailures
	if kind, code := req.Outcome.split(); kind == "error" || throttled {
		f.mu.Unlock()
		if throttled {
			code = "130429"
		}
		c, _ := strconv.Atoi(code)
		f.refuse(w, req, c, "scripted refusal")
		return
	}
	req.ProviderID = "wamid." + base64.StdEncoding.EncodeToString(f.nextID("wamid", 27))
	req.Status = http.StatusOK
	f.record(req)
	f.mu.Unlock()

	f.schedule(req)
	contact := map[string]string{"input": s.To, "wa_id": req.To[1:]}
	msg := map[string]string{"id": req.ProviderID, "message_status": "accepted"}
	writeJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{contact},
		"messages":          []map[string]string{msg},
	})
}

// validate checks a send as the Cloud API would, returning an error
// code and message, or 0.
func (f *WhatsApp) validate(s waSend, to string) (int, string) {
	switch {
	case s.Product != "whatsapp":
		return 100, "messaging_product must be whatsapp"
	case to == "":
		return 100, "invalid parameter: to"
	case s.Type != "template":
		return 131051, "the fake sends template messages only"
	case s.Template == nil || s.Template.Name == "" || s.Template.Language.Code == "":
		return 131008, "template name and language code are required"
	}
	if f.wc.Templates == nil {
		return 0, ""
	}
	want, ok := f.wc.Templates[s.Template.Name]
	if !ok {
		return 132001, "template does not exist"
	}
	got := 0
	for _, c := range s.Template.Components {
		if c.Type == "body" {
			got += len(c.Parameters)
		}
	}
	if got != want {
		return 132000, fmt.Sprintf("template wants %d parameters, got %d", want, got)
	}
	return 0, ""
}

// refuse records a refused send and writes Meta's error envelope.
func (f *WhatsApp) refuse(w http.ResponseWriter, req Request, code int, msg string) {
	req.Status = http.StatusBadRequest
	f.mu.Lock()
	f.record(req)
	f.mu.Unlock()
	graphFail(w, req.Status, code, msg)
}

// graphFail writes a Graph error envelope (reference 1.4).
func graphFail(w http.ResponseWriter, httpStatus, code int, msg string) {
	writeJSON(w, httpStatus, map[string]any{"error": map[string]any{
		"message":    fmt.Sprintf("(#%d) %s", code, msg),
		"type":       "OAuthException",
		"code":       code,
		"error_data": map[string]string{"messaging_product": "whatsapp", "details": msg},
		"fbtrace_id": "AFAKEtrace",
	}})
}

// writeJSON writes v with a status.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// waStatus is one statuses[] item of a webhook (reference 1.6.4).
type waStatus struct {
	ID           string     `json:"id"`
	Status       string     `json:"status"`
	Timestamp    string     `json:"timestamp"`
	RecipientID  string     `json:"recipient_id"`
	CallbackData string     `json:"biz_opaque_callback_data,omitempty"`
	Pricing      *waPricing `json:"pricing,omitempty"`
	Errors       []waError  `json:"errors,omitempty"`
}

type waPricing struct {
	Billable bool   `json:"billable"`
	Model    string `json:"pricing_model"`
	Type     string `json:"type"`
	Category string `json:"category"`
}

type waError struct {
	Code    int               `json:"code"`
	Title   string            `json:"title"`
	Message string            `json:"message"`
	Data    map[string]string `json:"error_data"`
	Href    string            `json:"href"`
}

// schedule plans an accepted send's webhooks from its outcome.
func (f *WhatsApp) schedule(req Request) {
	st := func(name string) waStatus {
		return waStatus{ID: req.ProviderID, Status: name,
			RecipientID: req.To[1:], CallbackData: req.ID}
	}
	var steps []waStatus
	kind, code := req.Outcome.split()
	switch kind {
	case "fail":
		s := st("failed")
		c, _ := strconv.Atoi(code)
		s.Errors = []waError{newWAError(c)}
		steps = []waStatus{s}
	case string(Silent):
		return
	case string(Read):
		steps = []waStatus{st("sent"), st("delivered"), st("read")}
		if f.cfg.Reorder {
			steps[1], steps[2] = steps[2], steps[1]
		}
	default:
		steps = []waStatus{st("sent"), st("delivered")}
	}
	// Pricing rides on sent and on one of delivered or read.
	for i := range steps {
		if steps[i].Status == "sent" || steps[i].Status == "delivered" {
			steps[i].Pricing = &waPricing{true, "PMP", "regular", f.wc.Category}
		}
	}
	late := req.Outcome == Late
	playSteps(f.out, f.cfg, steps, late, func(s *waStatus, at time.Time) {
		s.Timestamp = strconv.FormatInt(at.Unix(), 10)
	})
}

// newWAError builds a statuses[].errors[] item for code.
func newWAError(code int) waError {
	msg := "scripted failure " + strconv.Itoa(code)
	return waError{
		Code: code, Title: msg, Message: msg,
		Data: map[string]string{"details": msg},
		Href: "/documentation/business-messaging/whatsapp/support/error-codes",
	}
}

// buildWebhook wraps statuses in Meta's envelope, escapes it as Meta
// does and signs exactly the bytes that go on the wire.
func (f *WhatsApp) buildWebhook(items []waStatus) (webhook, error) {
	body, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id": f.wc.WABAID,
			"changes": []any{map[string]any{
				"field": "messages",
				"value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata": map[string]string{
						"display_phone_number": "919900000000",
						"phone_number_id":      f.wc.PhoneNumberID,
					},
					"statuses": items,
				},
			}},
		}},
	})
	if err != nil {
		return webhook{}, fmt.Errorf("encode whatsapp webhook: %w", err)
	}
	body = escapeJSON(body)
	m := hmac.New(sha256.New, []byte(f.wc.AppSecret))
	m.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	return webhook{body: body, header: h}, nil
}

// Subscribe makes Meta's GET verification call to the webhook URL
// with verifyToken and checks that the challenge comes back.
func (f *WhatsApp) Subscribe(verifyToken string) error {
	f.mu.Lock()
	n := binary.BigEndian.Uint32(f.nextID("challenge", 4))
	f.mu.Unlock()
	challenge := strconv.FormatUint(uint64(n), 10)

	q := url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {challenge},
		"hub.verify_token": {verifyToken}}
	resp, err := f.cfg.Client.Get(f.webhookURL() + "?" + q.Encode())
	if err != nil {
		return fmt.Errorf("whatsapp handshake: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	switch {
	case err != nil:
		return fmt.Errorf("read whatsapp handshake answer: %w", err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("whatsapp handshake: HTTP %d", resp.StatusCode)
	case string(body) != challenge:
		return fmt.Errorf("whatsapp handshake: challenge not echoed")
	}
	return nil
}
