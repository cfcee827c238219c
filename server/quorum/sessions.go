package quorum

import (
	"sync"

	"zkit/server/jute"
	"zkit/server/zab"
)

// learnerSessions is how a follower's connections see sessions: touches
// are collected and sent to the leader with each ping answer
// (LearnerSessionTracker), and a resuming session is revalidated by the
// leader.
type learnerSessions struct {
	p       *Peer
	mu      sync.Mutex
	touched map[int64]int32
}

// NextID implements conn.Sessions. Ids come from the member's tracker, the
// counter it also mints from while it leads: a member that changes roles
// never hands out an id twice.
func (l *learnerSessions) NextID() int64 { return l.p.tracker.NextID() }

// Touch implements conn.Sessions: the leader decides expiry.
func (l *learnerSessions) Touch(id int64, timeout int32) bool {
	l.mu.Lock()
	l.touched[id] = timeout
	l.mu.Unlock()
	return true
}

// Revalidate implements conn.Sessions.
func (l *learnerSessions) Revalidate(id int64, timeout int32, done func(bool, error)) {
	l.p.post(func() { l.p.revalidate(id, timeout, done) })
}

// drainTouches encodes and clears the sessions touched since the last ping
// (as LearnerSessionTracker.snapshot: a count, then id and timeout pairs).
func (l *learnerSessions) drainTouches() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.touched) == 0 {
		return nil
	}
	e := jute.NewEncoder(nil)
	e.Int(int32(len(l.touched)))
	for id, to := range l.touched {
		e.Long(id)
		e.Int(to)
	}
	clear(l.touched)
	return e.Bytes()
}

// touchFrom renews, on the leader, the sessions a learner saw traffic on.
func (p *Peer) touchFrom(data []byte) {
	d := jute.NewDecoder(data)
	n := d.Count(12)
	for i := 0; i < n && d.Err() == nil; i++ {
		id, to := d.Long(), d.Int()
		p.tracker.TouchWith(id, to)
	}
}

func (p *Peer) revalidate(id int64, timeout int32, done func(bool, error)) {
	e := jute.NewEncoder(nil)
	e.Long(id)
	e.Int(timeout)
	if err := p.node.SendApp(zab.Message{Type: zab.MsgRevalidate, Data: e.Bytes()}); err != nil {
		done(false, errNoLeader)
		return
	}
	p.revalidates[id] = append(p.revalidates[id], done)
}

// revalidateFor answers a learner on the leader: the session lives on if
// it is known, and now belongs to that learner.
func (p *Peer) revalidateFor(m zab.Message) {
	d := jute.NewDecoder(m.Data)
	id, timeout := d.Long(), d.Int()
	if d.Err() != nil {
		return
	}
	ok := p.tracker.TouchWith(id, timeout)
	if ok {
		p.tracker.SetOwner(id, m.From)
	}
	e := jute.NewEncoder(nil)
	e.Long(id)
	e.Bool(ok)
	_ = p.node.SendApp(zab.Message{Type: zab.MsgRevalidate, To: m.From, Data: e.Bytes()})
}

func (p *Peer) revalidateAnswer(m zab.Message) {
	d := jute.NewDecoder(m.Data)
	id, ok := d.Long(), d.Bool()
	if d.Err() != nil {
		return
	}
	cbs := p.revalidates[id]
	if len(cbs) == 0 {
		return
	}
	p.revalidates[id] = cbs[1:]
	if len(p.revalidates[id]) == 0 {
		delete(p.revalidates, id)
	}
	cbs[0](ok, nil)
}
