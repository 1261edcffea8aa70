// Package function builds each Lambda function's handler from its
// configuration and AWS clients. The functions' main packages and the
// local stack both use it, so what runs on a laptop is wired exactly as
// what runs on Lambda.
package function

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/secrets"
)

// Config is every setting any function reads from its environment;
// each function requires the ones it uses.
type Config struct {
	Table           string `env:"TABLE_NAME"`
	Bucket          string `env:"BUCKET_NAME"`
	FanoutQueueURL  string `env:"FANOUT_QUEUE_URL"`
	ReportQueueURL  string `env:"REPORT_QUEUE_URL"`
	QueueURL        string `env:"QUEUE_URL"`
	StateMachineARN string `env:"STATE_MACHINE_ARN"`
	SecretPrefix    string `env:"SECRET_PREFIX"`
	WebhookWhatsApp string `env:"WEBHOOK_URL_WHATSAPP"`
	WebhookRCS      string `env:"WEBHOOK_URL_RCS"`
	WebhookSMS      string `env:"WEBHOOK_URL_SMS"`
	// Provider endpoints default to the real services; the local stack
	// points them at its fakes.
	WhatsAppAPIURL     string `env:"WHATSAPP_API_URL" default:"https://graph.facebook.com"`
	WhatsAppAPIVersion string `env:"WHATSAPP_API_VERSION" default:"v25.0"`
	RBMAPIURL          string `env:"RBM_API_URL" default:"https://rcsbusinessmessaging.googleapis.com"`
	MSG91APIURL        string `env:"MSG91_API_URL" default:"https://control.msg91.com"`
	// MaxInFlight caps each campaign's journeys under way (0: no cap).
	MaxInFlight int64 `env:"MAX_IN_FLIGHT"`
	// S3PathStyle addresses buckets by path, as local endpoints need.
	S3PathStyle bool `env:"S3_PATH_STYLE"`
}

// Load reads the configuration through lookup (os.LookupEnv in main).
// Every variable named in required must be set; all missing ones are
// reported in one error.
func Load(lookup func(string) (string, bool), required ...string) (Config, error) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	need := map[string]bool{}
	for _, r := range required {
		need[r] = true
	}
	var missing []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		name := f.Tag.Get("env")
		val, ok := lookup(name)
		if !ok || val == "" {
			val = f.Tag.Get("default")
		}
		delete(need, name)
		if val == "" && contains(required, name) {
			missing = append(missing, name)
			continue
		}
		switch f.Type.Kind() {
		case reflect.Int64:
			n, err := strconv.ParseInt(firstNonEmpty(val, "0"), 10, 64)
			if err != nil {
				missing = append(missing, name+" (not a number)")
			}
			v.Field(i).SetInt(n)
		case reflect.Bool:
			v.Field(i).SetBool(val == "true" || val == "1")
		default:
			v.Field(i).SetString(val)
		}
	}
	for name := range need {
		missing = append(missing, name+" (unknown)")
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("missing environment: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Clients are the AWS clients a cold start builds once.
type Clients struct {
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
	S3       *s3.Client
	SFN      *sfn.Client
	Secrets  *secretsmanager.Client
}

// NewClients builds every client from one SDK configuration.
func NewClients(cfg aws.Config, c Config) Clients {
	return Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg),
		SQS:      sqs.NewFromConfig(cfg),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = c.S3PathStyle
		}),
		SFN:     sfn.NewFromConfig(cfg),
		Secrets: secretsmanager.NewFromConfig(cfg),
	}
}

// secretTTL is how long a warm function trusts a credential it read.
const secretTTL = 5 * time.Minute

func (cl Clients) store(c Config) *dynamo.Store { return dynamo.New(cl.DynamoDB, c.Table) }

func (cl Clients) secrets(c Config) *secrets.Store {
	return secrets.New(cl.Secrets, c.SecretPrefix, secretTTL)
}

// ErrUnknownChannel is returned for a channel name no function serves.
var ErrUnknownChannel = errors.New("unknown channel")
