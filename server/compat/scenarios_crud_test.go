package compat

import (
	"testing"
	"time"

	"zkit/server/auth"
	"zkit/server/proto"
)

var open = proto.OpenACLUnsafe

// TestCreateModes: every create opcode with every mode, the replies and
// the Stats they leave.
func TestCreateModes(t *testing.T) {
	Run(t, envShared, "CreateModes", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "root", open, proto.ModePersistent)
		for _, op := range []proto.Op{proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL} {
			for flags := int32(-1); flags <= 7; flags++ {
				for _, ttl := range []int64{-1, 0, 5000} {
					if op != proto.OpCreateTTL && ttl != -1 {
						continue
					}
					if op == proto.OpCreateTTL && ttl < 0 && flags >= 0 && flags <= 4 {
						// Apache accepts this in prep (validateTTL only refuses
						// ttl >= 0 for non-TTL modes), then applying the
						// CreateTTLTxn throws IllegalArgumentException in
						// EphemeralType.TTL.toEphemeralOwner(-1) and the JVM
						// exits ("Exiting JVM with code 2"). Not sent to the
						// oracle; TestZkitCreateTTLNegativeTTL covers zkit.
						continue
					}
					p := r.P(op.String() + "-" + modeName(flags))
					if ttl != -1 {
						p += "-ttl" + itoa(ttl)
					}
					c.CreateOp(op, p, []byte("d"), open, flags, ttl)
				}
			}
		}
		c.GetChildren2(r.P(""), false)
		// Look at what each create left behind.
		for _, op := range []proto.Op{proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL} {
			for flags := int32(0); flags <= 6; flags++ {
				c.Exists(r.P(op.String()+"-"+modeName(flags)), false)
				c.GetData(r.P(op.String()+"-"+modeName(flags)+"-ttl5000"), false)
			}
		}
		// Null data, empty data.
		c.CreateOp(proto.OpCreate2, r.P("nulldata"), nil, open, 0, 0)
		c.GetData(r.P("nulldata"), false)
		c.CreateOp(proto.OpCreate2, r.P("emptydata"), []byte{}, open, 0, 0)
		c.GetData(r.P("emptydata"), false)
		c.SetData(r.P("emptydata"), "", -1)
	})
}

// TestTTLBounds: the TTL range (EphemeralType.TTL: 1 .. 2^40-1) and TTL
// with the non-TTL opcodes.
func TestTTLBounds(t *testing.T) {
	Run(t, envShared, "TTLBounds", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		for i, ttl := range []int64{-5, 0, 1, 1000, 1<<40 - 1, 1 << 40, 1 << 62} {
			c.CreateTTL(r.P("t"+itoa(int64(i))), "", open, proto.ModePersistentWithTTL, ttl)
			c.CreateTTL(r.P("s"+itoa(int64(i))+"-"), "", open, proto.ModePersistentSequentialWithTTL, ttl)
		}
		// TTL flags through create/create2 carry no ttl.
		c.Create(r.P("x1"), "", open, proto.ModePersistentWithTTL)
		c.Create2(r.P("x2"), "", open, proto.ModePersistentSequentialWithTTL)
		// A TTL node can have children; a sequential TTL node is named from
		// the parent's cversion.
		c.CreateTTL(r.P("t2/child"), "", open, proto.ModePersistentWithTTL, 1000)
		c.Create(r.P("t2/child"), "", open, proto.ModePersistent)
		c.GetChildren2(r.P("t2"), false)
		c.SetData(r.P("t2"), "new", 0)
		c.Delete(r.P("t2/child"), -1)
		c.GetData(r.P("t2"), false)
	})
}

// TestTTLDisabled: createTTL and TTL flags without extendedTypesEnabled.
func TestTTLDisabled(t *testing.T) {
	Run(t, envNoExt, "TTLDisabled", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.CreateTTL(r.P("t"), "", open, proto.ModePersistentWithTTL, 1000)
		c.CreateTTL(r.P("s-"), "", open, proto.ModePersistentSequentialWithTTL, 1000)
		c.CreateTTL(r.P("bad"), "", open, proto.ModePersistentWithTTL, 0)
		c.Create2(r.P("t2"), "", open, proto.ModePersistentWithTTL)
		c.CreateContainer(r.P("cont"), "", open)
		c.Exists(r.P("cont"), false)
		c.Multi(mCreateTTL(r.P("m"), "", open, proto.ModePersistentWithTTL, 1000))
		c.Multi(mCreate(r.P("m2"), "", open, proto.ModePersistent), mCreateTTL(r.P("m3"), "", open, proto.ModePersistentWithTTL, 1000))
		c.GetChildren(r.P(""), false)
	})
}

