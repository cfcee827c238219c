package compat

import (
	"testing"
	"time"

	"zkit/server/internal/zkclient"
	"zkit/server/jute"
	"zkit/server/proto"
)

// invalidPaths breaks each rule of PathUtils.validatePath once, plus some
// paths that look odd but are valid.
var invalidPaths = []string{
	"",
	"a",
	"/a/",
	"//a",
	"/a//b",
	"/.",
	"/..",
	"/a/.",
	"/a/..",
	"/a/./b",
	"/a/../b",
	"/a\x00b",
	"/a\x01b",
	"/a\x1fb",
	"/a\x7fb",
	"/a\u0085b",
	"/a\u009fb",
	"/a\ud7ffb",    // valid: just below the surrogates
	"/a\ue000b",    // private use: invalid
	"/a\uf8ffb",    // private use: invalid
	"/a\uf900b",    // valid
	"/a\ufff0b",    // invalid
	"/a\uffffb",    // invalid
	"/a\U0001F600", // outside the BMP: a surrogate pair in Java
	"/a\xffb",      // not UTF-8
	"/.a",          // valid
	"/a.",          // valid
	"/...",         // valid
	"/a b",         // valid
	"/",
}

// TestInvalidPaths: every operation with every kind of bad path.
func TestInvalidPaths(t *testing.T) {
	Run(t, envShared, "InvalidPaths", func(r *R) {
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		for _, p := range invalidPaths {
			// Absolute paths are used as they are, so the creates of the
			// valid ones land at the top; clean them up right away.
			c.Create(p, "", open, proto.ModePersistent)
			c.Create2(p, "", open, proto.ModePersistentSequential)
			c.Exists(p, false)
			c.GetData(p, false)
			c.SetData(p, "x", -1)
			c.GetChildren(p, false)
			c.GetChildren2(p, false)
			c.GetACL(p)
			c.SetACL(p, open, -1)
			c.GetAllChildrenNumber(p)
			c.Sync(p)
			c.Delete(p, -1)
			c.Multi(mCheck(p, -1))
			c.MultiRead(mGetData(p))
		}
		// Watch ops on bad paths, on a connection each (some close it).
		for i, p := range []string{"", "a", "/a/", "/a\x00b"} {
			w := r.Connect("w" + itoa(int64(i)))
			w.CheckWatches(p, proto.WatcherAny).Allowed(allowCheckWatchesRelativePath)
			w.RemoveWatches(p, proto.WatcherAny)
			w.GetEphemerals(p)
			w.Exists(p, true)
			w.AddWatch(p, proto.AddWatchPersistent)
			w.CheckOpen()
		}
		// A sequential create whose prefix ends in "/" is valid; "/" alone
		// with the sequential flag creates a top-level node.
		c.Create2(r.P("")+"/", "", open, proto.ModePersistentSequential)
		c.Create(r.P("x/"), "", open, proto.ModePersistentSequential)
		c.Create(r.P("")+"//", "", open, proto.ModePersistentSequential)
		c.Create(r.P("")+"/.", "", open, proto.ModePersistentSequential)
		c.GetChildren(r.P(""), false)
	})
}

// TestSpecialNodes: /, /zookeeper, /zookeeper/quota, /zookeeper/config on
// servers nobody has used: their data, ACLs, Stats, and what one may do to
// them. Zxids are raw here.
func TestSpecialNodes(t *testing.T) {
	Run(t, envFresh, "SpecialNodes", func(r *R) {
		c := r.Connect("c")
		for _, p := range []string{"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"} {
			c.GetData(p, false)
			c.GetChildren2(p, false)
			c.GetACL(p)
			c.GetAllChildrenNumber(p)
		}
		c.GetEphemerals("/")
		c.WhoAmI()
		c.Sync("/")
		c.SetData("/zookeeper/config", "x", -1)
		c.SetData("/zookeeper/quota", "x", -1)
		c.SetData("/zookeeper", "x", -1)
		c.Create("/zookeeper/mine", "", open, proto.ModePersistent)
		c.Create("/zookeeper/quota/mine", "", open, proto.ModePersistent)
		c.Create("/zookeeper/config/mine", "", open, proto.ModePersistent)
		c.SetACL("/zookeeper/config", open, -1)
		c.SetACL("/zookeeper/quota", open, -1)
		c.Delete("/zookeeper/mine", -1)
		c.Delete("/zookeeper/quota/mine", -1)
		c.Create("/top", "t", open, proto.ModePersistent)
		c.Create("/eph", "", open, proto.ModeEphemeral)
		c.GetChildren2("/", false)
		c.GetEphemerals("/")
		c.GetAllChildrenNumber("/")
		c.SetData("/", "root data", -1)
		c.GetData("/", false)
		c.SetACL("/", open, 0)
		c.GetACL("/")
		c.Delete("/top", -1)
		c.GetChildren2("/", false)
		c.Exists("/", false)
		// Super user on the special nodes.
		su := r.Connect("su")
		su.Auth("digest", superUser)
		su.SetData("/zookeeper/config", "x", -1)
		su.Delete("/zookeeper/config", -1)
		su.Delete("/zookeeper", -1)
		su.GetChildren2("/zookeeper", false)
	})
}

