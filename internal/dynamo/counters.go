package dynamo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cascade-oss/cascade/internal/status"
)

// Counters maps a counter's name to its value. Channel counters are
// named for statuses (queued, submitted, sent, delivered, read,
// failed), failure classes (fc_<class>), provider codes (code_<code>),
// movedOn, afterFallback and delivery-latency buckets (lat_<ms>).
// Campaign counters are recipients, rejected, reached, reached_<ch>,
// unreached and unreached_<why>.
type Counters map[string]int64

// Scope names the counters of the whole campaign, beside the channels.
const Scope = "campaign"

// Names of counters that are not statuses.
const (
	MovedOn       = "movedOn"
	AfterFallback = "afterFallback"
	Recipients    = "recipients"
	Rejected      = "rejected"
	Reached       = "reached"
	Unreached     = "unreached"
)

func failClassCounter(class string) string { return "fc_" + class }

// failCodeCounter keeps the counter name to safe characters, since a
// provider code comes from outside.
func failCodeCounter(code string) string {
	var b strings.Builder
	for _, r := range code {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
		if b.Len() >= 24 {
			break
		}
	}
	return "code_" + b.String()
}

// LatencyBuckets are the upper bounds, in milliseconds, of the time
// from queued to delivered that counters keep, so statistics can give a
// median and a 90th percentile without scanning attempts.
var LatencyBuckets = []int64{
	250, 500, 1000, 2000, 5000, 10000, 30000, 60000,
	120000, 300000, 600000, 1800000, 3600000, 86400000,
}

func latencyCounter(channel string, ms int64) string {
	for _, b := range LatencyBuckets {
		if ms <= b {
			return "lat_" + strconv.FormatInt(b, 10)
		}
	}
	return "lat_inf"
}

// deliveryMillis is the queued-to-delivered time of an attempt whose
// change counts delivered.
func deliveryMillis(a Attempt, ch status.Change, at time.Time) (int64, bool) {
	for _, st := range ch.Counted {
		if st == status.Delivered {
			q, ok := parseStamp(a.Times[string(status.Queued)])
			if !ok {
				return 0, false
			}
			// Round-trip through a stamp so a recount of the stored
			// times lands in the same bucket.
			d, _ := parseStamp(stamp(at))
			ms := d.Sub(q).Milliseconds()
			return max(ms, 0), true
		}
	}
	return 0, false
}

// counterAdd is the transaction item that adds adds to one shard of a
// campaign's counters for scope (a channel, or Scope).
func (s *Store) counterAdd(campaign, scope string, shard int, adds map[string]int64) types.TransactWriteItem {
	names := map[string]string{}
	vals := map[string]types.AttributeValue{}
	var parts []string
	// In order, so the same counters make the same expression.
	for i, name := range slices.Sorted(maps.Keys(adds)) {
		names[fmt.Sprintf("#c%d", i)] = name
		vals[fmt.Sprintf(":c%d", i)] = num(adds[name])
		parts = append(parts, fmt.Sprintf("#c%d :c%d", i, i))
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(counterPK(campaign, shard), channelSK(scope)),
		UpdateExpression:          aws.String("ADD " + strings.Join(parts, ", ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
	}}
}

// Scopes are the counter scopes of a campaign: each channel, and the
// campaign as a whole.
var Scopes = []string{"whatsapp", "rcs", "sms", Scope}

// Counters sums a campaign's counter shards, per scope (each channel,
// and Scope for the campaign as a whole). It reads every shard by key
// in one batch, so statistics never scan.
func (s *Store) Counters(ctx context.Context, campaign string) (map[string]Counters, error) {
	var keys []map[string]types.AttributeValue
	for n := 0; n < s.shards; n++ {
		for _, sc := range Scopes {
			keys = append(keys, key(counterPK(campaign, n), channelSK(sc)))
		}
	}
	out := map[string]Counters{}
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 100)]
		keys = keys[len(batch):]
		for tries := 0; len(batch) > 0; tries++ {
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{
					s.table: {Keys: batch, ConsistentRead: aws.Bool(true)},
				},
			})
			if err != nil {
				return nil, fmt.Errorf("read counters of %s: %w", campaign, err)
			}
			for _, item := range res.Responses[s.table] {
				addItem(out, item)
			}
			batch = res.UnprocessedKeys[s.table].Keys
			if tries > 10 && len(batch) > 0 {
				return nil, fmt.Errorf("read counters of %s: keys left unprocessed", campaign)
			}
		}
	}
	return out, nil
}

// addItem adds one counter item's numbers to out.
func addItem(out map[string]Counters, item map[string]types.AttributeValue) {
	sk, _ := item[AttrSK].(*types.AttributeValueMemberS)
	if sk == nil {
		return
	}
	scope := strings.TrimPrefix(sk.Value, "CH#")
	if out[scope] == nil {
		out[scope] = Counters{}
	}
	for name, v := range item {
		n, ok := v.(*types.AttributeValueMemberN)
		if !ok {
			continue
		}
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if err == nil {
			out[scope][name] += i
		}
	}
}
