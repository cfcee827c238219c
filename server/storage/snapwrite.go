package storage

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"zkit/server/jute"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
)

// TreeSource is the live tree a snapshot walks (db.DB implements it).
type TreeSource interface {
	// ReadPausing runs fn under the tree's read lock; pause releases the
	// lock, runs unlocked, and takes the lock again.
	ReadPausing(fn func(t *tree.Tree, pause func(unlocked func())))
}

// errAborted stops a snapshot when the store closes.
var errAborted = errors.New("snapshot aborted: the server is stopping")

// flushBytes is how much encoded snapshot is buffered before a write.
const flushBytes = 1 << 20

// snapshotWriter writes one fuzzy snapshot.
type snapshotWriter struct {
	fs    vfs.FS
	dir   string
	dbid  uint64
	chunk int // nodes encoded per hold of the read lock
	now   func() time.Time
	abort <-chan struct{}

	f    vfs.File
	sink *bytes.Buffer // set: write to memory instead of a file (a SNAP)
	tmp  string
	off  int64
	crc  uint32
	err  error
	enc  *jute.Encoder
	res  SnapshotResult
	skip bool
}

// SnapshotResult describes a snapshot written.
type SnapshotResult struct {
	Header  SnapshotHeader
	Path    string
	Nodes   int64
	Bytes   int64
	Skipped bool // a snapshot of that zxid existed already
}

// write walks the tree and publishes the snapshot.
func (w *snapshotWriter) write(src TreeSource) (SnapshotResult, error) {
	w.enc = jute.NewEncoder(make([]byte, 0, flushBytes+flushBytes/4))
	src.ReadPausing(w.walk)
	if w.err == nil && !w.skip {
		w.err = w.finish()
	}
	if w.err != nil {
		w.discard()
		return w.res, w.err
	}
	return w.res, nil
}

// walk encodes the header and sessions at the snapshot's zxid, then every
// node, letting writers in after each chunk. It runs under the read lock.
func (w *snapshotWriter) walk(t *tree.Tree, pause func(func())) {
	h := SnapshotHeader{DBID: w.dbid, Zxid: t.LastZxid(), TimeMs: w.now().UnixMilli(), NodeHint: int64(t.NodeCount())}
	w.res.Header = h
	h.encode(w.enc)
	encodeSessions(w.enc, t.Sessions())
	if w.sink == nil {
		pause(func() { w.open(h.Zxid) })
	}
	if w.err != nil || w.skip {
		return
	}
	emitted := map[int64]bool{}
	i := 0
	for path, n := range t.All() {
		if !emitted[n.ACL] {
			acl := t.ACLs().Get(n.ACL)
			if acl == nil {
				w.err = fmt.Errorf("node %s refers to ACL id %d, missing from the ACL cache", path, n.ACL)
				return
			}
			encodeACLDef(w.enc, n.ACL, acl)
			emitted[n.ACL] = true
		}
		encodeNode(w.enc, path, n)
		w.res.Nodes++
		if i++; i%w.chunk == 0 || w.enc.Len() >= flushBytes {
			pause(w.flushOrAbort)
			if w.err != nil {
				return
			}
		}
	}
}

// open creates the temporary file, unless the snapshot exists already.
func (w *snapshotWriter) open(z int64) {
	final := filepath.Join(w.dir, snapshotName(z))
	if f, err := w.fs.Open(final); err == nil {
		f.Close()
		w.skip, w.res.Skipped, w.res.Path = true, true, final
		return
	}
	w.tmp = final + tmpSuffix
	w.res.Path = final
	w.f, w.err = w.fs.Create(w.tmp)
}

func (w *snapshotWriter) flushOrAbort() {
	select {
	case <-w.abort:
		w.err = errAborted
		return
	default:
	}
	w.flush()
}

func (w *snapshotWriter) flush() {
	b := w.enc.Bytes()
	if w.err != nil || len(b) == 0 {
		return
	}
	if w.sink != nil {
		w.sink.Write(b)
	} else if _, err := w.f.WriteAt(b, w.off); err != nil {
		w.err = fmt.Errorf("writing %s: %w", w.tmp, err)
		return
	}
	w.off += int64(len(b))
	w.crc = crcUpdate(w.crc, b)
	w.enc.Reset()
}

// finish writes the end record and the checksum, syncs, and publishes the
// file under its final name.
func (w *snapshotWriter) finish() error {
	encodeEnd(w.enc, w.res.Nodes)
	w.flush()
	if w.err != nil {
		return w.err
	}
	var sum [4]byte
	be.PutUint32(sum[:], w.crc)
	if w.sink != nil {
		w.sink.Write(sum[:])
		w.res.Bytes = w.off + 4
		return nil
	}
	if _, err := w.f.WriteAt(sum[:], w.off); err != nil {
		return fmt.Errorf("writing %s: %w", w.tmp, err)
	}
	w.res.Bytes = w.off + 4
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", w.tmp, err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", w.tmp, err)
	}
	w.f = nil
	if err := w.fs.Rename(w.tmp, w.res.Path); err != nil {
		return fmt.Errorf("renaming %s: %w", w.tmp, err)
	}
	w.tmp = ""
	if err := w.fs.SyncDir(w.dir); err != nil {
		return fmt.Errorf("syncing directory %s: %w", w.dir, err)
	}
	return nil
}

// discard removes what a failed snapshot left.
func (w *snapshotWriter) discard() {
	if w.f != nil {
		w.f.Close()
	}
	if w.tmp != "" {
		_ = w.fs.Remove(w.tmp)
	}
}
