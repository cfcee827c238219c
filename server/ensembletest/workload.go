package ensembletest

import (
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/go-zookeeper/zk"
)

// WorkloadOptions describe concurrent clients over a Cluster.
type WorkloadOptions struct {
	Keys           int           // znodes /lin/k0..; default 3
	Sessions       int           // default 6, spread over the members
	SessionTimeout time.Duration // default 4 s
	// Percentages of writes, compare-and-sets and sync-reads; the rest are
	// plain reads. Default 30/20/35 (15 plain reads).
	Writes, CASes, SyncReads int
	Seed                     int64
	// Home lists the members sessions connect to first: session i starts
	// at Home[i%len(Home)], then tries the others in id order. Default:
	// spread over every member.
	Home []uint64
	// StayHome lists members whose sessions (by Home) never try another
	// member: a client of the majority side of a partition stays there.
	StayHome []uint64
	// Readers makes the first Readers sessions only read (sync-reads and
	// plain reads), so that nothing of theirs waits behind a write.
	Readers int
	// CheckTimeout bounds porcupine's search (default 2 minutes).
	CheckTimeout time.Duration
	// MayExpire allows sessions to expire (faults longer than a session
	// timeout); otherwise an expiry is an error.
	MayExpire bool
}

// Initial is the keys' value when created.
const Initial = "init"

// Workload runs clients doing writes, compare-and-sets, sync-reads and
// plain reads on a few keys, recording a History.
type Workload struct {
	t       testing.TB
	c       Cluster
	opts    WorkloadOptions
	History *History

	sessions []*Session
	stop     atomic.Bool
	wg       sync.WaitGroup
	ops      atomic.Int64
}

// KeyPath is the znode of key k.
func KeyPath(k int) string { return fmt.Sprintf("/lin/k%d", k) }

