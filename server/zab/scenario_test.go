package zab

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// quietSim is a simulator with a perfect network and no random faults, for
// scripted scenarios.
func quietSim(t *testing.T, voters int) *sim {
	s := newSim(t, 1, voters, 0)
	s.drop, s.dup, s.reorder, s.maxDelay = 0, 0, 0, 1
	s.quiet = true
	return s
}

func (s *sim) runUntil(t *testing.T, max int, cond func() bool) {
	t.Helper()
	for i := 0; i < max; i++ {
		if cond() {
			return
		}
		s.step(false)
	}
	require.True(t, cond(), "condition not reached in %d rounds", max)
}

func (s *sim) servingLeader() *simMember {
	for _, id := range s.ids {
		if m := s.members[id]; m.up && m.role == Leading && m.serving {
			return m
		}
	}
	return nil
}

func (s *sim) isolate(id uint64) {
	for _, b := range s.ids {
		if b != id {
			s.cut[[2]uint64{id, b}], s.cut[[2]uint64{b, id}] = true, true
		}
	}
}

func (s *sim) commitAt(t *testing.T, m *simMember, n int) {
	t.Helper()
	var ps []Proposal
	for i := 0; i < n; i++ {
		c := Counter(m.node.LastZxid()) + 1 + uint32(i)
		if Epoch(m.node.LastZxid()) != m.epoch {
			c = 1 + uint32(i)
		}
		ps = append(ps, Proposal{Entry: &Entry{Zxid: Zxid(m.epoch, c)}})
	}
	require.NoError(t, m.node.Propose(ps...))
	s.process(m)
}

// A leader cut off from the others, with a long syncLimit, still believes
// it leads while the others elect a new leader and commit. A sync it is
// asked for must not be answered: answering it would let a client read
// state older than a write already acknowledged elsewhere.
func TestDeposedLeaderDoesNotAnswerSync(t *testing.T) {
	s := quietSim(t, 3)
	s.runUntil(t, 200, func() bool { return s.allServing() })
	leader := s.servingLeader()
	require.NotNil(t, leader)
	leader.node.cfg.SyncLimit = 1000 // it will not notice it lost its quorum
	s.isolate(leader.id)
	s.runUntil(t, 300, func() bool {
		for _, id := range s.ids {
			m := s.members[id]
			if m != leader && m.role == Leading && m.serving {
				return true
			}
		}
		return false
	})
	var fresh *simMember
	for _, id := range s.ids {
		if m := s.members[id]; m != leader && m.role == Leading && m.serving {
			fresh = m
		}
	}
	s.commitAt(t, fresh, 1)
	s.runUntil(t, 50, func() bool { return len(s.ackedList) > 0 && s.ackedList[len(s.ackedList)-1] == fresh.node.LastZxid() })
	require.True(t, leader.serving, "the cut-off leader still believes it leads")

	before := s.syncs
	require.NoError(t, leader.node.Propose(Proposal{Marker: syncMarker{before: len(s.ackedList)}, Confirm: true}))
	s.process(leader)
	for i := 0; i < 50; i++ {
		s.step(false)
	}
	require.Equal(t, before, s.syncs, "a deposed leader answered a sync")
	require.Empty(t, s.failures)
}

// Syncs on a healthy leader are answered within a round trip, in order
// with the entries proposed before them.
func TestSyncAnsweredAfterPriorCommits(t *testing.T) {
	s := quietSim(t, 3)
	s.runUntil(t, 200, func() bool { return s.allServing() })
	l := s.servingLeader()
	s.commitAt(t, l, 3)
	require.NoError(t, l.node.Propose(Proposal{Marker: syncMarker{before: len(s.ackedList)}, Confirm: true}))
	s.process(l)
	s.runUntil(t, 20, func() bool { return s.syncs == 1 })
	require.Empty(t, s.failures)
	require.Len(t, s.ackedList, 3)
}
