package proto

import "zkit/server/jute"

// PathWatchRequest is the body of getData, exists, getChildren and
// getChildren2: a path and whether to leave a watch.
type PathWatchRequest struct {
	Path  string
	Watch bool
}

// Encode writes the record.
func (r *PathWatchRequest) Encode(e *jute.Encoder) { e.String(r.Path); e.Bool(r.Watch) }

// Decode reads the record.
func (r *PathWatchRequest) Decode(d *jute.Decoder) { r.Path = d.String(); r.Watch = d.Bool() }

// PathRecord is a record holding only a path: getACL, sync and its reply,
// getAllChildrenNumber, getEphemerals (prefix), the create reply, DeleteTxn.
type PathRecord struct {
	Path string
}

// Encode writes the record.
func (r *PathRecord) Encode(e *jute.Encoder) { e.String(r.Path) }

// Decode reads the record.
func (r *PathRecord) Decode(d *jute.Decoder) { r.Path = d.String() }

// PathVersionRecord is a path and an expected version: the delete and check
// requests, and CheckVersionTxn.
type PathVersionRecord struct {
	Path    string
	Version int32
}

// Encode writes the record.
func (r *PathVersionRecord) Encode(e *jute.Encoder) { e.String(r.Path); e.Int(r.Version) }

// Decode reads the record.
func (r *PathVersionRecord) Decode(d *jute.Decoder) { r.Path = d.String(); r.Version = d.Int() }

// PathTypeRequest is a path and a type or mode: checkWatches,
// removeWatches and addWatch.
type PathTypeRequest struct {
	Path string
	Type int32
}

// Encode writes the record.
func (r *PathTypeRequest) Encode(e *jute.Encoder) { e.String(r.Path); e.Int(r.Type) }

// Decode reads the record.
func (r *PathTypeRequest) Decode(d *jute.Decoder) { r.Path = d.String(); r.Type = d.Int() }

// CreateRequest is the body of create, create2, createContainer and (with
// TTL) createTTL.
type CreateRequest struct {
	Path   string
	Data   []byte
	ACL    []ACL
	Flags  int32
	TTL    int64
	HasTTL bool // encode and decode the ttl field (createTTL)
}

// Encode writes the record.
func (r *CreateRequest) Encode(e *jute.Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	EncodeACLs(e, r.ACL)
	e.Int(r.Flags)
	if r.HasTTL {
		e.Long(r.TTL)
	}
}

// Decode reads the record (set HasTTL first for createTTL).
func (r *CreateRequest) Decode(d *jute.Decoder) {
	r.Path = d.String()
	r.Data = d.BufferCopy()
	r.ACL = DecodeACLs(d)
	r.Flags = d.Int()
	if r.HasTTL {
		r.TTL = d.Long()
	}
}

// SetDataRequest is the body of setData; SetDataTxn has the same shape.
type SetDataRequest struct {
	Path    string
	Data    []byte
	Version int32
}

// Encode writes the record.
func (r *SetDataRequest) Encode(e *jute.Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	e.Int(r.Version)
}

// Decode reads the record.
func (r *SetDataRequest) Decode(d *jute.Decoder) {
	r.Path = d.String()
	r.Data = d.BufferCopy()
	r.Version = d.Int()
}

// SetACLRequest is the body of setACL; SetACLTxn has the same shape.
type SetACLRequest struct {
	Path    string
	ACL     []ACL
	Version int32
}

// Encode writes the record.
func (r *SetACLRequest) Encode(e *jute.Encoder) {
	e.String(r.Path)
	EncodeACLs(e, r.ACL)
	e.Int(r.Version)
}

// Decode reads the record.
func (r *SetACLRequest) Decode(d *jute.Decoder) {
	r.Path = d.String()
	r.ACL = DecodeACLs(d)
	r.Version = d.Int()
}

// ReconfigRequest is the body of reconfig (opcode 16). The three strings may
// be null on the wire; the Has fields say which were present.
type ReconfigRequest struct {
	JoiningServers, LeavingServers, NewMembers string
	HasJoining, HasLeaving, HasNewMembers      bool
	CurConfigID                                int64
}

// Encode writes the record.
func (r *ReconfigRequest) Encode(e *jute.Encoder) {
	e.NullableString(r.JoiningServers, r.HasJoining)
	e.NullableString(r.LeavingServers, r.HasLeaving)
	e.NullableString(r.NewMembers, r.HasNewMembers)
	e.Long(r.CurConfigID)
}

