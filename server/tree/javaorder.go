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
