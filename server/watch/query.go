package watch

import (
	"sort"

	"zkit/server/proto"
)

// Contains reports whether w holds a watch of the given WatcherType on path
// (checkWatches, DataTree.containsWatcher in 3.9).
func (m *Manager) Contains(path string, typ int32, w Watcher) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch typ {
	case proto.WatcherChildren:
		return m.child.mode(path, w)&Standard != 0
	case proto.WatcherData:
		return m.data.mode(path, w)&Standard != 0
	case proto.WatcherPersistent:
		return m.data.mode(path, w)&Persistent != 0
	case proto.WatcherPersistentRecursive:
		return m.data.mode(path, w)&PersistentRecursive != 0
	case proto.WatcherAny:
		return m.child.mode(path, w) != 0 || m.data.mode(path, w) != 0
	}
	return false
}

// Remove drops w's watches of the given WatcherType on path and reports
// whether any was held (removeWatches, DataTree.removeWatch in 3.9).
func (m *Manager) Remove(path string, typ int32, w Watcher) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch typ {
	case proto.WatcherChildren:
		return m.clear(m.child, path, w, Standard)
	case proto.WatcherData:
		return m.clear(m.data, path, w, Standard)
	case proto.WatcherPersistent:
		c := m.clear(m.child, path, w, Persistent)
		d := m.clear(m.data, path, w, Persistent)
		return c || d
	case proto.WatcherPersistentRecursive:
		return m.clear(m.data, path, w, PersistentRecursive)
	case proto.WatcherAny:
		all := Standard | Persistent | PersistentRecursive
		c := m.clear(m.child, path, w, all)
		d := m.clear(m.data, path, w, all)
		return c || d
	}
	return false
}

func (m *Manager) clear(t *table, path string, w Watcher, modes Mode) bool {
	old := t.mode(path, w)
	if old&modes == 0 {
		return false
	}
	if old&modes&PersistentRecursive != 0 {
		m.recursive--
	}
	t.set(path, w, old&^modes)
	return true
}

// Summary counts watchers, watched paths and watches (wchs).
type Summary struct {
	Connections, Paths, Watches int
}

// Summarize returns the counts ZooKeeper reports in wchs and mntr: the union
// of both tables, as IWatchManager.getWatchesSummary adds them up.
func (m *Manager) Summarize() Summary {
	m.mu.Lock()
	defer m.mu.Unlock()
	var s Summary
	for _, t := range []*table{m.data, m.child} {
		s.Connections += len(t.byWatcher)
		s.Paths += len(t.byPath)
		for _, ps := range t.byWatcher {
			s.Watches += len(ps)
		}
	}
	return s
}

// BySession returns, for each session with watches, its watched paths
// (wchc), sorted.
func (m *Manager) BySession() map[int64][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	sets := map[int64]map[string]bool{}
	for _, t := range []*table{m.data, m.child} {
		for w, ps := range t.byWatcher {
			id := w.SessionID()
			if sets[id] == nil {
				sets[id] = map[string]bool{}
			}
			for p := range ps {
				sets[id][p] = true
			}
		}
	}
	out := map[int64][]string{}
	for id, set := range sets {
		out[id] = sortedKeys(set)
	}
	return out
}

// ByPath returns, for each watched path, the sessions watching it (wchp).
func (m *Manager) ByPath() map[string][]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	sets := map[string]map[int64]bool{}
	for _, t := range []*table{m.data, m.child} {
		for p, ws := range t.byPath {
			if sets[p] == nil {
				sets[p] = map[int64]bool{}
			}
			for w := range ws {
				sets[p][w.SessionID()] = true
			}
		}
	}
	out := map[string][]int64{}
	for p, set := range sets {
		ids := make([]int64, 0, len(set))
		for id := range set {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		out[p] = ids
	}
	return out
}

// WatcherPaths returns the paths w watches in each table (setWatches
// bookkeeping and tests).
func (m *Manager) WatcherPaths(w Watcher) (data, child map[string]Mode) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, child = map[string]Mode{}, map[string]Mode{}
	for p, mode := range m.data.byWatcher[w] {
		data[p] = mode
	}
	for p, mode := range m.child.byWatcher[w] {
		child[p] = mode
	}
	return data, child
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
