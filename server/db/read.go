package db

import (
	"strings"

	"zkit/server/jute"
	"zkit/server/proto"
	"zkit/server/tree"
	"zkit/server/watch"
)

// Reader is who runs a read: its identities for ACL checks, the watcher its
// watches belong to, and its session (for getEphemerals).
type Reader struct {
	IDs       []proto.Id
	Watcher   watch.Watcher
	SessionID int64
}

// Reply is the outcome of a read: an error code, or a record to send.
// KeepBody sends Body even with an error (a multiRead that failed midway
// still sends the results so far, as ZooKeeper does).
type Reply struct {
	Err      proto.Err
	Body     proto.Record
	KeepBody bool
}

func fail(err error) Reply {
	if e, ok := err.(proto.Err); ok {
		return Reply{Err: e}
	}
	return Reply{Err: proto.ErrMarshallingError}
}

// IsRead reports whether op is answered by ReadOp (locally, without a
// transaction).
func IsRead(op proto.Op) bool {
	switch op {
	case proto.OpExists, proto.OpGetData, proto.OpGetChildren, proto.OpGetChildren2,
		proto.OpGetACL, proto.OpGetAllChildrenNumber, proto.OpGetEphemerals,
		proto.OpCheckWatches, proto.OpRemoveWatches, proto.OpAddWatch,
		proto.OpSetWatches, proto.OpSetWatches2, proto.OpMultiRead, proto.OpWhoAmI:
		return true
	}
	return false
}

// ReadOp decodes and runs one read request under the read lock.
func (d *DB) ReadOp(op proto.Op, body []byte, r *Reader) Reply {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.ReadOpLocked(op, body, r)
}

// ReadOpLocked is ReadOp for a caller that already holds the lock (the
// apply loop, answering reads queued behind a session's writes).
func (d *DB) ReadOpLocked(op proto.Op, body []byte, r *Reader) Reply {
	dec := jute.NewDecoder(body)
	switch op {
	case proto.OpExists:
		var req proto.PathWatchRequest
		if !decode(dec, &req) {
			return Reply{Err: proto.ErrMarshallingError}
		}
		return d.exists(&req, r)
	case proto.OpGetData:
		var req proto.PathWatchRequest
		if !decode(dec, &req) {
			return Reply{Err: proto.ErrMarshallingError}
		}
		return d.getData(&req, r)
	case proto.OpGetChildren, proto.OpGetChildren2:
		var req proto.PathWatchRequest
		if !decode(dec, &req) {
			return Reply{Err: proto.ErrMarshallingError}
		}
		return d.getChildren(&req, r, op == proto.OpGetChildren2)
	case proto.OpGetACL:
		var req proto.PathRecord
		if !decode(dec, &req) {
			return Reply{Err: proto.ErrMarshallingError}
		}
		return d.getACL(req.Path, r)
	case proto.OpGetAllChildrenNumber:
		var req proto.PathRecord
		if !decode(dec, &req) {
			return Reply{Err: proto.ErrMarshallingError}
		}
		return d.allChildrenNumber(req.Path, r)
	case proto.OpGetEphemerals:
		var req proto.PathRecord
		if !decode(dec, &req) {
			return Reply{Err: proto.ErrMarshallingError}
		}
		return d.ephemerals(req.Path, r)
	case proto.OpCheckWatches, proto.OpRemoveWatches:
		var req proto.PathTypeRequest
		if !decode(dec, &req) || !validWatcherType(req.Type) {
			return Reply{Err: proto.ErrMarshallingError}
		}
		return d.checkOrRemoveWatch(op, &req, r)
	case proto.OpAddWatch:
		var req proto.PathTypeRequest
		if !decode(dec, &req) {
			return Reply{Err: proto.ErrMarshallingError}
		}
		return d.addWatch(&req, r)
	case proto.OpSetWatches, proto.OpSetWatches2:
		req := proto.SetWatches{V2: op == proto.OpSetWatches2}
		if !decode(dec, &req) {
			return Reply{Err: proto.ErrMarshallingError}
		}
		d.setWatches(&req, r)
		return Reply{}
	case proto.OpMultiRead:
		var req proto.MultiRequest
		if !decodeMultiRead(dec, &req) {
			return Reply{Err: proto.ErrMarshallingError}
		}
		return d.multiRead(&req, r)
	case proto.OpWhoAmI:
		return Reply{Body: &proto.WhoAmIResponse{ClientInfo: d.Auth.ClientInfos(r.IDs)}}
	}
	return Reply{Err: proto.ErrUnimplemented}
}

