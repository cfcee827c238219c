package conn

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"unsafe"
)

// A deferral lets one goroutine that produces many replies at once — the
// apply loop, answering a batch of writes — write them itself instead of
// waking every connection's writer goroutine: while a batch is open,
// outboxes that get data register here, and EndBatch tries a non-blocking
// write on each. Whatever does not fit goes to the writer as usual.
type deferral struct {
	mu     sync.Mutex
	active bool
	conns  []*Conn
}

// BeginBatch opens a batch (pipeline hook).
func (s *Server) BeginBatch() {
	s.def.mu.Lock()
	s.def.active = true
	s.def.mu.Unlock()
}

// EndBatch closes the batch and writes what its replies queued.
func (s *Server) EndBatch() {
	s.def.mu.Lock()
	s.def.active = false
	conns := s.def.conns
	s.def.conns = nil
	s.def.mu.Unlock()
	for _, c := range conns {
		c.out.deferred.Store(false)
		c.tryFlush()
	}
}

// defer registers c's outbox with an open batch; false if there is none.
func (s *Server) deferFlush(c *Conn) bool {
	s.def.mu.Lock()
	defer s.def.mu.Unlock()
	if !s.def.active {
		return false
	}
	if !c.out.deferred.Swap(true) {
		s.def.conns = append(s.def.conns, c)
	}
	return true
}

// tryFlush writes what is queued without blocking; the rest, if any, is
// left to the writer goroutine.
func (c *Conn) tryFlush() {
	data, closing, ok := c.out.take()
	if !ok {
		return // someone is writing; they will see what is queued
	}
	if closing {
		c.out.putBack(data)
		c.out.wakeWriter()
		return
	}
	n, err := c.raw.tryWrite(data)
	if err != nil {
		c.out.putBack(data[n:])
		c.out.wakeWriter() // the writer meets the error and closes
		return
	}
	if n < len(data) {
		c.out.putBack(data[n:])
		c.out.wakeWriter()
		return
	}
	if c.out.done(data) {
		c.out.wakeWriter()
	}
}

// errWouldBlock is tryWrite's answer when the socket buffer is full.
var errWouldBlock = errors.New("would block")

// rawWriter makes one non-blocking write attempt at a time on a socket,
// with nothing allocated per write: only the goroutine whose turn it is to
// write (outbox.take) uses it.
type rawWriter struct {
	rc  syscall.RawConn // nil: not a plain socket (TLS)
	fn  func(fd uintptr) bool
	b   []byte
	n   int
	err error
}

func (w *rawWriter) init(nc net.Conn) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	w.rc = rc
	w.fn = func(fd uintptr) bool {
		w.n, w.err = rawIO(syscall.SYS_WRITE, fd, w.b)
		return true // one attempt: never wait for the socket
	}
}

// rawIO is a read or write system call on a non-blocking socket, made
// without telling the scheduler: it cannot block, and a call the
// scheduler is told about costs more, and after 20 µs (a write that
// wakes the peer can be preempted inside the kernel) hands the goroutine's
// processor to another thread and keeps the scheduler's monitor waking
// every 20 µs.
func rawIO(trap, fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// tryWrite makes one non-blocking write attempt. It returns how much was
// written; a full socket buffer is not an error.
func (w *rawWriter) tryWrite(b []byte) (int, error) {
	if w.rc == nil {
		return 0, errWouldBlock
	}
	w.b = b
	err := w.rc.Write(w.fn)
	n, werr := w.n, w.err
	w.b, w.n, w.err = nil, 0, nil
	if err != nil {
		return 0, err
	}
	if werr == syscall.EAGAIN || werr == syscall.EINTR {
		return 0, nil
	}
	if n < 0 {
		n = 0
	}
	return n, werr
}
