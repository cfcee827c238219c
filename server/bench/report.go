package bench

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
)

// Targets, as ratios zkit / Apache ZooKeeper (same run, same machine).
const (
	TargetCPUWrite = 0.5  // server CPU per write (create, setData)
	TargetCPURead  = 0.67 // server CPU per read or mixed op
	TargetP99      = 1.0  // p99 latency
	TargetRSS      = 0.2  // RSS after the 100,000-znode load
	// TargetWriteMicros is the absolute aim for zkit: a standalone write
	// should cost no more than this much server CPU.
	TargetWriteMicros = 10.0
)

func isWrite(op string) bool { return op == OpCreate || op == OpSet }

func opTitle(op string, c SuiteConfig) string {
	switch op {
	case OpCreate:
		return fmt.Sprintf("create (%s)", sizeName(c.Size))
	case OpSet:
		return fmt.Sprintf("setData %s", sizeName(c.Size))
	case OpGet:
		return fmt.Sprintf("getData (%s)", sizeName(c.Size))
	case OpMixed:
		return fmt.Sprintf("mixed %.0f%% reads", c.ReadRatio*100)
	}
	return op
}

func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cell is one (mode, op, clients) of the grid: per-round results of each
// server.
type cell struct {
	mode, op string
	clients  int
	byServer map[string]map[int]*Result // server -> round -> result
}

// series returns, for the rounds both servers ran, metric of each and their
// per-round ratio zkit/apache.
func (c *cell) series(apache, zkit string, metric func(*Result) float64) (a, z, ratio []float64) {
	var rounds []int
	for r := range c.byServer[apache] {
		if _, ok := c.byServer[zkit][r]; ok {
			rounds = append(rounds, r)
		}
	}
	sort.Ints(rounds)
	for _, r := range rounds {
		av, zv := metric(c.byServer[apache][r]), metric(c.byServer[zkit][r])
		a, z = append(a, av), append(z, zv)
		if av > 0 {
			ratio = append(ratio, zv/av)
		}
	}
	return a, z, ratio
}

func verdict(ratio, target float64) string {
	if math.IsNaN(ratio) {
		return "n/a"
	}
	if ratio <= target {
		return "**pass**"
	}
	return "**miss**"
}

func fmtRatio(r float64) string {
	if math.IsNaN(r) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", r)
}

func fmtRounds(r []float64) string {
	var s []string
	for _, v := range r {
		s = append(s, fmt.Sprintf("%.2f", v))
	}
	return strings.Join(s, " ")
}

