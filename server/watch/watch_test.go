package watch

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/proto"
)

// fakeWatcher records the events it is notified of.
type fakeWatcher struct {
	id     int64
	events []string // "type path zxid"
	acls   [][]proto.ACL
}

func (w *fakeWatcher) Notify(ev proto.WatcherEvent, zxid int64, acl []proto.ACL) {
	if ev.State != proto.StateSyncConnected {
		panic("unexpected state")
	}
	w.events = append(w.events, fmt.Sprintf("%s %s %d", evName(ev.Type), ev.Path, zxid))
	w.acls = append(w.acls, acl)
}

func (w *fakeWatcher) SessionID() int64 { return w.id }

func (w *fakeWatcher) take() []string {
	e := w.events
	w.events = nil
	return e
}

func evName(t proto.EventType) string {
	switch t {
	case proto.EventNodeCreated:
		return "created"
	case proto.EventNodeDeleted:
		return "deleted"
	case proto.EventNodeDataChanged:
		return "dataChanged"
	case proto.EventNodeChildrenChanged:
		return "childrenChanged"
	}
	return fmt.Sprint(int32(t))
}

// fire triggers what one tree change triggers, as tree.Apply calls the sink.
func fire(m *Manager, change string, path string, zxid int64) {
	parent := func(p string) string { pp, _ := proto.ParentPath(p); return pp }
	switch change {
	case "create":
		m.Trigger(path, proto.EventNodeCreated, zxid, nil)
		m.Trigger(parent(path), proto.EventNodeChildrenChanged, zxid, nil)
	case "delete":
		m.Trigger(path, proto.EventNodeDeleted, zxid, nil)
		m.Trigger(parent(path), proto.EventNodeChildrenChanged, zxid, nil)
	case "set":
		m.Trigger(path, proto.EventNodeDataChanged, zxid, nil)
	default:
		panic(change)
	}
}

func TestStandardWatchesAreOneShot(t *testing.T) {
	cases := []struct {
		name   string
		add    func(m *Manager, w Watcher)
		change string
		path   string
		first  []string
	}{
		{"data watch, setData", func(m *Manager, w Watcher) { m.AddData("/a", w) }, "set", "/a", []string{"dataChanged /a 1"}},
		{"data watch, delete", func(m *Manager, w Watcher) { m.AddData("/a", w) }, "delete", "/a", []string{"deleted /a 1"}},
		{"exist watch, create", func(m *Manager, w Watcher) { m.AddData("/a", w) }, "create", "/a", []string{"created /a 1"}},
		{"child watch, child created", func(m *Manager, w Watcher) { m.AddChild("/", w) }, "create", "/a", []string{"childrenChanged / 1"}},
		{"child watch, child deleted", func(m *Manager, w Watcher) { m.AddChild("/p", w) }, "delete", "/p/c", []string{"childrenChanged /p 1"}},
		{"child watch, node deleted", func(m *Manager, w Watcher) { m.AddChild("/a", w) }, "delete", "/a", []string{"deleted /a 1"}},
		{"child watch ignores setData", func(m *Manager, w Watcher) { m.AddChild("/a", w) }, "set", "/a", nil},
		{"data watch ignores child changes", func(m *Manager, w Watcher) { m.AddData("/p", w) }, "create", "/p/c", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewManager()
			w := &fakeWatcher{id: 1}
			c.add(m, w)
			fire(m, c.change, c.path, 1)
			require.Equal(t, c.first, w.take())
			// A second change fires nothing once the watch was consumed.
			fire(m, c.change, c.path, 2)
			if c.first != nil {
				require.Empty(t, w.take())
				require.Equal(t, Summary{}, m.Summarize())
			}
		})
	}
}

