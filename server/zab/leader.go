package zab

import "sort"

// learnerPhase is how far a learner has come with the leader.
type learnerPhase int

const (
	lpInfo           learnerPhase = iota // FOLLOWERINFO received; the epoch is not decided yet
	lpEpochSent                          // LEADERINFO sent
	lpAckedEpoch                         // ACKEPOCH received; waiting for a quorum of them
	lpSyncing                            // sync stream and NEWLEADER sent
	lpAckedNewLeader                     // NEWLEADER acknowledged; waiting for the epoch to be established
	lpSynced                             // UPTODATE sent: in broadcast
)

// peer is the leader's view of one learner (LearnerHandler).
type peer struct {
	id       uint64
	observer bool
	link     uint64
	sendSeq  uint64
	recvSeq  uint64
	phase    learnerPhase

	acceptedEpoch uint32
	currentEpoch  uint32
	lastZxid      int64
	acked         int64 // logged up to (cumulative ACKs)
	logEnd        int64 // the end of what this learner's log holds from us
	syncEnd       int64 // the log end its NEWLEADER closed
	heard         int64
	round         int64 // last ping round answered
}

type marker struct {
	pos     int64 // released after every entry up to here is committed
	value   any
	round   int64 // quorum round that must answer first; 0 for none
	syncFor uint64
}

// leaderState is the state of a member leading (Leader).
type leaderState struct {
	epoch        uint32
	epochDecided bool
	ackedEpochQ  bool // a quorum acknowledged the epoch
	established  bool
	start        int64
	learners     map[uint64]*peer
	newLeader    int64 // zxid of NEWLEADER: Zxid(epoch, 0)
	lastProposed int64
	announced    int64 // committed point told to learners and emitted locally
	round        int64
	needRound    bool
	markers      []marker
	lastPing     int64
	// order caches sorted(); nil after learners changed.
	order []*peer
	// For monitoring (info.go): when the epoch was established, and the
	// sizes of the entries proposed since.
	establishedTick int64
	proposals       proposalStats
}

func (n *Node) becomeLeader() {
	n.setRole(Leading, n.cfg.ID, false)
	n.ld = &leaderState{start: n.tick, learners: map[uint64]*peer{}, lastPing: n.tick}
	joins := n.el.joins
	n.el.joins = map[uint64]Message{}
	for _, id := range sortedIDs(joins) {
		n.acceptLearner(joins[id])
		if n.role != Leading {
			return
		}
	}
	n.tryDecideEpoch()
}

