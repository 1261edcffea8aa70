// Package moto starts and stops moto's AWS-compatible server, which
// stands in for DynamoDB (with streams), SQS, S3 and Step Functions on a
// laptop and in tests. The server comes from the project's virtualenv
// (.venv, made by make); nothing here reaches the internet.
package moto

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Server is a running moto server on 127.0.0.1.
type Server struct {
	// URL is the endpoint every AWS client points at.
	URL  string
	Port int
	cmd  *exec.Cmd
	done chan error
}

// ErrNoVirtualenv means the moto_server program was not found: run
// make (or make test), which creates .venv.
var ErrNoVirtualenv = errors.New("moto_server not found: run 'make test' or 'make run' to create .venv")

// Start runs moto_server from venv on a free loopback port, waits until
// it answers, and switches on Step Functions execution so state machines
// really run. The server's output goes to log. The caller must Stop it.
func Start(ctx context.Context, venv string, log io.Writer) (*Server, error) {
	python := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(filepath.Join(venv, "bin", "moto_server")); err != nil {
		return nil, fmt.Errorf("%w (looked in %s)", ErrNoVirtualenv, venv)
	}
	launcher, err := launcherFile()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}

	cmd := exec.Command(python, launcher, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// Step Functions' service integrations call back into the server
	// they run in; MOTO_PORT tells moto which port that is.
	cmd.Env = append(os.Environ(), "MOTO_PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{
		URL:  "http://127.0.0.1:" + strconv.Itoa(port),
		Port: port,
		cmd:  cmd,
		done: make(chan error, 1),
	}
	go func() { s.done <- cmd.Wait() }()

	err = s.waitReady(ctx)
	_ = os.Remove(launcher) // Python has read it by the time moto answers
	if err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.enableExecution(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// serveScript is serve.py: moto's server with DynamoDB writes made
// atomic, as DynamoDB's are.
//
//go:embed serve.py
var serveScript []byte

// launcherFile writes serve.py where Python can run it.
func launcherFile() (string, error) {
	dir := filepath.Join(os.TempDir(), "cascade-moto")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("launcher folder: %w", err)
	}
	f, err := os.CreateTemp(dir, "serve-*.py")
	if err != nil {
		return "", fmt.Errorf("write launcher: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(serveScript); err != nil {
		return "", fmt.Errorf("write launcher: %w", err)
	}
	return f.Name(), nil
}

// Stop ends the server by its PID and waits for it to exit.
func (s *Server) Stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			return fmt.Errorf("moto_server exited early: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(s.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return errors.New("moto_server did not answer within 30 s")
}

// enableExecution turns on moto's Step Functions engine, which
// otherwise only records executions without running them.
func (s *Server) enableExecution(ctx context.Context) error {
	body := []byte(`{"stepfunctions":{"execute_state_machine":true}}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		s.URL+"/moto-api/config", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("configure moto: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("configure moto: status %d", resp.StatusCode)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FindVenv walks up from the working directory to the module root (the
// folder with go.mod) and returns its .venv path.
func FindVenv() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".venv"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Config returns an AWS SDK configuration that sends every service to
// the server at url, with fixed test credentials and us-east-1.
func Config(url string) aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(
			"test", "test", ""),
		RetryMaxAttempts: 5,
	}
}

// Region is the region every local resource lives in.
const Region = "us-east-1"

// Account is the account id moto gives every resource.
const Account = "123456789012"
