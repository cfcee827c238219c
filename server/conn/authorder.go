package conn

import (
	"sort"

	"zkit/server/proto"
	"zkit/server/tree"
)

// sortAuthIDs orders a connection's identities as ZooKeeper iterates them:
// it keeps them in a set backed by a ConcurrentHashMap, so whoAmI lists
// them, and the "auth" ACL scheme expands to them, in bucket order of
// Id.hashCode (jute's 37*(37*17+scheme.hashCode())+id.hashCode()), then
// in the order they were added. The table has 16 buckets until more than
// 12 identities are held, and doubles from there.
func sortAuthIDs(ids []proto.Id) {
	n := 16
	for len(ids) > n*3/4 {
		n *= 2
	}
	bucket := func(id proto.Id) int {
		h := int32(17)
		h = 37*h + tree.JavaStringHash(id.Scheme)
		h = 37*h + tree.JavaStringHash(id.ID)
		u := uint32(h)
		return int((u ^ u>>16) & 0x7fffffff & uint32(n-1))
	}
	sort.SliceStable(ids, func(i, j int) bool { return bucket(ids[i]) < bucket(ids[j]) })
}
