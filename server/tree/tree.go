// Package tree holds the replicated state of a zkit server: the znodes with
// their stats and ACLs, the ephemerals of each session, containers and TTL
// nodes, and the table of live sessions. It is pure data: no I/O, no locks,
// no clocks. Transactions change it only through Apply, in zxid order, so
// every replica that applies the same transactions holds the same tree.
package tree

import (
	"sort"

	"zkit/server/proto"
)

// Node is one znode.
type Node struct {
	Data     []byte
	Czxid    int64
	Mzxid    int64
	Pzxid    int64
	Ctime    int64
	Mtime    int64
	Version  int32
	Cversion int32
	Aversion int32
	Owner    int64 // ephemeralOwner
	ACL      int64 // id in the ACLCache
	children map[string]struct{}
}

// NumChildren returns the number of children.
func (n *Node) NumChildren() int { return len(n.children) }

// Children returns the child names, sorted.
func (n *Node) Children() []string {
	names := make([]string, 0, len(n.children))
	for c := range n.children {
		names = append(names, c)
	}
	sort.Strings(names)
	return names
}

// Stat returns the node's stat as clients see it (DataNode.copyStat).
// Cversion counts creates internally (sequential names come from it);
// clients see creates plus deletes, which is twice the creates minus the
// children still there. Containers and TTL nodes report no owner.
func (n *Node) Stat() proto.Stat {
	owner := n.Owner
	if KindOf(owner, true) != OwnerSession {
		owner = 0
	}
	children := int32(len(n.children))
	return proto.Stat{
		Czxid: n.Czxid, Mzxid: n.Mzxid, Ctime: n.Ctime, Mtime: n.Mtime,
		Version: n.Version, Cversion: n.Cversion*2 - children, Aversion: n.Aversion,
		EphemeralOwner: owner, DataLength: int32(len(n.Data)),
		NumChildren: children, Pzxid: n.Pzxid,
	}
}

func (n *Node) addChild(name string) {
	if n.children == nil {
		n.children = make(map[string]struct{}, 2)
	}
	n.children[name] = struct{}{}
}

// Well-known paths ZooKeeper creates in every tree.
const (
	ZooKeeperPath = "/zookeeper"
	QuotaPath     = "/zookeeper/quota"
	ConfigPath    = "/zookeeper/config"
)

// Tree is the replicated state.
type Tree struct {
	nodes      map[string]*Node
	acls       *ACLCache
	ephemerals map[int64]*ephSet
	containers map[string]struct{}
	ttls       map[string]struct{}
	sessions   map[int64]int32 // session id → timeout in ms
	lastZxid   int64
	dataSize   int64               // sum of path and data lengths (approximateDataSize)
	quotas     map[string]struct{} // paths with a quota (DataTree's pTrie)
	// Extended enables TTL nodes (zookeeper.extendedTypesEnabled).
	Extended bool
	// Events receives the watch triggers of applied transactions; may be nil.
	Events EventSink
}

// EventSink receives the watch triggers of each change, with the zxid of the
// change and the ACL of the znode the event is about (for READ filtering).
type EventSink interface {
	// Trigger fires data watches (kind Data) or child watches (kind Child) of
	// path for an event. suppressData asks a child trigger to skip watchers
	// already notified by the data trigger of the same change.
	Trigger(path string, ev proto.EventType, zxid int64, acl []proto.ACL)
}

// New returns a tree holding "/", /zookeeper, /zookeeper/quota and
// /zookeeper/config (readable by anyone, writable by no one), as DataTree's
// constructor builds it.
func New() *Tree {
	t := &Tree{
		nodes:      map[string]*Node{},
		acls:       NewACLCache(),
		ephemerals: map[int64]*ephSet{},
		containers: map[string]struct{}{},
		ttls:       map[string]struct{}{},
		sessions:   map[int64]int32{},
	}
	// The special nodes hold empty (not null) data; /zookeeper/config gets
	// its read-only ACL through setACL(..., -1), which leaves aversion -1
	// (DataTree's constructor and addConfigNode).
	root := &Node{Data: []byte{}, ACL: openACLID}
	t.nodes["/"] = root
	zk := &Node{Data: []byte{}, ACL: openACLID}
	root.addChild("zookeeper")
	t.nodes[ZooKeeperPath] = zk
	zk.addChild("quota")
	t.nodes[QuotaPath] = &Node{Data: []byte{}, ACL: openACLID}
	zk.addChild("config")
	t.nodes[ConfigPath] = &Node{Data: []byte{}, ACL: t.acls.Intern(proto.ReadACLUnsafe), Aversion: -1}
	for p, n := range t.nodes {
		t.dataSize += int64(len(p) + len(n.Data))
	}
	return t
}

