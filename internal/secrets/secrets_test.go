package secrets

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/awstest"
)

func TestPutGetReplace(t *testing.T) {
	ctx := context.Background()
	s := New(secretsmanager.NewFromConfig(awstest.Config(t)), awstest.Name(t, "cascade")+"/", 0)

	arn, err := s.Put(ctx, "t1", "whatsapp", Values{"accessToken": "fake-1"})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Get(ctx, arn)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(Values{"accessToken": "fake-1"}, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}

	arn2, err := s.Put(ctx, "t1", "whatsapp", Values{"accessToken": "fake-2"})
	if err != nil {
		t.Fatalf("second Put: %v", err)
	}
	time.Sleep(time.Millisecond)
	got, err = s.Get(ctx, arn2)
	if err != nil || got["accessToken"] != "fake-2" {
		t.Errorf("Get after replace = %v, %v; want fake-2", got, err)
	}
}
