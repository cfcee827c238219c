package vfs

import (
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
)

// MemFS is a strict in-memory file system for power-loss tests. For every
// file it keeps what was written and, apart, what was synced; for every
// directory the entries as seen and, apart, the entries made durable by
// SyncDir, with the unsynced changes (creates, renames, removes) in order.
//
// A simulated power loss (Crash, or CrashAfter a number of operations)
// freezes the file system: every later call fails with ErrCrashed, as if
// the process using it had died, and Image returns the disk as the machine
// would find it on reboot: synced data and entries only. With torn writes
// on, the image also keeps a random subset of the unsynced pages of each
// file (4 KiB, the unit a disk writes atomically at best), a random size
// between the synced and the written one, a random prefix of each
// directory's unsynced changes, and — when the crash falls inside a write —
// a random prefix of that write.
//
// Directories are created durably by MkdirAll; the storage code creates
// them once, before anything it must not lose.
type MemFS struct {
	mu      sync.Mutex
	dirs    map[string]*memDir
	torn    bool
	rng     *rand.Rand
	ops     int64 // mutating operations started
	crashAt int64 // crash when ops reaches it; 0 = never
	dead    bool
	image   *MemFS
	crashed chan struct{}
}

type memDir struct {
	live    map[string]*inode
	durable map[string]*inode
	pending []dirChange
}

// dirChange is one unsynced directory operation; a rename is one change of
// two entries, applied together or not at all.
type dirChange []entryChange

type entryChange struct {
	name string
	ino  *inode // nil removes the entry
}

func (c dirChange) apply(entries map[string]*inode) {
	for _, e := range c {
		if e.ino == nil {
			delete(entries, e.name)
		} else {
			entries[e.name] = e.ino
		}
	}
}

type inode struct {
	data    []byte // as written
	durable []byte // as synced
}

// PageSize is the unit of torn writes.
const PageSize = 4096

// NewMem returns an empty strict in-memory file system. With torn set, a
// crash keeps random parts of the unsynced state, chosen by seed.
func NewMem(torn bool, seed uint64) *MemFS {
	return &MemFS{
		dirs:    map[string]*memDir{},
		torn:    torn,
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		crashed: make(chan struct{}),
	}
}

// CrashAfter arms a power loss at the n-th mutating operation from now
// (n >= 1): that operation does not complete (a write may leave a prefix).
func (m *MemFS) CrashAfter(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.crashAt = m.ops + n
}

// Ops returns the number of mutating operations (create, write, sync,
// truncate, preallocate, rename, remove, sync-dir) started so far.
func (m *MemFS) Ops() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ops
}

// Crash simulates a power loss now, if none happened yet, and returns the
// disk image left by it.
func (m *MemFS) Crash() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.crashLocked()
	return m.image
}

// Crashed is closed when the power loss happens.
func (m *MemFS) Crashed() <-chan struct{} { return m.crashed }

// Image returns the disk left by the power loss, or nil before it.
func (m *MemFS) Image() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.image
}

// step accounts for a mutating operation; crash reports that this very
// operation is the one the power loss interrupts.
func (m *MemFS) step() (crash bool, err error) {
	if m.dead {
		return false, ErrCrashed
	}
	m.ops++
	return m.crashAt > 0 && m.ops >= m.crashAt, nil
}

func (m *MemFS) alive() error {
	if m.dead {
		return ErrCrashed
	}
	return nil
}

func split(name string) (dir, base string) {
	name = filepath.Clean(name)
	return filepath.Dir(name), filepath.Base(name)
}

func notExist(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

func (m *MemFS) lookup(op, name string) (*memDir, string, *inode, error) {
	dir, base := split(name)
	d := m.dirs[dir]
	if d == nil {
		return nil, "", nil, notExist(op, name)
	}
	return d, base, d.live[base], nil
}

// Create implements FS.
func (m *MemFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	crash, err := m.step()
	if err != nil {
		return nil, err
	}
	d, base, ino, err := m.lookup("create", name)
	if err != nil {
		return nil, err
	}
	if crash {
		m.crashLocked()
		return nil, ErrCrashed
	}
	if ino != nil {
		ino.data = nil // O_TRUNC: a data change, durable at the next Sync
	} else {
		ino = &inode{}
		d.live[base] = ino
		d.pending = append(d.pending, dirChange{{base, ino}})
	}
	return &memFile{fs: m, ino: ino, name: name, rw: true}, nil
}

// Open implements FS.
func (m *MemFS) Open(name string) (File, error) { return m.open(name, false) }

// OpenRW implements FS.
func (m *MemFS) OpenRW(name string) (File, error) { return m.open(name, true) }

func (m *MemFS) open(name string, rw bool) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.alive(); err != nil {
		return nil, err
	}
	_, _, ino, err := m.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if ino == nil {
		return nil, notExist("open", name)
	}
	return &memFile{fs: m, ino: ino, name: name, rw: rw}, nil
}

// Rename implements FS.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	crash, err := m.step()
	if err != nil {
		return err
	}
	d, oldBase, ino, err := m.lookup("rename", oldname)
	if err != nil {
		return err
	}
	newDir, newBase := split(newname)
	if ino == nil {
		return notExist("rename", oldname)
	}
	if m.dirs[newDir] != d {
		return &fs.PathError{Op: "rename", Path: newname, Err: fs.ErrInvalid}
	}
	if crash {
		m.crashLocked()
		return ErrCrashed
	}
	c := dirChange{{oldBase, nil}, {newBase, ino}}
	c.apply(d.live)
	d.pending = append(d.pending, c)
	return nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	crash, err := m.step()
	if err != nil {
		return err
	}
	d, base, ino, err := m.lookup("remove", name)
	if err != nil {
		return err
	}
	if ino == nil {
		return notExist("remove", name)
	}
	if crash {
		m.crashLocked()
		return ErrCrashed
	}
	c := dirChange{{base, nil}}
	c.apply(d.live)
	d.pending = append(d.pending, c)
	return nil
}

// List implements FS. Subdirectories are listed too.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.alive(); err != nil {
		return nil, err
	}
	dir = filepath.Clean(dir)
	d := m.dirs[dir]
	if d == nil {
		return nil, notExist("list", dir)
	}
	var names []string
	for name := range d.live {
		names = append(names, name)
	}
	for p := range m.dirs {
		if p != dir && filepath.Dir(p) == dir {
			names = append(names, filepath.Base(p))
		}
	}
	sort.Strings(names)
	return names, nil
}

// MkdirAll implements FS.
func (m *MemFS) MkdirAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.alive(); err != nil {
		return err
	}
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if m.dirs[d] == nil {
			m.dirs[d] = &memDir{live: map[string]*inode{}, durable: map[string]*inode{}}
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// SyncDir implements FS.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	crash, err := m.step()
	if err != nil {
		return err
	}
	d := m.dirs[filepath.Clean(dir)]
	if d == nil {
		return notExist("syncdir", dir)
	}
	if crash {
		m.crashLocked()
		return ErrCrashed
	}
	for _, c := range d.pending {
		c.apply(d.durable)
	}
	d.pending = nil
	return nil
}

// Dump returns every file's current contents, by path (for tests).
func (m *MemFS) Dump() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]byte{}
	for dir, d := range m.dirs {
		for name, ino := range d.live {
			out[filepath.Join(dir, name)] = append([]byte(nil), ino.data...)
		}
	}
	return out
}
