package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/status"
)

// Recipient is one valid, deduplicated audience member of a campaign
// and, once the cascade ends, its outcome.
type Recipient struct {
	PK        string            `dynamodbav:"pk"`
	SK        string            `dynamodbav:"sk"`
	Kind      string            `dynamodbav:"kind"`
	Campaign  string            `dynamodbav:"campaign"`
	Phone     string            `dynamodbav:"phone"`
	Row       int               `dynamodbav:"row"`
	Vars      map[string]string `dynamodbav:"vars,omitempty"`
	Added     string            `dynamodbav:"addedAt"`
	Outcome   string            `dynamodbav:"outcome,omitempty"` // delivered or unreached
	ReachedOn string            `dynamodbav:"reachedOn,omitempty"`
	Why       string            `dynamodbav:"why,omitempty"`
	EndedAt   string            `dynamodbav:"endedAt,omitempty"`
}

// RejectedRow is an audience row that was refused, kept for the report.
type RejectedRow struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	Kind     string `dynamodbav:"kind"`
	Campaign string `dynamodbav:"campaign"`
	Row      int    `dynamodbav:"row"`
	Raw      string `dynamodbav:"raw"`
	Reason   string `dynamodbav:"reason"`
}

// Outcomes of a recipient's journey.
const (
	OutcomeDelivered = "delivered"
	OutcomeUnreached = "unreached"
)

// AddRecipient stores a valid recipient and counts it, once. When the
// number is already a recipient from another row, the row is a
// duplicate: it returns that row's number and false. When it is there
// from this very row (a redelivered chunk), it returns true and counts
// nothing, so the caller may start its cascade again safely.
func (s *Store) AddRecipient(ctx context.Context, r Recipient) (dupOf int, added bool, err error) {
	r.PK, r.SK, r.Kind = campaignPK(r.Campaign), recipientSK(r.Phone), "recipient"
	r.Added = stamp(time.Time{})
	item, err := attributevalue.MarshalMap(r)
	if err != nil {
		return 0, false, fmt.Errorf("marshal recipient: %w", err)
	}
	put := types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
	count := s.counterAdd(r.Campaign, Scope, s.shardOf(r.Phone),
		map[string]int64{Recipients: 1})
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{put, count},
	})
	if err == nil {
		return 0, true, nil
	}
	if !conditionFailed(err) {
		return 0, false, fmt.Errorf("add recipient: %w", err)
	}
	var got Recipient
	if err := s.get(ctx, r.PK, r.SK, &got); err != nil {
		return 0, false, fmt.Errorf("read existing recipient: %w", err)
	}
	if got.Row == r.Row {
		return 0, true, nil
	}
	return got.Row, false, nil
}

// AddRejected stores a refused audience row with its reason and counts
// it, once per row.
func (s *Store) AddRejected(ctx context.Context, campaign string, row int, raw, reason string) error {
	item, err := attributevalue.MarshalMap(RejectedRow{
		PK: campaignPK(campaign), SK: rejectedSK(row), Kind: "rejected",
		Campaign: campaign, Row: row, Raw: raw, Reason: reason,
	})
	if err != nil {
		return fmt.Errorf("marshal rejected row: %w", err)
	}
	put := types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
	count := s.counterAdd(campaign, Scope, s.shardOf(rejectedSK(row)),
		map[string]int64{Rejected: 1})
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{put, count},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("add rejected row %d: %w", row, err)
	}
	return nil
}

// Recipient reads one recipient of a campaign.
func (s *Store) Recipient(ctx context.Context, campaign, e164 string) (Recipient, error) {
	var r Recipient
	if err := s.get(ctx, campaignPK(campaign), recipientSK(e164), &r); err != nil {
		return Recipient{}, fmt.Errorf("get recipient: %w", err)
	}
	return r, nil
}

// SetOutcome records how a recipient's journey ended and counts it,
// once: a repeated outcome message writes nothing.
func (s *Store) SetOutcome(ctx context.Context, campaign, e164, outcome, channel, why string, at time.Time) error {
	names := map[string]string{"#o": "outcome"}
	vals := map[string]types.AttributeValue{
		":o": str(outcome), ":at": str(stamp(at)),
	}
	set := "SET #o = :o, endedAt = :at"
	adds := map[string]int64{}
	switch outcome {
	case OutcomeDelivered:
		set += ", reachedOn = :ch"
		vals[":ch"] = str(channel)
		adds[Reached] = 1
		adds[Reached+"_"+channel] = 1
	default:
		set += ", why = :why"
		vals[":why"] = str(why)
		adds[Unreached] = 1
		adds[Unreached+"_"+why] = 1
	}
	update := types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(campaignPK(campaign), recipientSK(e164)),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(#o)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
	}}
	count := s.counterAdd(campaign, Scope, s.shardOf(e164), adds)
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{update, count},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("set outcome: %w", err)
	}
	return nil
}

