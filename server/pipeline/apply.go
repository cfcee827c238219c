package pipeline

import (
	"zkit/server/db"
	"zkit/server/jute"
	"zkit/server/proto"
	"zkit/server/tree"
)

func (p *Processor) applyLoop() {
	defer p.wg.Done()
	for batch := range p.applyCh {
	drain:
		for len(batch) < 4096 {
			select {
			case more, ok := <-p.applyCh:
				if !ok {
					break drain
				}
				batch = append(batch, more...)
			default:
				break drain
			}
		}
		p.applyBatch(batch)
	}
}

// applyBatch applies entries under one write lock, answering each local
// request right after its transaction, so replies and watch events leave
// in the order of the changes they reflect.
func (p *Processor) applyBatch(batch []Entry) {
	last := int64(-1)
	txns := 0
	var closed []Client
	var barriers []chan struct{}
	if p.hooks != nil {
		p.hooks.BeginBatch()
	}
	p.db.Write(func(t *tree.Tree) {
		for i := range batch {
			e := &batch[i]
			if e.barrier != nil {
				barriers = append(barriers, e.barrier)
				continue
			}
			var res tree.Result
			if e.Txn != nil {
				if e.Replay {
					res = t.ApplyReplay(e.Txn)
				} else {
					res = t.Apply(e.Txn)
				}
				last = e.Txn.Header.Zxid
				txns++
			}
			// A closeSession is answered before its connection is
			// unregistered: a member finds the request it answers through
			// the connection holding the session.
			closing := e.Txn != nil && e.Txn.Header.Type == proto.OpCloseSession
			if e.Txn != nil && !closing {
				p.sessionChange(e.Txn)
			}
			p.answer(t, e, &res)
			if closing {
				if c := p.sessionChange(e.Txn); c != nil {
					closed = append(closed, c)
				}
			}
			if c := localClose(e); c != nil {
				closed = append(closed, c)
			}
		}
	})
	if last >= 0 {
		p.changes.applied(last)
	}
	if p.hooks != nil {
		// The batch's replies go out before anyone waiting on a barrier
		// (WaitApplied) goes on, say to close the connections.
		p.hooks.EndBatch()
	}
	for _, c := range closed {
		c.Close()
	}
	for _, b := range barriers {
		close(b)
	}
	if p.opts.Applied != nil && txns > 0 {
		p.opts.Applied(last, txns)
	}
}

// sessionChange keeps the tracker in step with session transactions and
// returns the connection to close after a session's close.
func (p *Processor) sessionChange(txn *proto.Txn) Client {
	h := &txn.Header
	switch h.Type {
	case proto.OpCreateSession:
		if !p.sessions.Exists(h.ClientID) {
			p.sessions.Add(h.ClientID, txn.Body.(*proto.IntRecord).Value)
		}
	case proto.OpCloseSession:
		p.sessions.Remove(h.ClientID)
		c := p.ClientOf(h.ClientID)
		if c != nil {
			p.Unregister(h.ClientID, c)
		}
		return c
	}
	return nil
}

// localClose returns the connection to close after a closeSession
// answered without a transaction (a read-only member's local session).
func localClose(e *Entry) Client {
	if e.Txn != nil || e.Req == nil || e.Req.Op != proto.OpCloseSession || e.Err != proto.ErrOK {
		return nil
	}
	return e.Req.Client
}

// answer replies to the request behind an entry, if it is local, then to
// the reads that waited behind it.
func (p *Processor) answer(t *tree.Tree, e *Entry, res *tree.Result) {
	req := e.Req
	if req == nil && e.Txn != nil {
		if e.Txn.Header.Type == proto.OpCreateSession {
			// A session created for a client of this member, prepared by
			// the leader: the connection waits for it outside its FIFO.
			if c := p.ClientOf(e.Txn.Header.ClientID); c != nil {
				p.Stats.Outstanding.Add(-1)
				c.SessionCreated(e.Txn.Header.ClientID, e.Txn.Body.(*proto.IntRecord).Value)
			}
			return
		}
		req = p.localRequest(e.Txn)
	}
	if req == nil || req.Client == nil {
		return
	}
	p.Stats.Outstanding.Add(-1)
	var reads []*Request
	if !req.Handshake {
		head, rs := req.Client.FIFO().popWrite(req.Xid)
		if head != nil {
			reads = rs
		}
	}
	if sessionMoved(e, res) {
		// FinalRequestProcessor answers SessionMovedException with
		// cnxn.sendCloseSession() and no reply (ZOOKEEPER-710): the
		// connection closes once its pending output is sent, and nothing
		// queued after that, the reads behind this request included, goes
		// out.
		req.Client.Close()
		return
	}
	p.reply(t, req, e, res)
	for _, r := range reads {
		p.answerRead(r, t)
	}
}

// sessionMoved reports whether a request failed with SESSIONMOVED, on its
// own (a request with no transaction, or an error transaction) or in a
// sub-result of a multi, the cases FinalRequestProcessor turns into a
// SessionMovedException.
func sessionMoved(e *Entry, res *tree.Result) bool {
	if e.Txn == nil {
		return e.Err == proto.ErrSessionMoved
	}
	if res.Type == proto.OpError {
		return res.Err == proto.ErrSessionMoved
	}
	for _, r := range res.Multi {
		if r.Type == proto.OpError && r.Err == proto.ErrSessionMoved {
			return true
		}
	}
	return false
}

