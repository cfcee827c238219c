// Package pipeline carries client requests through a server: reads are
// answered at once from the local tree, writes are prepared into
// transactions (validated against the tree plus the changes still in
// flight, as ZooKeeper's PrepRequestProcessor does), made durable or
// replicated by a Log, then applied in zxid order by one goroutine that
// answers the clients. A client's requests are answered in the order it
// sent them: a read never overtakes the same client's pending writes.
package pipeline

import (
	"sync"

	"zkit/server/proto"
	"zkit/server/watch"
)

// Client is the connection a request arrived on.
type Client interface {
	watch.Watcher
	// AuthIDs returns the identities the client has authenticated as.
	AuthIDs() []proto.Id
	// Reply queues a reply to a request.
	Reply(xid int32, zxid int64, err proto.Err, body proto.Record)
	// SessionCreated tells a connecting client its new session is ready.
	SessionCreated(id int64, timeout int32)
	// Close closes the connection once what is queued is sent
	// (after closeSession, or when the session expired).
	Close()
	// FIFO returns the client's queue of unanswered ordered requests.
	FIFO() *FIFO
}

// Request is one client request.
type Request struct {
	Client  Client // nil for requests the server makes itself (expiry)
	Session int64
	Xid     int32
	Op      proto.Op
	Body    []byte
	IDs     []proto.Id // the client's identities when it sent the request
	Timeout int32      // createSession: the negotiated timeout
	Owner   any        // who holds the session (SessionMoved checks)
	From    uint64     // the learner that forwarded it (0: arrived here)
	// Handshake marks the createSession of a connect handshake (a client
	// may also send opcode createSession itself, which fails).
	Handshake bool
}

// FIFO holds a client's requests that must be answered in order: writes
// (and syncs) waiting for their transaction, and reads that arrived after
// them. Connections embed one.
type FIFO struct {
	mu    sync.Mutex
	items []*Request
}

// push appends r; for a read it reports false (and does not append) when
// nothing is pending, so the caller may answer it at once.
func (f *FIFO) push(r *Request, read bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if read && len(f.items) == 0 {
		return false
	}
	f.items = append(f.items, r)
	return true
}

// popWrite removes the head if it is the write with this xid, and returns
// it with the reads queued right behind it.
func (f *FIFO) popWrite(xid int32) (*Request, []*Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.items) == 0 || f.items[0].Xid != xid || isOrderedRead(f.items[0].Op) {
		return nil, nil
	}
	head := f.items[0]
	i := 1
	for i < len(f.items) && isOrderedRead(f.items[i].Op) {
		i++
	}
	reads := append([]*Request(nil), f.items[1:i]...)
	f.items = append(f.items[:0], f.items[i:]...)
	return head, reads
}

// Pending returns the number of queued requests.
func (f *FIFO) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items)
}

// Entry is one step of the ordered stream from prep to apply: a
// transaction, or a marker carrying a request that needs no transaction
// (sync) but must be answered in order.
type Entry struct {
	Txn *proto.Txn
	Req *Request  // the local request, when known
	Err proto.Err // a marker's error (e.g. a sync from an expired session)
	// Replay applies Txn over a fuzzy snapshot (tree.ApplyReplay): set for
	// the transactions a learner receives after a leader's SNAP, which the
	// snapshot may already partly hold.
	Replay bool

	barrier chan struct{} // closed by the apply loop when reached (WaitApplied)
}
