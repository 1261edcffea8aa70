// Package webhook receives providers' delivery reports on Lambda
// function URLs. For each call it finds the tenant named in the URL,
// checks that the provider sent it (signature or secret token, before
// anything else is trusted), parses the statuses and applies each one
// to its attempt. It answers quickly: 200 once every status is stored
// or kept as pending, 5xx when storage failed so the provider retries,
// and 4xx only for calls the provider did not make.
package webhook

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cascade-oss/cascade/internal/cache"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/phone"
	"github.com/cascade-oss/cascade/internal/secrets"
	"github.com/cascade-oss/cascade/internal/status"
)

// Request is a provider's call, decoded from the function URL event.
type Request struct {
	Method  string
	Query   url.Values
	Headers map[string]string // names in lower case
	Body    []byte
}

// Header returns a header whatever the case of its name.
func (r Request) Header(name string) string { return r.Headers[strings.ToLower(name)] }

// Provider is one provider's side of the webhook: its set-up
// handshake, its proof of origin and its payload.
type Provider interface {
	// Channel is the channel the provider serves.
	Channel() string
	// MaxBody is the largest body the provider documents.
	MaxBody() int
	// Handshake answers a set-up call; ok is false for other calls.
	Handshake(r Request, sec secrets.Values) (body string, ok bool, err error)
	// Verify proves the call came from the provider.
	Verify(r Request, sec secrets.Values) error
	// Parse turns a verified body into status events.
	Parse(r Request) ([]status.Event, error)
}

// Store is what the webhooks need from storage.
type Store interface {
	Channel(ctx context.Context, tenant, ch string) (dynamo.ChannelConfig, error)
	FindByMessage(ctx context.Context, msgKey string) (dynamo.Attempt, error)
	ApplyStatus(ctx context.Context, k dynamo.AttemptKeyOf, ev status.Event) (dynamo.Applied, error)
	AddPending(ctx context.Context, msgKey string, ev status.Event) error
	Park(ctx context.Context, channel, tenant, body, reason string) error
}

// Secrets reads provider credentials.
type Secrets interface {
	Get(ctx context.Context, arn string) (secrets.Values, error)
	// Refresh reads the credential again unless it was read less than
	// minAge ago, and says whether it did.
	Refresh(ctx context.Context, arn string, minAge time.Duration) (secrets.Values, bool, error)
}

// refreshAfter is how old a cached credential must be before a failed
// signature makes the webhook read it again.
const refreshAfter = 10 * time.Second

// Handler serves one provider's webhook URL.
type Handler struct {
	channels *cache.TTL[string, dynamo.ChannelConfig]
	p        Provider
	store    Store
	secrets  Secrets
	log      *slog.Logger
	metrics  func(name, channel string)
}

// New returns a handler for p. metrics, if not nil, is told of every
// rejected call (for the WebhookRejected alarm).
func New(p Provider, st Store, sec Secrets, log *slog.Logger, metrics func(name, channel string)) *Handler {
	if metrics == nil {
		metrics = func(string, string) {}
	}
	return &Handler{p: p, store: st, secrets: sec, log: log.With("channel", p.Channel()), metrics: metrics,
		channels: cache.New[string, dynamo.ChannelConfig](30 * time.Second)}
}

// Errors that become 4xx answers.
var (
	ErrUnauthorized = errors.New("signature or token not valid")
	ErrTooLarge     = errors.New("body over the provider's limit")
)

// Handle answers one function URL call. It always returns a nil error:
// every outcome is an HTTP answer.
func (h *Handler) Handle(ctx context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	code, body := h.serve(ctx, ev)
	if code >= 400 && code < 500 {
		h.metrics("WebhookRejected", h.p.Channel())
	}
	return events.LambdaFunctionURLResponse{
		StatusCode: code,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body:       body,
	}, nil
}

