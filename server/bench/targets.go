package bench

import (
	"errors"
	"fmt"
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
	// ignores them.
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
// When zkit gains them (the ensemble and durable storage issues), the
// suite's pending rows fill in without other changes.
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

// ErrAwaitsEnsemble is what zkit's launcher returns for Members > 1 until
// zkit runs ensembles.
var ErrAwaitsEnsemble = errors.New("zkit ensembles do not exist yet (awaits the ensemble issue)")

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
		return apacheServer{s}, nil
	}
	e, err := oracle.LaunchEnsemble(spec.Members, opts)
	if err != nil {
		return nil, err
	}
	return apacheEnsemble{e}, nil
}

type apacheServer struct{ s *oracle.Server }

func (a apacheServer) Hosts() []string { return []string{a.s.Addr()} }
func (a apacheServer) PIDs() []int     { return []int{a.s.PID()} }
func (a apacheServer) Stop() error     { a.s.Stop(); return nil }

// ConfigFile returns the zoo.cfg the server runs with.
func (a apacheServer) ConfigFile() string { return filepath.Join(a.s.Dir(), "zoo.cfg") }

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

// ---------------------------------------------------------------- zkit

// ZkitLauncher runs `zkit serve` as a child process: a zoo.cfg equivalent
// to Apache's (tickTime, dataDir, forceSync, maxClientCnxns=0, ...), client
// port 0, the bound address read from --ready-file.
type ZkitLauncher struct {
	Command []string // the zkit binary and "serve"; default: this executable
	// TempDir is where each server's directory (zoo.cfg, data/, zkit.log)
	// goes; default os.TempDir().
	TempDir string
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
		// Extension point: start spec.Members `zkit serve` processes with
		// server.N lines and myid files (as oracle.LaunchEnsemble does),
		// return a Target that also implements Failover.
		return nil, ErrAwaitsEnsemble
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
	z := &zkitServer{dir: dir}
	if err := z.start(cmd, spec); err != nil {
		tail := tailOf(filepath.Join(dir, "zkit.log"), 2000)
		z.Stop()
		return nil, fmt.Errorf("starting zkit: %w\n%s", err, tail)
	}
	return z, nil
}

type zkitServer struct {
	dir  string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func (z *zkitServer) start(command []string, spec Spec) error {
	data := filepath.Join(z.dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	cfg := filepath.Join(z.dir, "zoo.cfg")
	if err := os.WriteFile(cfg, []byte(ZkitConfig(spec, data)), 0o644); err != nil {
		return err
	}
	ready := filepath.Join(z.dir, "ready")
	logf, err := os.Create(filepath.Join(z.dir, "zkit.log"))
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
	os.RemoveAll(z.dir)
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
