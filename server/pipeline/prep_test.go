package pipeline_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/tree"
)

const userDigest = "user:smGaoVKd/cQkjm7b88GyorAUz20="

// fixture builds, through the pipeline:
//
//	/a "a" with child /a/b        open
//	/locked "l"                   digest user only
//	/noc with child /noc/c        everything but CREATE for anyone
//	/nod with child /nod/c        everything but DELETE for anyone
//	/c                            an empty container
//	/eph                          an ephemeral of the returned client
//
// and returns an anonymous client, plus one whose session is closing.
func fixture(t *testing.T, opts pipeline.Options) (h *harness, c, expired *fakeClient) {
	h = newHarness(t, opts)
	admin := h.connect(super)
	world := func(perms int32) []proto.ACL {
		return []proto.ACL{{Perms: perms, ID: proto.WorldAnyone}}
	}
	h.must(admin, proto.OpCreate, createReq("/a", "a", proto.ModePersistent))
	h.must(admin, proto.OpCreate, createReq("/a/b", "", proto.ModePersistent))
	h.must(admin, proto.OpCreate, &proto.CreateRequest{Path: "/locked", Data: []byte("l"), ACL: []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: userDigest}}}})
	h.must(admin, proto.OpCreate, &proto.CreateRequest{Path: "/noc", ACL: world(proto.PermAll &^ proto.PermCreate)})
	h.must(admin, proto.OpCreate, createReq("/noc/c", "", proto.ModePersistent))
	h.must(admin, proto.OpCreate, &proto.CreateRequest{Path: "/nod", ACL: world(proto.PermAll &^ proto.PermDelete)})
	h.must(admin, proto.OpCreate, createReq("/nod/c", "", proto.ModePersistent))
	h.must(admin, proto.OpCreateContainer, createReq("/c", "", proto.ModeContainer))
	c = h.connect(anon)
	h.must(c, proto.OpCreate, createReq("/eph", "", proto.ModeEphemeral))
	expired = h.connect(anon)
	h.tracker.SetClosing(expired.id)
	return h, c, expired
}

type prepCase struct {
	name string
	who  string // "", "expired" or "moved"
	op   proto.Op
	body proto.Record
	want proto.Err
}

func acls(scheme, id string) []proto.ACL {
	return []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: scheme, ID: id}}}
}

