package tree

import (
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/proto"
)

// sinkEvent is one call to an EventSink.
type sinkEvent struct {
	Path string
	Ev   proto.EventType
	Zxid int64
	ACL  []proto.ACL
}

// recorder is an EventSink that keeps every trigger.
type recorder struct{ events []sinkEvent }

func (r *recorder) Trigger(path string, ev proto.EventType, zxid int64, acl []proto.ACL) {
	r.events = append(r.events, sinkEvent{path, ev, zxid, acl})
}

func (r *recorder) take() []sinkEvent {
	e := r.events
	r.events = nil
	return e
}

const sessA = int64(0x0100000000000001)
const sessB = int64(0x0100000000000002)

func txnOf(zxid, client int64, op proto.Op, body proto.Record) *proto.Txn {
	return &proto.Txn{
		Header: proto.TxnHeader{ClientID: client, Cxid: int32(zxid), Zxid: zxid, Time: 1000 + zxid, Type: op},
		Body:   body,
	}
}

func createTxn(zxid int64, path, data string, pcv int32) *proto.Txn {
	return txnOf(zxid, sessA, proto.OpCreate, &proto.CreateTxn{
		Form: proto.OpCreate, Path: path, Data: []byte(data), ACL: proto.OpenACLUnsafe, ParentCVersion: pcv,
	})
}

func ephemeralTxn(zxid, session int64, path string) *proto.Txn {
	return txnOf(zxid, session, proto.OpCreate, &proto.CreateTxn{
		Form: proto.OpCreate, Path: path, ACL: proto.OpenACLUnsafe, Ephemeral: true, ParentCVersion: -1,
	})
}

func deleteTxn(zxid int64, path string) *proto.Txn {
	return txnOf(zxid, sessA, proto.OpDelete, &proto.PathRecord{Path: path})
}

// mustApply applies a txn and requires it to succeed.
func mustApply(t *testing.T, tr *Tree, txn *proto.Txn) Result {
	t.Helper()
	r := tr.Apply(txn)
	require.Equal(t, proto.ErrOK, r.Err, "%s zxid %d", txn.Header.Type, txn.Header.Zxid)
	return r
}

func statOf(t *testing.T, tr *Tree, path string) proto.Stat {
	t.Helper()
	n := tr.Get(path)
	require.NotNil(t, n, path)
	return n.Stat()
}
