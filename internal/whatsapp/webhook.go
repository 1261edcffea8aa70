package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/status"
)

// MaxBody is the largest webhook body Meta documents (3 MB). The edge
// refuses bigger bodies before reading them whole, and ParseWebhook
// refuses them too.
const MaxBody = 3 << 20

// ErrTooLarge means a webhook body is over MaxBody.
var ErrTooLarge = errors.New("webhook body over 3 MB")

// businessAccount is the only object type whose statuses we read.
const businessAccount = "whatsapp_business_account"

// Batch is what one webhook POST carried: the status events to apply,
// and the parts that are not statuses we can apply, kept verbatim.
// Events keep the order of the body; Meta documents no ordering [U]
// and may send read without delivered, which status.Apply absorbs.
type Batch struct {
	Events []status.Event
	Parked []Parked
}

// Parked is a part of a webhook that is not an attempt status: an
// unknown object type, a change of another field (such as a template
// status update), inbound messages, system-level errors, a status of
// an unknown value (such as played) or one that cannot be read. The
// caller stores it so nothing Meta said is lost.
type Parked struct {
	Reason string
	// Raw is the JSON of that part exactly as received: the whole body
	// for an unknown object, else the change value, the messages or
	// errors array, or the one status object.
	Raw json.RawMessage
}

// payload is the webhook envelope (reference 1.6.4).
type payload struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID      string   `json:"id"`
	Changes []change `json:"changes"`
}

type change struct {
	Field string `json:"field"`
	Value value  `json:"value"`
}

// value is one change's content. Statuses are decoded; inbound
// messages and system errors are only kept.
type value struct {
	Statuses []wireStatus    `json:"statuses"`
	Messages json.RawMessage `json:"messages"`
	Errors   json.RawMessage `json:"errors"`
}

type wireStatus struct {
	ID           string       `json:"id"`
	Status       string       `json:"status"`
	Timestamp    string       `json:"timestamp"`
	RecipientID  string       `json:"recipient_id"`
	CallbackData string       `json:"biz_opaque_callback_data"`
	Pricing      *wirePricing `json:"pricing"`
	Errors       []wireError  `json:"errors"`
}

type wirePricing struct {
	Billable bool   `json:"billable"`
	Model    string `json:"pricing_model"`
	Type     string `json:"type"`
	Category string `json:"category"`
}

// wireError is one statuses[].errors[] item.
type wireError struct {
	Code flexCode `json:"code"`
}

// flexCode reads an error code written as a number or a string; any
// other value reads as no code, so one odd code never sinks a batch.
type flexCode string

// UnmarshalJSON keeps a number's text or a string's content.
func (c *flexCode) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = flexCode(s)
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		*c = flexCode(b)
	default:
		*c = ""
	}
	return nil
}

// statuses maps Meta's status values to ours. Others, such as played
// (voice messages), are parked.
var statuses = map[string]status.Status{
	"sent":      status.Sent,
	"delivered": status.Delivered,
	"read":      status.Read,
	"failed":    status.Failed,
}

// ParseWebhook reads a verified webhook POST body. Malformed JSON is
// an error; so is a body over MaxBody. An unknown object type, another
// change field, inbound messages and unusable statuses are parked, so
// one odd status never sinks the batch around it.
func ParseWebhook(body []byte) (Batch, error) {
	if len(body) > MaxBody {
		return Batch{}, ErrTooLarge
	}
	if b, ok := parseFast(body); ok {
		return b, nil
	}
	return parseGeneral(body)
}

// parseGeneral reads any body with encoding/json. It is the reference
// the fast path must agree with, and handles what the fast path
// declines.
func parseGeneral(body []byte) (Batch, error) {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		if foreign(body) {
			return Batch{Parked: []Parked{parkAll(body)}}, nil
		}
		return Batch{}, fmt.Errorf("decode whatsapp webhook: %w", err)
	}
	if p.Object != businessAccount {
		return Batch{Parked: []Parked{parkAll(body)}}, nil
	}

	b := Batch{Events: make([]status.Event, 0, countStatuses(p))}
	var later []spot
	for i, e := range p.Entry {
		for j, c := range e.Changes {
			later = b.readChange(c, i, j, later)
		}
	}
	if len(later) > 0 {
		b.Parked = append(b.Parked, fetch(body, later)...)
	}
	return b, nil
}

