// Package sender is the per-channel sender: it handles one channel's
// queue (SQS), whose messages the cascade state machine sends with a
// task token. For each message it records the attempt first, claims
// the provider call once, then calls the provider. A synchronous
// refusal marks the attempt failed, which the status processor turns
// into the task's failure; an acceptance waits for the provider's
// webhooks. Throttling is retried with backoff through SQS.
package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cascade-oss/cascade/internal/cache"
	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/phone"
	"github.com/cascade-oss/cascade/internal/secrets"
	"github.com/cascade-oss/cascade/internal/status"
)

// Task is a message on a channel's queue: a step of the cascade with
// its task token, or (RCS) a request to revoke a timed-out step's
// message, which carries no token.
type Task struct {
	cascade.Task
	Revoke bool `json:"revoke,omitempty"`
}

// Request is everything a provider needs for one send.
type Request struct {
	Attempt  dynamo.Attempt
	To       phone.Number
	Content  campaign.Step
	Vars     map[string]string
	Config   dynamo.ChannelConfig
	Secret   secrets.Values
	Campaign campaign.Campaign
}

// Provider sends one message on a channel and returns the provider's
// message id. A refusal is a *failure.Error; a *DeferError asks to try
// again later; any other error is a transport problem.
type Provider interface {
	Send(ctx context.Context, r Request) (providerID string, err error)
	// ByProviderID reports whether webhooks name the attempt only by
	// the provider's id (MSG91), so the index must learn it.
	ByProviderID() bool
}

// Revoker withdraws an undelivered message after its step timed out.
type Revoker interface {
	Revoke(ctx context.Context, r Request) (revoked bool, err error)
}

// DeferError asks the sender to put the message back until a time,
// such as the opening of India's promotional SMS window.
type DeferError struct{ Until time.Time }

// Error says until when.
func (e *DeferError) Error() string {
	return "deferred until " + e.Until.UTC().Format(time.RFC3339)
}

// Store is what the sender needs from storage.
type Store interface {
	Campaign(ctx context.Context, tenant, id string) (campaign.Campaign, error)
	Channel(ctx context.Context, tenant, ch string) (dynamo.ChannelConfig, error)
	Recipient(ctx context.Context, campaign, e164 string) (dynamo.Recipient, error)
	RecordAttempt(ctx context.Context, n dynamo.NewAttempt) (dynamo.Attempt, bool, error)
	Attempt(ctx context.Context, k dynamo.AttemptKeyOf) (dynamo.Attempt, error)
	MarkMovedOn(ctx context.Context, k dynamo.AttemptKeyOf, missing dynamo.NewAttempt) error
	Claim(ctx context.Context, k dynamo.AttemptKeyOf, at time.Time) error
	Release(ctx context.Context, k dynamo.AttemptKeyOf) error
	ApplyStatus(ctx context.Context, k dynamo.AttemptKeyOf, ev status.Event) (dynamo.Applied, error)
	SetProviderID(ctx context.Context, k dynamo.AttemptKeyOf, channel, id string, byProviderID bool) error
	Pending(ctx context.Context, msgKey string) ([]status.Event, func(context.Context) error, error)
}

// Secrets reads provider credentials.
type Secrets interface {
	Get(ctx context.Context, arn string) (secrets.Values, error)
}

