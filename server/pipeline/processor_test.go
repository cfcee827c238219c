package pipeline_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/pipeline"
	"zkit/server/proto"
	"zkit/server/tree"
)

// A read with nothing pending before it is answered on the submitting
// goroutine, before Submit returns.
func TestReadAnsweredInline(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	h.must(c, proto.OpCreate, createReq("/a", "v", 0))
	n := c.count()
	xid := h.submit(c, proto.OpGetData, getData("/a"))
	require.Equal(t, n+1, c.count())
	r := c.replyTo(t, xid)
	require.Equal(t, proto.ErrOK, r.Err)
	require.Equal(t, "v", string(r.Body.(*proto.GetDataResponse).Data))
	require.Equal(t, h.lastZxid(), r.Zxid)

	// Ping too, with its special xid.
	h.p.Submit(&pipeline.Request{Client: c, Session: c.id, Xid: proto.XidPing, Op: proto.OpPing, Owner: c})
	require.Equal(t, reply{Xid: proto.XidPing, Zxid: h.lastZxid()}, c.waitReplies(t, n+2)[n+1])
}

// A client always reads its own writes: a read behind a pending write waits
// for it, while another client's read is answered at once.
func TestReadWaitsForPendingWrite(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	other := h.connect(anon)
	base := c.count()

	h.g.close()
	w := h.submit(c, proto.OpCreate, createReq("/a", "mine", 0))
	r1 := h.submit(c, proto.OpGetData, getData("/a"))
	r2 := h.submit(c, proto.OpExists, &proto.PathWatchRequest{Path: "/a"})
	require.Equal(t, base, c.count(), "nothing answered while the write is held")
	require.Equal(t, 3, c.FIFO().Pending())

	o := h.submit(other, proto.OpExists, &proto.PathWatchRequest{Path: "/a"})
	require.Equal(t, proto.ErrNoNode, other.replyTo(t, o).Err, "another client is not held up")

	h.g.open()
	got := c.waitReplies(t, base+3)[base:]
	require.Equal(t, []int32{w, r1, r2}, []int32{got[0].Xid, got[1].Xid, got[2].Xid})
	require.Equal(t, proto.ErrOK, got[1].Err)
	require.Equal(t, "mine", string(got[1].Body.(*proto.GetDataResponse).Data))
	require.Equal(t, proto.ErrOK, got[2].Err)
	require.Equal(t, got[0].Zxid, got[1].Zxid)
	require.Equal(t, 0, c.FIFO().Pending())
}

// Replies leave in request order whatever mix of writes, syncs and reads.
func TestRepliesInRequestOrder(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	base := c.count()
	h.g.close()
	var xids []int32
	xids = append(xids, h.submit(c, proto.OpCreate, createReq("/a", "", 0)))
	xids = append(xids, h.submit(c, proto.OpGetChildren, &proto.PathWatchRequest{Path: "/"}))
	xids = append(xids, h.submit(c, proto.OpSync, &proto.PathRecord{Path: "/a"}))
	xids = append(xids, h.submit(c, proto.OpGetData, getData("/a")))
	xids = append(xids, h.submit(c, proto.OpSetData, &proto.SetDataRequest{Path: "/a", Data: []byte("x"), Version: 7}))
	xids = append(xids, h.submit(c, proto.OpGetData, getData("/a")))
	h.g.open()
	got := c.waitReplies(t, base+len(xids))[base:]
	var order []int32
	for _, r := range got {
		order = append(order, r.Xid)
	}
	require.Equal(t, xids, order)
	require.Equal(t, &proto.PathRecord{Path: "/a"}, got[2].Body, "sync echoes its path")
	require.Equal(t, proto.ErrBadVersion, got[4].Err)
	require.Equal(t, proto.ErrOK, got[5].Err)
	require.Equal(t, []string{"a", "zookeeper"}, got[1].Body.(*proto.ChildrenResponse).Children)
}

