package proto

import "zkit/server/jute"

// Record is a jute record: it writes and reads its fields in declaration order.
type Record interface {
	Encode(e *jute.Encoder)
	Decode(d *jute.Decoder)
}

// Id is an authenticated identity: a scheme and an id within it.
type Id struct {
	Scheme string
	ID     string
}

// Encode writes the record.
func (r *Id) Encode(e *jute.Encoder) { e.String(r.Scheme); e.String(r.ID) }

// Decode reads the record.
func (r *Id) Decode(d *jute.Decoder) { r.Scheme = d.String(); r.ID = d.String() }

// ACL grants Perms to an identity.
type ACL struct {
	Perms int32
	ID    Id
}

// Encode writes the record.
func (r *ACL) Encode(e *jute.Encoder) { e.Int(r.Perms); r.ID.Encode(e) }

// Decode reads the record.
func (r *ACL) Decode(d *jute.Decoder) { r.Perms = d.Int(); r.ID.Decode(d) }

// EncodeACLs writes a vector of ACLs; nil is written as count -1.
func EncodeACLs(e *jute.Encoder, acls []ACL) {
	if acls == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(acls)))
	for i := range acls {
		acls[i].Encode(e)
	}
}

// DecodeACLs reads a vector of ACLs; count -1 gives nil.
func DecodeACLs(d *jute.Decoder) []ACL {
	n := d.Count(12)
	if n < 0 {
		return nil
	}
	acls := make([]ACL, n)
	for i := range acls {
		acls[i].Decode(d)
	}
	return acls
}

// Well-known ACL lists (ZooDefs.Ids).
var (
	WorldAnyone   = Id{Scheme: "world", ID: "anyone"}
	OpenACLUnsafe = []ACL{{Perms: PermAll, ID: WorldAnyone}}
	ReadACLUnsafe = []ACL{{Perms: PermRead, ID: WorldAnyone}}
	CreatorAllACL = []ACL{{Perms: PermAll, ID: Id{Scheme: "auth", ID: ""}}}
)

// Stat is a znode's metadata as clients see it.
type Stat struct {
	Czxid          int64 // zxid of the create
	Mzxid          int64 // zxid of the last data change
	Ctime          int64 // creation time, ms since the epoch
	Mtime          int64 // last data change time
	Version        int32 // data version
	Cversion       int32 // children version
	Aversion       int32 // ACL version
	EphemeralOwner int64 // owning session of an ephemeral; TTL/container markers
	DataLength     int32
	NumChildren    int32
	Pzxid          int64 // zxid of the last children change
}

// StatSize is the encoded size of a Stat.
const StatSize = 68

// Encode writes the record.
func (s *Stat) Encode(e *jute.Encoder) {
	e.Long(s.Czxid)
	e.Long(s.Mzxid)
	e.Long(s.Ctime)
	e.Long(s.Mtime)
	e.Int(s.Version)
	e.Int(s.Cversion)
	e.Int(s.Aversion)
	e.Long(s.EphemeralOwner)
	e.Int(s.DataLength)
	e.Int(s.NumChildren)
	e.Long(s.Pzxid)
}

// Decode reads the record.
func (s *Stat) Decode(d *jute.Decoder) {
	s.Czxid = d.Long()
	s.Mzxid = d.Long()
	s.Ctime = d.Long()
	s.Mtime = d.Long()
	s.Version = d.Int()
	s.Cversion = d.Int()
	s.Aversion = d.Int()
	s.EphemeralOwner = d.Long()
	s.DataLength = d.Int()
	s.NumChildren = d.Int()
	s.Pzxid = d.Long()
}

// ClientInfo is one identity reported by whoAmI.
type ClientInfo struct {
	AuthScheme string
	User       string
}

// Encode writes the record.
func (r *ClientInfo) Encode(e *jute.Encoder) { e.String(r.AuthScheme); e.String(r.User) }

// Decode reads the record.
func (r *ClientInfo) Decode(d *jute.Decoder) { r.AuthScheme = d.String(); r.User = d.String() }

// ConnectRequest opens or resumes a session. ReadOnly is sent only by newer
// clients; HasReadOnly tells whether it was present.
type ConnectRequest struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeOut         int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
	HasReadOnly     bool
}

// Encode writes the record (with the readOnly flag).
func (r *ConnectRequest) Encode(e *jute.Encoder) {
	e.Int(r.ProtocolVersion)
	e.Long(r.LastZxidSeen)
	e.Int(r.TimeOut)
	e.Long(r.SessionID)
	e.Buffer(r.Passwd)
	e.Bool(r.ReadOnly)
}

// Decode reads the record; the trailing readOnly byte is optional.
func (r *ConnectRequest) Decode(d *jute.Decoder) {
	r.ProtocolVersion = d.Int()
	r.LastZxidSeen = d.Long()
	r.TimeOut = d.Int()
	r.SessionID = d.Long()
	r.Passwd = d.BufferCopy()
	if d.Err() == nil && d.Remaining() > 0 {
		r.ReadOnly = d.Bool()
		r.HasReadOnly = true
	}
}

