package storage

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"zkit/server/storage/vfs"
)

// PurgeResult lists what a purge removed.
type PurgeResult struct {
	Snapshots []string
	Segments  []string
	// OldestKept is the zxid of the oldest snapshot kept; the log is kept
	// from the segment holding the txn after it.
	OldestKept int64
}

// purger removes old snapshots and log segments. It remembers which
// snapshots it found valid, so each is read once.
type purger struct {
	fs      vfs.FS
	snapDir string
	logDir  string
	retain  int
	log     *slog.Logger

	mu    sync.Mutex
	valid map[string]bool
}

// Purge keeps the newest retain (at least 3) snapshots whose checksum holds
// and deletes older snapshots, then deletes the log segments holding only
// txns at or below the oldest kept snapshot's zxid — never the segment
// holding the txn right after it, which that snapshot needs — as Apache's
// PurgeTxnLog does. It is safe to run beside a running server. dataDir and
// dataLogDir are the configured directories (the files are in their zkit
// subdirectories).
func Purge(fs vfs.FS, dataDir, dataLogDir string, retain int, log *slog.Logger) (PurgeResult, error) {
	if dataLogDir == "" {
		dataLogDir = dataDir
	}
	if log == nil {
		log = slog.Default()
	}
	p := &purger{fs: fs, snapDir: Dir(dataDir), logDir: Dir(dataLogDir), retain: max(retain, DefaultSnapRetainCount), log: log}
	return p.purge()
}

func (p *purger) purge() (PurgeResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var res PurgeResult
	snaps, _, err := listSnapshots(p.fs, p.snapDir)
	if err != nil {
		return res, err
	}
	oldest, ok := p.oldestKept(snaps)
	if !ok {
		return res, nil // no valid snapshot: keep everything
	}
	res.OldestKept = oldest
	if err := p.removeSnapshots(snaps, oldest, &res); err != nil {
		return res, err
	}
	err = p.removeSegments(oldest, &res)
	return res, err
}

// oldestKept returns the zxid of the oldest of the newest retain valid
// snapshots (of fewer, if there are fewer).
func (p *purger) oldestKept(snaps []snapFile) (int64, bool) {
	kept := 0
	var oldest int64
	for i := len(snaps) - 1; i >= 0 && kept < p.retain; i-- {
		if p.isValid(snaps[i].path) {
			kept++
			oldest = snaps[i].zxid
		}
	}
	return oldest, kept > 0
}

func (p *purger) isValid(path string) bool {
	if p.valid == nil {
		p.valid = map[string]bool{}
	}
	if v, ok := p.valid[path]; ok {
		return v
	}
	_, _, err := ReadSnapshot(p.fs, path, SnapshotVisitor{})
	if err != nil {
		p.log.Warn("purge: snapshot does not validate; not counted as kept", "file", path, "err", err)
	}
	p.valid[path] = err == nil
	return err == nil
}

// markValid records a snapshot known good (one this process wrote).
func (p *purger) markValid(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.valid == nil {
		p.valid = map[string]bool{}
	}
	p.valid[path] = true
}

func (p *purger) removeSnapshots(snaps []snapFile, oldest int64, res *PurgeResult) error {
	for _, s := range snaps {
		if s.zxid >= oldest {
			break
		}
		if err := p.fs.Remove(s.path); err != nil {
			return fmt.Errorf("purge: removing %s: %w", s.path, err)
		}
		delete(p.valid, s.path)
		res.Snapshots = append(res.Snapshots, s.path)
	}
	if len(res.Snapshots) == 0 {
		return nil
	}
	return p.fs.SyncDir(p.snapDir)
}

func (p *purger) removeSegments(oldest int64, res *PurgeResult) error {
	segs, err := listSegments(p.fs, p.logDir)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(segs) && segs[i+1].first <= oldest+1; i++ {
		if err := p.fs.Remove(segs[i].path); err != nil {
			return fmt.Errorf("purge: removing %s: %w", segs[i].path, err)
		}
		res.Segments = append(res.Segments, segs[i].path)
	}
	if len(res.Segments) == 0 {
		return nil
	}
	return p.fs.SyncDir(p.logDir)
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
