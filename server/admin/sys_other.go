//go:build !linux

package admin

func osVersion() string { return "" }

func openFDs() int64 { return -1 }

func maxFDs() int64 { return -1 }

// monotonicNowMs: without CLOCK_MONOTONIC at hand the elapsed-time clock
// starts with the process.
func monotonicNowMs() int64 { return 0 }
