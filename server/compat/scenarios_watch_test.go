package compat

import (
	"testing"
	"time"

	"zkit/server/auth"
	"zkit/server/internal/zkclient"
	"zkit/server/proto"
)

// TestStandardWatches: one-shot data, exist and child watches set by
// getData / exists / getChildren / getChildren2, fired by the writes of
// this and other sessions, in ZooKeeper's order.
func TestStandardWatches(t *testing.T) {
	Run(t, envShared, "StandardWatches", func(r *R) {
		w := r.Connect("w")
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("a"), "", open, proto.ModePersistent)
		// data watch: setData fires it once.
		w.GetData(r.P("a"), true)
		w.GetData(r.P("a"), true)
		c.SetData(r.P("a"), "1", -1)
		c.SetData(r.P("a"), "2", -1)
		// exists watch on an existing node, then delete.
		w.Exists(r.P("a"), true)
		c.Delete(r.P("a"), -1)
		// exists watch on a missing node: create fires NodeCreated.
		w.Exists(r.P("a"), true)
		c.Create(r.P("a"), "", open, proto.ModePersistent)
		// getData on a missing node leaves no watch.
		w.GetData(r.P("b"), true)
		c.Create(r.P("b"), "", open, proto.ModePersistent)
		// child watches: create and delete of children, data changes of
		// children do not fire them.
		w.GetChildren(r.P("a"), true)
		c.Create(r.P("a/x"), "", open, proto.ModePersistent)
		w.GetChildren2(r.P("a"), true)
		c.SetData(r.P("a/x"), "d", -1)
		c.Delete(r.P("a/x"), -1)
		// child + data watch on one node, node deleted: both fire, and the
		// parent's child watch.
		w.GetChildren(r.P("a"), true)
		w.GetData(r.P("a"), true)
		w.GetChildren(r.P(""), true)
		c.Delete(r.P("a"), -1)
		// A watcher's own writes fire its watches before its reply.
		w.Exists(r.P("self"), true)
		w.Create(r.P("self"), "", open, proto.ModePersistent)
		w.GetData(r.P("self"), true)
		w.SetData(r.P("self"), "x", -1)
		// Several watchers, several types at once; sequential children.
		c.GetChildren(r.P(""), true)
		w.GetChildren(r.P(""), true)
		c.Create(r.P("seq-"), "", open, proto.ModePersistentSequential)
		// Watches on paths that fail: setData with a bad version fires
		// nothing.
		w.GetData(r.P("self"), true)
		c.SetData(r.P("self"), "y", 7)
		c.SetData(r.P("self"), "y", 1)
		// A multi fires each watch once, with the multi's zxid.
		w.GetData(r.P("self"), true)
		w.GetChildren(r.P(""), true)
		w.Exists(r.P("m1"), true)
		c.Multi(mCreate(r.P("m1"), "", open, 0), mSetData(r.P("self"), "z", -1), mCreate(r.P("m2"), "", open, 0), mDelete(r.P("m1"), -1))
		// An ephemeral's watch fires when its session closes.
		e := r.Connect("e")
		e.Create(r.P("eph"), "", open, proto.ModeEphemeral)
		w.Exists(r.P("eph"), true)
		w.GetChildren(r.P(""), true)
		e.Close()
		// setACL fires no watch.
		w.GetData(r.P("self"), true)
		c.SetACL(r.P("self"), open, -1)
		c.SetData(r.P("self"), "after-acl", -1)
	})
}

