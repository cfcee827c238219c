package quorum

import (
	"fmt"

	"zkit/server/conn"
	"zkit/server/jute"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/tree"
	"zkit/server/zab"
)

func zxidHex(z int64) string { return fmt.Sprintf("0x%x", z) }

// onRole switches the member's request path with its role: an established
// leader prepares writes and tracks sessions; a synced learner forwards
// writes to its leader; anyone else serves no clients.
func (p *Peer) onRole(rc *zab.RoleChange) {
	if rc.Role != zab.Looking || rc.Serving {
		p.exitReadOnly()
	}
	prev := p.status.Load()
	p.status.Store(&Status{Role: rc.Role, Leader: rc.Leader, Epoch: rc.Epoch, Serving: rc.Serving, Zxid: p.node.LastZxid(), ReadOnly: p.readOnly,
		Voters: prev.Voters, Observers: prev.Observers})
	p.log.Info("role", "state", rc.Role.String(), "leader", rc.Leader, "epoch", rc.Epoch, "serving", rc.Serving)
	if p.readOnly {
		return // still looking: read-only service goes on
	}
	if !rc.Serving {
		p.stopServing()
		return
	}
	switch rc.Role {
	case zab.Leading:
		p.lead(rc.Epoch)
	case zab.Following, zab.Observing:
		p.proc.SetReplicator(dropReplicator{})
		p.proc.SetForwarder(learnerForwarder{p: p})
		p.tracker.Reset(nil)
		p.clients.SetSessions(p.learner)
		p.clients.SetServing(true)
	}
}

func (p *Peer) lead(epoch uint32) {
	// Prepare at the start of the new epoch, against the state that
	// commits the whole history; wait for it to be applied first.
	p.proc.WaitApplied()
	var sessions map[int64]int32
	p.db.Read(func(t *tree.Tree) {
		sessions = make(map[int64]int32, len(t.Sessions()))
		for id, to := range t.Sessions() {
			sessions[id] = to
		}
	})
	p.tracker.Reset(sessions)
	p.proc.Reset(zab.Zxid(epoch, 0))
	p.leaderRepl = &leaderReplicator{p: p, epoch: epoch}
	p.proc.SetReplicator(p.leaderRepl)
	p.proc.SetForwarder(nil)
	p.clients.SetSessions(conn.LocalSessions{Tracker: p.tracker, Owner: p.cfg.ID})
	p.clients.SetServing(true)
}

func (p *Peer) stopServing() {
	// Answer what was committed before the connections close: a client
	// whose write committed learns so.
	p.proc.WaitApplied()
	p.clients.SetServing(false)
	// The connections closed: what they were waiting for is never answered.
	p.proc.Stats.Outstanding.Store(0)
	p.proc.SetReplicator(dropReplicator{})
	p.proc.SetForwarder(learnerForwarder{p: p})
	p.tracker.Reset(nil)
	p.fwdSyncs = nil
	for id, cbs := range p.revalidates {
		for _, cb := range cbs {
			cb(false, errNoLeader)
		}
		delete(p.revalidates, id)
	}
}

// leaderReplicator proposes what the pipeline prepared.
type leaderReplicator struct {
	p     *Peer
	epoch uint32
}

// Replicate implements pipeline.Replicator. It never blocks (the pipeline
// calls it while preparing): entries wait in a queue the loop drains.
func (r *leaderReplicator) Replicate(entries []pipeline.Entry) {
	p := r.p
	p.propMu.Lock()
	p.propQueue = append(p.propQueue, proposalBatch{r: r, entries: entries})
	p.propMu.Unlock()
	select {
	case p.propWake <- struct{}{}:
	default:
	}
}

type proposalBatch struct {
	r       *leaderReplicator
	entries []pipeline.Entry
}

// drainProposals proposes everything the pipeline queued, in order.
func (p *Peer) drainProposals() {
	p.propMu.Lock()
	q := p.propQueue
	p.propQueue = nil
	p.propMu.Unlock()
	for _, b := range q {
		p.propose(b.r, b.entries)
	}
}

