package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
)

// printTables writes every part's figures, then the targets.
func printTables(w io.Writer, r results.Results) {
	fmt.Fprintf(w, "\nCascade benchmark, %s, %s/%s, %d CPUs (%s)\n",
		r.StartedAt.Format(time.RFC3339), r.Machine.OS, r.Machine.Arch, r.Machine.CPUs, r.Machine.CPUModel)
	printColdStart(w, r.ColdStart)
	printMicro(w, r.Micro)
	printExports(w, r.Exports)
	for _, e := range r.E2E {
		printE2E(w, e)
	}
	printCost(w, r.Cost)
	printTargets(w, r.Targets)
	if len(r.NotRun) > 0 {
		fmt.Fprintln(w, "\nNot run or incomplete:")
		for _, k := range slices.Sorted(maps.Keys(r.NotRun)) {
			fmt.Fprintf(w, "  %s: %s\n", k, tail(r.NotRun[k], 600))
		}
	}
}

func table(w io.Writer, title string, rows [][]string) {
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, "  "+strings.Join(r, "\t"))
	}
	tw.Flush()
}

func printColdStart(w io.Writer, cs *results.ColdStart) {
	if cs == nil {
		return
	}
	rows := [][]string{{"function", "arm64 MB", "amd64 MB", "init ms", "1st invoke ms",
		"emulator ms", "1st answer ms", "answer"}}
	for _, f := range cs.Functions {
		rows = append(rows, []string{f.Name, mb(f.ARM64Bytes), mb(f.AMD64Bytes),
			fmt.Sprintf("%.1f", f.InitMS), fmt.Sprintf("%.1f", f.InvokeMS), fmt.Sprintf("%.1f", f.EmulatorMS),
			fmt.Sprintf("%.0f", f.FirstResponseMS), tail(firstNonEmpty(f.Error, f.Answer), 70)})
	}
	table(w, "Cold start under the Lambda Runtime Interface Emulator ("+cs.RIE+", amd64 copies)", rows)
}

func mb(n int64) string { return fmt.Sprintf("%.2f", float64(n)/1e6) }

func printMicro(w io.Writer, ms []results.Micro) {
	if len(ms) == 0 {
		return
	}
	rows := [][]string{{"benchmark", "ns/op", "B/op", "allocs/op", "other"}}
	for _, m := range ms {
		var extra []string
		for k, v := range m.Extra {
			extra = append(extra, fmt.Sprintf("%.4g %s", v, k))
		}
		sort.Strings(extra)
		rows = append(rows, []string{shortPkg(m.Package) + "." + m.Name,
			fmt.Sprintf("%.0f", m.NsPerOp), fmt.Sprintf("%.0f", m.BytesPerOp),
			fmt.Sprintf("%.0f", m.AllocsPerOp), strings.Join(extra, ", ")})
	}
	table(w, "Micro-benchmarks (go test -bench)", rows)
}

func shortPkg(p string) string { return p[strings.LastIndex(p, "/")+1:] }

func printExports(w io.Writer, ex []results.Export) {
	if len(ex) == 0 {
		return
	}
	rows := [][]string{{"source", "report", "attempts", "rows", "MB", "parts", "s", "rows/s", "peak RSS MB", "peak heap MB"}}
	for _, e := range ex {
		if e.Error != "" {
			rows = append(rows, []string{e.Source, e.Kind, fmt.Sprint(e.Attempts), "error: " + tail(e.Error, 80)})
			continue
		}
		rows = append(rows, []string{e.Source, e.Kind, fmt.Sprint(e.Attempts), fmt.Sprint(e.Rows),
			mb(e.Bytes), fmt.Sprint(e.Parts), fmt.Sprintf("%.1f", e.Seconds), fmt.Sprintf("%.0f", e.RowsPerS),
			fmt.Sprintf("%.1f", e.PeakRSSMB), fmt.Sprintf("%.1f", e.PeakHeapMB)})
	}
	table(w, "Report export into moto's S3 (multipart); in-process = synthetic source, dynamodb = the real store on moto", rows)
}

