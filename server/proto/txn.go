package proto

import (
	"fmt"

	"zkit/server/jute"
)

// TxnHeader heads every transaction: the session and request that caused it,
// its zxid, the leader's wall-clock time in ms, and its type (an Op).
type TxnHeader struct {
	ClientID int64
	Cxid     int32
	Zxid     int64
	Time     int64
	Type     Op
}

// Encode writes the record.
func (h *TxnHeader) Encode(e *jute.Encoder) {
	e.Long(h.ClientID)
	e.Int(h.Cxid)
	e.Long(h.Zxid)
	e.Long(h.Time)
	e.Int(int32(h.Type))
}

// Decode reads the record.
func (h *TxnHeader) Decode(d *jute.Decoder) {
	h.ClientID = d.Long()
	h.Cxid = d.Int()
	h.Zxid = d.Long()
	h.Time = d.Long()
	h.Type = Op(d.Int())
}

// CreateTxn creates a znode. Its encoding depends on Form: OpCreate (also
// used for create2) writes CreateTxn, OpCreateTTL writes CreateTTLTxn and
// OpCreateContainer writes CreateContainerTxn, as in zookeeper.jute.
type CreateTxn struct {
	Form           Op
	Path           string
	Data           []byte
	ACL            []ACL
	Ephemeral      bool
	ParentCVersion int32
	TTL            int64
}

// Encode writes the record in the shape of its Form.
func (t *CreateTxn) Encode(e *jute.Encoder) {
	e.String(t.Path)
	e.Buffer(t.Data)
	EncodeACLs(e, t.ACL)
	switch t.Form {
	case OpCreateTTL:
		e.Int(t.ParentCVersion)
		e.Long(t.TTL)
	case OpCreateContainer:
		e.Int(t.ParentCVersion)
	default:
		e.Bool(t.Ephemeral)
		e.Int(t.ParentCVersion)
	}
}

// Decode reads the record in the shape of its Form (set Form first).
func (t *CreateTxn) Decode(d *jute.Decoder) {
	t.Path = d.String()
	t.Data = d.BufferCopy()
	t.ACL = DecodeACLs(d)
	switch t.Form {
	case OpCreateTTL:
		t.ParentCVersion = d.Int()
		t.TTL = d.Long()
	case OpCreateContainer:
		t.ParentCVersion = d.Int()
	default:
		t.Ephemeral = d.Bool()
		t.ParentCVersion = d.Int()
	}
}

// SubTxn is one transaction inside a MultiTxn.
type SubTxn struct {
	Type Op
	Body Record
}

// MultiTxn is the transaction of a multi: a vector of Txn{type, buffer}
// whose buffers hold the encoded sub-transactions.
type MultiTxn struct {
	Txns []SubTxn
}

// Encode writes the record.
func (t *MultiTxn) Encode(e *jute.Encoder) {
	e.Int(int32(len(t.Txns)))
	sub := jute.NewEncoder(nil)
	for _, s := range t.Txns {
		e.Int(int32(s.Type))
		sub.Reset()
		s.Body.Encode(sub)
		e.Buffer(sub.Bytes())
	}
}

// Decode reads the record.
func (t *MultiTxn) Decode(d *jute.Decoder) {
	n := d.Count(8)
	if n < 0 {
		t.Txns = nil
		return
	}
	t.Txns = make([]SubTxn, 0, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		typ := Op(d.Int())
		data := d.Buffer()
		if d.Err() != nil {
			return
		}
		body, err := NewTxnBody(typ)
		if err != nil {
			d.Fail(err)
			return
		}
		sd := jute.NewDecoder(data)
		body.Decode(sd)
		if sd.Err() != nil {
			d.Fail(sd.Err())
			return
		}
		t.Txns = append(t.Txns, SubTxn{Type: typ, Body: body})
	}
}

// TxnDigest is the tree digest the leader computed after a transaction.
type TxnDigest struct {
	Version    int32
	TreeDigest int64
}

// Encode writes the record.
func (t *TxnDigest) Encode(e *jute.Encoder) { e.Int(t.Version); e.Long(t.TreeDigest) }

// Decode reads the record.
func (t *TxnDigest) Decode(d *jute.Decoder) { t.Version = d.Int(); t.TreeDigest = d.Long() }

// NewTxnBody returns an empty transaction body for a header type. Bodies:
// create/create2 *CreateTxn (Form OpCreate), createTTL and createContainer
// *CreateTxn of that form, delete/deleteContainer *PathRecord, setData and
// reconfig *SetDataRequest (SetDataTxn), setACL *SetACLRequest (SetACLTxn),
// check *PathVersionRecord, createSession and error *IntRecord, closeSession
// *StringsRecord, multi *MultiTxn.
func NewTxnBody(t Op) (Record, error) {
	switch t {
	case OpCreate, OpCreate2:
		return &CreateTxn{Form: OpCreate}, nil
	case OpCreateTTL, OpCreateContainer:
		return &CreateTxn{Form: t}, nil
	case OpDelete, OpDeleteContainer:
		return &PathRecord{}, nil
	case OpSetData, OpReconfig:
		return &SetDataRequest{}, nil
	case OpSetACL:
		return &SetACLRequest{}, nil
	case OpCheck:
		return &PathVersionRecord{}, nil
	case OpCreateSession, OpError:
		return &IntRecord{}, nil
	case OpCloseSession:
		return &StringsRecord{}, nil
	case OpMulti:
		return &MultiTxn{}, nil
	}
	return nil, fmt.Errorf("unknown transaction type %d", int32(t))
}

// Txn is a whole transaction: header, body and optional digest.
type Txn struct {
	Header TxnHeader
	Body   Record // nil for a closeSession without paths in old formats
	Digest *TxnDigest
}

// Encode writes header, body and digest back to back, as the txn log and
// the quorum PROPOSAL packets carry them (SerializeUtils.serializeRequest).
func (t *Txn) Encode(e *jute.Encoder) {
	t.Header.Encode(e)
	if t.Body != nil {
		t.Body.Encode(e)
	}
	if t.Digest != nil {
		t.Digest.Encode(e)
	}
}

// Decode reads a transaction; the digest is read when bytes remain.
func (t *Txn) Decode(d *jute.Decoder) {
	t.Header.Decode(d)
	if d.Err() != nil {
		return
	}
	body, err := NewTxnBody(t.Header.Type)
	if err != nil {
		d.Fail(err)
		return
	}
	// A closeSession from before CloseSessionTxn existed has no body.
	if t.Header.Type == OpCloseSession && d.Remaining() == 0 {
		return
	}
	body.Decode(d)
	t.Body = body
	if d.Err() == nil && d.Remaining() >= 12 {
		t.Digest = &TxnDigest{}
		t.Digest.Decode(d)
	}
}
