package member

import "zkit/server/quorum"

// QuorumMetrics returns an ensemble member's protocol gauges (role, phase,
// a leader's learners and proposal sizes) for the four-letter words; ok is
// false on a standalone server or when the protocol does not answer.
func (s *Server) QuorumMetrics() (quorum.Metrics, bool) {
	if s.peer == nil {
		return quorum.Metrics{}, false
	}
	return s.peer.Metrics()
}

// ResetQuorumStats forgets a leader's proposal sizes (srst).
func (s *Server) ResetQuorumStats() {
	if s.peer != nil {
		s.peer.ResetProposalStats()
	}
}
