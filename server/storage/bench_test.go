package storage

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"zkit/server/auth"
	"zkit/server/db"
	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
)

// bigTree applies creates of dirs×per znodes (plus the dirs) to d.
func bigTree(d *db.DB, dirs, per int) int64 {
	z := int64(0)
	d.Write(func(t *tree.Tree) {
		data := make([]byte, 64)
		for i := 0; i < dirs; i++ {
			z++
			dir := fmt.Sprintf("/d%04d", i)
			t.Apply(&proto.Txn{Header: proto.TxnHeader{Zxid: z, Type: proto.OpCreate}, Body: &proto.CreateTxn{
				Form: proto.OpCreate, Path: dir, ACL: proto.OpenACLUnsafe, ParentCVersion: int32(i + 1)}})
			for j := 0; j < per; j++ {
				z++
				t.Apply(&proto.Txn{Header: proto.TxnHeader{Zxid: z, Type: proto.OpCreate}, Body: &proto.CreateTxn{
					Form: proto.OpCreate, Path: fmt.Sprintf("%s/n%06d", dir, j), Data: data,
					ACL: proto.OpenACLUnsafe, ParentCVersion: int32(j + 1)}})
			}
		}
	})
	return z
}

// BenchmarkRecovery1M times the recovery of 1,000,000 znodes: the newest
// snapshot loaded, then 10,000 txns replayed from the log.
func BenchmarkRecovery1M(b *testing.B) {
	dir := b.TempDir()
	d := db.New(auth.NewRegistry(""), false)
	z := bigTree(d, 1000, 1000)
	o := Options{DataDir: dir, Logger: quiet, PreAllocSize: 1 << 20}
	s, err := Open(o)
	if err != nil {
		b.Fatal(err)
	}
	s.Start(d)
	if _, err := s.Snapshot(); err != nil {
		b.Fatal(err)
	}
	r := s.Replicator(func([]pipeline.Entry) {}, nil)
	for i := 0; i < 100; i++ {
		var e []pipeline.Entry
		for j := 0; j < 100; j++ {
			z++
			e = append(e, pipeline.Entry{Txn: &proto.Txn{Header: proto.TxnHeader{Zxid: z, Type: proto.OpSetData},
				Body: &proto.SetDataRequest{Path: fmt.Sprintf("/d%04d/n%06d", j, i), Data: []byte("replayed"), Version: 1}}})
		}
		r.Replicate(e)
	}
	s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(o)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n := s.Recovery.Tree.NodeCount(); n != 1_001_004 || s.Recovery.Replayed != 10_000 {
			b.Fatalf("recovered %d nodes, replayed %d", n, s.Recovery.Replayed)
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/recovery")
}

// BenchmarkSnapshot1M times writing a snapshot of 1,000,000 znodes.
func BenchmarkSnapshot1M(b *testing.B) {
	d := db.New(auth.NewRegistry(""), false)
	bigTree(d, 1000, 1000)
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		if err := vfs.OS.MkdirAll(Dir(dir)); err != nil {
			b.Fatal(err)
		}
		w := &snapshotWriter{fs: vfs.OS, dir: Dir(dir), dbid: 1, chunk: DefaultSnapshotChunk, now: time.Now, abort: make(chan struct{})}
		if _, err := w.write(d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGroupCommit64 has 64 clients doing 1 KiB setData through the
// real pipeline and a log on the disk, each waiting for its answer before
// the next write, with forceSync=yes. It reports fsyncs per second and txns
// per fsync.
func BenchmarkGroupCommit64(b *testing.B) { groupCommit(b, 64) }

// BenchmarkGroupCommit1 is the same with one client: one txn per fsync.
func BenchmarkGroupCommit1(b *testing.B) { groupCommit(b, 1) }

func groupCommit(b *testing.B, clients int) {
	o := Options{DataDir: b.TempDir(), Logger: quiet, SnapCount: 1 << 30}
	n, err := startNode(o, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer n.stop()
	cs := make([]*client, clients)
	for i := range cs {
		cs[i] = newClient(int64(i+1), nil)
		n.proc.Register(int64(i+1), cs[i])
		n.proc.Submit(&pipeline.Request{Client: cs[i], Session: int64(i + 1), Op: proto.OpCreateSession, Timeout: 30000, Handshake: true})
		c := cs[i]
		c.wait(func() bool { return c.created }, nil, 5*time.Second)
		body := encode(&proto.CreateRequest{Path: fmt.Sprintf("/c%d", i), ACL: proto.OpenACLUnsafe})
		n.proc.Submit(&pipeline.Request{Client: c, Session: c.session, Xid: 1, Op: proto.OpCreate, Body: body})
		c.wait(func() bool { _, ok := c.replies[1]; return ok }, nil, 5*time.Second)
	}
	data := make([]byte, 1024)
	f0, b0 := n.store.Stats.Fsyncs.Load(), n.store.Stats.Batches.Load()
	t0 := n.store.Stats.Txns.Load()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for xid := int32(2); xid < int32(2+b.N/clients+1); xid++ {
				body := encode(&proto.SetDataRequest{Path: fmt.Sprintf("/c%d", i), Data: data, Version: -1})
				n.proc.Submit(&pipeline.Request{Client: c, Session: c.session, Xid: xid, Op: proto.OpSetData, Body: body})
				c.wait(func() bool { _, ok := c.replies[xid]; return ok }, nil, 10*time.Second)
			}
		}()
	}
	wg.Wait()
	secs := b.Elapsed().Seconds()
	fsyncs := n.store.Stats.Fsyncs.Load() - f0
	txns := n.store.Stats.Txns.Load() - t0
	b.ReportMetric(float64(fsyncs)/secs, "fsyncs/s")
	b.ReportMetric(float64(txns)/float64(n.store.Stats.Batches.Load()-b0), "txns/fsync")
	b.ReportMetric(float64(txns)/secs, "txns/s")
	b.ReportMetric(float64(n.store.Stats.AvgFsync().Microseconds()), "µs/fsync")
}
