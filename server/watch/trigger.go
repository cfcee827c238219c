package watch

import "zkit/server/proto"

// Trigger fires the watches a change fires, as DataTree does through its
// two WatchManagers: NodeCreated and NodeDataChanged fire data watches of
// path; NodeDeleted fires data and child watches of path; all three also
// fire recursive watches of every ancestor. NodeChildrenChanged fires child
// watches of path only. One-shot watches are consumed; each watcher gets
// the event once.
func (m *Manager) Trigger(path string, ev proto.EventType, zxid int64, acl []proto.ACL) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var hit []Watcher
	seen := map[Watcher]bool{}
	collect := func(w Watcher) {
		if !seen[w] {
			seen[w] = true
			hit = append(hit, w)
		}
	}
	switch ev {
	case proto.EventNodeChildrenChanged:
		m.fireAt(m.child, path, collect)
	case proto.EventNodeDeleted:
		m.fireAt(m.data, path, collect)
		m.fireAncestors(path, collect)
		m.fireAt(m.child, path, collect)
	default:
		m.fireAt(m.data, path, collect)
		m.fireAncestors(path, collect)
	}
	event := proto.WatcherEvent{Type: ev, State: proto.StateSyncConnected, Path: path}
	for _, w := range hit {
		w.Notify(event, zxid, acl)
	}
}

// fireAt collects every watcher on path in t, consuming one-shot modes.
func (m *Manager) fireAt(t *table, path string, collect func(Watcher)) {
	for w, mode := range t.byPath[path] {
		collect(w)
		if mode&Standard != 0 {
			t.set(path, w, mode&^Standard)
		}
	}
}

// fireAncestors collects the recursive watchers of every proper ancestor.
func (m *Manager) fireAncestors(path string, collect func(Watcher)) {
	if m.recursive == 0 || path == "/" {
		return
	}
	for p := path; p != "/"; {
		p, _ = proto.ParentPath(p)
		for w, mode := range m.data.byPath[p] {
			if mode&PersistentRecursive != 0 {
				collect(w)
			}
		}
	}
}
