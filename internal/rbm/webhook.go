package rbm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/status"
)

// MaxBody is the largest webhook body read. RBM documents no limit
// [U]; Pub/Sub caps a message at 10 MB, and RBM events are far smaller
// (an AgentMessage is at most 250 KB).
const MaxBody = 10 << 20

// Errors from reading a webhook body.
var (
	// ErrTooLarge means a body is over MaxBody.
	ErrTooLarge = errors.New("webhook body over 10 MB")
	// ErrNoMessage means a body is neither a handshake nor a Pub/Sub
	// push with message.data.
	ErrNoMessage = errors.New("no handshake and no message.data")
)

// Webhook is one POST to the RBM webhook URL, parsed but not yet
// trusted.
//
// When Secret is set the POST is the one-off set-up handshake, and
// its clientToken already matched: answer 200 with Secret as the plain
// text body. Otherwise the POST carries one event: check it with
// Verify (or VerifySignature on Data) before applying Events.
type Webhook struct {
	Secret string
	// Data is the decoded message.data: the bytes the signature covers.
	Data []byte
	// Events holds the attempt status the event reports, if any.
	Events []status.Event
	// Notices holds an event that is not an attempt status.
	Notices []Notice
}

// Notice is an RBM event that moves no attempt: a revoke on expiry
// that failed (a DELIVERED may follow), typing, subscribe, an opt-out,
// a user's message or tap, or an event type we do not know.
type Notice struct {
	// Type is RBM's eventType, or MESSAGE or SUGGESTION_RESPONSE for
	// what a user sent.
	Type      string
	EventID   string
	MessageID string
	// Phone is the user's number as RBM sent it (E.164).
	Phone string
	At    time.Time
	// OptOut is set for UNSUBSCRIBE and for a user message reading
	// STOP, which Google Messages sends in India: promotional messages
	// to this number must stop.
	OptOut bool
	Reason string
}

// Verify checks the webhook's X-Goog-Signature header value against
// its Data.
func (w Webhook) Verify(clientToken, header string) error {
	return VerifySignature(clientToken, w.Data, header)
}

// envelope is either the handshake or the Pub/Sub push (reference 2.6).
type envelope struct {
	ClientToken *string `json:"clientToken"`
	Secret      string  `json:"secret"`
	Message     *pubsub `json:"message"`
}

type pubsub struct {
	Data        string `json:"data"`
	MessageID   string `json:"messageId"`
	PublishTime string `json:"publishTime"`
}

// ParseWebhook reads a POST to the RBM webhook URL. A handshake whose
// clientToken is not clientToken is ErrBadClientToken. For an event,
// the signature is not checked here, since it lives in a header: call
// Verify before trusting the result. Malformed JSON or base64 is an
// error.
//
// What an event is comes from its decoded data, not from the push's
// message.attributes.type, whose value for events is unconfirmed [U].
func ParseWebhook(body []byte, clientToken string) (Webhook, error) {
	if len(body) > MaxBody {
		return Webhook{}, ErrTooLarge
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Webhook{}, fmt.Errorf("decode rbm webhook: %w", err)
	}
	if env.ClientToken != nil {
		return handshake(env, clientToken)
	}
	if env.Message == nil || env.Message.Data == "" {
		return Webhook{}, ErrNoMessage
	}

	data, err := base64.StdEncoding.DecodeString(env.Message.Data)
	if err != nil {
		return Webhook{}, fmt.Errorf("decode rbm message.data: %w", err)
	}
	w := Webhook{Data: data}
	if err := w.read(env.Message.PublishTime); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// handshake checks the one-off set-up POST.
func handshake(env envelope, clientToken string) (Webhook, error) {
	if clientToken == "" {
		return Webhook{}, ErrNoClientToken
	}
	if !tokenMatches(*env.ClientToken, clientToken) {
		return Webhook{}, ErrBadClientToken
	}
	if env.Secret == "" {
		return Webhook{}, fmt.Errorf("rbm handshake without a secret: %w", ErrNoMessage)
	}
	return Webhook{Secret: env.Secret}, nil
}

// event is a decoded UserEvent, ServerEvent or UserMessage. A user
// event names the user senderPhoneNumber; a server event phoneNumber.
type event struct {
	SenderPhone string `json:"senderPhoneNumber"`
	Phone       string `json:"phoneNumber"`
	EventType   string `json:"eventType"`
	EventID     string `json:"eventId"`
	MessageID   string `json:"messageId"`
	SendTime    string `json:"sendTime"`
	Text        string `json:"text"`
	Suggestion  *struct {
		PostbackData string `json:"postbackData"`
	} `json:"suggestionResponse"`
}

// read decodes w.Data into an event or a notice. publishTime stands in
// for a missing sendTime.
func (w *Webhook) read(publishTime string) error {
	var e event
	if err := json.Unmarshal(w.Data, &e); err != nil {
		return fmt.Errorf("decode rbm event: %w", err)
	}
	phone := e.SenderPhone
	if phone == "" {
		phone = e.Phone
	}
	at := parseTime(e.SendTime, publishTime)
	n := Notice{Type: e.EventType, EventID: e.EventID, MessageID: e.MessageID,
		Phone: phone, At: at}

	switch e.EventType {
	case "DELIVERED", "READ", "TTL_EXPIRATION_REVOKED":
		if e.MessageID == "" || at.IsZero() {
			n.Reason = "status without message id or time"
			break
		}
		w.Events = append(w.Events, toEvent(e, phone, at))
		return nil
	case "":
		userMessage(e, &n)
	default:
		explainNotice(&n)
	}
	w.Notices = append(w.Notices, n)
	return nil
}

// toEvent turns a status-bearing event into an attempt event; our
// attempt id is the messageId we chose.
func toEvent(e event, phone string, at time.Time) status.Event {
	ev := status.Event{
		AttemptID: e.MessageID, ProviderID: e.MessageID,
		Recipient: phone, At: at,
	}
	switch e.EventType {
	case "DELIVERED":
		ev.Status = status.Delivered
	case "READ":
		ev.Status = status.Read
	default:
		// RBM revoked the message itself when its ttl ran out, before
		// delivery: a good trigger to fall back now.
		ev.Status = status.Failed
		ev.Code = e.EventType
		ev.Class, ev.Reason = failure.RBMExpired.Class, failure.RBMExpired.Reason
	}
	return ev
}

// explainNotice says why an event with a type moves no attempt.
func explainNotice(n *Notice) {
	switch n.Type {
	case "TTL_EXPIRATION_REVOKE_FAILED":
		n.Reason = "expiry revoke failed; the message was or will be delivered"
	case "UNSUBSCRIBE":
		n.OptOut = true
		n.Reason = "user unsubscribed from promotional messages"
	case "SUBSCRIBE", "IS_TYPING":
		n.Reason = "user activity"
	default:
		n.Reason = "unknown event type"
	}
}

// userMessage fills a notice for what a user sent: a tap on a
// suggestion, or text, where STOP opts the user out.
func userMessage(e event, n *Notice) {
	switch {
	case e.Suggestion != nil:
		n.Type = "SUGGESTION_RESPONSE"
		n.Reason = "user tapped a suggestion"
	case e.Text != "":
		n.Type = "MESSAGE"
		n.OptOut = strings.EqualFold(strings.TrimSpace(e.Text), "stop")
		n.Reason = "user message"
	default:
		n.Type = "UNKNOWN"
		n.Reason = "event without type or content"
	}
}

// parseTime reads the event's RFC 3339 time, else the push's, else
// returns the zero time.
func parseTime(times ...string) time.Time {
	for _, s := range times {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