// TestUnknownOpcodes: opcodes a client may not send get UNIMPLEMENTED and
// the connection closes; some valid opcodes with odd bodies.
func TestUnknownOpcodes(t *testing.T) {
	Run(t, envShared, "UnknownOpcodes", func(r *R) {
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		for i, op := range []proto.Op{0, 10, 23, 99, 108, 999, -1, -12, proto.OpSASL} {
			x := r.Connect("x" + itoa(int64(i)))
			x.Raw(op, nil, "empty body")
			x.CheckOpen()
		}
		// SASL with a token on a server without SASL: ZooKeeperServer
		// .processSasl catches the NPE of the missing SaslServer and
		// answers OK with a null token.
		s := r.Connect("sasl")
		tok := jute.NewEncoder(nil)
		(&proto.TokenRecord{Token: []byte{}}).Encode(tok)
		s.Raw(proto.OpSASL, tok.Bytes(), "empty token")
		s.CheckOpen()
		// reconfig on a standalone server.
		x := r.Connect("rc")
		e := jute.NewEncoder(nil)
		(&proto.ReconfigRequest{CurConfigID: -1}).Encode(e)
		x.Raw(proto.OpReconfig, e.Bytes(), "reconfig")
		x.CheckOpen()
		// A ping with a normal xid: the answer comes with xid -2 (the ping
		// xid) whatever the request's, so the call sees no reply.
		p := r.Connect("ping")
		p.Timeout = 300 * time.Millisecond
		p.Raw(proto.OpPing, nil, "ping with xid>0")
		p.CheckOpen()
		// Truncated bodies.
		for i, op := range []proto.Op{proto.OpCreate, proto.OpGetData, proto.OpSetData, proto.OpMulti, proto.OpSetWatches} {
			m := r.Connect("m" + itoa(int64(i)))
			m.Raw(op, []byte{0, 0, 0, 5, '/'}, "truncated")
			m.CheckOpen()
		}
		// createSession inside a session (Request.isValid lists it):
		// last, since 3.8.0 uses a zxid for it.
		cs := r.Connect("cs")
		cs.Raw(proto.OpCreateSession, nil, "empty body")
		cs.CheckOpen()
	})
}

// TestDeleteContainerOpcode: opcode 20 sent by a client, one case per
// scenario (each is the last step of its scenario: 3.8.0 and 3.9 do not
// use zxids alike for it). See allowDeleteContainer39.
func TestDeleteContainerOpcode(t *testing.T) {
	cases := []struct {
		node, form string
		want       string
		usesZxid   bool
	}{
		{"cont", "bare", "MarshallingError", false},
		{"plain", "bare", "MarshallingError", false},
		{"cont", "jute", "OK", true},
		{"ttl", "jute", "OK", true},
		{"plain", "jute", "BadVersion", true},
		{"eph", "jute", "BadVersion", true},
		{"full", "jute", "NotEmpty", true},
		{"nope", "jute", "NoNode", true},
	}
	for _, tc := range cases {
		name := "DeleteContainer-" + tc.node + "-" + tc.form
		t.Run(tc.node+"-"+tc.form, func(t *testing.T) {
			deleteContainerCase(t, name, tc.node, tc.form, allowDeleteContainer39(tc.want, tc.usesZxid))
		})
	}
	// deleteContainer is no op of a multi (MultiOperationRecord).
	Run(t, envShared, "DeleteContainerInMulti", func(r *R) {
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.CreateContainer(r.P("cont"), "", open)
		c.Multi(proto.MultiOp{Type: proto.OpDeleteContainer, Body: &proto.PathVersionRecord{Path: r.P("cont"), Version: -1}})
		c.CheckOpen()
		c.GetChildren(r.P(""), false)
	})
}

