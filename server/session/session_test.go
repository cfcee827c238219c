package session

import (
	"encoding/hex"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/proto"
)

// Passwords ZooKeeper gives these session ids, printed by the JDK on this
// machine with a small program:
//
//	byte[] b = new byte[16]; new java.util.Random(id ^ 0xB3415C00L).nextBytes(b);
//
// (java.util.Random keeps 48 bits of its seed, so ids that differ only in
// their top 16 bits share a password.)
func TestPasswordMatchesZooKeeper(t *testing.T) {
	cases := []struct {
		id   uint64
		want string
	}{
		{0x0000000000000000, "f22acd4a97e69d6d20a49bb638eadb38"},
		{0x0000000000000001, "054cc74a37327db215e702e20c73f005"},
		{0x0100000000000001, "054cc74a37327db215e702e20c73f005"},
		{0x018e7a8b2c000000, "f26e87d597da04882088a96338fe9d92"},
		{0xffffffffffffffff, "20f62cb5648dc2d771471c8a2486a9ee"},
		{0x7f00000000000000, "f22acd4a97e69d6d20a49bb638eadb38"},
		{0xff00000000000042, "922d61495537b21b84db9d39790dd5e3"},
		{0x0102030405060708, "640c2dabe4411dbfaec94b38d0a26d4e"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, hex.EncodeToString(Password(int64(c.id))), "id %#x", c.id)
	}
}

// InitialID is SessionTrackerImpl.initializeNextSessionId: the low 40 bits
// of the time in ms shifted into bits 16..55, the server id in the top
// byte. Expected ids computed by the JDK: ((ms << 24) >>> 8) | (sid << 56).
func TestInitialID(t *testing.T) {
	cases := []struct {
		ms, sid int64
		want    uint64
	}{
		{1700000000000, 1, 0x018bcfe568000000},
		{1700000000000, 255, 0xff8bcfe568000000},
		{0x123456789A, 3, 0x03123456789a0000},
		{1 << 40, 2, 0x0200000000000000}, // bits above 40 fall off
		{0, 0, 0},
	}
	for _, c := range cases {
		require.Equal(t, int64(c.want), InitialID(c.sid, time.UnixMilli(c.ms)), "ms %d sid %d", c.ms, c.sid)
	}
	// An id equal to the container owner marker is skipped.
	require.Equal(t, int64(-1<<63+1), InitialID(128, time.UnixMilli(0)))
}

// clock is an injectable time source.
type clock struct {
	mu sync.Mutex
	ms int64
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.UnixMilli(c.ms)
}

func (c *clock) set(ms int64) {
	c.mu.Lock()
	c.ms = ms
	c.mu.Unlock()
}

func newTestTracker(startMs int64) (*Tracker, *clock) {
	c := &clock{ms: startMs}
	return NewTracker(100*time.Millisecond, 1, c.now), c
}

