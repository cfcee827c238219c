package tree

import (
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/proto"
)

// TestNew checks the tree DataTree's constructor builds: four nodes with
// empty (not null) data and zeroed stats, the root and /zookeeper open to
// all, /zookeeper/config read-only with aversion -1 (set through setACL
// with version -1). Clients see cversion = creates*2 - children, so a fresh
// root shows -1 and /zookeeper -2, as a fresh ZooKeeper does.
func TestNew(t *testing.T) {
	tr := New()
	require.Equal(t, 4, tr.NodeCount())
	require.Equal(t, int64(0), tr.LastZxid())
	cases := []struct {
		path     string
		acl      []proto.ACL
		children []string
		stat     proto.Stat
	}{
		{"/", proto.OpenACLUnsafe, []string{"zookeeper"}, proto.Stat{Cversion: -1, NumChildren: 1}},
		{ZooKeeperPath, proto.OpenACLUnsafe, []string{"config", "quota"}, proto.Stat{Cversion: -2, NumChildren: 2}},
		{QuotaPath, proto.OpenACLUnsafe, []string{}, proto.Stat{}},
		{ConfigPath, proto.ReadACLUnsafe, []string{}, proto.Stat{Aversion: -1}},
	}
	for _, c := range cases {
		n := tr.Get(c.path)
		require.NotNil(t, n, c.path)
		require.NotNil(t, n.Data, c.path)
		require.Empty(t, n.Data, c.path)
		require.Equal(t, c.acl, tr.ACLOf(n), c.path)
		require.Equal(t, c.children, n.Children(), c.path)
		require.Equal(t, c.stat, n.Stat(), c.path)
	}
	require.Nil(t, tr.Get(""))
	require.Nil(t, tr.Get("/zookeeper/"))
	// Every path's length, no data.
	require.Equal(t, int64(len("/")+len("/zookeeper")+len("/zookeeper/quota")+len("/zookeeper/config")), tr.DataSize())
	// Only the read-only list is cached; the open list has its reserved id.
	require.Equal(t, 1, tr.ACLs().Len())
	require.Empty(t, tr.Containers())
	require.Empty(t, tr.TTLs())
	require.Empty(t, tr.Sessions())
	require.Equal(t, 0, tr.EphemeralCount())
}

