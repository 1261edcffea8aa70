package webhook

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cascade-oss/cascade/internal/msg91"
	"github.com/cascade-oss/cascade/internal/rbm"
	"github.com/cascade-oss/cascade/internal/secrets"
	"github.com/cascade-oss/cascade/internal/status"
	"github.com/cascade-oss/cascade/internal/whatsapp"
)

// ErrParked marks a verified body that carries nothing to apply but
// must be kept (an unknown object, an inbound message).
var ErrParked = errors.New("nothing to apply")

// WhatsApp is Meta's side of the WhatsApp webhook: the GET
// verification handshake, X-Hub-Signature-256 over the raw body, and
// batched statuses. Its secret holds appSecret and verifyToken.
type WhatsApp struct{}

// Channel is whatsapp.
func (WhatsApp) Channel() string { return "whatsapp" }

// MaxBody is Meta's documented 3 MB.
func (WhatsApp) MaxBody() int { return whatsapp.MaxBody }

// Handshake answers Meta's GET with the challenge when the verify
// token matches.
func (WhatsApp) Handshake(r Request, sec secrets.Values) (string, bool, error) {
	if r.Method != http.MethodGet {
		return "", false, nil
	}
	c, err := whatsapp.Handshake(r.Query, sec["verifyToken"])
	return c, true, err
}

// Verify checks the signature over the bytes as received.
func (WhatsApp) Verify(r Request, sec secrets.Values) error {
	return whatsapp.VerifySignature([]byte(sec["appSecret"]), r.Body, r.Header(whatsapp.SignatureHeader))
}

// Parse reads the statuses. Parts that are not statuses are parked by
// the caller when nothing else came.
func (w WhatsApp) Parse(r Request) ([]status.Event, error) {
	evs, _, err := w.ParseAll(r)
	return evs, err
}

// ParseAll reads the statuses and returns the parts beside them that
// carry nothing to apply (an inbound message, a status of an unknown
// value), for the caller to park. A body with nothing to apply at all
// is ErrParked, and parked whole.
func (WhatsApp) ParseAll(r Request) ([]status.Event, []Leftover, error) {
	b, err := whatsapp.ParseWebhook(r.Body)
	if err != nil {
		return nil, nil, err
	}
	if len(b.Events) == 0 && len(b.Parked) > 0 {
		return nil, nil, fmt.Errorf("%w: %s", ErrParked, b.Parked[0].Reason)
	}
	left := make([]Leftover, len(b.Parked))
	for i, p := range b.Parked {
		left[i] = Leftover{Reason: p.Reason, Raw: p.Raw}
	}
	return b.Events, left, nil
}

// RBM is Google's side of the RCS webhook: the clientToken/secret
// handshake and X-Goog-Signature over the decoded message data. Its
// secret holds clientToken.
type RBM struct{}

// Channel is rcs.
func (RBM) Channel() string { return "rcs" }

// MaxBody is a Pub/Sub push's limit.
func (RBM) MaxBody() int { return rbm.MaxBody }

// Handshake answers the one-off set-up POST with its secret.
func (RBM) Handshake(r Request, sec secrets.Values) (string, bool, error) {
	if !strings.Contains(string(r.Body), `"clientToken"`) || strings.Contains(string(r.Body), `"message"`) {
		return "", false, nil
	}
	w, err := rbm.ParseWebhook(r.Body, sec["clientToken"])
	if err != nil {
		return "", true, err
	}
	if w.Secret == "" {
		return "", true, errors.New("handshake without a secret")
	}
	return w.Secret, true, nil
}

// Verify checks the signature over the decoded message data.
func (RBM) Verify(r Request, sec secrets.Values) error {
	// The signature covers the decoded message.data alone, so a body
	// whose event we cannot read can still be proved Google's (and is
	// then parked, not refused).
	var env struct {
		Message struct {
			Data string `json:"data"`
		} `json:"message"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil {
		return fmt.Errorf("%w: body is not JSON", ErrUnauthorized)
	}
	data, err := base64.StdEncoding.DecodeString(env.Message.Data)
	if err != nil {
		return fmt.Errorf("%w: message.data is not base64", ErrUnauthorized)
	}
	return rbm.VerifySignature(sec["clientToken"], data, r.Header(rbm.SignatureHeader))
}

// Parse reads the event.
func (RBM) Parse(r Request) ([]status.Event, error) {
	w, err := rbm.ParseWebhook(r.Body, "")
	if err != nil {
		return nil, err
	}
	return w.Events, nil
}

// MSG91 is MSG91's delivery-report webhook. MSG91 signs nothing, so
// the URL carries a per-tenant token, compared in constant time. Its
// secret holds webhookToken.
type MSG91 struct{}

// Channel is sms.
func (MSG91) Channel() string { return "sms" }

// MaxBody bounds a report POST.
func (MSG91) MaxBody() int { return msg91.MaxBody }

// Handshake: MSG91 has none.
func (MSG91) Handshake(Request, secrets.Values) (string, bool, error) { return "", false, nil }

// Verify compares the URL's token with the tenant's.
func (MSG91) Verify(r Request, sec secrets.Values) error {
	if !msg91.TokenMatches(r.Query.Get("token"), sec["webhookToken"]) {
		return ErrUnauthorized
	}
	return nil
}

// Parse reads the delivery reports.
func (MSG91) Parse(r Request) ([]status.Event, error) {
	return msg91.ParseReport(r.Header("Content-Type"), r.Body)
}
