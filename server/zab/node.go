package zab

import "errors"

// State is what a member brings from its disk when it starts.
type State struct {
	AcceptedEpoch uint32
	CurrentEpoch  uint32
	Base          int64   // the zxid just before Entries[0] (a snapshot's zxid, or 0)
	Entries       []Entry // the tail of the log, in zxid order
	Applied       int64   // the zxid the driver's state has applied up to
	// Incarnation distinguishes this run of the member from earlier ones
	// (a restart counter or a random number); it seeds link ids.
	Incarnation uint64
}

// Node is one member's protocol state.
type Node struct {
	cfg  Config
	tick int64

	role     Role
	leaderID uint64
	serving  bool

	acceptedEpoch uint32
	currentEpoch  uint32
	log           window
	persisted     int64 // the log is durable up to here
	commit        int64 // the highest zxid known committed
	emitted       int64 // the last zxid handed out in Committed
	applied       int64 // reported by the driver

	el          election
	ld          *leaderState
	ln          *learnerState
	rd          Ready
	seq         uint64 // link ids made by this member
	incarnation uint64
	stepDown    bool // a new configuration changed this member's role (settle)
	// lastSeen is the newest configuration in the log that is not active
	// yet (ZooKeeper's last seen QuorumVerifier): until it commits,
	// elections, establishment and commits need a quorum of it too.
	lastSeen *pendingConfig
}

// ErrNotLeader is returned by Propose on a member that does not lead an
// established epoch.
var ErrNotLeader = errors.New("zab: not an established leader")

// NewNode starts a member, looking for a leader.
func NewNode(cfg Config, st State) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:           cfg,
		acceptedEpoch: st.AcceptedEpoch,
		currentEpoch:  st.CurrentEpoch,
		log:           window{base: st.Base, entries: append([]Entry(nil), st.Entries...)},
		applied:       st.Applied,
		incarnation:   st.Incarnation,
	}
	n.persisted = n.log.last()
	// A reconfig in the log is only seen, even if it was applied before
	// the restart: it becomes active when a leader commits it again.
	n.lastSeen = n.lastConfigIn(n.log.base)
	n.commit = st.Applied
	n.emitted = st.Applied
	n.lookForLeader()
	return n, nil
}

// ID returns the member id.
func (n *Node) ID() uint64 { return n.cfg.ID }

// Role returns the current role.
func (n *Node) Role() Role { return n.role }

// Leader returns the leader being followed or led, or 0.
func (n *Node) Leader() uint64 { return n.leaderID }

// Serving reports whether the member is synchronized with a leader (or is
// an established leader) and may serve clients.
func (n *Node) Serving() bool { return n.serving }

// Epoch returns the current epoch.
func (n *Node) Epoch() uint32 { return n.currentEpoch }

// LastZxid returns the last zxid in the log.
func (n *Node) LastZxid() int64 { return n.log.last() }

// CommitZxid returns the highest zxid known to be committed.
func (n *Node) CommitZxid() int64 { return n.commit }

// Ready returns what the driver must do now and clears it.
func (n *Node) Ready() Ready {
	rd := n.rd
	n.rd = Ready{}
	return rd
}

// HasReady reports whether Ready has anything.
func (n *Node) HasReady() bool { return !n.rd.Empty() }

func (n *Node) send(m Message) {
	m.From = n.cfg.ID
	n.rd.Messages = append(n.rd.Messages, m)
}

func (n *Node) setRole(r Role, leader uint64, serving bool) {
	n.role, n.leaderID, n.serving = r, leader, serving
	epoch := n.currentEpoch
	n.rd.Role = &RoleChange{Role: r, Leader: leader, Epoch: epoch, Serving: serving}
}

func (n *Node) setAcceptedEpoch(e uint32) {
	n.acceptedEpoch = e
	v := e
	n.rd.AcceptedEpoch = &v
}

func (n *Node) setCurrentEpoch(e uint32) {
	n.currentEpoch = e
	v := e
	n.rd.CurrentEpoch = &v
}

