package storage

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func hdr(zxid int64, typ proto.Op) proto.TxnHeader {
	return proto.TxnHeader{ClientID: 0x77, Cxid: int32(zxid), Zxid: zxid, Time: 1_700_000_000_000 + zxid, Type: typ}
}

func txnCreate(zxid int64, path, data string) *proto.Txn {
	return &proto.Txn{Header: hdr(zxid, proto.OpCreate), Body: &proto.CreateTxn{
		Form: proto.OpCreate, Path: path, Data: []byte(data), ACL: proto.OpenACLUnsafe, ParentCVersion: -1,
	}}
}

func txnSet(zxid int64, path, data string, version int32) *proto.Txn {
	return &proto.Txn{Header: hdr(zxid, proto.OpSetData), Body: &proto.SetDataRequest{Path: path, Data: []byte(data), Version: version}}
}

func txnDelete(zxid int64, path string) *proto.Txn {
	return &proto.Txn{Header: hdr(zxid, proto.OpDelete), Body: &proto.PathRecord{Path: path}}
}

// someBatches returns n batches of small txns, zxids from first.
func someBatches(first int64, n int) [][]*proto.Txn {
	var out [][]*proto.Txn
	z := first
	for b := 0; b < n; b++ {
		var batch []*proto.Txn
		for i := 0; i <= b%3; i++ {
			switch z % 3 {
			case 0, 1:
				batch = append(batch, txnCreate(z, fmt.Sprintf("/n%d", z), strings.Repeat("d", int(z%7))))
			default:
				batch = append(batch, txnSet(z, fmt.Sprintf("/n%d", z-1), "set", 1))
			}
			z++
		}
		out = append(out, batch)
	}
	return out
}

func entries(txns []*proto.Txn) []pipeline.Entry {
	out := make([]pipeline.Entry, len(txns))
	for i, t := range txns {
		out[i] = pipeline.Entry{Txn: t}
	}
	return out
}

func memOptions(fs vfs.FS) Options {
	return Options{FS: fs, DataDir: "/data", Logger: quiet, PreAllocSize: 1024, SegmentSize: 1 << 20, SnapCount: 1 << 30}
}

// writeLog appends batches through a store's replicator and closes it.
func writeLog(t *testing.T, o Options, batches [][]*proto.Txn) *Store {
	t.Helper()
	s, err := Open(o)
	require.NoError(t, err)
	var got []pipeline.Entry
	r := s.Replicator(func(e []pipeline.Entry) { got = append(got, e...) }, nil)
	n := 0
	for _, b := range batches {
		r.Replicate(entries(b))
		r.Flush() // one batch each
		n += len(b)
	}
	require.Len(t, got, n)
	require.NoError(t, s.Close())
	return s
}

// model applies txns to a new tree.
func model(txns ...[]*proto.Txn) *tree.Tree {
	m := tree.New()
	for _, b := range txns {
		for _, t := range b {
			m.Apply(t)
		}
	}
	return m
}

// dumpTree renders a tree canonically: every node with data, stat and ACL,
// the sessions, and the ephemerals.
func dumpTree(t *tree.Tree) string {
	var lines []string
	t.Each(func(p string, n *tree.Node) {
		st := n.Stat()
		lines = append(lines, fmt.Sprintf("%s %q %+v acl=%v", p, n.Data, st, t.ACLOf(n)))
	})
	sort.Strings(lines)
	var sess []string
	for id, to := range t.Sessions() {
		sess = append(sess, fmt.Sprintf("session %x %d %v", id, to, t.Ephemerals(id)))
	}
	sort.Strings(sess)
	lines = append(lines, sess...)
	lines = append(lines, fmt.Sprintf("lastZxid=%d nodes=%d size=%d acls=%d ephemerals=%d containers=%v ttls=%v",
		t.LastZxid(), t.NodeCount(), t.DataSize(), t.ACLs().Len(), t.EphemeralCount(), t.Containers(), t.TTLs()))
	return strings.Join(lines, "\n")
}
