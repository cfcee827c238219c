package vfs

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func write(t *testing.T, f File, off int64, s string) {
	t.Helper()
	_, err := f.WriteAt([]byte(s), off)
	require.NoError(t, err)
}

func read(t *testing.T, m FS, name string) string {
	t.Helper()
	b, err := ReadAll(m, name)
	require.NoError(t, err)
	return string(b)
}

func TestMemForgetsUnsyncedData(t *testing.T) {
	m := NewMem(false, 1)
	require.NoError(t, m.MkdirAll("/d"))
	f, err := m.Create("/d/a")
	require.NoError(t, err)
	write(t, f, 0, "synced")
	require.NoError(t, f.Sync())
	require.NoError(t, m.SyncDir("/d"))
	write(t, f, 6, "+lost")
	require.Equal(t, "synced+lost", read(t, m, "/d/a"))

	img := m.Crash()
	require.Equal(t, "synced", read(t, img, "/d/a"))
	_, err = f.WriteAt([]byte("x"), 0)
	require.ErrorIs(t, err, ErrCrashed, "the old process is dead")
	_, err = m.Open("/d/a")
	require.ErrorIs(t, err, ErrCrashed)
}

func TestMemForgetsUnsyncedEntries(t *testing.T) {
	m := NewMem(false, 1)
	require.NoError(t, m.MkdirAll("/d"))
	f, _ := m.Create("/d/new")
	write(t, f, 0, "data")
	require.NoError(t, f.Sync()) // data synced, entry not
	img := m.Crash()
	_, err := img.Open("/d/new")
	require.True(t, errors.Is(err, fs.ErrNotExist), "a file whose directory was not synced is gone")
}

func TestMemRenameAndRemoveNeedSyncDir(t *testing.T) {
	m := NewMem(false, 1)
	require.NoError(t, m.MkdirAll("/d"))
	for _, n := range []string{"/d/a", "/d/b"} {
		f, _ := m.Create(n)
		write(t, f, 0, filepath.Base(n))
		require.NoError(t, f.Sync())
	}
	require.NoError(t, m.SyncDir("/d"))
	require.NoError(t, m.Rename("/d/a", "/d/c"))
	require.NoError(t, m.Remove("/d/b"))
	names, _ := m.List("/d")
	require.Equal(t, []string{"c"}, names)

	img := m.Crash()
	names, _ = img.List("/d")
	require.Equal(t, []string{"a", "b"}, names, "unsynced rename and remove are undone")
}

func TestMemCrashAfterInterruptsTheNthOperation(t *testing.T) {
	m := NewMem(false, 1)
	require.NoError(t, m.MkdirAll("/d"))
	f, _ := m.Create("/d/a") // op 1
	require.NoError(t, m.SyncDir("/d"))
	m.CrashAfter(2)
	write(t, f, 0, "one")                 // op 3
	_, err := f.WriteAt([]byte("two"), 3) // op 4: crashes
	require.ErrorIs(t, err, ErrCrashed)
	<-m.Crashed()
	require.Equal(t, "", read(t, m.Image(), "/d/a"))
}

func TestMemTornKeepsSomeUnsyncedPages(t *testing.T) {
	sawPartial := false
	for seed := uint64(0); seed < 50 && !sawPartial; seed++ {
		m := NewMem(true, seed)
		require.NoError(t, m.MkdirAll("/d"))
		f, _ := m.Create("/d/a")
		require.NoError(t, f.Sync())
		require.NoError(t, m.SyncDir("/d"))
		page := bytes.Repeat([]byte{0xaa}, PageSize)
		for i := 0; i < 4; i++ {
			_, err := f.WriteAt(page, int64(i*PageSize))
			require.NoError(t, err)
		}
		got := []byte(read(t, m.Crash(), "/d/a"))
		require.LessOrEqual(t, len(got), 4*PageSize)
		kept := 0
		for lo := 0; lo < len(got); lo += PageSize {
			p := got[lo:min(lo+PageSize, len(got))]
			switch {
			case bytes.Equal(p, page[:len(p)]):
				kept++
			case bytes.Count(p, []byte{0}) == len(p):
			default:
				t.Fatalf("page at %d is neither old nor new", lo)
			}
		}
		sawPartial = kept > 0 && kept < 4
	}
	require.True(t, sawPartial, "torn mode never kept a strict subset of pages")
}

func TestOSFSBasics(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "x", "y")
	require.NoError(t, OS.MkdirAll(dir))
	f, err := OS.Create(filepath.Join(dir, "a"))
	require.NoError(t, err)
	require.NoError(t, f.Preallocate(0, 1<<16))
	size, err := f.Size()
	require.NoError(t, err)
	require.Equal(t, int64(1<<16), size)
	write(t, f, 0, "hello")
	require.NoError(t, f.Sync())
	require.NoError(t, f.Truncate(5))
	require.NoError(t, f.Close())
	require.NoError(t, OS.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "b")))
	require.NoError(t, OS.SyncDir(dir))
	require.Equal(t, "hello", read(t, OS, filepath.Join(dir, "b")))
	names, err := OS.List(dir)
	require.NoError(t, err)
	require.Equal(t, []string{"b"}, names)
}

func TestInjectFailsTheNthSync(t *testing.T) {
	m := NewMem(false, 1)
	fsys := Inject(m, FailNth(OpSync, 2, false))
	require.NoError(t, fsys.MkdirAll("/d"))
	f, err := fsys.Create("/d/a")
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.ErrorIs(t, f.Sync(), ErrInjected)
	require.NoError(t, f.Sync())
}
