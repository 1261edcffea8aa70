package whatsapp

import (
	"bytes"

	"github.com/cascade-oss/cascade/internal/status"
)

// This file is ParseWebhook's fast path. Profiling showed encoding/json
// spending about 6 µs per status, over the 5 µs budget, on reflection
// and on validating the body before decoding it. The walker here
// validates and reads in one pass, and only the common shape: our
// object type, changes of field messages, statuses of known values,
// and every known field of the JSON type parseGeneral expects. On
// anything else (a null, a repeated key, a key matching ours only when
// case is ignored, something to park, malformed JSON) it declines and
// parseGeneral reads the body instead. FuzzFastPathAgrees checks both
// give the same answer whenever the fast path gives one.

// parseFast reads body, or declines with ok false.
func parseFast(body []byte) (b Batch, ok bool) {
	w := walker{b: body}
	b.Events = make([]status.Event, 0, bytes.Count(body, []byte(`"status"`)))
	var object string
	var seen uint8
	if !w.enter('{') {
		return Batch{}, false
	}
	for n := 0; w.more('}', &n); {
		key := w.key()
		switch {
		case string(key) == "object":
			w.once(&seen, 1)
			w.str(&object)
		case string(key) == "entry":
			w.once(&seen, 2)
			w.entries(&b)
		default:
			w.other(key, "object", "entry")
		}
	}
	if !w.end() || object != businessAccount {
		return Batch{}, false
	}
	return b, true
}

// entries reads the entry array.
func (w *walker) entries(b *Batch) {
	if !w.enter('[') {
		return
	}
	for n := 0; w.more(']', &n); {
		w.entry(b)
	}
}

// entry reads one entry object.
func (w *walker) entry(b *Batch) {
	if !w.enter('{') {
		return
	}
	var seen uint8
	for n := 0; w.more('}', &n); {
		key := w.key()
		switch {
		case string(key) == "id":
			var id string
			w.once(&seen, 1)
			w.str(&id)
		case string(key) == "changes":
			w.once(&seen, 2)
			w.changes(b)
		default:
			w.other(key, "id", "changes")
		}
	}
}

// changes reads an entry's changes array; every change must be of the
// messages field.
func (w *walker) changes(b *Batch) {
	if !w.enter('[') {
		return
	}
	for n := 0; w.more(']', &n); {
		w.change(b)
	}
}

// change reads one change object.
func (w *walker) change(b *Batch) {
	if !w.enter('{') {
		return
	}
	var field string
	var seen uint8
	for n := 0; w.more('}', &n); {
		key := w.key()
		switch {
		case string(key) == "field":
			w.once(&seen, 1)
			w.str(&field)
		case string(key) == "value":
			w.once(&seen, 2)
			w.value(b)
		default:
			w.other(key, "field", "value")
		}
	}
	if field != "messages" {
		w.fail = true
	}
}

// value reads a change value holding only statuses; inbound messages
// and system errors are parked, which the general path does.
func (w *walker) value(b *Batch) {
	if !w.enter('{') {
		return
	}
	var seen uint8
	for n := 0; w.more('}', &n); {
		key := w.key()
		switch {
		case string(key) == "statuses":
			w.once(&seen, 1)
			w.statuses(b)
		case string(key) == "messages", string(key) == "errors":
			w.fail = true
		default:
			w.other(key, "statuses", "messages", "errors")
		}
	}
}

// statuses reads the statuses array into events.
func (w *walker) statuses(b *Batch) {
	if !w.enter('[') {
		return
	}
	for n := 0; w.more(']', &n); {
		var s wireStatus
		var p wirePricing
		var code flexCode
		var f found
		if !w.status(&s, &p, &code, &f) {
			return
		}
		// As toEvent does, without pointers from s to p and code, which
		// would move them to the heap.
		ev, reason := baseEvent(s)
		if reason != "" {
			w.fail = true
			return
		}
		if f.pricing {
			ev.Pricing = newPricing(p)
		}
		if ev.Status == status.Failed {
			explain(&ev, code)
		}
		b.Events = append(b.Events, ev)
	}
}

// found says which optional parts a status had.
type found struct {
	pricing bool
	errors  int
}

// status reads one status object: its strings into s, its pricing into
// p and its first error's code into code.
func (w *walker) status(s *wireStatus, p *wirePricing, code *flexCode, f *found) bool {
	if !w.enter('{') {
		return false
	}
	var seen uint8
	for n := 0; w.more('}', &n); {
		key := w.key()
		switch {
		case string(key) == "id":
			w.once(&seen, 1)
			w.str(&s.ID)
		case string(key) == "status":
			w.once(&seen, 2)
			w.str(&s.Status)
		case string(key) == "timestamp":
			w.once(&seen, 4)
			w.str(&s.Timestamp)
		case string(key) == "recipient_id":
			w.once(&seen, 8)
			w.str(&s.RecipientID)
		case string(key) == "biz_opaque_callback_data":
			w.once(&seen, 16)
			w.str(&s.CallbackData)
		case string(key) == "pricing":
			f.pricing = true
			w.once(&seen, 32)
			w.pricing(p)
		case string(key) == "errors":
			w.once(&seen, 64)
			w.errors(code, &f.errors)
		default:
			w.other(key, "id", "status", "timestamp", "recipient_id",
				"biz_opaque_callback_data", "pricing", "errors")
		}
	}
	return !w.fail
}

// pricing reads a pricing object.
func (w *walker) pricing(p *wirePricing) {
	if !w.enter('{') {
		return
	}
	var seen uint8
	for n := 0; w.more('}', &n); {
		key := w.key()
		switch {
		case string(key) == "billable":
			w.once(&seen, 1)
			w.boolean(&p.Billable)
		case string(key) == "pricing_model":
			w.once(&seen, 2)
			w.str(&p.Model)
		case string(key) == "type":
			w.once(&seen, 4)
			w.str(&p.Type)
		case string(key) == "category":
			w.once(&seen, 8)
			w.str(&p.Category)
		default:
			w.other(key, "billable", "pricing_model", "type", "category")
		}
	}
}

// errors reads a status's errors array, keeping the first one's code
// and counting them in n.
func (w *walker) errors(first *flexCode, count *int) {
	if !w.enter('[') {
		return
	}
	for n := 0; w.more(']', &n); {
		var code flexCode
		w.errorCode(&code)
		if *count == 0 {
			*first = code
		}
		*count++
	}
}

// errorCode reads one error object's code as flexCode does.
func (w *walker) errorCode(code *flexCode) {
	if !w.enter('{') {
		return
	}
	var seen uint8
	for n := 0; w.more('}', &n); {
		key := w.key()
		switch {
		case string(key) == "code":
			w.once(&seen, 1)
			w.code(code)
		default:
			w.other(key, "code")
		}
	}
}

// code reads a number's text or a string's content; other values read
// as no code, as in flexCode.UnmarshalJSON.
func (w *walker) code(c *flexCode) {
	w.ws()
	start := w.i
	switch ch := w.peek(); {
	case ch == '"':
		s, _ := w.text()
		*c = flexCode(s)
	case ch == '-' || isDigit(ch):
		w.number()
		*c = flexCode(w.b[start:w.i])
	default:
		w.skip()
		*c = ""
	}
}
