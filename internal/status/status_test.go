package status

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestApply(t *testing.T) {
	tests := []struct {
		name string
		from Status
		to   Status
		want Change
	}{
		{
			name: "new attempt is queued",
			from: "", to: Queued,
			want: Change{To: Queued, Counted: []Status{Queued}},
		},
		{
			name: "submitted after queued",
			from: Queued, to: Submitted,
			want: Change{To: Submitted, Counted: []Status{Submitted}},
		},
		{
			name: "read before delivered counts both",
			from: Sent, to: Read,
			want: Change{To: Read, Counted: []Status{Delivered, Read}},
		},
		{
			name: "delivered after read is a no-op",
			from: Read, to: Delivered,
			want: Change{To: Read, NoOp: true, Reason: "duplicate or late status"},
		},
		{
			name: "duplicate delivered is a no-op",
			from: Delivered, to: Delivered,
			want: Change{To: Delivered, NoOp: true, Reason: "duplicate or late status"},
		},
		{
			name: "late sent after delivered is a no-op",
			from: Delivered, to: Sent,
			want: Change{To: Delivered, NoOp: true, Reason: "duplicate or late status"},
		},
		{
			name: "failed after submitted",
			from: Submitted, to: Failed,
			want: Change{To: Failed, Counted: []Status{Failed}},
		},
		{
			name: "failed on a new attempt counts the attempt",
			from: "", to: Failed,
			want: Change{To: Failed, Counted: []Status{Queued, Failed}},
		},
		{
			name: "failed after delivered is ignored",
			from: Delivered, to: Failed,
			want: Change{To: Delivered, NoOp: true, Reason: "failure after delivery"},
		},
		{
			name: "failed is terminal",
			from: Failed, to: Delivered,
			want: Change{To: Failed, NoOp: true, Reason: "attempt already failed"},
		},
		{
			name: "duplicate failed is a no-op",
			from: Failed, to: Failed,
			want: Change{To: Failed, NoOp: true, Reason: "attempt already failed"},
		},
		{
			name: "unknown status is a no-op",
			from: Sent, to: "played",
			want: Change{To: Sent, NoOp: true, Reason: "unknown status"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Apply(tt.from, tt.to)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Apply(%q, %q) mismatch (-want +got):\n%s", tt.from, tt.to, diff)
			}
		})
	}
}

// TestApplyOrderFree checks that any order of the same events counts
// each implied status exactly once and ends at the highest status.
func TestApplyOrderFree(t *testing.T) {
	orders := [][]Status{
		{Queued, Submitted, Sent, Delivered, Read},
		{Queued, Read, Delivered, Delivered, Sent},
		{Queued, Delivered, Submitted, Read, Read},
	}
	for _, events := range orders {
		var at Status
		counts := map[Status]int{}
		for _, e := range events {
			c := Apply(at, e)
			at = c.To
			for _, s := range c.Counted {
				counts[s]++
			}
		}
		if at != Read {
			t.Errorf("%v ends at %q, want read", events, at)
		}
		for _, s := range Forward {
			if counts[s] != 1 {
				t.Errorf("%v counts %q %d times, want once", events, s, counts[s])
			}
		}
	}
}
