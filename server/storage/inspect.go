package storage

import (
	"fmt"
	"path/filepath"

	"zkit/server/proto"
	"zkit/server/storage/vfs"
)

// FileReport describes one file of a data directory, for `zkit datadir`.
type FileReport struct {
	Path     string
	Kind     string // "snapshot", "log" or "tmp"
	Size     int64
	First    int64 // zxid of the first txn; a snapshot's zxid
	Last     int64 // zxid of the last txn; a snapshot's zxid
	Count    int64 // txns, or a snapshot's nodes
	Sessions int   // a snapshot's sessions
	DBID     uint64
	// Problem says what is wrong, "" if nothing. Corrupt is set when it is
	// damage recovery would refuse or skip (a bad snapshot, a bad record
	// followed by valid ones, missing txns); a torn tail, which recovery
	// cuts off, is only a Problem.
	Problem string
	Corrupt bool
}

// Inspect reports on every snapshot and log segment of a data directory
// pair. With deep set, every txn is decoded and the zxid sequence checked,
// as `zkit datadir verify` does.
func Inspect(fs vfs.FS, dataDir, dataLogDir string, deep bool) ([]FileReport, error) {
	if dataLogDir == "" {
		dataLogDir = dataDir
	}
	snaps, err := inspectSnapshots(fs, Dir(dataDir))
	if err != nil {
		return nil, err
	}
	logs, err := inspectLog(fs, Dir(dataLogDir), deep)
	if err != nil {
		return nil, err
	}
	return append(snaps, logs...), nil
}

func inspectSnapshots(fs vfs.FS, dir string) ([]FileReport, error) {
	snaps, tmps, err := listSnapshots(fs, dir)
	if err != nil {
		return nil, err
	}
	var out []FileReport
	for _, s := range snaps {
		r := FileReport{Path: s.path, Kind: "snapshot", First: s.zxid, Last: s.zxid}
		r.Size, _ = vfs.FileSize(fs, s.path)
		h, nodes, err := ReadSnapshot(fs, s.path, SnapshotVisitor{Session: func(int64, int32) { r.Sessions++ }})
		r.Count, r.DBID = nodes, h.DBID
		if err == nil && h.Zxid != s.zxid {
			err = fmt.Errorf("holds zxid %s, not the one its name says", ZxidString(h.Zxid))
		}
		if err != nil {
			r.Problem, r.Corrupt = err.Error(), true
		}
		out = append(out, r)
	}
	for _, t := range tmps {
		size, _ := vfs.FileSize(fs, t)
		out = append(out, FileReport{Path: t, Kind: "tmp", Size: size, Problem: "unfinished snapshot (removed at the next start)"})
	}
	return out, nil
}

func inspectLog(fs vfs.FS, dir string, deep bool) ([]FileReport, error) {
	segs, err := listSegments(fs, dir)
	if err != nil {
		return nil, err
	}
	scans := make([]*segmentScan, len(segs))
	out := make([]FileReport, len(segs))
	var prev int64
	for i, seg := range segs {
		s, err := scanSegment(fs, seg, 0)
		if err != nil {
			return nil, err
		}
		scans[i] = s
		out[i] = reportSegment(s, deep, &prev)
	}
	judgeDamage(scans, out)
	return out, nil
}

// reportSegment describes one scanned segment; prev is the last zxid of the
// segments before it (deep checks only).
func reportSegment(s *segmentScan, deep bool, prev *int64) FileReport {
	r := FileReport{Path: s.seg.path, Kind: "log", Size: s.size, DBID: s.header.DBID}
	if len(s.batches) > 0 {
		r.First, r.Last = s.batches[0].hdr.First, s.lastZxid()
	}
	for i := range s.batches {
		b := &s.batches[i]
		r.Count += int64(b.hdr.Count)
		if !deep || r.Problem != "" {
			continue
		}
		txns, err := s.txns(b)
		if err != nil {
			r.Problem, r.Corrupt = err.Error(), true
			continue
		}
		for _, t := range txns {
			if *prev != 0 && !nextZxidOK(*prev, t.Header.Zxid) {
				r.Problem, r.Corrupt = fmt.Sprintf("zxid %s follows %s at offset %d: transactions are missing",
					ZxidString(t.Header.Zxid), ZxidString(*prev), b.off), true
			}
			*prev = t.Header.Zxid
		}
	}
	return r
}

// judgeDamage applies recovery's rule: damage followed by valid data is
// corruption, otherwise it is a torn tail.
func judgeDamage(scans []*segmentScan, out []FileReport) {
	for i, s := range scans {
		if s.bad == nil {
			continue
		}
		proven := s.bad.proven
		for _, later := range scans[i+1:] {
			proven = proven || len(later.batches) > 0
		}
		msg := fmt.Sprintf("%s at offset %d", s.bad.reason, s.bad.off)
		if proven {
			out[i].Problem, out[i].Corrupt = msg+", with valid data after it", true
		} else if out[i].Problem == "" {
			out[i].Problem = fmt.Sprintf("torn tail: %s; %d bytes would be cut at the next start", msg, s.size-s.bad.off)
		}
	}
}

// SegmentInfo describes a segment being dumped.
type SegmentInfo struct {
	Path    string
	DBID    uint64
	Version int
	Txns    int
	Problem string // damage met, "" if none
}

// DumpSegment decodes every txn of a log segment, in order, into fn.
func DumpSegment(fs vfs.FS, path string, fn func(*proto.Txn)) (SegmentInfo, error) {
	z, ok := parseName(filepath.Base(path), segmentPrefix)
	if !ok {
		return SegmentInfo{}, fmt.Errorf("%s: not a log segment name (log.<16 hex digits>)", path)
	}
	s, err := scanSegment(fs, segment{path: path, first: z}, 0)
	if err != nil {
		return SegmentInfo{}, err
	}
	info := SegmentInfo{Path: path, DBID: s.header.DBID, Version: segmentVersion}
	for i := range s.batches {
		txns, err := s.txns(&s.batches[i])
		if err != nil {
			return info, err
		}
		for _, t := range txns {
			fn(t)
			info.Txns++
		}
	}
	if s.bad != nil {
		info.Problem = fmt.Sprintf("%s at offset %d", s.bad.reason, s.bad.off)
	}
	return info, nil
}

// ReadSegmentHeader returns the database id and first zxid a segment's
// header records.
func ReadSegmentHeader(fs vfs.FS, path string) (dbid uint64, first int64, err error) {
	f, err := fs.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	b := make([]byte, segmentHeaderSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	h, err := decodeSegmentHeader(b)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return h.DBID, h.First, nil
}
