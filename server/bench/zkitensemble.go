package bench

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"zkit/server/internal/oracle"
)

// The ensemble settings the oracle package gives Apache ZooKeeper's
// members (oracle.LaunchEnsemble writes initLimit=10, syncLimit=5); zkit's
// members get the same.
const (
	ensembleInitLimit = 10
	ensembleSyncLimit = 5
	// ensembleStartTimeout bounds the wait for every member to serve, as
	// the oracle's default start timeout does for Apache.
	ensembleStartTimeout = 60 * time.Second
	// censusEvery is how often a starting ensemble is polled with srvr
	// (the oracle polls Apache's members every 20 ms too).
	censusEvery = 20 * time.Millisecond
	// configAttempts bounds the retries of a zoo.cfg ensemble whose picked
	// quorum or election port was taken in the meantime.
	configAttempts = 5
)

// MemberToken in Spec.ServeArgs is replaced by the member's id, so that
// each member of a zoo.cfg ensemble writes its own profile
// ("--cpuprofile", "prof/set.m{member}.cpu.pprof").
const MemberToken = "{member}"

// zkitEnsemble is an ensemble of zkit processes, one per member: by
// default `zkit member` processes that bind port 0 and find each other
// through a rendezvous directory; with ZkitLauncher.ZooCfg (or when the
// suite profiles, since `zkit member` has no profiling flags) `zkit serve
// zoo.cfg` processes with server.N lines and myid, like Apache's.
type zkitEnsemble struct {
	dir     string
	spec    Spec
	members []*zkitProc
	zooCfg  bool
}

// zkitProc is one member process.
type zkitProc struct {
	id      int
	dir     string // member<id>/: data/, zkit.log, ready, zoo.cfg
	args    []string
	addr    string // client address, from the ready file
	logPath string
	ready   string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (l ZkitLauncher) binary() (string, error) {
	if len(l.Command) > 0 {
		return l.Command[0], nil
	}
	return os.Executable()
}

// launchEnsemble starts spec.Members zkit processes and returns once every
// member serves (srvr shows a Mode) and exactly one is the leader — the
// condition oracle.LaunchEnsemble waits for with Apache's members.
func (l ZkitLauncher) launchEnsemble(spec Spec) (*zkitEnsemble, error) {
	bin, err := l.binary()
	if err != nil {
		return nil, err
	}
	zooCfg := l.ZooCfg || len(spec.ServeArgs) > 0
	for attempt := 1; ; attempt++ {
		e, err := l.launchEnsembleOnce(bin, spec, zooCfg)
		if err == nil {
			return e, nil
		}
		if !zooCfg || !errors.Is(err, errPortTaken) || attempt == configAttempts {
			return nil, err
		}
	}
}

var errPortTaken = errors.New("a member could not bind its picked port")

func (l ZkitLauncher) launchEnsembleOnce(bin string, spec Spec, zooCfg bool) (*zkitEnsemble, error) {
	dir, err := os.MkdirTemp(l.TempDir, "zkit-bench-ensemble-")
	if err != nil {
		return nil, err
	}
	e := &zkitEnsemble{dir: dir, spec: spec, zooCfg: zooCfg}
	fail := func(err error) (*zkitEnsemble, error) {
		var b strings.Builder
		for _, m := range e.members {
			fmt.Fprintf(&b, "--- zkit member %d log tail:\n%s\n", m.id, tailOf(m.logPath, 1500))
		}
		e.Stop()
		return nil, fmt.Errorf("%w\n%s", err, b.String())
	}
	n := spec.Members
	var servers []string
	if zooCfg {
		ports, err := freePorts(2 * n)
		if err != nil {
			return fail(err)
		}
		for i := range n {
			servers = append(servers, fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i+1, ports[2*i], ports[2*i+1]))
		}
	}
	rendezvous := filepath.Join(dir, "rendezvous")
	if err := os.MkdirAll(rendezvous, 0o755); err != nil {
		return fail(err)
	}
	var voters []string
	for i := 1; i <= n; i++ {
		voters = append(voters, strconv.Itoa(i))
	}
	for i := 1; i <= n; i++ {
		m := &zkitProc{id: i, dir: filepath.Join(dir, fmt.Sprintf("member%d", i))}
		m.logPath, m.ready = filepath.Join(m.dir, "zkit.log"), filepath.Join(m.dir, "ready")
		data := filepath.Join(m.dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			return fail(err)
		}
		if zooCfg {
			cfg := filepath.Join(m.dir, "zoo.cfg")
			if err := os.WriteFile(cfg, []byte(ZkitEnsembleConfig(spec, data, servers)), 0o644); err != nil {
				return fail(err)
			}
			if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(i)+"\n"), 0o644); err != nil {
				return fail(err)
			}
			m.args = []string{bin, "serve", "--client-addr", "127.0.0.1:0", "--ready-file", m.ready}
			for _, a := range spec.ServeArgs {
				m.args = append(m.args, strings.ReplaceAll(a, MemberToken, strconv.Itoa(i)))
			}
			m.args = append(m.args, cfg)
		} else {
			m.args = []string{bin, "member", "--id", strconv.Itoa(i), "--voters", strings.Join(voters, ","),
				"--rendezvous", rendezvous, "--data-dir", data, "--host", "127.0.0.1",
				"--tick-time", fmt.Sprintf("%dms", spec.tickTime()),
				"--init-limit", strconv.Itoa(ensembleInitLimit), "--sync-limit", strconv.Itoa(ensembleSyncLimit),
				"--ready-file", m.ready}
			if !spec.ForceSync {
				m.args = append(m.args, "--no-sync")
			}
		}
		e.members = append(e.members, m)
	}
	for _, m := range e.members {
		if err := m.start(); err != nil {
			return fail(err)
		}
	}
	if err := e.waitServing(time.Now().Add(ensembleStartTimeout)); err != nil {
		return fail(err)
	}
	return e, nil
}

