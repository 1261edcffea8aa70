package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cascade-oss/cascade/cmd/bench/internal/meter"
	"github.com/cascade-oss/cascade/internal/devstack"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/moto"
)

// CPU profile labels: which part of this process a goroutine serves.
const (
	partStack  = "stack"  // Cascade's handlers, event sources, gateway, and the fakes
	partMeter  = "meter"  // the counting proxies
	partDriver = "driver" // this program's own calls and waiting
)

// env is a running stack with its measuring around it.
type env struct {
	moto    *moto.Server
	meter   *meter.Meter
	gate    *gateProxy
	stack   *devstack.Stack
	client  *devstack.Client
	direct  aws.Config // straight to moto, not counted
	logs    *countingWriter
	sends   *sendClock
	servers []*http.Server
}

// startEnv starts moto, the meter in front of it, the stack behind the
// meter, and the gateway proxy in front of the stack.
func startEnv(ctx context.Context, rc runConfig) (*env, error) {
	e := &env{logs: &countingWriter{}, sends: newSendClock(http.DefaultTransport)}
	venv, err := moto.FindVenv()
	if err != nil {
		return nil, err
	}
	if e.moto, err = moto.Start(ctx, venv, io.Discard); err != nil {
		return nil, err
	}
	e.direct = moto.Config(e.moto.URL)
	e.meter = meter.New(e.moto.URL)
	meterURL, err := e.serve(partMeter, e.meter)
	if err != nil {
		e.stop()
		return nil, err
	}
	if !rc.metered {
		meterURL = e.moto.URL // for comparison: the stack without the meter
	}

	// Senders call the providers with http.DefaultClient: its
	// transport notes when each send leaves for a fake.
	http.DefaultClient.Transport = e.sends
	fakes := devstack.DemoFakes()
	fakes.Delay = 0 // instant fakes: statuses follow the send at once
	pprof.Do(ctx, pprof.Labels("part", partStack), func(ctx context.Context) {
		e.stack, err = devstack.Start(ctx, devstack.Options{Endpoint: meterURL, Log: e.logs,
			Seed: rc.seed, Fakes: fakes, MaxInFlight: rc.inFlight})
	})
	if err != nil {
		e.stop()
		return nil, fmt.Errorf("start the local stack: %w", err)
	}
	e.sends.watch(map[string]string{e.stack.Fakes.WhatsAppURL: "whatsapp",
		e.stack.Fakes.RBMURL: "rcs", e.stack.Fakes.MSG91URL: "sms"})
	for q, s := range e.stack.Sources {
		e.meter.NameQueue(s.QueueURL, functionOfQueue(q))
	}

	e.gate = newGateProxy(e.stack.URL, e.meter)
	gateURL, err := e.serve(partMeter, e.gate)
	if err != nil {
		e.stop()
		return nil, err
	}
	e.client = &devstack.Client{URL: gateURL, Token: e.stack.Token}
	return e, nil
}

func functionOfQueue(q string) string {
	switch q {
	case devstack.QueueWhatsApp, devstack.QueueRCS, devstack.QueueSMS:
		return "sender-" + q
	case devstack.QueueReport:
		return "report-export"
	}
	return q
}

// serve runs h on a loopback port, its goroutines labelled part.
func (e *env) serve(part string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	e.servers = append(e.servers, srv)
	pprof.Do(context.Background(), pprof.Labels("part", part), func(context.Context) {
		go func() { _ = srv.Serve(ln) }()
	})
	return "http://" + ln.Addr().String(), nil
}

// connect connects the demo tenant's channels, then points each fake's
// webhooks at the gateway proxy, so their arrival is seen.
func (e *env) connect(ctx context.Context) error {
	if err := e.stack.ConnectChannels(ctx, e.client); err != nil {
		return fmt.Errorf("connect channels: %w", err)
	}
	for _, ch := range []string{"whatsapp", "rcs", "sms"} {
		var view struct {
			WebhookURL string `json:"webhookUrl"`
		}
		if err := e.client.Do(ctx, "GET", "/v1/channels/"+ch, nil, 200, &view); err != nil {
			return err
		}
		if !strings.HasPrefix(view.WebhookURL, e.stack.URL) {
			return fmt.Errorf("webhook URL %q is not on the gateway %s", view.WebhookURL, e.stack.URL)
		}
		e.stack.Fakes.SetWebhook(ch, e.client.URL+strings.TrimPrefix(view.WebhookURL, e.stack.URL))
	}
	return nil
}

// waitEnded polls the campaign's counters, straight from moto, until
// n journeys have ended.
func (e *env) waitEnded(ctx context.Context, id string, n int, limit time.Duration) (int64, error) {
	store := dynamo.New(dynamodb.NewFromConfig(e.direct), e.stack.Config.Table)
	deadline := time.Now().Add(limit)
	last := time.Now()
	for {
		c, err := store.Counters(ctx, id)
		if err != nil {
			return 0, err
		}
		ended := c[dynamo.Scope][dynamo.Reached] + c[dynamo.Scope][dynamo.Unreached]
		if ended >= int64(n) {
			return ended, nil
		}
		if time.Since(last) > 10*time.Second {
			fmt.Fprintf(os.Stderr, "  %d of %d journeys ended\n", ended, n)
			last = time.Now()
		}
		if time.Now().After(deadline) {
			return ended, fmt.Errorf("%w after %s: %d of %d journeys ended", errUnfinished, limit.Round(time.Second), ended, n)
		}
		select {
		case <-ctx.Done():
			return ended, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// errUnfinished marks a campaign the time limit cut short: its figures
// still stand, over the journeys that ended.
var errUnfinished = errors.New("campaign not finished")

// stop ends everything the run started, newest first.
func (e *env) stop() {
	if e.stack != nil {
		e.stack.StopExecutions(context.Background())
		e.stack.Stop()
	}
	for _, s := range e.servers {
		_ = s.Close()
	}
	e.moto.Stop()
}

// countingWriter counts the handlers' log bytes and drops them.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}
