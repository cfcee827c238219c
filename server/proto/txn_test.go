package proto

import (
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/jute"
)

func txnHeaderFor(op Op) TxnHeader {
	return TxnHeader{ClientID: 0x1000000abc, Cxid: 42, Zxid: 0x200000007, Time: 1700000000123, Type: op}
}

// TestTxnRoundTrip covers every body type NewTxnBody knows, with and
// without the trailing digest.
func TestTxnRoundTrip(t *testing.T) {
	acl := []ACL{{Perms: PermAll, ID: Id{Scheme: "digest", ID: "u:h"}}}
	bodies := []struct {
		name string
		op   Op
		body Record
	}{
		{"create", OpCreate, &CreateTxn{Form: OpCreate, Path: "/a", Data: []byte("x"), ACL: acl, Ephemeral: true, ParentCVersion: 3}},
		{"create null data", OpCreate, &CreateTxn{Form: OpCreate, Path: "/a", ACL: OpenACLUnsafe, ParentCVersion: -1}},
		{"create2", OpCreate2, &CreateTxn{Form: OpCreate, Path: "/b", Data: []byte{}, ACL: OpenACLUnsafe, ParentCVersion: 1}},
		{"createTTL", OpCreateTTL, &CreateTxn{Form: OpCreateTTL, Path: "/t", ACL: OpenACLUnsafe, ParentCVersion: 2, TTL: 12345}},
		{"createContainer", OpCreateContainer, &CreateTxn{Form: OpCreateContainer, Path: "/c", Data: []byte("c"), ACL: OpenACLUnsafe, ParentCVersion: 9}},
		{"delete", OpDelete, &PathRecord{Path: "/a"}},
		{"deleteContainer", OpDeleteContainer, &PathRecord{Path: "/c"}},
		{"setData", OpSetData, &SetDataRequest{Path: "/a", Data: []byte("y"), Version: 4}},
		{"reconfig", OpReconfig, &SetDataRequest{Path: "/zookeeper/config", Data: []byte("server.1=h:1:2"), Version: 1}},
		{"setACL", OpSetACL, &SetACLRequest{Path: "/a", ACL: acl, Version: 2}},
		{"check", OpCheck, &PathVersionRecord{Path: "/a", Version: 5}},
		{"createSession", OpCreateSession, &IntRecord{Value: 30000}},
		{"error", OpError, &IntRecord{Value: int32(ErrNodeExists)}},
		{"closeSession", OpCloseSession, &StringsRecord{Strings: []string{"/e1", "/e2"}}},
		{"closeSession no paths", OpCloseSession, &StringsRecord{Strings: []string{}}},
		{"multi", OpMulti, &MultiTxn{Txns: []SubTxn{
			{Type: OpCreate, Body: &CreateTxn{Form: OpCreate, Path: "/m", ACL: OpenACLUnsafe, ParentCVersion: 1}},
			{Type: OpCreateTTL, Body: &CreateTxn{Form: OpCreateTTL, Path: "/mt", ACL: OpenACLUnsafe, ParentCVersion: 2, TTL: 7}},
			{Type: OpCreateContainer, Body: &CreateTxn{Form: OpCreateContainer, Path: "/mc", ACL: OpenACLUnsafe, ParentCVersion: 3}},
			{Type: OpSetData, Body: &SetDataRequest{Path: "/m", Data: []byte("z"), Version: 1}},
			{Type: OpCheck, Body: &PathVersionRecord{Path: "/m", Version: 1}},
			{Type: OpDelete, Body: &PathRecord{Path: "/m"}},
			{Type: OpError, Body: &IntRecord{Value: int32(ErrRuntimeInconsistency)}},
		}}},
		{"multi empty", OpMulti, &MultiTxn{Txns: []SubTxn{}}},
	}
	for _, b := range bodies {
		for _, digest := range []*TxnDigest{nil, {Version: 2, TreeDigest: 0x7766554433221100}} {
			name := b.name
			if digest != nil {
				name += " with digest"
			}
			t.Run(name, func(t *testing.T) {
				in := &Txn{Header: txnHeaderFor(b.op), Body: b.body, Digest: digest}
				var out Txn
				decodeRecord(t, encodeRecord(in), &out)
				require.Equal(t, in, &out)
			})
		}
	}
}

