package providersim

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MSG91Config configures the MSG91 fake.
type MSG91Config struct {
	Config
	// AuthKey is the authkey header sends must carry.
	AuthKey string
	// Templates, when set, lists the known template ids; others are
	// refused.
	Templates map[string]bool
	// SenderID is the DLT header reports name; "" means CASCDE.
	SenderID string
}

// MSG91 fakes MSG91's v5 flow send and its v2 delivery-report
// webhooks. Besides ServeHTTP it offers SetWebhookURL, Requests,
// Sends, Posts, Wait and Close.
//
// MSG91 does not sign reports; the receiver's URL carries a secret
// token, so the fake posts to the URL exactly as it is given.
type MSG91 struct {
	core
	out *poster[dlr]
	mc  MSG91Config
}

// SMSMix is a default mix for demos: SMS nearly always arrives, with
// some DND numbers and failures.
var SMSMix = []Share{
	{Delivered, 85}, {NDNC, 6}, {SMSFailed, 5}, {Rejected, 2}, {Silent, 2},
}

// NewMSG91 returns the fake, or an error naming an outcome in the
// script it cannot play.
func NewMSG91(mc MSG91Config) (*MSG91, error) {
	err := mc.Script.check("msg91", func(o Outcome) bool {
		switch kind, code := o.split(); kind {
		case "error", "fail":
			_, err := strconv.Atoi(code)
			return err == nil
		case string(Delivered), string(Silent), string(Late):
			return true
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	if mc.SenderID == "" {
		mc.SenderID = "CASCDE"
	}
	f := &MSG91{core: newCore(mc.Config), mc: mc}
	f.out = newPoster(f.cfg, f.cfg.Batch, f.webhookURL, f.buildWebhook)
	f.core.hooks = f.out
	return f, nil
}

// flowSend is a v5 flow body (reference 3.1). template_id replaced the
// older flow_id; both are read.
type flowSend struct {
	TemplateID string                       `json:"template_id"`
	FlowID     string                       `json:"flow_id"`
	ShortURL   string                       `json:"short_url"`
	Recipients []map[string]json.RawMessage `json:"recipients"`
}

// ServeHTTP answers POST /api/v5/flow.
func (f *MSG91) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.TrimSuffix(r.URL.Path, "/") != "/api/v5/flow":
		msg91Fail(w, http.StatusNotFound, "404", "not found")
		return
	case r.Method != http.MethodPost:
		msg91Fail(w, http.StatusMethodNotAllowed, "405", "method not allowed")
		return
	case f.mc.AuthKey == "" || r.Header.Get("authkey") != f.mc.AuthKey:
		msg91Fail(w, http.StatusUnauthorized, "401", "AuthenticationFailure")
		return
	}
	var s flowSend
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&s); err != nil {
		msg91Fail(w, http.StatusBadRequest, "400", "invalid JSON body")
		return
	}
	if s.TemplateID == "" {
		s.TemplateID = s.FlowID
	}
	numbers, msg := f.validate(s)
	if msg != "" {
		f.refuse(w, r, s.TemplateID, numbers, "400", msg)
		return
	}
	f.accept(w, r, s.TemplateID, numbers)
}

// validate checks a send and returns its numbers in E.164, or what is
// wrong with it.
func (f *MSG91) validate(s flowSend) ([]string, string) {
	switch {
	case s.TemplateID == "":
		return nil, "template_id is required"
	case f.mc.Templates != nil && !f.mc.Templates[s.TemplateID]:
		return nil, "invalid template_id"
	case s.ShortURL != "" && s.ShortURL != "0" && s.ShortURL != "1":
		return nil, "short_url must be 0 or 1"
	case len(s.Recipients) == 0:
		return nil, "recipients are required"
	}
	var numbers []string
	for _, rc := range s.Recipients {
		var mobiles string
		if json.Unmarshal(rc["mobiles"], &mobiles) != nil || mobiles == "" {
			return nil, "recipients[].mobiles is required"
		}
		for _, m := range strings.Split(mobiles, ",") {
			m = strings.TrimSpace(m)
			if digits(m) != m || len(m) < 10 || len(m) > 15 {
				return nil, "mobiles must be digits with the country code"
			}
			numbers = append(numbers, "+"+m)
		}
	}
	return numbers, ""
}

