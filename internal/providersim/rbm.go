package providersim

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// RBMConfig configures the Google RBM fake.
type RBMConfig struct {
	Config
	// Token is the OAuth bearer token calls must carry.
	Token string
	// AgentID is the agent calls must name in agentId.
	AgentID string
	// ClientToken signs the webhooks and is sent in the handshake.
	ClientToken string
}

// RBM fakes the RBM API's send, revoke and capability endpoints and
// its Pub/Sub-wrapped webhooks. Besides ServeHTTP it offers
// SetWebhookURL, Requests, Sends, Posts, Wait and Close.
type RBM struct {
	core
	out  *poster[rbmEvent]
	rc   RBMConfig
	msgs map[string]*rbmMessage // by messageId
}

// rbmMessage is an accepted message's state, for revokes and repeats.
type rbmMessage struct {
	answer    []byte // the AgentMessage answered, for a repeat
	delivered bool   // a DELIVERED event was posted
	revoked   bool   // revoked by DELETE or on expiry
}

// RCSMix is a default mix for demos: most numbers are RCS-capable,
// some are not, a few never answer or expire.
var RCSMix = []Share{
	{Read, 40}, {Delivered, 25}, {NotRCSCapable, 20},
	{Silent, 5}, {Expired, 5}, {Late, 5},
}

