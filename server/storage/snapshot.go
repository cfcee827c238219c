package storage

import (
	"fmt"

	"zkit/server/jute"
	"zkit/server/proto"
	"zkit/server/tree"
)

// Snapshot layout.
const (
	snapshotMagic      = 0x5a4b534e // "ZKSN"
	snapshotVersion    = 1
	snapshotHeaderSize = 40
	snapshotTrailer    = 4 // the CRC

	// Record tags, written as 4-byte ints like every jute field.
	tagACL  = 'A'
	tagNode = 'N'
	tagEnd  = 'E'
)

// SnapshotHeader is what a snapshot says about itself.
type SnapshotHeader struct {
	DBID     uint64
	Zxid     int64 // the snapshot is consistent from this zxid: replay the log after it
	TimeMs   int64 // when it was started
	NodeHint int64 // nodes in the tree when it was started
}

func (h *SnapshotHeader) encode(e *jute.Encoder) {
	e.Int(snapshotMagic)
	e.Int(snapshotVersion)
	e.Long(int64(h.DBID))
	e.Long(h.Zxid)
	e.Long(h.TimeMs)
	e.Long(h.NodeHint)
}

func decodeSnapshotHeader(d *jute.Decoder) (SnapshotHeader, error) {
	magic, version := d.Int(), d.Int()
	h := SnapshotHeader{DBID: uint64(d.Long()), Zxid: d.Long(), TimeMs: d.Long(), NodeHint: d.Long()}
	switch {
	case d.Err() != nil:
		return h, fmt.Errorf("snapshot header truncated")
	case magic != snapshotMagic:
		return h, fmt.Errorf("bad snapshot magic 0x%08x", uint32(magic))
	case version != snapshotVersion:
		return h, fmt.Errorf("unsupported snapshot format version %d", version)
	}
	return h, nil
}

func encodeSessions(e *jute.Encoder, sessions map[int64]int32) {
	e.Int(int32(len(sessions)))
	for id, timeout := range sessions {
		e.Long(id)
		e.Int(timeout)
	}
}

func encodeACLDef(e *jute.Encoder, id int64, acl []proto.ACL) {
	e.Int(tagACL)
	e.Long(id)
	proto.EncodeACLs(e, acl)
}

func encodeNode(e *jute.Encoder, path string, n *tree.Node) {
	e.Int(tagNode)
	e.String(path)
	e.Buffer(n.Data)
	e.Long(n.Czxid)
	e.Long(n.Mzxid)
	e.Long(n.Pzxid)
	e.Long(n.Ctime)
	e.Long(n.Mtime)
	e.Int(n.Version)
	e.Int(n.Cversion)
	e.Int(n.Aversion)
	e.Long(n.Owner)
	e.Long(n.ACL)
	e.Int(int32(n.NumChildren()))
}

// decodeNode reads a node record and the number of children the node had
// when it was copied (the loader sizes its children set with it).
func decodeNode(d *jute.Decoder) (string, tree.Node, int) {
	path := d.String()
	n := tree.Node{Data: d.BufferCopy()}
	n.Czxid, n.Mzxid, n.Pzxid = d.Long(), d.Long(), d.Long()
	n.Ctime, n.Mtime = d.Long(), d.Long()
	n.Version, n.Cversion, n.Aversion = d.Int(), d.Int(), d.Int()
	n.Owner, n.ACL = d.Long(), d.Long()
	children := int(d.Int())
	return path, n, max(children, 0)
}

func encodeEnd(e *jute.Encoder, nodes int64) {
	e.Int(tagEnd)
	e.Long(nodes)
}
