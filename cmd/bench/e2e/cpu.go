package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times; it
// is 100 on every Linux this runs on.
const clockTicks = 100

// cpuNow returns this process's CPU time and the process pid's.
func cpuNow(pid int) (self, other time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return self, procCPU(pid)
}

// procCPU reads utime and stime of pid from /proc.
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields count from after it.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * time.Second / clockTicks
}

// startProfile starts the CPU profile at path; the returned function
// stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// shares reads the profile's samples by part: Cascade's own code,
// the fakes (any stack through internal/providersim), and the
// measuring (the meter and this program). Samples with no label, such
// as the runtime's own work, are left to be shared in proportion.
type shares struct{ ours, fakes, measuring time.Duration }

func profileShares(path string) (shares, error) {
	var s shares
	var err error
	stack := "-tagfocus=part=" + partStack
	if s.ours, err = pprofSum(path, stack, "-ignore=providersim"); err != nil {
		return s, err
	}
	if s.fakes, err = pprofSum(path, stack, "-focus=providersim"); err != nil {
		return s, err
	}
	m, err := pprofSum(path, "-tagfocus=part="+partMeter)
	if err != nil {
		return s, err
	}
	d, err := pprofSum(path, "-tagfocus=part="+partDriver)
	s.measuring = m + d
	return s, err
}

// pprofSum adds up the flat time of every node go tool pprof -top
// shows with args: the samples the filters keep.
func pprofSum(path string, args ...string) (time.Duration, error) {
	out, err := pprofTop(path, 0, args...)
	if err != nil {
		return 0, err
	}
	var total time.Duration
	sc := bufio.NewScanner(bytes.NewReader(out))
	inTable := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && f[0] == "flat" {
			inTable = true
			continue
		}
		if !inTable || len(f) < 6 {
			continue
		}
		if d, err := time.ParseDuration(f[0]); err == nil {
			total += d
		}
	}
	return total, nil
}

// pprofTop runs go tool pprof -top; nodes 0 means all of them.
func pprofTop(path string, nodes int, args ...string) ([]byte, error) {
	a := append([]string{"tool", "pprof", "-top", "-nodecount=" + strconv.Itoa(nodes)}, args...)
	if nodes == 0 {
		a[3] = "-nodecount=1000000"
	}
	a = append(a, path)
	out, err := exec.Command("go", a...).Output()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// topOurs lists the functions that took most of Cascade's own CPU.
func topOurs(path string, n int) []string {
	out, err := pprofTop(path, n, "-cum", "-tagfocus=part="+partStack, "-ignore=providersim")
	if err != nil {
		return []string{err.Error()}
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	inTable := false
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(l), "flat") {
			inTable = true
		}
		if inTable {
			lines = append(lines, strings.TrimRight(l, " "))
		}
	}
	return lines
}
