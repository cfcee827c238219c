package storage

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/db"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
)

// runStore writes rounds of generated txns through a store, with a
// snapshot after each round, and returns the final tree's dump.
func runStore(t *testing.T, o Options, rounds int) string {
	t.Helper()
	s, err := Open(o)
	require.NoError(t, err)
	d := db.New(auth.NewRegistry(""), false)
	d.Replace(s.Recovery.Tree)
	r := s.Replicator(func(e []pipeline.Entry) {
		d.Write(func(t *tree.Tree) {
			for _, x := range e {
				t.Apply(x.Txn)
			}
		})
	}, nil)
	s.Start(d)
	g := newGen(7, s.Recovery.LastZxid)
	for round := 0; round < rounds; round++ {
		for i := 0; i < 25; i++ {
			var txn *proto.Txn
			d.Read(func(t *tree.Tree) { txn = g.next(t) })
			r.Replicate([]pipeline.Entry{{Txn: txn}})
			r.Flush()
		}
		_, err := s.Snapshot()
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	var out string
	d.Read(func(t *tree.Tree) { out = dumpTree(t) })
	return out
}

func TestRecoveryFallsBackToAnOlderSnapshot(t *testing.T) {
	fs := vfs.NewMem(false, 1)
	o := memOptions(fs)
	want := runStore(t, o, 3)
	snaps, _, err := listSnapshots(fs, Dir("/data"))
	require.NoError(t, err)
	newest := snaps[len(snaps)-1].path
	data := fs.Dump()[newest]
	data[len(data)/2] ^= 0x10
	writeFile(t, fs, newest, data)

	s, err := Open(o)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, []string{newest}, s.Recovery.Skipped)
	require.Equal(t, snaps[len(snaps)-2].path, s.Recovery.Snapshot)
	require.Equal(t, want, dumpTree(s.Recovery.Tree))
	_, err = fs.Open(newest)
	require.NoError(t, err, "a snapshot that fails to load is never deleted")
}

func writeFile(t *testing.T, fs vfs.FS, path string, data []byte) {
	f, err := fs.Create(path)
	require.NoError(t, err)
	_, err = f.WriteAt(data, 0)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
}

func TestPurgeKeepsWhatTheOldestKeptSnapshotNeeds(t *testing.T) {
	fs := vfs.NewMem(false, 1)
	o := memOptions(fs)
	o.DataLogDir = "/logs"
	want := runStore(t, o, 6)
	before, _, _ := listSnapshots(fs, Dir("/data"))
	res, err := Purge(fs, "/data", "/logs", 3, quiet)
	require.NoError(t, err)
	snaps, _, _ := listSnapshots(fs, Dir("/data"))
	require.Len(t, snaps, 3)
	require.Equal(t, before[len(before)-3:], snaps)
	require.Equal(t, snaps[0].zxid, res.OldestKept)
	segs, err := listSegments(fs, Dir("/logs"))
	require.NoError(t, err)
	require.LessOrEqual(t, segs[0].first, res.OldestKept+1, "the segment holding the txn after the oldest kept snapshot stays")
	require.NotEmpty(t, res.Segments)

	// Every snapshot kept can still be recovered from.
	for i := len(snaps) - 1; i >= 0; i-- {
		s, err := Open(o)
		require.NoError(t, err)
		require.Equal(t, snaps[i].path, s.Recovery.Snapshot)
		require.Equal(t, want, dumpTree(s.Recovery.Tree))
		require.NoError(t, s.Close())
		require.NoError(t, fs.Remove(snaps[i].path)) // fall back further next time
	}
}

func TestPurgeDoesNotCountInvalidSnapshots(t *testing.T) {
	fs := vfs.NewMem(false, 1)
	o := memOptions(fs)
	runStore(t, o, 5)
	snaps, _, _ := listSnapshots(fs, Dir("/data"))
	newest := snaps[len(snaps)-1].path
	writeFile(t, fs, newest, []byte("garbage"))
	_, err := Purge(fs, "/data", "", 3, quiet)
	require.NoError(t, err)
	left, _, _ := listSnapshots(fs, Dir("/data"))
	require.Len(t, left, 4, "three valid snapshots kept, and the invalid newer one")
}

func TestRefusals(t *testing.T) {
	t.Run("log without its beginning and no snapshot", func(t *testing.T) {
		fs := vfs.NewMem(false, 1)
		writeLog(t, memOptions(fs), someBatches(5, 3))
		_, err := Open(memOptions(fs))
		var ce *CorruptError
		require.True(t, errors.As(err, &ce), "got %v", err)
		require.Contains(t, err.Error(), "no valid snapshot covers")
	})
	t.Run("segment of another database", func(t *testing.T) {
		fs := vfs.NewMem(false, 1)
		o := memOptions(fs)
		runStore(t, o, 1)
		other := vfs.NewMem(false, 2)
		writeLog(t, memOptions(other), someBatches(26, 3)) // follows ours, from another database
		segs, _ := listSegments(other, Dir("/data"))
		writeFile(t, fs, filepath.Join(Dir("/data"), filepath.Base(segs[0].path)), other.Dump()[segs[0].path])
		_, err := Open(o)
		require.ErrorContains(t, err, "of database")
	})
	t.Run("missing txns between segments", func(t *testing.T) {
		fs := vfs.NewMem(false, 1)
		o := memOptions(fs)
		writeLog(t, o, someBatches(1, 4))
		writeLog(t, o, someBatches(40, 2)) // a gap: zxids 9..39 were never written
		_, err := Open(o)
		require.ErrorContains(t, err, "transactions are missing")
	})
}

func TestPlanSessions(t *testing.T) {
	sessions := map[int64]int32{1: 1000, 2: 5000, 3: 30000}
	p := PlanSessions(sessions, 4*time.Second, 200*time.Millisecond)
	require.Equal(t, []int64{1}, p.Expired)
	require.Equal(t, map[int64]time.Duration{2: time.Second, 3: 26 * time.Second}, p.Restore)
	p = PlanSessions(map[int64]int32{4: 4100}, 4*time.Second, 200*time.Millisecond)
	require.Equal(t, 200*time.Millisecond, p.Restore[4], "at least one tick")
}

func TestHeartbeatMeasuresDowntime(t *testing.T) {
	fs := vfs.NewMem(false, 1)
	now := time.Now()
	o := memOptions(fs)
	o.Now = func() time.Time { return now }
	s, err := Open(o)
	require.NoError(t, err)
	require.False(t, s.Recovery.DowntimeKnown)
	require.NoError(t, s.Close()) // records the stop

	now = now.Add(90 * time.Second)
	s, err = Open(o)
	require.NoError(t, err)
	defer s.Close()
	require.True(t, s.Recovery.DowntimeKnown)
	require.InDelta(t, float64(90*time.Second), float64(s.Recovery.Downtime), float64(time.Millisecond))
}
