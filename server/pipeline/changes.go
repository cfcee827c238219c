package pipeline

import (
	"sync"

	"zkit/server/db"
	"zkit/server/proto"
	"zkit/server/tree"
)

// record is what prep knows of a znode: the committed node, or the state a
// transaction still in flight will leave it in (ZooKeeper's ChangeRecord).
type record struct {
	zxid     int64 // the transaction that made this record; -1 for the tree
	path     string
	exists   bool
	version  int32
	cversion int32
	aversion int32
	owner    int64
	children int
	acl      []proto.ACL
	dataLen  int
}

// changes holds the records of transactions prepared but not yet applied.
// Prep reads and adds them; apply drops them once their zxid is applied.
type changes struct {
	mu     sync.Mutex
	byPath map[string]*record
	order  []*record // in zxid order
	db     *db.DB
}

func newChanges(d *db.DB) *changes { return &changes{byPath: map[string]*record{}, db: d} }

// get returns the latest record for path: in flight, or from the tree.
// A nil result means the node does not exist.
func (c *changes) get(path string) *record {
	c.mu.Lock()
	r := c.byPath[path]
	c.mu.Unlock()
	if r != nil {
		if !r.exists {
			return nil
		}
		return r
	}
	c.db.Read(func(t *tree.Tree) {
		n := t.Get(path)
		if n == nil {
			return
		}
		r = &record{
			zxid: -1, path: path, exists: true, version: n.Version, cversion: n.Cversion,
			aversion: n.Aversion, owner: n.Owner, children: n.NumChildren(),
			acl: t.ACLOf(n), dataLen: len(n.Data),
		}
	})
	return r
}

// reset forgets every record in flight.
func (c *changes) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byPath = map[string]*record{}
	c.order = nil
}

// add records the changes of one prepared transaction.
func (c *changes) add(recs []*record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		c.byPath[r.path] = r
		c.order = append(c.order, r)
	}
}

// applied drops every record of transactions up to zxid.
func (c *changes) applied(zxid int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := 0
	for ; i < len(c.order) && c.order[i].zxid <= zxid; i++ {
		r := c.order[i]
		if c.byPath[r.path] == r {
			delete(c.byPath, r.path)
		}
	}
	if i > 0 {
		n := copy(c.order, c.order[i:])
		clear(c.order[n:])
		c.order = c.order[:n]
	}
}

// ephemeralsOf returns the session's ephemerals as they will be once every
// transaction in flight is applied, in the order ZooKeeper deletes them at
// close. PrepRequestProcessor's closeSession takes DataTree.getEphemerals'
// HashSet clone of the applied ones, then walks outstandingChanges in order,
// removing each path deleted in flight and adding each path in flight owned
// by the session; the CloseSessionTxn lists the set in its iteration order.
func (c *changes) ephemeralsOf(session int64) []string {
	var set *tree.JavaHashSet
	c.db.Read(func(t *tree.Tree) { set = tree.CloneEphemerals(t.EphemeralsInCloseOrder(session)) })
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.order {
		switch {
		case !r.exists:
			set.Remove(r.path)
		case r.owner == session:
			set.Add(r.path)
		}
	}
	return set.Order()
}

// view layers the changes of the request being prepared over the records
// in flight, so a multi sees its own earlier ops and can be dropped whole
// when one op fails.
type view struct {
	c     *changes
	zxid  int64
	local map[string]*record // added by path, once it is long (lookup)
	added []*record
	first [2]*record // added's storage for the common short case
}

func newView(c *changes, zxid int64) *view {
	v := &view{c: c, zxid: zxid}
	v.added = v.first[:0]
	return v
}

func (v *view) get(path string) *record {
	if r := v.lookup(path); r != nil {
		if !r.exists {
			return nil
		}
		return r
	}
	return v.c.get(path)
}

// viewScanMax is how many changes a view looks through one by one before it
// indexes them: most transactions change one or two znodes, and a map for
// those would be an allocation per write.
const viewScanMax = 8

// lookup returns the view's own latest record for path, if any.
func (v *view) lookup(path string) *record {
	if v.local != nil {
		return v.local[path]
	}
	for i := len(v.added) - 1; i >= 0; i-- {
		if v.added[i].path == path {
			return v.added[i]
		}
	}
	return nil
}

// put records a change made by the transaction being prepared.
func (v *view) put(r *record) {
	r.zxid = v.zxid
	v.added = append(v.added, r)
	switch {
	case v.local != nil:
		v.local[r.path] = r
	case len(v.added) > viewScanMax:
		v.local = make(map[string]*record, 2*len(v.added))
		for _, a := range v.added {
			v.local[a.path] = a // later records win, as lookup's do
		}
	}
}

func (r *record) clone() *record {
	c := *r
	return &c
}