// Queue changes a message's visibility to back off.
type Queue interface {
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Config tunes the sender.
type Config struct {
	Channel  string
	QueueURL string
	// MaxReceives is how often a throttled send is tried before the
	// attempt fails with class retry; 5 if zero.
	MaxReceives int
	// Backoff is the first retry delay, doubled each time; 2 s if zero.
	Backoff time.Duration
}

// Handler handles one channel queue.
type Handler struct {
	campaigns *cache.TTL[string, campaign.Campaign]
	channels  *cache.TTL[string, dynamo.ChannelConfig]
	cfg       Config
	store     Store
	secrets   Secrets
	provider  Provider
	queue     Queue
	log       *slog.Logger
}

// New returns a sender for cfg.Channel.
func New(cfg Config, st Store, sec Secrets, p Provider, q Queue, log *slog.Logger) *Handler {
	if cfg.MaxReceives <= 0 {
		cfg.MaxReceives = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	return &Handler{cfg: cfg, store: st, secrets: sec, provider: p, queue: q,
		log:       log.With("channel", cfg.Channel),
		campaigns: cache.New[string, campaign.Campaign](cacheTTL),
		channels:  cache.New[string, dynamo.ChannelConfig](cacheTTL)}
}

// cacheTTL is how long a warm sender reuses a campaign's content and a
// tenant's channel settings; both change rarely, and a cancellation is
// seen within it.
const cacheTTL = 30 * time.Second

func (h *Handler) campaign(ctx context.Context, tenant, id string) (campaign.Campaign, error) {
	return h.campaigns.Get(tenant+"/"+id, func() (campaign.Campaign, error) {
		return h.store.Campaign(ctx, tenant, id)
	})
}

func (h *Handler) channel(ctx context.Context, tenant string) (dynamo.ChannelConfig, error) {
	return h.channels.Get(tenant, func() (dynamo.ChannelConfig, error) {
		return h.store.Channel(ctx, tenant, h.cfg.Channel)
	})
}

// errLater marks a message to be redelivered by SQS.
var errLater = errors.New("try again later")

// Handle sends every message of the batch; only the ones to try again
// are reported as batch item failures.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		err := h.one(ctx, m)
		if err == nil {
			continue
		}
		if !errors.Is(err, errLater) {
			h.log.ErrorContext(ctx, "send failed", "messageId", m.MessageId, "err", err)
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures,
			events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
	}
	return resp, nil
}

func (h *Handler) one(ctx context.Context, m events.SQSMessage) error {
	var t Task
	if err := json.Unmarshal([]byte(m.Body), &t); err != nil {
		// A body we cannot read will never become readable: log it
		// and let it go rather than loop until the DLQ.
		h.log.ErrorContext(ctx, "undecodable task", "messageId", m.MessageId, "err", err)
		return nil
	}
	req, err := h.load(ctx, t)
	if err != nil {
		return err
	}
	if t.Revoke {
		return h.revoke(ctx, t, req)
	}
	if t.Step > 0 {
		prev := dynamo.AttemptKeyOf{Campaign: t.Campaign, Recipient: t.Recipient, Step: t.Step - 1}
		missing := dynamo.NewAttempt{Tenant: t.Tenant, Campaign: t.Campaign, Recipient: t.Recipient,
			Channel: stepChannel(req.Campaign, t.Step-1), Step: t.Step - 1, At: time.Now()}
		if err := h.store.MarkMovedOn(ctx, prev, missing); err != nil {
			return err
		}
	}
	a, created, err := h.store.RecordAttempt(ctx, dynamo.NewAttempt{
		Tenant: t.Tenant, Campaign: t.Campaign, Recipient: t.Recipient,
		Channel: h.cfg.Channel, Step: t.Step, TaskToken: t.TaskToken, At: time.Now(),
	})
	if err != nil {
		return err
	}
	if !created && a.Status != status.Queued {
		return nil // a redelivery of a message already handled
	}
	req.Attempt = a
	return h.send(ctx, m, req)
}

// load reads the campaign, the recipient and the channel's settings.
func (h *Handler) load(ctx context.Context, t Task) (Request, error) {
	c, err := h.campaign(ctx, t.Tenant, t.Campaign)
	if err != nil {
		return Request{}, err
	}
	var content campaign.Step
	for _, s := range c.Channels {
		if string(s.Channel) == h.cfg.Channel {
			content = s
		}
	}
	r, err := h.store.Recipient(ctx, t.Campaign, t.Recipient)
	if err != nil {
		return Request{}, err
	}
	cfg, err := h.channel(ctx, t.Tenant)
	if err != nil {
		return Request{}, fmt.Errorf("channel not connected: %w", err)
	}
	sec, err := h.secrets.Get(ctx, cfg.SecretARN)
	if err != nil {
		return Request{}, err
	}
	return Request{To: phone.Number(t.Recipient), Content: content, Vars: r.Vars,
		Config: cfg, Secret: sec, Campaign: c}, nil
}

// send claims the attempt and calls the provider once.
func (h *Handler) send(ctx context.Context, m events.SQSMessage, req Request) error {
	k := req.Attempt.Key()
	log := h.log.With("attemptId", req.Attempt.ID, "phone", req.To, "step", k.Step)
	if err := h.store.Claim(ctx, k, time.Now()); err != nil {
		if errors.Is(err, dynamo.ErrClaimed) {
			// An earlier run may have reached the provider; a second
			// send could deliver twice, so the step waits for its
			// webhook or its timeout instead.
			log.WarnContext(ctx, "attempt already claimed, not sending again")
			return nil
		}
		return err
	}

	id, err := h.provider.Send(ctx, req)
	if err == nil {
		log.InfoContext(ctx, "provider accepted")
		return h.accepted(ctx, req, id)
	}

	var deferred *DeferError
	var refused *failure.Error
	switch {
	case errors.As(err, &deferred):
		return h.later(ctx, m, k, time.Until(deferred.Until), log, err)
	case errors.As(err, &refused) && refused.Class != failure.Retry:
		log.InfoContext(ctx, "provider refused", "class", string(refused.Class), "code", refused.Code)
		return h.fail(ctx, k, refused)
	case errors.As(err, &refused):
	default:
		refused = &failure.Error{Class: failure.Retry, Reason: "provider unreachable", Provider: h.cfg.Channel}
	}
	// Throttled or unreachable: the provider did not take the message,
	// so it may be sent again after a backoff, a few times.
	n := receiveCount(m)
	if n >= h.cfg.MaxReceives {
		log.WarnContext(ctx, "retries exhausted", "receives", n, "err", err)
		return h.fail(ctx, k, refused)
	}
	return h.later(ctx, m, k, h.cfg.Backoff<<(n-1), log, err)
}

// later releases the claim and hides the message for wait.
func (h *Handler) later(ctx context.Context, m events.SQSMessage, k dynamo.AttemptKeyOf, wait time.Duration, log *slog.Logger, cause error) error {
	if err := h.store.Release(ctx, k); err != nil {
		return err
	}
	secs := int32(min(max(wait, time.Second), 12*time.Hour) / time.Second)
	_, err := h.queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(h.cfg.QueueURL),
		ReceiptHandle:     aws.String(m.ReceiptHandle),
		VisibilityTimeout: secs,
	})
	if err != nil {
		log.WarnContext(ctx, "backoff not set", "err", err)
	}
	log.InfoContext(ctx, "send postponed", "seconds", secs, "reason", cause.Error())
	return errLater
}

