package conn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"zkit/server/auth"
	"zkit/server/jute"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/session"
)

// Conn is one client connection. A reader goroutine decodes requests and
// hands them to the pipeline; a writer goroutine sends what the outbox
// collects.
type Conn struct {
	srv      *Server
	nc       net.Conn
	out      *outbox
	raw      rawWriter // the batch's non-blocking writes (tryFlush)
	fifo     pipeline.FIFO
	remoteIP string

	session         atomic.Int64
	timeout         atomic.Int32
	ready           chan struct{} // closed when the session is established
	readyOnce       sync.Once
	readOnlyReq     bool // the client sent the readOnly flag (a 3.x client)
	canBeReadOnly   bool // ... and set it
	readOnlySession bool // the session was made in read-only mode
	// connecting is set once the connect request is read: the connection
	// then waits on the session authority (a new session's creation, a
	// session's revalidation), which a member that stops serving drops.
	connecting atomic.Bool

	authMu sync.Mutex
	ids    []proto.Id
	// digest is the connection's SASL exchange (sasl.go); only the
	// reader touches it.
	digest *auth.DigestMD5Server

	closeOnce sync.Once
	closed    chan struct{}

	stats connStats
}

var _ pipeline.Client = (*Conn)(nil)

func newConn(s *Server, nc net.Conn) *Conn {
	c := &Conn{srv: s, nc: nc, out: newOutbox(), ready: make(chan struct{}), closed: make(chan struct{})}
	c.out.batch = func() bool { return s.deferFlush(c) }
	c.raw.init(nc)
	c.remoteIP = remoteIP(nc.RemoteAddr())
	// Every connection carries its address as an "ip" identity
	// (ServerCnxn adds it when the connection is made).
	c.ids = []proto.Id{{Scheme: "ip", ID: c.remoteIP}}
	c.stats.established = time.Now()
	return c
}

func remoteIP(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// SessionID implements watch.Watcher.
func (c *Conn) SessionID() int64 { return c.session.Load() }

// AuthIDs implements pipeline.Client. The slice is shared: callers only
// read it (addIDs replaces it rather than change it).
func (c *Conn) AuthIDs() []proto.Id {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	return c.ids
}

// FIFO implements pipeline.Client.
func (c *Conn) FIFO() *pipeline.FIFO { return &c.fifo }

// Reply implements pipeline.Client.
func (c *Conn) Reply(xid int32, zxid int64, err proto.Err, body proto.Record) {
	h := proto.ReplyHeader{Xid: xid, Zxid: zxid, Err: err}
	if c.out.reply(&h, body) {
		c.stats.replied(xid, zxid, c.srv)
	}
}

// Notify implements watch.Watcher: the event is delivered only if the
// client may read the znode (ZooKeeper 3.9 / 3.8.4 filter by READ ACL).
func (c *Conn) Notify(ev proto.WatcherEvent, zxid int64, acl []proto.ACL) {
	if acl != nil && c.srv.auth.Check(acl, proto.PermRead, c.AuthIDs()) != nil {
		return
	}
	h := proto.ReplyHeader{Xid: proto.XidNotification, Zxid: zxid, Err: proto.ErrOK}
	if c.out.reply(&h, &ev) {
		c.srv.Stats.PacketsSent.Add(1)
	}
}

// SessionCreated implements pipeline.Client: the handshake completes.
func (c *Conn) SessionCreated(id int64, timeout int32) {
	select {
	case <-c.ready:
		return // already answered
	default:
	}
	c.sendConnectResponse(id, timeout, session.Password(id))
	c.markReady()
}

func (c *Conn) markReady() { c.readyOnce.Do(func() { close(c.ready) }) }

// Close implements pipeline.Client: the connection closes once its queued
// replies are written.
func (c *Conn) Close() { c.out.closeAfterFlush() }

func (c *Conn) sendConnectResponse(id int64, timeout int32, passwd []byte) {
	resp := proto.ConnectResponse{TimeOut: timeout, SessionID: id, Passwd: passwd}
	c.out.frame(func(e *jute.Encoder) {
		e.Int(resp.ProtocolVersion)
		e.Int(resp.TimeOut)
		e.Long(resp.SessionID)
		e.Buffer(resp.Passwd)
		// Old clients that sent no readOnly flag get none back.
		if c.readOnlyReq {
			e.Bool(c.readOnlySession)
		}
	})
	c.stats.replied(0, -1, c.srv)
}

// errClose ends a connection without a logged error.
var errClose = errors.New("connection closed")

func (c *Conn) serve() {
	defer c.shutdown()
	go c.writeLoop()
	if err := c.startTLS(); err != nil {
		c.srv.logTLSErr(c, err)
		return
	}
	r := bufio.NewReaderSize(c.nc, 64<<10)
	if err := c.handshake(r); err != nil {
		c.srv.logConnErr(c, err)
		return
	}
	if c.raw.rc != nil {
		c.srv.logConnErr(c, c.serveRaw(c.raw.rc, r))
		return
	}
	for {
		frame, err := c.readFrame(r)
		if err != nil {
			c.srv.logConnErr(c, err)
			return
		}
		if err := c.handle(frame); err != nil {
			c.srv.logConnErr(c, err)
			return
		}
	}
}

// readFrame reads one length-prefixed frame, refusing lengths over
// jute.maxbuffer as ZooKeeper does ("Len error").
func (c *Conn) readFrame(r *bufio.Reader) ([]byte, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(lenBuf[:]))
	return c.readBody(r, n)
}

