package tree

import (
	"zkit/server/proto"
)

// Result is the outcome of applying one transaction (ProcessTxnResult).
type Result struct {
	Type  proto.Op // the transaction's type
	Err   proto.Err
	Path  string
	Stat  proto.Stat
	Multi []Result // per-op results of a multi
}

// Apply applies a committed transaction and advances LastZxid. Watch
// triggers go to Events. Errors are reported in the Result: a transaction
// that fails to apply leaves the tree as it was, as DataTree.processTxn does.
func (t *Tree) Apply(txn *proto.Txn) Result {
	r := t.apply(&txn.Header, txn.Body)
	if txn.Header.Zxid > t.lastZxid {
		t.lastZxid = txn.Header.Zxid
	}
	return r
}

func (t *Tree) apply(h *proto.TxnHeader, body proto.Record) Result {
	r := Result{Type: h.Type}
	switch h.Type {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateTTL, proto.OpCreateContainer:
		c := body.(*proto.CreateTxn)
		r.Path = c.Path
		r.Stat, r.Err = t.create(c, t.ownerFor(h, c), h.Zxid, h.Time)
		if r.Err == proto.ErrNodeExists {
			// Replaying a create over a fuzzy snapshot that already holds the
			// node must still move the parent's cversion and pzxid forward.
			t.raiseCversion(c.Path, c.ParentCVersion, h.Zxid)
		}
	case proto.OpDelete, proto.OpDeleteContainer:
		p := body.(*proto.PathRecord).Path
		r.Path = p
		r.Err = t.delete(p, h.Zxid)
	case proto.OpSetData, proto.OpReconfig:
		s := body.(*proto.SetDataRequest)
		r.Path = s.Path
		r.Stat, r.Err = t.setData(s.Path, s.Data, s.Version, h.Zxid, h.Time)
	case proto.OpSetACL:
		s := body.(*proto.SetACLRequest)
		r.Path = s.Path
		r.Stat, r.Err = t.setACL(s.Path, s.ACL, s.Version)
	case proto.OpCheck:
		r.Path = body.(*proto.PathVersionRecord).Path
	case proto.OpError:
		r.Err = proto.Err(body.(*proto.IntRecord).Value)
	case proto.OpCreateSession:
		t.sessions[h.ClientID] = body.(*proto.IntRecord).Value
	case proto.OpCloseSession:
		t.closeSession(h.ClientID, body, h.Zxid)
	case proto.OpMulti:
		r.Multi, r.Err = t.multi(h, body.(*proto.MultiTxn))
	}
	return r
}

func (t *Tree) ownerFor(h *proto.TxnHeader, c *proto.CreateTxn) int64 {
	switch c.Form {
	case proto.OpCreateContainer:
		return ContainerOwner
	case proto.OpCreateTTL:
		return TTLOwner(c.TTL)
	}
	if c.Ephemeral {
		return h.ClientID
	}
	return 0
}

func (t *Tree) create(c *proto.CreateTxn, owner, zxid, now int64) (proto.Stat, proto.Err) {
	parentPath, name := proto.ParentPath(c.Path)
	parent := t.nodes[parentPath]
	if parent == nil {
		return proto.Stat{}, proto.ErrNoNode
	}
	if _, ok := parent.children[name]; ok {
		return proto.Stat{}, proto.ErrNodeExists
	}
	cv := c.ParentCVersion
	if cv == -1 {
		cv = parent.Cversion + 1
	}
	if cv > parent.Cversion {
		parent.Cversion = cv
		parent.Pzxid = zxid
	}
	n := &Node{
		Data: c.Data, Czxid: zxid, Mzxid: zxid, Pzxid: zxid, Ctime: now, Mtime: now,
		Owner: owner, ACL: t.acls.Intern(c.ACL),
	}
	// The child name shares the path's memory.
	_, name = proto.ParentPath(c.Path)
	parent.addChild(name)
	t.nodes[c.Path] = n
	t.dataSize += int64(len(c.Path) + len(c.Data))
	t.track(c.Path, owner)
	t.quotaCreated(parentPath, name)
	t.quotaChanged(c.Path, int64(len(c.Data)), 1)
	t.trigger(c.Path, proto.EventNodeCreated, zxid, n)
	t.trigger(parentPath, proto.EventNodeChildrenChanged, zxid, parent)
	return n.Stat(), proto.ErrOK
}

func (t *Tree) track(path string, owner int64) {
	switch KindOf(owner, t.Extended) {
	case OwnerContainer:
		t.containers[path] = struct{}{}
	case OwnerTTL:
		t.ttls[path] = struct{}{}
	case OwnerSession:
		set := t.ephemerals[owner]
		if set == nil {
			set = newEphSet()
			t.ephemerals[owner] = set
		}
		set.add(path)
	}
}

