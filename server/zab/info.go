package zab

// Read-only views of a node for monitoring (mntr, srvr). Like every other
// method of Node they must be called on the goroutine that drives it.

// Phase is the ZAB phase a member is in (QuorumPeer.ZabState).
type Phase int

// ZAB phases.
const (
	PhaseElection        Phase = iota // looking for a leader
	PhaseDiscovery                    // leader: gathering a quorum and deciding the epoch; learner: connecting, acknowledging it
	PhaseSynchronization              // bringing logs in line (DIFF/TRUNC/SNAP up to NEWLEADER's acknowledgement)
	PhaseBroadcast                    // established: proposals and commits flow
)

func (p Phase) String() string {
	switch p {
	case PhaseElection:
		return "election"
	case PhaseDiscovery:
		return "discovery"
	case PhaseSynchronization:
		return "synchronization"
	case PhaseBroadcast:
		return "broadcast"
	}
	return "unknown"
}

// Phase returns the phase of the node's current role, as ZooKeeper's
// Leader, Follower and Observer set it.
func (n *Node) Phase() Phase {
	switch {
	case n.role == Leading && n.ld != nil:
		switch {
		case n.ld.established:
			return PhaseBroadcast
		case n.ld.ackedEpochQ:
			return PhaseSynchronization
		}
		return PhaseDiscovery
	case (n.role == Following || n.role == Observing) && n.ln != nil:
		switch {
		case n.ln.phase == lnServing:
			return PhaseBroadcast
		case n.ln.phase >= lnSyncing:
			return PhaseSynchronization
		}
		return PhaseDiscovery
	}
	return PhaseElection
}

// LeaderInfo is what a leader knows of its learners: the values of
// ZooKeeper's leader gauges (mntr's zk_learners, zk_synced_followers, ...).
type LeaderInfo struct {
	// Learners counts the learners with a link to this leader, in any
	// phase (Leader.getLearners: one LearnerHandler each).
	Learners int
	// SyncedFollowers counts the voting followers proposals are sent to:
	// their sync has been sent (Leader.getForwardingFollowers).
	SyncedFollowers int
	// SyncedObservers counts the observers that get INFORMs
	// (Leader.getObservingLearners).
	SyncedObservers int
	// PendingSyncs counts the commit points that forwarded syncs wait for
	// (Leader.getNumPendingSyncs: the keys of pendingSyncs).
	PendingSyncs int
	// EstablishedTicks is how many ticks ago the epoch was established
	// (Leader.getUptime); 0 before.
	EstablishedTicks int64
	// Proposals counts the entries proposed since the epoch was decided or
	// the last ResetProposalStats; the sizes are their encoded lengths
	// in bytes (Leader.getProposalStats), -1 before the first.
	Proposals        int64
	LastProposalSize int
	MinProposalSize  int
	MaxProposalSize  int
}

// LeaderInfo returns the leader's view of its learners; ok is false when
// the node does not lead.
func (n *Node) LeaderInfo() (info LeaderInfo, ok bool) {
	if n.role != Leading || n.ld == nil {
		return LeaderInfo{}, false
	}
	for _, p := range n.ld.learners {
		info.Learners++
		if p.phase < lpSyncing {
			continue
		}
		if p.observer {
			info.SyncedObservers++
		} else {
			info.SyncedFollowers++
		}
	}
	if n.ld.established {
		info.EstablishedTicks = n.tick - n.ld.establishedTick
	}
	ps := n.ld.proposals
	info.Proposals = ps.count
	info.LastProposalSize, info.MinProposalSize, info.MaxProposalSize = -1, -1, -1
	if ps.count > 0 {
		info.LastProposalSize, info.MinProposalSize, info.MaxProposalSize = ps.last, ps.min, ps.max
	}
	seen := map[int64]bool{}
	for _, mk := range n.ld.markers {
		if mk.syncFor != 0 && !seen[mk.pos] {
			seen[mk.pos] = true
			info.PendingSyncs++
		}
	}
	return info, true
}

// ResetProposalStats forgets the proposal sizes a leader has seen
// (BufferStats.reset, from srst).
func (n *Node) ResetProposalStats() {
	if n.ld != nil {
		n.ld.proposals = proposalStats{}
	}
}

// proposalStats are a leader's proposal sizes (BufferStats).
type proposalStats struct {
	count          int64
	last, min, max int
}

func (s *proposalStats) add(size int) {
	if s.count == 0 || size < s.min {
		s.min = size
	}
	if s.count == 0 || size > s.max {
		s.max = size
	}
	s.last = size
	s.count++
}
