// Package awstest gives tests an AWS SDK configuration aimed at a real
// moto server over HTTP: the one named by CASCADE_AWS_ENDPOINT (make
// test starts one and stops it by PID), or else one that this test
// binary starts from .venv and that ends with it.
package awstest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cascade-oss/cascade/internal/moto"
)

// EndpointVar names the environment variable that points tests at an
// already running moto server.
const EndpointVar = "CASCADE_AWS_ENDPOINT"

var (
	once     sync.Once
	endpoint string
	startErr error
	seq      atomic.Int64
)

// Endpoint returns the moto server's URL, starting one if needed. A
// test that needs AWS fails, rather than skips, when none can be had.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if url := os.Getenv(EndpointVar); url != "" {
			endpoint = url
			return
		}
		venv, err := moto.FindVenv()
		if err != nil {
			startErr = err
			return
		}
		// The server lives as long as the test binary: the kernel ends
		// it when the binary exits (see moto.Start).
		log, err := os.CreateTemp("", "cascade-moto-*.log")
		if err != nil {
			startErr = err
			return
		}
		srv, err := moto.Start(context.Background(), venv, log)
		if err != nil {
			startErr = err
			return
		}
		endpoint = srv.URL
	})
	if startErr != nil {
		t.Fatalf("no moto server: %v", startErr)
	}
	return endpoint
}

// Config returns an SDK configuration for the moto server.
func Config(t testing.TB) aws.Config {
	t.Helper()
	return moto.Config(Endpoint(t))
}

// Name returns a resource name unique to this test run, so tests that
// share one server never see each other's tables, queues or buckets.
// It keeps to the characters every AWS service accepts in names.
func Name(t testing.TB, prefix string) string {
	t.Helper()
	n := fmt.Sprintf("%s-%d-%d-%d", prefix, os.Getpid(),
		time.Now().UnixNano()%1e6, seq.Add(1))
	return strings.ToLower(n)
}
