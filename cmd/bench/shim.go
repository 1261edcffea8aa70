package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The emulator runs this program as the bootstrap when these are set:
// it then starts the real bootstrap behind a runtime API proxy of its
// own and times it. This emulator version starts the runtime without
// waiting for it, so its own Init Duration is always about zero.
const (
	shimTargetVar = "CASCADE_BENCH_BOOTSTRAP"
	shimOutVar    = "CASCADE_BENCH_TIMES"
)

// shimTimes is what the shim saw of the runtime: exec to its first
// request for work, and the first invocation from handing it over to
// the runtime's answer.
type shimTimes struct {
	InitMS   float64 `json:"initMs"`
	InvokeMS float64 `json:"invokeMs"`
}

// runtimeClock watches the runtime API calls of one bootstrap.
type runtimeClock struct {
	mu        sync.Mutex
	exec      time.Time
	firstNext time.Time
	handed    time.Time
	answered  time.Time
	out       string
}

// saw notes one request from the runtime, and writes the times once
// the first invocation is answered.
func (c *runtimeClock) saw(r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/invocation/next"):
		if c.firstNext.IsZero() {
			c.firstNext = time.Now() // the request, not its long-poll answer
		}
	case strings.HasSuffix(p, "/response") || strings.HasSuffix(p, "/error"):
		if !c.answered.IsZero() {
			return
		}
		c.answered = time.Now()
		t := shimTimes{InitMS: ms(c.firstNext.Sub(c.exec))}
		if !c.handed.IsZero() {
			t.InvokeMS = ms(c.answered.Sub(c.handed))
		}
		raw, _ := json.Marshal(t)
		_ = os.WriteFile(c.out, raw, 0o644)
	}
}

// handover records when the first long poll for work was answered.
func (c *runtimeClock) handover(r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/invocation/next") && c.handed.IsZero() {
		c.handed = time.Now()
	}
}

// shim proxies the runtime API for the bootstrap named by
// CASCADE_BENCH_BOOTSTRAP and returns its exit code.
func shim(bootstrap string) int {
	target := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil || target == "" {
		fmt.Fprintln(os.Stderr, "bench shim: no runtime API or port:", err)
		return 1
	}
	clock := &runtimeClock{out: os.Getenv(shimOutVar)}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	proxy.ModifyResponse = func(res *http.Response) error {
		clock.handover(res.Request)
		return nil
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			clock.saw(r)
			proxy.ServeHTTP(w, r)
		})}
	go func() { _ = srv.Serve(ln) }()

	cmd := exec.Command(bootstrap)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	clock.mu.Lock()
	clock.exec = time.Now()
	clock.mu.Unlock()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "bench shim:", err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	return 0
}
