package proto

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/jute"
)

func encodeRecord(r Record) []byte {
	e := jute.NewEncoder(nil)
	r.Encode(e)
	return e.Bytes()
}

func decodeRecord(t *testing.T, b []byte, into Record) {
	t.Helper()
	d := jute.NewDecoder(b)
	into.Decode(d)
	require.NoError(t, d.Err())
	require.Equal(t, 0, d.Remaining(), "trailing bytes after %T", into)
}

var sampleStat = Stat{
	Czxid: 1, Mzxid: 2, Ctime: 3, Mtime: 4, Version: 5, Cversion: 6, Aversion: 7,
	EphemeralOwner: 8, DataLength: 9, NumChildren: 10, Pzxid: 11,
}

// TestRecordRoundTrip encodes each record, decodes it into an empty record
// of the same shape and expects the same value back.
func TestRecordRoundTrip(t *testing.T) {
	digestACL := []ACL{{Perms: PermRead | PermAdmin, ID: Id{Scheme: "digest", ID: "u:h"}}, {Perms: PermAll, ID: WorldAnyone}}
	cases := []struct {
		name  string
		in    Record
		empty func() Record
	}{
		{"Id", &Id{Scheme: "ip", ID: "10.0.0.1"}, func() Record { return &Id{} }},
		{"ACL", &ACL{Perms: PermCreate, ID: Id{Scheme: "world", ID: "anyone"}}, func() Record { return &ACL{} }},
		{"Stat", &Stat{Czxid: -1, Mzxid: 1 << 40, Pzxid: 7, EphemeralOwner: -1 << 63, Cversion: -1, Aversion: -1}, func() Record { return &Stat{} }},
		{"ClientInfo", &ClientInfo{AuthScheme: "digest", User: "u"}, func() Record { return &ClientInfo{} }},
		{"ConnectRequest", &ConnectRequest{ProtocolVersion: 0, LastZxidSeen: 9, TimeOut: 30000, SessionID: 0x1234, Passwd: make([]byte, 16), ReadOnly: true, HasReadOnly: true}, func() Record { return &ConnectRequest{} }},
		{"ConnectResponse", &ConnectResponse{TimeOut: 4000, SessionID: 77, Passwd: []byte{1, 2}, ReadOnly: true}, func() Record { return &ConnectResponse{} }},
		{"SetWatches v1", &SetWatches{RelativeZxid: 5, DataWatches: []string{"/a"}, ExistWatches: []string{}, ChildWatches: []string{"/", "/b"}}, func() Record { return &SetWatches{} }},
		{"SetWatches v2", &SetWatches{RelativeZxid: 5, DataWatches: []string{}, ExistWatches: []string{"/x"}, ChildWatches: []string{}, PersistentWatches: []string{"/p"}, PersistentRecursiveWatches: []string{"/r"}, V2: true}, func() Record { return &SetWatches{V2: true} }},
		{"RequestHeader", &RequestHeader{Xid: -8, Type: OpSetWatches2}, func() Record { return &RequestHeader{} }},
		{"ReplyHeader", &ReplyHeader{Xid: 3, Zxid: 0x500000001, Err: ErrNoNode}, func() Record { return &ReplyHeader{} }},
		{"MultiHeader", &MultiHeader{Type: OpError, Done: true, Err: ErrBadVersion}, func() Record { return &MultiHeader{} }},
		{"AuthPacket", &AuthPacket{Scheme: "digest", Auth: []byte("u:p")}, func() Record { return &AuthPacket{} }},
		{"WatcherEvent", &WatcherEvent{Type: EventNodeDeleted, State: StateSyncConnected, Path: "/a"}, func() Record { return &WatcherEvent{} }},
		{"PathWatchRequest", &PathWatchRequest{Path: "/a", Watch: true}, func() Record { return &PathWatchRequest{} }},
		{"PathRecord", &PathRecord{Path: "/a"}, func() Record { return &PathRecord{} }},
		{"PathVersionRecord", &PathVersionRecord{Path: "/a", Version: -1}, func() Record { return &PathVersionRecord{} }},
		{"PathTypeRequest", &PathTypeRequest{Path: "/a", Type: WatcherAny}, func() Record { return &PathTypeRequest{} }},
		{"CreateRequest", &CreateRequest{Path: "/a", Data: []byte("d"), ACL: digestACL, Flags: ModeEphemeralSequential}, func() Record { return &CreateRequest{} }},
		{"CreateRequest null data and ACL", &CreateRequest{Path: "/a"}, func() Record { return &CreateRequest{} }},
		{"CreateTTLRequest", &CreateRequest{Path: "/t", ACL: OpenACLUnsafe, Flags: ModePersistentWithTTL, TTL: 1000, HasTTL: true}, func() Record { return &CreateRequest{HasTTL: true} }},
		{"SetDataRequest", &SetDataRequest{Path: "/a", Data: []byte{}, Version: 3}, func() Record { return &SetDataRequest{} }},
		{"SetACLRequest", &SetACLRequest{Path: "/a", ACL: digestACL, Version: -1}, func() Record { return &SetACLRequest{} }},
		{"ReconfigRequest nulls", &ReconfigRequest{CurConfigID: -1}, func() Record { return &ReconfigRequest{} }},
		{"ReconfigRequest", &ReconfigRequest{JoiningServers: "server.4=h:1:2", HasJoining: true, LeavingServers: "", HasLeaving: true, NewMembers: "m", HasNewMembers: true, CurConfigID: 7}, func() Record { return &ReconfigRequest{} }},
		{"TokenRecord", &TokenRecord{Token: []byte("tok")}, func() Record { return &TokenRecord{} }},
		{"StatResponse", &StatResponse{Stat: sampleStat}, func() Record { return &StatResponse{} }},
		{"GetDataResponse", &GetDataResponse{Data: []byte("x"), Stat: sampleStat}, func() Record { return &GetDataResponse{} }},
		{"GetDataResponse null", &GetDataResponse{Stat: sampleStat}, func() Record { return &GetDataResponse{} }},
		{"ChildrenResponse", &ChildrenResponse{Children: []string{"a", "b"}}, func() Record { return &ChildrenResponse{} }},
		{"Children2Response", &ChildrenResponse{Children: []string{}, Stat: sampleStat, WithStat: true}, func() Record { return &ChildrenResponse{WithStat: true} }},
		{"Create2Response", &Create2Response{Path: "/a0000000001", Stat: sampleStat}, func() Record { return &Create2Response{} }},
		{"GetACLResponse", &GetACLResponse{ACL: digestACL, Stat: sampleStat}, func() Record { return &GetACLResponse{} }},
		{"IntRecord", &IntRecord{Value: -101}, func() Record { return &IntRecord{} }},
		{"StringsRecord", &StringsRecord{Strings: []string{"/e1", "/e2"}}, func() Record { return &StringsRecord{} }},
		{"StringsRecord null", &StringsRecord{}, func() Record { return &StringsRecord{} }},
		{"WhoAmIResponse", &WhoAmIResponse{ClientInfo: []ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "u"}}}, func() Record { return &WhoAmIResponse{} }},
		{"WhoAmIResponse null", &WhoAmIResponse{}, func() Record { return &WhoAmIResponse{} }},
		{"TxnHeader", &TxnHeader{ClientID: 1, Cxid: 2, Zxid: 3, Time: 4, Type: OpCreate}, func() Record { return &TxnHeader{} }},
		{"TxnDigest", &TxnDigest{Version: 2, TreeDigest: -5}, func() Record { return &TxnDigest{} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := c.empty()
			decodeRecord(t, encodeRecord(c.in), out)
			require.Equal(t, c.in, out)
		})
	}
}

