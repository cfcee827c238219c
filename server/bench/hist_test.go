package bench

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// exactQuantile is the nearest-rank quantile of sorted samples.
func exactQuantile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func TestBucketsCoverEveryValue(t *testing.T) {
	// Every value falls in a bucket whose range holds it, buckets are
	// ordered, and no bucket is wider than 1/128 of its lower bound.
	vals := []int64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 123456789, 1<<40 + 7, math.MaxInt64}
	for i := 0; i < 62; i++ {
		vals = append(vals, int64(1)<<i, int64(1)<<i-1, int64(1)<<i+1)
	}
	for _, v := range vals {
		if v < 0 {
			continue
		}
		i := bucketOf(v)
		if i < 0 || i >= nBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", v, i, nBuckets)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if lo >= subCount && float64(hi-lo+1) > float64(lo)/subHalf+1 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/%d of its bound", i, lo, hi, subHalf)
		}
	}
	prevHi := int64(-1)
	for i := 0; i < nBuckets; i++ {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if hi == math.MaxInt64 {
			break
		}
		prevHi = hi
	}
}

func TestQuantilesMatchSortedSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dist := range []struct {
		name string
		gen  func() int64
	}{
		{"lognormal latencies", func() int64 { return int64(math.Exp(rng.NormFloat64()*1.2 + 11)) }},
		{"uniform small", func() int64 { return rng.Int64N(300) }},
		{"bimodal", func() int64 {
			if rng.IntN(100) == 0 {
				return 50_000_000 + rng.Int64N(1_000_000)
			}
			return 100_000 + rng.Int64N(20_000)
		}},
	} {
		t.Run(dist.name, func(t *testing.T) {
			var h Histogram
			samples := make([]int64, 200_000)
			for i := range samples {
				samples[i] = dist.gen()
				h.Record(samples[i])
			}
			sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
			for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 0.9999} {
				got, want := h.Quantile(q), exactQuantile(samples, q)
				// Within half a bucket (1/256) plus rounding; the exact
				// buckets below 256 give the exact value.
				if diff := math.Abs(float64(got - want)); diff > 1 && diff/float64(want) > 1.0/subCount {
					err := diff / float64(want)
					t.Errorf("q%v = %d, exact %d (relative error %.4f)", q, got, want, err)
				}
			}
			if h.Count() != uint64(len(samples)) || h.Min() != samples[0] || h.Max() != samples[len(samples)-1] {
				t.Errorf("count/min/max = %d/%d/%d, want %d/%d/%d", h.Count(), h.Min(), h.Max(), len(samples), samples[0], samples[len(samples)-1])
			}
			if h.Quantile(0) != samples[0] || h.Quantile(1) != samples[len(samples)-1] {
				t.Errorf("q0/q1 = %d/%d, want min/max", h.Quantile(0), h.Quantile(1))
			}
			var sum float64
			for _, v := range samples {
				sum += float64(v)
			}
			if mean := sum / float64(len(samples)); math.Abs(h.Mean()-mean) > 1e-6*mean {
				t.Errorf("mean %f, want %f", h.Mean(), mean)
			}
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("an empty histogram should report zeros")
	}
	h.Record(-5) // counts as 0
	if h.Quantile(0.99) != 0 || h.Min() != 0 {
		t.Fatalf("negative value: q99 %d min %d", h.Quantile(0.99), h.Min())
	}
	var one Histogram
	one.Record(123_456_789)
	for _, q := range []float64{0, 0.5, 0.99, 1} {
		if got := one.Quantile(q); got != 123_456_789 {
			t.Errorf("single value: q%v = %d (clamped to min/max, should be exact)", q, got)
		}
	}
	// 99 fast values and one slow: p99 is fast, p99.9 the slow one.
	var h2 Histogram
	for range 99 {
		h2.Record(100)
	}
	h2.Record(1_000_000)
	if h2.Quantile(0.99) != 100 {
		t.Errorf("p99 = %d, want 100", h2.Quantile(0.99))
	}
	if got := h2.Quantile(0.999); got < 990_000 || got > 1_000_000 {
		t.Errorf("p99.9 = %d, want about 1e6", got)
	}
}

func TestMergeEqualsRecordingEverything(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var all, a, b Histogram
	for i := range 50_000 {
		v := rng.Int64N(10_000_000)
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(&Histogram{}) // merging nothing changes nothing
	if m.Count() != all.Count() || m.Min() != all.Min() || m.Max() != all.Max() || math.Abs(m.Mean()-all.Mean()) > 1e-6 {
		t.Fatalf("merged count/min/max/mean differ")
	}
	for _, q := range []float64{0.5, 0.99, 0.999} {
		if m.Quantile(q) != all.Quantile(q) {
			t.Errorf("q%v: merged %d, direct %d", q, m.Quantile(q), all.Quantile(q))
		}
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	for i := range b.N {
		h.Record(int64(i) * 7919 % 50_000_000)
	}
}
