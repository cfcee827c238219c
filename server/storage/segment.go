package storage

import (
	"fmt"
)

// Segment header layout.
const (
	segmentMagic      = 0x5a4b4c47 // "ZKLG"
	segmentVersion    = 1
	segmentHeaderSize = 32
)

// segmentHeader is the first 32 bytes of a log segment.
type segmentHeader struct {
	DBID  uint64
	First int64 // the zxid of the first txn, also in the file name
	Flags uint32
}

func (h *segmentHeader) encode() []byte {
	b := make([]byte, segmentHeaderSize)
	be.PutUint32(b[0:], segmentMagic)
	be.PutUint32(b[4:], segmentVersion)
	be.PutUint64(b[8:], h.DBID)
	be.PutUint64(b[16:], uint64(h.First))
	be.PutUint32(b[24:], h.Flags)
	be.PutUint32(b[28:], crc(b[:28]))
	return b
}

// decodeSegmentHeader validates and reads a segment header.
func decodeSegmentHeader(b []byte) (segmentHeader, error) {
	if len(b) < segmentHeaderSize {
		return segmentHeader{}, fmt.Errorf("segment header truncated (%d bytes)", len(b))
	}
	if m := be.Uint32(b); m != segmentMagic {
		return segmentHeader{}, fmt.Errorf("bad segment magic 0x%08x", m)
	}
	if c := be.Uint32(b[28:]); c != crc(b[:28]) {
		return segmentHeader{}, fmt.Errorf("segment header checksum mismatch")
	}
	if v := be.Uint32(b[4:]); v != segmentVersion {
		return segmentHeader{}, fmt.Errorf("unsupported segment format version %d", v)
	}
	return segmentHeader{
		DBID:  be.Uint64(b[8:]),
		First: int64(be.Uint64(b[16:])),
		Flags: be.Uint32(b[24:]),
	}, nil
}
