package pipeline_test

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/db"
	"zkit/server/jute"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/session"
	"zkit/server/tree"
)

// reply is one answer a client got.
type reply struct {
	Xid  int32
	Zxid int64
	Err  proto.Err
	Body proto.Record
}

// fakeClient is a connection that records what the pipeline tells it.
type fakeClient struct {
	q   pipeline.FIFO
	id  int64
	ids []proto.Id

	mu      sync.Mutex
	xid     int32
	replies []reply
	events  []string
	log     []string // events and replies, in the order they were queued
	created []int64
	closed  bool
}

func (c *fakeClient) Notify(ev proto.WatcherEvent, zxid int64, _ []proto.ACL) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, fmt.Sprintf("%d %s %d", ev.Type, ev.Path, zxid))
	c.log = append(c.log, fmt.Sprintf("event %d %s", ev.Type, ev.Path))
}

func (c *fakeClient) SessionID() int64    { return c.id }
func (c *fakeClient) AuthIDs() []proto.Id { return c.ids }
func (c *fakeClient) FIFO() *pipeline.FIFO {
	return &c.q
}

func (c *fakeClient) Reply(xid int32, zxid int64, err proto.Err, body proto.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replies = append(c.replies, reply{xid, zxid, err, body})
	c.log = append(c.log, fmt.Sprintf("reply %d", xid))
}

func (c *fakeClient) SessionCreated(id int64, _ int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.created = append(c.created, id)
}

func (c *fakeClient) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
}

func (c *fakeClient) nextXid() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.xid++
	return c.xid
}

func (c *fakeClient) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.replies)
}

// waitReplies waits until the client has n replies and returns them.
func (c *fakeClient) waitReplies(t *testing.T, n int) []reply {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("client %#x: %d replies, want %d", c.id, c.count(), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Len(t, c.replies, n, "more replies than expected")
	return append([]reply(nil), c.replies...)
}

// replyTo waits for the reply to xid and returns it.
func (c *fakeClient) replyTo(t *testing.T, xid int32) reply {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		for _, r := range c.replies {
			if r.Xid == xid {
				c.mu.Unlock()
				return r
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("client %#x: no reply to xid %d", c.id, xid)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func (c *fakeClient) takeEvents() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.events
	c.events = nil
	return e
}

// gate is a replicator that records every entry and applies it at once, or
// holds it while closed.
type gate struct {
	p       *pipeline.Processor
	mu      sync.Mutex
	closed  bool
	held    []pipeline.Entry
	entries []pipeline.Entry
}

func (g *gate) Replicate(entries []pipeline.Entry) {
	g.mu.Lock()
	g.entries = append(g.entries, entries...)
	if g.closed {
		g.held = append(g.held, entries...)
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	g.p.Apply(entries)
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// open applies what was held, in order, and lets entries through again.
func (g *gate) open() {
	g.mu.Lock()
	held := g.held
	g.held, g.closed = nil, false
	g.mu.Unlock()
	g.p.Apply(held)
}

// drop forgets what was held (a leader change: it never commits).
func (g *gate) drop() {
	g.mu.Lock()
	g.held, g.closed = nil, false
	g.mu.Unlock()
}

// txns returns the transactions prepared so far, from index from on.
func (g *gate) txns(from int) []*proto.Txn {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*proto.Txn
	for _, e := range g.entries[from:] {
		if e.Txn != nil {
			out = append(out, e.Txn)
		}
	}
	return out
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.entries)
}

type harness struct {
	t       *testing.T
	db      *db.DB
	tracker *session.Tracker
	p       *pipeline.Processor
	g       *gate
	nextID  int64
}

const epoch1 = int64(1) << 32

func newHarness(t *testing.T, opts pipeline.Options) *harness {
	reg := auth.NewRegistry("")
	d := db.New(reg, opts.ExtendedTypes)
	now := func() time.Time { return time.UnixMilli(1700000000000) }
	tracker := session.NewTracker(100*time.Millisecond, 1, now)
	opts.Now = now
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	p := pipeline.New(d, reg, tracker, opts)
	g := &gate{p: p}
	p.SetLastZxid(epoch1)
	p.Start(g)
	t.Cleanup(p.Stop)
	return &harness{t: t, db: d, tracker: tracker, p: p, g: g, nextID: 0x0100000000000001}
}

var (
	anon  = []proto.Id{{Scheme: "ip", ID: "127.0.0.1"}}
	super = []proto.Id{{Scheme: "super", ID: ""}}
)

// connect opens a session through the handshake, as a connection does.
func (h *harness) connect(ids []proto.Id) *fakeClient {
	c := &fakeClient{id: h.nextID, ids: ids}
	h.nextID++
	h.p.Register(c.id, c)
	h.p.Submit(&pipeline.Request{Client: c, Session: c.id, Op: proto.OpCreateSession, Timeout: 30000, Handshake: true, Owner: c})
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.created)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("session %#x not created", c.id)
		}
		time.Sleep(100 * time.Microsecond)
	}
	return c
}

func encode(r proto.Record) []byte {
	if r == nil {
		return nil
	}
	e := jute.NewEncoder(nil)
	r.Encode(e)
	return e.Bytes()
}

// submit sends a request of c's and returns its xid.
func (h *harness) submit(c *fakeClient, op proto.Op, body proto.Record) int32 {
	xid := c.nextXid()
	h.p.Submit(&pipeline.Request{Client: c, Session: c.id, Xid: xid, Op: op, Body: encode(body), IDs: c.ids, Owner: c})
	return xid
}

// do submits a request and waits for its reply.
func (h *harness) do(c *fakeClient, op proto.Op, body proto.Record) reply {
	h.t.Helper()
	return c.replyTo(h.t, h.submit(c, op, body))
}

// must does a request that must succeed.
func (h *harness) must(c *fakeClient, op proto.Op, body proto.Record) reply {
	h.t.Helper()
	r := h.do(c, op, body)
	require.Equal(h.t, proto.ErrOK, r.Err, "%s %+v", op, body)
	return r
}

func (h *harness) node(path string) *tree.Node {
	var n *tree.Node
	h.db.Read(func(t *tree.Tree) {
		if x := t.Get(path); x != nil {
			cp := *x
			n = &cp
		}
	})
	return n
}

func (h *harness) lastZxid() int64 { return h.db.LastZxid() }

func createReq(path, data string, flags int32) *proto.CreateRequest {
	return &proto.CreateRequest{Path: path, Data: []byte(data), ACL: proto.OpenACLUnsafe, Flags: flags}
}

func getData(path string) *proto.PathWatchRequest { return &proto.PathWatchRequest{Path: path} }
