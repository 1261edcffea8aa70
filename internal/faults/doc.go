// Package faults is Cascade's end-to-end fault suite (issue 9). Its
// tests start one local stack (internal/devstack) on a moto server,
// run every fault the issue lists through the real handlers, and check
// the campaign invariants after each: one outcome per valid recipient,
// at most one provider send per attempt, counters equal to a recount,
// a funnel that adds up, and no accepted webhook lost. Faults that need
// a hand on one invocation (a batch of three sends, a sender that dies
// mid-send, a stream batch retried after a crash) run in a lane: a
// table, queues and a state machine of their own in the same moto
// server, whose events the test hands to the real handlers itself.
//
// The package holds tests only; this file documents it.
package faults
