package compat

import (
	"fmt"
	"strings"
)

// Deliberate deviations. zkit follows ZooKeeper 3.9.5 (and 3.8.4+) where
// security fixes and watch-manager fixes changed what a 3.8.0 server does;
// the oracle is 3.8.0. Each difference is an explicit Allowance: a named
// rewrite, citing the Apache change, that turns the two steps into what
// they would be without the change. A step only passes through an
// allowance if, after the rewrite, both servers agree on everything else;
// allowances that depend on the scenario (which path, which client) are
// attached to the very step that shows them (Entry.Allowed). The zkit-only
// tests in zkitonly_test.go assert the 3.9 behaviour exactly.

// Allowance is one deliberate deviation.
type Allowance struct {
	Name string
	Cite string
	// apply rewrites copies of the apache (a) and zkit (z) steps so that
	// the deviation disappears; it reports whether it changed anything.
	apply func(a, z *Entry, ta, tz *Transcript) bool
}

// globalAllowances apply to every step.
var globalAllowances = []*Allowance{allowNotificationZxid}

// applyAllowances reports which allowances explain the difference between
// two steps, and whether they explain all of it.
func applyAllowances(ea, ez *Entry, ta, tz *Transcript) ([]string, bool) {
	a, z := ea.clone(), ez.clone()
	var used []string
	all := append(append([]*Allowance(nil), ea.Allow...), globalAllowances...)
	for _, al := range all {
		if al.apply(a, z, ta, tz) {
			used = append(used, al.Name)
		}
	}
	return used, ta.render(a) == tz.render(z)
}

// allowNotificationZxid: ZOOKEEPER-4655 (3.9.0) "Communicate the Zxid that
// triggered a WatchEvent to fire". 3.8.0's NIOServerCnxn.process sends
// every notification with ReplyHeader(-1, -1L, 0); 3.9 puts
// event.getZxid() there (WatchManager.triggerWatch(path, type, zxid, acl)).
// The allowance holds only when zkit's zxid is the right one: the zxid of
// the write whose reply the event came with, or (for background txns:
// expiry, reaping) a zxid of the scenario. Catch-up events of setWatches
// carry -1 in 3.9 too (DataTree.setWatches builds WatchedEvents without a
// zxid), so they get no allowance.
var allowNotificationZxid = &Allowance{
	Name: "NotificationZxid",
	Cite: "ZOOKEEPER-4655: notifications carry the zxid of their txn (3.8.0 sends -1)",
	apply: func(a, z *Entry, ta, tz *Transcript) bool {
		changed := false
		for i := range z.Events {
			if i >= len(a.Events) {
				break
			}
			ea, ez := a.Events[i], z.Events[i]
			if ea.Zxid != -1 || ez.Zxid == -1 || ea.Client != ez.Client || ea.Type != ez.Type || ea.Path != ez.Path {
				continue
			}
			ok := false
			switch z.evKind {
			case evReply:
				ok = z.HasZxid && ez.Zxid == z.Zxid
			case evSomeTxn:
				ok = ez.Zxid > tz.Base
			}
			if ok {
				z.Events[i].Zxid = -1
				changed = true
			}
		}
		return changed
	},
}

// allowUnreadableEvents: ZOOKEEPER-4799 / CVE-2024-23944 (3.9.2, 3.8.4):
// NIOServerCnxn.process(WatchedEvent, List<ACL>) checks that the watcher
// may READ the znode and drops the event otherwise; 3.8.0 delivers it.
// Removes, from Apache's events of this step, those of client at paths.
func allowUnreadableEvents(client string, paths ...string) *Allowance {
	set := map[string]bool{}
	for _, p := range paths {
		set[p] = true
	}
	return &Allowance{
		Name: "UnreadableEventsDropped",
		Cite: "ZOOKEEPER-4799 / CVE-2024-23944: no notification for a znode the watcher cannot READ",
		apply: func(a, z *Entry, ta, tz *Transcript) bool {
			var keep []EvRec
			for _, ev := range a.Events {
				if ev.Client == client && set[ev.Path] {
					continue
				}
				keep = append(keep, ev)
			}
			changed := len(keep) != len(a.Events)
			a.Events = keep
			return changed
		},
	}
}

