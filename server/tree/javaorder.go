package tree

import (
	"sort"
	"unicode/utf16"
)

// ephSet is a session's ephemerals, remembering what ZooKeeper's
// java.util.HashSet of them would: the order paths were added and the
// largest size reached (a HashSet's table never shrinks). Together they
// give the order in which ZooKeeper deletes a closing session's ephemerals,
// which watchers of those nodes observe.
type ephSet struct {
	paths   map[string]uint64 // path → when it was added
	seq     uint64
	maxSize int
}

func newEphSet() *ephSet { return &ephSet{paths: map[string]uint64{}} }

func (e *ephSet) add(path string) {
	e.seq++
	e.paths[path] = e.seq
	e.maxSize = max(e.maxSize, len(e.paths))
}

// JavaStringHash is java.lang.String.hashCode over the UTF-16 form of s.
func JavaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// hashMapIndex is the bucket java.util.HashMap puts a string key in, for a
// table of n buckets (n a power of two).
func hashMapIndex(s string, n int) int {
	h := uint32(JavaStringHash(s))
	return int((h ^ h>>16) & uint32(n-1))
}

// tableSizeFor is HashMap.tableSizeFor: the power of two at or above c.
func tableSizeFor(c int) int {
	n := 1
	for n < c {
		n <<= 1
	}
	return n
}

// javaOrder lists the set's paths in the iteration order of the copy
// DataTree.getEphemerals makes of the session's HashSet: its table is sized
// for the current size (HashMap.putMapEntries), and it is filled in the
// iteration order of the original, whose table grew by doubling from 16
// while more than 3/4 full.
func (e *ephSet) javaOrder() []string {
	orig := 16
	for e.maxSize > orig*3/4 {
		orig *= 2
	}
	n := len(e.paths)
	clone := tableSizeFor(int(float32(n)/0.75 + 1))
	out := make([]string, 0, n)
	for p := range e.paths {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ci, cj := hashMapIndex(a, clone), hashMapIndex(b, clone); ci != cj {
			return ci < cj
		}
		if oi, oj := hashMapIndex(a, orig), hashMapIndex(b, orig); oi != oj {
			return oi < oj
		}
		return e.paths[a] < e.paths[b]
	})
	return out
}

// JavaHashSet is a java.util.HashSet<String> reduced to what decides its
// iteration order: a table of buckets, each a chain in insertion order,
// that doubles once the size passes 3/4 of it (HashMap.putVal), and also,
// below 64 buckets, once a chain reaches 9 entries (treeifyBin resizes
// instead of making a tree). A chain of 9 or more in a table of 64 or more
// becomes a tree in Java, whose order this does not follow.
type JavaHashSet struct {
	buckets [][]string
	size    int
}

// CloneEphemerals returns the HashSet DataTree.getEphemerals hands
// PrepRequestProcessor's closeSession: a clone (HashMap.putMapEntries) of a
// set whose iteration order is order, as EphemeralsInCloseOrder gives it.
// An empty or missing set gives a fresh HashSet.
func CloneEphemerals(order []string) *JavaHashSet {
	n := 16
	if len(order) > 0 {
		n = tableSizeFor(int(float32(len(order))/0.75 + 1))
	}
	s := &JavaHashSet{buckets: make([][]string, n)}
	for _, p := range order {
		s.Add(p)
	}
	return s
}

// Add adds path unless present (HashSet.add).
func (s *JavaHashSet) Add(path string) {
	i := hashMapIndex(path, len(s.buckets))
	for _, p := range s.buckets[i] {
		if p == path {
			return
		}
	}
	s.buckets[i] = append(s.buckets[i], path)
	if len(s.buckets[i]) >= 9 && len(s.buckets) < 64 {
		s.resize()
	}
	s.size++
	if s.size > len(s.buckets)*3/4 {
		s.resize()
	}
}

// Remove removes path if present (HashSet.remove).
func (s *JavaHashSet) Remove(path string) {
	i := hashMapIndex(path, len(s.buckets))
	for j, p := range s.buckets[i] {
		if p == path {
			s.buckets[i] = append(s.buckets[i][:j:j], s.buckets[i][j+1:]...)
			s.size--
			return
		}
	}
}

// resize doubles the table; each chain splits in two keeping its order
// (HashMap.resize).
func (s *JavaHashSet) resize() {
	next := make([][]string, 2*len(s.buckets))
	for _, chain := range s.buckets {
		for _, p := range chain {
			i := hashMapIndex(p, len(next))
			next[i] = append(next[i], p)
		}
	}
	s.buckets = next
}

// Order lists the paths in the set's iteration order.
func (s *JavaHashSet) Order() []string {
	out := make([]string, 0, s.size)
	for _, chain := range s.buckets {
		out = append(out, chain...)
	}
	return out
}
