package proto

import (
	"testing"

	"zkit/server/jute"
)

// requestRecord returns the record a request of this opcode decodes into.
func requestRecord(op Op) Record {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}
	case OpCreateTTL:
		return &CreateRequest{HasTTL: true}
	case OpDelete, OpCheck:
		return &PathVersionRecord{}
	case OpExists, OpGetData, OpGetChildren, OpGetChildren2:
		return &PathWatchRequest{}
	case OpSetData:
		return &SetDataRequest{}
	case OpGetACL, OpSync, OpGetAllChildrenNumber, OpGetEphemerals, OpDeleteContainer:
		return &PathRecord{}
	case OpSetACL:
		return &SetACLRequest{}
	case OpMulti, OpMultiRead:
		return &MultiRequest{}
	case OpReconfig:
		return &ReconfigRequest{}
	case OpCheckWatches, OpRemoveWatches, OpAddWatch:
		return &PathTypeRequest{}
	case OpSetWatches:
		return &SetWatches{}
	case OpSetWatches2:
		return &SetWatches{V2: true}
	case OpAuth:
		return &AuthPacket{}
	case OpSASL:
		return &TokenRecord{}
	}
	return nil
}

// FuzzRequest decodes a request frame (header and body) as the server
// does: it must never panic, and whatever decodes must re-encode to a
// record that decodes to the same thing.
func FuzzRequest(f *testing.F) {
	for _, seed := range requestSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		d := jute.NewDecoder(frame)
		d.MaxBuffer = 1 << 20
		var h RequestHeader
		h.Decode(d)
		if d.Err() != nil {
			return
		}
		rec := requestRecord(h.Type)
		if rec == nil {
			return
		}
		rec.Decode(d)
		if d.Err() != nil {
			return
		}
		e := jute.NewEncoder(nil)
		rec.Encode(e)
		again := requestRecord(h.Type)
		d2 := jute.NewDecoder(e.Bytes())
		again.Decode(d2)
		if d2.Err() != nil {
			t.Fatalf("re-encoded %s does not decode: %v", h.Type, d2.Err())
		}
	})
}

// FuzzConnectRequest decodes the first frame of a connection.
func FuzzConnectRequest(f *testing.F) {
	e := jute.NewEncoder(nil)
	(&ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}).Encode(e)
	f.Add(e.Bytes())
	f.Add(e.Bytes()[:len(e.Bytes())-1]) // an old client: no readOnly flag
	f.Fuzz(func(t *testing.T, b []byte) {
		var r ConnectRequest
		d := jute.NewDecoder(b)
		r.Decode(d)
	})
}

// FuzzTxn decodes transactions as the log and the quorum carry them.
func FuzzTxn(f *testing.F) {
	for _, txn := range sampleTxns() {
		e := jute.NewEncoder(nil)
		txn.Encode(e)
		f.Add(e.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var txn Txn
		d := jute.NewDecoder(b)
		d.MaxBuffer = 1 << 20
		txn.Decode(d)
		if d.Err() != nil {
			return
		}
		e := jute.NewEncoder(nil)
		txn.Encode(e)
		var again Txn
		d2 := jute.NewDecoder(e.Bytes())
		again.Decode(d2)
		if d2.Err() != nil {
			t.Fatalf("re-encoded txn does not decode: %v", d2.Err())
		}
	})
}

func frame(xid int32, op Op, body Record) []byte {
	e := jute.NewEncoder(nil)
	(&RequestHeader{Xid: xid, Type: op}).Encode(e)
	if body != nil {
		body.Encode(e)
	}
	return e.Bytes()
}

