package zab

import "slices"

// election is the state of fast leader election (FastLeaderElection).
type election struct {
	clock      uint64             // logical clock: the election round
	proposal   Vote               // the vote this member currently pushes
	recv       map[uint64]Message // votes of this round, by sender (self included)
	outOf      map[uint64]Message // votes of members already following or leading
	finalizeAt int64              // tick to decide at, once a quorum agrees; 0 if none
	heardAt    int64              // tick of the last notification received
	interval   int                // resend interval, doubling while nothing is heard

	// The vote that made the current leader, reported to lookers.
	vote      Vote
	voteClock uint64

	// joins are learners' join requests received while looking.
	joins map[uint64]Message
}

// initialVote is a member's own candidacy; observers do not stand.
func (n *Node) initialVote() Vote {
	if !n.votes(n.cfg.ID) {
		return Vote{}
	}
	return Vote{Leader: n.cfg.ID, Zxid: n.log.last(), PeerEpoch: n.currentEpoch}
}

// wins reports whether v beats w; an empty vote (an observer's) loses to
// any other.
func wins(v, w Vote) bool {
	if w.Leader == 0 {
		return v.Leader != 0
	}
	if v.Leader == 0 {
		return false
	}
	return v.better(w)
}

func (n *Node) lookForLeader() {
	n.serving = false
	n.setRole(Looking, 0, false)
	e := &n.el
	e.clock++
	e.recv = map[uint64]Message{}
	e.outOf = map[uint64]Message{}
	e.joins = map[uint64]Message{}
	e.finalizeAt = 0
	e.heardAt = n.tick
	e.interval = n.cfg.NotifyInterval
	e.proposal = n.initialVote()
	n.recordOwnVote()
	n.sendNotifications()
	n.checkQuorum()
}

func (n *Node) recordOwnVote() {
	if n.votes(n.cfg.ID) {
		n.el.recv[n.cfg.ID] = Message{From: n.cfg.ID, Vote: n.el.proposal, State: Looking, ElectionEpoch: n.el.clock}
	}
}

func (n *Node) notification(to uint64) Message {
	return Message{Type: MsgNotification, To: to, Vote: n.el.proposal, State: Looking, ElectionEpoch: n.el.clock, Data: n.configData()}
}

// configData is the active configuration as notifications carry it, so
// that a member that missed a reconfig catches up while it looks
// (FastLeaderElection sends its QuorumVerifier with every notification).
func (n *Node) configData() []byte {
	cur := n.current()
	return cur.encode()
}

// sendNotifications tells every voter this member's vote.
func (n *Node) sendNotifications() {
	for _, id := range n.electors() {
		if id != n.cfg.ID {
			n.send(n.notification(id))
		}
	}
}

// votes reports whether id votes in elections: a voter of the active
// configuration or of the last seen one.
func (n *Node) votes(id uint64) bool {
	return n.cfg.isVoter(id) || (n.lastSeen != nil && n.lastSeen.m.isVoter(id))
}

