package admin

import (
	"sort"
	"strconv"
	"strings"

	"zkit/server/conn"
	"zkit/server/member"
	"zkit/server/tree"
	"zkit/server/version"
)

// connView is one client connection as the words show it.
type connView struct {
	c    *conn.Conn
	info conn.ConnInfo
	// fourLetter: the connection has no session and is still in its
	// handshake, i.e. it is asking a four-letter word. Apache shows such a
	// connection with interest ops 0 and its four bytes received.
	fourLetter bool
}

// connections returns the open client connections, oldest first (Apache
// lists them in hash order). Connections already closed, whose goroutines
// are still winding down, are left out, as Apache removes a connection from
// its set before closing its socket.
func connections(s *member.Server) []connView {
	cs := s.Clients.Conns()
	out := make([]connView, 0, len(cs))
	for _, c := range cs {
		if c.Closed() {
			continue
		}
		info := c.Info()
		out = append(out, connView{c: c, info: info, fourLetter: info.SessionID == 0 && c.Handshaking()})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].info, out[j].info
		if !a.Established.Equal(b.Established) {
			return a.Established.Before(b.Established)
		}
		return a.Remote < b.Remote
	})
	return out
}

// writeConnInfo is ServerCnxn.dumpConnectionInfo: the brief form (stat)
// or the full one (cons), without the line end.
func writeConnInfo(b *strings.Builder, v connView, brief bool) {
	in := v.info
	ops, recved := in.Interest, in.Received
	if v.fourLetter {
		ops, recved = 0, recved+1
	}
	b.WriteString(" " + javaAddr(in.Remote) + "[" + strconv.FormatInt(int64(ops), 16) + "](queued=")
	b.WriteString(strconv.Itoa(in.Queued) + ",recved=" + formatLong(recved) + ",sent=" + formatLong(in.Sent))
	if !brief && in.SessionID != 0 {
		b.WriteString(",sid=" + hex(in.SessionID) + ",lop=" + in.LastOp)
		b.WriteString(",est=" + formatLong(in.Established.UnixMilli()) + ",to=" + formatLong(int64(in.Timeout)))
		if in.LastCxid >= 0 {
			b.WriteString(",lcxid=" + hex(int64(in.LastCxid)))
		}
		lresp := int64(0)
		if !in.LastResp.IsZero() {
			lresp = elapsedMillis(in.LastResp)
		}
		total, count := v.c.LatencyTotals()
		avg := int64(0)
		if count > 0 {
			avg = total / count
		}
		b.WriteString(",lzxid=" + hex(in.LastZxid) + ",lresp=" + formatLong(lresp))
		b.WriteString(",llat=" + formatLong(in.LastLatency) + ",minlat=" + formatLong(in.MinLatency))
		b.WriteString(",avglat=" + formatLong(avg) + ",maxlat=" + formatLong(in.MaxLatency))
	}
	b.WriteString(")")
}

// writeStat is srvr (StatCommand) and, with clients, stat.
func writeStat(b *strings.Builder, s *member.Server, st status, clients bool) {
	b.WriteString("Zookeeper version: " + version.FullWithBuild() + "\n")
	if st.Mode == ModeReadOnly {
		b.WriteString("READ-ONLY mode; serving only read-only clients\n")
	}
	if clients {
		b.WriteString("Clients:\n")
		for _, v := range connections(s) {
			writeConnInfo(b, v, true)
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	lat := s.Clients.Stats.Latency()
	b.WriteString("Latency min/avg/max: " + formatLong(lat.Min) + "/" + javaDouble(avg4(lat.Total, lat.Count)) + "/" + formatLong(lat.Max) + "\n")
	b.WriteString("Received: " + formatLong(s.Clients.Stats.PacketsReceived.Load()) + "\n")
	b.WriteString("Sent: " + formatLong(s.Clients.Stats.PacketsSent.Load()) + "\n")
	b.WriteString("Connections: " + strconv.Itoa(len(connections(s))) + "\n")
	b.WriteString("Outstanding: " + formatLong(s.Proc.Stats.Outstanding.Load()) + "\n")
	b.WriteString("Zxid: " + hex(s.DB.LastZxid()) + "\n")
	b.WriteString("Mode: " + string(st.Mode) + "\n")
	b.WriteString("Node count: " + strconv.Itoa(nodeCount(s)) + "\n")
	if st.Mode == ModeLeader {
		if line, ok := quorumViewOf(s).proposalSizes(); ok {
			b.WriteString(line + "\n")
		}
	}
}

// nodeCount is DataTree.getNodeCount: Apache's node map holds the root
// twice ("" and "/"), so a fresh tree counts 5.
func nodeCount(s *member.Server) int {
	n := 0
	s.DB.Read(func(t *tree.Tree) { n = t.NodeCount() })
	return n + 1
}

// writeCons is cons (ConsCommand): every connection in full, one per line,
// then an empty line.
func writeCons(b *strings.Builder, s *member.Server) {
	for _, v := range connections(s) {
		writeConnInfo(b, v, false)
		b.WriteString("\n")
	}
	b.WriteString("\n")
}
