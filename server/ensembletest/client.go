package ensembletest

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// go-zookeeper keeps the zxid of each reply header to itself. A Session
// dials through a connection that reads the server's frames as they pass,
// to see every reply header: the zxid a client has seen must never go
// backwards within a session, across reconnections to other members too
// (a member behind the client must refuse it).

// Session is one go-zookeeper client with the reply zxids it saw.
type Session struct {
	Name  string
	Conn  *zk.Conn
	hosts *orderedHosts

	mu         sync.Mutex
	sessionID  int64
	maxZxid    int64 // highest reply zxid of this session
	lastReply  int64 // header zxid of the last reply to a request (xid ≥ 0)
	server     string
	violations []string
	reconnects int
	expired    int // sessions lost (the client had to start a new one)
	history    []string
	start      time.Time
}

// History lists the session's connections: when, to which member, with
// which outcome.
func (s *Session) History() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.history...)
}

func (s *Session) notef(format string, args ...any) {
	s.history = append(s.history, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
}

// Expired is how many times the client lost its session and made a new
// one.
func (s *Session) Expired() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expired
}

// Dial connects a client that tries the servers in the given order (then
// around again), not shuffled, so a test decides where sessions go.
func Dial(name string, servers []string, timeout time.Duration) (*Session, error) {
	return dial(name, &orderedHosts{servers: append([]string(nil), servers...)}, timeout)
}

// DialEager is Dial for a client that, having tried every server, starts
// again at once instead of go-zookeeper's one-second pause: to measure
// how soon an ensemble serves again, not the client's back-off.
func DialEager(name string, servers []string, timeout time.Duration) (*Session, error) {
	return dial(name, &orderedHosts{servers: append([]string(nil), servers...), eager: true}, timeout)
}

func dial(name string, hosts *orderedHosts, timeout time.Duration) (*Session, error) {
	s := &Session{Name: name, hosts: hosts}
	c, _, err := zk.Connect(hosts.servers, timeout,
		zk.WithHostProvider(s.hosts), zk.WithDialer(s.dial), zk.WithLogInfo(false),
		zk.WithLogger(quietLogger{}))
	if err != nil {
		return nil, err
	}
	s.Conn = c
	return s, nil
}

// WaitConnected waits until the session is established.
func (s *Session) WaitConnected(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for s.Conn.State() != zk.StateHasSession {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no session within %v (state %v)", s.Name, timeout, s.Conn.State())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// Close ends the session.
func (s *Session) Close() { s.Conn.Close() }

// SeenZxid is the highest reply zxid the session has seen.
func (s *Session) SeenZxid() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxZxid
}

// LastReplyZxid is the header zxid of the last reply to a request.
func (s *Session) LastReplyZxid() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastReply
}

// Server is the address of the member the session last connected to.
func (s *Session) Server() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.server
}

// Violations lists every reply zxid that went backwards.
func (s *Session) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

func (s *Session) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	nc, err := net.DialTimeout(network, addr, timeout)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.server = addr
	s.reconnects++
	s.notef("connected to %s", addr)
	s.mu.Unlock()
	return &tapConn{Conn: nc, s: s, addr: addr, first: true}, nil
}

func (s *Session) connected(addr string, sessionID int64, timeout int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notef("%s answered: session 0x%x, timeout %dms (seen zxid 0x%x)", addr, sessionID, timeout, s.maxZxid)
	if sessionID == 0 {
		return // expired: the client starts a new session next
	}
	if sessionID != s.sessionID {
		// A new session (the old one expired): its zxids start afresh
		// from the client's point of view (it sends lastZxidSeen 0).
		if s.sessionID != 0 {
			s.expired++
		}
		s.sessionID, s.maxZxid, s.lastReply = sessionID, 0, 0
	}
}

func (s *Session) header(addr string, xid int32, zxid int64) {
	if xid == -1 || zxid <= 0 { // watch events carry no zxid order
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if zxid < s.maxZxid {
		s.violations = append(s.violations, fmt.Sprintf("%s session 0x%x: reply xid %d from %s has zxid 0x%x after the session saw 0x%x",
			time.Now().Format("15:04:05.000"), s.sessionID, xid, addr, zxid, s.maxZxid))
	} else {
		s.maxZxid = zxid
	}
	if xid >= 0 {
		s.lastReply = zxid
	}
}

// tapConn reads the frames a server sends: the first is the connect
// response, every later one starts with a reply header (xid, zxid, err).
type tapConn struct {
	net.Conn
	s     *Session
	addr  string
	first bool
	hdr   [24]byte
	have  int // bytes of hdr filled
	want  int // header bytes wanted once the length is known
	rest  int // frame bytes after the header
	skip  int // frame bytes still to pass
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.feed(p[:n])
	return n, err
}

func (c *tapConn) feed(b []byte) {
	for len(b) > 0 {
		if c.skip > 0 {
			k := min(c.skip, len(b))
			c.skip -= k
			b = b[k:]
			continue
		}
		if c.have < 4 {
			k := copy(c.hdr[c.have:4], b)
			c.have += k
			b = b[k:]
			if c.have < 4 {
				return
			}
			length := int(binary.BigEndian.Uint32(c.hdr[:4]))
			c.want = min(length, 20)
			c.rest = length - c.want
			if c.want == 0 {
				c.done()
			}
			continue
		}
		k := copy(c.hdr[c.have:4+c.want], b)
		c.have += k
		b = b[k:]
		if c.have == 4+c.want {
			c.done()
		}
	}
}

func (c *tapConn) done() {
	h := c.hdr[4 : 4+c.want]
	if c.first {
		// protocolVersion, timeOut, sessionId, passwd...
		if len(h) >= 16 {
			c.s.connected(c.addr, int64(binary.BigEndian.Uint64(h[8:16])), int32(binary.BigEndian.Uint32(h[4:8])))
		}
		c.first = false
	} else if len(h) >= 12 {
		c.s.header(c.addr, int32(binary.BigEndian.Uint32(h[0:4])), int64(binary.BigEndian.Uint64(h[4:12])))
	}
	c.have, c.want, c.skip, c.rest = 0, 0, c.rest, 0
}

// orderedHosts is a zk.HostProvider that tries the servers in the order
// the test gave (zk.Connect shuffles the list it passes to Init, so that
// list is ignored), moving on to the next one after each failure, as
// go-zookeeper's DNSHostProvider and the Java client do.
type orderedHosts struct {
	mu      sync.Mutex
	servers []string
	curr    int
	last    int
	eager   bool // never report a full round (no back-off)
}

func (h *orderedHosts) Init([]string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.curr, h.last = -1, -1
	return nil
}

func (h *orderedHosts) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.servers)
}

func (h *orderedHosts) Next() (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.curr = (h.curr + 1) % len(h.servers)
	retryStart := h.curr == h.last
	if h.last == -1 {
		h.last = 0
	}
	if h.eager && retryStart {
		retryStart = false
		time.Sleep(2 * time.Millisecond) // do not spin on refused connections
	}
	return h.servers[h.curr], retryStart
}

func (h *orderedHosts) Connected() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = h.curr
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// Rotate returns servers starting at index i.
func Rotate(servers []string, i int) []string {
	i %= len(servers)
	return append(append([]string(nil), servers[i:]...), servers[:i]...)
}
