package compat

// zkit-only tests: the exact 3.9 behaviour behind each allowance of
// allow_test.go, asserted against zkit alone (the 3.8.0 oracle cannot
// show it).

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/internal/zkclient"
	"zkit/server/jute"
	"zkit/server/member"
	"zkit/server/proto"
)

// startZkit runs a zkit server configured like the differential pairs.
func startZkit(t *testing.T, reap time.Duration) string {
	t.Helper()
	if reap == 0 {
		reap = time.Hour
	}
	s := member.New(member.Options{
		ClientAddr:             "127.0.0.1:0",
		TickTime:               tickMS * time.Millisecond,
		ExtendedTypes:          true,
		SuperDigest:            superDigest,
		ContainerCheckInterval: reap,
		Logger:                 slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, s.Start())
	t.Cleanup(s.Stop)
	return s.Addr().String()
}

// zc is a zkclient session with assertion helpers.
type zc struct {
	t *testing.T
	*zkclient.Client
}

func dial(t *testing.T, addr string) *zc {
	t.Helper()
	c, err := zkclient.Connect(addr, zkclient.Options{Timeout: 4 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { c.Drop() })
	return &zc{t, c}
}

func (c *zc) call(op proto.Op, req, resp proto.Record) proto.ReplyHeader {
	c.t.Helper()
	h, err := c.Call(op, req, resp)
	require.NoError(c.t, err)
	return h
}

func (c *zc) create(path string, acl []proto.ACL, flags int32) proto.ReplyHeader {
	c.t.Helper()
	h := c.call(proto.OpCreate, &proto.CreateRequest{Path: path, Data: []byte{}, ACL: acl, Flags: flags}, &proto.PathRecord{})
	require.Equal(c.t, proto.ErrOK, h.Err, "create %s", path)
	return h
}

func (c *zc) setData(path, data string) proto.ReplyHeader {
	c.t.Helper()
	h := c.call(proto.OpSetData, &proto.SetDataRequest{Path: path, Data: []byte(data), Version: -1}, &proto.StatResponse{})
	require.Equal(c.t, proto.ErrOK, h.Err, "setData %s", path)
	return h
}

func (c *zc) auth(cred string) {
	c.t.Helper()
	code, err := c.Auth("digest", []byte(cred))
	require.NoError(c.t, err)
	require.Equal(c.t, proto.ErrOK, code)
}

// events collects what arrived before a read answered (ZooKeeper sends
// notifications before any later reply).
func (c *zc) events() []zkclient.Event {
	c.t.Helper()
	c.call(proto.OpExists, &proto.PathWatchRequest{Path: "/"}, nil)
	var out []zkclient.Event
	for {
		select {
		case ev := <-c.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

func ev(typ proto.EventType, path string, zxid int64) zkclient.Event {
	return zkclient.Event{WatcherEvent: proto.WatcherEvent{Type: typ, State: proto.StateSyncConnected, Path: path}, Zxid: zxid}
}

// ZOOKEEPER-4655: a notification carries the zxid of the txn that fired it;
// setWatches catch-up events carry -1.
func TestZkitNotificationZxid(t *testing.T) {
	addr := startZkit(t, 0)
	w, c := dial(t, addr), dial(t, addr)
	c.create("/n", open, 0)
	w.call(proto.OpGetData, &proto.PathWatchRequest{Path: "/n", Watch: true}, &proto.GetDataResponse{})
	h := c.setData("/n", "x")
	require.Equal(t, []zkclient.Event{ev(proto.EventNodeDataChanged, "/n", h.Zxid)}, w.events())

	// A multi: every event has the multi's zxid.
	w.call(proto.OpGetData, &proto.PathWatchRequest{Path: "/n", Watch: true}, &proto.GetDataResponse{})
	w.call(proto.OpGetChildren, &proto.PathWatchRequest{Path: "/", Watch: true}, &proto.ChildrenResponse{})
	h = c.call(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{mSetData("/n", "y", -1), mCreate("/m", "", open, 0)}}, &proto.MultiResponse{})
	require.Equal(t, proto.ErrOK, h.Err)
	require.ElementsMatch(t, []zkclient.Event{ev(proto.EventNodeDataChanged, "/n", h.Zxid), ev(proto.EventNodeChildrenChanged, "/", h.Zxid)}, w.events())

	// An ephemeral deleted by closeSession: the closeSession's zxid.
	e := dial(t, addr)
	e.create("/e", open, proto.ModeEphemeral)
	w.call(proto.OpExists, &proto.PathWatchRequest{Path: "/e", Watch: true}, &proto.StatResponse{})
	h = e.call(proto.OpCloseSession, nil, nil)
	require.Equal(t, []zkclient.Event{ev(proto.EventNodeDeleted, "/e", h.Zxid)}, w.events())

	// setWatches: the catch-up event is not fired by a txn here.
	w.call(proto.OpSetWatches, &proto.SetWatches{RelativeZxid: 1, DataWatches: []string{"/n"}, ExistWatches: []string{}, ChildWatches: []string{}}, nil)
	require.Equal(t, []zkclient.Event{ev(proto.EventNodeDataChanged, "/n", -1)}, w.events())
}

// ZOOKEEPER-4799 / CVE-2024-23944: no event for a znode the watcher cannot
// READ, whatever the watch (recursive, standard set while readable).
func TestZkitUnreadableEventsDropped(t *testing.T) {
	addr := startZkit(t, 0)
	secret := acls(acl(proto.PermAll, "digest", auth.Digest("alice:pw")))
	o, w := dial(t, addr), dial(t, addr)
	o.auth("alice:pw")
	o.create("/d", open, 0)
	w.call(proto.OpAddWatch, &proto.PathTypeRequest{Path: "/d", Type: proto.AddWatchPersistentRecursive}, nil)
	o.create("/d/secret", secret, 0)
	o.setData("/d/secret", "x")
	h := o.create("/d/open", open, 0)
	require.Equal(t, []zkclient.Event{ev(proto.EventNodeCreated, "/d/open", h.Zxid)}, w.events())

	o.create("/x", open, 0)
	w.call(proto.OpGetData, &proto.PathWatchRequest{Path: "/x", Watch: true}, &proto.GetDataResponse{})
	o.call(proto.OpSetACL, &proto.SetACLRequest{Path: "/x", ACL: secret, Version: -1}, &proto.StatResponse{})
	o.setData("/x", "1")
	require.Empty(t, w.events())

	// Once the watcher may read, events come.
	w.auth("alice:pw")
	h = o.setData("/d/secret", "y")
	require.Equal(t, []zkclient.Event{ev(proto.EventNodeDataChanged, "/d/secret", h.Zxid)}, w.events())
}

// ZOOKEEPER-2590: exists checks READ on an existing znode and then sets no
// watch; a missing znode is not checked.
func TestZkitExistsChecksRead(t *testing.T) {
	addr := startZkit(t, 0)
	secret := acls(acl(proto.PermAll, "digest", auth.Digest("alice:pw")))
	o, c := dial(t, addr), dial(t, addr)
	o.auth("alice:pw")
	o.create("/s", secret, 0)
	h := c.call(proto.OpExists, &proto.PathWatchRequest{Path: "/s", Watch: true}, &proto.StatResponse{})
	require.Equal(t, proto.ErrNoAuth, h.Err)
	o.call(proto.OpSetACL, &proto.SetACLRequest{Path: "/s", ACL: open, Version: -1}, &proto.StatResponse{})
	o.setData("/s", "x")
	require.Empty(t, c.events(), "exists with NOAUTH must not leave a watch")
	h = c.call(proto.OpExists, &proto.PathWatchRequest{Path: "/s/missing", Watch: false}, &proto.StatResponse{})
	require.Equal(t, proto.ErrNoNode, h.Err)
}

// ZOOKEEPER-4466: standard and persistent watches of one watcher on one
// path live side by side.
func TestZkitWatchModesCoexist(t *testing.T) {
	addr := startZkit(t, 0)
	w, c := dial(t, addr), dial(t, addr)
	c.create("/a", open, 0)
	w.call(proto.OpAddWatch, &proto.PathTypeRequest{Path: "/a", Type: proto.AddWatchPersistent}, nil)
	w.call(proto.OpGetData, &proto.PathWatchRequest{Path: "/a", Watch: true}, &proto.GetDataResponse{})
	h1 := c.setData("/a", "1")
	require.Equal(t, []zkclient.Event{ev(proto.EventNodeDataChanged, "/a", h1.Zxid)}, w.events(), "one event for two watches")
	h2 := c.setData("/a", "2")
	require.Equal(t, []zkclient.Event{ev(proto.EventNodeDataChanged, "/a", h2.Zxid)}, w.events(), "the persistent watch stays")

	c.create("/b", open, 0)
	w.call(proto.OpAddWatch, &proto.PathTypeRequest{Path: "/b", Type: proto.AddWatchPersistentRecursive}, nil)
	w.call(proto.OpExists, &proto.PathWatchRequest{Path: "/b", Watch: true}, &proto.StatResponse{})
	h := c.create("/b/k", open, 0)
	require.Equal(t, []zkclient.Event{ev(proto.EventNodeCreated, "/b/k", h.Zxid)}, w.events(), "the recursive watch stays")

	c.create("/c", open, 0)
	w.call(proto.OpGetChildren, &proto.PathWatchRequest{Path: "/c", Watch: true}, &proto.ChildrenResponse{})
	w.call(proto.OpAddWatch, &proto.PathTypeRequest{Path: "/c", Type: proto.AddWatchPersistentRecursive}, nil)
	h = c.create("/c/k", open, 0)
	require.ElementsMatch(t, []zkclient.Event{ev(proto.EventNodeCreated, "/c/k", h.Zxid), ev(proto.EventNodeChildrenChanged, "/c", h.Zxid)}, w.events(),
		"the standard child watch fires next to the recursive one")
}

// ZOOKEEPER-4471 / 4472: removeWatches and checkWatches match the type to
// the watch's mode; Persistent(4) and PersistentRecursive(5) exist.
func TestZkitRemoveWatchTypes(t *testing.T) {
	addr := startZkit(t, 0)
	w, c := dial(t, addr), dial(t, addr)
	c.create("/p", open, 0)
	w.call(proto.OpAddWatch, &proto.PathTypeRequest{Path: "/p", Type: proto.AddWatchPersistent}, nil)
	for _, tc := range []struct {
		op   proto.Op
		typ  int32
		want proto.Err
	}{
		{proto.OpCheckWatches, proto.WatcherData, proto.ErrNoWatcher},
		{proto.OpCheckWatches, proto.WatcherChildren, proto.ErrNoWatcher},
		{proto.OpCheckWatches, proto.WatcherPersistentRecursive, proto.ErrNoWatcher},
		{proto.OpCheckWatches, proto.WatcherPersistent, proto.ErrOK},
		{proto.OpCheckWatches, proto.WatcherAny, proto.ErrOK},
		{proto.OpRemoveWatches, proto.WatcherData, proto.ErrNoWatcher},
		{proto.OpRemoveWatches, proto.WatcherPersistent, proto.ErrOK},
		{proto.OpCheckWatches, proto.WatcherAny, proto.ErrNoWatcher},
	} {
		h := w.call(tc.op, &proto.PathTypeRequest{Path: "/p", Type: tc.typ}, nil)
		require.Equal(t, tc.want, h.Err, "%s type %s", tc.op, watcherTypeName(tc.typ))
	}
	c.setData("/p", "x")
	require.Empty(t, w.events())

	w.call(proto.OpAddWatch, &proto.PathTypeRequest{Path: "/p", Type: proto.AddWatchPersistentRecursive}, nil)
	w.call(proto.OpGetData, &proto.PathWatchRequest{Path: "/p", Watch: true}, &proto.GetDataResponse{})
	require.Equal(t, proto.ErrOK, w.call(proto.OpRemoveWatches, &proto.PathTypeRequest{Path: "/p", Type: proto.WatcherPersistentRecursive}, nil).Err)
	require.Equal(t, proto.ErrOK, w.call(proto.OpCheckWatches, &proto.PathTypeRequest{Path: "/p", Type: proto.WatcherData}, nil).Err)
	h := c.setData("/p", "y")
	require.Equal(t, []zkclient.Event{ev(proto.EventNodeDataChanged, "/p", h.Zxid)}, w.events(), "the standard watch survived")
	c.create("/p/k", open, 0)
	require.Empty(t, w.events())
}

// ZOOKEEPER-2623: check outside a multi is an unknown opcode.
func TestZkitLoneCheckForbidden(t *testing.T) {
	addr := startZkit(t, 0)
	c := dial(t, addr)
	c.create("/c", open, 0)
	h := c.call(proto.OpCheck, &proto.PathVersionRecord{Path: "/c", Version: -1}, nil)
	require.Equal(t, proto.ReplyHeader{Xid: h.Xid, Zxid: -1, Err: proto.ErrUnimplemented}, h)
	select {
	case <-c.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the connection stayed open")
	}
}

// ZOOKEEPER-4575 and zkit's refusal: opcode 20 carries a
// DeleteContainerRequest; containers and TTL nodes go, other nodes are
// refused with BADVERSION.
func TestZkitDeleteContainerOpcode(t *testing.T) {
	addr := startZkit(t, 0)
	c := dial(t, addr)
	c.call(proto.OpCreateContainer, &proto.CreateRequest{Path: "/cont", Data: []byte{}, ACL: open, Flags: proto.ModeContainer}, &proto.Create2Response{})
	c.call(proto.OpCreateTTL, &proto.CreateRequest{Path: "/ttl", Data: []byte{}, ACL: open, Flags: proto.ModePersistentWithTTL, TTL: 60000, HasTTL: true}, &proto.Create2Response{})
	c.create("/plain", open, 0)
	c.create("/eph", open, proto.ModeEphemeral)
	del := func(path string) proto.Err {
		e := jute.NewEncoder(nil)
		e.String(path)
		return c.call(proto.OpDeleteContainer, rawRecord(e.Bytes()), nil).Err
	}
	require.Equal(t, proto.ErrOK, del("/cont"))
	require.Equal(t, proto.ErrOK, del("/ttl"))
	require.Equal(t, proto.ErrBadVersion, del("/plain"))
	require.Equal(t, proto.ErrBadVersion, del("/eph"))
	require.Equal(t, proto.ErrNoNode, del("/nope"))
	var kids proto.ChildrenResponse
	c.call(proto.OpGetChildren, &proto.PathWatchRequest{Path: "/"}, &kids)
	require.ElementsMatch(t, []string{"zookeeper", "plain", "eph"}, kids.Children)
}

// ZOOKEEPER-4026: create2 in a multi answers with the Stat;
// createContainer keeps its opcode whatever the flags.
func TestZkitCreate2InMulti(t *testing.T) {
	addr := startZkit(t, 100*time.Millisecond)
	c := dial(t, addr)
	var resp proto.MultiResponse
	h := c.call(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		mCreate2("/a", "abc", open, 0),
		{Type: proto.OpCreateContainer, Body: &proto.CreateRequest{Path: "/cont", Data: []byte{}, ACL: open, Flags: proto.ModePersistent}},
	}}, &resp)
	require.Equal(t, proto.ErrOK, h.Err)
	require.Len(t, resp.Results, 2)
	r0 := resp.Results[0]
	require.Equal(t, proto.OpCreate2, r0.Type)
	require.Equal(t, "/a", r0.Path)
	require.Equal(t, h.Zxid, r0.Stat.Czxid)
	require.Equal(t, int32(3), r0.Stat.DataLength)
	require.Equal(t, proto.OpCreate2, resp.Results[1].Type) // CreateResult(path, stat) is typed create2
	// It is a container: it goes once its child has come and gone.
	c.create("/cont/k", open, 0)
	require.Equal(t, proto.ErrOK, c.call(proto.OpDelete, &proto.PathVersionRecord{Path: "/cont/k", Version: -1}, nil).Err)
	require.Eventually(t, func() bool {
		return c.call(proto.OpExists, &proto.PathWatchRequest{Path: "/cont"}, nil).Err == proto.ErrNoNode
	}, 5*time.Second, 20*time.Millisecond)
}

// createTTL with a non-TTL mode and a negative ttl passes Apache's
// validateCreateRequest (EphemeralType.validateTTL refuses only ttl >= 0
// for non-TTL modes) and then kills the server: DataTree.processTxn calls
// EphemeralType.TTL.toEphemeralOwner(-1), which throws, and the JVM exits
// (3.8.0 and 3.9.5 alike). zkit must refuse it instead of creating a node
// with a made-up ephemeralOwner.
func TestZkitCreateTTLNegativeTTL(t *testing.T) {
	addr := startZkit(t, 0)
	c := dial(t, addr)
	for _, flags := range []int32{proto.ModePersistent, proto.ModeEphemeral, proto.ModePersistentSequential, proto.ModeEphemeralSequential, proto.ModeContainer} {
		h := c.call(proto.OpCreateTTL, &proto.CreateRequest{Path: "/n", Data: []byte{}, ACL: open, Flags: flags, TTL: -1, HasTTL: true}, &proto.Create2Response{})
		require.Equal(t, proto.ErrBadArguments, h.Err, "flags %s", modeName(flags))
	}
	var kids proto.ChildrenResponse
	c.call(proto.OpGetChildren, &proto.PathWatchRequest{Path: "/"}, &kids)
	require.Equal(t, []string{"zookeeper"}, kids.Children)
}
