package vfs

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// Op names a kind of file-system operation, for error injection.
type Op int

// Operations an Injector may fail.
const (
	OpCreate Op = iota
	OpOpen
	OpRead
	OpWrite
	OpSync
	OpTruncate
	OpPreallocate
	OpRename
	OpRemove
	OpList
	OpMkdir
	OpSyncDir
	numOps
)

var opNames = [...]string{"create", "open", "read", "write", "sync", "truncate", "preallocate", "rename", "remove", "list", "mkdir", "syncdir"}

func (o Op) String() string {
	if o >= 0 && o < numOps {
		return opNames[o]
	}
	return "op?"
}

// ErrInjected is the error an Injector returns.
var ErrInjected = errors.New("vfs: injected error")

// An Injector decides whether an operation fails; nil means it goes ahead.
type Injector interface {
	MaybeFail(op Op, name string) error
}

// InjectorFunc adapts a function to Injector.
type InjectorFunc func(op Op, name string) error

// MaybeFail implements Injector.
func (f InjectorFunc) MaybeFail(op Op, name string) error { return f(op, name) }

// FailNth fails the n-th operation of kind op (counting from 1) and, with
// sticky set, every one after it, as a disk that went bad would.
func FailNth(op Op, n int64, sticky bool) Injector {
	var count atomic.Int64
	return InjectorFunc(func(o Op, _ string) error {
		if o != op {
			return nil
		}
		c := count.Add(1)
		if c == n || (sticky && c > n) {
			return ErrInjected
		}
		return nil
	})
}

// FailRandomly fails each operation whose kind is in ops with probability p.
func FailRandomly(p float64, seed uint64, ops ...Op) Injector {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed+1))
	return InjectorFunc(func(o Op, _ string) error {
		for _, want := range ops {
			if o == want {
				mu.Lock()
				fail := rng.Float64() < p
				mu.Unlock()
				if fail {
					return ErrInjected
				}
			}
		}
		return nil
	})
}

// Inject wraps fs so that every operation first asks inj.
func Inject(fs FS, inj Injector) FS { return &injectFS{fs: fs, inj: inj} }

type injectFS struct {
	fs  FS
	inj Injector
}

func (i *injectFS) Create(name string) (File, error) {
	if err := i.inj.MaybeFail(OpCreate, name); err != nil {
		return nil, err
	}
	f, err := i.fs.Create(name)
	if err != nil {
		return nil, err
	}
	return &injectFile{File: f, inj: i.inj}, nil
}

func (i *injectFS) Open(name string) (File, error) {
	if err := i.inj.MaybeFail(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := i.fs.Open(name)
	if err != nil {
		return nil, err
	}
	return &injectFile{File: f, inj: i.inj}, nil
}

func (i *injectFS) OpenRW(name string) (File, error) {
	if err := i.inj.MaybeFail(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := i.fs.OpenRW(name)
	if err != nil {
		return nil, err
	}
	return &injectFile{File: f, inj: i.inj}, nil
}

func (i *injectFS) Rename(oldname, newname string) error {
	if err := i.inj.MaybeFail(OpRename, oldname); err != nil {
		return err
	}
	return i.fs.Rename(oldname, newname)
}

func (i *injectFS) Remove(name string) error {
	if err := i.inj.MaybeFail(OpRemove, name); err != nil {
		return err
	}
	return i.fs.Remove(name)
}

func (i *injectFS) List(dir string) ([]string, error) {
	if err := i.inj.MaybeFail(OpList, dir); err != nil {
		return nil, err
	}
	return i.fs.List(dir)
}

func (i *injectFS) MkdirAll(dir string) error {
	if err := i.inj.MaybeFail(OpMkdir, dir); err != nil {
		return err
	}
	return i.fs.MkdirAll(dir)
}

func (i *injectFS) SyncDir(dir string) error {
	if err := i.inj.MaybeFail(OpSyncDir, dir); err != nil {
		return err
	}
	return i.fs.SyncDir(dir)
}

type injectFile struct {
	File
	inj Injector
}

func (f *injectFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.inj.MaybeFail(OpRead, f.Name()); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *injectFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.inj.MaybeFail(OpWrite, f.Name()); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *injectFile) Sync() error {
	if err := f.inj.MaybeFail(OpSync, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *injectFile) syncHeld() error {
	if err := f.inj.MaybeFail(OpSync, f.Name()); err != nil {
		return err
	}
	return SyncHeld(f.File)
}

func (f *injectFile) Truncate(size int64) error {
	if err := f.inj.MaybeFail(OpTruncate, f.Name()); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *injectFile) Preallocate(off, n int64) error {
	if err := f.inj.MaybeFail(OpPreallocate, f.Name()); err != nil {
		return err
	}
	return f.File.Preallocate(off, n)
}
