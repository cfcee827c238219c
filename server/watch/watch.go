// Package watch keeps the watches clients leave on znodes and fires them
// when transactions change the tree, with the semantics of ZooKeeper 3.9's
// WatchManager: one-shot data, exist and child watches, persistent and
// persistent-recursive watches, several modes on one path for one watcher,
// and an event delivered at most once per watcher per change.
package watch

import (
	"sync"

	"zkit/server/proto"
)

// Mode is a set of watch modes one watcher holds on one path.
type Mode uint8

// Watch modes (WatcherMode); a watcher may hold several on the same path.
const (
	Standard            Mode = 1 << 0
	Persistent          Mode = 1 << 1
	PersistentRecursive Mode = 1 << 2
)

// Watcher receives events; connections implement it. Notify is called with
// the manager's lock held, so that an event is queued before any later read
// reply of the same client: it must only enqueue, never block on I/O. acl is
// the ACL of the znode the event is about (nil for catch-up events), for the
// READ check ZooKeeper 3.9 makes before delivering.
type Watcher interface {
	Notify(ev proto.WatcherEvent, zxid int64, acl []proto.ACL)
	SessionID() int64
}

// table maps paths to the watchers on them, and back.
type table struct {
	byPath    map[string]map[Watcher]Mode
	byWatcher map[Watcher]map[string]Mode
}

func newTable() *table {
	return &table{byPath: map[string]map[Watcher]Mode{}, byWatcher: map[Watcher]map[string]Mode{}}
}

func (t *table) add(path string, w Watcher, m Mode) {
	ws := t.byPath[path]
	if ws == nil {
		ws = map[Watcher]Mode{}
		t.byPath[path] = ws
	}
	ws[w] |= m
	ps := t.byWatcher[w]
	if ps == nil {
		ps = map[string]Mode{}
		t.byWatcher[w] = ps
	}
	ps[path] |= m
}

func (t *table) set(path string, w Watcher, m Mode) {
	if m == 0 {
		delete(t.byPath[path], w)
		if len(t.byPath[path]) == 0 {
			delete(t.byPath, path)
		}
		delete(t.byWatcher[w], path)
		if len(t.byWatcher[w]) == 0 {
			delete(t.byWatcher, w)
		}
		return
	}
	t.byPath[path][w] = m
	t.byWatcher[w][path] = m
}

func (t *table) mode(path string, w Watcher) Mode { return t.byWatcher[w][path] }

// Manager holds the data and child watch tables of one server.
type Manager struct {
	mu        sync.Mutex
	data      *table // data, exist, persistent and recursive watches
	child     *table // child and persistent watches
	recursive int    // how many recursive watches exist (skip ancestor walks when 0)
}

// NewManager returns an empty manager.
func NewManager() *Manager {
	return &Manager{data: newTable(), child: newTable()}
}

// AddData leaves a one-shot data (or exist) watch.
func (m *Manager) AddData(path string, w Watcher) {
	m.mu.Lock()
	m.data.add(path, w, Standard)
	m.mu.Unlock()
}

// AddChild leaves a one-shot child watch.
func (m *Manager) AddChild(path string, w Watcher) {
	m.mu.Lock()
	m.child.add(path, w, Standard)
	m.mu.Unlock()
}

// AddPersistent leaves a persistent watch (addWatch mode 0), or a
// persistent-recursive one (mode 1), as DataTree.addWatch does: a recursive
// watch lives only in the data table, so it never sees child events.
func (m *Manager) AddPersistent(path string, w Watcher, recursive bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if recursive {
		if m.data.mode(path, w)&PersistentRecursive == 0 {
			m.recursive++
		}
		m.data.add(path, w, PersistentRecursive)
		return
	}
	m.data.add(path, w, Persistent)
	m.child.add(path, w, Persistent)
}

// RemoveWatcher drops every watch of w (its connection closed).
func (m *Manager) RemoveWatcher(w Watcher) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range []*table{m.data, m.child} {
		for path, mode := range t.byWatcher[w] {
			if mode&PersistentRecursive != 0 {
				m.recursive--
			}
			t.set(path, w, 0)
		}
	}
}
