// Package zkclient is a minimal ZooKeeper client built on the project's own
// codec, for tests and tools that need what general clients do not offer:
// every opcode (create2 modes, TTL, multiRead, addWatch, removeWatches,
// getEphemerals, whoAmI, ...), exact reply headers, raw and malformed
// frames. It speaks to zkit and Apache ZooKeeper alike.
package zkclient

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"zkit/server/jute"
	"zkit/server/proto"
)

// Event is a watch notification with the zxid of its reply header.
type Event struct {
	proto.WatcherEvent
	Zxid int64
}

// Reply is a raw reply: its header and undecoded body.
type Reply struct {
	Header proto.ReplyHeader
	Body   []byte
}

// Client is one session over one connection.
type Client struct {
	nc        net.Conn
	SessionID int64
	Passwd    []byte
	Timeout   int32
	ReadOnly  bool

	mu      sync.Mutex
	xid     int32
	pending map[int32]chan Reply
	order   []int32 // xids in send order, to check reply ordering
	Events  chan Event
	closed  chan struct{}
	err     error
	// OutOfOrder is set if a reply ever arrived out of send order.
	OutOfOrder bool
	wmu        sync.Mutex
}

// Options of a connect.
type Options struct {
	Timeout       time.Duration // requested session timeout
	SessionID     int64         // resume this session
	Passwd        []byte
	LastZxidSeen  int64
	NoReadOnly    bool // omit the readOnly flag (an old client)
	CanBeReadOnly bool
	// Dial opens the connection (default: TCP with a 5 s timeout); a TLS
	// dialer reaches a secure client port.
	Dial func(addr string) (net.Conn, error)
}

// Connect opens a session.
func Connect(addr string, o Options) (*Client, error) {
	dial := o.Dial
	if dial == nil {
		dial = func(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }
	}
	nc, err := dial(addr)
	if err != nil {
		return nil, err
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	req := proto.ConnectRequest{
		LastZxidSeen: o.LastZxidSeen, TimeOut: int32(o.Timeout.Milliseconds()),
		SessionID: o.SessionID, Passwd: o.Passwd, ReadOnly: o.CanBeReadOnly,
	}
	if req.Passwd == nil {
		req.Passwd = make([]byte, 16)
	}
	e := jute.NewEncoder(nil)
	req.Encode(e)
	body := e.Bytes()
	if o.NoReadOnly {
		body = body[:len(body)-1]
	}
	if err := writeFrame(nc, body); err != nil {
		nc.Close()
		return nil, err
	}
	r := bufio.NewReader(nc)
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	frame, err := readFrame(r)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("reading connect response: %w", err)
	}
	_ = nc.SetReadDeadline(time.Time{})
	var resp proto.ConnectResponse
	d := jute.NewDecoder(frame)
	resp.Decode(d)
	if d.Err() != nil {
		nc.Close()
		return nil, d.Err()
	}
	c := &Client{
		nc: nc, SessionID: resp.SessionID, Passwd: resp.Passwd, Timeout: resp.TimeOut,
		ReadOnly: resp.ReadOnly, pending: map[int32]chan Reply{},
		Events: make(chan Event, 1024), closed: make(chan struct{}),
	}
	if resp.TimeOut <= 0 {
		nc.Close()
		return c, ErrExpired
	}
	go c.readLoop(r)
	go c.pingLoop()
	return c, nil
}

// ErrExpired is returned by Connect when the server refuses the session.
var ErrExpired = errors.New("session expired")

func writeFrame(w io.Writer, body []byte) error {
	buf := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	_, err := w.Write(buf)
	return err
}

func readFrame(r *bufio.Reader) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(lb[:]))
	if n < 0 || n > 64<<20 {
		return nil, fmt.Errorf("bad frame length %d", n)
	}
	buf := make([]byte, n)
	_, err := io.ReadFull(r, buf)
	return buf, err
}

func (c *Client) readLoop(r *bufio.Reader) {
	defer close(c.closed)
	for {
		frame, err := readFrame(r)
		if err != nil {
			c.mu.Lock()
			c.err = err
			for _, ch := range c.pending {
				close(ch)
			}
			c.pending = map[int32]chan Reply{}
			c.mu.Unlock()
			return
		}
		d := jute.NewDecoder(frame)
		var h proto.ReplyHeader
		h.Decode(d)
		switch h.Xid {
		case proto.XidNotification:
			var ev proto.WatcherEvent
			ev.Decode(d)
			select {
			case c.Events <- Event{WatcherEvent: ev, Zxid: h.Zxid}:
			default:
			}
			continue
		case proto.XidPing:
			continue
		}
		c.mu.Lock()
		ch := c.pending[h.Xid]
		delete(c.pending, h.Xid)
		if h.Xid > 0 {
			if len(c.order) == 0 || c.order[0] != h.Xid {
				c.OutOfOrder = true
			}
			for i, x := range c.order {
				if x == h.Xid {
					c.order = append(c.order[:i], c.order[i+1:]...)
					break
				}
			}
		}
		c.mu.Unlock()
		if ch != nil {
			ch <- Reply{Header: h, Body: d.Rest()}
		}
	}
}

