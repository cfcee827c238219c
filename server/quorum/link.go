package quorum

import (
	"bufio"
	"net"
	"sync"
)

// frameConn writes frames from a queue with one writer goroutine and
// batches whatever queued up while the last write was in flight.
type frameConn struct {
	nc     net.Conn
	mu     sync.Mutex
	buf    []any // []byte frames, or func() []byte built when their turn comes
	wake   chan struct{}
	closed chan struct{}
	once   sync.Once
}

func newFrameConn(nc net.Conn) *frameConn {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c := &frameConn{nc: nc, wake: make(chan struct{}, 1), closed: make(chan struct{})}
	go c.writeLoop()
	return c
}

func (c *frameConn) send(frame []byte) { c.queue(frame) }

// sendFunc queues a frame built only when the writer reaches it, so a large
// one (a snapshot) is made off the caller's goroutine yet keeps its place.
func (c *frameConn) sendFunc(f func() []byte) { c.queue(f) }

func (c *frameConn) queue(item any) {
	c.mu.Lock()
	c.buf = append(c.buf, item)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// closeAfterFlush closes the connection once what was queued before is
// written: a leader's last COMMIT reaches the learner it then drops.
func (c *frameConn) closeAfterFlush() { c.queue(closeMark{}) }

type closeMark struct{}

func (c *frameConn) writeLoop() {
	w := bufio.NewWriterSize(c.nc, 64<<10)
	for {
		select {
		case <-c.wake:
		case <-c.closed:
			return
		}
		c.mu.Lock()
		frames := c.buf
		c.buf = nil
		c.mu.Unlock()
		for _, item := range frames {
			var f []byte
			switch it := item.(type) {
			case []byte:
				f = it
			case func() []byte:
				f = it()
			case closeMark:
				_ = w.Flush()
				c.close()
				return
			}
			if f == nil {
				c.close()
				return
			}
			if _, err := w.Write(f); err != nil {
				c.close()
				return
			}
		}
		if err := w.Flush(); err != nil {
			c.close()
			return
		}
	}
}

func (c *frameConn) close() {
	c.once.Do(func() {
		close(c.closed)
		c.nc.Close()
	})
}

func (c *frameConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}