func TestSync(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	before := h.g.count()
	z := h.lastZxid()
	r := h.must(c, proto.OpSync, &proto.PathRecord{Path: "/whatever"})
	require.Equal(t, &proto.PathRecord{Path: "/whatever"}, r.Body)
	require.Equal(t, z, r.Zxid)
	require.Empty(t, h.g.txns(before), "sync takes no zxid")

	// A path that is not UTF-8 comes back as Java re-encodes it.
	r = h.must(c, proto.OpSync, &proto.PathRecord{Path: "/a\xff"})
	require.Equal(t, &proto.PathRecord{Path: "/a\uFFFD"}, r.Body)

	// A closing session's sync fails, still without a txn.
	h.tracker.SetClosing(c.id)
	r = h.do(c, proto.OpSync, &proto.PathRecord{Path: "/"})
	require.Equal(t, proto.ErrSessionExpired, r.Err)
	require.Nil(t, r.Body)
	require.Empty(t, h.g.txns(before))
}

// Every write takes the next zxid, including writes that fail; reads and
// syncs take none; replies carry the last applied zxid.
func TestZxidsOnePerWrite(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon) // createSession: epoch1+1
	require.Equal(t, epoch1+1, h.lastZxid())
	before := h.g.count()
	steps := []struct {
		op   proto.Op
		body any // a proto.Record, or raw bytes
		err  proto.Err
		txn  proto.Op // the txn's header type; 0 for none
	}{
		{proto.OpCreate, createReq("/a", "", 0), proto.ErrOK, proto.OpCreate},
		{proto.OpCreate, createReq("/a", "", 0), proto.ErrNodeExists, proto.OpError},
		{proto.OpGetData, getData("/a"), proto.ErrOK, 0},
		{proto.OpSetData, &proto.SetDataRequest{Path: "/a", Version: 4}, proto.ErrBadVersion, proto.OpError},
		{proto.OpSync, &proto.PathRecord{Path: "/"}, proto.ErrOK, 0},
		{proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{{Type: proto.OpDelete, Body: &proto.PathVersionRecord{Path: "/nope", Version: -1}}}}, proto.ErrOK, proto.OpMulti},
		{proto.OpCreate, []byte{1, 2, 3}, proto.ErrMarshallingError, proto.OpError},
		{proto.OpDelete, &proto.PathVersionRecord{Path: "/a", Version: -1}, proto.ErrOK, proto.OpDelete},
	}
	want := epoch1 + 1
	var types []proto.Op
	for i, s := range steps {
		var r reply
		if raw, ok := s.body.([]byte); ok {
			xid := c.nextXid()
			h.p.Submit(&pipeline.Request{Client: c, Session: c.id, Xid: xid, Op: s.op, Body: raw, IDs: c.ids, Owner: c})
			r = c.replyTo(t, xid)
		} else {
			r = h.do(c, s.op, s.body.(proto.Record))
		}
		require.Equal(t, s.err, r.Err, "step %d", i)
		if s.txn != 0 {
			want++
			types = append(types, s.txn)
		}
		require.Equal(t, want, r.Zxid, "step %d", i)
	}
	var got []proto.Op
	for i, txn := range h.g.txns(before) {
		require.Equal(t, epoch1+2+int64(i), txn.Header.Zxid)
		require.Equal(t, c.id, txn.Header.ClientID)
		require.Equal(t, int64(1700000000000), txn.Header.Time)
		got = append(got, txn.Header.Type)
	}
	require.Equal(t, types, got)
}

