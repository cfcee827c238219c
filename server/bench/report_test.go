package bench

import (
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// The report takes the ratio per round and shows its median, judges it
// against the target, and marks the ensemble rows pending.
func TestReportRatiosAndVerdicts(t *testing.T) {
	var recs []Record
	add := func(round int, server, op string, cpu, p99, ops float64) {
		recs = append(recs, Record{Phase: "grid", Mode: "standalone forceSync=yes", Round: round, Server: server,
			Result: &Result{Op: op, Clients: 16, ServerCPUPerOp: cpu, P99: p99, OpsPerSec: ops}})
	}
	// create: zkit/Apache CPU ratios 0.4, 0.6, 0.45 -> median 0.45, pass (≤ 0.5).
	add(1, "Apache ZK", OpCreate, 100, 1000, 10000)
	add(1, "zkit", OpCreate, 40, 900, 30000)
	add(2, "Apache ZK", OpCreate, 100, 1000, 10000)
	add(2, "zkit", OpCreate, 60, 1100, 30000)
	add(3, "Apache ZK", OpCreate, 100, 1000, 10000)
	add(3, "zkit", OpCreate, 45, 1200, 30000)
	// get: ratio 0.8 -> miss (> 0.67).
	add(1, "Apache ZK", OpGet, 10, 100, 1000)
	add(1, "zkit", OpGet, 8, 50, 2000)
	recs = append(recs,
		Record{Phase: "rss", Server: "Apache ZK", Value: 100 << 20, Note: "100000 znodes x 128 B"},
		Record{Phase: "rss", Server: "zkit", Value: 10 << 20, Note: "100000 znodes x 128 B"},
		Record{Phase: "ensemble", Server: "Apache ZK", Value: 2.5, Note: "start-to-first-write"},
		Record{Phase: "ensemble", Server: "zkit", Note: "pending: " + ErrAwaitsEnsemble.Error()},
	)
	for rep, v := range [][3]float64{{100, 48, 50}, {90, 47, 46}} {
		recs = append(recs,
			Record{Phase: "client-check", Server: "zkit", Round: rep + 1, Note: "1 processes", Result: &Result{Clients: 64, OpsPerSec: v[0], ClientCPUPerOp: 9}},
			Record{Phase: "client-check", Server: "zkit", Round: rep + 1, Note: "2 processes", Result: &Result{Clients: 32, OpsPerSec: v[1]}},
			Record{Phase: "client-check", Server: "zkit", Round: rep + 1, Note: "2 processes", Result: &Result{Clients: 32, OpsPerSec: v[2]}})
	}
	out := Report(recs, SuiteConfig{Rounds: 3, Ensemble: true, Size: 1024, ReadRatio: 0.9, Apache: ApacheLauncher{}, Zkit: ZkitLauncher{}}, "nproc: 2\n")
	for _, want := range []string{
		"| create (1 KiB) | 16 | 100.0 | 45.0 | 0.45 | ≤ 0.50 | **pass** | 0.40 0.60 0.45 |",
		"| getData (1 KiB) | 16 | 10.0 | 8.0 | 0.80 | ≤ 0.67 | **miss** | 0.80 |",
		// p99 ratios 0.9, 1.1, 1.2 -> median 1.1: miss.
		"| create (1 KiB) | 16 | 0 / 1000 / 0 | 0 / 1100 / 0 | 1.10 | **miss** |",
		"| RSS after 100000 znodes x 128 B | 100.0MiB | 10.0MiB | 0.10 | ≤ 0.20 | **pass** |",
		"| 3-member ensemble start to first write | 2.50 s | pending (ensemble issue) | n/a | ≤ 0.10 | pending |",
		"recovery time of 1,000,000 znodes",
		// medians 95 and 95.5
		"| zkit | 64 | 90, 100 | 93, 98 | 1.01 | 9.0 µs |",
		"zkit server CPU per write against the absolute aim of ≤ 10 µs: create x16 45.0 µs (miss)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n%s", want, out)
		}
	}
	if !strings.Contains(out, "3 judged figures pass, 2 miss.") {
		t.Errorf("wrong summary:\n%s", out[strings.Index(out, "### Summary"):])
	}
}
