package pipeline

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"zkit/server/auth"
	"zkit/server/db"
	"zkit/server/proto"
	"zkit/server/session"
)

// Forwarder takes the writes of a member that does not prepare them itself
// (a follower or observer sends them to its leader).
type Forwarder interface {
	Forward(req *Request)
}

// Reconfigurer is an ensemble leader's part of a reconfig: from the request
// and the current configuration (the /zookeeper/config data), the new
// configuration's text with version zxid, or a ZooKeeper error
// (BADVERSION, BADARGUMENTS, NEWCONFIGNOQUORUM, ...).
type Reconfigurer interface {
	Reconfig(req *proto.ReconfigRequest, current []byte, zxid int64) ([]byte, error)
	// Active reports whether the configuration a reconfig transaction
	// made (its version: the zxid) is active, and the active one's text.
	Active(zxid int64) ([]byte, bool)
}

type reconfigurerBox struct{ r Reconfigurer }

// Replicator makes prepared entries durable (standalone: the txn log) or
// replicated (ensemble: ZAB), then hands them, in the order received, to
// the commit function it was started with.
type Replicator interface {
	Replicate(entries []Entry)
}

// Options configure a Processor.
type Options struct {
	ExtendedTypes   bool // TTL nodes (zookeeper.extendedTypesEnabled)
	ReconfigEnabled bool
	// EnforceQuota makes hard quota limits fail writes with QUOTAEXCEEDED
	// (zookeeper.enforceQuota); soft limits only log.
	EnforceQuota bool
	Logger       *slog.Logger
	Now          func() time.Time
	// Applied, if set, is called after each applied batch with the last
	// zxid (snapshot triggers, metrics).
	Applied func(lastZxid int64, txns int)
}

// Processor is the request pipeline of one server.
type Processor struct {
	db       *db.DB
	auth     *auth.Registry
	sessions *session.Tracker
	opts     Options
	log      *slog.Logger

	prep     *preparer
	prepMu   sync.Mutex // held while preparing; Reset takes it
	changes  *changes
	fwd      atomic.Pointer[forwarderBox]
	reconfig atomic.Pointer[reconfigurerBox]
	hooks    BatchHooks
	repl     Replicator
	applyCh  chan []Entry
	clientMu sync.Mutex
	clients  map[int64]Client // session → its current connection here
	stopped  atomic.Bool
	done     chan struct{}
	wg       sync.WaitGroup

	// Counters for stat/mntr.
	Stats Stats
}

// Stats counts what the pipeline has done.
type Stats struct {
	Received    atomic.Int64 // requests received
	Sent        atomic.Int64 // replies sent
	Outstanding atomic.Int64 // local clients' writes not yet answered
}

// New returns a processor; call Start with a replicator to run it.
func New(d *db.DB, reg *auth.Registry, tracker *session.Tracker, opts Options) *Processor {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p := &Processor{
		db: d, auth: reg, sessions: tracker, opts: opts, log: opts.Logger,
		changes: newChanges(d),
		applyCh: make(chan []Entry, 1024),
		clients: map[int64]Client{},
		done:    make(chan struct{}),
	}
	p.prep = &preparer{ch: p.changes, auth: reg, sessions: tracker, opts: &p.opts, now: opts.Now, reconfigurer: p.reconfigurer}
	return p
}

type forwarderBox struct{ f Forwarder }

func (p *Processor) reconfigurer() Reconfigurer {
	if b := p.reconfig.Load(); b != nil {
		return b.r
	}
	return nil
}

// SetLastZxid sets the zxid the next transaction follows (after recovery,
// or at the start of an epoch).
func (p *Processor) SetLastZxid(z int64) {
	p.prepMu.Lock()
	defer p.prepMu.Unlock()
	p.prep.zxid = z
}

// Reset starts a new epoch of preparation: in-flight change records are
// dropped (their transactions will never commit under this leader) and
// zxids continue after z.
func (p *Processor) Reset(z int64) {
	p.prepMu.Lock()
	defer p.prepMu.Unlock()
	p.prep.zxid = z
	p.changes.reset()
}

// BatchHooks are told when the apply loop starts and ends a batch of
// replies (the connections then write them from the applying goroutine).
type BatchHooks interface {
	BeginBatch()
	EndBatch()
}

// SetBatchHooks installs the hooks (before Start).
func (p *Processor) SetBatchHooks(h BatchHooks) { p.hooks = h }

// SetForwarder switches the processor to forwarding writes (f != nil) or
// preparing them itself (nil).
func (p *Processor) SetForwarder(f Forwarder) {
	if f == nil {
		p.fwd.Store(nil)
		return
	}
	p.fwd.Store(&forwarderBox{f: f})
}