// TestApplyStats runs the write transactions in turn and checks the exact
// stats clients see.
func TestApplyStats(t *testing.T) {
	tr := New()
	steps := []struct {
		name     string
		txn      *proto.Txn
		want     Result
		path     string     // a node to check after the step
		wantStat proto.Stat // its stat
	}{
		{"create /a", createTxn(1, "/a", "x", 1),
			Result{Type: proto.OpCreate, Path: "/a", Stat: proto.Stat{Czxid: 1, Mzxid: 1, Ctime: 1001, Mtime: 1001, DataLength: 1, Pzxid: 1}},
			"/", proto.Stat{Cversion: 0, NumChildren: 2, Pzxid: 1}},
		{"ephemeral /a/e", ephemeralTxn(2, sessA, "/a/e"),
			Result{Type: proto.OpCreate, Path: "/a/e", Stat: proto.Stat{Czxid: 2, Mzxid: 2, Ctime: 1002, Mtime: 1002, EphemeralOwner: sessA, Pzxid: 2}},
			"/a", proto.Stat{Czxid: 1, Mzxid: 1, Ctime: 1001, Mtime: 1001, Cversion: 1, DataLength: 1, NumChildren: 1, Pzxid: 2}},
		{"create2 /a/s0000000001", txnOf(3, sessA, proto.OpCreate2, &proto.CreateTxn{Form: proto.OpCreate, Path: "/a/s0000000001", ACL: proto.OpenACLUnsafe, ParentCVersion: 2}),
			Result{Type: proto.OpCreate2, Path: "/a/s0000000001", Stat: proto.Stat{Czxid: 3, Mzxid: 3, Ctime: 1003, Mtime: 1003, Pzxid: 3}},
			"/a", proto.Stat{Czxid: 1, Mzxid: 1, Ctime: 1001, Mtime: 1001, Cversion: 2, DataLength: 1, NumChildren: 2, Pzxid: 3}},
		{"delete /a/e", deleteTxn(4, "/a/e"),
			Result{Type: proto.OpDelete, Path: "/a/e"},
			// 2 creates, 1 delete: cversion 3.
			"/a", proto.Stat{Czxid: 1, Mzxid: 1, Ctime: 1001, Mtime: 1001, Cversion: 3, DataLength: 1, NumChildren: 1, Pzxid: 4}},
		{"setData /a", txnOf(5, sessA, proto.OpSetData, &proto.SetDataRequest{Path: "/a", Data: []byte("hello"), Version: 1}),
			Result{Type: proto.OpSetData, Path: "/a", Stat: proto.Stat{Czxid: 1, Mzxid: 5, Ctime: 1001, Mtime: 1005, Version: 1, Cversion: 3, DataLength: 5, NumChildren: 1, Pzxid: 4}},
			"/", proto.Stat{Cversion: 0, NumChildren: 2, Pzxid: 1}},
		{"setACL /a", txnOf(6, sessA, proto.OpSetACL, &proto.SetACLRequest{Path: "/a", ACL: proto.ReadACLUnsafe, Version: 1}),
			Result{Type: proto.OpSetACL, Path: "/a", Stat: proto.Stat{Czxid: 1, Mzxid: 5, Ctime: 1001, Mtime: 1005, Version: 1, Cversion: 3, Aversion: 1, DataLength: 5, NumChildren: 1, Pzxid: 4}},
			"/a", proto.Stat{Czxid: 1, Mzxid: 5, Ctime: 1001, Mtime: 1005, Version: 1, Cversion: 3, Aversion: 1, DataLength: 5, NumChildren: 1, Pzxid: 4}},
		{"check /a", txnOf(7, sessA, proto.OpCheck, &proto.PathVersionRecord{Path: "/a", Version: 2}),
			Result{Type: proto.OpCheck, Path: "/a"},
			"/a", proto.Stat{Czxid: 1, Mzxid: 5, Ctime: 1001, Mtime: 1005, Version: 1, Cversion: 3, Aversion: 1, DataLength: 5, NumChildren: 1, Pzxid: 4}},
		{"error", txnOf(8, sessA, proto.OpError, &proto.IntRecord{Value: int32(proto.ErrNodeExists)}),
			Result{Type: proto.OpError, Err: proto.ErrNodeExists},
			"/a", proto.Stat{Czxid: 1, Mzxid: 5, Ctime: 1001, Mtime: 1005, Version: 1, Cversion: 3, Aversion: 1, DataLength: 5, NumChildren: 1, Pzxid: 4}},
		{"createSession", txnOf(9, sessB, proto.OpCreateSession, &proto.IntRecord{Value: 4000}),
			Result{Type: proto.OpCreateSession},
			"/", proto.Stat{Cversion: 0, NumChildren: 2, Pzxid: 1}},
	}
	for _, s := range steps {
		got := tr.Apply(s.txn)
		require.Equal(t, s.want, got, s.name)
		require.Equal(t, s.txn.Header.Zxid, tr.LastZxid(), s.name)
		require.Equal(t, s.wantStat, statOf(t, tr, s.path), s.name)
	}
	require.Equal(t, proto.ReadACLUnsafe, tr.ACLOf(tr.Get("/a")))
	require.Equal(t, []byte("hello"), tr.Get("/a").Data)
	require.Equal(t, map[int64]int32{sessB: 4000}, tr.Sessions())
	require.Equal(t, []string{"/a/s0000000001"}, prefixed(tr, "/a/"))
}

func prefixed(tr *Tree, prefix string) []string {
	var out []string
	tr.Each(func(p string, _ *Node) {
		if len(p) > len(prefix) && p[:len(prefix)] == prefix {
			out = append(out, p)
		}
	})
	return out
}

// TestParentCVersion: the txn carries the parent's new cversion (prep
// computed it, and sequential names come from it). -1 means "one more";
// a value not above the current one leaves cversion and pzxid alone, as
// DataTree.createNode does for replays.
func TestParentCVersion(t *testing.T) {
	tr := New()
	mustApply(t, tr, createTxn(10, "/q", "", 5))
	root := tr.Get("/")
	require.Equal(t, int32(5), root.Cversion)
	require.Equal(t, int64(10), root.Pzxid)

	mustApply(t, tr, createTxn(11, "/r", "", 3)) // lower: created, parent untouched
	require.NotNil(t, tr.Get("/r"))
	require.Equal(t, int32(5), root.Cversion)
	require.Equal(t, int64(10), root.Pzxid)

	mustApply(t, tr, createTxn(12, "/s", "", -1))
	require.Equal(t, int32(6), root.Cversion)
	require.Equal(t, int64(12), root.Pzxid)
	// Clients see 6*2 - 4 children.
	require.Equal(t, int32(8), root.Stat().Cversion)
}