func (p *Peer) propose(r *leaderReplicator, entries []pipeline.Entry) {
	if p.leaderRepl != r {
		return // prepared in an epoch that ended
	}
	ps := make([]zab.Proposal, 0, len(entries))
	for _, e := range entries {
		switch {
		case e.Txn != nil:
			enc := jute.NewEncoder(nil)
			e.Txn.Encode(enc)
			en := &zab.Entry{Zxid: e.Txn.Header.Zxid, Data: enc.Bytes(), Value: e.Txn}
			setEntryConfig(en)
			ps = append(ps, zab.Proposal{Entry: en})
		case e.Req != nil && e.Req.From != 0 && e.Req.Op == proto.OpSync:
			ps = append(ps, zab.Proposal{SyncFor: e.Req.From, Confirm: true})
		case e.Req != nil && e.Req.From != 0:
			// Nothing to tell a learner without a transaction.
		default:
			confirm := e.Req != nil && e.Req.Op == proto.OpSync && e.Err == proto.ErrOK
			ps = append(ps, zab.Proposal{Marker: e, Confirm: confirm})
		}
	}
	if err := p.node.Propose(ps...); err != nil {
		p.log.Debug("proposals dropped: no longer leading", "count", len(ps))
	}
}

// dropReplicator discards what a member that does not lead prepared.
type dropReplicator struct{}

// Replicate implements pipeline.Replicator.
func (dropReplicator) Replicate([]pipeline.Entry) {}

// learnerForwarder sends a learner's writes to its leader.
type learnerForwarder struct{ p *Peer }

// Forward implements pipeline.Forwarder.
func (f learnerForwarder) Forward(req *pipeline.Request) {
	f.p.post(func() { f.p.forward(req) })
}

func (p *Peer) forward(req *pipeline.Request) {
	body := req.Body
	if req.Op == proto.OpCreateSession {
		body = nil // a client's own createSession fails at the leader
		if req.Handshake {
			e := jute.NewEncoder(nil)
			e.Int(req.Timeout)
			body = e.Bytes()
		}
	}
	m := zab.Message{Type: zab.MsgRequest, Data: encodeRequest(req.Session, req.Xid, req.Op, body, req.IDs)}
	if err := p.node.SendApp(m); err != nil {
		// No leader to send it to: the client must reconnect elsewhere.
		if req.Client != nil {
			req.Client.Close()
		}
		return
	}
	if req.Op == proto.OpSync {
		p.fwdSyncs = append(p.fwdSyncs, req)
	}
}

// encodeRequest is a REQUEST packet's data, as Learner.request writes it:
// session, cxid, type and the request bytes — here length-prefixed and
// followed by the client's identities (ZooKeeper's authinfo).
func encodeRequest(session int64, cxid int32, op proto.Op, body []byte, ids []proto.Id) []byte {
	e := jute.NewEncoder(nil)
	e.Long(session)
	e.Int(cxid)
	e.Int(int32(op))
	e.Buffer(body)
	e.Int(int32(len(ids)))
	for i := range ids {
		ids[i].Encode(e)
	}
	return e.Bytes()
}

func decodeRequest(b []byte) (*pipeline.Request, error) {
	d := jute.NewDecoder(b)
	r := &pipeline.Request{Session: d.Long(), Xid: d.Int(), Op: proto.Op(d.Int())}
	r.Body = d.BufferCopy()
	n := d.Count(8)
	for i := 0; i < n && d.Err() == nil; i++ {
		var id proto.Id
		id.Decode(d)
		r.IDs = append(r.IDs, id)
	}
	return r, d.Err()
}

// received handles application messages the node delivered.
func (p *Peer) received(m zab.Message) {
	switch m.Type {
	case zab.MsgRequest:
		p.forwardedRequest(m)
	case zab.MsgRevalidate:
		if p.node.Role() == zab.Leading {
			p.revalidateFor(m)
		} else {
			p.revalidateAnswer(m)
		}
	case zab.MsgPing:
		p.touchFrom(m.Data)
	}
}

// forwardedRequest runs a learner's write through this leader's pipeline.
func (p *Peer) forwardedRequest(m zab.Message) {
	req, err := decodeRequest(m.Data)
	if err != nil || isLocalRead(req.Op) {
		p.log.Warn("bad forwarded request; ignored", "from", m.From, "err", err)
		return
	}
	req.From, req.Owner = m.From, m.From
	if req.Op == proto.OpCreateSession {
		d := jute.NewDecoder(req.Body)
		req.Timeout = d.Int()
		req.Handshake = d.Err() == nil
	}
	p.proc.Submit(req)
}

func isLocalRead(op proto.Op) bool {
	switch op {
	case proto.OpCreateSession, proto.OpCloseSession, proto.OpSync:
		return false
	}
	return !op.IsWrite() && op != proto.OpDeleteContainer
}
