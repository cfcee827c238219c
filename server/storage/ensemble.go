package storage

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"zkit/server/jute"
	"zkit/server/proto"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
	"zkit/server/zab"
)

// An ensemble member uses its Store differently from a standalone server:
// ZAB hands it entries to log (proposals, or the leader's own), it keeps
// the two epochs ZAB promises on, and a leader may make it cut its log
// back (TRUNC) or replace it with a snapshot (SNAP). Snapshots, purging
// and recovery work as for a standalone server.

// ZooKeeper's names for the epoch files (QuorumPeer), kept in <dataDir>/zkit.
const (
	acceptedEpochName = "acceptedEpoch"
	currentEpochName  = "currentEpoch"
	// dynamicConfigName holds the last configuration this member made
	// active (Apache writes it as zoo.cfg.dynamic.<version>).
	dynamicConfigName = "zkit.dynamic"
)

// ensembleLog is the group-committing log writer of an ensemble member.
type ensembleLog struct {
	s       *Store
	mu      sync.Mutex
	queue   []zab.Entry
	dones   []pendingDone
	wake    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
	walMu   sync.Mutex // serializes the writer with truncation and snapshot installs
	onFatal func(error)
	failed  bool
}

type pendingDone struct {
	last int64
	fn   func(int64)
}

// StartEnsemble starts the log writer of an ensemble member; onFatal is
// called once if the log fails (the member must then stop).
func (s *Store) StartEnsemble(onFatal func(error)) {
	l := &ensembleLog{s: s, wake: make(chan struct{}, 1), stop: make(chan struct{}), onFatal: onFatal}
	s.ens = l
	l.wg.Add(1)
	go l.run()
}

// AppendEntries logs entries after those already logged and calls done
// with the last of them once they are durable. Entries queued while a
// batch is being written go together into the next one.
func (s *Store) AppendEntries(es []zab.Entry, done func(lastZxid int64)) {
	l := s.ens
	l.mu.Lock()
	l.queue = append(l.queue, es...)
	l.dones = append(l.dones, pendingDone{last: es[len(es)-1].Zxid, fn: done})
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *ensembleLog) run() {
	defer l.wg.Done()
	for {
		select {
		case <-l.wake:
		case <-l.stop:
			return
		}
		l.mu.Lock()
		es, dones := l.queue, l.dones
		l.queue, l.dones = nil, nil
		l.mu.Unlock()
		if len(es) == 0 || l.failed {
			continue
		}
		l.walMu.Lock()
		err := l.s.wal.appendRecords(entryRecords(es))
		l.walMu.Unlock()
		if err != nil {
			l.failed = true
			l.s.log.Error("the txn log failed; stopping (no entry after this point is acknowledged)", "err", err)
			if l.onFatal != nil {
				// On its own goroutine: onFatal stops the member, and
				// stopping waits for this writer to exit.
				go l.onFatal(err)
			}
			continue
		}
		for _, d := range dones {
			d.fn(d.last)
		}
	}
}

func (l *ensembleLog) close() {
	close(l.stop)
	l.wg.Wait()
}

// dropAfter forgets queued entries after z (a truncation overtook them).
func (l *ensembleLog) dropAfter(z int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	keep := l.queue[:0]
	for _, e := range l.queue {
		if e.Zxid <= z {
			keep = append(keep, e)
		}
	}
	l.queue = keep
	var dones []pendingDone
	for _, d := range l.dones {
		if d.last <= z {
			dones = append(dones, d)
		}
	}
	l.dones = dones
}

func entryRecords(es []zab.Entry) records {
	return records{
		n:      len(es),
		zxid:   func(i int) int64 { return es[i].Zxid },
		encode: func(e *jute.Encoder, i int) { e.Raw(es[i].Data) },
	}
}

// Epochs returns the persisted acceptedEpoch and currentEpoch (0 when a
// file is missing, as for a new member).
func (s *Store) Epochs() (accepted, current uint32) {
	return s.readEpoch(acceptedEpochName), s.readEpoch(currentEpochName)
}

func (s *Store) readEpoch(name string) uint32 {
	b, err := vfs.ReadAll(s.o.FS, filepath.Join(s.snapDir, name))
	if err != nil {
		return 0
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		s.log.Error("unreadable epoch file; taking 0", "file", name, "err", err)
		return 0
	}
	return uint32(v)
}

// SaveEpochs makes both epochs durable, each file written whole and renamed
// into place (ZooKeeper's AtomicFileOutputStream).
func (s *Store) SaveEpochs(accepted, current uint32) error {
	for _, f := range []struct {
		name string
		v    uint32
	}{{acceptedEpochName, accepted}, {currentEpochName, current}} {
		if err := s.writeAtomic(f.name, []byte(strconv.FormatUint(uint64(f.v), 10)+"\n")); err != nil {
			return err
		}
	}
	return s.o.FS.SyncDir(s.snapDir)
}