func (c *Conn) readBody(r *bufio.Reader, n int32) ([]byte, error) {
	if err := c.checkLen(n); err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	c.srv.Stats.PacketsReceived.Add(1)
	return buf, nil
}

func (c *Conn) checkLen(n int32) error {
	if n < 0 || int(n) > c.srv.cfg.MaxBuffer {
		return fmt.Errorf("len error: a message with advertised length %d is malformed or larger than jute.maxbuffer=%d", n, c.srv.cfg.MaxBuffer)
	}
	return nil
}

// handshake reads the first frame: a four-letter word, or a ConnectRequest.
func (c *Conn) handshake(r *bufio.Reader) error {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return err
	}
	if cmd, ok := fourLetterWord(lenBuf); ok && c.srv.cfg.FourLetter != nil {
		if cmd == "stmk" {
			// setTraceMask carries its mask in the next 8 bytes; ZooKeeper
			// reads them only if they came with the command.
			var mask [8]byte
			_ = c.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := io.ReadFull(r, mask[:]); err == nil {
				cmd += string(mask[:])
			}
			_ = c.nc.SetReadDeadline(time.Time{})
		}
		out := c.srv.cfg.FourLetter(cmd)
		c.out.raw(out)
		c.out.closeAfterFlush()
		<-c.closed
		return errClose
	}
	body, err := c.readBody(r, int32(binary.BigEndian.Uint32(lenBuf[:])))
	if err != nil {
		return err
	}
	var req proto.ConnectRequest
	d := jute.NewDecoder(body)
	req.Decode(d)
	if d.Err() != nil {
		return fmt.Errorf("malformed connect request: %w", d.Err())
	}
	c.readOnlyReq = req.HasReadOnly
	c.canBeReadOnly = req.HasReadOnly && req.ReadOnly
	c.stats.received(0, proto.OpCreateSession)
	return c.connect(&req)
}

