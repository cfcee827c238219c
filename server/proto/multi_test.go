package proto

import (
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/jute"
)

func TestMultiRequestRoundTrip(t *testing.T) {
	in := &MultiRequest{Ops: []MultiOp{
		{Type: OpCreate, Body: &CreateRequest{Path: "/m", Data: []byte("d"), ACL: OpenACLUnsafe, Flags: ModeEphemeral}},
		{Type: OpCreate2, Body: &CreateRequest{Path: "/m2", ACL: OpenACLUnsafe, Flags: ModePersistentSequential}},
		{Type: OpCreateContainer, Body: &CreateRequest{Path: "/c", ACL: OpenACLUnsafe, Flags: ModeContainer}},
		{Type: OpCreateTTL, Body: &CreateRequest{Path: "/t", ACL: OpenACLUnsafe, Flags: ModePersistentWithTTL, TTL: 100, HasTTL: true}},
		{Type: OpCheck, Body: &PathVersionRecord{Path: "/m", Version: 0}},
		{Type: OpSetData, Body: &SetDataRequest{Path: "/m", Data: []byte("z"), Version: -1}},
		{Type: OpDelete, Body: &PathVersionRecord{Path: "/m", Version: -1}},
	}}
	var out MultiRequest
	decodeRecord(t, encodeRecord(in), &out)
	require.Equal(t, in, &out)

	reads := &MultiRequest{Ops: []MultiOp{
		{Type: OpGetData, Body: &PathWatchRequest{Path: "/a"}},
		{Type: OpGetChildren, Body: &PathWatchRequest{Path: "/"}},
	}}
	var rout MultiRequest
	decodeRecord(t, encodeRecord(reads), &rout)
	require.Equal(t, reads, &rout)
}

func TestMultiRequestEmptyAndWire(t *testing.T) {
	b := encodeRecord(&MultiRequest{})
	// Just the closing header: type -1, done, err -1.
	require.Equal(t, []byte{0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff}, b)
	var out MultiRequest
	decodeRecord(t, b, &out)
	require.Empty(t, out.Ops)
}

// encodeMultiOne encodes a multi of one op under the given header type,
// whatever the body says.
func encodeMultiOne(header Op, body Record) []byte {
	e := jute.NewEncoder(nil)
	(&MultiHeader{Type: header, Err: -1}).Encode(e)
	body.Encode(e)
	(&MultiHeader{Type: -1, Done: true, Err: -1}).Encode(e)
	return e.Bytes()
}

// TestMultiCreateOpType: as MultiOperationRecord builds its Ops, the flags
// decide a create's real type, and createTTL without a TTL mode becomes a
// plain create (or createContainer) whose ttl is dropped.
func TestMultiCreateOpType(t *testing.T) {
	cases := []struct {
		name     string
		header   Op
		flags    int32
		ttl      int64
		wantType Op
		wantTTL  int64
		wantErr  bool
	}{
		{"create persistent", OpCreate, ModePersistent, 0, OpCreate, 0, false},
		{"create2 ephemeral", OpCreate2, ModeEphemeral, 0, OpCreate2, 0, false},
		{"create with container flags", OpCreate, ModeContainer, 0, OpCreateContainer, 0, false},
		{"create2 with container flags", OpCreate2, ModeContainer, 0, OpCreateContainer, 0, false},
		{"createContainer keeps its type", OpCreateContainer, ModeContainer, 0, OpCreateContainer, 0, false},
		{"createTTL with TTL mode", OpCreateTTL, ModePersistentWithTTL, 100, OpCreateTTL, 100, false},
		{"createTTL with sequential TTL mode", OpCreateTTL, ModePersistentSequentialWithTTL, 5, OpCreateTTL, 5, false},
		{"createTTL with persistent mode", OpCreateTTL, ModePersistent, 100, OpCreate, 0, false},
		{"createTTL with ephemeral mode", OpCreateTTL, ModeEphemeral, 100, OpCreate, 0, false},
		{"createTTL with container mode", OpCreateTTL, ModeContainer, 100, OpCreateContainer, 0, false},
		{"createTTL with invalid mode", OpCreateTTL, 9, 100, OpCreate, 0, false},
		{"create with TTL mode fails", OpCreate, ModePersistentWithTTL, 0, 0, 0, true},
		{"create2 with sequential TTL mode fails", OpCreate2, ModePersistentSequentialWithTTL, 0, 0, 0, true},
		// ZooKeeper 3.8 keeps an invalid mode and fails the op in prep.
		{"create with invalid mode kept", OpCreate, 7, 0, OpCreate, 0, false},
		{"create with negative mode kept", OpCreate, -1, 0, OpCreate, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := &CreateRequest{Path: "/n", ACL: OpenACLUnsafe, Flags: c.flags, TTL: c.ttl, HasTTL: c.header == OpCreateTTL}
			d := jute.NewDecoder(encodeMultiOne(c.header, body))
			var out MultiRequest
			out.Decode(d)
			if c.wantErr {
				require.Error(t, d.Err())
				return
			}
			require.NoError(t, d.Err())
			require.Equal(t, 0, d.Remaining())
			require.Len(t, out.Ops, 1)
			require.Equal(t, c.wantType, out.Ops[0].Type)
			cr := out.Ops[0].Body.(*CreateRequest)
			require.Equal(t, c.wantTTL, cr.TTL)
			require.Equal(t, c.wantType == OpCreateTTL, cr.HasTTL)
			require.Equal(t, c.flags, cr.Flags)
			require.Equal(t, "/n", out.Ops[0].Path())
		})
	}
}

