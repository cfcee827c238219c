package quorum

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"zkit/server/config"
	"zkit/server/conn"
	"zkit/server/db"
	"zkit/server/pipeline"
	"zkit/server/session"
	"zkit/server/zab"
)

// Config configures one member of an ensemble.
type Config struct {
	ID        uint64
	Voters    []uint64
	Observers []uint64
	Peers     map[uint64]Addrs // where the other members listen

	TickTime  time.Duration // ZooKeeper's tickTime
	InitLimit int           // ticks to connect to and sync with a leader
	SyncLimit int           // ticks a synced member may go unheard
	// Step is how often the protocol's clock ticks (default 10 ms).
	Step time.Duration
	// ElectionWait is how long an election waits for a better vote once a
	// quorum agrees (ZooKeeper's finalizeWait, 200 ms there; 30 ms here).
	ElectionWait time.Duration
	// ReadOnly lets the member serve read-only clients while it has no
	// quorum (readonlymode.enabled).
	ReadOnly bool
	// Servers is the initial configuration with every address (the
	// server.N lines); empty, it is built from Voters, Observers and
	// Peers. A configuration the member saved when it last made one
	// active wins if it is newer.
	Servers config.Quorum
	// ReconfigEnabled allows reconfig requests (reconfigEnabled);
	// StandaloneEnabled makes a reconfig to one voter BADARGUMENTS.
	ReconfigEnabled   bool
	StandaloneEnabled bool
	Logger            *slog.Logger
}

// Status is what a member reports about its role.
type Status struct {
	Role    zab.Role
	Leader  uint64
	Epoch   uint32
	Serving bool
	Zxid    int64 // last logged
	// ReadOnly is set while the member, without a quorum, serves
	// read-only clients.
	ReadOnly bool
	// Voters and Observers are the active configuration's members.
	Voters, Observers []uint64
}

// Peer runs one member: its ZAB node on a single goroutine, fed by the
// transport, a clock, the pipeline and the backend.
type Peer struct {
	cfg     Config
	log     *slog.Logger
	node    *zab.Node
	tr      *Transport
	be      Backend
	db      *db.DB
	proc    *pipeline.Processor
	tracker *session.Tracker
	clients *conn.Server

	inputs  chan func()
	applied atomic.Int64

	propMu    sync.Mutex
	propQueue []proposalBatch
	propWake  chan struct{}
	appWake   chan struct{}
	stop      chan struct{}
	done      chan struct{}
	once      sync.Once

	// Owned by the loop goroutine.
	snapIn      []byte              // the snapshot of the last SNAP received
	replayUntil int64               // entries up to here replay over the installed snapshot
	fwdSyncs    []*pipeline.Request // forwarded syncs awaiting the leader's SYNC
	revalidates map[int64][]func(bool, error)
	leaderRepl  *leaderReplicator
	syncScratch []uint64 // noteSynced's buffer

	readOnly     bool      // serving read-only clients
	lookingSince time.Time // when the member was first seen looking

	learner *learnerSessions
	status  atomic.Pointer[Status]
	servers atomic.Pointer[config.Quorum] // the active configuration
	synced  atomic.Pointer[[]uint64]      // followers in sync, while leading
}