func (c *Client) pingLoop() {
	t := time.NewTicker(time.Duration(c.Timeout/3) * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
			e := jute.NewEncoder(nil)
			h := proto.RequestHeader{Xid: proto.XidPing, Type: proto.OpPing}
			h.Encode(e)
			c.wmu.Lock()
			_ = writeFrame(c.nc, e.Bytes())
			c.wmu.Unlock()
		}
	}
}

// Send writes a request without waiting; the returned channel yields its
// reply (closed if the connection drops first).
func (c *Client) Send(op proto.Op, req proto.Record) (int32, <-chan Reply) {
	c.mu.Lock()
	c.xid++
	xid := c.xid
	ch := make(chan Reply, 1)
	if c.err != nil {
		// The connection is gone: nobody will answer.
		c.mu.Unlock()
		close(ch)
		return xid, ch
	}
	c.pending[xid] = ch
	c.order = append(c.order, xid)
	c.mu.Unlock()
	e := jute.NewEncoder(nil)
	h := proto.RequestHeader{Xid: xid, Type: op}
	h.Encode(e)
	if req != nil {
		req.Encode(e)
	}
	c.wmu.Lock()
	_ = writeFrame(c.nc, e.Bytes())
	c.wmu.Unlock()
	return xid, ch
}

// SendRaw writes raw bytes (for malformed-input tests).
func (c *Client) SendRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(b)
	return err
}

// ErrConnection is returned when the connection dropped before a reply.
var ErrConnection = errors.New("connection lost")

// Call sends a request and waits for its reply, decoding the body into
// resp when the reply carries no error.
func (c *Client) Call(op proto.Op, req, resp proto.Record) (proto.ReplyHeader, error) {
	_, ch := c.Send(op, req)
	select {
	case r, ok := <-ch:
		if !ok {
			return proto.ReplyHeader{}, ErrConnection
		}
		if r.Header.Err != proto.ErrOK || resp == nil {
			return r.Header, nil
		}
		d := jute.NewDecoder(r.Body)
		resp.Decode(d)
		return r.Header, d.Err()
	case <-time.After(15 * time.Second):
		return proto.ReplyHeader{}, errors.New("timeout waiting for reply")
	}
}

// Auth sends an addauth packet (xid -4).
func (c *Client) Auth(scheme string, auth []byte) (proto.Err, error) {
	c.mu.Lock()
	ch := make(chan Reply, 1)
	if c.err != nil {
		c.mu.Unlock()
		return 0, ErrConnection
	}
	c.pending[proto.XidAuth] = ch
	c.mu.Unlock()
	e := jute.NewEncoder(nil)
	h := proto.RequestHeader{Xid: proto.XidAuth, Type: proto.OpAuth}
	h.Encode(e)
	p := proto.AuthPacket{Scheme: scheme, Auth: auth}
	p.Encode(e)
	c.wmu.Lock()
	_ = writeFrame(c.nc, e.Bytes())
	c.wmu.Unlock()
	select {
	case r, ok := <-ch:
		if !ok {
			return 0, ErrConnection
		}
		return r.Header.Err, nil
	case <-time.After(15 * time.Second):
		return 0, errors.New("timeout waiting for auth reply")
	}
}

// Close sends closeSession, waits for its reply, and closes the socket.
func (c *Client) Close() error {
	_, err := c.Call(proto.OpCloseSession, nil, nil)
	c.nc.Close()
	<-c.closed
	return err
}

// Drop closes the socket without closing the session.
func (c *Client) Drop() {
	c.nc.Close()
	<-c.closed
}

// Done is closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.closed }

// NextEvent waits for a watch event.
func (c *Client) NextEvent(timeout time.Duration) (Event, bool) {
	select {
	case ev := <-c.Events:
		return ev, true
	case <-time.After(timeout):
		return Event{}, false
	}
}

// FourLetter sends a four-letter word and returns the whole answer.
func FourLetter(addr, cmd string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte(cmd)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(nc)
	return string(b), err
}