// TestPrepOrderOfChecks: when several checks fail, the one
// PrepRequestProcessor makes first wins, so each case sets up two failures
// and expects the earlier one.
func TestPrepOrderOfChecks(t *testing.T) {
	open := proto.OpenACLUnsafe
	ttl := func(path string, flags int32, ttl int64) *proto.CreateRequest {
		return &proto.CreateRequest{Path: path, ACL: open, Flags: flags, TTL: ttl, HasTTL: true}
	}
	cases := []prepCase{
		// pRequest2TxnCreate: mode, TTL, session, path, ACL, parent,
		// parent ACL, final path, existence, ephemeral parent.
		{"create: invalid flags beat an expired session", "expired", proto.OpCreate, createReq("/x", "", 9), proto.ErrBadArguments},
		{"create: negative flags", "", proto.OpCreate, createReq("/x", "", -1), proto.ErrBadArguments},
		{"create: TTL mode without extended types beats the session", "expired", proto.OpCreateTTL, ttl("/t", proto.ModePersistentWithTTL, 100), proto.ErrUnimplemented},
		{"create: TTL flags on create without extended types", "", proto.OpCreate, createReq("/t", "", proto.ModePersistentWithTTL), proto.ErrUnimplemented},
		{"create: createTTL with a non-TTL mode", "", proto.OpCreateTTL, ttl("/t", proto.ModePersistent, 100), proto.ErrBadArguments},
		{"create: expired session", "expired", proto.OpCreate, createReq("/x", "", 0), proto.ErrSessionExpired},
		{"create: session moved", "moved", proto.OpCreate, createReq("/x", "", 0), proto.ErrSessionMoved},
		{"create: expired session beats a bad path", "expired", proto.OpCreate, createReq("x", "", 0), proto.ErrSessionExpired},
		{"create: no slash", "", proto.OpCreate, createReq("x", "", 0), proto.ErrBadArguments},
		{"create: NUL", "", proto.OpCreate, createReq("/a\x00", "", 0), proto.ErrBadArguments},
		{"create: bad path beats a bad ACL", "", proto.OpCreate, &proto.CreateRequest{Path: "x", ACL: acls("digest", "bad")}, proto.ErrBadArguments},
		{"create: invalid ACL beats a missing parent", "", proto.OpCreate, &proto.CreateRequest{Path: "/nope/x", ACL: acls("digest", "bad")}, proto.ErrInvalidACL},
		{"create: empty ACL", "", proto.OpCreate, &proto.CreateRequest{Path: "/x", ACL: []proto.ACL{}}, proto.ErrInvalidACL},
		{"create: auth ACL without credentials", "", proto.OpCreate, &proto.CreateRequest{Path: "/x", ACL: acls("auth", "")}, proto.ErrInvalidACL},
		{"create: missing parent", "", proto.OpCreate, createReq("/nope/x", "", 0), proto.ErrNoNode},
		{"create: parent without CREATE beats an existing node", "", proto.OpCreate, createReq("/noc/c", "", 0), proto.ErrNoAuth},
		{"create: parent without CREATE beats a bad name", "", proto.OpCreate, createReq("/noc/", "", 0), proto.ErrNoAuth},
		{"create: trailing slash", "", proto.OpCreate, createReq("/a/", "", 0), proto.ErrBadArguments},
		{"create: relative path", "", proto.OpCreate, createReq("/a/..", "", 0), proto.ErrBadArguments},
		{"create: invalid character", "", proto.OpCreate, createReq("/a/\x01", "", 0), proto.ErrBadArguments},
		{"create: existing node", "", proto.OpCreate, createReq("/a/b", "", 0), proto.ErrNodeExists},
		{"create: ephemeral parent", "", proto.OpCreate, createReq("/eph/x", "", 0), proto.ErrNoChildrenForEphemerals},
		{"create: under a container", "", proto.OpCreate, createReq("/c/x", "", 0), proto.ErrOK},
		{"create2: an ephemeral", "", proto.OpCreate2, createReq("/a/x", "", proto.ModeEphemeral), proto.ErrOK},

		// delete: session, parent path, parent, parent ACL, node,
		// version, children.
		{"delete: expired session beats a special path", "expired", proto.OpDelete, &proto.PathVersionRecord{Path: "/", Version: -1}, proto.ErrSessionExpired},
		{"delete: root", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/", Version: -1}, proto.ErrBadArguments},
		{"delete: /zookeeper", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/zookeeper", Version: -1}, proto.ErrBadArguments},
		{"delete: /zookeeper/quota", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/zookeeper/quota", Version: -1}, proto.ErrBadArguments},
		{"delete: /zookeeper/config", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/zookeeper/config", Version: -1}, proto.ErrBadArguments},
		{"delete: no slash", "", proto.OpDelete, &proto.PathVersionRecord{Path: "a", Version: -1}, proto.ErrBadArguments},
		{"delete: NUL", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/a\x00", Version: -1}, proto.ErrBadArguments},
		{"delete: missing parent", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/nope/x", Version: -1}, proto.ErrNoNode},
		{"delete: parent without DELETE beats a missing node", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/nod/missing", Version: -1}, proto.ErrNoAuth},
		{"delete: parent without DELETE", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/nod/c", Version: -1}, proto.ErrNoAuth},
		{"delete: missing node", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/a/missing", Version: -1}, proto.ErrNoNode},
		{"delete: trailing slash is just missing", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/a/b/", Version: -1}, proto.ErrNoNode},
		{"delete: bad version beats not empty", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/a", Version: 5}, proto.ErrBadVersion},
		{"delete: not empty", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/a", Version: -1}, proto.ErrNotEmpty},
		{"delete: only the parent's ACL counts", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/locked", Version: 0}, proto.ErrOK},
		{"delete: ok", "", proto.OpDelete, &proto.PathVersionRecord{Path: "/a/b", Version: 0}, proto.ErrOK},

		// setData: session, path, node, ACL, version.
		{"setData: expired session", "expired", proto.OpSetData, &proto.SetDataRequest{Path: "/a", Version: -1}, proto.ErrSessionExpired},
		{"setData: bad path beats missing", "", proto.OpSetData, &proto.SetDataRequest{Path: "/nope/", Version: -1}, proto.ErrBadArguments},
		{"setData: missing", "", proto.OpSetData, &proto.SetDataRequest{Path: "/nope", Version: -1}, proto.ErrNoNode},
		{"setData: no WRITE beats a bad version", "", proto.OpSetData, &proto.SetDataRequest{Path: "/locked", Version: 9}, proto.ErrNoAuth},
		{"setData: bad version", "", proto.OpSetData, &proto.SetDataRequest{Path: "/a", Version: 3}, proto.ErrBadVersion},
		{"setData: ok", "", proto.OpSetData, &proto.SetDataRequest{Path: "/a", Data: []byte("new"), Version: 0}, proto.ErrOK},

		// setACL: session, path, ACL, node, ADMIN, version.
		{"setACL: expired session", "expired", proto.OpSetACL, &proto.SetACLRequest{Path: "/a", ACL: open, Version: -1}, proto.ErrSessionExpired},
		{"setACL: bad path beats a bad ACL", "", proto.OpSetACL, &proto.SetACLRequest{Path: "a", ACL: acls("digest", "bad"), Version: -1}, proto.ErrBadArguments},
		{"setACL: invalid ACL beats a missing node", "", proto.OpSetACL, &proto.SetACLRequest{Path: "/nope", ACL: acls("digest", "bad"), Version: -1}, proto.ErrInvalidACL},
		{"setACL: null ACL", "", proto.OpSetACL, &proto.SetACLRequest{Path: "/a", Version: -1}, proto.ErrInvalidACL},
		{"setACL: missing", "", proto.OpSetACL, &proto.SetACLRequest{Path: "/nope", ACL: open, Version: -1}, proto.ErrNoNode},
		{"setACL: no ADMIN beats a bad version", "", proto.OpSetACL, &proto.SetACLRequest{Path: "/locked", ACL: open, Version: 9}, proto.ErrNoAuth},
		{"setACL: bad version", "", proto.OpSetACL, &proto.SetACLRequest{Path: "/noc", ACL: open, Version: 9}, proto.ErrBadVersion},
		{"setACL: ok", "", proto.OpSetACL, &proto.SetACLRequest{Path: "/a", ACL: proto.ReadACLUnsafe, Version: 0}, proto.ErrOK},

		// check: session, path, node, READ, version.
		{"check: expired session", "expired", proto.OpCheck, &proto.PathVersionRecord{Path: "/a", Version: -1}, proto.ErrSessionExpired},
		{"check: bad path", "", proto.OpCheck, &proto.PathVersionRecord{Path: "/a/", Version: -1}, proto.ErrBadArguments},
		{"check: missing", "", proto.OpCheck, &proto.PathVersionRecord{Path: "/nope", Version: -1}, proto.ErrNoNode},
		{"check: no READ beats a bad version", "", proto.OpCheck, &proto.PathVersionRecord{Path: "/locked", Version: 9}, proto.ErrNoAuth},
		{"check: bad version", "", proto.OpCheck, &proto.PathVersionRecord{Path: "/a", Version: 1}, proto.ErrBadVersion},
		{"check: ok", "", proto.OpCheck, &proto.PathVersionRecord{Path: "/a", Version: 0}, proto.ErrOK},

		// deleteContainer: parent path, node, children, type, parent.
		{"deleteContainer: empty container", "", proto.OpDeleteContainer, &proto.PathRecord{Path: "/c"}, proto.ErrOK},
		{"deleteContainer: root", "", proto.OpDeleteContainer, &proto.PathRecord{Path: "/"}, proto.ErrBadArguments},
		{"deleteContainer: missing", "", proto.OpDeleteContainer, &proto.PathRecord{Path: "/nope"}, proto.ErrNoNode},
		{"deleteContainer: not empty beats not a container", "", proto.OpDeleteContainer, &proto.PathRecord{Path: "/a"}, proto.ErrNotEmpty},
		{"deleteContainer: an ephemeral", "", proto.OpDeleteContainer, &proto.PathRecord{Path: "/eph"}, proto.ErrBadVersion},
		// zkit refuses ordinary nodes too (a client must not bypass ACLs).
		{"deleteContainer: a persistent node", "", proto.OpDeleteContainer, &proto.PathRecord{Path: "/a/b"}, proto.ErrBadVersion},

		{"reconfig: disabled", "", proto.OpReconfig, &proto.ReconfigRequest{CurConfigID: -1}, proto.ErrReconfigDisabled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, client, expired := fixture(t, pipeline.Options{})
			who := client
			var owner any = client
			switch c.who {
			case "expired":
				who, owner = expired, expired
			case "moved":
				owner = &fakeClient{}
			}
			before := h.g.count()
			zxid := h.lastZxid()
			xid := who.nextXid()
			h.p.Submit(&pipeline.Request{Client: who, Session: who.id, Xid: xid, Op: c.op, Body: encode(c.body), IDs: who.ids, Owner: owner})
			if c.who == "moved" {
				// Logged as an error txn, answered by closing the
				// connection (TestSessionMovedClosesConnection).
				txns := h.g.txns(before)
				require.Len(t, txns, 1)
				require.Equal(t, &proto.IntRecord{Value: int32(c.want)}, txns[0].Body)
				h.waitZxid(txns[0].Header.Zxid)
				who.mu.Lock()
				defer who.mu.Unlock()
				require.True(t, who.closed)
				return
			}
			r := who.replyTo(t, xid)
			require.Equal(t, c.want, r.Err)
			// Every write takes a zxid, failed or not.
			txns := h.g.txns(before)
			require.Len(t, txns, 1)
			require.Equal(t, zxid+1, txns[0].Header.Zxid)
			require.Equal(t, zxid+1, r.Zxid)
			if c.want == proto.ErrOK {
				require.Equal(t, c.op, txns[0].Header.Type)
			} else {
				require.Equal(t, proto.OpError, txns[0].Header.Type)
				require.Equal(t, &proto.IntRecord{Value: int32(c.want)}, txns[0].Body)
				require.Nil(t, r.Body)
			}
		})
	}
}

func TestPrepTTLWithExtendedTypes(t *testing.T) {
	h := newHarness(t, pipeline.Options{ExtendedTypes: true})
	c := h.connect(anon)
	ttl := func(path string, flags int32, ttl int64) *proto.CreateRequest {
		return &proto.CreateRequest{Path: path, ACL: proto.OpenACLUnsafe, Flags: flags, TTL: ttl, HasTTL: true}
	}
	cases := []struct {
		name string
		op   proto.Op
		body *proto.CreateRequest
		want proto.Err
	}{
		{"ttl 0", proto.OpCreateTTL, ttl("/t", proto.ModePersistentWithTTL, 0), proto.ErrBadArguments},
		{"negative ttl", proto.OpCreateTTL, ttl("/t", proto.ModePersistentWithTTL, -5), proto.ErrBadArguments},
		{"ttl above the max", proto.OpCreateTTL, ttl("/t", proto.ModePersistentWithTTL, 0x000000ffffffffff+1), proto.ErrBadArguments},
		{"TTL flags on plain create (ttl -1)", proto.OpCreate, createReq("/t", "", proto.ModePersistentWithTTL), proto.ErrBadArguments},
		{"createTTL with a persistent mode", proto.OpCreateTTL, ttl("/t", proto.ModePersistent, 100), proto.ErrBadArguments},
		{"ok", proto.OpCreateTTL, ttl("/t", proto.ModePersistentWithTTL, 100), proto.ErrOK},
		{"sequential ok", proto.OpCreateTTL, ttl("/s-", proto.ModePersistentSequentialWithTTL, 100), proto.ErrOK},
	}
	for _, cs := range cases {
		r := h.do(c, cs.op, cs.body)
		require.Equal(t, cs.want, r.Err, cs.name)
	}
	n := h.node("/t")
	require.NotNil(t, n)
	require.Equal(t, int64(0), n.Stat().EphemeralOwner)
	require.NotNil(t, h.node("/s-0000000001"))
	r := h.must(c, proto.OpCreateTTL, ttl("/u", proto.ModePersistentWithTTL, 7))
	require.Equal(t, "/u", r.Body.(*proto.Create2Response).Path)
}

// TestPrepReplies: the reply record of each write kind (FinalRequestProcessor).
func TestPrepReplies(t *testing.T) {
	h, c, _ := fixture(t, pipeline.Options{})
	r := h.must(c, proto.OpCreate, createReq("/a/n", "x", 0))
	require.Equal(t, &proto.PathRecord{Path: "/a/n"}, r.Body)

	r = h.must(c, proto.OpCreate2, createReq("/a/n2", "xy", 0))
	cr := r.Body.(*proto.Create2Response)
	require.Equal(t, "/a/n2", cr.Path)
	require.Equal(t, proto.Stat{Czxid: r.Zxid, Mzxid: r.Zxid, Pzxid: r.Zxid, Ctime: 1700000000000, Mtime: 1700000000000, DataLength: 2}, cr.Stat)

	r = h.must(c, proto.OpCreateContainer, createReq("/cc", "", proto.ModeContainer))
	require.Equal(t, "/cc", r.Body.(*proto.Create2Response).Path)
	require.Equal(t, int64(0), r.Body.(*proto.Create2Response).Stat.EphemeralOwner)

	r = h.must(c, proto.OpSetData, &proto.SetDataRequest{Path: "/a/n", Data: []byte("abc"), Version: -1})
	require.Equal(t, int32(1), r.Body.(*proto.StatResponse).Stat.Version)
	require.Equal(t, int32(3), r.Body.(*proto.StatResponse).Stat.DataLength)

	r = h.must(c, proto.OpSetACL, &proto.SetACLRequest{Path: "/a/n", ACL: proto.OpenACLUnsafe, Version: -1})
	require.Equal(t, int32(1), r.Body.(*proto.StatResponse).Stat.Aversion)

	r = h.must(c, proto.OpCheck, &proto.PathVersionRecord{Path: "/a/n", Version: 1})
	require.IsType(t, &proto.StatResponse{}, r.Body)

	r = h.must(c, proto.OpDelete, &proto.PathVersionRecord{Path: "/a/n", Version: 1})
	require.Nil(t, r.Body)

	// A create of an ephemeral stores the session as owner; "auth" expands
	// to the creator's digest identity.
	user := h.connect([]proto.Id{{Scheme: "ip", ID: "127.0.0.1"}, {Scheme: "digest", ID: userDigest}})
	r = h.must(user, proto.OpCreate2, &proto.CreateRequest{Path: "/mine", ACL: proto.CreatorAllACL, Flags: proto.ModeEphemeral})
	require.Equal(t, user.id, r.Body.(*proto.Create2Response).Stat.EphemeralOwner)
	var acl []proto.ACL
	h.db.Read(func(tr *tree.Tree) { acl = tr.ACLOf(tr.Get("/mine")) })
	require.Equal(t, []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: userDigest}}}, acl)
}

// Sequential names come from the parent's cversion as prep sees it,
// in-flight creates included.
func TestPrepSequentialNames(t *testing.T) {
	h, c, _ := fixture(t, pipeline.Options{})
	// /a has had one child created: the next suffix is 1.
	r := h.must(c, proto.OpCreate, createReq("/a/s-", "", proto.ModePersistentSequential))
	require.Equal(t, "/a/s-0000000001", r.Body.(*proto.PathRecord).Path)
	h.must(c, proto.OpDelete, &proto.PathVersionRecord{Path: "/a/s-0000000001", Version: -1})
	r = h.must(c, proto.OpCreate, createReq("/a/s-", "", proto.ModeEphemeralSequential))
	require.Equal(t, "/a/s-0000000002", r.Body.(*proto.PathRecord).Path, "deletes do not reuse numbers")

	h.g.close()
	before := c.count()
	x1 := h.submit(c, proto.OpCreate, createReq("/a/q-", "", proto.ModePersistentSequential))
	x2 := h.submit(c, proto.OpCreate2, createReq("/a/q-", "", proto.ModePersistentSequential))
	require.Equal(t, before, c.count(), "nothing is answered while held")
	h.g.open()
	require.Equal(t, "/a/q-0000000003", c.replyTo(t, x1).Body.(*proto.PathRecord).Path)
	require.Equal(t, "/a/q-0000000004", c.replyTo(t, x2).Body.(*proto.Create2Response).Path)
}

// ZooKeeper 3.9 reads a deleteContainer body before taking a zxid: one that
// does not decode fails with no new transaction.
func TestDeleteContainerMalformedBody(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	before := h.g.count()
	z := h.lastZxid()
	xid := c.nextXid()
	h.p.Submit(&pipeline.Request{Client: c, Session: c.id, Xid: xid, Op: proto.OpDeleteContainer, Body: []byte{0, 0, 0, 9, '/'}, IDs: c.ids, Owner: c})
	r := c.replyTo(t, xid)
	require.Equal(t, proto.ErrMarshallingError, r.Err)
	require.Equal(t, z, r.Zxid)
	require.Empty(t, h.g.txns(before))
}
