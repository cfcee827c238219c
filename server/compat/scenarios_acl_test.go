package compat

import (
	"testing"

	"zkit/server/auth"
	"zkit/server/proto"
)

func acl(perms int32, scheme, id string) proto.ACL {
	return proto.ACL{Perms: perms, ID: proto.Id{Scheme: scheme, ID: id}}
}

func acls(a ...proto.ACL) []proto.ACL { return a }

// TestInvalidACLs: fixupACL's rules for each scheme, on create and setACL.
func TestInvalidACLs(t *testing.T) {
	Run(t, envShared, "InvalidACLs", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("n"), "", open, proto.ModePersistent)
		cases := [][]proto.ACL{
			nil,
			{},
			{acl(proto.PermAll, "world", "anyone")},
			{acl(proto.PermAll, "world", "someone")},
			{acl(proto.PermAll, "world", "")},
			{acl(proto.PermAll, "auth", "")},
			{acl(proto.PermAll, "auth", "whatever")},
			{acl(proto.PermAll, "digest", "user:hash")},
			{acl(proto.PermAll, "digest", "user")},
			{acl(proto.PermAll, "digest", "user:hash:extra")},
			{acl(proto.PermAll, "digest", ":hash")},
			{acl(proto.PermAll, "digest", "user:")},
			{acl(proto.PermAll, "digest", "")},
			{acl(proto.PermAll, "ip", "127.0.0.1")},
			{acl(proto.PermAll, "ip", "127.0.0.0/8")},
			{acl(proto.PermAll, "ip", "127.0.0.1/32")},
			{acl(proto.PermAll, "ip", "127.0.0.1/0")},
			{acl(proto.PermAll, "ip", "1.2.3.4/33")},
			{acl(proto.PermAll, "ip", "1.2.3.4/-1")},
			{acl(proto.PermAll, "ip", "1.2.3")},
			{acl(proto.PermAll, "ip", "256.1.1.1")},
			{acl(proto.PermAll, "ip", "a.b.c.d")},
			{acl(proto.PermAll, "ip", "")},
			{acl(proto.PermAll, "ip", "1.2.3.4/8/9")},
			{acl(proto.PermAll, "ip", "1.2.3.4/x")},
			{acl(proto.PermAll, "super", "")},
			{acl(proto.PermAll, "sasl", "user")},
			{acl(proto.PermAll, "x509", "CN=x")},
			{acl(proto.PermAll, "unknown", "x")},
			{acl(proto.PermAll, "", "")},
			{acl(0, "world", "anyone")},
			{acl(0x7fffffff, "world", "anyone")},
			{acl(-1, "world", "anyone")},
			{acl(proto.PermRead, "world", "anyone"), acl(proto.PermRead, "world", "anyone")},
			{acl(proto.PermRead, "world", "anyone"), acl(proto.PermWrite, "world", "anyone")},
			{acl(proto.PermAll, "world", "anyone"), acl(proto.PermAll, "bogus", "x")},
			{acl(proto.PermAll, "WORLD", "anyone")},
		}
		for i, a := range cases {
			c.Create2(r.P("c"+itoa(int64(i))), "", a, proto.ModePersistent)
			c.SetACL(r.P("n"), a, -1)
			c.GetACL(r.P("n"))
		}
		// A multi with a bad ACL fails as a whole.
		c.Multi(mCreate(r.P("m1"), "", open, 0), mCreate(r.P("m2"), "", acls(acl(1, "bogus", "x")), 0))
	})
}

// TestAuthScheme: the "auth" scheme expands to the session's authenticated
// ids (digest, super is skipped, ip is not "authenticated").
func TestAuthScheme(t *testing.T) {
	Run(t, envShared, "AuthScheme", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		authAll := acls(acl(proto.PermAll, "auth", ""))
		c.Create2(r.P("a0"), "", authAll, proto.ModePersistent)
		c.WhoAmI()
		c.Auth("digest", "alice:pw")
		c.WhoAmI()
		c.Create2(r.P("a1"), "", authAll, proto.ModePersistent)
		c.GetACL(r.P("a1"))
		c.Auth("digest", "alice:pw")
		c.WhoAmI()
		c.Create2(r.P("a2"), "", acls(acl(proto.PermAll, "auth", ""), acl(proto.PermRead, "auth", "ignored")), proto.ModePersistent)
		c.GetACL(r.P("a2"))
		c.Create2(r.P("a3"), "", acls(acl(proto.PermRead, "auth", ""), acl(proto.PermAll, "world", "anyone")), proto.ModePersistent)
		c.GetACL(r.P("a3"))
		c.SetACL(r.P("a3"), authAll, 0)
		c.GetACL(r.P("a3"))
		// The super identity is not an ACL id: "auth" skips it.
		cs := r.Connect("cs")
		cs.Auth("digest", superUser)
		cs.Create2(r.P("a4"), "", authAll, proto.ModePersistent)
		cs.GetACL(r.P("a4"))
		// Digest credentials that are odd but accepted.
		c2 := r.Connect("c2")
		c2.Auth("digest", "nocolon")
		c2.CheckOpen()
		c3 := r.Connect("c3")
		c3.Auth("digest", "")
		c3.CheckOpen()
		c4 := r.Connect("c4")
		c4.Auth("digest", "a:b:c")
		c4.Create2(r.P("a5"), "", authAll, proto.ModePersistent)
		c4.GetACL(r.P("a5"))
		// Unknown schemes: AUTH_FAILED and the connection closes.
		c5 := r.Connect("c5")
		c5.Auth("bogus", "x")
		c5.CheckOpen()
		c6 := r.Connect("c6")
		c6.Auth("ip", "127.0.0.1")
		c6.CheckOpen()
		c7 := r.Connect("c7")
		c7.Auth("world", "anyone")
		c7.CheckOpen()
		c8 := r.Connect("c8")
		c8.Auth("super", "")
		c8.CheckOpen()
		c9 := r.Connect("c9")
		c9.Auth("sasl", "x")
		c9.CheckOpen()
	})
}

