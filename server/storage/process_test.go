package storage

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

// TestKillNine runs the real zkit binary on a data directory, has many
// sessions create and setData (and multi) concurrently, and kills the
// server with SIGKILL at random moments, many times. After each restart
// every acknowledged create and setData is there with its data and version;
// an operation whose answer the kill swallowed is there whole or not at
// all; the two nodes of a multi exist together or not at all.
func TestKillNine(t *testing.T) {
	kills := 20
	if testing.Short() {
		kills = 6
	}
	bin := buildZkit(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(
		"tickTime=200\ndataDir=%s\nclientPort=2181\nmaxClientCnxns=0\nsnapCount=400\npreAllocSize=256\n",
		filepath.Join(dir, "data"))), 0o644))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	m := &killModel{nodes: map[string]*nodeState{}}
	start := time.Now()
	for round := 0; round < kills; round++ {
		srv := startZkit(t, bin, cfg, dir)
		m.verify(t, srv.addr, round)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := 0; c < 16; c++ {
			wg.Add(1)
			crng := rand.New(rand.NewPCG(rng.Uint64(), 9))
			go func() {
				defer wg.Done()
				m.client(srv.addr, fmt.Sprintf("/r%d-c%d", round, c), crng, stop)
			}()
		}
		time.Sleep(time.Duration(50+rng.IntN(600)) * time.Millisecond)
		srv.kill(t)
		close(stop)
		wg.Wait()
	}
	srv := startZkit(t, bin, cfg, dir)
	m.verify(t, srv.addr, kills)
	srv.kill(t)
	t.Logf("%d SIGKILLs survived in %v: %d acknowledged writes checked, %d writes of unknown outcome resolved",
		kills, time.Since(start).Round(time.Millisecond), m.acked, m.unknown)
}

var (
	zkitOnce sync.Once
	zkitBin  string
	zkitErr  error
	zkitDir  string // removed by TestMain
)