func TestMulti(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	h.must(c, proto.OpCreate, createReq("/a", "", 0))
	h.must(c, proto.OpCreate, createReq("/a/b", "", 0))

	t.Run("all succeed", func(t *testing.T) {
		r := h.must(c, proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCreate, Body: createReq("/m", "d", 0)},
			{Type: proto.OpCreate2, Body: createReq("/m/s-", "", proto.ModePersistentSequential)},
			{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/m", Data: []byte("dd"), Version: 0}},
			{Type: proto.OpCheck, Body: &proto.PathVersionRecord{Path: "/m", Version: 1}},
			{Type: proto.OpDelete, Body: &proto.PathVersionRecord{Path: "/a/b", Version: 0}},
		}})
		res := r.Body.(*proto.MultiResponse).Results
		require.Len(t, res, 5)
		require.Equal(t, proto.OpResult{Type: proto.OpCreate, Path: "/m"}, res[0])
		require.Equal(t, proto.OpCreate2, res[1].Type)
		require.Equal(t, "/m/s-0000000000", res[1].Path, "the multi's own create raised /m's cversion")
		require.Equal(t, r.Zxid, res[1].Stat.Czxid)
		require.Equal(t, proto.OpSetData, res[2].Type)
		require.Equal(t, int32(1), res[2].Stat.Version)
		require.Equal(t, proto.OpResult{Type: proto.OpCheck}, res[3])
		require.Equal(t, proto.OpResult{Type: proto.OpDelete}, res[4])
		require.Nil(t, h.node("/a/b"))
		require.Equal(t, []byte("dd"), h.node("/m").Data)
	})

	t.Run("a later op sees an earlier one", func(t *testing.T) {
		r := h.must(c, proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCreate, Body: createReq("/n", "", 0)},
			{Type: proto.OpCreate, Body: createReq("/n/c", "", 0)},
			{Type: proto.OpDelete, Body: &proto.PathVersionRecord{Path: "/n/c", Version: 0}},
			{Type: proto.OpDelete, Body: &proto.PathVersionRecord{Path: "/n", Version: 0}},
		}})
		for _, res := range r.Body.(*proto.MultiResponse).Results {
			require.NotEqual(t, proto.OpError, res.Type)
		}
		require.Nil(t, h.node("/n"))
	})

	t.Run("all or nothing", func(t *testing.T) {
		z := h.lastZxid()
		r := h.do(c, proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCreate, Body: createReq("/x", "", 0)},
			{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/x", Version: 0}},
			{Type: proto.OpDelete, Body: &proto.PathVersionRecord{Path: "/a", Version: 99}},
			{Type: proto.OpCreate, Body: createReq("/y", "", 0)},
		}})
		// The reply header says OK; the results carry the failure.
		require.Equal(t, proto.ErrOK, r.Err)
		require.Equal(t, z+1, r.Zxid)
		require.Equal(t, []proto.OpResult{
			{Type: proto.OpError, Err: proto.ErrOK},
			{Type: proto.OpError, Err: proto.ErrOK},
			{Type: proto.OpError, Err: proto.ErrBadVersion},
			{Type: proto.OpError, Err: proto.ErrRuntimeInconsistency},
		}, r.Body.(*proto.MultiResponse).Results)
		require.Nil(t, h.node("/x"))
		require.Nil(t, h.node("/y"))
		// The failed multi left no change record behind: /x can be created.
		h.must(c, proto.OpCreate, createReq("/x", "", 0))
	})

	t.Run("first op fails", func(t *testing.T) {
		r := h.do(c, proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCheck, Body: &proto.PathVersionRecord{Path: "/nope", Version: 0}},
			{Type: proto.OpCreate, Body: createReq("/z", "", 0)},
		}})
		require.Equal(t, []proto.OpResult{
			{Type: proto.OpError, Err: proto.ErrNoNode},
			{Type: proto.OpError, Err: proto.ErrRuntimeInconsistency},
		}, r.Body.(*proto.MultiResponse).Results)
	})

	t.Run("a read op fails the whole request", func(t *testing.T) {
		r := h.do(c, proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCreate, Body: createReq("/r", "", 0)},
			{Type: proto.OpGetData, Body: getData("/a")},
		}})
		require.Equal(t, proto.ErrMarshallingError, r.Err)
		require.Nil(t, r.Body)
		require.Nil(t, h.node("/r"))
		h.must(c, proto.OpCreate, createReq("/r", "", 0))
	})

	t.Run("empty multi", func(t *testing.T) {
		r := h.must(c, proto.OpMulti, &proto.MultiRequest{})
		require.Empty(t, r.Body.(*proto.MultiResponse).Results)
	})
}

