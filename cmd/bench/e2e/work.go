package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cascade-oss/cascade/cmd/bench/internal/bill"
	"github.com/cascade-oss/cascade/cmd/bench/internal/meter"
	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
	"github.com/cascade-oss/cascade/internal/cascade"
)

// historySample is how many executions' histories are read; their
// mean stands for the campaign's.
const historySample = 200

// executions sums up a random sample of the state machine's
// execution histories.
type executions struct {
	paths []results.Path
	// Per execution, on average: transitions, the state machine's own
	// SQS sends, and the bytes of history that logging level ALL
	// ships to CloudWatch Logs.
	transitions, sqsSends, logBytes float64
}

func sampleExecutions(ctx context.Context, c *sfn.Client, arn string, seed int64) (executions, error) {
	var arns []string
	p := sfn.NewListExecutionsPaginator(c, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return executions{}, fmt.Errorf("list executions: %w", err)
		}
		for _, e := range page.Executions {
			arns = append(arns, aws.ToString(e.ExecutionArn))
		}
	}
	r := rand.New(rand.NewPCG(uint64(seed), 8))
	r.Shuffle(len(arns), func(i, j int) { arns[i], arns[j] = arns[j], arns[i] })
	arns = arns[:min(len(arns), historySample)]

	var ex executions
	byPath := map[[2]int]*results.Path{}
	for _, a := range arns {
		h, err := history(ctx, c, a)
		if err != nil {
			return ex, err
		}
		states := cascade.Path(h)
		t := float64(cascade.Transitions(h))
		ex.transitions += t
		ex.sqsSends += float64(sqsTasks(h))
		ex.logBytes += float64(loggedBytes(h))

		sends, delivered := journey(states)
		k := [2]int{sends - 1, b2i(delivered)}
		if byPath[k] == nil {
			byPath[k] = &results.Path{Fallbacks: sends - 1, Delivered: delivered}
		}
		byPath[k].Executions++
		byPath[k].Transitions += t
	}
	if n := float64(len(arns)); n > 0 {
		ex.transitions, ex.sqsSends, ex.logBytes = ex.transitions/n, ex.sqsSends/n, ex.logBytes/n
	}
	for _, p := range byPath {
		p.Transitions /= float64(p.Executions)
		ex.paths = append(ex.paths, *p)
	}
	sort.Slice(ex.paths, func(i, j int) bool {
		a, b := ex.paths[i], ex.paths[j]
		return a.Fallbacks < b.Fallbacks || a.Fallbacks == b.Fallbacks && a.Delivered
	})
	return ex, nil
}

func history(ctx context.Context, c *sfn.Client, arn string) ([]sfntypes.HistoryEvent, error) {
	var h []sfntypes.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("execution history: %w", err)
		}
		h = append(h, page.Events...)
	}
	return h, nil
}

// loggedBytes is what the state machine's log group receives for one
// execution: infra logs at level ERROR without execution data, so only
// the failure events reach CloudWatch Logs, each about the size of its
// history entry.
func loggedBytes(h []sfntypes.HistoryEvent) int {
	n := 0
	for _, e := range h {
		t := string(e.Type)
		if strings.HasSuffix(t, "Failed") || strings.HasSuffix(t, "TimedOut") || strings.HasSuffix(t, "Aborted") {
			raw, _ := json.Marshal(e)
			n += len(raw)
		}
	}
	return n
}

// sqsTasks counts the SQS sends among an execution's tasks.
func sqsTasks(h []sfntypes.HistoryEvent) int {
	n := 0
	for _, e := range h {
		if d := e.TaskScheduledEventDetails; d != nil && aws.ToString(d.ResourceType) == "sqs" {
			n++
		}
	}
	return n
}

// journey reads how many channels a path sent on, and whether it
// ended delivered.
func journey(states []string) (sends int, delivered bool) {
	for _, s := range states {
		if strings.HasPrefix(s, "Send") {
			sends++
		}
		if s == "Delivered" {
			delivered = true
		}
	}
	return max(sends, 1), delivered
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// functions turns the meter's calls into per-function figures. A
// function some of whose calls went untimed is priced at the mean of
// those timed.
func functions(calls map[string]meter.Calls, counts map[string]int64) ([]results.Invocations, float64) {
	names := map[string]bool{}
	for k := range calls {
		names[k] = true
	}
	for k := range counts {
		names[k] = true
	}
	var out []results.Invocations
	gbs := 0.0
	for name := range names {
		c := calls[name]
		inv := results.Invocations{Function: name, Count: c.Count, Timed: int64(len(c.Durations)),
			MemoryMB: bill.MemoryMB[name]}
		if n, ok := counts[name]; ok {
			inv.Count = n
		}
		if inv.Timed > 0 {
			d := append([]float64(nil), c.Durations...)
			sort.Float64s(d)
			sum := 0.0
			for _, x := range d {
				sum += x
			}
			inv.MeanMS, inv.P99MS = sum/float64(len(d)), quantile(d, 0.99)
			gbs += bill.GBSeconds(inv.MemoryMB, d) * float64(inv.Count) / float64(inv.Timed)
		}
		out = append(out, inv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Function < out[j].Function })
	return out, gbs
}
