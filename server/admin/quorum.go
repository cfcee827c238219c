package admin

import (
	"cmp"
	"net"
	"slices"
	"strconv"
	"strings"

	"zkit/server/config"
	"zkit/server/member"
	"zkit/server/quorum"
	"zkit/server/zab"
)

// What an ensemble member adds to the words: conf's quorum keys, mntr's
// peer_state and role gauges, srvr's proposal sizes on a leader.

// writeQuorumConf is QuorumZooKeeperServer.dumpConf's part: the limits,
// the election algorithm (3, fast leader election, the only one), this
// member's election and quorum ports, its LearnerType ordinal, then
// "membership: " and the quorum verifier's text, whose last line
// (version=) has no LF. A read-only server stops after peerType
// (ReadOnlyZooKeeperServer.dumpConf).
func writeQuorumConf(b *strings.Builder, cfg *config.Config, s *member.Server, readOnly bool) {
	q := s.Options().Quorum
	kv := func(k, v string) { b.WriteString(k + "=" + v + "\n") }
	kv("initLimit", strconv.Itoa(q.InitLimit))
	kv("syncLimit", strconv.Itoa(q.SyncLimit))
	kv("electionAlg", "3")
	addrs := s.QuorumAddrs()
	kv("electionPort", portOf(addrs.Election))
	kv("quorumPort", portOf(addrs.Quorum))
	peerType := "0" // LearnerType.PARTICIPANT
	if slices.Contains(q.Observers, q.ID) {
		peerType = "1" // LearnerType.OBSERVER
	}
	kv("peerType", peerType)
	if readOnly {
		return
	}
	b.WriteString("membership: \n")
	servers, version := membership(cfg, s)
	for _, srv := range servers {
		b.WriteString("server." + formatLong(srv.ID) + "=" + srv.String() + "\n")
	}
	b.WriteString("version=" + strconv.FormatUint(uint64(version), 16))
}

// membership returns the ensemble's server lines in id order (QuorumMaj's
// getAllMembers, a HashMap by id) and the config version: those of the
// zoo.cfg the member was started from, or, for a member configured in
// code (server/ensemble, zkit member), lines made from its options as a
// classic "server.N=host:quorumPort:electionPort" config would give them
// (no client address part), version 0.
func membership(cfg *config.Config, s *member.Server) ([]config.Server, int64) {
	if live := s.Membership(); len(live.Servers) > 0 {
		// The active configuration, reconfigs included (the
		// QuorumVerifier conf prints).
		return live.Servers, live.Version
	}
	if cfg != nil && len(cfg.Quorum.Servers) > 0 {
		return cfg.Quorum.Servers, cfg.Quorum.Version
	}
	q := s.Options().Quorum
	var out []config.Server
	add := func(id uint64, observer bool) {
		a := q.Peers[id]
		if id == q.ID {
			a = s.QuorumAddrs()
		}
		host, qport := splitHostPort(a.Quorum)
		_, eport := splitHostPort(a.Election)
		out = append(out, config.Server{ID: int64(id), Observer: observer,
			Addrs: []config.PeerAddr{{Host: host, QuorumPort: qport, ElectionPort: eport}}})
	}
	for _, id := range q.Voters {
		add(id, false)
	}
	for _, id := range q.Observers {
		add(id, true)
	}
	slices.SortFunc(out, func(a, b config.Server) int { return cmp.Compare(a.ID, b.ID) })
	return out, 0
}

func splitHostPort(addr string) (string, int) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

func portOf(addr string) string {
	_, p := splitHostPort(addr)
	return strconv.Itoa(p)
}

// quorumView is an ensemble member's protocol state as the words need it.
type quorumView struct {
	m  quorum.Metrics
	ok bool // m came from the protocol (else only the role is known)
}

func quorumViewOf(s *member.Server) quorumView {
	if m, ok := s.QuorumMetrics(); ok {
		return quorumView{m: m, ok: true}
	}
	st := s.Status()
	m := quorum.Metrics{Role: st.Role, Leader: st.Leader, Serving: st.Serving, QuorumSize: len(s.Options().Quorum.Voters)}
	if st.Serving {
		m.Phase = zab.PhaseBroadcast
	}
	return quorumView{m: m}
}

// peerState is QuorumPeer.getDetailedPeerState: the peer state, then the
// ZAB phase unless electing. (Its third part, the sync mode, is shown only
// while a learner synchronizes, when mntr answers "not serving".)
func (v quorumView) peerState() string {
	state := "looking"
	switch v.m.Role {
	case zab.Leading:
		state = "leading"
	case zab.Following:
		state = "following"
	case zab.Observing:
		state = "observing"
	}
	if v.m.Phase != zab.PhaseElection {
		state += " - " + v.m.Phase.String()
	}
	return state
}

// addGauges adds the quorum gauges of the member's role to mntr's gauge
// values: quorum_size (QuorumZooKeeperServer) and, on a leader, the
// gauges of LeaderZooKeeperServer.registerMetrics. A leader's gauges are
// absent when the protocol did not answer (Apache's gauges return null
// without a Leader, and null gauges are not printed). A follower's
// synced_observers is null without observer masters, which zkit does not
// have: absent too.
func (v quorumView) addGauges(g map[string]string) {
	g["quorum_size"] = strconv.Itoa(v.m.QuorumSize)
	l := v.m.Leading
	if l == nil {
		return
	}
	i := strconv.Itoa
	g["learners"] = i(l.Learners)
	g["synced_followers"] = i(l.SyncedFollowers)
	// Followers that do not vote exist only after a reconfig, which zkit
	// does not do; the leader refuses a follower that is not a voter.
	g["synced_non_voting_followers"] = "0"
	g["synced_observers"] = i(l.SyncedObservers)
	g["pending_syncs"] = i(l.PendingSyncs)
	g["leader_uptime"] = formatLong(l.Uptime.Milliseconds())
	g["last_proposal_size"] = i(l.LastProposalSize)
	g["max_proposal_size"] = i(l.MaxProposalSize)
	g["min_proposal_size"] = i(l.MinProposalSize)
}

// proposalSizes is srvr's leader line, BufferStats.toString.
func (v quorumView) proposalSizes() (string, bool) {
	l := v.m.Leading
	if l == nil {
		return "", false
	}
	i := strconv.Itoa
	return "Proposal sizes last/min/max: " + i(l.LastProposalSize) + "/" + i(l.MinProposalSize) + "/" + i(l.MaxProposalSize), true
}
