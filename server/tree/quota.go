package tree

import (
	"sort"
	"strconv"
	"strings"
)

// Quotas, as ZooKeeper keeps them: a quota on path P is the node
// /zookeeper/quota/P/zookeeper_limits, whose data is a StatsTrack
// ("count=N,bytes=M" and, since 3.7, ";countHardLimit=..;byteHardLimit=.."),
// and the server maintains /zookeeper/quota/P/zookeeper_stats with the
// subtree's current count (nodes, P included) and bytes (data lengths).
// Those stats change with every create, delete and setData below P without
// a transaction of their own (DataTree.updateQuotaStat).

// Quota node names (Quotas).
const (
	QuotaLimitNode = "zookeeper_limits"
	QuotaStatNode  = "zookeeper_stats"
)

// StatsTrack is a quota record: count and bytes (-1 = unset) and the hard
// limits.
type StatsTrack struct {
	values map[string]int64
}

// ParseStatsTrack reads "count=1,bytes=2=;byteHardLimit=3" (pairs separated
// by ',' or ';', an empty value meaning -1), as StatsTrack(String) does.
// Malformed pairs are skipped.
func ParseStatsTrack(s string) StatsTrack {
	st := StatsTrack{values: map[string]int64{}}
	for _, pair := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		v, _, _ = strings.Cut(v, "=") // "bytes=2=" keeps old parsers happy
		if v == "" {
			st.values[k] = -1
			continue
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			st.values[k] = n
		}
	}
	return st
}

func (s StatsTrack) get(k string) int64 {
	if v, ok := s.values[k]; ok {
		return v
	}
	return -1
}

// Count, Bytes, CountHardLimit and ByteHardLimit read the record (-1: unset).
func (s StatsTrack) Count() int64          { return s.get("count") }
func (s StatsTrack) Bytes() int64          { return s.get("bytes") }
func (s StatsTrack) CountHardLimit() int64 { return s.get("countHardLimit") }
func (s StatsTrack) ByteHardLimit() int64  { return s.get("byteHardLimit") }

// String writes the record as StatsTrack.toString does: count and bytes
// first, then any other key sorted, after an extra '='.
func (s StatsTrack) String() string {
	var b strings.Builder
	b.WriteString("count=" + strconv.FormatInt(s.Count(), 10) + ",bytes=" + strconv.FormatInt(s.Bytes(), 10))
	var rest []string
	for k := range s.values {
		if k != "count" && k != "bytes" {
			rest = append(rest, k)
		}
	}
	if len(rest) > 0 {
		b.WriteString("=")
		sort.Strings(rest)
		for _, k := range rest {
			b.WriteString(";" + k + "=" + strconv.FormatInt(s.values[k], 10))
		}
	}
	return b.String()
}

// QuotaPrefix returns the longest path with a quota that is path itself or
// one of its ancestors (DataTree.getMaxPrefixWithQuota), or "".
func (t *Tree) QuotaPrefix(path string) string {
	if len(t.quotas) == 0 {
		return ""
	}
	for p := path; p != "/" && p != ""; p, _ = parentOf(p) {
		if _, ok := t.quotas[p]; ok {
			return p
		}
	}
	return ""
}

func parentOf(p string) (string, string) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/", p[1:]
	}
	return p[:i], p[i+1:]
}

// quotaCreated notes a quota node's creation: a limits node starts
// tracking its path, a stats node is filled with the subtree's counts.
func (t *Tree) quotaCreated(parent, name string) {
	if !strings.HasPrefix(parent, QuotaPath+"/") {
		return
	}
	target := strings.TrimPrefix(parent, QuotaPath)
	switch name {
	case QuotaLimitNode:
		if t.quotas == nil {
			t.quotas = map[string]struct{}{}
		}
		t.quotas[target] = struct{}{}
	case QuotaStatNode:
		t.recountQuota(target)
	}
}

func (t *Tree) quotaDeleted(parent, name string) {
	if name == QuotaLimitNode && strings.HasPrefix(parent, QuotaPath+"/") {
		delete(t.quotas, strings.TrimPrefix(parent, QuotaPath))
	}
}

// recountQuota sets a quota's stats node to the subtree's current counts
// (DataTree.updateQuotaForPath).
func (t *Tree) recountQuota(target string) {
	var count, bytes int64
	var walk func(p string)
	walk = func(p string) {
		n := t.nodes[p]
		if n == nil {
			return
		}
		count++
		bytes += int64(len(n.Data))
		for c := range n.children {
			if p == "/" {
				walk("/" + c)
			} else {
				walk(p + "/" + c)
			}
		}
	}
	walk(target)
	t.setQuotaStats(target, func(st StatsTrack) {
		st.values["count"], st.values["bytes"] = count, bytes
	})
}

// quotaChanged adds a change below path to its quota's stats, if any
// (DataTree.updateQuotaStat).
func (t *Tree) quotaChanged(path string, bytes, count int64) {
	prefix := t.QuotaPrefix(path)
	if prefix == "" {
		return
	}
	t.setQuotaStats(prefix, func(st StatsTrack) {
		st.values["count"] = st.Count() + count
		st.values["bytes"] = st.Bytes() + bytes
	})
}

func (t *Tree) setQuotaStats(target string, update func(StatsTrack)) {
	n := t.nodes[QuotaPath+target+"/"+QuotaStatNode]
	if n == nil {
		return
	}
	st := ParseStatsTrack(string(n.Data))
	update(st)
	data := []byte(st.String())
	t.dataSize += int64(len(data) - len(n.Data))
	n.Data = data
}

// rebuildQuotas finds every quota after a snapshot load and recounts it
// (DataTree.setupQuota).
func (t *Tree) rebuildQuotas() {
	t.quotas = nil
	for p := range t.nodes {
		if strings.HasPrefix(p, QuotaPath+"/") && strings.HasSuffix(p, "/"+QuotaLimitNode) {
			parent, name := parentOf(p)
			t.quotaCreated(parent, name)
		}
	}
	for target := range t.quotas {
		t.recountQuota(target)
	}
}
