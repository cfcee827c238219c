package storage

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/db"
	"zkit/server/proto"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
)

// liveDB returns a database holding n generated txns, and the txns.
func liveDB(seed uint64, n int) (*db.DB, *txnGen, []*proto.Txn) {
	d := db.New(auth.NewRegistry(""), false)
	g := newGen(seed, 0)
	var txns []*proto.Txn
	for range n {
		d.Write(func(t *tree.Tree) {
			txn := g.next(t)
			t.Apply(txn)
			txns = append(txns, txn)
		})
	}
	return d, g, txns
}

func writeSnap(t *testing.T, fs vfs.FS, src TreeSource, chunk int) SnapshotResult {
	t.Helper()
	require.NoError(t, fs.MkdirAll("/data/zkit"))
	w := &snapshotWriter{fs: fs, dir: "/data/zkit", dbid: 9, chunk: chunk, now: time.Now, abort: make(chan struct{})}
	res, err := w.write(src)
	require.NoError(t, err)
	return res
}

func TestSnapshotRoundTrip(t *testing.T) {
	d, _, _ := liveDB(1, 400)
	fs := vfs.NewMem(false, 1)
	res := writeSnap(t, fs, d, 1000)
	got, h, dropped, err := loadSnapshot(fs, res.Path, false)
	require.NoError(t, err)
	require.Zero(t, dropped)
	require.Equal(t, uint64(9), h.DBID)
	var want string
	d.Read(func(t *tree.Tree) { want = dumpTree(t) })
	require.Equal(t, want, dumpTree(got))
	require.Equal(t, filepath.Join("/data/zkit", snapshotName(h.Zxid)), res.Path)

	again := writeSnap(t, fs, d, 1000)
	require.True(t, again.Skipped, "a snapshot of the same zxid is not written twice")
}

func TestDamagedSnapshotNeverLoads(t *testing.T) {
	d, _, _ := liveDB(2, 30)
	fs := vfs.NewMem(false, 1)
	res := writeSnap(t, fs, d, 1000)
	data := fs.Dump()[res.Path]
	for off := range data {
		for _, k := range []damageKind{truncated, flipped} {
			dfs := memWith(t, map[string][]byte{res.Path: damaged(data, off, k)})
			_, _, _, err := loadSnapshot(dfs, res.Path, false)
			require.Error(t, err, "%s at %d", k, off)
		}
	}
}

// TestFuzzySnapshotPlusReplayIsExact writes snapshots while another
// goroutine applies txns, one chunk of one node at a time so the walk and
// the writes interleave as much as they can; loading each snapshot and
// replaying the txns after its zxid must give exactly the final tree.
func TestFuzzySnapshotPlusReplayIsExact(t *testing.T) {
	for seed := uint64(1); seed <= 400; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			d, g, txns := liveDB(seed, 150)
			var mu sync.Mutex
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; i < 600; i++ {
					select {
					case <-stop:
						return
					default:
					}
					d.Write(func(t *tree.Tree) {
						txn := g.next(t)
						t.Apply(txn)
						mu.Lock()
						txns = append(txns, txn)
						mu.Unlock()
					})
				}
			}()
			fs := vfs.NewMem(false, seed)
			res := writeSnap(t, fs, d, 1)
			close(stop)
			<-done

			got, _, _, err := loadSnapshot(fs, res.Path, false)
			require.NoError(t, err)
			for _, txn := range txns {
				if txn.Header.Zxid > res.Header.Zxid {
					applyReplayed(got, txn)
				}
			}
			var want string
			d.Read(func(t *tree.Tree) { want = dumpTree(t) })
			if want != dumpTree(got) {
				t.Logf("snapshot zxid %d, real sizes live %d recovered %d", res.Header.Zxid, realSize(d), realSizeOf(got))
				for _, txn := range txns {
					t.Logf("%s", Describe(txn))
				}
			}
			require.Equal(t, want, dumpTree(got))
		})
	}
}

// TestMapWalkWithWritesBetweenSteps checks the claim tree.All relies on:
// a map walked one step per hold of a lock, with writers changing it — and
// growing it — between steps, yields every key present throughout exactly
// once and no key that was never there. Run it with -race: the lock orders
// every access, so there is no report.
func TestMapWalkWithWritesBetweenSteps(t *testing.T) {
	for round := 0; round < 20; round++ {
		var mu sync.RWMutex
		m := map[int]int{}
		for i := 0; i < 1000; i++ {
			m[i] = i
		}
		stable := map[int]bool{}
		for i := 0; i < 1000; i += 2 {
			stable[i] = true // the writer never touches even keys
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < 5000; i++ {
				mu.Lock()
				if i%3 == 0 {
					delete(m, 2*(i%500)+1)
				} else {
					m[1000+i] = i // grows the map far past its size
				}
				mu.Unlock()
			}
		}()
		seen := map[int]int{}
		mu.RLock()
		n := 0
		for k := range m {
			seen[k]++
			if n++; n%3 == 0 {
				mu.RUnlock()
				time.Sleep(time.Microsecond)
				mu.RLock()
			}
		}
		mu.RUnlock()
		<-done
		for k := range stable {
			require.Equal(t, 1, seen[k], "stable key %d", k)
		}
		for k, c := range seen {
			require.True(t, k < 1000 || k >= 1000, "key %d", k)
			require.Equal(t, 1, c, "key %d produced %d times", k, c)
		}
	}
}

func realSize(d *db.DB) (n int64) {
	d.Read(func(t *tree.Tree) { n = realSizeOf(t) })
	return n
}

func realSizeOf(t *tree.Tree) (n int64) {
	t.Each(func(p string, nd *tree.Node) { n += int64(len(p) + len(nd.Data)) })
	return n
}
