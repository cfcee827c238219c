package storage

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"zkit/server/tree"
)

// Recovery is what Open found and rebuilt.
type Recovery struct {
	Tree         *tree.Tree // the state at LastZxid
	LastZxid     int64
	Snapshot     string   // the snapshot loaded, "" if none
	SnapshotZxid int64    // its zxid
	Skipped      []string // snapshots that did not validate, newest first
	Replayed     int      // txns applied from the log
	TornTail     string   // what was cut off the log, "" if nothing
	Orphans      int      // fuzzy-snapshot nodes dropped (see tree.Loader.Finish)
	// Downtime is the time since the heartbeat last said the server was
	// alive; DowntimeKnown is false without a heartbeat file.
	Downtime      time.Duration
	DowntimeKnown bool
	Took          time.Duration
}

// recover loads the newest valid snapshot and replays the log after it.
func (s *Store) recover() error {
	start := time.Now()
	snaps, tmps, err := listSnapshots(s.o.FS, s.snapDir)
	if err != nil {
		return err
	}
	for _, tmp := range tmps {
		s.log.Info("removing unfinished snapshot", "file", tmp)
		if err := s.o.FS.Remove(tmp); err != nil {
			return err
		}
	}
	rec := &s.Recovery
	if err := s.loadNewestSnapshot(snaps); err != nil {
		return err
	}
	if err := s.pickDBID(); err != nil {
		return err
	}
	r := &logReplay{
		fs: s.o.FS, dir: s.logDir, dbid: s.dbid, log: s.log,
		t: rec.Tree, z: rec.SnapshotZxid, fresh: rec.Snapshot == "",
	}
	if err := r.run(); err != nil {
		return s.explain(err)
	}
	if r.torn != "" {
		s.log.Warn("truncating the torn tail of the txn log (a write cut short by a crash; it was never acknowledged)", "detail", r.torn)
	}
	if err := r.repair(); err != nil {
		return err
	}
	rec.Replayed, rec.TornTail = r.applied, r.torn
	rec.LastZxid = rec.Tree.LastZxid()
	if r.last != 0 && r.last < rec.SnapshotZxid {
		s.log.Warn("the txn log ends before the snapshot (written with forceSync=no?); continuing from the snapshot",
			"log_end", ZxidString(r.last), "snapshot", ZxidString(rec.SnapshotZxid))
	}
	s.readDowntime()
	rec.Took = time.Since(start)
	return nil
}

// loadNewestSnapshot loads the newest snapshot that validates; one that
// does not is reported and skipped, never deleted.
func (s *Store) loadNewestSnapshot(snaps []snapFile) error {
	rec := &s.Recovery
	for i := len(snaps) - 1; i >= 0; i-- {
		t, h, dropped, err := loadSnapshot(s.o.FS, snaps[i].path, s.o.Extended)
		if err == nil && h.Zxid != snaps[i].zxid {
			err = fmt.Errorf("%s: holds zxid %s, its name says otherwise", snaps[i].path, ZxidString(h.Zxid))
		}
		if err != nil {
			s.log.Error("snapshot is invalid; trying an older one", "file", snaps[i].path, "err", err)
			rec.Skipped = append(rec.Skipped, snaps[i].path)
			continue
		}
		rec.Tree, rec.Snapshot, rec.SnapshotZxid, rec.Orphans = t, snaps[i].path, h.Zxid, dropped
		s.dbid = h.DBID
		s.purge.markValid(snaps[i].path)
		return nil
	}
	t := tree.New()
	t.Extended = s.o.Extended
	rec.Tree = t
	return nil
}

// pickDBID takes the database id from the snapshot, else from the log,
// else makes one: a new data directory.
func (s *Store) pickDBID() error {
	if s.dbid != 0 {
		return nil
	}
	segs, err := listSegments(s.o.FS, s.logDir)
	if err != nil {
		return err
	}
	for _, seg := range segs {
		if sc, err := scanSegment(s.o.FS, seg, 0); err == nil && sc.headOK {
			s.dbid = sc.header.DBID
			return nil
		}
	}
	var b [8]byte
	for s.dbid == 0 {
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		s.dbid = binary.BigEndian.Uint64(b[:])
	}
	return nil
}

// explain adds the skipped snapshots to a refusal caused by them.
func (s *Store) explain(err error) error {
	if ce, ok := err.(*CorruptError); ok && len(s.Recovery.Skipped) > 0 {
		ce.Reason += fmt.Sprintf(" (snapshots skipped as invalid: %v)", s.Recovery.Skipped)
	}
	return err
}

func (s *Store) readDowntime() {
	last, ok := s.heartbeat.read()
	if !ok {
		s.log.Info("no heartbeat file: restored sessions keep their full timeouts")
		return
	}
	s.Recovery.Downtime = max(s.o.Now().Sub(last), 0)
	s.Recovery.DowntimeKnown = true
}
