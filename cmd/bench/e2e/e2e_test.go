package main

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cascade-oss/cascade/cmd/bench/internal/meter"
)

func TestNumberInSends(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"whatsapp body", `/v25.0/200000000000001/messages {"to":"+919900000042","type":"template"}`, "919900000042"},
		{"rbm path, escaped", `/v1/phones/%2B919900000042/agentMessages {"contentMessage":{}}`, "919900000042"},
		{"msg91 body", `/api/v5/flow {"template_id":"65e0000000000000000000a1","recipients":[{"mobiles":"919900000042"}]}`, "919900000042"},
		{"no number in a long id", `/x {"id":"1107160000000000001"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if m := number.FindStringSubmatch(tt.text); m != nil {
				got = m[1]
			}
			if got != tt.want {
				t.Errorf("number in %q = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestSendClockRecordsOnlyFakes(t *testing.T) {
	c := newSendClock(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}))
	c.watch(map[string]string{"http://127.0.0.1:4001": "rcs"})
	for _, u := range []string{
		"http://127.0.0.1:4001/v1/phones/+919900000001/agentMessages?messageId=a1",
		"http://127.0.0.1:5555/v1/phones/+919900000002/agentMessages",
	} {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(`{}`))
		if _, err := c.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(c.sends["rcs|919900000001"]); got != 1 {
		t.Errorf("sends to the RBM fake recorded %d times, want 1", got)
	}
	if len(c.sends) != 1 {
		t.Errorf("recorded %v, want only the fake's send", c.sends)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFirstAfter(t *testing.T) {
	at := time.Unix(100, 0)
	ts := []time.Time{at.Add(-time.Second), at.Add(300 * time.Millisecond), at.Add(40 * time.Millisecond)}
	d, ok := firstAfter(ts, at)
	if !ok || d != 40*time.Millisecond {
		t.Errorf("firstAfter = %v, %v; want 40ms, true", d, ok)
	}
	if _, ok := firstAfter(ts[:1], at); ok {
		t.Error("firstAfter found a send from before the failure")
	}
}

func TestQuantile(t *testing.T) {
	v := make([]float64, 100)
	for i := range v {
		v[i] = float64(i + 1)
	}
	tests := []struct {
		q, want float64
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}}
	for _, tt := range tests {
		if got := quantile(v, tt.q); got != tt.want {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestJourney(t *testing.T) {
	tests := []struct {
		name      string
		states    []string
		sends     int
		delivered bool
	}{
		{"happy path", []string{"Route0", "Send0WhatsApp", "Delivered"}, 1, true},
		{"one fallback", []string{"Route0", "Send0WhatsApp", "More1", "Route1", "Send1Rcs", "Delivered"}, 2, true},
		{"unreached", []string{"Route0", "Send0WhatsApp", "More1", "Route1", "Send1Rcs", "More2", "Route2",
			"Send2Sms", "More3", "Unreached"}, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sends, delivered := journey(tt.states)
			if sends != tt.sends || delivered != tt.delivered {
				t.Errorf("journey = %d, %v; want %d, %v", sends, delivered, tt.sends, tt.delivered)
			}
		})
	}
}

func TestFunctionsScaleUntimedCalls(t *testing.T) {
	calls := map[string]meter.Calls{"outcome": {Count: 4, Durations: []float64{10, 10}}}
	fns, gbs := functions(calls, nil)
	if len(fns) != 1 || fns[0].MeanMS != 10 || fns[0].MemoryMB != 256 {
		t.Fatalf("functions = %+v", fns)
	}
	// Four calls of 10 ms at 256 MB.
	if want := 4 * 0.010 * 0.25; math.Abs(gbs-want) > 1e-12 {
		t.Errorf("GB-s = %v, want %v", gbs, want)
	}
}

func TestLoggedBytesCountsOnlyFailures(t *testing.T) {
	failed := sfntypes.HistoryEvent{Type: sfntypes.HistoryEventTypeTaskFailed, Id: 5,
		TaskFailedEventDetails: &sfntypes.TaskFailedEventDetails{Error: aws.String("Cascade.FallbackNow")}}
	timedOut := sfntypes.HistoryEvent{Type: sfntypes.HistoryEventTypeTaskTimedOut, Id: 9}
	quiet := []sfntypes.HistoryEvent{
		{Type: sfntypes.HistoryEventTypeExecutionStarted, Id: 1},
		{Type: sfntypes.HistoryEventTypeTaskScheduled, Id: 2},
		{Type: sfntypes.HistoryEventTypeTaskSucceeded, Id: 3},
		{Type: sfntypes.HistoryEventTypeExecutionSucceeded, Id: 4},
	}
	if got := loggedBytes(quiet); got != 0 {
		t.Errorf("a journey without failures logs %d bytes, want 0", got)
	}
	one := loggedBytes(append(quiet, failed))
	two := loggedBytes(append(quiet, failed, timedOut))
	if one <= 0 || two <= one {
		t.Errorf("logged bytes: one failure %d, and a timeout more %d; want each to add", one, two)
	}
}
