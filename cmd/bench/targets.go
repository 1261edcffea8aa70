package main

import (
	"fmt"

	"github.com/cascade-oss/cascade/cmd/bench/internal/bill"
	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
)

// Issue 8's targets, and issue 7's for the export.
const (
	maxCPUPerRecipientMS = 2.0
	maxFallbackP99MS     = 300.0
	maxHappyTransitions  = 3.0
	maxPerFallback       = 3.0
	maxUSDPerMillion     = 60.0
	maxBootstrapBytes    = 12_000_000
	maxInitMS            = 50.0
	maxExportPeakMB      = 100.0
	minExportRowsPerS    = 100_000.0
)

// runSize names a run's size, and says when the time limit cut it.
func runSize(e results.E2E) string {
	if e.Partial != "" {
		return fmt.Sprintf("%d of %d recipients, cut at the time limit", e.Ended, e.Recipients)
	}
	return fmt.Sprintf("%d recipients", e.Recipients)
}

// largest is the biggest end-to-end run that gave figures.
func largest(runs []results.E2E) *results.E2E {
	var best *results.E2E
	for i := range runs {
		r := &runs[i]
		if r.Error == "" && (best == nil || r.Recipients > best.Recipients) {
			best = r
		}
	}
	return best
}

func costOf(runs []results.E2E, p bill.Prices) *results.Cost {
	r := largest(runs)
	if r == nil {
		return nil
	}
	c := bill.PerMillion(r.Work, p)
	c.FromRun = r.Recipients
	return &c
}

func verdict(ok bool) string {
	if ok {
		return results.Pass
	}
	return results.Miss
}

// targets judges the run against every target; a figure that was not
// measured is NOT RUN, never a pass.
func targets(res results.Results) []results.Target {
	var out []results.Target
	add := func(name, goal string, measured string, ok bool, ran bool) {
		t := results.Target{Name: name, Goal: goal, Measured: measured, Verdict: verdict(ok)}
		if !ran {
			t.Verdict, t.Measured = results.NotRun, "-"
		}
		out = append(out, t)
	}
	e := largest(res.E2E)
	if e != nil {
		add("our CPU per recipient", "< 2 ms", fmt.Sprintf("%.2f ms (%s)", e.CPU.OursPerRecipientMS, runSize(*e)),
			e.CPU.OursPerRecipientMS < maxCPUPerRecipientMS, true)
		add("fallback latency p99", "< 300 ms", fmt.Sprintf("%.0f ms (p50 %.0f, n=%d)", e.Fallback.P99MS, e.Fallback.P50MS, e.Fallback.Samples),
			e.Fallback.P99MS < maxFallbackP99MS, e.Fallback.Samples > 0)
		happy, per, ok := transitionTargets(e.Paths)
		add("transitions, happy path", "≤ 3", fmt.Sprintf("%.1f", happy), happy <= maxHappyTransitions, ok)
		add("transitions per fallback", "≤ 3 more", fmt.Sprintf("%.1f", per), per <= maxPerFallback, ok)
	} else {
		for _, n := range []string{"our CPU per recipient", "fallback latency p99", "transitions, happy path", "transitions per fallback"} {
			add(n, "", "", false, false)
		}
	}
	if res.Cost != nil {
		add("AWS cost per million recipients", "< $60", fmt.Sprintf("$%.2f", res.Cost.PerMillion),
			res.Cost.PerMillion < maxUSDPerMillion, true)
	} else {
		add("AWS cost per million recipients", "< $60", "", false, false)
	}
	out = append(out, coldTargets(res.ColdStart)...)
	return append(out, exportTargets(res.Exports)...)
}

// transitionTargets reads the happy path's transitions and the most
// any one fallback adds, from delivered journeys.
func transitionTargets(paths []results.Path) (happy, perFallback float64, ok bool) {
	byFallbacks := map[int]float64{}
	for _, p := range paths {
		if p.Delivered && p.Executions > 0 {
			byFallbacks[p.Fallbacks] = p.Transitions
		}
	}
	happy, ok = byFallbacks[0]
	for n := 1; n <= 3; n++ {
		t, have := byFallbacks[n]
		prev, havePrev := byFallbacks[n-1]
		if have && havePrev {
			perFallback = max(perFallback, t-prev)
		}
	}
	return happy, perFallback, ok
}

func coldTargets(cs *results.ColdStart) []results.Target {
	size := results.Target{Name: "every bootstrap", Goal: "< 12 MB", Verdict: results.NotRun, Measured: "-"}
	init := results.Target{Name: "every init", Goal: "< 50 ms", Verdict: results.NotRun, Measured: "-"}
	if cs == nil || len(cs.Functions) == 0 {
		return []results.Target{size, init}
	}
	var big results.Function
	var slow results.Function
	timed := 0
	for _, f := range cs.Functions {
		if f.ARM64Bytes > big.ARM64Bytes {
			big = f
		}
		if f.Error == "" && f.InitMS > 0 {
			timed++
			if f.InitMS > slow.InitMS {
				slow = f
			}
		}
	}
	size.Measured = fmt.Sprintf("largest %.1f MB (%s)", float64(big.ARM64Bytes)/1e6, big.Name)
	size.Verdict = verdict(big.ARM64Bytes < maxBootstrapBytes)
	if timed == len(cs.Functions) {
		init.Measured = fmt.Sprintf("slowest %.1f ms (%s)", slow.InitMS, slow.Name)
		init.Verdict = verdict(slow.InitMS < maxInitMS)
	} else if timed > 0 {
		init.Measured = fmt.Sprintf("slowest %.1f ms, %d of %d timed", slow.InitMS, timed, len(cs.Functions))
		init.Verdict = results.Miss
	}
	return []results.Target{size, init}
}

func exportTargets(ex []results.Export) []results.Target {
	peak := results.Target{Name: "export peak memory", Goal: "< 100 MB", Verdict: results.NotRun, Measured: "-"}
	rate := results.Target{Name: "export rows/s (in-process)", Goal: "≥ 100,000", Verdict: results.NotRun, Measured: "-"}
	top, slowest := 0.0, 0.0
	seen, seenRate := false, false
	for _, e := range ex {
		if e.Error != "" {
			continue
		}
		seen = true
		top = max(top, e.PeakRSSMB)
		if e.Source == "in-process" {
			if !seenRate || e.RowsPerS < slowest {
				slowest = e.RowsPerS
			}
			seenRate = true
		}
	}
	if seen {
		peak.Measured, peak.Verdict = fmt.Sprintf("%.1f MB RSS", top), verdict(top < maxExportPeakMB)
	}
	if seenRate {
		rate.Measured, rate.Verdict = fmt.Sprintf("%.0f (slowest kind)", slowest), verdict(slowest >= minExportRowsPerS)
	}
	return []results.Target{peak, rate}
}
