package member

import (
	"fmt"
	"net"
	"time"

	"zkit/server/config"
	"zkit/server/pipeline"
	"zkit/server/quorum"
	"zkit/server/storage"
	"zkit/server/storage/vfs"
	"zkit/server/zab"
)

// QuorumOptions make a server a member of an ensemble.
type QuorumOptions struct {
	ID        uint64
	Voters    []uint64 // participants, this member included unless it observes
	Observers []uint64
	// QuorumAddr and ElectionAddr are where this member listens (port 0
	// picks free ports; see Bind).
	QuorumAddr   string
	ElectionAddr string
	// Peers are the other members' addresses (SetPeers may fill them in
	// after Bind).
	Peers     map[uint64]quorum.Addrs
	InitLimit int // ticks to connect to and sync with a leader
	SyncLimit int // ticks a member may go unheard
	// ElectionWait is the election's finalize wait (default 30 ms);
	// Step is the protocol clock (default 10 ms).
	ElectionWait time.Duration
	Step         time.Duration
	// ReadOnly serves read-only clients while the member has no quorum
	// (readonlymode.enabled).
	ReadOnly bool
	// Servers is the membership with every address, as /zookeeper/config
	// shows it (zoo.cfg's server.N lines); empty, it is built from Voters,
	// Observers and Peers.
	Servers config.Quorum
	// StandaloneEnabled (default in zoo.cfg: true) makes a reconfig to a
	// single voter BADARGUMENTS.
	StandaloneEnabled bool
	// Secure wraps the connections between members (sslQuorum: see
	// ssl.NewQuorum); nil leaves them plain TCP.
	Secure quorum.Secure
}

// Bind binds the client port and, for an ensemble member, the quorum and
// election ports, so their addresses are known before Start (port 0 picks
// free ports). Start binds whatever is not bound yet.
func (s *Server) Bind() error {
	if s.Clients.Addr() == nil {
		if err := s.Clients.Listen(); err != nil {
			return fmt.Errorf("binding client port %s: %w", s.opts.ClientAddr, err)
		}
	}
	q := s.opts.Quorum
	if q == nil || s.transport != nil {
		return nil
	}
	tr, err := quorum.NewTransport(q.ID, q.QuorumAddr, q.ElectionAddr, s.opts.Logger)
	if err != nil {
		return fmt.Errorf("binding quorum/election ports %s, %s: %w", q.QuorumAddr, q.ElectionAddr, err)
	}
	tr.SetSecure(q.Secure)
	s.transport = tr
	return nil
}

// QuorumAddrs returns the bound quorum and election addresses.
func (s *Server) QuorumAddrs() quorum.Addrs {
	if s.transport == nil {
		return quorum.Addrs{}
	}
	return quorum.Addrs{Quorum: s.transport.QuorumAddr(), Election: s.transport.ElectionAddr()}
}

// SetPeers sets the other members' addresses (before Start).
func (s *Server) SetPeers(peers map[uint64]quorum.Addrs) {
	s.opts.Quorum.Peers = peers
}

// SetServers sets the initial configuration with every address (before
// Start).
func (s *Server) SetServers(q config.Quorum) {
	s.opts.Quorum.Servers = q
}

// Status returns the member's role; a standalone server reports Looking
// with Serving set once started.
func (s *Server) Status() quorum.Status {
	if s.peer == nil {
		return quorum.Status{Serving: !s.Started.IsZero()}
	}
	return s.peer.Status()
}

// Membership returns the active configuration of an ensemble member, with
// its addresses (what /zookeeper/config holds); a standalone server has
// none.
func (s *Server) Membership() config.Quorum {
	if s.peer == nil {
		return config.Quorum{}
	}
	return s.peer.Servers()
}

// IsQuorum reports whether the server is an ensemble member.
func (s *Server) IsQuorum() bool { return s.opts.Quorum != nil }

// Block cuts this member off from peer, both ways, until Unblock (an
// in-process network partition).
func (s *Server) Block(peer uint64) {
	if s.transport != nil {
		s.transport.Block(peer)
	}
}

