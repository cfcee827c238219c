package tree

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/proto"
)

func TestEphemeralsTracking(t *testing.T) {
	tr := New()
	mustApply(t, tr, ephemeralTxn(1, sessA, "/b"))
	mustApply(t, tr, ephemeralTxn(2, sessA, "/a"))
	mustApply(t, tr, ephemeralTxn(3, sessB, "/c"))
	mustApply(t, tr, createTxn(4, "/p", "", -1))

	require.Equal(t, []string{"/a", "/b"}, tr.Ephemerals(sessA))
	require.Equal(t, []string{"/c"}, tr.Ephemerals(sessB))
	require.Equal(t, []string{}, tr.Ephemerals(42))
	require.Nil(t, tr.EphemeralsInCloseOrder(42))
	require.Equal(t, 3, tr.EphemeralCount())
	require.Equal(t, map[int64][]string{sessA: {"/a", "/b"}, sessB: {"/c"}}, tr.EphemeralSessions())
	require.Equal(t, sessA, tr.Get("/a").Stat().EphemeralOwner)

	// Deleting the last ephemeral keeps the session listed (DataTree keeps
	// the empty set until the session closes; dump shows it).
	mustApply(t, tr, deleteTxn(5, "/c"))
	require.Equal(t, 2, tr.EphemeralCount())
	require.Equal(t, map[int64][]string{sessA: {"/a", "/b"}, sessB: {}}, tr.EphemeralSessions())
}

// TestCloseSession: the listed ephemerals go in the listed order, then any
// the leader did not list; a listed path the session does not own stays;
// the session leaves the session table and the ephemerals index.
func TestCloseSession(t *testing.T) {
	rec := &recorder{}
	tr := New()
	mustApply(t, tr, txnOf(1, sessA, proto.OpCreateSession, &proto.IntRecord{Value: 3000}))
	mustApply(t, tr, txnOf(2, sessB, proto.OpCreateSession, &proto.IntRecord{Value: 5000}))
	mustApply(t, tr, ephemeralTxn(3, sessA, "/x"))
	mustApply(t, tr, ephemeralTxn(4, sessA, "/y"))
	mustApply(t, tr, ephemeralTxn(5, sessA, "/z"))
	mustApply(t, tr, ephemeralTxn(6, sessB, "/other"))
	require.Len(t, tr.Sessions(), 2)
	tr.Events = rec

	r := mustApply(t, tr, txnOf(7, sessA, proto.OpCloseSession, &proto.StringsRecord{Strings: []string{"/y", "/other", "/x", "/missing"}}))
	require.Equal(t, proto.OpCloseSession, r.Type)
	var deleted []string
	for _, e := range rec.take() {
		if e.Ev == proto.EventNodeDeleted {
			require.Equal(t, int64(7), e.Zxid)
			deleted = append(deleted, e.Path)
		}
	}
	require.Equal(t, []string{"/y", "/x", "/z"}, deleted)
	require.NotNil(t, tr.Get("/other"))
	require.Nil(t, tr.Get("/x"))
	require.Nil(t, tr.Get("/z"))
	require.Equal(t, map[int64]int32{sessB: 5000}, tr.Sessions())
	require.Equal(t, map[int64][]string{sessB: {"/other"}}, tr.EphemeralSessions())
	require.Equal(t, int64(7), tr.Get("/").Pzxid)

	// An old-format close (no body) still removes every ephemeral.
	mustApply(t, tr, txnOf(8, sessB, proto.OpCloseSession, nil))
	require.Nil(t, tr.Get("/other"))
	require.Empty(t, tr.Sessions())
	require.Empty(t, tr.EphemeralSessions())
	require.Equal(t, 0, tr.EphemeralCount())
}

