package zab

import (
	"encoding/binary"
	"errors"
	"slices"
)

// Membership is an ensemble configuration: who votes, who observes, and
// its version (the zxid of the reconfig that made it, as ZooKeeper's
// QuorumVerifier version).
type Membership struct {
	Version   int64
	Voters    []uint64
	Observers []uint64
	// Detail is the driver's own description (addresses, say); the
	// protocol carries it along without reading it, and does not send it.
	Detail any
}

func (m *Membership) isVoter(id uint64) bool    { return slices.Contains(m.Voters, id) }
func (m *Membership) isObserver(id uint64) bool { return slices.Contains(m.Observers, id) }
func (m *Membership) quorum() int               { return len(m.Voters)/2 + 1 }

func (m *Membership) clone() Membership {
	return Membership{Version: m.Version, Voters: slices.Clone(m.Voters), Observers: slices.Clone(m.Observers), Detail: m.Detail}
}

// encode is the membership as NEWLEADER carries it: version, then the
// voters and the observers, each a count and ids.
func (m *Membership) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(m.Version))
	for _, ids := range [][]uint64{m.Voters, m.Observers} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(ids)))
		for _, id := range ids {
			b = binary.BigEndian.AppendUint64(b, id)
		}
	}
	return b
}

var errBadMembership = errors.New("zab: malformed membership")

func decodeMembership(b []byte) (Membership, error) {
	var m Membership
	if len(b) < 8 {
		return m, errBadMembership
	}
	m.Version, b = int64(binary.BigEndian.Uint64(b)), b[8:]
	for _, ids := range []*[]uint64{&m.Voters, &m.Observers} {
		if len(b) < 4 {
			return m, errBadMembership
		}
		n := int(binary.BigEndian.Uint32(b))
		b = b[4:]
		if n < 0 || len(b) < 8*n {
			return m, errBadMembership
		}
		for i := 0; i < n; i++ {
			*ids = append(*ids, binary.BigEndian.Uint64(b[8*i:]))
		}
		b = b[8*n:]
	}
	return m, nil
}

// Membership returns the active configuration.
func (n *Node) Membership() Membership {
	return Membership{Version: n.cfg.Version, Voters: slices.Clone(n.cfg.Voters), Observers: slices.Clone(n.cfg.Observers)}
}

// activate makes m the active configuration if it is newer (a committed
// reconfig, or the configuration a new leader announced). A learner whose
// kind changed (follower to observer, or back) reconnects as the other
// kind; a removed learner goes on following without a vote, as ZooKeeper's
// does. A leader drops the learners the new configuration does not keep
// as they are, and steps down if it no longer votes.
func (n *Node) activate(m Membership) {
	if m.Version <= n.cfg.Version {
		return
	}
	wasVoter := n.cfg.isVoter(n.cfg.ID)
	n.cfg.Version, n.cfg.Voters, n.cfg.Observers = m.Version, slices.Clone(m.Voters), slices.Clone(m.Observers)
	if n.lastSeen != nil && n.lastSeen.m.Version <= m.Version {
		n.lastSeen = nil
	}
	c := m.clone()
	n.rd.Membership = &c
	switch n.role {
	case Leading:
		if !m.isVoter(n.cfg.ID) {
			n.stepDown = true
			return
		}
		for _, p := range n.ld.sorted() {
			if (p.observer && m.isVoter(p.id)) || (!p.observer && m.isObserver(p.id)) {
				n.dropLearner(p)
			}
		}
	case Following:
		if m.isObserver(n.cfg.ID) {
			n.stepDown = true
		}
	case Observing:
		if m.isVoter(n.cfg.ID) && !wasVoter {
			n.stepDown = true
		}
	case Looking:
		// Votes are counted over the new voters from a fresh round, as
		// FastLeaderElection restarts when it learns a newer QuorumVerifier.
		n.lookForLeader()
	}
}

// settle finishes what an input left pending: a member whose role the new
// configuration changed looks for its leader again, and a looking member
// restarts its election over the new voters.
func (n *Node) settle() {
	if !n.stepDown {
		return
	}
	n.stepDown = false
	if n.role != Looking {
		n.backToLooking()
	}
}

