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
// against the target, and renders the ensemble rows.
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
	)
	// Ensemble start: Apache 2.0, 2.5, 3.0 s; zkit 0.1, 0.2, 0.4 s -> ratios
	// 0.05, 0.08, 0.13: median 0.08, pass (≤ 0.10). One process: 0.05,
	// 0.35, 0.1 s -> median 0.1 s, pass (< 300 ms); ratios 0.025, 0.14,
	// 0.033 -> 0.03. Failover: 0.5 s against
	// 0.2, 0.3, 0.3 -> ratios 0.4, 0.6, 0.6: miss (≤ 0.50).
	for i, v := range [][5]float64{{2.0, 0.1, 0.05, 0.5, 0.2}, {2.5, 0.2, 0.35, 0.5, 0.3}, {3.0, 0.4, 0.1, 0.5, 0.3}} {
		round := i + 1
		recs = append(recs,
			Record{Phase: "ensemble", Round: round, Server: "Apache ZK", Value: v[0], Note: NoteStart},
			Record{Phase: "ensemble", Round: round, Server: "zkit", Value: v[1], Note: NoteStart},
			Record{Phase: "ensemble", Round: round, Server: "zkit", Value: v[2], Note: NoteStartOneProc},
			Record{Phase: "ensemble", Round: round, Server: "Apache ZK", Value: v[3], Note: NoteFailover},
			Record{Phase: "ensemble", Round: round, Server: "zkit", Value: v[4], Note: NoteFailover},
		)
	}
	// Reads across members: zkit spread/one 1.2, 0.9 -> median 1.05, pass.
	for round, v := range [][4]float64{{100, 90, 120, 100}, {100, 95, 90, 100}} {
		for _, x := range []struct {
			server, mode string
			ops          float64
		}{{"Apache ZK", modeName(3, true), v[0]}, {"Apache ZK", oneFollowerMode(3), v[1]}, {"zkit", modeName(3, true), v[2]}, {"zkit", oneFollowerMode(3), v[3]}} {
			recs = append(recs, Record{Phase: "grid", Mode: x.mode, Round: round + 1, Server: x.server,
				Result: &Result{Op: OpGet, Clients: 64, Ops: 1000, OpsPerSec: x.ops, ServerCPUPerOp: 10, P99: 100, ServerCPUByPID: []float64{0.004, 0.003, 0.003}}})
		}
	}
	recs = append(recs,
		Record{Phase: "ensemble-rss", Server: "Apache ZK", Value: 200 << 20, Note: "100000 znodes x 128 B"},
		Record{Phase: "ensemble-rss", Server: "zkit", Value: 30 << 20, Note: "100000 znodes x 128 B"},
	)
	for rep, v := range [][3]float64{{100, 48, 50}, {90, 47, 46}} {
		recs = append(recs,
			Record{Phase: "client-check", Server: "zkit", Round: rep + 1, Note: "1 processes", Result: &Result{Clients: 64, OpsPerSec: v[0], ClientCPUPerOp: 9}},
			Record{Phase: "client-check", Server: "zkit", Round: rep + 1, Note: "2 processes", Result: &Result{Clients: 32, OpsPerSec: v[1]}},
			Record{Phase: "client-check", Server: "zkit", Round: rep + 1, Note: "2 processes", Result: &Result{Clients: 32, OpsPerSec: v[2]}})
	}
	out := Report(recs, SuiteConfig{Rounds: 3, Ensemble: true, EnsembleRounds: 3, EnsembleMembers: 3, Size: 1024, ReadRatio: 0.9,
		Apache: ApacheLauncher{}, Zkit: ZkitLauncher{}}, "nproc: 2\n")
	for _, want := range []string{
		"| create (1 KiB) | 16 | 100.0 | 45.0 | 0.45 | ≤ 0.50 | **pass** | 0.40 0.60 0.45 |",
		"| getData (1 KiB) | 16 | 10.0 | 8.0 | 0.80 | ≤ 0.67 | **miss** | 0.80 |",
		// p99 ratios 0.9, 1.1, 1.2 -> median 1.1: miss.
		"| create (1 KiB) | 16 | 0 / 1000 / 0 | 0 / 1100 / 0 | 1.10 | **miss** |",
		"| RSS after 100000 znodes x 128 B | 100.0MiB | 10.0MiB | 0.10 | ≤ 0.20 | **pass** |",
		"| 3-member ensemble start to first write (3 processes: JVMs / `zkit member`) | 2.500 s | 0.200 s | 0.08 | ≤ 0.10 | **pass** | 0.05 0.08 0.13 |",
		"| 3-member start to first write, `zkit ensemble -n 3` (one process, in memory) | 2.500 s | 0.100 s | 0.03 | zkit < 300ms | **pass** | zkit 0.050 0.350 0.100 s |",
		"| leader failover (kill -9 the leader to the first write through a survivor) | 0.500 s | 0.300 s | 0.60 | ≤ 0.50 | **miss** | 0.40 0.60 0.60 |",
		"| RSS of the largest member after 100000 znodes x 128 B, 3 members | 200.0MiB | 30.0MiB | 0.15 | ≤ 0.20 | **pass** | — |",
		"| zkit | 100 | 105 | 1.05 | 10.0 | 10.0 | ≥ 1.00 | **pass** | 1.20 0.90 |",
		"| Apache ZK | 92 | 100 | 1.08 | 10.0 | 10.0 | — | reported | 1.11 1.05 |",
		// per-member CPU: 0.004 s / 1000 ops = 4 µs
		"| getData (1 KiB) | 64 | 10.0 | 10.0 | 1.00 | ≤ 0.67 | **miss** | 1.00 1.00 | 4.0 / 3.0 / 3.0 | 4.0 / 3.0 / 3.0 |",
		"recovery time of 1,000,000 znodes",
		// medians 95 and 95.5
		"| zkit | 64 | 90, 100 | 93, 98 | 1.01 | 9.0 µs |",
		"zkit server CPU per write against the absolute aim of ≤ 10 µs: create x16 45.0 µs (miss)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n%s", want, out)
		}
	}
	// pass: create CPU, get p99, RSS, start, one-process start, ensemble
	// RSS, read spread, p99 of the ensemble gets (x2); miss: get CPU, create
	// p99, failover, the ensemble gets' CPU (x2).
	if !strings.Contains(out, "9 judged figures pass, 5 miss.") {
		t.Errorf("wrong summary:\n%s", out[strings.Index(out, "### Summary"):])
	}
}