// TestApplyReplayIdempotence covers the cases a replay over a fuzzy
// snapshot meets: creates of nodes already there and deletes of nodes
// already gone.
func TestApplyReplayIdempotence(t *testing.T) {
	rec := &recorder{}
	tr := New()
	mustApply(t, tr, createTxn(1, "/p", "", 1))
	mustApply(t, tr, createTxn(2, "/p/c", "", 1))
	tr.Events = rec
	p := tr.Get("/p")
	child := *tr.Get("/p/c")
	size := tr.DataSize()

	steps := []struct {
		name    string
		txn     *proto.Txn
		err     proto.Err
		cv      int32 // /p's internal cversion after
		pzxid   int64 // /p's pzxid after
		lastZid int64
	}{
		{"create existing, higher cversion", createTxn(3, "/p/c", "new", 2), proto.ErrNodeExists, 2, 3, 3},
		{"create existing, lower cversion", createTxn(4, "/p/c", "new", 1), proto.ErrNodeExists, 2, 3, 4},
		{"create existing, cversion -1", createTxn(5, "/p/c", "new", -1), proto.ErrNodeExists, 3, 5, 5},
		{"create2 existing", txnOf(6, sessA, proto.OpCreate2, &proto.CreateTxn{Form: proto.OpCreate, Path: "/p/c", ACL: proto.OpenACLUnsafe, ParentCVersion: 4}), proto.ErrNodeExists, 4, 6, 6},
		{"delete missing moves pzxid", deleteTxn(8, "/p/gone"), proto.ErrNoNode, 4, 8, 8},
		{"delete missing, older zxid", deleteTxn(7, "/p/gone"), proto.ErrNoNode, 4, 8, 8},
		{"delete under missing parent", deleteTxn(9, "/nope/x"), proto.ErrNoNode, 4, 8, 9},
		{"delete root", deleteTxn(10, "/"), proto.ErrNoNode, 4, 8, 10},
		{"create under missing parent", createTxn(11, "/nope/x", "", -1), proto.ErrNoNode, 4, 8, 11},
		{"setData missing", txnOf(12, sessA, proto.OpSetData, &proto.SetDataRequest{Path: "/nope", Version: 1}), proto.ErrNoNode, 4, 8, 12},
		{"setACL missing", txnOf(13, sessA, proto.OpSetACL, &proto.SetACLRequest{Path: "/nope", ACL: proto.OpenACLUnsafe, Version: 1}), proto.ErrNoNode, 4, 8, 13},
		{"older txn keeps lastZxid", createTxn(2, "/p/c", "", 1), proto.ErrNodeExists, 4, 8, 13},
	}
	for _, s := range steps {
		r := tr.Apply(s.txn)
		require.Equal(t, s.err, r.Err, s.name)
		require.Equal(t, s.cv, p.Cversion, s.name)
		require.Equal(t, s.pzxid, p.Pzxid, s.name)
		require.Equal(t, s.lastZid, tr.LastZxid(), s.name)
	}
	// The node itself never changed, nothing fired, nothing was counted.
	require.Equal(t, child, *tr.Get("/p/c"))
	require.Empty(t, rec.events)
	require.Equal(t, size, tr.DataSize())
	require.Equal(t, 6, tr.NodeCount())
}

// A replayed delete of a child already gone from the node map but still
// listed by its parent (a fuzzy snapshot) unlinks it.
func TestDeleteMissingUnlinksChildName(t *testing.T) {
	l := NewLoader(false, 4)
	l.Node("/", Node{Data: []byte{}, ACL: openACLID}, 1)
	l.Node("/p", Node{Czxid: 1, Pzxid: 1, Cversion: 1, ACL: openACLID}, 1)
	tr, dropped, err := l.Finish(5)
	require.NoError(t, err)
	require.Zero(t, dropped)
	tr.Get("/p").addChild("ghost")
	require.Equal(t, proto.ErrNoNode, tr.Apply(deleteTxn(6, "/p/ghost")).Err)
	require.Empty(t, tr.Get("/p").Children())
	require.Equal(t, int64(6), tr.Get("/p").Pzxid)
}

