package cascade

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/channel"
	"github.com/cascade-oss/cascade/internal/failure"
)

var update = flag.Bool("update", false, "rewrite definition.asl.json from the builder")

// The definition is unrolled: MaxSteps steps times three channels,
// because moto's engine cannot read a field of an array element
// ($.steps[1].channel comes back as ["rcs"]) and cannot read
// variables. Each step's Route state therefore selects the step with
// InputPath and routes on its fields. Writing 38 such states by hand
// invites typos, so this builder writes them and the test below keeps
// the embedded file equal to its output.

// TestDefinitionIsBuilt checks that definition.asl.json is what the
// builder writes; run it with -update after changing the builder.
func TestDefinitionIsBuilt(t *testing.T) {
	want, err := json.MarshalIndent(buildDefinition(), "", "  ")
	if err != nil {
		t.Fatalf("marshal definition: %v", err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.WriteFile("definition.asl.json", want, 0o644); err != nil {
			t.Fatalf("write definition: %v", err)
		}
		return
	}
	if !bytes.Equal([]byte(rawDefinition), want) {
		t.Errorf("definition.asl.json differs from the builder (-file +builder):\n%s",
			cmp.Diff(rawDefinition, string(want)))
	}
}

// obj is a JSON object that keeps its keys in the order written, so
// the ASL reads Type first and states in the order they run.
type obj []kv

type kv struct {
	k string
	v any
}

// MarshalJSON writes the object's keys in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.k, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Names of the states that are not per step.
const (
	stateDelivered   = "Delivered"
	stateUnreached   = "Unreached"
	stateInvalidPlan = "InvalidPlan"
)

// Service integrations the definition uses.
const (
	sendAndWait = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
	sendOnly    = "arn:aws:states:::sqs:sendMessage"
)

// Paths into the context object, which every state can read whatever
// its own input is.
const (
	inputPath = "$$.Execution.Input"
	stepCount = "States.ArrayLength($$.Execution.Input.steps)"
)

var (
	// stateName spells each channel in state names.
	stateName = map[channel.Channel]string{
		channel.WhatsApp: "WhatsApp", channel.RCS: "RCS", channel.SMS: "SMS",
	}
	// queueURL is each channel's queue placeholder.
	queueURL = map[channel.Channel]string{
		channel.WhatsApp: "${WhatsAppQueueUrl}",
		channel.RCS:      "${RcsQueueUrl}",
		channel.SMS:      "${SmsQueueUrl}",
	}
)

const outcomeQueueURL = "${OutcomeQueueUrl}"

func routeName(i int) string { return fmt.Sprintf("Route%d", i) }
func moreName(i int) string  { return fmt.Sprintf("More%d", i) }
func revokeName(i int) string {
	return fmt.Sprintf("Revoke%d", i)
}
func sendName(i int, c channel.Channel) string {
	return fmt.Sprintf("Send%d%s", i, stateName[c])
}
func waitName(i int, c channel.Channel) string {
	return fmt.Sprintf("Wait%d%s", i, stateName[c])
}

// afterStep is where a step that failed, and may fall back, goes.
func afterStep(i int) string {
	if i+1 < MaxSteps {
		return moreName(i + 1)
	}
	return stateUnreached
}

func buildDefinition() obj {
	var states obj
	for i := range MaxSteps {
		states = append(states, stepStates(i)...)
	}
	states = append(states,
		kv{stateDelivered, outcomeState(Delivered)},
		kv{stateUnreached, outcomeState(Unreached)},
		kv{stateInvalidPlan, obj{
			{"Type", "Fail"},
			{"Error", "InvalidPlan"},
			{"Cause", "the input's steps are more than 4, or name an unknown channel"},
		}},
	)
	return obj{
		{"Comment", "Cascade: one recipient's journey over WhatsApp, RCS and SMS. " +
			"Written by internal/cascade/build_test.go."},
		{"StartAt", routeName(0)},
		{"States", states},
	}
}

// stepStates returns the states of step i: More (is there a step i?),
// Route, and per channel Wait and Send; then Revoke for RCS.
func stepStates(i int) obj {
	var s obj
	if i > 0 {
		s = append(s, kv{moreName(i), moreState(i)})
	}
	s = append(s, kv{routeName(i), routeState(i)})
	for _, c := range channel.All {
		s = append(s,
			kv{waitName(i, c), obj{
				{"Type", "Wait"},
				{"SecondsPath", "$.delaySeconds"},
				{"Next", sendName(i, c)},
			}},
			kv{sendName(i, c), sendState(i, c)})
	}
	return append(s, kv{revokeName(i), revokeState(i)})
}

func moreState(i int) obj {
	return obj{
		{"Type", "Choice"},
		{"Comment", fmt.Sprintf("Is there a step %d to fall back to?", i)},
		{"Choices", []obj{{
			{"Variable", fmt.Sprintf("%s.steps[%d]", inputPath, i)},
			{"IsPresent", true},
			{"Next", routeName(i)},
		}}},
		{"Default", stateUnreached},
	}
}

// routeState selects step i as its output and routes on its channel
// and delay.
func routeState(i int) obj {
	var rules []obj
	if i == 0 {
		rules = append(rules, obj{
			{"Variable", fmt.Sprintf("%s.steps[%d]", inputPath, MaxSteps)},
			{"IsPresent", true},
			{"Next", stateInvalidPlan},
		})
	}
	for _, c := range channel.All {
		rules = append(rules,
			obj{
				{"And", []obj{isChannel(c), {
					{"Variable", "$.delaySeconds"},
					{"NumericGreaterThan", 0},
				}}},
				{"Next", waitName(i, c)},
			},
			append(isChannel(c), kv{"Next", sendName(i, c)}),
		)
	}
	return obj{
		{"Type", "Choice"},
		{"Comment", fmt.Sprintf(
			"Step %d: wait if it says so, then send on its channel.", i)},
		{"InputPath", fmt.Sprintf("%s.steps[%d]", inputPath, i)},
		{"Choices", rules},
		{"Default", stateInvalidPlan},
	}
}

func isChannel(c channel.Channel) obj {
	return obj{{"Variable", "$.channel"}, {"StringEquals", string(c)}}
}

func sendState(i int, c channel.Channel) obj {
	body := obj{
		{"taskToken.$", "$$.Task.Token"},
		{"tenant.$", inputPath + ".tenant"},
		{"campaign.$", inputPath + ".campaign"},
		{"recipient.$", inputPath + ".recipient"},
		{"mode.$", inputPath + ".mode"},
		{"step", i},
		{"channel", string(c)},
		{"steps.$", stepCount},
	}
	return obj{
		{"Type", "Task"},
		{"Resource", sendAndWait},
		{"Parameters", obj{{"QueueUrl", queueURL[c]}, {"MessageBody", body}}},
		{"TimeoutSecondsPath", "$.timeoutSeconds"},
		{"ResultPath", "$.result"},
		{"Retry", sqsRetry()},
		{"Catch", sendCatches(i, c)},
		{"Next", stateDelivered},
	}
}

// sendCatches sends a final failure to Unreached, an RCS timeout to
// the revoke, and every other failure class or timeout on.
func sendCatches(i int, c channel.Channel) []obj {
	timeouts := []string{"States.Timeout", "States.HeartbeatTimeout"}
	onwards := []string{
		failure.FallbackNow.ErrorName(),
		failure.Retry.ErrorName(),
		failure.ConfigError.ErrorName(),
	}
	catches := []obj{catch([]string{failure.Final.ErrorName()}, stateUnreached)}
	if c == channel.RCS {
		catches = append(catches, catch(timeouts, revokeName(i)))
	} else {
		onwards = append(onwards, timeouts...)
	}
	return append(catches, catch(onwards, afterStep(i)))
}

func catch(errs []string, next string) obj {
	return obj{{"ErrorEquals", errs}, {"ResultPath", "$.error"}, {"Next", next}}
}

// revokeState tells the RCS sender to revoke step i's message, which
// timed out, and moves on; the error stays in $.error.
func revokeState(i int) obj {
	body := obj{
		{"revoke", true},
		{"tenant.$", inputPath + ".tenant"},
		{"campaign.$", inputPath + ".campaign"},
		{"recipient.$", inputPath + ".recipient"},
		{"step", i},
		{"channel", string(channel.RCS)},
	}
	return obj{
		{"Type", "Task"},
		{"Resource", sendOnly},
		{"Parameters", obj{{"QueueUrl", queueURL[channel.RCS]}, {"MessageBody", body}}},
		{"ResultPath", nil},
		{"Retry", sqsRetry()},
		{"Next", afterStep(i)},
	}
}

// outcomeState records the journey's end on the outcome queue and
// ends the execution.
func outcomeState(outcome string) obj {
	body := obj{
		{"tenant.$", inputPath + ".tenant"},
		{"campaign.$", inputPath + ".campaign"},
		{"recipient.$", inputPath + ".recipient"},
		{"outcome", outcome},
	}
	if outcome == Delivered {
		body = append(body, kv{"result.$", "$.result"}, kv{"error", nil})
	} else {
		body = append(body, kv{"result", nil}, kv{"error.$", "$.error"})
	}
	body = append(body, kv{"steps.$", stepCount})
	return obj{
		{"Type", "Task"},
		{"Resource", sendOnly},
		{"Parameters", obj{{"QueueUrl", outcomeQueueURL}, {"MessageBody", body}}},
		{"ResultPath", nil},
		{"Retry", sqsRetry()},
		{"End", true},
	}
}

// sqsRetry retries a send that SQS refused or that never reached it.
func sqsRetry() []obj {
	return []obj{{
		{"ErrorEquals", []string{"SQS.SdkClientException", "SQS.AmazonSQSException"}},
		{"IntervalSeconds", 1},
		{"MaxAttempts", 3},
		{"BackoffRate", 2},
	}}
}