func TestMultiRequestBadOps(t *testing.T) {
	for _, op := range []Op{OpDeleteContainer, OpExists, OpSync, OpMulti, OpSetACL, Op(99)} {
		d := jute.NewDecoder(encodeMultiOne(op, &PathVersionRecord{Path: "/a"}))
		var out MultiRequest
		out.Decode(d)
		require.Error(t, d.Err(), op.String())
		var bad ErrBadMultiOp
		require.ErrorAs(t, d.Err(), &bad)
		require.Equal(t, ErrBadMultiOp(op), bad)
	}
}

func TestMultiRequestTruncated(t *testing.T) {
	full := encodeRecord(&MultiRequest{Ops: []MultiOp{
		{Type: OpCreate, Body: &CreateRequest{Path: "/m", ACL: OpenACLUnsafe}},
		{Type: OpDelete, Body: &PathVersionRecord{Path: "/m", Version: -1}},
	}})
	for cut := 0; cut < len(full); cut++ {
		d := jute.NewDecoder(full[:cut])
		var out MultiRequest
		require.NotPanics(t, func() { out.Decode(d) })
		require.Error(t, d.Err(), "cut %d", cut)
	}
}

func TestMultiOpPath(t *testing.T) {
	cases := []struct {
		op   MultiOp
		want string
	}{
		{MultiOp{Type: OpCreate, Body: &CreateRequest{Path: "/c"}}, "/c"},
		{MultiOp{Type: OpDelete, Body: &PathVersionRecord{Path: "/d"}}, "/d"},
		{MultiOp{Type: OpSetData, Body: &SetDataRequest{Path: "/s"}}, "/s"},
		{MultiOp{Type: OpGetData, Body: &PathWatchRequest{Path: "/g"}}, "/g"},
		{MultiOp{Type: OpSetACL, Body: &SetACLRequest{Path: "/x"}}, ""},
	}
	for _, c := range cases {
		require.Equal(t, c.want, c.op.Path())
	}
}

func TestMultiResponseRoundTrip(t *testing.T) {
	in := &MultiResponse{Results: []OpResult{
		{Type: OpCreate, Path: "/a"},
		{Type: OpCreate2, Path: "/b", Stat: sampleStat},
		{Type: OpSetData, Stat: sampleStat},
		{Type: OpDelete},
		{Type: OpCheck},
		{Type: OpGetData, Data: []byte("x"), Stat: sampleStat},
		{Type: OpGetChildren, Children: []string{"a", "b"}},
		{Type: OpError, Err: ErrNoNode},
	}}
	var out MultiResponse
	decodeRecord(t, encodeRecord(in), &out)
	require.Equal(t, in, &out)
}

// An error result carries its code twice: in its header and as its body
// (MultiResponse.serialize); other results carry 0 in the header.
func TestMultiResponseErrorWire(t *testing.T) {
	b := encodeRecord(&MultiResponse{Results: []OpResult{
		{Type: OpError, Err: ErrBadVersion},
		{Type: OpDelete, Err: ErrNoNode}, // Err ignored for non-error results
	}})
	d := jute.NewDecoder(b)
	var h MultiHeader
	h.Decode(d)
	require.Equal(t, MultiHeader{Type: OpError, Err: ErrBadVersion}, h)
	require.Equal(t, int32(ErrBadVersion), d.Int())
	h.Decode(d)
	require.Equal(t, MultiHeader{Type: OpDelete, Err: ErrOK}, h)
	h.Decode(d)
	require.Equal(t, MultiHeader{Type: -1, Done: true, Err: -1}, h)
	require.NoError(t, d.Err())
	require.Equal(t, 0, d.Remaining())
}

func TestMultiResponseTTLAndContainerEncodeAsCreate2(t *testing.T) {
	for _, typ := range []Op{OpCreateTTL, OpCreateContainer} {
		b := encodeRecord(&MultiResponse{Results: []OpResult{{Type: typ, Path: "/x", Stat: sampleStat}}})
		var out MultiResponse
		decodeRecord(t, b, &out)
		require.Equal(t, []OpResult{{Type: typ, Path: "/x", Stat: sampleStat}}, out.Results)
	}
	e := jute.NewEncoder(nil)
	(&MultiHeader{Type: Op(99)}).Encode(e)
	var out MultiResponse
	d := jute.NewDecoder(e.Bytes())
	out.Decode(d)
	require.Error(t, d.Err())
}
