package tree

import (
	"fmt"
	"iter"

	"zkit/server/proto"
)

// All iterates over every node, in no particular order.
//
// A fuzzy snapshot walks a live tree with it, releasing the lock that
// guards the tree between steps so that writers can go on (see
// storage's snapshot writer). That is sound because each step of the
// underlying map iteration runs with the lock held, and the Go
// specification defines iteration over a map that is modified between
// steps: an entry not yet reached that is removed is not produced, an
// entry added may or may not be, every other entry is produced exactly
// once. The lock orders the accesses, so the race detector and the
// runtime's concurrent-map checks see no conflict.
func (t *Tree) All() iter.Seq2[string, *Node] {
	return func(yield func(string, *Node) bool) {
		for p, n := range t.nodes {
			if !yield(p, n) {
				return
			}
		}
	}
}

// Loader rebuilds a tree from a snapshot: nodes by path with their stored
// stats and ACL ids, ACL lists by id, and the sessions. Children sets, ACL
// reference counts, the ephemeral, container and TTL indexes and the data
// size are derived in Finish, as DataTree.deserialize derives them.
type Loader struct {
	t    *Tree
	acls map[int64][]proto.ACL
}

// NewLoader returns a loader of an empty tree (no root yet); sizeHint is the
// expected number of nodes.
func NewLoader(extended bool, sizeHint int) *Loader {
	t := &Tree{
		nodes:      make(map[string]*Node, sizeHint),
		acls:       NewACLCache(),
		ephemerals: map[int64]*ephSet{},
		containers: map[string]struct{}{},
		ttls:       map[string]struct{}{},
		sessions:   map[int64]int32{},
		Extended:   extended,
	}
	return &Loader{t: t, acls: map[int64][]proto.ACL{}}
}

// ACL defines the list an ACL id stands for.
func (l *Loader) ACL(id int64, acl []proto.ACL) { l.acls[id] = acl }

// Node adds a node; children is how many children it is expected to have
// (a sizing hint). A later node with the same path replaces the earlier: a
// fuzzy snapshot may meet a path deleted and created again during its walk,
// and the later record is the later state.
func (l *Loader) Node(path string, n Node, children int) {
	n.children = nil
	if children > 0 {
		n.children = make(map[string]struct{}, children)
	}
	l.t.nodes[path] = &n
}

// Session adds a live session.
func (l *Loader) Session(id int64, timeout int32) { l.t.sessions[id] = timeout }

// Finish links the nodes and returns the tree, with lastZxid set, and the
// number of nodes dropped because their parent is missing.
//
// A fuzzy snapshot can hold a node without its parent: the walk saw the
// child, then the child and the parent were deleted (or the parent deleted
// and created again) before it reached the parent. Every such node went
// away, or was created again, after the snapshot's zxid, so the log replay
// from that zxid recreates whatever must exist; keeping the orphan would
// leave a node no parent lists, which a replayed create could not see.
func (l *Loader) Finish(lastZxid int64) (*Tree, int, error) {
	t := l.t
	if t.nodes["/"] == nil {
		return nil, 0, fmt.Errorf("snapshot has no root node")
	}
	dropped := 0
	if l.link() {
		dropped = t.dropUnreachable()
	}
	if err := l.countACLs(); err != nil {
		return nil, 0, err
	}
	for p, n := range t.nodes {
		t.track(p, n.Owner)
		t.dataSize += int64(len(p) + len(n.Data))
	}
	t.rebuildQuotas()
	t.lastZxid = lastZxid
	return t, dropped, nil
}

// link adds every node to its parent's children; it reports whether some
// parent was missing.
func (l *Loader) link() (missing bool) {
	for p := range l.t.nodes {
		if p == "/" {
			continue
		}
		parentPath, name := proto.ParentPath(p)
		parent := l.t.nodes[parentPath]
		if parent == nil {
			missing = true
			continue
		}
		parent.addChild(name)
	}
	return missing
}

// dropUnreachable removes nodes not reachable from the root.
func (t *Tree) dropUnreachable() int {
	seen := make(map[string]struct{}, len(t.nodes))
	stack := []string{"/"}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		seen[p] = struct{}{}
		for c := range t.nodes[p].children {
			cp := "/" + c
			if p != "/" {
				cp = p + "/" + c
			}
			stack = append(stack, cp)
		}
	}
	dropped := 0
	for p := range t.nodes {
		if _, ok := seen[p]; !ok {
			delete(t.nodes, p)
			dropped++
		}
	}
	return dropped
}

// countACLs restores the ACL lists in use with their reference counts.
func (l *Loader) countACLs() error {
	refs := map[int64]int64{}
	for p, n := range l.t.nodes {
		if n.ACL == openACLID {
			continue
		}
		if _, ok := l.acls[n.ACL]; !ok {
			return fmt.Errorf("node %s uses ACL id %d, which the snapshot does not define", p, n.ACL)
		}
		refs[n.ACL]++
	}
	for id, r := range refs {
		l.t.acls.Restore(id, l.acls[id], r)
	}
	return nil
}
