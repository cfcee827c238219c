package zab

import "sort"

// window is the tail of the log kept in memory: entries after base, in
// zxid order. base is itself a point of the history (the zxid of the entry
// before the first one, or of the snapshot the log starts from), so a
// learner whose last zxid is base can be sent a DIFF.
type window struct {
	base    int64
	entries []Entry
}

func (w *window) last() int64 {
	if n := len(w.entries); n > 0 {
		return w.entries[n-1].Zxid
	}
	return w.base
}

func (w *window) append(e Entry) { w.entries = append(w.entries, e) }

// index returns the position of the entry with zxid z, -1 for base, and
// whether z is a point of the window's history.
func (w *window) index(z int64) (int, bool) {
	if z == w.base {
		return -1, true
	}
	i := sort.Search(len(w.entries), func(i int) bool { return w.entries[i].Zxid >= z })
	if i < len(w.entries) && w.entries[i].Zxid == z {
		return i, true
	}
	return i, false
}

// covers reports whether z is at or after base (so entries after it are
// all here).
func (w *window) covers(z int64) bool { return z >= w.base }

// after returns the entries with zxid > z.
func (w *window) after(z int64) []Entry {
	i := sort.Search(len(w.entries), func(i int) bool { return w.entries[i].Zxid > z })
	return w.entries[i:]
}

// between returns the entries with from < zxid <= to.
func (w *window) between(from, to int64) []Entry {
	es := w.after(from)
	j := sort.Search(len(es), func(i int) bool { return es[i].Zxid > to })
	return es[:j]
}

// prev returns the latest history point before z: an entry's zxid, or base.
func (w *window) prev(z int64) int64 {
	i := sort.Search(len(w.entries), func(i int) bool { return w.entries[i].Zxid >= z })
	if i == 0 {
		return w.base
	}
	return w.entries[i-1].Zxid
}

// truncate drops entries after z.
func (w *window) truncate(z int64) {
	if z < w.base {
		w.base, w.entries = z, nil
		return
	}
	i := sort.Search(len(w.entries), func(i int) bool { return w.entries[i].Zxid > z })
	clear(w.entries[i:])
	w.entries = w.entries[:i]
}

// reset empties the window at a new base (a snapshot was installed).
func (w *window) reset(base int64) { w.base, w.entries = base, nil }

// trim keeps max entries, never dropping one after keep. It lets the
// window grow by an eighth over max before it drops down to max, so that
// moving the entries down happens once per max/8 entries, not per call.
func (w *window) trim(keep int64, max int) {
	if len(w.entries) <= max+max/8 {
		return
	}
	drop := len(w.entries) - max
	i := sort.Search(len(w.entries), func(i int) bool { return w.entries[i].Zxid > keep })
	if drop > i {
		drop = i
	}
	if drop <= 0 {
		return
	}
	w.base = w.entries[drop-1].Zxid
	n := copy(w.entries, w.entries[drop:])
	clear(w.entries[n:])
	w.entries = w.entries[:n]
}
