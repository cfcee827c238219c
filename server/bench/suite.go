package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	flag "github.com/spf13/pflag"

	"zkit/server/internal/zkclient"
	"zkit/server/proto"
)

// SuiteConfig is `zkit bench suite`: zkit and Apache ZooKeeper measured on
// the same workloads in the same run, alternating, as ratios.
type SuiteConfig struct {
	Rounds       int           // measured rounds per workload (the ratio is the median over rounds)
	Duration     time.Duration // measured window of one run
	Warmup       time.Duration // unmeasured load before each run's window
	ServerWarmup time.Duration // per server and workload, once after start (JIT, caches)
	Clients      []int
	Ops          []string
	Inflight     int
	Size         int
	ReadRatio    float64
	Znodes       int
	ForceSync    []bool // one pass per value; reads are measured in the first only
	TickTime     int

	RSSZnodes int   // znodes loaded for the RSS rows (0 = skip)
	RSSSizes  []int // data bytes per znode, one RSS row each

	Profile         bool          // CPU and heap profiles of zkit under each workload
	ProfileDuration time.Duration // window of a profiled run
	ProfileClients  int

	// RecoveryZnodes, when positive, loads that many znodes of RecoverySize
	// bytes and times a restart on the same dataDir (targets that are
	// Restarters; the others' rows say why not).
	RecoveryZnodes int
	RecoverySize   int

	ClientCheck bool // 1 vs 2 load-generator processes
	// Ensemble runs the ensemble rows: start to first write and leader
	// failover (EnsembleRounds fresh ensembles per server), RSS per member
	// after the RSSZnodes load and, when Members lacks EnsembleMembers, a
	// reduced set of ensemble workloads (setData and getData at
	// EnsembleClients, forceSync=yes).
	Ensemble        bool
	EnsembleMembers int // default 3
	EnsembleRounds  int // start/failover rounds (default 5)
	EnsembleClients int // clients of the ensemble workloads (default 64)
	// ProfileEnsemble adds CPU and heap profiles of every member of a zkit
	// ensemble under setData and getData (when Profile is set).
	ProfileEnsemble bool
	// Members lists the ensemble sizes the whole workload grid runs at (1 =
	// standalone); clients are spread over the members.
	Members []int

	OutDir   string
	Apache   Launcher
	Zkit     Launcher
	BenchCmd []string // the load generator as a command (for the 2-process check); default: this executable + "bench"
	Log      io.Writer
}

// Record is one run of the suite, as written to results.jsonl.
type Record struct {
	Phase  string `json:"phase"` // "grid", "rss", "profile", "client-check", "ensemble"
	Mode   string `json:"mode"`  // e.g. "standalone forceSync=yes"
	Round  int    `json:"round,omitempty"`
	Server string `json:"server"`
	*Result
	// Value is the figure of a non-load measurement (seconds or bytes).
	Value float64 `json:"value,omitempty"`
	Note  string  `json:"note,omitempty"`
}

func suiteMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench suite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c SuiteConfig
	var clients, ops, fsync, rssSizes, zkitCmd, jvm, members string
	var zooCfg bool
	fs.IntVar(&c.Rounds, "rounds", 3, "measured rounds; each ratio is the median of the per-round ratios")
	fs.DurationVar(&c.Duration, "duration", 3*time.Second, "measured window of each run")
	fs.DurationVar(&c.Warmup, "warmup", 300*time.Millisecond, "unmeasured load before each run's window")
	fs.DurationVar(&c.ServerWarmup, "server-warmup", time.Second, "per server and workload, once after the servers start")
	fs.StringVar(&clients, "clients", "1,16,64", "client counts")
	fs.StringVar(&members, "members", "1,3", "ensemble sizes of the whole workload grid (1 = standalone; clients spread over the members)")
	fs.StringVar(&ops, "ops", strings.Join(Ops, ","), "workloads")
	fs.IntVar(&c.Inflight, "inflight", 1, "requests in flight per client")
	fs.IntVar(&c.Size, "size", 1024, "data bytes per create and setData")
	fs.Float64Var(&c.ReadRatio, "read-ratio", 0.9, "reads in the mixed workload")
	fs.IntVar(&c.Znodes, "znodes", 1000, "znodes for set, get and mixed")
	fs.StringVar(&fsync, "force-sync", "yes,no", "forceSync values, one pass each (getData only in the first)")
	fs.IntVar(&c.TickTime, "tick-time", 2000, "zoo.cfg tickTime (ms)")
	fs.IntVar(&c.RSSZnodes, "rss-znodes", 100000, "znodes loaded for the RSS rows (0 skips them)")
	fs.StringVar(&rssSizes, "rss-sizes", "128,1024", "data bytes per znode of the RSS rows")
	fs.IntVar(&c.RecoveryZnodes, "recovery-znodes", 1000000, "znodes loaded before the recovery (restart) measurement (0 skips it)")
	fs.IntVar(&c.RecoverySize, "recovery-size", 128, "data bytes per znode of the recovery load")
	fs.BoolVar(&c.Profile, "profile", true, "save CPU and heap profiles of zkit under each workload")
	fs.DurationVar(&c.ProfileDuration, "profile-duration", 5*time.Second, "window of each profiled run")
	fs.IntVar(&c.ProfileClients, "profile-clients", 64, "clients of each profiled run")
	fs.BoolVar(&c.ClientCheck, "client-check", true, "show the load generator is not the bottleneck: 1 vs 2 processes")
	fs.BoolVar(&c.Ensemble, "ensemble", true, "ensemble rows: start to first write, leader failover, setData/getData at --ensemble-clients, RSS per member")
	fs.IntVar(&c.EnsembleMembers, "ensemble-members", 3, "members of the ensemble rows")
	fs.IntVar(&c.EnsembleRounds, "ensemble-rounds", 5, "fresh ensembles per server for start to first write and leader failover")
	fs.IntVar(&c.EnsembleClients, "ensemble-clients", 64, "clients of the ensemble workloads")
	fs.BoolVar(&c.ProfileEnsemble, "profile-ensemble", true, "with --profile, also profile every member of a zkit ensemble (zkit serve zoo.cfg) under set and get")
	fs.BoolVar(&zooCfg, "zoo-cfg-ensemble", false, "run zkit's ensemble members as `zkit serve zoo.cfg` (ports picked free) instead of `zkit member` (port 0)")
	fs.StringVar(&c.OutDir, "out", "", "results directory (default bench-results/<time>)")
	fs.StringVar(&zkitCmd, "zkit", "", "zkit binary to serve with (default: this executable)")
	fs.StringVar(&jvm, "jvm-args", "", "extra JVM flags for Apache ZooKeeper, space-separated (default: none, as Debian's package)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: zkit bench suite [flags]\n\nRuns Apache ZooKeeper and zkit with equivalent zoo.cfg, alternating, and prints\nworkload | Apache ZK | zkit | ratio tables (see BENCHMARKS.md).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var err error
	if c.Clients, err = parseInts(clients); err != nil {
		fmt.Fprintln(stderr, "--clients:", err)
		return 2
	}
	if c.Members, err = parseInts(members); err != nil {
		fmt.Fprintln(stderr, "--members:", err)
		return 2
	}
	if c.RSSSizes, err = parseInts(rssSizes); err != nil {
		fmt.Fprintln(stderr, "--rss-sizes:", err)
		return 2
	}
	c.Ops = splitList(ops)
	for _, v := range splitList(fsync) {
		switch v {
		case "yes":
			c.ForceSync = append(c.ForceSync, true)
		case "no":
			c.ForceSync = append(c.ForceSync, false)
		default:
			fmt.Fprintf(stderr, "--force-sync: %q is neither yes nor no\n", v)
			return 2
		}
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	serve := []string{exe, "serve"}
	if zkitCmd != "" {
		serve = []string{zkitCmd, "serve"}
	}
	if c.OutDir == "" {
		c.OutDir = filepath.Join("bench-results", time.Now().Format("20060102-150405"))
	}
	c.Apache = ApacheLauncher{JVMArgs: strings.Fields(jvm)}
	c.Zkit = ZkitLauncher{Command: serve, ZooCfg: zooCfg}
	c.BenchCmd = []string{exe, "bench"}
	c.Log = stderr
	report, err := RunSuite(c)
	if report != "" {
		fmt.Fprint(stdout, report)
	}
	if err != nil {
		fmt.Fprintln(stderr, "zkit bench suite:", err)
		return 1
	}
	return 0
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", p)
		}
		out = append(out, n)
	}
	return out, nil
}