// TestWatchesAndACL: events about znodes the watcher may not read are not
// delivered by 3.9 (ZOOKEEPER-4799) nor by zkit; 3.8.0 delivers them.
func TestWatchesAndACL(t *testing.T) {
	alice := auth.Digest("alice:pw")
	secretACL := acls(acl(proto.PermAll, "digest", alice))
	Run(t, envShared, "WatchesAndACL", func(r *R) {
		o := r.Connect("owner")
		o.Auth("digest", "alice:pw")
		w := r.Connect("w")
		o.Create(r.P(""), "", open, proto.ModePersistent)
		o.Create(r.P("d"), "", open, proto.ModePersistent)
		w.AddWatch(r.P("d"), proto.AddWatchPersistentRecursive)
		w.GetChildren(r.P("d"), true)
		// A secret child: its NodeCreated goes to the recursive watch
		// (dropped by 3.9), the parent's child event is readable.
		o.Create(r.P("d/secret"), "", secretACL, proto.ModePersistent).
			Allowed(allowUnreadableEvents("w", r.P("d/secret")))
		o.SetData(r.P("d/secret"), "x", -1).
			Allowed(allowUnreadableEvents("w", r.P("d/secret")))
		o.Create(r.P("d/secret/kid"), "", open, proto.ModePersistent)
		o.Delete(r.P("d/secret/kid"), -1)
		o.Delete(r.P("d/secret"), -1).
			Allowed(allowUnreadableEvents("w", r.P("d/secret")))
		// A standard watch set while readable, then the ACL changes: the
		// event comes after, on a node the watcher can no longer read.
		o.Create(r.P("x"), "", open, proto.ModePersistent)
		w.GetData(r.P("x"), true)
		o.SetACL(r.P("x"), secretACL, -1)
		o.SetData(r.P("x"), "1", -1).
			Allowed(allowUnreadableEvents("w", r.P("x")))
		// A delete: the ACL is the deleted node's.
		o.Create(r.P("y"), "", secretACL, proto.ModePersistent)
		w.Exists(r.P("y"), true).Allowed(allowExistsReadACL)
		o.Delete(r.P("y"), -1).Allowed(allowUnreadableEvents("w", r.P("y")))
		// The watcher authenticates: events come again.
		w.Auth("digest", "alice:pw")
		o.Create(r.P("d/secret2"), "", secretACL, proto.ModePersistent)
	})
}

// TestPersistentWatches: addWatch PERSISTENT fires on data changes,
// children changes and delete of the node itself and stays; addWatch
// PERSISTENT_RECURSIVE fires on creates, deletes and data changes of the
// whole subtree, never NodeChildrenChanged.
func TestPersistentWatches(t *testing.T) {
	Run(t, envShared, "PersistentWatches", func(r *R) {
		w := r.Connect("w")
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		w.AddWatch(r.P("p"), proto.AddWatchPersistent)
		c.Create(r.P("p"), "", open, proto.ModePersistent)
		c.SetData(r.P("p"), "1", -1)
		c.SetData(r.P("p"), "2", -1)
		c.Create(r.P("p/kid"), "", open, proto.ModePersistent)
		c.SetData(r.P("p/kid"), "1", -1)
		c.Create(r.P("p/kid/grand"), "", open, proto.ModePersistent)
		c.Delete(r.P("p/kid/grand"), -1)
		c.Delete(r.P("p/kid"), -1)
		c.Delete(r.P("p"), -1)
		c.Create(r.P("p"), "", open, proto.ModePersistent)
		w.CheckWatches(r.P("p"), proto.WatcherAny)

		w.AddWatch(r.P("r"), proto.AddWatchPersistentRecursive)
		c.Create(r.P("r"), "", open, proto.ModePersistent)
		c.Create(r.P("r/a"), "", open, proto.ModePersistent)
		c.Create(r.P("r/a/b"), "", open, proto.ModePersistent)
		c.SetData(r.P("r/a/b"), "x", -1)
		c.Create(r.P("r/a/b/c"), "", open, proto.ModeEphemeral)
		c.Multi(mSetData(r.P("r"), "m", -1), mCreate(r.P("r/m"), "", open, 0), mDelete(r.P("r/a/b/c"), -1))
		c.Delete(r.P("r/a/b"), -1)
		c.Create(r.P("rx"), "", open, proto.ModePersistent) // a sibling with a common prefix
		c.Create(r.P("rx/y"), "", open, proto.ModePersistent)
		c.Delete(r.P("r/m"), -1)
		c.Delete(r.P("r/a"), -1)
		c.Delete(r.P("r"), -1)
		// The root of the namespace, recursively: everything below.
		w2 := r.Connect("w2")
		w2.AddWatch(r.P(""), proto.AddWatchPersistentRecursive)
		c.Create(r.P("z"), "", open, proto.ModePersistent)
		c.SetData(r.P(""), "top", -1)
		c.Delete(r.P("z"), -1)
		// addWatch on a path that does not exist, twice, bad mode.
		w.AddWatch(r.P("nope"), proto.AddWatchPersistent)
		w.AddWatch(r.P("nope"), proto.AddWatchPersistent)
		w.AddWatch(r.P("nope"), 2)
		w.AddWatch(r.P("nope"), -1)
		w.CheckOpen()
		// Recursive plus a standard child watch on a descendant: the
		// child event is for the standard watch.
		w3 := r.Connect("w3")
		c.Create(r.P("q"), "", open, proto.ModePersistent)
		c.Create(r.P("q/k"), "", open, proto.ModePersistent)
		w3.AddWatch(r.P("q"), proto.AddWatchPersistentRecursive)
		w3.GetChildren(r.P("q/k"), true)
		c.Create(r.P("q/k/l"), "", open, proto.ModePersistent)
		c.Create(r.P("q/k/l2"), "", open, proto.ModePersistent)
		// A session's close removes its persistent watches.
		w3.Close()
		c.Create(r.P("q/after"), "", open, proto.ModePersistent)
	})
}

