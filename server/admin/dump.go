package admin

import (
	"maps"
	"sort"
	"strconv"
	"strings"

	"zkit/server/member"
	"zkit/server/tree"
)

// sessionlessCnxnTimeout is zookeeper.nio.sessionlessCnxnTimeout: the
// width of the NIO factory's connection expiry buckets, and the lifetime
// it gives a connection without a session.
const sessionlessCnxnTimeout = 10000

// writeDump is dump (DumpCommand): the session tracker's expiry buckets,
// the ephemerals of each session, and the connections with their expiry
// buckets (NIOServerCnxnFactory.dumpConnections).
func writeDump(b *strings.Builder, s *member.Server, st status) {
	b.WriteString("SessionTracker dump:\n")
	expiryOf := map[int64]int64{}
	if st.Mode == ModeFollower || st.Mode == ModeObserver || st.Mode == ModeReadOnly {
		// LearnerSessionTracker (also a read-only server's): the global
		// sessions the database knows, by id (as signed longs), with their
		// timeouts.
		var sessions map[int64]int32
		s.DB.Read(func(t *tree.Tree) { sessions = maps.Clone(t.Sessions()) })
		b.WriteString("Global Sessions(" + strconv.Itoa(len(sessions)) + "):\n")
		for _, id := range sortedIDs(sessions) {
			b.WriteString(hex(id) + "\t" + strconv.Itoa(int(sessions[id])) + "ms\n")
		}
	} else {
		buckets := s.Sessions.ExpiryBuckets()
		n := 0
		for exp, ids := range buckets {
			n += len(ids)
			for _, id := range ids {
				expiryOf[id] = exp
			}
		}
		b.WriteString("Session ")
		writeExpiry(b, buckets, n, func(id int64) string { return hex(id) })
	}

	b.WriteString("ephemeral nodes dump:\n")
	var eph map[int64][]string
	s.DB.Read(func(t *tree.Tree) { eph = t.EphemeralSessions() })
	b.WriteString("Sessions with Ephemerals (" + strconv.Itoa(len(eph)) + "):\n")
	for _, id := range sortedIDs(eph) {
		b.WriteString(hex(id) + ":\n")
		for _, p := range eph[id] {
			b.WriteString("\t" + p + "\n")
		}
	}

	b.WriteString("Connections dump:\n")
	// The NIO factory touches a connection at every read or write with its
	// session timeout (10 s without a session) and buckets the expiry time
	// to 10 s. With tick-aligned session expiry times (tickTime dividing
	// 10 s) the session's expiry lands in the same bucket as Apache's.
	conns := connections(s)
	cbuckets := map[int64][]int64{}
	label := map[int64]string{}
	for i, v := range conns {
		var t int64
		if exp, ok := expiryOf[v.info.SessionID]; ok && v.info.SessionID != 0 {
			t = exp - 1
		} else if v.info.SessionID != 0 && v.info.Timeout > 0 {
			// A learner's session: touched at its last answer.
			last := v.info.LastResp
			if last.IsZero() {
				last = v.info.Established
			}
			t = last.UnixMilli() + int64(v.info.Timeout)
		} else {
			t = v.info.Established.UnixMilli() + sessionlessCnxnTimeout
		}
		exp := (t/sessionlessCnxnTimeout + 1) * sessionlessCnxnTimeout
		key := int64(i)
		cbuckets[exp] = append(cbuckets[exp], key)
		label[key] = "ip: " + javaAddr(v.info.Remote) + " sessionId: " + hex(v.info.SessionID)
	}
	b.WriteString("Connections ")
	writeExpiry(b, cbuckets, len(conns), func(key int64) string { return label[key] })
}

// writeExpiry is ExpiryQueue.dump: "Sets (buckets)/(elements):", then per
// bucket, in time order, "<n> expire at <date>:" and a tab-indented line
// per element.
func writeExpiry(b *strings.Builder, buckets map[int64][]int64, n int, name func(int64) string) {
	b.WriteString("Sets (" + strconv.Itoa(len(buckets)) + ")/(" + strconv.Itoa(n) + "):\n")
	times := make([]int64, 0, len(buckets))
	for t := range buckets {
		times = append(times, t)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	for _, t := range times {
		ids := append([]int64(nil), buckets[t]...)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		b.WriteString(strconv.Itoa(len(ids)) + " expire at " + javaDate(t) + ":\n")
		for _, id := range ids {
			b.WriteString("\t" + name(id) + "\n")
		}
	}
}

func sortedIDs[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// dataWatches returns, per session, the paths its connections hold data
// watches on. Apache's wchs/wchc/wchp report only DataTree.dataWatches
// (getData, exists, persistent and recursive watches), not child watches.
func dataWatches(s *member.Server) map[int64][]string {
	out := map[int64][]string{}
	for _, c := range s.Clients.Conns() {
		if c.Closed() {
			continue // Apache drops a connection's watches as it closes
		}
		data, _ := s.DB.Watches.WatcherPaths(c)
		if len(data) == 0 {
			continue
		}
		id := c.SessionID()
		for p := range data {
			out[id] = append(out[id], p)
		}
	}
	for id := range out {
		sort.Strings(out[id])
	}
	return out
}

// writeWatchSummary is wchs: WatchManager.toString of the data watches
// ("N connections watching P paths", "Total watches:W"), then a line end.
func writeWatchSummary(b *strings.Builder, s *member.Server) {
	byID := dataWatches(s)
	paths := map[string]bool{}
	total := 0
	for _, ps := range byID {
		total += len(ps)
		for _, p := range ps {
			paths[p] = true
		}
	}
	b.WriteString(strconv.Itoa(len(byID)) + " connections watching " + strconv.Itoa(len(paths)) + " paths\n")
	b.WriteString("Total watches:" + strconv.Itoa(total) + "\n")
}

// writeWatchesBySession is wchc: each watching session and its paths,
// then an empty line.
func writeWatchesBySession(b *strings.Builder, s *member.Server) {
	byID := dataWatches(s)
	for _, id := range sortedIDs(byID) {
		b.WriteString(hex(id) + "\n")
		for _, p := range byID[id] {
			b.WriteString("\t" + p + "\n")
		}
	}
	b.WriteString("\n")
}

// writeWatchesByPath is wchp: each watched path and its sessions, then an
// empty line.
func writeWatchesByPath(b *strings.Builder, s *member.Server) {
	byPath := map[string][]int64{}
	for id, ps := range dataWatches(s) {
		for _, p := range ps {
			byPath[p] = append(byPath[p], id)
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		ids := byPath[p]
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		b.WriteString(p + "\n")
		for _, id := range ids {
			b.WriteString("\t" + hex(id) + "\n")
		}
	}
	b.WriteString("\n")
}