func TestFixedSizes(t *testing.T) {
	require.Len(t, encodeRecord(&sampleStat), StatSize)
	require.Len(t, encodeRecord(&ReplyHeader{}), ReplyHeaderSize)
	require.Len(t, encodeRecord(&MultiHeader{}), 9)
	require.Len(t, encodeRecord(&TxnHeader{}), 32)
}

// Old clients send no readOnly byte; the decoders accept both shapes.
func TestConnectRecordsOptionalReadOnly(t *testing.T) {
	full := encodeRecord(&ConnectRequest{TimeOut: 10, SessionID: 5, Passwd: []byte{1}, ReadOnly: true})
	var r ConnectRequest
	decodeRecord(t, full[:len(full)-1], &r)
	require.False(t, r.HasReadOnly)
	require.False(t, r.ReadOnly)
	require.Equal(t, int32(10), r.TimeOut)
	decodeRecord(t, full, &r)
	require.True(t, r.HasReadOnly)
	require.True(t, r.ReadOnly)

	resp := encodeRecord(&ConnectResponse{TimeOut: 10, Passwd: []byte{}, ReadOnly: true})
	var cr ConnectResponse
	decodeRecord(t, resp[:len(resp)-1], &cr)
	require.False(t, cr.ReadOnly)
}

// The wire bytes of a few records, fixed by zookeeper.jute.
func TestRecordWireBytes(t *testing.T) {
	cases := []struct {
		name string
		in   Record
		want string
	}{
		{"open ACL", &SetACLRequest{Path: "/", ACL: OpenACLUnsafe, Version: -1},
			"000000012f" + "00000001" + "0000001f" + "00000005776f726c64" + "00000006616e796f6e65" + "ffffffff"},
		{"null ACL vector", &SetACLRequest{Path: "/"}, "000000012f" + "ffffffff" + "00000000"},
		{"reply header", &ReplyHeader{Xid: 1, Zxid: 2, Err: ErrNoNode}, "00000001" + "0000000000000002" + "ffffff9b"},
		{"watcher event", &WatcherEvent{Type: EventNodeCreated, State: StateSyncConnected, Path: "/a"}, "00000001" + "00000003" + "000000022f61"},
		{"create TTL", &CreateRequest{Path: "/t", Flags: 5, TTL: 1, HasTTL: true},
			"000000022f74" + "ffffffff" + "ffffffff" + "00000005" + "0000000000000001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, hex.EncodeToString(encodeRecord(c.in)))
		})
	}
}

