package admin

import (
	"io/fs"
	"math/bits"
	"path"
	"path/filepath"
	"runtime"
	"sync"
	"weak"

	"zkit/server/config"
	"zkit/server/member"
	"zkit/server/storage"
	"zkit/server/storage/vfs"
)

// dataDirs are the directories conf and dirs report: where the server's
// storage keeps its snapshots and its txn log. Apache names them
// <dataDir>/version-2 and <dataLogDir>/version-2; zkit's storage keeps its
// own format in <dataDir>/zkit and <dataLogDir>/zkit (storage.Dir), and
// those are what is shown and measured.
type dataDirs struct {
	snap, log string
	fs        vfs.FS // nil: the operating system's
}

// dirsOf returns the server's storage directories: those it was started
// with (an ensemble member's in-memory file system included), else the
// ones cfg's dataDir and dataLogDir name (a server running in memory uses
// none; they are shown as a zoo.cfg would place them, and measure 0 bytes
// unless something else writes there). Empty without a data directory.
func dirsOf(cfg *config.Config, s *member.Server) dataDirs {
	o := s.Options().Storage
	dataDir, logDir, fsys := o.DataDir, o.DataLogDir, o.FS
	if dataDir == "" && cfg != nil {
		dataDir, logDir, fsys = cfg.DataDir, cfg.DataLogDir, nil
	}
	if dataDir == "" {
		return dataDirs{}
	}
	if logDir == "" {
		logDir = dataDir
	}
	if fsys == nil {
		dataDir, logDir = absPath(dataDir), absPath(logDir)
	}
	return dataDirs{snap: storage.Dir(dataDir), log: storage.Dir(logDir), fs: fsys}
}

func absPath(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// size is the byte size of the files below dir (ZooKeeperServer's
// getDirSize); 0 when it does not exist.
func (d dataDirs) size(dir string) int64 {
	if dir == "" {
		return 0
	}
	if d.fs == nil {
		return osDirSize(dir)
	}
	return vfsDirSize(d.fs, dir, 0)
}

func osDirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// vfsDirSize walks a vfs directory: an entry that cannot be opened as a
// file is tried as a subdirectory.
func vfsDirSize(fsys vfs.FS, dir string, depth int) int64 {
	names, err := fsys.List(dir)
	if err != nil || depth > 8 {
		return 0
	}
	var n int64
	for _, name := range names {
		p := path.Join(dir, name)
		f, err := fsys.Open(p)
		if err != nil {
			n += vfsDirSize(fsys, p, depth+1)
			continue
		}
		if size, err := f.Size(); err == nil {
			n += size
		}
		f.Close()
	}
	return n
}

// fsyncSummary is mntr's fsynctime summary (FileTxnLog.commit's
// FSYNC_TIME, in ms) from the storage's counters. Count, sum, average and
// (until an srst) maximum are exact; the minimum — and the maximum after
// an srst — come from the storage's power-of-two histogram of microseconds:
// exact when the bucket lies within one millisecond (always below 512 µs),
// otherwise the bucket's lower (minimum) or upper (maximum) bound.
type fsyncSummary struct {
	count, sumNanos int64
	min, max        int64 // ms
}

// fsyncBase is what srst saw of a store's counters: mntr reports what
// happened since, as Apache's reset summary does.
type fsyncBase struct {
	fsyncs, nanos int64
	buckets       []int64 // FsyncMicros counts by bucket
}

// fsyncBases maps a store (weakly) to its base; a store never reset has
// none.
var fsyncBases sync.Map // weak.Pointer[storage.Store] -> *fsyncBase

func histogram(st *storage.Store) []int64 {
	out := make([]int64, 65)
	bounds, counts := st.Stats.FsyncMicros.Buckets()
	for i, b := range bounds {
		out[bucketIndex(b)] = counts[i]
	}
	return out
}

// bucketIndex is the bucket whose (exclusive) upper bound is b.
func bucketIndex(b int64) int {
	if b == 1<<63-1 {
		return 64
	}
	return bits.TrailingZeros64(uint64(b))
}

// resetFsync is srst for the fsync summary.
func resetFsync(st *storage.Store) {
	if st == nil {
		return
	}
	base := &fsyncBase{fsyncs: st.Stats.Fsyncs.Load(), nanos: st.Stats.FsyncNanos.Load(), buckets: histogram(st)}
	key := weak.Make(st)
	if _, loaded := fsyncBases.Swap(key, base); !loaded {
		runtime.AddCleanup(st, func(k weak.Pointer[storage.Store]) { fsyncBases.Delete(k) }, key)
	}
}

func fsyncOf(st *storage.Store) fsyncSummary {
	if st == nil {
		return fsyncSummary{}
	}
	hist := histogram(st)
	sum := fsyncSummary{count: st.Stats.Fsyncs.Load(), sumNanos: st.Stats.FsyncNanos.Load()}
	reset := false
	if v, ok := fsyncBases.Load(weak.Make(st)); ok {
		base := v.(*fsyncBase)
		reset = true
		sum.count -= base.fsyncs
		sum.sumNanos -= base.nanos
		for i := range hist {
			hist[i] -= base.buckets[i]
		}
	}
	if sum.count <= 0 {
		return fsyncSummary{}
	}
	lo, hi := -1, -1
	for i, c := range hist {
		if c > 0 {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	// Bucket i holds microsecond values v with bits.Len64(v) == i:
	// [2^(i-1), 2^i), and bucket 0 holds 0.
	lowUS := func(i int) int64 {
		if i == 0 {
			return 0
		}
		return int64(1) << (i - 1)
	}
	highUS := func(i int) int64 {
		if i >= 63 {
			return 1<<63 - 1
		}
		return int64(1)<<i - 1
	}
	if lo >= 0 {
		sum.min = lowUS(lo) / 1000
		sum.max = highUS(hi) / 1000
	}
	if maxMS := st.Stats.MaxFsyncNanos.Load() / 1e6; !reset || maxMS < sum.max {
		sum.max = maxMS
	}
	return sum
}

// writeFsync prints the fsynctime summary (BASIC: avg, min, max, cnt, sum).
func writeFsync(kv func(k, v string), f fsyncSummary) {
	kv("avg_fsynctime", javaDouble(avg4(f.sumNanos, f.count*1e6)))
	kv("min_fsynctime", formatLong(f.min))
	kv("max_fsynctime", formatLong(f.max))
	kv("cnt_fsynctime", formatLong(f.count))
	kv("sum_fsynctime", formatLong(f.sumNanos/1e6))
}