// pendingConfig is a reconfig proposed but not committed: from its zxid
// on, commits need a quorum of both configurations (ZooKeeper's
// Proposal.hasAllQuorums over the last committed and the last seen
// QuorumVerifier).
type pendingConfig struct {
	zxid int64
	m    Membership
}

// PendingConfig reports a reconfig proposed and not yet committed, on a
// leader (ZooKeeper's ReconfigInProgress check).
func (n *Node) PendingConfig() (Membership, bool) {
	if n.lastSeen == nil {
		return Membership{}, false
	}
	return n.lastSeen.m.clone(), true
}

// commitLastSeen activates the last seen configuration once the commit
// point passes it: needed when its entry was applied before a restart and
// is therefore not emitted again.
func (n *Node) commitLastSeen(z int64) {
	if ls := n.lastSeen; ls != nil && ls.zxid <= z {
		n.activate(ls.m)
	}
}

// SyncedFollowers returns the voting learners in broadcast with this
// leader, in id order (Leader.isQuorumSynced counts them and the leader).
func (n *Node) SyncedFollowers() []uint64 {
	if n.ld == nil || !n.ld.established {
		return nil
	}
	return n.AppendSyncedFollowers(nil)
}

// AppendSyncedFollowers appends SyncedFollowers to dst.
func (n *Node) AppendSyncedFollowers(dst []uint64) []uint64 {
	if n.ld == nil || !n.ld.established {
		return dst
	}
	for _, p := range n.ld.sorted() {
		if !p.observer && p.phase == lpSynced {
			dst = append(dst, p.id)
		}
	}
	return dst
}

// lastConfigIn returns the newest configuration among the log entries
// after zxid from, if any.
func (n *Node) lastConfigIn(from int64) *pendingConfig {
	var out *pendingConfig
	for _, e := range n.log.after(from) {
		if e.Config != nil && e.Config.Version > n.cfg.Version {
			out = &pendingConfig{zxid: e.Zxid, m: e.Config.clone()}
		}
	}
	return out
}

// ackedBy is the highest zxid logged by a quorum of m's voters, or -1.
func (n *Node) ackedBy(m *Membership) int64 {
	var buf [16]int64
	acks := buf[:0]
	if m.isVoter(n.cfg.ID) {
		acks = append(acks, n.persisted)
	}
	for _, p := range n.ld.sorted() {
		if !p.observer && p.phase >= lpAckedNewLeader && m.isVoter(p.id) {
			acks = append(acks, p.acked)
		}
	}
	q := m.quorum()
	if len(acks) < q {
		return -1
	}
	slices.Sort(acks)
	return acks[len(acks)-q]
}

// countIn counts this member (if it votes in m) and the voting learners of
// m that satisfy ok.
func (n *Node) countIn(m *Membership, ok func(p *peer) bool) int {
	return n.countLinks(m, func(p *peer) bool { return !p.observer && ok(p) })
}

// countLinks is countIn over learners of either kind of link: a server
// that still observes but votes in m counts by its id.
func (n *Node) countLinks(m *Membership, ok func(p *peer) bool) int {
	c := 0
	if m.isVoter(n.cfg.ID) {
		c++
	}
	for _, p := range n.ld.sorted() {
		if m.isVoter(p.id) && ok(p) {
			c++
		}
	}
	return c
}

// hasQuorums reports whether the voters satisfying ok form a quorum of the
// active configuration and, while a reconfig is pending, of the new one.
func (n *Node) hasQuorums(ok func(p *peer) bool) bool {
	return n.quorumsBy(func(m *Membership) int { return n.countIn(m, ok) })
}

func (n *Node) quorumsBy(count func(m *Membership) int) bool {
	cur := n.current()
	if count(&cur) < cur.quorum() {
		return false
	}
	if pc := n.lastSeen; pc != nil && count(&pc.m) < pc.m.quorum() {
		return false
	}
	return true
}

func (n *Node) current() Membership {
	return Membership{Version: n.cfg.Version, Voters: n.cfg.Voters, Observers: n.cfg.Observers}
}
