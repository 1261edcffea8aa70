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

	"github.com/cascade-oss/cascade/internal/status"
)

// Attempt is one send of one recipient's message on one channel: step
// n of the recipient's cascade.
type Attempt struct {
	PK         string        `dynamodbav:"pk"`
	SK         string        `dynamodbav:"sk"`
	Kind       string        `dynamodbav:"kind"`
	ID         string        `dynamodbav:"attemptId"`
	Tenant     string        `dynamodbav:"tenant"`
	Campaign   string        `dynamodbav:"campaign"`
	Recipient  string        `dynamodbav:"recipient"`
	Channel    string        `dynamodbav:"channel"`
	Step       int           `dynamodbav:"step"`
	Status     status.Status `dynamodbav:"status"`
	TaskToken  string        `dynamodbav:"taskToken,omitempty"`
	MessageKey string        `dynamodbav:"msgKey,omitempty"`
	ProviderID string        `dynamodbav:"providerId,omitempty"`
	// Times holds when each status was first reached or implied, by
	// status name, in RFC 3339 UTC. A recount reads it.
	Times      map[string]string `dynamodbav:"times"`
	FailClass  string            `dynamodbav:"failClass,omitempty"`
	FailCode   string            `dynamodbav:"failCode,omitempty"`
	FailReason string            `dynamodbav:"failReason,omitempty"`
	// SendingAt is set when a sender claims the provider call; a claim
	// that is never released means the call may have happened.
	SendingAt     string `dynamodbav:"sendingAt,omitempty"`
	MovedOn       bool   `dynamodbav:"movedOn,omitempty"`
	AfterFallback bool   `dynamodbav:"afterFallback,omitempty"`
	Shard         int    `dynamodbav:"shard"`
	Pricing       string `dynamodbav:"pricing,omitempty"`
}

const kindAttempt = "attempt"

// AttemptKeyOf is the table key of an attempt.
type AttemptKeyOf struct {
	Campaign  string
	Recipient string
	Step      int
}

func (k AttemptKeyOf) key() map[string]types.AttributeValue {
	return key(campaignPK(k.Campaign), attemptSK(k.Recipient, k.Step))
}

// MessageKey is how a provider's webhook names an attempt in the
// byMessage index: our attempt id where the provider echoes it, else
// the channel and the provider's own id.
func MessageKey(channel, id string) string { return channel + "#" + id }

// NewAttempt describes an attempt a sender is about to make.
type NewAttempt struct {
	Tenant, Campaign, Recipient, Channel string
	Step                                 int
	TaskToken                            string
	At                                   time.Time
}

// RecordAttempt stores a queued attempt and counts it, in one
// transaction. If the attempt exists already (a redelivered message),
// nothing is written and the stored attempt is returned with created
// false, so the caller can tell whether the provider was called.
func (s *Store) RecordAttempt(ctx context.Context, n NewAttempt) (Attempt, bool, error) {
	id := AttemptID(n.Campaign, n.Recipient, n.Step)
	a := Attempt{
		PK: campaignPK(n.Campaign), SK: attemptSK(n.Recipient, n.Step),
		Kind: kindAttempt, ID: id, Tenant: n.Tenant, Campaign: n.Campaign,
		Recipient: n.Recipient, Channel: n.Channel, Step: n.Step,
		Status: status.Queued, TaskToken: n.TaskToken,
		MessageKey: MessageKey(n.Channel, id),
		Times:      map[string]string{string(status.Queued): stamp(n.At)},
		Shard:      s.shardOf(id),
	}
	item, err := attributevalue.MarshalMap(a)
	if err != nil {
		return Attempt{}, false, fmt.Errorf("marshal attempt: %w", err)
	}
	put := types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
	count := s.counterAdd(n.Campaign, n.Channel, a.Shard,
		map[string]int64{string(status.Queued): 1})
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{put, count, s.correlation(a.MessageKey, a.Key())},
	})
	if conditionFailed(err) {
		got, err := s.Attempt(ctx, AttemptKeyOf{n.Campaign, n.Recipient, n.Step})
		return got, false, err
	}
	if err != nil {
		return Attempt{}, false, fmt.Errorf("record attempt %s: %w", id, err)
	}
	return a, true, nil
}

// Attempt reads one attempt with a consistent read.
func (s *Store) Attempt(ctx context.Context, k AttemptKeyOf) (Attempt, error) {
	var a Attempt
	if err := s.get(ctx, campaignPK(k.Campaign), attemptSK(k.Recipient, k.Step), &a); err != nil {
		return Attempt{}, fmt.Errorf("get attempt %s step %d: %w", k.Campaign, k.Step, err)
	}
	return a, nil
}

