// Package outcome records how each recipient's journey ended. The
// cascade state machine sends one message per execution to the outcome
// queue (SQS); this handler stores it on the recipient and counts it in
// the campaign's reached and unreached counters, once.
package outcome

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/phone"
)

// Store is what the handler needs from storage.
type Store interface {
	SetOutcome(ctx context.Context, campaign, e164, outcome, channel, why string, at time.Time) error
}

// Handler handles outcome queue batches.
type Handler struct {
	store Store
	log   *slog.Logger
}

// New returns a handler.
func New(s Store, log *slog.Logger) *Handler { return &Handler{store: s, log: log} }

// Handle stores every outcome in the batch and reports the ones that
// failed, so SQS redelivers only those.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		if err := h.one(ctx, m.Body); err != nil {
			h.log.ErrorContext(ctx, "outcome not stored", "messageId", m.MessageId, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (h *Handler) one(ctx context.Context, body string) error {
	var m cascade.Outcome
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return fmt.Errorf("decode outcome: %w", err)
	}
	if m.Campaign == "" || m.Recipient == "" {
		return fmt.Errorf("outcome without campaign or recipient")
	}
	channel, why := "", ""
	switch {
	case m.Outcome == dynamo.OutcomeDelivered && m.Result != nil:
		channel = string(m.Result.Channel)
	case m.Outcome == dynamo.OutcomeUnreached:
		why = Why(m.Error)
	default:
		return fmt.Errorf("unknown outcome %q", m.Outcome)
	}
	h.log.InfoContext(ctx, "journey ended", "campaign", m.Campaign,
		"phone", phone.Number(m.Recipient), "outcome", m.Outcome,
		"channel", channel, "why", why)
	return h.store.SetOutcome(ctx, m.Campaign, m.Recipient, m.Outcome, channel, why, time.Now())
}

// Why turns the last error of an unreached journey into a short reason
// for statistics: the failure class, timeout, or error.
func Why(e *cascade.Error) string {
	if e == nil {
		return "unknown"
	}
	if c, err := failure.FromErrorName(e.Error); err == nil {
		return string(c)
	}
	if strings.HasSuffix(e.Error, "Timeout") {
		return "timeout"
	}
	return "error"
}