func decode(d *jute.Decoder, rec proto.Record) bool {
	rec.Decode(d)
	return d.Err() == nil
}

// decodeMultiRead reads a multiRead body. It accepts the op types any
// multi may carry (MultiOperationRecord); a write among them fails later,
// when the loop reaches it.
func decodeMultiRead(d *jute.Decoder, req *proto.MultiRequest) bool {
	req.Decode(d)
	return d.Err() == nil
}

// node looks a path up; ZooKeeper's tree also answers "" with the root.
func (d *DB) node(path string) *tree.Node {
	if path == "" {
		path = "/"
	}
	return d.tree.Get(path)
}

func validWatcherType(t int32) bool {
	return t >= proto.WatcherChildren && t <= proto.WatcherPersistentRecursive
}

// exists checks READ when the node exists (3.9 / 3.8.4+) and leaves a data
// watch even when it does not, so the client hears of its creation.
func (d *DB) exists(req *proto.PathWatchRequest, r *Reader) Reply {
	if strings.IndexByte(req.Path, 0) >= 0 {
		return Reply{Err: proto.ErrBadArguments}
	}
	n := d.node(req.Path)
	if n != nil {
		if err := d.Auth.Check(d.tree.ACLOf(n), proto.PermRead, r.IDs); err != nil {
			return fail(err)
		}
	}
	if req.Watch && r.Watcher != nil {
		d.Watches.AddData(req.Path, r.Watcher)
	}
	if n == nil {
		return Reply{Err: proto.ErrNoNode}
	}
	return Reply{Body: &proto.StatResponse{Stat: n.Stat()}}
}

func (d *DB) readable(path string, perm int32, r *Reader) (*tree.Node, proto.Err) {
	n := d.node(path)
	if n == nil {
		return nil, proto.ErrNoNode
	}
	if err := d.Auth.Check(d.tree.ACLOf(n), perm, r.IDs); err != nil {
		return nil, proto.ErrNoAuth
	}
	return n, proto.ErrOK
}

func (d *DB) getData(req *proto.PathWatchRequest, r *Reader) Reply {
	n, err := d.readable(req.Path, proto.PermRead, r)
	if err != proto.ErrOK {
		return Reply{Err: err}
	}
	if req.Watch && r.Watcher != nil {
		d.Watches.AddData(req.Path, r.Watcher)
	}
	return Reply{Body: &proto.GetDataResponse{Data: n.Data, Stat: n.Stat()}}
}

func (d *DB) getChildren(req *proto.PathWatchRequest, r *Reader, withStat bool) Reply {
	n, err := d.readable(req.Path, proto.PermRead, r)
	if err != proto.ErrOK {
		return Reply{Err: err}
	}
	if req.Watch && r.Watcher != nil {
		d.Watches.AddChild(req.Path, r.Watcher)
	}
	resp := &proto.ChildrenResponse{Children: n.Children(), WithStat: withStat}
	if withStat {
		resp.Stat = n.Stat()
	}
	return Reply{Body: resp}
}

// getACL needs READ or ADMIN; without ADMIN the digest hashes are masked
// ("user:x"), as FinalRequestProcessor does since 3.7.2.
func (d *DB) getACL(path string, r *Reader) Reply {
	n, err := d.readable(path, proto.PermRead|proto.PermAdmin, r)
	if err != proto.ErrOK {
		return Reply{Err: err}
	}
	acl := d.tree.ACLOf(n)
	if d.Auth.Check(acl, proto.PermAdmin, r.IDs) != nil {
		masked := make([]proto.ACL, len(acl))
		for i, a := range acl {
			masked[i] = a
			if a.ID.Scheme == "digest" {
				user, _, _ := strings.Cut(a.ID.ID, ":")
				masked[i].ID.ID = user + ":x"
			}
		}
		acl = masked
	}
	return Reply{Body: &proto.GetACLResponse{ACL: acl, Stat: n.Stat()}}
}

func (d *DB) allChildrenNumber(path string, r *Reader) Reply {
	if _, err := d.readable(path, proto.PermRead, r); err != proto.ErrOK {
		return Reply{Err: err}
	}
	n := d.tree.CountDescendants(path)
	if path == "" {
		// ZooKeeper counts the keys starting with "/": every node, root too.
		n = d.tree.NodeCount()
	}
	return Reply{Body: &proto.IntRecord{Value: int32(n)}}
}