// MarkMovedOn records, once, that the cascade left an attempt for the
// next step, and counts it on the attempt's channel. An attempt that
// was delivered by then was delivered after fallback, and is counted
// so too. It is a no-op when the attempt is missing (its sender never
// ran before the timeout) or already marked.
func (s *Store) MarkMovedOn(ctx context.Context, k AttemptKeyOf, missing NewAttempt) error {
	for try := 0; try < maxTries; try++ {
		a, err := s.Attempt(ctx, k)
		if errors.Is(err, ErrNotFound) {
			// The step timed out before its sender ran: record it as
			// failed and moved on, so its late sender sends nothing and
			// the funnel still adds up.
			if err := s.recordSkipped(ctx, missing); err != nil {
				return err
			}
			continue
		}
		if err == nil && a.MovedOn {
			return nil
		}
		if err != nil {
			return err
		}
		flags := []string{"movedOn"}
		if a.Status.Success() && !a.AfterFallback {
			flags = append(flags, "afterFallback")
		}
		err = s.flag(ctx, a, flags...)
		if !conditionFailed(err) {
			return err
		}
	}
	return fmt.Errorf("mark moved on: %w", ErrConflict)
}

// recordSkipped stores a step that never reached its sender as a
// failed attempt, counted as attempted and failed.
func (s *Store) recordSkipped(ctx context.Context, n NewAttempt) error {
	a, created, err := s.RecordAttempt(ctx, n)
	if err != nil || !created {
		return err
	}
	_, err = s.ApplyStatus(ctx, a.Key(), status.Event{
		Status: status.Failed, At: n.At, Class: failure.FallbackNow,
		Code: "not-sent", Reason: "step timed out before it was sent",
	})
	return err
}

// MarkAfterFallback records, once, that an attempt was delivered after
// the cascade had stopped waiting for it, and counts it.
//
// flag's condition pins the status it read as well as the flag, so a
// failed condition may only mean that a read receipt landed meanwhile:
// read again rather than take it for "already marked", which once lost
// a delivery from the after-fallback count under load.
func (s *Store) MarkAfterFallback(ctx context.Context, k AttemptKeyOf) error {
	for try := 0; try < maxTries; try++ {
		a, err := s.Attempt(ctx, k)
		if errors.Is(err, ErrNotFound) || (err == nil && a.AfterFallback) {
			return nil
		}
		if err != nil {
			return err
		}
		err = s.flag(ctx, a, "afterFallback")
		if !conditionFailed(err) {
			return err
		}
	}
	return fmt.Errorf("mark after fallback: %w", ErrConflict)
}

// flagCounters names the counter each flag moves.
var flagCounters = map[string]string{"movedOn": MovedOn, "afterFallback": AfterFallback}

// flag sets boolean flags on an attempt that has none of them yet, and
// counts each, in one transaction; the condition also pins the status
// read, so a concurrent delivery makes the caller read again.
func (s *Store) flag(ctx context.Context, a Attempt, attrs ...string) error {
	names := map[string]string{"#st": "status"}
	var sets, conds []string
	adds := map[string]int64{}
	for i, attr := range attrs {
		n := fmt.Sprintf("#f%d", i)
		names[n] = attr
		sets = append(sets, n+" = :t")
		conds = append(conds, "attribute_not_exists("+n+")")
		adds[flagCounters[attr]] = 1
	}
	update := types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(s.table),
		Key:                      a.Key().key(),
		UpdateExpression:         aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression:      aws.String("attribute_exists(pk) AND #st = :st AND " + strings.Join(conds, " AND ")),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true}, ":st": str(string(a.Status)),
		},
	}}
	count := s.counterAdd(a.Campaign, a.Channel, a.Shard, adds)
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{update, count},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("flag %v: %w", attrs, err)
	}
	return err
}

// MarkCallback records, once, that the cascade was told an attempt's
// terminal status. It reports whether this call was the first, so a
// retried stream batch can tell its own earlier callback from a task
// that timed out.
func (s *Store) MarkCallback(ctx context.Context, k AttemptKeyOf, at time.Time) (first bool, err error) {
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 k.key(),
		UpdateExpression:    aws.String("SET callbackAt = :at"),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(callbackAt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": str(stamp(at)),
		},
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark callback: %w", err)
	}
	return true, nil
}

// ClaimChunk records, once, that the fan-out chunk starting at row has
// been handed on. Only the first caller enqueues it, so a redelivered
// chunk never doubles the chain of chunks behind it.
func (s *Store) ClaimChunk(ctx context.Context, campaign string, row int) (bool, error) {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			AttrPK: str(campaignPK(campaign)),
			AttrSK: str(fmt.Sprintf("F#%08d", row)),
			"kind": str("chunk"),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim chunk %d: %w", row, err)
	}
	return true, nil
}

// Park keeps a verified webhook body that could not be parsed, for a
// person to look at; it expires after the pending events' time.
func (s *Store) Park(ctx context.Context, channel, tenant, body, reason string) error {
	now := time.Now()
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			AttrPK:        str("PARK#" + channel),
			AttrSK:        str(stamp(now) + "#" + fmt.Sprint(now.UnixNano())),
			"kind":        str("parked"),
			"tenant":      str(tenant),
			"body":        str(body),
			"reason":      str(reason),
			AttrExpiresAt: num(now.Add(pendingTTL).Unix()),
		},
	})
	if err != nil {
		return fmt.Errorf("park webhook: %w", err)
	}
	return nil
}

// MarkAfterFallbackIfMovedOn counts a delivery after fallback when the
// cascade had already moved on from the attempt.
func (s *Store) MarkAfterFallbackIfMovedOn(ctx context.Context, k AttemptKeyOf) error {
	a, err := s.Attempt(ctx, k)
	if errors.Is(err, ErrNotFound) || (err == nil && (!a.MovedOn || a.AfterFallback)) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.MarkAfterFallback(ctx, k)
}
