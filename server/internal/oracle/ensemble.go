package oracle

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ensembleAttempts bounds how often LaunchEnsemble retries with fresh ports
// after a member failed to bind one of its picked ports.
const ensembleAttempts = 5

// Ensemble is an n-member Apache ZooKeeper ensemble (QuorumPeerMain), one
// child JVM per member. Members are indexed 0..n-1; member i has myid i+1.
type Ensemble struct {
	rt        runtime
	opts      Options
	root      string
	members   []*Member
	startTime time.Duration
	attempts  int
	stopOnce  sync.Once
}

// Member is one ensemble member.
type Member struct {
	e            *Ensemble
	id           int // myid
	n            *node
	clientPort   int
	quorumPort   int
	electionPort int
}

// errBind marks a start that failed because a picked port was taken.
var errBind = errors.New("a member could not bind its port")

// StartEnsemble launches an n-member Apache ZooKeeper ensemble and registers
// its cleanup with tb; it fails tb (never skips) on any error. It returns once
// every member serves and exactly one is the leader.
func StartEnsemble(tb testing.TB, n int, opts Options) *Ensemble {
	tb.Helper()
	e, err := LaunchEnsemble(n, opts)
	if err != nil {
		tb.Fatalf("oracle.StartEnsemble: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			for i := range e.members {
				tb.Logf("Apache ZooKeeper member %d (myid %d, %s) log tail:\n%s", i, i+1, e.Addr(i), e.LogTail(i, 40))
			}
		}
		e.Close()
	})
	return e
}

// LaunchEnsemble starts an n-member ensemble in a fresh temp dir and returns
// once every member serves (srvr shows a Mode) and exactly one is the leader.
// Quorum and election ports cannot be port 0 in Apache, so the ports are
// picked free beforehand; when a member fails to bind one, the whole ensemble
// is stopped and started again with fresh ports (up to 5 attempts). The
// caller must call Close.
func LaunchEnsemble(n int, opts Options) (*Ensemble, error) {
	if n < 1 {
		return nil, fmt.Errorf("oracle: ensemble size %d", n)
	}
	rt, err := resolveRuntime(opts)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		e, err := launchEnsembleOnce(rt, n, opts)
		if err == nil {
			e.attempts = attempt
			return e, nil
		}
		if !errors.Is(err, errBind) || attempt == ensembleAttempts {
			return nil, err
		}
	}
}

