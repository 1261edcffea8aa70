// Package cascade holds the state machine that walks one recipient
// through a campaign's channels, and the messages it exchanges with
// the rest of Cascade.
//
// One Standard execution runs per recipient with an Input. For each
// step it puts a Task, carrying a task token, on that channel's SQS
// queue and waits up to the step's timeout. The sender and the status
// processor answer with SendTaskSuccess (a Result) or SendTaskFailure
// (an error named by failure.Class.ErrorName and a JSON Cause). The
// execution ends by sending an Outcome to the outcome queue; an
// unreached recipient is a normal, successful end.
//
// The definition is one ASL file, embedded here. The CDK app and the
// local stack fill in the same placeholders (see Definition).
package cascade

import (
	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/channel"
	"github.com/cascade-oss/cascade/internal/status"
)

// MaxSteps is the most steps one execution can walk. The definition
// has states for exactly this many; an Input with more fails.
const MaxSteps = 4

// Input is the input of one execution: who to reach and how.
type Input struct {
	Tenant    string        `json:"tenant"`
	Campaign  string        `json:"campaign"`
	Recipient string        `json:"recipient"` // E.164
	Mode      campaign.Mode `json:"mode"`
	// Steps are tried in order; Plan builds them.
	Steps []Step `json:"steps"`
}

// Step is one send and the wait for its delivery. Every field is
// always written, because the definition reads each of them.
type Step struct {
	Channel channel.Channel `json:"channel"`
	// TimeoutSeconds is how long to wait for delivery before moving
	// on; it must be positive.
	TimeoutSeconds int `json:"timeoutSeconds"`
	// DelaySeconds is a pause before the send (retries mode's
	// interval); zero sends at once.
	DelaySeconds int `json:"delaySeconds"`
}

// Task is the body of the message a step puts on its channel's queue.
// The sender answers through the status processor with TaskToken.
type Task struct {
	TaskToken string          `json:"taskToken"`
	Tenant    string          `json:"tenant"`
	Campaign  string          `json:"campaign"`
	Recipient string          `json:"recipient"`
	Mode      campaign.Mode   `json:"mode"`
	Step      int             `json:"step"` // from 0
	Channel   channel.Channel `json:"channel"`
	Steps     int             `json:"steps"` // in the whole plan
}

// Revoke is the body of the message the state machine puts on the RCS
// queue when an RCS step times out, so that the sender revokes the
// undelivered message. It carries no token and expects no answer.
type Revoke struct {
	Revoke    bool            `json:"revoke"` // always true
	Tenant    string          `json:"tenant"`
	Campaign  string          `json:"campaign"`
	Recipient string          `json:"recipient"`
	Step      int             `json:"step"`
	Channel   channel.Channel `json:"channel"` // always rcs
}

// Result is the output a successful callback sends (SendTaskSuccess).
type Result struct {
	Channel   channel.Channel `json:"channel"`
	Status    status.Status   `json:"status"` // delivered or read
	AttemptID string          `json:"attemptId"`
}

// Cause is the JSON a failed callback sends as its cause
// (SendTaskFailure); its error is a failure.Class.ErrorName.
type Cause struct {
	Channel   channel.Channel `json:"channel"`
	Code      string          `json:"code"`
	Reason    string          `json:"reason"`
	AttemptID string          `json:"attemptId"`
}

// The outcomes of a journey.
const (
	Delivered = "delivered"
	Unreached = "unreached"
)

// Outcome is the body of the message that ends every journey, sent to
// the outcome queue.
type Outcome struct {
	Tenant    string `json:"tenant"`
	Campaign  string `json:"campaign"`
	Recipient string `json:"recipient"`
	Outcome   string `json:"outcome"` // Delivered or Unreached
	// Result is the delivering callback's output; nil when unreached.
	Result *Result `json:"result"`
	// Error is the last step's error; nil when delivered.
	Error *Error `json:"error"`
	Steps int    `json:"steps"` // in the whole plan
}

// Error is a step's error as Step Functions reports it: a callback's
// error and cause, or States.Timeout with an empty cause.
type Error struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}
