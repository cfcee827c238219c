package compat

import (
	"testing"

	"zkit/server/proto"
)

// TestMultiSuccess: every op type a multi carries, and the results.
func TestMultiSuccess(t *testing.T) {
	Run(t, envShared, "MultiSuccess", func(r *R) {
		c := r.Connect("c")
		w := r.Connect("w")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		w.GetChildren(r.P(""), true)
		c.Multi(
			mCreate(r.P("a"), "1", open, proto.ModePersistent),
			mCreate2(r.P("b"), "2", open, proto.ModePersistent),
			mCreate(r.P("s-"), "", open, proto.ModePersistentSequential),
			mCreate2(r.P("s-"), "", open, proto.ModeEphemeralSequential),
			mCreateContainer(r.P("cont"), "", open),
			mCreateTTL(r.P("ttl"), "", open, proto.ModePersistentWithTTL, 60000),
			mSetData(r.P("a"), "1b", 0),
			mSetData(r.P("a"), "1c", -1),
			mCheck(r.P("a"), 2),
			mCreate(r.P("a/kid"), "", open, proto.ModeEphemeral),
			mDelete(r.P("b"), 0),
			mCheck(r.P("a/kid"), -1),
		).Allowed(allowCreate2InMulti)
		c.GetChildren2(r.P(""), false)
		c.GetData(r.P("a"), false)
		c.GetChildren2(r.P("a"), false)
		// An empty multi.
		c.Multi()
		// Create and delete of the same node, data of a node created in
		// the same multi.
		c.Multi(mCreate(r.P("x"), "", open, 0), mSetData(r.P("x"), "x1", 0), mCheck(r.P("x"), 1), mDelete(r.P("x"), 1))
		c.Exists(r.P("x"), false)
		// A multi with only checks.
		c.Multi(mCheck(r.P("a"), 2), mCheck(r.P(""), -1))
	})
}

// TestMultiFailure: the failing op gets its error, those before it OK,
// those after it RuntimeInconsistency, the header the first error, nothing
// is applied, the zxid is used up.
func TestMultiFailure(t *testing.T) {
	Run(t, envShared, "MultiFailure", func(r *R) {
		c := r.Connect("c")
		w := r.Connect("w")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("a"), "", open, proto.ModePersistent)
		w.GetData(r.P("a"), true)
		w.GetChildren(r.P(""), true)
		// The failure in the middle.
		c.Multi(mCreate(r.P("n1"), "", open, 0), mSetData(r.P("a"), "x", 5), mCreate(r.P("n2"), "", open, 0))
		// At the start and at the end.
		c.Multi(mCheck(r.P("a"), 3), mCreate(r.P("n1"), "", open, 0))
		c.Multi(mCreate(r.P("n1"), "", open, 0), mDelete(r.P("nope"), -1))
		// Each error code.
		c.Multi(mCreate(r.P("a"), "", open, 0))
		c.Multi(mCreate(r.P("nope/x"), "", open, 0))
		c.Multi(mDelete(r.P(""), -1))
		c.Multi(mCreate(r.P("bad/"), "", open, 0))
		c.Multi(mCreate(r.P("e"), "", open, proto.ModeEphemeral), mCreate(r.P("e/k"), "", open, 0))
		c.Multi(mCreateTTL(r.P("t"), "", open, proto.ModePersistentWithTTL, 0))
		c.Multi(mCreate(r.P("i"), "", nil, 0))
		c.Multi(mDelete("/zookeeper", -1))
		c.Multi(mSetData(r.P("a"), "x", -1), mCheck(r.P("nope"), -1), mSetData(r.P("a"), "y", -1))
		// Two failures: the first is reported in the header.
		c.Multi(mCheck(r.P("a"), 9), mCheck(r.P("nope"), -1))
		// A failure after a create of a sequential node: the counter did not
		// move.
		c.Multi(mCreate(r.P("q-"), "", open, proto.ModePersistentSequential), mCheck(r.P("a"), 9))
		c.Create(r.P("q-"), "", open, proto.ModePersistentSequential)
		// Nothing changed; no watch fired.
		c.GetChildren2(r.P(""), false)
		c.GetData(r.P("a"), false)
		// Read ops in a write multi, write ops in multiRead, bad op types.
		c.Multi(mGetData(r.P("a")))
		c.CheckOpen()
		c2 := r.Connect("c2")
		c2.MultiRead(mSetData(r.P("a"), "x", -1))
		c2.CheckOpen()
		c3 := r.Connect("c3")
		c3.Multi(proto.MultiOp{Type: proto.OpSetACL, Body: &proto.PathVersionRecord{Path: r.P("a")}})
		c3.CheckOpen()
		c4 := r.Connect("c4")
		c4.MultiRead(mCheck(r.P("a"), 0))
		c4.CheckOpen()
		// Flags that are no create mode: 3.8.0's Op.create falls back to
		// PERSISTENT (CreateMode.fromFlag(flags, PERSISTENT)), 3.9 fails the
		// multi.
		c5 := r.Connect("c5")
		c5.Multi(mCreate(r.P("badflags"), "", open, 7))
		c5.Exists(r.P("badflags"), false)
		// Now change a for real.
		c.Multi(mSetData(r.P("a"), "changed", -1))
	})
}

// TestMultiRead: getData and getChildren in one read; each op succeeds or
// fails on its own.
func TestMultiRead(t *testing.T) {
	Run(t, envShared, "MultiRead", func(r *R) {
		c := r.Connect("c")
		c.Create(r.P(""), "top", open, proto.ModePersistent)
		c.Create(r.P("a"), "A", open, proto.ModePersistent)
		c.Create(r.P("a/1"), "", open, proto.ModePersistent)
		c.MultiRead(mGetData(r.P("a")), mGetChildren(r.P("a")), mGetData(r.P("nope")), mGetChildren(r.P("nope")), mGetData(r.P("")), mGetChildren(r.P("")))
		c.MultiRead()
		c.MultiRead(mGetData("bad"), mGetChildren("/bad/"), mGetData("/zookeeper"))
	})
}

// TestMultiCreateTypes: inside a multi, the type of a create op is decided
// by its flags, not by its opcode (MultiOperationRecord.deserialize builds
// Op.create(path, data, acl, flags[, ttl]): CONTAINER makes a
// createContainer, TTL modes a createTTL, anything else a create — or,
// since ZOOKEEPER-4026, a create2 when the opcode was create2). The result
// record follows that type.
func TestMultiCreateTypes(t *testing.T) {
	Run(t, envShared, "MultiCreateTypes", func(r *R) {
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		for _, op := range []proto.Op{proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL} {
			for flags := int32(0); flags <= 6; flags++ {
				p := r.P(op.String() + "-" + modeName(flags))
				req := &proto.CreateRequest{Path: p, Data: []byte("x"), ACL: open, Flags: flags}
				if op == proto.OpCreateTTL {
					req.HasTTL, req.TTL = true, 5000
				}
				e := c.Multi(proto.MultiOp{Type: op, Body: req})
				// A TTL mode on a create / create2 / createContainer op:
				// MARSHALLINGERROR for the whole multi, in 3.8.0 (the Create op
				// typed createTTL fails PrepRequestProcessor's cast to
				// CreateTTLRequest) and in 3.9 (CreateOptions validates ttl
				// -1). A createTTL op with a non-TTL mode is a plain create
				// (Op.create(path, data, acl, flags, ttl) ignores the ttl).
				if (op == proto.OpCreate2 || op == proto.OpCreateContainer) && flags <= 3 {
					e.Allowed(allowCreate2InMulti)
				}
			}
		}
		c.GetChildren2(r.P(""), false)
	})
}
