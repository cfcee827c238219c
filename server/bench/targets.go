package bench

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"zkit/server/internal/oracle"
)

// Spec is the server system a Launcher starts: standalone (Members 1) or an
// ensemble, with the zoo.cfg settings that both implementations share.
type Spec struct {
	Members   int  // 1 = standalone
	ForceSync bool // zoo.cfg forceSync
	TickTime  int  // zoo.cfg tickTime, ms
	// ServeArgs are extra `zkit serve` flags (--cpuprofile ...); Apache
	// ignores them. In an ensemble, MemberToken in them becomes each
	// member's id, and zkit's members run `zkit serve zoo.cfg` (`zkit
	// member` has no profiling flags).
	ServeArgs []string
}

// A Target is a running server system under test.
type Target interface {
	Hosts() []string // client addresses, one per member
	PIDs() []int     // the server processes, for /proc CPU and RSS
	Stop() error     // end the processes (only those this package started) and remove temp dirs
}

// A Launcher starts targets of one implementation.
type Launcher interface {
	Name() string
	Launch(Spec) (Target, error)
}

// Optional capabilities of a Target, for the ensemble and recovery rows.
type (
	// Failover is an ensemble whose leader can be found and killed.
	Failover interface {
		Leader() int           // index of the leader member, -1 if none
		Kill(member int) error // SIGKILL one member (by PID)
	}
	// Restarter is a target that can stop and start again on its dataDir,
	// for recovery time.
	Restarter interface {
		Restart() (time.Duration, error) // from exec to serving again
	}
)

// ---------------------------------------------------------------- Apache

// ApacheLauncher starts Apache ZooKeeper 3.8 with the oracle package
// (Debian's jars, default JVM flags, log4j at INFO to a file).
type ApacheLauncher struct {
	JVMArgs []string
}

// Name implements Launcher.
func (ApacheLauncher) Name() string { return "Apache ZK" }

