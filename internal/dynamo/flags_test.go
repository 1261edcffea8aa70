package dynamo

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cascade-oss/cascade/internal/status"
)

// interleave runs before once, just before the first transaction the
// store writes, so a test can land a status between a read and the
// conditional write that depends on it.
type interleave struct {
	API
	once   sync.Once
	before func()
}

func (i *interleave) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	i.once.Do(i.before)
	return i.API.TransactWriteItems(ctx, in, opts...)
}

// TestFlagsSurviveAReceiptInBetween: a read receipt that lands between
// reading an attempt and flagging it fails the flag's condition; the
// flag must still be set and counted once, not taken as already done.
func TestFlagsSurviveAReceiptInBetween(t *testing.T) {
	tests := []struct {
		name string
		mark func(s *Store, k AttemptKeyOf) error
		want map[string]int64
	}{
		{"after fallback", func(s *Store, k AttemptKeyOf) error {
			return s.MarkAfterFallback(context.Background(), k)
		}, map[string]int64{AfterFallback: 1, MovedOn: 0}},
		{"moved on, delivered meanwhile", func(s *Store, k AttemptKeyOf) error {
			return s.MarkMovedOn(context.Background(), k, NewAttempt{})
		}, map[string]int64{AfterFallback: 1, MovedOn: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			plain := newStore(t)
			a := record(t, plain, "c-"+tt.name[:5], "+919900000001", "whatsapp", 1)
			if _, err := plain.ApplyStatus(ctx, a.Key(), status.Event{Status: status.Delivered, At: time.Now()}); err != nil {
				t.Fatal(err)
			}
			racing := New(&interleave{API: plain.db, before: func() {
				if _, err := plain.ApplyStatus(ctx, a.Key(), status.Event{Status: status.Read, At: time.Now()}); err != nil {
					t.Error(err)
				}
			}}, plain.table)
			if err := tt.mark(racing, a.Key()); err != nil {
				t.Fatal(err)
			}
			got, err := plain.Attempt(ctx, a.Key())
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != status.Read || !got.AfterFallback {
				t.Errorf("attempt = %s, after fallback %v; want read and after fallback", got.Status, got.AfterFallback)
			}
			c, err := plain.Counters(ctx, a.Campaign)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if c["whatsapp"][name] != want {
					t.Errorf("counter %s = %d, want %d", name, c["whatsapp"][name], want)
				}
			}
		})
	}
}

// TestFindByEitherID: a webhook finds an attempt by our attempt id and,
// once the send was accepted, by the provider's id too, whether or not
// the provider echoes ours.
func TestFindByEitherID(t *testing.T) {
	tests := []struct {
		name, channel, providerID string
		byProviderID              bool
	}{
		{"whatsapp wamid", "whatsapp", "wamid.HBgMOTE5OTAwMDAwMDAxFQIAERgSQUE=", false},
		{"msg91 request id", "sms", "3567686b6e31333533343531", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t)
			a := record(t, s, "c-find", "+919900000001", tt.channel, 1)
			if _, err := s.FindByMessage(ctx, MessageKey(tt.channel, tt.providerID)); err == nil {
				t.Fatal("found by the provider's id before it was stored")
			}
			if err := s.SetProviderID(ctx, a.Key(), tt.channel, tt.providerID, tt.byProviderID); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{a.ID, tt.providerID} {
				got, err := s.FindByMessage(ctx, MessageKey(tt.channel, id))
				if err != nil || got.ID != a.ID {
					t.Errorf("find by %s = %v, %v; want attempt %s", id, got.ID, err, a.ID)
				}
			}
		})
	}
}