// Report renders the suite's records as markdown tables: per mode, server
// CPU per op, latency and throughput; then memory, the ensemble rows, the
// client check, and a pass/miss summary.
func Report(recs []Record, c SuiteConfig, machine string) string {
	apache, zkit := "Apache ZK", "zkit"
	if c.Apache != nil {
		apache = c.Apache.Name()
	}
	if c.Zkit != nil {
		zkit = c.Zkit.Name()
	}
	var b strings.Builder
	var modes []string
	cells := map[string]*cell{}
	var order []string
	for _, r := range recs {
		if r.Phase != "grid" || r.Result == nil {
			continue
		}
		key := fmt.Sprintf("%s|%s|%d", r.Mode, r.Op, r.Clients)
		ce := cells[key]
		if ce == nil {
			ce = &cell{mode: r.Mode, op: r.Op, clients: r.Clients, byServer: map[string]map[int]*Result{}}
			cells[key] = ce
			order = append(order, key)
			if !contains(modes, r.Mode) {
				modes = append(modes, r.Mode)
			}
		}
		if ce.byServer[r.Server] == nil {
			ce.byServer[r.Server] = map[int]*Result{}
		}
		ce.byServer[r.Server][r.Round] = r.Result
	}
	type miss struct{ what, why string }
	var passes, misses []miss
	judge := func(what string, ratio, target float64) string {
		v := verdict(ratio, target)
		m := miss{what, fmt.Sprintf("%s ratio %s (target ≤ %.2f)", what, fmtRatio(ratio), target)}
		switch v {
		case "**pass**":
			passes = append(passes, m)
		case "**miss**":
			misses = append(misses, m)
		}
		return v
	}

	fmt.Fprintf(&b, "## Results\n\nEach ratio is zkit / %s, taken per round and shown as the median over %d rounds\n", apache, c.Rounds)
	fmt.Fprintf(&b, "(per-round ratios in the last column). Each run: %v measured after %v of unmeasured load; %d request(s) in flight per client; servers alternate order each round.\n", c.Duration, c.Warmup, c.Inflight)
	fmt.Fprintf(&b, "Server CPU is utime+stime of the server process from /proc/<pid>/stat over the measured window, divided by the OK replies in it.\n\n")
	for _, mode := range modes {
		var keys []string
		for _, k := range order {
			if cells[k].mode == mode {
				keys = append(keys, k)
			}
		}
		fmt.Fprintf(&b, "### %s\n\n", mode)
		fmt.Fprintf(&b, "Server CPU per op (µs) — judged: writes ≤ %.2f×, reads and mixed ≤ %.2f×\n\n", TargetCPUWrite, TargetCPURead)
		fmt.Fprintf(&b, "| workload | clients | %s | %s | ratio | target | verdict | rounds |\n|---|--:|--:|--:|--:|--:|---|---|\n", apache, zkit)
		for _, k := range keys {
			ce := cells[k]
			a, z, r := ce.series(apache, zkit, func(r *Result) float64 { return r.ServerCPUPerOp })
			target := TargetCPURead
			if isWrite(ce.op) {
				target = TargetCPUWrite
			}
			m := median(r)
			v := judge(fmt.Sprintf("%s, %s x%d: CPU/op", mode, ce.op, ce.clients), m, target)
			fmt.Fprintf(&b, "| %s | %d | %.1f | %.1f | %s | ≤ %.2f | %s | %s |\n", opTitle(ce.op, c), ce.clients, median(a), median(z), fmtRatio(m), target, v, fmtRounds(r))
		}
		fmt.Fprintf(&b, "\nLatency p50 / p99 / p99.9 (µs) — judged: p99 ≤ %.0f×\n\n", TargetP99)
		fmt.Fprintf(&b, "| workload | clients | %s | %s | p99 ratio | verdict | rounds |\n|---|--:|--:|--:|--:|---|---|\n", apache, zkit)
		for _, k := range keys {
			ce := cells[k]
			a50, z50, _ := ce.series(apache, zkit, func(r *Result) float64 { return r.P50 })
			_, _, r := ce.series(apache, zkit, func(r *Result) float64 { return r.P99 })
			a99, z99, _ := ce.series(apache, zkit, func(r *Result) float64 { return r.P99 })
			a999, z999, _ := ce.series(apache, zkit, func(r *Result) float64 { return r.P999 })
			m := median(r)
			v := judge(fmt.Sprintf("%s, %s x%d: p99", mode, ce.op, ce.clients), m, TargetP99)
			fmt.Fprintf(&b, "| %s | %d | %.0f / %.0f / %.0f | %.0f / %.0f / %.0f | %s | %s | %s |\n", opTitle(ce.op, c), ce.clients,
				median(a50), median(a99), median(a999), median(z50), median(z99), median(z999), fmtRatio(m), v, fmtRounds(r))
		}
		fmt.Fprintf(&b, "\nThroughput (ops/s) and RSS at the end of the run — reported, not judged (the machine is shared)\n\n")
		fmt.Fprintf(&b, "| workload | clients | %s ops/s | %s ops/s | ratio | %s RSS | %s RSS | errors | rounds |\n|---|--:|--:|--:|--:|--:|--:|--:|---|\n", apache, zkit, apache, zkit)
		for _, k := range keys {
			ce := cells[k]
			a, z, r := ce.series(apache, zkit, func(r *Result) float64 { return r.OpsPerSec })
			ar, zr, _ := ce.series(apache, zkit, func(r *Result) float64 { return float64(r.ServerRSS) })
			ae, ze, _ := ce.series(apache, zkit, func(r *Result) float64 { return float64(r.Errors) })
			fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f | %s | %s | %s | %.0f / %.0f | %s |\n", opTitle(ce.op, c), ce.clients,
				median(a), median(z), fmtRatio(median(r)), fmtBytes(int64(median(ar))), fmtBytes(int64(median(zr))), sum(ae), sum(ze), fmtRounds(r))
		}
		b.WriteString("\n")
		// The absolute aim for writes.
		var abs []string
		for _, k := range keys {
			ce := cells[k]
			if !isWrite(ce.op) {
				continue
			}
			_, z, _ := ce.series(apache, zkit, func(r *Result) float64 { return r.ServerCPUPerOp })
			zm := median(z)
			mark := "miss"
			if zm <= TargetWriteMicros {
				mark = "pass"
			}
			abs = append(abs, fmt.Sprintf("%s x%d %.1f µs (%s)", ce.op, ce.clients, zm, mark))
		}
		if len(abs) > 0 {
			fmt.Fprintf(&b, "zkit server CPU per write against the absolute aim of ≤ %.0f µs: %s.\n\n", TargetWriteMicros, strings.Join(abs, "; "))
		}
	}

	// Memory.
	var rssRows []string
	idle := map[string]float64{}
	loaded := map[string]map[string]float64{} // note -> server -> bytes
	var notes []string
	for _, r := range recs {
		if r.Phase != "rss" {
			continue
		}
		if r.Note == "idle" {
			if _, ok := idle[r.Server]; !ok {
				idle[r.Server] = r.Value
			}
			continue
		}
		if loaded[r.Note] == nil {
			loaded[r.Note] = map[string]float64{}
			notes = append(notes, r.Note)
		}
		loaded[r.Note][r.Server] = r.Value
	}
	if len(idle) > 0 {
		a, z := idle[apache], idle[zkit]
		rssRows = append(rssRows, fmt.Sprintf("| RSS idle, fresh start | %s | %s | %s | — | reported |", fmtBytes(int64(a)), fmtBytes(int64(z)), fmtRatio(safeDiv(z, a))))
	}
	for _, n := range notes {
		a, z := loaded[n][apache], loaded[n][zkit]
		ratio := safeDiv(z, a)
		v := judge("RSS after "+n, ratio, TargetRSS)
		rssRows = append(rssRows, fmt.Sprintf("| RSS after %s | %s | %s | %s | ≤ %.2f | %s |", n, fmtBytes(int64(a)), fmtBytes(int64(z)), fmtRatio(ratio), TargetRSS, v))
	}
	if len(rssRows) > 0 {
		fmt.Fprintf(&b, "### Memory (standalone, fresh servers, forceSync=no, loaded by 16 clients × 16 in flight)\n\n")
		fmt.Fprintf(&b, "| measurement | %s | %s | ratio | target | verdict |\n|---|--:|--:|--:|--:|---|\n", apache, zkit)
		b.WriteString(strings.Join(rssRows, "\n") + "\n\n")
	}

	// Ensemble and recovery rows.
	if c.Ensemble || c.RecoveryZnodes > 0 {
		writeEnsemble(&b, recs, apache, zkit, judge)
	}

	// Client check.
	type checkKey struct {
		server string
		procs  string
		round  int
	}
	totals := map[checkKey]float64{}
	first := map[checkKey]*Result{}
	var checkServers []string
	for _, r := range recs {
		if r.Phase != "client-check" || r.Result == nil {
			continue
		}
		if !contains(checkServers, r.Server) {
			checkServers = append(checkServers, r.Server)
		}
		k := checkKey{r.Server, r.Note, r.Round}
		totals[k] += r.OpsPerSec
		if first[k] == nil {
			first[k] = r.Result
		}
	}
	if len(checkServers) > 0 {
		fmt.Fprintf(&b, "### Is the load generator the bottleneck?\n\n")
		fmt.Fprintf(&b, "getData at the largest client count, from 1 load-generator process and split over 2 processes run at once, alternating, twice. If the client limited the figures, 2 processes would reach a higher total.\n\n")
		fmt.Fprintf(&b, "| server | clients | 1 process ops/s | 2 processes ops/s (sum) | 2 / 1 (medians) | client CPU/op (1 process) |\n|---|--:|--:|--:|--:|--:|\n")
		for _, srv := range checkServers {
			var one, two []float64
			var cliCPU []float64
			clients := 0
			for k, v := range totals {
				if k.server != srv {
					continue
				}
				switch k.procs {
				case "1 processes":
					one = append(one, v)
					cliCPU = append(cliCPU, first[k].ClientCPUPerOp)
					clients = first[k].Clients
				case "2 processes":
					two = append(two, v)
				}
			}
			if len(one) == 0 || len(two) == 0 {
				continue
			}
			sort.Float64s(one)
			sort.Float64s(two)
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %.2f | %.1f µs |\n", srv, clients, fmtList(one), fmtList(two),
				safeDiv(median(two), median(one)), median(cliCPU))
		}
		b.WriteString("\n")
	}

	// Profiles.
	var profRows []string
	for _, r := range recs {
		if r.Phase != "profile" || r.Result == nil {
			continue
		}
		profRows = append(profRows, fmt.Sprintf("| %s | %d | %.0f | %.1f | %s | %s |", opTitle(r.Op, c), r.Clients, r.OpsPerSec, r.ServerCPUPerOp,
			fmtMicros(r.P99), strings.TrimSuffix(filepath.Base(r.Note), ".cpu.pprof")+".{cpu,heap}.pprof"))
	}
	if len(profRows) > 0 {
		fmt.Fprintf(&b, "### zkit profiles (forceSync=yes, --cpuprofile/--memprofile; profiling costs a few %% of throughput)\n\n")
		fmt.Fprintf(&b, "| workload | clients | ops/s | CPU/op (µs) | p99 | files in profiles/ |\n|---|--:|--:|--:|--:|---|\n")
		b.WriteString(strings.Join(profRows, "\n") + "\n\n")
		b.WriteString("`go tool pprof -top` of each is saved beside it as <op>.cpu.top.txt (and -cum: <op>.cpu.cum.txt), <op>.alloc_space.top.txt and <op>.inuse_space.top.txt.\n\n")
	}

	// Summary.
	fmt.Fprintf(&b, "### Summary\n\n%d judged figures pass, %d miss.\n", len(passes), len(misses))
	if len(misses) > 0 {
		b.WriteString("\nMisses:\n\n")
		for _, m := range misses {
			fmt.Fprintf(&b, "- %s\n", m.why)
		}
	}
	fmt.Fprintf(&b, "\n### Machine\n\n```\n%s```\n", machine)
	return b.String()
}