// ZkitEnsembleConfig is the zoo.cfg of one member of a zkit ensemble run
// from zoo.cfg files: the standalone settings (ZkitConfig), the
// oracle's initLimit and syncLimit, and the server.N lines.
func ZkitEnsembleConfig(spec Spec, dataDir string, servers []string) string {
	return ZkitConfig(spec, dataDir) + fmt.Sprintf("initLimit=%d\nsyncLimit=%d\n", ensembleInitLimit, ensembleSyncLimit) +
		strings.Join(servers, "\n") + "\n"
}

func (s Spec) tickTime() int {
	if s.TickTime > 0 {
		return s.TickTime
	}
	return 2000
}

// freePorts returns n distinct ports of 127.0.0.1 that were free a moment
// ago (quorum and election ports of a zoo.cfg ensemble: zoo.cfg cannot
// say port 0 for them).
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (m *zkitProc) start() error {
	_ = os.Remove(m.ready)
	logf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(m.args[0], m.args[1:]...)
	cmd.Dir = m.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	m.mu.Lock()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()
	return nil
}

func (m *zkitProc) running() bool {
	m.mu.Lock()
	done := m.done
	m.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

func (m *zkitProc) pid() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// stop sends SIGTERM, then SIGKILL after grace (grace 0: SIGKILL at
// once), to this member's PID only, and waits until it is reaped. It
// reports whether SIGKILL was needed after a SIGTERM.
func (m *zkitProc) stop(grace time.Duration) (killed bool) {
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.mu.Unlock()
	if cmd == nil || done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
	}
	if grace <= 0 {
		_ = cmd.Process.Kill()
		<-done
		return false
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return false
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
		return true
	}
}

// waitServing waits for every member's ready file (its client address),
// then polls srvr until every member shows a Mode and exactly one is the
// leader.
func (e *zkitEnsemble) waitServing(deadline time.Time) error {
	for {
		all := true
		for _, m := range e.members {
			if m.addr != "" {
				continue
			}
			if b, err := os.ReadFile(m.ready); err == nil && strings.TrimSpace(string(b)) != "" {
				m.addr = strings.TrimSpace(string(b))
				continue
			}
			if !m.running() {
				if b, _ := os.ReadFile(m.logPath); strings.Contains(strings.ToLower(string(b)), "address already in use") {
					return fmt.Errorf("zkit member %d: %w", m.id, errPortTaken)
				}
				return fmt.Errorf("zkit member %d exited before it was ready", m.id)
			}
			all = false
		}
		if all {
			if leaders, serving := e.census(); serving == len(e.members) && leaders == 1 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the zkit ensemble of %d did not serve within %v", len(e.members), ensembleStartTimeout)
		}
		time.Sleep(censusEvery)
	}
}

// census counts leaders and serving members (srvr shows a Mode), as the
// oracle package does for Apache's.
func (e *zkitEnsemble) census() (leaders, serving int) {
	for _, m := range e.members {
		if !m.running() {
			continue
		}
		out, err := oracle.FourLetterTimeout(m.addr, "srvr", time.Second)
		if err != nil {
			continue
		}
		mode := srvrMode(out)
		if mode == "" {
			continue
		}
		serving++
		if mode == "leader" {
			leaders++
		}
	}
	return leaders, serving
}

