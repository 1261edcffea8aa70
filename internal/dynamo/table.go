// Package dynamo stores Cascade's tenants' channels, campaigns,
// recipients, attempts, counters and report jobs in one DynamoDB table,
// and applies provider status events to attempts with conditional,
// monotonic transactions that move the campaign's counters with them.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names shared with the CDK stack.
const (
	AttrPK         = "pk"
	AttrSK         = "sk"
	AttrMessageKey = "msgKey"
	AttrExpiresAt  = "expiresAt"
	IndexByMessage = "byMessage"
)

// CreateTable creates the table as the CDK stack defines it: string
// keys pk and sk, on-demand, a stream with new and old images, and the
// byMessage index. It waits until the table is active. The local stack
// and tests use it; production tables come from CloudFormation.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	str := types.ScalarAttributeTypeS
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: str},
			{AttributeName: aws.String(AttrSK), AttributeType: str},
			{AttributeName: aws.String(AttrMessageKey), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(IndexByMessage),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrMessageKey), KeyType: types.KeyTypeHash},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(db)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{
		TableName: aws.String(name),
	}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	return nil
}
