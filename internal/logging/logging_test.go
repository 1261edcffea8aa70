package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

func TestRequestIDFromContext(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "api").With("campaign", "c1")
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	log.InfoContext(ctx, "campaign created")

	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("log line is not JSON: %v: %s", err, buf.String())
	}
	for k, want := range map[string]string{"requestId": "req-1", "function": "api", "campaign": "c1", "msg": "campaign created"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %q", k, got[k], want)
		}
	}
}
