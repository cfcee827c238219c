package pipeline

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"zkit/server/auth"
	"zkit/server/jute"
	"zkit/server/proto"
	"zkit/server/session"
	"zkit/server/tree"
)

// preparer turns write requests into transactions. One goroutine runs it,
// so zxids are assigned in order (PrepRequestProcessor).
type preparer struct {
	ch       *changes
	auth     *auth.Registry
	sessions *session.Tracker
	opts     *Options
	zxid     int64 // the last zxid assigned
	now      func() time.Time
	// reconfigurer is the ensemble's reconfig logic, or nil.
	reconfigurer func() Reconfigurer
}

// prepare builds the entry for one request that needs ordering.
func (p *preparer) prepare(req *Request) Entry {
	switch req.Op {
	case proto.OpSync:
		// A learner's sync always gets its SYNC back (it pairs them with its
		// forwarded syncs in order); its own session check happened there.
		if err := p.checkSession(req); err != nil && req.From == 0 {
			return p.failNoTxn(req, errCode(err))
		}
		return Entry{Req: req}
	case proto.OpCreateSession:
		if !req.Handshake && req.From == 0 {
			// A client sending createSession inside its session: ZooKeeper
			// fails to read the timeout from the request and records an
			// error transaction.
			return p.entry(req, proto.OpError, &proto.IntRecord{Value: int32(proto.ErrMarshallingError)})
		}
		p.sessions.Add(req.Session, req.Timeout)
		p.sessions.SetOwner(req.Session, req.Owner)
		return p.entry(req, proto.OpCreateSession, &proto.IntRecord{Value: req.Timeout})
	case proto.OpCloseSession:
		return p.closeSession(req)
	case proto.OpDeleteContainer:
		// 3.9 reads DeleteContainerRequest before taking a zxid: a body that
		// does not decode fails with no transaction.
		if decodeBody(req.Body, &proto.PathRecord{}) != nil {
			return p.failNoTxn(req, proto.ErrMarshallingError)
		}
	}
	hdrType := req.Op
	v := newView(p.ch, p.zxid+1)
	body, err := p.prepOp(v, req, req.Op, req.Body)
	if err != nil {
		hdrType = proto.OpError
		body = &proto.IntRecord{Value: int32(errCode(err))}
	} else {
		p.ch.add(v.added)
	}
	return p.entry(req, hdrType, body)
}

// failNoTxn answers a request with an error and no transaction. A request
// forwarded by a learner gets an error transaction instead: the learner
// learns its outcome only from the commit stream.
func (p *preparer) failNoTxn(req *Request, err proto.Err) Entry {
	if req.From != 0 {
		return p.entry(req, proto.OpError, &proto.IntRecord{Value: int32(err)})
	}
	return Entry{Req: req, Err: err}
}

func (p *preparer) entry(req *Request, typ proto.Op, body proto.Record) Entry {
	p.zxid++
	return Entry{Req: req, Txn: &proto.Txn{
		Header: proto.TxnHeader{
			ClientID: req.Session, Cxid: req.Xid, Zxid: p.zxid,
			Time: p.now().UnixMilli(), Type: typ,
		},
		Body: body,
	}}
}

func errCode(err error) proto.Err {
	if e, ok := err.(proto.Err); ok {
		return e
	}
	return proto.ErrMarshallingError
}

// prepOp decodes one operation and prepares it.
func (p *preparer) prepOp(v *view, req *Request, op proto.Op, body []byte) (proto.Record, error) {
	var rec proto.Record
	switch op {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
		rec = &proto.CreateRequest{HasTTL: op == proto.OpCreateTTL}
	case proto.OpDelete, proto.OpCheck:
		rec = &proto.PathVersionRecord{}
	case proto.OpDeleteContainer:
		// DeleteContainerRequest (3.9): the path alone.
		var pr proto.PathRecord
		if err := decodeBody(body, &pr); err != nil {
			return nil, err
		}
		rec = &proto.PathVersionRecord{Path: pr.Path}
		return p.prepRecord(v, req, op, rec)
	case proto.OpSetData:
		rec = &proto.SetDataRequest{}
	case proto.OpSetACL:
		rec = &proto.SetACLRequest{}
	case proto.OpMulti:
		rec = &proto.MultiRequest{}
	case proto.OpReconfig:
		rec = &proto.ReconfigRequest{}
	default:
		return nil, proto.ErrUnimplemented
	}
	if err := decodeBody(body, rec); err != nil {
		return nil, err
	}
	return p.prepRecord(v, req, op, rec)
}