// DynamicConfig returns the last configuration saved with
// SaveDynamicConfig, or nil.
func (s *Store) DynamicConfig() []byte {
	b, err := vfs.ReadAll(s.o.FS, filepath.Join(s.snapDir, dynamicConfigName))
	if err != nil {
		return nil
	}
	return b
}

// SaveDynamicConfig makes the active configuration durable, so that a
// restart rejoins with the membership it had, not the one it was first
// configured with.
func (s *Store) SaveDynamicConfig(b []byte) error {
	if err := s.writeAtomic(dynamicConfigName, b); err != nil {
		return err
	}
	return s.o.FS.SyncDir(s.snapDir)
}

func (s *Store) writeAtomic(name string, data []byte) error {
	final := filepath.Join(s.snapDir, name)
	tmp := final + tmpSuffix
	f, err := s.o.FS.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return s.o.FS.Rename(tmp, final)
}

// Truncate cuts the log back to zxid z, durably: segments after it go,
// the segment holding it is cut at the first batch that goes beyond z (what
// that batch held up to z is written again), and snapshots after z go.
// Entries queued but not yet written after z are dropped.
func (s *Store) Truncate(z int64) error {
	if s.ens != nil {
		s.ens.dropAfter(z)
		s.ens.walMu.Lock()
		defer s.ens.walMu.Unlock()
	}
	s.wal.closeSegment()
	segs, err := listSegments(s.o.FS, s.logDir)
	if err != nil {
		return err
	}
	var keep []*proto.Txn
	for i := len(segs) - 1; i >= 0; i-- {
		seg := segs[i]
		if seg.first > z {
			if err := s.o.FS.Remove(seg.path); err != nil {
				return err
			}
			continue
		}
		if keep, err = s.cutSegment(seg, z); err != nil {
			return err
		}
		break
	}
	if err := s.o.FS.SyncDir(s.logDir); err != nil {
		return err
	}
	s.wal.last = z
	if err := s.removeSnapshotsAfter(z); err != nil {
		return err
	}
	if len(keep) > 0 {
		return s.wal.Append(keep)
	}
	return nil
}