// suite is one RunSuite in progress.
type suite struct {
	c       SuiteConfig
	out     *os.File // results.jsonl
	records []Record
	start   time.Time
}

func (s *suite) logf(format string, a ...any) {
	fmt.Fprintf(s.c.Log, "[%6.1fs] %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, a...))
}

func (s *suite) record(r Record) {
	s.records = append(s.records, r)
	b, _ := json.Marshal(r)
	fmt.Fprintf(s.out, "%s\n", b)
}

func modeName(members int, fsync bool) string {
	shape := "standalone"
	if members > 1 {
		shape = fmt.Sprintf("%d members", members)
	}
	return fmt.Sprintf("%s forceSync=%s", shape, yesNo(fsync))
}

// RunSuite runs the whole comparison and returns the report (markdown). The
// results directory gets results.jsonl (every run), report.md, machine.txt,
// the zoo.cfg of each server, and profiles/.
func RunSuite(c SuiteConfig) (string, error) {
	if c.Rounds <= 0 {
		c.Rounds = 3
	}
	if len(c.Members) == 0 {
		c.Members = []int{1}
	}
	if c.EnsembleMembers <= 1 {
		c.EnsembleMembers = 3
	}
	if c.EnsembleRounds <= 0 {
		c.EnsembleRounds = 5
	}
	if c.EnsembleClients <= 0 {
		c.EnsembleClients = 64
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	// Absolute, since zkit serve runs in its own directory and writes its
	// profiles here.
	out, err := filepath.Abs(c.OutDir)
	if err != nil {
		return "", err
	}
	c.OutDir = out
	if err := os.MkdirAll(filepath.Join(c.OutDir, "profiles"), 0o755); err != nil {
		return "", err
	}
	f, err := os.Create(filepath.Join(c.OutDir, "results.jsonl"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := &suite{c: c, out: f, start: time.Now()}
	machine := MachineInfo()
	machine += "load average at the start: " + loadAvg() + "\n"
	_ = os.WriteFile(filepath.Join(c.OutDir, "machine.txt"), []byte(machine), 0o644)
	s.logf("results in %s", c.OutDir)

	var errs []error
	for _, members := range c.Members {
		for i, fsync := range c.ForceSync {
			ops := c.Ops
			if i > 0 {
				ops = without(ops, OpGet) // reads never touch the disk
			}
			check := members == c.Members[0] && i == 0 && c.ClientCheck
			if err := s.grid(members, fsync, ops, check); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if c.RSSZnodes > 0 {
		for _, size := range c.RSSSizes {
			if err := s.rss(size); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if c.RecoveryZnodes > 0 {
		if err := s.recovery(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Ensemble {
		if err := s.ensemble(); err != nil {
			errs = append(errs, err)
		}
		// The grid at EnsembleMembers has the ensemble workloads already.
		if !slices.Contains(c.Members, c.EnsembleMembers) {
			if err := s.ensembleWorkloads(); err != nil {
				errs = append(errs, err)
			}
		}
		if c.RSSZnodes > 0 && len(c.RSSSizes) > 0 {
			if err := s.ensembleRSS(c.RSSSizes[0]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if c.Profile {
		if err := s.profiles(); err != nil {
			errs = append(errs, err)
		}
		if c.ProfileEnsemble {
			if err := s.ensembleProfiles(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	machine += "load average at the end: " + loadAvg() + "\n"
	_ = os.WriteFile(filepath.Join(c.OutDir, "machine.txt"), []byte(machine), 0o644)
	report := Report(s.records, c, machine)
	_ = os.WriteFile(filepath.Join(c.OutDir, "report.md"), []byte(report), 0o644)
	s.logf("done; report in %s", filepath.Join(c.OutDir, "report.md"))
	return report, errors.Join(errs...)
}

func without(list []string, drop string) []string {
	var out []string
	for _, v := range list {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}

// pair starts both servers for a mode (zkit first: it may not run the mode
// yet, and is quick to start).
func (s *suite) pair(spec Spec) (a, z Target, err error) {
	t0 := time.Now()
	z, err = s.c.Zkit.Launch(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.c.Zkit.Name(), err)
	}
	s.logf("%s serving on %v (pid %v) after %v", s.c.Zkit.Name(), z.Hosts(), z.PIDs(), time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	a, err = s.c.Apache.Launch(spec)
	if err != nil {
		z.Stop()
		return nil, nil, fmt.Errorf("%s: %w", s.c.Apache.Name(), err)
	}
	s.logf("%s serving on %v (pid %v) after %v", s.c.Apache.Name(), a.Hosts(), a.PIDs(), time.Since(t0).Round(time.Millisecond))
	return a, z, nil
}

func (s *suite) saveConfigs(tag string, a, z Target, spec Spec) {
	if ac, ok := a.(interface{ ConfigFile() string }); ok {
		if b, err := os.ReadFile(ac.ConfigFile()); err == nil {
			_ = os.WriteFile(filepath.Join(s.c.OutDir, "zoo-apache-"+tag+".cfg"), b, 0o644)
		}
	}
	zc := ZkitConfig(spec, "<tmp>/data")
	if d, ok := z.(interface{ Describe() string }); ok {
		// An ensemble: member 1's zoo.cfg, or the `zkit member` commands.
		zc = d.Describe()
	}
	_ = os.WriteFile(filepath.Join(s.c.OutDir, "zoo-zkit-"+tag+".cfg"), []byte(zc), 0o644)
}

func (s *suite) cfg(op string, clients int, t Target, label string) Config {
	return Config{
		Hosts: t.Hosts(), Clients: clients, Inflight: s.c.Inflight, Op: op,
		ReadRatio: s.c.ReadRatio, Size: s.c.Size, Znodes: s.c.Znodes,
		Duration: s.c.Duration, Warmup: s.c.Warmup, Seed: 1, Cleanup: true,
		ServerPIDs: t.PIDs(), Label: label,
	}
}

// grid runs every workload at every client count on both servers, rounds
// times, alternating which server goes first.
func (s *suite) grid(members int, fsync bool, ops []string, clientCheck bool) error {
	spec := Spec{Members: members, ForceSync: fsync, TickTime: s.c.TickTime}
	mode := modeName(members, fsync)
	s.logf("== %s: starting both servers (load average %s)", mode, loadAvg())
	// In an ensemble, client i connects to member i mod n, and CPU and RSS
	// are summed over the member processes.
	a, z, err := s.pair(spec)
	if err != nil {
		return err
	}
	defer a.Stop()
	defer z.Stop()
	tag := "forcesync-" + yesNo(fsync)
	if members > 1 {
		tag = fmt.Sprintf("%dmembers-%s", members, tag)
	}
	s.saveConfigs(tag, a, z, spec)
	names := map[Target]string{a: s.c.Apache.Name(), z: s.c.Zkit.Name()}
	if s.c.ServerWarmup > 0 {
		for _, t := range []Target{a, z} {
			for _, op := range ops {
				cfg := s.cfg(op, 16, t, "warmup")
				cfg.Duration, cfg.Warmup = s.c.ServerWarmup, 0
				if _, err := Run(cfg); err != nil {
					return fmt.Errorf("%s warmup %s on %s: %w", mode, op, names[t], err)
				}
			}
		}
		s.logf("warmed up (%v per server and workload)", s.c.ServerWarmup)
	}
	// In an ensemble, getData at the most clients also runs with every
	// client on one follower, in the same rounds: reads scale with members
	// when spreading the clients raises the total.
	short := yesNo(fsync)
	if members > 1 {
		short = fmt.Sprintf("%dm %s", members, short)
	}
	var follower map[Target]string
	maxClients := s.c.Clients[len(s.c.Clients)-1]
	if members > 1 && contains(ops, OpGet) {
		if follower, err = s.followers(a, z, names); err != nil {
			return err
		}
	}
	var errs []error
	for round := 1; round <= s.c.Rounds; round++ {
		order := []Target{a, z}
		if round%2 == 0 {
			order = []Target{z, a}
		}
		for _, op := range ops {
			for _, n := range s.c.Clients {
				one := []bool{false}
				if follower != nil && op == OpGet && n == maxClients {
					one = append(one, true)
				}
				for _, oneFollower := range one {
					for _, t := range order {
						cfg, m, where := s.cfg(op, n, t, names[t]), mode, ""
						if oneFollower {
							cfg.Hosts, m, where = []string{follower[t]}, oneFollowerMode(members), " on 1 follower"
						}
						res, err := Run(cfg)
						if err != nil {
							errs = append(errs, fmt.Errorf("%s round %d %s x%d on %s: %w", m, round, op, n, names[t], err))
							if res == nil {
								continue
							}
						}
						s.record(Record{Phase: "grid", Mode: m, Round: round, Server: names[t], Result: res})
						perMember := ""
						if members > 1 {
							perMember = " (per member " + fmtPerMember(res) + ")"
						}
						s.logf("%s r%d %-6s x%-3d %-9s %8.0f ops/s  cpu %6.1fµs/op%s  p99 %8s  rss %s  err %d%s",
							short, round, op, n, names[t], res.OpsPerSec, res.ServerCPUPerOp, perMember,
							fmtMicros(res.P99), fmtBytes(res.ServerRSS), res.Errors, where)
					}
				}
			}
		}
	}
	if clientCheck {
		if err := s.clientCheck(mode, a, z, names); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// clientCheck runs the heaviest read load from one load-generator process
// and then split over two, on each server, twice: if the client limited the
// figures, two processes would give a higher total.
func (s *suite) clientCheck(mode string, a, z Target, names map[Target]string) error {
	if len(s.c.BenchCmd) == 0 {
		return nil
	}
	n := s.c.Clients[len(s.c.Clients)-1]
	if n < 2 {
		n = 2
	}
	var errs []error
	for _, t := range []Target{a, z} {
		// Alternate 1 and 2 processes, twice: throughput on a shared
		// machine swings by tens of percent from one run to the next.
		for rep := 1; rep <= 2; rep++ {
			for _, procs := range []int{1, 2} {
				results, err := s.benchProcs(procs, n, t)
				if err != nil {
					errs = append(errs, fmt.Errorf("client check on %s with %d processes: %w", names[t], procs, err))
					continue
				}
				var total float64
				for _, r := range results {
					total += r.OpsPerSec
					s.record(Record{Phase: "client-check", Mode: mode, Round: rep, Server: names[t], Result: r, Note: strconv.Itoa(procs) + " processes"})
				}
				s.logf("client check %s: %d process(es) x %d clients: %.0f ops/s", names[t], procs, n/procs, total)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *suite) benchProcs(procs, clients int, t Target) ([]*Result, error) {
	var wg sync.WaitGroup
	results := make([]*Result, procs)
	errs := make([]error, procs)
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append(append([]string{}, s.c.BenchCmd[1:]...),
				"--json", "--hosts", strings.Join(t.Hosts(), ","), "--op", OpGet,
				"--clients", strconv.Itoa(clients/procs), "--inflight", strconv.Itoa(s.c.Inflight),
				"--size", strconv.Itoa(s.c.Size), "--znodes", strconv.Itoa(s.c.Znodes),
				"--duration", s.c.Duration.String(), "--warmup", s.c.Warmup.String(),
				"--seed", strconv.Itoa(p+1), "--label", fmt.Sprintf("process %d of %d", p+1, procs))
			cmd := exec.Command(s.c.BenchCmd[0], args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				errs[p] = fmt.Errorf("%v: %s", err, stderr.String())
				return
			}
			var r Result
			if err := json.Unmarshal(firstLine(out), &r); err != nil {
				errs[p] = fmt.Errorf("bad output %q: %w", out, err)
				return
			}
			results[p] = &r
		}()
	}
	wg.Wait()
	return results, errors.Join(errs...)
}

func firstLine(b []byte) []byte {
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if sc.Scan() {
		return sc.Bytes()
	}
	return nil
}

// rss loads RSSZnodes znodes of size bytes into fresh servers and records
// their resident memory before and after.
func (s *suite) rss(size int) error {
	spec := Spec{Members: 1, ForceSync: false, TickTime: s.c.TickTime}
	mode := modeName(1, false)
	s.logf("== RSS after %d znodes of %d bytes (fresh servers)", s.c.RSSZnodes, size)
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
		idle, err := SampleProcs(t.PIDs())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.record(Record{Phase: "rss", Mode: mode, Server: name, Value: float64(idle.RSS), Note: "idle"})
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
		note := fmt.Sprintf("%d znodes x %d B", res.Ops, size)
		s.record(Record{Phase: "rss", Mode: mode, Server: name, Result: res, Value: float64(after.RSS), Note: note})
		s.logf("%s: RSS idle %s, after %s: %s (load %.0f creates/s)", name, fmtBytes(idle.RSS), note, fmtBytes(after.RSS), res.OpsPerSec)
	}
	return errors.Join(errs...)
}

// recovery loads RecoveryZnodes znodes into a fresh server, kills it (-9),
// restarts it on its dataDir and times exec to serving; the znode count (mntr) after the
// restart must hold the load.
func (s *suite) recovery() error {
	spec := Spec{Members: 1, ForceSync: false, TickTime: s.c.TickTime}
	mode := modeName(1, false)
	note := fmt.Sprintf("recovery of %d znodes x %d B", s.c.RecoveryZnodes, s.c.RecoverySize)
	s.logf("== %s", note)
	var errs []error
	for _, l := range []Launcher{s.c.Apache, s.c.Zkit} {
		t, err := l.Launch(spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", l.Name(), err))
			continue
		}
		rs, ok := t.(Restarter)
		if !ok {
			t.Stop()
			why := "not measured: this launcher cannot restart a server on its dataDir"
			s.record(Record{Phase: "recovery", Mode: mode, Server: l.Name(), Note: why})
			s.logf("%s: %s", l.Name(), why)
			continue
		}
		d, err := s.loadAndRestart(t, rs, l.Name())
		t.Stop()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s recovery: %w", l.Name(), err))
			continue
		}
		s.record(Record{Phase: "recovery", Mode: mode, Server: l.Name(), Value: d.Seconds(), Note: note})
		s.logf("%s: restart with %d znodes: serving after %v", l.Name(), s.c.RecoveryZnodes, d.Round(time.Millisecond))
	}
	return errors.Join(errs...)
}

func (s *suite) loadAndRestart(t Target, rs Restarter, name string) (time.Duration, error) {
	res, err := Run(Config{
		Hosts: t.Hosts(), Clients: 16, Inflight: 16, Op: OpCreate, Size: s.c.RecoverySize,
		Count: int64(s.c.RecoveryZnodes), Seed: 1, Root: "/zkit-bench-recovery", Label: name,
	})
	if err != nil {
		return 0, fmt.Errorf("loading: %w", err)
	}
	s.logf("%s: loaded %d znodes at %.0f creates/s", name, res.Ops, res.OpsPerSec)
	d, err := rs.Restart()
	if err != nil {
		return 0, err
	}
	n, err := znodeCount(t.Hosts()[0])
	if err != nil {
		return 0, fmt.Errorf("after the restart: %w", err)
	}
	if n < int64(s.c.RecoveryZnodes) {
		return 0, fmt.Errorf("after the restart the server has %d znodes, fewer than the %d loaded", n, s.c.RecoveryZnodes)
	}
	return d, nil
}

// znodeCount asks mntr for zk_znode_count.
func znodeCount(addr string) (int64, error) {
	out, err := zkclient.FourLetter(addr, "mntr")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "zk_znode_count\t"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("mntr has no zk_znode_count: %q", out)
}

// firstWrite retries a create on each host until one succeeds.
func firstWrite(hosts []string, path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for i := 0; time.Now().Before(deadline); i++ {
		last = tryCreate(hosts[i%len(hosts)], path)
		if last == nil {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("no write within %v: %w", timeout, last)
}

func tryCreate(host, path string) error {
	sess, err := dial(host, 10*time.Second)
	if err != nil {
		return err
	}
	defer func() { _ = sess.close(2) }()
	_ = sess.nc.SetDeadline(time.Now().Add(2 * time.Second))
	var b reqBuf
	if _, err := sess.nc.Write(b.create(1, path, nil)); err != nil {
		return err
	}
	_, code, err := sess.readReply()
	if err != nil {
		return err
	}
	if code != proto.ErrOK && code != proto.ErrNodeExists { // either shows the write path works
		return code
	}
	return nil
}

// failover kills the leader and measures until a write succeeds through a
// surviving member.
func failover(t Target, fo Failover) (time.Duration, error) {
	leader := fo.Leader()
	if leader < 0 {
		return 0, errors.New("no leader")
	}
	var rest []string
	for i, h := range t.Hosts() {
		if i != leader {
			rest = append(rest, h)
		}
	}
	t0 := time.Now()
	if err := fo.Kill(leader); err != nil {
		return 0, err
	}
	if err := firstWrite(rest, "/zkit-bench-failover", 60*time.Second); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// profiles runs zkit with --cpuprofile and --memprofile under each
// workload and, when the go tool is at hand, saves `go tool pprof -top`.
func (s *suite) profiles() error {
	dir := filepath.Join(s.c.OutDir, "profiles")
	var errs []error
	for _, op := range s.c.Ops {
		cpu := filepath.Join(dir, op+".cpu.pprof")
		heap := filepath.Join(dir, op+".heap.pprof")
		spec := Spec{Members: 1, ForceSync: true, TickTime: s.c.TickTime,
			ServeArgs: []string{"--cpuprofile", cpu, "--memprofile", heap}}
		z, err := s.c.Zkit.Launch(spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cfg := s.cfg(op, s.c.ProfileClients, z, "zkit (profiled)")
		cfg.Duration = s.c.ProfileDuration
		cfg.Cleanup = false // the server is thrown away; keep deletes out of the profile
		res, err := Run(cfg)
		if stopErr := z.Stop(); stopErr != nil {
			errs = append(errs, stopErr)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("profiling %s: %w", op, err))
			continue
		}
		s.record(Record{Phase: "profile", Mode: modeName(1, true), Server: s.c.Zkit.Name(), Result: res, Note: cpu})
		s.logf("profiled zkit under %s x%d: %.0f ops/s, %.1fµs CPU/op -> %s", op, s.c.ProfileClients, res.OpsPerSec, res.ServerCPUPerOp, cpu)
		pprofTop(cpu, "", filepath.Join(dir, op+".cpu.top.txt"))
		pprofTop(cpu, "-cum", filepath.Join(dir, op+".cpu.cum.txt"))
		pprofTop(heap, "-sample_index=alloc_space", filepath.Join(dir, op+".alloc_space.top.txt"))
		pprofTop(heap, "-sample_index=inuse_space", filepath.Join(dir, op+".inuse_space.top.txt"))
	}
	return errors.Join(errs...)
}

// pprofTop writes `go tool pprof -top` of a profile, if go is installed.
func pprofTop(profile, extra, out string) { pprofTopAll([]string{profile}, extra, out) }

// pprofTopAll writes `go tool pprof -top` of profiles merged, if go is
// installed.
func pprofTopAll(profiles []string, extra, out string) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		if p := filepath.Join(runtime.GOROOT(), "bin", "go"); isFile(p) {
			goBin = p
		} else {
			return
		}
	}
	args := []string{"tool", "pprof", "-top", "-nodecount=40"}
	if extra != "" {
		args = append(args, extra)
	}
	args = append(args, profiles...)
	b, err := exec.Command(goBin, args...).CombinedOutput()
	if err == nil {
		_ = os.WriteFile(out, b, 0o644)
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// MachineInfo describes the machine: CPUs, CPU model, kernel, memory, Go
// and Java versions.
func MachineInfo() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nproc: %d\n", runtime.NumCPU())
	if ci, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(ci), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				fmt.Fprintf(&b, "cpu: %s\n", strings.TrimSpace(v))
				break
			}
		}
	}
	if v, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		fmt.Fprintf(&b, "kernel: %s\n", strings.TrimSpace(string(v)))
	}
	if mi, err := os.ReadFile("/proc/meminfo"); err == nil {
		l, _, _ := strings.Cut(string(mi), "\n")
		fmt.Fprintf(&b, "memory: %s\n", strings.Join(strings.Fields(strings.TrimPrefix(l, "MemTotal:")), " "))
	}
	// The disk every server's dataDir is on (the temp directory).
	if out, err := exec.Command("df", "-PT", os.TempDir()).Output(); err == nil {
		if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) == 2 {
			if f := strings.Fields(lines[1]); len(f) >= 7 {
				fmt.Fprintf(&b, "disk (dataDirs under %s): %s, %s, mounted on %s\n", os.TempDir(), f[0], f[1], f[6])
			}
		}
	}
	fmt.Fprintf(&b, "go (load generator and zkit): %s\n", runtime.Version())
	if out, err := exec.Command("java", "-version").CombinedOutput(); err == nil {
		l, _, _ := strings.Cut(string(out), "\n")
		fmt.Fprintf(&b, "java: %s\n", strings.TrimSpace(l))
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "zookeeper").Output(); err == nil {
		fmt.Fprintf(&b, "apache zookeeper (debian package): %s\n", strings.TrimSpace(string(out)))
	}
	return b.String()
}
