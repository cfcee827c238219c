package quorum

import (
	"bufio"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"zkit/server/zab"
)

// Inbound is a message delivered to the driver, with the snapshot bytes a
// SNAP carries.
type Inbound struct {
	Msg      zab.Message
	Snapshot []byte
}

// Addrs are a member's quorum and election addresses.
type Addrs struct {
	Quorum   string
	Election string
}

// electionMagic opens an election connection, followed by the sender's id.
var electionMagic = [4]byte{'Z', 'K', 'E', 'L'}

// Transport carries ZAB messages between members: notifications over
// election connections (one outgoing connection per peer), quorum packets
// over one TCP connection per learner link, which a learner dials to the
// leader's quorum port.
type Transport struct {
	id    uint64
	log   *slog.Logger
	inbox chan Inbound

	quorumLn   net.Listener
	electionLn net.Listener

	mu        sync.Mutex
	addrs     map[uint64]Addrs
	electOut  map[uint64]*frameConn
	dialing   map[uint64]bool
	links     map[uint64]*qlink // by link id
	blocked   map[uint64]bool
	incoming  map[net.Conn]struct{}
	sec       Secure // TLS between members (sslQuorum); nil for plain TCP
	closed    bool
	wg        sync.WaitGroup
	nextRetry map[uint64]time.Time
}

// qlink is one learner–leader connection.
type qlink struct {
	id   uint64
	peer uint64
	fc   *frameConn
	seq  uint64
	dead bool // closed on purpose: do not report a disconnect
}

// NewTransport binds the quorum and election ports (port 0 picks one).
func NewTransport(id uint64, quorumAddr, electionAddr string, log *slog.Logger) (*Transport, error) {
	ql, err := net.Listen("tcp", quorumAddr)
	if err != nil {
		return nil, err
	}
	el, err := net.Listen("tcp", electionAddr)
	if err != nil {
		ql.Close()
		return nil, err
	}
	return &Transport{
		id: id, log: log, inbox: make(chan Inbound, 4096), quorumLn: ql, electionLn: el,
		addrs: map[uint64]Addrs{}, electOut: map[uint64]*frameConn{}, dialing: map[uint64]bool{},
		links: map[uint64]*qlink{}, blocked: map[uint64]bool{}, nextRetry: map[uint64]time.Time{},
		incoming: map[net.Conn]struct{}{},
	}, nil
}

// QuorumAddr and ElectionAddr return the bound addresses.
func (t *Transport) QuorumAddr() string   { return t.quorumLn.Addr().String() }
func (t *Transport) ElectionAddr() string { return t.electionLn.Addr().String() }

// SetPeers tells the transport where the other members listen.
func (t *Transport) SetPeers(addrs map[uint64]Addrs) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, a := range addrs {
		t.addrs[id] = a
	}
}

// hello opens an election connection: the magic, this member's id and the
// address its election port can be reached at, so that a member that does
// not know the sender (a server joining by reconfig) can answer it, as
// QuorumCnxManager's initial message carries the sender's address.
func (t *Transport) hello() []byte {
	addr := t.ElectionAddr()
	b := append([]byte(nil), electionMagic[:]...)
	b = binary.BigEndian.AppendUint64(b, t.id)
	b = binary.BigEndian.AppendUint16(b, uint16(len(addr)))
	return append(b, addr...)
}

// learnElectionAddr records where an unknown peer takes notifications; an
// unspecified host (a wildcard listener) becomes the connection's source.
func (t *Transport) learnElectionAddr(id uint64, addr string, remote net.Addr) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || id == 0 {
		return
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if ra, ok := remote.(*net.TCPAddr); ok {
			host = ra.IP.String()
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, known := t.addrs[id]; !known {
		t.addrs[id] = Addrs{Election: net.JoinHostPort(host, port)}
	}
}

// Inbox delivers inbound messages.
func (t *Transport) Inbox() <-chan Inbound { return t.inbox }

// Start accepts connections.
func (t *Transport) Start() {
	t.wg.Add(2)
	go func() { defer t.wg.Done(); t.acceptLoop(t.electionLn, t.serveElection) }()
	go func() { defer t.wg.Done(); t.acceptLoop(t.quorumLn, t.serveQuorum) }()
}

// Close shuts everything down.
func (t *Transport) Close() {
	t.mu.Lock()
	t.closed = true
	for _, c := range t.electOut {
		c.close()
	}
	for _, l := range t.links {
		l.dead = true
		l.fc.close()
	}
	for c := range t.incoming {
		c.Close()
	}
	t.mu.Unlock()
	t.quorumLn.Close()
	t.electionLn.Close()
	t.wg.Wait()
}

// Block cuts this member off from peer (both directions) until Unblock:
// in-process partitions for tests.
func (t *Transport) Block(peer uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.blocked[peer] = true
	if c := t.electOut[peer]; c != nil {
		c.close()
		delete(t.electOut, peer)
	}
	for id, l := range t.links {
		if l.peer == peer {
			l.fc.close()
			delete(t.links, id)
			t.deliverLocked(Inbound{Msg: zab.Message{Type: zab.MsgDisconnect, From: peer, Link: id}})
		}
	}
}

// Unblock heals a Block.
func (t *Transport) Unblock(peer uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.blocked, peer)
}

