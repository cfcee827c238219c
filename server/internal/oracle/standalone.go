package oracle

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
const stopGrace = 5 * time.Second

// Server is a standalone Apache ZooKeeper (ZooKeeperServerMain) in a child JVM.
type Server struct {
	n         *node
	root      string // temp dir, removed by Stop
	addr      string
	startTime time.Duration
	stopOnce  sync.Once
}

// Start launches a standalone Apache ZooKeeper for a test or benchmark and
// registers its cleanup with tb. Any failure, including Java or the jars being
// absent, fails tb (never skips) with the log tail and what to install. When
// the test has failed, cleanup logs the tail of the server log.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Launch(opts)
	if err != nil {
		tb.Fatalf("oracle.Start: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("Apache ZooKeeper %s (pid %d) log tail:\n%s", s.Addr(), s.PID(), s.LogTail(60))
		}
		s.Stop()
	})
	return s
}

// Launch starts a standalone Apache ZooKeeper in a fresh temp dir and returns
// once it serves clients (srvr reports "Mode: standalone"). The caller must
// call Stop.
func Launch(opts Options) (*Server, error) {
	rt, err := resolveRuntime(opts)
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "zkit-oracle-")
	if err != nil {
		return nil, err
	}
	s := &Server{root: root}
	if err := s.launch(rt, opts); err != nil {
		tail := ""
		if s.n != nil {
			tail = s.n.logTail(40)
			s.n.stop(0)
		}
		os.RemoveAll(root)
		if tail != "" {
			return nil, fmt.Errorf("%w\nlog tail:\n%s", err, tail)
		}
		return nil, err
	}
	return s, nil
}

func (s *Server) launch(rt runtime, opts Options) error {
	n, err := newNode(rt, opts, "org.apache.zookeeper.server.ZooKeeperServerMain", s.root)
	if err != nil {
		return err
	}
	s.n = n
	cfg, err := mergeConfig([]kv{
		{"tickTime", strconv.Itoa(opts.tickTime())},
		{"dataDir", n.dataDir()},
		{"maxClientCnxns", "0"},
		{"admin.enableServer", "false"},
		{"4lw.commands.whitelist", "*"},
	}, opts.Config)
	if err != nil {
		return err
	}
	if v, ok := opts.Config["standaloneEnabled"]; ok && v != "true" {
		return fmt.Errorf("oracle: standaloneEnabled=%s is not supported by a standalone server", v)
	}
	// Port 0: see the package comment. The quorum/election ports 1 and 2 are
	// never bound by ZooKeeperServerMain.
	cfg = append(cfg, kv{"server.1", "127.0.0.1:1:2;127.0.0.1:0"})
	if err := writeConfig(n.cfgPath, cfg); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(n.dataDir(), "myid"), []byte("1\n"), 0o644); err != nil {
		return err
	}
	t0 := time.Now()
	p, err := n.start()
	if err != nil {
		return err
	}
	deadline := t0.Add(opts.startTimeout())
	for {
		if err := p.exitError(); err != nil {
			return fmt.Errorf("oracle: Apache ZooKeeper did not start: %v", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("oracle: Apache ZooKeeper did not serve within %v", opts.startTimeout())
		}
		if s.addr == "" {
			if ap, err := clientListener(p.pid()); err == nil {
				s.addr = ap.String()
			}
		}
		if s.addr != "" {
			if mode, err := pollMode(s.addr); err == nil && mode != "" {
				s.startTime = time.Since(t0)
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clientListener returns the single 127.0.0.1 listening address of pid.
func clientListener(pid int) (netip.AddrPort, error) {
	aps, err := listeningAddrs(pid)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var found []netip.AddrPort
	for _, ap := range aps {
		if ap.Addr() == netip.AddrFrom4([4]byte{127, 0, 0, 1}) {
			found = append(found, ap)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return netip.AddrPort{}, fmt.Errorf("oracle: pid %d does not listen on 127.0.0.1 yet", pid)
	default:
		return netip.AddrPort{}, fmt.Errorf("oracle: pid %d listens on several 127.0.0.1 ports: %v", pid, found)
	}
}

// Addr is the client address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// PID is the JVM's process id.
func (s *Server) PID() int {
	if p := s.n.current(); p != nil {
		return p.pid()
	}
	return 0
}

// Dir is the server's temp dir (zoo.cfg, data/, zookeeper.log, console.log).
func (s *Server) Dir() string { return s.root }

// StartupTime is how long the JVM took from exec to serving.
func (s *Server) StartupTime() time.Duration { return s.startTime }

// LogTail returns the last n lines of the server's log4j log, followed by
// the JVM's stdout/stderr when it wrote anything there.
func (s *Server) LogTail(n int) string { return s.n.logTail(n) }

// Stop ends the JVM (SIGTERM, SIGKILL after 5s; only the process this
// package started, by PID), waits for it and removes the temp dir. It is
// safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.n.stop(stopGrace)
		os.RemoveAll(s.root)
	})
}

// Kill sends SIGKILL to the JVM and waits for it; the temp dir stays until
// Stop.
func (s *Server) Kill() { s.n.stop(0) }