// TestRemoveAndCheckWatches: removeWatches / checkWatches for every
// WatcherType on standard watches, NoWatcher when there is none.
func TestRemoveAndCheckWatches(t *testing.T) {
	Run(t, envShared, "RemoveWatches", func(r *R) {
		w := r.Connect("w")
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("a"), "", open, proto.ModePersistent)
		for _, typ := range []int32{proto.WatcherChildren, proto.WatcherData, proto.WatcherAny} {
			w.CheckWatches(r.P("a"), typ)
			w.RemoveWatches(r.P("a"), typ)
		}
		// Data watch only.
		w.GetData(r.P("a"), true)
		w.CheckWatches(r.P("a"), proto.WatcherChildren)
		w.CheckWatches(r.P("a"), proto.WatcherData)
		w.CheckWatches(r.P("a"), proto.WatcherAny)
		w.RemoveWatches(r.P("a"), proto.WatcherChildren)
		w.RemoveWatches(r.P("a"), proto.WatcherData)
		w.RemoveWatches(r.P("a"), proto.WatcherData)
		c.SetData(r.P("a"), "no event", -1)
		// Child watch only.
		w.GetChildren(r.P("a"), true)
		w.CheckWatches(r.P("a"), proto.WatcherData)
		w.CheckWatches(r.P("a"), proto.WatcherChildren)
		w.RemoveWatches(r.P("a"), proto.WatcherData)
		w.RemoveWatches(r.P("a"), proto.WatcherChildren)
		c.Create(r.P("a/x"), "", open, proto.ModePersistent)
		// Both, removed with Any.
		w.GetChildren(r.P("a"), true)
		w.Exists(r.P("a"), true)
		w.RemoveWatches(r.P("a"), proto.WatcherAny)
		w.CheckWatches(r.P("a"), proto.WatcherAny)
		c.Delete(r.P("a/x"), -1)
		// An exists watch on a missing node is a data watch.
		w.Exists(r.P("missing"), true)
		w.CheckWatches(r.P("missing"), proto.WatcherData)
		w.RemoveWatches(r.P("missing"), proto.WatcherData)
		c.Create(r.P("missing"), "", open, proto.ModePersistent)
		// Bad types and paths.
		w.GetData(r.P("a"), true)
		w.CheckWatches(r.P("a"), 0)
		w.CheckOpen()
		w2 := r.Connect("w2")
		w2.GetData(r.P("a"), true)
		w2.RemoveWatches(r.P("a"), 9)
		w2.CheckOpen()
		w3 := r.Connect("w3")
		w3.RemoveWatches("", proto.WatcherAny)
		w3.RemoveWatches("bad", proto.WatcherAny)
		w3.CheckWatches("/", proto.WatcherAny)
		c.SetData(r.P("a"), "last", -1)
	})
}

