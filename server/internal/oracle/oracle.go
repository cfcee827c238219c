// Package oracle runs the real Apache ZooKeeper (Debian's 3.8.0 package) as a
// child JVM, for differential tests and benchmarks against zkit.
//
// Start / Launch give a standalone server (ZooKeeperServerMain); StartEnsemble /
// LaunchEnsemble give an n-member ensemble (QuorumPeerMain) whose members can be
// stopped, killed (SIGKILL) and restarted one by one. FourLetter speaks the
// 4-letter-word admin protocol to either.
//
// # Ports
//
// Our rule is that a server in a test binds port 0 and reports the port it got.
// Apache 3.8 does not accept "clientPort=0" in zoo.cfg: port 0 means "not set"
// (QuorumPeerConfig.parse), so the server opens no client listener at all, and
// together with clientPortAddress it is a config error ("clientPortAddress is
// set but clientPort is not set"). It does accept a client address of port 0
// in a dynamic-config style server line. So the standalone config carries,
// instead of clientPort/clientPortAddress,
//
//	server.1=127.0.0.1:1:2;127.0.0.1:0
//
// plus a myid file holding 1. Because there is only one participant and
// standaloneEnabled is true, QuorumPeerConfig logs "Invalid configuration, only
// one server specified (ignoring)", keeps the server line's client address
// (127.0.0.1:0) as the client port address, and ZooKeeperServerMain binds it:
// the kernel picks a free port. Ports 1 and 2 are never bound by a standalone
// server; they only satisfy the server line's syntax. Clients cannot tell the
// difference from a plain clientPort config: conf, srvr, session ids and the
// (empty) /zookeeper/config are the same, since a standalone server ignores
// its myid (its session ids always carry server id 1). The port actually bound is
// read from /proc: the JVM's socket inodes (/proc/PID/fd) matched against the
// LISTEN entries of /proc/PID/net/tcp and tcp6.
//
// An ensemble cannot do that: quorum and election ports must be known to every
// member before any of them starts, and Apache has no port-0 form for them. So
// LaunchEnsemble picks free ports (3 per member: client, quorum, election) by
// binding 127.0.0.1:0 and closing, writes them into every member's zoo.cfg, and
// when any member fails to bind ("Address already in use" in its log or
// console) stops all members and retries the whole ensemble with fresh ports
// (up to 5 attempts; any other failure is returned at once). Client ports are picked the same way so that a restarted member keeps
// its address, as it does in a real deployment.
package oracle

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// InstallHint says what to install when Java or the ZooKeeper jars are missing.
const InstallHint = "install Apache ZooKeeper 3.8 and a Java runtime: " +
	"apt-get install -y zookeeper zookeeper-bin default-jre-headless"

// DefaultJarDir is where Debian installs the ZooKeeper jars and their
// dependencies.
const DefaultJarDir = "/usr/share/java"

// requiredJars is the minimal classpath. zookeeper.jar's manifest Class-Path
// pulls in the rest of Debian's dependencies (jackson, jetty, netty,
// metrics-core, commons-*, snappy, ...) when they are installed.
var requiredJars = []struct{ name, pkg string }{
	{"zookeeper.jar", "libzookeeper-java"},
	{"zookeeper-jute.jar", "libzookeeper-java"},
	{"slf4j-api.jar", "libslf4j-java"},
	{"slf4j-log4j12.jar", "libslf4j-java"},
	{"log4j-1.2.jar", "liblog4j1.2-java"},
}

// Options configures a standalone server or every member of an ensemble.
type Options struct {
	// TickTime is zoo.cfg's tickTime in milliseconds; 0 means 2000.
	TickTime int
	// Config holds extra zoo.cfg keys, written after (and overriding) the
	// defaults, e.g. {"extendedTypesEnabled": "true", "forceSync": "no",
	// "DigestAuthenticationProvider.superDigest": "super:..."}. dataDir,
	// clientPort, clientPortAddress and server.N are managed by this package
	// and rejected here.
	Config map[string]string
	// JVMArgs are added to the java command line before the class name
	// (e.g. "-Xmx512m", "-Dzookeeper.snapCount=1000").
	JVMArgs []string
	// Java is the java executable; default $JAVA_HOME/bin/java when set, else
	// "java" on PATH.
	Java string
	// JarDir is where zookeeper.jar and friends live; default
	// /usr/share/java.
	JarDir string
	// LogLevel is the log4j root level (default INFO).
	LogLevel string
	// StartTimeout bounds the wait until the server (or every member) serves;
	// default 60s.
	StartTimeout time.Duration
	// ExtraJars are appended to the classpath: jar file names relative to
	// JarDir, or absolute paths. AdminJars lists what the AdminServer needs
	// (with admin.enableServer=true); PrometheusJars finds the Prometheus
	// metrics provider.
	ExtraJars []string
}