func (t *Transport) deliver(in Inbound) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.deliverLocked(in)
}

func (t *Transport) deliverLocked(in Inbound) {
	if t.closed || t.blocked[in.Msg.From] {
		return
	}
	select {
	case t.inbox <- in:
	default:
		// The driver is far behind: drop the message. Quorum links notice
		// the gap (sequence numbers) and reconnect; elections resend.
		t.log.Warn("quorum inbox full; dropping a message", "type", in.Msg.Type.String(), "from", in.Msg.From)
	}
}

func (t *Transport) acceptLoop(ln net.Listener, serve func(net.Conn)) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			nc.Close()
			continue
		}
		t.incoming[nc] = struct{}{}
		t.mu.Unlock()
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			if sc := t.secureAccepted(nc); sc != nil {
				serve(sc)
			}
			t.mu.Lock()
			delete(t.incoming, nc)
			t.mu.Unlock()
		}()
	}
}

// SendFunc transmits a SNAP whose snapshot is built by snapshot() when the
// link's writer reaches it.
func (t *Transport) SendFunc(m zab.Message, snapshot func() []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.links[m.Link]
	if t.closed || l == nil || t.blocked[m.To] {
		return
	}
	l.fc.sendFunc(func() []byte {
		snap := snapshot()
		if snap == nil {
			return nil
		}
		return encodePacket(&m, snap)
	})
}

// Send transmits a message; snapshot accompanies a SNAP.
func (t *Transport) Send(m zab.Message, snapshot []byte) {
	if m.Type == zab.MsgNotification {
		t.sendElection(m)
		return
	}
	t.sendQuorum(m, snapshot)
}

func (t *Transport) sendElection(m zab.Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.blocked[m.To] {
		return
	}
	if c := t.electOut[m.To]; c != nil && !c.isClosed() {
		c.send(encodeNotification(&m))
		return
	}
	delete(t.electOut, m.To)
	if t.dialing[m.To] || time.Now().Before(t.nextRetry[m.To]) {
		return // the election resends; no need to queue
	}
	addr, ok := t.addrs[m.To]
	if !ok {
		return
	}
	t.dialing[m.To] = true
	frame := encodeNotification(&m)
	go t.dialElection(m.To, addr.Election, frame)
}

func (t *Transport) dialElection(peer uint64, addr string, first []byte) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		if nc = t.secureDialed(nc, addr); nc == nil {
			err = net.ErrClosed
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.dialing, peer)
	if err != nil || t.closed || t.blocked[peer] {
		if nc != nil {
			nc.Close()
		}
		t.nextRetry[peer] = time.Now().Add(20 * time.Millisecond)
		return
	}
	c := newFrameConn(nc)
	c.send(t.hello())
	c.send(first)
	t.electOut[peer] = c
	// The peer never writes on this connection; reading only notices it
	// closing.
	go func() {
		_, _ = nc.Read(make([]byte, 1))
		c.close()
	}()
}

func (t *Transport) serveElection(nc net.Conn) {
	defer nc.Close()
	r := bufio.NewReader(nc)
	var hello [14]byte
	if _, err := ioReadFull(r, hello[:]); err != nil || [4]byte(hello[:4]) != electionMagic {
		return
	}
	from := binary.BigEndian.Uint64(hello[4:])
	addr := make([]byte, binary.BigEndian.Uint16(hello[12:]))
	if _, err := ioReadFull(r, addr); err != nil {
		return
	}
	t.learnElectionAddr(from, string(addr), nc.RemoteAddr())
	for {
		b, err := readFrame(r)
		if err != nil {
			return
		}
		m, err := decodeNotification(b)
		if err != nil {
			return
		}
		m.From, m.To = from, t.id
		t.deliver(Inbound{Msg: m})
	}
}

