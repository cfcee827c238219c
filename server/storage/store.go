package storage

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"zkit/server/pipeline"
)

// Store is the durable storage of one server: recovery at Open, then the
// txn log (through its Replicator), snapshots every SnapCount txns,
// autopurge and the heartbeat.
type Store struct {
	o       Options
	log     *slog.Logger
	snapDir string
	logDir  string
	dbid    uint64

	Recovery Recovery
	Stats    Stats

	wal       *Log
	repl      *Replicator
	ens       *ensembleLog
	heartbeat *heartbeat
	purge     *purger

	mu        sync.Mutex
	src       TreeSource
	rng       *rand.Rand
	sinceSnap int64
	nextSnap  int64
	snapping  bool
	snapMu    sync.Mutex // one snapshot at a time
	stop      chan struct{}
	wg        sync.WaitGroup
	closed    bool
}

// Open recovers the state kept in the data directories — creating them if
// needed — and returns a store ready to log after it. It refuses, with a
// *CorruptError, when acknowledged data is damaged.
func Open(o Options) (*Store, error) {
	o.defaults()
	if o.DataDir == "" {
		return nil, fmt.Errorf("storage: no data directory")
	}
	s := &Store{o: o, log: o.Logger, snapDir: Dir(o.DataDir), logDir: Dir(o.DataLogDir), stop: make(chan struct{})}
	for _, d := range []string{s.snapDir, s.logDir} {
		if err := o.FS.MkdirAll(d); err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
	}
	s.heartbeat = newHeartbeat(o.FS, s.snapDir, !o.NoSync)
	s.purge = &purger{fs: o.FS, snapDir: s.snapDir, logDir: s.logDir, retain: o.SnapRetainCount, log: s.log}
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s.rng = rand.New(rand.NewPCG(seed, seed>>1))
	s.nextSnap = s.snapInterval()
	if err := s.recover(); err != nil {
		return nil, err
	}
	s.wal = newLog(logConfig{
		fs: o.FS, dir: s.logDir, dbid: s.dbid, preAlloc: o.PreAllocSize, segmentSize: o.SegmentSize,
		sync: !o.NoSync, logger: s.log, stats: &s.Stats,
	}, s.Recovery.LastZxid)
	s.logRecovery()
	return s, nil
}

func (s *Store) logRecovery() {
	r := &s.Recovery
	s.log.Info("recovered the data directory",
		"snapshot", r.Snapshot, "snapshot_zxid", ZxidString(r.SnapshotZxid),
		"replayed_txns", r.Replayed, "last_zxid", ZxidString(r.LastZxid),
		"nodes", r.Tree.NodeCount(), "sessions", len(r.Tree.Sessions()), "took", r.Took)
}

// snapInterval draws the number of txns until the next snapshot, between
// SnapCount/2 and SnapCount (SyncRequestProcessor's randRoll).
func (s *Store) snapInterval() int64 {
	half := int64(s.o.SnapCount / 2)
	return half + 1 + s.rng.Int64N(int64(s.o.SnapCount)-half)
}

// DBID returns the database id.
func (s *Store) DBID() uint64 { return s.dbid }

// Replicator starts the log goroutine and returns the pipeline.Replicator
// that commits through commit. onFatal is called once if the log fails.
func (s *Store) Replicator(commit func([]pipeline.Entry), onFatal func(error)) *Replicator {
	s.repl = newReplicator(s.wal, commit, func(err error) {
		s.log.Error("the txn log failed; stopping (no write after this point is acknowledged)", "err", err)
		if onFatal != nil {
			onFatal(err)
		}
	})
	return s.repl
}

// Start runs the background duties over the live tree: heartbeat,
// autopurge, and snapshots. A first snapshot is taken at once when the
// recovery replayed txns or found no snapshot, as ZooKeeper takes one after
// loading its database.
func (s *Store) Start(src TreeSource) {
	s.mu.Lock()
	s.src = src
	first := s.Recovery.Replayed > 0 || s.Recovery.Snapshot == ""
	if first {
		s.snapping = true
	}
	s.mu.Unlock()
	if err := s.heartbeat.beat(s.o.Now()); err != nil {
		s.log.Warn("cannot write the heartbeat file", "err", err)
	}
	s.wg.Add(1)
	go s.background()
	if first {
		s.wg.Add(1)
		go s.snapshotInBackground()
	}
}

