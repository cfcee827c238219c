package ensembletest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"zkit/server/ensemble"
)

// ProcOptions describe an ensemble of `zkit member` processes.
type ProcOptions struct {
	Voters    int           // default 3
	Observers int           // default 0
	TickTime  time.Duration // default 200 ms
	InitLimit int           // default 10
	SyncLimit int           // default 5
	// SyncLimits overrides SyncLimit for some members (each member reads
	// its own limits, as from its own zoo.cfg).
	SyncLimits map[uint64]int
	NoSync     bool // --no-sync (forceSync=no)
	// Proxied routes every member's quorum and election connections to
	// every other member through a proxy the test controls, so that links
	// can be cut (Partition, CutLink). Clients still reach members directly.
	Proxied  bool
	LogLevel string // --log-level (default: the binary's; debug with ZKIT_TEST_DEBUG=1)
	Binary   string // default: Binary(t)
}

// Procs is an ensemble of member processes started by a test. Everything
// it starts is killed (by PID) when the test ends.
type Procs struct {
	t    testing.TB
	opts ProcOptions
	dir  string
	bin  string

	voters, observers []uint64
	members           map[uint64]*Proc
	proxies           map[[2]uint64][]*proxy // [from, to] → quorum, election
	events            *EventLog
}

// Proc is one member process.
type Proc struct {
	ID       uint64
	Observer bool

	c         *Procs
	dir       string
	dataDir   string
	rdv       string // the rendezvous directory this member reads
	readyFile string
	logFile   string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	client string
	starts int
}

