package quorum

import (
	"net"
	"runtime"
	"sync"
	"sync/atomic"

	"zkit/server/zab"
)

// maxSpare bounds the output buffer a frameConn keeps for reuse once it
// was written: a burst (a sync stream) must not pin its size.
const maxSpare = 1 << 20

// frameConn writes frames from a queue with one writer goroutine and
// batches whatever queued up while the last write was in flight. Frames
// are encoded straight into the pending output buffer, which the writer
// sends with one write and hands back for reuse.
type frameConn struct {
	nc net.Conn
	mu sync.Mutex
	// items holds what must go out before out: byte runs and frames built
	// when their turn comes (func() []byte), or the close mark. It is
	// empty but for a SNAP or a close.
	items  []any
	out    []byte // frames queued after items
	spare  []byte // the buffer the writer last sent, for the next batch
	wake   chan struct{}
	closed chan struct{}
	dead   atomic.Bool
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

// send queues an encoded frame.
func (c *frameConn) send(frame []byte) {
	if c.dead.Load() {
		return
	}
	c.mu.Lock()
	c.out = append(c.out, frame...)
	c.mu.Unlock()
	c.signal()
}

// sendPacket encodes a quorum packet into the queue.
func (c *frameConn) sendPacket(m *zab.Message, snapshot []byte) {
	if c.dead.Load() {
		return
	}
	c.mu.Lock()
	c.out = appendPacket(c.out, m, snapshot)
	c.mu.Unlock()
	c.signal()
}

// sendFunc queues a frame built only when the writer reaches it, so a large
// one (a snapshot) is made off the caller's goroutine yet keeps its place.
func (c *frameConn) sendFunc(f func() []byte) { c.queue(f) }

func (c *frameConn) queue(item any) {
	c.mu.Lock()
	if len(c.out) > 0 {
		c.items = append(c.items, c.out)
		c.out = nil
	}
	c.items = append(c.items, item)
	c.mu.Unlock()
	c.signal()
}

func (c *frameConn) signal() {
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
	for {
		select {
		case <-c.wake:
		case <-c.closed:
			return
		}
		// Woken by the first frame of a pass, let the sender (the member's
		// loop, often runnable on this processor) queue the rest of it —
		// a proposal's COMMIT after the previous one's, the frames of the
		// next Ready — so that one write carries them all.
		runtime.Gosched()
		c.mu.Lock()
		items, out := c.items, c.out
		c.items, c.out, c.spare = nil, c.spare, nil
		c.mu.Unlock()
		for _, item := range items {
			var f []byte
			switch it := item.(type) {
			case []byte:
				f = it
			case func() []byte:
				f = it()
			case closeMark:
				c.close()
				return
			}
			if f == nil {
				c.close()
				return
			}
			if _, err := c.nc.Write(f); err != nil {
				c.close()
				return
			}
		}
		if len(out) > 0 {
			if _, err := c.nc.Write(out); err != nil {
				c.close()
				return
			}
		}
		if cap(out) <= maxSpare {
			c.mu.Lock()
			if c.spare == nil {
				c.spare = out[:0]
			}
			c.mu.Unlock()
		}
	}
}

func (c *frameConn) close() {
	c.once.Do(func() {
		c.dead.Store(true)
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