// Unblock heals a Block.
func (s *Server) Unblock(peer uint64) {
	if s.transport != nil {
		s.transport.Unblock(peer)
	}
}

// startQuorum recovers the member's state, then runs ZAB: clients are
// served only while the member leads or follows a leader.
func (s *Server) startQuorum() error {
	if err := s.Bind(); err != nil {
		return err
	}
	st, err := s.openEnsembleStorage()
	if err != nil {
		s.transport.Close()
		return err
	}
	q := s.opts.Quorum
	s.Clients.SetServing(false)
	s.Started = s.opts.Now()
	peer, err := quorum.NewPeer(quorum.Config{
		ID: q.ID, Voters: q.Voters, Observers: q.Observers, Peers: q.Peers,
		TickTime: s.opts.TickTime, InitLimit: q.InitLimit, SyncLimit: q.SyncLimit,
		ElectionWait: q.ElectionWait, Step: q.Step, ReadOnly: q.ReadOnly, Logger: s.opts.Logger,
		Servers: q.Servers, ReconfigEnabled: s.opts.ReconfigEnabled, StandaloneEnabled: q.StandaloneEnabled,
	}, s.transport, storeBackend{st: st, extended: s.opts.ExtendedTypes}, s.DB, s.Proc, s.Sessions, s.Clients)
	if err != nil {
		s.transport.Close()
		st.Close()
		return err
	}
	s.peer = peer
	s.Proc.Start(dropReplicator{})
	st.Start(s.DB)
	peer.Start()
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.Clients.Serve() }()
	go func() { defer s.wg.Done(); s.expireSessions() }()
	go func() { defer s.wg.Done(); s.reapContainers() }()
	s.opts.Logger.Info("ensemble member started", "myid", q.ID, "client", s.Addr().String(),
		"quorum", s.transport.QuorumAddr(), "election", s.transport.ElectionAddr())
	return nil
}

// openEnsembleStorage recovers the data directory, or an empty in-memory
// one when none is set.
func (s *Server) openEnsembleStorage() (*storage.Store, error) {
	o := s.opts.Storage
	fs, dir := o.FS, o.DataDir
	if dir == "" {
		if fs == nil {
			fs = vfs.NewMem(false, 0)
		}
		dir = "/data"
	}
	st, err := storage.Open(storage.Options{
		FS: fs, DataDir: dir, DataLogDir: o.DataLogDir, SnapCount: o.SnapCount,
		NoSync: o.NoSync, PreAllocSize: o.PreAlloc, SnapRetainCount: o.SnapRetainCount,
		PurgeInterval: o.PurgeInterval, Tick: s.opts.TickTime, Extended: s.opts.ExtendedTypes,
		Logger: s.opts.Logger, Now: s.opts.Now,
	})
	if err != nil {
		return nil, err
	}
	s.DB.Replace(st.Recovery.Tree)
	s.store.Store(st)
	st.StartEnsemble(s.fail)
	return st, nil
}

// stopQuorum ends the protocol before the pipeline and storage stop.
func (s *Server) stopQuorum() {
	if s.peer != nil {
		s.peer.Stop()
	}
	if s.transport != nil {
		s.transport.Close()
	}
}

// leading reports whether this server decides for the ensemble (its
// leader, or a standalone server).
func (s *Server) leading() bool {
	if s.peer == nil {
		return true
	}
	st := s.peer.Status()
	return st.Role == zab.Leading && st.Serving
}

// decidesExpiry reports whether this server expires sessions: a
// standalone server, an ensemble's leader (SessionTrackerImpl runs there
// only), or a member serving read-only sessions of its own.
func (s *Server) decidesExpiry() bool {
	if s.peer == nil {
		return true
	}
	st := s.peer.Status()
	return st.ReadOnly || (st.Role == zab.Leading && st.Serving)
}

// dropReplicator discards what the pipeline prepares before the member
// has a role.
type dropReplicator struct{}

func (dropReplicator) Replicate([]pipeline.Entry) {}

// SecureAddr returns the bound secure (TLS) client address, or nil.
func (s *Server) SecureAddr() net.Addr { return s.Clients.SecureAddr() }