func (h *Handler) fail(ctx context.Context, k dynamo.AttemptKeyOf, e *failure.Error) error {
	_, err := h.store.ApplyStatus(ctx, k, status.Event{
		Status: status.Failed, At: time.Now(),
		Class: e.Class, Code: e.Code, Reason: e.Reason,
	})
	return err
}

// accepted records the provider's id and applies any webhook that
// arrived before it could be matched.
func (h *Handler) accepted(ctx context.Context, req Request, id string) error {
	k := req.Attempt.Key()
	byID := h.provider.ByProviderID()
	if err := h.store.SetProviderID(ctx, k, h.cfg.Channel, id, byID); err != nil {
		return err
	}
	_, err := h.store.ApplyStatus(ctx, k, status.Event{
		Status: status.Submitted, ProviderID: id, At: time.Now(),
	})
	// Statuses that named the provider's id before it was stored wait
	// under it (RBM's id is ours, so nothing can wait there).
	if err != nil || id == req.Attempt.ID {
		return err
	}
	return h.applyPending(ctx, k, dynamo.MessageKey(h.cfg.Channel, id))
}

// applyPending applies the statuses that arrived before the provider's
// id was stored, then deletes them; when another one arrives during
// that, it reads them again (applying one twice is a no-op).
func (h *Handler) applyPending(ctx context.Context, k dynamo.AttemptKeyOf, msgKey string) error {
	for try := 0; try < 5; try++ {
		evs, clear, err := h.store.Pending(ctx, msgKey)
		if err != nil || len(evs) == 0 {
			return err
		}
		for _, ev := range evs {
			if _, err := h.store.ApplyStatus(ctx, k, ev); err != nil {
				return err
			}
		}
		err = clear(ctx)
		if !errors.Is(err, dynamo.ErrConflict) {
			return err
		}
	}
	return nil
}

// revoke withdraws an RCS message whose step timed out. Revoked means
// never delivered, so the attempt fails; not revoked means it was
// delivered, and its webhook will say so.
func (h *Handler) revoke(ctx context.Context, t Task, req Request) error {
	rv, ok := h.provider.(Revoker)
	if !ok {
		return nil
	}
	a, err := h.store.Attempt(ctx, dynamo.AttemptKeyOf{Campaign: t.Campaign, Recipient: t.Recipient, Step: t.Step})
	if errors.Is(err, dynamo.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.Status.Terminal() {
		return nil
	}
	req.Attempt = a
	revoked, err := rv.Revoke(ctx, req)
	if err != nil {
		return err
	}
	h.log.InfoContext(ctx, "revoke after timeout", "attemptId", a.ID, "revoked", revoked)
	if !revoked {
		return nil
	}
	_, err = h.store.ApplyStatus(ctx, a.Key(), status.Event{
		Status: status.Failed, At: time.Now(), Class: failure.FallbackNow,
		Code: "revoked", Reason: "revoked after timeout",
	})
	return err
}

func receiveCount(m events.SQSMessage) int {
	n, err := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// stepChannel is the channel of step i of a campaign's plan: the i-th
// channel in fallback mode, the one channel in retries mode.
func stepChannel(c campaign.Campaign, i int) string {
	if c.Mode == campaign.Retries || i >= len(c.Channels) {
		return string(c.Channels[0].Channel)
	}
	return string(c.Channels[i].Channel)
}