// StartProcs starts the ensemble and waits until one member leads and
// every member serves.
func StartProcs(t testing.TB, opts ProcOptions) *Procs {
	t.Helper()
	if opts.Voters == 0 {
		opts.Voters = 3
	}
	if opts.TickTime == 0 {
		opts.TickTime = 200 * time.Millisecond
	}
	if opts.InitLimit == 0 {
		opts.InitLimit = 10
	}
	if opts.SyncLimit == 0 {
		opts.SyncLimit = 5
	}
	if opts.Binary == "" {
		opts.Binary = Binary(t)
	}
	c := &Procs{
		t: t, opts: opts, dir: t.TempDir(), bin: opts.Binary,
		members: map[uint64]*Proc{}, proxies: map[[2]uint64][]*proxy{}, events: NewEventLog(),
	}
	for i := 1; i <= opts.Voters+opts.Observers; i++ {
		id := uint64(i)
		if i <= opts.Voters {
			c.voters = append(c.voters, id)
		} else {
			c.observers = append(c.observers, id)
		}
		m := &Proc{ID: id, Observer: i > opts.Voters, c: c, dir: filepath.Join(c.dir, fmt.Sprintf("member-%d", id))}
		m.dataDir = filepath.Join(m.dir, "data")
		m.readyFile = filepath.Join(m.dir, "ready")
		m.logFile = filepath.Join(m.dir, "zkit.log")
		m.rdv = filepath.Join(c.dir, "rendezvous")
		if opts.Proxied {
			m.rdv = filepath.Join(m.dir, "rendezvous")
		}
		for _, d := range []string{m.dataDir, m.rdv} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		c.members[id] = m
	}
	t.Cleanup(c.Close)
	if opts.Proxied {
		if err := c.setUpProxies(); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range c.IDs() {
		if err := c.members[id].start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range c.IDs() {
		if err := c.members[id].waitStarted(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

// setUpProxies gives each member its own rendezvous directory in which the
// other members' quorum and election addresses are those of proxies; each
// proxy forwards to the real addresses its target recorded in its own
// directory. A member binds the addresses of its own file, so the real
// ports and the proxies never collide, and a restarted member keeps both.
func (c *Procs) setUpProxies() error {
	for _, from := range c.IDs() {
		for _, to := range c.IDs() {
			if from == to {
				continue
			}
			target := c.members[to]
			qp, err := newProxy(fmt.Sprintf("%d→%d quorum", from, to), func() (string, error) {
				a, ok, err := ensemble.ReadAddrs(target.rdv, target.ID)
				if err != nil || !ok {
					return "", fmt.Errorf("member %d has no addresses yet", target.ID)
				}
				return a.Quorum, nil
			})
			if err != nil {
				return err
			}
			ep, err := newProxy(fmt.Sprintf("%d→%d election", from, to), func() (string, error) {
				a, ok, err := ensemble.ReadAddrs(target.rdv, target.ID)
				if err != nil || !ok {
					return "", fmt.Errorf("member %d has no addresses yet", target.ID)
				}
				return a.Election, nil
			})
			if err != nil {
				qp.Close()
				return err
			}
			c.proxies[[2]uint64{from, to}] = []*proxy{qp, ep}
			if err := ensemble.WriteAddrs(c.members[from].rdv, ensemble.Addrs{
				ID: to, Quorum: qp.Addr(), Election: ep.Addr(),
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// IDs are the members' ids, voters first.
func (c *Procs) IDs() []uint64 { return append(append([]uint64(nil), c.voters...), c.observers...) }

// Voters are the voting members' ids.
func (c *Procs) Voters() []uint64 { return append([]uint64(nil), c.voters...) }

// Member returns member id.
func (c *Procs) Member(id uint64) *Proc { return c.members[id] }

// Events is the log of what the harness did, with times.
func (c *Procs) Events() *EventLog { return c.events }

// ClientAddr is member id's client address (the same across restarts).
func (c *Procs) ClientAddr(id uint64) string { return c.members[id].ClientAddr() }

// ConnectString lists every member's client address.
func (c *Procs) ConnectString() string {
	var out []string
	for _, id := range c.IDs() {
		out = append(out, c.ClientAddr(id))
	}
	return strings.Join(out, ",")
}

// Mode asks member id for srvr's Mode: "leader", "follower", "observer",
// or "" when it is not running or not serving.
func (c *Procs) Mode(id uint64) string {
	m := c.members[id]
	if !m.Running() {
		return ""
	}
	st, err := Srvr(m.ClientAddr(), time.Second)
	if err != nil {
		return ""
	}
	return st.Mode
}

// Leader returns the one running member whose srvr says it leads.
func (c *Procs) Leader() (uint64, bool) {
	var leaders []uint64
	for _, id := range c.IDs() {
		if c.Mode(id) == "leader" {
			leaders = append(leaders, id)
		}
	}
	if len(leaders) != 1 {
		return 0, false
	}
	return leaders[0], true
}

// WaitLeader waits until exactly one member says it leads.
func (c *Procs) WaitLeader(timeout time.Duration) (uint64, error) {
	deadline := time.Now().Add(timeout)
	for {
		if id, ok := c.Leader(); ok {
			return id, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no single leader within %v (%s)", timeout, c.describe())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitReady waits until exactly one member leads and every running member
// serves.
func (c *Procs) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		leaders, ok := 0, true
		for _, id := range c.IDs() {
			if !c.members[id].Running() {
				continue
			}
			switch c.Mode(id) {
			case "leader":
				leaders++
			case "":
				ok = false
			}
		}
		if ok && leaders == 1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ensemble not ready within %v (%s)", timeout, c.describe())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *Procs) describe() string {
	var parts []string
	for _, id := range c.IDs() {
		m := c.members[id]
		state := "stopped"
		if m.Running() {
			state = c.Mode(id)
			if state == "" {
				state = "not serving"
			}
		}
		parts = append(parts, fmt.Sprintf("%d:%s", id, state))
	}
	return strings.Join(parts, " ")
}

// Followers returns the running voters that are not the given leader.
func (c *Procs) Followers(leader uint64) []uint64 {
	var out []uint64
	for _, id := range c.voters {
		if id != leader && c.members[id].Running() {
			out = append(out, id)
		}
	}
	return out
}

// Kill sends SIGKILL to member id and waits for it to exit.
func (c *Procs) Kill(id uint64) error {
	c.events.Add("kill -9 member %d", id)
	c.members[id].signal(syscall.SIGKILL, 0)
	return nil
}

// Stop sends SIGTERM to member id and waits (SIGKILL after 10 s).
// It reports an error if the member had to be killed.
func (c *Procs) Stop(id uint64) error {
	c.events.Add("SIGTERM member %d", id)
	if !c.members[id].signal(syscall.SIGTERM, 10*time.Second) {
		c.events.Add("member %d ignored SIGTERM for 10s: killed", id)
		return fmt.Errorf("member %d did not exit within 10s of SIGTERM", id)
	}
	return nil
}

// Start starts a stopped member again, on its data and ports, and waits
// for it to write its ready file.
func (c *Procs) Start(id uint64) error {
	c.events.Add("start member %d", id)
	m := c.members[id]
	if err := m.start(); err != nil {
		return err
	}
	return m.waitStarted(30 * time.Second)
}

// Partition cuts member id off from every other member (quorum and
// election traffic, both ways); its clients stay connected to it.
// It needs ProcOptions.Proxied.
func (c *Procs) Partition(id uint64, mode CutMode) {
	c.events.Add("partition member %d (%s)", id, modeName(mode))
	for _, o := range c.IDs() {
		if o != id {
			c.cut(id, o, mode)
		}
	}
}

// CutLink cuts the links between members a and b, both ways.
func (c *Procs) CutLink(a, b uint64, mode CutMode) {
	c.events.Add("cut link %d–%d (%s)", a, b, modeName(mode))
	c.cut(a, b, mode)
}

func (c *Procs) cut(a, b uint64, mode CutMode) {
	if !c.opts.Proxied {
		c.t.Fatalf("ensembletest: partitions need ProcOptions.Proxied")
	}
	for _, k := range [][2]uint64{{a, b}, {b, a}} {
		for _, p := range c.proxies[k] {
			p.Cut(mode)
		}
	}
}

// Heal restores every link.
func (c *Procs) Heal() {
	c.events.Add("heal")
	for _, ps := range c.proxies {
		for _, p := range ps {
			p.Heal()
		}
	}
}

func modeName(m CutMode) string {
	if m == Reset {
		return "reset"
	}
	return "blackhole"
}

// LogTail returns the last n lines of member id's log (all its runs).
func (c *Procs) LogTail(id uint64, n int) string { return tailFile(c.members[id].logFile, n) }

// Close kills every member and proxy.
func (c *Procs) Close() {
	var wg sync.WaitGroup
	for _, m := range c.members {
		wg.Add(1)
		go func(m *Proc) {
			defer wg.Done()
			m.signal(syscall.SIGKILL, 0)
		}(m)
	}
	wg.Wait()
	for _, ps := range c.proxies {
		for _, p := range ps {
			p.Close()
		}
	}
	if c.t.Failed() {
		c.t.Logf("harness events:\n%s", c.events)
		var logs []string
		for _, id := range c.IDs() {
			c.t.Logf("member %d log tail:\n%s", id, c.LogTail(id, 40))
			logs = append(logs, c.members[id].logFile)
		}
		if kept, err := keepFiles(c.t.Name(), logs...); err == nil {
			c.t.Logf("the members' whole logs are kept in %s", kept)
		} else {
			c.t.Logf("the members' whole logs are not kept: %v", err)
		}
	}
}

// ClientAddr is the member's client address.
func (m *Proc) ClientAddr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.client
}

// PID is the process id of the member's current run (0 if not running).
func (m *Proc) PID() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// Running reports whether the member's process is alive.
func (m *Proc) Running() bool {
	m.mu.Lock()
	ch := m.exited
	m.mu.Unlock()
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

// DataDir is the member's data directory.
func (m *Proc) DataDir() string { return m.dataDir }

func (m *Proc) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.exited != nil {
		select {
		case <-m.exited:
		default:
			return fmt.Errorf("member %d is running", m.ID)
		}
	}
	o := m.c.opts
	syncLimit := o.SyncLimit
	if l, ok := o.SyncLimits[m.ID]; ok {
		syncLimit = l
	}
	args := []string{"member", "--id", strconv.FormatUint(m.ID, 10),
		"--voters", joinIDs(m.c.voters), "--rendezvous", m.rdv, "--data-dir", m.dataDir,
		"--tick-time", o.TickTime.String(), "--init-limit", strconv.Itoa(o.InitLimit),
		"--sync-limit", strconv.Itoa(syncLimit), "--ready-file", m.readyFile}
	if len(m.c.observers) > 0 {
		args = append(args, "--observers", joinIDs(m.c.observers))
	}
	if o.NoSync {
		args = append(args, "--no-sync")
	}
	if o.LogLevel != "" {
		args = append(args, "--log-level", o.LogLevel)
	} else if os.Getenv("ZKIT_TEST_DEBUG") != "" {
		args = append(args, "--log-level", "debug")
	}
	_ = os.Remove(m.readyFile)
	logf, err := os.OpenFile(m.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	m.starts++
	fmt.Fprintf(logf, "=== ensembletest: start #%d of member %d at %s\n", m.starts, m.ID, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(m.c.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The member dies with the test binary, should it die first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	m.cmd, m.exited = cmd, exited
	return nil
}

func (m *Proc) waitStarted(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(m.readyFile); err == nil && len(b) > 0 {
			addr := strings.TrimSpace(string(b))
			m.mu.Lock()
			m.client = addr
			m.mu.Unlock()
			return nil
		}
		if !m.Running() {
			return fmt.Errorf("member %d exited before it was ready:\n%s", m.ID, tailFile(m.logFile, 30))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("member %d not ready within %v:\n%s", m.ID, timeout, tailFile(m.logFile, 30))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// signal sends sig to the member's process (only the one this harness
// started) and waits for it to exit; after grace, it is killed and signal
// reports false.
func (m *Proc) signal(sig syscall.Signal, grace time.Duration) bool {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.mu.Unlock()
	if cmd == nil || exited == nil {
		return true
	}
	select {
	case <-exited:
		return true
	default:
	}
	_ = cmd.Process.Signal(sig)
	ok := true
	if grace > 0 {
		select {
		case <-exited:
			return true
		case <-time.After(grace):
			ok = false
			_ = cmd.Process.Kill()
		}
	}
	<-exited
	return ok
}

func joinIDs(ids []uint64) string {
	var s []string
	for _, id := range ids {
		s = append(s, strconv.FormatUint(id, 10))
	}
	return strings.Join(s, ",")
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// SrvrStatus is what srvr says.
type SrvrStatus struct {
	Mode string // leader, follower, observer, standalone; "" if not serving
	Zxid int64
	Raw  string
}

// Srvr asks a server for srvr.
func Srvr(addr string, timeout time.Duration) (SrvrStatus, error) {
	out, err := FourLetter(addr, "srvr", timeout)
	if err != nil {
		return SrvrStatus{}, err
	}
	st := SrvrStatus{Raw: out}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Mode: "):
			st.Mode = strings.TrimSpace(strings.TrimPrefix(line, "Mode: "))
		case strings.HasPrefix(line, "Zxid: "):
			z, _ := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(line, "Zxid: ")), "0x"), 16, 64)
			st.Zxid = z
		}
	}
	return st, nil
}

// FourLetter sends a four-letter word and returns the answer.
func FourLetter(addr, cmd string, timeout time.Duration) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(timeout))
	if _, err := nc.Write([]byte(cmd)); err != nil {
		return "", err
	}
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := nc.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String(), nil
}

// EventLog records what a test did, with times relative to its start, to
// line up with histories and member logs when something fails.
type EventLog struct {
	mu    sync.Mutex
	start time.Time
	lines []string
}

// NewEventLog starts an empty log.
func NewEventLog() *EventLog { return &EventLog{start: time.Now()} }

// Add records an event.
func (l *EventLog) Add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%9.3fs %s  %s", time.Since(l.start).Seconds(),
		time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...)))
}

func (l *EventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns a zkit binary: $ZKIT_BIN if set, else one built once per
// test binary from this module's source (so the processes run the code
// under test, not a stale bin/zkit).
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("ZKIT_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ensembletest-bin-")
		if err != nil {
			binErr = err
			return
		}
		binDir = dir
		binPath = filepath.Join(dir, "zkit")
		out, err := exec.Command("go", "build", "-o", binPath, "zkit/server/cmd/zkit").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build zkit: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

var binDir string

// CleanupBinary removes the binary Binary built (call from TestMain).
func CleanupBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}
