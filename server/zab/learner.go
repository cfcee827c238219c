package zab

// lnPhase is how far a learner has come with its leader.
type lnPhase int

const (
	lnConnecting     lnPhase = iota // FOLLOWERINFO sent
	lnEpochAcked                    // ACKEPOCH sent
	lnSyncing                       // receiving the sync stream
	lnNewLeader                     // NEWLEADER received; its ACK waits for the log to be durable
	lnAckedNewLeader                // NEWLEADER acknowledged; waiting for UPTODATE
	lnServing                       // UPTODATE received
)

// learnerState is the state of a follower or observer (Learner).
type learnerState struct {
	link      uint64
	sendSeq   uint64
	recvSeq   uint64
	phase     lnPhase
	epoch     uint32
	heard     int64
	newLeader int64 // the NEWLEADER zxid to acknowledge
	syncEnd   int64 // the log end NEWLEADER closes
	acked     int64
	sentAt    int64 // tick of the last connection attempt
	retry     int64 // ticks to wait for LEADERINFO before the next attempt
}

func (n *Node) becomeLearner(leader uint64, role Role) {
	n.setRole(role, leader, false)
	// Join requests that came while looking were for a leader we are not.
	for _, id := range sortedIDs(n.el.joins) {
		j := n.el.joins[id]
		n.send(Message{Type: MsgDisconnect, To: j.From, Link: j.Link})
	}
	n.el.joins = map[uint64]Message{}
	n.ln = &learnerState{heard: n.tick, retry: int64(n.cfg.ConnectRetry)}
	n.connect()
}

// connect opens a new link to the leader with FOLLOWERINFO (or
// OBSERVERINFO). It is repeated until the leader answers, since the
// leader may still be finishing its own election (Learner.connectToLeader
// retries likewise).
func (n *Node) connect() {
	ln := n.ln
	n.seq++
	ln.link = n.linkID()
	ln.sendSeq, ln.recvSeq = 0, 0
	ln.sentAt = n.tick
	typ := MsgFollowerInfo
	if n.role == Observing {
		typ = MsgObserverInfo
	}
	n.sendToLeader(Message{Type: typ, Zxid: Zxid(n.acceptedEpoch, 0)})
}

// linkID is unique per member, incarnation and connection attempt.
func (n *Node) linkID() uint64 {
	return n.cfg.ID<<48 | (n.incarnation&0xffff)<<32 | (n.seq & 0xffffffff)
}

func (n *Node) sendToLeader(m Message) {
	ln := n.ln
	ln.sendSeq++
	m.To, m.Link, m.Seq = n.leaderID, ln.link, ln.sendSeq
	n.send(m)
}

func (n *Node) tickLearner() {
	if n.ln.phase == lnConnecting && n.tick-n.ln.sentAt >= n.ln.retry {
		// Each attempt waits twice as long, so that a slow round trip
		// cannot keep every answer arriving for a link already replaced.
		n.ln.retry = min(2*n.ln.retry, int64(n.cfg.InitLimit))
		n.connect()
	}
	limit := int64(n.cfg.InitLimit)
	if n.ln.phase == lnServing {
		limit = int64(n.cfg.SyncLimit)
	}
	if n.tick-n.ln.heard > limit {
		n.backToLooking()
	}
}

func (n *Node) stepLearner(m Message) {
	ln := n.ln
	if m.From != n.leaderID || m.Link != ln.link {
		if m.Type != MsgDisconnect && m.Link != 0 && m.From != n.leaderID {
			n.send(Message{Type: MsgDisconnect, To: m.From, Link: m.Link})
		}
		return
	}
	if m.Type == MsgDisconnect {
		ln.link = 0
		n.backToLooking()
		return
	}
	if m.Seq != ln.recvSeq+1 {
		n.backToLooking()
		return
	}
	ln.recvSeq = m.Seq
	ln.heard = n.tick
	if !n.learnerHandle(m) {
		n.backToLooking()
	}
}