// prepRecord validates one decoded operation against the view and returns
// its transaction body; failures are ZooKeeper error codes.
func (p *preparer) prepRecord(v *view, req *Request, op proto.Op, rec proto.Record) (proto.Record, error) {
	switch op {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
		return p.create(v, req, op, rec.(*proto.CreateRequest))
	case proto.OpDelete:
		return p.delete(v, req, rec.(*proto.PathVersionRecord))
	case proto.OpDeleteContainer:
		return p.deleteContainer(v, rec.(*proto.PathVersionRecord).Path)
	case proto.OpSetData:
		return p.setData(v, req, rec.(*proto.SetDataRequest))
	case proto.OpSetACL:
		return p.setACL(v, req, rec.(*proto.SetACLRequest))
	case proto.OpCheck:
		return p.check(v, req, rec.(*proto.PathVersionRecord))
	case proto.OpMulti:
		return p.multi(v, req, rec.(*proto.MultiRequest))
	case proto.OpReconfig:
		return p.reconfig(v, req, rec.(*proto.ReconfigRequest))
	}
	return nil, proto.ErrUnimplemented
}

// reconfig prepares a reconfiguration in PrepRequestProcessor's order:
// enabled, session, an ensemble's leader, none in progress, then the
// ensemble's own checks (version, syntax, voters, a synced quorum), and
// the ACL of /zookeeper/config last. The transaction sets
// /zookeeper/config to the new configuration, data version -1.
func (p *preparer) reconfig(v *view, req *Request, rr *proto.ReconfigRequest) (proto.Record, error) {
	if !p.opts.ReconfigEnabled {
		return nil, proto.ErrReconfigDisabled
	}
	if err := p.checkSession(req); err != nil {
		return nil, err
	}
	rc := p.reconfigurer()
	if rc == nil {
		// Reconfiguration needs an ensemble; a standalone server refuses
		// it as ZooKeeper does.
		return nil, proto.ErrUnimplemented
	}
	node := v.get(tree.ConfigPath)
	if node == nil {
		return nil, proto.ErrNoNode
	}
	var current []byte
	if node.zxid != -1 {
		// A reconfig in flight is in progress until its configuration is
		// active: ZooKeeper's check compares the last seen and the active
		// QuorumVerifier, and the leader activates at commit
		// (Leader.tryToCommit), before the learners hear of it, which may
		// be before this member applies it. From then on the active
		// configuration is the current one.
		var active bool
		if current, active = rc.Active(node.zxid); !active {
			return nil, proto.ErrReconfigInProgress
		}
	} else {
		p.ch.db.Read(func(t *tree.Tree) {
			if n := t.Get(tree.ConfigPath); n != nil {
				current = append([]byte(nil), n.Data...)
			}
		})
	}
	data, err := rc.Reconfig(rr, current, v.zxid)
	if err != nil {
		return nil, err
	}
	if err := p.auth.Check(node.acl, proto.PermWrite, req.IDs); err != nil {
		return nil, err
	}
	nr := node.clone()
	nr.version = -1
	nr.dataLen = len(data)
	v.put(nr)
	return &proto.SetDataRequest{Path: tree.ConfigPath, Data: data, Version: -1}, nil
}

// decodeBody decodes a request's body. The values alias the body: it is
// the request's own buffer, kept as long as the transaction.
func decodeBody(body []byte, rec proto.Record) error {
	d := jute.NewDecoder(body)
	d.Alias = true
	rec.Decode(d)
	if d.Err() != nil {
		return proto.ErrMarshallingError
	}
	return nil
}

func (p *preparer) checkSession(req *Request) error {
	return p.sessions.Check(req.Session, req.Owner)
}

// validatePath rejects invalid paths with BADARGUMENTS.
func validatePath(path string) error {
	if proto.ValidatePath(path) != nil {
		return proto.ErrBadArguments
	}
	return nil
}

// checkVersion returns the next version, or BADVERSION when the expected
// version is neither -1 nor the current one.
func checkVersion(current, expected int32) (int32, error) {
	if expected != -1 && expected != current {
		return 0, proto.ErrBadVersion
	}
	return current + 1, nil
}