// StartWorkload creates the keys and starts the clients.
func StartWorkload(t testing.TB, c Cluster, opts WorkloadOptions) *Workload {
	t.Helper()
	if opts.Keys == 0 {
		opts.Keys = 3
	}
	if opts.Sessions == 0 {
		opts.Sessions = 6
	}
	if opts.SessionTimeout == 0 {
		opts.SessionTimeout = 4 * time.Second
	}
	if opts.Writes+opts.CASes+opts.SyncReads == 0 {
		opts.Writes, opts.CASes, opts.SyncReads = 30, 20, 35
	}
	if opts.Seed == 0 {
		opts.Seed = time.Now().UnixNano()
	}
	t.Logf("workload seed %d", opts.Seed)
	w := &Workload{t: t, c: c, opts: opts, History: NewHistory()}
	addrs := addrsOf(c)
	setup, err := Dial("setup", addrs, opts.SessionTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	for _, p := range append([]string{"/lin"}, keyPaths(opts.Keys)...) {
		if err := createRetry(setup.Conn, p, Initial, 20*time.Second); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
	for i := 0; i < opts.Sessions; i++ {
		order := Rotate(addrs, i)
		if len(opts.Home) > 0 {
			id := opts.Home[i%len(opts.Home)]
			home := c.ClientAddr(id)
			order = []string{home}
			for _, a := range addrs {
				if a != home && !slices.Contains(opts.StayHome, id) {
					order = append(order, a)
				}
			}
		}
		s, err := Dial(fmt.Sprintf("c%d", i), order, opts.SessionTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WaitConnected(20 * time.Second); err != nil {
			t.Fatal(err)
		}
		w.sessions = append(w.sessions, s)
	}
	t.Cleanup(func() {
		w.Stop()
		for _, s := range w.sessions {
			s.Close()
		}
	})
	for i, s := range w.sessions {
		w.wg.Add(1)
		go w.run(i, s, rand.New(rand.NewSource(opts.Seed+int64(i))))
	}
	return w
}

func keyPaths(n int) []string {
	var out []string
	for k := 0; k < n; k++ {
		out = append(out, KeyPath(k))
	}
	return out
}

func addrsOf(c Cluster) []string {
	var out []string
	for _, id := range c.IDs() {
		out = append(out, c.ClientAddr(id))
	}
	return out
}

func createRetry(c *zk.Conn, path, data string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := c.Create(path, []byte(data), 0, zk.WorldACL(zk.PermAll))
		if err == nil || errors.Is(err, zk.ErrNodeExists) {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Ops is the number of operations done so far.
func (w *Workload) Ops() int64 { return w.ops.Load() }

// Stop ends the clients' loops (operations in flight finish first).
func (w *Workload) Stop() {
	w.stop.Store(true)
	w.wg.Wait()
}

// Sessions returns the workload's clients.
func (w *Workload) Sessions() []*Session { return w.sessions }

// definite reports whether an error proves the request was not carried
// out: the server answered with an error, or the client never sent it.
func definite(err error) bool {
	return errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrNoServer)
}

func (w *Workload) run(client int, s *Session, rng *rand.Rand) {
	defer w.wg.Done()
	h := w.History
	seq := 0
	o := w.opts
	for !w.stop.Load() {
		key := rng.Intn(o.Keys)
		path := KeyPath(key)
		r := rng.Intn(100)
		if client < o.Readers {
			r = o.Writes + o.CASes + rng.Intn(100-o.Writes-o.CASes)
		}
		seq++
		value := fmt.Sprintf("%s-%d", s.Name, seq)
		unknown := false
		switch {
		case r < o.Writes:
			call := h.Now()
			st, err := s.Conn.Set(path, []byte(value), -1)
			ret := h.Now()
			in := Input{Kind: OpWrite, Key: key, Value: value}
			meta := Meta{Session: s.Name, Server: s.Server()}
			switch {
			case err == nil:
				meta.Zxid, meta.Mzxid = s.LastReplyZxid(), st.Mzxid
				h.Add(client, in, call, ret, Output{Version: st.Version}, meta)
			case definite(err):
			default:
				meta.Err = err.Error()
				h.Add(client, in, call, ret, Output{Unknown: true}, meta)
				unknown = true
			}
		case r < o.Writes+o.CASes:
			seen := s.SeenZxid()
			at := time.Since(h.start)
			_, st, err := s.Conn.Get(path)
			if err != nil {
				unknown = !definite(err)
				break
			}
			h.Observe(Observation{Session: s.Name, Server: s.Server(), Key: key, Version: st.Version, Mzxid: st.Mzxid,
				ReplyZxid: s.LastReplyZxid(), SeenZxid: seen, At: at})
			call := h.Now()
			st2, err := s.Conn.Set(path, []byte(value), st.Version)
			ret := h.Now()
			in := Input{Kind: OpCAS, Key: key, Value: value, Expect: st.Version}
			meta := Meta{Session: s.Name, Server: s.Server()}
			switch {
			case err == nil:
				meta.Zxid, meta.Mzxid = s.LastReplyZxid(), st2.Mzxid
				h.Add(client, in, call, ret, Output{Version: st2.Version}, meta)
			case errors.Is(err, zk.ErrBadVersion):
				meta.Zxid = s.LastReplyZxid()
				h.Add(client, in, call, ret, Output{BadVersion: true}, meta)
			case definite(err):
			default:
				meta.Err = err.Error()
				h.Add(client, in, call, ret, Output{Unknown: true}, meta)
				unknown = true
			}
		case r < o.Writes+o.CASes+o.SyncReads:
			call := h.Now()
			if _, err := s.Conn.Sync(path); err != nil {
				unknown = !definite(err)
				break
			}
			data, st, err := s.Conn.Get(path)
			ret := h.Now()
			if err != nil {
				unknown = !definite(err)
				break
			}
			h.Add(client, Input{Kind: OpRead, Key: key}, call, ret, Output{Value: string(data), Version: st.Version},
				Meta{Session: s.Name, Server: s.Server(), Zxid: s.LastReplyZxid(), Mzxid: st.Mzxid})
		default:
			seen := s.SeenZxid()
			at := time.Since(h.start)
			_, st, err := s.Conn.Get(path)
			if err != nil {
				unknown = !definite(err)
				break
			}
			h.Observe(Observation{Session: s.Name, Server: s.Server(), Key: key, Version: st.Version, Mzxid: st.Mzxid,
				ReplyZxid: s.LastReplyZxid(), SeenZxid: seen, At: at})
		}
		w.ops.Add(1)
		if unknown {
			// The connection went; let the client find another member
			// rather than pile up operations of unknown outcome.
			deadline := time.Now().Add(5 * time.Second)
			for s.Conn.State() != zk.StateHasSession && time.Now().Before(deadline) && !w.stop.Load() {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}

// FinalState is one member's view of a key after a sync.
type FinalState struct {
	Value   string
	Version int32
	Mzxid   int64
}

// Finish stops the clients, then reads every key with sync+get on every
// member (each through its own session pinned to it), adds those reads to
// the history and returns what each member showed. The cluster must be
// whole and ready.
func (w *Workload) Finish() (map[uint64][]FinalState, error) {
	w.Stop()
	out := map[uint64][]FinalState{}
	for i, id := range w.c.IDs() {
		s, err := Dial(fmt.Sprintf("final-%d", id), []string{w.c.ClientAddr(id)}, w.opts.SessionTimeout)
		if err != nil {
			return nil, err
		}
		if err := s.WaitConnected(20 * time.Second); err != nil {
			s.Close()
			return nil, err
		}
		for k := 0; k < w.opts.Keys; k++ {
			call := w.History.Now()
			if _, err := s.Conn.Sync(KeyPath(k)); err != nil {
				s.Close()
				return nil, fmt.Errorf("member %d: sync: %w", id, err)
			}
			data, st, err := s.Conn.Get(KeyPath(k))
			ret := w.History.Now()
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("member %d: get: %w", id, err)
			}
			w.History.Add(len(w.sessions)+i, Input{Kind: OpRead, Key: k}, call, ret, Output{Value: string(data), Version: st.Version},
				Meta{Session: s.Name, Server: s.Server(), Zxid: s.LastReplyZxid(), Mzxid: st.Mzxid})
			out[id] = append(out[id], FinalState{Value: string(data), Version: st.Version, Mzxid: st.Mzxid})
		}
		for _, v := range s.Violations() {
			w.t.Errorf("reply zxid went backwards: %s", v)
		}
		s.Close()
	}
	return out, nil
}

// Verify runs every check on a finished workload: linearizability
// (porcupine), no acknowledged write lost, members agree, versions
// consistent, no session saw time go backwards.
func (w *Workload) Verify(final map[uint64][]FinalState) {
	t := w.t
	t.Helper()
	t.Logf("history: %s", w.History.Stats())
	// Members agree on every key.
	var first []FinalState
	var firstID uint64
	for _, id := range w.c.IDs() {
		if first == nil {
			first, firstID = final[id], id
			continue
		}
		for k := range final[id] {
			if final[id][k] != first[k] {
				t.Errorf("k%d: member %d has %+v after sync, member %d has %+v", k, id, final[id][k], firstID, first[k])
			}
		}
	}
	// No acknowledged write lost: the final version of each key is at
	// least every acknowledged write's version, its zxid at least that
	// write's zxid.
	for k, a := range w.History.MaxAcked() {
		if k >= len(first) {
			continue
		}
		if f := first[k]; f.Version < a.Version || f.Mzxid < a.Mzxid {
			t.Errorf("k%d: acknowledged write lost: %s's %q was acknowledged as version %d (zxid 0x%x); the members now hold version %d (zxid 0x%x)",
				k, a.Session, a.Value, a.Version, a.Mzxid, f.Version, f.Mzxid)
		}
	}
	for _, v := range w.History.CheckVersions() {
		t.Errorf("versions: %s", v)
	}
	for _, s := range w.sessions {
		for _, v := range s.Violations() {
			t.Errorf("reply zxid went backwards: %s", v)
		}
		if n := s.Expired(); n > 0 && !w.opts.MayExpire {
			t.Errorf("session %s expired %d times (no fault lasted a session timeout); its connections:\n%s", s.Name, n, strings.Join(s.History(), "\n"))
		}
	}
	if bad := w.History.CheckSessionOrder(); len(bad) > 0 {
		t.Errorf("%d reads went back in time for their session:\n%s", len(bad), joinLines(bad, 20))
	}
	timeout := w.opts.CheckTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	began := time.Now()
	res, checked, path, err := w.History.CheckLinearizable(Initial, timeout)
	if err != nil {
		t.Errorf("writing the visualization: %v", err)
	}
	where := fmt.Sprintf("set %s=1 to keep its visualization", KeepEnv)
	if path != "" {
		where = "visualization in " + path
	}
	took := time.Since(began).Round(time.Millisecond)
	switch res {
	case porcupine.Ok:
		t.Logf("porcupine: %d operations linearizable (checked in %v)", checked, took)
	case porcupine.Unknown:
		t.Logf("porcupine: %d operations, inconclusive within %v; %s", checked, timeout, where)
	default:
		t.Errorf("porcupine: %d operations NOT linearizable; %s", checked, where)
	}
	// A check of a handful of operations proves little: the workload must
	// have run (a broken client loop would otherwise pass).
	if n := w.History.Len(); n < minOps {
		t.Errorf("the history holds only %d writes, compare-and-sets and sync-reads (want at least %d)", n, minOps)
	}
}

// minOps is the least history Verify accepts.
const minOps = 200