func (h *Handler) serve(ctx context.Context, ev events.LambdaFunctionURLRequest) (int, string) {
	req, err := decode(ev, h.p.MaxBody())
	if errors.Is(err, ErrTooLarge) {
		return http.StatusRequestEntityTooLarge, "body too large"
	}
	if err != nil {
		return http.StatusBadRequest, "body: not valid base64"
	}
	tenant := req.Query.Get("tenant")
	if tenant == "" {
		return http.StatusNotFound, "tenant: required in the URL"
	}
	cfg, err := h.channels.Get(tenant, func() (dynamo.ChannelConfig, error) {
		return h.store.Channel(ctx, tenant, h.p.Channel())
	})
	if errors.Is(err, dynamo.ErrNotFound) {
		return http.StatusNotFound, "tenant: no such channel"
	}
	if err != nil {
		h.log.ErrorContext(ctx, "channel lookup failed", "err", err)
		return http.StatusInternalServerError, "try again"
	}
	sec, err := h.secrets.Get(ctx, cfg.SecretARN)
	if err != nil {
		h.log.ErrorContext(ctx, "secret lookup failed", "err", err)
		return http.StatusInternalServerError, "try again"
	}

	if body, ok, err := h.p.Handshake(req, sec); ok || err != nil {
		if err != nil {
			h.log.WarnContext(ctx, "handshake refused", "tenant", tenant, "err", err)
			return http.StatusForbidden, "handshake refused"
		}
		return http.StatusOK, body
	}
	if err := h.p.Verify(req, sec); err != nil {
		// The tenant may have rotated the credential since it was
		// cached: read it once more before refusing.
		fresh, reread, rerr := h.secrets.Refresh(ctx, cfg.SecretARN, refreshAfter)
		if rerr != nil {
			h.log.ErrorContext(ctx, "secret lookup failed", "err", rerr)
			return http.StatusInternalServerError, "try again"
		}
		if !reread || h.p.Verify(req, fresh) != nil {
			h.log.WarnContext(ctx, "webhook rejected", "tenant", tenant, "err", err)
			return http.StatusUnauthorized, "signature: not valid"
		}
	}

	evs, left, err := parse(h.p, req)
	if err != nil {
		// The provider sent it, so a 4xx would only make it retry the
		// same body for days: keep it for a person to look at.
		h.log.WarnContext(ctx, "webhook parked", "tenant", tenant, "err", err)
		if err := h.store.Park(ctx, h.p.Channel(), tenant, string(req.Body), err.Error()); err != nil {
			h.log.ErrorContext(ctx, "park failed", "err", err)
			return http.StatusInternalServerError, "try again"
		}
		return http.StatusOK, "parked"
	}
	// The parts beside the statuses are kept too: a 200 promises the
	// provider that nothing it sent was lost (issue 9, fault 6).
	for _, l := range left {
		if err := h.store.Park(ctx, h.p.Channel(), tenant, string(l.Raw), l.Reason); err != nil {
			h.log.ErrorContext(ctx, "park failed", "err", err)
			return http.StatusInternalServerError, "try again"
		}
		h.log.WarnContext(ctx, "webhook part parked", "tenant", tenant, "reason", l.Reason)
	}
	if err := h.apply(ctx, tenant, evs); err != nil {
		h.log.ErrorContext(ctx, "webhook not stored", "tenant", tenant, "err", err)
		return http.StatusInternalServerError, "try again"
	}
	return http.StatusOK, "ok"
}

// Leftover is a verified part of a webhook body that carries nothing
// to apply, kept for a person to look at.
type Leftover struct {
	Reason string
	Raw    []byte
}

// leftoverParser is a Provider whose bodies can hold such parts beside
// the statuses.
type leftoverParser interface {
	ParseAll(r Request) ([]status.Event, []Leftover, error)
}

// parse reads a verified body with the provider's fullest parser.
func parse(p Provider, r Request) ([]status.Event, []Leftover, error) {
	if lp, ok := p.(leftoverParser); ok {
		return lp.ParseAll(r)
	}
	evs, err := p.Parse(r)
	return evs, nil, err
}

// applyParallel is how many messages' statuses one POST applies at
// once. Meta batches many statuses in a POST and each costs a few
// table round trips; one after another, a large batch outlasted the
// provider's patience, and its retry arrived after the cascade had
// given up waiting.
const applyParallel = 8