// cutSegment truncates seg at its first batch holding a zxid after z and
// returns the transactions of that batch that were at or before z.
func (s *Store) cutSegment(seg segment, z int64) ([]*proto.Txn, error) {
	sc, err := scanSegment(s.o.FS, seg, s.dbid)
	if err != nil {
		return nil, err
	}
	cut := sc.end
	var keep []*proto.Txn
	for i := range sc.batches {
		b := &sc.batches[i]
		if b.hdr.Last <= z {
			continue
		}
		cut = b.off
		txns, err := sc.txns(b)
		if err != nil {
			return nil, err
		}
		for _, t := range txns {
			if t.Header.Zxid <= z {
				keep = append(keep, t)
			}
		}
		break
	}
	f, err := s.o.FS.OpenRW(seg.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := f.Truncate(cut); err != nil {
		return nil, err
	}
	return keep, f.Sync()
}

func (s *Store) removeSnapshotsAfter(z int64) error {
	snaps, _, err := listSnapshots(s.o.FS, s.snapDir)
	if err != nil {
		return err
	}
	removed := false
	for _, sn := range snaps {
		if sn.zxid > z {
			if err := s.o.FS.Remove(sn.path); err != nil {
				return err
			}
			removed = true
		}
	}
	if removed {
		return s.o.FS.SyncDir(s.snapDir)
	}
	return nil
}

// InstallSnapshot replaces the member's state with a leader's snapshot:
// the tree is written as a snapshot file, and the log — which may hold a
// history the leader never had — is removed, to start again after it.
func (s *Store) InstallSnapshot(z int64, t *tree.Tree) error {
	if s.ens != nil {
		s.ens.dropAfter(-1)
		s.ens.walMu.Lock()
		defer s.ens.walMu.Unlock()
	}
	s.wal.closeSegment()
	if err := s.removeSnapshotsAfter(t.LastZxid() - 1); err != nil {
		return err
	}
	w := &snapshotWriter{fs: s.o.FS, dir: s.snapDir, dbid: s.dbid, chunk: 1 << 30, now: s.o.Now}
	if _, err := w.write(staticTree{t}); err != nil {
		return err
	}
	segs, err := listSegments(s.o.FS, s.logDir)
	if err != nil {
		return err
	}
	for _, seg := range segs {
		if err := s.o.FS.Remove(seg.path); err != nil {
			return err
		}
	}
	if err := s.o.FS.SyncDir(s.logDir); err != nil {
		return err
	}
	s.wal.last = t.LastZxid()
	return nil
}

// staticTree is a TreeSource over a tree nobody else is using.
type staticTree struct{ t *tree.Tree }

func (st staticTree) ReadPausing(fn func(t *tree.Tree, pause func(func()))) {
	fn(st.t, func(unlocked func()) {
		if unlocked != nil {
			unlocked()
		}
	})
}

// Tail returns up to max of the last logged entries after the newest
// snapshot, and the history point they follow.
func (s *Store) Tail(max int) (int64, []zab.Entry) {
	base := s.Recovery.SnapshotZxid
	segs, err := listSegments(s.o.FS, s.logDir)
	if err != nil {
		return s.Recovery.LastZxid, nil
	}
	var es []zab.Entry
	for _, seg := range segs[startIndex(segs, base):] {
		sc, err := scanSegment(s.o.FS, seg, s.dbid)
		if err != nil {
			break
		}
		for i := range sc.batches {
			es = appendRecordsAfter(es, sc.batches[i].payload, base)
		}
	}
	if len(es) > max {
		base = es[len(es)-max-1].Zxid
		es = es[len(es)-max:]
	}
	return base, es
}

// appendRecordsAfter appends the records of a batch payload whose zxid is
// after base, keeping their encoded bytes.
func appendRecordsAfter(es []zab.Entry, payload []byte, base int64) []zab.Entry {
	for len(payload) >= 4 {
		n := int(be.Uint32(payload))
		if n > len(payload)-4 || n < 20 {
			break
		}
		rec := payload[4 : 4+n]
		// The zxid is the third field of the TxnHeader: long, int, long.
		z := int64(be.Uint64(rec[12:]))
		if z > base {
			es = append(es, zab.Entry{Zxid: z, Data: append([]byte(nil), rec...)})
		}
		payload = payload[4+n:]
	}
	return es
}

// Rebuild returns the state as of zxid z: the newest valid snapshot at or
// before it, with the log replayed up to z.
func (s *Store) Rebuild(z int64) (*tree.Tree, error) {
	if s.ens != nil {
		s.ens.walMu.Lock()
		defer s.ens.walMu.Unlock()
	}
	snaps, _, err := listSnapshots(s.o.FS, s.snapDir)
	if err != nil {
		return nil, err
	}
	t, from := tree.New(), int64(0)
	t.Extended = s.o.Extended
	for i := len(snaps) - 1; i >= 0; i-- {
		if snaps[i].zxid > z {
			continue
		}
		st, h, _, err := loadSnapshot(s.o.FS, snaps[i].path, s.o.Extended)
		if err == nil {
			t, from = st, h.Zxid
			break
		}
	}
	r := &logReplay{fs: s.o.FS, dir: s.logDir, dbid: s.dbid, log: s.log, t: t, z: from, fresh: from == 0, until: z}
	if err := r.run(); err != nil {
		return nil, err
	}
	return t, nil
}

// EncodeSnapshot serializes a live tree, fuzzily as a snapshot file is, for
// a leader's SNAP. It returns the bytes and the zxid the tree had reached
// when the walk ended: the learner replays what follows up to that point
// over the snapshot.
func EncodeSnapshot(src TreeSource) ([]byte, int64, error) {
	var buf bytes.Buffer
	w := &snapshotWriter{sink: &buf, chunk: DefaultSnapshotChunk, now: time.Now}
	if _, err := w.write(src); err != nil {
		return nil, 0, err
	}
	var end int64
	src.ReadPausing(func(t *tree.Tree, _ func(func())) { end = t.LastZxid() })
	return buf.Bytes(), end, nil
}

// DecodeSnapshot rebuilds the tree a SNAP's snapshot holds.
func DecodeSnapshot(b []byte, extended bool) (*tree.Tree, error) {
	if len(b) < snapshotHeaderSize+snapshotTrailer {
		return nil, fmt.Errorf("snapshot of %d bytes is too short", len(b))
	}
	body := b[:len(b)-snapshotTrailer]
	if want, got := be.Uint32(b[len(body):]), crc(body); want != got {
		return nil, fmt.Errorf("snapshot checksum mismatch (stored 0x%08x, computed 0x%08x)", want, got)
	}
	var l *tree.Loader
	h, _, err := decodeSnapshot(body, SnapshotVisitor{
		Header:  func(h SnapshotHeader) { l = tree.NewLoader(extended, int(min(h.NodeHint, 1<<26))+16) },
		Session: func(id int64, timeout int32) { l.Session(id, timeout) },
		ACL:     func(id int64, acl []proto.ACL) { l.ACL(id, acl) },
		Node:    func(path string, n tree.Node, children int) { l.Node(path, n, children) },
	})
	if err != nil {
		return nil, err
	}
	t, _, err := l.Finish(h.Zxid)
	return t, err
}
