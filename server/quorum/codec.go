// Package quorum connects the members of an ensemble: the wire encoding of
// ZAB messages (shaped like ZooKeeper's QuorumPacket and election
// Notification), the TCP transport on the quorum and election ports, and
// the driver that runs a zab.Node against the network, the disk and the
// request pipeline.
package quorum

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"zkit/server/jute"
	"zkit/server/zab"
)

// protocolVersion is sent in FOLLOWERINFO and LEADERINFO, as ZooKeeper
// sends 0x10000 for its current learner protocol.
const protocolVersion = 0x10000

// maxFrame bounds one frame on a quorum or election connection.
const maxFrame = 512 << 20

// encodePacket writes a quorum message as a QuorumPacket record
// {int type, long zxid, buffer data, vector<Id> authinfo}, behind a 4-byte
// length. The data of each type follows ZooKeeper's where it has one
// (ACKEPOCH: the current epoch; FOLLOWERINFO: LearnerInfo); messages that
// carry entries hold them as a count and (zxid, buffer) pairs, and a SNAP
// adds the snapshot bytes after them.
func encodePacket(m *zab.Message, snapshot []byte) []byte {
	return appendPacket(make([]byte, 0, 64), m, snapshot)
}

// appendPacket appends the frame encodePacket returns to dst, encoding the
// entries of a PROPOSAL (and the like) in place, with no buffer between.
func appendPacket(dst []byte, m *zab.Message, snapshot []byte) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.Type))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.Zxid))
	switch m.Type {
	case zab.MsgProposal, zab.MsgInform, zab.MsgDiff, zab.MsgTrunc, zab.MsgSnap:
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(m.Entries)))
		for i := range m.Entries {
			en := &m.Entries[i]
			dst = binary.BigEndian.AppendUint64(dst, uint64(en.Zxid))
			dst = appendBuffer(dst, en.Data)
		}
		if m.Type == zab.MsgSnap {
			dst = appendBuffer(dst, snapshot)
		}
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	default:
		dst = appendBuffer(dst, packetData(m, snapshot))
	}
	dst = binary.BigEndian.AppendUint32(dst, 0xffffffff) // authinfo: none
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// appendBuffer appends a jute buffer: a length, or -1 for nil, then the bytes.
func appendBuffer(dst, b []byte) []byte {
	if b == nil {
		return binary.BigEndian.AppendUint32(dst, 0xffffffff)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

func packetData(m *zab.Message, snapshot []byte) []byte {
	switch m.Type {
	case zab.MsgProposal, zab.MsgInform, zab.MsgDiff, zab.MsgTrunc, zab.MsgSnap:
		e := jute.NewEncoder(nil)
		e.Int(int32(len(m.Entries)))
		for _, en := range m.Entries {
			e.Long(en.Zxid)
			e.Buffer(en.Data)
		}
		if m.Type == zab.MsgSnap {
			e.Buffer(snapshot)
		}
		return e.Bytes()
	case zab.MsgFollowerInfo, zab.MsgObserverInfo:
		// LearnerInfo{serverid, protocolVersion, configVersion}, then the
		// link id zkit uses to keep links apart.
		e := jute.NewEncoder(nil)
		e.Long(int64(m.From))
		e.Int(protocolVersion)
		e.Long(0)
		e.Long(int64(m.Link))
		return e.Bytes()
	case zab.MsgLeaderInfo:
		e := jute.NewEncoder(nil)
		e.Int(protocolVersion)
		return e.Bytes()
	case zab.MsgAckEpoch:
		e := jute.NewEncoder(nil)
		e.Int(int32(m.Epoch))
		return e.Bytes()
	}
	return m.Data
}

// decodePacket reads one QuorumPacket frame body back into a message (From,
// To, Link and Seq are the transport's to fill in). A SNAP's snapshot
// bytes are returned separately.
func decodePacket(b []byte) (zab.Message, []byte, error) {
	d := jute.NewDecoder(b)
	m := zab.Message{Type: zab.MsgType(d.Int()), Zxid: d.Long()}
	data := d.Buffer()
	_ = d.Count(0) // authinfo
	if d.Err() != nil {
		return m, nil, fmt.Errorf("malformed quorum packet: %w", d.Err())
	}
	var snapshot []byte
	var err error
	switch m.Type {
	case zab.MsgProposal, zab.MsgInform, zab.MsgDiff, zab.MsgTrunc, zab.MsgSnap:
		m.Entries, snapshot, err = decodeEntries(data, m.Type == zab.MsgSnap)
	case zab.MsgFollowerInfo, zab.MsgObserverInfo:
		dd := jute.NewDecoder(data)
		m.From = uint64(dd.Long())
		_ = dd.Int()
		_ = dd.Long()
		m.Link = uint64(dd.Long())
		err = dd.Err()
	case zab.MsgLeaderInfo:
		m.Epoch = zab.Epoch(m.Zxid)
	case zab.MsgAckEpoch:
		dd := jute.NewDecoder(data)
		m.Epoch = uint32(dd.Int())
		err = dd.Err()
	default:
		m.Data = append([]byte(nil), data...)
	}
	return m, snapshot, err
}

func decodeEntries(data []byte, withSnapshot bool) ([]zab.Entry, []byte, error) {
	d := jute.NewDecoder(data)
	n := d.Count(12)
	var es []zab.Entry
	for i := 0; i < n && d.Err() == nil; i++ {
		z := d.Long()
		es = append(es, zab.Entry{Zxid: z, Data: d.BufferCopy()})
		setEntryConfig(&es[len(es)-1])
	}
	var snap []byte
	if withSnapshot {
		snap = d.Buffer()
	}
	return es, snap, d.Err()
}

// encodeNotification writes an election notification as ZooKeeper 3.x
// does: state, proposed leader, zxid, election epoch, peer epoch, version,
// and the sender's configuration (zab's encoding of it, where ZooKeeper
// puts its QuorumVerifier text), behind a 4-byte length.
func encodeNotification(m *zab.Message) []byte {
	b := make([]byte, 4, 48)
	b = binary.BigEndian.AppendUint32(b, uint32(m.State))
	b = binary.BigEndian.AppendUint64(b, m.Vote.Leader)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Vote.Zxid))
	b = binary.BigEndian.AppendUint64(b, m.ElectionEpoch)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Vote.PeerEpoch))
	b = binary.BigEndian.AppendUint32(b, 2) // Notification.CURRENTVERSION
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Data)))
	b = append(b, m.Data...)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func decodeNotification(b []byte) (zab.Message, error) {
	if len(b) < 40 {
		return zab.Message{}, errors.New("short election notification")
	}
	m := zab.Message{
		Type:          zab.MsgNotification,
		State:         zab.Role(binary.BigEndian.Uint32(b)),
		Vote:          zab.Vote{Leader: binary.BigEndian.Uint64(b[4:]), Zxid: int64(binary.BigEndian.Uint64(b[12:])), PeerEpoch: uint32(binary.BigEndian.Uint64(b[28:]))},
		ElectionEpoch: binary.BigEndian.Uint64(b[20:]),
	}
	if len(b) >= 44 {
		if n := int(binary.BigEndian.Uint32(b[40:])); n <= len(b)-44 {
			m.Data = append([]byte(nil), b[44:44+n]...)
		}
	}
	return m, nil
}

// readFrame reads a length-prefixed frame.
func readFrame(r io.Reader) ([]byte, error) { return readFrameInto(r, nil) }

// readFrameInto reads a length-prefixed frame into buf when it fits.
func readFrameInto(r io.Reader, buf []byte) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes is too large", n)
	}
	var b []byte
	if int(n) <= cap(buf) {
		b = buf[:n]
	} else {
		b = make([]byte, n)
	}
	_, err := io.ReadFull(r, b)
	return b, err
}
