package storage

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram counts values in power-of-two buckets: bucket i holds values v
// with bits.Len64(v) == i (bucket 0 holds zeros).
type Histogram struct {
	buckets [65]atomic.Int64
}

// Observe adds a value (negative values count as zero).
func (h *Histogram) Observe(v int64) {
	if v < 0 {
		v = 0
	}
	h.buckets[bits.Len64(uint64(v))].Add(1)
}

// Buckets returns, for each non-empty bucket, its upper bound (exclusive)
// and its count.
func (h *Histogram) Buckets() (bounds []int64, counts []int64) {
	for i := range h.buckets {
		if c := h.buckets[i].Load(); c > 0 {
			bound := int64(1) << i
			if i == 64 {
				bound = 1<<63 - 1
			}
			bounds = append(bounds, bound)
			counts = append(counts, c)
		}
	}
	return bounds, counts
}

// Stats counts what the log and the snapshotter did, for mntr and metrics.
type Stats struct {
	Fsyncs         atomic.Int64 // log fsyncs (fdatasync of batches)
	FsyncNanos     atomic.Int64 // their total duration
	LastFsyncNanos atomic.Int64
	MaxFsyncNanos  atomic.Int64
	FsyncMicros    Histogram // fsync durations in µs
	Batches        atomic.Int64
	Txns           atomic.Int64
	BytesWritten   atomic.Int64
	BatchTxns      Histogram    // txns per batch
	Segments       atomic.Int64 // segments started
	Snapshots      atomic.Int64 // snapshots written
	SnapshotErrors atomic.Int64
	LastSnapNanos  atomic.Int64 // duration of the last snapshot
}

func (s *Stats) fsync(d time.Duration) {
	n := d.Nanoseconds()
	s.Fsyncs.Add(1)
	s.FsyncNanos.Add(n)
	s.LastFsyncNanos.Store(n)
	for {
		m := s.MaxFsyncNanos.Load()
		if n <= m || s.MaxFsyncNanos.CompareAndSwap(m, n) {
			break
		}
	}
	s.FsyncMicros.Observe(n / 1000)
}

func (s *Stats) batch(txns int, bytes int) {
	s.Batches.Add(1)
	s.Txns.Add(int64(txns))
	s.BytesWritten.Add(int64(bytes))
	s.BatchTxns.Observe(int64(txns))
}

// AvgFsync returns the mean fsync duration.
func (s *Stats) AvgFsync() time.Duration {
	n := s.Fsyncs.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(s.FsyncNanos.Load() / n)
}

// TxnsPerBatch returns the mean number of txns per batch (group commit).
func (s *Stats) TxnsPerBatch() float64 {
	b := s.Batches.Load()
	if b == 0 {
		return 0
	}
	return float64(s.Txns.Load()) / float64(b)
}
