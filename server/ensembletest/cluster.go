package ensembletest

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"zkit/server/ensemble"
	"zkit/server/zab"
)

// Cluster is what a fault schedule needs of an ensemble: member processes
// (Procs) or an in-process ensemble (InProc).
type Cluster interface {
	IDs() []uint64
	Voters() []uint64
	ClientAddr(id uint64) string
	// Mode is "leader", "follower" or "observer" for a member that serves
	// clients, "" for one that does not (stopped, looking, syncing).
	Mode(id uint64) string
	// Leader is the one member that says it leads, if there is one.
	Leader() (uint64, bool)
	WaitLeader(timeout time.Duration) (uint64, error)
	WaitReady(timeout time.Duration) error
	// Kill crashes a member; Stop stops it cleanly. An error means the
	// member did not go away (a hang in the server, for instance).
	Kill(id uint64) error
	Stop(id uint64) error
	Start(id uint64) error
	// Partition cuts a member off from the others; Heal ends every cut.
	Partition(id uint64, mode CutMode)
	Heal()
	Events() *EventLog
}

var (
	_ Cluster = (*Procs)(nil)
	_ Cluster = (*InProc)(nil)
)

// InProc adapts an in-process ensemble (server/ensemble) to Cluster. Its
// Kill crashes a member's in-memory file system (what was not fsynced is
// lost) and its Partition blocks the member's quorum and election traffic.
type InProc struct {
	E      *ensemble.Ensemble
	events *EventLog
	stuck  bool // a member hangs: closing would hang too
}

// StartInProc starts an in-process ensemble and waits until it is ready.
func StartInProc(t testing.TB, cfg ensemble.Config) *InProc {
	t.Helper()
	var logPath string
	if cfg.Logger == nil {
		// The members' logs go to a file, shown (its tail) on failure.
		logPath = filepath.Join(t.TempDir(), "ensemble.log")
		f, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: f}, &slog.HandlerOptions{Level: inProcLogLevel}))
	}
	e, err := ensemble.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &InProc{E: e, events: NewEventLog()}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("harness events:\n%s", c.events)
			if logPath != "" {
				t.Logf("ensemble log tail:\n%s", tailFile(logPath, 80))
				if kept, err := keepFiles(t.Name(), logPath); err == nil {
					t.Logf("the whole log is kept in %s", kept)
				} else {
					t.Logf("the whole log is not kept: %v", err)
				}
			}
		}
		if c.stuck {
			t.Logf("not closing the in-process ensemble: a member is stuck (its goroutines leak)")
			go e.Close()
			return
		}
		if !within(30*time.Second, e.Close) {
			t.Errorf("the in-process ensemble did not close within 30s (a member is stuck; its goroutines leak)")
		}
	})
	if err := e.WaitReady(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

// IDs implements Cluster.
func (c *InProc) IDs() []uint64 {
	var out []uint64
	for _, m := range c.E.Members() {
		out = append(out, m.ID)
	}
	return out
}

// Voters implements Cluster.
func (c *InProc) Voters() []uint64 {
	var out []uint64
	for _, m := range c.E.Members() {
		if !m.Observer {
			out = append(out, m.ID)
		}
	}
	return out
}

// ClientAddr implements Cluster.
func (c *InProc) ClientAddr(id uint64) string { return c.E.Member(id).ClientAddr() }

// Mode implements Cluster.
func (c *InProc) Mode(id uint64) string {
	st := c.E.Member(id).Status()
	if !st.Running || !st.Serving {
		return ""
	}
	switch st.Role {
	case zab.Leading:
		return "leader"
	case zab.Observing:
		return "observer"
	case zab.Following:
		return "follower"
	}
	return ""
}

// Leader implements Cluster.
func (c *InProc) Leader() (uint64, bool) {
	var leaders []uint64
	for _, m := range c.E.Members() {
		if st := m.Status(); st.Running && st.Serving && st.Role == zab.Leading {
			leaders = append(leaders, m.ID)
		}
	}
	if len(leaders) != 1 {
		return 0, false
	}
	return leaders[0], true
}

// WaitLeader implements Cluster.
func (c *InProc) WaitLeader(timeout time.Duration) (uint64, error) {
	deadline := time.Now().Add(timeout)
	for {
		if id, ok := c.Leader(); ok {
			return id, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no single leader within %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitReady implements Cluster.
func (c *InProc) WaitReady(timeout time.Duration) error { return c.E.WaitReady(timeout) }

// Kill implements Cluster.
func (c *InProc) Kill(id uint64) error {
	c.events.Add("crash member %d", id)
	if !within(10*time.Second, c.E.Member(id).Kill) {
		c.stuck = true
		return fmt.Errorf("crashing member %d: Kill did not return within 10s (the member hangs while stopping)", id)
	}
	return nil
}

// Stop implements Cluster.
func (c *InProc) Stop(id uint64) error {
	c.events.Add("stop member %d", id)
	if !within(10*time.Second, c.E.Member(id).Stop) {
		c.stuck = true
		return fmt.Errorf("stopping member %d: Stop did not return within 10s (the member hangs while stopping)", id)
	}
	return nil
}

// within runs f and reports whether it returned in time (if not, it is
// left running).
func within(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// Start implements Cluster.
func (c *InProc) Start(id uint64) error {
	c.events.Add("start member %d", id)
	return c.E.Member(id).Start()
}

// Partition implements Cluster; the in-process ensemble has one way to cut.
func (c *InProc) Partition(id uint64, _ CutMode) {
	c.events.Add("partition member %d", id)
	if err := c.E.Partition(id); err != nil {
		panic(err)
	}
}

// Heal implements Cluster.
func (c *InProc) Heal() {
	c.events.Add("heal")
	c.E.Heal()
}

// Events implements Cluster.
func (c *InProc) Events() *EventLog { return c.events }

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// inProcLogLevel is the in-process members' log level (debug with
// ZKIT_TEST_DEBUG=1).
var inProcLogLevel = func() slog.Level {
	if os.Getenv("ZKIT_TEST_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}()

// KeepEnv names the environment variable that keeps a failed test's
// artifacts (the members' logs, a history's visualization) after the test:
// by default every file a test makes goes with its temp dir.
const KeepEnv = "ZKIT_TEST_KEEP"

func keeping() bool { return os.Getenv(KeepEnv) != "" }

// keepFiles copies files to a new directory that outlives the test, when
// $ZKIT_TEST_KEEP is set.
func keepFiles(name string, paths ...string) (string, error) {
	if !keeping() {
		return "", fmt.Errorf("set %s=1 to keep them", KeepEnv)
	}
	dir, err := os.MkdirTemp("", "ensembletest-"+strings.NewReplacer("/", "-", " ", "_").Replace(name)+"-")
	if err != nil {
		return "", err
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		base := filepath.Base(filepath.Dir(p)) + "-" + filepath.Base(p)
		if err := os.WriteFile(filepath.Join(dir, base), b, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}
