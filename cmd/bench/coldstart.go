package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cascade-oss/cascade/cmd/bench/internal/bill"
	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/moto"
)

// rieModule is the Runtime Interface Emulator's module; the module
// proxy serves it as a pseudo-version (its tags are not Go versions).
const (
	rieModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

// buildFlags are make build's, so the emulator runs what Lambda runs,
// compiled for this machine's architecture.
var buildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// coldStart measures every function's bootstrap size and its first
// invocation under the emulator, against a moto server of its own.
func coldStart(ctx context.Context, tmp string, log io.Writer) (*results.ColdStart, error) {
	names, err := functionNames()
	if err != nil {
		return nil, err
	}
	cs := &results.ColdStart{RIE: rieModule + "@" + rieVersion}
	fmt.Fprintf(log, "cold start: building %d functions for linux/amd64\n", len(names))
	amd := filepath.Join(tmp, "amd64")
	if err := buildFunctions(ctx, amd, "amd64"); err != nil {
		return nil, err
	}
	arm := filepath.Join(tmp, "arm64")
	for _, n := range names {
		f := results.Function{Name: n}
		if f.ARM64Bytes, err = arm64Size(ctx, n, arm); err != nil {
			return nil, err
		}
		f.AMD64Bytes = fileSize(filepath.Join(amd, n))
		cs.Functions = append(cs.Functions, f)
	}

	rie, err := installRIE(ctx, filepath.Join(tmp, "rie"))
	if err != nil {
		for i := range cs.Functions {
			cs.Functions[i].Error = err.Error()
		}
		return cs, fmt.Errorf("emulator not available: %w", err)
	}
	env, stop, err := functionEnv(ctx, log)
	if err != nil {
		return cs, err
	}
	defer stop()
	for i := range cs.Functions {
		f := &cs.Functions[i]
		invoke(ctx, rie, filepath.Join(amd, f.Name), env, f)
		fmt.Fprintf(log, "  %-17s init %6.1f ms  invoke %7.1f ms  %s\n",
			f.Name, f.InitMS, f.InvokeMS, firstNonEmpty(f.Error, f.Answer))
	}
	return cs, nil
}

func functionNames() ([]string, error) {
	entries, err := os.ReadDir("functions")
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// buildFunctions compiles every function into dir, one binary each,
// named for the function.
func buildFunctions(ctx context.Context, dir, arch string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", dir+"/", "./functions/...")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build functions for %s: %w\n%s", arch, err, out)
	}
	return nil
}

// arm64Size is dist/<name>/bootstrap's size, built into dir when make
// build has not made it.
func arm64Size(ctx context.Context, name, dir string) (int64, error) {
	if n := fileSize(filepath.Join("dist", name, "bootstrap")); n > 0 {
		return n, nil
	}
	if fileSize(filepath.Join(dir, name)) == 0 {
		if err := buildFunctions(ctx, dir, "arm64"); err != nil {
			return 0, err
		}
	}
	return fileSize(filepath.Join(dir, name)), nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// installRIE installs the emulator from the module proxy into dir.
func installRIE(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "install", rieModule+"/cmd/aws-lambda-rie@"+rieVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w\n%s", rieModule, rieVersion, err, out)
	}
	return filepath.Join(dir, "aws-lambda-rie"), nil
}

// functionEnv starts moto with a table, a bucket and a queue, and
// returns the environment every function reads, pointed at them.
func functionEnv(ctx context.Context, log io.Writer) ([]string, func(), error) {
	venv, err := moto.FindVenv()
	if err != nil {
		return nil, nil, err
	}
	srv, err := moto.Start(ctx, venv, io.Discard)
	if err != nil {
		return nil, nil, err
	}
	cfg := moto.Config(srv.URL)
	const table, bucket = "bench-cold", "bench-cold"
	if err := dynamo.CreateTable(ctx, dynamodb.NewFromConfig(cfg), table); err != nil {
		srv.Stop()
		return nil, nil, err
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		srv.Stop()
		return nil, nil, fmt.Errorf("create bucket: %w", err)
	}
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench-cold")})
	if err != nil {
		srv.Stop()
		return nil, nil, fmt.Errorf("create queue: %w", err)
	}
	// moto loads each service's code on first use; a function should
	// not be timed against that.
	_, _ = sfn.NewFromConfig(cfg).ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	_, _ = secretsmanager.NewFromConfig(cfg).ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	fmt.Fprintf(log, "cold start: moto on %s (pid %d)\n", srv.URL, srv.PID())
	queue := aws.ToString(q.QueueUrl)
	env := []string{
		"AWS_ENDPOINT_URL=" + srv.URL, "AWS_REGION=" + moto.Region,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"TABLE_NAME=" + table, "BUCKET_NAME=" + bucket, "S3_PATH_STYLE=true",
		"FANOUT_QUEUE_URL=" + queue, "REPORT_QUEUE_URL=" + queue, "QUEUE_URL=" + queue,
		"STATE_MACHINE_ARN=arn:aws:states:us-east-1:" + moto.Account + ":stateMachine:bench-cold",
		"SECRET_PREFIX=bench-cold/",
		"WEBHOOK_URL_WHATSAPP=http://127.0.0.1:9/hooks/whatsapp",
		"WEBHOOK_URL_RCS=http://127.0.0.1:9/hooks/rcs",
		"WEBHOOK_URL_SMS=http://127.0.0.1:9/hooks/sms",
		// Senders would call these only for a campaign that exists.
		"WHATSAPP_API_URL=http://127.0.0.1:9", "RBM_API_URL=http://127.0.0.1:9",
		"MSG91_API_URL=http://127.0.0.1:9",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_LAMBDA_FUNCTION_TIMEOUT=30",
	}
	return env, srv.Stop, nil
}

