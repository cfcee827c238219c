package quorum

import (
	"errors"
	"sort"
	"sync"

	"zkit/server/db"
	"zkit/server/jute"
	"zkit/server/proto"
	"zkit/server/tree"
	"zkit/server/zab"
)

// memBackend keeps a member's durable state in memory, for driver tests:
// appends are durable at once, a snapshot is the tree's transactions
// replayed (enough for these tests), truncation cuts the list.
type memBackend struct {
	mu                sync.Mutex
	accepted, current uint32
	base              int64
	baseTree          []zab.Entry // every entry up to base, for Rebuild
	log               []zab.Entry
	dynamic           []byte
}

func (m *memBackend) DynamicConfig() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dynamic
}

func (m *memBackend) SaveDynamicConfig(b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dynamic = append([]byte(nil), b...)
	return nil
}

func (m *memBackend) Epochs() (uint32, uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.accepted, m.current
}

func (m *memBackend) SaveEpochs(a, c uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accepted, m.current = a, c
	return nil
}

func (m *memBackend) Append(es []zab.Entry, done func(int64)) {
	m.mu.Lock()
	for _, e := range es {
		m.log = append(m.log, zab.Entry{Zxid: e.Zxid, Data: e.Data})
	}
	last := es[len(es)-1].Zxid
	m.mu.Unlock()
	go done(last)
}

func (m *memBackend) Truncate(z int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := sort.Search(len(m.log), func(i int) bool { return m.log[i].Zxid > z })
	m.log = m.log[:i]
	return nil
}

func (m *memBackend) InstallSnapshot(z int64, t *tree.Tree) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.base, m.log = z, nil
	return nil
}

func (m *memBackend) Tail(max int) (int64, []zab.Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.log
	base := m.base
	if len(es) > max {
		base = es[len(es)-max-1].Zxid
		es = es[len(es)-max:]
	}
	return base, append([]zab.Entry(nil), es...)
}

func (m *memBackend) Rebuild(z int64) (*tree.Tree, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.base > 0 {
		return nil, errors.New("memBackend cannot rebuild past a snapshot")
	}
	t := tree.New()
	for _, e := range m.log {
		if e.Zxid > z {
			break
		}
		txn, err := entryTxn(&e)
		if err != nil {
			return nil, err
		}
		t.Apply(txn)
	}
	return t, nil
}

// EncodeSnapshot writes the tree's nodes and sessions (a test format).
func (m *memBackend) EncodeSnapshot(d *db.DB) ([]byte, int64, error) {
	e := jute.NewEncoder(nil)
	d.Read(func(t *tree.Tree) {
		e.Long(t.LastZxid())
		e.Int(int32(len(t.Sessions())))
		for id, to := range t.Sessions() {
			e.Long(id)
			e.Int(to)
		}
		e.Int(int32(t.NodeCount()))
		t.Each(func(path string, n *tree.Node) {
			e.String(path)
			e.Buffer(n.Data)
			for _, v := range []int64{n.Czxid, n.Mzxid, n.Pzxid, n.Ctime, n.Mtime, int64(n.Version), int64(n.Cversion), int64(n.Aversion), n.Owner} {
				e.Long(v)
			}
			proto.EncodeACLs(e, t.ACLOf(n))
		})
	})
	return e.Bytes(), d.LastZxid(), nil
}

func (m *memBackend) DecodeSnapshot(b []byte) (*tree.Tree, error) {
	d := jute.NewDecoder(b)
	last := d.Long()
	l := tree.NewLoader(true, 16)
	for i, n := 0, int(d.Int()); i < n; i++ {
		l.Session(d.Long(), d.Int())
	}
	aclIDs := map[string]int64{}
	for i, n := 0, int(d.Int()); i < n && d.Err() == nil; i++ {
		path := d.String()
		node := tree.Node{Data: d.BufferCopy()}
		vals := make([]int64, 9)
		for j := range vals {
			vals[j] = d.Long()
		}
		node.Czxid, node.Mzxid, node.Pzxid, node.Ctime, node.Mtime = vals[0], vals[1], vals[2], vals[3], vals[4]
		node.Version, node.Cversion, node.Aversion, node.Owner = int32(vals[5]), int32(vals[6]), int32(vals[7]), vals[8]
		acl := proto.DecodeACLs(d)
		key := string(aclKeyBytes(acl))
		id, ok := aclIDs[key]
		if !ok {
			id = int64(len(aclIDs) + 1)
			aclIDs[key] = id
			l.ACL(id, acl)
		}
		node.ACL = id
		l.Node(path, node, 0)
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	t, _, err := l.Finish(last)
	return t, err
}

func aclKeyBytes(acl []proto.ACL) []byte {
	e := jute.NewEncoder(nil)
	proto.EncodeACLs(e, acl)
	return e.Bytes()
}
