//go:build !linux

package vfs

import (
	"os"
)

func datasync(f *os.File) error { return f.Sync() }

func datasyncHeld(f *os.File) error { return f.Sync() }

func preallocate(f *os.File, off, n int64) error { return truncateUp(f, off+n) }
