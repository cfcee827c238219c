package storage

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"zkit/server/proto"
	"zkit/server/tree"
)

// txnGen makes transactions as the pipeline's prep would, from the live
// tree: explicit parent cversions and versions, deletes of leaves only,
// sessions with ephemerals, ACLs from a small set.
type txnGen struct {
	rng      *rand.Rand
	zxid     int64
	sessions []int64
	nextSess int64
}

var genACLs = [][]proto.ACL{
	proto.OpenACLUnsafe,
	proto.ReadACLUnsafe,
	{{Perms: proto.PermRead | proto.PermWrite, ID: proto.WorldAnyone}},
	{{Perms: proto.PermAll, ID: proto.Id{Scheme: "ip", ID: "10.0.0.1"}}, {Perms: proto.PermRead, ID: proto.WorldAnyone}},
}

func newGen(seed uint64, lastZxid int64) *txnGen {
	return &txnGen{rng: rand.New(rand.NewPCG(seed, 7)), zxid: lastZxid, nextSess: 0x100}
}

func (g *txnGen) header(typ proto.Op, session int64) proto.TxnHeader {
	g.zxid++
	return proto.TxnHeader{ClientID: session, Cxid: int32(g.zxid), Zxid: g.zxid, Time: 1_700_000_000_000 + g.zxid, Type: typ}
}

// next returns a txn valid against t (which the caller then applies).
func (g *txnGen) next(t *tree.Tree) *proto.Txn {
	paths := nodePaths(t)
	switch r := g.rng.IntN(20); {
	case r < 2 || len(g.sessions) == 0:
		g.nextSess++
		g.sessions = append(g.sessions, g.nextSess)
		return &proto.Txn{Header: g.header(proto.OpCreateSession, g.nextSess), Body: &proto.IntRecord{Value: 30000}}
	case r < 3 && len(g.sessions) > 1:
		i := g.rng.IntN(len(g.sessions))
		s := g.sessions[i]
		g.sessions = append(g.sessions[:i], g.sessions[i+1:]...)
		return &proto.Txn{Header: g.header(proto.OpCloseSession, s), Body: &proto.StringsRecord{Strings: t.Ephemerals(s)}}
	case r < 10:
		return g.create(t, paths)
	case r < 14:
		return g.setData(t, paths)
	case r < 16:
		return g.setACL(t, paths)
	case r < 17:
		return g.multi(t, paths)
	default:
		return g.delete(t, paths)
	}
}

func nodePaths(t *tree.Tree) []string {
	var out []string
	t.Each(func(p string, _ *tree.Node) { out = append(out, p) })
	sort.Strings(out)
	return out
}

func (g *txnGen) pick(paths []string) string { return paths[g.rng.IntN(len(paths))] }

func (g *txnGen) create(t *tree.Tree, paths []string) *proto.Txn {
	parent := g.pick(paths)
	pn := t.Get(parent)
	if pn.Owner != 0 || parent == "/zookeeper/config" {
		parent = "/"
		pn = t.Get("/")
	}
	path := fmt.Sprintf("%s/n%d", parent, g.rng.IntN(12))
	if parent == "/" {
		path = fmt.Sprintf("/n%d", g.rng.IntN(12))
	}
	if t.Get(path) != nil {
		return g.setData(t, paths)
	}
	s := g.sessions[g.rng.IntN(len(g.sessions))]
	c := &proto.CreateTxn{Form: proto.OpCreate, Path: path, Data: g.data(), ACL: genACLs[g.rng.IntN(len(genACLs))],
		ParentCVersion: pn.Cversion + 1, Ephemeral: g.rng.IntN(4) == 0}
	return &proto.Txn{Header: g.header(proto.OpCreate, s), Body: c}
}

func (g *txnGen) data() []byte {
	b := make([]byte, g.rng.IntN(40))
	for i := range b {
		b[i] = byte('a' + g.rng.IntN(26))
	}
	return b
}

func (g *txnGen) setData(t *tree.Tree, paths []string) *proto.Txn {
	p := g.pick(paths)
	n := t.Get(p)
	return &proto.Txn{Header: g.header(proto.OpSetData, g.sessions[0]), Body: &proto.SetDataRequest{Path: p, Data: g.data(), Version: n.Version + 1}}
}

func (g *txnGen) setACL(t *tree.Tree, paths []string) *proto.Txn {
	p := g.pick(paths)
	n := t.Get(p)
	return &proto.Txn{Header: g.header(proto.OpSetACL, g.sessions[0]), Body: &proto.SetACLRequest{Path: p, ACL: genACLs[g.rng.IntN(len(genACLs))], Version: n.Aversion + 1}}
}

func (g *txnGen) delete(t *tree.Tree, paths []string) *proto.Txn {
	for range 10 {
		p := g.pick(paths)
		if n := t.Get(p); n.NumChildren() == 0 && p != "/" && p[:min(len(p), 10)] != "/zookeeper" {
			return &proto.Txn{Header: g.header(proto.OpDelete, g.sessions[0]), Body: &proto.PathRecord{Path: p}}
		}
	}
	return g.setData(t, paths)
}

// multi is a create and a setData of the new node, or a failed multi.
func (g *txnGen) multi(t *tree.Tree, paths []string) *proto.Txn {
	path := fmt.Sprintf("/m%d", g.rng.IntN(6))
	h := g.header(proto.OpMulti, g.sessions[0])
	if t.Get(path) != nil || g.rng.IntN(3) == 0 {
		return &proto.Txn{Header: h, Body: &proto.MultiTxn{Txns: []proto.SubTxn{
			{Type: proto.OpError, Body: &proto.IntRecord{Value: int32(proto.ErrNodeExists)}},
			{Type: proto.OpError, Body: &proto.IntRecord{Value: int32(proto.ErrRuntimeInconsistency)}},
		}}}
	}
	root := t.Get("/")
	return &proto.Txn{Header: h, Body: &proto.MultiTxn{Txns: []proto.SubTxn{
		{Type: proto.OpCreate, Body: &proto.CreateTxn{Form: proto.OpCreate, Path: path, Data: []byte("m"), ACL: proto.OpenACLUnsafe, ParentCVersion: root.Cversion + 1}},
		{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: path, Data: []byte("mm"), Version: 1}},
	}}}
}