// TestAuthInfoOrder: the order of a session's identities (whoAmI) and of
// the ACL entries the "auth" scheme expands to. Apache keeps authInfo in
// Collections.newSetFromMap(new ConcurrentHashMap<>()) (ServerCnxn), so
// both come in the iteration order of a ConcurrentHashMap of Ids (bucket
// by Id.hashCode(), jute's 37*(37*17+scheme.hashCode())+id.hashCode()),
// not in the order the identities were added.
func TestAuthInfoOrder(t *testing.T) {
	Run(t, envShared, "AuthInfoOrder", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Auth("digest", "alice:pw")
		c.Auth("digest", "bob:pw2")
		c.Auth("digest", "alice:pw")
		c.WhoAmI()
		c.Create2(r.P("a"), "", acls(acl(proto.PermAll, "auth", ""), acl(proto.PermRead, "auth", "")), proto.ModePersistent)
		c.GetACL(r.P("a"))
		c.Auth("digest", superUser)
		c.WhoAmI()
		c.Create2(r.P("b"), "", acls(acl(proto.PermAll, "auth", "")), proto.ModePersistent)
		c.GetACL(r.P("b"))
		c4 := r.Connect("c4")
		c4.Auth("digest", "a:b:c")
		c4.WhoAmI()
	})
}

// TestNoAuth: every operation on a znode whose ACL does not let the
// client do it.
func TestNoAuth(t *testing.T) {
	alice := auth.Digest("alice:pw")
	Run(t, envShared, "NoAuth", func(r *R) {
		owner := r.Connect("owner")
		owner.Auth("digest", "alice:pw")
		owner.Create(r.P(""), "", open, proto.ModePersistent)
		only := acls(acl(proto.PermAll, "digest", alice))
		owner.Create2(r.P("secret"), "s", only, proto.ModePersistent)
		owner.Create2(r.P("secret/kid"), "k", open, proto.ModePersistent)
		// One node per missing permission: everything but that one.
		for _, p := range []struct {
			name string
			perm int32
		}{{"noread", proto.PermRead}, {"nowrite", proto.PermWrite}, {"nocreate", proto.PermCreate}, {"nodelete", proto.PermDelete}, {"noadmin", proto.PermAdmin}} {
			owner.Create2(r.P(p.name), "x", acls(acl(proto.PermAll&^p.perm, "world", "anyone"), acl(proto.PermAll, "digest", alice)), proto.ModePersistent)
			owner.Create2(r.P(p.name+"/kid"), "", open, proto.ModePersistent)
		}
		c := r.Connect("other")
		c.GetData(r.P("secret"), false)
		c.GetData(r.P("secret"), true)
		c.Exists(r.P("secret"), false).Allowed(allowExistsReadACL)
		c.GetChildren(r.P("secret"), false)
		c.GetChildren2(r.P("secret"), true)
		c.GetACL(r.P("secret"))
		c.SetACL(r.P("secret"), open, -1)
		c.SetData(r.P("secret"), "x", -1)
		c.Create(r.P("secret/new"), "", open, proto.ModePersistent)
		c.Delete(r.P("secret/kid"), -1)
		c.GetAllChildrenNumber(r.P("secret"))
		c.GetEphemerals(r.P("secret"))
		c.Sync(r.P("secret"))
		c.AddWatch(r.P("secret"), proto.AddWatchPersistent)
		c.AddWatch(r.P("secret"), proto.AddWatchPersistentRecursive)
		c.MultiRead(mGetData(r.P("secret")), mGetChildren(r.P("secret")), mGetData(r.P("secret/kid")))
		c.Multi(mCheck(r.P("secret"), -1))
		c.Multi(mSetData(r.P("secret/kid"), "ok", -1), mCreate(r.P("secret/new"), "", open, 0))
		c.GetData(r.P("secret/kid"), false)
		for _, n := range []string{"noread", "nowrite", "nocreate", "nodelete", "noadmin"} {
			c.GetData(r.P(n), false)
			c.Exists(r.P(n), false).Allowed(allowExistsReadACL)
			c.GetChildren2(r.P(n), false)
			c.GetACL(r.P(n))
			c.SetData(r.P(n), "y", -1)
			c.Create(r.P(n+"/new"), "", open, proto.ModePersistent)
			c.Delete(r.P(n+"/kid"), -1)
			c.SetACL(r.P(n), acls(acl(proto.PermAll, "world", "anyone"), acl(proto.PermAll, "digest", alice)), -1)
			c.MultiRead(mGetData(r.P(n)), mGetChildren(r.P(n)))
			c.Multi(mCheck(r.P(n), -1))
		}
		// Deleting a node needs DELETE on the parent only.
		owner.Create2(r.P("open"), "", open, proto.ModePersistent)
		owner.Create2(r.P("open/locked"), "", acls(acl(0, "world", "anyone")), proto.ModePersistent)
		c.Delete(r.P("open/locked"), -1)
		// The super user may do anything.
		su := r.Connect("super")
		su.Auth("digest", superUser)
		su.GetData(r.P("secret"), false)
		su.GetACL(r.P("secret"))
		su.SetData(r.P("secret"), "su", -1)
		su.Create2(r.P("secret/su"), "", only, proto.ModePersistent)
		su.Delete(r.P("secret/su"), -1)
		su.SetACL(r.P("noadmin"), open, -1)
		su.Exists(r.P("secret"), false)
		// The owner gets in with its digest.
		owner.GetData(r.P("secret"), false)
		owner.GetACL(r.P("secret"))
	})
}

