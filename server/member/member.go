// Package member assembles one zkit server — database, session tracker,
// request pipeline, client listener, four-letter words — and runs its
// background duties: session expiry and the reaping of containers and TTL
// nodes.
package member

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"zkit/server/auth"
	"zkit/server/conn"
	"zkit/server/db"
	"zkit/server/jute"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/quorum"
	"zkit/server/session"
	"zkit/server/storage"
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
	EnforceQuota      bool          // hard quota limits fail writes (zookeeper.enforceQuota)
	// ReconfigEnabled allows dynamic reconfiguration (reconfigEnabled);
	// without it a reconfig is RECONFIGDISABLED.
	ReconfigEnabled bool
	SuperDigest     string // DigestAuthenticationProvider.superDigest
	ServerID        int64  // myid; a standalone server uses 1, as ZooKeeper does
	// ContainerCheckInterval is how often empty containers and expired TTL
	// nodes are reaped (znode.container.checkIntervalMs, default 60 s).
	ContainerCheckInterval time.Duration
	// FourLetterWords answers four-letter words; nil disables them.
	FourLetterWords func(s *Server, cmd string) []byte
	// Storage is where the data goes; the zero value keeps it in memory.
	Storage StorageOptions
	// Quorum makes the server an ensemble member; nil runs it standalone.
	Quorum *QuorumOptions

	// SecureClientAddr serves TLS clients (secureClientPort) beside
	// ClientAddr, with TLS; ClientAddr may then be empty (TLS-only).
	SecureClientAddr string
	TLS              *tls.Config
	// X509 is the x509 authentication scheme, registered when set (a
	// secure client port needs it to give clients their certificate's
	// identity).
	X509 *auth.X509Provider
	// SASL configures SASL logins (DIGEST-MD5), the sasl ACL scheme and
	// authentication enforcement; nil leaves SASL unconfigured.
	SASL *auth.SASLConfig

	Logger *slog.Logger
	Now    func() time.Time
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

	store atomic.Pointer[storage.Store]

	// An ensemble member's protocol (nil for a standalone server).
	peer      *quorum.Peer
	transport *quorum.Transport
	failed    chan struct{}
	failErr   atomic.Pointer[error]
	initErr   error // a setting New could not apply; Start returns it

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// New builds a standalone server. Its data directory, if any, is recovered
// by Start.
func New(opts Options) *Server {
	opts.defaults()
	reg := auth.NewRegistry(opts.SuperDigest)
	if opts.X509 != nil {
		reg.Add(opts.X509)
	}
	d := db.New(reg, opts.ExtendedTypes)
	tracker := session.NewTracker(opts.TickTime, opts.ServerID, opts.Now)
	s := &Server{opts: opts, DB: d, Auth: reg, Sessions: tracker, stop: make(chan struct{}), failed: make(chan struct{})}
	if opts.SASL != nil {
		s.initErr = reg.ConfigureSASL(*opts.SASL)
	}
	proc := pipeline.New(d, reg, tracker, pipeline.Options{
		ExtendedTypes: opts.ExtendedTypes, EnforceQuota: opts.EnforceQuota, ReconfigEnabled: opts.ReconfigEnabled,
		Logger: opts.Logger, Now: opts.Now, Applied: s.applied,
	})
	s.Proc = proc
	s.Clients = conn.New(conn.Config{
		Addr:              opts.ClientAddr,
		MaxClientCnxns:    opts.MaxClientCnxns,
		MinSessionTimeout: int32(opts.MinSessionTimeout.Milliseconds()),
		MaxSessionTimeout: int32(opts.MaxSessionTimeout.Milliseconds()),
		MaxBuffer:         opts.MaxBuffer,
		FourLetter:        s.fourLetter,
		SecureAddr:        opts.SecureClientAddr,
		TLS:               opts.TLS,
	}, proc, d, conn.LocalSessions{Tracker: tracker}, reg, opts.Logger)
	proc.SetBatchHooks(s.Clients)
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

// Start recovers the data directory, binds the client port and starts
// serving.
func (s *Server) Start() error {
	if s.initErr != nil {
		return s.initErr
	}
	if s.opts.Quorum != nil {
		return s.startQuorum()
	}
	repl, err := s.openStorage()
	if err != nil {
		return err
	}
	if err := s.Bind(); err != nil {
		s.closeStorage()
		return err
	}
	s.Started = s.opts.Now()
	s.Proc.Start(repl)
	if st := s.Store(); st != nil {
		st.Start(s.DB)
	}
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.Clients.Serve() }()
	go func() { defer s.wg.Done(); s.expireSessions() }()
	go func() { defer s.wg.Done(); s.reapContainers() }()
	s.opts.Logger.Info("serving clients", "addr", s.Addr().String())
	return nil
}

// Addr returns the client address actually bound.
func (s *Server) Addr() net.Addr { return s.Clients.Addr() }

// Stop closes every connection and stops the pipeline; the writes already
// taken are logged and answered first. Then the storage closes.
func (s *Server) Stop() {
	s.once.Do(func() {
		close(s.stop)
		s.stopQuorum()
		s.Clients.Close()
		s.wg.Wait()
		s.Proc.Stop()
		s.closeStorage()
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
		expired := s.Sessions.Expired()
		if !s.decidesExpiry() {
			continue // a follower's tracker only mirrors the leader's
		}
		for _, id := range expired {
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
		if !s.leading() {
			continue // the leader reaps for the ensemble
		}
		for _, path := range s.reapable() {
			e := jute.NewEncoder(nil)
			(&proto.PathRecord{Path: path}).Encode(e)
			s.Proc.Submit(&pipeline.Request{Op: proto.OpDeleteContainer, Body: e.Bytes()})
		}
	}
}
