package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// How long objects live in the bucket, by key prefix.
const (
	reportDays    = 7  // presigned report links last minutes, not days
	uploadDays    = 30 // an audience CSV is needed until launch
	audienceDays  = 90 // a launched audience, while journeys run and reports are asked for
	accessLogDays = 90 // access logs, for investigations
)

// newTable declares the single table of DESIGN.md: typed string keys,
// a stream for the status processor, TTL on expiresAt and the
// byMessage index for providers that only return their own id.
func newTable(s awscdk.Stack) awsdynamodb.Table {
	t := awsdynamodb.NewTable(s, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:        stringKey("pk"),
		SortKey:             stringKey("sk"),
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Stream:              awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
		TimeToLiveAttribute: jsii.String("expiresAt"),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String("byMessage"),
		PartitionKey:   stringKey("msgKey"),
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	return t
}

func stringKey(name string) *awsdynamodb.Attribute {
	return &awsdynamodb.Attribute{
		Name: jsii.String(name),
		Type: awsdynamodb.AttributeType_STRING,
	}
}

// newBuckets declares the bucket for uploads and reports and a second
// bucket that receives its server access logs.
func newBuckets(s awscdk.Stack) awss3.Bucket {
	logs := awss3.NewBucket(s, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{
			{Expiration: awscdk.Duration_Days(jsii.Number(accessLogDays))},
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	return awss3.NewBucket(s, jsii.String("Files"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("files/"),
		LifecycleRules: &[]*awss3.LifecycleRule{
			expire("reports/", reportDays),
			expire("uploads/", uploadDays),
			expire("audiences/", audienceDays),
			{AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1))},
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

func expire(prefix string, days float64) *awss3.LifecycleRule {
	return &awss3.LifecycleRule{
		Prefix:     jsii.String(prefix),
		Expiration: awscdk.Duration_Days(jsii.Number(days)),
	}
}
