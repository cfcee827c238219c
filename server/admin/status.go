package admin

import (
	"sync/atomic"

	"zkit/server/member"
	"zkit/server/zab"
)

// Mode is the role a server plays, as srvr's "Mode:" line and mntr's
// zk_server_state name it (ServerStats.Provider.getState).
type Mode string

// The modes Apache reports.
const (
	ModeStandalone Mode = "standalone"
	ModeLeader     Mode = "leader"
	ModeFollower   Mode = "follower"
	ModeObserver   Mode = "observer"
	ModeReadOnly   Mode = "read-only"
)

// status is what the words need to know about the server's role. The
// formatters branch on it where Apache's output differs by role (leader:
// proposal sizes, quorum members: conf's quorum keys and mntr's peer_state,
// read-only: srvr's READ-ONLY line and isro).
type status struct {
	Mode Mode
	// Serving is false while the server does not serve clients (a quorum
	// member outside a quorum): most words then answer notServing.
	Serving bool
	// ServerID is conf's serverId: 0 on a standalone server, the myid of
	// a quorum member.
	ServerID int64
}

// statusOf returns the role of s: standalone, or an ensemble member's
// current role (no Mode while it is looking for a leader, as Apache's srvr
// has no Mode line then).
func statusOf(s *member.Server) status {
	if !s.IsQuorum() {
		return status{Mode: ModeStandalone, Serving: !s.Started.IsZero(), ServerID: 0}
	}
	st := s.Status()
	out := status{Serving: st.Serving, ServerID: int64(s.Options().Quorum.ID)}
	if st.ReadOnly {
		out.Mode, out.Serving = ModeReadOnly, true
		return out
	}
	if !st.Serving {
		return out
	}
	switch st.Role {
	case zab.Leading:
		out.Mode = ModeLeader
	case zab.Following:
		out.Mode = ModeFollower
	case zab.Observing:
		out.Mode = ModeObserver
	}
	return out
}

// defaultTraceMask is ZooTrace's default text trace level:
// CLIENT_REQUEST | SERVER_PACKET | SESSION | WARNING.
const defaultTraceMask = 306

// traceMask is what gtmk reports and stmk sets. zkit traces nothing by it;
// it is kept so that tools that set and read it back see their value.
var traceMask atomic.Int64

func init() { traceMask.Store(defaultTraceMask) }

// resetServerStats is srst: ServerStats.reset plus every ServerMetrics
// counter and summary zkit keeps, and a leader's proposal sizes. Gauges
// (outstanding requests) stay.
func resetServerStats(s *member.Server) {
	s.Clients.Stats.Reset()
	s.Proc.Stats.Received.Store(0)
	s.Proc.Stats.Sent.Store(0)
	// A leader's proposal sizes (and count), and the fsync summary.
	s.ResetQuorumStats()
	resetFsync(s.Store())
}