// TestSequentialNaming: names come from the parent's cversion, which counts
// deletes too; sequential and plain creates interleave; the counter is
// per parent; a sequential name may end in "/".
func TestSequentialNaming(t *testing.T) {
	Run(t, envShared, "SequentialNaming", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("q"), "", open, proto.ModePersistent)
		c.Create(r.P("q/n-"), "", open, proto.ModePersistentSequential)
		c.Create(r.P("q/n-"), "", open, proto.ModeEphemeralSequential)
		c.Create(r.P("q/plain"), "", open, proto.ModePersistent)
		c.Create(r.P("q/n-"), "", open, proto.ModePersistentSequential)
		c.Delete(r.P("q/n-0000000000"), -1)
		c.Delete(r.P("q/plain"), -1)
		c.Create2(r.P("q/n-"), "", open, proto.ModePersistentSequential)
		c.Create2(r.P("q/"), "", open, proto.ModePersistentSequential)
		c.Create2(r.P("q/"), "", open, proto.ModeEphemeralSequential)
		c.GetChildren2(r.P("q"), false)
		// A failed create does not move the counter.
		c.Create(r.P("q/n-0000000007/x"), "", open, proto.ModePersistentSequential)
		c.Create(r.P("q/n-"), "", open, proto.ModePersistentSequential)
		// Sequence numbers in other parents are separate.
		c.Create(r.P("q2"), "", open, proto.ModePersistent)
		c.Create(r.P("q2/a"), "", open, proto.ModePersistentSequential)
		// A node whose name a sequential create will produce.
		c.Create(r.P("q2/b0000000002"), "", open, proto.ModePersistent)
		c.Create(r.P("q2/b"), "", open, proto.ModePersistentSequential)
		c.Create(r.P("q2/b"), "", open, proto.ModePersistentSequential)
		c.GetChildren2(r.P("q2"), false)
		// Under the root of the namespace, and under a container.
		c.CreateContainer(r.P("cont"), "", open)
		c.Create2(r.P("cont/x-"), "", open, proto.ModePersistentSequential)
		c.Create2(r.P("cont/x-"), "", open, proto.ModeEphemeralSequential)
		c.GetChildren2(r.P("cont"), false)
	})
}

// TestEphemerals: ephemeral owners, ephemerals cannot have children,
// getEphemerals with prefixes, a close deletes them.
func TestEphemerals(t *testing.T) {
	Run(t, envShared, "Ephemerals", func(r *R) {
		c1 := r.Connect("c1")
		c2 := r.Connect("c2")
		c1.Create(r.P(""), "", open, proto.ModePersistent)
		c1.Create2(r.P("e1"), "x", open, proto.ModeEphemeral)
		c1.Create2(r.P("e1/child"), "", open, proto.ModePersistent)
		c1.Create2(r.P("e1/child"), "", open, proto.ModeEphemeral)
		c1.Create2(r.P("e1/s-"), "", open, proto.ModePersistentSequential)
		c1.CreateContainer(r.P("e1/cont"), "", open)
		c1.CreateTTL(r.P("e1/ttl"), "", open, proto.ModePersistentWithTTL, 100)
		c1.Multi(mCreate(r.P("e1/m"), "", open, proto.ModePersistent))
		c1.Multi(mCreate(r.P("e2"), "", open, proto.ModeEphemeral), mCreate(r.P("e2/c"), "", open, proto.ModePersistent))
		c2.Create2(r.P("e3"), "", open, proto.ModeEphemeral)
		c2.Create2(r.P("d"), "", open, proto.ModePersistent)
		c2.Create2(r.P("d/e4"), "", open, proto.ModeEphemeral)
		c2.Create2(r.P("d/e5-"), "", open, proto.ModeEphemeralSequential)
		c1.Create2(r.P("d/e6"), "", open, proto.ModeEphemeral)
		c1.GetEphemerals(r.P(""))
		c2.GetEphemerals(r.P(""))
		c2.GetEphemerals(r.P("d"))
		c2.GetEphemerals(r.P("d/"))
		c2.GetEphemerals(r.P("d/e"))
		c2.GetEphemerals(r.P("d/e5"))
		c2.GetEphemerals(r.P("nothing"))
		c2.GetEphemerals("/")
		c2.GetEphemerals("")
		c2.GetEphemerals("zz")
		c1.Exists(r.P("e1"), false)
		c2.Exists(r.P("e1"), true)
		c2.GetChildren(r.P(""), true)
		c2.GetChildren(r.P("d"), true)
		// An ephemeral may be deleted by another session; setData works.
		c2.SetData(r.P("e1"), "y", 0)
		c2.Delete(r.P("d/e6"), -1)
		c1.Close()
		c2.Exists(r.P("e1"), false)
		c2.GetChildren2(r.P(""), false)
		c2.GetEphemerals(r.P(""))
		c2.Exists(r.P("e2"), false)
	})
}

