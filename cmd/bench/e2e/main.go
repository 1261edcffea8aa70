// Command e2e is make bench's end-to-end run, started by cmd/bench in a
// process of its own: one campaign of -recipients numbers through the
// whole local stack (moto, event sources, gateway, provider fakes) with
// the demo's outcome mix and fakes that answer at once. Everything the
// stack asks of AWS goes through a counting proxy (cmd/bench/internal/
// meter); the campaign's CPU is profiled and split between Cascade, the
// fakes and the measuring itself; moto's CPU is read from /proc. The
// figures go to -out as JSON.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("recipients", 1000, "recipients in the campaign")
	out := flag.String("out", "", "where to write the figures (JSON)")
	profile := flag.String("profile", "", "where to write the CPU profile")
	limit := flag.Duration("limit", 6*time.Minute, "longest wait for the campaign to end")
	seed := flag.Int64("seed", 1, "seed of the fakes' outcomes")
	inFlight := flag.Int64("in-flight", 0, "journeys under way at once (0: the stack's default)")
	metered := flag.Bool("meter", true, "count AWS work through the meter (false: only to see its cost)")
	flag.Parse()
	if *out == "" {
		return fmt.Errorf("-out is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	res, err := campaignRun(ctx, runConfig{recipients: *n, profile: *profile, limit: *limit, seed: *seed,
		metered: *metered, inFlight: *inFlight})
	if err != nil {
		res.Recipients = *n
		res.Error = err.Error()
	}
	raw, merr := json.MarshalIndent(res, "", "  ")
	if merr != nil {
		return merr
	}
	if werr := os.WriteFile(*out, raw, 0o644); werr != nil {
		return werr
	}
	return err
}

// runConfig shapes one run.
type runConfig struct {
	recipients int
	profile    string
	limit      time.Duration
	seed       int64
	metered    bool
	inFlight   int64
}

// result is filled as the run goes.
type result = results.E2E