func sortedIDs(m map[uint64]Message) []uint64 {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func (n *Node) sendLink(p *peer, m Message) {
	p.sendSeq++
	m.To, m.Link, m.Seq = p.id, p.link, p.sendSeq
	n.send(m)
}

func (n *Node) dropLearner(p *peer) {
	n.send(Message{Type: MsgDisconnect, To: p.id, Link: p.link})
	n.ld.remove(p.id)
}

// countVoters counts the voters of the active configuration, this member
// included, that satisfy ok.
func (n *Node) countVoters(ok func(p *peer) bool) int {
	cur := n.current()
	return n.countIn(&cur, ok)
}

// tryDecideEpoch picks the new epoch once a quorum has connected: one more
// than any epoch they accepted (Leader.getEpochToPropose).
func (n *Node) tryDecideEpoch() {
	ld := n.ld
	if ld.epochDecided || n.countVoters(func(*peer) bool { return true }) < n.cfg.quorum() {
		return
	}
	epoch := n.acceptedEpoch
	for _, p := range ld.sorted() {
		if !p.observer && p.acceptedEpoch > epoch {
			epoch = p.acceptedEpoch
		}
	}
	epoch++
	ld.epoch, ld.epochDecided = epoch, true
	ld.newLeader = Zxid(epoch, 0)
	n.setAcceptedEpoch(epoch)
	for _, p := range ld.sorted() {
		n.sendLeaderInfo(p)
	}
	n.tryAckEpochQuorum()
}

func (n *Node) sendLeaderInfo(p *peer) {
	n.sendLink(p, Message{Type: MsgLeaderInfo, Zxid: n.ld.newLeader, Epoch: n.ld.epoch})
	p.phase = lpEpochSent
}

// tryAckEpochQuorum moves to synchronization once a quorum acknowledged
// the epoch (Leader.waitForEpochAck), and syncs every learner that did.
func (n *Node) tryAckEpochQuorum() {
	ld := n.ld
	if !ld.epochDecided || ld.ackedEpochQ {
		return
	}
	if n.countVoters(func(p *peer) bool { return p.phase >= lpAckedEpoch }) < n.cfg.quorum() {
		return
	}
	ld.ackedEpochQ = true
	n.setCurrentEpoch(ld.epoch)
	if n.cfg.ReconfigEnabled && n.cfg.Version == 0 {
		// The initial configuration takes the first epoch's zxid as its
		// version (ZOOKEEPER-1783), and NEWLEADER tells the learners.
		m := n.Membership()
		m.Version = ld.newLeader
		n.activate(m)
	}
	ld.lastProposed = n.log.last()
	for _, p := range ld.sorted() {
		if p.phase == lpAckedEpoch {
			n.syncLearner(p)
		}
	}
	n.tryEstablish()
}

// syncLearner sends the learner what it lacks — DIFF, TRUNC (+DIFF) or
// SNAP, then every entry after that point — and NEWLEADER
// (LearnerHandler.syncFollower). From here on, proposals reach it too.
func (n *Node) syncLearner(p *peer) {
	last := n.log.last()
	switch _, inHistory := n.log.index(p.lastZxid); {
	case p.lastZxid == last:
		n.sendLink(p, Message{Type: MsgDiff, Zxid: last})
	case p.lastZxid > last:
		n.sendLink(p, Message{Type: MsgTrunc, Zxid: last})
	case n.log.covers(p.lastZxid) && inHistory:
		n.sendLink(p, Message{Type: MsgDiff, Zxid: p.lastZxid, Entries: copyEntries(n.log.after(p.lastZxid))})
	case n.log.covers(p.lastZxid):
		// The learner holds entries the leader never had: cut back to the
		// last common point, then send what follows it.
		prev := n.log.prev(p.lastZxid)
		n.sendLink(p, Message{Type: MsgTrunc, Zxid: prev, Entries: copyEntries(n.log.after(prev))})
	default:
		base := min(n.applied, n.emitted)
		n.sendLink(p, Message{Type: MsgSnap, Zxid: base, Entries: copyEntries(n.log.after(base))})
	}
	p.logEnd, p.syncEnd = last, last
	cur := n.current()
	n.sendLink(p, Message{Type: MsgNewLeader, Zxid: n.ld.newLeader, Data: cur.encode()})
	p.phase = lpSyncing
}

func copyEntries(es []Entry) []Entry { return append([]Entry(nil), es...) }

// tryEstablish finishes synchronization once a quorum acknowledged
// NEWLEADER (Leader.waitForNewLeaderAck): the whole history is committed and
// the leader starts serving.
func (n *Node) tryEstablish() {
	ld := n.ld
	if ld.established || !ld.ackedEpochQ || n.persisted < n.log.last() {
		return
	}
	// NEWLEADER acknowledgements count by server id, whatever the kind of
	// link: a server the pending configuration makes a voter may still
	// observe until it commits (Leader.waitForNewLeaderAck adds the ack to
	// every configuration the server votes in).
	acked := func(p *peer) bool { return p.phase >= lpAckedNewLeader }
	if !n.quorumsBy(func(m *Membership) int { return n.countLinks(m, acked) }) {
		return
	}
	ld.established = true
	ld.establishedTick = n.tick
	// Report the new epoch to lookers (QuorumPeer.updateElectionVote).
	n.el.vote.PeerEpoch = ld.epoch
	n.commit = n.log.last()
	ld.lastProposed = n.commit
	n.announceTo(n.commit)
	for _, p := range ld.sorted() {
		if p.phase == lpAckedNewLeader {
			n.sendUpToDate(p)
		}
	}
	n.setRole(Leading, n.cfg.ID, true)
}

func (n *Node) sendUpToDate(p *peer) {
	n.sendLink(p, Message{Type: MsgUpToDate, Zxid: n.ld.announced})
	p.phase = lpSynced
}

func (n *Node) tickLeader() {
	ld := n.ld
	if !ld.established && n.tick-ld.start > int64(n.cfg.InitLimit) {
		n.backToLooking()
		return
	}
	for _, p := range ld.sorted() {
		limit := int64(n.cfg.InitLimit)
		if p.phase == lpSynced {
			limit = int64(n.cfg.SyncLimit)
		}
		if n.tick-p.heard > limit {
			n.dropLearner(p)
		}
	}
	if ld.established {
		if !n.hasQuorums(func(p *peer) bool { return p.phase >= lpAckedNewLeader }) {
			// Not enough followers synced within syncLimit: step down.
			n.backToLooking()
			return
		}
	}
	if n.tick-ld.lastPing >= int64(n.cfg.PingTicks) {
		n.startRound()
	}
}

// startRound pings every learner; answers confirm this member still leads.
func (n *Node) startRound() {
	ld := n.ld
	ld.round++
	ld.needRound = false
	ld.lastPing = n.tick
	for _, p := range ld.sorted() {
		if p.phase >= lpEpochSent {
			n.sendLink(p, Message{Type: MsgPing, Zxid: ld.round})
		}
	}
	n.advanceCommit()
}

func (n *Node) roundConfirmed(r int64) bool {
	return n.hasQuorums(func(p *peer) bool { return p.phase >= lpAckedNewLeader && p.round >= r })
}

func (n *Node) stepLeader(m Message) {
	ld := n.ld
	switch m.Type {
	case MsgFollowerInfo, MsgObserverInfo:
		n.acceptLearner(m)
		return
	}
	p := ld.learners[m.From]
	if p == nil || p.link != m.Link {
		return
	}
	if m.Type == MsgDisconnect {
		ld.remove(p.id)
		return
	}
	if m.Seq != p.recvSeq+1 {
		n.dropLearner(p)
		return
	}
	p.recvSeq = m.Seq
	p.heard = n.tick
	switch m.Type {
	case MsgAckEpoch:
		n.onAckEpoch(p, m)
	case MsgAck:
		n.onAck(p, m)
	case MsgPing:
		if m.Zxid > p.round {
			p.round = m.Zxid
		}
		if len(m.Data) > 0 {
			n.rd.Received = append(n.rd.Received, m)
		}
		n.advanceCommit()
	case MsgRequest, MsgRevalidate:
		if p.phase == lpSynced && ld.established {
			n.rd.Received = append(n.rd.Received, m)
		}
	default:
		n.dropLearner(p)
	}
}

func (n *Node) acceptLearner(m Message) {
	// Servers outside the configuration are taken too, without a vote: a
	// server about to join by reconfig syncs first, and a removed one goes
	// on following (LearnerHandler takes any server id).
	observer := m.Type == MsgObserverInfo
	if (observer && n.cfg.isVoter(m.From)) || (!observer && n.cfg.isObserver(m.From)) || m.Seq != 1 {
		n.send(Message{Type: MsgDisconnect, To: m.From, Link: m.Link})
		return
	}
	p := &peer{id: m.From, observer: observer, link: m.Link, recvSeq: m.Seq, heard: n.tick,
		acceptedEpoch: Epoch(m.Zxid)}
	if old := n.ld.learners[m.From]; old != nil && old.link != m.Link {
		n.send(Message{Type: MsgDisconnect, To: old.id, Link: old.link})
	}
	n.ld.learners[m.From] = p
	n.ld.order = nil
	if n.ld.epochDecided && p.acceptedEpoch > n.ld.epoch {
		// The learner promised a newer epoch to a leader that never got
		// established; it can never follow this one. Stepping down lets a
		// new election pick an epoch above its promise (ZooKeeper leaves
		// such a learner looking until the next election).
		n.backToLooking()
		return
	}
	if n.ld.epochDecided {
		n.sendLeaderInfo(p)
		return
	}
	n.tryDecideEpoch()
}

func (n *Node) onAckEpoch(p *peer, m Message) {
	if p.phase != lpEpochSent {
		n.dropLearner(p)
		return
	}
	p.currentEpoch, p.lastZxid = m.Epoch, m.Zxid
	ahead := p.currentEpoch > n.currentEpoch ||
		(p.currentEpoch == n.currentEpoch && p.lastZxid > n.log.last())
	if !p.observer && !n.ld.ackedEpochQ && ahead {
		// A follower is ahead of the leader: this election was wrong.
		n.backToLooking()
		return
	}
	p.phase = lpAckedEpoch
	if n.ld.ackedEpochQ {
		n.syncLearner(p)
		return
	}
	n.tryAckEpochQuorum()
}

func (n *Node) onAck(p *peer, m Message) {
	switch {
	case p.phase == lpSyncing && m.Zxid == n.ld.newLeader:
		p.phase = lpAckedNewLeader
		p.acked = p.syncEnd
		if n.ld.established {
			n.sendUpToDate(p)
		} else {
			n.tryEstablish()
		}
	case p.phase >= lpAckedNewLeader && !p.observer:
		if z := min(m.Zxid, p.logEnd); z > p.acked {
			p.acked = z
		}
		n.advanceCommit()
	}
}

func (n *Node) leaderPersisted() {
	if !n.ld.established {
		n.tryEstablish()
		return
	}
	n.advanceCommit()
}

// quorumCommit is the highest zxid logged by a quorum of voters; from a
// pending reconfig's zxid on, by a quorum of both configurations.
func (n *Node) quorumCommit() int64 {
	cur := n.current()
	c := n.ackedBy(&cur)
	if c < 0 {
		return n.commit
	}
	if pc := n.lastSeen; pc != nil && c >= pc.zxid {
		c = max(min(c, n.ackedBy(&pc.m)), pc.zxid-1)
	}
	return min(c, n.ld.lastProposed)
}

// advanceCommit moves the commit point and releases markers in order; a
// marker waiting for its confirming round holds back what follows it.
func (n *Node) advanceCommit() {
	ld := n.ld
	if !ld.established {
		return
	}
	if c := n.quorumCommit(); c > n.commit {
		n.commit = c
	}
	for len(ld.markers) > 0 && ld.markers[0].pos <= n.commit {
		mk := ld.markers[0]
		if mk.round > 0 && !n.roundConfirmed(mk.round) {
			n.announceTo(mk.pos)
			return
		}
		n.announceTo(mk.pos)
		ld.markers = ld.markers[1:]
		if mk.syncFor != 0 {
			if p := ld.learners[mk.syncFor]; p != nil && p.phase == lpSynced {
				n.sendLink(p, Message{Type: MsgSync, Data: asBytes(mk.value)})
			}
		} else {
			n.rd.Committed = append(n.rd.Committed, Committed{Marker: mk.value})
		}
	}
	n.announceTo(n.commit)
}

func asBytes(v any) []byte {
	if b, ok := v.([]byte); ok {
		return b
	}
	return nil
}

// announceTo tells learners the commit point z (COMMIT to followers,
// INFORM with the entries to observers) and emits it locally.
func (n *Node) announceTo(z int64) {
	ld := n.ld
	if z <= ld.announced {
		return
	}
	for _, p := range ld.sorted() {
		if p.phase < lpSyncing {
			continue
		}
		if p.observer && z > p.logEnd {
			n.sendLink(p, Message{Type: MsgInform, Zxid: z, Entries: copyEntries(n.log.between(p.logEnd, z))})
			p.logEnd = z
		}
		n.sendLink(p, Message{Type: MsgCommit, Zxid: z})
	}
	ld.announced = z
	n.emit(z)
	n.commitLastSeen(z)
}

// propose appends proposals to the log, sends them to followers and queues
// markers behind them.
func (n *Node) propose(ps []Proposal) {
	ld := n.ld
	var entries []Entry
	for _, pr := range ps {
		if pr.Entry != nil {
			if pr.Entry.Zxid <= ld.lastProposed || Epoch(pr.Entry.Zxid) != ld.epoch {
				continue // a stale proposal from a previous epoch's pipeline
			}
			entries = append(entries, *pr.Entry)
			ld.proposals.add(len(pr.Entry.Data))
			ld.lastProposed = pr.Entry.Zxid
			continue
		}
		mk := marker{pos: ld.lastProposed, value: pr.Marker, syncFor: pr.SyncFor}
		if pr.Confirm {
			mk.round = ld.round + 1
			ld.needRound = true
		}
		ld.markers = append(ld.markers, mk)
	}
	if len(entries) > 0 {
		n.appendEntries(entries)
		for _, p := range ld.sorted() {
			if !p.observer && p.phase >= lpSyncing {
				n.sendLink(p, Message{Type: MsgProposal, Entries: entries})
				p.logEnd = ld.lastProposed
			}
		}
	}
	if ld.needRound {
		n.startRound()
		return
	}
	n.advanceCommit()
}

func (n *Node) leaderSendApp(m Message) error {
	p := n.ld.learners[m.To]
	if p == nil || p.phase != lpSynced {
		return ErrNotLeader
	}
	n.sendLink(p, m)
	return nil
}

// sorted returns the learners in id order, so that what the leader sends
// does not depend on map iteration (the simulator replays seeds exactly).
// The slice is shared until the learners change; callers must not modify
// it (a change builds a new one, so iterating it while dropping learners
// is safe).
func (ld *leaderState) sorted() []*peer {
	if ld.order != nil {
		return ld.order
	}
	out := make([]*peer, 0, len(ld.learners))
	for _, p := range ld.learners {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	ld.order = out
	return out
}

func (ld *leaderState) remove(id uint64) {
	delete(ld.learners, id)
	ld.order = nil
}