func launchEnsembleOnce(rt runtime, n int, opts Options) (*Ensemble, error) {
	root, err := os.MkdirTemp("", "zkit-oracle-ensemble-")
	if err != nil {
		return nil, err
	}
	e := &Ensemble{rt: rt, opts: opts, root: root}
	fail := func(err error) (*Ensemble, error) {
		var b strings.Builder
		for i, m := range e.members {
			fmt.Fprintf(&b, "--- member %d (myid %d) log tail:\n%s", i, m.id, m.n.logTail(30))
		}
		e.Close()
		return nil, fmt.Errorf("%w\n%s", err, b.String())
	}
	ports, err := pickPortsHook(3 * n)
	if err != nil {
		return fail(err)
	}
	var servers []kv
	for i := 0; i < n; i++ {
		m := &Member{e: e, id: i + 1, clientPort: ports[3*i], quorumPort: ports[3*i+1], electionPort: ports[3*i+2]}
		e.members = append(e.members, m)
		servers = append(servers, kv{
			fmt.Sprintf("server.%d", m.id),
			fmt.Sprintf("127.0.0.1:%d:%d;127.0.0.1:%d", m.quorumPort, m.electionPort, m.clientPort),
		})
	}
	for _, m := range e.members {
		nd, err := newNode(rt, opts, "org.apache.zookeeper.server.quorum.QuorumPeerMain",
			filepath.Join(root, fmt.Sprintf("member%d", m.id)))
		if err != nil {
			return fail(err)
		}
		m.n = nd
		cfg, err := mergeConfig([]kv{
			{"tickTime", strconv.Itoa(opts.tickTime())},
			{"initLimit", "10"},
			{"syncLimit", "5"},
			{"dataDir", nd.dataDir()},
			{"clientPort", strconv.Itoa(m.clientPort)},
			{"clientPortAddress", "127.0.0.1"},
			{"maxClientCnxns", "0"},
			{"admin.enableServer", "false"},
			{"4lw.commands.whitelist", "*"},
		}, opts.Config)
		if err != nil {
			return fail(err)
		}
		cfg = append(cfg, servers...)
		if err := writeConfig(nd.cfgPath, cfg); err != nil {
			return fail(err)
		}
		if err := os.WriteFile(filepath.Join(nd.dataDir(), "myid"), []byte(strconv.Itoa(m.id)+"\n"), 0o644); err != nil {
			return fail(err)
		}
	}
	t0 := time.Now()
	for _, m := range e.members {
		if _, err := m.n.start(); err != nil {
			return fail(err)
		}
	}
	deadline := t0.Add(opts.startTimeout())
	for {
		for _, m := range e.members {
			if err := m.failure(); err != nil {
				return fail(err)
			}
		}
		if leaders, serving := e.census(); serving == n && leaders == 1 {
			e.startTime = time.Since(t0)
			return e, nil
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("oracle: ensemble of %d did not serve within %v", n, opts.startTimeout()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// census counts leaders and serving members (srvr shows a Mode).
func (e *Ensemble) census() (leaders, serving int) {
	for _, m := range e.members {
		if !m.Running() {
			continue
		}
		mode, err := pollMode(m.Addr())
		if err != nil || mode == "" {
			continue
		}
		serving++
		if mode == "leader" {
			leaders++
		}
	}
	return leaders, serving
}

// pickPortsHook lets a test hand out a taken port.
var pickPortsHook = pickPorts

// pickPorts returns n distinct free ports on 127.0.0.1 (bound to port 0 and
// closed again). Only for ports Apache cannot take as 0: see LaunchEnsemble.
func pickPorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// failure reports a member that exited or failed to bind a port.
func (m *Member) failure() error {
	p := m.n.current()
	if p == nil {
		return nil
	}
	logText, _ := os.ReadFile(m.n.logPath)
	con, _ := os.ReadFile(m.n.conPath)
	bind := strings.Contains(string(logText), "Address already in use") ||
		strings.Contains(string(con), "Address already in use")
	if bind {
		return fmt.Errorf("oracle: member %d: %w", m.id-1, errBind)
	}
	if err := p.exitError(); err != nil {
		return fmt.Errorf("oracle: member %d (myid %d): %v", m.id-1, m.id, err)
	}
	return nil
}

// Size is the number of members.
func (e *Ensemble) Size() int { return len(e.members) }

// Member returns member i (0-based; its myid is i+1).
func (e *Ensemble) Member(i int) *Member { return e.members[i] }

// Addr is member i's client address, "127.0.0.1:port". It stays the same
// across Stop/Kill/Start.
func (e *Ensemble) Addr(i int) string { return e.members[i].Addr() }

// Addrs lists every member's client address.
func (e *Ensemble) Addrs() []string {
	var out []string
	for _, m := range e.members {
		out = append(out, m.Addr())
	}
	return out
}

// ConnectString is the comma-separated client addresses of all members.
func (e *Ensemble) ConnectString() string { return strings.Join(e.Addrs(), ",") }

// PID is member i's JVM process id (of its latest start).
func (e *Ensemble) PID(i int) int { return e.members[i].PID() }

// Stop stops member i gracefully (SIGTERM, SIGKILL after 5s) and waits.
func (e *Ensemble) Stop(i int) { e.members[i].Stop() }

// Kill sends SIGKILL to member i and waits for it.
func (e *Ensemble) Kill(i int) { e.members[i].Kill() }

// Start restarts a stopped or killed member i with its old config, data and
// ports; see Member.Start.
func (e *Ensemble) Start(i int) error { return e.members[i].Start() }

// Mode asks member i for srvr's Mode ("leader", "follower", "observer", or
// "" when it does not serve).
func (e *Ensemble) Mode(i int) (string, error) { return e.members[i].Mode() }

// Leader returns the index of the member whose srvr says "Mode: leader", or
// -1 when there is none (or more than one).
func (e *Ensemble) Leader() int {
	leader := -1
	for i, m := range e.members {
		if !m.Running() {
			continue
		}
		if mode, err := m.Mode(); err == nil && mode == "leader" {
			if leader >= 0 {
				return -1
			}
			leader = i
		}
	}
	return leader
}

// LogTail returns the last n lines of member i's log.
func (e *Ensemble) LogTail(i, n int) string { return e.members[i].LogTail(n) }

// Dir is the ensemble's temp dir (member1/, member2/, ...).
func (e *Ensemble) Dir() string { return e.root }

// StartupTime is how long the successful attempt took from exec to one leader
// and all members serving.
func (e *Ensemble) StartupTime() time.Duration { return e.startTime }

// Attempts is how many launches LaunchEnsemble needed (more than 1 when a
// picked port was taken).
func (e *Ensemble) Attempts() int { return e.attempts }

// Close kills every member still running (SIGKILL, by PID), waits for them
// and removes the temp dir. It is safe to call more than once.
func (e *Ensemble) Close() {
	e.stopOnce.Do(func() {
		var wg sync.WaitGroup
		for _, m := range e.members {
			if m.n == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.n.stop(0)
			}()
		}
		wg.Wait()
		os.RemoveAll(e.root)
	})
}

// ID is the member's myid.
func (m *Member) ID() int { return m.id }

// Addr is the member's client address, "127.0.0.1:port".
func (m *Member) Addr() string { return "127.0.0.1:" + strconv.Itoa(m.clientPort) }

// QuorumAddr and ElectionAddr are the member's server.N ports.
func (m *Member) QuorumAddr() string   { return "127.0.0.1:" + strconv.Itoa(m.quorumPort) }
func (m *Member) ElectionAddr() string { return "127.0.0.1:" + strconv.Itoa(m.electionPort) }

// Dir is the member's directory (zoo.cfg, data/ with myid, logs).
func (m *Member) Dir() string { return m.n.dir }

// PID is the member's JVM process id (of its latest start; 0 if never
// started).
func (m *Member) PID() int {
	if p := m.n.current(); p != nil {
		return p.pid()
	}
	return 0
}

// Running reports whether the member's JVM is alive.
func (m *Member) Running() bool {
	p := m.n.current()
	return p != nil && !p.exited()
}

// Stop ends the member gracefully: SIGTERM, SIGKILL after 5s, and waits.
func (m *Member) Stop() { m.n.stop(stopGrace) }

// Kill sends SIGKILL to the member's JVM and waits for it to be reaped.
func (m *Member) Kill() { m.n.stop(0) }

// Mode asks the member for srvr's Mode ("" when it does not serve).
func (m *Member) Mode() (string, error) { return Mode(m.Addr()) }

// LogTail returns the last n lines of the member's log (and its JVM's
// stdout/stderr when non-empty).
func (m *Member) LogTail(n int) string { return m.n.logTail(n) }

// Start launches the member again with its old config, data dir and ports.
// It returns once the member serves (srvr shows a Mode) when a quorum of
// members is running, counting this one; otherwise once it answers ruok. A
// port taken meanwhile by another process is an error here (no retry: the
// other members know the member by these ports).
func (m *Member) Start() error {
	p, err := m.n.start()
	if err != nil {
		return err
	}
	e := m.e
	running := 0
	for _, o := range e.members {
		if o.Running() {
			running++
		}
	}
	needMode := running >= len(e.members)/2+1
	deadline := time.Now().Add(e.opts.startTimeout())
	for {
		if p.exited() {
			return fmt.Errorf("oracle: member %d (myid %d) did not start: %v\n%s", m.id-1, m.id, p.exitError(), m.LogTail(30))
		}
		if needMode {
			if mode, err := pollMode(m.Addr()); err == nil && mode != "" {
				return nil
			}
		} else if out, err := FourLetterTimeout(m.Addr(), "ruok", pollTimeout); err == nil && out == "imok" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("oracle: member %d (myid %d) did not serve within %v\n%s", m.id-1, m.id, e.opts.startTimeout(), m.LogTail(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// PeerAddrs returns the member's quorum, election and client addresses.
func (m *Member) PeerAddrs() (quorum, election, client string) {
	at := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	return at(m.quorumPort), at(m.electionPort), at(m.clientPort)
}
