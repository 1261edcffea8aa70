package msg91

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/status"
)

// MaxBody is the largest delivery-report body read. MSG91 documents no
// limit [U]; a report is a few hundred bytes per number.
const MaxBody = 1 << 20

// Errors from reading a delivery report.
var (
	// ErrTooLarge means a body is over MaxBody.
	ErrTooLarge = errors.New("report body over 1 MB")
	// ErrNoData means a form-encoded report has no data field.
	ErrNoData = errors.New("form report without a data field")
	// ErrNoRequestID means a report names no request, so it cannot be
	// matched to an attempt.
	ErrNoRequestID = errors.New("report without requestId")
	// ErrUnsupported means a report in a shape we do not read: a v4
	// report (it carries no number or request id [U]) or another
	// content type.
	ErrUnsupported = errors.New("unsupported report format")
)

// delivered is the one DLR status that means the SMS arrived.
const delivered = "1"

// ist is the zone MSG91's dates are assumed to be in [U]: they carry
// no offset and MSG91 is an Indian gateway. A fixed zone needs no
// time zone database in the Lambda image.
var ist = time.FixedZone("IST", 5*3600+1800)

// dateLayout is the layout of a report's date field.
const dateLayout = "2006-01-02 15:04:05"

// wireReport is one number's outcome: an item of a v2 report list or,
// with requestId beside it, a whole v3 report.
type wireReport struct {
	Date   flexString `json:"date"`
	Number flexString `json:"number"`
	Status flexString `json:"status"`
	Desc   flexString `json:"desc"`
}

// wireRequest is one element of a report body. v2 elements carry
// requestId and a report list; v3 ones are flat; MSG91's help page
// shows a JSON {"data":"[…]"} wrapping of v2, read here too; v4 ones
// carry a data array and an event.
type wireRequest struct {
	RequestID flexString   `json:"requestId"`
	Report    []wireReport `json:"report"`
	wireReport
	Data json.RawMessage `json:"data"`
}

// ParseReport reads a verified MSG91 delivery report. MSG91 documents
// no retry policy [U]; a repeated report is a duplicate status, which
// status.Apply ignores. The formats are v2, a form field
// data holding a JSON array of {requestId, report:[…]}, or v3, JSON
// flat objects (one or an array). Status 1 is delivered; every other
// status is a failure classified by failure.MSG91Report, undocumented
// ones included [U]. Events carry the request id as ProviderID: MSG91
// echoes nothing of ours.
func ParseReport(contentType string, body []byte) ([]status.Event, error) {
	if len(body) > MaxBody {
		return nil, ErrTooLarge
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("report content type %q: %w", contentType, ErrUnsupported)
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("decode msg91 report form: %w", err)
		}
		if !form.Has("data") {
			return nil, ErrNoData
		}
		return parseJSON([]byte(form.Get("data")), 0)
	case "application/json", "text/plain":
		return parseJSON(body, 0)
	}
	return nil, fmt.Errorf("report content type %q: %w", mt, ErrUnsupported)
}

// parseJSON reads one JSON object or an array of them. depth guards
// the one level of {"data":"[…]"} wrapping.
func parseJSON(b []byte, depth int) ([]status.Event, error) {
	var reqs []wireRequest
	var err error
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		reqs = make([]wireRequest, 1)
		err = json.Unmarshal(t, &reqs[0])
	} else {
		err = json.Unmarshal(b, &reqs)
	}
	if err != nil {
		return nil, fmt.Errorf("decode msg91 report: %w", err)
	}

	var out []status.Event
	for _, r := range reqs {
		evs, err := r.events(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

// events reads one element in whichever version it is.
func (r wireRequest) events(depth int) ([]status.Event, error) {
	switch {
	case len(r.Report) > 0:
		if r.RequestID == "" {
			return nil, ErrNoRequestID
		}
		out := make([]status.Event, len(r.Report))
		for i, rep := range r.Report {
			out[i] = rep.event(string(r.RequestID))
		}
		return out, nil
	case r.Number != "" || r.Status != "":
		if r.RequestID == "" {
			return nil, ErrNoRequestID
		}
		return []status.Event{r.wireReport.event(string(r.RequestID))}, nil
	}

	var inner string
	if depth == 0 && json.Unmarshal(r.Data, &inner) == nil {
		return parseJSON([]byte(inner), depth+1)
	}
	return nil, ErrUnsupported
}

// event turns one number's outcome into a status event.
func (rep wireReport) event(requestID string) status.Event {
	ev := status.Event{
		ProviderID: requestID,
		Recipient:  string(rep.Number),
		Status:     status.Delivered,
	}
	if t, err := time.ParseInLocation(dateLayout, string(rep.Date), ist); err == nil {
		ev.At = t.UTC()
	}
	if rep.Status != delivered {
		r := failure.MSG91Report(string(rep.Status))
		ev.Status, ev.Code = status.Failed, string(rep.Status)
		ev.Class, ev.Reason = r.Class, r.Reason
	}
	return ev
}

// flexString reads a JSON string, or a number as its text. MSG91
// writes every value as a string, but a number must not sink a report.
type flexString string

// UnmarshalJSON accepts a string, a number or null.
func (f *flexString) UnmarshalJSON(b []byte) error {
	if plainString(b) {
		// The common case, read without a second decoder: the outer
		// one has already checked b is a valid JSON string.
		*f = flexString(b[1 : len(b)-1])
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or number, got %s", b)
	}
	*f = flexString(n)
	return nil
}

// plainString reports whether b is a JSON string of ASCII without
// escapes, whose content is its bytes between the quotes.
func plainString(b []byte) bool {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return false
	}
	for _, c := range b[1 : len(b)-1] {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// TokenMatches reports whether got, the secret token in a webhook URL,
// equals want. MSG91 does not sign reports, so this token is their only
// proof of origin. Both are hashed first so the comparison takes the
// same time whatever their lengths; an empty want never matches.
func TokenMatches(got, want string) bool {
	if want == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