// apacheOptions gives Apache the zoo.cfg settings the suite varies (tickTime,
// forceSync); the oracle package adds dataDir, the client address,
// maxClientCnxns=0, admin.enableServer=false and 4lw.commands.whitelist=*.
// ZkitConfig writes the same keys for zkit.
func apacheOptions(spec Spec, jvm []string) oracle.Options {
	return oracle.Options{
		TickTime: spec.TickTime,
		Config:   map[string]string{"forceSync": yesNo(spec.ForceSync)},
		JVMArgs:  jvm,
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Launch implements Launcher.
func (l ApacheLauncher) Launch(spec Spec) (Target, error) {
	opts := apacheOptions(spec, l.JVMArgs)
	if spec.Members <= 1 {
		s, err := oracle.Launch(opts)
		if err != nil {
			return nil, err
		}
		return &apacheServer{s: s, jvm: l.JVMArgs}, nil
	}
	e, err := oracle.LaunchEnsemble(spec.Members, opts)
	if err != nil {
		return nil, err
	}
	return apacheEnsemble{e}, nil
}

type apacheServer struct {
	s   *oracle.Server
	jvm []string
	// After a Restart the JVM is one this package started itself on the
	// oracle's directory (the oracle has no standalone restart).
	own  *exec.Cmd
	done chan struct{}
	addr string
}

func (a *apacheServer) Hosts() []string {
	if a.own != nil {
		return []string{a.addr}
	}
	return []string{a.s.Addr()}
}

func (a *apacheServer) PIDs() []int {
	if a.own != nil {
		return []int{a.own.Process.Pid}
	}
	return []int{a.s.PID()}
}

func (a *apacheServer) Stop() error {
	a.stopOwn()
	a.s.Stop()
	return nil
}

func (a *apacheServer) stopOwn() {
	if a.own == nil {
		return
	}
	select {
	case <-a.done:
	default:
		_ = a.own.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			_ = a.own.Process.Kill()
			<-a.done
		}
	}
}

// ConfigFile returns the zoo.cfg the server runs with.
func (a *apacheServer) ConfigFile() string { return filepath.Join(a.s.Dir(), "zoo.cfg") }

// Restart implements Restarter: SIGKILL (a crash), then the same java
// command as the oracle package's (Debian's jars, the oracle's zoo.cfg,
// log4j.properties and data/) on a client port picked free, polled with
// srvr until it serves. It returns the time from exec to serving.
func (a *apacheServer) Restart() (time.Duration, error) {
	if a.own != nil {
		_ = a.own.Process.Kill()
		<-a.done
	} else {
		a.s.Kill()
	}
	dir := a.s.Dir()
	cfgPath := filepath.Join(dir, "zoo.cfg")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		return 0, err
	}
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	// The oracle's standalone config binds the client port through the
	// server.1 line's client address ("...;127.0.0.1:0" or a port a
	// previous restart chose).
	lines := strings.Split(string(cfg), "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(l, "server.1=") {
			if j := strings.LastIndex(l, ";"); j >= 0 {
				lines[i] = l[:j] + fmt.Sprintf(";127.0.0.1:%d", port)
				found = true
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("%s: no server.1 line with a client address", cfgPath)
	}
	if err := os.WriteFile(cfgPath, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		return 0, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return 0, err
	}
	var cp []string
	for _, j := range []string{"zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-log4j12.jar", "log4j-1.2.jar"} {
		cp = append(cp, filepath.Join(oracle.DefaultJarDir, j))
	}
	args := []string{"-Dlog4j.configuration=file:" + filepath.Join(dir, "log4j.properties")}
	args = append(args, a.jvm...)
	args = append(args, "-cp", strings.Join(cp, ":"), "org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)
	con, err := os.OpenFile(filepath.Join(dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = con, con
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		con.Close()
		return 0, err
	}
	a.own, a.done, a.addr = cmd, make(chan struct{}), fmt.Sprintf("127.0.0.1:%d", port)
	go func() { _ = cmd.Wait(); con.Close(); close(a.done) }()
	deadline := t0.Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-a.done:
			return 0, fmt.Errorf("java exited: %v\n%s", cmd.ProcessState, a.s.LogTail(30))
		default:
		}
		if mode, err := oracle.Mode(a.addr); err == nil && mode != "" {
			return time.Since(t0), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, errors.New("Apache ZooKeeper did not serve within 10 minutes of a restart")
}

// freePort returns a port that was free a moment ago (Apache cannot bind
// port 0 through this restart path and report it back).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type apacheEnsemble struct{ e *oracle.Ensemble }

func (a apacheEnsemble) Hosts() []string { return a.e.Addrs() }
func (a apacheEnsemble) PIDs() []int {
	var p []int
	for i := range a.e.Size() {
		if pid := a.e.PID(i); pid > 0 {
			p = append(p, pid)
		}
	}
	return p
}
func (a apacheEnsemble) Stop() error      { a.e.Close(); return nil }
func (a apacheEnsemble) Leader() int      { return a.e.Leader() }
func (a apacheEnsemble) Kill(i int) error { a.e.Kill(i); return nil }

// ConfigFile returns member 1's zoo.cfg.
func (a apacheEnsemble) ConfigFile() string { return filepath.Join(a.e.Dir(), "member1", "zoo.cfg") }

// ---------------------------------------------------------------- zkit

// ZkitLauncher runs zkit as child processes. Standalone: `zkit serve` with
// a zoo.cfg equivalent to Apache's (tickTime, dataDir, forceSync,
// maxClientCnxns=0, ...), client port 0, the bound address read from
// --ready-file. Ensemble: one `zkit member` process per member (each binds
// port 0; they find each other through a rendezvous directory) with
// Apache's tickTime, initLimit, syncLimit and forceSync; see
// launchEnsemble.
type ZkitLauncher struct {
	Command []string // the zkit binary and "serve"; default: this executable
	// TempDir is where each server's directory (zoo.cfg, data/, zkit.log)
	// goes; default os.TempDir().
	TempDir string
	// ZooCfg runs an ensemble's members as `zkit serve zoo.cfg` with
	// server.N lines and myid, as Apache's are run (quorum and election
	// ports picked free beforehand), instead of `zkit member`.
	ZooCfg bool
}

// Name implements Launcher.
func (ZkitLauncher) Name() string { return "zkit" }

// ZkitConfig returns the zoo.cfg text the suite gives zkit: the same keys
// and values as the oracle package gives Apache ZooKeeper. clientPort is a
// placeholder: --client-addr 127.0.0.1:0 replaces it.
func ZkitConfig(spec Spec, dataDir string) string {
	tick := spec.TickTime
	if tick <= 0 {
		tick = 2000
	}
	return fmt.Sprintf(`tickTime=%d
dataDir=%s
clientPort=2181
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
forceSync=%s
`, tick, dataDir, yesNo(spec.ForceSync))
}

// Launch implements Launcher.
func (l ZkitLauncher) Launch(spec Spec) (Target, error) {
	if spec.Members > 1 {
		e, err := l.launchEnsemble(spec)
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	cmd := l.Command
	if len(cmd) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cmd = []string{exe, "serve"}
	}
	dir, err := os.MkdirTemp(l.TempDir, "zkit-bench-")
	if err != nil {
		return nil, err
	}
	z := &zkitServer{dir: dir, command: cmd, spec: spec}
	if err := z.start(); err != nil {
		tail := tailOf(filepath.Join(dir, "zkit.log"), 2000)
		z.Stop()
		return nil, fmt.Errorf("starting zkit: %w\n%s", err, tail)
	}
	return z, nil
}

type zkitServer struct {
	dir     string
	command []string
	spec    Spec
	addr    string
	cmd     *exec.Cmd
	done    chan struct{}
}

// start runs `zkit serve` on the directory (creating zoo.cfg and data/ the
// first time) and waits for its ready file.
func (z *zkitServer) start() error {
	command, spec := z.command, z.spec
	data := filepath.Join(z.dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	cfg := filepath.Join(z.dir, "zoo.cfg")
	if err := os.WriteFile(cfg, []byte(ZkitConfig(spec, data)), 0o644); err != nil {
		return err
	}
	ready := filepath.Join(z.dir, "ready")
	_ = os.Remove(ready)
	logf, err := os.OpenFile(filepath.Join(z.dir, "zkit.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append([]string{}, command[1:]...)
	args = append(args, "--client-addr", "127.0.0.1:0", "--ready-file", ready)
	args = append(args, spec.ServeArgs...)
	args = append(args, cfg)
	z.cmd = exec.Command(command[0], args...)
	z.cmd.Dir = z.dir
	z.cmd.Stdout, z.cmd.Stderr = logf, logf
	z.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := z.cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	z.done = make(chan struct{})
	go func() { _ = z.cmd.Wait(); logf.Close(); close(z.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if b, err := os.ReadFile(ready); err == nil && strings.TrimSpace(string(b)) != "" {
			z.addr = strings.TrimSpace(string(b))
			return nil
		}
		select {
		case <-z.done:
			return fmt.Errorf("zkit serve exited: %v", z.cmd.ProcessState)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("zkit serve did not write its ready file within 15s")
		}
	}
}

func (z *zkitServer) Hosts() []string { return []string{z.addr} }
func (z *zkitServer) PIDs() []int     { return []int{z.cmd.Process.Pid} }

// Stop sends SIGTERM (the server writes its profiles and exits), then
// SIGKILL after 10 s, to this PID only, and removes the directory.
func (z *zkitServer) Stop() error {
	err := z.terminate()
	os.RemoveAll(z.dir)
	return err
}

// Restart implements Restarter: SIGKILL (a crash: recovery replays the
// txn log since the newest snapshot), then `zkit serve` again on the same
// dataDir; it returns the time from exec to the ready file (written once
// the data directory is recovered and the port is bound).
func (z *zkitServer) Restart() (time.Duration, error) {
	if z.cmd != nil && z.cmd.Process != nil {
		_ = z.cmd.Process.Kill()
		<-z.done
	}
	t0 := time.Now()
	if err := z.start(); err != nil {
		return 0, fmt.Errorf("restarting zkit: %w\n%s", err, tailOf(filepath.Join(z.dir, "zkit.log"), 2000))
	}
	return time.Since(t0), nil
}

func (z *zkitServer) terminate() error {
	var err error
	if z.cmd != nil && z.cmd.Process != nil {
		select {
		case <-z.done:
		default:
			_ = z.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-z.done:
			case <-time.After(10 * time.Second):
				_ = z.cmd.Process.Kill()
				<-z.done
				err = errors.New("zkit serve did not stop within 10s of SIGTERM; killed")
			}
		}
	}
	return err
}

// tailOf returns up to the last n bytes of a file.
func tailOf(path string, n int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return string(b)
}
