package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
	"github.com/cascade-oss/cascade/internal/dynamo"
)

func TestParseBench(t *testing.T) {
	out := strings.Join([]string{
		"goos: linux",
		"pkg: github.com/cascade-oss/cascade/internal/report",
		"BenchmarkExport/sms-2   \t       4\t 313385210 ns/op\t  19.66 heapMB\t 319100 rows/s\t100011106 B/op\t  799824 allocs/op",
		"PASS",
		"pkg: github.com/cascade-oss/cascade/internal/rbm",
		"BenchmarkVerifyParse-2 \t   46894\t     25551 ns/op\t  23.64 MB/s\t    2488 B/op\t      32 allocs/op",
		"ok  \tgithub.com/cascade-oss/cascade/internal/rbm\t2.1s",
	}, "\n")
	want := []results.Micro{
		{Package: "github.com/cascade-oss/cascade/internal/report", Name: "BenchmarkExport/sms-2",
			Iterations: 4, NsPerOp: 313385210, BytesPerOp: 100011106, AllocsPerOp: 799824,
			Extra: map[string]float64{"heapMB": 19.66, "rows/s": 319100}},
		{Package: "github.com/cascade-oss/cascade/internal/rbm", Name: "BenchmarkVerifyParse-2",
			Iterations: 46894, NsPerOp: 25551, BytesPerOp: 2488, AllocsPerOp: 32,
			Extra: map[string]float64{"MB/s": 23.64}},
	}
	if diff := cmp.Diff(want, parseBench(out)); diff != "" {
		t.Errorf("parseBench (-want +got):\n%s", diff)
	}
}

func TestReportLine(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want float64
		ok   bool
	}{
		{"with init duration", "START\nREPORT RequestId: 1f\tInit Duration: 0.03 ms\tDuration: 45.12 ms\tBilled Duration: 46 ms", 45.12, true},
		{"warm", "REPORT RequestId: 2a\tDuration: 3.50 ms\tBilled Duration: 4 ms", 3.5, true},
		{"no report", "START RequestId: 1f", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reportLine(tt.out)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("reportLine = %v, %v; want %v, ok %v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestAnswerOf(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"batchItemFailures":[]}`, "ok"},
		{`null`, "ok"},
		{`{"errorType":"Cascade.Retry","errorMessage":"busy"}`, "function error Cascade.Retry: busy"},
	}
	for _, tt := range tests {
		if got := answerOf([]byte(tt.body)); got != tt.want {
			t.Errorf("answerOf(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

// TestSyntheticKeyOrder checks what the journey report's merge relies
// on: recipients and attempts come in the same, sorted order.
func TestSyntheticKeyOrder(t *testing.T) {
	src := synthetic{N: 1200, Channels: []string{"whatsapp", "sms"}}
	var phones []string
	err := src.Attempts(context.Background(), "c1", func(a dynamo.Attempt) error {
		if a.Channel == "sms" {
			phones = append(phones, a.Recipient)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	err = src.Recipients(context.Background(), "c1", func(r dynamo.Recipient) error {
		if r.Phone != phones[i] {
			t.Fatalf("recipient %d is %s, attempts say %s", i, r.Phone, phones[i])
		}
		if i > 0 && phones[i] <= phones[i-1] {
			t.Fatalf("%s does not sort after %s", phones[i], phones[i-1])
		}
		i++
		return nil
	})
	if err != nil || i != 1200 {
		t.Errorf("Recipients gave %d, %v; want 1200", i, err)
	}
	if got, want := phones[7], "+919900000007"; got != want {
		t.Errorf("phone 7 = %s, want %s", got, want)
	}
}

func TestTargetsNeverPassUnmeasured(t *testing.T) {
	for _, tg := range targets(results.Results{}) {
		if tg.Verdict != results.NotRun {
			t.Errorf("%s = %s with nothing measured, want %s", tg.Name, tg.Verdict, results.NotRun)
		}
	}
}

func TestTransitionTargets(t *testing.T) {
	paths := []results.Path{
		{Fallbacks: 0, Delivered: true, Executions: 50, Transitions: 3},
		{Fallbacks: 1, Delivered: true, Executions: 20, Transitions: 6},
		{Fallbacks: 2, Delivered: true, Executions: 5, Transitions: 10},
		{Fallbacks: 2, Delivered: false, Executions: 9, Transitions: 10},
	}
	happy, per, ok := transitionTargets(paths)
	if !ok || happy != 3 || per != 4 {
		t.Errorf("transitionTargets = %v, %v, %v; want 3, 4 (the worst fallback), true", happy, per, ok)
	}
}

func TestColdTargets(t *testing.T) {
	cs := &results.ColdStart{Functions: []results.Function{
		{Name: "api", ARM64Bytes: 11_000_000, InitMS: 20},
		{Name: "fanout", ARM64Bytes: 12_500_000, InitMS: 30},
	}}
	got := coldTargets(cs)
	if got[0].Verdict != results.Miss || !strings.Contains(got[0].Measured, "fanout") {
		t.Errorf("size target = %+v, want a MISS naming fanout", got[0])
	}
	if got[1].Verdict != results.Pass {
		t.Errorf("init target = %+v, want PASS", got[1])
	}
	cs.Functions[1].Error = "no runtime API timings"
	if got := coldTargets(cs); got[1].Verdict != results.Miss {
		t.Errorf("init target with an untimed function = %s, want MISS", got[1].Verdict)
	}
}