// SetReconfigurer makes this processor able to prepare reconfigs (an
// ensemble member; nil: standalone, where reconfig is UNIMPLEMENTED).
func (p *Processor) SetReconfigurer(r Reconfigurer) {
	if r == nil {
		p.reconfig.Store(nil)
		return
	}
	p.reconfig.Store(&reconfigurerBox{r: r})
}

// SetReplicator changes where prepared entries go (a leader's replicator
// lives for one epoch).
func (p *Processor) SetReplicator(r Replicator) {
	p.prepMu.Lock()
	defer p.prepMu.Unlock()
	p.repl = r
}

// WaitApplied blocks until every entry committed so far is applied.
func (p *Processor) WaitApplied() {
	done := make(chan struct{})
	p.applyCh <- []Entry{{barrier: done}}
	<-done
}

// Start runs the prep and apply goroutines. repl receives prepared entries
// and must call Commit with them once they are durable.
func (p *Processor) Start(repl Replicator) {
	p.repl = repl
	p.wg.Add(1)
	go p.applyLoop()
}

// Stop ends the goroutines after the queued work is done.
func (p *Processor) Stop() {
	if p.stopped.Swap(true) {
		return
	}
	// Wait for a prepare in progress, then for the replicator to commit
	// what it took.
	p.prepMu.Lock()
	repl := p.repl
	p.prepMu.Unlock()
	if f, ok := repl.(interface{ Flush() }); ok {
		f.Flush()
	}
	close(p.applyCh)
	p.wg.Wait()
}

// Commit hands durable entries to the apply goroutine, in order.
func (p *Processor) Commit(entries []Entry) {
	if len(entries) > 0 {
		p.applyCh <- entries
	}
}

// Apply applies durable entries on the caller's goroutine: for a
// replicator that has exactly one goroutine committing (a standalone log),
// this saves the hand-off to the apply goroutine. A processor uses either
// Apply or Commit, never both.
func (p *Processor) Apply(entries []Entry) {
	if len(entries) > 0 {
		p.applyBatch(entries)
	}
}

// InMemory is the replicator of a server that keeps no log: entries are
// applied as soon as they are prepared, on the preparing goroutine.
type InMemory struct{ P *Processor }

// Replicate implements Replicator.
func (m InMemory) Replicate(entries []Entry) { m.P.Apply(entries) }

func isOrderedRead(op proto.Op) bool { return op == proto.OpPing || db.IsRead(op) }

// Submit takes one request from a connection. Reads with nothing pending
// before them are answered at once, on the caller's goroutine; everything
// else is queued in order.
func (p *Processor) Submit(req *Request) {
	p.Stats.Received.Add(1)
	if p.stopped.Load() {
		return
	}
	read := isOrderedRead(req.Op)
	if req.Client != nil && !req.Handshake {
		if !req.Client.FIFO().push(req, read) {
			p.answerRead(req, nil)
			return
		}
	}
	if read {
		return
	}
	if req.Client != nil {
		// A local client's write, until answered (ServerStats'
		// outstanding requests: in process here, prepared or forwarded).
		p.Stats.Outstanding.Add(1)
	}
	if fb := p.fwd.Load(); fb != nil && req.From == 0 {
		fb.f.Forward(req)
		return
	}
	p.prepareOne(req)
}

// prepareOne prepares a write on the caller's goroutine and queues it for
// replication, under prepMu: zxids are handed out, and entries reach the
// replicator, in one order. The replicator only queues (a standalone log
// batches what queued up during its last fsync: group commit).
func (p *Processor) prepareOne(req *Request) {
	p.prepMu.Lock()
	defer p.prepMu.Unlock()
	if p.stopped.Load() {
		return
	}
	p.repl.Replicate([]Entry{p.prep.prepare(req)})
}

// Register binds a session to the connection now holding it.
func (p *Processor) Register(session int64, c Client) {
	p.clientMu.Lock()
	defer p.clientMu.Unlock()
	p.clients[session] = c
}

// Unregister forgets a connection (it closed), if it still holds the session.
func (p *Processor) Unregister(session int64, c Client) {
	p.clientMu.Lock()
	defer p.clientMu.Unlock()
	if p.clients[session] == c {
		delete(p.clients, session)
	}
}

// ClientOf returns the connection holding a session here, if any.
func (p *Processor) ClientOf(session int64) Client {
	p.clientMu.Lock()
	defer p.clientMu.Unlock()
	return p.clients[session]
}
