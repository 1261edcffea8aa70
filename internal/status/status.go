// Package status holds the life of one delivery attempt: the ordered
// statuses it moves through and the single rule that says what a new
// status event changes and which counters it moves.
package status

import "fmt"

// Status is where one attempt stands with its provider.
type Status string

// The statuses in their forward order; Failed stands beside them.
const (
	Queued    Status = "queued"    // recorded, not yet handed to the provider
	Submitted Status = "submitted" // accepted by the provider's API
	Sent      Status = "sent"      // the provider says it left for the handset
	Delivered Status = "delivered" // the handset has it
	Read      Status = "read"      // the person opened it
	Failed    Status = "failed"    // will not be delivered on this attempt
)

// Forward lists the statuses that only move forward, lowest first.
var Forward = []Status{Queued, Submitted, Sent, Delivered, Read}

var rank = map[Status]int{Queued: 1, Submitted: 2, Sent: 3, Delivered: 4, Read: 5}

// Parse returns the status named s.
func Parse(s string) (Status, error) {
	st := Status(s)
	if _, ok := rank[st]; ok || st == Failed {
		return st, nil
	}
	return "", fmt.Errorf("unknown status %q", s)
}

// Rank orders the forward statuses from 1 (queued) to 5 (read); failed
// and unknown statuses rank 0.
func (s Status) Rank() int { return rank[s] }

// Terminal reports whether the cascade may act on s: delivered and read
// end a step with success, failed ends it with a failure.
func (s Status) Terminal() bool {
	return s == Delivered || s == Read || s == Failed
}

// Success reports whether s means the message reached the person.
func (s Status) Success() bool { return s == Delivered || s == Read }

// Change is what applying one event to a stored status does.
type Change struct {
	// To is the status to store; equal to the stored one for a no-op.
	To Status
	// Counted lists the statuses that become true for the first time,
	// lowest first: each bumps its counter once. A read that arrives
	// before delivered counts delivered and read.
	Counted []Status
	// NoOp is set when nothing is written: a duplicate, a late or
	// backward status, or a failure after delivery.
	NoOp bool
	// Reason says why a no-op was ignored, for the log.
	Reason string
}

// Apply answers, for an attempt stored at from and an incoming event
// status to, what changes. An empty from means the attempt is new, so
// queued is counted when it is reached or implied.
func Apply(from, to Status) Change {
	switch {
	case from == Failed:
		return Change{To: from, NoOp: true, Reason: "attempt already failed"}
	case to == Failed && from.Success():
		return Change{To: from, NoOp: true, Reason: "failure after delivery"}
	case to == Failed:
		return Change{To: Failed, Counted: append(implied(from, Queued), Failed)}
	case to.Rank() == 0:
		return Change{To: from, NoOp: true, Reason: "unknown status"}
	case to.Rank() <= from.Rank():
		return Change{To: from, NoOp: true, Reason: "duplicate or late status"}
	}
	return Change{To: to, Counted: implied(from, to)}
}

// implied lists the forward statuses above from, up to and including to.
func implied(from, to Status) []Status {
	var out []Status
	for _, s := range Forward {
		if s.Rank() > from.Rank() && s.Rank() <= to.Rank() {
			out = append(out, s)
		}
	}
	return out
}