// NewPeer builds a member over a recovered database. The transport must
// be bound; Start runs it.
func NewPeer(cfg Config, tr *Transport, be Backend, d *db.DB, proc *pipeline.Processor, tracker *session.Tracker, clients *conn.Server) (*Peer, error) {
	if cfg.Step <= 0 {
		cfg.Step = 10 * time.Millisecond
	}
	if cfg.ElectionWait <= 0 {
		cfg.ElectionWait = 30 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	accepted, current := be.Epochs()
	servers := initialServers(cfg, be)
	ms := membershipOf(servers)
	cfg.Voters, cfg.Observers = ms.Voters, ms.Observers
	zcfg := zabConfig(cfg)
	zcfg.Version = servers.Version
	base, entries := be.Tail(zcfg.Window)
	for i := range entries {
		setEntryConfig(&entries[i])
	}
	n, err := zab.NewNode(zcfg, zab.State{
		AcceptedEpoch: accepted, CurrentEpoch: current, Base: base, Entries: entries,
		Applied: d.LastZxid(), Incarnation: randomIncarnation(),
	})
	if err != nil {
		return nil, err
	}
	p := &Peer{
		cfg: cfg, log: cfg.Logger.With("myid", cfg.ID), node: n, tr: tr, be: be, db: d, proc: proc,
		tracker: tracker, clients: clients,
		inputs: make(chan func(), 8192), appWake: make(chan struct{}, 1), propWake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
		revalidates: map[int64][]func(bool, error){},
	}
	p.learner = &learnerSessions{p: p, touched: map[int64]int32{}}
	p.applied.Store(d.LastZxid())
	p.status.Store(&Status{Role: zab.Looking, Zxid: n.LastZxid(), Voters: ms.Voters, Observers: ms.Observers})
	p.servers.Store(&servers)
	p.synced.Store(&[]uint64{})
	tr.SetPeers(cfg.Peers)
	tr.SetPeers(addrsOf(servers, cfg.ID))
	p.writeConfigNode(servers)
	proc.SetReconfigurer(reconfigurer{p: p})
	return p, nil
}

// zabConfig converts ZooKeeper's tick-based limits into protocol steps.
func zabConfig(cfg Config) zab.Config {
	steps := func(d time.Duration) int { return max(1, int(d/cfg.Step)) }
	return zab.Config{
		ID: cfg.ID, Voters: cfg.Voters, Observers: cfg.Observers, ReconfigEnabled: cfg.ReconfigEnabled,
		PingTicks:      steps(cfg.TickTime / 2),
		SyncLimit:      steps(time.Duration(cfg.SyncLimit) * cfg.TickTime),
		InitLimit:      steps(time.Duration(cfg.InitLimit) * cfg.TickTime),
		FinalizeWait:   steps(cfg.ElectionWait),
		NotifyInterval: steps(50 * time.Millisecond),
		MaxNotify:      steps(2 * time.Second),
		ConnectRetry:   steps(100 * time.Millisecond),
		Window:         10000,
	}
}

func randomIncarnation() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// Start runs the member.
func (p *Peer) Start() {
	p.tr.Start()
	go p.loop()
}

// Stop ends the member's loop (the caller closes transport and backend).
func (p *Peer) Stop() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// Status returns the member's role.
func (p *Peer) Status() Status { return *p.status.Load() }

// post runs f on the loop goroutine.
func (p *Peer) post(f func()) {
	select {
	case p.inputs <- f:
	case <-p.stop:
	}
}

// Applied is the pipeline's hook: the database has applied up to zxid.
func (p *Peer) Applied(zxid int64, _ int) {
	p.applied.Store(zxid)
	select {
	case p.appWake <- struct{}{}:
	default:
	}
}

func (p *Peer) loop() {
	defer close(p.done)
	t := time.NewTicker(p.cfg.Step)
	defer t.Stop()
	p.processReady()
	for {
		select {
		case <-p.stop:
			p.onStop()
			return
		case f := <-p.inputs:
			f()
		case in := <-p.tr.Inbox():
			if in.Msg.Type == zab.MsgSnap {
				p.snapIn = in.Snapshot
			}
			p.node.Step(in.Msg)
		case now := <-t.C:
			p.node.Tick()
			p.checkReadOnly(now)
		case <-p.appWake:
			p.node.Applied(p.applied.Load())
		case <-p.propWake:
			p.drainProposals()
		}
		p.processReady()
		p.noteSynced()
	}
}

// noteSynced publishes, on a leader, which followers are in sync, for the
// reconfig checks that run on client goroutines.
func (p *Peer) noteSynced() {
	if p.node.Role() != zab.Leading {
		return
	}
	p.syncScratch = p.node.AppendSyncedFollowers(p.syncScratch[:0])
	if old := *p.synced.Load(); !slices.Equal(old, p.syncScratch) {
		s := slices.Clone(p.syncScratch)
		p.synced.Store(&s)
	}
}

func (p *Peer) onStop() {
	p.exitReadOnly()
	p.clients.SetServing(false)
	for _, cbs := range p.revalidates {
		for _, cb := range cbs {
			cb(false, errNoLeader)
		}
	}
}

var errNoLeader = fmt.Errorf("not connected to a leader")