// Decode reads the record.
func (r *ReconfigRequest) Decode(d *jute.Decoder) {
	r.JoiningServers, r.HasJoining = d.NullableString()
	r.LeavingServers, r.HasLeaving = d.NullableString()
	r.NewMembers, r.HasNewMembers = d.NullableString()
	r.CurConfigID = d.Long()
}

// TokenRecord carries a SASL token (GetSASLRequest, SetSASLResponse).
type TokenRecord struct {
	Token []byte
}

// Encode writes the record.
func (r *TokenRecord) Encode(e *jute.Encoder) { e.Buffer(r.Token) }

// Decode reads the record.
func (r *TokenRecord) Decode(d *jute.Decoder) { r.Token = d.BufferCopy() }

// StatResponse is a reply holding one Stat: setData, setACL, exists.
type StatResponse struct {
	Stat Stat
}

// Encode writes the record.
func (r *StatResponse) Encode(e *jute.Encoder) { r.Stat.Encode(e) }

// Decode reads the record.
func (r *StatResponse) Decode(d *jute.Decoder) { r.Stat.Decode(d) }

// GetDataResponse is the reply of getData.
type GetDataResponse struct {
	Data []byte
	Stat Stat
}

// Encode writes the record.
func (r *GetDataResponse) Encode(e *jute.Encoder) { e.Buffer(r.Data); r.Stat.Encode(e) }

// Decode reads the record.
func (r *GetDataResponse) Decode(d *jute.Decoder) { r.Data = d.BufferCopy(); r.Stat.Decode(d) }

// ChildrenResponse is the reply of getChildren, and of getChildren2 when
// WithStat is set.
type ChildrenResponse struct {
	Children []string
	Stat     Stat
	WithStat bool
}

// Encode writes the record.
func (r *ChildrenResponse) Encode(e *jute.Encoder) {
	e.Strings(r.Children)
	if r.WithStat {
		r.Stat.Encode(e)
	}
}

// Decode reads the record.
func (r *ChildrenResponse) Decode(d *jute.Decoder) {
	r.Children = d.Strings()
	if r.WithStat {
		r.Stat.Decode(d)
	}
}

// Create2Response is the reply of create2, createContainer and createTTL.
type Create2Response struct {
	Path string
	Stat Stat
}

// Encode writes the record.
func (r *Create2Response) Encode(e *jute.Encoder) { e.String(r.Path); r.Stat.Encode(e) }

// Decode reads the record.
func (r *Create2Response) Decode(d *jute.Decoder) { r.Path = d.String(); r.Stat.Decode(d) }

// GetACLResponse is the reply of getACL.
type GetACLResponse struct {
	ACL  []ACL
	Stat Stat
}

// Encode writes the record.
func (r *GetACLResponse) Encode(e *jute.Encoder) { EncodeACLs(e, r.ACL); r.Stat.Encode(e) }

// Decode reads the record.
func (r *GetACLResponse) Decode(d *jute.Decoder) { r.ACL = DecodeACLs(d); r.Stat.Decode(d) }

// IntRecord is a record of one int: ErrorResponse, ErrorTxn,
// GetAllChildrenNumberResponse, CreateSessionTxn.
type IntRecord struct {
	Value int32
}

// Encode writes the record.
func (r *IntRecord) Encode(e *jute.Encoder) { e.Int(r.Value) }

// Decode reads the record.
func (r *IntRecord) Decode(d *jute.Decoder) { r.Value = d.Int() }

// StringsRecord is a record of one string vector: GetEphemeralsResponse,
// CloseSessionTxn.
type StringsRecord struct {
	Strings []string
}

// Encode writes the record.
func (r *StringsRecord) Encode(e *jute.Encoder) { e.Strings(r.Strings) }

// Decode reads the record.
func (r *StringsRecord) Decode(d *jute.Decoder) { r.Strings = d.Strings() }

// WhoAmIResponse is the reply of whoAmI.
type WhoAmIResponse struct {
	ClientInfo []ClientInfo
}

// Encode writes the record.
func (r *WhoAmIResponse) Encode(e *jute.Encoder) {
	if r.ClientInfo == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(r.ClientInfo)))
	for i := range r.ClientInfo {
		r.ClientInfo[i].Encode(e)
	}
}

// Decode reads the record.
func (r *WhoAmIResponse) Decode(d *jute.Decoder) {
	n := d.Count(8)
	if n < 0 {
		r.ClientInfo = nil
		return
	}
	r.ClientInfo = make([]ClientInfo, n)
	for i := range r.ClientInfo {
		r.ClientInfo[i].Decode(d)
	}
}
