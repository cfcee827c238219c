package admin

import (
	"os"
	"strings"
	"syscall"
	"unsafe"
)

// osVersion is the kernel release (Java's os.version).
func osVersion() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// openFDs counts the process's open file descriptors, -1 if unknown
// (UnixOperatingSystemMXBean.getOpenFileDescriptorCount).
func openFDs() int64 {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return int64(len(ents))
}

// maxFDs is the process's limit on open files (RLIMIT_NOFILE), -1 if
// unknown.
func maxFDs() int64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return -1
	}
	return int64(rl.Cur)
}

// monotonicNowMs reads CLOCK_MONOTONIC in ms.
func monotonicNowMs() int64 {
	const clockMonotonic = 1
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return ts.Nano() / 1e6
}
