package db

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/jute"
	"zkit/server/proto"
	"zkit/server/tree"
	"zkit/server/watch"
)

// fakeWatcher records notifications.
type fakeWatcher struct {
	id     int64
	events []string
}

func (w *fakeWatcher) Notify(ev proto.WatcherEvent, zxid int64, _ []proto.ACL) {
	w.events = append(w.events, fmt.Sprintf("%d %s %d", ev.Type, ev.Path, zxid))
}

func (w *fakeWatcher) SessionID() int64 { return w.id }

const (
	sess       = int64(0x0100000000000001)
	userDigest = "user:smGaoVKd/cQkjm7b88GyorAUz20=" // user:pass
)

var (
	userIDs   = []proto.Id{{Scheme: "ip", ID: "127.0.0.1"}, {Scheme: "digest", ID: userDigest}}
	anonIDs   = []proto.Id{{Scheme: "ip", ID: "127.0.0.1"}}
	userAll   = proto.ACL{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: userDigest}}
	worldRead = proto.ACL{Perms: proto.PermRead, ID: proto.WorldAnyone}
)

func encodeBody(r proto.Record) []byte {
	e := jute.NewEncoder(nil)
	r.Encode(e)
	return e.Bytes()
}

// newTestDB holds:
//
//	/a        "hello", open
//	/a/x, /a/y
//	/s        only user (digest) may do anything
//	/r        anyone may read, user may do all
//	/e1 /e2   ephemerals of sess; /a/e3 ephemeral of sess
func newTestDB(t *testing.T) *DB {
	d := New(auth.NewRegistry(""), false)
	z := int64(0)
	apply := func(op proto.Op, client int64, b proto.Record) {
		z++
		d.Write(func(tr *tree.Tree) {
			r := tr.Apply(&proto.Txn{Header: proto.TxnHeader{ClientID: client, Zxid: z, Time: 100 + z, Type: op}, Body: b})
			require.Equal(t, proto.ErrOK, r.Err)
		})
	}
	create := func(path, data string, acl []proto.ACL, eph bool) {
		apply(proto.OpCreate, sess, &proto.CreateTxn{Form: proto.OpCreate, Path: path, Data: []byte(data), ACL: acl, Ephemeral: eph, ParentCVersion: -1})
	}
	open := proto.OpenACLUnsafe
	create("/a", "hello", open, false)
	create("/a/y", "", open, false)
	create("/a/x", "", open, false)
	create("/s", "secret", []proto.ACL{userAll}, false)
	create("/r", "r", []proto.ACL{worldRead, userAll}, false)
	create("/e1", "", open, true)
	create("/e2", "", open, true)
	create("/a/e3", "", open, true)
	return d
}

func readOp(d *DB, op proto.Op, b []byte, r *Reader) Reply { return d.ReadOp(op, b, r) }

func TestIsRead(t *testing.T) {
	for _, op := range []proto.Op{proto.OpExists, proto.OpGetData, proto.OpGetChildren, proto.OpGetChildren2,
		proto.OpGetACL, proto.OpGetAllChildrenNumber, proto.OpGetEphemerals, proto.OpCheckWatches,
		proto.OpRemoveWatches, proto.OpAddWatch, proto.OpSetWatches, proto.OpSetWatches2, proto.OpMultiRead, proto.OpWhoAmI} {
		require.True(t, IsRead(op), op.String())
	}
	for _, op := range []proto.Op{proto.OpCreate, proto.OpDelete, proto.OpSetData, proto.OpSync, proto.OpPing,
		proto.OpMulti, proto.OpCloseSession, proto.OpCreateSession, proto.OpAuth, proto.OpCheck} {
		require.False(t, IsRead(op), op.String())
	}
}

