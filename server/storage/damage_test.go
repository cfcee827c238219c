package storage

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/proto"
	"zkit/server/storage/vfs"
)

// memWith returns a file system holding exactly files, synced.
func memWith(t *testing.T, files map[string][]byte) *vfs.MemFS {
	t.Helper()
	fs := vfs.NewMem(false, 1)
	for path, data := range files {
		require.NoError(t, fs.MkdirAll(filepath.Dir(path)))
		f, err := fs.Create(path)
		require.NoError(t, err)
		_, err = f.WriteAt(data, 0)
		require.NoError(t, err)
		require.NoError(t, f.Sync())
		require.NoError(t, f.Close())
		require.NoError(t, fs.SyncDir(filepath.Dir(path)))
	}
	return fs
}

// segLayout is where the batches of one pristine segment are.
type segLayout struct {
	path    string
	data    []byte
	batches [][]*proto.Txn
	ends    []int64 // end offset of each batch
}

// smallLog writes a log of two segments and returns their layout.
func smallLog(t *testing.T) []segLayout {
	fs := vfs.NewMem(false, 1)
	o := memOptions(fs)
	all := someBatches(1, 8)
	writeLog(t, o, all[:4])
	writeLog(t, o, all[4:]) // a restart starts the second segment
	segs, err := listSegments(fs, Dir("/data"))
	require.NoError(t, err)
	require.Len(t, segs, 2)
	dump := fs.Dump()
	var out []segLayout
	for i, seg := range segs {
		sc, err := scanSegment(fs, seg, 0)
		require.NoError(t, err)
		l := segLayout{path: seg.path, data: dump[seg.path], batches: all[i*4 : i*4+4]}
		for _, b := range sc.batches {
			l.ends = append(l.ends, b.end())
		}
		require.Len(t, l.ends, 4)
		out = append(out, l)
	}
	// A crash leaves the last segment with its preallocated zeros (a clean
	// Close cuts them).
	out[1].data = append(out[1].data, make([]byte, 300)...)
	return out
}

type damageKind int

const (
	truncated damageKind = iota
	zeroed
	flipped
)

func (k damageKind) String() string { return [...]string{"truncated", "zero-filled", "bit-flipped"}[k] }

func damaged(data []byte, off int, k damageKind) []byte {
	b := append([]byte(nil), data...)
	switch k {
	case truncated:
		return b[:off]
	case zeroed:
		clear(b[off:])
	case flipped:
		b[off] ^= 1 << (off % 8)
	}
	return b
}

// expect returns how many batches of the whole log must be recovered, or
// -1 when recovery must refuse.
func expect(segs []segLayout, file, off int, k damageKind) int {
	before := 0
	for _, s := range segs[:file] {
		before += len(s.batches)
	}
	s := segs[file]
	last := file == len(segs)-1
	dataEnd := int(s.ends[len(s.ends)-1])
	intact := 0
	for _, e := range s.ends {
		if int(e) <= off {
			intact++
		}
	}
	switch {
	case k != flipped && last:
		return before + intact
	case k != flipped:
		if off >= dataEnd {
			return before + len(s.batches)
		}
		return -1
	case off >= dataEnd && last:
		return before + len(s.batches) // garbage in the zeros: a torn tail
	case last && intact == len(s.batches)-1 && off >= segmentHeaderSize:
		return before + intact // inside the last batch: cannot be told from a torn write
	}
	return -1
}

func TestDamagedLogRecoversAPrefixOrRefuses(t *testing.T) {
	segs := smallLog(t)
	var all [][]*proto.Txn
	for _, s := range segs {
		all = append(all, s.batches...)
	}
	refused, recovered := 0, 0
	for file := range segs {
		for _, k := range []damageKind{truncated, zeroed, flipped} {
			for off := 0; off < len(segs[file].data); off++ {
				files := map[string][]byte{}
				for i, s := range segs {
					files[s.path] = s.data
					if i == file {
						files[s.path] = damaged(s.data, off, k)
					}
				}
				want := expect(segs, file, off, k)
				checkDamaged(t, fmt.Sprintf("%s %s at %d", filepath.Base(segs[file].path), k, off),
					files, all, want, off%5 == 0)
				if want < 0 {
					refused++
				} else {
					recovered++
				}
			}
		}
	}
	t.Logf("%d damaged logs: %d refused, %d recovered a prefix", refused+recovered, refused, recovered)
}

func checkDamaged(t *testing.T, name string, files map[string][]byte, all [][]*proto.Txn, want int, appendAfter bool) {
	fs := memWith(t, files)
	o := memOptions(fs)
	s, err := Open(o)
	if want < 0 {
		var ce *CorruptError
		require.True(t, errors.As(err, &ce), "%s: want a refusal, got %v", name, err)
		require.Contains(t, err.Error(), "/data/zkit/log.", "%s: the refusal names the file", name)
		return
	}
	require.NoError(t, err, name)
	require.Equal(t, dumpTree(model(all[:want]...)), dumpTree(s.Recovery.Tree), "%s: want the first %d batches", name, want)
	require.NoError(t, s.Close())
	if !appendAfter {
		return
	}
	// The repaired log takes new batches and reads back whole.
	next := someBatches(s.Recovery.LastZxid+1, 2)
	writeLog(t, o, next)
	s2, err := Open(o)
	require.NoError(t, err, name)
	require.Empty(t, s2.Recovery.TornTail, name)
	require.Equal(t, dumpTree(model(append(append([][]*proto.Txn{}, all[:want]...), next...)...)), dumpTree(s2.Recovery.Tree), name)
	require.NoError(t, s2.Close())
}