// The three create shapes of zookeeper.jute: CreateTxn has an ephemeral
// flag before parentCVersion, CreateTTLTxn a ttl after it, and
// CreateContainerTxn neither.
func TestCreateTxnShapes(t *testing.T) {
	base := CreateTxn{Path: "/p", ACL: OpenACLUnsafe, Ephemeral: true, ParentCVersion: 1, TTL: 9}
	size := len(encodeRecord(&PathRecord{Path: "/p"})) + 4 /* null data */ + len(encodeRecord(&SetACLRequest{ACL: OpenACLUnsafe})) - 4 - 4
	cases := []struct {
		form Op
		want int
	}{
		{OpCreate, size + 1 + 4},
		{OpCreateTTL, size + 4 + 8},
		{OpCreateContainer, size + 4},
	}
	for _, c := range cases {
		txn := base
		txn.Form = c.form
		require.Len(t, encodeRecord(&txn), c.want, c.form.String())
	}
}

func TestNewTxnBody(t *testing.T) {
	cases := []struct {
		op   Op
		want Record
	}{
		{OpCreate, &CreateTxn{Form: OpCreate}},
		{OpCreate2, &CreateTxn{Form: OpCreate}},
		{OpCreateTTL, &CreateTxn{Form: OpCreateTTL}},
		{OpCreateContainer, &CreateTxn{Form: OpCreateContainer}},
		{OpDelete, &PathRecord{}},
		{OpDeleteContainer, &PathRecord{}},
		{OpSetData, &SetDataRequest{}},
		{OpReconfig, &SetDataRequest{}},
		{OpSetACL, &SetACLRequest{}},
		{OpCheck, &PathVersionRecord{}},
		{OpCreateSession, &IntRecord{}},
		{OpError, &IntRecord{}},
		{OpCloseSession, &StringsRecord{}},
		{OpMulti, &MultiTxn{}},
	}
	for _, c := range cases {
		got, err := NewTxnBody(c.op)
		require.NoError(t, err, c.op.String())
		require.Equal(t, c.want, got, c.op.String())
	}
	for _, op := range []Op{OpGetData, OpSync, OpPing, Op(77)} {
		_, err := NewTxnBody(op)
		require.Error(t, err, op.String())
	}
}

func TestTxnDecodeOldCloseSessionWithoutBody(t *testing.T) {
	h := txnHeaderFor(OpCloseSession)
	var out Txn
	decodeRecord(t, encodeRecord(&h), &out)
	require.Equal(t, h, out.Header)
	require.Nil(t, out.Body)
	require.Nil(t, out.Digest)
	// And it encodes back to the header alone.
	require.Equal(t, encodeRecord(&h), encodeRecord(&out))
}

func TestTxnDecodeErrors(t *testing.T) {
	// Unknown type.
	h := txnHeaderFor(Op(77))
	d := jute.NewDecoder(encodeRecord(&h))
	var out Txn
	out.Decode(d)
	require.Error(t, d.Err())

	// Every truncation of a full txn fails, without a panic (a cut that
	// leaves fewer than 12 trailing bytes simply drops the digest, so only
	// cuts inside the body are checked).
	in := &Txn{Header: txnHeaderFor(OpMulti), Body: &MultiTxn{Txns: []SubTxn{
		{Type: OpCreate, Body: &CreateTxn{Form: OpCreate, Path: "/m", ACL: OpenACLUnsafe, ParentCVersion: 1}},
		{Type: OpSetData, Body: &SetDataRequest{Path: "/m", Data: []byte("z"), Version: 1}},
	}}}
	full := encodeRecord(in)
	for cut := 0; cut < len(full); cut++ {
		d := jute.NewDecoder(full[:cut])
		var out Txn
		require.NotPanics(t, func() { out.Decode(d) })
		require.Error(t, d.Err(), "cut %d", cut)
	}

	// A sub-transaction whose buffer does not hold its body.
	e := jute.NewEncoder(nil)
	h = txnHeaderFor(OpMulti)
	h.Encode(e)
	e.Int(1)
	e.Int(int32(OpSetData))
	e.Buffer([]byte{0, 0, 0, 9})
	d = jute.NewDecoder(e.Bytes())
	out.Decode(d)
	require.Error(t, d.Err())

	// A sub-transaction of a type no txn has.
	e = jute.NewEncoder(nil)
	h.Encode(e)
	e.Int(1)
	e.Int(int32(OpGetData))
	e.Buffer([]byte{})
	d = jute.NewDecoder(e.Bytes())
	out.Decode(d)
	require.Error(t, d.Err())
}

func TestMultiTxnNullVector(t *testing.T) {
	e := jute.NewEncoder(nil)
	e.Int(-1)
	var m MultiTxn
	d := jute.NewDecoder(e.Bytes())
	m.Decode(d)
	require.NoError(t, d.Err())
	require.Nil(t, m.Txns)
}