func (o Options) tickTime() int {
	if o.TickTime > 0 {
		return o.TickTime
	}
	return 2000
}

func (o Options) startTimeout() time.Duration {
	if o.StartTimeout > 0 {
		return o.StartTimeout
	}
	return 60 * time.Second
}

// MissingError reports that Java or a ZooKeeper jar is not installed.
type MissingError struct {
	What string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("oracle: %s not found; %s", e.What, InstallHint)
}

// runtime is the resolved java executable and classpath.
type runtime struct {
	java      string
	classpath string
}

func resolveRuntime(o Options) (runtime, error) {
	java := o.Java
	if java == "" {
		if home := os.Getenv("JAVA_HOME"); home != "" {
			if p := filepath.Join(home, "bin", "java"); isExecutable(p) {
				java = p
			}
		}
	}
	if java == "" {
		java = "java"
	}
	path, err := exec.LookPath(java)
	if err != nil {
		return runtime{}, &MissingError{What: fmt.Sprintf("java executable (%q)", java)}
	}
	dir := o.JarDir
	if dir == "" {
		dir = DefaultJarDir
	}
	var cp []string
	for _, j := range requiredJars {
		p := filepath.Join(dir, j.name)
		if _, err := os.Stat(p); err != nil {
			return runtime{}, &MissingError{What: fmt.Sprintf("%s (Debian package %s)", p, j.pkg)}
		}
		cp = append(cp, p)
	}
	for _, j := range o.ExtraJars {
		p := j
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, j)
		}
		if _, err := os.Stat(p); err != nil {
			return runtime{}, &MissingError{What: p}
		}
		cp = append(cp, p)
	}
	return runtime{java: path, classpath: strings.Join(cp, string(os.PathListSeparator))}, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// reservedKey reports whether a zoo.cfg key is managed by this package.
func reservedKey(k string) bool {
	switch k {
	case "dataDir", "clientPort", "clientPortAddress", "dynamicConfigFile":
		return true
	}
	return strings.HasPrefix(k, "server.")
}

// kv is one zoo.cfg line.
type kv struct{ k, v string }

// mergeConfig returns defaults overridden by extra (in the defaults' order),
// followed by the remaining extra keys sorted by name.
func mergeConfig(defaults []kv, extra map[string]string) ([]kv, error) {
	var out []kv
	seen := map[string]bool{}
	for _, d := range defaults {
		if v, ok := extra[d.k]; ok {
			d.v = v
		}
		seen[d.k] = true
		out = append(out, d)
	}
	var rest []string
	for k := range extra {
		if reservedKey(k) {
			return nil, fmt.Errorf("oracle: zoo.cfg key %q is managed by the oracle package", k)
		}
		if strings.ContainsAny(k, "\n=") || strings.Contains(extra[k], "\n") {
			return nil, fmt.Errorf("oracle: bad zoo.cfg entry %q=%q", k, extra[k])
		}
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, kv{k, extra[k]})
	}
	return out, nil
}

