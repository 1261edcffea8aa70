package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cascade-oss/cascade/internal/status"
)

// PageSize is how many items one query page asks for; reports stream
// page by page, so memory stays flat.
const PageSize = 500

// each pages through the items of a campaign whose sort key begins
// with prefix and hands every item to fn.
func (s *Store) each(ctx context.Context, campaign, prefix string, fn func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(campaignPK(campaign)), ":p": str(prefix),
		},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(PageSize),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("query %s items of %s: %w", prefix, campaign, err)
		}
		for _, item := range page.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// Attempts hands every attempt of a campaign to fn, ordered by
// recipient and step.
func (s *Store) Attempts(ctx context.Context, campaign string, fn func(Attempt) error) error {
	return s.each(ctx, campaign, "A#", func(item map[string]types.AttributeValue) error {
		var a Attempt
		if err := attributevalue.UnmarshalMap(item, &a); err != nil {
			return fmt.Errorf("unmarshal attempt: %w", err)
		}
		return fn(a)
	})
}

// Recipients hands every recipient of a campaign to fn.
func (s *Store) Recipients(ctx context.Context, campaign string, fn func(Recipient) error) error {
	return s.each(ctx, campaign, "R#", func(item map[string]types.AttributeValue) error {
		var r Recipient
		if err := attributevalue.UnmarshalMap(item, &r); err != nil {
			return fmt.Errorf("unmarshal recipient: %w", err)
		}
		return fn(r)
	})
}

// RejectedRows hands every refused audience row to fn, in row order.
func (s *Store) RejectedRows(ctx context.Context, campaign string, fn func(RejectedRow) error) error {
	return s.each(ctx, campaign, "X#", func(item map[string]types.AttributeValue) error {
		var r RejectedRow
		if err := attributevalue.UnmarshalMap(item, &r); err != nil {
			return fmt.Errorf("unmarshal rejected row: %w", err)
		}
		return fn(r)
	})
}

// Recount computes a campaign's counters from its attempts, recipients
// and rejected rows. The counters kept by transactions must always
// equal it; tests and the demo check that they do.
func (s *Store) Recount(ctx context.Context, campaign string) (map[string]Counters, error) {
	out := map[string]Counters{}
	add := func(scope, name string) {
		if out[scope] == nil {
			out[scope] = Counters{}
		}
		out[scope][name]++
	}
	err := s.Attempts(ctx, campaign, func(a Attempt) error {
		for st := range a.Times {
			add(a.Channel, st)
		}
		if a.Status == status.Failed {
			add(a.Channel, failClassCounter(a.FailClass))
			if a.FailCode != "" {
				add(a.Channel, failCodeCounter(a.FailCode))
			}
		}
		if a.MovedOn {
			add(a.Channel, MovedOn)
		}
		if a.AfterFallback {
			add(a.Channel, AfterFallback)
		}
		if ms, ok := storedLatency(a); ok {
			add(a.Channel, latencyCounter(a.Channel, ms))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.Recipients(ctx, campaign, func(r Recipient) error {
		add(Scope, Recipients)
		switch r.Outcome {
		case OutcomeDelivered:
			add(Scope, Reached)
			add(Scope, Reached+"_"+r.ReachedOn)
		case OutcomeUnreached:
			add(Scope, Unreached)
			add(Scope, Unreached+"_"+r.Why)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.RejectedRows(ctx, campaign, func(RejectedRow) error {
		add(Scope, Rejected)
		return nil
	})
	return out, err
}

func storedLatency(a Attempt) (int64, bool) {
	q, ok1 := parseStamp(a.Times[string(status.Queued)])
	d, ok2 := parseStamp(a.Times[string(status.Delivered)])
	if !ok1 || !ok2 {
		return 0, false
	}
	return max(d.Sub(q).Milliseconds(), 0), true
}

// pendingTTL is how long an unmatched event waits for its attempt.
const pendingTTL = 7 * 24 * time.Hour

// AddPending keeps an event whose attempt is not known yet. Events for
// one message key gather in one item, so the sender reads them with a
// single key read.
func (s *Store) AddPending(ctx context.Context, msgKey string, ev status.Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("marshal pending event: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key(pendingPK(msgKey), "P"),
		UpdateExpression: aws.String("SET events = list_append(if_not_exists(events, :none), :ev), kind = :kind, expiresAt = :exp"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":none": &types.AttributeValueMemberL{},
			":ev":   &types.AttributeValueMemberL{Value: []types.AttributeValue{str(string(body))}},
			":kind": str("pending"),
			":exp":  num(time.Now().Add(pendingTTL).Unix()),
		},
	})
	if err != nil {
		return fmt.Errorf("add pending event: %w", err)
	}
	return nil
}

// Pending returns the events kept for msgKey, and a function that
// deletes them once applied. The delete fails with ErrConflict when
// another event arrived meanwhile; read and apply again then.
func (s *Store) Pending(ctx context.Context, msgKey string) ([]status.Event, func(context.Context) error, error) {
	var it struct {
		Events []string `dynamodbav:"events"`
	}
	err := s.get(ctx, pendingPK(msgKey), "P", &it)
	if errors.Is(err, ErrNotFound) {
		return nil, func(context.Context) error { return nil }, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read pending %s: %w", msgKey, err)
	}
	evs := make([]status.Event, 0, len(it.Events))
	for _, raw := range it.Events {
		var ev status.Event
		if err := json.Unmarshal([]byte(raw), &ev); err != nil {
			return nil, nil, fmt.Errorf("decode pending: %w", err)
		}
		evs = append(evs, ev)
	}
	n := len(it.Events)
	clear := func(ctx context.Context) error {
		_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:           aws.String(s.table),
			Key:                 key(pendingPK(msgKey), "P"),
			ConditionExpression: aws.String("size(events) = :n"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":n": num(int64(n)),
			},
		})
		if conditionFailed(err) {
			return ErrConflict
		}
		return err
	}
	return evs, clear, nil
}