// TestWatchModeChanges: what changed in the watch manager between 3.8.0
// and 3.9 (ZOOKEEPER-4466, 4471, 4472); zkit follows 3.9.
func TestWatchModeChanges(t *testing.T) {
	Run(t, envShared, "WatchModeChanges", func(r *R) {
		w := r.Connect("w")
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("a"), "", open, proto.ModePersistent)
		// Persistent, then a standard data watch on the same path. 3.8.0
		// replaces the data side's mode by STANDARD: after one event the
		// data part of the persistent watch is gone.
		w.AddWatch(r.P("a"), proto.AddWatchPersistent)
		w.GetData(r.P("a"), true)
		c.SetData(r.P("a"), "1", -1)
		c.SetData(r.P("a"), "2", -1).Allowed(allowZkitOnlyEvents("PersistentAndStandardCoexist", citeWatchModes,
			EvRec{Client: "w", Type: proto.EventNodeDataChanged, Path: r.P("a")}))
		c.Create(r.P("a/k"), "", open, proto.ModePersistent)
		// Persistent recursive, then a standard watch on the same path:
		// 3.8.0 loses the recursion.
		c.Create(r.P("b"), "", open, proto.ModePersistent)
		w.AddWatch(r.P("b"), proto.AddWatchPersistentRecursive)
		w.Exists(r.P("b"), true)
		c.Create(r.P("b/k"), "", open, proto.ModePersistent).Allowed(allowZkitOnlyEvents("PersistentAndStandardCoexist", citeWatchModes,
			EvRec{Client: "w", Type: proto.EventNodeCreated, Path: r.P("b/k")}))
		c.SetData(r.P("b"), "1", -1)
		c.SetData(r.P("b"), "2", -1).Allowed(allowZkitOnlyEvents("PersistentAndStandardCoexist", citeWatchModes,
			EvRec{Client: "w", Type: proto.EventNodeDataChanged, Path: r.P("b")}))
		// A standard child watch, then a recursive watch on the same path:
		// 3.8.0's DataTree.addWatch puts PERSISTENT_RECURSIVE on the child
		// watch table too (3.9 puts it on the data table only), replacing
		// the child watch's STANDARD mode, and WatchManager.triggerWatch
		// gives recursive watchers no NodeChildrenChanged.
		c.Create(r.P("c"), "", open, proto.ModePersistent)
		w.GetChildren(r.P("c"), true)
		w.AddWatch(r.P("c"), proto.AddWatchPersistentRecursive)
		c.Create(r.P("c/k"), "", open, proto.ModePersistent).Allowed(allowZkitOnlyEvents("PersistentAndStandardCoexist", citeWatchModes,
			EvRec{Client: "w", Type: proto.EventNodeChildrenChanged, Path: r.P("c")}))
		c.Create(r.P("c/k2"), "", open, proto.ModePersistent)
		// Standard first, then persistent: the same in both.
		c.Create(r.P("s"), "", open, proto.ModePersistent)
		w.GetData(r.P("s"), true)
		w.AddWatch(r.P("s"), proto.AddWatchPersistent)
		c.SetData(r.P("s"), "1", -1)
		c.SetData(r.P("s"), "2", -1)
	})
}

// TestRemovePersistentWatches: removeWatches and checkWatches against
// persistent watches. 3.8.0 knows only Children/Data/Any; 3.9 matches the
// type to the mode and adds Persistent(4) / PersistentRecursive(5).
func TestRemovePersistentWatches(t *testing.T) {
	Run(t, envShared, "RemovePersistent", func(r *R) {
		w := r.Connect("w")
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("p"), "", open, proto.ModePersistent)
		w.AddWatch(r.P("p"), proto.AddWatchPersistent)
		w.CheckWatches(r.P("p"), proto.WatcherAny)
		w.RemoveWatches(r.P("p"), proto.WatcherAny)
		w.CheckWatches(r.P("p"), proto.WatcherAny)
		c.SetData(r.P("p"), "no event", -1)
		w.AddWatch(r.P("p"), proto.AddWatchPersistentRecursive)
		w.RemoveWatches(r.P("p"), proto.WatcherAny)
		c.SetData(r.P("p"), "no event", -1)
		// Type Data against a persistent watch: 3.8.0 removes its data
		// half; 3.9 says NoWatcher (only STANDARD data watches match).
		w.AddWatch(r.P("p"), proto.AddWatchPersistent)
		w.CheckWatches(r.P("p"), proto.WatcherData).Allowed(allowErr("RemoveWatchTypeMatchesMode", citeRemoveWatchTypes, "OK", "NoWatcher"))
		w.RemoveWatches(r.P("p"), proto.WatcherData).Allowed(allowErr("RemoveWatchTypeMatchesMode", citeRemoveWatchTypes, "OK", "NoWatcher"))
		w.RemoveWatches(r.P("p"), proto.WatcherAny)
		// Types 4 and 5.
		w2 := r.Connect("w2")
		w2.AddWatch(r.P("p"), proto.AddWatchPersistent)
		w2.CheckWatches(r.P("p"), proto.WatcherPersistent).Allowed(allowNewWatcherTypes)
		w2.CheckOpen()
		w3 := r.Connect("w3")
		w3.AddWatch(r.P("p"), proto.AddWatchPersistentRecursive)
		w3.RemoveWatches(r.P("p"), proto.WatcherPersistentRecursive).Allowed(allowNewWatcherTypes)
		w3.CheckOpen()
		// 3.8.0 did not remove w3's watch.
		c.SetData(r.P("p"), "end", -1).Allowed(allowApacheOnlyEvents("NewWatcherTypes", citeRemoveWatchTypes,
			EvRec{Client: "w3", Type: proto.EventNodeDataChanged, Path: r.P("p")}))
	})
}