// NodeDeleted fires the data and child watches of the node, once per
// watcher, and consumes both.
func TestNodeDeletedFiresDataAndChildOnce(t *testing.T) {
	m := NewManager()
	w1, w2 := &fakeWatcher{id: 1}, &fakeWatcher{id: 2}
	m.AddData("/a", w1)
	m.AddChild("/a", w1)
	m.AddChild("/a", w2)
	m.Trigger("/a", proto.EventNodeDeleted, 5, proto.ReadACLUnsafe)
	require.Equal(t, []string{"deleted /a 5"}, w1.take())
	require.Equal(t, []string{"deleted /a 5"}, w2.take())
	require.Equal(t, [][]proto.ACL{proto.ReadACLUnsafe}, w2.acls)
	require.Equal(t, Summary{}, m.Summarize())
}

func TestWatchersAreIndependent(t *testing.T) {
	m := NewManager()
	w1, w2 := &fakeWatcher{id: 1}, &fakeWatcher{id: 2}
	m.AddData("/a", w1)
	m.AddData("/a", w2)
	m.AddData("/a", w1) // twice: still one watch
	require.Equal(t, Summary{Connections: 2, Paths: 1, Watches: 2}, m.Summarize())
	fire(m, "set", "/a", 3)
	require.Equal(t, []string{"dataChanged /a 3"}, w1.take())
	require.Equal(t, []string{"dataChanged /a 3"}, w2.take())
}

func TestPersistentWatch(t *testing.T) {
	m := NewManager()
	w := &fakeWatcher{id: 1}
	m.AddPersistent("/a", w, false)
	fire(m, "create", "/a", 1)
	fire(m, "set", "/a", 2)
	fire(m, "create", "/a/c", 3)   // a child event of /a
	fire(m, "set", "/a/c", 4)      // not /a's business
	fire(m, "create", "/a/c/d", 5) // not a child of /a
	fire(m, "delete", "/a/c", 6)
	fire(m, "delete", "/a", 7)
	fire(m, "create", "/a", 8) // still there after the delete
	require.Equal(t, []string{
		"created /a 1",
		"dataChanged /a 2",
		"childrenChanged /a 3",
		"childrenChanged /a 6",
		"deleted /a 7",
		"created /a 8",
	}, w.take())
	data, child := m.WatcherPaths(w)
	require.Equal(t, map[string]Mode{"/a": Persistent}, data)
	require.Equal(t, map[string]Mode{"/a": Persistent}, child)
}

// A recursive watch sees data events of the node and every descendant, and
// no child events (DataTree.addWatch puts it in the data table only).
func TestPersistentRecursiveWatch(t *testing.T) {
	m := NewManager()
	w := &fakeWatcher{id: 1}
	m.AddPersistent("/a", w, true)
	fire(m, "create", "/a", 1)
	fire(m, "create", "/a/b", 2)
	fire(m, "create", "/a/b/c", 3)
	fire(m, "set", "/a/b/c", 4)
	fire(m, "set", "/ab", 5) // a sibling with a common prefix
	fire(m, "create", "/x", 6)
	fire(m, "delete", "/a/b/c", 7)
	fire(m, "delete", "/a/b", 8)
	fire(m, "delete", "/a", 9)
	fire(m, "create", "/a/b", 10)
	require.Equal(t, []string{
		"created /a 1",
		"created /a/b 2",
		"created /a/b/c 3",
		"dataChanged /a/b/c 4",
		"deleted /a/b/c 7",
		"deleted /a/b 8",
		"deleted /a 9",
		"created /a/b 10",
	}, w.take())
	data, child := m.WatcherPaths(w)
	require.Equal(t, map[string]Mode{"/a": PersistentRecursive}, data)
	require.Empty(t, child)
}

func TestRecursiveWatchOnRoot(t *testing.T) {
	m := NewManager()
	w := &fakeWatcher{id: 1}
	m.AddPersistent("/", w, true)
	fire(m, "create", "/x", 1)
	fire(m, "set", "/x", 2)
	fire(m, "set", "/", 3)
	require.Equal(t, []string{"created /x 1", "dataChanged /x 2", "dataChanged / 3"}, w.take())
}

