package conn

import (
	"encoding/binary"
	"sync"

	"zkit/server/jute"
	"zkit/server/proto"
)

// outbox collects framed replies for one connection. Producers (the
// connection's reader, the apply loop, watch triggers) append under a
// mutex; the writer goroutine swaps the buffer out and writes everything
// queued in one system call.
type outbox struct {
	mu      sync.Mutex
	buf     []byte
	spare   []byte
	closing bool // close the connection once buf is written
	closed  bool // no more appends
	wake    chan struct{}
	enc     jute.Encoder
}

func newOutbox() *outbox { return &outbox{wake: make(chan struct{}, 1)} }

// frame appends one length-prefixed frame built by fill, then wakes the
// writer. It reports false if the outbox is closed.
func (o *outbox) frame(fill func(e *jute.Encoder)) bool {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return false
	}
	start := len(o.buf)
	o.enc = *jute.NewEncoder(append(o.buf, 0, 0, 0, 0))
	fill(&o.enc)
	o.buf = o.enc.Bytes()
	binary.BigEndian.PutUint32(o.buf[start:], uint32(len(o.buf)-start-4))
	o.mu.Unlock()
	o.signal()
	return true
}

// reply appends a reply header and optional body.
func (o *outbox) reply(h *proto.ReplyHeader, body proto.Record) bool {
	return o.frame(func(e *jute.Encoder) {
		h.Encode(e)
		if body != nil {
			body.Encode(e)
		}
	})
}

// raw appends bytes with no framing (4-letter-word output).
func (o *outbox) raw(b []byte) {
	o.mu.Lock()
	if !o.closed {
		o.buf = append(o.buf, b...)
	}
	o.mu.Unlock()
	o.signal()
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// closeAfterFlush asks the writer to close the connection once what is
// queued has been written; later appends are dropped.
func (o *outbox) closeAfterFlush() {
	o.mu.Lock()
	o.closing = true
	o.closed = true
	o.mu.Unlock()
	o.signal()
}

// take swaps out the queued bytes.
func (o *outbox) take() (data []byte, closing bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	data = o.buf
	o.buf = o.spare[:0]
	o.spare = nil
	return data, o.closing
}

// recycle returns a written buffer for reuse, unless it grew very large.
func (o *outbox) recycle(b []byte) {
	if cap(b) > 1<<20 {
		return
	}
	o.mu.Lock()
	if o.spare == nil {
		o.spare = b[:0]
	}
	o.mu.Unlock()
}

// pending returns the number of queued bytes.
func (o *outbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf)
}