// appendEntries adds entries to the log, to be persisted by the driver.
func (n *Node) appendEntries(es []Entry) {
	for _, e := range es {
		n.log.append(e)
		if c := e.Config; c != nil && c.Version > n.cfg.Version && (n.lastSeen == nil || c.Version > n.lastSeen.m.Version) {
			n.lastSeen = &pendingConfig{zxid: e.Zxid, m: c.clone()}
		}
	}
	n.rd.Entries = append(n.rd.Entries, es...)
}

// emit hands committed entries up to z to the driver.
func (n *Node) emit(z int64) {
	if z <= n.emitted {
		return
	}
	es := n.log.between(n.emitted, z)
	for i := range es {
		e := es[i]
		// Value is handed back once; the window keeps only the bytes.
		es[i].Value = nil
		n.rd.Committed = append(n.rd.Committed, Committed{Entry: &e})
		if e.Config != nil {
			n.activate(*e.Config)
		}
	}
	n.emitted = z
}

// Tick advances time by one tick.
func (n *Node) Tick() {
	defer n.settle()
	n.tick++
	switch n.role {
	case Looking:
		n.tickElection()
	case Leading:
		n.tickLeader()
	case Following, Observing:
		n.tickLearner()
	}
}

// Step handles a message from a peer.
func (n *Node) Step(m Message) {
	defer n.settle()
	if m.Type == MsgNotification {
		n.stepElection(m)
		return
	}
	switch n.role {
	case Leading:
		n.stepLeader(m)
	case Following, Observing:
		n.stepLearner(m)
	default:
		// While looking, join requests wait for the election: if this
		// member wins it, they are taken at once (the learner also retries).
		// Any other quorum message is from a stale link.
		switch m.Type {
		case MsgFollowerInfo, MsgObserverInfo:
			n.el.joins[m.From] = m
		case MsgDisconnect:
			if j, ok := n.el.joins[m.From]; ok && j.Link == m.Link {
				delete(n.el.joins, m.From)
			}
		default:
			if m.Link != 0 {
				n.send(Message{Type: MsgDisconnect, To: m.From, Link: m.Link})
			}
		}
	}
}

// Persisted tells the node its log is durable up to zxid z.
func (n *Node) Persisted(z int64) {
	defer n.settle()
	if z > n.log.last() {
		z = n.log.last()
	}
	if z <= n.persisted {
		return
	}
	n.persisted = z
	switch n.role {
	case Leading:
		n.leaderPersisted()
	case Following, Observing:
		n.learnerPersisted()
	}
}

// Applied tells the node the driver's state has applied up to zxid z.
func (n *Node) Applied(z int64) {
	if z > n.applied {
		n.applied = z
	}
	n.log.trim(min(n.applied, n.emitted), n.cfg.Window)
}

// Proposal is one item a leader's driver hands to Propose: a transaction,
// or a marker to place in the commit stream after every entry proposed
// before it. A marker with Confirm set is released only once a quorum has
// answered a ping round started after it was proposed, so that a sync
// answered by it is linearizable even on a deposed leader. SyncFor names
// the learner whose forwarded sync the marker answers (0: a local marker).
type Proposal struct {
	Entry   *Entry
	Marker  any
	Confirm bool
	SyncFor uint64
}

// Propose appends proposals on an established leader.
func (n *Node) Propose(ps ...Proposal) error {
	if n.role != Leading || !n.serving {
		return ErrNotLeader
	}
	defer n.settle()
	n.propose(ps)
	return nil
}

// SendApp sends an application message (REQUEST, REVALIDATE, ...) on the
// link to the leader, or from the leader to a learner. It fails when there
// is no synchronized link.
func (n *Node) SendApp(m Message) error {
	switch n.role {
	case Leading:
		return n.leaderSendApp(m)
	case Following, Observing:
		return n.learnerSendApp(m)
	}
	return ErrNotLeader
}

// backToLooking abandons the current role and starts an election.
func (n *Node) backToLooking() {
	if n.ld != nil {
		for _, l := range n.ld.sorted() {
			n.send(Message{Type: MsgDisconnect, To: l.id, Link: l.link})
		}
	}
	if n.ln != nil && n.ln.link != 0 {
		n.send(Message{Type: MsgDisconnect, To: n.leaderID, Link: n.ln.link})
	}
	n.ld, n.ln = nil, nil
	n.lookForLeader()
}
