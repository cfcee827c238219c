// Package vfs is the file-system seam of zkit's storage: every byte the txn
// log and the snapshots read or write goes through FS, so that tests can run
// the real storage code on a strict in-memory file system that forgets what
// was not synced when a power loss is simulated (MemFS), or on one that fails
// chosen operations (Inject). The idea is cockroachdb/pebble's vfs package.
//
// The interface is the small set of calls a write-ahead log needs, with the
// durability contract spelled out: data written to a file is durable only
// after File.Sync returns; a directory entry (a create, rename or remove) is
// durable only after SyncDir of its directory returns.
package vfs

import (
	"errors"
	"io"
)

// File is an open file. Offsets are explicit: the log appends with WriteAt
// at its own end offset, so no call depends on a shared file position.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Sync makes the file's data and size durable (fdatasync: the metadata
	// needed to read the data back is included, timestamps are not).
	Sync() error
	// Truncate sets the size, cutting or zero-extending the data.
	Truncate(size int64) error
	// Preallocate reserves [off, off+n), extending the size with zeros if
	// needed, so later writes inside it change no metadata.
	Preallocate(off, n int64) error
	// Size returns the current size.
	Size() (int64, error)
	// Name returns the name the file was opened with.
	Name() string
}

// FS is a file system.
type FS interface {
	// Create creates a file, or truncates an existing one, for reading and
	// writing.
	Create(name string) (File, error)
	// Open opens an existing file read-only.
	Open(name string) (File, error)
	// OpenRW opens an existing file for reading and writing.
	OpenRW(name string) (File, error)
	// Rename renames a file, replacing newname if it exists. Both names
	// are in the same directory.
	Rename(oldname, newname string) error
	// Remove removes a file.
	Remove(name string) error
	// List returns the names of the entries of a directory, sorted.
	List(dir string) ([]string, error)
	// MkdirAll creates a directory and its parents, durably.
	MkdirAll(dir string) error
	// SyncDir makes the directory's entries durable (fsync of the
	// directory).
	SyncDir(dir string) error
}

// SyncHeld is f.Sync for the syncs of a hot path that syncs back to back
// (the txn log's group commit): where the file system allows, the calling
// thread keeps its Go scheduler processor through the sync instead of
// handing it off, which costs the program far less CPU per sync (see
// datasyncHeld). The durability contract is Sync's.
func SyncHeld(f File) error {
	if h, ok := f.(interface{ syncHeld() error }); ok {
		return h.syncHeld()
	}
	return f.Sync()
}

// ErrCrashed is returned by every operation of a MemFS after its simulated
// power loss: the process that was using it is, in effect, dead.
var ErrCrashed = errors.New("vfs: file system crashed (simulated power loss)")

// ReadAll reads a whole file.
func ReadAll(fs FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	n, err := f.ReadAt(buf, 0)
	if err == io.EOF && int64(n) == size {
		err = nil
	}
	return buf[:n], err
}

// FileSize returns the size of a file.
func FileSize(fs FS, name string) (int64, error) {
	f, err := fs.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Size()
}
