package dynamo

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict means a conditional write lost a race too many times.
	ErrConflict = errors.New("conflicting concurrent updates")
)

// DefaultShards is how many counter items a campaign's channel spreads
// its increments over, so one busy campaign stays far below a
// partition's write limit.
const DefaultShards = 8

// Store reads and writes Cascade's items in one table.
type Store struct {
	db     API
	table  string
	shards int
}

// New returns a store on table with DefaultShards counter shards.
func New(db API, table string) *Store {
	return &Store{db: db, table: table, shards: DefaultShards}
}

// Table is the table's name.
func (s *Store) Table() string { return s.table }

// Key prefixes. Every key is a string with a typed prefix so one
// partition can hold several kinds of item.
func tenantPK(t string) string           { return "T#" + t }
func campaignSK(c string) string         { return "C#" + c }
func channelSK(ch string) string         { return "CH#" + ch }
func campaignPK(c string) string         { return "C#" + c }
func recipientSK(e164 string) string     { return "R#" + e164 }
func rejectedSK(row int) string          { return fmt.Sprintf("X#%08d", row) }
func reportSK(id string) string          { return "RPT#" + id }
func counterPK(c string, n int) string   { return fmt.Sprintf("C#%s#S#%d", c, n) }
func attemptPrefix(e164 string) string   { return "A#" + e164 + "#" }
func pendingPK(msgKey string) string     { return "P#" + msgKey }
func correlationPK(msgKey string) string { return "M#" + msgKey }
func attemptSK(e164 string, step int) string {
	return fmt.Sprintf("%s%d", attemptPrefix(e164), step)
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: pk},
		AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func str(v string) types.AttributeValue {
	return &types.AttributeValueMemberS{Value: v}
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

// shardOf spreads writes for one key over the counter shards, always
// the same shard for the same key.
func (s *Store) shardOf(k string) int {
	h := fnv.New32a()
	h.Write([]byte(k))
	return int(h.Sum32() % uint32(s.shards))
}

// AttemptID derives the id of the attempt at step for a recipient of a
// campaign. It is a UUID (version 5 layout) because RBM requires its
// messageId to be one; being derived, a resend of the same step reuses
// it, which RBM treats as a duplicate and ignores.
func AttemptID(campaign, e164 string, step int) string {
	sum := sha1.Sum([]byte(fmt.Sprintf("cascade/%s/%s/%d", campaign, e164, step)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Store) get(ctx context.Context, pk, sk string, out any) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return err
	}
	if res.Item == nil {
		return ErrNotFound
	}
	return attributevalue.UnmarshalMap(res.Item, out)
}

// conditionFailed reports whether err is a failed condition, alone or
// as the reason a transaction was cancelled.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for _, r := range tc.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return true
			}
		}
	}
	return false
}

// keyOf is key under a name that a parameter called key cannot shadow.
func keyOf(pk, sk string) map[string]types.AttributeValue { return key(pk, sk) }