// SetConfig sets /zookeeper/config outside any transaction, as
// ZKDatabase.initConfigInZKDatabase does when a member starts or adopts a
// configuration: the data, mzxid = the configuration's version, mtime; the
// data version stays -1.
func (t *Tree) SetConfig(data []byte, version, now int64) {
	t.setData(ConfigPath, data, -1, version, now)
}

// Get returns the node at path, or nil.
func (t *Tree) Get(path string) *Node { return t.nodes[path] }

// ACLOf returns a node's ACL list. The result must not be modified.
func (t *Tree) ACLOf(n *Node) []proto.ACL { return t.acls.Get(n.ACL) }

// ACLs returns the ACL cache.
func (t *Tree) ACLs() *ACLCache { return t.acls }

// LastZxid returns the zxid of the last applied transaction.
func (t *Tree) LastZxid() int64 { return t.lastZxid }

// SetLastZxid sets the last applied zxid (when restoring a snapshot).
func (t *Tree) SetLastZxid(z int64) { t.lastZxid = z }

// NodeCount returns the number of znodes, root included.
func (t *Tree) NodeCount() int { return len(t.nodes) }

// DataSize approximates the bytes held: every path plus every data.
func (t *Tree) DataSize() int64 { return t.dataSize }

// Ephemerals returns the paths of a session's ephemerals, sorted.
func (t *Tree) Ephemerals(session int64) []string {
	set := t.ephemerals[session]
	if set == nil {
		return []string{}
	}
	out := make([]string, 0, len(set.paths))
	for p := range set.paths {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// EphemeralsInCloseOrder returns a session's ephemerals in the order
// ZooKeeper deletes them when the session closes (see ephSet.javaOrder).
func (t *Tree) EphemeralsInCloseOrder(session int64) []string {
	set := t.ephemerals[session]
	if set == nil {
		return nil
	}
	return set.javaOrder()
}

// EphemeralCount returns the number of ephemeral znodes.
func (t *Tree) EphemeralCount() int {
	n := 0
	for _, s := range t.ephemerals {
		n += len(s.paths)
	}
	return n
}

// EphemeralSessions returns every session that owns ephemerals, with its
// paths (for the dump 4lw).
func (t *Tree) EphemeralSessions() map[int64][]string {
	out := make(map[int64][]string, len(t.ephemerals))
	for s := range t.ephemerals {
		out[s] = t.Ephemerals(s)
	}
	return out
}

// Containers returns the paths of all container znodes.
func (t *Tree) Containers() []string { return keys(t.containers) }

// TTLs returns the paths of all TTL znodes.
func (t *Tree) TTLs() []string { return keys(t.ttls) }

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Sessions returns the live sessions and their timeouts. The map must not be
// modified.
func (t *Tree) Sessions() map[int64]int32 { return t.sessions }

// CountDescendants counts the nodes below path (getAllChildrenNumber).
func (t *Tree) CountDescendants(path string) int {
	n := t.nodes[path]
	if n == nil {
		return 0
	}
	if path == "/" {
		return len(t.nodes) - 1
	}
	count := 0
	var walk func(p string, n *Node)
	walk = func(p string, n *Node) {
		for c := range n.children {
			count++
			cp := p + "/" + c
			if cn := t.nodes[cp]; cn != nil {
				walk(cp, cn)
			}
		}
	}
	walk(path, n)
	return count
}

// Each visits every node (for snapshots and tests), in no particular order.
func (t *Tree) Each(fn func(path string, n *Node)) {
	for p, n := range t.nodes {
		fn(p, n)
	}
}
