package conn

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"zkit/server/proto"
)

// ServerStats are the server-wide counters behind srvr, stat and mntr
// (ServerStats in ZooKeeper).
type ServerStats struct {
	PacketsReceived atomic.Int64
	PacketsSent     atomic.Int64

	latMu    sync.Mutex
	minLat   int64
	maxLat   int64
	totalLat int64
	count    int64
}

// Latency is a snapshot of request latencies in ms.
type Latency struct {
	Min, Max, Count, Total int64
}

// Avg returns the mean latency in ms.
func (l Latency) Avg() float64 {
	if l.Count == 0 {
		return 0
	}
	return float64(l.Total) / float64(l.Count)
}

func (s *ServerStats) addLatency(ms int64) {
	s.latMu.Lock()
	defer s.latMu.Unlock()
	if s.count == 0 || ms < s.minLat {
		s.minLat = ms
	}
	if ms > s.maxLat {
		s.maxLat = ms
	}
	s.totalLat += ms
	s.count++
}

// Latency returns the latency counters.
func (s *ServerStats) Latency() Latency {
	s.latMu.Lock()
	defer s.latMu.Unlock()
	return Latency{Min: s.minLat, Max: s.maxLat, Count: s.count, Total: s.totalLat}
}

// Reset clears the counters (srst).
func (s *ServerStats) Reset() {
	s.PacketsReceived.Store(0)
	s.PacketsSent.Store(0)
	s.latMu.Lock()
	s.minLat, s.maxLat, s.totalLat, s.count = 0, 0, 0, 0
	s.latMu.Unlock()
}

// connStats are one connection's counters (the cons 4lw).
type connStats struct {
	mu          sync.Mutex
	established time.Time
	recvd, sent int64
	lastOp      string
	lastCxid    int32
	lastZxid    int64
	lastResp    time.Time
	lastLat     int64
	minLat      int64
	maxLat      int64
	totalLat    int64
	latCount    int64
	pending     []time.Time // receive times of requests awaiting replies, in order
}

// opNames are the four-letter op names cons shows as "lop".
var lopNames = map[proto.Op]string{
	proto.OpPing: "PING", proto.OpCreateSession: "SESS", proto.OpMulti: "MULT",
	proto.OpMultiRead: "MLTR", proto.OpCreate: "CREA", proto.OpCreate2: "CREA",
	proto.OpCreateTTL: "CREA", proto.OpCreateContainer: "CREA", proto.OpDelete: "DELE",
	proto.OpDeleteContainer: "DELE", proto.OpSetData: "SETD", proto.OpReconfig: "RECO",
	proto.OpSetACL: "SETA", proto.OpCloseSession: "CLOS", proto.OpSync: "SYNC",
	proto.OpCheck: "CHEC", proto.OpExists: "EXIS", proto.OpGetData: "GETD",
	proto.OpSetWatches: "SETW", proto.OpSetWatches2: "STW2", proto.OpAddWatch: "ADDW",
	proto.OpGetACL: "GETA", proto.OpGetChildren: "GETC", proto.OpGetChildren2: "GETC",
	proto.OpGetAllChildrenNumber: "GETACN", proto.OpCheckWatches: "CHKW",
	proto.OpRemoveWatches: "REMW", proto.OpWhoAmI: "HOMI", proto.OpGetEphemerals: "GETE",
}

func (s *connStats) received(xid int32, op proto.Op) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recvd++
	if op != proto.OpAuth && op != proto.OpSASL {
		s.pending = append(s.pending, time.Now())
	}
	if name, ok := lopNames[op]; ok {
		s.lastOp = name
	}
	if xid > 0 {
		s.lastCxid = xid
	}
}

func (s *connStats) replied(xid int32, zxid int64, srv *Server) {
	now := time.Now()
	s.mu.Lock()
	s.sent++
	s.lastZxid = zxid
	s.lastResp = now
	var lat int64 = -1
	if len(s.pending) > 0 && xid != proto.XidAuth {
		lat = now.Sub(s.pending[0]).Milliseconds()
		s.pending = s.pending[1:]
		s.lastLat = lat
		if s.latCount == 0 || lat < s.minLat {
			s.minLat = lat
		}
		if lat > s.maxLat {
			s.maxLat = lat
		}
		s.totalLat += lat
		s.latCount++
	}
	s.mu.Unlock()
	srv.Stats.PacketsSent.Add(1)
	if lat >= 0 {
		srv.Stats.addLatency(lat)
	}
}

// ConnInfo describes one connection for cons and dump.
type ConnInfo struct {
	Remote      string
	Interest    int
	Queued      int
	Received    int64
	Sent        int64
	SessionID   int64
	LastOp      string
	Established time.Time
	Timeout     int32
	LastCxid    int32
	LastZxid    int64
	LastResp    time.Time
	LastLatency int64
	MinLatency  int64
	AvgLatency  int64
	MaxLatency  int64
}

// Info returns the connection's counters.
func (c *Conn) Info() ConnInfo {
	s := &c.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	avg := int64(0)
	if s.latCount > 0 {
		avg = int64(math.Round(float64(s.totalLat) / float64(s.latCount)))
	}
	lop := s.lastOp
	if lop == "" {
		lop = "NA"
	}
	return ConnInfo{
		Remote: c.nc.RemoteAddr().String(), Interest: 1, Queued: c.fifo.Pending(),
		Received: s.recvd, Sent: s.sent, SessionID: c.session.Load(), LastOp: lop,
		Established: s.established, Timeout: c.timeout.Load(), LastCxid: s.lastCxid,
		LastZxid: s.lastZxid, LastResp: s.lastResp, LastLatency: s.lastLat,
		MinLatency: s.minLat, AvgLatency: avg, MaxLatency: s.maxLat,
	}
}

// ResetStats clears the connection's counters (crst).
func (c *Conn) ResetStats() {
	s := &c.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recvd, s.sent = 0, 0
	s.lastOp, s.lastCxid, s.lastZxid = "NA", -1, -1
	s.lastResp = time.Time{}
	s.lastLat, s.minLat, s.maxLat, s.totalLat, s.latCount = 0, 0, 0, 0, 0
}