// isSpecial reports the paths nobody may delete (DataTree.isSpecialPath).
func isSpecial(path string) bool {
	switch path {
	case "/", tree.ZooKeeperPath, tree.QuotaPath, tree.ConfigPath:
		return true
	}
	return false
}

// parentOf splits off the parent for delete, refusing what
// getParentPathAndValidate refuses.
func parentOf(path string) (string, error) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 || strings.IndexByte(path, 0) >= 0 || isSpecial(path) {
		return "", proto.ErrBadArguments
	}
	if i == 0 {
		return "/", nil
	}
	return path[:i], nil
}

func validMode(flags int32) bool { return flags >= 0 && flags <= 6 }

func isTTLMode(flags int32) bool {
	return flags == proto.ModePersistentWithTTL || flags == proto.ModePersistentSequentialWithTTL
}

func isSequential(flags int32) bool {
	switch flags {
	case proto.ModePersistentSequential, proto.ModeEphemeralSequential, proto.ModePersistentSequentialWithTTL:
		return true
	}
	return false
}

func isEphemeral(flags int32) bool {
	return flags == proto.ModeEphemeral || flags == proto.ModeEphemeralSequential
}

// create follows pRequest2TxnCreate check by check, since clients can see
// which error wins when several apply.
func (p *preparer) create(v *view, req *Request, op proto.Op, cr *proto.CreateRequest) (proto.Record, error) {
	if !validMode(cr.Flags) {
		return nil, proto.ErrBadArguments
	}
	ttl := int64(-1)
	if op == proto.OpCreateTTL {
		ttl = cr.TTL
	}
	if isTTLMode(cr.Flags) && !p.opts.ExtendedTypes {
		return nil, proto.ErrUnimplemented
	}
	if isTTLMode(cr.Flags) {
		if ttl <= 0 || ttl > tree.MaxTTL {
			return nil, proto.ErrBadArguments
		}
	} else if op == proto.OpCreateTTL {
		// validateTTL refuses a ttl with a mode that has none; a negative
		// one passes it in ZooKeeper and then brings the server down when
		// the transaction is applied, so zkit refuses both.
		return nil, proto.ErrBadArguments
	}
	if err := p.checkSession(req); err != nil {
		return nil, err
	}
	slash := strings.LastIndexByte(cr.Path, '/')
	if slash < 0 || strings.IndexByte(cr.Path, 0) >= 0 {
		return nil, proto.ErrBadArguments
	}
	parentPath := cr.Path[:slash]
	if parentPath == "" {
		parentPath = "/"
	}
	acl, err := p.auth.Fixup(cr.ACL, req.IDs)
	if err != nil {
		return nil, err
	}
	parent := v.get(parentPath)
	if parent == nil {
		return nil, proto.ErrNoNode
	}
	if err := p.auth.Check(parent.acl, proto.PermCreate, req.IDs); err != nil {
		return nil, err
	}
	path := cr.Path
	if isSequential(cr.Flags) {
		path += fmt.Sprintf("%010d", parent.cversion)
	}
	if err := validatePath(path); err != nil {
		return nil, err
	}
	if v.get(path) != nil {
		return nil, proto.ErrNodeExists
	}
	if tree.KindOf(parent.owner, p.opts.ExtendedTypes) == tree.OwnerSession {
		return nil, proto.ErrNoChildrenForEphemerals
	}
	if err := p.checkQuota(path, int64(len(cr.Data)), 1); err != nil {
		return nil, err
	}
	newCversion := parent.cversion + 1
	// The znode keeps its data for its life: an exact copy, so that it does
	// not pin the whole request frame it was decoded from.
	txn := &proto.CreateTxn{Form: proto.OpCreate, Path: path, Data: bytes.Clone(cr.Data), ACL: acl, ParentCVersion: newCversion}
	owner := int64(0)
	switch {
	case op == proto.OpCreateContainer:
		txn.Form = proto.OpCreateContainer
		owner = tree.ContainerOwner
	case op == proto.OpCreateTTL:
		txn.Form = proto.OpCreateTTL
		txn.TTL = ttl
		owner = tree.TTLOwner(ttl)
	case isEphemeral(cr.Flags):
		txn.Ephemeral = true
		owner = req.Session
	}
	pr := parent.clone()
	pr.children++
	pr.cversion = newCversion
	v.put(pr)
	v.put(&record{path: path, exists: true, owner: owner, acl: acl, dataLen: len(cr.Data)})
	return txn, nil
}

