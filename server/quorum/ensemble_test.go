package quorum

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/conn"
	"zkit/server/db"
	"zkit/server/pipeline"
	"zkit/server/session"
	"zkit/server/zab"
)

// testMember is one in-process member assembled by hand (the member
// package does the same for real servers).
type testMember struct {
	id      uint64
	peer    *Peer
	tr      *Transport
	clients *conn.Server
	proc    *pipeline.Processor
	db      *db.DB
	be      *memBackend
}

type testEnsemble struct {
	t       *testing.T
	members []*testMember
}

func newTestEnsemble(t *testing.T, n int) *testEnsemble {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := &testEnsemble{t: t}
	addrs := map[uint64]Addrs{}
	var voters []uint64
	trs := map[uint64]*Transport{}
	for i := 1; i <= n; i++ {
		id := uint64(i)
		tr, err := NewTransport(id, "127.0.0.1:0", "127.0.0.1:0", log)
		require.NoError(t, err)
		trs[id] = tr
		addrs[id] = Addrs{Quorum: tr.QuorumAddr(), Election: tr.ElectionAddr()}
		voters = append(voters, id)
	}
	for i := 1; i <= n; i++ {
		id := uint64(i)
		m := &testMember{id: id, tr: trs[id], be: &memBackend{}}
		e.members = append(e.members, m)
		e.build(m, voters, addrs, log)
	}
	t.Cleanup(e.close)
	return e
}

func (e *testEnsemble) build(m *testMember, voters []uint64, addrs map[uint64]Addrs, log *slog.Logger) {
	reg := auth.NewRegistry("")
	m.db = db.New(reg, true)
	tracker := session.NewTracker(100*time.Millisecond, int64(m.id), nil)
	var peer *Peer
	m.proc = pipeline.New(m.db, reg, tracker, pipeline.Options{
		Logger:  log,
		Applied: func(z int64, n int) { peer.Applied(z, n) },
	})
	m.clients = conn.New(conn.Config{Addr: "127.0.0.1:0", MinSessionTimeout: 200, MaxSessionTimeout: 10000},
		m.proc, m.db, conn.LocalSessions{Tracker: tracker}, reg, log)
	require.NoError(e.t, m.clients.Listen())
	m.clients.SetServing(false)
	peers := map[uint64]Addrs{}
	for id, a := range addrs {
		if id != m.id {
			peers[id] = a
		}
	}
	var err error
	peer, err = NewPeer(Config{
		ID: m.id, Voters: voters, Peers: peers, TickTime: 100 * time.Millisecond,
		InitLimit: 10, SyncLimit: 5, Logger: log,
	}, m.tr, m.be, m.db, m.proc, tracker, m.clients)
	require.NoError(e.t, err)
	m.peer = peer
	m.proc.Start(dropReplicator{})
	go m.clients.Serve()
	peer.Start()
}

func (e *testEnsemble) close() {
	var wg sync.WaitGroup
	for _, m := range e.members {
		wg.Add(1)
		go func(m *testMember) {
			defer wg.Done()
			m.peer.Stop()
			m.tr.Close()
			m.clients.Close()
			m.proc.Stop()
		}(m)
	}
	wg.Wait()
}

func (e *testEnsemble) hosts() []string {
	var out []string
	for _, m := range e.members {
		out = append(out, m.clients.Addr().String())
	}
	return out
}

func (e *testEnsemble) waitServing(timeout time.Duration) *testMember {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var leader *testMember
		all := true
		for _, m := range e.members {
			st := m.peer.Status()
			if !st.Serving {
				all = false
			}
			if st.Role == zab.Leading && st.Serving {
				leader = m
			}
		}
		if all && leader != nil {
			return leader
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, m := range e.members {
		e.t.Logf("member %d: %+v", m.id, m.peer.Status())
	}
	e.t.Fatal("ensemble did not start serving")
	return nil
}

func TestEnsembleReplicatesWrites(t *testing.T) {
	e := newTestEnsemble(t, 3)
	start := time.Now()
	leader := e.waitServing(10 * time.Second)
	t.Logf("serving after %v; leader %d", time.Since(start), leader.id)

	// One client per member: writes through followers are forwarded.
	var conns []*zk.Conn
	for _, h := range e.hosts() {
		c, _, err := zk.Connect([]string{h}, 2*time.Second, zk.WithLogInfo(false))
		require.NoError(t, err)
		t.Cleanup(c.Close)
		conns = append(conns, c)
	}
	for i, c := range conns {
		_, err := c.Create(fmt.Sprintf("/n%d", i), []byte(fmt.Sprint(i)), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
	}
	for _, c := range conns {
		_, err := c.Sync("/")
		require.NoError(t, err)
		for i := range conns {
			d, _, err := c.Get(fmt.Sprintf("/n%d", i))
			require.NoError(t, err)
			require.Equal(t, fmt.Sprint(i), string(d))
		}
	}
	// Watches fire on every member.
	_, _, ch, err := conns[2].GetW("/n0")
	require.NoError(t, err)
	_, err = conns[0].Set("/n0", []byte("x"), -1)
	require.NoError(t, err)
	select {
	case ev := <-ch:
		require.Equal(t, zk.EventNodeDataChanged, ev.Type)
	case <-time.After(3 * time.Second):
		t.Fatal("no watch event on a follower")
	}
	// Ephemerals go with their session, wherever it was created.
	_, err = conns[1].Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	conns[1].Close()
	require.Eventually(t, func() bool {
		ok, _, err := conns[0].Exists("/eph")
		return err == nil && !ok
	}, 5*time.Second, 20*time.Millisecond)
}

func (e *testEnsemble) kill(m *testMember) {
	m.peer.Stop()
	m.tr.Close()
	m.clients.Close()
}

func (e *testEnsemble) waitLeaderAmong(ms []*testMember, timeout time.Duration) *testMember {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, m := range ms {
			if st := m.peer.Status(); st.Role == zab.Leading && st.Serving {
				return m
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	e.t.Fatal("no new leader")
	return nil
}

func TestLeaderFailover(t *testing.T) {
	e := newTestEnsemble(t, 3)
	leader := e.waitServing(10 * time.Second)
	var rest []*testMember
	var hosts []string
	for _, m := range e.members {
		if m != leader {
			rest = append(rest, m)
			hosts = append(hosts, m.clients.Addr().String())
		}
	}
	c, _, err := zk.Connect(hosts, 2*time.Second, zk.WithLogInfo(false))
	require.NoError(t, err)
	defer c.Close()
	for i := 0; i < 20; i++ {
		_, err := c.Create(fmt.Sprintf("/before-%d", i), nil, 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
	}
	start := time.Now()
	e.kill(leader)
	newLeader := e.waitLeaderAmong(rest, 10*time.Second)
	t.Logf("new leader serving %v after the kill", time.Since(start))
	require.Eventually(t, func() bool {
		_, err := c.Create("/after", nil, 0, zk.WorldACL(zk.PermAll))
		return err == nil
	}, 10*time.Second, 5*time.Millisecond)
	t.Logf("failover: new leader %d, a write succeeded %v after the kill", newLeader.id, time.Since(start))
	kids, _, err := c.Children("/")
	require.NoError(t, err)
	require.Len(t, kids, 22) // 20 + /after + /zookeeper
}
