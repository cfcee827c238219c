package storage

import (
	"fmt"
	"path/filepath"

	"zkit/server/proto"
	"zkit/server/storage/vfs"
)

// segment is a log segment file.
type segment struct {
	path  string
	first int64 // from the name
}

// listSegments returns the segments of a log directory, oldest first.
func listSegments(fs vfs.FS, dir string) ([]segment, error) {
	names, err := fs.List(dir)
	if err != nil {
		return nil, err
	}
	var out []segment
	for _, n := range names {
		if z, ok := parseName(n, segmentPrefix); ok {
			out = append(out, segment{path: filepath.Join(dir, n), first: z})
		}
	}
	sortBy(out, func(s segment) int64 { return s.first })
	return out, nil
}

// batchInfo is one valid batch of a segment.
type batchInfo struct {
	off     int64
	hdr     batchHeader
	payload []byte
}

func (b *batchInfo) end() int64 { return b.off + batchHeaderSize + int64(b.hdr.Length) }

// damage is the first invalid spot of a segment.
type damage struct {
	off    int64
	reason string
	// proven is set when the file itself shows the damage is not a torn
	// tail: a valid batch follows, or data follows a bad header.
	proven bool
}

// segmentScan is what a segment holds.
type segmentScan struct {
	seg     segment
	size    int64
	header  segmentHeader
	headOK  bool
	batches []batchInfo
	end     int64   // just past the last valid batch (or the header)
	bad     *damage // nil when the segment ends cleanly
}

// scanSegment reads and checks a whole segment. dbid is the database id to
// check batches against when the header is unreadable (0: unknown).
func scanSegment(fs vfs.FS, seg segment, dbid uint64) (*segmentScan, error) {
	data, err := vfs.ReadAll(fs, seg.path)
	if err != nil {
		return nil, err
	}
	s := &segmentScan{seg: seg, size: int64(len(data))}
	h, herr := decodeSegmentHeader(data)
	if herr == nil && h.First != seg.first {
		herr = fmt.Errorf("header says first zxid %s, the name says %s", ZxidString(h.First), ZxidString(seg.first))
	}
	if herr != nil {
		// A header is synced before any batch is written: with only zeros
		// after it, it is a segment whose creation never completed.
		rest := data[min(len(data), segmentHeaderSize):]
		s.bad = &damage{off: 0, reason: herr.Error(), proven: !allZero(rest)}
		return s, nil
	}
	s.header, s.headOK = h, true
	s.scanBatches(data)
	return s, nil
}

func (s *segmentScan) scanBatches(data []byte) {
	off := int64(segmentHeaderSize)
	for off < int64(len(data)) {
		hdr, payload, bad := checkBatch(data, off, s.header.DBID)
		if bad != "" {
			if allZero(data[off:]) {
				break // the zeros past the written end
			}
			after := s.header.First - 1
			if n := len(s.batches); n > 0 {
				after = s.batches[n-1].hdr.Last
			}
			s.bad = &damage{off: off, reason: bad, proven: findValidBatch(data, off+1, s.header.DBID, after) >= 0}
			break
		}
		s.batches = append(s.batches, batchInfo{off: off, hdr: hdr, payload: payload})
		off += batchHeaderSize + int64(hdr.Length)
	}
	s.end = off
}

// txns decodes a batch; a batch whose checksum matches but whose records do
// not decode is corruption.
func (s *segmentScan) txns(b *batchInfo) ([]*proto.Txn, error) {
	txns, err := decodeBatch(b.hdr, b.payload)
	if err != nil {
		return nil, &CorruptError{File: s.seg.path, Offset: b.off, Reason: "undecodable batch: " + err.Error()}
	}
	return txns, nil
}

// dropPayloads forgets the segment's bytes, keeping what was found.
func (s *segmentScan) dropPayloads() {
	for i := range s.batches {
		s.batches[i].payload = nil
	}
}

// lastZxid returns the zxid of the segment's last valid txn, or 0.
func (s *segmentScan) lastZxid() int64 {
	if len(s.batches) == 0 {
		return 0
	}
	return s.batches[len(s.batches)-1].hdr.Last
}

// nextZxidOK reports whether z may follow prev in the log: the next counter
// of the same epoch, or any later zxid of a later epoch (a new leader's
// epoch starts its own count).
func nextZxidOK(prev, z int64) bool {
	if z == prev+1 {
		return true
	}
	return z > prev && uint64(z)>>32 > uint64(prev)>>32
}

// snapFile is a snapshot file.
type snapFile struct {
	path string
	zxid int64
}

// listSnapshots returns the snapshots of a directory, oldest first, and
// the temporary files of snapshots never finished.
func listSnapshots(fs vfs.FS, dir string) (snaps []snapFile, tmps []string, err error) {
	names, err := fs.List(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		if z, ok := parseName(n, snapshotPrefix); ok {
			snaps = append(snaps, snapFile{path: filepath.Join(dir, n), zxid: z})
		} else if _, ok := parseName(n[:max(0, len(n)-len(tmpSuffix))], snapshotPrefix); ok && filepath.Ext(n) == tmpSuffix {
			tmps = append(tmps, filepath.Join(dir, n))
		}
	}
	sortBy(snaps, func(s snapFile) int64 { return s.zxid })
	return snaps, tmps, nil
}