func writeConfig(path string, lines []kv) error {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s=%s\n", l.k, l.v)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// node is the on-disk layout and process of one JVM (a standalone server or an
// ensemble member).
type node struct {
	rt      runtime
	opts    Options
	main    string // Java main class
	dir     string // holds zoo.cfg, log4j.properties, logs, data/
	cfgPath string
	logPath string // log4j output
	conPath string // stdout+stderr of the JVM

	mu   sync.Mutex
	proc *proc // nil when not started
}

func newNode(rt runtime, opts Options, main, dir string) (*node, error) {
	n := &node{
		rt:      rt,
		opts:    opts,
		main:    main,
		dir:     dir,
		cfgPath: filepath.Join(dir, "zoo.cfg"),
		logPath: filepath.Join(dir, "zookeeper.log"),
		conPath: filepath.Join(dir, "console.log"),
	}
	if err := os.MkdirAll(n.dataDir(), 0o755); err != nil {
		return nil, err
	}
	level := opts.LogLevel
	if level == "" {
		level = "INFO"
	}
	props := fmt.Sprintf(`log4j.rootLogger=%s, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=%s
log4j.appender.FILE.Append=true
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%%d{ISO8601} [myid:%%X{myid}] - %%-5p [%%t:%%C{1}@%%L] - %%m%%n
`, level, n.logPath)
	if err := os.WriteFile(n.log4jPath(), []byte(props), 0o644); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *node) dataDir() string   { return filepath.Join(n.dir, "data") }
func (n *node) log4jPath() string { return filepath.Join(n.dir, "log4j.properties") }

// start launches the JVM. The caller holds no lock.
func (n *node) start() (*proc, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil && !n.proc.exited() {
		return nil, fmt.Errorf("oracle: %s already running (pid %d)", n.dir, n.proc.pid())
	}
	con, err := os.OpenFile(n.conPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	log4jURL := (&url.URL{Scheme: "file", Path: n.log4jPath()}).String()
	args := []string{"-Dlog4j.configuration=" + log4jURL}
	args = append(args, n.opts.JVMArgs...)
	args = append(args, "-cp", n.rt.classpath, n.main, n.cfgPath)
	cmd := exec.Command(n.rt.java, args...)
	cmd.Dir = n.dir
	cmd.Stdout = con
	cmd.Stderr = con
	// Take the JVM down if the test binary dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		con.Close()
		return nil, fmt.Errorf("oracle: starting %s: %w", n.rt.java, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		con.Close()
		close(p.done)
	}()
	n.proc = p
	return p, nil
}

func (n *node) current() *proc {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc
}

// stop ends the JVM: SIGTERM, then SIGKILL after grace (grace 0 = SIGKILL at
// once). It waits for the process to be reaped.
func (n *node) stop(grace time.Duration) {
	if p := n.current(); p != nil {
		p.stop(grace)
	}
}

func (n *node) logTail(lines int) string {
	var b strings.Builder
	b.WriteString(tailFile(n.logPath, lines))
	if con := tailFile(n.conPath, lines); strings.TrimSpace(con) != "" {
		b.WriteString("--- stdout/stderr ---\n")
		b.WriteString(con)
	}
	return b.String()
}

// proc is one JVM process started by this package.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait; valid after done is closed
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	if grace > 0 {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			return
		case <-time.After(grace):
		}
	}
	_ = p.cmd.Process.Kill() // SIGKILL to this PID only
	<-p.done
}

func (p *proc) exitError() error {
	if !p.exited() {
		return nil
	}
	if p.err != nil {
		return fmt.Errorf("java exited: %v", p.err)
	}
	return errors.New("java exited with status 0")
}

// tailFile returns the last n lines of a file ("" if it is unreadable).
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const maxRead = 1 << 20
	if st, err := f.Stat(); err == nil && st.Size() > maxRead {
		_, _ = f.Seek(st.Size()-maxRead, io.SeekStart)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), maxRead)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 2*n+100 {
			lines = append(lines[:0], lines[len(lines)-n:]...)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// FourLetter sends a 4-letter-word command (ruok, srvr, mntr, ...) to addr and
// returns everything the server writes until it closes the connection.
// Apache answers a command outside 4lw.commands.whitelist with
// "<cmd> is not executed because it is not in the whitelist.\n" and closes an
// unknown command's connection without writing anything (the empty string is
// returned, with a nil error, in that case).
func FourLetter(addr, cmd string) (string, error) {
	return FourLetterTimeout(addr, cmd, 15*time.Second)
}

// FourLetterTimeout is FourLetter with a bound on the whole exchange.
func FourLetterTimeout(addr, cmd string, timeout time.Duration) (string, error) {
	if len(cmd) != 4 {
		return "", fmt.Errorf("oracle: 4lw command %q is not 4 bytes", cmd)
	}
	deadline := time.Now().Add(timeout)
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	if err != nil && len(b) > 0 && errors.Is(err, syscall.ECONNRESET) {
		// The server closed after writing everything; a reset that follows
		// the full answer loses nothing.
		err = nil
	}
	return string(b), err
}

// srvrMode returns the value of srvr's "Mode:" line ("standalone", "leader",
// "follower", "observer", "read-only"), or "" when there is none (a member
// that has not joined a quorum answers "This ZooKeeper instance is not
// currently serving requests").
func srvrMode(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "Mode: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// pollTimeout bounds one 4lw exchange while waiting for a server to start.
const pollTimeout = time.Second

// Mode asks the server at addr for srvr and returns its Mode value ("" when
// it does not serve).
func Mode(addr string) (string, error) {
	out, err := FourLetterTimeout(addr, "srvr", 5*time.Second)
	if err != nil {
		return "", err
	}
	return srvrMode(out), nil
}

// pollMode is Mode with a short timeout, for start-up polling.
func pollMode(addr string) (string, error) {
	out, err := FourLetterTimeout(addr, "srvr", pollTimeout)
	if err != nil {
		return "", err
	}
	return srvrMode(out), nil
}
