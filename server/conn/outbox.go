package conn

import (
	"encoding/binary"
	"io"
	"sync"
	"sync/atomic"

	"zkit/server/jute"
	"zkit/server/proto"
)

// outbox collects framed replies for one connection. Producers (the
// connection's reader, the apply loop, watch triggers) append under a
// mutex; the writer goroutine swaps the buffer out and writes everything
// queued in one system call.
//
// While the connection's reader answers a request itself (a read), it
// holds the outbox: appends do not wake the writer, and the reader writes
// what is queued with one system call of its own when it is done — the
// common case of a read costs no goroutine switch. Only one goroutine
// writes at a time (writing).
type outbox struct {
	mu      sync.Mutex
	buf     []byte
	spare   []byte
	closing bool // close the connection once buf is written
	closed  bool // no more appends
	writing bool // a goroutine is writing what it took
	held    atomic.Bool
	// deferred is set while a batch (see deferral) will flush this outbox.
	deferred atomic.Bool
	// batch, if set, is asked to take over the wake-up of the writer.
	batch func() bool
	wake  chan struct{}
	enc   jute.Encoder
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
	if o.held.Load() || o.deferred.Load() {
		return
	}
	if o.batch != nil && o.batch() {
		return
	}
	o.wakeWriter()
}

// putBack returns bytes taken but not written to the front of the queue
// and ends the taker's turn.
func (o *outbox) putBack(rest []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writing = false
	if len(rest) == 0 {
		return
	}
	o.buf = append(append(make([]byte, 0, len(rest)+len(o.buf)), rest...), o.buf...)
}

func (o *outbox) wakeWriter() {
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

// take swaps out the queued bytes unless another goroutine is writing;
// the taker must call done after writing them.
func (o *outbox) take() (data []byte, closing, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.writing {
		return nil, o.closing, false
	}
	data = o.buf
	o.buf = o.spare[:0]
	o.spare = nil
	o.writing = true
	return data, o.closing, true
}

// done ends a write and reports whether more is queued (or a close is
// due), so the writer goes round again.
func (o *outbox) done(written []byte) (more bool) {
	o.mu.Lock()
	o.writing = false
	if cap(written) <= 1<<20 && o.spare == nil {
		o.spare = written[:0]
	}
	more = len(o.buf) > 0 || o.closing
	o.mu.Unlock()
	return more
}

// hold makes appends stop waking the writer until flushDirect.
func (o *outbox) hold() { o.held.Store(true) }

// flushDirect releases the outbox and writes what is queued on the
// caller's goroutine, unless the writer is busy or a close is pending, in
// which case the writer is woken to do it.
func (o *outbox) flushDirect(w io.Writer, raw *rawWriter) error {
	o.held.Store(false)
	o.mu.Lock()
	if o.writing || o.closing || len(o.buf) == 0 {
		pending := len(o.buf) > 0 || o.closing
		o.mu.Unlock()
		if pending {
			o.wakeWriter()
		}
		return nil
	}
	o.mu.Unlock()
	data, _, ok := o.take()
	if !ok {
		o.wakeWriter()
		return nil
	}
	// A reply usually fits the socket buffer: one non-blocking attempt,
	// then, for what did not fit, a write that waits.
	n, err := raw.tryWrite(data)
	if n < len(data) && (err == nil || err == errWouldBlock) {
		_, err = w.Write(data[n:])
	}
	if o.done(data) {
		o.wakeWriter()
	}
	return err
}

// pending returns the number of queued bytes.
func (o *outbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf)
}
