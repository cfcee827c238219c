package tree

import "zkit/server/proto"

// ApplyReplay applies a txn replayed over a fuzzy snapshot: from the log
// at recovery, or after a snapshot a leader sent (SNAP).
//
// Replaying the log from the snapshot's zxid over a snapshot whose nodes
// were each copied at some moment of its walk gives the exact state as long
// as every txn sets what it changes to absolute values and tolerates
// finding its effect already there or its target already gone — tree.Apply
// does, as DataTree does. Two cases need more than tree.Apply:
//
//   - A delete of a node that still has children in the replayed tree.
//     Prep allowed the delete, so those children did not exist then: the
//     walk copied them after they were created again, later in the log.
//     Left in place they would be orphans, and the replayed create would
//     overwrite them without releasing their ACL reference, their
//     ephemeral-owner entry or their size. They are deleted first.
//   - A closeSession listing an ephemeral the replayed tree no longer
//     holds, or holds as another node (created again later in the log).
//     DataTree.deleteNodes calls deleteNode on every listed path, whoever
//     owns it, and deleteNode moves the parent's pzxid forward even when
//     the child is missing; Apply deletes only the listed nodes the
//     session owns, which is the same on a live tree but not here. And an
//     ephemeral the close deletes may have children here, as above.
func (t *Tree) ApplyReplay(txn *proto.Txn) Result {
	h := &txn.Header
	switch h.Type {
	case proto.OpDelete, proto.OpDeleteContainer:
		pruneChildren(t, txn.Body.(*proto.PathRecord).Path, h)
	case proto.OpMulti:
		pruneMulti(t, txn.Body.(*proto.MultiTxn), h)
	case proto.OpCloseSession:
		closedEphemerals(t, txn)
	}
	return t.Apply(txn)
}

// pruneChildren deletes, deepest first, whatever the replayed tree holds
// under path.
func pruneChildren(t *Tree, path string, h *proto.TxnHeader) {
	n := t.Get(path)
	if n == nil || n.NumChildren() == 0 {
		return
	}
	for _, c := range n.Children() {
		child := path + "/" + c
		if path == "/" {
			child = "/" + c
		}
		deleteReplayed(t, child, h)
	}
}

// pruneMulti prunes under every delete of a multi that succeeded. Doing it
// before the multi, not before each delete, changes nothing: whatever is
// under a node the multi deletes is gone once the multi is applied.
func pruneMulti(t *Tree, m *proto.MultiTxn, h *proto.TxnHeader) {
	for _, s := range m.Txns {
		if s.Type == proto.OpError {
			return
		}
	}
	for _, s := range m.Txns {
		if s.Type == proto.OpDelete || s.Type == proto.OpDeleteContainer {
			pruneChildren(t, s.Body.(*proto.PathRecord).Path, h)
		}
	}
}

func closedEphemerals(t *Tree, txn *proto.Txn) {
	s, ok := txn.Body.(*proto.StringsRecord)
	if !ok || s == nil {
		return
	}
	h := &txn.Header
	for _, p := range s.Strings {
		switch n := t.Get(p); {
		case n == nil:
			parentPath, _ := proto.ParentPath(p)
			if parent := t.Get(parentPath); parent != nil && h.Zxid > parent.Pzxid {
				parent.Pzxid = h.Zxid
			}
		case n.Owner != h.ClientID:
			deleteReplayed(t, p, h)
		default:
			pruneChildren(t, p, h)
		}
	}
	for _, p := range t.Ephemerals(h.ClientID) {
		pruneChildren(t, p, h)
	}
}

// deleteReplayed deletes path and whatever is under it.
func deleteReplayed(t *Tree, path string, h *proto.TxnHeader) {
	pruneChildren(t, path, h)
	t.Apply(&proto.Txn{
		Header: proto.TxnHeader{ClientID: h.ClientID, Zxid: h.Zxid, Time: h.Time, Type: proto.OpDelete},
		Body:   &proto.PathRecord{Path: path},
	})
}