// Applied is the pipeline's Applied hook: it counts txns and starts a
// snapshot when enough were applied. If one is still being written, the
// count goes on ("too busy to snap" in ZooKeeper).
func (s *Store) Applied(lastZxid int64, txns int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sinceSnap += int64(txns)
	if s.sinceSnap < s.nextSnap || s.snapping || s.src == nil || s.closed {
		return
	}
	s.sinceSnap, s.nextSnap, s.snapping = 0, s.snapInterval(), true
	s.wg.Add(1)
	go s.snapshotInBackground()
}

func (s *Store) snapshotInBackground() {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		s.snapping = false
		s.mu.Unlock()
	}()
	if _, err := s.Snapshot(); err != nil && err != errAborted {
		// The log still holds everything: a failed snapshot costs only
		// a longer replay, so it is retried at the next interval rather
		// than stopping the server.
		s.Stats.SnapshotErrors.Add(1)
		s.log.Error("snapshot failed", "err", err)
	}
}

// Snapshot rolls the log and writes a fuzzy snapshot of the live tree now,
// without stopping writes. It returns when the snapshot is durable.
func (s *Store) Snapshot() (SnapshotResult, error) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	s.mu.Lock()
	src := s.src
	s.mu.Unlock()
	if src == nil {
		return SnapshotResult{}, fmt.Errorf("storage: not started")
	}
	// A new segment from here on: once this snapshot is the oldest one
	// kept, the segments before it can be deleted whole.
	s.wal.RequestRoll()
	start := time.Now()
	w := &snapshotWriter{fs: s.o.FS, dir: s.snapDir, dbid: s.dbid, chunk: s.o.SnapshotChunk, now: s.o.Now, abort: s.stop}
	res, err := w.write(src)
	if err != nil {
		return res, err
	}
	if !res.Skipped {
		s.purge.markValid(res.Path)
		s.Stats.Snapshots.Add(1)
		s.Stats.LastSnapNanos.Store(int64(time.Since(start)))
		s.log.Info("snapshot written", "file", res.Path, "nodes", res.Nodes, "bytes", res.Bytes, "took", time.Since(start))
	}
	return res, nil
}

// Purge runs a purge now (see Purge).
func (s *Store) Purge() (PurgeResult, error) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	res, err := s.purge.purge()
	if err == nil && len(res.Snapshots)+len(res.Segments) > 0 {
		s.log.Info("purged old snapshots and log segments",
			"snapshots", baseNames(res.Snapshots), "segments", baseNames(res.Segments))
	}
	return res, err
}

// background writes the heartbeat every tick and purges every
// PurgeInterval (first at once, as DatadirCleanupManager does).
func (s *Store) background() {
	defer s.wg.Done()
	tick := time.NewTicker(s.o.Tick)
	defer tick.Stop()
	var purge <-chan time.Time
	if s.o.PurgeInterval > 0 {
		t := time.NewTicker(s.o.PurgeInterval)
		defer t.Stop()
		purge = t.C
		s.autopurge()
	}
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			if err := s.heartbeat.beat(s.o.Now()); err != nil {
				s.log.Warn("cannot write the heartbeat file", "err", err)
			}
		case <-purge:
			s.autopurge()
		}
	}
}

func (s *Store) autopurge() {
	if _, err := s.Purge(); err != nil {
		s.log.Error("autopurge failed", "err", err)
	}
}

// Close stops the background work (a snapshot being written is abandoned),
// flushes and closes the log, and records the stop in the heartbeat. Stop
// the pipeline first: it flushes the replicator, so every write queued is
// durable and answered before Close.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	var err error
	if s.ens != nil {
		s.ens.close()
	}
	if s.repl != nil {
		err = s.repl.Close()
	} else {
		err = s.wal.Close()
	}
	if s.repl == nil || s.repl.Err() == nil {
		if herr := s.heartbeat.beat(s.o.Now()); herr != nil && err == nil {
			err = herr
		}
	}
	s.heartbeat.close()
	return err
}
