package member

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

// startServer runs a standalone server on a free loopback port.
func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.ClientAddr = "127.0.0.1:0"
	if opts.TickTime == 0 {
		opts.TickTime = 100 * time.Millisecond
	}
	s := New(opts)
	require.NoError(t, s.Start())
	t.Cleanup(s.Stop)
	return s
}

func connect(t *testing.T, s *Server) *zk.Conn {
	t.Helper()
	c, _, err := zk.Connect([]string{s.Addr().String()}, 2*time.Second, zk.WithLogInfo(false))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestCRUDAndWatch(t *testing.T) {
	s := startServer(t, Options{})
	c := connect(t, s)

	p, err := c.Create("/a", []byte("hello"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	require.Equal(t, "/a", p)

	data, st, err := c.Get("/a")
	require.NoError(t, err)
	require.Equal(t, "hello", string(data))
	require.Equal(t, int32(0), st.Version)

	_, _, ch, err := c.GetW("/a")
	require.NoError(t, err)
	st2, err := c.Set("/a", []byte("bye"), 0)
	require.NoError(t, err)
	require.Equal(t, int32(1), st2.Version)
	select {
	case ev := <-ch:
		require.Equal(t, zk.EventNodeDataChanged, ev.Type)
		require.Equal(t, "/a", ev.Path)
	case <-time.After(2 * time.Second):
		t.Fatal("no watch event")
	}

	_, err = c.Set("/a", []byte("x"), 7)
	require.ErrorIs(t, err, zk.ErrBadVersion)

	seq, err := c.Create("/a/s-", nil, zk.FlagSequence, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	require.Equal(t, "/a/s-0000000000", seq)

	kids, _, err := c.Children("/a")
	require.NoError(t, err)
	require.Equal(t, []string{"s-0000000000"}, kids)

	require.ErrorIs(t, c.Delete("/a", -1), zk.ErrNotEmpty)
	require.NoError(t, c.Delete(seq, -1))
	require.NoError(t, c.Delete("/a", -1))
	ok, _, err := c.Exists("/a")
	require.NoError(t, err)
	require.False(t, ok)
}

func TestEphemeralGoesWithSession(t *testing.T) {
	s := startServer(t, Options{})
	c1 := connect(t, s)
	c2 := connect(t, s)
	_, err := c1.Create("/e", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	ok, _, ch, err := c2.ExistsW("/e")
	require.NoError(t, err)
	require.True(t, ok)
	c1.Close()
	select {
	case ev := <-ch:
		require.Equal(t, zk.EventNodeDeleted, ev.Type)
	case <-time.After(3 * time.Second):
		t.Fatal("ephemeral not deleted")
	}
}

func TestMulti(t *testing.T) {
	s := startServer(t, Options{})
	c := connect(t, s)
	_, err := c.Multi(
		&zk.CreateRequest{Path: "/m", Data: []byte("1"), Acl: zk.WorldACL(zk.PermAll)},
		&zk.SetDataRequest{Path: "/m", Data: []byte("2"), Version: 0},
	)
	require.NoError(t, err)
	res, err := c.Multi(
		&zk.CreateRequest{Path: "/m2", Acl: zk.WorldACL(zk.PermAll)},
		&zk.SetDataRequest{Path: "/m", Data: []byte("3"), Version: 5},
		&zk.DeleteRequest{Path: "/m", Version: -1},
	)
	require.Error(t, err)
	require.Len(t, res, 3)
	ok, _, err := c.Exists("/m2")
	require.NoError(t, err)
	require.False(t, ok, "a failed multi must apply nothing")
	d, _, err := c.Get("/m")
	require.NoError(t, err)
	require.Equal(t, "2", string(d))
}
