// Package member assembles one zkit server — database, session tracker,
// request pipeline, client listener, four-letter words — and runs its
// background duties: session expiry and the reaping of containers and TTL
// nodes.
package member

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"zkit/server/auth"
	"zkit/server/conn"
	"zkit/server/db"
	"zkit/server/jute"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/session"
)

// Options configure a server.
type Options struct {
	ClientAddr        string        // host:port to serve clients on; port 0 picks one
	TickTime          time.Duration // the basic time unit (tickTime)
	MinSessionTimeout time.Duration // defaults to 2 ticks
	MaxSessionTimeout time.Duration // defaults to 20 ticks
	MaxClientCnxns    int           // per client IP; 0 means unlimited
	MaxBuffer         int           // jute.maxbuffer
	ExtendedTypes     bool          // TTL nodes
	SuperDigest       string        // DigestAuthenticationProvider.superDigest
	ServerID          int64         // myid; a standalone server uses 1, as ZooKeeper does
	// ContainerCheckInterval is how often empty containers and expired TTL
	// nodes are reaped (znode.container.checkIntervalMs, default 60 s).
	ContainerCheckInterval time.Duration
	// FourLetterWords answers four-letter words; nil disables them.
	FourLetterWords func(s *Server, cmd string) []byte
	Logger          *slog.Logger
	Now             func() time.Time
}

func (o *Options) defaults() {
	if o.TickTime <= 0 {
		o.TickTime = 2 * time.Second
	}
	if o.MinSessionTimeout <= 0 {
		o.MinSessionTimeout = 2 * o.TickTime
	}
	if o.MaxSessionTimeout <= 0 {
		o.MaxSessionTimeout = 20 * o.TickTime
	}
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = 0xfffff
	}
	if o.ContainerCheckInterval <= 0 {
		o.ContainerCheckInterval = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ServerID == 0 {
		o.ServerID = 1
	}
}

// Server is one running zkit server.
type Server struct {
	opts     Options
	DB       *db.DB
	Auth     *auth.Registry
	Sessions *session.Tracker
	Proc     *pipeline.Processor
	Clients  *conn.Server
	Started  time.Time

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// New builds a standalone server with an in-memory database.
func New(opts Options) *Server {
	opts.defaults()
	reg := auth.NewRegistry(opts.SuperDigest)
	d := db.New(reg, opts.ExtendedTypes)
	tracker := session.NewTracker(opts.TickTime, opts.ServerID, opts.Now)
	proc := pipeline.New(d, reg, tracker, pipeline.Options{
		ExtendedTypes: opts.ExtendedTypes, Logger: opts.Logger, Now: opts.Now,
	})
	s := &Server{opts: opts, DB: d, Auth: reg, Sessions: tracker, Proc: proc, stop: make(chan struct{})}
	s.Clients = conn.New(conn.Config{
		Addr:              opts.ClientAddr,
		MaxClientCnxns:    opts.MaxClientCnxns,
		MinSessionTimeout: int32(opts.MinSessionTimeout.Milliseconds()),
		MaxSessionTimeout: int32(opts.MaxSessionTimeout.Milliseconds()),
		MaxBuffer:         opts.MaxBuffer,
		FourLetter:        s.fourLetter,
	}, proc, d, conn.LocalSessions{Tracker: tracker}, reg, opts.Logger)
	return s
}

func (s *Server) fourLetter(cmd string) []byte {
	if s.opts.FourLetterWords == nil {
		return nil
	}
	return s.opts.FourLetterWords(s, cmd)
}

// Options returns the server's options.
func (s *Server) Options() Options { return s.opts }

// Start binds the client port and starts serving.
func (s *Server) Start() error {
	if err := s.Clients.Listen(); err != nil {
		return fmt.Errorf("binding client port %s: %w", s.opts.ClientAddr, err)
	}
	s.Started = s.opts.Now()
	s.Proc.Start(pipeline.InMemory{P: s.Proc})
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.Clients.Serve() }()
	go func() { defer s.wg.Done(); s.expireSessions() }()
	go func() { defer s.wg.Done(); s.reapContainers() }()
	s.opts.Logger.Info("serving clients", "addr", s.Addr().String())
	return nil
}

// Addr returns the client address actually bound.
func (s *Server) Addr() net.Addr { return s.Clients.Addr() }

// Stop closes every connection and stops the pipeline.
func (s *Server) Stop() {
	s.once.Do(func() {
		close(s.stop)
		s.Clients.Close()
		s.wg.Wait()
		s.Proc.Stop()
	})
}

// expireSessions closes sessions whose clients went quiet, once per tick
// bucket (SessionTrackerImpl.run).
func (s *Server) expireSessions() {
	for {
		select {
		case <-s.stop:
			return
		case <-time.After(s.Sessions.NextExpiry()):
		}
		for _, id := range s.Sessions.Expired() {
			s.opts.Logger.Info("session expired", "session", fmt.Sprintf("0x%x", id))
			s.Proc.Submit(&pipeline.Request{Session: id, Op: proto.OpCloseSession})
		}
	}
}

// reapContainers deletes empty containers that once had children and TTL
// nodes unmodified for longer than their TTL (ContainerManager).
func (s *Server) reapContainers() {
	t := time.NewTicker(s.opts.ContainerCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		for _, path := range s.reapable() {
			e := jute.NewEncoder(nil)
			(&proto.PathRecord{Path: path}).Encode(e)
			s.Proc.Submit(&pipeline.Request{Op: proto.OpDeleteContainer, Body: e.Bytes()})
		}
	}
}
