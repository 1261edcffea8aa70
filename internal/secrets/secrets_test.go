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

// TestRefreshSeesARotation: a webhook's copy of a credential is cached
// for minutes; after the API stores a new one, Refresh reads it at once,
// but not twice within minAge.
func TestRefreshSeesARotation(t *testing.T) {
	ctx := context.Background()
	api := secretsmanager.NewFromConfig(awstest.Config(t))
	prefix := awstest.Name(t, "cascade") + "/"
	writer, webhook := New(api, prefix, time.Minute), New(api, prefix, time.Hour)

	arn, err := writer.Put(ctx, "t1", "sms", Values{"webhookToken": "old"})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := webhook.Get(ctx, arn); err != nil || v["webhookToken"] != "old" {
		t.Fatalf("first read = %v, %v", v, err)
	}
	if _, err := writer.Put(ctx, "t1", "sms", Values{"webhookToken": "new"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := webhook.Get(ctx, arn); v["webhookToken"] != "old" {
		t.Fatalf("cached read = %v, want the cached old token", v)
	}
	tests := []struct {
		name       string
		minAge     time.Duration
		wantReread bool
	}{
		{"an old enough copy is read again", 0, true},
		{"a fresh copy is not", time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, reread, err := webhook.Refresh(ctx, arn, tt.minAge)
			if err != nil || reread != tt.wantReread || v["webhookToken"] != "new" {
				t.Errorf("Refresh = %v, %v, %v; want new, reread %v", v, reread, err, tt.wantReread)
			}
		})
	}
}