func TestExists(t *testing.T) {
	d := newTestDB(t)
	var aStat proto.Stat
	d.Read(func(tr *tree.Tree) { aStat = tr.Get("/a").Stat() })
	cases := []struct {
		name      string
		path      string
		ids       []proto.Id
		watch     bool
		err       proto.Err
		stat      *proto.Stat
		watchLeft bool
	}{
		{"exists", "/a", anonIDs, false, proto.ErrOK, &aStat, false},
		{"exists with watch", "/a", anonIDs, true, proto.ErrOK, &aStat, true},
		{"missing", "/nope", anonIDs, false, proto.ErrNoNode, nil, false},
		{"missing with watch leaves a watch", "/nope", anonIDs, true, proto.ErrNoNode, nil, true},
		{"no READ on an existing node", "/s", anonIDs, true, proto.ErrNoAuth, nil, false},
		{"READ granted", "/s", userIDs, false, proto.ErrOK, nil, false},
		{"NUL in path", "/a\x00b", anonIDs, true, proto.ErrBadArguments, nil, false},
		{"invalid path is just missing", "nope", anonIDs, false, proto.ErrNoNode, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := &fakeWatcher{id: sess}
			rep := readOp(d, proto.OpExists, encodeBody(&proto.PathWatchRequest{Path: c.path, Watch: c.watch}), &Reader{IDs: c.ids, Watcher: w, SessionID: sess})
			require.Equal(t, c.err, rep.Err)
			if c.err != proto.ErrOK {
				require.Nil(t, rep.Body)
			} else if c.stat != nil {
				require.Equal(t, &proto.StatResponse{Stat: *c.stat}, rep.Body)
			}
			data, child := d.Watches.WatcherPaths(w)
			require.Empty(t, child)
			if c.watchLeft {
				require.Equal(t, map[string]watch.Mode{c.path: watch.Standard}, data)
			} else {
				require.Empty(t, data)
			}
		})
	}
}

// An exists watch on a missing node hears of its creation, through the
// tree's event sink wired by New.
func TestExistsWatchFiresOnCreate(t *testing.T) {
	d := newTestDB(t)
	w := &fakeWatcher{id: sess}
	rep := readOp(d, proto.OpExists, encodeBody(&proto.PathWatchRequest{Path: "/new", Watch: true}), &Reader{Watcher: w})
	require.Equal(t, proto.ErrNoNode, rep.Err)
	d.Write(func(tr *tree.Tree) {
		tr.Apply(&proto.Txn{Header: proto.TxnHeader{Zxid: 50, Type: proto.OpCreate}, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: "/new", ParentCVersion: -1}})
	})
	require.Equal(t, []string{"1 /new 50"}, w.events)
	require.Equal(t, int64(50), d.LastZxid())
}

func TestGetData(t *testing.T) {
	d := newTestDB(t)
	cases := []struct {
		name  string
		path  string
		ids   []proto.Id
		watch bool
		err   proto.Err
		data  string
	}{
		{"open", "/a", anonIDs, true, proto.ErrOK, "hello"},
		{"root by empty path", "", anonIDs, false, proto.ErrOK, ""},
		{"missing", "/nope", anonIDs, true, proto.ErrNoNode, ""},
		{"no READ", "/s", anonIDs, true, proto.ErrNoAuth, ""},
		{"digest READ", "/s", userIDs, false, proto.ErrOK, "secret"},
		{"super reads all", "/s", []proto.Id{{Scheme: "super"}}, false, proto.ErrOK, "secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := &fakeWatcher{id: sess}
			rep := readOp(d, proto.OpGetData, encodeBody(&proto.PathWatchRequest{Path: c.path, Watch: c.watch}), &Reader{IDs: c.ids, Watcher: w})
			require.Equal(t, c.err, rep.Err)
			data, _ := d.Watches.WatcherPaths(w)
			if c.err != proto.ErrOK {
				require.Nil(t, rep.Body)
				require.Empty(t, data, "no watch on failure")
				return
			}
			g := rep.Body.(*proto.GetDataResponse)
			require.Equal(t, c.data, string(g.Data))
			require.Equal(t, int32(len(c.data)), g.Stat.DataLength)
			if c.watch {
				require.Equal(t, map[string]watch.Mode{c.path: watch.Standard}, data)
			}
		})
	}
}