func (t *Tree) untrack(path string, owner int64) {
	switch KindOf(owner, t.Extended) {
	case OwnerContainer:
		delete(t.containers, path)
	case OwnerTTL:
		delete(t.ttls, path)
	case OwnerSession:
		// The set outlives its last path until the session closes, as
		// DataTree's does (dump lists such sessions).
		if set := t.ephemerals[owner]; set != nil {
			delete(set.paths, path)
		}
	}
}

func (t *Tree) raiseCversion(path string, cv int32, zxid int64) {
	parentPath, _ := proto.ParentPath(path)
	parent := t.nodes[parentPath]
	if parent == nil {
		return
	}
	if cv == -1 {
		cv = parent.Cversion + 1
	}
	if cv > parent.Cversion {
		parent.Cversion = cv
		parent.Pzxid = zxid
	}
}

func (t *Tree) delete(path string, zxid int64) proto.Err {
	parentPath, name := proto.ParentPath(path)
	parent := t.nodes[parentPath]
	if parent == nil || path == "/" {
		return proto.ErrNoNode
	}
	delete(parent.children, name)
	// DataTree.deleteNode moves pzxid only forward: a replayed delete must not
	// undo a later create's pzxid.
	if zxid > parent.Pzxid {
		parent.Pzxid = zxid
	}
	n := t.nodes[path]
	if n == nil {
		return proto.ErrNoNode
	}
	delete(t.nodes, path)
	t.dataSize -= int64(len(path) + len(n.Data))
	t.untrack(path, n.Owner)
	t.quotaDeleted(parentPath, name)
	t.quotaChanged(path, -int64(len(n.Data)), -1)
	t.trigger(path, proto.EventNodeDeleted, zxid, n)
	t.trigger(parentPath, proto.EventNodeChildrenChanged, zxid, parent)
	t.acls.Release(n.ACL)
	return proto.ErrOK
}

func (t *Tree) setData(path string, data []byte, version int32, zxid, now int64) (proto.Stat, proto.Err) {
	n := t.nodes[path]
	if n == nil {
		return proto.Stat{}, proto.ErrNoNode
	}
	t.dataSize += int64(len(data) - len(n.Data))
	t.quotaChanged(path, int64(len(data)-len(n.Data)), 0)
	n.Data = data
	n.Mtime = now
	n.Mzxid = zxid
	n.Version = version
	t.trigger(path, proto.EventNodeDataChanged, zxid, n)
	return n.Stat(), proto.ErrOK
}

func (t *Tree) setACL(path string, acl []proto.ACL, version int32) (proto.Stat, proto.Err) {
	n := t.nodes[path]
	if n == nil {
		return proto.Stat{}, proto.ErrNoNode
	}
	old := n.ACL
	n.ACL = t.acls.Intern(acl)
	t.acls.Release(old)
	n.Aversion = version
	return n.Stat(), proto.ErrOK
}

func (t *Tree) closeSession(session int64, body proto.Record, zxid int64) {
	var paths []string
	if s, ok := body.(*proto.StringsRecord); ok && s != nil {
		paths = s.Strings
	}
	for _, p := range paths {
		if n := t.nodes[p]; n != nil && n.Owner == session {
			t.delete(p, zxid)
		}
	}
	// Ephemerals the leader did not list (ZooKeeper logs these as
	// unexpected) go too, so a session never outlives its close.
	for _, p := range t.Ephemerals(session) {
		t.delete(p, zxid)
	}
	delete(t.ephemerals, session)
	delete(t.sessions, session)
}

// multi applies a MultiTxn. When any sub-transaction is an error the whole
// multi failed in prep: nothing is applied, the ops before the failure report
// OK, the failing op its error and the ops after it RuntimeInconsistency.
func (t *Tree) multi(h *proto.TxnHeader, m *proto.MultiTxn) ([]Result, proto.Err) {
	failed := false
	for _, s := range m.Txns {
		if s.Type == proto.OpError {
			failed = true
			break
		}
	}
	results := make([]Result, 0, len(m.Txns))
	first := proto.ErrOK
	postFailed := false
	for _, s := range m.Txns {
		sub := *h
		sub.Type = s.Type
		body := s.Body
		if s.Type == proto.OpError {
			postFailed = true
		} else if failed {
			code := proto.ErrOK
			if postFailed {
				code = proto.ErrRuntimeInconsistency
			}
			sub.Type = proto.OpError
			body = &proto.IntRecord{Value: int32(code)}
		}
		r := t.apply(&sub, body)
		results = append(results, r)
		if r.Err != proto.ErrOK && first == proto.ErrOK {
			first = r.Err
		}
	}
	return results, first
}

func (t *Tree) trigger(path string, ev proto.EventType, zxid int64, n *Node) {
	if t.Events != nil {
		t.Events.Trigger(path, ev, zxid, t.acls.Get(n.ACL))
	}
}