func TestDataSizeAndNodeCount(t *testing.T) {
	tr := New()
	base := tr.DataSize()
	mustApply(t, tr, createTxn(1, "/abc", "12345", -1))
	require.Equal(t, base+4+5, tr.DataSize())
	mustApply(t, tr, txnOf(2, sessA, proto.OpSetData, &proto.SetDataRequest{Path: "/abc", Data: []byte("1"), Version: 1}))
	require.Equal(t, base+4+1, tr.DataSize())
	mustApply(t, tr, deleteTxn(3, "/abc"))
	require.Equal(t, base, tr.DataSize())
	require.Equal(t, 4, tr.NodeCount())
}

func TestContainersAndTTLs(t *testing.T) {
	tr := New()
	tr.Extended = true
	r := mustApply(t, tr, txnOf(1, sessA, proto.OpCreateContainer, &proto.CreateTxn{Form: proto.OpCreateContainer, Path: "/c", ACL: proto.OpenACLUnsafe, ParentCVersion: -1}))
	require.Equal(t, proto.OpCreateContainer, r.Type)
	require.Equal(t, int64(0), r.Stat.EphemeralOwner)
	require.Equal(t, ContainerOwner, tr.Get("/c").Owner)

	r = mustApply(t, tr, txnOf(2, sessA, proto.OpCreateTTL, &proto.CreateTxn{Form: proto.OpCreateTTL, Path: "/t", ACL: proto.OpenACLUnsafe, ParentCVersion: -1, TTL: 5000}))
	require.Equal(t, proto.OpCreateTTL, r.Type)
	require.Equal(t, int64(0), r.Stat.EphemeralOwner)
	require.Equal(t, int64(5000), TTLOf(tr.Get("/t").Owner))
	require.Equal(t, OwnerTTL, KindOf(tr.Get("/t").Owner, true))

	require.Equal(t, []string{"/c"}, tr.Containers())
	require.Equal(t, []string{"/t"}, tr.TTLs())
	require.Equal(t, 0, tr.EphemeralCount())
	require.Empty(t, tr.EphemeralSessions())

	// A container may hold children; the child is an ordinary node.
	mustApply(t, tr, createTxn(3, "/c/x", "", -1))
	require.Equal(t, []string{"/c"}, tr.Containers())

	mustApply(t, tr, deleteTxn(4, "/c/x"))
	mustApply(t, tr, txnOf(5, 0, proto.OpDeleteContainer, &proto.PathRecord{Path: "/c"}))
	mustApply(t, tr, deleteTxn(6, "/t"))
	require.Empty(t, tr.Containers())
	require.Empty(t, tr.TTLs())
}

func TestKindOf(t *testing.T) {
	ttl := TTLOwner(1000)
	cases := []struct {
		owner    int64
		extended bool
		want     OwnerKind
	}{
		{0, false, OwnerNone},
		{0, true, OwnerNone},
		{sessA, false, OwnerSession},
		{sessA, true, OwnerSession},
		{ContainerOwner, false, OwnerContainer},
		{ContainerOwner, true, OwnerContainer},
		{ttl, true, OwnerTTL},
		{TTLOwner(MaxTTL), true, OwnerTTL},
		// Without extended types a negative owner is a session
		// (EphemeralType.get returns NORMAL).
		{ttl, false, OwnerSession},
		// A session of server id 255 with reserved bits set is no TTL.
		{-72057594037927936 | 0x0000010000000001, true, OwnerSession},
		{-1, false, OwnerSession},
	}
	for _, c := range cases {
		require.Equal(t, c.want, KindOf(c.owner, c.extended), "owner %#x extended %v", c.owner, c.extended)
	}
	require.Equal(t, int64(-72057594037926936), ttl) // 0xff00000000000000 | 1000
	require.Equal(t, int64(1000), TTLOf(ttl))
	require.Equal(t, MaxTTL, TTLOf(TTLOwner(MaxTTL)))
}