// Ops of a multi see the changes of writes still in flight before it, and
// later writes see the multi's.
func TestChangesInFlight(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	base := c.count()
	h.g.close()
	x := []int32{
		h.submit(c, proto.OpCreate, createReq("/p", "", 0)),
		h.submit(c, proto.OpSetData, &proto.SetDataRequest{Path: "/p", Version: 0}),
		h.submit(c, proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCheck, Body: &proto.PathVersionRecord{Path: "/p", Version: 1}},
			{Type: proto.OpCreate, Body: createReq("/p/c", "", 0)},
		}}),
		h.submit(c, proto.OpDelete, &proto.PathVersionRecord{Path: "/p", Version: -1}),
		h.submit(c, proto.OpDelete, &proto.PathVersionRecord{Path: "/p/c", Version: 0}),
		h.submit(c, proto.OpSetACL, &proto.SetACLRequest{Path: "/p", ACL: proto.OpenACLUnsafe, Version: 0}),
		h.submit(c, proto.OpSetACL, &proto.SetACLRequest{Path: "/p", ACL: proto.OpenACLUnsafe, Version: 0}),
	}
	require.Equal(t, base, c.count())
	h.g.open()
	got := c.waitReplies(t, base+len(x))[base:]
	errs := make([]proto.Err, len(got))
	for i, r := range got {
		errs[i] = r.Err
	}
	require.Equal(t, []proto.Err{proto.ErrOK, proto.ErrOK, proto.ErrOK, proto.ErrNotEmpty, proto.ErrOK, proto.ErrOK, proto.ErrBadVersion}, errs)
}

// closeSession deletes the session's ephemerals (watchers hear of it),
// forgets the session and closes its connection after the reply.
func TestCloseSession(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	watcher := h.connect(anon)
	h.must(c, proto.OpCreate, createReq("/e1", "", proto.ModeEphemeral))
	h.must(c, proto.OpCreate, createReq("/e2", "", proto.ModeEphemeral))
	h.must(c, proto.OpCreate, createReq("/keep", "", proto.ModePersistent))
	h.must(watcher, proto.OpGetData, &proto.PathWatchRequest{Path: "/e1", Watch: true})

	before := h.g.count()
	r := h.must(c, proto.OpCloseSession, nil)
	require.Nil(t, r.Body)
	txns := h.g.txns(before)
	require.Len(t, txns, 1)
	require.Equal(t, proto.OpCloseSession, txns[0].Header.Type)
	require.ElementsMatch(t, []string{"/e1", "/e2"}, txns[0].Body.(*proto.StringsRecord).Strings)

	require.Nil(t, h.node("/e1"))
	require.Nil(t, h.node("/e2"))
	require.NotNil(t, h.node("/keep"))
	require.Equal(t, []string{fmt.Sprintf("%d /e1 %d", proto.EventNodeDeleted, r.Zxid)}, watcher.takeEvents())
	c.mu.Lock()
	require.True(t, c.closed)
	c.mu.Unlock()
	require.False(t, h.tracker.Exists(c.id))
	require.Nil(t, h.p.ClientOf(c.id))
	h.db.Read(func(tr *tree.Tree) {
		_, ok := tr.Sessions()[c.id]
		require.False(t, ok)
		require.Empty(t, tr.Ephemerals(c.id))
	})
	// The other session lives on.
	require.True(t, h.tracker.Exists(watcher.id))
}

// An expiry is a closeSession the server submits itself (no client).
func TestServerSubmittedClose(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	h.must(c, proto.OpCreate, createReq("/e", "", proto.ModeEphemeral))
	h.tracker.SetClosing(c.id)
	h.p.Submit(&pipeline.Request{Session: c.id, Op: proto.OpCloseSession})
	h.p.WaitApplied()
	require.Nil(t, h.node("/e"))
	c.mu.Lock()
	require.True(t, c.closed, "the connection holding the session is closed")
	c.mu.Unlock()
}

// closeSession lists the ephemerals in the order ZooKeeper would: the
// iteration order of the HashSet copy, with in-flight changes applied to
// it (PrepRequestProcessor's closeSession case). Expected orders printed
// by the JDK on this machine (`java E5.java`):
//
//	HashSet<String> e = new HashSet<>(); e.add("/e0") ... e.add("/e4");
//	HashSet<String> c = (HashSet<String>) e.clone();   // → /e0 /e1 /e2 /e3 /e4
//	c.remove("/e2"); c.add("/f0");                        // → /f0 /e0 /e1 /e3 /e4
func TestCloseSessionOrder(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	for i := 0; i < 5; i++ {
		h.must(c, proto.OpCreate, createReq(fmt.Sprintf("/e%d", i), "", proto.ModeEphemeral))
	}
	before := h.g.count()
	h.must(c, proto.OpCloseSession, nil)
	require.Equal(t, strings.Fields("/e0 /e1 /e2 /e3 /e4"), h.g.txns(before)[0].Body.(*proto.StringsRecord).Strings)
}