// NewRBM returns the fake, or an error naming an outcome in the script
// it cannot play.
func NewRBM(rc RBMConfig) (*RBM, error) {
	err := rc.Script.check("rbm", func(o Outcome) bool {
		switch kind, code := o.split(); kind {
		case "error":
			n, err := strconv.Atoi(code)
			return err == nil && n >= 400 && n <= 599
		case string(Delivered), string(Read), string(Silent), string(Late),
			string(Expired), string(RevokeFailed), string(Unsubscribe):
			return true
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	f := &RBM{core: newCore(rc.Config), rc: rc, msgs: map[string]*rbmMessage{}}
	// A Pub/Sub push carries one message, so RBM never batches.
	f.out = newPoster(f.cfg, 1, f.webhookURL, f.buildWebhook)
	f.out.keep = f.keep
	f.core.hooks = f.out
	return f, nil
}

// uuidText matches a UUID in canonical text form.
var uuidText = regexp.MustCompile(`^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$`)

// ServeHTTP answers the routes under /v1/phones/{E.164}/.
func (f *RBM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/phones/")
	if !ok {
		googleFail(w, http.StatusNotFound, "unknown path")
		return
	}
	// The path is decoded, so %2B arrives as the plus it stands for.
	to, route, _ := strings.Cut(rest, "/")
	if !strings.HasPrefix(to, "+") || digits(to) != to[1:] || len(to) < 9 {
		googleFail(w, http.StatusBadRequest, "phone number must be E.164")
		return
	}
	if code, msg := f.authorize(r); code != 0 {
		googleFail(w, code, msg)
		return
	}
	id, isMessage := strings.CutPrefix(route, "agentMessages/")
	switch {
	case route == "agentMessages" && r.Method == http.MethodPost:
		f.send(w, r, to)
	case isMessage && r.Method == http.MethodDelete:
		f.revoke(w, r, to, id)
	case route == "capabilities" && r.Method == http.MethodGet:
		f.capabilities(w, r, to)
	default:
		googleFail(w, http.StatusNotFound, "unknown route")
	}
}

// authorize checks the bearer token and the agent.
func (f *RBM) authorize(r *http.Request) (int, string) {
	agent := r.URL.Query().Get("agentId")
	switch {
	case f.rc.Token == "" || r.Header.Get("Authorization") != "Bearer "+f.rc.Token:
		return http.StatusUnauthorized, "request lacks a valid access token"
	case agent == "":
		return http.StatusBadRequest, "agentId is required"
	case agent != f.rc.AgentID:
		return http.StatusForbidden, "caller may not act for this agent"
	}
	return 0, ""
}

// send accepts, repeats or refuses agentMessages.create.
func (f *RBM) send(w http.ResponseWriter, r *http.Request, to string) {
	id := r.URL.Query().Get("messageId")
	req := Request{Method: r.Method, Path: r.URL.Path, To: to, ID: id}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 250<<10))
	if err != nil {
		f.refuse(w, req, http.StatusBadRequest, "message over 250 KB")
		return
	}
	if !uuidText.MatchString(id) {
		f.refuse(w, req, http.StatusBadRequest, "messageId must be a UUID")
		return
	}
	if msg := validateAgentMessage(body); msg != "" {
		f.refuse(w, req, http.StatusBadRequest, msg)
		return
	}

	f.mu.Lock()
	if m, ok := f.msgs[id]; ok {
		// RBM ignores a messageId it has seen; its answer to a repeat
		// is unconfirmed [U], so the fake answers as the first time.
		req.Repeat, req.Status = true, http.StatusOK
		f.record(req)
		f.mu.Unlock()
		writeRaw(w, http.StatusOK, m.answer)
		return
	}
	req.Outcome = f.cfg.Script.For(to)
	if kind, code := req.Outcome.split(); kind == "error" {
		f.mu.Unlock()
		c, _ := strconv.Atoi(code)
		f.refuse(w, req, c, "scripted refusal")
		return
	}
	answer := agentMessageAnswer(to, id, body)
	f.msgs[id] = &rbmMessage{answer: answer}
	req.Status = http.StatusOK
	f.record(req)
	f.mu.Unlock()

	f.schedule(req)
	writeRaw(w, http.StatusOK, answer)
}

// refuse records a refused call and writes Google's error body.
func (f *RBM) refuse(w http.ResponseWriter, req Request, code int, msg string) {
	req.Status = code
	f.mu.Lock()
	f.record(req)
	f.mu.Unlock()
	googleFail(w, code, msg)
}

// revoke answers agentMessages.delete: 200 when the message was not
// delivered (it never will be), 404 when it was or is unknown. A
// message that already expired revokes again with 200 [U].
func (f *RBM) revoke(w http.ResponseWriter, r *http.Request, to, id string) {
	req := Request{Method: r.Method, Path: r.URL.Path, To: to, ID: id}
	f.mu.Lock()
	m, ok := f.msgs[id]
	if ok && !m.delivered {
		m.revoked = true
		req.Status = http.StatusOK
		f.record(req)
		f.mu.Unlock()
		writeRaw(w, http.StatusOK, []byte("{}\n"))
		return
	}
	f.mu.Unlock()
	f.refuse(w, req, http.StatusNotFound, "message not found or already delivered")
}

// capabilities answers phones.getCapabilities from the script.
func (f *RBM) capabilities(w http.ResponseWriter, r *http.Request, to string) {
	req := Request{Method: r.Method, Path: r.URL.Path, To: to,
		ID: r.URL.Query().Get("requestId")}
	if !uuidText.MatchString(req.ID) {
		f.refuse(w, req, http.StatusBadRequest, "requestId must be a UUID")
		return
	}
	f.mu.Lock()
	req.Outcome = f.cfg.Script.For(to)
	f.mu.Unlock()
	if kind, code := req.Outcome.split(); kind == "error" {
		c, _ := strconv.Atoi(code)
		f.refuse(w, req, c, "scripted refusal")
		return
	}
	req.Status = http.StatusOK
	f.mu.Lock()
	f.record(req)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"features": []string{
		"RICHCARD_STANDALONE", "RICHCARD_CAROUSEL", "ACTION_DIAL",
		"ACTION_OPEN_URL", "ACTION_CREATE_CALENDAR_EVENT",
	}})
}

// agentMessageAnswer is the created AgentMessage: the request with the
// fields the server sets.
func agentMessageAnswer(to, id string, body []byte) []byte {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(body, &m) // validated before
	name, _ := json.Marshal("phones/" + to + "/agentMessages/" + id)
	sent, _ := json.Marshal(time.Now().UTC().Format(time.RFC3339Nano))
	m["name"], m["sendTime"] = name, sent
	out, _ := json.Marshal(m)
	return append(out, '\n')
}

// googleStatus names Google's canonical error status for an HTTP one.
func googleStatus(code int) string {
	switch code {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ALREADY_EXISTS"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 503:
		return "UNAVAILABLE"
	}
	return "INTERNAL"
}

// googleFail writes Google's usual API error body. RBM pages do not
// show it [U]; it is the format of Google's other APIs.
func googleFail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"code": code, "message": msg, "status": googleStatus(code),
	}})
}