// allowErr: the step's reply error differs in a known way; zkit's reply
// (error, body, zxid) replaces Apache's when Apache said apacheErr and
// zkit said zkitErr.
func allowErr(name, cite, apacheErr, zkitErr string) *Allowance {
	return &Allowance{
		Name: name,
		Cite: cite,
		apply: func(a, z *Entry, ta, tz *Transcript) bool {
			if a.Err != apacheErr || z.Err != zkitErr {
				return false
			}
			// The reply header zxid is left alone: it must still agree.
			a.Err, a.Lines = z.Err, append([]string(nil), z.Lines...)
			return true
		},
	}
}

// allowExistsReadACL: ZOOKEEPER-2590 (3.9.2, 3.8.4) "exists() should check
// read ACL permission": FinalRequestProcessor's exists case calls
// checkACL(READ) when the node exists, so a client without READ gets
// NOAUTH (and no watch) where 3.8.0 answered with the Stat.
var allowExistsReadACL = allowErr("ExistsChecksReadACL",
	"ZOOKEEPER-2590: exists() checks READ on an existing znode", "OK", "NoAuth")

// allowZkitOnlyEvents: events zkit delivers in this step that 3.8.0 does
// not, because of a watch-manager change of 3.9 (name and cite say which).
// Exactly the listed events (client, type, path) are removed from zkit's
// side, once each.
func allowZkitOnlyEvents(name, cite string, evs ...EvRec) *Allowance {
	return &Allowance{
		Name: name,
		Cite: cite,
		apply: func(a, z *Entry, ta, tz *Transcript) bool {
			changed := false
			for _, want := range evs {
				for i, ev := range z.Events {
					if ev.Client == want.Client && ev.Type == want.Type && ev.Path == want.Path {
						z.Events = append(z.Events[:i], z.Events[i+1:]...)
						changed = true
						break
					}
				}
			}
			return changed
		},
	}
}

// allowApacheOnlyEvents: events 3.8.0 delivers in this step that 3.9 does
// not (the mirror image of allowZkitOnlyEvents).
func allowApacheOnlyEvents(name, cite string, evs ...EvRec) *Allowance {
	return &Allowance{
		Name: name,
		Cite: cite,
		apply: func(a, z *Entry, ta, tz *Transcript) bool {
			changed := false
			for _, want := range evs {
				for i, ev := range a.Events {
					if ev.Client == want.Client && ev.Type == want.Type && ev.Path == want.Path {
						a.Events = append(a.Events[:i], a.Events[i+1:]...)
						changed = true
						break
					}
				}
			}
			return changed
		},
	}
}

// Cites of the watch-manager changes of 3.9.0.
const (
	citeWatchModes = "ZOOKEEPER-4466: one watcher may hold standard and persistent watches on the same path " +
		"(3.8.0's WatcherModeManager keeps one mode per watcher and path: the last watch set replaces the other)"
	citeRemoveWatchTypes = "ZOOKEEPER-4471/4472: removeWatches/checkWatches match WatcherType to the watch mode; " +
		"Persistent(4) and PersistentRecursive(5) types"
)

// allowLoneCheckForbidden: ZOOKEEPER-2623 (3.9.3) "Forbid OpCode.check
// outside OpCode.multi": Request.isValid no longer lists OpCode.check, so a
// lone check gets UnimplementedRequestProcessor's answer, ReplyHeader(xid,
// -1, UNIMPLEMENTED), and the connection closes. 3.8.0 prepares it as a
// txn (its error, or no reply at all when it passes). Apache's step is
// rewritten into the 3.9 answer, which zkit's must then match exactly.
var allowLoneCheckForbidden = &Allowance{
	Name: "LoneCheckForbidden",
	Cite: "ZOOKEEPER-2623: check outside multi gets UNIMPLEMENTED and the connection closes",
	apply: func(a, z *Entry, ta, tz *Transcript) bool {
		switch {
		case strings.HasSuffix(a.Title, "still open?"):
			if a.Err != "OPEN" {
				return false
			}
			a.Err = "CLOSED"
		case a.Err != "Unimplemented":
			a.Err, a.Zxid, a.HasZxid, a.Lines = "Unimplemented", -1, true, nil
		default:
			return false
		}
		return true
	},
}

