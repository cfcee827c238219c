package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Go never calls into the host language: slog records go into a bounded
// ring that the host drains with zkit_next_log. When the ring is full the
// oldest records are dropped and counted.

const ringCapacity = 4096

// logRecord is one record as zkit_next_log returns it.
type logRecord struct {
	TimeNS   int64          `json:"time_ns"`
	Level    int            `json:"level"`
	Msg      string         `json:"msg"`
	Ensemble int64          `json:"ensemble"`
	Member   uint64         `json:"member"`
	Attrs    map[string]any `json:"attrs,omitempty"`
}

type logRing struct {
	mu      sync.Mutex
	buf     []logRecord // circular, len == capacity once allocated
	head    int         // index of the oldest record
	n       int
	dropped uint64
	notify  chan struct{} // holds a token while records may be waiting
}

func newLogRing(capacity int) *logRing {
	return &logRing{buf: make([]logRecord, capacity), notify: make(chan struct{}, 1)}
}

// logs is the process-wide ring every ensemble's logger writes to.
var logs = newLogRing(ringCapacity)

func (r *logRing) put(rec logRecord) {
	r.mu.Lock()
	if r.n == len(r.buf) {
		r.buf[r.head] = logRecord{}
		r.head = (r.head + 1) % len(r.buf)
		r.n--
		r.dropped++
	}
	r.buf[(r.head+r.n)%len(r.buf)] = rec
	r.n++
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// take returns up to max records, waiting up to timeout for the first, and
// how many were dropped since the last take.
func (r *logRing) take(timeout time.Duration, max int) ([]logRecord, uint64) {
	var timer *time.Timer
	for {
		r.mu.Lock()
		if r.n > 0 || r.dropped > 0 {
			k := min(r.n, max)
			out := make([]logRecord, k)
			for i := range k {
				out[i] = r.buf[r.head]
				r.buf[r.head] = logRecord{}
				r.head = (r.head + 1) % len(r.buf)
			}
			r.n -= k
			dropped := r.dropped
			r.dropped = 0
			more := r.n > 0
			r.mu.Unlock()
			if more { // let another waiter (or the next call) in at once
				select {
				case r.notify <- struct{}{}:
				default:
				}
			}
			if timer != nil {
				timer.Stop()
			}
			return out, dropped
		}
		r.mu.Unlock()
		if timeout <= 0 {
			return nil, 0
		}
		if timer == nil {
			timer = time.NewTimer(timeout)
		}
		select {
		case <-r.notify:
		case <-timer.C:
			return nil, 0
		}
	}
}

// ringHandler is a slog.Handler writing to a logRing.
type ringHandler struct {
	ring     *logRing
	level    slog.Leveler
	ensemble int64
	member   uint64
	attrs    map[string]any // from WithAttrs, keys already qualified by groups
	group    string         // prefix from WithGroup, "" or "a.b."
}

func (h *ringHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *ringHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{
		TimeNS: r.Time.UnixNano(), Level: int(r.Level), Msg: r.Message,
		Ensemble: h.ensemble, Member: h.member,
	}
	if len(h.attrs) > 0 || r.NumAttrs() > 0 {
		rec.Attrs = make(map[string]any, len(h.attrs)+r.NumAttrs())
		for k, v := range h.attrs {
			rec.Attrs[k] = v
		}
		r.Attrs(func(a slog.Attr) bool {
			addAttr(rec.Attrs, h.group, a)
			return true
		})
	}
	if r.Time.IsZero() {
		rec.TimeNS = time.Now().UnixNano()
	}
	h.ring.put(rec)
	return nil
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = make(map[string]any, len(h.attrs)+len(as))
	for k, v := range h.attrs {
		c.attrs[k] = v
	}
	for _, a := range as {
		if h.group == "" && a.Key == "member" {
			if id, ok := memberID(a.Value); ok {
				c.member = id
				continue
			}
		}
		addAttr(c.attrs, h.group, a)
	}
	return &c
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

func memberID(v slog.Value) (uint64, bool) {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindUint64:
		return v.Uint64(), true
	case slog.KindInt64:
		if v.Int64() >= 0 {
			return uint64(v.Int64()), true
		}
	}
	return 0, false
}

// addAttr flattens a into m, groups joined with dots, values as JSON-friendly
// scalars.
func addAttr(m map[string]any, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			addAttr(m, p, g)
		}
		return
	}
	if a.Key == "" {
		return
	}
	m[prefix+a.Key] = scalar(v)
}

func scalar(v slog.Value) any {
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return v.Uint64()
	case slog.KindFloat64:
		if f := v.Float64(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
		return v.String()
	case slog.KindBool:
		return v.Bool()
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	}
	switch x := v.Any().(type) {
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v.Any())
}