// TestACLVersionsAndMasking: setACL's aversion checks and the digest
// masking of getACL for clients without ADMIN.
func TestACLVersionsAndMasking(t *testing.T) {
	alice := auth.Digest("alice:pw")
	Run(t, envShared, "ACLVersions", func(r *R) {
		c := r.Connect("c1")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create2(r.P("n"), "", open, proto.ModePersistent)
		c.SetACL(r.P("n"), open, 1)
		c.SetACL(r.P("n"), open, 0)
		c.SetACL(r.P("n"), open, 0)
		c.SetACL(r.P("n"), open, -1)
		c.SetACL(r.P("n"), open, 2)
		c.SetACL(r.P("nope"), open, -1)
		c.GetACL(r.P("n"))
		c.GetACL(r.P("nope"))
		// Readable by anyone, admin only for alice: others see the digest
		// masked.
		c.Create2(r.P("m"), "", acls(acl(proto.PermRead, "world", "anyone"), acl(proto.PermAll, "digest", alice), acl(proto.PermRead, "digest", "bob:abc:def"), acl(proto.PermRead, "ip", "127.0.0.1")), proto.ModePersistent)
		c.GetACL(r.P("m"))
		c.Create2(r.P("a"), "", acls(acl(proto.PermAdmin, "world", "anyone"), acl(proto.PermAll, "digest", alice)), proto.ModePersistent)
		c.GetACL(r.P("a"))
		c2 := r.Connect("c2")
		c2.Auth("digest", "alice:pw")
		c2.GetACL(r.P("m"))
		// ip ACLs with CIDR.
		c.Create2(r.P("ip8"), "x", acls(acl(proto.PermAll, "ip", "127.0.0.0/8")), proto.ModePersistent)
		c.GetData(r.P("ip8"), false)
		c.Create2(r.P("ip10"), "x", acls(acl(proto.PermAll, "ip", "10.0.0.0/8")), proto.ModePersistent)
		c.GetData(r.P("ip10"), false)
		c.Create2(r.P("ip32"), "x", acls(acl(proto.PermAll, "ip", "127.0.0.1/32")), proto.ModePersistent)
		c.GetData(r.P("ip32"), false)
		c.Create2(r.P("ip0"), "x", acls(acl(proto.PermAll, "ip", "0.0.0.0/0")), proto.ModePersistent)
		c.GetData(r.P("ip0"), false)
		c.Create2(r.P("ip31"), "x", acls(acl(proto.PermAll, "ip", "127.0.0.0/31")), proto.ModePersistent)
		c.GetData(r.P("ip31"), false)
		c.Create2(r.P("ip2"), "x", acls(acl(proto.PermAll, "ip", "127.0.0.2")), proto.ModePersistent)
		c.GetData(r.P("ip2"), false)
		c.GetACL(r.P("ip2"))
		// setACL to something with no ADMIN: no more setACL.
		c.SetACL(r.P("n"), acls(acl(proto.PermRead, "world", "anyone")), -1)
		c.SetACL(r.P("n"), open, -1)
		c.GetACL(r.P("n"))
		// aversion in multi: no setACL op in multi, but check sees version.
		c.Multi(mCheck(r.P("n"), 0), mSetData(r.P("m"), "z", 0))
	})
}
