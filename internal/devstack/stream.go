package devstack

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamHandler is the shape of a stream-triggered handler.
type StreamHandler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// StreamSource polls a table's stream the way Lambda's event source
// mapping does: each shard in order, batches of up to BatchSize, and a
// reported failure retried from its sequence number, never skipped.
type StreamSource struct {
	StreamARN string
	Handler   StreamHandler
	BatchSize int32
	// Parallel is how many groups of a batch run at once (Lambda's
	// parallelization factor); 1 if zero.
	Parallel int

	invocations atomic.Int64
	records     atomic.Int64
}

// Invocations counts handler calls so far.
func (s *StreamSource) Invocations() int64 { return s.invocations.Load() }

func (s *StreamSource) run(ctx context.Context, client *dynamodbstreams.Client, log *slog.Logger, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		seen := map[string]bool{}
		for ctx.Err() == nil {
			shards, err := s.shards(ctx, client)
			if err != nil && ctx.Err() == nil {
				log.Warn("describe stream failed", "err", err)
			}
			for _, id := range shards {
				if !seen[id] {
					seen[id] = true
					wg.Add(1)
					go func() {
						defer wg.Done()
						s.shard(ctx, client, id, log)
					}()
				}
			}
			sleep(ctx, 2*time.Second)
		}
	}()
}

func (s *StreamSource) shards(ctx context.Context, client *dynamodbstreams.Client) ([]string, error) {
	out, err := client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{
		StreamArn: aws.String(s.StreamARN),
	})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, sh := range out.StreamDescription.Shards {
		ids = append(ids, aws.ToString(sh.ShardId))
	}
	return ids, nil
}

// shard reads one shard from its start until ctx ends.
func (s *StreamSource) shard(ctx context.Context, client *dynamodbstreams.Client, id string, log *slog.Logger) {
	it, err := s.iterator(ctx, client, id, types.ShardIteratorTypeTrimHorizon, "")
	for ctx.Err() == nil {
		if err != nil {
			log.Warn("stream read failed", "shard", id, "err", err)
			sleep(ctx, time.Second)
			it, err = s.iterator(ctx, client, id, types.ShardIteratorTypeTrimHorizon, "")
			continue
		}
		out, gerr := client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{
			ShardIterator: it, Limit: aws.Int32(max(s.BatchSize, 1)),
		})
		if gerr != nil {
			err = gerr
			continue
		}
		if len(out.Records) == 0 {
			sleep(ctx, 100*time.Millisecond)
			it = out.NextShardIterator
			if it == nil {
				return // the shard is closed
			}
			continue
		}
		failedAt := s.deliver(ctx, out.Records, log)
		if failedAt == "" {
			it = out.NextShardIterator
			continue
		}
		// Retry from the failed record, as Lambda does.
		sleep(ctx, 200*time.Millisecond)
		it, err = s.iterator(ctx, client, id, types.ShardIteratorTypeAtSequenceNumber, failedAt)
	}
}

// deliver hands a batch to the handler and returns the sequence number
// to retry from, or "" when the batch is done. Like an event source
// mapping with a parallelisation factor, it splits the batch by item
// key into Parallel groups that run at once; records of one item stay
// in order within their group.
func (s *StreamSource) deliver(ctx context.Context, recs []types.Record, log *slog.Logger) string {
	n := max(s.Parallel, 1)
	groups := make([][]events.DynamoDBEventRecord, n)
	for _, r := range recs {
		lr := LambdaRecord(r, s.StreamARN)
		g := groupOf(lr, n)
		groups[g] = append(groups[g], lr)
	}
	failed := make([]string, n)
	var wg sync.WaitGroup
	for i, g := range groups {
		if len(g) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			failed[i] = s.invoke(ctx, g, log)
		}()
	}
	wg.Wait()
	s.records.Add(int64(len(recs)))
	if d := recs[len(recs)-1].Dynamodb; d != nil && d.ApproximateCreationDateTime != nil {
		log.Info("stream batch", "records", len(recs), "lagMs", time.Since(*d.ApproximateCreationDateTime).Milliseconds())
	}
	// Retry from the earliest failure, as Lambda does; groups that
	// succeeded see their records again, which the handler tolerates.
	first := ""
	for _, f := range failed {
		if f != "" && (first == "" || less(f, first)) {
			first = f
		}
	}
	return first
}

// invoke runs one group and returns the sequence number it failed at.
func (s *StreamSource) invoke(ctx context.Context, recs []events.DynamoDBEventRecord, log *slog.Logger) string {
	s.invocations.Add(1)
	resp, err := s.Handler(invocation(ctx), events.DynamoDBEvent{Records: recs})
	if err != nil {
		log.Warn("stream handler failed", "err", err)
		return recs[0].Change.SequenceNumber
	}
	if len(resp.BatchItemFailures) > 0 {
		return resp.BatchItemFailures[0].ItemIdentifier
	}
	return ""
}

// groupOf picks a record's group from its item key.
func groupOf(r events.DynamoDBEventRecord, n int) int {
	h := fnv.New32a()
	for _, k := range []string{"pk", "sk"} {
		if v, ok := r.Change.Keys[k]; ok && v.DataType() == events.DataTypeString {
			h.Write([]byte(v.String()))
		}
	}
	return int(h.Sum32() % uint32(n))
}

// less compares stream sequence numbers, which are decimal strings.
func less(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func (s *StreamSource) iterator(ctx context.Context, client *dynamodbstreams.Client, shard string, kind types.ShardIteratorType, seq string) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(s.StreamARN), ShardId: aws.String(shard), ShardIteratorType: kind,
	}
	if seq != "" {
		in.SequenceNumber = aws.String(seq)
	}
	out, err := client.GetShardIterator(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("shard iterator: %w", err)
	}
	return out.ShardIterator, nil
}

// LambdaRecord converts an SDK stream record to the event type Lambda
// hands a stream-triggered function.
func LambdaRecord(r types.Record, arn string) events.DynamoDBEventRecord {
	out := events.DynamoDBEventRecord{
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   aws.ToString(r.EventVersion),
		AWSRegion:      "us-east-1",
		EventSourceArn: arn,
	}
	if d := r.Dynamodb; d != nil {
		out.Change = events.DynamoDBStreamRecord{
			Keys:           image(d.Keys),
			NewImage:       image(d.NewImage),
			OldImage:       image(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
	}
	return out
}

func image(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = attr(v)
	}
	return out
}

func attr(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(t.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(t.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(t.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(t.Value)
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(t.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(t.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(t.Value)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(image(t.Value))
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(t.Value))
		for i, x := range t.Value {
			l[i] = attr(x)
		}
		return events.NewListAttribute(l)
	}
	return events.NewNullAttribute()
}