// learnerHandle processes one in-order message from the leader; false
// means a protocol error that ends the link.
func (n *Node) learnerHandle(m Message) bool {
	ln := n.ln
	switch m.Type {
	case MsgLeaderInfo:
		return n.onLeaderInfo(m)
	case MsgDiff, MsgTrunc, MsgSnap:
		if ln.phase != lnEpochAcked {
			return false
		}
		n.onSyncStart(m)
		ln.phase = lnSyncing
	case MsgProposal:
		if ln.phase < lnSyncing || n.role != Following {
			return false
		}
		n.appendNew(m.Entries)
		n.ackPersisted()
	case MsgNewLeader:
		if ln.phase != lnSyncing {
			return false
		}
		if mc, err := decodeMembership(m.Data); err == nil {
			// The leader's configuration (Learner.syncWithLeader's
			// processReconfig on NEWLEADER).
			n.activate(mc)
		}
		ln.newLeader, ln.syncEnd = m.Zxid, n.log.last()
		ln.phase = lnNewLeader
		n.maybeAckNewLeader()
		n.ackPersisted()
	case MsgUpToDate:
		if ln.phase != lnAckedNewLeader {
			return false
		}
		ln.phase = lnServing
		n.commitTo(m.Zxid)
		n.setRole(n.role, n.leaderID, true)
	case MsgCommit:
		if ln.phase < lnSyncing {
			return false
		}
		n.commitTo(m.Zxid)
	case MsgInform:
		if n.role != Observing || ln.phase < lnSyncing {
			return false
		}
		n.appendNew(m.Entries)
		n.commitTo(m.Zxid)
	case MsgPing:
		n.sendToLeader(Message{Type: MsgPing, Zxid: m.Zxid})
	case MsgSync:
		n.emit(n.commit)
		n.rd.Committed = append(n.rd.Committed, Committed{RemoteSync: true, Marker: m.Data})
	case MsgRevalidate, MsgRequest:
		n.rd.Received = append(n.rd.Received, m)
	default:
		return false
	}
	return true
}

func (n *Node) onLeaderInfo(m Message) bool {
	ln := n.ln
	if ln.phase != lnConnecting {
		return false
	}
	switch {
	case m.Epoch > n.acceptedEpoch:
		n.setAcceptedEpoch(m.Epoch)
	case m.Epoch < n.acceptedEpoch:
		// We already accepted a newer epoch: this leader is stale.
		return false
	}
	ln.epoch = m.Epoch
	n.sendToLeader(Message{Type: MsgAckEpoch, Zxid: n.log.last(), Epoch: n.currentEpoch})
	ln.phase = lnEpochAcked
	return true
}

// onSyncStart applies the head of the sync stream: nothing to drop (DIFF),
// a truncation (TRUNC) or a snapshot (SNAP), then the entries it carries.
func (n *Node) onSyncStart(m Message) {
	switch m.Type {
	case MsgTrunc:
		n.truncateTo(m.Zxid)
	case MsgSnap:
		z := m.Zxid
		n.rd.Snapshot = &z
		n.rd.Entries = nil
		n.log.reset(z)
		n.lastSeen = nil
		n.persisted, n.commit, n.emitted, n.applied = z, z, z, z
		n.rd.Committed = nil
	}
	n.appendNew(m.Entries)
}

// truncateTo drops log entries after z; applied state beyond z is rebuilt
// by the driver.
func (n *Node) truncateTo(z int64) {
	if z >= n.log.last() {
		return
	}
	n.rd.Truncate = &z
	n.log.truncate(z)
	n.lastSeen = n.lastConfigIn(n.log.base)
	n.persisted = min(n.persisted, z)
	n.commit = min(n.commit, z)
	n.emitted = min(n.emitted, z)
	n.applied = min(n.applied, z)
}

// appendNew appends the entries after the log's end.
func (n *Node) appendNew(es []Entry) {
	last := n.log.last()
	i := 0
	for i < len(es) && es[i].Zxid <= last {
		i++
	}
	if i < len(es) {
		n.appendEntries(es[i:])
	}
}

func (n *Node) commitTo(z int64) {
	z = min(z, n.log.last())
	if z > n.commit {
		n.commit = z
	}
	n.emit(n.commit)
	n.commitLastSeen(z)
}

func (n *Node) maybeAckNewLeader() {
	ln := n.ln
	if ln.phase == lnNewLeader && n.persisted >= ln.syncEnd {
		// The new epoch becomes current only once the history it closes
		// is durable: a member that crashed with the epoch saved but the
		// synced entries lost would win the next election with a shorter
		// log and truncate committed transactions (ZOOKEEPER-4643). The
		// driver saves the epoch before it sends the ACK.
		n.setCurrentEpoch(Epoch(ln.newLeader))
		n.el.vote.PeerEpoch = Epoch(ln.newLeader) // QuorumPeer.updateElectionVote
		n.sendToLeader(Message{Type: MsgAck, Zxid: ln.newLeader})
		ln.acked = ln.syncEnd
		ln.phase = lnAckedNewLeader
	}
}

func (n *Node) learnerPersisted() {
	n.maybeAckNewLeader()
	n.ackPersisted()
}

// ackPersisted acknowledges, cumulatively, what the log now holds.
func (n *Node) ackPersisted() {
	ln := n.ln
	if n.role == Following && ln.phase >= lnAckedNewLeader && n.persisted > ln.acked {
		n.sendToLeader(Message{Type: MsgAck, Zxid: n.persisted})
		ln.acked = n.persisted
	}
}

func (n *Node) learnerSendApp(m Message) error {
	if n.ln == nil || n.ln.phase != lnServing {
		return ErrNotLeader
	}
	n.sendToLeader(m)
	return nil
}
