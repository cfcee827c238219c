package storage

import (
	"fmt"

	"zkit/server/storage/vfs"
)

// tornTail decides about the first damage of the log, in s: proven
// corruption if anything valid follows (in s or in the segments after it),
// else a torn tail to cut off.
func (r *logReplay) tornTail(s *segmentScan, after []*segmentScan) error {
	for _, later := range after {
		if len(later.batches) > 0 || (later.bad != nil && later.bad.proven) {
			return &CorruptError{File: s.seg.path, Offset: s.bad.off, Reason: s.bad.reason +
				"; valid transactions follow in " + later.seg.path}
		}
	}
	if s.bad.proven {
		return &CorruptError{File: s.seg.path, Offset: s.bad.off, Reason: s.bad.reason + "; valid data follows it in the same file"}
	}
	r.torn = fmt.Sprintf("%s: torn tail at offset %d (%s), %d bytes discarded", s.seg.path, s.bad.off, s.bad.reason, s.size-s.bad.off)
	if s.headOK {
		r.cut[s.seg.path] = s.bad.off
	}
	for _, later := range after {
		r.remove = append(r.remove, later.seg.path)
	}
	return nil
}

// tidyTail plans the removal of trailing segments that hold no txn (a new
// segment will be started with the same name) and the trimming of the
// preallocated zeros of the last one.
func (r *logReplay) tidyTail(scans []*segmentScan) {
	for i := len(scans) - 1; i >= 0; i-- {
		s := scans[i]
		if len(s.batches) > 0 {
			if _, ok := r.cut[s.seg.path]; !ok && s.size > s.end {
				r.cut[s.seg.path] = s.end
			}
			return
		}
		delete(r.cut, s.seg.path)
		r.remove = append(r.remove, s.seg.path)
	}
}

// repair carries out the plan: durable before any new segment is created,
// so a later valid batch never follows the old torn bytes.
func (r *logReplay) repair() error {
	for path, size := range r.cut {
		if err := truncateFile(r.fs, path, size); err != nil {
			return err
		}
	}
	for _, path := range r.remove {
		if err := r.fs.Remove(path); err != nil {
			return fmt.Errorf("removing %s: %w", path, err)
		}
		r.log.Info("removed log segment holding no transactions", "file", path)
	}
	if len(r.remove) > 0 {
		return r.fs.SyncDir(r.dir)
	}
	return nil
}

func truncateFile(fs vfs.FS, path string, size int64) error {
	f, err := fs.OpenRW(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncating %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}