func TestGetChildren(t *testing.T) {
	d := newTestDB(t)
	var aStat, rootStat proto.Stat
	d.Read(func(tr *tree.Tree) { aStat, rootStat = tr.Get("/a").Stat(), tr.Get("/").Stat() })
	w := &fakeWatcher{id: sess}
	r := &Reader{IDs: anonIDs, Watcher: w}

	rep := readOp(d, proto.OpGetChildren, encodeBody(&proto.PathWatchRequest{Path: "/a", Watch: true}), r)
	require.Equal(t, &proto.ChildrenResponse{Children: []string{"e3", "x", "y"}}, rep.Body)
	_, child := d.Watches.WatcherPaths(w)
	require.Equal(t, map[string]watch.Mode{"/a": watch.Standard}, child)

	rep = readOp(d, proto.OpGetChildren2, encodeBody(&proto.PathWatchRequest{Path: "/a"}), r)
	require.Equal(t, &proto.ChildrenResponse{Children: []string{"e3", "x", "y"}, Stat: aStat, WithStat: true}, rep.Body)

	rep = readOp(d, proto.OpGetChildren2, encodeBody(&proto.PathWatchRequest{Path: ""}), r)
	require.Equal(t, &proto.ChildrenResponse{Children: []string{"a", "e1", "e2", "r", "s", "zookeeper"}, Stat: rootStat, WithStat: true}, rep.Body)

	rep = readOp(d, proto.OpGetChildren, encodeBody(&proto.PathWatchRequest{Path: "/a/x"}), r)
	require.Equal(t, &proto.ChildrenResponse{Children: []string{}}, rep.Body)

	for _, op := range []proto.Op{proto.OpGetChildren, proto.OpGetChildren2} {
		require.Equal(t, proto.ErrNoNode, readOp(d, op, encodeBody(&proto.PathWatchRequest{Path: "/nope", Watch: true}), r).Err)
		require.Equal(t, proto.ErrNoAuth, readOp(d, op, encodeBody(&proto.PathWatchRequest{Path: "/s", Watch: true}), r).Err)
	}
	_, child = d.Watches.WatcherPaths(w)
	require.Equal(t, map[string]watch.Mode{"/a": watch.Standard}, child, "failed reads leave no watch")
}

// getACL needs READ or ADMIN; without ADMIN the digest ids come back as
// "user:x" (FinalRequestProcessor since 3.7.2).
func TestGetACL(t *testing.T) {
	d := newTestDB(t)
	adminOnly := proto.ACL{Perms: proto.PermAdmin, ID: proto.WorldAnyone}
	d.Write(func(tr *tree.Tree) {
		tr.Apply(&proto.Txn{Header: proto.TxnHeader{Zxid: 100, Type: proto.OpCreate}, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: "/adm", ACL: []proto.ACL{adminOnly, userAll}, ParentCVersion: -1}})
		tr.Apply(&proto.Txn{Header: proto.TxnHeader{Zxid: 101, Type: proto.OpCreate}, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: "/w", ACL: []proto.ACL{{Perms: proto.PermWrite, ID: proto.WorldAnyone}}, ParentCVersion: -1}})
	})
	masked := proto.ACL{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: "user:x"}}
	cases := []struct {
		name string
		path string
		ids  []proto.Id
		err  proto.Err
		acl  []proto.ACL
	}{
		{"open", "/a", anonIDs, proto.ErrOK, proto.OpenACLUnsafe},
		{"read-only config", "/zookeeper/config", anonIDs, proto.ErrOK, proto.ReadACLUnsafe},
		{"READ without ADMIN masks digests", "/r", anonIDs, proto.ErrOK, []proto.ACL{worldRead, masked}},
		{"ADMIN sees digests", "/r", userIDs, proto.ErrOK, []proto.ACL{worldRead, userAll}},
		{"ADMIN alone is enough", "/adm", anonIDs, proto.ErrOK, []proto.ACL{adminOnly, userAll}},
		{"neither READ nor ADMIN", "/s", anonIDs, proto.ErrNoAuth, nil},
		{"WRITE is not enough", "/w", anonIDs, proto.ErrNoAuth, nil},
		{"missing", "/nope", anonIDs, proto.ErrNoNode, nil},
		{"root by empty path", "", anonIDs, proto.ErrOK, proto.OpenACLUnsafe},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := readOp(d, proto.OpGetACL, encodeBody(&proto.PathRecord{Path: c.path}), &Reader{IDs: c.ids})
			require.Equal(t, c.err, rep.Err)
			if c.err != proto.ErrOK {
				require.Nil(t, rep.Body)
				return
			}
			require.Equal(t, c.acl, rep.Body.(*proto.GetACLResponse).ACL)
		})
	}
	// Masking copies: the tree's list is untouched.
	d.Read(func(tr *tree.Tree) { require.Equal(t, []proto.ACL{worldRead, userAll}, tr.ACLOf(tr.Get("/r"))) })
	// The stat comes with it.
	var stat proto.Stat
	d.Read(func(tr *tree.Tree) { stat = tr.Get("/r").Stat() })
	require.Equal(t, stat, readOp(d, proto.OpGetACL, encodeBody(&proto.PathRecord{Path: "/r"}), &Reader{}).Body.(*proto.GetACLResponse).Stat)
}

