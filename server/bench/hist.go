package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records latencies in log-linear buckets, as HdrHistogram does:
// values below 256 ns have a bucket each, and every power-of-two range above
// that is split into 128 equal buckets, so a bucket is never wider than 1/128
// of its lower bound. A quantile is reported as the middle of its bucket
// (clamped to the smallest and largest value seen), which is within 0.4% of
// the exact sample quantile. Recording is a few instructions and never
// allocates after the first value; one Histogram per connection, merged at the
// end, needs no locks. The zero value is ready to use.
type Histogram struct {
	counts   []uint64
	n        uint64
	sum      float64 // for the mean; float so that hours of ns do not overflow
	min, max int64
}

const (
	subBits  = 8
	subCount = 1 << subBits // values below this have exact buckets
	subHalf  = subCount / 2 // buckets per power of two above
	maxShift = 64 - subBits // largest shift a positive int64 needs
	nBuckets = subCount + maxShift*subHalf
)

// bucketOf returns the index of v's bucket (v >= 0).
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	u := uint64(v)
	shift := bits.Len64(u) - subBits // >= 1
	m := u >> uint(shift)            // in [subHalf, subCount)
	return subCount + (shift-1)*subHalf + int(m-subHalf)
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	j := i - subCount
	shift := uint(j/subHalf + 1)
	m := uint64(subHalf + j%subHalf)
	lo64 := m << shift
	hi64 := (m+1)<<shift - 1
	if hi64 > math.MaxInt64 {
		hi64 = math.MaxInt64
	}
	return int64(lo64), int64(hi64)
}

// Record adds one value; negative values count as zero.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	if h.counts == nil {
		h.counts = make([]uint64, nBuckets)
	}
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// RecordDuration adds a duration in nanoseconds.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Merge adds every value of o.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, nBuckets)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Min is the smallest value recorded (0 when empty).
func (h *Histogram) Min() int64 { return h.min }

// Max is the largest value recorded (0 when empty).
func (h *Histogram) Max() int64 { return h.max }

// Mean is the average value (0 when empty).
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the value below or at which a fraction q of the values
// lie (the nearest-rank definition: the ceil(q*n)-th smallest value), to
// within the bucket precision. Quantile(0) is Min and Quantile(1) is Max; an
// empty histogram gives 0.
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	if q <= 0 {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := lo + (hi-lo)/2
			if v < h.min {
				v = h.min
			}
			if v > h.max {
				v = h.max
			}
			return v
		}
	}
	return h.max
}