// allowNewWatcherTypes: WatcherType Persistent(4) and PersistentRecursive(5)
// exist since ZOOKEEPER-4472 (3.9.0). 3.8.0's WatcherType.fromInt throws
// for them and FinalRequestProcessor answers MARSHALLINGERROR.
var allowNewWatcherTypes = &Allowance{
	Name: "NewWatcherTypes",
	Cite: citeRemoveWatchTypes,
	apply: func(a, z *Entry, ta, tz *Transcript) bool {
		if a.Err != "MarshallingError" || (z.Err != "OK" && z.Err != "NoWatcher") {
			return false
		}
		a.Err, a.Lines = z.Err, append([]string(nil), z.Lines...)
		return true
	},
}

// allowCreate2InMulti: ZOOKEEPER-4026 (3.9.0) "Support OpCode.create2 in
// OpCode.multi". 3.8.0's MultiOperationRecord.deserialize turns every
// create / create2 / createContainer op into Op.create(path, data, acl,
// flags), whose type comes from the flags alone (createContainer for
// CONTAINER, createTTL for TTL modes, else create): a create2 is answered
// as a create (path, no Stat), and a createContainer op with other flags
// makes a plain node. 3.9 keeps the opcode unless the flags say container
// or TTL (Op.create(path, data, options, defaultOpCode)): a create2 answers
// with the Stat, a createContainer makes a container. Apache's "create"
// result lines are replaced by zkit's "create2" lines for the same path;
// the Stat itself is asserted by the zkit-only test.
var allowCreate2InMulti = &Allowance{
	Name: "MultiKeepsCreateOpcode",
	Cite: "ZOOKEEPER-4026: create2 / createContainer inside multi keep their opcode (3.8.0: typed by the flags)",
	apply: func(a, z *Entry, ta, tz *Transcript) bool {
		if len(a.Lines) != len(z.Lines) {
			return false
		}
		changed := false
		for i := range a.Lines {
			la, lz := a.Lines[i], z.Lines[i]
			pfx := fmt.Sprintf("[%d] ", i)
			if !strings.HasPrefix(la, pfx+"create hdrErr=0 path=") || !strings.HasPrefix(lz, pfx+"create2 hdrErr=0 path=") {
				continue
			}
			path := strings.TrimPrefix(la, pfx+"create hdrErr=0 path=")
			if strings.HasPrefix(strings.TrimPrefix(lz, pfx+"create2 hdrErr=0 path="), path+" stat{") {
				a.Lines[i] = lz
				changed = true
			}
		}
		return changed
	},
}

// allowDeleteContainer39 covers opcode 20 sent by a client. 3.8.0 reads
// the path as new String(request.request.array()) — the whole packet,
// request header included — so it always holds NULs and the answer is
// always BADARGUMENTS (a zxid used). ZOOKEEPER-4575 (3.9.0) reads a
// DeleteContainerRequest record (a jute string) instead: a bare path does
// not decode (MARSHALLINGERROR, no zxid used: the record is read before
// PrepRequestProcessor takes a zxid) and a well-formed request deletes any
// empty node that is not an ephemeral (no ACL check). zkit deliberately
// refuses nodes that are neither containers nor TTL nodes with BADVERSION
// (the answer 3.9 gives for ephemerals). want is the answer zkit must give.
func allowDeleteContainer39(want string, usesZxid bool) *Allowance {
	return &Allowance{
		Name: "DeleteContainerOpcode39",
		Cite: "ZOOKEEPER-4575: deleteContainer carries a DeleteContainerRequest record; zkit refuses non-containers",
		apply: func(a, z *Entry, ta, tz *Transcript) bool {
			if a.Err != "BadArguments" {
				return false
			}
			a.Err = want
			if !usesZxid {
				a.Zxid--
			}
			return true
		},
	}
}

var allowCheckWatchesRelativePath = allowErr("CheckWatchesAsksThisWatcher",
	"ZOOKEEPER-4466: WatchManager.containsWatcher no longer walks the parents of the path "+
		"(3.8.0's PathParentIterator fails on a relative path: MARSHALLINGERROR)", "MarshallingError", "NoWatcher")