func TestGetAllChildrenNumber(t *testing.T) {
	d := newTestDB(t)
	cases := []struct {
		path string
		ids  []proto.Id
		err  proto.Err
		n    int32
	}{
		// 4 built-in + 8 created: "/" counts all but itself, "" all
		// (ZooKeeper counts the keys starting with "/").
		{"/", anonIDs, proto.ErrOK, 11},
		{"", anonIDs, proto.ErrOK, 12},
		{"/a", anonIDs, proto.ErrOK, 3},
		{"/a/x", anonIDs, proto.ErrOK, 0},
		{"/zookeeper", anonIDs, proto.ErrOK, 2},
		{"/nope", anonIDs, proto.ErrNoNode, 0},
		{"/s", anonIDs, proto.ErrNoAuth, 0},
		{"/s", userIDs, proto.ErrOK, 0},
	}
	for _, c := range cases {
		rep := readOp(d, proto.OpGetAllChildrenNumber, encodeBody(&proto.PathRecord{Path: c.path}), &Reader{IDs: c.ids})
		require.Equal(t, c.err, rep.Err, c.path)
		if c.err == proto.ErrOK {
			require.Equal(t, &proto.IntRecord{Value: c.n}, rep.Body, c.path)
		}
	}
}

func TestGetEphemerals(t *testing.T) {
	d := newTestDB(t)
	cases := []struct {
		prefix  string
		session int64
		want    []string
	}{
		{"", sess, []string{"/a/e3", "/e1", "/e2"}},
		{"/", sess, []string{"/a/e3", "/e1", "/e2"}},
		{"  / ", sess, []string{"/a/e3", "/e1", "/e2"}},
		{"/e", sess, []string{"/e1", "/e2"}},
		{"/a", sess, []string{"/a/e3"}},
		{"/zz", sess, []string{}},
		{"", 12345, []string{}},
	}
	for _, c := range cases {
		rep := readOp(d, proto.OpGetEphemerals, encodeBody(&proto.PathRecord{Path: c.prefix}), &Reader{SessionID: c.session})
		require.Equal(t, proto.ErrOK, rep.Err)
		require.Equal(t, &proto.StringsRecord{Strings: c.want}, rep.Body, "prefix %q", c.prefix)
	}
}

func TestCheckRemoveAndAddWatches(t *testing.T) {
	d := newTestDB(t)
	w := &fakeWatcher{id: sess}
	r := &Reader{Watcher: w}
	pt := func(path string, typ int32) []byte { return encodeBody(&proto.PathTypeRequest{Path: path, Type: typ}) }

	require.Equal(t, proto.ErrNoWatcher, readOp(d, proto.OpCheckWatches, pt("/a", proto.WatcherData), r).Err)
	require.Equal(t, proto.ErrNoWatcher, readOp(d, proto.OpRemoveWatches, pt("/a", proto.WatcherAny), r).Err)
	for _, typ := range []int32{0, 6, -1} {
		require.Equal(t, proto.ErrMarshallingError, readOp(d, proto.OpCheckWatches, pt("/a", typ), r).Err, typ)
		require.Equal(t, proto.ErrMarshallingError, readOp(d, proto.OpRemoveWatches, pt("/a", typ), r).Err, typ)
	}

	rep := readOp(d, proto.OpAddWatch, pt("/a", proto.AddWatchPersistent), r)
	require.Equal(t, Reply{Body: &proto.IntRecord{Value: 0}}, rep)
	rep = readOp(d, proto.OpAddWatch, pt("/nope", proto.AddWatchPersistentRecursive), r) // no node needed
	require.Equal(t, Reply{Body: &proto.IntRecord{Value: 0}}, rep)
	require.Equal(t, proto.ErrMarshallingError, readOp(d, proto.OpAddWatch, pt("/a", 2), r).Err)

	require.Equal(t, Reply{}, readOp(d, proto.OpCheckWatches, pt("/a", proto.WatcherPersistent), r))
	require.Equal(t, proto.ErrNoWatcher, readOp(d, proto.OpCheckWatches, pt("/a", proto.WatcherPersistentRecursive), r).Err)
	require.Equal(t, Reply{}, readOp(d, proto.OpCheckWatches, pt("/nope", proto.WatcherPersistentRecursive), r))
	require.Equal(t, Reply{}, readOp(d, proto.OpRemoveWatches, pt("/a", proto.WatcherPersistent), r))
	require.Equal(t, proto.ErrNoWatcher, readOp(d, proto.OpCheckWatches, pt("/a", proto.WatcherAny), r).Err)
}

