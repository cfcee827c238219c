package quorum

import (
	"time"

	"zkit/server/conn"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/tree"
	"zkit/server/zab"
)

// readOnlyGrace is how long a member looks for a leader before it serves
// read-only clients: QuorumPeer starts its ReadOnlyZooKeeperServer after
// max(2 s, tickTime) in LOOKING.
func (p *Peer) readOnlyGrace() time.Duration {
	return max(2*time.Second, p.cfg.TickTime)
}

// checkReadOnly runs on every tick: a member with readonlymode.enabled that
// has been looking for longer than the grace period starts serving
// read-only sessions.
func (p *Peer) checkReadOnly(now time.Time) {
	if !p.cfg.ReadOnly || p.readOnly {
		return
	}
	st := p.status.Load()
	if st.Role != zab.Looking || st.Serving {
		p.lookingSince = time.Time{}
		return
	}
	if p.lookingSince.IsZero() {
		p.lookingSince = now
		return
	}
	if now.Sub(p.lookingSince) >= p.readOnlyGrace() {
		p.enterReadOnly()
	}
}

// enterReadOnly serves the database as it is to clients that can be
// read-only. Sessions are local to this member: new ones are never
// committed, and the sessions the database holds may resume here
// (LearnerSessionTracker over the global sessions).
func (p *Peer) enterReadOnly() {
	p.readOnly = true
	p.log.Warn("no quorum; serving read-only clients", "after", p.readOnlyGrace())
	p.proc.WaitApplied()
	var sessions map[int64]int32
	p.db.Read(func(t *tree.Tree) {
		sessions = make(map[int64]int32, len(t.Sessions()))
		for id, to := range t.Sessions() {
			sessions[id] = to
		}
	})
	p.tracker.Reset(sessions)
	p.proc.SetReplicator(dropReplicator{})
	p.proc.SetForwarder(readOnlyForwarder{p: p})
	p.clients.SetSessions(conn.LocalSessions{Tracker: p.tracker, Owner: p.cfg.ID})
	p.clients.SetReadOnly(true)
	p.setStatus(func(s *Status) { s.ReadOnly = true })
}

// exitReadOnly ends read-only service (a leader was found, or the member
// stops): the read-only sessions' connections close and their clients look
// for a read-write server.
func (p *Peer) exitReadOnly() {
	p.lookingSince = time.Time{}
	if !p.readOnly {
		return
	}
	p.readOnly = false
	p.log.Info("leaving read-only mode")
	p.clients.SetReadOnly(false)
	p.clients.SetServing(false)
	p.proc.SetForwarder(learnerForwarder{p: p})
	p.tracker.Reset(nil)
	p.setStatus(func(s *Status) { s.ReadOnly = false })
}

func (p *Peer) setStatus(f func(*Status)) {
	st := *p.status.Load()
	f(&st)
	p.status.Store(&st)
}

// readOnlyForwarder answers what a read-only member cannot forward
// (ReadOnlyRequestProcessor): writes and syncs fail with NOTREADONLY;
// sessions open and close locally.
type readOnlyForwarder struct{ p *Peer }

// Forward implements pipeline.Forwarder.
func (f readOnlyForwarder) Forward(req *pipeline.Request) {
	p := f.p
	switch req.Op {
	case proto.OpCreateSession:
		if !req.Handshake {
			break // a client's own createSession request
		}
		p.tracker.Add(req.Session, req.Timeout)
		p.proc.Commit([]pipeline.Entry{{Req: req}})
		return
	case proto.OpCloseSession:
		p.tracker.Remove(req.Session)
		if req.Client != nil {
			p.proc.Unregister(req.Session, req.Client)
			p.proc.Commit([]pipeline.Entry{{Req: req}})
		} else if c := p.proc.ClientOf(req.Session); c != nil {
			p.proc.Unregister(req.Session, c) // expired here
			c.Close()
		}
		return
	}
	if req.Client != nil {
		p.proc.Commit([]pipeline.Entry{{Req: req, Err: proto.ErrNotReadOnly}})
	}
}
