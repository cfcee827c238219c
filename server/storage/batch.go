package storage

import (
	"bytes"
	"fmt"

	"zkit/server/jute"
	"zkit/server/proto"
)

// Batch header layout.
const (
	batchMagic      = 0x5a4b4254 // "ZKBT"
	batchHeaderSize = 32
	// maxBatchPayload bounds one batch: larger groups are split, and a
	// header claiming more is invalid.
	maxBatchPayload = 64 << 20
)

var batchMagicBytes = []byte{0x5a, 0x4b, 0x42, 0x54}

// batchHeader describes one batch.
type batchHeader struct {
	Length uint32 // payload bytes
	Count  uint32 // records
	First  int64  // zxid of the first record
	Last   int64  // zxid of the last record
	CRC    uint32
}

// batchCRC is the checksum of a batch: database id, header fields, payload.
func batchCRC(dbid uint64, hdr, payload []byte) uint32 {
	var id [8]byte
	be.PutUint64(id[:], dbid)
	c := crcUpdate(0, id[:])
	c = crcUpdate(c, hdr[:28])
	return crcUpdate(c, payload)
}

// records is what a batch holds: n records in zxid order, each written by
// encode (a transaction's jute bytes).
type records struct {
	n      int
	zxid   func(i int) int64
	encode func(e *jute.Encoder, i int)
}

func txnRecords(txns []*proto.Txn) records {
	return records{
		n:      len(txns),
		zxid:   func(i int) int64 { return txns[i].Header.Zxid },
		encode: func(e *jute.Encoder, i int) { txns[i].Encode(e) },
	}
}

// slice returns records lo..hi-1.
func (r records) slice(lo, hi int) records {
	return records{
		n:      hi - lo,
		zxid:   func(i int) int64 { return r.zxid(lo + i) },
		encode: func(e *jute.Encoder, i int) { r.encode(e, lo+i) },
	}
}

// encodeBatch appends one batch holding txns to buf.
func encodeBatch(buf []byte, dbid uint64, txns []*proto.Txn) []byte {
	return encodeRecords(buf, dbid, txnRecords(txns))
}

// encodeRecords appends one batch holding rs to buf.
func encodeRecords(buf []byte, dbid uint64, rs records) []byte {
	start := len(buf)
	e := jute.NewEncoder(buf)
	e.Raw(make([]byte, batchHeaderSize))
	for i := 0; i < rs.n; i++ {
		at := e.Len()
		e.Int(0)
		rs.encode(e, i)
		b := e.Bytes()
		be.PutUint32(b[at:], uint32(len(b)-at-4))
	}
	buf = e.Bytes()
	h := buf[start : start+batchHeaderSize]
	payload := buf[start+batchHeaderSize:]
	be.PutUint32(h[0:], batchMagic)
	be.PutUint32(h[4:], uint32(len(payload)))
	be.PutUint32(h[8:], uint32(rs.n))
	be.PutUint64(h[12:], uint64(rs.zxid(0)))
	be.PutUint64(h[20:], uint64(rs.zxid(rs.n-1)))
	be.PutUint32(h[28:], batchCRC(dbid, h, payload))
	return buf
}

// checkBatch validates the batch at data[off:]; it returns its header and
// payload, or why it is not a valid batch.
func checkBatch(data []byte, off int64, dbid uint64) (batchHeader, []byte, string) {
	rest := data[off:]
	if len(rest) < batchHeaderSize {
		return batchHeader{}, nil, "batch header cut short by the end of the file"
	}
	if !bytes.Equal(rest[:4], batchMagicBytes) {
		return batchHeader{}, nil, fmt.Sprintf("bad batch magic 0x%08x", be.Uint32(rest))
	}
	h := batchHeader{
		Length: be.Uint32(rest[4:]),
		Count:  be.Uint32(rest[8:]),
		First:  int64(be.Uint64(rest[12:])),
		Last:   int64(be.Uint64(rest[20:])),
		CRC:    be.Uint32(rest[28:]),
	}
	if h.Length > maxBatchPayload || int64(h.Length) > int64(len(rest)-batchHeaderSize) {
		return h, nil, fmt.Sprintf("batch length %d runs past the end of the file", h.Length)
	}
	payload := rest[batchHeaderSize : batchHeaderSize+int(h.Length)]
	if batchCRC(dbid, rest, payload) != h.CRC {
		return h, nil, "batch checksum mismatch"
	}
	return h, payload, ""
}

// decodeBatch decodes the records of a batch whose checksum matched. An
// error here means the writer wrote something this reader does not
// understand: never a torn write.
func decodeBatch(h batchHeader, payload []byte) ([]*proto.Txn, error) {
	txns := make([]*proto.Txn, 0, h.Count)
	for len(payload) > 0 {
		if len(payload) < 4 {
			return nil, fmt.Errorf("record length cut short")
		}
		n := int(be.Uint32(payload))
		if n > len(payload)-4 {
			return nil, fmt.Errorf("record length %d past the batch end", n)
		}
		t := &proto.Txn{}
		d := jute.NewDecoder(payload[4 : 4+n])
		t.Decode(d)
		if d.Err() != nil {
			return nil, fmt.Errorf("record %d: %w", len(txns), d.Err())
		}
		txns = append(txns, t)
		payload = payload[4+n:]
	}
	if uint32(len(txns)) != h.Count {
		return nil, fmt.Errorf("batch holds %d records, its header says %d", len(txns), h.Count)
	}
	if len(txns) == 0 || txns[0].Header.Zxid != h.First || txns[len(txns)-1].Header.Zxid != h.Last {
		return nil, fmt.Errorf("batch zxids do not match its header")
	}
	return txns, nil
}

// findValidBatch returns the offset of the first valid batch at or after
// from whose txns come after zxid after, or -1. It looks for the magic at
// every byte offset. (A batch of older txns there can only be bytes a client
// stored in a znode, copied from this very log.)
func findValidBatch(data []byte, from int64, dbid uint64, after int64) int64 {
	for from < int64(len(data)) {
		i := bytes.Index(data[from:], batchMagicBytes)
		if i < 0 {
			return -1
		}
		at := from + int64(i)
		if h, _, bad := checkBatch(data, at, dbid); bad == "" && h.First > after {
			return at
		}
		from = at + 1
	}
	return -1
}