// setWatches re-registers a reconnecting client's watches and fires at once
// what it missed since relativeZxid (DataTree.setWatches).
func TestSetWatches(t *testing.T) {
	d := newTestDB(t)
	// Zxids so far: /a 1, /a/y 2, /a/x 3, /s 4, /r 5, /e1 6, /e2 7, /a/e3 8.
	w := &fakeWatcher{id: sess}
	req := &proto.SetWatches{
		RelativeZxid:               4,
		DataWatches:                []string{"/a", "/r", "/gone"},    // /a unchanged since 1; /r changed at 5
		ExistWatches:               []string{"/s", "/later"},         // /s exists now
		ChildWatches:               []string{"/a", "/a/x", "/gone2"}, // /a's pzxid 8 > 4
		PersistentWatches:          []string{"/p"},
		PersistentRecursiveWatches: []string{"/rr"},
		V2:                         true,
	}
	rep := readOp(d, proto.OpSetWatches2, encodeBody(req), &Reader{Watcher: w})
	require.Equal(t, Reply{}, rep)
	require.Equal(t, []string{
		fmt.Sprintf("%d /r -1", proto.EventNodeDataChanged),
		fmt.Sprintf("%d /gone -1", proto.EventNodeDeleted),
		fmt.Sprintf("%d /s -1", proto.EventNodeCreated),
		fmt.Sprintf("%d /a -1", proto.EventNodeChildrenChanged),
		fmt.Sprintf("%d /gone2 -1", proto.EventNodeDeleted),
	}, w.events)
	data, child := d.Watches.WatcherPaths(w)
	require.Equal(t, map[string]watch.Mode{"/a": watch.Standard, "/later": watch.Standard, "/p": watch.Persistent, "/rr": watch.PersistentRecursive}, data)
	require.Equal(t, map[string]watch.Mode{"/a/x": watch.Standard, "/p": watch.Persistent}, child)

	// Version 1 carries no persistent lists.
	w1 := &fakeWatcher{id: sess}
	v1 := &proto.SetWatches{RelativeZxid: 100, DataWatches: []string{"/a"}, ExistWatches: []string{}, ChildWatches: []string{}}
	require.Equal(t, Reply{}, readOp(d, proto.OpSetWatches, encodeBody(v1), &Reader{Watcher: w1}))
	require.Empty(t, w1.events)
	data, _ = d.Watches.WatcherPaths(w1)
	require.Equal(t, map[string]watch.Mode{"/a": watch.Standard}, data)
}

func TestMultiRead(t *testing.T) {
	d := newTestDB(t)
	var aStat proto.Stat
	d.Read(func(tr *tree.Tree) { aStat = tr.Get("/a").Stat() })
	ops := []proto.MultiOp{
		{Type: proto.OpGetData, Body: &proto.PathWatchRequest{Path: "/a"}},
		{Type: proto.OpGetChildren, Body: &proto.PathWatchRequest{Path: "/a", Watch: true}},
		{Type: proto.OpGetData, Body: &proto.PathWatchRequest{Path: "/nope"}},
		{Type: proto.OpGetChildren, Body: &proto.PathWatchRequest{Path: "/s"}},
		{Type: proto.OpGetData, Body: &proto.PathWatchRequest{Path: ""}},
	}
	w := &fakeWatcher{id: sess}
	rep := readOp(d, proto.OpMultiRead, encodeBody(&proto.MultiRequest{Ops: ops}), &Reader{IDs: anonIDs, Watcher: w})
	require.Equal(t, proto.ErrOK, rep.Err)
	res := rep.Body.(*proto.MultiResponse).Results
	require.Len(t, res, 5)
	require.Equal(t, proto.OpResult{Type: proto.OpGetData, Data: []byte("hello"), Stat: aStat}, res[0])
	require.Equal(t, proto.OpResult{Type: proto.OpGetChildren, Children: []string{"e3", "x", "y"}}, res[1])
	require.Equal(t, proto.OpResult{Type: proto.OpError, Err: proto.ErrNoNode}, res[2])
	require.Equal(t, proto.OpResult{Type: proto.OpError, Err: proto.ErrNoAuth}, res[3])
	require.Equal(t, proto.OpGetData, res[4].Type)

	// A write op stops the loop: MARSHALLINGERROR, with the results so far.
	withWrite := []proto.MultiOp{
		{Type: proto.OpGetData, Body: &proto.PathWatchRequest{Path: "/a"}},
		{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/m", ACL: proto.OpenACLUnsafe}},
		{Type: proto.OpGetData, Body: &proto.PathWatchRequest{Path: "/a"}},
	}
	rep = readOp(d, proto.OpMultiRead, encodeBody(&proto.MultiRequest{Ops: withWrite}), &Reader{})
	require.Equal(t, proto.ErrMarshallingError, rep.Err)
	require.True(t, rep.KeepBody)
	require.Len(t, rep.Body.(*proto.MultiResponse).Results, 1)

	// An empty multiRead is an empty answer.
	rep = readOp(d, proto.OpMultiRead, encodeBody(&proto.MultiRequest{}), &Reader{})
	require.Equal(t, Reply{Body: &proto.MultiResponse{}}, rep)
}

// ZooKeeper's MultiOperationRecord keeps only the path of a multiRead's
// getData/getChildren (Op.getData(path)), and Op.GetData/GetChildren.
// toRequestRecord rebuild the request with watch=false, so a multiRead never
// leaves a watch, whatever the wire flag says (3.8.4 and 3.9.5 alike).
func TestMultiReadLeavesNoWatches(t *testing.T) {
	d := newTestDB(t)
	w := &fakeWatcher{id: sess}
	rep := readOp(d, proto.OpMultiRead, encodeBody(&proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpGetData, Body: &proto.PathWatchRequest{Path: "/a", Watch: true}},
		{Type: proto.OpGetChildren, Body: &proto.PathWatchRequest{Path: "/a", Watch: true}},
	}}), &Reader{IDs: anonIDs, Watcher: w})
	require.Equal(t, proto.ErrOK, rep.Err)
	data, child := d.Watches.WatcherPaths(w)
	require.Empty(t, data)
	require.Empty(t, child)
}