// Expected close orders: the iteration order of the copy
// DataTree.getEphemerals makes (HashSet.clone) of a session's HashSet after
// the same adds and removes. Produced on this machine's JDK 17 with a small
// programs (`java Eph.java`, `java E12.java`):
//
//	HashSet<String> s = new HashSet<>(); ...adds/removes...;
//	for (String p : (HashSet<String>) s.clone()) print(p);
var javaCloseOrders = map[string][]string{
	// A: add /e0 .. /e19.
	"A": strings.Fields("/e6 /e11 /e7 /e12 /e8 /e9 /e10 /e19 /e17 /e18 /e15 /e16 /e13 /e14 /e0 /e1 /e2 /e3 /e4 /e5"),
	// B: then remove /e0 .. /e14 (the table stays at 32, the copy gets 8).
	"B": strings.Fields("/e19 /e17 /e18 /e15 /e16"),
	// C: recipe-like names, added in this order.
	"C": strings.Fields("/app/lock/member-0000000001 /workers/w1 /a /app/lock/member-0000000002 /b /workers/w2 /zz/top /app/election/n_0000000000"),
	// D: add /x /y /z /xy /yx, remove /x, add /x again.
	"D": strings.Fields("/xy /x /y /z /yx"),
	// E12 and E13: add /lock/n-0000000000 .. /lock/n-00000000NN (12 and 13
	// paths: the copy's table, 32, is larger than the original's 16 in the
	// first case; both are 32 in the second, after a resize).
	"E12": strings.Fields("/lock/n-0000000002 /lock/n-0000000003 /lock/n-0000000000 /lock/n-0000000011 /lock/n-0000000001 /lock/n-0000000010 /lock/n-0000000008 /lock/n-0000000009 /lock/n-0000000006 /lock/n-0000000007 /lock/n-0000000004 /lock/n-0000000005"),
	"E13": strings.Fields("/lock/n-0000000002 /lock/n-0000000003 /lock/n-0000000000 /lock/n-0000000011 /lock/n-0000000001 /lock/n-0000000012 /lock/n-0000000010 /lock/n-0000000008 /lock/n-0000000009 /lock/n-0000000006 /lock/n-0000000007 /lock/n-0000000004 /lock/n-0000000005"),
}

func TestEphemeralsInCloseOrderMatchesJava(t *testing.T) {
	t.Run("A and B", func(t *testing.T) {
		tr := New()
		z := int64(0)
		for i := 0; i < 20; i++ {
			z++
			mustApply(t, tr, ephemeralTxn(z, sessA, fmt.Sprintf("/e%d", i)))
		}
		require.Equal(t, javaCloseOrders["A"], tr.EphemeralsInCloseOrder(sessA))
		for i := 0; i < 15; i++ {
			z++
			mustApply(t, tr, deleteTxn(z, fmt.Sprintf("/e%d", i)))
		}
		require.Equal(t, javaCloseOrders["B"], tr.EphemeralsInCloseOrder(sessA))
	})
	t.Run("C", func(t *testing.T) {
		tr := New()
		z := int64(0)
		for _, p := range []string{"/app", "/app/lock", "/app/election", "/workers", "/zz"} {
			z++
			mustApply(t, tr, createTxn(z, p, "", -1))
		}
		for _, p := range []string{"/app/lock/member-0000000001", "/app/lock/member-0000000002", "/app/election/n_0000000000", "/workers/w1", "/workers/w2", "/a", "/b", "/zz/top"} {
			z++
			mustApply(t, tr, ephemeralTxn(z, sessA, p))
		}
		require.Equal(t, javaCloseOrders["C"], tr.EphemeralsInCloseOrder(sessA))
	})
	t.Run("D", func(t *testing.T) {
		tr := New()
		z := int64(0)
		for _, p := range []string{"/x", "/y", "/z", "/xy", "/yx"} {
			z++
			mustApply(t, tr, ephemeralTxn(z, sessA, p))
		}
		mustApply(t, tr, deleteTxn(z+1, "/x"))
		mustApply(t, tr, ephemeralTxn(z+2, sessA, "/x"))
		require.Equal(t, javaCloseOrders["D"], tr.EphemeralsInCloseOrder(sessA))
	})
	for _, n := range []int{12, 13} {
		t.Run(fmt.Sprintf("E%d", n), func(t *testing.T) {
			tr := New()
			mustApply(t, tr, createTxn(1, "/lock", "", -1))
			for i := 0; i < n; i++ {
				mustApply(t, tr, ephemeralTxn(int64(i+2), sessA, fmt.Sprintf("/lock/n-%010d", i)))
			}
			require.Equal(t, javaCloseOrders[fmt.Sprintf("E%d", n)], tr.EphemeralsInCloseOrder(sessA))
		})
	}
}

