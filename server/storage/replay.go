package storage

import (
	"fmt"
	"log/slog"

	"zkit/server/proto"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
)

// logReplay applies the log after a snapshot's zxid to its tree and plans
// the repair of a torn tail.
type logReplay struct {
	fs      vfs.FS
	dir     string
	dbid    uint64
	log     *slog.Logger
	t       *tree.Tree
	z       int64 // the snapshot's zxid; txns after it are applied
	until   int64 // if set, txns after it are not applied (Rebuild)
	fresh   bool  // no snapshot: the log must start at the beginning
	last    int64 // the last zxid met in the log
	applied int
	torn    string   // what was cut off, for the log
	remove  []string // segments to delete
	cut     map[string]int64
}

// run reads one segment at a time, so only one is in memory; the segments
// after a damage are read only to judge it.
func (r *logReplay) run() error {
	segs, err := listSegments(r.fs, r.dir)
	if err != nil {
		return err
	}
	segs = segs[startIndex(segs, r.z):]
	r.cut = map[string]int64{}
	var seen []*segmentScan
	for i, seg := range segs {
		s, err := r.scan(seg)
		if err != nil {
			return err
		}
		if err := r.replaySegment(s); err != nil {
			return err
		}
		seen = append(seen, s)
		if s.bad != nil {
			if err := r.judge(s, segs[i+1:]); err != nil {
				return err
			}
			break
		}
	}
	r.tidyTail(seen)
	return nil
}

// startIndex returns the first segment that may hold z+1.
func startIndex(segs []segment, z int64) int {
	i := 0
	for j, s := range segs {
		if s.first <= z+1 {
			i = j
		}
	}
	return i
}

// scan reads a segment and checks it belongs to this database.
func (r *logReplay) scan(seg segment) (*segmentScan, error) {
	s, err := scanSegment(r.fs, seg, r.dbid)
	if err != nil {
		return nil, err
	}
	if s.headOK && s.header.DBID != r.dbid {
		return nil, &CorruptError{File: seg.path, Offset: 0, Reason: fmt.Sprintf(
			"segment of database %016x, the data directory holds database %016x", s.header.DBID, r.dbid)}
	}
	return s, nil
}

// judge reads the segments after the first damage, to tell corruption
// from a torn tail.
func (r *logReplay) judge(s *segmentScan, rest []segment) error {
	var later []*segmentScan
	for _, seg := range rest {
		l, err := r.scan(seg)
		if err != nil {
			return err
		}
		l.dropPayloads()
		later = append(later, l)
	}
	return r.tornTail(s, later)
}

// replaySegment checks the zxid order of a segment's batches and applies
// the txns after the snapshot; then it lets the segment's bytes go.
func (r *logReplay) replaySegment(s *segmentScan) error {
	defer s.dropPayloads()
	if len(s.batches) > 0 && s.batches[0].hdr.First != s.seg.first {
		return &CorruptError{File: s.seg.path, Offset: s.batches[0].off, Reason: "first txn does not match the file name"}
	}
	for i := range s.batches {
		b := &s.batches[i]
		txns, err := s.txns(b)
		if err != nil {
			return err
		}
		for _, txn := range txns {
			if err := r.replay(s, b, txn); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *logReplay) replay(s *segmentScan, b *batchInfo, txn *proto.Txn) error {
	z := txn.Header.Zxid
	if r.until != 0 && z > r.until {
		return nil
	}
	switch {
	case r.last != 0 && !nextZxidOK(r.last, z):
		return &CorruptError{File: s.seg.path, Offset: b.off, Reason: fmt.Sprintf(
			"zxid %s follows %s: transactions are missing", ZxidString(z), ZxidString(r.last))}
	case r.last == 0 && r.fresh && uint32(z) != 1:
		return &CorruptError{File: s.seg.path, Offset: -1, Reason: fmt.Sprintf(
			"the log starts at zxid %s and no valid snapshot covers the transactions before it", ZxidString(z))}
	case r.last == 0 && !r.fresh && z > r.z+1 && !nextZxidOK(r.z, z):
		return &CorruptError{File: s.seg.path, Offset: -1, Reason: fmt.Sprintf(
			"the log resumes at zxid %s but the snapshot ends at %s: transactions are missing", ZxidString(z), ZxidString(r.z))}
	}
	r.last = z
	if z > r.z {
		applyReplayed(r.t, txn)
		r.applied++
	}
	return nil
}