// Key returns the attempt's table key.
func (a Attempt) Key() AttemptKeyOf {
	return AttemptKeyOf{Campaign: a.Campaign, Recipient: a.Recipient, Step: a.Step}
}

// ErrClaimed means another sender, or an earlier run of this one, has
// already claimed the provider call for the attempt.
var ErrClaimed = errors.New("attempt already claimed for sending")

// Claim marks the attempt as being sent, once. A sender calls the
// provider only after a successful claim, so a redelivered message or
// a crash between the call and its record never sends twice. Only a
// queued attempt that the cascade has not moved on from can be
// claimed: a send that comes after its step timed out (a throttled
// send retried too late, or a sender slower than the timeout) would
// reach the person beside the next channel's message, and would
// contradict an attempt already recorded as not sent (issue 9).
func (s *Store) Claim(ctx context.Context, k AttemptKeyOf, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              k.key(),
		UpdateExpression: aws.String("SET sendingAt = :at"),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(sendingAt)" +
			" AND #st = :queued AND attribute_not_exists(movedOn)"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": str(stamp(at)), ":queued": str(string(status.Queued)),
		},
	})
	if conditionFailed(err) {
		return ErrClaimed
	}
	if err != nil {
		return fmt.Errorf("claim attempt: %w", err)
	}
	return nil
}

// Release gives a claim back after the provider refused the call for
// certain (a throttle or a server error), so a later delivery of the
// message may send it.
func (s *Store) Release(ctx context.Context, k AttemptKeyOf) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              k.key(),
		UpdateExpression: aws.String("REMOVE sendingAt"),
	})
	if err != nil {
		return fmt.Errorf("release attempt: %w", err)
	}
	return nil
}

// SetProviderID stores the provider's message id on the attempt and
// lets webhooks find the attempt by it as well as by our attempt id:
// Meta echoes our id in biz_opaque_callback_data, but a status without
// it (an operator's replay, a field Meta leaves out) still has the
// wamid. When byProviderID is set, the byMessage index also moves to
// the provider's id (for providers such as MSG91 that echo nothing of
// ours).
func (s *Store) SetProviderID(ctx context.Context, k AttemptKeyOf, channel, id string, byProviderID bool) error {
	expr := "SET providerId = :id"
	vals := map[string]types.AttributeValue{":id": str(id)}
	items := []types.TransactWriteItem{}
	if byProviderID {
		expr += ", msgKey = :mk"
		vals[":mk"] = str(MessageKey(channel, id))
	}
	if byProviderID || id != AttemptID(k.Campaign, k.Recipient, k.Step) {
		items = append(items, s.correlation(MessageKey(channel, id), k))
	}
	items = append(items, types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       k.key(),
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeValues: vals,
	}})
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil {
		return fmt.Errorf("set provider id: %w", err)
	}
	return nil
}

// correlation is the item that names the attempt a message key
// belongs to. Webhooks find attempts through it with two key reads,
// strongly consistent, instead of querying the byMessage index, which
// DynamoDB updates eventually (and moto answers by scanning).
func (s *Store) correlation(msgKey string, k AttemptKeyOf) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			AttrPK: str(correlationPK(msgKey)), AttrSK: str("M"), "kind": str("correlation"),
			"campaign": str(k.Campaign), "recipient": str(k.Recipient), "step": num(int64(k.Step)),
		},
	}}
}

// FindByMessage finds the attempt a provider's webhook names by its
// message key.
func (s *Store) FindByMessage(ctx context.Context, msgKey string) (Attempt, error) {
	var c struct {
		Campaign  string `dynamodbav:"campaign"`
		Recipient string `dynamodbav:"recipient"`
		Step      int    `dynamodbav:"step"`
	}
	if err := s.get(ctx, correlationPK(msgKey), "M", &c); err != nil {
		return Attempt{}, fmt.Errorf("find message %s: %w", msgKey, err)
	}
	return s.Attempt(ctx, AttemptKeyOf{Campaign: c.Campaign, Recipient: c.Recipient, Step: c.Step})
}