// String.hashCode values printed by the JDK on this machine.
func TestJavaStringHash(t *testing.T) {
	cases := []struct {
		s    string
		want int32
	}{
		{"", 0},
		{"/", 47},
		{"/a", 1554},
		{"/zookeeper", 954481661},
		{"/app/lock/member-0000000001", -582117811},
		{"é", 233},
		{"€uro", 249288006},
		{"😀", 1772899}, // hashed as its two UTF-16 surrogates
	}
	for _, c := range cases {
		require.Equal(t, c.want, JavaStringHash(c.s), c.s)
	}
}

func TestACLCache(t *testing.T) {
	c := NewACLCache()
	digest := []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: "u:h"}}}
	other := []proto.ACL{{Perms: proto.PermRead, ID: proto.Id{Scheme: "digest", ID: "u:h"}}}

	require.Equal(t, openACLID, c.Intern(nil))
	require.Equal(t, openACLID, c.Intern(proto.OpenACLUnsafe))
	require.Equal(t, openACLID, c.Intern([]proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "world", ID: "anyone"}}}))
	require.Equal(t, 0, c.Len())
	require.Equal(t, proto.OpenACLUnsafe, c.Get(openACLID))
	c.Release(openACLID) // a no-op
	require.Equal(t, proto.OpenACLUnsafe, c.Get(openACLID))

	id1 := c.Intern(digest)
	id2 := c.Intern(append([]proto.ACL(nil), digest...)) // an equal list, another slice
	id3 := c.Intern(other)
	require.Equal(t, int64(1), id1)
	require.Equal(t, id1, id2)
	require.Equal(t, int64(2), id3)
	require.Equal(t, 2, c.Len())
	require.Equal(t, digest, c.Get(id1))

	refs := map[int64]int64{}
	c.Each(func(id int64, _ []proto.ACL, r int64) { refs[id] = r })
	require.Equal(t, map[int64]int64{1: 2, 2: 1}, refs)

	c.Release(id1)
	require.Equal(t, digest, c.Get(id1))
	c.Release(id1)
	require.Nil(t, c.Get(id1))
	require.Equal(t, 1, c.Len())
	// A list dropped and interned again gets a new id.
	require.Equal(t, int64(3), c.Intern(digest))
	c.Release(99) // unknown: ignored

	// The order of entries matters: [a, b] and [b, a] are different lists.
	both := append(append([]proto.ACL(nil), digest...), other...)
	rev := append(append([]proto.ACL(nil), other...), digest...)
	require.NotEqual(t, c.Intern(both), c.Intern(rev))

	// Restore keeps ids and moves the next id past them.
	r := NewACLCache()
	r.Restore(7, digest, 3)
	require.Equal(t, int64(7), r.Intern(digest))
	require.Equal(t, int64(8), r.Intern(other))
}

