package ensemble

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"

	"zkit/server/admin"
	"zkit/server/config"
	"zkit/server/member"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/quorum"
	"zkit/server/storage/vfs"
	"zkit/server/zab"
)

// Member is one member of an in-process ensemble. Its ports stay the same
// across restarts.
type Member struct {
	ID       uint64
	Observer bool

	e          *Ensemble
	voters     []uint64
	observers  []uint64
	clientAddr string
	secureAddr string // Config.ClientTLS
	addrs      quorum.Addrs
	peers      map[uint64]quorum.Addrs
	servers    config.Quorum // the configuration it starts with

	mu      sync.Mutex
	srv     *member.Server
	fs      *vfs.MemFS // the member's data, when kept in memory
	blocked map[uint64]bool
	running bool

	admin   *admin.AdminServer   // Config.AdminServer
	metrics *admin.MetricsServer // Config.Metrics
}

// Status is a member's state, for tests and the Python kit.
type Status struct {
	Running bool
	Role    zab.Role
	Leader  uint64
	Epoch   uint32
	Serving bool
	Zxid    int64 // last applied
}

// State names the status: "leading", "following", "observing", "looking"
// or "stopped".
func (s Status) State() string {
	switch {
	case !s.Running:
		return "stopped"
	case !s.Serving:
		return "looking"
	case s.Role == zab.Leading:
		return "leading"
	case s.Role == zab.Observing:
		return "observing"
	}
	return "following"
}

func newMember(e *Ensemble, id uint64, voters, observers []uint64) (*Member, error) {
	m := &Member{
		ID: id, Observer: int(id) > e.cfg.Size, e: e, voters: voters, observers: observers,
		blocked: map[uint64]bool{},
	}
	if e.cfg.DataDir == "" {
		m.fs = vfs.NewMem(false, 0)
	}
	any := net.JoinHostPort(e.cfg.Host, "0")
	srv := m.build(any, quorum.Addrs{Quorum: any, Election: any})
	if err := srv.Bind(); err != nil {
		return nil, err
	}
	m.srv = srv
	m.clientAddr = srv.Addr().String()
	if a := srv.SecureAddr(); a != nil {
		m.secureAddr = a.String()
	}
	m.addrs = srv.QuorumAddrs()
	if err := m.startHTTP(); err != nil {
		srv.Stop()
		return nil, err
	}
	return m, nil
}

// build makes the member's server for the given addresses.
func (m *Member) build(client string, addrs quorum.Addrs) *member.Server {
	cfg := &m.e.cfg
	storage := member.StorageOptions{NoSync: cfg.NoSync}
	if m.fs != nil {
		storage.FS = m.fs
		storage.PreAlloc = 1 << 20 // memory, not disk blocks: keep it small
	}
	dataDir := ""
	if cfg.DataDir != "" {
		dataDir = filepath.Join(cfg.DataDir, "member-"+strconv.FormatUint(m.ID, 10))
		storage.DataDir = dataDir
	} else {
		storage.DataDir = "/data" // on the member's in-memory file system
	}
	words := &config.Config{FourLetterWordsAll: true, DataDir: dataDir}
	return member.New(member.Options{
		ClientAddr:             client,
		SecureClientAddr:       m.secureClientAddr(),
		TLS:                    cfg.ClientTLS,
		X509:                   cfg.X509,
		TickTime:               cfg.TickTime,
		ExtendedTypes:          cfg.ExtendedTypes,
		ServerID:               int64(m.ID),
		ContainerCheckInterval: cfg.ContainerCheckInterval,
		SuperDigest:            cfg.SuperDigest,
		FourLetterWords:        admin.FourLetterWords(words),
		Storage:                storage,
		Logger:                 cfg.Logger.With("member", m.ID),
		Quorum: &member.QuorumOptions{
			ID: m.ID, Voters: m.voters, Observers: m.observers,
			QuorumAddr: addrs.Quorum, ElectionAddr: addrs.Election,
			InitLimit: cfg.InitLimit, SyncLimit: cfg.SyncLimit, ReadOnly: cfg.ReadOnly,
			Secure: cfg.QuorumTLS, StandaloneEnabled: true,
		},
		ReconfigEnabled: cfg.ReconfigEnabled,
	})
}

func (m *Member) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running {
		return nil
	}
	if m.srv == nil {
		m.srv = m.build(m.clientAddr, m.addrs)
	}
	peers := map[uint64]quorum.Addrs{}
	for id, a := range m.peers {
		if id != m.ID {
			peers[id] = a
		}
	}
	m.srv.SetPeers(peers)
	m.srv.SetServers(m.servers)
	if err := m.srv.Start(); err != nil {
		m.srv = nil
		return fmt.Errorf("member %d: %w", m.ID, err)
	}
	for peer := range m.blocked {
		m.srv.Block(peer)
	}
	m.running = true
	return nil
}

// Start starts a stopped member again, from its data.
func (m *Member) Start() error { return m.start() }

// Stop stops the member cleanly: what it logged stays.
func (m *Member) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopLocked()
}

func (m *Member) stopLocked() {
	if m.srv != nil {
		m.srv.Stop()
		m.srv = nil
	}
	m.running = false
}

// Kill crashes the member: with in-memory data, whatever it had not synced
// is lost, as on a power failure; with a data directory it stops at once
// (the operating system keeps what was written — use process mode for a
// real kill -9).
func (m *Member) Kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fs != nil && m.running {
		m.fs.Crash()
		image := m.fs.Image()
		m.stopLocked()
		m.fs = image
		return
	}
	m.stopLocked()
}

// Restart stops and starts the member.
func (m *Member) Restart() error {
	m.Stop()
	return m.start()
}

// ClientAddr is the member's client address.
func (m *Member) ClientAddr() string { return m.clientAddr }

// Addrs are the member's quorum and election addresses.
func (m *Member) Addrs() quorum.Addrs { return m.addrs }

// Server returns the running server, or nil.
func (m *Member) Server() *member.Server {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.srv
}

// Status returns the member's current state.
func (m *Member) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.running || m.srv == nil {
		return Status{}
	}
	st := m.srv.Status()
	return Status{Running: true, Role: st.Role, Leader: st.Leader, Epoch: st.Epoch, Serving: st.Serving, Zxid: m.srv.DB.LastZxid()}
}

func (m *Member) block(peer uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blocked[peer] = true
	if m.srv != nil {
		m.srv.Block(peer)
	}
}

func (m *Member) unblockAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for peer := range m.blocked {
		if m.srv != nil {
			m.srv.Unblock(peer)
		}
	}
	m.blocked = map[uint64]bool{}
}

func (m *Member) expireSession(id int64) error {
	m.mu.Lock()
	srv := m.srv
	m.mu.Unlock()
	if srv == nil {
		return fmt.Errorf("ensemble: member %d is not running", m.ID)
	}
	if !srv.Sessions.Exists(id) {
		return fmt.Errorf("ensemble: no live session 0x%x", id)
	}
	srv.Proc.Submit(&pipeline.Request{Session: id, Op: proto.OpCloseSession})
	return nil
}