// Several modes of one watcher on one path, and several watchers on the
// ancestors of a path: each watcher hears of a change once.
func TestStandardAndPersistentCoexist(t *testing.T) {
	m := NewManager()
	w := &fakeWatcher{id: 1}
	m.AddData("/a", w)
	m.AddChild("/a", w)
	m.AddPersistent("/a", w, false)
	m.AddPersistent("/a", w, true)
	m.AddPersistent("/", w, true)
	data, child := m.WatcherPaths(w)
	require.Equal(t, map[string]Mode{"/a": Standard | Persistent | PersistentRecursive, "/": PersistentRecursive}, data)
	require.Equal(t, map[string]Mode{"/a": Standard | Persistent}, child)

	fire(m, "set", "/a", 1)
	require.Equal(t, []string{"dataChanged /a 1"}, w.take())
	data, _ = m.WatcherPaths(w)
	require.Equal(t, Persistent|PersistentRecursive, data["/a"], "the one-shot data watch is consumed")

	fire(m, "delete", "/a", 2)
	require.Equal(t, []string{"deleted /a 2"}, w.take(), "a recursive watch on / sees no child event")
	data, child = m.WatcherPaths(w)
	require.Equal(t, Persistent|PersistentRecursive, data["/a"])
	require.Equal(t, map[string]Mode{"/a": Persistent}, child, "the one-shot child watch is consumed")

	fire(m, "set", "/a/b/c", 3)
	require.Equal(t, []string{"dataChanged /a/b/c 3"}, w.take())
}

func TestContainsAndRemoveByType(t *testing.T) {
	type setup func(m *Manager, w Watcher)
	data := func(m *Manager, w Watcher) { m.AddData("/a", w) }
	child := func(m *Manager, w Watcher) { m.AddChild("/a", w) }
	persistent := func(m *Manager, w Watcher) { m.AddPersistent("/a", w, false) }
	recursive := func(m *Manager, w Watcher) { m.AddPersistent("/a", w, true) }
	all := func(m *Manager, w Watcher) { data(m, w); child(m, w); persistent(m, w); recursive(m, w) }
	cases := []struct {
		name     string
		setup    setup
		typ      int32
		contains bool
		// what is left after Remove(typ)
		leftData, leftChild Mode
	}{
		{"data has Data", data, proto.WatcherData, true, 0, 0},
		{"data has Any", data, proto.WatcherAny, true, 0, 0},
		{"data lacks Children", data, proto.WatcherChildren, false, Standard, 0},
		{"data lacks Persistent", data, proto.WatcherPersistent, false, Standard, 0},
		{"child has Children", child, proto.WatcherChildren, true, 0, 0},
		{"child has Any", child, proto.WatcherAny, true, 0, 0},
		{"child lacks Data", child, proto.WatcherData, false, 0, Standard},
		{"persistent has Persistent", persistent, proto.WatcherPersistent, true, 0, 0},
		{"persistent lacks Data", persistent, proto.WatcherData, false, Persistent, Persistent},
		{"persistent lacks Children", persistent, proto.WatcherChildren, false, Persistent, Persistent},
		{"persistent lacks Recursive", persistent, proto.WatcherPersistentRecursive, false, Persistent, Persistent},
		{"persistent has Any", persistent, proto.WatcherAny, true, 0, 0},
		{"recursive has Recursive", recursive, proto.WatcherPersistentRecursive, true, 0, 0},
		{"recursive lacks Persistent", recursive, proto.WatcherPersistent, false, PersistentRecursive, 0},
		{"recursive has Any", recursive, proto.WatcherAny, true, 0, 0},
		{"all: remove Data", all, proto.WatcherData, true, Persistent | PersistentRecursive, Standard | Persistent},
		{"all: remove Children", all, proto.WatcherChildren, true, Standard | Persistent | PersistentRecursive, Persistent},
		{"all: remove Persistent", all, proto.WatcherPersistent, true, Standard | PersistentRecursive, Standard},
		{"all: remove Recursive", all, proto.WatcherPersistentRecursive, true, Standard | Persistent, Standard | Persistent},
		{"all: remove Any", all, proto.WatcherAny, true, 0, 0},
		{"unknown type", all, 9, false, Standard | Persistent | PersistentRecursive, Standard | Persistent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewManager()
			w, other := &fakeWatcher{id: 1}, &fakeWatcher{id: 2}
			c.setup(m, w)
			require.Equal(t, c.contains, m.Contains("/a", c.typ, w))
			require.False(t, m.Contains("/a", c.typ, other))
			require.False(t, m.Contains("/b", c.typ, w))
			require.False(t, m.Remove("/a", c.typ, other))
			require.Equal(t, c.contains, m.Remove("/a", c.typ, w))
			d, ch := m.WatcherPaths(w)
			require.Equal(t, c.leftData, d["/a"], "data table")
			require.Equal(t, c.leftChild, ch["/a"], "child table")
			wantRecursive := 0
			if c.leftData&PersistentRecursive != 0 {
				wantRecursive = 1
			}
			require.Equal(t, wantRecursive, m.recursive, "recursive watch count")
			// Removing again finds nothing.
			require.False(t, m.Remove("/a", c.typ, w))
		})
	}
}

