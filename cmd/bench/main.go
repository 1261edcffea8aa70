// Command bench is make bench: it measures Cascade rather than guessing.
// It reports each function's bootstrap size and cold start under the
// Lambda Runtime Interface Emulator, the packages' micro-benchmarks,
// report exports of a million attempts into S3, and whole campaigns
// through the local stack (throughput, our CPU per recipient, fallback
// latency, AWS work per recipient and the bill per million), then
// prints a table with PASS or MISS per target and writes the figures
// to bench/results.json. Run it from the module root.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cascade-oss/cascade/cmd/bench/internal/bill"
	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
)

func main() {
	if bootstrap := os.Getenv(shimTargetVar); bootstrap != "" {
		os.Exit(shim(bootstrap))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	out, prices     string
	parts           map[string]bool
	sizes           []int
	exportAttempts  int
	storeRecipients int
	e2eLimit        time.Duration
	budget          time.Duration
	inFlight        int
}

func parseFlags() (options, string, error) {
	var o options
	parts := flag.String("parts", "coldstart,micro,export,e2e", "which parts to run")
	sizes := flag.String("sizes", "1000", "recipients per end-to-end run, comma-separated")
	flag.StringVar(&o.out, "out", "bench/results.json", "where to write the figures")
	flag.StringVar(&o.prices, "prices", "bench/prices.json", "the price table")
	flag.IntVar(&o.exportAttempts, "export-attempts", 1_000_000, "attempts per in-process export")
	flag.IntVar(&o.storeRecipients, "store-recipients", 1000, "recipients in the real-store export")
	flag.DurationVar(&o.e2eLimit, "e2e-limit", 2*time.Hour, "longest wait for one campaign")
	flag.DurationVar(&o.budget, "budget", 14*time.Minute, "time for the whole run; campaigns stop at it")
	flag.IntVar(&o.inFlight, "in-flight", 20, "journeys a campaign starts before waiting (fan-out cap)")
	child := flag.String("child-export", "", "internal: run the export this JSON describes")
	flag.Parse()

	o.parts = map[string]bool{}
	for _, p := range strings.Split(*parts, ",") {
		o.parts[strings.TrimSpace(p)] = true
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return o, "", fmt.Errorf("bad -sizes %q", *sizes)
		}
		o.sizes = append(o.sizes, n)
	}
	return o, *child, nil
}

func run() error {
	o, child, err := parseFlags()
	if err != nil {
		return err
	}
	if child != "" {
		return exportChild(child)
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return fmt.Errorf("run from the module root: %w", err)
	}
	prices, err := bill.Load(o.prices)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "cascade-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	res := measure(ctx, o, tmp, os.Stderr)
	if len(res.E2E) > 0 {
		res.Cost = costOf(res.E2E, prices)
	}
	res.Targets = targets(res)
	res.Seconds = time.Since(res.StartedAt).Seconds()
	printTables(os.Stdout, res)
	return writeJSON(o.out, res)
}

// measure runs each part asked for; a part that cannot run is noted
// and the others go on.
func measure(ctx context.Context, o options, tmp string, log io.Writer) results.Results {
	res := results.Results{StartedAt: time.Now().UTC(), Machine: machine(), NotRun: map[string]string{}}
	if o.parts["coldstart"] {
		cs, err := coldStart(ctx, tmp, log)
		res.ColdStart = cs
		note(res.NotRun, "cold start", err)
	}
	if o.parts["micro"] {
		m, err := micro(ctx, log)
		res.Micro = m
		note(res.NotRun, "micro-benchmarks", err)
	}
	if o.parts["export"] {
		e, err := exports(ctx, o.exportAttempts, o.storeRecipients, log)
		res.Exports = e
		note(res.NotRun, "report export", err)
	}
	if o.parts["e2e"] {
		res.E2E = campaigns(ctx, o, tmp, res.StartedAt, res.NotRun, log)
	}
	return res
}

// campaigns runs the end-to-end sizes in turn, each stopped at the
// run's time budget, and says what a size left out would take.
func campaigns(ctx context.Context, o options, tmp string, start time.Time, notRun map[string]string, log io.Writer) []results.E2E {
	var out []results.E2E
	for _, n := range o.sizes {
		part := fmt.Sprintf("end-to-end %d", n)
		left := o.budget - time.Since(start) - time.Minute
		if left < 2*time.Minute {
			notRun[part] = "no time left in the run's budget (-budget)"
			continue
		}
		e, err := endToEnd(ctx, tmp, n, min(o.e2eLimit, left), o.inFlight, log)
		note(notRun, part, err)
		if e == nil {
			break
		}
		out = append(out, *e)
	}
	if r := largest(out); r != nil && r.Recipients < 10_000 && r.RecipientsPerS > 0 {
		notRun["end-to-end 10000"] = fmt.Sprintf("not asked for: at the %.2f recipients/s measured "+
			"here it would take about %.0f minutes; run make bench BENCH_SIZES=1000,10000",
			r.RecipientsPerS, 10_000/r.RecipientsPerS/60)
	}
	return out
}

func note(m map[string]string, part string, err error) {
	if err != nil {
		m[part] = err.Error()
	}
}

func machine() results.Machine {
	m := results.Machine{GoVersion: runtime.Version(), OS: runtime.GOOS,
		Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return m
}

func writeJSON(path string, res results.Results) error {
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	fmt.Printf("\nFigures written to %s in %.0f s.\n", path, res.Seconds)
	return nil
}
