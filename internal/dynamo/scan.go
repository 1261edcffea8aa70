package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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

// pendingItem is a status event that arrived before its attempt could
// be found; the sender applies it once it stores the provider's id.
type pendingItem struct {
	PK    string `dynamodbav:"pk"`
	SK    string `dynamodbav:"sk"`
	Kind  string `dynamodbav:"kind"`
	Event string `dynamodbav:"event"`
	// ExpiresAt lets DynamoDB's TTL drop events that never match.
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

// pendingTTL is how long an unmatched event waits for its attempt.
const pendingTTL = 7 * 24 * time.Hour

// AddPending keeps an event whose attempt is not known yet.
func (s *Store) AddPending(ctx context.Context, msgKey string, ev status.Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("marshal pending event: %w", err)
	}
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	item, err := attributevalue.MarshalMap(pendingItem{
		PK: pendingPK(msgKey), Kind: "pending", Event: string(body),
		SK:        "E#" + string(ev.Status) + "#" + strconv.FormatInt(at.UnixNano(), 10),
		ExpiresAt: time.Now().Add(pendingTTL).Unix(),
	})
	if err != nil {
		return fmt.Errorf("marshal pending item: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	if err != nil {
		return fmt.Errorf("add pending event: %w", err)
	}
	return nil
}

// Pending returns the events kept for msgKey, with a function that
// deletes one once it has been applied.
func (s *Store) Pending(ctx context.Context, msgKey string) ([]status.Event, func(context.Context, status.Event) error, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pendingPK(msgKey)),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("query pending %s: %w", msgKey, err)
	}
	var evs []status.Event
	sks := map[string]string{}
	for _, item := range res.Items {
		var p pendingItem
		if err := attributevalue.UnmarshalMap(item, &p); err != nil {
			return nil, nil, fmt.Errorf("unmarshal pending: %w", err)
		}
		var ev status.Event
		if err := json.Unmarshal([]byte(p.Event), &ev); err != nil {
			return nil, nil, fmt.Errorf("decode pending: %w", err)
		}
		sks[pendingID(ev)] = p.SK
		evs = append(evs, ev)
	}
	done := func(ctx context.Context, ev status.Event) error {
		_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(s.table),
			Key:       key(pendingPK(msgKey), sks[pendingID(ev)]),
		})
		return err
	}
	return evs, done, nil
}

func pendingID(ev status.Event) string {
	return string(ev.Status) + "#" + ev.At.String() + "#" + ev.Code
}
