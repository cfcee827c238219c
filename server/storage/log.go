package storage

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"zkit/server/proto"
	"zkit/server/storage/vfs"
)

// splitBatchBytes is the payload size past which a group is split into
// several batches (each still one write and one sync).
const splitBatchBytes = 16 << 20

// logConfig configures a Log.
type logConfig struct {
	fs          vfs.FS
	dir         string
	dbid        uint64
	preAlloc    int64 // preallocation chunk
	segmentSize int64 // roll past this size
	sync        bool  // forceSync
	logger      *slog.Logger
	stats       *Stats
}

// Log appends batches of transactions to the segments of a log directory.
// It is not safe for concurrent use: one goroutine (the Replicator's)
// appends, and only RequestRoll may be called from others.
type Log struct {
	c     logConfig
	f     vfs.File
	path  string
	off   int64 // where the next batch goes
	alloc int64 // preallocated size of the current segment
	last  int64 // zxid of the last txn written
	roll  atomic.Bool
	buf   []byte
	err   error // the first failure; the log is unusable after it
	// zeroed is where the zeros written ahead of the end (zeroAhead) stop.
	zeroed int64
}

// zeroChunk is how much zeroAhead writes at a time: one extent conversion
// for many small batches, little to write at once.
var zeroChunk = make([]byte, 1<<20)

func newLog(c logConfig, last int64) *Log {
	return &Log{c: c, last: last}
}

// RequestRoll makes the next batch start a new segment.
func (l *Log) RequestRoll() { l.roll.Store(true) }

// LastZxid returns the zxid of the last txn written.
func (l *Log) LastZxid() int64 { return l.last }

// Append writes txns (in zxid order, following the last one written) as one
// batch, split only if huge, and syncs it. After an error the log refuses
// every later call: what is on disk after a failed write or fsync is
// unknown, and retrying an fsync can report success for data the kernel
// already dropped.
func (l *Log) Append(txns []*proto.Txn) error {
	return l.appendRecords(txnRecords(txns))
}

// appendRecords is Append for records already encoded elsewhere (the
// entries an ensemble member logs as ZAB hands them over).
func (l *Log) appendRecords(rs records) error {
	if l.err != nil {
		return l.err
	}
	if rs.n == 0 {
		return nil
	}
	if err := l.append(rs); err != nil {
		l.err = &errLogFailed{err: err}
		return l.err
	}
	return nil
}

func (l *Log) append(rs records) error {
	if l.f == nil || l.roll.Load() || l.off >= l.c.segmentSize {
		l.roll.Store(false)
		if err := l.startSegment(rs.zxid(0)); err != nil {
			return err
		}
	}
	l.buf = encodeRecords(l.buf[:0], l.c.dbid, rs)
	if len(l.buf) > splitBatchBytes && rs.n > 1 {
		half := rs.n / 2
		if err := l.append(rs.slice(0, half)); err != nil {
			return err
		}
		return l.append(rs.slice(half, rs.n))
	}
	if err := l.write(l.buf); err != nil {
		return err
	}
	l.c.stats.batch(rs.n, len(l.buf))
	l.last = rs.zxid(rs.n - 1)
	if cap(l.buf) > 4*splitBatchBytes {
		l.buf = nil // do not keep a huge buffer for good
	}
	return nil
}

// write puts one batch at the end of the segment and syncs it.
func (l *Log) write(b []byte) error {
	if need := l.off + int64(len(b)); need > l.alloc {
		grow := roundUp(need, l.c.preAlloc) - l.alloc
		if err := l.f.Preallocate(l.alloc, grow); err != nil {
			return fmt.Errorf("preallocating %s: %w", l.path, err)
		}
		l.alloc += grow
	}
	if _, err := l.f.WriteAt(b, l.off); err != nil {
		return fmt.Errorf("writing %s at %d: %w", l.path, l.off, err)
	}
	l.off += int64(len(b))
	if l.c.sync && l.off > l.zeroed {
		if err := l.zeroAhead(); err != nil {
			return err
		}
	}
	if !l.c.sync {
		return nil
	}
	start := time.Now()
	if err := vfs.SyncHeld(l.f); err != nil {
		return fmt.Errorf("syncing %s: %w", l.path, err)
	}
	l.c.stats.fsync(time.Since(start))
	return nil
}

// zeroAhead writes zeros over the next zeroChunk bytes of preallocated
// space past the end of the log, to be synced with the batch just written.
// Preallocated space is unwritten to the file system (fallocate): every
// sync of a batch written into it would also convert its extent and write
// the inode, a second synchronous write per sync. Written zeros (the bytes
// the space reads as anyway) make that one conversion per zeroChunk.
func (l *Log) zeroAhead() error {
	l.zeroed = max(l.zeroed, l.off)
	n := min(int64(len(zeroChunk)), l.alloc-l.zeroed)
	if n <= 0 {
		return nil
	}
	if _, err := l.f.WriteAt(zeroChunk[:n], l.zeroed); err != nil {
		return fmt.Errorf("writing %s at %d: %w", l.path, l.zeroed, err)
	}
	l.zeroed += n
	return nil
}

// startSegment closes the current segment and creates the next, whose
// first txn will be first. The header and the directory entry are durable
// before any batch goes in.
func (l *Log) startSegment(first int64) error {
	l.closeSegment()
	path := filepath.Join(l.c.dir, segmentName(first))
	f, err := l.c.fs.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	l.f, l.path, l.off, l.alloc, l.zeroed = f, path, 0, 0, 0
	if err := f.Preallocate(0, l.c.preAlloc); err != nil {
		return fmt.Errorf("preallocating %s: %w", path, err)
	}
	l.alloc = l.c.preAlloc
	h := segmentHeader{DBID: l.c.dbid, First: first}
	if _, err := f.WriteAt(h.encode(), 0); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	l.off = segmentHeaderSize
	if l.c.sync {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", path, err)
		}
		if err := l.c.fs.SyncDir(l.c.dir); err != nil {
			return fmt.Errorf("syncing directory %s: %w", l.c.dir, err)
		}
	}
	l.c.stats.Segments.Add(1)
	l.c.logger.Debug("started log segment", "file", path)
	return nil
}

// closeSegment cuts the unused preallocated space of the current segment
// (zeros either way, so this needs no sync) and closes it.
func (l *Log) closeSegment() {
	if l.f == nil {
		return
	}
	if l.err == nil {
		_ = l.f.Truncate(l.off)
	}
	_ = l.f.Close()
	l.f = nil
}

// Close closes the current segment.
func (l *Log) Close() error {
	l.closeSegment()
	if l.err == nil {
		l.err = ErrClosed
	}
	return nil
}

func roundUp(n, unit int64) int64 {
	if unit <= 0 {
		return n
	}
	return (n + unit - 1) / unit * unit
}
