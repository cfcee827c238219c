package ensembletest

import (
	"io"
	"net"
	"sync"
	"time"
)

// CutMode is how a cut link behaves.
type CutMode int

const (
	// Blackhole stops forwarding: connections stay open but carry nothing,
	// new connections are accepted and go nowhere (as when packets are
	// dropped and TCP keeps retransmitting). On heal, every connection that
	// lived through the cut is reset, as its peer's TCP would have given up.
	Blackhole CutMode = iota
	// Reset closes every connection at once and refuses new ones.
	Reset
)

// proxy forwards the connections one member opens to one port (quorum or
// election) of another member. Tests cut and heal it.
type proxy struct {
	name   string
	ln     net.Listener
	target func() (string, error) // where to forward, looked up per connection

	mu     sync.Mutex
	cut    bool
	mode   CutMode
	healed chan struct{} // closed when the current cut ends
	conns  map[*pconn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// pconn is one forwarded connection: the accepted side and the dialled one.
type pconn struct {
	a, b     net.Conn
	once     sync.Once
	doomMu   sync.Mutex
	doomed   bool // saw a cut: reset on heal
	finished chan struct{}
}

func (c *pconn) close() {
	c.once.Do(func() {
		c.a.Close()
		if c.b != nil {
			c.b.Close()
		}
		close(c.finished)
	})
}

func newProxy(name string, target func() (string, error)) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{name: name, ln: ln, target: target, conns: map[*pconn]struct{}{}, healed: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is where the proxy listens.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			nc.Close()
			return
		}
		c := &pconn{a: nc, finished: make(chan struct{})}
		p.conns[c] = struct{}{}
		cut, mode, healed := p.cut, p.mode, p.healed
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.forget(c)
			if cut {
				if mode == Reset {
					c.close()
					return
				}
				// The SYN went through (the kernel accepted), nothing else
				// will until the cut heals; then the connection resets.
				go func() { _, _ = io.Copy(io.Discard, nc) }()
				select {
				case <-healed:
				case <-c.finished:
				}
				c.close()
				return
			}
			addr, err := p.target()
			if err != nil {
				c.close()
				return
			}
			up, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				c.close()
				return
			}
			c.doomMu.Lock()
			c.b = up
			c.doomMu.Unlock()
			select {
			case <-c.finished: // closed by a cut meanwhile
				up.Close()
				return
			default:
			}
			done := make(chan struct{}, 2)
			go func() { p.pump(c, c.a, up); done <- struct{}{} }()
			go func() { p.pump(c, up, c.a); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

func (p *proxy) forget(c *pconn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// passing reports whether data may flow now; if not, it returns the
// channel closed when the cut heals.
func (p *proxy) passing() (bool, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.cut, p.healed
}

// pump copies src to dst until either ends, holding still while the link
// is cut (the sender's TCP buffers fill, as they would).
func (p *proxy) pump(c *pconn, src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		ok, healed := p.passing()
		if !ok {
			// What was read is lost with the connection: wait for the heal
			// (or for the other direction to finish), then reset.
			c.doomMu.Lock()
			c.doomed = true
			c.doomMu.Unlock()
			select {
			case <-healed:
			case <-c.finished:
			}
			c.close()
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				c.close()
				return
			}
		}
		if err != nil {
			// Pass the end on (as a close of both sides).
			c.close()
			return
		}
	}
}

// Cut stops the link.
func (p *proxy) Cut(mode CutMode) {
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		return
	}
	p.cut, p.mode = true, mode
	var conns []*pconn
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	if mode == Reset {
		for _, c := range conns {
			c.close()
		}
	}
	// In Blackhole mode the pumps notice the cut at their next read and
	// hold; a connection idle through the whole cut must still reset on
	// heal, since its peer could not have reached it.
	for _, c := range conns {
		c.doomMu.Lock()
		c.doomed = true
		c.doomMu.Unlock()
	}
}

// Heal restores the link; connections that lived through the cut reset.
func (p *proxy) Heal() {
	p.mu.Lock()
	if !p.cut {
		p.mu.Unlock()
		return
	}
	p.cut = false
	close(p.healed)
	p.healed = make(chan struct{})
	var doomed []*pconn
	for c := range p.conns {
		c.doomMu.Lock()
		if c.doomed {
			doomed = append(doomed, c)
		}
		c.doomMu.Unlock()
	}
	p.mu.Unlock()
	for _, c := range doomed {
		c.close()
	}
}

// Close shuts the proxy and every connection through it.
func (p *proxy) Close() {
	p.mu.Lock()
	p.closed = true
	var conns []*pconn
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.close()
	}
	p.wg.Wait()
}