// accept plays each number's outcome; one scripted refusal refuses
// the whole request, as MSG91 answers per request.
func (f *MSG91) accept(w http.ResponseWriter, r *http.Request, template string, numbers []string) {
	f.mu.Lock()
	outcomes := make([]Outcome, len(numbers))
	for i, n := range numbers {
		outcomes[i] = f.cfg.Script.For(n)
		if kind, code := outcomes[i].split(); kind == "error" {
			f.mu.Unlock()
			f.refuse(w, r, template, numbers, code, "scripted refusal")
			return
		}
	}
	id := hex.EncodeToString(f.nextID("request", 12))
	for i, n := range numbers {
		f.record(Request{Method: r.Method, Path: r.URL.Path, To: n,
			ProviderID: id, Template: template, Outcome: outcomes[i],
			Status: http.StatusOK})
	}
	f.mu.Unlock()

	for i, n := range numbers {
		f.schedule(id, n, outcomes[i])
	}
	writeJSON(w, http.StatusOK, map[string]string{"type": "success", "message": id})
}

// refuse records a refused request and writes MSG91's error body. The
// HTTP status for a v5 error code is unconfirmed [U]: 401 and 5xx
// codes are their own status, others 400.
func (f *MSG91) refuse(w http.ResponseWriter, r *http.Request, template string,
	numbers []string, code, msg string) {
	status := http.StatusBadRequest
	if n, _ := strconv.Atoi(code); n == 401 || n >= 500 && n <= 599 {
		status = n
	}
	f.mu.Lock()
	if len(numbers) == 0 {
		numbers = []string{""}
	}
	for _, n := range numbers {
		f.record(Request{Method: r.Method, Path: r.URL.Path, To: n,
			Template: template, Status: status})
	}
	f.mu.Unlock()
	msg91Fail(w, status, code, msg)
}

// msg91Fail writes MSG91's error body.
func msg91Fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"type": "error", "message": msg, "code": code})
}

// dlr is one number's delivery report.
type dlr struct {
	RequestID string
	Number    string // digits, no plus
	Status    string
	Date      string
}

// dlrDesc names the documented DLR statuses.
var dlrDesc = map[string]string{
	"1": "DELIVERED", "2": "FAILED", "9": "NDNC", "16": "REJECTED",
	"17": "BLOCKED", "25": "REJECTED",
}

// schedule plans one number's report from its outcome.
func (f *MSG91) schedule(requestID, number string, o Outcome) {
	d := dlr{RequestID: requestID, Number: number[1:], Status: "1"}
	switch kind, code := o.split(); kind {
	case string(Silent):
		return
	case "fail":
		d.Status = code
	}
	ist := time.FixedZone("IST", 5*3600+1800)
	playSteps(f.out, f.cfg, []dlr{d}, o == Late, func(d *dlr, at time.Time) {
		d.Date = at.In(ist).Format("2006-01-02 15:04:05")
	})
}

// buildWebhook writes a v2 report: a form whose data field holds a
// JSON array with one element per request id (reference 3.2).
func (f *MSG91) buildWebhook(items []dlr) (webhook, error) {
	type report map[string]string
	var order []string
	byID := map[string][]report{}
	for _, d := range items {
		if _, ok := byID[d.RequestID]; !ok {
			order = append(order, d.RequestID)
		}
		desc := dlrDesc[d.Status]
		if desc == "" {
			desc = "UNKNOWN"
		}
		byID[d.RequestID] = append(byID[d.RequestID], report{
			"date": d.Date, "number": d.Number, "status": d.Status,
			"desc": desc, "failedReason": "", "credit": "1",
		})
	}
	data := make([]map[string]any, len(order))
	for i, id := range order {
		data[i] = map[string]any{"senderId": f.mc.SenderID, "requestId": id,
			"userId": "270000", "campaignName": "API", "report": byID[id]}
	}
	js, err := json.Marshal(data)
	if err != nil {
		return webhook{}, fmt.Errorf("encode msg91 report: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	body := url.Values{"data": {string(js)}}.Encode()
	return webhook{body: []byte(body), header: h}, nil
}