// FindByIndex looks an attempt up through the byMessage index, as an
// operator would from a provider's message id; webhooks use
// FindByMessage.
func (s *Store) FindByIndex(ctx context.Context, msgKey string) (Attempt, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(IndexByMessage),
		KeyConditionExpression: aws.String("msgKey = :k"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":k": str(msgKey),
		},
		Limit: aws.Int32(1),
	})
	if err != nil {
		return Attempt{}, fmt.Errorf("query message %s: %w", msgKey, err)
	}
	if len(res.Items) == 0 {
		return Attempt{}, ErrNotFound
	}
	var a Attempt
	if err := attributevalue.UnmarshalMap(res.Items[0], &a); err != nil {
		return Attempt{}, fmt.Errorf("unmarshal attempt: %w", err)
	}
	return a, nil
}

// Applied is what ApplyStatus did.
type Applied struct {
	Change  status.Change
	Attempt Attempt // as stored after the change
}

// maxTries bounds the optimistic-concurrency loop of ApplyStatus; each
// lost race means another event moved the attempt first.
const maxTries = 8

// ApplyStatus moves an attempt forward by one provider event: a
// transaction updates the attempt only if its status is still the one
// read, and adds one to the campaign's counter for every status the
// event newly implies. A duplicate, late or backward event writes
// nothing and comes back as a no-op.
func (s *Store) ApplyStatus(ctx context.Context, k AttemptKeyOf, ev status.Event) (Applied, error) {
	for try := 0; try < maxTries; try++ {
		a, err := s.Attempt(ctx, k)
		if err != nil {
			return Applied{}, err
		}
		ch := status.Apply(a.Status, ev.Status)
		if ch.NoOp {
			return Applied{Change: ch, Attempt: a}, nil
		}
		err = s.transition(ctx, a, ch, ev)
		if conditionFailed(err) {
			continue
		}
		if err != nil {
			return Applied{}, fmt.Errorf("apply %s to attempt %s: %w", ev.Status, a.ID, err)
		}
		applyLocal(&a, ch, ev)
		return Applied{Change: ch, Attempt: a}, nil
	}
	return Applied{}, fmt.Errorf("apply %s: %w", ev.Status, ErrConflict)
}

// transition writes one forward change of an attempt and its counters.
func (s *Store) transition(ctx context.Context, a Attempt, ch status.Change, ev status.Event) error {
	at := stamp(ev.At)
	names := map[string]string{"#st": "status", "#t": "times"}
	vals := map[string]types.AttributeValue{
		":to": str(string(ch.To)), ":from": str(string(a.Status)),
	}
	sets := []string{"#st = :to"}
	adds := map[string]int64{}
	for i, st := range ch.Counted {
		n := fmt.Sprintf("#s%d", i)
		names[n] = string(st)
		sets = append(sets, fmt.Sprintf("#t.%s = :at", n))
		adds[string(st)] = 1
	}
	vals[":at"] = str(at)
	if ch.To == status.Failed {
		sets = append(sets, "failClass = :fc", "failCode = :code", "failReason = :why")
		vals[":fc"] = str(string(ev.Class))
		vals[":code"] = str(ev.Code)
		vals[":why"] = str(ev.Reason)
		adds[failClassCounter(string(ev.Class))] = 1
		if ev.Code != "" {
			adds[failCodeCounter(ev.Code)] = 1
		}
	}
	if ev.ProviderID != "" && a.ProviderID == "" {
		sets = append(sets, "providerId = :pid")
		vals[":pid"] = str(ev.ProviderID)
	}
	if ev.Pricing != nil && a.Pricing == "" {
		sets = append(sets, "pricing = :pr")
		vals[":pr"] = str(ev.Pricing.Category + "/" + ev.Pricing.Model)
	}
	if ms, ok := deliveryMillis(a, ch, ev.At); ok {
		adds[latencyCounter(a.Channel, ms)] = 1
	}

	update := types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       a.Key().key(),
		UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression:       aws.String("#st = :from"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
	}}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			update, s.counterAdd(a.Campaign, a.Channel, a.Shard, adds),
		},
	})
	return err
}

// applyLocal mirrors a written change on the in-memory attempt.
func applyLocal(a *Attempt, ch status.Change, ev status.Event) {
	a.Status = ch.To
	if a.Times == nil {
		a.Times = map[string]string{}
	}
	for _, st := range ch.Counted {
		a.Times[string(st)] = stamp(ev.At)
	}
	if ch.To == status.Failed {
		a.FailClass, a.FailCode, a.FailReason = string(ev.Class), ev.Code, ev.Reason
	}
	if a.ProviderID == "" {
		a.ProviderID = ev.ProviderID
	}
}

// stamp formats t as RFC 3339 UTC with milliseconds; a zero t is now.
func stamp(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// parseStamp reads a stamp back.
func parseStamp(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
