package storage

import (
	"log/slog"
	"time"

	"zkit/server/storage/vfs"
)

// Defaults, as Apache ZooKeeper's where it has the setting.
const (
	DefaultSnapCount       = 100000   // snapCount
	DefaultPreAllocSize    = 64 << 20 // preAllocSize (64 MiB)
	DefaultSegmentSize     = 64 << 20 // zkit: a segment is rolled past this size
	DefaultSnapRetainCount = 3        // autopurge.snapRetainCount, also the minimum
	DefaultTick            = 2 * time.Second
	DefaultSnapshotChunk   = 1000
)

// Options configure a Store.
type Options struct {
	FS         vfs.FS // nil: the operating system's
	DataDir    string // snapshots and the heartbeat go to <DataDir>/zkit
	DataLogDir string // log segments go to <DataLogDir>/zkit; "" = DataDir
	// SnapCount: a snapshot is taken after a random number of txns between
	// SnapCount/2 and SnapCount, as ZooKeeper does, so members of an
	// ensemble do not all snapshot at once. 0 = DefaultSnapCount.
	SnapCount int
	// NoSync is forceSync=no: the log is written in order but never synced.
	// Acknowledged writes may be lost to a power failure; for tests only.
	NoSync       bool
	PreAllocSize int64 // bytes; 0 = DefaultPreAllocSize
	SegmentSize  int64 // bytes; 0 = DefaultSegmentSize
	// SnapRetainCount and PurgeInterval are autopurge.snapRetainCount and
	// autopurge.purgeInterval: every PurgeInterval (0: never), keep the
	// newest SnapRetainCount snapshots (at least 3) and the log they need.
	SnapRetainCount int
	PurgeInterval   time.Duration
	// Tick is how often the heartbeat file is written (tickTime).
	Tick time.Duration
	// SnapshotChunk is the number of nodes a snapshot encodes per hold of
	// the tree's read lock. 0 = DefaultSnapshotChunk.
	SnapshotChunk int
	Extended      bool // TTL nodes (zookeeper.extendedTypesEnabled)
	Logger        *slog.Logger
	Now           func() time.Time
	// Seed seeds the randomized snapshot interval; 0 picks one.
	Seed uint64
}

func (o *Options) defaults() {
	if o.FS == nil {
		o.FS = vfs.OS
	}
	if o.DataLogDir == "" {
		o.DataLogDir = o.DataDir
	}
	if o.SnapCount <= 0 {
		o.SnapCount = DefaultSnapCount
	}
	if o.SnapCount < 2 {
		o.SnapCount = 2
	}
	if o.PreAllocSize <= 0 {
		o.PreAllocSize = DefaultPreAllocSize
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SnapRetainCount < DefaultSnapRetainCount {
		o.SnapRetainCount = DefaultSnapRetainCount
	}
	if o.Tick <= 0 {
		o.Tick = DefaultTick
	}
	if o.SnapshotChunk <= 0 {
		o.SnapshotChunk = DefaultSnapshotChunk
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}