// ZooKeeper adds the in-flight ephemerals to the HashSet copy of the
// committed ones (es.add(c.path) in PrepRequestProcessor's closeSession
// case), so the CloseSessionTxn lists them in hash order among the others —
// and the tree deletes (and watchers see NodeDeleted) in that order.
// Expected orders printed by the JDK (`java Eph.java`, case E: the copy of
// {/e0../e4} plus adds of /f0../f4; and `java E5.java` for the mixed case).
func TestCloseSessionOrderWithEphemeralsInFlight(t *testing.T) {
	t.Run("five in flight", func(t *testing.T) {
		h := newHarness(t, pipeline.Options{})
		c := h.connect(anon)
		for i := 0; i < 5; i++ {
			h.must(c, proto.OpCreate, createReq(fmt.Sprintf("/e%d", i), "", proto.ModeEphemeral))
		}
		h.g.close()
		before := h.g.count()
		for i := 0; i < 5; i++ {
			h.submit(c, proto.OpCreate, createReq(fmt.Sprintf("/f%d", i), "", proto.ModeEphemeral))
		}
		h.submit(c, proto.OpCloseSession, nil)
		txns := h.g.txns(before)
		close := txns[len(txns)-1]
		require.Equal(t, proto.OpCloseSession, close.Header.Type)
		got := close.Body.(*proto.StringsRecord).Strings
		h.g.open()
		require.Equal(t, strings.Fields("/f0 /e0 /f1 /e1 /f2 /e2 /f3 /e3 /f4 /e4"), got)
	})
	t.Run("one in flight, one deleted in flight", func(t *testing.T) {
		h := newHarness(t, pipeline.Options{})
		c := h.connect(anon)
		for i := 0; i < 5; i++ {
			h.must(c, proto.OpCreate, createReq(fmt.Sprintf("/e%d", i), "", proto.ModeEphemeral))
		}
		h.g.close()
		before := h.g.count()
		h.submit(c, proto.OpDelete, &proto.PathVersionRecord{Path: "/e2", Version: -1})
		h.submit(c, proto.OpCreate, createReq("/f0", "", proto.ModeEphemeral))
		h.submit(c, proto.OpCloseSession, nil)
		txns := h.g.txns(before)
		got := txns[len(txns)-1].Body.(*proto.StringsRecord).Strings
		h.g.open()
		require.Equal(t, strings.Fields("/f0 /e0 /e1 /e3 /e4"), got)
	})
}

// A client that sends opcode createSession inside its session gets an
// error txn: ZooKeeper fails to read a CreateSessionTxn from the request.
func TestCreateSessionFromClientFails(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	before := h.g.count()
	r := h.do(c, proto.OpCreateSession, &proto.IntRecord{Value: 5})
	require.Equal(t, proto.ErrMarshallingError, r.Err)
	txns := h.g.txns(before)
	require.Len(t, txns, 1)
	require.Equal(t, proto.OpError, txns[0].Header.Type)
}

func TestHandshakeCreatesSession(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	before := h.g.count()
	c := h.connect(anon)
	require.True(t, h.tracker.Exists(c.id))
	require.Equal(t, int32(30000), h.tracker.Timeout(c.id))
	require.NoError(t, h.tracker.Check(c.id, c))
	require.Equal(t, proto.ErrSessionMoved, h.tracker.Check(c.id, &fakeClient{}))
	txns := h.g.txns(before)
	require.Len(t, txns, 1)
	require.Equal(t, proto.OpCreateSession, txns[0].Header.Type)
	require.Equal(t, &proto.IntRecord{Value: 30000}, txns[0].Body)
	h.db.Read(func(tr *tree.Tree) { require.Equal(t, int32(30000), tr.Sessions()[c.id]) })
	require.Equal(t, 0, c.count(), "the handshake has no reply, only SessionCreated")
}

