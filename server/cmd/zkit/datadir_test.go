package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/db"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/storage"
	"zkit/server/tree"
)

// makeDataDir writes a data directory holding a few snapshots and segments.
func makeDataDir(t *testing.T) string {
	dir := t.TempDir()
	d := db.New(auth.NewRegistry(""), false)
	s, err := storage.Open(storage.Options{DataDir: dir, PreAllocSize: 4096, SnapCount: 1 << 30})
	require.NoError(t, err)
	r := s.Replicator(func(e []pipeline.Entry) {
		d.Write(func(t *tree.Tree) {
			for _, x := range e {
				t.Apply(x.Txn)
			}
		})
	}, nil)
	s.Start(d)
	z := int64(0)
	for round := 0; round < 5; round++ {
		for i := 0; i < 10; i++ {
			z++
			r.Replicate([]pipeline.Entry{{Txn: &proto.Txn{
				Header: proto.TxnHeader{ClientID: 1, Cxid: int32(z), Zxid: z, Time: 1_700_000_000_000, Type: proto.OpCreate},
				Body:   &proto.CreateTxn{Form: proto.OpCreate, Path: fmt.Sprintf("/n%d", z), Data: []byte("x"), ACL: proto.OpenACLUnsafe, ParentCVersion: int32(z)},
			}}})
		}
		r.Flush()
		_, err := s.Snapshot()
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	return dir
}

func silence(t *testing.T) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = devnull, devnull
	t.Cleanup(func() { os.Stdout, os.Stderr = stdout, stderr; devnull.Close() })
}

func TestDatadirCommands(t *testing.T) {
	dir := makeDataDir(t)
	silence(t)
	zk := storage.Dir(dir)
	require.Equal(t, 0, runDatadir([]string{"list", dir}))
	require.Equal(t, 0, runDatadir([]string{"list", zk}), "the zkit subdirectory is accepted too")
	require.Equal(t, 0, runDatadir([]string{"verify", dir}))
	require.Equal(t, 0, runDatadir([]string{"log", filepath.Join(zk, "log.0000000000000001")}))
	require.Equal(t, 0, runDatadir([]string{"snapshot", "--nodes", "--data", filepath.Join(zk, "snapshot.0000000000000014")}))
	require.Equal(t, 2, runDatadir([]string{"nope"}))

	require.Equal(t, 0, runDatadir([]string{"purge", "--retain", "3", dir}))
	names, err := filepath.Glob(filepath.Join(zk, "snapshot.*"))
	require.NoError(t, err)
	require.Len(t, names, 3)
	require.Equal(t, 0, runDatadir([]string{"verify", dir}), "a purged directory still verifies")
}

func TestDatadirVerifyFindsCorruption(t *testing.T) {
	dir := makeDataDir(t)
	silence(t)
	seg := filepath.Join(storage.Dir(dir), "log.0000000000000001")
	b, err := os.ReadFile(seg)
	require.NoError(t, err)
	b[40] ^= 0xff // inside the first batch, with valid batches after it
	require.NoError(t, os.WriteFile(seg, b, 0o644))
	require.Equal(t, 1, runDatadir([]string{"verify", dir}))

	snap := filepath.Join(storage.Dir(dir), "snapshot.0000000000000032")
	b, err = os.ReadFile(snap)
	require.NoError(t, err)
	b[len(b)/2] ^= 1
	require.NoError(t, os.WriteFile(snap, b, 0o644))
	require.Equal(t, 1, runDatadir([]string{"snapshot", snap}))
}