func deleteContainerCase(t *testing.T, name, node, form string, al *Allowance) {
	Run(t, envShared, name, func(r *R) {
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.CreateContainer(r.P("cont"), "", open)
		c.CreateContainer(r.P("full"), "", open)
		c.Create(r.P("full/kid"), "", open, proto.ModePersistent)
		c.Create(r.P("plain"), "", open, proto.ModePersistent)
		c.CreateTTL(r.P("ttl"), "", open, proto.ModePersistentWithTTL, 60000)
		c.Create(r.P("eph"), "", open, proto.ModeEphemeral)
		if form == "bare" {
			// The form of 3.8's ContainerManager: the path's bytes.
			c.DeleteContainer(r.P(node)).Allowed(al)
		} else {
			// DeleteContainerRequest: a jute string.
			e := jute.NewEncoder(nil)
			e.String(r.P(node))
			c.Raw(proto.OpDeleteContainer, e.Bytes(), "deleteContainer "+r.P(node)+" as a DeleteContainerRequest").Allowed(al)
		}
	})
}

// TestContainersAndTTLReaped: empty containers that had children and TTL
// nodes unmodified for their TTL are deleted by the server, firing
// watches. Reaping runs every 100ms on both servers.
func TestContainersAndTTLReaped(t *testing.T) {
	Run(t, envReap, "Reap", func(r *R) {
		c := r.Connect("c")
		w := r.Connect("w")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		// A container that never had children stays.
		c.CreateContainer(r.P("never"), "", open)
		// A container whose child goes.
		c.CreateContainer(r.P("cont"), "", open)
		c.Create(r.P("cont/kid"), "", open, proto.ModePersistent)
		w.Exists(r.P("cont"), true)
		w.GetChildren(r.P(""), true)
		r.Background(func() { c.Delete(r.P("cont/kid"), -1) })
		r.WaitGone(c, r.P("cont"), 15*time.Second)
		r.Events("cont was reaped")
		c.Exists(r.P("cont"), false)
		c.Exists(r.P("never"), false)
		c.GetChildren2(r.P(""), false)
		// create (op 1) with the CONTAINER flag makes a plain node in
		// Apache (CreateTxn carries no container owner).
		c.Create(r.P("flag"), "", open, proto.ModeContainer)
		c.Create(r.P("flag/kid"), "", open, proto.ModePersistent)
		c.Delete(r.P("flag/kid"), -1)
		// A TTL node that is left alone; one that has a child. The TTL
		// leaves the watch below ample time to be set before the reaper
		// may take the node, even on a loaded machine.
		c.CreateTTL(r.P("ttl"), "", open, proto.ModePersistentWithTTL, 2000)
		c.CreateTTL(r.P("ttlkid"), "", open, proto.ModePersistentWithTTL, 2000)
		c.Create(r.P("ttlkid/k"), "", open, proto.ModePersistent)
		w.Exists(r.P("ttl"), true)
		r.WaitGone(c, r.P("ttl"), 15*time.Second)
		r.Events("ttl was reaped")
		// Wait for the create-flag container too, if it were one.
		time.Sleep(300 * time.Millisecond)
		c.Exists(r.P("ttl"), false)
		c.Exists(r.P("ttlkid"), false)
		c.Exists(r.P("flag"), false)
		c.Exists(r.P("never"), false)
		c.GetChildren2(r.P(""), false)
	})
}

// TestHandshake: session timeouts negotiated into [2, 20] ticks, the
// readOnly flag, session ids carrying the server id, the zxid a client
// says it has seen.
func TestHandshake(t *testing.T) {
	Run(t, envShared, "Handshake", func(r *R) {
		for i, ms := range []int{1, 399, 400, 401, 2000, 4000, 4001, 60000} {
			r.ConnectWith("t"+itoa(int64(i)), zkOpts(time.Duration(ms)*time.Millisecond), "connect asking for "+itoa(int64(ms))+"ms")
		}
		r.ConnectWith("old", zkclient.Options{Timeout: 4 * time.Second, NoReadOnly: true}, "connect without the readOnly flag")
		r.ConnectWith("ro", zkclient.Options{Timeout: 4 * time.Second, CanBeReadOnly: true}, "connect with canBeReadOnly")
		c := r.Connect("c")
		h := c.Create(r.P(""), "", open, proto.ModePersistent)
		// lastZxidSeen equal to the server's: fine; one above: refused.
		r.ConnectWith("seen", zkclient.Options{Timeout: 4 * time.Second, LastZxidSeen: h.Zxid + 1}, "connect having seen the next zxid")
		r.ConnectWith("seen2", zkclient.Options{Timeout: 4 * time.Second, LastZxidSeen: h.Zxid + 2}, "connect having seen the zxid after the next")
		// A made-up session id.
		r.ConnectWith("fake", zkclient.Options{Timeout: 4 * time.Second, SessionID: 0x0100000000000001, Passwd: make([]byte, 16)}, "resume a session that never existed")
	})
}
