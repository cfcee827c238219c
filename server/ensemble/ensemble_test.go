package ensemble

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

func start(t *testing.T, cfg Config) *Ensemble {
	t.Helper()
	e, err := Start(cfg)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	require.NoError(t, e.WaitReady(10*time.Second))
	return e
}

func client(t *testing.T, hosts string) *zk.Conn {
	t.Helper()
	c, _, err := zk.Connect(strings.Split(hosts, ","), 4*time.Second, zk.WithLogInfo(false))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func mustCreate(t *testing.T, c *zk.Conn, path, data string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := c.Create(path, []byte(data), 0, zk.WorldACL(zk.PermAll))
		return err == nil || err == zk.ErrNodeExists
	}, 10*time.Second, 10*time.Millisecond, "create %s", path)
}

func TestStartToFirstWrite(t *testing.T) {
	began := time.Now()
	e, err := Start(Config{})
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, e.WaitReady(10*time.Second))
	t.Logf("3-member ensemble: ready %v after Start", time.Since(began))
	c := client(t, e.ConnectString())
	mustCreate(t, c, "/first", "x")
	t.Logf("3-member ensemble: first write %v after Start", time.Since(began))
	require.NotNil(t, e.Leader())
}

func TestKillLeaderKeepsData(t *testing.T) {
	e := start(t, Config{})
	c := client(t, e.ConnectString())
	for i := 0; i < 50; i++ {
		mustCreate(t, c, fmt.Sprintf("/k%d", i), "v")
	}
	old := e.Leader()
	old.Kill()
	began := time.Now()
	require.Eventually(t, func() bool { l := e.Leader(); return l != nil && l != old }, 10*time.Second, 2*time.Millisecond)
	t.Logf("new leader %v after the kill", time.Since(began))
	mustCreate(t, c, "/after-failover", "y")
	kids, _, err := c.Children("/")
	require.NoError(t, err)
	require.Len(t, kids, 52)
	// The killed member comes back and catches up.
	require.NoError(t, old.Start())
	require.NoError(t, e.WaitReady(10*time.Second))
	oc := client(t, old.ClientAddr())
	_, err = oc.Sync("/")
	require.NoError(t, err)
	kids, _, err = oc.Children("/")
	require.NoError(t, err)
	require.Len(t, kids, 52)
}

func TestPartitionedFollowerStopsServing(t *testing.T) {
	e := start(t, Config{})
	var f *Member
	for _, m := range e.Members() {
		if m != e.Leader() {
			f = m
			break
		}
	}
	require.NoError(t, e.Partition(f.ID))
	require.Eventually(t, func() bool { return !f.Status().Serving }, 10*time.Second, 5*time.Millisecond)
	c := client(t, e.ConnectString())
	mustCreate(t, c, "/while-partitioned", "p")
	e.Heal()
	require.NoError(t, e.WaitReady(10*time.Second))
	fc := client(t, f.ClientAddr())
	require.Eventually(t, func() bool {
		ok, _, err := fc.Exists("/while-partitioned")
		return err == nil && ok
	}, 10*time.Second, 10*time.Millisecond)
}

func TestObserverServesReadsAndForwardsWrites(t *testing.T) {
	e := start(t, Config{Size: 3, Observers: 1})
	obs := e.Member(4)
	require.True(t, obs.Observer)
	require.Equal(t, "observing", obs.Status().State())
	c := client(t, obs.ClientAddr())
	mustCreate(t, c, "/via-observer", "o")
	d, _, err := c.Get("/via-observer")
	require.NoError(t, err)
	require.Equal(t, "o", string(d))
}

func TestExpireSession(t *testing.T) {
	e := start(t, Config{})
	c := client(t, e.ConnectString())
	_, err := c.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	other := client(t, e.ConnectString())
	require.NoError(t, e.ExpireSession(c.SessionID()))
	require.Eventually(t, func() bool {
		ok, _, err := other.Exists("/eph")
		return err == nil && !ok
	}, 10*time.Second, 10*time.Millisecond)
}

func TestDataDirSurvivesRestartOfAll(t *testing.T) {
	dir := t.TempDir()
	e := start(t, Config{DataDir: dir})
	c := client(t, e.ConnectString())
	for i := 0; i < 20; i++ {
		mustCreate(t, c, fmt.Sprintf("/d%d", i), "v")
	}
	c.Close()
	for _, m := range e.Members() {
		m.Stop()
	}
	for _, m := range e.Members() {
		require.NoError(t, m.Start())
	}
	require.NoError(t, e.WaitReady(10*time.Second))
	c2 := client(t, e.ConnectString())
	kids, _, err := c2.Children("/")
	require.NoError(t, err)
	require.Len(t, kids, 21)
}
