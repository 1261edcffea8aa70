package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
)

// endToEnd runs one campaign of n recipients in a child process of its
// own (cmd/bench/e2e), so its CPU profile holds the stack alone. It
// returns nil when the child cannot even be built, which ends the
// end-to-end part.
func endToEnd(ctx context.Context, tmp string, n int, limit time.Duration, inFlight int, log io.Writer) (*results.E2E, error) {
	bin := filepath.Join(tmp, "e2e")
	if _, err := os.Stat(bin); err != nil {
		fmt.Fprintln(log, "end to end: building cmd/bench/e2e")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/bench/e2e").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("not run: the local stack does not build yet: %s", tail(string(out), 800))
		}
	}
	out := filepath.Join(tmp, "e2e-"+strconv.Itoa(n)+".json")
	prof := filepath.Join("bench", "cpu-"+strconv.Itoa(n)+".prof")
	cmd := exec.CommandContext(ctx, bin, "-recipients", strconv.Itoa(n), "-out", out,
		"-profile", prof, "-limit", limit.String(), "-in-flight", strconv.Itoa(inFlight))
	cmd.Stdout, cmd.Stderr = log, log
	runErr := cmd.Run()

	raw, err := os.ReadFile(out)
	if err != nil {
		return &results.E2E{Recipients: n, Error: fmt.Sprintf("no figures: %v", runErr)},
			runErr
	}
	var e results.E2E
	if err := json.Unmarshal(raw, &e); err != nil {
		return &results.E2E{Recipients: n, Error: err.Error()}, err
	}
	if e.Error != "" {
		return &e, errors.New(e.Error)
	}
	return &e, runErr
}
