package admin

import (
	"math"
	"runtime"
	"runtime/debug"
	"time"
)

// memory returns the Go heap in the terms of Java's Runtime: memory held
// but unused, the most it may grow to, and the heap memory held.
func memory() (free, max, total int64) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	held := int64(m.HeapSys - m.HeapReleased)
	free = int64(m.HeapIdle - m.HeapReleased)
	max = debug.SetMemoryLimit(-1)
	if max <= 0 {
		max = math.MaxInt64
	}
	return free, max, held
}

// elapsedMillis maps t onto Apache's Time.currentElapsedTime clock
// (System.nanoTime/1e6: CLOCK_MONOTONIC on Linux), on which cons's lresp
// is measured.
func elapsedMillis(t time.Time) int64 {
	return monoAnchorMs + t.Sub(monoAnchorTime).Milliseconds()
}

var (
	monoAnchorTime = time.Now()
	monoAnchorMs   = monotonicNowMs()
)
