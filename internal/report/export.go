package report

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/status"
)

// Kind is what a report lists.
type Kind string

// The report kinds.
const (
	WhatsApp Kind = "whatsapp" // one row per WhatsApp attempt
	RCS      Kind = "rcs"      // one row per RCS attempt
	SMS      Kind = "sms"      // one row per SMS attempt
	Journey  Kind = "journey"  // one row per recipient
	Rejected Kind = "rejected" // one row per refused audience row
)

// Kinds lists every kind.
var Kinds = []Kind{WhatsApp, RCS, SMS, Journey, Rejected}

// ParseKind returns the kind named s.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown report kind %q: want whatsapp, rcs, sms, journey or rejected", s)
}

// Source pages through a campaign's items in key order; the store is
// one, and benchmarks use an in-process one.
type Source interface {
	Attempts(ctx context.Context, campaign string, fn func(dynamo.Attempt) error) error
	Recipients(ctx context.Context, campaign string, fn func(dynamo.Recipient) error) error
	RejectedRows(ctx context.Context, campaign string, fn func(dynamo.RejectedRow) error) error
}

// AttemptColumns are the columns of a channel report.
var AttemptColumns = []string{
	"campaign", "recipient", "step", "attempt_id", "status",
	"failure_class", "failure_code", "failure_reason",
	"queued_at", "submitted_at", "sent_at", "delivered_at", "read_at", "failed_at",
	"moved_on", "delivered_after_fallback", "provider_message_id",
}

// JourneyColumns are the columns of a journey report; the per-channel
// groups repeat for whatsapp, rcs and sms.
var JourneyColumns = append([]string{
	"campaign", "recipient", "audience_row", "outcome", "reached_on", "unreached_reason", "ended_at", "steps",
}, channelColumns()...)

// RejectedColumns are the columns of a rejected-rows report.
var RejectedColumns = []string{"campaign", "audience_row", "input", "reason"}

func channelColumns() []string {
	var out []string
	for _, ch := range []string{"whatsapp", "rcs", "sms"} {
		out = append(out, ch+"_status", ch+"_reason", ch+"_queued_at", ch+"_delivered_at", ch+"_failed_at")
	}
	return out
}

// Export writes the campaign's report of kind to w and returns the
// number of data rows.
func Export(ctx context.Context, src Source, kind Kind, campaign string, w *Writer) (int, error) {
	var rows int
	var err error
	switch kind {
	case WhatsApp, RCS, SMS:
		err = w.Write(AttemptColumns...)
		if err == nil {
			err = src.Attempts(ctx, campaign, func(a dynamo.Attempt) error {
				if a.Channel != string(kind) {
					return nil
				}
				rows++
				return w.Write(attemptRow(a)...)
			})
		}
	case Journey:
		rows, err = journeys(ctx, src, campaign, w)
	case Rejected:
		err = w.Write(RejectedColumns...)
		if err == nil {
			err = src.RejectedRows(ctx, campaign, func(r dynamo.RejectedRow) error {
				rows++
				return w.Write(campaign, strconv.Itoa(r.Row), r.Raw, r.Reason)
			})
		}
	default:
		err = fmt.Errorf("unknown report kind %q", kind)
	}
	if err != nil {
		return rows, fmt.Errorf("export %s report: %w", kind, err)
	}
	return rows, w.Flush()
}

func attemptRow(a dynamo.Attempt) []string {
	t := func(s status.Status) string { return a.Times[string(s)] }
	return []string{
		a.Campaign, a.Recipient, strconv.Itoa(a.Step), a.ID, string(a.Status),
		a.FailClass, a.FailCode, a.FailReason,
		t(status.Queued), t(status.Submitted), t(status.Sent), t(status.Delivered),
		t(status.Read), t(status.Failed),
		strconv.FormatBool(a.MovedOn), strconv.FormatBool(a.AfterFallback), a.ProviderID,
	}
}

// journeys merges the recipients with their attempts. Both come in
// the order of the number, so one pass over each keeps memory flat.
func journeys(ctx context.Context, src Source, campaign string, w *Writer) (int, error) {
	if err := w.Write(JourneyColumns...); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next, stop := iter.Pull2(attemptSeq(ctx, src, campaign))
	defer stop()
	pending, perr, more := next()

	rows := 0
	err := src.Recipients(ctx, campaign, func(r dynamo.Recipient) error {
		var mine []dynamo.Attempt
		for more && perr == nil && pending.Recipient <= r.Phone {
			if pending.Recipient == r.Phone {
				mine = append(mine, pending)
			}
			pending, perr, more = next()
		}
		if perr != nil {
			return perr
		}
		rows++
		return w.Write(journeyRow(campaign, r, mine)...)
	})
	return rows, err
}

func attemptSeq(ctx context.Context, src Source, campaign string) iter.Seq2[dynamo.Attempt, error] {
	return func(yield func(dynamo.Attempt, error) bool) {
		errStop := fmt.Errorf("stopped")
		err := src.Attempts(ctx, campaign, func(a dynamo.Attempt) error {
			if !yield(a, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && err != errStop {
			yield(dynamo.Attempt{}, err)
		}
	}
}

func journeyRow(campaign string, r dynamo.Recipient, as []dynamo.Attempt) []string {
	var steps []string
	byCh := map[string]dynamo.Attempt{}
	for _, a := range as {
		s := a.Channel + ":" + string(a.Status)
		if a.FailCode != "" {
			s += "(" + a.FailCode + ")"
		}
		steps = append(steps, s)
		byCh[a.Channel] = a // the latest step on a channel wins
	}
	row := []string{campaign, r.Phone, strconv.Itoa(r.Row), outcomeOf(r), r.ReachedOn, r.Why, r.EndedAt,
		strings.Join(steps, " > ")}
	for _, ch := range []string{"whatsapp", "rcs", "sms"} {
		a, ok := byCh[ch]
		if !ok {
			row = append(row, "", "", "", "", "")
			continue
		}
		row = append(row, string(a.Status), a.FailReason, a.Times[string(status.Queued)],
			a.Times[string(status.Delivered)], a.Times[string(status.Failed)])
	}
	return row
}

func outcomeOf(r dynamo.Recipient) string {
	if r.Outcome == "" {
		return "in progress"
	}
	return r.Outcome
}
