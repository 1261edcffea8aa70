// Package callback is the status processor: it reads the table's
// DynamoDB stream and turns each attempt's first terminal status into
// the cascade's task callback, SendTaskSuccess for delivered or read
// and SendTaskFailure, named for the failure class, for failed.
//
// A callback for a task that already timed out is expected: the
// cascade moved on. A late delivery is then counted as delivered after
// fallback; a late failure is only logged.
package callback

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
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/channel"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/phone"
	"github.com/cascade-oss/cascade/internal/status"
)

// SFN is the part of the Step Functions client the processor uses.
type SFN interface {
	SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

// Store is the part of the store the processor uses.
type Store interface {
	MarkCallback(context.Context, dynamo.AttemptKeyOf, time.Time) (bool, error)
	MarkAfterFallback(context.Context, dynamo.AttemptKeyOf) error
	MarkAfterFallbackIfMovedOn(context.Context, dynamo.AttemptKeyOf) error
}

// Processor handles stream batches.
type Processor struct {
	sfn   SFN
	store Store
	log   *slog.Logger
}

// New returns a processor.
func New(s SFN, st Store, log *slog.Logger) *Processor {
	return &Processor{sfn: s, store: st, log: log}
}

// Handle processes one stream batch. A record that fails is reported
// by its sequence number, so Lambda retries from it; earlier records
// are not repeated, and a repeated one is harmless.
func (p *Processor) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		if err := p.record(ctx, rec); err != nil {
			p.log.ErrorContext(ctx, "stream record failed",
				"sequence", rec.Change.SequenceNumber, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			// Stream order matters: stop at the first failure.
			break
		}
	}
	return resp, nil
}

// transition is an attempt's move as the stream shows it.
type transition struct {
	key       dynamo.AttemptKeyOf
	id        string
	channel   string
	token     string
	from, to  status.Status
	class     string
	code      string
	reason    string
	recipient phone.Number
}

func (p *Processor) record(ctx context.Context, rec events.DynamoDBEventRecord) error {
	tr, ok := parse(rec)
	if !ok || !tr.to.Terminal() || tr.from.Terminal() || tr.token == "" {
		return nil
	}
	first, err := p.store.MarkCallback(ctx, tr.key, time.Now())
	if err != nil {
		return err
	}
	err = p.send(ctx, tr)
	if err == nil {
		p.log.InfoContext(ctx, "task answered", "attemptId", tr.id, "channel", tr.channel, "status", string(tr.to))
	}
	if err == nil && tr.to.Success() {
		// moto accepts a late success while the execution runs on
		// (AWS answers TaskTimedOut), so the store also knows: an
		// attempt the cascade moved on from was delivered after it.
		return p.store.MarkAfterFallbackIfMovedOn(ctx, tr.key)
	}
	if !closedTask(err) {
		return err
	}
	log := p.log.With("attemptId", tr.id, "channel", tr.channel,
		"status", string(tr.to), "phone", tr.recipient)
	if !first {
		log.InfoContext(ctx, "callback already made")
		if !tr.to.Success() {
			return nil
		}
		// A retried batch also lands here when an earlier run died
		// between MarkCallback and the callback, so the task may have
		// closed by timeout rather than by our answer. Once the cascade
		// moved on, the delivery came after fallback either way; the
		// store counts it at most once (fault 13 of issue 9).
		// TODO(cascade): a last step that timed out has no moved-on
		// mark, so a death in that window still loses its count; it can
		// go when MarkCallback records whether the callback was taken.
		return p.store.MarkAfterFallbackIfMovedOn(ctx, tr.key)
	}
	if !tr.to.Success() {
		log.InfoContext(ctx, "failure after the task closed")
		return nil
	}
	log.InfoContext(ctx, "delivered after fallback")
	return p.store.MarkAfterFallback(ctx, tr.key)
}

func (p *Processor) send(ctx context.Context, tr transition) error {
	if tr.to.Success() {
		out, _ := json.Marshal(cascade.Result{Channel: channel.Channel(tr.channel), Status: tr.to, AttemptID: tr.id})
		_, err := p.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{
			TaskToken: aws.String(tr.token), Output: aws.String(string(out)),
		})
		if err != nil {
			return fmt.Errorf("send task success: %w", err)
		}
		return nil
	}
	class, err := failure.ParseClass(tr.class)
	if err != nil {
		class = failure.FallbackNow
	}
	cause, _ := json.Marshal(cascade.Cause{Channel: channel.Channel(tr.channel), Code: tr.code, Reason: tr.reason, AttemptID: tr.id})
	_, err = p.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{
		TaskToken: aws.String(tr.token),
		Error:     aws.String(class.ErrorName()),
		Cause:     aws.String(string(cause)),
	})
	if err != nil {
		return fmt.Errorf("send task failure: %w", err)
	}
	return nil
}

// closedTask reports whether err says the task no longer waits: it
// timed out, was already answered, or its execution ended. AWS answers
// TaskTimedOut; moto answers InvalidToken.
func closedTask(err error) bool {
	var timedOut *types.TaskTimedOut
	var invalid *types.InvalidToken
	var gone *types.TaskDoesNotExist
	return errors.As(err, &timedOut) || errors.As(err, &invalid) || errors.As(err, &gone)
}

// parse reads an attempt's old and new status from a stream record.
func parse(rec events.DynamoDBEventRecord) (transition, bool) {
	img := rec.Change.NewImage
	if s(img, "kind") != "attempt" {
		return transition{}, false
	}
	step, err := strconv.Atoi(n(img, "step"))
	if err != nil {
		return transition{}, false
	}
	tr := transition{
		key: dynamo.AttemptKeyOf{
			Campaign: s(img, "campaign"), Recipient: s(img, "recipient"), Step: step,
		},
		id: s(img, "attemptId"), channel: s(img, "channel"),
		token: s(img, "taskToken"), to: status.Status(s(img, "status")),
		class: s(img, "failClass"), code: s(img, "failCode"),
		reason: s(img, "failReason"), recipient: phone.Number(s(img, "recipient")),
	}
	if old := rec.Change.OldImage; old != nil {
		tr.from = status.Status(s(old, "status"))
	}
	return tr, true
}

func s(img map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}

func n(img map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeNumber {
		return ""
	}
	return v.Number()
}