// connect establishes or resumes the session (processConnectRequest).
func (c *Conn) connect(req *proto.ConnectRequest) error {
	// Set before serving is read (SetServing stores serving, then reads
	// this): a connect either sees the server stop or is closed by it.
	c.connecting.Store(true)
	if !c.srv.serving.Load() {
		return errors.New("server not running: not synchronized with a leader")
	}
	if c.srv.readOnly.Load() {
		if !c.canBeReadOnly {
			// ReadOnlyZooKeeperServer refuses clients that cannot be
			// read-only; they look for a read-write server.
			return errors.New("refusing session request for a client that cannot be read-only")
		}
		c.readOnlySession = true
	}
	if last := c.srv.db.LastZxid(); req.LastZxidSeen > last {
		return fmt.Errorf("refusing session request: client has seen zxid 0x%x, our last zxid is 0x%x; client must try another server", req.LastZxidSeen, last)
	}
	timeout := c.srv.negotiate(req.TimeOut)
	c.timeout.Store(timeout)
	if req.SessionID == 0 {
		id := c.srv.Sessions().NextID()
		c.session.Store(id)
		c.srv.proc.Register(id, c)
		c.srv.proc.Submit(&pipeline.Request{
			Client: c, Session: id, Op: proto.OpCreateSession, Timeout: timeout, Handshake: true,
		})
	} else if !c.resume(req.SessionID, req.Passwd, timeout) {
		return errClose
	}
	select {
	case <-c.ready:
	case <-c.closed:
		return errClose
	}
	return nil
}

// resume revalidates a session a client brings back; a wrong password or a
// session gone gets a zero timeout, which clients read as expired. It
// reports false when the connection should end.
func (c *Conn) resume(id int64, passwd []byte, timeout int32) bool {
	// ZooKeeper closes the session's other connections, at once, before it
	// checks the password (processConnectRequest, CLIENT_RECONNECT).
	if old := c.srv.proc.ClientOf(id); old != nil && old != pipeline.Client(c) {
		if oc, ok := old.(*Conn); ok {
			oc.closeNow()
		} else {
			old.Close()
		}
	}
	if id == 0 || !bytes.Equal(passwd, session.Password(id)) {
		c.srv.log.Warn("incorrect password for session", "session", sessionHex(id), "client", c.nc.RemoteAddr().String())
		c.refuseSession()
		return false
	}
	type answer struct {
		ok  bool
		err error
	}
	result := make(chan answer, 1)
	c.srv.Sessions().Revalidate(id, timeout, func(ok bool, err error) { result <- answer{ok, err} })
	var a answer
	select {
	case a = <-result:
	case <-c.closed:
		return false
	}
	if a.err != nil {
		c.srv.log.Info("cannot revalidate session; closing", "session", sessionHex(id), "reason", a.err.Error())
		return false
	}
	if !a.ok {
		c.refuseSession()
		return false
	}
	if old := c.srv.proc.ClientOf(id); old != nil && old != pipeline.Client(c) {
		old.Close()
	}
	c.session.Store(id)
	c.srv.proc.Register(id, c)
	c.sendConnectResponse(id, timeout, session.Password(id))
	c.markReady()
	return true
}

func (c *Conn) refuseSession() {
	c.sendConnectResponse(0, 0, make([]byte, 16))
	c.Close()
	c.markReady()
}

// handle dispatches one request frame.
func (c *Conn) handle(frame []byte) error {
	d := jute.NewDecoder(frame)
	var h proto.RequestHeader
	h.Decode(d)
	if d.Err() != nil {
		return fmt.Errorf("malformed request header: %w", d.Err())
	}
	body := d.Rest()
	c.stats.received(h.Xid, h.Type)
	switch h.Type {
	case proto.OpAuth:
		return c.addAuth(h.Xid, body)
	case proto.OpSASL:
		return c.sasl(h.Xid, body)
	}
	if err := c.enforceAuth(h.Xid); err != nil {
		return err
	}
	id := c.session.Load()
	if !c.srv.Sessions().Touch(id, c.timeout.Load()) {
		// The session expired or closed: drop the request
		// (MissingSessionException); the close of the session ends us.
		return nil
	}
	if !validOp(h.Type) {
		// UnimplementedRequestProcessor: zxid -1, then the connection ends.
		c.Reply(h.Xid, -1, proto.ErrUnimplemented, nil)
		c.Close()
		return nil
	}
	// Hold the outbox while submitting: a read answered right here is
	// written by this goroutine, with no switch to the writer.
	c.out.hold()
	c.srv.proc.Submit(&pipeline.Request{
		Client: c, Session: id, Xid: h.Xid, Op: h.Type, Body: body, IDs: c.AuthIDs(),
	})
	if err := c.out.flushDirect(c.nc, &c.raw); err != nil {
		return err
	}
	return nil
}