// sampleEvent returns the first events/<name>-*.json.
func sampleEvent(name string) (string, error) {
	files, err := filepath.Glob(filepath.Join("events", name+"-*.json"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("no sample event events/%s-*.json", name)
	}
	sort.Strings(files)
	return files[0], nil
}

// invoke runs one bootstrap under the emulator and posts its sample
// event once, filling f.
func invoke(ctx context.Context, rie, bootstrap string, env []string, f *results.Function) {
	event, err := sampleEvent(f.Name)
	if err != nil {
		f.Error = err.Error()
		return
	}
	f.Event = event
	payload, err := os.ReadFile(event)
	if err != nil {
		f.Error = err.Error()
		return
	}
	ports, err := freePorts(2)
	if err != nil {
		f.Error = err.Error()
		return
	}
	self, err := os.Executable()
	if err != nil {
		f.Error = err.Error()
		return
	}
	times := bootstrap + ".times"
	_ = os.Remove(times)

	// The emulator runs this program as the bootstrap (see shim.go),
	// which runs the real one and times it on the runtime API.
	var out syncBuffer
	cmd := exec.Command(rie,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[0]),
		"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		self)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Env = append(cmd.Env, "AWS_LAMBDA_FUNCTION_NAME="+f.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(bill.MemoryMB[f.Name]),
		shimTargetVar+"="+bootstrap, shimOutVar+"="+times)
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so stopping it stops the bootstrap too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	started := time.Now()
	if err := cmd.Start(); err != nil {
		f.Error = fmt.Sprintf("start emulator: %v", err)
		return
	}
	defer stopGroup(cmd)

	url := fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", ports[1])
	status, body, err := postUntilUp(ctx, url, payload, 20*time.Second)
	f.FirstResponseMS = ms(time.Since(started))
	if err != nil {
		f.Error = fmt.Sprintf("%v; emulator said: %s", err, tail(out.String(), 400))
		return
	}
	f.HTTPStatus = status
	f.Answer = answerOf(body)
	f.EmulatorMS, err = reportLine(waitFor(&out, "REPORT RequestId", time.Second))
	if err != nil {
		f.Error = fmt.Sprintf("%v; emulator said: %s", err, tail(out.String(), 400))
	}
	var t shimTimes
	raw, err := os.ReadFile(times)
	if err == nil {
		err = json.Unmarshal(raw, &t)
	}
	if err != nil {
		f.Error = fmt.Sprintf("no runtime API timings: %v", err)
	}
	f.InitMS, f.InvokeMS = t.InitMS, t.InvokeMS
}

// cleanEnv is this process's environment without AWS settings, so
// nothing of the caller's reaches the functions.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

func stopGroup(cmd *exec.Cmd) {
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
}

// postUntilUp posts body until the emulator listens, then returns its
// answer to the first post it accepted.
func postUntilUp(ctx context.Context, url string, body []byte, limit time.Duration) (int, []byte, error) {
	deadline := time.Now().Add(limit)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			return res.StatusCode, b, err
		}
		var op *net.OpError
		if !errors.As(err, &op) || time.Now().After(deadline) {
			return 0, nil, fmt.Errorf("invoke: %w", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// answerOf says whether the function answered or raised an error,
// and which.
func answerOf(body []byte) string {
	var e struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &e) == nil && e.ErrorType != "" {
		return "function error " + e.ErrorType + ": " + tail(e.ErrorMessage, 120)
	}
	return "ok"
}

var reportRE = regexp.MustCompile(`REPORT RequestId: \S+\s+(?:Init Duration: [0-9.]+ ms\s+)?Duration: ([0-9.]+) ms`)

// reportLine reads the Duration of the emulator's REPORT line.
func reportLine(out string) (float64, error) {
	m := reportRE.FindStringSubmatch(out)
	if m == nil {
		return 0, errors.New("no REPORT line")
	}
	return strconv.ParseFloat(m[1], 64)
}

// waitFor waits up to limit for s to appear in the buffer and returns
// its text.
func waitFor(b *syncBuffer, s string, limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for !strings.Contains(b.String(), s) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return b.String()
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
