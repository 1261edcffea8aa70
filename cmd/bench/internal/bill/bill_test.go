package bill

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
)

func TestRepoPriceTableLoads(t *testing.T) {
	p, err := Load("../../../../bench/prices.json")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if p.Region != "us-east-1" || p.Architecture != "arm64" {
		t.Errorf("prices for %s %s, want us-east-1 arm64", p.Region, p.Architecture)
	}
}

func TestPerMillion(t *testing.T) {
	p := Prices{Region: "us-east-1", Recorded: "2026-12-04", Items: map[string]Price{}}
	for _, k := range required {
		p.Items[k] = Price{USD: 0.000001, Source: "https://example.com"}
	}
	p.Items[Transition] = Price{USD: 0.000025, Source: "https://example.com"}
	p.Items[LogsGB] = Price{USD: 0.5, Source: "https://example.com"}

	tests := []struct {
		name string
		work results.Work
		want float64
	}{
		{"nothing costs nothing", results.Work{}, 0},
		{"three transitions are 75 dollars", results.Work{Transitions: 3}, 75},
		{"a KiB of logs each is half a dollar per GiB",
			results.Work{LogBytes: 1024}, 1e6 * 1024 / gb * 0.5},
		{"units add up", results.Work{WRU: 2, RRU: 1}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PerMillion(tt.work, p).PerMillion
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("PerMillion = %.6f, want %.6f", got, tt.want)
			}
		})
	}
}

func TestLoadRefusesAnUnsourcedPrice(t *testing.T) {
	p := Prices{Region: "us-east-1", Recorded: "2026-12-04", Items: map[string]Price{}}
	for _, k := range required {
		p.Items[k] = Price{USD: 1, Source: "https://example.com"}
	}
	p.Items[S3Read] = Price{USD: 1}
	if err := p.check(); err == nil {
		t.Error("check accepted a price without a source page")
	}
}

// TestMemoryMatchesTheStack reads the CDK stack's function specs, so a
// change of memory there cannot leave the bill behind.
func TestMemoryMatchesTheStack(t *testing.T) {
	src, err := os.ReadFile("../../../../infra/stack/functions.go")
	if err != nil {
		t.Fatal(err)
	}
	spec := regexp.MustCompile(`"([a-z-]+)":\s*\{"[A-Za-z]+", [0-9.]+, ([0-9]+)\}`)
	got := map[string]int{}
	for _, m := range spec.FindAllStringSubmatch(string(src), -1) {
		n, _ := strconv.Atoi(m[2])
		got[m[1]] = n
	}
	if diff := cmp.Diff(got, MemoryMB); diff != "" {
		t.Errorf("MemoryMB differs from infra/stack (-stack +bill):\n%s", diff)
	}
}

func TestGBSeconds(t *testing.T) {
	// 1,000 calls of 0.2 ms bill 1 ms each: 1 s at 256 MB.
	ms := make([]float64, 1000)
	for i := range ms {
		ms[i] = 0.2
	}
	if got, want := GBSeconds(256, ms), 0.25; math.Abs(got-want) > 1e-12 {
		t.Errorf("GBSeconds = %v, want %v", got, want)
	}
}