// TestACLRefcountsThroughApply: nodes share interned lists; deletes and
// setACL release them.
func TestACLRefcountsThroughApply(t *testing.T) {
	digest := []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: "u:h"}}}
	tr := New()
	refsOf := func() map[string]int64 {
		out := map[string]int64{}
		tr.ACLs().Each(func(_ int64, acl []proto.ACL, r int64) { out[acl[0].ID.Scheme+":"+acl[0].ID.ID] = r })
		return out
	}
	create := func(z int64, path string) {
		mustApply(t, tr, txnOf(z, sessA, proto.OpCreate, &proto.CreateTxn{Form: proto.OpCreate, Path: path, ACL: digest, ParentCVersion: -1}))
	}
	create(1, "/a")
	create(2, "/b")
	require.Equal(t, map[string]int64{"digest:u:h": 2, "world:anyone": 1}, refsOf())
	require.Equal(t, tr.Get("/a").ACL, tr.Get("/b").ACL)

	// A failed create (replay) takes no reference.
	require.Equal(t, proto.ErrNodeExists, tr.Apply(txnOf(3, sessA, proto.OpCreate, &proto.CreateTxn{Form: proto.OpCreate, Path: "/a", ACL: digest, ParentCVersion: -1})).Err)
	require.Equal(t, map[string]int64{"digest:u:h": 2, "world:anyone": 1}, refsOf())

	mustApply(t, tr, deleteTxn(4, "/a"))
	require.Equal(t, map[string]int64{"digest:u:h": 1, "world:anyone": 1}, refsOf())

	// setACL to the same list keeps the entry.
	mustApply(t, tr, txnOf(5, sessA, proto.OpSetACL, &proto.SetACLRequest{Path: "/b", ACL: digest, Version: 1}))
	require.Equal(t, map[string]int64{"digest:u:h": 1, "world:anyone": 1}, refsOf())
	require.Equal(t, digest, tr.ACLOf(tr.Get("/b")))

	mustApply(t, tr, txnOf(6, sessA, proto.OpSetACL, &proto.SetACLRequest{Path: "/b", ACL: proto.OpenACLUnsafe, Version: 2}))
	require.Equal(t, map[string]int64{"world:anyone": 1}, refsOf()) // only /zookeeper/config's read ACL
	require.Equal(t, proto.OpenACLUnsafe, tr.ACLOf(tr.Get("/b")))
}

func TestLoader(t *testing.T) {
	digest := []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: "u:h"}}}
	l := NewLoader(true, 8)
	l.ACL(5, digest)
	l.ACL(6, proto.ReadACLUnsafe) // defined but unused: not restored
	l.Node("/", Node{Data: []byte{}, ACL: openACLID}, 2)
	l.Node("/a", Node{Data: []byte("ab"), Czxid: 1, ACL: 5}, 1)
	l.Node("/a/e", Node{Czxid: 2, Owner: sessA, ACL: 5}, 0)
	l.Node("/c", Node{Czxid: 3, Owner: ContainerOwner, ACL: openACLID}, 0)
	l.Node("/t", Node{Czxid: 4, Owner: TTLOwner(10), ACL: openACLID}, 0)
	l.Node("/orphan/x", Node{Czxid: 5, ACL: 5}, 0)
	l.Session(sessA, 3000)
	tr, dropped, err := l.Finish(9)
	require.NoError(t, err)
	require.Equal(t, 1, dropped)
	require.Nil(t, tr.Get("/orphan/x"))
	require.Equal(t, int64(9), tr.LastZxid())
	require.Equal(t, []string{"a", "c", "t"}, tr.Get("/").Children())
	require.Equal(t, []string{"/a/e"}, tr.Ephemerals(sessA))
	require.Equal(t, []string{"/c"}, tr.Containers())
	require.Equal(t, []string{"/t"}, tr.TTLs())
	require.Equal(t, map[int64]int32{sessA: 3000}, tr.Sessions())
	require.Equal(t, 1, tr.ACLs().Len())
	require.Equal(t, digest, tr.ACLOf(tr.Get("/a")))
	require.Equal(t, int64(len("/")+len("/a")+2+len("/a/e")+len("/c")+len("/t")), tr.DataSize())
	// The restored list is shared with new nodes and counted.
	mustApply(t, tr, txnOf(10, sessA, proto.OpCreate, &proto.CreateTxn{Form: proto.OpCreate, Path: "/n", ACL: digest, ParentCVersion: -1}))
	require.Equal(t, int64(5), tr.Get("/n").ACL)

	_, _, err = NewLoader(false, 0).Finish(0)
	require.Error(t, err, "no root")

	bad := NewLoader(false, 1)
	bad.Node("/", Node{ACL: 77}, 0)
	_, _, err = bad.Finish(0)
	require.Error(t, err, "undefined ACL id")
}
