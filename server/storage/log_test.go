package storage

import (
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/storage/vfs"
)

func TestLogRoundTrip(t *testing.T) {
	fs := vfs.NewMem(false, 1)
	batches := someBatches(1, 20)
	writeLog(t, memOptions(fs), batches)

	s, err := Open(memOptions(fs))
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, dumpTree(model(batches...)), dumpTree(s.Recovery.Tree))
	last := batches[len(batches)-1]
	require.Equal(t, last[len(last)-1].Header.Zxid, s.Recovery.LastZxid)
	require.Empty(t, s.Recovery.TornTail)
}

func TestLogRollsSegmentsAndContinuesAfterRestart(t *testing.T) {
	fs := vfs.NewMem(false, 1)
	o := memOptions(fs)
	o.SegmentSize = 300
	first := someBatches(1, 12)
	writeLog(t, o, first)
	segs, err := listSegments(fs, Dir("/data"))
	require.NoError(t, err)
	require.Greater(t, len(segs), 2, "a small segment size rolls often")

	last := first[len(first)-1]
	next := someBatches(last[len(last)-1].Header.Zxid+1, 5)
	writeLog(t, o, next)
	s, err := Open(o)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, dumpTree(model(append(first, next...)...)), dumpTree(s.Recovery.Tree))
}

func TestBatchRoundTrip(t *testing.T) {
	txns := someBatches(5, 3)[2]
	b := encodeBatch(nil, 42, txns)
	h, payload, bad := checkBatch(b, 0, 42)
	require.Empty(t, bad)
	got, err := decodeBatch(h, payload)
	require.NoError(t, err)
	require.Len(t, got, len(txns))
	for i := range txns {
		require.Equal(t, txns[i].Header, got[i].Header)
		require.Equal(t, txns[i].Body, got[i].Body)
	}
	_, _, bad = checkBatch(b, 0, 43)
	require.Equal(t, "batch checksum mismatch", bad, "another database's batch does not validate")
}

func TestMarkersKeepTheirPlace(t *testing.T) {
	fs := vfs.NewMem(false, 1)
	s, err := Open(memOptions(fs))
	require.NoError(t, err)
	var got []pipeline.Entry
	r := s.Replicator(func(e []pipeline.Entry) { got = append(got, e...) }, nil)
	marker := pipeline.Entry{Err: proto.ErrSessionExpired}
	in := []pipeline.Entry{marker, {Txn: txnCreate(1, "/a", "")}, marker, {Txn: txnCreate(2, "/b", "")}, marker}
	r.Replicate(in[:3])
	r.Replicate(in[3:])
	r.Replicate([]pipeline.Entry{marker})
	r.Flush()
	require.Equal(t, append(in, marker), got)
	require.NoError(t, s.Close())
}
