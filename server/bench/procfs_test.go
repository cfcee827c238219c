package bench

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       int64
	}{
		{"plain", "1234 (java) S 1 1234 1234 0 -1 4194560 50000 0 12 0 1500 250 0 0 20 0 42 0 100 5000000 30000 18446744073709551615\n", 1750},
		// A command name may hold spaces and parentheses; fields are
		// counted from the last ')'.
		{"tricky comm", "77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 1 1\n", 10},
		{"zeros", "5 (zkit) S 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1", 0},
	} {
		got, err := parseStatCPU([]byte(tc.stat))
		if err != nil || got != tc.want {
			t.Errorf("%s: got %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "12 java S 1", "12 (java) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 3 0"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseStatusMem(t *testing.T) {
	status := "Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t 9000000 kB\nVmHWM:\t  420000 kB\nVmRSS:\t  401234 kB\nRssAnon:\t  390000 kB\nThreads:\t42\n"
	m, err := parseStatusMem([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS != 401234<<10 || m.HWM != 420000<<10 {
		t.Fatalf("got %+v", m)
	}
	if _, err := parseStatusMem([]byte("Name:\tkthreadd\nState:\tS\n")); err == nil {
		t.Error("no VmRSS line: no error")
	}
	if _, err := parseStatusMem([]byte("VmRSS:\t12 MB\n")); err == nil {
		t.Error("unknown unit: no error")
	}
}

// spin burns CPU in this process for d.
func spin(d time.Duration) int {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		n++
	}
	return n
}

func TestProcReadersOnRealProcesses(t *testing.T) {
	pid := os.Getpid()
	before, err := ProcCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Spinning shows up as CPU time, however busy the machine is (the
	// spinner may get only part of a core): spin until 200 ms are
	// counted, and never count more than the wall time allows.
	began := time.Now()
	var after time.Duration
	for {
		spin(20 * time.Millisecond)
		if after, err = ProcCPU(pid); err != nil {
			t.Fatal(err)
		}
		if after-before >= 200*time.Millisecond || time.Since(began) > 20*time.Second {
			break
		}
	}
	wall := time.Since(began)
	if d := after - before; d < 200*time.Millisecond || d > wall*time.Duration(runtime.NumCPU())+50*time.Millisecond {
		t.Errorf("CPU time grew by %v over %v of spinning", d, wall)
	}
	m, err := ReadProcMem(pid)
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS < 1<<20 || m.HWM < m.RSS {
		t.Errorf("RSS %d, HWM %d", m.RSS, m.HWM)
	}
	// A child that sleeps uses next to no CPU; summing works over pids.
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep binary:", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	u, err := SampleProcs([]int{pid, cmd.Process.Pid})
	if err != nil {
		t.Fatal(err)
	}
	if u.RSS <= m.RSS/2 || len(u.PerPID) != 2 || u.PerPID[cmd.Process.Pid] <= 0 || u.CPU < after {
		t.Errorf("SampleProcs = %+v", u)
	}
	if _, err := ProcCPU(1 << 30); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a pid that does not exist: %v", err)
	}
}
