package vfs

import (
	"io"
	"io/fs"
)

// memFile is an open file of a MemFS.
type memFile struct {
	fs     *MemFS
	ino    *inode
	name   string
	rw     bool
	closed bool
}

func (f *memFile) Name() string { return f.name }

func (f *memFile) check(write bool) error {
	if err := f.fs.alive(); err != nil {
		return err
	}
	if f.closed {
		return fs.ErrClosed
	}
	if write && !f.rw {
		return &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check(false); err != nil {
		return 0, err
	}
	if off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check(true); err != nil {
		return 0, err
	}
	crash, err := f.fs.step()
	if err != nil {
		return 0, err
	}
	if crash {
		// The power fails in the middle of the write: a prefix may be in
		// the page cache, never synced.
		n := 0
		if f.fs.torn {
			n = f.fs.rng.IntN(len(p) + 1)
		}
		f.write(p[:n], off)
		f.fs.crashLocked()
		return 0, ErrCrashed
	}
	f.write(p, off)
	return len(p), nil
}

func (f *memFile) write(p []byte, off int64) {
	end := off + int64(len(p))
	if end > int64(len(f.ino.data)) {
		f.ino.data = grow(f.ino.data, end)
	}
	copy(f.ino.data[off:], p)
}

func grow(b []byte, size int64) []byte {
	if size <= int64(cap(b)) {
		old := len(b)
		b = b[:size]
		clear(b[old:])
		return b
	}
	nb := make([]byte, size, size+size/4)
	copy(nb, b)
	return nb
}

func (f *memFile) Sync() error { return f.mutate(func() { f.ino.durable = clone(f.ino.data) }) }

func (f *memFile) Truncate(size int64) error {
	return f.mutate(func() {
		if size <= int64(len(f.ino.data)) {
			f.ino.data = f.ino.data[:size:size]
		} else {
			f.ino.data = grow(f.ino.data, size)
		}
	})
}

func (f *memFile) Preallocate(off, n int64) error {
	return f.mutate(func() {
		if end := off + n; end > int64(len(f.ino.data)) {
			f.ino.data = grow(f.ino.data, end)
		}
	})
}

func (f *memFile) mutate(fn func()) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check(true); err != nil {
		return err
	}
	crash, err := f.fs.step()
	if err != nil {
		return err
	}
	if crash {
		f.fs.crashLocked()
		return ErrCrashed
	}
	fn()
	return nil
}

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check(false); err != nil {
		return 0, err
	}
	return int64(len(f.ino.data)), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return fs.ErrClosed
	}
	f.closed = true
	return nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
