package storage

import (
	"sync"
	"sync/atomic"
	"time"

	"zkit/server/auth"
	"zkit/server/db"
	"zkit/server/jute"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/session"
	"zkit/server/tree"
)

// node is a server without a network: the real pipeline over a Store.
type node struct {
	store   *Store
	db      *db.DB
	tracker *session.Tracker
	proc    *pipeline.Processor
	repl    *Replicator
	failed  chan struct{}
	fatal   atomic.Value // error
	hist    *history
}

// startNode recovers o's directories and serves through the pipeline.
// Every txn prep hands to the log is recorded in hist, if not nil.
func startNode(o Options, hist *history) (*node, error) {
	st, err := Open(o)
	if err != nil {
		return nil, err
	}
	reg := auth.NewRegistry("")
	d := db.New(reg, o.Extended)
	d.Replace(st.Recovery.Tree)
	tracker := session.NewTracker(100*time.Millisecond, 1, nil)
	plan := PlanSessions(st.Recovery.Tree.Sessions(), 0, 100*time.Millisecond)
	for id, left := range plan.Restore {
		tracker.AddExpiring(id, st.Recovery.Tree.Sessions()[id], left)
	}
	n := &node{store: st, db: d, tracker: tracker, failed: make(chan struct{}), hist: hist}
	n.proc = pipeline.New(d, reg, tracker, pipeline.Options{Applied: st.Applied, Logger: quiet})
	n.proc.SetLastZxid(st.Recovery.LastZxid)
	var once sync.Once
	n.repl = st.Replicator(n.proc.Commit, func(err error) {
		once.Do(func() { n.fatal.Store(err); close(n.failed) })
	})
	n.proc.Start(tap{n.repl, hist})
	st.Start(d)
	return n, nil
}

// stop stops the pipeline (no client may Submit any more) and the store.
func (n *node) stop() {
	n.proc.Stop()
	n.store.Close()
}

func (n *node) tree() (s string, last int64) {
	n.db.Read(func(t *tree.Tree) { s, last = dumpTree(t), t.LastZxid() })
	return s, last
}

// tap records what prep hands to the replicator.
type tap struct {
	r *Replicator
	h *history
}

func (t tap) Replicate(e []pipeline.Entry) {
	if t.h != nil {
		t.h.record(e)
	}
	t.r.Replicate(e)
}

func (t tap) Flush() { t.r.Flush() }

// history holds every txn prepared, encoded, by zxid, and the highest zxid
// a client was told is done.
type history struct {
	mu    sync.Mutex
	txns  map[int64][]byte
	acked atomic.Int64 // the highest zxid answered
	acks  atomic.Int64 // answers given
}

func newHistory() *history { return &history{txns: map[int64][]byte{}} }

func (h *history) record(entries []pipeline.Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range entries {
		if e.Txn != nil {
			enc := jute.NewEncoder(nil)
			e.Txn.Encode(enc)
			h.txns[e.Txn.Header.Zxid] = enc.Bytes()
		}
	}
}

func (h *history) ack(zxid int64) {
	h.acks.Add(1)
	for {
		cur := h.acked.Load()
		if zxid <= cur || h.acked.CompareAndSwap(cur, zxid) {
			return
		}
	}
}

// keep forgets the txns after last: the log lost them, and zxids after
// last will be given again.
func (h *history) keep(last int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for z := range h.txns {
		if z > last {
			delete(h.txns, z)
		}
	}
	h.acked.Store(min(h.acked.Load(), last))
}

// model applies txns 1..last to a new tree; ok is false if one is missing.
func (h *history) model(last int64) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := tree.New()
	for z := int64(1); z <= last; z++ {
		b, ok := h.txns[z]
		if !ok {
			return "", false
		}
		var txn proto.Txn
		txn.Decode(jute.NewDecoder(b))
		t.Apply(&txn)
	}
	return dumpTree(t), true
}

// client is a pipeline.Client that records replies.
type client struct {
	fifo    pipeline.FIFO
	session int64
	mu      sync.Mutex
	replies map[int32]reply
	created bool
	notify  chan struct{}
	hist    *history
}

type reply struct {
	zxid int64
	err  proto.Err
}

func newClient(session int64, h *history) *client {
	return &client{session: session, replies: map[int32]reply{}, notify: make(chan struct{}, 1), hist: h}
}

func (c *client) Notify(proto.WatcherEvent, int64, []proto.ACL) {}
func (c *client) SessionID() int64                              { return c.session }
func (c *client) AuthIDs() []proto.Id                           { return nil }
func (c *client) Close()                                        {}
func (c *client) FIFO() *pipeline.FIFO                          { return &c.fifo }

func (c *client) Reply(xid int32, zxid int64, err proto.Err, _ proto.Record) {
	c.mu.Lock()
	c.replies[xid] = reply{zxid, err}
	c.mu.Unlock()
	if c.hist != nil && xid >= 0 {
		c.hist.ack(zxid)
	}
	c.wake()
}

func (c *client) SessionCreated(int64, int32) {
	c.mu.Lock()
	c.created = true
	c.mu.Unlock()
	c.wake()
}

func (c *client) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// wait waits until cond holds (under the lock) or stop is closed.
func (c *client) wait(cond func() bool, stop <-chan struct{}, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-c.notify:
		case <-stop:
			return false
		case <-deadline:
			return false
		}
	}
}

func encode(r proto.Record) []byte {
	e := jute.NewEncoder(nil)
	r.Encode(e)
	return e.Bytes()
}