func TestDecodeACLsBoundsCount(t *testing.T) {
	// A count of 2 with room for one ACL (12 bytes at least each) fails
	// before allocating.
	e := jute.NewEncoder(nil)
	e.Int(2)
	(&ACL{Perms: 1, ID: Id{Scheme: "", ID: ""}}).Encode(e)
	d := jute.NewDecoder(e.Bytes())
	require.Nil(t, DecodeACLs(d))
	require.Error(t, d.Err())
}

func TestOpAndErrNames(t *testing.T) {
	require.Equal(t, "create", OpCreate.String())
	require.Equal(t, "closeSession", OpCloseSession.String())
	require.Equal(t, "op(99)", Op(99).String())
	require.Equal(t, "zk: no node (-101)", ErrNoNode.Error())
	require.Equal(t, "zk: error -999", Err(-999).Error())
	var err error = ErrBadVersion
	require.ErrorIs(t, err, ErrBadVersion)
}

func TestIsWrite(t *testing.T) {
	writes := []Op{OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL, OpDelete, OpDeleteContainer, OpSetData, OpSetACL, OpCheck, OpMulti, OpReconfig}
	for _, op := range writes {
		require.True(t, op.IsWrite(), op.String())
	}
	reads := []Op{OpExists, OpGetData, OpGetACL, OpGetChildren, OpGetChildren2, OpSync, OpPing, OpMultiRead, OpCreateSession, OpCloseSession, OpAuth, OpSetWatches, OpAddWatch, OpWhoAmI}
	for _, op := range reads {
		require.False(t, op.IsWrite(), op.String())
	}
}
