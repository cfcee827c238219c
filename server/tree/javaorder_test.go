package tree

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Expected orders printed by the JDK 17 on this machine: a HashSet built
// with the first ops, cloned as DataTree.getEphemerals does, then the
// second ops applied to the clone as PrepRequestProcessor's closeSession
// applies the changes in flight (a small Java program reading lines of
// "+path"/"-path" ops). CloneEphemerals and JavaHashSet agreed with it on
// 20,000 random cases; they differ only once a bucket becomes a tree.
func TestJavaHashSetMatchesJava(t *testing.T) {
	colliding := "/AaAaAaAa /AaAaAaBB /AaAaBBAa /AaAaBBBB /AaBBAaAa /AaBBAaBB /AaBBBBAa /AaBBBBBB" // one String.hashCode
	var lock12, lock20 []string
	for i := 0; i < 32; i++ {
		p := fmt.Sprintf("+/lock/n-%010d", i)
		if i < 12 {
			lock12 = append(lock12, p)
		} else {
			lock20 = append(lock20, p)
		}
	}
	cases := []struct{ name, committed, inFlight, want string }{
		{"adds mix with the clone", "+/e0 +/e1 +/e2 +/e3 +/e4", "+/f0 +/f1 +/f2 +/f3 +/f4",
			"/f0 /e0 /f1 /e1 /f2 /e2 /f3 /e3 /f4 /e4"},
		{"delete and add", "+/e0 +/e1 +/e2 +/e3 +/e4", "-/e2 +/f0", "/f0 /e0 /e1 /e3 /e4"},
		{"re-add goes to the end of its bucket", "+/x +/y +/z +/xy +/yx", "-/x +/x -/y", "/xy /x /z /yx"},
		{"clone of 12 grows past 3/4", strings.Join(lock12, " "), strings.Join(lock20, " "),
			"/lock/n-0000000013 /lock/n-0000000014 /lock/n-0000000011 /lock/n-0000000012 /lock/n-0000000031 /lock/n-0000000010 /lock/n-0000000030 /lock/n-0000000019 /lock/n-0000000017 /lock/n-0000000018 /lock/n-0000000015 /lock/n-0000000016 /lock/n-0000000002 /lock/n-0000000024 /lock/n-0000000003 /lock/n-0000000025 /lock/n-0000000000 /lock/n-0000000022 /lock/n-0000000001 /lock/n-0000000023 /lock/n-0000000020 /lock/n-0000000021 /lock/n-0000000008 /lock/n-0000000009 /lock/n-0000000006 /lock/n-0000000028 /lock/n-0000000007 /lock/n-0000000029 /lock/n-0000000004 /lock/n-0000000026 /lock/n-0000000005 /lock/n-0000000027"},
		{"8 in one bucket", "", "+/e13 " + plusAll(colliding), "/AaAaAaAa /AaAaAaBB /AaAaBBAa /AaAaBBBB /AaBBAaAa /AaBBAaBB /AaBBBBAa /AaBBBBBB /e13"},
		{"9 in one bucket resize a small table", "", "+/e13 " + plusAll(colliding) + " +/BBAaAaAa",
			"/e13 /AaAaAaAa /AaAaAaBB /AaAaBBAa /AaAaBBBB /AaBBAaAa /AaBBAaBB /AaBBBBAa /AaBBBBBB /BBAaAaAa"},
		{"no committed set", "", "+/a", "/a"},
		{"emptied", "+/a", "-/a", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEphSet()
			for _, op := range strings.Fields(c.committed) {
				e.add(op[1:])
			}
			s := CloneEphemerals(e.javaOrder())
			for _, op := range strings.Fields(c.inFlight) {
				if op[0] == '+' {
					s.Add(op[1:])
				} else {
					s.Remove(op[1:])
				}
			}
			require.Equal(t, strings.Fields(c.want), s.Order())
		})
	}
}

func plusAll(paths string) string {
	return "+" + strings.Join(strings.Fields(paths), " +")
}