// apply stores every event. Statuses of one message stay in arrival
// order; different messages go in parallel. On a storage error the
// POST fails as a whole, and the provider's retry repeats the statuses
// already applied as no-ops.
func (h *Handler) apply(ctx context.Context, tenant string, evs []status.Event) error {
	var order []string
	byMessage := map[string][]status.Event{}
	for _, ev := range evs {
		k := ev.AttemptID + "|" + ev.ProviderID
		if _, seen := byMessage[k]; !seen {
			order = append(order, k)
		}
		byMessage[k] = append(byMessage[k], ev)
	}
	if len(order) == 1 {
		return h.applyAll(ctx, tenant, byMessage[order[0]])
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		slots = make(chan struct{}, applyParallel)
	)
	for _, k := range order {
		slots <- struct{}{}
		wg.Add(1)
		go func(evs []status.Event) {
			defer func() { <-slots; wg.Done() }()
			if err := h.applyAll(ctx, tenant, evs); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}(byMessage[k])
	}
	wg.Wait()
	return first
}

// applyAll applies one message's statuses in order, stopping at the
// first error.
func (h *Handler) applyAll(ctx context.Context, tenant string, evs []status.Event) error {
	for _, ev := range evs {
		if err := h.applyOne(ctx, tenant, ev); err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) applyOne(ctx context.Context, tenant string, ev status.Event) error {
	id := ev.AttemptID
	if id == "" {
		id = ev.ProviderID
	}
	if id == "" {
		return nil
	}
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	msgKey := dynamo.MessageKey(h.p.Channel(), id)
	a, err := h.store.FindByMessage(ctx, msgKey)
	if errors.Is(err, dynamo.ErrNotFound) {
		// Early: the sender has not stored the provider's id yet. Keep
		// the event, then look once more in case the sender stored the
		// id meanwhile and already checked for pending events.
		if err := h.store.AddPending(ctx, msgKey, ev); err != nil {
			return err
		}
		a, err = h.store.FindByMessage(ctx, msgKey)
		if errors.Is(err, dynamo.ErrNotFound) {
			h.log.InfoContext(ctx, "status kept as pending", "messageKey", msgKey, "status", string(ev.Status))
			return nil
		}
	}
	if err != nil {
		return err
	}
	if a.Tenant != tenant {
		// Another tenant's message: treat it as unknown, change nothing.
		h.log.WarnContext(ctx, "status for another tenant ignored", "messageKey", msgKey)
		return nil
	}
	res, err := h.store.ApplyStatus(ctx, a.Key(), ev)
	if err != nil {
		return err
	}
	h.log.InfoContext(ctx, "status applied", "attemptId", a.ID, "phone", phone.Number(a.Recipient),
		"status", string(ev.Status), "noOp", res.Change.NoOp, "reason", res.Change.Reason)
	return nil
}

// decode turns the function URL event into a Request, decoding a
// base64 body first (signatures are over the decoded bytes). The
// length is checked before decoding, so an oversized body is refused
// before it is read whole.
func decode(ev events.LambdaFunctionURLRequest, limit int) (Request, error) {
	raw := ev.Body
	if ev.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(raw)) > limit+3 {
			return Request{}, ErrTooLarge
		}
	} else if len(raw) > limit {
		return Request{}, ErrTooLarge
	}
	body := []byte(raw)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return Request{}, fmt.Errorf("decode body: %w", err)
		}
		if len(b) > limit {
			return Request{}, ErrTooLarge
		}
		body = b
	}
	headers := make(map[string]string, len(ev.Headers))
	for k, v := range ev.Headers {
		headers[strings.ToLower(k)] = v
	}
	q, err := url.ParseQuery(ev.RawQueryString)
	if err != nil {
		q = url.Values{}
	}
	for k, v := range ev.QueryStringParameters {
		if q.Get(k) == "" {
			q.Set(k, v)
		}
	}
	return Request{Method: ev.RequestContext.HTTP.Method, Query: q, Headers: headers, Body: body}, nil
}
