package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"zkit/server/jute"
	"zkit/server/proto"
)

// session is one ZooKeeper session over one TCP connection, speaking the
// client protocol with the project's own codec. It is not safe for
// concurrent use except as the load generator uses it: one goroutine
// writes (bw), one reads (br).
type session struct {
	nc      net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	id      int64
	timeout time.Duration
	rbuf    []byte // reused body buffer of the reader
}

const ioBuf = 64 << 10

// dial opens a session on addr.
func dial(addr string, sessionTimeout time.Duration) (*session, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	s := &session{nc: nc, br: bufio.NewReaderSize(nc, ioBuf), bw: bufio.NewWriterSize(nc, ioBuf)}
	req := proto.ConnectRequest{TimeOut: int32(sessionTimeout.Milliseconds()), Passwd: make([]byte, 16)}
	e := jute.NewEncoder(make([]byte, 4, 64))
	req.Encode(e)
	frame := e.Bytes()
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(frame); err != nil {
		nc.Close()
		return nil, err
	}
	body, err := s.readFrame()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("reading the connect response from %s: %w", addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	var resp proto.ConnectResponse
	d := jute.NewDecoder(body)
	resp.Decode(d)
	if d.Err() != nil {
		nc.Close()
		return nil, fmt.Errorf("connect response from %s: %w", addr, d.Err())
	}
	if resp.TimeOut <= 0 {
		nc.Close()
		return nil, fmt.Errorf("%s refused the session", addr)
	}
	s.id, s.timeout = resp.SessionID, time.Duration(resp.TimeOut)*time.Millisecond
	return s, nil
}

// readFrame reads one length-prefixed frame into the reused buffer; the
// result is valid until the next call.
func (s *session) readFrame() ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(s.br, lb[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(lb[:])))
	if n < 0 || n > 16<<20 {
		return nil, fmt.Errorf("bad frame length %d", n)
	}
	if cap(s.rbuf) < n {
		s.rbuf = make([]byte, n)
	}
	b := s.rbuf[:n]
	_, err := io.ReadFull(s.br, b)
	return b, err
}

// frameBuffered reports whether a whole frame is already in the read
// buffer, so that reading it will not block.
func (s *session) frameBuffered() bool {
	if s.br.Buffered() < 4 {
		return false
	}
	lb, err := s.br.Peek(4)
	if err != nil {
		return false
	}
	return s.br.Buffered() >= 4+int(binary.BigEndian.Uint32(lb))
}

// readReply reads frames until one answers a request (skipping watch
// notifications and ping replies) and returns its xid and error code.
func (s *session) readReply() (xid int32, code proto.Err, err error) {
	for {
		b, err := s.readFrame()
		if err != nil {
			return 0, 0, err
		}
		if len(b) < 16 {
			return 0, 0, fmt.Errorf("reply of %d bytes is shorter than its header", len(b))
		}
		xid = int32(binary.BigEndian.Uint32(b[0:4]))
		if xid == proto.XidNotification || xid == proto.XidPing {
			continue
		}
		return xid, proto.Err(int32(binary.BigEndian.Uint32(b[12:16]))), nil
	}
}

// close ends the session (closeSession, waiting for its reply so that the
// server has forgotten it) and the connection.
func (s *session) close(xid int32) error {
	defer s.nc.Close()
	_ = s.nc.SetDeadline(time.Now().Add(10 * time.Second))
	var b reqBuf
	b.begin(xid, proto.OpCloseSession)
	if _, err := s.bw.Write(b.end()); err != nil {
		return err
	}
	if err := s.bw.Flush(); err != nil {
		return err
	}
	for {
		got, _, err := s.readReply()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil // the server may close right after its reply
			}
			return err
		}
		if got == xid {
			return nil
		}
	}
}

// reqBuf builds one request frame: length, header, body.
type reqBuf struct{ b []byte }

func (r *reqBuf) begin(xid int32, op proto.Op) {
	r.b = append(r.b[:0], 0, 0, 0, 0)
	r.int(xid)
	r.int(int32(op))
}

func (r *reqBuf) int(v int32) { r.b = binary.BigEndian.AppendUint32(r.b, uint32(v)) }

func (r *reqBuf) str(s string) {
	r.int(int32(len(s)))
	r.b = append(r.b, s...)
}

func (r *reqBuf) buf(p []byte) {
	r.int(int32(len(p)))
	r.b = append(r.b, p...)
}

// end patches the length prefix and returns the frame.
func (r *reqBuf) end() []byte {
	binary.BigEndian.PutUint32(r.b, uint32(len(r.b)-4))
	return r.b
}

// openACL is ZooDefs.Ids.OPEN_ACL_UNSAFE: world:anyone with every permission.
func (r *reqBuf) openACL() {
	r.int(1)
	r.int(proto.PermAll)
	r.str("world")
	r.str("anyone")
}

func (r *reqBuf) create(xid int32, path string, data []byte) []byte {
	r.begin(xid, proto.OpCreate)
	r.str(path)
	r.buf(data)
	r.openACL()
	r.int(0) // persistent
	return r.end()
}

// createSeq is create with a path made of prefix, client number and
// sequence, built without allocating a string.
func (r *reqBuf) createSeq(xid int32, prefix string, client int, seq int64, data []byte) []byte {
	r.begin(xid, proto.OpCreate)
	at := len(r.b)
	r.int(0) // path length, patched below
	r.b = append(r.b, prefix...)
	r.b = strconv.AppendInt(r.b, int64(client), 10)
	r.b = append(r.b, '-')
	r.b = strconv.AppendInt(r.b, seq, 10)
	binary.BigEndian.PutUint32(r.b[at:], uint32(len(r.b)-at-4))
	r.buf(data)
	r.openACL()
	r.int(0)
	return r.end()
}

func (r *reqBuf) setData(xid int32, path string, data []byte) []byte {
	r.begin(xid, proto.OpSetData)
	r.str(path)
	r.buf(data)
	r.int(-1)
	return r.end()
}

func (r *reqBuf) getData(xid int32, path string) []byte {
	r.begin(xid, proto.OpGetData)
	r.str(path)
	r.b = append(r.b, 0) // no watch
	return r.end()
}

func (r *reqBuf) delete(xid int32, path string) []byte {
	r.begin(xid, proto.OpDelete)
	r.str(path)
	r.int(-1)
	return r.end()
}

// batch sends every request that next yields (nil ends) with up to depth in
// flight, and returns how many replies carried each error code. It is for
// set-up and clean-up, not for measuring.
func (s *session) batch(depth int, next func(r *reqBuf, xid int32) []byte) (map[proto.Err]int, error) {
	codes := map[proto.Err]int{}
	var r reqBuf
	var xid int32
	inflight := 0
	done := false
	for !done || inflight > 0 {
		for !done && inflight < depth {
			frame := next(&r, xid+1)
			if frame == nil {
				done = true
				break
			}
			xid++
			if _, err := s.bw.Write(frame); err != nil {
				return codes, err
			}
			inflight++
		}
		if err := s.bw.Flush(); err != nil {
			return codes, err
		}
		if inflight == 0 {
			break
		}
		// Read half the window before topping it up again.
		for n := max(1, inflight/2); n > 0; n-- {
			_, code, err := s.readReply()
			if err != nil {
				return codes, err
			}
			codes[code]++
			inflight--
		}
	}
	return codes, nil
}
