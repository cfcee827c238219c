package ensemble

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/internal/zkclient"
	"zkit/server/proto"
)

// A member cut off from its quorum serves clients that can be read-only,
// refuses the others, answers writes with NOTREADONLY, and drops its
// read-only clients when it rejoins, so they find a read-write server.
func TestReadOnlyModeWhilePartitioned(t *testing.T) {
	e := start(t, Config{ReadOnly: true, TickTime: 100 * time.Millisecond})
	c := client(t, e.ConnectString())
	mustCreate(t, c, "/ro", "before")

	var cut *Member
	for _, m := range e.Members() {
		if m != e.Leader() {
			cut = m
			break
		}
	}
	// The follower has applied /ro before it is cut off.
	require.Eventually(t, func() bool {
		return cut.Server().DB.LastZxid() >= e.Leader().Server().DB.LastZxid()
	}, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, e.Partition(cut.ID))
	require.Eventually(t, func() bool { return cut.Server().Status().ReadOnly }, 10*time.Second, 20*time.Millisecond,
		"the partitioned member never entered read-only mode")
	isro, err := zkclient.FourLetter(cut.ClientAddr(), "isro")
	require.NoError(t, err)
	require.Equal(t, "ro", isro)

	// A client that cannot be read-only is refused.
	_, err = zkclient.Connect(cut.ClientAddr(), zkclient.Options{Timeout: 4 * time.Second})
	require.Error(t, err)

	ro, err := zkclient.Connect(cut.ClientAddr(), zkclient.Options{Timeout: 4 * time.Second, CanBeReadOnly: true})
	require.NoError(t, err)
	defer ro.Close()
	require.True(t, ro.ReadOnly, "the connect response must say read-only")
	var data proto.GetDataResponse
	h, err := ro.Call(proto.OpGetData, &proto.PathWatchRequest{Path: "/ro"}, &data)
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, h.Err)
	require.Equal(t, "before", string(data.Data))
	for _, op := range []struct {
		op  proto.Op
		req proto.Record
	}{
		{proto.OpSetData, &proto.SetDataRequest{Path: "/ro", Data: []byte("x"), Version: -1}},
		{proto.OpCreate, &proto.CreateRequest{Path: "/new", ACL: proto.OpenACLUnsafe}},
		{proto.OpDelete, &proto.PathVersionRecord{Path: "/ro", Version: -1}},
		{proto.OpSync, &proto.PathRecord{Path: "/ro"}},
	} {
		h, err := ro.Call(op.op, op.req, nil)
		require.NoError(t, err)
		require.Equal(t, proto.ErrNotReadOnly, h.Err, "op %v", op.op)
	}
	// Reads go on after refused writes, on the same connection.
	h, err = ro.Call(proto.OpExists, &proto.PathWatchRequest{Path: "/ro"}, nil)
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, h.Err)

	e.Heal()
	select {
	case <-ro.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the read-only client was not dropped when the member rejoined")
	}
	require.Eventually(t, func() bool {
		st := cut.Server().Status()
		return st.Serving && !st.ReadOnly
	}, 10*time.Second, 20*time.Millisecond)
	rw, err := zkclient.Connect(cut.ClientAddr(), zkclient.Options{Timeout: 4 * time.Second, CanBeReadOnly: true})
	require.NoError(t, err)
	defer rw.Close()
	require.False(t, rw.ReadOnly)
	h, err = rw.Call(proto.OpSetData, &proto.SetDataRequest{Path: "/ro", Data: []byte("after"), Version: -1}, nil)
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, h.Err)
}

// Without readonlymode.enabled a partitioned member serves nobody.
func TestNoReadOnlyModeByDefault(t *testing.T) {
	e := start(t, Config{TickTime: 100 * time.Millisecond})
	var cut *Member
	for _, m := range e.Members() {
		if m != e.Leader() {
			cut = m
			break
		}
	}
	require.NoError(t, e.Partition(cut.ID))
	time.Sleep(2500 * time.Millisecond)
	require.False(t, cut.Server().Status().ReadOnly)
	_, err := zkclient.Connect(cut.ClientAddr(), zkclient.Options{Timeout: 4 * time.Second, CanBeReadOnly: true})
	require.Error(t, err)
}

// A session held by a follower lives on while its client pings: only the
// leader expires sessions, from the touches its learners relay.
func TestFollowerSessionOutlivesItsTimeout(t *testing.T) {
	e := start(t, Config{TickTime: 100 * time.Millisecond})
	var f *Member
	for _, m := range e.Members() {
		if m != e.Leader() {
			f = m
			break
		}
	}
	c, err := zkclient.Connect(f.ClientAddr(), zkclient.Options{Timeout: 2 * time.Second})
	require.NoError(t, err)
	defer c.Close()
	h, err := c.Call(proto.OpCreate, &proto.CreateRequest{Path: "/eph", ACL: proto.OpenACLUnsafe, Flags: 1}, nil)
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, h.Err)
	time.Sleep(3 * time.Duration(c.Timeout) * time.Millisecond)
	h, err = c.Call(proto.OpExists, &proto.PathWatchRequest{Path: "/eph"}, nil)
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, h.Err, "the session expired although its client pinged")
}
