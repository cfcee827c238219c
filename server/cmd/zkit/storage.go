package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"zkit/server/config"
	"zkit/server/member"
)

// storageOptions maps the zoo.cfg storage settings: dataDir, dataLogDir,
// snapCount, forceSync, preAllocSize (KB) and autopurge.*. --in-memory
// keeps no data directory at all.
func storageOptions(cfg *config.Config, inMemory bool) member.StorageOptions {
	if inMemory || cfg.DataDir == "" {
		return member.StorageOptions{}
	}
	return member.StorageOptions{
		DataDir:         cfg.DataDir,
		DataLogDir:      cfg.DataLogDir,
		SnapCount:       cfg.SnapCount,
		NoSync:          !cfg.ForceSync,
		PreAlloc:        cfg.PreAllocSizeKB * 1024,
		SnapRetainCount: cfg.SnapRetainCount,
		PurgeInterval:   time.Duration(cfg.PurgeIntervalHours) * time.Hour,
	}
}

// waitForStop returns on SIGINT or SIGTERM, or with failed set when the
// server stopped itself because its txn log failed (ZooKeeper exits then).
func waitForStop(log *slog.Logger, srv *member.Server) (failed bool) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
		return false
	case <-srv.Failed():
		log.Error("exiting: the server stopped after a storage failure", "err", srv.Err())
		return true
	}
}