// TestCheckWatchesOtherWatcher: 3.8.0's WatchManager.containsWatcher(path,
// watcher) answers whether anybody watches the path; 3.9 asks about this
// watcher (ZOOKEEPER-4466 rewrote it).
func TestCheckWatchesOtherWatcher(t *testing.T) {
	Run(t, envShared, "CheckWatchesOther", func(r *R) {
		w := r.Connect("w")
		x := r.Connect("x")
		w.Create(r.P(""), "", open, proto.ModePersistent)
		w.GetData(r.P(""), true)
		x.CheckWatches(r.P(""), proto.WatcherData).Allowed(allowErr("CheckWatchesAsksThisWatcher",
			"ZOOKEEPER-4466: WatchManager.containsWatcher checks the caller's own watches (3.8.0: any watcher of the path)", "OK", "NoWatcher"))
		x.RemoveWatches(r.P(""), proto.WatcherData)
		x.CheckWatches(r.P(""), proto.WatcherChildren)
	})
}

// TestSessionResume: a client drops its connection, others change things,
// the client resumes its session with the password and restores its
// watches with setWatches / setWatches2; catch-up events say what it
// missed. A wrong password gets timeout 0.
func TestSessionResume(t *testing.T) {
	Run(t, envShared, "SessionResume", func(r *R) {
		c := r.Connect("c")
		w := r.Connect("w")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		for _, n := range []string{"data", "data2", "gone", "kids", "kids2", "pers", "rec", "same"} {
			c.Create(r.P(n), "", open, proto.ModePersistent)
		}
		w.GetData(r.P("data"), true)
		last := w.Exists(r.P("same"), true)
		w.Drop()
		// Meanwhile.
		c.SetData(r.P("data"), "changed", -1)
		c.Create(r.P("created"), "", open, proto.ModePersistent)
		c.Delete(r.P("gone"), -1)
		c.Create(r.P("kids/new"), "", open, proto.ModePersistent)
		c.SetData(r.P("pers"), "changed", -1)
		c.Create(r.P("rec/new"), "", open, proto.ModePersistent)
		// Resume: the same session, its ephemeral-free state.
		w2 := r.Resume("w2", w, last.Zxid)
		w2.SetWatches(proto.SetWatches{
			RelativeZxid: last.Zxid,
			DataWatches:  []string{r.P("data"), r.P("data2"), r.P("gone"), r.P("nowhere")},
			ExistWatches: []string{r.P("created"), r.P("notyet"), r.P("same")},
			ChildWatches: []string{r.P("kids"), r.P("kids2"), r.P("gone"), r.P("nowhere")},
		})
		// The watches that did not fire are in place now.
		c.SetData(r.P("data2"), "x", -1)
		c.Create(r.P("notyet"), "", open, proto.ModePersistent)
		c.Create(r.P("kids2/k"), "", open, proto.ModePersistent)
		c.SetData(r.P("same"), "x", -1)
		w2.GetData(r.P("pers"), false)
		// setWatches2 with persistent ones, after a second drop.
		last2 := w2.Exists(r.P(""), false)
		w2.Drop()
		c.SetData(r.P("data"), "again", -1)
		w3 := r.Resume("w3", w2, last2.Zxid)
		w3.SetWatches(proto.SetWatches{
			V2:                         true,
			RelativeZxid:               last2.Zxid,
			DataWatches:                []string{r.P("data")},
			ExistWatches:               []string{},
			ChildWatches:               []string{},
			PersistentWatches:          []string{r.P("pers")},
			PersistentRecursiveWatches: []string{r.P("rec")},
		})
		c.SetData(r.P("pers"), "p", -1)
		c.Create(r.P("pers/k"), "", open, proto.ModePersistent)
		c.Create(r.P("rec/new/deeper"), "", open, proto.ModePersistent)
		c.SetData(r.P("pers"), "p2", -1)
		// relativeZxid 0 and a huge one.
		w3.SetWatches(proto.SetWatches{RelativeZxid: 0, DataWatches: []string{r.P("data")}, ExistWatches: []string{}, ChildWatches: []string{r.P("kids")}})
		w3.SetWatches(proto.SetWatches{RelativeZxid: 1 << 40, DataWatches: []string{r.P("data")}, ExistWatches: []string{}, ChildWatches: []string{r.P("kids")}})
		c.SetData(r.P("data"), "last", -1)
		// A wrong password: timeout 0, session id 0, the session lives on.
		r.ResumeBadPassword("w4", w3)
		// Apache closes w3 from its selector thread, a moment after it
		// refused w4: give it that moment, or w3's next request may slip
		// in first.
		time.Sleep(200 * time.Millisecond)
		w3.Exists(r.P(""), false)
		// The old connection of a resumed session is closed by the server.
		w5 := r.Resume("w5", w3, 0)
		w3.CheckOpen()
		w5.Exists(r.P(""), false)
		// Resuming a session that is closed.
		w5.Close()
		r.Resume("w6", w5, 0)
		// A new session with a lastZxidSeen ahead of the server: refused.
		r.ConnectWith("late", zkclient.Options{Timeout: 4 * time.Second, LastZxidSeen: 1 << 40}, "connect having seen zxid 1<<40")
		c.Exists(r.P(""), false)
	})
}

