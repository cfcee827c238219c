// Package storage makes a zkit server durable: the transaction log, fuzzy
// snapshots, recovery at start, purging, and the Replicator that acknowledges
// a write only once its transaction is on disk. Every file operation goes
// through vfs.FS.
//
// # Files
//
// Snapshots live in <dataDir>/zkit, log segments in <dataLogDir>/zkit (the
// zkit directory plays the part of ZooKeeper's version-2):
//
//	log.<16 hex digits>       a log segment; the digits are the zxid of its first txn
//	snapshot.<16 hex digits>  a snapshot; the digits are the zxid it is consistent from
//	snapshot.<...>.tmp        a snapshot being written (removed at start)
//	heartbeat                 when the server was last seen alive (session timeouts)
//
// All integers are big-endian, strings and buffers are jute's (a 4-byte
// length, then the bytes), checksums are CRC32C (Castagnoli).
//
// # Log segments
//
// A segment starts with a 32-byte header — magic "ZKLG", format version,
// database id, the zxid of its first txn, flags, and a CRC of those — and
// is preallocated in preAllocSize chunks, so the space after the written
// end reads as zeros. Then come batches, one per group commit:
//
//	magic "ZKBT" | payload length | record count | first zxid | last zxid | CRC | payload
//
// (4+4+4+8+8+4 = 32 bytes of header). The payload is the records, each a
// 4-byte length and a transaction exactly as proto.Txn.Encode writes it —
// Apache's TxnHeader, the txn record and the optional digest — so the
// records read like Apache's log entries. The CRC covers the database id,
// the header fields and the payload: a batch copied from another database,
// or forged inside a znode's data, does not validate.
//
// One batch is written with one write and made durable with one fdatasync
// (forceSync=no skips the sync, never the order), and batch N+1 is written
// only after batch N's sync returned. So at the first invalid batch of the
// log (non-zero bytes that are not a valid batch: bad magic, bad CRC, a
// length past the end), if any valid batch follows — later in the segment or
// in a later segment — acknowledged data was damaged: recovery refuses to
// start and names the file and offset. If none follows, it is the tail of a
// write that never completed: it is cut off, and said so in the log.
// All-zero space ends the log.
//
// A new segment is started at every start of the server (as ZooKeeper
// opens a new log file: nothing is ever appended after bytes a crash left,
// and the torn tail, once cut, is synced before the new segment exists),
// when a snapshot begins (so purging deletes whole segments) and when a
// segment passes the segment size; its header is synced, and the directory
// too, before any batch is written to it.
//
// # Snapshots
//
// A 40-byte header — magic "ZKSN", version, database id, the zxid Z the
// snapshot is consistent from, the time (ms) and the node count at the start
// (a sizing hint) — then the session table (a count, then id and timeout per
// session), then records tagged by a 4-byte int: 'A' defines an ACL id (id, ACL vector), 'N'
// is a znode (path, data, czxid, mzxid, pzxid, ctime, mtime, version,
// cversion, aversion, ephemeralOwner, ACL id, and the number of children
// then, a hint to size its children set), 'E' ends the stream with the
// number of node records. A CRC32C of everything before it closes the file.
//
// Snapshots are fuzzy, as ZooKeeper's: Z is read under the tree's lock,
// then the tree is walked in chunks, releasing the lock between chunks, so
// writes go on; replaying the log from Z+1 over the snapshot gives the exact
// state, because every transaction sets what it changes to absolute values
// and tolerates replays (tree.Apply, plus the cases applyReplayed handles).
// A node whose parent the walk missed is dropped at load (tree.Loader): it
// is created again by the replay. An ACL definition is written just
// before the first node that uses its id: ids are never reused for another
// list, so this cannot miss an ACL created during the walk, as ZooKeeper's
// snapshot (ACL cache first, nodes later) can.
//
// A snapshot is written to a .tmp file, synced, renamed, and the directory
// synced.
//
// # Recovery
//
// Open loads the newest snapshot whose checksum holds (an invalid one is
// reported and skipped, never deleted), then replays every txn after its
// zxid from the segment holding the next zxid on, checking that zxids follow
// each other. With no valid snapshot the log is replayed over an empty tree
// if it starts at the beginning (counter 1); otherwise Open refuses.
//
// Sessions come back from the snapshot and the log. The heartbeat file says
// when the server was last alive; its downtime is charged to every session's
// timeout (PlanSessions): a session whose timeout ran out is expired at the
// first tick once serving, through the pipeline, so its ephemerals go and
// watches fire; the others keep what is left of their timeout, at least a
// tick. ZooKeeper gives every session its full timeout again instead.
//
// # Failures
//
// A write or sync of the log that fails stops the log for good (fail-stop,
// as ZooKeeper's SyncRequestProcessor exits): nothing from the failed batch
// on is acknowledged, and the server stops. A snapshot that fails is logged
// and retried at the next interval: the log still holds everything.
//
// # Purge
//
// Purge (autopurge, or `zkit datadir purge`) keeps the newest
// snapRetainCount (at least 3) snapshots that validate and deletes older
// snapshots, and the segments that hold only txns at or below the oldest
// kept snapshot's zxid — never the one holding the txn after it.
package storage