func (d *DB) ephemerals(prefix string, r *Reader) Reply {
	all := d.tree.Ephemerals(r.SessionID)
	if t := strings.TrimSpace(prefix); t == "" || t == "/" {
		return Reply{Body: &proto.StringsRecord{Strings: all}}
	}
	out := []string{}
	for _, p := range all {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return Reply{Body: &proto.StringsRecord{Strings: out}}
}

func (d *DB) checkOrRemoveWatch(op proto.Op, req *proto.PathTypeRequest, r *Reader) Reply {
	var ok bool
	if op == proto.OpCheckWatches {
		ok = d.Watches.Contains(req.Path, req.Type, r.Watcher)
	} else {
		ok = d.Watches.Remove(req.Path, req.Type, r.Watcher)
	}
	if !ok {
		return Reply{Err: proto.ErrNoWatcher}
	}
	return Reply{}
}

func (d *DB) addWatch(req *proto.PathTypeRequest, r *Reader) Reply {
	switch req.Type {
	case proto.AddWatchPersistent, proto.AddWatchPersistentRecursive:
	default:
		return Reply{Err: proto.ErrMarshallingError}
	}
	if r.Watcher != nil {
		d.Watches.AddPersistent(req.Path, r.Watcher, req.Type == proto.AddWatchPersistentRecursive)
	}
	return Reply{Body: &proto.IntRecord{Value: 0}}
}

// setWatches restores a reconnecting client's watches, firing at once the
// events it missed while away (DataTree.setWatches).
func (d *DB) setWatches(req *proto.SetWatches, r *Reader) {
	w := r.Watcher
	notify := func(ev proto.EventType, path string) {
		w.Notify(proto.WatcherEvent{Type: ev, State: proto.StateSyncConnected, Path: path}, -1, nil)
	}
	for _, p := range req.DataWatches {
		switch n := d.tree.Get(p); {
		case n == nil:
			notify(proto.EventNodeDeleted, p)
		case n.Mzxid > req.RelativeZxid:
			notify(proto.EventNodeDataChanged, p)
		default:
			d.Watches.AddData(p, w)
		}
	}
	for _, p := range req.ExistWatches {
		if d.tree.Get(p) != nil {
			notify(proto.EventNodeCreated, p)
		} else {
			d.Watches.AddData(p, w)
		}
	}
	for _, p := range req.ChildWatches {
		switch n := d.tree.Get(p); {
		case n == nil:
			notify(proto.EventNodeDeleted, p)
		case n.Pzxid > req.RelativeZxid:
			notify(proto.EventNodeChildrenChanged, p)
		default:
			d.Watches.AddChild(p, w)
		}
	}
	for _, p := range req.PersistentWatches {
		d.Watches.AddPersistent(p, w, false)
	}
	for _, p := range req.PersistentRecursiveWatches {
		d.Watches.AddPersistent(p, w, true)
	}
}

// multiRead runs getData and getChildren ops independently; each failure is
// an error result, not a failure of the whole request.
func (d *DB) multiRead(req *proto.MultiRequest, r *Reader) Reply {
	resp := &proto.MultiResponse{}
	for _, op := range req.Ops {
		pw, ok := op.Body.(*proto.PathWatchRequest)
		if !ok || (op.Type != proto.OpGetData && op.Type != proto.OpGetChildren) {
			// "Invalid type of readOp": the results so far still go out.
			return Reply{Err: proto.ErrMarshallingError, Body: resp, KeepBody: true}
		}
		resp.Results = append(resp.Results, d.multiReadOp(op.Type, pw.Path, r))
	}
	return Reply{Body: resp}
}

// multiReadOp runs one op of a multiRead. It never sets a watch, whatever
// the wire flag says: ZooKeeper's MultiOperationRecord keeps only the path
// (Op.getData(path), Op.getChildren(path)), and toRequestRecord rebuilds
// the request with watch=false.
func (d *DB) multiReadOp(op proto.Op, path string, r *Reader) proto.OpResult {
	req := &proto.PathWatchRequest{Path: path}
	var rep Reply
	if op == proto.OpGetData {
		rep = d.getData(req, r)
	} else {
		rep = d.getChildren(req, r, false)
	}
	if rep.Err != proto.ErrOK {
		return proto.OpResult{Type: proto.OpError, Err: rep.Err}
	}
	res := proto.OpResult{Type: op}
	if g, ok := rep.Body.(*proto.GetDataResponse); ok {
		res.Data, res.Stat = g.Data, g.Stat
	} else {
		res.Children = rep.Body.(*proto.ChildrenResponse).Children
	}
	return res
}