// Removing the last recursive watch stops ancestor matching.
func TestRemoveRecursiveStopsAncestorEvents(t *testing.T) {
	m := NewManager()
	w := &fakeWatcher{id: 1}
	m.AddPersistent("/a", w, true)
	m.AddPersistent("/a", w, true) // once only
	require.True(t, m.Remove("/a", proto.WatcherPersistentRecursive, w))
	fire(m, "create", "/a/b", 1)
	require.Empty(t, w.take())
	require.Equal(t, 0, m.recursive)

	m.AddPersistent("/a", w, true)
	require.Equal(t, 1, m.recursive)
	m.RemoveWatcher(w)
	require.Equal(t, 0, m.recursive)
	fire(m, "create", "/a/b", 2)
	require.Empty(t, w.take())
}

func TestRemoveWatcher(t *testing.T) {
	m := NewManager()
	w1, w2 := &fakeWatcher{id: 1}, &fakeWatcher{id: 2}
	for _, w := range []*fakeWatcher{w1, w2} {
		m.AddData("/a", w)
		m.AddChild("/a", w)
		m.AddPersistent("/p", w, false)
		m.AddPersistent("/r", w, true)
	}
	m.RemoveWatcher(w1)
	d, c := m.WatcherPaths(w1)
	require.Empty(t, d)
	require.Empty(t, c)
	fire(m, "set", "/a", 1)
	fire(m, "set", "/r/x", 2)
	require.Empty(t, w1.take())
	require.Equal(t, []string{"dataChanged /a 1", "dataChanged /r/x 2"}, w2.take())
	m.RemoveWatcher(w1) // again: nothing to do
}

// TestSummaries: wchs/mntr-style counts over both tables, and the wchc and
// wchp views.
func TestSummaries(t *testing.T) {
	m := NewManager()
	w1, w2, w3 := &fakeWatcher{id: 10}, &fakeWatcher{id: 20}, &fakeWatcher{id: 10} // w3: same session, other connection
	m.AddData("/a", w1)
	m.AddChild("/a", w1)
	m.AddData("/b", w2)
	m.AddPersistent("/p", w2, false) // both tables
	m.AddPersistent("/r", w3, true)  // data table only
	// data table: w1{/a} w2{/b,/p} w3{/r}; child table: w1{/a} w2{/p}
	require.Equal(t, Summary{Connections: 3 + 2, Paths: 4 + 2, Watches: 4 + 2}, m.Summarize())
	require.Equal(t, map[int64][]string{10: {"/a", "/r"}, 20: {"/b", "/p"}}, m.BySession())
	require.Equal(t, map[string][]int64{"/a": {10}, "/b": {20}, "/p": {20}, "/r": {10}}, m.ByPath())

	empty := NewManager()
	require.Equal(t, Summary{}, empty.Summarize())
	require.Empty(t, empty.BySession())
	require.Empty(t, empty.ByPath())
}

func TestTriggerWithNoWatchers(t *testing.T) {
	m := NewManager()
	require.NotPanics(t, func() {
		fire(m, "create", "/a", 1)
		fire(m, "delete", "/", 2)
		m.Trigger("/", proto.EventNodeDataChanged, 3, nil)
	})
}