// TestSessionCloseAndExpiry: closeSession deletes the ephemerals and fires
// watches; a session whose client goes away expires after its timeout,
// with the same effects. (Each close here deletes nodes whose events a
// watcher sees one at a time; the order of several is TestCloseSessionOrder.)
func TestSessionCloseAndExpiry(t *testing.T) {
	Run(t, envShared, "SessionClose", func(r *R) {
		c := r.Connect("c")
		w := r.Connect("w")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("e1"), "", open, proto.ModeEphemeral)
		c.Create(r.P("e2-"), "", open, proto.ModeEphemeralSequential)
		c.Create(r.P("p"), "", open, proto.ModePersistent)
		c.Create(r.P("p/e3"), "", open, proto.ModeEphemeral)
		w.GetChildren(r.P(""), true)
		c.Close()
		w.GetChildren2(r.P(""), false)
		w.GetChildren2(r.P("p"), false)
		w.GetEphemerals(r.P(""))
		// Close twice; use after close.
		c.Close()
		c.Exists(r.P(""), false)
		// One ephemeral, a persistent recursive watcher above it.
		c2 := r.Connect("c2")
		c2.Create(r.P("p/e4"), "", open, proto.ModeEphemeral)
		w.AddWatch(r.P("p"), proto.AddWatchPersistentRecursive)
		c2.Close()
		// Expiry: a short session whose client vanishes.
		x := r.ConnectWith("x", zkOpts(400*time.Millisecond), "connect with a 400ms timeout")
		x.Create(r.P("xe"), "", open, proto.ModeEphemeral)
		w.Exists(r.P("xe"), true)
		x.Drop()
		r.WaitGone(w, r.P("xe"), 5*time.Second)
		r.Events("the session of x expired")
		w.Exists(r.P("xe"), false)
		// Resuming the expired session.
		r.Resume("x2", x, 0)
	})
}

// TestCloseSessionOrder: the order in which a closing session's ephemerals
// are deleted, as a watcher of all of them sees it. Apache deletes them in
// the iteration order of a java.util.HashSet of their paths (DataTree
// .getEphemerals clones the session's set; PrepRequestProcessor puts that
// order into the CloseSessionTxn; DataTree.killSession deletes in it).
func TestCloseSessionOrder(t *testing.T) {
	Run(t, envShared, "CloseSessionOrder", func(r *R) {
		c := r.Connect("c")
		w := r.Connect("w")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("p"), "", open, proto.ModePersistent)
		for _, n := range []string{"e1", "e2-0000000001", "p/e3", "x", "y", "zz", "p/q"} {
			c.Create(r.P(n), "", open, proto.ModeEphemeral)
			w.Exists(r.P(n), true)
		}
		c.Close()
		c2 := r.Connect("c2")
		for _, n := range []string{"a", "b", "c"} {
			c2.Create(r.P(n), "", open, proto.ModeEphemeral)
			w.Exists(r.P(n), true)
		}
		c2.Close()
	})
}