// TestDelete: versions, NotEmpty, NoNode, special paths.
func TestDelete(t *testing.T) {
	Run(t, envShared, "Delete", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("a"), "", open, proto.ModePersistent)
		c.Create(r.P("a/b"), "", open, proto.ModePersistent)
		c.Delete(r.P("a"), -1)
		c.Delete(r.P("a/b"), 1)
		c.Delete(r.P("a/b"), -2)
		c.SetData(r.P("a/b"), "x", -1)
		c.Delete(r.P("a/b"), 0)
		c.Delete(r.P("a/b"), 1)
		c.Delete(r.P("a/b"), 1)
		c.Delete(r.P("a/b/c"), -1)
		c.Delete(r.P("nope/x"), -1)
		c.GetData(r.P("a"), false)
		c.Delete(r.P("a"), 0)
		for _, p := range []string{"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "/zookeeper/nope", "/zookeeper/quota/x"} {
			c.Delete(p, -1)
			c.Delete(p, 5)
		}
		c.Delete(r.P("x")+"\x00", -1)
		// A node created and deleted in one multi.
		c.Multi(mCreate(r.P("m"), "", open, proto.ModePersistent), mDelete(r.P("m"), 0))
		c.Exists(r.P("m"), false)
		c.GetChildren2(r.P(""), false)
	})
}

// TestDataAndStat: setData versions, data length, stat fields across
// changes, getData/exists/getChildren/getChildren2 with and without
// watches, getAllChildrenNumber.
func TestDataAndStat(t *testing.T) {
	Run(t, envShared, "DataAndStat", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create2(r.P("d"), "0123456789", open, proto.ModePersistent)
		c.SetData(r.P("d"), "a", 0)
		c.SetData(r.P("d"), "b", 0)
		c.SetData(r.P("d"), "c", -1)
		c.SetData(r.P("d"), "d", 2)
		c.SetData(r.P("d"), "e", -2)
		c.SetData(r.P("nope"), "x", -1)
		c.SetData(r.P("nope/deeper"), "x", 0)
		c.GetData(r.P("d"), false)
		c.Exists(r.P("d"), false)
		c.Exists(r.P("nope"), false)
		c.GetData(r.P("nope"), false)
		c.GetChildren(r.P("nope"), false)
		c.GetChildren2(r.P("nope"), false)
		c.GetAllChildrenNumber(r.P("nope"))
		for _, k := range []string{"d/1", "d/2", "d/2/x", "d/2/y", "d/2/y/z"} {
			c.Create(r.P(k), "", open, proto.ModePersistent)
		}
		c.GetAllChildrenNumber(r.P("d"))
		c.GetAllChildrenNumber(r.P("d/2"))
		c.GetAllChildrenNumber(r.P("d/1"))
		c.GetChildren(r.P("d"), false)
		c.GetChildren2(r.P("d"), false)
		c.GetChildren2(r.P("d/1"), false)
		c.Delete(r.P("d/1"), -1)
		c.GetChildren2(r.P("d"), false)
		c.GetData(r.P("d"), false)
		c.Sync(r.P("d"))
		c.Sync(r.P("nope"))
		c.Sync("/")
		c.Sync("bad path")
		// A big value.
		big := make([]byte, 100000)
		for i := range big {
			big[i] = byte('a' + i%26)
		}
		c.SetData(r.P("d/2"), string(big), -1)
		c.Exists(r.P("d/2"), false)
	})
}

func itoa(v int64) string {
	if v < 0 {
		return "m" + itoa(-v)
	}
	const digits = "0123456789"
	if v < 10 {
		return digits[v : v+1]
	}
	return itoa(v/10) + digits[v%10:v%10+1]
}

// TestLoneCheck: check (opcode 13) outside a multi. 3.8.0 accepts it
// (Request.isValid lists OpCode.check) and prepares it as a txn like any
// write: READ ACL and version checks, a zxid used up, errors answered as
// usual; a check that passes gets no reply at all (FinalRequestProcessor
// serializes SetDataResponse(rc.stat) with rc.stat == null and the NPE is
// swallowed by NIOServerCnxn.sendResponse). 3.9.3+ (ZOOKEEPER-2623) and
// zkit refuse it as an unknown opcode. The checks come last, each on its
// own connection: 3.8.0 used zxids for them, 3.9 does not.
func TestLoneCheck(t *testing.T) {
	alice := auth.Digest("alice:pw")
	Run(t, envShared, "LoneCheck", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("d"), "", open, proto.ModePersistent)
		c.Create(r.P("secret"), "", acls(acl(proto.PermAll, "digest", alice)), proto.ModePersistent)
		for i, ck := range []struct {
			path string
			v    int32
		}{{r.P("d"), 4}, {r.P("nope"), -1}, {r.P("secret"), -1}, {"bad", -1}, {r.P("d"), 0}} {
			x := r.Connect("x" + itoa(int64(i)))
			x.Timeout = 500 * time.Millisecond
			x.Check(ck.path, ck.v).Allowed(allowLoneCheckForbidden)
			x.CheckOpen().Allowed(allowLoneCheckForbidden)
		}
	})
}
