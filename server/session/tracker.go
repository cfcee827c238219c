package session

import (
	"sync"
	"time"

	"zkit/server/proto"
)

// Session is the tracker's view of one session.
type Session struct {
	ID      int64
	Timeout int32 // ms
	expire  int64 // ms since the epoch, a multiple of the tick
	closing bool
	owner   any // who may act for it (the connection or member holding it)
}

// Tracker keeps live sessions and expires those not touched within their
// timeout. Expiry times are rounded up to the next tick, so sessions expire
// in buckets, once per tick (ExpiryQueue).
type Tracker struct {
	mu       sync.Mutex
	tick     int64 // ms
	sessions map[int64]*Session
	buckets  map[int64]map[int64]*Session // expiry time → sessions
	nextID   int64
	now      func() time.Time
}

// NewTracker returns a tracker with the given tick, minting session ids
// for server serverID as ZooKeeper does: the server id in the top byte and
// the start time in ms in the 40 bits below, then counting up.
func NewTracker(tick time.Duration, serverID int64, now func() time.Time) *Tracker {
	if now == nil {
		now = time.Now
	}
	t := &Tracker{
		tick:     tick.Milliseconds(),
		sessions: map[int64]*Session{},
		buckets:  map[int64]map[int64]*Session{},
		now:      now,
	}
	t.nextID = InitialID(serverID, now())
	return t
}

// InitialID is SessionTrackerImpl.initializeNextSessionId.
func InitialID(serverID int64, now time.Time) int64 {
	id := int64(uint64(now.UnixMilli()<<24) >> 8)
	id |= serverID << 56
	if id == -1<<63 { // never collide with the container owner marker
		id++
	}
	return id
}

func (t *Tracker) roundUp(ms int64) int64 { return (ms/t.tick + 1) * t.tick }

func (t *Tracker) nowMs() int64 { return t.now().UnixMilli() }

// NextID reserves a new session id.
func (t *Tracker) NextID() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := t.nextID
	t.nextID++
	return id
}

// Add starts tracking a session (on createSession, or when restoring).
func (t *Tracker) Add(id int64, timeout int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[id]
	if s == nil {
		s = &Session{ID: id}
		t.sessions[id] = s
	}
	s.Timeout = timeout
	t.touch(s, timeout)
}

// Touch renews a session's lease with its own timeout; false if it is gone
// or closing.
func (t *Tracker) Touch(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[id]
	if s == nil || s.closing {
		return false
	}
	t.touch(s, s.Timeout)
	return true
}

// TouchWith renews a session with a new timeout (a reconnecting client
// negotiates again); false if the session is gone or closing.
func (t *Tracker) TouchWith(id int64, timeout int32) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[id]
	if s == nil || s.closing {
		return false
	}
	t.touch(s, timeout)
	return true
}

func (t *Tracker) touch(s *Session, timeout int32) {
	exp := t.roundUp(t.nowMs() + int64(timeout))
	if exp == s.expire {
		return
	}
	if b := t.buckets[s.expire]; b != nil {
		delete(b, s.ID)
		if len(b) == 0 {
			delete(t.buckets, s.expire)
		}
	}
	s.expire = exp
	b := t.buckets[exp]
	if b == nil {
		b = map[int64]*Session{}
		t.buckets[exp] = b
	}
	b[s.ID] = s
}

// Check returns SESSIONEXPIRED for an unknown or closing session and
// SESSIONMOVED when owner is not the session's owner
// (SessionTrackerImpl.checkSession). A nil owner skips the owner test.
func (t *Tracker) Check(id int64, owner any) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[id]
	if s == nil || s.closing {
		return proto.ErrSessionExpired
	}
	if owner != nil && s.owner != nil && s.owner != owner {
		return proto.ErrSessionMoved
	}
	if s.owner == nil {
		s.owner = owner
	}
	return nil
}

// SetOwner records who may act for the session.
func (t *Tracker) SetOwner(id int64, owner any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.sessions[id]; s != nil {
		s.owner = owner
	}
}

// SetClosing marks a session as closing: from now on it is expired to
// every request but its close.
func (t *Tracker) SetClosing(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.sessions[id]; s != nil {
		s.closing = true
	}
}

// Remove forgets a session (its close was applied).
func (t *Tracker) Remove(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[id]
	if s == nil {
		return
	}
	delete(t.sessions, id)
	if b := t.buckets[s.expire]; b != nil {
		delete(b, id)
		if len(b) == 0 {
			delete(t.buckets, s.expire)
		}
	}
}

// Exists reports whether a session is live (not closing).
func (t *Tracker) Exists(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[id]
	return s != nil && !s.closing
}

// Timeout returns a session's timeout, or 0 when unknown.
func (t *Tracker) Timeout(id int64) int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.sessions[id]; s != nil {
		return s.Timeout
	}
	return 0
}

// Expired removes from the buckets and returns every session whose expiry
// time has passed, marking each closing. The caller submits their closes.
func (t *Tracker) Expired() []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.nowMs()
	var out []int64
	for exp, b := range t.buckets {
		if exp > now {
			continue
		}
		for id, s := range b {
			s.closing = true
			out = append(out, id)
		}
		delete(t.buckets, exp)
	}
	return out
}

// NextExpiry returns how long until the next bucket is due.
func (t *Tracker) NextExpiry() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	next := t.roundUp(t.nowMs())
	return time.Duration(next-t.nowMs()) * time.Millisecond
}

// Count returns the number of tracked sessions.
func (t *Tracker) Count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sessions)
}

// Snapshot returns live sessions with their timeouts (for dump).
func (t *Tracker) Snapshot() map[int64]int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int64]int32, len(t.sessions))
	for id, s := range t.sessions {
		out[id] = s.Timeout
	}
	return out
}

// ExpiryBuckets returns each pending expiry time with its sessions (the
// dump 4lw's "Session Sets").
func (t *Tracker) ExpiryBuckets() map[int64][]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int64][]int64, len(t.buckets))
	for exp, b := range t.buckets {
		for id := range b {
			out[exp] = append(out[exp], id)
		}
	}
	return out
}

// AddExpiring starts tracking a session restored after a restart: it keeps
// its negotiated timeout for later touches, but expires after expireIn
// unless its client comes back first.
func (t *Tracker) AddExpiring(id int64, timeout int32, expireIn time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[id]
	if s == nil {
		s = &Session{ID: id}
		t.sessions[id] = s
	}
	s.Timeout = timeout
	t.touch(s, int32(expireIn.Milliseconds()))
}