// buildZkit builds the zkit binary once per test run.
func buildZkit(t *testing.T) string {
	t.Helper()
	zkitOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if zkitDir, zkitErr = os.MkdirTemp("", "zkit-storage-test-"); zkitErr != nil {
			return
		}
		zkitBin = filepath.Join(zkitDir, "zkit")
		out, err := exec.Command(goBin, "build", "-o", zkitBin, "zkit/server/cmd/zkit").CombinedOutput()
		if err != nil {
			zkitErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	require.NoError(t, zkitErr)
	return zkitBin
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if zkitDir != "" {
		os.RemoveAll(zkitDir)
	}
	os.Exit(code)
}

type zkitProc struct {
	cmd  *exec.Cmd
	addr string
	log  *bytes.Buffer
}

func startZkit(t *testing.T, bin, cfg, dir string) *zkitProc {
	t.Helper()
	ready := filepath.Join(dir, "addr")
	os.Remove(ready)
	p := &zkitProc{log: &bytes.Buffer{}}
	p.cmd = exec.Command(bin, "serve", cfg, "--client-addr", "127.0.0.1:0", "--ready-file", ready, "--log-level", "warn")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() { p.kill(t) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(ready); err == nil {
			p.addr = strings.TrimSpace(string(b))
			return p
		}
		if time.Now().After(deadline) || p.cmd.ProcessState != nil {
			p.kill(t)
			t.Fatalf("zkit did not start:\n%s", p.log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kill sends SIGKILL to the process this test started, by its PID.
func (p *zkitProc) kill(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// nodeState is what a client knows of one of its nodes.
type nodeState struct {
	exists  bool
	version int32
	data    string
	// pending is the write in flight when the server died: its outcome is
	// unknown until the next start.
	pending *nodeState
	pair    string // the other node of a multi
}

type killModel struct {
	mu      sync.Mutex
	nodes   map[string]*nodeState
	acked   int
	unknown int
}

var quietZK = zk.WithLogger(nopLogger{})

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

func dial(addr string) (*zk.Conn, error) {
	c, _, err := zk.Connect([]string{addr}, 4*time.Second, zk.WithLogInfo(false), quietZK)
	return c, err
}

// client writes under its own prefix, one request at a time, until stop or
// until the connection dies.
func (m *killModel) client(addr, prefix string, rng *rand.Rand, stop <-chan struct{}) {
	c, err := dial(addr)
	if err != nil {
		return
	}
	defer c.Close()
	acl := zk.WorldACL(zk.PermAll)
	if _, err := c.Create(prefix, nil, 0, acl); err != nil {
		return
	}
	m.set(prefix, &nodeState{exists: true})
	var mine []string
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		var err error
		switch r := rng.IntN(10); {
		case r < 3 || len(mine) == 0:
			p := fmt.Sprintf("%s/n%d", prefix, i)
			err = m.do(p, &nodeState{exists: true, data: p}, "", func() error { _, e := c.Create(p, []byte(p), 0, acl); return e })
			mine = append(mine, p)
		case r < 4:
			a, b := fmt.Sprintf("%s/a%d", prefix, i), fmt.Sprintf("%s/b%d", prefix, i)
			err = m.do(a, &nodeState{exists: true, data: "a"}, b, func() error {
				_, e := c.Multi(&zk.CreateRequest{Path: a, Data: []byte("a"), Acl: acl}, &zk.CreateRequest{Path: b, Data: []byte("b"), Acl: acl})
				return e
			})
		default:
			p := mine[rng.IntN(len(mine))]
			cur := m.get(p)
			if cur == nil || !cur.exists {
				continue
			}
			data := fmt.Sprintf("%s@%d", p, cur.version+1)
			err = m.do(p, &nodeState{exists: true, version: cur.version + 1, data: data}, "", func() error {
				_, e := c.Set(p, []byte(data), cur.version)
				return e
			})
		}
		if err != nil {
			return
		}
	}
}

func (m *killModel) get(p string) *nodeState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.nodes[p]
}

func (m *killModel) set(p string, s *nodeState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes[p] = s
}

// do runs one write: acknowledged, it becomes the known state; failed by
// the kill, its outcome is pending.
func (m *killModel) do(p string, next *nodeState, pair string, write func() error) error {
	err := write()
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.nodes[p]
	if cur == nil {
		cur = &nodeState{}
		m.nodes[p] = cur
	}
	if pair != "" {
		cur.pair = pair
		if m.nodes[pair] == nil {
			m.nodes[pair] = &nodeState{pair: p}
		}
	}
	if err == nil {
		next.pair = cur.pair
		m.nodes[p] = next
		if pair != "" {
			m.nodes[pair] = &nodeState{exists: true, data: "b", pair: p}
		}
		m.acked++
		return nil
	}
	if errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("unexpected %w on %s: the model is out of step", err, p)
	}
	cur.pending = next
	if pair != "" {
		m.nodes[pair].pending = &nodeState{exists: true, data: "b"}
	}
	return err
}

// verify reads every node a client wrote and checks it against the model,
// then adopts what it read for the writes whose outcome was unknown.
func (m *killModel) verify(t *testing.T, addr string, round int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	got := m.readAll(t, addr)
	for p, want := range m.nodes {
		g := got[p]
		ok := same(g, want) || (want.pending != nil && same(g, want.pending))
		require.True(t, ok, "round %d: %s is %+v; acknowledged %+v, in flight %+v", round, p, *g, *want, want.pending)
		if want.pending != nil {
			m.unknown++
		}
		if want.pair != "" {
			require.Equal(t, g.exists, got[want.pair].exists, "round %d: multi half-applied: %s and %s", round, p, want.pair)
		}
	}
	for p, want := range m.nodes {
		g := got[p]
		want.exists, want.version, want.data, want.pending = g.exists, g.version, g.data, nil
	}
}

// readAll reads every node of the model, over a few connections at once.
func (m *killModel) readAll(t *testing.T, addr string) map[string]*nodeState {
	paths := make([]string, 0, len(m.nodes))
	for p := range m.nodes {
		paths = append(paths, p)
	}
	out := make(map[string]*nodeState, len(paths))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial(addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := w; i < len(paths); i += 8 {
				data, st, err := c.Get(paths[i])
				if err != nil && !errors.Is(err, zk.ErrNoNode) {
					errs <- err
					return
				}
				g := &nodeState{exists: err == nil}
				if g.exists {
					g.version, g.data = st.Version, string(data)
				}
				mu.Lock()
				out[paths[i]] = g
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return out
}

func same(got, want *nodeState) bool {
	if !want.exists {
		return !got.exists
	}
	return got.exists && got.version == want.version && got.data == want.data
}

// TestSigterm stops the server with SIGTERM under load: it exits within a
// second, cleanly, and every acknowledged write is there after a restart.
func TestSigterm(t *testing.T) {
	bin := buildZkit(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(
		"tickTime=200\ndataDir=%s\nclientPort=2181\nmaxClientCnxns=0\npreAllocSize=256\n", filepath.Join(dir, "data"))), 0o644))
	m := &killModel{nodes: map[string]*nodeState{}}
	for round := 0; round < 3; round++ {
		srv := startZkit(t, bin, cfg, dir)
		m.verify(t, srv.addr, round)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := 0; c < 8; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.client(srv.addr, fmt.Sprintf("/t%d-c%d", round, c), rand.New(rand.NewPCG(uint64(round), uint64(c))), stop)
			}()
		}
		time.Sleep(300 * time.Millisecond)
		start := time.Now()
		require.NoError(t, srv.cmd.Process.Signal(syscall.SIGTERM))
		err := srv.cmd.Wait()
		took := time.Since(start)
		require.NoError(t, err, "a clean exit:\n%s", srv.log)
		require.Less(t, took, time.Second, "SIGTERM took %v", took)
		close(stop)
		wg.Wait()
	}
	srv := startZkit(t, bin, cfg, dir)
	m.verify(t, srv.addr, 3)
	srv.kill(t)
}