func TestCountDescendants(t *testing.T) {
	tr := New()
	for i, p := range []string{"/a", "/a/b", "/a/b/c", "/a/d", "/e"} {
		mustApply(t, tr, createTxn(int64(i+1), p, "", -1))
	}
	cases := []struct {
		path string
		want int
	}{
		{"/", 8}, // 5 created plus the three /zookeeper nodes
		{"/a", 3},
		{"/a/b", 1},
		{"/a/b/c", 0},
		{"/e", 0},
		{"/zookeeper", 2},
		{"/missing", 0},
	}
	for _, c := range cases {
		require.Equal(t, c.want, tr.CountDescendants(c.path), c.path)
	}
}

func TestEvents(t *testing.T) {
	digest := []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: "u:h"}}}
	rec := &recorder{}
	tr := New()
	tr.Events = rec
	open := proto.OpenACLUnsafe
	steps := []struct {
		name string
		txn  *proto.Txn
		want []sinkEvent
	}{
		{"create", txnOf(1, sessA, proto.OpCreate, &proto.CreateTxn{Form: proto.OpCreate, Path: "/a", ACL: digest, ParentCVersion: -1}),
			[]sinkEvent{{"/a", proto.EventNodeCreated, 1, digest}, {"/", proto.EventNodeChildrenChanged, 1, open}}},
		{"create child", createTxn(2, "/a/b", "", -1),
			[]sinkEvent{{"/a/b", proto.EventNodeCreated, 2, open}, {"/a", proto.EventNodeChildrenChanged, 2, digest}}},
		{"setData", txnOf(3, sessA, proto.OpSetData, &proto.SetDataRequest{Path: "/a/b", Data: []byte("x"), Version: 1}),
			[]sinkEvent{{"/a/b", proto.EventNodeDataChanged, 3, open}}},
		{"setACL fires nothing", txnOf(4, sessA, proto.OpSetACL, &proto.SetACLRequest{Path: "/a/b", ACL: digest, Version: 1}), nil},
		{"check fires nothing", txnOf(5, sessA, proto.OpCheck, &proto.PathVersionRecord{Path: "/a/b", Version: 1}), nil},
		{"delete", deleteTxn(6, "/a/b"),
			[]sinkEvent{{"/a/b", proto.EventNodeDeleted, 6, digest}, {"/a", proto.EventNodeChildrenChanged, 6, digest}}},
		{"failed create fires nothing", createTxn(7, "/a", "", -1), nil},
		{"failed delete fires nothing", deleteTxn(8, "/a/b"), nil},
		{"error fires nothing", txnOf(9, sessA, proto.OpError, &proto.IntRecord{Value: int32(proto.ErrBadVersion)}), nil},
		{"multi fires in op order", txnOf(10, sessA, proto.OpMulti, &proto.MultiTxn{Txns: []proto.SubTxn{
			{Type: proto.OpCreate, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: "/m", ACL: open, ParentCVersion: -1}},
			{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/m", Data: []byte("y"), Version: 1}},
			{Type: proto.OpDelete, Body: &proto.PathRecord{Path: "/a"}},
		}}), []sinkEvent{
			{"/m", proto.EventNodeCreated, 10, open}, {"/", proto.EventNodeChildrenChanged, 10, open},
			{"/m", proto.EventNodeDataChanged, 10, open},
			{"/a", proto.EventNodeDeleted, 10, digest}, {"/", proto.EventNodeChildrenChanged, 10, open},
		}},
		{"failed multi fires nothing", txnOf(11, sessA, proto.OpMulti, &proto.MultiTxn{Txns: []proto.SubTxn{
			{Type: proto.OpCreate, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: "/n", ACL: open, ParentCVersion: -1}},
			{Type: proto.OpError, Body: &proto.IntRecord{Value: int32(proto.ErrNoNode)}},
		}}), nil},
	}
	for _, s := range steps {
		tr.Apply(s.txn)
		require.Equal(t, s.want, rec.take(), s.name)
	}
}

