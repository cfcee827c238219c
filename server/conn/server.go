// Package conn serves ZooKeeper clients on a TCP port: framing, the
// connect handshake, authentication packets and four-letter words, with
// requests handed to the pipeline and replies written back in batches.
package conn

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"zkit/server/auth"
	"zkit/server/db"
	"zkit/server/pipeline"
)

// Config configures a client listener.
type Config struct {
	Addr              string // host:port; port 0 picks a free port
	MaxClientCnxns    int    // per client IP; 0 means no limit
	MinSessionTimeout int32  // ms
	MaxSessionTimeout int32  // ms
	MaxBuffer         int    // jute.maxbuffer
	// FourLetter answers a four-letter word; it gets only known words.
	FourLetter func(cmd string) []byte
	// SecureAddr is the secure (TLS) client port, secureClientPort, served
	// with TLS beside Addr; "" for none. With SecureAddr set and Addr empty
	// the server is TLS-only.
	SecureAddr string
	TLS        *tls.Config
}

// Server accepts client connections.
type Server struct {
	cfg      Config
	proc     *pipeline.Processor
	db       *db.DB
	sessions atomic.Pointer[sessionsBox]
	auth     *auth.Registry
	log      *slog.Logger
	ln       net.Listener
	sln      net.Listener // the secure port (tls.go)
	// TLSStats counts the secure port's handshakes (tls.go).
	TLSStats TLSStats

	serving  atomic.Bool
	readOnly atomic.Bool
	def      deferral

	mu    sync.Mutex
	conns map[*Conn]struct{}
	perIP map[string]int
	wg    sync.WaitGroup

	Stats ServerStats
}

// New returns a listener-to-be; call Listen then Serve.
func New(cfg Config, proc *pipeline.Processor, d *db.DB, sessions Sessions, reg *auth.Registry, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = 0xfffff
	}
	s := &Server{
		cfg: cfg, proc: proc, db: d, auth: reg, log: log,
		conns: map[*Conn]struct{}{}, perIP: map[string]int{},
	}
	s.SetSessions(sessions)
	s.serving.Store(true)
	return s
}

// SetServing opens or closes the server to clients. A member that is not
// synchronized with a leader answers four-letter words but closes client
// connections, as ZooKeeper does while its server is not running; turning
// serving off closes every session connection.
func (s *Server) SetServing(on bool) {
	if s.serving.Swap(on) == on || on {
		return
	}
	for _, c := range s.Conns() {
		// A connect still waiting for its session would wait for an
		// answer that cannot come: close it too, so the client tries
		// again. Four-letter words go on.
		if !c.Handshaking() || c.connecting.Load() {
			c.Close()
		}
	}
}

type sessionsBox struct{ s Sessions }

// SetSessions changes the session authority (a member that starts leading
// or following switches between its own tracker and its leader's).
func (s *Server) SetSessions(ss Sessions) { s.sessions.Store(&sessionsBox{s: ss}) }

// Sessions returns the current session authority.
func (s *Server) Sessions() Sessions { return s.sessions.Load().s }

// SetReadOnly switches read-only mode (readonlymode.enabled, a member cut
// off from its quorum): only clients that said they can be read-only are
// served, and they are told the server is read-only. Leaving it closes
// every connection made meanwhile: their sessions were local to this
// member.
func (s *Server) SetReadOnly(on bool) {
	if s.readOnly.Swap(on) == on {
		return
	}
	if on {
		s.serving.Store(true)
		return
	}
	for _, c := range s.Conns() {
		if c.readOnlySession {
			c.Close()
		}
	}
}

// ReadOnly reports whether the server is in read-only mode.
func (s *Server) ReadOnly() bool { return s.readOnly.Load() }

// Serving reports whether clients are being served.
func (s *Server) Serving() bool { return s.serving.Load() }

// Listen binds the port, and the secure port if there is one.
func (s *Server) Listen() error {
	if s.ln == nil && (s.cfg.Addr != "" || s.cfg.SecureAddr == "") {
		ln, err := net.Listen("tcp", s.cfg.Addr)
		if err != nil {
			return err
		}
		s.ln = ln
	}
	if err := s.listenSecure(); err != nil {
		if s.ln != nil {
			s.ln.Close()
			s.ln = nil
		}
		return err
	}
	return nil
}

// Addr returns the bound address (the secure port's on a TLS-only
// server), or nil before Listen.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		if s.sln != nil {
			return s.sln.Addr()
		}
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts connections, on the secure port too, until Close.
func (s *Server) Serve() {
	if s.sln != nil {
		s.log.Info("serving TLS clients", "addr", s.sln.Addr().String())
		done := make(chan struct{})
		go func() { defer close(done); s.accept(s.sln, s.cfg.TLS) }()
		defer func() { <-done }()
	}
	if s.ln != nil {
		s.accept(s.ln, nil)
	}
}

// accept serves one listener; a TLS configuration secures its connections.
func (s *Server) accept(ln net.Listener, secure *tls.Config) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("accept failed", "err", err)
			continue
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
		if secure != nil {
			nc = tls.Server(nc, secure)
		}
		c := newConn(s, nc)
		if !s.add(c) {
			s.log.Warn("too many connections from one address; closing", "client", nc.RemoteAddr().String(), "max", s.cfg.MaxClientCnxns)
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve()
		}()
	}
}

func (s *Server) add(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.MaxClientCnxns > 0 && s.perIP[c.remoteIP] >= s.cfg.MaxClientCnxns {
		return false
	}
	s.perIP[c.remoteIP]++
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) remove(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; !ok {
		return
	}
	delete(s.conns, c)
	if s.perIP[c.remoteIP]--; s.perIP[c.remoteIP] <= 0 {
		delete(s.perIP, c.remoteIP)
	}
}

// Close stops accepting and closes every connection.
func (s *Server) Close() {
	if s.ln != nil {
		s.ln.Close()
	}
	if s.sln != nil {
		s.sln.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.closeNow()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Conns returns the open connections.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// negotiate clamps a requested session timeout into [min, max].
func (s *Server) negotiate(t int32) int32 {
	if t < s.cfg.MinSessionTimeout {
		t = s.cfg.MinSessionTimeout
	}
	if t > s.cfg.MaxSessionTimeout {
		t = s.cfg.MaxSessionTimeout
	}
	return t
}

func (s *Server) logConnErr(c *Conn, err error) {
	if err == nil || errors.Is(err, errClose) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return
	}
	s.log.Info("closing client connection", "client", c.nc.RemoteAddr().String(), "session", sessionHex(c.session.Load()), "reason", err.Error())
}

func sessionHex(id int64) string { return "0x" + formatHex(id) }