// localRequest finds the request a committed transaction answers: the head
// of the FIFO of the connection holding its session, if the xids match.
func (p *Processor) localRequest(txn *proto.Txn) *Request {
	c := p.ClientOf(txn.Header.ClientID)
	if c == nil {
		return nil
	}
	f := c.FIFO()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.items) > 0 && f.items[0].Xid == txn.Header.Cxid && !isOrderedRead(f.items[0].Op) {
		return f.items[0]
	}
	return nil
}

func (p *Processor) reply(t *tree.Tree, req *Request, e *Entry, res *tree.Result) {
	zxid := t.LastZxid()
	c := req.Client
	p.Stats.Sent.Add(1)
	switch {
	case req.Handshake:
		c.SessionCreated(req.Session, req.Timeout)
		return
	case e.Txn == nil:
		if e.Err != proto.ErrOK {
			c.Reply(req.Xid, zxid, e.Err, nil)
			return
		}
		if req.Op == proto.OpCloseSession {
			c.Reply(req.Xid, zxid, proto.ErrOK, nil)
			return
		}
		if req.Op == proto.OpSync {
			var sr proto.PathRecord
			_ = decodeBody(req.Body, &sr)
			// The path comes back as Java re-encodes the string it decoded.
			sr.Path = jute.JavaString(sr.Path)
			c.Reply(req.Xid, zxid, proto.ErrOK, &sr)
			return
		}
		c.Reply(req.Xid, zxid, proto.ErrUnimplemented, nil)
		return
	}
	if res.Type == proto.OpError {
		c.Reply(req.Xid, zxid, res.Err, nil)
		return
	}
	if req.Op == proto.OpCloseSession {
		c.Reply(req.Xid, zxid, proto.ErrOK, nil)
		return
	}
	if req.Op == proto.OpReconfig && res.Err == proto.ErrOK {
		// FinalRequestProcessor answers a reconfig with the configuration
		// now active and the stat of /zookeeper/config.
		sd, _ := e.Txn.Body.(*proto.SetDataRequest)
		if sd != nil {
			c.Reply(req.Xid, zxid, proto.ErrOK, &proto.GetDataResponse{Data: sd.Data, Stat: res.Stat})
			return
		}
	}
	body, err := writeReply(req.Op, res)
	c.Reply(req.Xid, zxid, err, body)
}

// writeReply builds the reply record of an applied write
// (FinalRequestProcessor).
func writeReply(op proto.Op, res *tree.Result) (proto.Record, proto.Err) {
	if res.Err != proto.ErrOK && op != proto.OpMulti {
		return nil, res.Err
	}
	switch op {
	case proto.OpCreate:
		return &proto.PathRecord{Path: res.Path}, proto.ErrOK
	case proto.OpCreate2, proto.OpCreateTTL, proto.OpCreateContainer:
		return &proto.Create2Response{Path: res.Path, Stat: res.Stat}, proto.ErrOK
	case proto.OpSetData, proto.OpSetACL, proto.OpCheck:
		return &proto.StatResponse{Stat: res.Stat}, proto.ErrOK
	case proto.OpMulti:
		return multiReply(res), proto.ErrOK
	}
	return nil, proto.ErrOK
}

// multiReply reports each op; the reply header of a failed multi still says
// OK, and clients look for the first error result.
func multiReply(res *tree.Result) *proto.MultiResponse {
	out := &proto.MultiResponse{Results: make([]proto.OpResult, 0, len(res.Multi))}
	for _, r := range res.Multi {
		var o proto.OpResult
		switch r.Type {
		case proto.OpCreate:
			o = proto.OpResult{Type: proto.OpCreate, Path: r.Path}
		case proto.OpCreate2, proto.OpCreateTTL, proto.OpCreateContainer:
			o = proto.OpResult{Type: proto.OpCreate2, Path: r.Path, Stat: r.Stat}
		case proto.OpDelete, proto.OpDeleteContainer:
			o = proto.OpResult{Type: proto.OpDelete}
		case proto.OpSetData:
			o = proto.OpResult{Type: proto.OpSetData, Stat: r.Stat}
		case proto.OpCheck:
			o = proto.OpResult{Type: proto.OpCheck}
		default:
			o = proto.OpResult{Type: proto.OpError, Err: r.Err}
		}
		out.Results = append(out.Results, o)
	}
	return out
}

// answerRead runs a read and replies. t is the tree when the caller holds
// the write lock (apply loop), nil otherwise.
func (p *Processor) answerRead(req *Request, t *tree.Tree) {
	c := req.Client
	if req.Op == proto.OpPing {
		zxid := p.lastZxid(t)
		c.Reply(proto.XidPing, zxid, proto.ErrOK, nil)
		return
	}
	r := &db.Reader{IDs: c.AuthIDs(), Watcher: c, SessionID: req.Session}
	var rep db.Reply
	var zxid int64
	if t != nil {
		rep = p.db.ReadOpLocked(req.Op, req.Body, r)
		zxid = t.LastZxid()
	} else {
		p.db.Read(func(tr *tree.Tree) {
			rep = p.db.ReadOpLocked(req.Op, req.Body, r)
			zxid = tr.LastZxid()
			// Queue the reply under the lock: a watch event for a change
			// applied after this read must follow it.
			p.Stats.Sent.Add(1)
			c.Reply(req.Xid, zxid, rep.Err, replyBody(rep))
		})
		return
	}
	p.Stats.Sent.Add(1)
	c.Reply(req.Xid, zxid, rep.Err, replyBody(rep))
}

func replyBody(rep db.Reply) proto.Record {
	if rep.Err != proto.ErrOK && !rep.KeepBody {
		return nil
	}
	return rep.Body
}

func (p *Processor) lastZxid(t *tree.Tree) int64 {
	if t != nil {
		return t.LastZxid()
	}
	return p.db.LastZxid()
}