// electors lists who votes, in id order.
func (n *Node) electors() []uint64 {
	out := slices.Clone(n.cfg.Voters)
	if n.lastSeen != nil {
		for _, id := range n.lastSeen.m.Voters {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out
}

// electionQuorum reports whether the senders that count (as count decides
// for one configuration) are a quorum of the active configuration and of
// the last seen one (FastLeaderElection's vote tracker holds both
// QuorumVerifiers while a reconfig is pending).
func (n *Node) electionQuorum(count func(m *Membership) int) bool {
	cur := n.current()
	if count(&cur) < cur.quorum() {
		return false
	}
	if ls := n.lastSeen; ls != nil && count(&ls.m) < ls.m.quorum() {
		return false
	}
	return true
}

// currentVote is what a member that is not looking answers lookers with.
func (n *Node) currentVote(to uint64) Message {
	return Message{Type: MsgNotification, To: to, Vote: n.el.vote, State: n.role, ElectionEpoch: n.el.voteClock, Data: n.configData()}
}

func (n *Node) tickElection() {
	e := &n.el
	if e.finalizeAt != 0 && n.tick >= e.finalizeAt {
		if n.termPredicate(e.recv, e.proposal, e.clock) {
			n.decide(e.proposal)
			return
		}
		e.finalizeAt = 0
	}
	if n.tick-e.heardAt >= int64(e.interval) {
		n.sendNotifications()
		e.heardAt = n.tick
		e.interval = min(e.interval*2, n.cfg.MaxNotify)
	}
}

func (n *Node) stepElection(m Message) {
	if mc, err := decodeMembership(m.Data); err == nil && mc.Version > n.cfg.Version {
		// Every configuration a member announces was committed.
		n.activate(mc)
	}
	if !n.votes(m.From) {
		// A non-voter (an observer, or a server joining or removed by a
		// reconfig) asks what we think; tell it (WorkerReceiver answers
		// any sender).
		n.replyVote(m.From)
		return
	}
	if n.role != Looking {
		if m.State == Looking {
			n.send(n.currentVote(m.From))
		}
		return
	}
	e := &n.el
	e.heardAt = n.tick
	if m.State == Looking && m.ElectionEpoch < e.clock {
		n.send(n.notification(m.From))
	}
	switch m.State {
	case Looking:
		n.electionLooking(m)
	case Following, Leading:
		n.electionSettled(m)
	}
}

func (n *Node) replyVote(to uint64) {
	if n.role == Looking {
		n.send(n.notification(to))
	} else {
		n.send(n.currentVote(to))
	}
}

// electionLooking handles the vote of another looking voter.
func (n *Node) electionLooking(m Message) {
	e := &n.el
	switch {
	case m.ElectionEpoch > e.clock:
		e.clock = m.ElectionEpoch
		e.recv = map[uint64]Message{}
		e.proposal = n.initialVote()
		if wins(m.Vote, e.proposal) {
			e.proposal = m.Vote
		}
		e.finalizeAt = 0
		n.recordOwnVote()
		n.sendNotifications()
	case m.ElectionEpoch < e.clock:
		return
	case wins(m.Vote, e.proposal):
		e.proposal = m.Vote
		e.finalizeAt = 0
		n.recordOwnVote()
		n.sendNotifications()
	}
	e.recv[m.From] = m
	n.checkQuorum()
}

// checkQuorum starts the finalize wait once a quorum backs our proposal.
func (n *Node) checkQuorum() {
	e := &n.el
	if e.finalizeAt == 0 && e.proposal.Leader != 0 && n.termPredicate(e.recv, e.proposal, e.clock) {
		e.finalizeAt = n.tick + int64(n.cfg.FinalizeWait)
		if n.cfg.FinalizeWait <= 0 {
			n.decide(e.proposal)
		}
	}
}

// electionSettled handles the vote of a member already following or
// leading: join it when a quorum agrees and the leader itself says it
// leads.
func (n *Node) electionSettled(m Message) {
	e := &n.el
	if m.ElectionEpoch == e.clock {
		e.recv[m.From] = m
		if n.termPredicate(e.recv, m.Vote, m.ElectionEpoch) && n.checkLeader(e.recv, m.Vote.Leader, m.ElectionEpoch) {
			n.decideAt(m.Vote, m.ElectionEpoch)
			return
		}
	}
	e.outOf[m.From] = m
	if n.settledQuorum(e.outOf, m.Vote) && n.checkLeader(e.outOf, m.Vote.Leader, m.ElectionEpoch) {
		e.clock = m.ElectionEpoch
		n.decideAt(m.Vote, m.ElectionEpoch)
	}
}

// termPredicate reports whether a quorum of voters cast vote v in round
// clock.
func (n *Node) termPredicate(votes map[uint64]Message, v Vote, clock uint64) bool {
	return n.electionQuorum(func(c *Membership) int {
		count := 0
		for id, m := range votes {
			if c.isVoter(id) && m.Vote == v && m.ElectionEpoch == clock {
				count++
			}
		}
		return count
	})
}

// settledQuorum reports whether a quorum of voters already follow or lead
// the leader of v in its epoch. Like Vote.equals for members out of the
// election, it compares only leader and epoch: members that joined at
// different times report different rounds and zxids (ZOOKEEPER-1732).
func (n *Node) settledQuorum(votes map[uint64]Message, v Vote) bool {
	return n.electionQuorum(func(c *Membership) int {
		count := 0
		for id, m := range votes {
			if c.isVoter(id) && m.Vote.Leader == v.Leader && m.Vote.PeerEpoch == v.PeerEpoch {
				count++
			}
		}
		return count
	})
}

// checkLeader guards against following a leader that is not leading:
// the leader's own notification must say LEADING (or we are the leader).
func (n *Node) checkLeader(votes map[uint64]Message, leader uint64, clock uint64) bool {
	if leader == n.cfg.ID {
		return n.el.clock == clock
	}
	m, ok := votes[leader]
	return ok && m.State == Leading
}

func (n *Node) decide(v Vote) { n.decideAt(v, n.el.clock) }

func (n *Node) decideAt(v Vote, clock uint64) {
	e := &n.el
	e.finalizeAt = 0
	e.vote, e.voteClock = v, clock
	switch {
	case v.Leader == n.cfg.ID:
		n.becomeLeader()
	case n.votes(n.cfg.ID):
		n.becomeLearner(v.Leader, Following)
	default:
		n.becomeLearner(v.Leader, Observing)
	}
}