// validOp lists the opcodes a server accepts from a client
// (Request.isValid); others get UNIMPLEMENTED and the connection closes.
func validOp(op proto.Op) bool {
	switch op {
	case proto.OpCloseSession, proto.OpCreate, proto.OpCreate2, proto.OpCreateTTL,
		proto.OpCreateContainer, proto.OpDelete, proto.OpDeleteContainer,
		proto.OpExists, proto.OpGetACL, proto.OpGetChildren, proto.OpGetAllChildrenNumber,
		proto.OpGetChildren2, proto.OpGetData, proto.OpGetEphemerals, proto.OpMulti,
		proto.OpMultiRead, proto.OpPing, proto.OpReconfig, proto.OpSetACL, proto.OpSetData,
		proto.OpSetWatches, proto.OpSetWatches2, proto.OpSync, proto.OpCheckWatches,
		proto.OpRemoveWatches, proto.OpAddWatch, proto.OpWhoAmI, proto.OpCreateSession:
		return true
	}
	return false
}

// addAuth handles addauth: identities are added at once and the reply
// (zxid 0) is sent ahead of pending replies, as ZooKeeper does; an unknown
// scheme or failed authentication gets AUTHFAILED and the connection closes.
func (c *Conn) addAuth(xid int32, body []byte) error {
	var pkt proto.AuthPacket
	d := jute.NewDecoder(body)
	pkt.Decode(d)
	if d.Err() != nil {
		return fmt.Errorf("malformed auth packet: %w", d.Err())
	}
	var ids []proto.Id
	if p := c.srv.auth.Get(pkt.Scheme); p != nil {
		ids = c.authenticate(p, pkt.Auth)
	}
	if len(ids) == 0 {
		c.srv.log.Warn("authentication failed", "scheme", pkt.Scheme, "client", c.nc.RemoteAddr().String())
		c.Reply(xid, 0, proto.ErrAuthFailed, nil)
		c.Close()
		return nil
	}
	c.addIDs(ids)
	c.Reply(xid, 0, proto.ErrOK, nil)
	return nil
}

func containsID(ids []proto.Id, id proto.Id) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func (c *Conn) writeLoop() {
	defer c.nc.Close()
	for {
		select {
		case <-c.out.wake:
		case <-c.closed:
			return
		}
		for {
			data, closing, ok := c.out.take()
			if !ok {
				break // the reader is writing; it wakes us if more is queued
			}
			if len(data) > 0 {
				if _, err := c.nc.Write(data); err != nil {
					c.out.done(data)
					c.out.closeAfterFlush()
					c.closeNow()
					return
				}
			}
			more := c.out.done(data)
			if closing {
				c.closeNow()
				return
			}
			if !more {
				break
			}
		}
	}
}

func (c *Conn) closeNow() {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.nc.Close()
	})
}

// shutdown runs when the reader stops: the socket closes, the session
// stays (until it expires or the client comes back), its watches here go.
func (c *Conn) shutdown() {
	c.out.closeAfterFlush()
	// Let the writer send what is queued (a refusal, a last reply) before
	// the socket goes.
	select {
	case <-c.closed:
	case <-time.After(time.Second):
	}
	c.closeNow()
	c.markReady()
	if id := c.session.Load(); id != 0 {
		c.srv.proc.Unregister(id, c)
	}
	c.srv.db.Watches.RemoveWatcher(c)
	c.srv.remove(c)
}