func srvrMode(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "Mode: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Hosts lists every member's client address (also those killed: a client
// of the ensemble keeps them in its connect string).
func (e *zkitEnsemble) Hosts() []string {
	var out []string
	for _, m := range e.members {
		out = append(out, m.addr)
	}
	return out
}

// PIDs lists the running members' processes.
func (e *zkitEnsemble) PIDs() []int {
	var out []int
	for _, m := range e.members {
		if m.running() {
			out = append(out, m.pid())
		}
	}
	return out
}

// Leader implements Failover: the member whose srvr says "Mode: leader",
// -1 when none or more than one does.
func (e *zkitEnsemble) Leader() int {
	leader := -1
	for i, m := range e.members {
		if !m.running() {
			continue
		}
		out, err := oracle.FourLetterTimeout(m.addr, "srvr", 5*time.Second)
		if err != nil || srvrMode(out) != "leader" {
			continue
		}
		if leader >= 0 {
			return -1
		}
		leader = i
	}
	return leader
}

// Kill implements Failover: SIGKILL to member i's PID, waiting until it is
// reaped.
func (e *zkitEnsemble) Kill(i int) error {
	if i < 0 || i >= len(e.members) {
		return fmt.Errorf("no member %d", i)
	}
	e.members[i].stop(0)
	return nil
}

// Stop ends every member (SIGTERM, so that profiles are written; SIGKILL
// after 10 s), by PID, and removes the directory.
func (e *zkitEnsemble) Stop() error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, m := range e.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m.stop(10 * time.Second) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("zkit member %d did not stop within 10s of SIGTERM; killed", m.id))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	os.RemoveAll(e.dir)
	return errors.Join(errs...)
}

// Describe returns how the members were started, for the results
// directory: the zoo.cfg of member 1, or the `zkit member` command lines.
func (e *zkitEnsemble) Describe() string {
	if e.zooCfg {
		b, _ := os.ReadFile(filepath.Join(e.members[0].dir, "zoo.cfg"))
		return string(b)
	}
	var b strings.Builder
	for _, m := range e.members {
		b.WriteString("# " + strings.Join(m.args, " ") + "\n")
	}
	return b.String()
}

// ---------------------------------------------------------------- one process

// zkitOneProcess is `zkit ensemble -n N`: every member in one process (in
// memory), on ports it binds itself; the connect string comes from
// --ready-file once a leader is elected and every member is synced.
type zkitOneProcess struct {
	dir   string
	proc  *zkitProc
	hosts []string
}

// LaunchOneProcess runs `zkit ensemble -n spec.Members` with the spec's
// tickTime and the oracle's initLimit and syncLimit, as a user would type
// it (data in memory: the command has no forceSync), and returns once its
// ready file names the members.
func (l ZkitLauncher) LaunchOneProcess(spec Spec) (Target, error) {
	bin, err := l.binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(l.TempDir, "zkit-bench-oneproc-")
	if err != nil {
		return nil, err
	}
	m := &zkitProc{id: 1, dir: dir, logPath: filepath.Join(dir, "zkit.log"), ready: filepath.Join(dir, "ready")}
	m.args = []string{bin, "ensemble", "-n", strconv.Itoa(spec.Members), "--tick-time", fmt.Sprintf("%dms", spec.tickTime()),
		"--init-limit", strconv.Itoa(ensembleInitLimit), "--sync-limit", strconv.Itoa(ensembleSyncLimit), "--ready-file", m.ready}
	t := &zkitOneProcess{dir: dir, proc: m}
	if err := m.start(); err != nil {
		t.Stop()
		return nil, err
	}
	deadline := time.Now().Add(ensembleStartTimeout)
	for {
		if b, err := os.ReadFile(m.ready); err == nil && strings.TrimSpace(string(b)) != "" {
			t.hosts = splitList(strings.TrimSpace(string(b)))
			return t, nil
		}
		if !m.running() || time.Now().After(deadline) {
			tail := tailOf(m.logPath, 1500)
			t.Stop()
			return nil, fmt.Errorf("zkit ensemble -n %d did not write its ready file:\n%s", spec.Members, tail)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (t *zkitOneProcess) Hosts() []string { return t.hosts }
func (t *zkitOneProcess) PIDs() []int     { return []int{t.proc.pid()} }
func (t *zkitOneProcess) Stop() error {
	var err error
	if t.proc.stop(10 * time.Second) {
		err = errors.New("zkit ensemble did not stop within 10s of SIGTERM; killed")
	}
	os.RemoveAll(t.dir)
	return err
}