func (p *preparer) delete(v *view, req *Request, dr *proto.PathVersionRecord) (proto.Record, error) {
	if err := p.checkSession(req); err != nil {
		return nil, err
	}
	parentPath, err := parentOf(dr.Path)
	if err != nil {
		return nil, err
	}
	parent := v.get(parentPath)
	if parent == nil {
		return nil, proto.ErrNoNode
	}
	if err := p.auth.Check(parent.acl, proto.PermDelete, req.IDs); err != nil {
		return nil, err
	}
	node := v.get(dr.Path)
	if node == nil {
		return nil, proto.ErrNoNode
	}
	if _, err := checkVersion(node.version, dr.Version); err != nil {
		return nil, err
	}
	if node.children > 0 {
		return nil, proto.ErrNotEmpty
	}
	p.recordDelete(v, parent, dr.Path)
	return &proto.PathRecord{Path: dr.Path}, nil
}

func (p *preparer) recordDelete(v *view, parent *record, path string) {
	pr := parent.clone()
	pr.children--
	v.put(pr)
	v.put(&record{path: path, exists: false})
}

// deleteContainer removes an empty container or expired TTL node. Its body
// is the bare path, not a jute record. ZooKeeper lets it delete any empty
// node that is not a session's ephemeral; zkit limits it to containers and
// TTL nodes, so a client cannot bypass ACLs with it.
func (p *preparer) deleteContainer(v *view, path string) (proto.Record, error) {
	parentPath, err := parentOf(path)
	if err != nil {
		return nil, err
	}
	node := v.get(path)
	if node == nil {
		return nil, proto.ErrNoNode
	}
	if node.children > 0 {
		return nil, proto.ErrNotEmpty
	}
	switch tree.KindOf(node.owner, p.opts.ExtendedTypes) {
	case tree.OwnerContainer, tree.OwnerTTL:
	default:
		return nil, proto.ErrBadVersion
	}
	parent := v.get(parentPath)
	if parent == nil {
		return nil, proto.ErrNoNode
	}
	p.recordDelete(v, parent, path)
	return &proto.PathRecord{Path: path}, nil
}

func (p *preparer) setData(v *view, req *Request, sr *proto.SetDataRequest) (proto.Record, error) {
	if err := p.checkSession(req); err != nil {
		return nil, err
	}
	if err := validatePath(sr.Path); err != nil {
		return nil, err
	}
	node := v.get(sr.Path)
	if node == nil {
		return nil, proto.ErrNoNode
	}
	if err := p.auth.Check(node.acl, proto.PermWrite, req.IDs); err != nil {
		return nil, err
	}
	if err := p.checkQuota(sr.Path, int64(len(sr.Data)-node.dataLen), 0); err != nil {
		return nil, err
	}
	version, err := checkVersion(node.version, sr.Version)
	if err != nil {
		return nil, err
	}
	nr := node.clone()
	nr.version = version
	nr.dataLen = len(sr.Data)
	v.put(nr)
	return &proto.SetDataRequest{Path: sr.Path, Data: bytes.Clone(sr.Data), Version: version}, nil
}

func (p *preparer) setACL(v *view, req *Request, sr *proto.SetACLRequest) (proto.Record, error) {
	if err := p.checkSession(req); err != nil {
		return nil, err
	}
	if err := validatePath(sr.Path); err != nil {
		return nil, err
	}
	acl, err := p.auth.Fixup(sr.ACL, req.IDs)
	if err != nil {
		return nil, err
	}
	node := v.get(sr.Path)
	if node == nil {
		return nil, proto.ErrNoNode
	}
	if err := p.auth.Check(node.acl, proto.PermAdmin, req.IDs); err != nil {
		return nil, err
	}
	version, err := checkVersion(node.aversion, sr.Version)
	if err != nil {
		return nil, err
	}
	nr := node.clone()
	nr.aversion = version
	nr.acl = acl
	v.put(nr)
	return &proto.SetACLRequest{Path: sr.Path, ACL: acl, Version: version}, nil
}

