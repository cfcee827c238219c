package conn

import "zkit/server/session"

// Sessions is what connections need from the session authority: a
// standalone server or leader keeps the sessions itself; a follower asks
// its leader.
type Sessions interface {
	// NextID reserves a new session id.
	NextID() int64
	// Touch renews a session a request arrived on; false means it is gone
	// and the request is dropped.
	Touch(id int64, timeout int32) bool
	// Revalidate asks whether a resuming session is still alive, renewing
	// it if so. done may be called on another goroutine; an error means the
	// question could not be answered (no leader), not that the session is
	// gone.
	Revalidate(id int64, timeout int32, done func(ok bool, err error))
}

// LocalSessions is Sessions over the server's own tracker.
type LocalSessions struct {
	Tracker *session.Tracker
	// Owner is recorded as the session's holder on revalidation (the
	// member itself, so requests forwarded for it from elsewhere are
	// SESSIONMOVED).
	Owner any
}

// NextID implements Sessions.
func (l LocalSessions) NextID() int64 { return l.Tracker.NextID() }

// Touch implements Sessions.
func (l LocalSessions) Touch(id int64, timeout int32) bool { return l.Tracker.TouchWith(id, timeout) }

// Revalidate implements Sessions.
func (l LocalSessions) Revalidate(id int64, timeout int32, done func(bool, error)) {
	ok := l.Tracker.TouchWith(id, timeout)
	if ok && l.Owner != nil {
		l.Tracker.SetOwner(id, l.Owner)
	}
	done(ok, nil)
}