// requestSeeds are requests as clients send them.
func requestSeeds() [][]byte {
	acl := OpenACLUnsafe
	return [][]byte{
		frame(1, OpCreate, &CreateRequest{Path: "/a", Data: []byte("x"), ACL: acl}),
		frame(2, OpCreate2, &CreateRequest{Path: "/a/b-", Data: nil, ACL: acl, Flags: ModeEphemeralSequential}),
		frame(3, OpCreateTTL, &CreateRequest{Path: "/t", ACL: acl, Flags: ModePersistentWithTTL, TTL: 1000, HasTTL: true}),
		frame(4, OpGetData, &PathWatchRequest{Path: "/a", Watch: true}),
		frame(5, OpSetData, &SetDataRequest{Path: "/a", Data: []byte("y"), Version: -1}),
		frame(6, OpGetChildren2, &PathWatchRequest{Path: "/"}),
		frame(7, OpDelete, &PathVersionRecord{Path: "/a", Version: 3}),
		frame(8, OpSetACL, &SetACLRequest{Path: "/a", ACL: []ACL{{Perms: PermRead, ID: Id{Scheme: "digest", ID: "u:p"}}}, Version: -1}),
		frame(9, OpMulti, &MultiRequest{Ops: []MultiOp{
			{Type: OpCreate, Body: &CreateRequest{Path: "/m", ACL: acl}},
			{Type: OpCheck, Body: &PathVersionRecord{Path: "/m", Version: 0}},
			{Type: OpSetData, Body: &SetDataRequest{Path: "/m", Data: []byte("z"), Version: -1}},
			{Type: OpDelete, Body: &PathVersionRecord{Path: "/m", Version: -1}},
		}}),
		frame(10, OpMultiRead, &MultiRequest{Ops: []MultiOp{
			{Type: OpGetData, Body: &PathWatchRequest{Path: "/"}},
			{Type: OpGetChildren, Body: &PathWatchRequest{Path: "/"}},
		}}),
		frame(11, OpSync, &PathRecord{Path: "/"}),
		frame(12, OpAddWatch, &PathTypeRequest{Path: "/w", Type: AddWatchPersistentRecursive}),
		frame(13, OpRemoveWatches, &PathTypeRequest{Path: "/w", Type: WatcherAny}),
		frame(XidSetWatches, OpSetWatches2, &SetWatches{RelativeZxid: 5, DataWatches: []string{"/a"}, ChildWatches: []string{"/"}, V2: true}),
		frame(XidAuth, OpAuth, &AuthPacket{Scheme: "digest", Auth: []byte("u:p")}),
		frame(14, OpReconfig, &ReconfigRequest{JoiningServers: "server.4=127.0.0.1:1:2;3", HasJoining: true, CurConfigID: -1}),
		frame(XidPing, OpPing, nil),
		frame(15, OpWhoAmI, nil),
		frame(16, OpCloseSession, nil),
	}
}

func sampleTxns() []*Txn {
	h := func(t Op) TxnHeader {
		return TxnHeader{ClientID: 0x100, Cxid: 3, Zxid: 0x100000004, Time: 1700000000000, Type: t}
	}
	return []*Txn{
		{Header: h(OpCreate), Body: &CreateTxn{Form: OpCreate, Path: "/a", Data: []byte("x"), ACL: OpenACLUnsafe, Ephemeral: true, ParentCVersion: 2}},
		{Header: h(OpCreateTTL), Body: &CreateTxn{Form: OpCreateTTL, Path: "/t", ACL: OpenACLUnsafe, ParentCVersion: 1, TTL: 500}},
		{Header: h(OpSetData), Body: &SetDataRequest{Path: "/a", Data: []byte("y"), Version: 4}, Digest: &TxnDigest{Version: 2, TreeDigest: 77}},
		{Header: h(OpCloseSession), Body: &StringsRecord{Strings: []string{"/e1", "/e2"}}},
		{Header: h(OpMulti), Body: &MultiTxn{Txns: []SubTxn{
			{Type: OpCreate, Body: &CreateTxn{Form: OpCreate, Path: "/m", ACL: OpenACLUnsafe, ParentCVersion: 1}},
			{Type: OpError, Body: &IntRecord{Value: int32(ErrNodeExists)}},
		}}},
	}
}