// writeEnsemble renders the 3-member and recovery rows: Apache's figure
// when measured, zkit's pending until its launcher runs ensembles (and
// restarts on a durable dataDir).
func writeEnsemble(b *strings.Builder, recs []Record, apache, zkit string, judge func(string, float64, float64) string) {
	ens := map[string]map[string]Record{} // note -> server
	pending := map[string]string{}
	for _, r := range recs {
		if r.Phase != "ensemble" {
			continue
		}
		if strings.HasPrefix(r.Note, "pending") {
			pending[r.Server] = r.Note
			continue
		}
		if ens[r.Note] == nil {
			ens[r.Note] = map[string]Record{}
		}
		ens[r.Note][r.Server] = r
	}
	fmt.Fprintf(b, "### Ensemble and recovery\n\n")
	fmt.Fprintf(b, "| measurement | %s | %s | ratio | target | verdict |\n|---|--:|--:|--:|--:|---|\n", apache, zkit)
	zkitCell := func(note string) (string, float64) {
		if r, ok := ens[note][zkit]; ok {
			return fmt.Sprintf("%.2f s", r.Value), r.Value
		}
		return "pending (ensemble issue)", math.NaN()
	}
	for _, row := range []struct {
		note, title string
		target      float64
	}{
		{"start-to-first-write", "3-member ensemble start to first write", 0.1},
		{"leader failover", "leader failover (kill -9 leader to first write)", 0.5},
	} {
		av := "not measured"
		a := math.NaN()
		if r, ok := ens[row.note][apache]; ok {
			a, av = r.Value, fmt.Sprintf("%.2f s", r.Value)
		}
		zv, z := zkitCell(row.note)
		ratio := safeDiv(z, a)
		v := "pending"
		if !math.IsNaN(ratio) {
			v = judge(row.title, ratio, row.target)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | ≤ %.2f | %s |\n", row.title, av, zv, fmtRatio(ratio), row.target, v)
	}
	fmt.Fprintf(b, "| RSS per member after 100,000 znodes, 3 members | not measured | pending (ensemble issue) | n/a | ≤ %.2f | pending |\n", TargetRSS)
	b.WriteString("| workloads above at 3 members, forceSync yes and no | not measured | pending (ensemble issue) | n/a | as above | pending |\n")
	writeRecovery(b, recs, apache, zkit)
	b.WriteString("\n")
	if p, ok := pending[zkit]; ok {
		fmt.Fprintf(b, "zkit: %s\n\n", p)
	}

}

// writeRecovery renders the restart-on-dataDir row (no target: reported).
func writeRecovery(b *strings.Builder, recs []Record, apache, zkit string) {
	cellOf := map[string]string{apache: "not measured", zkit: "pending (run with --recovery-znodes)"}
	vals := map[string]float64{}
	title := "recovery time of 1,000,000 znodes (restart on dataDir)"
	for _, r := range recs {
		if r.Phase != "recovery" {
			continue
		}
		if r.Value > 0 {
			cellOf[r.Server] = fmt.Sprintf("%.2f s", r.Value)
			vals[r.Server] = r.Value
			title = "restart time, " + strings.TrimPrefix(r.Note, "recovery of ") + " (exec to serving, on the same dataDir)"
		} else {
			cellOf[r.Server] = r.Note
		}
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s | — | reported |\n", title, cellOf[apache], cellOf[zkit], fmtRatio(safeDiv(vals[zkit], vals[apache])))
}

func fmtList(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf("%.0f", x))
	}
	return strings.Join(s, ", ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sum(v []float64) float64 {
	var t float64
	for _, x := range v {
		t += x
	}
	return t
}

func safeDiv(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}
