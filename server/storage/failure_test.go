package storage

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
)

// A failed write or sync must not acknowledge its batch or any later one:
// the replicator stops for good and says so once.
func TestLogFailureStopsWithoutAcknowledging(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpWrite, vfs.OpSync, vfs.OpPreallocate, vfs.OpCreate} {
		t.Run(op.String(), func(t *testing.T) {
			mem := vfs.NewMem(false, 1)
			var fail sync.Once
			armed := make(chan struct{})
			inj := vfs.InjectorFunc(func(o vfs.Op, name string) error {
				select {
				case <-armed:
				default:
					return nil
				}
				if o == op && strings.Contains(name, "/log.") {
					failed := false
					fail.Do(func() { failed = true })
					if failed {
						return vfs.ErrInjected
					}
				}
				return nil
			})
			o := memOptions(vfs.Inject(mem, inj))
			o.PreAllocSize = 64 // every batch extends the file
			s, err := Open(o)
			require.NoError(t, err)
			var mu sync.Mutex
			var committed []pipeline.Entry
			fatal := make(chan error, 1)
			r := s.Replicator(func(e []pipeline.Entry) {
				mu.Lock()
				committed = append(committed, e...)
				mu.Unlock()
			}, func(err error) { fatal <- err })

			batches := someBatches(1, 6)
			r.Replicate(entries(batches[0]))
			r.Flush()
			if op == vfs.OpCreate {
				r.log.RequestRoll() // the next batch starts a segment
			}
			close(armed)
			for _, b := range batches[1:] {
				r.Replicate(entries(b))
			}
			r.Flush() // returns although nothing more is committed
			select {
			case err := <-fatal:
				require.ErrorIs(t, err, vfs.ErrInjected)
			case <-time.After(5 * time.Second):
				t.Fatal("no fatal error reported")
			}
			mu.Lock()
			require.Len(t, committed, len(batches[0]), "nothing after the failure is acknowledged")
			mu.Unlock()
			require.ErrorIs(t, r.Err(), vfs.ErrInjected)
			r.Replicate(entries(someBatches(100, 1)[0]))
			r.Flush()
			require.Len(t, committed, len(batches[0]))
			require.NoError(t, s.Close())

			// What was acknowledged is on disk.
			s2, err := Open(memOptions(mem))
			require.NoError(t, err)
			require.GreaterOrEqual(t, s2.Recovery.LastZxid, batches[0][len(batches[0])-1].Header.Zxid)
			require.NoError(t, s2.Close())
		})
	}
}

// Through the pipeline: after a sync fails, no client hears of a write
// whose batch failed, and every write a client heard of survives.
func TestPipelineFailStopOnSyncError(t *testing.T) {
	mem := vfs.NewMem(false, 1)
	var diskGone atomic.Bool
	fs := vfs.Inject(mem, vfs.InjectorFunc(func(op vfs.Op, name string) error {
		if op == vfs.OpSync && strings.Contains(name, "/log.") && diskGone.Load() {
			return vfs.ErrInjected // from here on, every log sync fails
		}
		return nil
	}))
	h := newHistory()
	o := powerLossOptions(fs, 1)
	n, err := startNode(o, h)
	require.NoError(t, err)
	c := newClient(0x10, h)
	n.proc.Register(0x10, c)
	n.proc.Submit(&pipeline.Request{Client: c, Session: 0x10, Op: proto.OpCreateSession, Timeout: 30000, Handshake: true})
	create := func(xid int32) {
		body := encode(&proto.CreateRequest{Path: fmt.Sprintf("/f%d", xid), ACL: proto.OpenACLUnsafe})
		n.proc.Submit(&pipeline.Request{Client: c, Session: 0x10, Xid: xid, Op: proto.OpCreate, Body: body})
	}
	// Three writes answered one by one, then the disk goes and 37 more
	// are sent.
	for xid := int32(1); xid <= 3; xid++ {
		create(xid)
		require.True(t, c.wait(func() bool { _, ok := c.replies[xid]; return ok }, n.failed, 10*time.Second), "create %d answered", xid)
	}
	diskGone.Store(true)
	for xid := int32(4); xid <= 40; xid++ {
		create(xid)
	}
	select {
	case <-n.failed:
	case <-time.After(5 * time.Second):
		t.Fatal("the log did not fail")
	}
	require.ErrorIs(t, n.fatal.Load().(error), vfs.ErrInjected)
	n.stop()
	c.mu.Lock()
	answered := len(c.replies)
	c.mu.Unlock()
	require.Equal(t, 3, answered, "writes before the failure are answered, none after the failed sync")

	n2, err := startNode(powerLossOptions(mem, 2), nil)
	require.NoError(t, err)
	defer n2.stop()
	_, last := n2.tree()
	require.GreaterOrEqual(t, last, h.acked.Load(), "every answered write is durable")
	c.mu.Lock()
	defer c.mu.Unlock()
	for xid := range c.replies {
		n2.db.Read(func(tr *tree.Tree) { require.NotNil(t, tr.Get(fmt.Sprintf("/f%d", xid)), "answered create /f%d", xid) })
	}
}

// A snapshot that fails is logged and retried later; writes go on, as the
// log still holds everything.
func TestSnapshotFailureKeepsServing(t *testing.T) {
	mem := vfs.NewMem(false, 1)
	fs := vfs.Inject(mem, vfs.FailNth(vfs.OpRename, 1, false))
	o := powerLossOptions(fs, 1)
	n, err := startNode(o, nil)
	require.NoError(t, err)
	defer n.stop()
	require.Eventually(t, func() bool { return n.store.Stats.SnapshotErrors.Load() == 1 }, 5*time.Second, time.Millisecond,
		"the first snapshot (taken at start) fails on its rename")
	_, err = n.store.Snapshot()
	require.NoError(t, err, "the next one succeeds")
	require.Nil(t, n.repl.Err())
	require.False(t, errors.Is(n.repl.Err(), vfs.ErrInjected))
}
