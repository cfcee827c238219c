// Package zab is ZooKeeper's atomic broadcast protocol as a pure state
// machine: fast leader election, discovery (a new epoch from a quorum),
// synchronization (DIFF, TRUNC, SNAP, then NEWLEADER and UPTODATE) and
// broadcast (PROPOSAL, ACK, COMMIT, and INFORM for observers).
//
// A Node does no I/O and reads no clock. Its inputs are Step (a message
// from a peer), Tick (time passing), Propose (new transactions, on the
// leader), Persisted (the log is durable up to a zxid) and Applied (the
// state machine has applied up to a zxid). Its output is a Ready, whose
// fields carry ordering obligations documented on them. The same core runs
// in the server, driven by sockets and disks, and in a deterministic
// simulator that drops, delays, duplicates and reorders messages and
// crashes members.
//
// Messages mirror Apache ZooKeeper's QuorumPacket (type, zxid, data) and
// election Notification (state, leader, zxid, election epoch, peer epoch),
// so that the wire encoding can match ZooKeeper's.
package zab

import "fmt"

// Epoch of a zxid: the high 32 bits.
func Epoch(zxid int64) uint32 { return uint32(uint64(zxid) >> 32) }

// Counter of a zxid: the low 32 bits.
func Counter(zxid int64) uint32 { return uint32(zxid) }

// Zxid builds a zxid from an epoch and a counter.
func Zxid(epoch, counter uint32) int64 { return int64(uint64(epoch)<<32 | uint64(counter)) }

// Role is a member's state (QuorumPeer.ServerState).
type Role int

// Member states.
const (
	Looking Role = iota
	Following
	Leading
	Observing
)

func (r Role) String() string {
	switch r {
	case Looking:
		return "LOOKING"
	case Following:
		return "FOLLOWING"
	case Leading:
		return "LEADING"
	case Observing:
		return "OBSERVING"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// MsgType is a message type. Quorum packet types keep the values of
// ZooKeeper's Leader class.
type MsgType int32

// Message types.
const (
	MsgRequest      MsgType = 1  // learner → leader: a client request to prepare
	MsgProposal     MsgType = 2  // leader → follower: a transaction to log
	MsgAck          MsgType = 3  // follower → leader: logged up to Zxid
	MsgCommit       MsgType = 4  // leader → follower: commit up to Zxid
	MsgPing         MsgType = 5  // both ways: liveness; Zxid carries the round
	MsgRevalidate   MsgType = 6  // both ways: session revalidation
	MsgSync         MsgType = 7  // leader → learner: a forwarded sync is done
	MsgInform       MsgType = 8  // leader → observer: a committed transaction
	MsgNewLeader    MsgType = 10 // leader → learner: the synced history ends here
	MsgFollowerInfo MsgType = 11 // follower → leader: join request
	MsgUpToDate     MsgType = 12 // leader → learner: start serving; Zxid is the commit point
	MsgDiff         MsgType = 13 // leader → learner: proposals follow from Zxid
	MsgTrunc        MsgType = 14 // leader → learner: truncate the log after Zxid
	MsgSnap         MsgType = 15 // leader → learner: a snapshot as of Zxid follows
	MsgObserverInfo MsgType = 16 // observer → leader: join request
	MsgLeaderInfo   MsgType = 17 // leader → learner: the new epoch
	MsgAckEpoch     MsgType = 18 // learner → leader: epoch accepted; Zxid is its last zxid

	// MsgNotification is an election vote (sent on the election port).
	MsgNotification MsgType = 100
	// MsgDisconnect tells a peer, or is delivered by the transport, that the
	// quorum link between two members is gone.
	MsgDisconnect MsgType = 101
)

var msgNames = map[MsgType]string{
	MsgRequest: "REQUEST", MsgProposal: "PROPOSAL", MsgAck: "ACK", MsgCommit: "COMMIT",
	MsgPing: "PING", MsgRevalidate: "REVALIDATE", MsgSync: "SYNC", MsgInform: "INFORM",
	MsgNewLeader: "NEWLEADER", MsgFollowerInfo: "FOLLOWERINFO", MsgUpToDate: "UPTODATE",
	MsgDiff: "DIFF", MsgTrunc: "TRUNC", MsgSnap: "SNAP", MsgObserverInfo: "OBSERVERINFO",
	MsgLeaderInfo: "LEADERINFO", MsgAckEpoch: "ACKEPOCH", MsgNotification: "NOTIFICATION",
	MsgDisconnect: "DISCONNECT",
}

func (t MsgType) String() string {
	if s, ok := msgNames[t]; ok {
		return s
	}
	return fmt.Sprintf("MsgType(%d)", int32(t))
}

// Vote is an election proposal (FastLeaderElection.Vote).
type Vote struct {
	Leader    uint64
	Zxid      int64  // the proposed leader's last logged zxid
	PeerEpoch uint32 // the proposed leader's current epoch
}

// better reports whether v wins over w: higher epoch, then higher zxid,
// then higher id (FastLeaderElection.totalOrderPredicate).
func (v Vote) better(w Vote) bool {
	if v.PeerEpoch != w.PeerEpoch {
		return v.PeerEpoch > w.PeerEpoch
	}
	if v.Zxid != w.Zxid {
		return v.Zxid > w.Zxid
	}
	return v.Leader > w.Leader
}

// Entry is one transaction in the log: its zxid and its encoded bytes,
// which the protocol never looks into.
type Entry struct {
	Zxid int64
	Data []byte
	// Value is a decoded form the driver may attach when it proposes; it
	// stays in memory until it is handed back in Committed.
	Value any
	// Config is set on a reconfig entry: the configuration it makes
	// active once committed. The driver sets it wherever entries enter
	// the protocol (proposals, the wire, the log), since Data is opaque
	// here.
	Config *Membership
}

// Message is what members exchange. Quorum messages travel on a link (a
// connection from a learner to the leader); Link and Seq make a link FIFO
// or broken: a receiver that sees a gap, a duplicate or a reordering drops
// the link, as a TCP connection would deliver in order or fail.
type Message struct {
	Type MsgType
	From uint64
	To   uint64
	Zxid int64

	// Quorum packets.
	Entries []Entry // PROPOSAL and INFORM carry one; a sync stream may carry many
	Data    []byte  // REQUEST, REVALIDATE, PING, SYNC payloads (opaque here)
	Epoch   uint32  // LEADERINFO: the new epoch; ACKEPOCH: the learner's current epoch
	Link    uint64  // the link this message belongs to
	Seq     uint64  // position on the link, from 1

	// Election notifications.
	Vote          Vote
	State         Role
	ElectionEpoch uint64 // the sender's logical clock
}

func (m Message) String() string {
	if m.Type == MsgNotification {
		return fmt.Sprintf("%d→%d %s %s leader=%d zxid=%#x peerEpoch=%d round=%d",
			m.From, m.To, m.Type, m.State, m.Vote.Leader, m.Vote.Zxid, m.Vote.PeerEpoch, m.ElectionEpoch)
	}
	return fmt.Sprintf("%d→%d %s zxid=%#x link=%d seq=%d entries=%d", m.From, m.To, m.Type, m.Zxid, m.Link, m.Seq, len(m.Entries))
}

// IsElection reports whether the message travels on the election port.
func (m Message) IsElection() bool { return m.Type == MsgNotification }