func (p *preparer) check(v *view, req *Request, cr *proto.PathVersionRecord) (proto.Record, error) {
	if err := p.checkSession(req); err != nil {
		return nil, err
	}
	if err := validatePath(cr.Path); err != nil {
		return nil, err
	}
	node := v.get(cr.Path)
	if node == nil {
		return nil, proto.ErrNoNode
	}
	if err := p.auth.Check(node.acl, proto.PermRead, req.IDs); err != nil {
		return nil, err
	}
	version, err := checkVersion(node.version, cr.Version)
	if err != nil {
		return nil, err
	}
	return &proto.PathVersionRecord{Path: cr.Path, Version: version}, nil
}

// multi prepares every op against one view; after the first failure the
// remaining ops become RUNTIMEINCONSISTENCY errors and the view's changes
// are dropped, so nothing of a failed multi is ever applied.
func (p *preparer) multi(v *view, req *Request, mr *proto.MultiRequest) (proto.Record, error) {
	txn := &proto.MultiTxn{Txns: make([]proto.SubTxn, 0, len(mr.Ops))}
	failed := false
	for i := range mr.Ops {
		op := &mr.Ops[i]
		if failed {
			txn.Txns = append(txn.Txns, proto.SubTxn{Type: proto.OpError, Body: &proto.IntRecord{Value: int32(proto.ErrRuntimeInconsistency)}})
			continue
		}
		if !op.Type.IsWrite() || op.Type == proto.OpMulti || op.Type == proto.OpReconfig {
			return nil, proto.ErrMarshallingError
		}
		body, err := p.prepRecord(v, req, op.Type, op.Body)
		if err != nil {
			failed = true
			v.local, v.added = nil, nil
			txn.Txns = append(txn.Txns, proto.SubTxn{Type: proto.OpError, Body: &proto.IntRecord{Value: int32(errCode(err))}})
			continue
		}
		txn.Txns = append(txn.Txns, proto.SubTxn{Type: op.Type, Body: body})
	}
	return txn, nil
}

func (p *preparer) closeSession(req *Request) Entry {
	paths := p.ch.ephemeralsOf(req.Session)
	v := newView(p.ch, p.zxid+1)
	for _, path := range paths {
		parentPath, _ := proto.ParentPath(path)
		if parent := v.get(parentPath); parent != nil {
			p.recordDelete(v, parent, path)
		}
	}
	p.ch.add(v.added)
	p.sessions.SetClosing(req.Session)
	return p.entry(req, proto.OpCloseSession, &proto.StringsRecord{Strings: paths})
}

// checkQuota refuses a create or setData that would take a subtree past a
// hard quota limit, and logs one past a soft limit
// (ZooKeeperServer.checkQuota). The limits and the current stats are read
// from the tree, as ZooKeeper reads them.
func (p *preparer) checkQuota(path string, bytes, count int64) error {
	if !p.opts.EnforceQuota {
		return nil
	}
	var prefix string
	var limits, stats tree.StatsTrack
	var found bool
	p.ch.db.Read(func(t *tree.Tree) {
		prefix = t.QuotaPrefix(path)
		if prefix == "" {
			return
		}
		ln := t.Get(tree.QuotaPath + prefix + "/" + tree.QuotaLimitNode)
		sn := t.Get(tree.QuotaPath + prefix + "/" + tree.QuotaStatNode)
		if ln == nil || sn == nil {
			return
		}
		limits, stats, found = tree.ParseStatsTrack(string(ln.Data)), tree.ParseStatsTrack(string(sn.Data)), true
	})
	if !found {
		return nil
	}
	if count != 0 && (limits.Count() > -1 || limits.CountHardLimit() > -1) {
		if err := p.overQuota(prefix, "count", stats.Count()+count, limits.Count(), limits.CountHardLimit()); err != nil {
			return err
		}
	}
	if bytes != 0 && (limits.Bytes() > -1 || limits.ByteHardLimit() > -1) {
		return p.overQuota(prefix, "bytes", stats.Bytes()+bytes, limits.Bytes(), limits.ByteHardLimit())
	}
	return nil
}

func (p *preparer) overQuota(prefix, what string, value, soft, hard int64) error {
	limit, kind := soft, "soft"
	if hard > -1 {
		limit, kind = hard, "hard"
	}
	if value <= limit {
		return nil
	}
	p.opts.Logger.Warn("quota exceeded", "path", prefix, what, value, "limit", limit, "kind", kind)
	if kind == "hard" {
		return proto.ErrQuotaExceeded
	}
	return nil
}