func sortedIDs(ids []int64) []int64 {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func TestNextID(t *testing.T) {
	tr, _ := newTestTracker(1700000000000)
	first := tr.NextID()
	require.Equal(t, int64(0x018bcfe568000000), first)
	require.Equal(t, first+1, tr.NextID())
	require.Equal(t, first+2, tr.NextID())
}

// Expiry times are rounded up to the next tick: a session added at 1000 ms
// with a 250 ms timeout expires in the 1300 ms bucket.
func TestExpiryBuckets(t *testing.T) {
	tr, clk := newTestTracker(1000)
	tr.Add(1, 250)
	tr.Add(2, 299)
	tr.Add(3, 300)
	require.Equal(t, map[int64][]int64{1300: {1, 2}, 1400: {3}}, sortedBuckets(tr))
	require.Equal(t, 3, tr.Count())
	require.Equal(t, map[int64]int32{1: 250, 2: 299, 3: 300}, tr.Snapshot())

	clk.set(1299)
	require.Empty(t, tr.Expired())
	clk.set(1300)
	require.Equal(t, []int64{1, 2}, sortedIDs(tr.Expired()))
	// Expired sessions are closing: still counted until removed, but dead
	// to everything but their close.
	require.Equal(t, 3, tr.Count())
	require.False(t, tr.Exists(1))
	require.False(t, tr.Touch(1))
	require.False(t, tr.TouchWith(1, 5000))
	require.Equal(t, proto.ErrSessionExpired, tr.Check(1, nil))
	require.True(t, tr.Exists(3))
	require.Empty(t, tr.Expired(), "a bucket is handed out once")

	clk.set(5000) // long past: every due bucket at once
	require.Equal(t, []int64{3}, tr.Expired())
	require.Empty(t, tr.ExpiryBuckets())

	tr.Remove(1)
	tr.Remove(2)
	tr.Remove(3)
	tr.Remove(3) // twice: no-op
	require.Equal(t, 0, tr.Count())
	require.Equal(t, proto.ErrSessionExpired, tr.Check(1, nil))
}

func sortedBuckets(tr *Tracker) map[int64][]int64 {
	b := tr.ExpiryBuckets()
	for k := range b {
		sortedIDs(b[k])
	}
	return b
}

func TestTouchMovesSession(t *testing.T) {
	tr, clk := newTestTracker(1000)
	tr.Add(7, 250) // 1300
	clk.set(1040)
	require.True(t, tr.Touch(7)) // 1290 → still the 1300 bucket
	require.Equal(t, map[int64][]int64{1300: {7}}, tr.ExpiryBuckets())
	clk.set(1100)
	require.True(t, tr.Touch(7)) // 1350 → 1400
	require.Equal(t, map[int64][]int64{1400: {7}}, tr.ExpiryBuckets())
	clk.set(1300)
	require.Empty(t, tr.Expired())
	clk.set(1400)
	require.Equal(t, []int64{7}, tr.Expired())

	require.False(t, tr.Touch(99), "unknown session")
}

// TouchWith renews with the timeout the connection negotiated; like
// ZooKeeper's touchSession(id, timeout) it leaves the session's own timeout.
func TestTouchWith(t *testing.T) {
	tr, clk := newTestTracker(1000)
	tr.Add(7, 250)
	require.True(t, tr.TouchWith(7, 1000))
	require.Equal(t, map[int64][]int64{2100: {7}}, tr.ExpiryBuckets())
	require.Equal(t, int32(250), tr.Timeout(7))
	clk.set(1500)
	require.True(t, tr.Touch(7)) // its own 250 ms again
	require.Equal(t, map[int64][]int64{1800: {7}}, tr.ExpiryBuckets())
	require.Equal(t, int32(0), tr.Timeout(99))
}

func TestAddAgainUpdates(t *testing.T) {
	tr, _ := newTestTracker(1000)
	tr.Add(7, 250)
	tr.Add(7, 1000)
	require.Equal(t, int32(1000), tr.Timeout(7))
	require.Equal(t, map[int64][]int64{2100: {7}}, tr.ExpiryBuckets())
	require.Equal(t, 1, tr.Count())
}

func TestCheckOwner(t *testing.T) {
	tr, _ := newTestTracker(1000)
	connA, connB := new(int), new(int)
	cases := []struct {
		name  string
		owner any
		want  error
	}{
		{"nil owner before any", nil, nil},
		{"first owner claims it", connA, nil},
		{"same owner", connA, nil},
		{"nil owner skips the test", nil, nil},
		{"another owner", connB, proto.ErrSessionMoved},
	}
	tr.Add(5, 1000)
	for _, c := range cases {
		require.Equal(t, c.want, tr.Check(5, c.owner), c.name)
	}
	tr.SetOwner(5, connB)
	require.NoError(t, tr.Check(5, connB))
	require.Equal(t, proto.ErrSessionMoved, tr.Check(5, connA))
	tr.SetOwner(99, connA) // unknown: ignored
	require.Equal(t, proto.ErrSessionExpired, tr.Check(99, connA))

	tr.SetClosing(5)
	require.Equal(t, proto.ErrSessionExpired, tr.Check(5, connB))
	require.False(t, tr.Exists(5))
	tr.SetClosing(99) // unknown: ignored
}

func TestReset(t *testing.T) {
	tr, clk := newTestTracker(1000)
	tr.Add(1, 250)
	tr.Add(2, 250)
	tr.SetClosing(2)
	clk.set(2000)
	tr.Reset(map[int64]int32{2: 500, 3: 1000})
	require.False(t, tr.Exists(1))
	require.True(t, tr.Exists(2), "closing state is dropped")
	require.True(t, tr.Exists(3))
	require.Equal(t, map[int64]int32{2: 500, 3: 1000}, tr.Snapshot())
	// Each gets its full timeout from now.
	require.Equal(t, map[int64][]int64{2600: {2}, 3100: {3}}, tr.ExpiryBuckets())
	tr.Reset(nil)
	require.Equal(t, 0, tr.Count())
}

// AddExpiring restores a session after a restart: it expires after
// expireIn unless touched, and later touches use its real timeout.
func TestAddExpiring(t *testing.T) {
	tr, clk := newTestTracker(1000)
	tr.AddExpiring(9, 5000, 150*time.Millisecond)
	require.Equal(t, int32(5000), tr.Timeout(9))
	require.Equal(t, map[int64][]int64{1200: {9}}, tr.ExpiryBuckets())
	clk.set(1100)
	require.True(t, tr.Touch(9))
	require.Equal(t, map[int64][]int64{6200: {9}}, tr.ExpiryBuckets())

	tr.AddExpiring(10, 5000, 150*time.Millisecond)
	clk.set(1300)
	require.Equal(t, []int64{10}, tr.Expired())
}

func TestNextExpiry(t *testing.T) {
	tr, clk := newTestTracker(1050)
	require.Equal(t, 50*time.Millisecond, tr.NextExpiry())
	clk.set(1100)
	require.Equal(t, 100*time.Millisecond, tr.NextExpiry())
	clk.set(1199)
	require.Equal(t, time.Millisecond, tr.NextExpiry())
}
