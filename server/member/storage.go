package member

import (
	"fmt"
	"time"

	"zkit/server/pipeline"
	"zkit/server/storage"
	"zkit/server/storage/vfs"
)

// StorageOptions make a server durable; with no DataDir it keeps everything
// in memory (pipeline.InMemory), for throwaway test servers.
type StorageOptions struct {
	DataDir    string // snapshots, the heartbeat, and the log unless DataLogDir is set
	DataLogDir string
	SnapCount  int   // snapCount; 0 = 100000
	NoSync     bool  // forceSync=no: the log is never synced (tests only)
	PreAlloc   int64 // preAllocSize in bytes; 0 = 64 MiB
	// SnapRetainCount and PurgeInterval are autopurge.snapRetainCount and
	// autopurge.purgeInterval (0 = no autopurge).
	SnapRetainCount int
	PurgeInterval   time.Duration
	FS              vfs.FS // nil = the operating system's
}

// openStorage recovers the data directory, if any, into the database and
// the session tracker, and returns the replicator writes go through.
func (s *Server) openStorage() (pipeline.Replicator, error) {
	o := s.opts.Storage
	if o.DataDir == "" {
		return pipeline.InMemory{P: s.Proc}, nil
	}
	st, err := storage.Open(storage.Options{
		FS: o.FS, DataDir: o.DataDir, DataLogDir: o.DataLogDir, SnapCount: o.SnapCount,
		NoSync: o.NoSync, PreAllocSize: o.PreAlloc, SnapRetainCount: o.SnapRetainCount,
		PurgeInterval: o.PurgeInterval, Tick: s.opts.TickTime, Extended: s.opts.ExtendedTypes,
		Logger: s.opts.Logger, Now: s.opts.Now,
	})
	if err != nil {
		return nil, err
	}
	rec := &st.Recovery
	s.DB.Replace(rec.Tree)
	s.Proc.SetLastZxid(rec.LastZxid)
	s.restoreSessions(rec)
	s.store.Store(st)
	return st.Replicator(s.Proc.Apply, s.fail), nil
}

// restoreSessions tracks the recovered sessions with what is left of their
// timeouts once the downtime is charged (storage.PlanSessions). Those that
// ran out while the server was down are marked closing and expire at the
// first tick: the expiry path submits their closeSession, so their
// ephemerals go and watches fire as for any expiry, and a client coming
// back is told its session expired.
func (s *Server) restoreSessions(rec *storage.Recovery) {
	sessions := rec.Tree.Sessions()
	plan := storage.PlanSessions(sessions, rec.Downtime, s.opts.TickTime)
	for id, left := range plan.Restore {
		s.Sessions.AddExpiring(id, sessions[id], left)
	}
	for _, id := range plan.Expired {
		s.opts.Logger.Info("session expired while the server was down", "session", fmt.Sprintf("0x%x", id),
			"timeout_ms", sessions[id], "downtime", rec.Downtime.Round(time.Millisecond))
		s.Sessions.AddExpiring(id, sessions[id], 0)
		s.Sessions.SetClosing(id)
	}
}

// Store returns the server's storage, or nil when it keeps no data
// directory.
func (s *Server) Store() *storage.Store { return s.store.Load() }

// applied forwards the pipeline's Applied hook to the storage (snapshots).
func (s *Server) applied(lastZxid int64, txns int) {
	if st := s.store.Load(); st != nil {
		st.Applied(lastZxid, txns)
	}
	if s.peer != nil {
		s.peer.Applied(lastZxid, txns)
	}
}

// fail is called once when the txn log fails: the server stops, as
// ZooKeeper exits, rather than serve on without durability.
func (s *Server) fail(err error) {
	s.failErr.Store(&err)
	s.opts.Logger.Error("stopping the server: the txn log failed", "err", err)
	s.Stop()
	close(s.failed)
}

// Failed is closed when the server stopped itself because its txn log
// failed; Err then returns why.
func (s *Server) Failed() <-chan struct{} { return s.failed }

// Err returns the failure that stopped the server, if any.
func (s *Server) Err() error {
	if p := s.failErr.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Server) closeStorage() {
	if st := s.store.Load(); st != nil {
		if err := st.Close(); err != nil {
			s.opts.Logger.Warn("closing the storage", "err", err)
		}
	}
}
