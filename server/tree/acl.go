package tree

import (
	"strconv"
	"strings"

	"zkit/server/proto"
)

// openACLID is the cache key ZooKeeper reserves for OPEN_ACL_UNSAFE
// (ReferenceCountedACLCache.OPEN_UNSAFE_ACL_ID).
const openACLID int64 = -1

// ACLCache interns ACL lists: znodes hold a small id, and each distinct list
// is stored once with a reference count, as ZooKeeper's
// ReferenceCountedACLCache does (snapshots store the same id → list map).
type ACLCache struct {
	byKey  map[string]int64
	byID   map[int64]*aclEntry
	nextID int64
}

type aclEntry struct {
	acl  []proto.ACL
	key  string
	refs int64
}

// NewACLCache returns an empty cache.
func NewACLCache() *ACLCache {
	return &ACLCache{byKey: map[string]int64{}, byID: map[int64]*aclEntry{}, nextID: 1}
}

func aclKey(acl []proto.ACL) string {
	var b strings.Builder
	for _, a := range acl {
		b.WriteString(strconv.Itoa(int(a.Perms)))
		b.WriteByte(0)
		b.WriteString(a.ID.Scheme)
		b.WriteByte(0)
		b.WriteString(a.ID.ID)
		b.WriteByte(0)
	}
	return b.String()
}

func isOpenACL(acl []proto.ACL) bool {
	return len(acl) == 1 && acl[0].Perms == proto.PermAll && acl[0].ID == proto.WorldAnyone
}

// Intern returns the id for acl, adding a reference.
func (c *ACLCache) Intern(acl []proto.ACL) int64 {
	if acl == nil {
		return openACLID
	}
	if isOpenACL(acl) {
		return openACLID
	}
	key := aclKey(acl)
	if id, ok := c.byKey[key]; ok {
		c.byID[id].refs++
		return id
	}
	id := c.nextID
	c.nextID++
	c.byKey[key] = id
	c.byID[id] = &aclEntry{acl: append([]proto.ACL(nil), acl...), key: key, refs: 1}
	return id
}

// Release drops a reference to id, forgetting the list at zero.
func (c *ACLCache) Release(id int64) {
	e, ok := c.byID[id]
	if !ok {
		return
	}
	e.refs--
	if e.refs <= 0 {
		delete(c.byID, id)
		delete(c.byKey, e.key)
	}
}

// Get returns the list for id. The result must not be modified.
func (c *ACLCache) Get(id int64) []proto.ACL {
	if id == openACLID {
		return proto.OpenACLUnsafe
	}
	if e, ok := c.byID[id]; ok {
		return e.acl
	}
	return nil
}

// Len returns the number of distinct lists held.
func (c *ACLCache) Len() int { return len(c.byID) }

// Each calls fn for every cached list (for snapshots).
func (c *ACLCache) Each(fn func(id int64, acl []proto.ACL, refs int64)) {
	for id, e := range c.byID {
		fn(id, e.acl, e.refs)
	}
}

// Restore puts a list back under a known id (when loading a snapshot).
func (c *ACLCache) Restore(id int64, acl []proto.ACL, refs int64) {
	key := aclKey(acl)
	c.byID[id] = &aclEntry{acl: acl, key: key, refs: refs}
	c.byKey[key] = id
	if id >= c.nextID {
		c.nextID = id + 1
	}
}