func TestWaitApplied(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	h.g.close()
	h.submit(c, proto.OpCreate, createReq("/w", "", 0))
	h.g.mu.Lock()
	held := h.g.held
	h.g.held, h.g.closed = nil, false
	h.g.mu.Unlock()
	// Commit hands entries to the apply goroutine; WaitApplied waits for it.
	h.p.Commit(held)
	h.p.WaitApplied()
	require.NotNil(t, h.node("/w"))
	require.Equal(t, held[0].Txn.Header.Zxid, h.lastZxid())
	h.p.WaitApplied() // nothing pending: returns at once
}

// Applied is told the last zxid and the number of txns of each batch.
func TestAppliedHook(t *testing.T) {
	var mu sync.Mutex
	var seen [][2]int64
	h := newHarness(t, pipeline.Options{Applied: func(last int64, n int) {
		mu.Lock()
		seen = append(seen, [2]int64{last, int64(n)})
		mu.Unlock()
	}})
	c := h.connect(anon)
	h.g.close()
	h.submit(c, proto.OpCreate, createReq("/a", "", 0))
	h.submit(c, proto.OpCreate, createReq("/b", "", 0))
	h.submit(c, proto.OpSync, &proto.PathRecord{Path: "/"})
	h.g.open()
	c.waitReplies(t, 3)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, [][2]int64{{epoch1 + 1, 1}, {epoch1 + 3, 2}}, seen)
}

// Reset drops the change records of txns that will never commit and sets
// where zxids continue.
func TestReset(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	other := h.connect(anon)
	h.g.close()
	h.submit(c, proto.OpCreate, createReq("/r", "", 0))
	before := h.g.count()
	h.submit(c, proto.OpCreate, createReq("/r", "", 0))
	require.Equal(t, proto.OpError, h.g.txns(before)[0].Header.Type, "prep sees the in-flight create")
	h.g.drop()

	epoch2 := int64(2) << 32
	h.p.Reset(epoch2)
	before = h.g.count()
	r := h.must(other, proto.OpCreate, createReq("/r", "", 0))
	txns := h.g.txns(before)
	require.Equal(t, proto.OpCreate, txns[0].Header.Type)
	require.Equal(t, epoch2+1, txns[0].Header.Zxid)
	require.Equal(t, txns[0].Header.Zxid, r.Zxid)
}

type recordingForwarder struct {
	mu   sync.Mutex
	reqs []*pipeline.Request
}

func (f *recordingForwarder) Forward(r *pipeline.Request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.mu.Unlock()
}

// A follower forwards its clients' writes; reads stay local but still wait
// behind the client's forwarded writes until their commits come back.
func TestForwarder(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	other := h.connect(anon)
	f := &recordingForwarder{}
	h.p.SetForwarder(f)
	before := h.g.count()
	base := c.count()

	w := h.submit(c, proto.OpCreate, createReq("/fwd", "x", 0))
	r := h.submit(c, proto.OpGetData, getData("/fwd"))
	s := h.submit(c, proto.OpSync, &proto.PathRecord{Path: "/"})
	require.Equal(t, 0, h.g.count()-before, "nothing prepared locally")
	require.Len(t, f.reqs, 2)
	require.Equal(t, w, f.reqs[0].Xid)
	require.Equal(t, proto.OpSync, f.reqs[1].Op)
	require.Equal(t, base, c.count())

	o := h.submit(other, proto.OpExists, &proto.PathWatchRequest{Path: "/"})
	require.Equal(t, proto.ErrOK, other.replyTo(t, o).Err, "reads of other clients stay local")

	// The leader's commit of the write comes back with the client's
	// session and xid: the local client is answered, then its read.
	z := h.lastZxid() + 1
	h.p.Commit([]pipeline.Entry{{Txn: &proto.Txn{
		Header: proto.TxnHeader{ClientID: c.id, Cxid: w, Zxid: z, Time: 1, Type: proto.OpCreate},
		Body:   &proto.CreateTxn{Form: proto.OpCreate, Path: "/fwd", Data: []byte("x"), ACL: proto.OpenACLUnsafe, ParentCVersion: -1},
	}}})
	h.p.WaitApplied()
	got := c.waitReplies(t, base+2)[base:]
	require.Equal(t, reply{Xid: w, Zxid: z, Body: &proto.PathRecord{Path: "/fwd"}}, got[0])
	require.Equal(t, r, got[1].Xid)
	require.Equal(t, "x", string(got[1].Body.(*proto.GetDataResponse).Data))
	// The sync waits for its own answer from the leader (a marker entry).
	h.p.Commit([]pipeline.Entry{{Req: f.reqs[1]}})
	h.p.WaitApplied()
	require.Equal(t, s, c.waitReplies(t, base+3)[base+2].Xid)

	// A request a learner forwarded here (From set) is prepared locally
	// even while forwarding is on.
	before = h.g.count()
	h.p.Submit(&pipeline.Request{Session: other.id, Xid: 1, Op: proto.OpCreate, Body: encode(createReq("/from", "", 0)), IDs: anon, From: 2})
	require.Len(t, h.g.txns(before), 1)
	require.NotNil(t, h.node("/from"))

	h.p.SetForwarder(nil)
	h.must(c, proto.OpCreate, createReq("/local", "", 0))
	require.Len(t, f.reqs, 2)
}

