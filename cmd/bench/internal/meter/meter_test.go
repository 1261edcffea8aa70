package meter

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/moto"
)

// metered starts a meter in front of the test's moto server and
// returns it with a configuration that goes through it.
func metered(t *testing.T) (*Meter, aws.Config) {
	t.Helper()
	m := New(awstest.Endpoint(t))
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, moto.Config(srv.URL)
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func TestMeterPricesDynamoDB(t *testing.T) {
	ctx := context.Background()
	direct := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "meter")
	if err := dynamo.CreateTable(ctx, direct, table); err != nil {
		t.Fatal(err)
	}
	m, cfg := metered(t)
	db := dynamodb.NewFromConfig(cfg)
	key := map[string]types.AttributeValue{"pk": s("C#1"), "sk": s("A#1")}
	big := strings.Repeat("x", 1500)

	calls := []func() error{
		func() error { // 1 unit, and 1 for the index
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table,
				Item: map[string]types.AttributeValue{"pk": s("C#1"), "sk": s("A#1"), "msgKey": s("k")}})
			return err
		},
		func() error { // priced at the final size (2 KB): 2, and 2 for the index
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key,
				UpdateExpression:          aws.String("SET big = :b"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":b": s(big)}})
			return err
		},
		func() error { // consistent read of 1.5 KB: 1 read unit
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key,
				ConsistentRead: aws.Bool(true)})
			return err
		},
		func() error { // two items in a transaction: 2 × 2 + 2 × 1
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
				TransactItems: []types.TransactWriteItem{
					{Put: &types.Put{TableName: &table,
						Item: map[string]types.AttributeValue{"pk": s("C#1"), "sk": s("B#1")}}},
					{Put: &types.Put{TableName: &table,
						Item: map[string]types.AttributeValue{"pk": s("C#1"), "sk": s("B#2")}}},
				}})
			return err
		},
		func() error { // eventually consistent query of ~1.6 KB: 0.5
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table,
				KeyConditionExpression:    aws.String("pk = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("C#1")}})
			return err
		},
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}

	final, err := FinalItems(ctx, direct, table)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Report(final)
	if want := 1.0 + 1 + 2 + 2 + 4; r.WRU != want {
		t.Errorf("WRU = %v, want %v", r.WRU, want)
	}
	if want := 1.5; r.RRU != want {
		t.Errorf("RRU = %v, want %v", r.RRU, want)
	}
	if got := r.Ops["dynamodb.PutItem"]; got != 1 {
		t.Errorf("PutItem counted %d times, want 1", got)
	}
}

func TestMeterTimesQueueBatches(t *testing.T) {
	ctx := context.Background()
	m, cfg := metered(t)
	q := sqs.NewFromConfig(cfg)
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "meter"))})
	if err != nil {
		t.Fatal(err)
	}
	m.NameQueue(*out.QueueUrl, "outcome")
	m.Reset()

	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}
	got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: out.QueueUrl, WaitTimeSeconds: 1})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("receive = %d messages, %v; want 1", len(got.Messages), err)
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: out.QueueUrl,
		ReceiptHandle: got.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: out.QueueUrl}); err != nil {
		t.Fatal(err)
	}

	r := m.Report(nil)
	c := r.Calls["outcome"]
	if c.Count != 1 || len(c.Durations) != 1 || c.Durations[0] < 20 {
		t.Errorf("outcome calls = %+v, want one of at least 20 ms", c)
	}
	if r.SQSRequests != 3 || r.IdlePolls != 1 {
		t.Errorf("SQS requests %d, idle polls %d; want 3 and 1", r.SQSRequests, r.IdlePolls)
	}
}
