package quorum

import (
	"time"

	"zkit/server/zab"
)

// Metrics is a snapshot of what a member's protocol tells the four-letter
// words (mntr's quorum gauges, srvr's proposal sizes).
type Metrics struct {
	Role    zab.Role
	Leader  uint64 // the leader being led or followed, 0 while looking
	Serving bool
	Phase   zab.Phase
	// QuorumSize is the number of voting members of the active
	// configuration (QuorumPeer.getQuorumSize).
	QuorumSize int
	// Leading is the leader's view of its learners; nil unless leading.
	Leading *LeaderMetrics
}

// LeaderMetrics are a leader's gauges.
type LeaderMetrics struct {
	zab.LeaderInfo
	// Uptime is how long ago the epoch was established (Leader.getUptime),
	// at the resolution of the protocol clock.
	Uptime time.Duration
}

// metricsTimeout bounds how long Metrics waits for a busy loop.
const metricsTimeout = 2 * time.Second

// Metrics returns the member's protocol state, read on its loop; ok is
// false when the loop has stopped or did not answer in time.
func (p *Peer) Metrics() (m Metrics, ok bool) {
	reply := make(chan Metrics, 1)
	if !p.onLoop(func() {
		out := Metrics{
			Role: p.node.Role(), Leader: p.node.Leader(), Serving: p.node.Serving(),
			Phase: p.node.Phase(), QuorumSize: len(p.node.Membership().Voters),
		}
		if info, ok := p.node.LeaderInfo(); ok {
			out.Leading = &LeaderMetrics{LeaderInfo: info, Uptime: time.Duration(info.EstablishedTicks) * p.cfg.Step}
		}
		reply <- out
	}) {
		return Metrics{}, false
	}
	select {
	case m = <-reply:
		return m, true
	case <-p.done:
	case <-time.After(metricsTimeout):
	}
	return Metrics{}, false
}

// ResetProposalStats forgets a leader's proposal sizes (srst).
func (p *Peer) ResetProposalStats() {
	p.onLoop(func() { p.node.ResetProposalStats() })
}

// onLoop queues f for the loop goroutine without blocking for long; false
// when the loop is gone or its queue stays full.
func (p *Peer) onLoop(f func()) bool {
	select {
	case <-p.done:
		return false
	default:
	}
	select {
	case p.inputs <- f:
		return true
	case <-p.stop:
	case <-time.After(metricsTimeout):
	}
	return false
}