func (t *Transport) sendQuorum(m zab.Message, snapshot []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	l := t.links[m.Link]
	if m.Type == zab.MsgDisconnect {
		if l != nil {
			l.dead = true
			l.fc.closeAfterFlush()
			delete(t.links, m.Link)
		}
		return
	}
	if l != nil {
		if t.blocked[m.To] {
			return
		}
		l.fc.sendPacket(&m, snapshot)
		return
	}
	if m.Type == zab.MsgFollowerInfo || m.Type == zab.MsgObserverInfo {
		t.openLink(m)
	}
}

// openLink dials the leader for a new learner link; its first frame is the
// join request.
func (t *Transport) openLink(m zab.Message) {
	addr, ok := t.addrs[m.To]
	if !ok || t.blocked[m.To] {
		t.deliverLocked(Inbound{Msg: zab.Message{Type: zab.MsgDisconnect, From: m.To, Link: m.Link}})
		return
	}
	go func() {
		nc, err := net.DialTimeout("tcp", addr.Quorum, time.Second)
		if err == nil {
			if nc = t.secureDialed(nc, addr.Quorum); nc == nil {
				err = net.ErrClosed
			}
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if err != nil || t.closed || t.blocked[m.To] {
			if nc != nil {
				nc.Close()
			}
			return // the learner retries with a new link
		}
		l := &qlink{id: m.Link, peer: m.To, fc: newFrameConn(nc)}
		t.links[m.Link] = l
		l.fc.sendPacket(&m, nil)
		t.wg.Add(1)
		go func() { defer t.wg.Done(); t.readLink(l, bufio.NewReaderSize(nc, 64<<10)) }()
	}()
}

// serveQuorum accepts a learner's link: its first frame says who it is.
func (t *Transport) serveQuorum(nc net.Conn) {
	r := bufio.NewReaderSize(nc, 64<<10)
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := readFrame(r)
	_ = nc.SetReadDeadline(time.Time{})
	if err != nil {
		nc.Close()
		return
	}
	m, _, err := decodePacket(b)
	if err != nil || (m.Type != zab.MsgFollowerInfo && m.Type != zab.MsgObserverInfo) {
		nc.Close()
		return
	}
	t.mu.Lock()
	if t.closed || t.blocked[m.From] {
		t.mu.Unlock()
		nc.Close()
		return
	}
	l := &qlink{id: m.Link, peer: m.From, fc: newFrameConn(nc), seq: 1}
	if old := t.links[m.Link]; old != nil {
		old.dead = true
		old.fc.close()
	}
	t.links[m.Link] = l
	m.To, m.Seq = t.id, 1
	t.deliverLocked(Inbound{Msg: m})
	t.mu.Unlock()
	t.readLink(l, r)
}

// deliverLink hands one of a link's messages to the driver, waiting while
// the inbox is full: a follower that falls behind the leader (the leader
// commits with the other followers) is slowed down through TCP, as
// Apache's learners are, instead of losing messages and resyncing. It
// reports false once the link is dead or the transport closed. The check
// and the send happen under the lock, so nothing of a link follows its
// disconnect.
func (t *Transport) deliverLink(l *qlink, m zab.Message, snap []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	l.seq++ // only readLink numbers the link's messages, in order
	m.From, m.To, m.Link, m.Seq = l.peer, t.id, l.id, l.seq
	in := Inbound{Msg: m, Snapshot: snap}
	for wait := 50 * time.Microsecond; ; {
		if l.dead || t.closed {
			return false
		}
		if t.blocked[l.peer] {
			return true // an in-process partition drops it
		}
		select {
		case t.inbox <- in:
			return true
		default:
		}
		t.mu.Unlock()
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Millisecond)
		t.mu.Lock()
	}
}

// readLink delivers a link's frames in order, then its end.
func (t *Transport) readLink(l *qlink, r *bufio.Reader) {
	// Frames are read into one reused buffer: decoding copies what it
	// keeps, but for a SNAP's snapshot.
	var buf []byte
	for {
		b, err := readFrameInto(r, buf)
		if err != nil {
			break
		}
		m, snap, err := decodePacket(b)
		if err != nil {
			t.log.Warn("bad quorum packet; closing the link", "peer", l.peer, "err", err)
			break
		}
		if m.Type == zab.MsgSnap || cap(b) > maxSpare {
			buf = nil
		} else {
			buf = b
		}
		if !t.deliverLink(l, m, snap) {
			return
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l.fc.close()
	if t.links[l.id] == l {
		delete(t.links, l.id)
	}
	if !l.dead {
		t.deliverLocked(Inbound{Msg: zab.Message{Type: zab.MsgDisconnect, From: l.peer, To: t.id, Link: l.id}})
	}
}
