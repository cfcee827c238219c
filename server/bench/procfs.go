package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of the utime and stime fields of /proc/<pid>/stat
// (USER_HZ, sysconf(_SC_CLK_TCK)). The kernel exports 100 on every
// architecture Linux supports for user space, whatever its internal HZ, so it
// is a constant here rather than a cgo call.
const userHZ = 100

// ProcCPU returns the CPU time (utime + stime, every thread of the process,
// living and exited) that process pid has used so far.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	ticks, err := parseStatCPU(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// parseStatCPU returns utime+stime, in clock ticks, from the contents of
// /proc/<pid>/stat. The second field, the command name in parentheses, may
// itself hold spaces and parentheses, so fields are counted from the last
// ')'. utime and stime are fields 14 and 15 of the line (proc(5)).
func parseStatCPU(b []byte) (int64, error) {
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, fmt.Errorf("no command name")
	}
	f := bytes.Fields(b[end+1:])
	// f[0] is field 3 (state), so field k is f[k-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	utime, err := strconv.ParseInt(string(f[11]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime: %w", err)
	}
	stime, err := strconv.ParseInt(string(f[12]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime: %w", err)
	}
	return utime + stime, nil
}

// ProcMem is a process's resident memory, from /proc/<pid>/status.
type ProcMem struct {
	RSS int64 // VmRSS, bytes: resident now
	HWM int64 // VmHWM, bytes: the peak resident size
}

// ReadProcMem returns the resident set size of process pid.
func ReadProcMem(pid int) (ProcMem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcMem{}, err
	}
	m, err := parseStatusMem(b)
	if err != nil {
		return ProcMem{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return m, nil
}

// parseStatusMem reads the VmRSS and VmHWM lines ("VmRSS:	  12345 kB") of
// /proc/<pid>/status. VmRSS is required; a kernel thread or zombie has none.
func parseStatusMem(b []byte) (ProcMem, error) {
	var m ProcMem
	found := false
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		key, val, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "VmRSS":
			dst = &m.RSS
			found = true
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		f := bytes.Fields(val)
		if len(f) != 2 || string(f[1]) != "kB" {
			return ProcMem{}, fmt.Errorf("%s: unexpected value %q", key, val)
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return ProcMem{}, fmt.Errorf("%s: %w", key, err)
		}
		*dst = kb << 10
	}
	if !found {
		return ProcMem{}, fmt.Errorf("no VmRSS line")
	}
	return m, nil
}

// Usage is the summed CPU time and resident memory of a set of processes at
// one instant.
type Usage struct {
	CPU time.Duration
	RSS int64 // bytes, summed over the processes
	// PerPID holds each process's RSS, and PerPIDCPU its CPU time, for
	// per-member reports.
	PerPID    map[int]int64
	PerPIDCPU map[int]time.Duration
}

// SampleProcs reads the CPU time and RSS of every pid.
func SampleProcs(pids []int) (Usage, error) {
	u := Usage{PerPID: make(map[int]int64, len(pids)), PerPIDCPU: make(map[int]time.Duration, len(pids))}
	for _, pid := range pids {
		cpu, err := ProcCPU(pid)
		if err != nil {
			return Usage{}, err
		}
		m, err := ReadProcMem(pid)
		if err != nil {
			return Usage{}, err
		}
		u.CPU += cpu
		u.RSS += m.RSS
		u.PerPID[pid] = m.RSS
		u.PerPIDCPU[pid] = cpu
	}
	return u, nil
}
