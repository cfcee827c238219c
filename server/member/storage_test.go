package member

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

func durable(dir string) Options {
	return Options{Storage: StorageOptions{DataDir: dir, PreAlloc: 1 << 16}}
}

func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, durable(dir))
	c := connect(t, s)
	_, err := c.Create("/a", []byte("one"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, err = c.Set("/a", []byte("two"), 0)
	require.NoError(t, err)
	_, err = c.Multi(
		&zk.CreateRequest{Path: "/m", Data: []byte("x"), Acl: zk.WorldACL(zk.PermRead | zk.PermCreate)},
		&zk.CreateRequest{Path: "/m/k", Acl: zk.WorldACL(zk.PermAll)},
	)
	require.NoError(t, err)
	c.Close()
	s.Stop()

	s2 := startServer(t, durable(dir))
	c2 := connect(t, s2)
	data, st, err := c2.Get("/a")
	require.NoError(t, err)
	require.Equal(t, "two", string(data))
	require.Equal(t, int32(1), st.Version)
	acl, _, err := c2.GetACL("/m")
	require.NoError(t, err)
	require.Equal(t, zk.WorldACL(zk.PermRead|zk.PermCreate), acl)
	kids, _, err := c2.Children("/m")
	require.NoError(t, err)
	require.Equal(t, []string{"k"}, kids)
	// zxids continue after the recovered ones.
	st2, err := c2.Set("/a", []byte("three"), 1)
	require.NoError(t, err)
	require.Greater(t, st2.Mzxid, st.Mzxid)
	require.NotNil(t, s2.Store())
	require.Equal(t, 0, s2.Store().Recovery.Orphans)
}

// A session lives on across a restart with what is left of its timeout:
// its ephemeral is there at once. When the server was down longer than the
// timeout the session is expired at the first tick and its ephemeral goes.
func TestSessionsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, durable(dir))
	c := connect(t, s)
	_, err := c.Create("/e", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	s.Stop() // the client never closes its session

	s2 := startServer(t, durable(dir))
	c2 := connect(t, s2)
	ok, _, err := c2.Exists("/e")
	require.NoError(t, err)
	require.True(t, ok, "the session survived a short downtime")
	c2.Close()
	s2.Stop()
	c.Close()

	later := durable(dir)
	later.Now = func() time.Time { return time.Now().Add(time.Hour) }
	s3 := startServer(t, later)
	c3 := connect(t, s3)
	require.Eventually(t, func() bool {
		ok, _, err := c3.Exists("/e")
		return err == nil && !ok
	}, 5*time.Second, 20*time.Millisecond, "a session whose timeout passed while down is expired")
}
