package quorum

import (
	"zkit/server/db"
	"zkit/server/tree"
	"zkit/server/zab"
)

// Backend is a member's durable state: its epochs, its transaction log and
// its snapshots. The storage package provides the durable one; tests and
// throwaway ensembles may keep it in memory.
type Backend interface {
	// Epochs returns the persisted acceptedEpoch and currentEpoch.
	Epochs() (accepted, current uint32)
	// SaveEpochs makes both epochs durable before returning.
	SaveEpochs(accepted, current uint32) error
	// DynamicConfig returns the configuration last saved, or nil.
	DynamicConfig() []byte
	// SaveDynamicConfig makes the active configuration durable.
	SaveDynamicConfig(b []byte) error
	// Append makes entries durable, in order, and then calls done with the
	// last of them (on any goroutine). Appends are processed in call order.
	Append(entries []zab.Entry, done func(lastZxid int64))
	// Truncate discards log entries after zxid, durably.
	Truncate(zxid int64) error
	// InstallSnapshot replaces the log with a snapshot as of zxid (the
	// leader's SNAP), durably.
	InstallSnapshot(zxid int64, t *tree.Tree) error
	// Tail returns up to max log entries after base (the most recent),
	// with base itself a point of the history.
	Tail(max int) (base int64, entries []zab.Entry)
	// Rebuild returns the state as of zxid: the newest snapshot at or
	// before it and the log up to it.
	Rebuild(zxid int64) (*tree.Tree, error)
	// EncodeSnapshot serializes the live tree, fuzzily, for a SNAP, and
	// returns the zxid the tree had reached when it was done: the learner
	// replays the transactions up to there over the snapshot.
	EncodeSnapshot(d *db.DB) ([]byte, int64, error)
	// DecodeSnapshot reads a SNAP's snapshot.
	DecodeSnapshot(b []byte) (*tree.Tree, error)
}
