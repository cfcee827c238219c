package storage

import (
	"fmt"

	"zkit/server/jute"
	"zkit/server/proto"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
)

// SnapshotVisitor receives the contents of a snapshot as it is read.
type SnapshotVisitor struct {
	Header  func(h SnapshotHeader)
	Session func(id int64, timeout int32)
	ACL     func(id int64, acl []proto.ACL)
	Node    func(path string, n tree.Node, children int)
}

// ReadSnapshot checks a snapshot's checksum, then decodes it into v. It
// returns the number of node records.
func ReadSnapshot(fs vfs.FS, path string, v SnapshotVisitor) (SnapshotHeader, int64, error) {
	data, err := vfs.ReadAll(fs, path)
	if err != nil {
		return SnapshotHeader{}, 0, err
	}
	if len(data) < snapshotHeaderSize+snapshotTrailer {
		return SnapshotHeader{}, 0, fmt.Errorf("%s: too short (%d bytes) to be a snapshot", path, len(data))
	}
	body := data[:len(data)-snapshotTrailer]
	if want, got := be.Uint32(data[len(body):]), crc(body); want != got {
		return SnapshotHeader{}, 0, fmt.Errorf("%s: checksum mismatch (stored 0x%08x, computed 0x%08x)", path, want, got)
	}
	h, nodes, err := decodeSnapshot(body, v)
	if err != nil {
		return h, 0, fmt.Errorf("%s: %w", path, err)
	}
	return h, nodes, nil
}

func decodeSnapshot(body []byte, v SnapshotVisitor) (SnapshotHeader, int64, error) {
	d := jute.NewDecoder(body)
	h, err := decodeSnapshotHeader(d)
	if err != nil {
		return h, 0, err
	}
	if v.Header != nil {
		v.Header(h)
	}
	if err := decodeSessions(d, v); err != nil {
		return h, 0, err
	}
	nodes, err := decodeRecords(d, v)
	if err != nil {
		return h, 0, err
	}
	if d.Remaining() != 0 {
		return h, 0, fmt.Errorf("%d bytes after the end record", d.Remaining())
	}
	return h, nodes, nil
}

func decodeSessions(d *jute.Decoder, v SnapshotVisitor) error {
	n := d.Count(12)
	for i := 0; i < n && d.Err() == nil; i++ {
		id, timeout := d.Long(), d.Int()
		if d.Err() == nil && v.Session != nil {
			v.Session(id, timeout)
		}
	}
	if d.Err() != nil || n < 0 {
		return fmt.Errorf("bad session table")
	}
	return nil
}

// decodeRecords reads the tagged records up to the end record.
func decodeRecords(d *jute.Decoder, v SnapshotVisitor) (int64, error) {
	var nodes int64
	for {
		tag := d.Int()
		if d.Err() != nil {
			return 0, fmt.Errorf("no end record")
		}
		switch tag {
		case tagACL:
			id := d.Long()
			acl := proto.DecodeACLs(d)
			if d.Err() == nil && v.ACL != nil {
				v.ACL(id, acl)
			}
		case tagNode:
			path, n, children := decodeNode(d)
			if d.Err() == nil && v.Node != nil {
				v.Node(path, n, children)
			}
			nodes++
		case tagEnd:
			count := d.Long()
			if d.Err() == nil && count != nodes {
				return 0, fmt.Errorf("end record counts %d nodes, the snapshot holds %d", count, nodes)
			}
			return nodes, d.Err()
		default:
			return 0, fmt.Errorf("unknown record tag 0x%x at offset %d", uint32(tag), d.Offset()-4)
		}
		if d.Err() != nil {
			return 0, fmt.Errorf("record truncated at offset %d", d.Offset())
		}
	}
}

// loadSnapshot rebuilds the tree a snapshot holds.
func loadSnapshot(fs vfs.FS, path string, extended bool) (*tree.Tree, SnapshotHeader, int, error) {
	var l *tree.Loader
	v := SnapshotVisitor{
		Header:  func(h SnapshotHeader) { l = tree.NewLoader(extended, int(min(h.NodeHint, 1<<26))+16) },
		Session: func(id int64, timeout int32) { l.Session(id, timeout) },
		ACL:     func(id int64, acl []proto.ACL) { l.ACL(id, acl) },
		Node:    func(path string, n tree.Node, children int) { l.Node(path, n, children) },
	}
	h, _, err := ReadSnapshot(fs, path, v)
	if err != nil {
		return nil, h, 0, err
	}
	t, dropped, err := l.Finish(h.Zxid)
	if err != nil {
		return nil, h, 0, fmt.Errorf("%s: %w", path, err)
	}
	return t, h, dropped, nil
}
