package quorum

import (
	"encoding/binary"
	"errors"

	"zkit/server/config"
	"zkit/server/jute"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/tree"
	"zkit/server/zab"
)

var errShortSnap = errors.New("SNAP without a snapshot")

// processReady carries out the node's Ready in the order zab documents:
// log rewrites, epochs, appends, messages, commits, then received
// application messages and role changes.
func (p *Peer) processReady() {
	for p.node.HasReady() {
		rd := p.node.Ready()
		if rd.Truncate != nil {
			p.truncate(*rd.Truncate)
		}
		if rd.Snapshot != nil {
			p.installSnapshot(*rd.Snapshot)
		}
		if rd.AcceptedEpoch != nil || rd.CurrentEpoch != nil {
			p.saveEpochs(rd.AcceptedEpoch, rd.CurrentEpoch)
		}
		var active *config.Quorum
		if rd.Membership != nil {
			// Active before the COMMIT goes out, as Leader.tryToCommit's
			// processReconfig precedes commitAndActivate: a learner's
			// client may have its reply and send the next reconfig, which
			// must not find this one still in progress.
			active = p.activeQuorum(rd.Membership)
		}
		if len(rd.Entries) > 0 {
			p.be.Append(rd.Entries, func(z int64) { p.post(func() { p.node.Persisted(z) }) })
		}
		for i := range rd.Messages {
			p.sendMessage(rd.Messages[i])
		}
		if len(rd.Committed) > 0 {
			p.commit(rd.Committed)
		}
		for _, m := range rd.Received {
			p.received(m)
		}
		if active != nil {
			p.onMembership(rd.Membership, *active)
		}
		if rd.Role != nil {
			p.onRole(rd.Role)
		}
	}
}

func (p *Peer) saveEpochs(accepted, current *uint32) {
	a, c := p.be.Epochs()
	if accepted != nil {
		a = *accepted
	}
	if current != nil {
		c = *current
	}
	if err := p.be.SaveEpochs(a, c); err != nil {
		// Without its promises on disk a member must not take part.
		p.log.Error("cannot persist epochs; stopping", "err", err)
		go p.Stop()
	}
}

// truncate cuts the log back to zxid; if the database applied beyond it
// (entries replayed at start that the leader never had), it is rebuilt.
func (p *Peer) truncate(zxid int64) {
	p.exitReadOnly() // the database is about to change under its readers
	if err := p.be.Truncate(zxid); err != nil {
		p.log.Error("cannot truncate the log; stopping", "zxid", zxid, "err", err)
		go p.Stop()
		return
	}
	p.proc.WaitApplied()
	if p.db.LastZxid() <= zxid {
		return
	}
	t, err := p.be.Rebuild(zxid)
	if err != nil {
		p.log.Error("cannot rebuild the database after truncation; stopping", "zxid", zxid, "err", err)
		go p.Stop()
		return
	}
	p.db.Replace(t)
	p.applied.Store(t.LastZxid())
	p.log.Info("log truncated to the leader's history", "zxid", zxidHex(zxid))
}

func (p *Peer) installSnapshot(zxid int64) {
	p.exitReadOnly()
	p.proc.WaitApplied()
	var t *tree.Tree
	err := errShortSnap
	if len(p.snapIn) >= 8 {
		// The leader's fuzzy walk may hold transactions up to replayUntil.
		p.replayUntil = int64(binary.BigEndian.Uint64(p.snapIn))
		t, err = p.be.DecodeSnapshot(p.snapIn[8:])
	}
	p.snapIn = nil
	if err == nil {
		err = p.be.InstallSnapshot(zxid, t)
	}
	if err != nil {
		p.log.Error("cannot install the leader's snapshot; stopping", "zxid", zxidHex(zxid), "err", err)
		go p.Stop()
		return
	}
	p.db.Replace(t)
	p.applied.Store(t.LastZxid())
	if n := t.Get(tree.ConfigPath); n != nil {
		p.learnServers(n.Data)
	}
	p.log.Info("installed the leader's snapshot", "zxid", zxidHex(zxid), "znodes", t.NodeCount())
}

// sendMessage hands a message to the transport, adding what the driver
// contributes: a SNAP's snapshot and a learner's session touches.
func (p *Peer) sendMessage(m zab.Message) {
	switch {
	case m.Type == zab.MsgSnap:
		d, be := p.db, p.be
		p.tr.SendFunc(m, func() []byte {
			b, end, err := be.EncodeSnapshot(d)
			if err != nil {
				p.log.Error("cannot encode a snapshot for a learner", "err", err)
				return nil
			}
			return append(binary.BigEndian.AppendUint64(nil, uint64(end)), b...)
		})
		return
	case m.Type == zab.MsgPing && p.node.Role() != zab.Leading:
		m.Data = p.learner.drainTouches()
	}
	p.tr.Send(m, nil)
}

// commit hands the committed stream to the pipeline's apply loop.
func (p *Peer) commit(cs []zab.Committed) {
	out := make([]pipeline.Entry, 0, len(cs))
	for _, c := range cs {
		switch {
		case c.Entry != nil:
			txn, err := entryTxn(c.Entry)
			if err != nil {
				p.log.Error("undecodable committed transaction; stopping", "zxid", zxidHex(c.Entry.Zxid), "err", err)
				go p.Stop()
				return
			}
			out = append(out, pipeline.Entry{Txn: txn, Replay: c.Entry.Zxid <= p.replayUntil})
			if sd, ok := txn.Body.(*proto.SetDataRequest); ok && txn.Header.Type == proto.OpReconfig {
				p.learnServers(sd.Data)
			}
		case c.RemoteSync:
			if len(p.fwdSyncs) > 0 {
				req := p.fwdSyncs[0]
				p.fwdSyncs = p.fwdSyncs[1:]
				out = append(out, pipeline.Entry{Req: req})
			}
		default:
			if e, ok := c.Marker.(pipeline.Entry); ok {
				out = append(out, e)
			}
		}
	}
	p.proc.Commit(out)
}

func entryTxn(e *zab.Entry) (*proto.Txn, error) {
	if t, ok := e.Value.(*proto.Txn); ok {
		return t, nil
	}
	var t proto.Txn
	d := jute.NewDecoder(e.Data)
	t.Decode(d)
	return &t, d.Err()
}
