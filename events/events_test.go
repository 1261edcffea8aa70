// Package events holds a sample event for every Cascade function and
// the demo campaign; its test decodes each file into the exact
// aws-lambda-go type its handler takes, with unknown fields rejected.
package events

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cascade-oss/cascade/internal/campaign"
)

// typeFor names the event type each sample's handler takes.
func typeFor(name string) any {
	switch {
	case strings.HasPrefix(name, "api-"):
		return &events.APIGatewayV2HTTPRequest{}
	case strings.HasPrefix(name, "webhook-"):
		return &events.LambdaFunctionURLRequest{}
	case strings.HasSuffix(name, "-stream.json"):
		return &events.DynamoDBEvent{}
	case strings.HasSuffix(name, "-sqs.json"):
		return &events.SQSEvent{}
	case strings.HasSuffix(name, "-campaign.json"):
		return &campaign.Campaign{}
	}
	return nil
}

func TestSamplesDecodeStrictly(t *testing.T) {
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) < 13 {
		t.Fatalf("found %d sample files (%v), want one per function", len(files), err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			v := typeFor(f)
			if v == nil {
				t.Fatalf("no event type known for %s", f)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("decode into %T: %v", v, err)
			}
			check(t, v)
		})
	}
}

// check looks past the decoding at what each handler relies on.
func check(t *testing.T, v any) {
	t.Helper()
	switch ev := v.(type) {
	case *events.APIGatewayV2HTTPRequest:
		if ev.RequestContext.Authorizer.JWT.Claims["tenant"] == "" || ev.RequestContext.HTTP.Method == "" {
			t.Error("API event lacks the tenant claim or the method")
		}
	case *events.SQSEvent:
		for _, r := range ev.Records {
			if !json.Valid([]byte(r.Body)) {
				t.Errorf("SQS body is not JSON: %s", r.Body)
			}
		}
	case *events.DynamoDBEvent:
		if ev.Records[0].Change.NewImage["status"].String() == "" {
			t.Error("stream record has no status in its new image")
		}
	case *events.LambdaFunctionURLRequest:
		if ev.QueryStringParameters["tenant"] == "" {
			t.Error("webhook URL names no tenant")
		}
	case *campaign.Campaign:
		ev.Audience.Recipients = []campaign.Row{{Phone: "+919900000001"}}
		if err := ev.Validate(); err != nil {
			t.Errorf("campaign does not validate: %v", err)
		}
	}
}
