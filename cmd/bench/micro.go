package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
)

// micro runs the Go benchmarks of every package under internal/ that
// has some, once each, and reads their figures.
func micro(ctx context.Context, log io.Writer) ([]results.Micro, error) {
	pkgs, err := benchmarkPackages("internal")
	if err != nil {
		return nil, err
	}
	if len(pkgs) == 0 {
		return nil, nil
	}
	fmt.Fprintf(log, "micro-benchmarks: %s\n", strings.Join(pkgs, " "))
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1"}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	out, err := cmd.CombinedOutput()
	got := parseBench(string(out))
	if err != nil {
		return got, fmt.Errorf("go test -bench: %w\n%s", err, tail(string(out), 2000))
	}
	return got, nil
}

// benchmarkPackages lists ./dir/... packages with a Benchmark function.
func benchmarkPackages(dir string) ([]string, error) {
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "\nfunc Benchmark") {
			seen["./"+filepath.Dir(path)] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find benchmarks: %w", err)
	}
	var pkgs []string
	for p := range seen {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	return pkgs, nil
}

// parseBench reads go test's benchmark lines: a name, the iterations,
// then value-unit pairs.
func parseBench(out string) []results.Micro {
	var got []results.Micro
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		m := results.Micro{Package: pkg, Name: f[0], Iterations: n}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			setMetric(&m, f[i+1], v)
		}
		got = append(got, m)
	}
	return got
}

func setMetric(m *results.Micro, unit string, v float64) {
	switch unit {
	case "ns/op":
		m.NsPerOp = v
	case "B/op":
		m.BytesPerOp = v
	case "allocs/op":
		m.AllocsPerOp = v
	default:
		if m.Extra == nil {
			m.Extra = map[string]float64{}
		}
		m.Extra[unit] = v
	}
}