func printE2E(w io.Writer, e results.E2E) {
	title := fmt.Sprintf("End to end: %d recipients through the local stack, demo mix, instant fakes, "+
		"fan-out cap %d in flight", e.Recipients, e.InFlight)
	if e.Error != "" {
		table(w, title, [][]string{{"error", tail(e.Error, 300)}})
		return
	}
	c := e.CPU
	rows := [][]string{}
	if e.Partial != "" {
		rows = append(rows, []string{"PARTIAL", e.Partial + "; figures below are per ended journey"})
	}
	rows = append(rows, [][]string{
		{"journeys ended", fmt.Sprintf("%d in %.1f s (%.2f recipients/s)", e.Ended, e.Seconds, e.RecipientsPerS)},
		{"outcomes", outcomes(e.Outcomes)},
		{"our CPU", fmt.Sprintf("%.0f ms = %.2f ms per recipient (process %.0f ms − meter %.0f − fakes %.0f)",
			c.OursMS, c.OursPerRecipientMS, c.ProcessMS, c.MeterMS, c.FakesMS)},
		{"moto's CPU (apart)", fmt.Sprintf("%.0f ms = %.2f ms per recipient", c.MotoMS, c.MotoPerRecipientMS)},
		{"fallback latency", fmt.Sprintf("p50 %.0f ms, p99 %.0f ms, max %.0f ms (n=%d, %d without a next send)",
			e.Fallback.P50MS, e.Fallback.P99MS, e.Fallback.MaxMS, e.Fallback.Samples, e.Fallback.Unmatched)},
		{"moto requests", fmt.Sprintf("%d (%.1f ms mean), %d idle polls", e.Moto.Requests, e.Moto.MeanMS, e.Moto.IdlePolls)},
	}...)
	table(w, title, rows)
	printWork(w, e)
	if len(c.Top) > 0 {
		fmt.Fprintf(w, "\n  where our CPU went (pprof -top, %s):\n", c.Profile)
		for _, l := range c.Top {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}

func outcomes(m map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func printWork(w io.Writer, e results.E2E) {
	k := e.Work
	rows := [][]string{
		{"state transitions", f2(k.Transitions)}, {"DynamoDB write units", f2(k.WRU)},
		{"DynamoDB read units", f2(k.RRU)}, {"SQS requests", f2(k.SQSRequests)},
		{"Lambda invocations", f2(k.LambdaInvocations)}, {"Lambda GB-s", fmt.Sprintf("%.5f", k.LambdaGBSeconds)},
		{"S3 writes / reads", f2(k.S3Writes) + " / " + f2(k.S3Reads)},
		{"Secrets Manager calls", fmt.Sprintf("%.4f", k.SecretsCalls)},
		{"API requests", fmt.Sprintf("%.4f", k.APIRequests)},
		{"log bytes (functions / state machine)", fmt.Sprintf("%.0f / %.0f", k.LogBytes, k.StateMachineLogBytes)},
	}
	table(w, "  AWS work per recipient", rows)
	prow := [][]string{{"journey", "executions sampled", "transitions"}}
	for _, p := range e.Paths {
		prow = append(prow, []string{pathName(p), fmt.Sprint(p.Executions), f2(p.Transitions)})
	}
	table(w, "  State transitions by journey (from execution histories)", prow)
	frow := [][]string{{"function", "invocations", "timed", "mean ms", "p99 ms", "MB"}}
	for _, f := range e.Functions {
		frow = append(frow, []string{f.Function, fmt.Sprint(f.Count), fmt.Sprint(f.Timed),
			f2(f.MeanMS), f2(f.P99MS), fmt.Sprint(f.MemoryMB)})
	}
	table(w, "  Lambda invocations (durations as measured locally)", frow)
}

func pathName(p results.Path) string {
	end := "unreached"
	if p.Delivered {
		end = "delivered"
	}
	return fmt.Sprintf("%d fallback(s), %s", p.Fallbacks, end)
}

func f2(v float64) string { return fmt.Sprintf("%.2f", v) }

func printCost(w io.Writer, c *results.Cost) {
	if c == nil {
		return
	}
	rows := [][]string{{"service", "quantity", "unit", "USD"}}
	for _, l := range c.Lines {
		rows = append(rows, []string{l.Service, fmt.Sprintf("%.4g", l.Quantity), l.Unit, fmt.Sprintf("%.2f", l.USD)})
	}
	rows = append(rows, []string{"total", "", "", fmt.Sprintf("%.2f", c.PerMillion)})
	table(w, fmt.Sprintf("AWS cost per 1,000,000 recipients (%s, arm64, prices of %s, demo mix from the %d run)",
		c.Region, c.PriceDate, c.FromRun), rows)
	for _, l := range c.Left {
		fmt.Fprintf(w, "  not counted: %s\n", l)
	}
}

func printTargets(w io.Writer, ts []results.Target) {
	rows := [][]string{{"target", "goal", "measured", "verdict"}}
	for _, t := range ts {
		rows = append(rows, []string{t.Name, t.Goal, t.Measured, t.Verdict})
	}
	table(w, "Targets", rows)
}

// syncBuffer is a bytes.Buffer safe to write from a process's pipes
// while it is read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// tail keeps the last n bytes of s, on one line.
func tail(s string, n int) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}