// readChange adds one change's events and parks what it cannot apply.
// Parts that need the raw body again are returned as spots to fetch.
func (b *Batch) readChange(c change, i, j int, later []spot) []spot {
	if c.Field != "messages" {
		reason := fmt.Sprintf("change field %q", c.Field)
		return append(later, spot{entry: i, change: j, status: -1, reason: reason})
	}
	v := c.Value
	if len(v.Messages) > 0 && string(v.Messages) != "null" {
		b.Parked = append(b.Parked, Parked{"inbound messages", v.Messages})
	}
	if len(v.Errors) > 0 && string(v.Errors) != "null" {
		b.Parked = append(b.Parked, Parked{"system errors", v.Errors})
	}
	for k, s := range v.Statuses {
		ev, reason := toEvent(s)
		if reason != "" {
			later = append(later, spot{entry: i, change: j, status: k, reason: reason})
			continue
		}
		b.Events = append(b.Events, ev)
	}
	return later
}

// toEvent turns one status into an event, or says why it cannot.
func toEvent(s wireStatus) (status.Event, string) {
	ev, reason := baseEvent(s)
	if reason != "" {
		return ev, reason
	}
	if s.Pricing != nil {
		ev.Pricing = newPricing(*s.Pricing)
	}
	if ev.Status == status.Failed {
		var code flexCode
		if len(s.Errors) > 0 {
			code = s.Errors[0].Code
		}
		explain(&ev, code)
	}
	return ev, ""
}

// baseEvent reads a status's own fields. It leaves pricing and errors
// to its callers so the fast path can keep them on the stack.
func baseEvent(s wireStatus) (status.Event, string) {
	st, ok := statuses[s.Status]
	switch {
	case !ok:
		return status.Event{}, fmt.Sprintf("unknown status %q", strings.Clone(s.Status))
	case s.ID == "":
		return status.Event{}, "status without id"
	}
	sec, err := strconv.ParseInt(s.Timestamp, 10, 64)
	if err != nil {
		return status.Event{}, "unreadable timestamp"
	}
	return status.Event{
		AttemptID:  s.CallbackData,
		ProviderID: s.ID,
		Recipient:  s.RecipientID,
		Status:     st,
		At:         time.Unix(sec, 0).UTC(),
	}, ""
}

func newPricing(p wirePricing) *status.Pricing {
	return &status.Pricing{
		Billable: p.Billable, Model: p.Model,
		Category: p.Category, Type: p.Type,
	}
}

// explain fills a failed event's code, class and reason from its first
// error's code. A failure without a code still falls back: unknown
// failures never strand a recipient.
func explain(ev *status.Event, code flexCode) {
	if code == "" {
		ev.Class = failure.FallbackNow
		ev.Reason = "failed without an error code"
		return
	}
	ev.Code = string(code)
	n, err := strconv.Atoi(ev.Code)
	if err != nil {
		ev.Class = failure.FallbackNow
		ev.Reason = "failed with an unreadable error code"
		return
	}
	r := failure.WhatsApp(n)
	ev.Class, ev.Reason = r.Class, r.Reason
}

// countStatuses sizes the events slice in one allocation.
func countStatuses(p payload) int {
	n := 0
	for _, e := range p.Entry {
		for _, c := range e.Changes {
			n += len(c.Value.Statuses)
		}
	}
	return n
}

// foreign reports whether a body that did not decode as ours is valid
// JSON of another object type, which is parked rather than refused.
func foreign(body []byte) bool {
	var o struct {
		Object string `json:"object"`
	}
	return json.Unmarshal(body, &o) == nil && o.Object != businessAccount
}

// parkAll parks a whole body under an unknown object type.
func parkAll(body []byte) Parked {
	var o struct {
		Object string `json:"object"`
	}
	_ = json.Unmarshal(body, &o) // the body is known to be valid JSON
	reason := fmt.Sprintf("object %q", o.Object)
	return Parked{Reason: reason, Raw: append(json.RawMessage(nil), body...)}
}