// Requests after Stop are dropped, and Stop is idempotent.
func TestStop(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	h.p.Stop()
	h.p.Stop()
	before := h.g.count()
	n := c.count()
	h.submit(c, proto.OpCreate, createReq("/late", "", 0))
	require.Equal(t, before, h.g.count())
	require.Equal(t, n, c.count())
}

// A watch event is queued before the reply of the write that fired it
// (FinalRequestProcessor applies, and so notifies, before it answers).
func TestEventBeforeReply(t *testing.T) {
	h := newHarness(t, pipeline.Options{})
	c := h.connect(anon)
	h.must(c, proto.OpCreate, createReq("/a", "", 0))
	h.must(c, proto.OpGetData, &proto.PathWatchRequest{Path: "/a", Watch: true})
	h.must(c, proto.OpGetChildren, &proto.PathWatchRequest{Path: "/", Watch: true})
	c.mu.Lock()
	c.log = nil
	c.mu.Unlock()
	x := h.must(c, proto.OpDelete, &proto.PathVersionRecord{Path: "/a", Version: -1}).Xid
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Equal(t, []string{
		fmt.Sprintf("event %d /a", proto.EventNodeDeleted),
		fmt.Sprintf("event %d /", proto.EventNodeChildrenChanged),
		fmt.Sprintf("reply %d", x),
	}, c.log)
}

// waitZxid waits until the tree has applied zxid.
func (h *harness) waitZxid(zxid int64) {
	h.t.Helper()
	for i := 0; h.lastZxid() < zxid; i++ {
		if i > 50000 {
			h.t.Fatalf("zxid %#x not applied", zxid)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// When prep fails a request with SESSIONMOVED (the session is now held by
// another connection), ZooKeeper does not answer it: FinalRequestProcessor
// catches SessionMovedException and calls cnxn.sendCloseSession()
// (ZOOKEEPER-710), and does the same for a multi with a SESSIONMOVED
// sub-result.
func TestSessionMovedClosesConnection(t *testing.T) {
	for _, c := range []struct {
		name string
		op   proto.Op
		body proto.Record
	}{
		{"setData", proto.OpSetData, &proto.SetDataRequest{Path: "/", Version: -1}},
		{"multi", proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{{Type: proto.OpCheck, Body: &proto.PathVersionRecord{Path: "/", Version: -1}}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, pipeline.Options{})
			old := h.connect(anon)
			before := h.g.count()
			xid := old.nextXid()
			h.p.Submit(&pipeline.Request{Client: old, Session: old.id, Xid: xid, Op: c.op, Body: encode(c.body), IDs: old.ids, Owner: &fakeClient{}})
			txns := h.g.txns(before)
			require.Len(t, txns, 1)
			h.waitZxid(txns[0].Header.Zxid)
			old.mu.Lock()
			defer old.mu.Unlock()
			require.True(t, old.closed, "the connection is closed")
			require.Empty(t, old.replies, "no reply is sent")
		})
	}
}
