package bench

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Targets, as ratios zkit / Apache ZooKeeper (same run, same machine).
const (
	TargetCPUWrite = 0.5  // server CPU per write (create, setData)
	TargetCPURead  = 0.67 // server CPU per read or mixed op
	TargetP99      = 1.0  // p99 latency
	TargetRSS      = 0.2  // RSS after the 100,000-znode load (of the largest member, in an ensemble)
	// TargetEnsembleStart and TargetFailover: an N-member ensemble's start
	// to first write, and its leader failover (kill -9 the leader to the
	// first write through a survivor).
	TargetEnsembleStart = 0.1
	TargetFailover      = 0.5
	// TargetOneProcessStart is absolute: `zkit ensemble -n 3` serves its
	// first write within this time of being run.
	TargetOneProcessStart = 300 * time.Millisecond
	// TargetReadSpread: getData throughput with the clients spread over the
	// members, over the same with every client on one follower, for zkit.
	TargetReadSpread = 1.0
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

// perMember returns the median over rounds of each member's CPU per op
// ("a/b/c" µs), for a server of an ensemble mode.
func (c *cell) perMember(server string) string {
	var each [][]float64
	for _, r := range c.byServer[server] {
		if r.Ops == 0 {
			continue
		}
		for i, v := range r.ServerCPUByPID {
			if i >= len(each) {
				each = append(each, nil)
			}
			each[i] = append(each[i], v*1e6/float64(r.Ops))
		}
	}
	if len(each) == 0 {
		return "—"
	}
	var p []string
	for _, v := range each {
		p = append(p, fmt.Sprintf("%.1f", median(v)))
	}
	return strings.Join(p, " / ")
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
	// judgeAtLeast judges a figure that must reach target (not a ratio
	// that must stay under it).
	judgeAtLeast := func(what string, value, target float64) string {
		if math.IsNaN(value) {
			return "n/a"
		}
		m := miss{what, fmt.Sprintf("%s %s (target ≥ %.2f)", what, fmtRatio(value), target)}
		if value >= target {
			passes = append(passes, m)
			return "**pass**"
		}
		misses = append(misses, m)
		return "**miss**"
	}

	fmt.Fprintf(&b, "## Results\n\nEach ratio is zkit / %s, taken per round and shown as the median over %d rounds\n", apache, c.Rounds)
	fmt.Fprintf(&b, "(per-round ratios in the last column). Each run: %v measured after %v of unmeasured load; %d request(s) in flight per client; servers alternate order each round.\n", c.Duration, c.Warmup, c.Inflight)
	fmt.Fprintf(&b, "Server CPU is utime+stime of the server process (of an ensemble: summed over the member processes) from /proc/<pid>/stat over the measured window, divided by the OK replies in it.\n\n")
	for _, mode := range modes {
		var keys []string
		for _, k := range order {
			if cells[k].mode == mode {
				keys = append(keys, k)
			}
		}
		standalone := strings.HasPrefix(mode, "standalone")
		fmt.Fprintf(&b, "### %s\n\n", mode)
		if standalone {
			fmt.Fprintf(&b, "Server CPU per op (µs) — judged: writes ≤ %.2f×, reads and mixed ≤ %.2f×\n\n", TargetCPUWrite, TargetCPURead)
			fmt.Fprintf(&b, "| workload | clients | %s | %s | ratio | target | verdict | rounds |\n|---|--:|--:|--:|--:|--:|---|---|\n", apache, zkit)
		} else {
			fmt.Fprintf(&b, "Server CPU per op (µs), summed over the members (and each member's share, member 1/2/3) — judged: writes ≤ %.2f×, reads and mixed ≤ %.2f×\n\n", TargetCPUWrite, TargetCPURead)
			fmt.Fprintf(&b, "| workload | clients | %s | %s | ratio | target | verdict | rounds | %s per member | %s per member |\n|---|--:|--:|--:|--:|--:|---|---|--:|--:|\n", apache, zkit, apache, zkit)
		}
		for _, k := range keys {
			ce := cells[k]
			a, z, r := ce.series(apache, zkit, func(r *Result) float64 { return r.ServerCPUPerOp })
			target := TargetCPURead
			if isWrite(ce.op) {
				target = TargetCPUWrite
			}
			m := median(r)
			v := judge(fmt.Sprintf("%s, %s x%d: CPU/op", mode, ce.op, ce.clients), m, target)
			fmt.Fprintf(&b, "| %s | %d | %.1f | %.1f | %s | ≤ %.2f | %s | %s |", opTitle(ce.op, c), ce.clients, median(a), median(z), fmtRatio(m), target, v, fmtRounds(r))
			if !standalone {
				fmt.Fprintf(&b, " %s | %s |", ce.perMember(apache), ce.perMember(zkit))
			}
			b.WriteString("\n")
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
		if len(abs) > 0 && standalone {
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
		writeEnsemble(&b, recs, c, apache, zkit, judge, judgeAtLeast)
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
		path, extra, _ := strings.Cut(r.Note, " ")
		files := strings.TrimSuffix(filepath.Base(path), ".cpu.pprof") + ".{cpu,heap}.pprof"
		if extra != "" {
			files += " " + extra
		}
		shape := "standalone"
		if shp, _, ok := strings.Cut(r.Mode, " forceSync"); ok {
			shape = shp
		}
		perMember := fmtPerMember(r.Result)
		if len(r.ServerCPUByPID) == 0 {
			perMember = "—"
		}
		profRows = append(profRows, fmt.Sprintf("| %s | %s | %d | %.0f | %.1f | %s | %s | %s |", opTitle(r.Op, c), shape, r.Clients, r.OpsPerSec, r.ServerCPUPerOp,
			perMember, fmtMicros(r.P99), files))
	}
	if len(profRows) > 0 {
		fmt.Fprintf(&b, "### zkit profiles (forceSync=yes, --cpuprofile/--memprofile; profiling costs a few %% of throughput)\n\n")
		fmt.Fprintf(&b, "| workload | server | clients | ops/s | CPU/op (µs) | per member | p99 | files in profiles/ |\n|---|---|--:|--:|--:|--:|--:|---|\n")
		b.WriteString(strings.Join(profRows, "\n") + "\n\n")
		b.WriteString("`go tool pprof -top` of each is saved beside it as <op>.cpu.top.txt (and -cum: <op>.cpu.cum.txt), <op>.alloc_space.top.txt and <op>.inuse_space.top.txt; " +
			"of an ensemble, per member (<n>m-<op>.m<i>.cpu.top.txt) and merged over the members (<n>m-<op>.all.cpu.top.txt, .all.cpu.cum.txt). " +
			"An ensemble's members run as `zkit serve zoo.cfg` there, since `zkit member` has no profiling flags.\n\n")
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

// writeEnsemble renders the ensemble rows — start to first write (member
// processes, and zkit's one-process ensemble), leader failover, RSS per
// member — with the recovery row, then how reads spread over the members.
func writeEnsemble(b *strings.Builder, recs []Record, c SuiteConfig, apache, zkit string,
	judge, judgeAtLeast func(string, float64, float64) string) {
	// note -> server -> round -> seconds
	ens := map[string]map[string]map[int]float64{}
	members := c.EnsembleMembers
	if members <= 1 {
		members = 3
	}
	for _, r := range recs {
		if r.Phase != "ensemble" {
			continue
		}
		if ens[r.Note] == nil {
			ens[r.Note] = map[string]map[int]float64{}
		}
		if ens[r.Note][r.Server] == nil {
			ens[r.Note][r.Server] = map[int]float64{}
		}
		ens[r.Note][r.Server][r.Round] = r.Value
	}
	// series returns each server's figures and the per-round ratios zkit
	// (under zkitNote) / Apache (under NoteStart or the same note).
	series := func(apacheNote, zkitNote string) (a, z, ratio []float64) {
		for _, v := range ens[apacheNote][apache] {
			a = append(a, v)
		}
		var rounds []int
		for r := range ens[zkitNote][zkit] {
			rounds = append(rounds, r)
		}
		sort.Ints(rounds)
		for _, r := range rounds {
			zv := ens[zkitNote][zkit][r]
			z = append(z, zv)
			if av, ok := ens[apacheNote][apache][r]; ok && av > 0 {
				ratio = append(ratio, zv/av)
			}
		}
		return a, z, ratio
	}
	secs := func(v []float64) string {
		if len(v) == 0 {
			return "not measured"
		}
		return fmt.Sprintf("%.3f s", median(v))
	}
	fmt.Fprintf(b, "### Ensemble and recovery\n\n")
	if c.Ensemble {
		rounds := c.EnsembleRounds
		fmt.Fprintf(b, "Start and failover: %d rounds, a fresh %d-member ensemble per server and round (forceSync=yes, tickTime=%d ms, initLimit=%d, syncLimit=%d), "+
			"alternating which server goes first; figures are medians, ratios the medians of the per-round ratios. "+
			"Start: from launching the member processes until every member serves (srvr shows a Mode) with one leader, then the first create. "+
			"Failover: SIGKILL to the leader (found with srvr) until a create through a survivor succeeds.\n\n",
			rounds, members, Spec{TickTime: c.TickTime}.tickTime(), ensembleInitLimit, ensembleSyncLimit)
	}
	fmt.Fprintf(b, "| measurement | %s | %s | ratio | target | verdict | rounds |\n|---|--:|--:|--:|--:|---|---|\n", apache, zkit)
	if c.Ensemble {
		a, z, r := series(NoteStart, NoteStart)
		title := fmt.Sprintf("%d-member ensemble start to first write (%d processes: JVMs / `zkit member`)", members, members)
		v := "n/a"
		if len(r) > 0 {
			v = judge(title, median(r), TargetEnsembleStart)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | ≤ %.2f | %s | %s |\n", title, secs(a), secs(z), fmtRatio(median(r)), TargetEnsembleStart, v, fmtRounds(r))

		_, zo, ro := series(NoteStart, NoteStartOneProc)
		title = fmt.Sprintf("%d-member start to first write, `zkit ensemble -n %d` (one process, in memory)", members, members)
		v = "n/a"
		if len(zo) > 0 {
			// The absolute target of the ensemble issue.
			v = judge(title+": zkit seconds", median(zo), TargetOneProcessStart.Seconds())
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | zkit < %v | %s | zkit %s s |\n", title, secs(a), secs(zo), fmtRatio(median(ro)), TargetOneProcessStart, v, fmtRoundsPrec(zo, 3))

		a, z, r = series(NoteFailover, NoteFailover)
		title = "leader failover (kill -9 the leader to the first write through a survivor)"
		v = "n/a"
		if len(r) > 0 {
			v = judge(title, median(r), TargetFailover)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | ≤ %.2f | %s | %s |\n", title, secs(a), secs(z), fmtRatio(median(r)), TargetFailover, v, fmtRounds(r))

		rss := map[string]Record{}
		for _, r := range recs {
			if r.Phase == "ensemble-rss" {
				rss[r.Server] = r
			}
		}
		if ar, ok := rss[apache]; ok {
			zr := rss[zkit]
			ratio := safeDiv(zr.Value, ar.Value)
			title := fmt.Sprintf("RSS of the largest member after %s, %d members", ar.Note, members)
			v := judge(title, ratio, TargetRSS)
			fmt.Fprintf(b, "| %s | %s | %s | %s | ≤ %.2f | %s | — |\n", title, fmtBytes(int64(ar.Value)), fmtBytes(int64(zr.Value)), fmtRatio(ratio), TargetRSS, v)
		}
	}
	writeRecovery(b, recs, apache, zkit)
	b.WriteString("\n")
	if c.Ensemble {
		writeReadSpread(b, recs, members, apache, zkit, judgeAtLeast)
	}
}

// writeReadSpread compares getData with the clients spread over the
// members against every client on one follower, per server: reads scale
// with members when spreading them raises the total.
func writeReadSpread(b *strings.Builder, recs []Record, members int, apache, zkit string, judgeAtLeast func(string, float64, float64) string) {
	type key struct {
		server string
		round  int
	}
	spread, one := map[key]*Result{}, map[key]*Result{}
	clients := 0
	for _, r := range recs {
		if r.Phase == "grid" && r.Result != nil && r.Op == OpGet && r.Mode == oneFollowerMode(members) {
			one[key{r.Server, r.Round}] = r.Result
			clients = r.Clients
		}
	}
	for _, r := range recs {
		// The spread runs: of the workload grid at this many members, or of
		// the reduced ensemble workloads.
		if r.Phase != "grid" || r.Result == nil || r.Op != OpGet || r.Clients != clients {
			continue
		}
		if r.Mode == spreadMode(members) || r.Mode == modeName(members, true) {
			spread[key{r.Server, r.Round}] = r.Result
		}
	}
	if len(spread) == 0 || len(one) == 0 {
		return
	}
	fmt.Fprintf(b, "### Reads across members (getData, %d clients, %d members, forceSync=yes)\n\n", clients, members)
	fmt.Fprintf(b, "Every client on one follower, then client i on member i mod %d; the same rounds as the tables above. "+
		"Reads scale with members when the spread runs reach a higher total (spread / one > 1). On a machine whose cores are all busy "+
		"(the load generator and the servers share them) the total is bounded by the machine, not by the members.\n\n", members)
	fmt.Fprintf(b, "| server | one follower ops/s | spread ops/s | spread / one | CPU/op one follower | CPU/op spread | target | verdict | rounds |\n|---|--:|--:|--:|--:|--:|--:|---|---|\n")
	for _, srv := range []string{apache, zkit} {
		var o, sp, ratio, co, cs []float64
		var rounds []int
		for k := range spread {
			if k.server == srv && one[k] != nil {
				rounds = append(rounds, k.round)
			}
		}
		sort.Ints(rounds)
		for _, rd := range rounds {
			s1, o1 := spread[key{srv, rd}], one[key{srv, rd}]
			o, sp = append(o, o1.OpsPerSec), append(sp, s1.OpsPerSec)
			co, cs = append(co, o1.ServerCPUPerOp), append(cs, s1.ServerCPUPerOp)
			if o1.OpsPerSec > 0 {
				ratio = append(ratio, s1.OpsPerSec/o1.OpsPerSec)
			}
		}
		target, v := "—", "reported"
		if srv == zkit {
			target = fmt.Sprintf("≥ %.2f", TargetReadSpread)
			v = judgeAtLeast(fmt.Sprintf("%d members, getData x%d: spread / one follower throughput", members, clients), median(ratio), TargetReadSpread)
		}
		fmt.Fprintf(b, "| %s | %.0f | %.0f | %s | %.1f | %.1f | %s | %s | %s |\n", srv, median(o), median(sp), fmtRatio(median(ratio)),
			median(co), median(cs), target, v, fmtRounds(ratio))
	}
	b.WriteString("\n")
}

func fmtRoundsPrec(r []float64, prec int) string {
	var s []string
	for _, v := range r {
		s = append(s, strconv.FormatFloat(v, 'f', prec, 64))
	}
	return strings.Join(s, " ")
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
	fmt.Fprintf(b, "| %s | %s | %s | %s | — | reported | — |\n", title, cellOf[apache], cellOf[zkit], fmtRatio(safeDiv(vals[zkit], vals[apache])))
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