// writeRaw writes a JSON body as it is.
func writeRaw(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// rbmEvent is a UserEvent or ServerEvent (reference 2.6). msg keys the
// message's state and is not sent.
type rbmEvent struct {
	SenderPhone string `json:"senderPhoneNumber,omitempty"`
	Phone       string `json:"phoneNumber,omitempty"`
	EventType   string `json:"eventType"`
	EventID     string `json:"eventId"`
	MessageID   string `json:"messageId,omitempty"`
	SendTime    string `json:"sendTime"`
	AgentID     string `json:"agentId"`
	msg         string
}

// schedule plans an accepted message's events from its outcome.
func (f *RBM) schedule(req Request) {
	ev := func(kind string) rbmEvent {
		e := rbmEvent{EventType: kind, MessageID: req.ID, AgentID: f.rc.AgentID,
			SenderPhone: req.To, msg: req.ID}
		if strings.HasPrefix(kind, "TTL_") {
			// Server events name the user phoneNumber.
			e.SenderPhone, e.Phone = "", req.To
		}
		if kind == "UNSUBSCRIBE" {
			e.MessageID = ""
		}
		return e
	}
	var steps []rbmEvent
	switch req.Outcome {
	case Silent:
		return
	case Read:
		steps = []rbmEvent{ev("DELIVERED"), ev("READ")}
		if f.cfg.Reorder {
			steps[0], steps[1] = steps[1], steps[0]
		}
	case Expired:
		steps = []rbmEvent{ev("TTL_EXPIRATION_REVOKED")}
	case RevokeFailed:
		steps = []rbmEvent{ev("TTL_EXPIRATION_REVOKE_FAILED"), ev("DELIVERED")}
	case Unsubscribe:
		steps = []rbmEvent{ev("DELIVERED"), ev("UNSUBSCRIBE")}
	default:
		steps = []rbmEvent{ev("DELIVERED")}
	}
	f.mu.Lock()
	for i := range steps {
		steps[i].EventID = "Mx" + hex.EncodeToString(f.nextID("event", 10))
	}
	f.mu.Unlock()
	playSteps(f.out, f.cfg, steps, req.Outcome == Late, func(e *rbmEvent, at time.Time) {
		e.SendTime = at.UTC().Format("2006-01-02T15:04:05.000Z")
	})
}

// keep decides at posting time whether an event still goes out: none
// for a revoked message. A DELIVERED going out makes later revokes
// fail, and an expiry revokes the message.
func (f *RBM) keep(e rbmEvent) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.msgs[e.msg]
	if m == nil || e.EventType == "UNSUBSCRIBE" {
		return true
	}
	if m.revoked {
		return false
	}
	switch e.EventType {
	case "DELIVERED":
		m.delivered = true
	case "TTL_EXPIRATION_REVOKED":
		m.revoked = true
	}
	return true
}

// buildWebhook wraps one event in the Pub/Sub push envelope and signs
// its data as RBM does.
func (f *RBM) buildWebhook(items []rbmEvent) (webhook, error) {
	data, err := json.Marshal(items[0])
	if err != nil {
		return webhook{}, fmt.Errorf("encode rbm event: %w", err)
	}
	f.mu.Lock()
	f.seq++
	pushID := strconv.FormatUint(14150481888470000+f.seq, 10)
	f.mu.Unlock()
	body, err := json.Marshal(map[string]any{
		"message": map[string]any{
			"attributes": map[string]string{
				"business_id": f.rc.AgentID, "product": "RBM",
				"project_number": "100000000001", "type": "event",
			},
			"data":        base64.StdEncoding.EncodeToString(data),
			"messageId":   pushID,
			"publishTime": time.Now().UTC().Format(time.RFC3339Nano),
		},
		"subscription": "projects/rbm-fake/subscriptions/rbm-agent",
	})
	if err != nil {
		return webhook{}, fmt.Errorf("encode rbm push: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Goog-Signature", googSignature(f.rc.ClientToken, data))
	return webhook{body: body, header: h}, nil
}

// Handshake makes RBM's one-off webhook verification POST and checks
// that the secret comes back as the plain-text body.
func (f *RBM) Handshake() error {
	f.mu.Lock()
	secret := hex.EncodeToString(f.nextID("secret", 8))
	f.mu.Unlock()
	body, _ := json.Marshal(map[string]string{
		"clientToken": f.rc.ClientToken, "secret": secret,
	})
	resp, err := f.cfg.Client.Post(f.webhookURL(), "application/json",
		bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("rbm handshake: %w", err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	switch {
	case err != nil:
		return fmt.Errorf("read rbm handshake answer: %w", err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("rbm handshake: HTTP %d", resp.StatusCode)
	case strings.TrimSpace(string(got)) != secret:
		return fmt.Errorf("rbm handshake: secret not echoed")
	}
	return nil
}