func TestWhoAmI(t *testing.T) {
	d := newTestDB(t)
	rep := readOp(d, proto.OpWhoAmI, nil, &Reader{IDs: userIDs})
	require.Equal(t, &proto.WhoAmIResponse{ClientInfo: []proto.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "user"}}}, rep.Body)
}

func TestMalformedAndUnknown(t *testing.T) {
	d := newTestDB(t)
	r := &Reader{Watcher: &fakeWatcher{}}
	for _, op := range []proto.Op{proto.OpExists, proto.OpGetData, proto.OpGetChildren, proto.OpGetChildren2,
		proto.OpGetACL, proto.OpGetAllChildrenNumber, proto.OpGetEphemerals, proto.OpCheckWatches,
		proto.OpRemoveWatches, proto.OpAddWatch, proto.OpSetWatches, proto.OpSetWatches2, proto.OpMultiRead} {
		rep := d.ReadOp(op, []byte{0, 0}, r)
		require.Equal(t, proto.ErrMarshallingError, rep.Err, op.String())
		require.Nil(t, rep.Body, op.String())
	}
	require.Equal(t, proto.ErrUnimplemented, d.ReadOp(proto.OpCreate, encodeBody(&proto.PathRecord{Path: "/"}), r).Err)
	require.Equal(t, proto.ErrUnimplemented, d.ReadOp(proto.Op(99), nil, r).Err)
}

// Replace swaps the tree but keeps the watches and the extended setting,
// and wires the new tree's events to them.
func TestReplace(t *testing.T) {
	d := New(auth.NewRegistry(""), true)
	w := &fakeWatcher{id: 1}
	d.Watches.AddData("/x", w)
	nt := tree.New()
	d.Replace(nt)
	d.Write(func(tr *tree.Tree) {
		require.Same(t, nt, tr)
		require.True(t, tr.Extended)
		tr.Apply(&proto.Txn{Header: proto.TxnHeader{Zxid: 3, Type: proto.OpCreate}, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: "/x", ParentCVersion: -1}})
	})
	require.Equal(t, []string{"1 /x 3"}, w.events)
}

// pause releases the read lock so a writer can go in, and takes it again.
func TestReadPausing(t *testing.T) {
	d := New(auth.NewRegistry(""), false)
	d.ReadPausing(func(tr *tree.Tree, pause func(func())) {
		require.Equal(t, int64(0), tr.LastZxid())
		pause(func() {
			d.Write(func(tr *tree.Tree) { tr.SetLastZxid(9) })
		})
		pause(nil)
		require.Equal(t, int64(9), tr.LastZxid())
	})
	require.Equal(t, int64(9), d.LastZxid())
}
