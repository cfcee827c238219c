package vfs

import (
	"errors"
	"os"
	"runtime"
	"syscall"
)

func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}

// datasyncHeld is datasync that keeps the calling goroutine's processor
// (P) through the call. A blocking system call made the usual way hands its
// P to another thread once the scheduler's monitor sees it blocked for
// 20 µs, and a program that keeps doing so keeps that monitor waking every
// 20 µs: for a log that syncs back to back, that is a thread handoff per
// sync and ~50k monitor wakeups a second, more CPU than the syncs. Held, the
// other processors run everything else meanwhile; with a single one, where
// that would stop the whole program for the sync, it is the usual call.
func datasyncHeld(f *os.File) error {
	if runtime.GOMAXPROCS(0) < 2 {
		return datasync(f)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			_, _, e := syscall.RawSyscall(syscall.SYS_FDATASYNC, fd, 0, 0)
			if e == syscall.EINTR {
				continue
			}
			if e != 0 {
				serr = e
			}
			return
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}

// preallocate uses fallocate, which reserves blocks and extends the size in
// one metadata change; file systems without it get a zero-extending
// truncate (a sparse file, as ZooKeeper's FilePadding makes).
func preallocate(f *os.File, off, n int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fallocate(int(fd), 0, off, n)
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if errors.Is(serr, syscall.EOPNOTSUPP) || errors.Is(serr, syscall.ENOSYS) {
		return truncateUp(f, off+n)
	}
	if serr != nil {
		return &os.PathError{Op: "fallocate", Path: f.Name(), Err: serr}
	}
	return nil
}