func TestMulti(t *testing.T) {
	tr := New()
	tr.Extended = true
	mustApply(t, tr, createTxn(1, "/x", "", -1))
	open := proto.OpenACLUnsafe
	r := tr.Apply(txnOf(2, sessA, proto.OpMulti, &proto.MultiTxn{Txns: []proto.SubTxn{
		{Type: proto.OpCreate, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: "/m", Data: []byte("d"), ACL: open, ParentCVersion: -1}},
		{Type: proto.OpCreate2, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: "/m/e", ACL: open, Ephemeral: true, ParentCVersion: -1}},
		{Type: proto.OpCreateContainer, Body: &proto.CreateTxn{Form: proto.OpCreateContainer, Path: "/c", ACL: open, ParentCVersion: -1}},
		{Type: proto.OpCreateTTL, Body: &proto.CreateTxn{Form: proto.OpCreateTTL, Path: "/t", ACL: open, ParentCVersion: -1, TTL: 10}},
		{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/m", Data: []byte("dd"), Version: 1}},
		{Type: proto.OpCheck, Body: &proto.PathVersionRecord{Path: "/m", Version: 1}},
		{Type: proto.OpDelete, Body: &proto.PathRecord{Path: "/x"}},
	}}))
	require.Equal(t, proto.OpMulti, r.Type)
	require.Equal(t, proto.ErrOK, r.Err)
	require.Len(t, r.Multi, 7)
	wantTypes := []proto.Op{proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL, proto.OpSetData, proto.OpCheck, proto.OpDelete}
	for i, sub := range r.Multi {
		require.Equal(t, wantTypes[i], sub.Type, i)
		require.Equal(t, proto.ErrOK, sub.Err, i)
	}
	// Every op has the multi's zxid and time.
	require.Equal(t, proto.Stat{Czxid: 2, Mzxid: 2, Ctime: 1002, Mtime: 1002, DataLength: 1, Pzxid: 2}, r.Multi[0].Stat)
	require.Equal(t, sessA, r.Multi[1].Stat.EphemeralOwner)
	require.Equal(t, proto.Stat{Czxid: 2, Mzxid: 2, Ctime: 1002, Mtime: 1002, Version: 1, Cversion: 1, DataLength: 2, NumChildren: 1, Pzxid: 2}, r.Multi[4].Stat)
	require.Equal(t, "/x", r.Multi[6].Path)
	require.Nil(t, tr.Get("/x"))
	require.Equal(t, []string{"/m/e"}, tr.Ephemerals(sessA))
	require.Equal(t, []string{"/c"}, tr.Containers())
	require.Equal(t, []string{"/t"}, tr.TTLs())
	require.Equal(t, int64(2), tr.LastZxid())
}

// A multi that failed in prep holds an error among its ops: nothing
// applies; ops before the failure report OK, the failure its code, the
// ops after it RUNTIMEINCONSISTENCY; the multi's Err is the first error.
func TestMultiFailed(t *testing.T) {
	tr := New()
	open := proto.OpenACLUnsafe
	before := tr.NodeCount()
	r := tr.Apply(txnOf(1, sessA, proto.OpMulti, &proto.MultiTxn{Txns: []proto.SubTxn{
		{Type: proto.OpCreate, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: "/m", ACL: open, ParentCVersion: -1}},
		{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/m", Version: 1}},
		{Type: proto.OpError, Body: &proto.IntRecord{Value: int32(proto.ErrBadVersion)}},
		{Type: proto.OpError, Body: &proto.IntRecord{Value: int32(proto.ErrRuntimeInconsistency)}},
	}}))
	require.Equal(t, proto.ErrBadVersion, r.Err)
	require.Equal(t, []Result{
		{Type: proto.OpError, Err: proto.ErrOK},
		{Type: proto.OpError, Err: proto.ErrOK},
		{Type: proto.OpError, Err: proto.ErrBadVersion},
		{Type: proto.OpError, Err: proto.ErrRuntimeInconsistency},
	}, r.Multi)
	require.Nil(t, tr.Get("/m"))
	require.Equal(t, before, tr.NodeCount())
	require.Equal(t, int64(1), tr.LastZxid())
	require.Equal(t, int64(0), tr.Get("/").Pzxid)
}

// A multi whose ops were all prepared but one fails at apply (only on a
// replay) reports that op's error as the multi's.
func TestMultiApplyErrorIsFirstError(t *testing.T) {
	tr := New()
	r := tr.Apply(txnOf(1, sessA, proto.OpMulti, &proto.MultiTxn{Txns: []proto.SubTxn{
		{Type: proto.OpDelete, Body: &proto.PathRecord{Path: "/gone"}},
		{Type: proto.OpCreate, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: "/zookeeper", ACL: proto.OpenACLUnsafe, ParentCVersion: -1}},
	}}))
	require.Equal(t, proto.ErrNoNode, r.Err)
	require.Equal(t, proto.ErrNoNode, r.Multi[0].Err)
	require.Equal(t, proto.ErrNodeExists, r.Multi[1].Err)
}