// ConnectResponse answers a ConnectRequest. A timeout of 0 tells the client
// its session is expired.
type ConnectResponse struct {
	ProtocolVersion int32
	TimeOut         int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool
}

// Encode writes the record followed by the readOnly flag.
func (r *ConnectResponse) Encode(e *jute.Encoder) {
	e.Int(r.ProtocolVersion)
	e.Int(r.TimeOut)
	e.Long(r.SessionID)
	e.Buffer(r.Passwd)
	e.Bool(r.ReadOnly)
}

// Decode reads the record; the readOnly flag is optional.
func (r *ConnectResponse) Decode(d *jute.Decoder) {
	r.ProtocolVersion = d.Int()
	r.TimeOut = d.Int()
	r.SessionID = d.Long()
	r.Passwd = d.BufferCopy()
	if d.Err() == nil && d.Remaining() > 0 {
		r.ReadOnly = d.Bool()
	}
}

// SetWatches re-registers a reconnecting client's watches (opcode 101, and
// 105 with the persistent lists).
type SetWatches struct {
	RelativeZxid               int64
	DataWatches                []string
	ExistWatches               []string
	ChildWatches               []string
	PersistentWatches          []string
	PersistentRecursiveWatches []string
	V2                         bool
}

// Encode writes the record.
func (r *SetWatches) Encode(e *jute.Encoder) {
	e.Long(r.RelativeZxid)
	e.Strings(r.DataWatches)
	e.Strings(r.ExistWatches)
	e.Strings(r.ChildWatches)
	if r.V2 {
		e.Strings(r.PersistentWatches)
		e.Strings(r.PersistentRecursiveWatches)
	}
}

// Decode reads the record (set V2 first for opcode 105).
func (r *SetWatches) Decode(d *jute.Decoder) {
	r.RelativeZxid = d.Long()
	r.DataWatches = d.Strings()
	r.ExistWatches = d.Strings()
	r.ChildWatches = d.Strings()
	if r.V2 {
		r.PersistentWatches = d.Strings()
		r.PersistentRecursiveWatches = d.Strings()
	}
}

// RequestHeader precedes every request after the handshake.
type RequestHeader struct {
	Xid  int32
	Type Op
}

// Encode writes the record.
func (r *RequestHeader) Encode(e *jute.Encoder) { e.Int(r.Xid); e.Int(int32(r.Type)) }

// Decode reads the record.
func (r *RequestHeader) Decode(d *jute.Decoder) { r.Xid = d.Int(); r.Type = Op(d.Int()) }

// ReplyHeader precedes every reply and notification.
type ReplyHeader struct {
	Xid  int32
	Zxid int64
	Err  Err
}

// ReplyHeaderSize is the encoded size of a ReplyHeader.
const ReplyHeaderSize = 16

// Encode writes the record.
func (r *ReplyHeader) Encode(e *jute.Encoder) { e.Int(r.Xid); e.Long(r.Zxid); e.Int(int32(r.Err)) }

// Decode reads the record.
func (r *ReplyHeader) Decode(d *jute.Decoder) {
	r.Xid = d.Int()
	r.Zxid = d.Long()
	r.Err = Err(d.Int())
}

// MultiHeader precedes each operation and result of a multi.
type MultiHeader struct {
	Type Op
	Done bool
	Err  Err
}

// Encode writes the record.
func (r *MultiHeader) Encode(e *jute.Encoder) {
	e.Int(int32(r.Type))
	e.Bool(r.Done)
	e.Int(int32(r.Err))
}

// Decode reads the record.
func (r *MultiHeader) Decode(d *jute.Decoder) {
	r.Type = Op(d.Int())
	r.Done = d.Bool()
	r.Err = Err(d.Int())
}

// AuthPacket is an addauth request (xid -4, opcode 100).
type AuthPacket struct {
	Type   int32
	Scheme string
	Auth   []byte
}

// Encode writes the record.
func (r *AuthPacket) Encode(e *jute.Encoder) { e.Int(r.Type); e.String(r.Scheme); e.Buffer(r.Auth) }

// Decode reads the record.
func (r *AuthPacket) Decode(d *jute.Decoder) {
	r.Type = d.Int()
	r.Scheme = d.String()
	r.Auth = d.BufferCopy()
}

// WatcherEvent is the body of a watch notification.
type WatcherEvent struct {
	Type  EventType
	State int32
	Path  string
}

// Encode writes the record.
func (r *WatcherEvent) Encode(e *jute.Encoder) {
	e.Int(int32(r.Type))
	e.Int(r.State)
	e.String(r.Path)
}

// Decode reads the record.
func (r *WatcherEvent) Decode(d *jute.Decoder) {
	r.Type = EventType(d.Int())
	r.State = d.Int()
	r.Path = d.String()
}
