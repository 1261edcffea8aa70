// Command withmoto runs one command beside a moto server: it starts the
// server from .venv on a free loopback port, passes its URL to the
// command in CASCADE_AWS_ENDPOINT, and stops the server by its PID when
// the command ends, whether it passed or failed. make test uses it.
//
//	go run ./cmd/withmoto go test ./...
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/moto"
)

func main() {
	code, err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "withmoto:", err)
	}
	os.Exit(code)
}

func run(args []string) (int, error) {
	if len(args) == 0 {
		return 2, errors.New("usage: withmoto command [args...]")
	}
	venv, err := moto.FindVenv()
	if err != nil {
		return 1, err
	}
	// A log of its own per run, so two runs at once never share one.
	log, err := os.CreateTemp("", "cascade-moto-*.log")
	if err != nil {
		return 1, fmt.Errorf("create moto log: %w", err)
	}
	defer log.Close()
	logPath := log.Name()

	srv, err := moto.Start(context.Background(), venv, log)
	if err != nil {
		return 1, err
	}
	defer srv.Stop()
	fmt.Fprintf(os.Stderr, "withmoto: moto_server pid %d at %s (log %s)\n",
		srv.PID(), srv.URL, logPath)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), awstest.EndpointVar+"="+srv.URL)
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("start %s: %w", args[0], err)
	}

	// Pass Ctrl-C on to the command; the deferred Stop still runs.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()

	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}
