package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Notes of the ensemble records (Phase "ensemble"; Value in seconds).
const (
	NoteStart        = "start-to-first-write"             // N member processes
	NoteStartOneProc = "one-process start-to-first-write" // zkit ensemble -n N
	NoteFailover     = "leader failover"
)

// Modes of the ensemble workloads' grid records.
func spreadMode(n int) string {
	return fmt.Sprintf("%d members forceSync=yes, clients spread over the members", n)
}

func oneFollowerMode(n int) string {
	return fmt.Sprintf("%d members forceSync=yes, clients on one follower", n)
}

// oneProcessLauncher is a launcher that can also run a whole ensemble in
// one process (zkit ensemble -n N).
type oneProcessLauncher interface {
	LaunchOneProcess(Spec) (Target, error)
}

// ensemble measures, in EnsembleRounds rounds that alternate which server
// goes first, on a fresh ensemble each time: the time from launching the
// members to the first successful write (the launch returns once every
// member serves and one leads — for Apache the oracle's condition, for zkit
// the same one), then the leader failover: SIGKILL the leader (found with
// srvr) and time until a create through a survivor succeeds. zkit's one-
// process ensemble (`zkit ensemble -n N`) is timed from exec to its first
// write as well.
func (s *suite) ensemble() error {
	n := s.c.EnsembleMembers
	spec := Spec{Members: n, ForceSync: true, TickTime: s.c.TickTime}
	mode := modeName(n, true)
	s.logf("== %s: start to first write and leader failover, %d rounds (load average %s)", mode, s.c.EnsembleRounds, loadAvg())
	var errs []error
	for round := 1; round <= s.c.EnsembleRounds; round++ {
		order := []Launcher{s.c.Apache, s.c.Zkit}
		if round%2 == 0 {
			order = []Launcher{s.c.Zkit, s.c.Apache}
		}
		for _, l := range order {
			if err := s.startAndFailover(l, spec, mode, round); err != nil {
				errs = append(errs, fmt.Errorf("%s ensemble round %d: %w", l.Name(), round, err))
			}
			if op, ok := l.(oneProcessLauncher); ok {
				if err := s.oneProcessStart(l.Name(), op, spec, mode, round); err != nil {
					errs = append(errs, fmt.Errorf("%s one-process ensemble round %d: %w", l.Name(), round, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (s *suite) startAndFailover(l Launcher, spec Spec, mode string, round int) error {
	t0 := time.Now()
	t, err := l.Launch(spec)
	if err != nil {
		return err
	}
	defer t.Stop()
	if err := firstWrite(t.Hosts(), "/zkit-bench-start", 30*time.Second); err != nil {
		return fmt.Errorf("first write: %w", err)
	}
	start := time.Since(t0)
	s.record(Record{Phase: "ensemble", Mode: mode, Round: round, Server: l.Name(), Value: start.Seconds(), Note: NoteStart})
	fo, ok := t.(Failover)
	if !ok {
		s.logf("r%d %s: start to first write %v (no failover: the target cannot kill its leader)", round, l.Name(), start.Round(time.Millisecond))
		return nil
	}
	d, err := failover(t, fo)
	if err != nil {
		return fmt.Errorf("failover: %w", err)
	}
	s.record(Record{Phase: "ensemble", Mode: mode, Round: round, Server: l.Name(), Value: d.Seconds(), Note: NoteFailover})
	s.logf("r%d %-9s start to first write %v; leader failover (kill -9 to first write) %v", round, l.Name(),
		start.Round(time.Millisecond), d.Round(time.Millisecond))
	return nil
}

func (s *suite) oneProcessStart(name string, l oneProcessLauncher, spec Spec, mode string, round int) error {
	t0 := time.Now()
	t, err := l.LaunchOneProcess(spec)
	if err != nil {
		return err
	}
	defer t.Stop()
	if err := firstWrite(t.Hosts(), "/zkit-bench-start", 30*time.Second); err != nil {
		return fmt.Errorf("first write: %w", err)
	}
	d := time.Since(t0)
	s.record(Record{Phase: "ensemble", Mode: mode, Round: round, Server: name, Value: d.Seconds(), Note: NoteStartOneProc})
	s.logf("r%d %-9s `zkit ensemble -n %d` (one process) start to first write %v", round, name, spec.Members, d.Round(time.Millisecond))
	return nil
}

// followers finds each ensemble's leader with srvr and returns, per
// target, the client address of the member after it (a follower).
func (s *suite) followers(a, z Target, names map[Target]string) (map[Target]string, error) {
	follower := map[Target]string{}
	for _, t := range []Target{a, z} {
		fo, ok := t.(Failover)
		if !ok {
			return nil, fmt.Errorf("%s: the ensemble cannot name its leader", names[t])
		}
		leader := fo.Leader()
		if leader < 0 {
			return nil, fmt.Errorf("%s: no single leader", names[t])
		}
		follower[t] = t.Hosts()[(leader+1)%len(t.Hosts())]
		s.logf("%s: leader is member %d; the one-follower runs use %s", names[t], leader+1, follower[t])
	}
	return follower, nil
}

// ensembleWorkloads runs, when the workload grid does not include
// EnsembleMembers, a reduced set of ensemble workloads on one ensemble of
// each server (forceSync=yes), rounds times, alternating which goes first:
// setData and getData at EnsembleClients with client i on member i mod n,
// and getData with every client on one follower (reads scale with members
// if spreading them raises the total). Server CPU and RSS are summed over
// the member processes.
func (s *suite) ensembleWorkloads() error {
	n := s.c.EnsembleMembers
	spec := Spec{Members: n, ForceSync: true, TickTime: s.c.TickTime}
	type workload struct {
		op  string
		one bool // every client on one follower
	}
	var wls []workload
	if contains(s.c.Ops, OpSet) {
		wls = append(wls, workload{OpSet, false})
	}
	if contains(s.c.Ops, OpGet) {
		wls = append(wls, workload{OpGet, false}, workload{OpGet, true})
	}
	if len(wls) == 0 {
		return nil
	}
	s.logf("== %s: %d clients (load average %s)", spreadMode(n), s.c.EnsembleClients, loadAvg())
	a, z, err := s.pair(spec)
	if err != nil {
		return err
	}
	defer a.Stop()
	defer z.Stop()
	s.saveConfigs(fmt.Sprintf("%dmembers-forcesync-yes", n), a, z, spec)
	names := map[Target]string{a: s.c.Apache.Name(), z: s.c.Zkit.Name()}
	follower, err := s.followers(a, z, names)
	if err != nil {
		return err
	}
	// Warm-up: each workload as it will be measured, twice as long as a
	// standalone server's (the JVMs' JIT sees a third of the requests
	// each).
	if s.c.ServerWarmup > 0 {
		for _, t := range []Target{a, z} {
			for _, w := range wls {
				cfg := s.cfg(w.op, 16, t, "warmup")
				if w.one {
					cfg.Hosts = []string{follower[t]}
				}
				cfg.Duration, cfg.Warmup = 2*s.c.ServerWarmup, 0
				if _, err := Run(cfg); err != nil {
					return fmt.Errorf("%s warmup %s on %s: %w", spreadMode(n), w.op, names[t], err)
				}
			}
		}
		s.logf("warmed up (%v per server and workload)", 2*s.c.ServerWarmup)
	}
	var errs []error
	for round := 1; round <= s.c.Rounds; round++ {
		order := []Target{a, z}
		if round%2 == 0 {
			order = []Target{z, a}
		}
		for _, w := range wls {
			for _, t := range order {
				cfg := s.cfg(w.op, s.c.EnsembleClients, t, names[t])
				mode := spreadMode(n)
				if w.one {
					cfg.Hosts, mode = []string{follower[t]}, oneFollowerMode(n)
				}
				res, err := Run(cfg)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s round %d %s x%d on %s: %w", mode, round, w.op, s.c.EnsembleClients, names[t], err))
					if res == nil {
						continue
					}
				}
				s.record(Record{Phase: "grid", Mode: mode, Round: round, Server: names[t], Result: res})
				where := "spread"
				if w.one {
					where = "1 follower"
				}
				s.logf("%dm r%d %-4s x%-3d %-10s %-9s %8.0f ops/s  cpu %6.1fµs/op (per member %s)  p99 %8s  rss %s  err %d",
					n, round, w.op, s.c.EnsembleClients, where, names[t], res.OpsPerSec, res.ServerCPUPerOp,
					fmtPerMember(res), fmtMicros(res.P99), fmtBytes(res.ServerRSS), res.Errors)
			}
		}
	}
	return errors.Join(errs...)
}

// fmtPerMember shows each member's share of the server CPU per op.
func fmtPerMember(r *Result) string {
	if r.Ops == 0 || len(r.ServerCPUByPID) == 0 {
		return "-"
	}
	var p []string
	for _, c := range r.ServerCPUByPID {
		p = append(p, fmt.Sprintf("%.1f", c*1e6/float64(r.Ops)))
	}
	return strings.Join(p, "/")
}

// ensembleRSS loads RSSZnodes znodes of size bytes into fresh ensembles
// (forceSync=no, as the standalone RSS rows) and records the largest
// member's RSS.
func (s *suite) ensembleRSS(size int) error {
	n := s.c.EnsembleMembers
	spec := Spec{Members: n, ForceSync: false, TickTime: s.c.TickTime}
	mode := modeName(n, false)
	s.logf("== %s: RSS per member after %d znodes of %d bytes (fresh ensembles; load average %s)", mode, s.c.RSSZnodes, size, loadAvg())
	a, z, err := s.pair(spec)
	if err != nil {
		return err
	}
	defer a.Stop()
	defer z.Stop()
	var errs []error
	for _, t := range []Target{a, z} {
		name := s.c.Apache.Name()
		if t == z {
			name = s.c.Zkit.Name()
		}
		res, err := Run(Config{
			Hosts: t.Hosts(), Clients: 16, Inflight: 16, Op: OpCreate, Size: size,
			Count: int64(s.c.RSSZnodes), Seed: 1, ServerPIDs: t.PIDs(), Label: name,
			Root: "/zkit-bench-rss",
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("loading %s: %w", name, err))
			continue
		}
		time.Sleep(time.Second) // let background work (snapshots, GC) settle
		after, err := SampleProcs(t.PIDs())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var largest int64
		var each []string
		for _, pid := range t.PIDs() {
			largest = max(largest, after.PerPID[pid])
			each = append(each, fmtBytes(after.PerPID[pid]))
		}
		note := fmt.Sprintf("%d znodes x %d B", res.Ops, size)
		s.record(Record{Phase: "ensemble-rss", Mode: mode, Server: name, Result: res, Value: float64(largest), Note: note})
		s.logf("%s: RSS per member after %s: %s (load %.0f creates/s)", name, note, strings.Join(each, ", "), res.OpsPerSec)
	}
	return errors.Join(errs...)
}

// ensembleProfiles profiles every member of a zkit ensemble (run as `zkit
// serve zoo.cfg`, which has --cpuprofile and --memprofile) under setData
// and getData at EnsembleClients, forceSync=yes; `go tool pprof -top` is
// saved per member and merged over the members.
func (s *suite) ensembleProfiles() error {
	n := s.c.EnsembleMembers
	dir := filepath.Join(s.c.OutDir, "profiles")
	var errs []error
	for _, op := range []string{OpSet, OpGet} {
		if !contains(s.c.Ops, op) {
			continue
		}
		base := fmt.Sprintf("%dm-%s", n, op)
		cpu := filepath.Join(dir, base+".m"+MemberToken+".cpu.pprof")
		heap := filepath.Join(dir, base+".m"+MemberToken+".heap.pprof")
		spec := Spec{Members: n, ForceSync: true, TickTime: s.c.TickTime,
			ServeArgs: []string{"--cpuprofile", cpu, "--memprofile", heap}}
		z, err := s.c.Zkit.Launch(spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		leader := -1
		if fo, ok := z.(Failover); ok {
			leader = fo.Leader()
		}
		cfg := s.cfg(op, s.c.EnsembleClients, z, fmt.Sprintf("zkit %d members (profiled)", n))
		cfg.Duration = s.c.ProfileDuration
		cfg.Cleanup = false
		res, err := Run(cfg)
		if stopErr := z.Stop(); stopErr != nil {
			errs = append(errs, stopErr)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("profiling %s on %d members: %w", op, n, err))
			continue
		}
		note := fmt.Sprintf("%s (leader: member %d)", cpu, leader+1)
		s.record(Record{Phase: "profile", Mode: modeName(n, true), Server: s.c.Zkit.Name(), Result: res, Note: note})
		s.logf("profiled zkit %d members under %s x%d: %.0f ops/s, %.1fµs CPU/op (per member %s; leader member %d) -> %s",
			n, op, s.c.EnsembleClients, res.OpsPerSec, res.ServerCPUPerOp, fmtPerMember(res), leader+1, cpu)
		var cpus []string
		for i := 1; i <= n; i++ {
			m := fmt.Sprintf("%s.m%d", base, i)
			c := filepath.Join(dir, m+".cpu.pprof")
			cpus = append(cpus, c)
			pprofTop(c, "", filepath.Join(dir, m+".cpu.top.txt"))
			pprofTop(filepath.Join(dir, m+".heap.pprof"), "-sample_index=alloc_space", filepath.Join(dir, m+".alloc_space.top.txt"))
		}
		pprofTopAll(cpus, "", filepath.Join(dir, base+".all.cpu.top.txt"))
		pprofTopAll(cpus, "-cum", filepath.Join(dir, base+".all.cpu.cum.txt"))
	}
	return errors.Join(errs...)
}

// loadAvg returns the 1, 5 and 15 minute load averages of the machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
