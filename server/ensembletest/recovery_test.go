package ensembletest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestFollowerCatchesUpBySnapshot: a follower cut off while the others
// take more transactions than the leader keeps in memory (10,000) must
// come back through a SNAP — a fuzzy snapshot taken while clients keep
// writing — and end up with exactly the others' data. The register
// workload runs throughout.
func TestFollowerCatchesUpBySnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 15,000 transactions")
	}
	c := StartProcs(t, ProcOptions{Voters: 3, Proxied: true, NoSync: true})
	leader, err := c.WaitLeader(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	f := c.Followers(leader)[0]
	w := StartWorkload(t, c, WorkloadOptions{Seed: seed(), Sessions: 4, Home: []uint64{leader, c.Followers(leader)[1]}})
	time.Sleep(500 * time.Millisecond)
	c.Partition(f, Reset)
	deadline := time.Now().Add(20 * time.Second)
	for c.Mode(f) != "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}

	// 16 writers, through the members still in the quorum.
	var up []string
	for _, id := range c.Voters() {
		if id != f {
			up = append(up, c.ClientAddr(id))
		}
	}
	const writers, each = 16, 950
	var wg sync.WaitGroup
	var failures atomic.Int64
	for i := 0; i < writers; i++ {
		s, err := Dial(fmt.Sprintf("bulk%d", i), Rotate(up, i), 4*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := fmt.Sprintf("/bulk%d", i)
			if err := createRetry(s.Conn, dir, "", 10*time.Second); err != nil {
				failures.Add(1)
				return
			}
			for n := 0; n < each; n++ {
				var err error
				if n%4 == 0 {
					_, err = s.Conn.Create(fmt.Sprintf("%s/n%d", dir, n), []byte(fmt.Sprint(n)), 0, zk.WorldACL(zk.PermAll))
				} else {
					_, err = s.Conn.Set(dir, []byte(fmt.Sprint(n)), -1)
				}
				if err != nil && !errors.Is(err, zk.ErrNodeExists) {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d bulk writes failed", n)
	}
	c.Heal()
	if err := c.WaitReady(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	final, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	w.Verify(final)
	log, _ := os.ReadFile(c.Member(f).logFile)
	if !strings.Contains(string(log), "installed the leader's snapshot") {
		t.Errorf("member %d did not catch up through a snapshot (no \"installed the leader's snapshot\" in its log)", f)
	}
	// The follower's tree is the leader's.
	fs, ls := pinned(t, c, f), pinned(t, c, leader)
	for i := 0; i < writers; i++ {
		dir := fmt.Sprintf("/bulk%d", i)
		if _, err := fs.Conn.Sync(dir); err != nil {
			t.Fatal(err)
		}
		fd, fst, err1 := fs.Conn.Get(dir)
		ld, lst, err2 := ls.Conn.Get(dir)
		fk, _, err3 := fs.Conn.Children(dir)
		lk, _, err4 := ls.Conn.Children(dir)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatal(err)
		}
		if string(fd) != string(ld) || *fst != *lst || len(fk) != len(lk) {
			t.Errorf("%s: follower %q %+v (%d children), leader %q %+v (%d children)", dir, fd, fst, len(fk), ld, lst, len(lk))
		}
	}
}

// TestSessionExpiresAcrossFailover: a client that goes silent (its
// connection blackholed) must still see its session expire — decided by
// the new leader after the old one is killed — while a live client on a
// follower keeps its session and ephemeral through the failover.
func TestSessionExpiresAcrossFailover(t *testing.T) {
	c := StartProcs(t, ProcOptions{Voters: 3})
	leader, err := c.WaitLeader(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fl := c.Followers(leader)
	// The silent client talks to a follower through a proxy we can cut.
	target := c.ClientAddr(fl[0])
	px, err := newProxy("client", func() (string, error) { return target, nil })
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	silent, err := Dial("silent", []string{px.Addr()}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	live, err := Dial("live", []string{c.ClientAddr(fl[1]), c.ClientAddr(fl[0])}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	for _, s := range []*Session{silent, live} {
		if err := s.WaitConnected(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Conn.Create("/eph-"+s.Name, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	observer, err := Dial("observer", []string{c.ClientAddr(fl[1]), c.ClientAddr(fl[0])}, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer observer.Close()
	if err := observer.WaitConnected(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	px.Cut(Blackhole)
	cut := time.Now()
	time.Sleep(500 * time.Millisecond)
	c.Kill(leader)
	killed := time.Now()
	var gone time.Duration
	for {
		_, _ = observer.Conn.Sync("/eph-silent")
		ok, _, err := observer.Conn.Exists("/eph-silent")
		if err == nil && !ok {
			gone = time.Since(cut)
			break
		}
		if time.Since(cut) > 30*time.Second {
			t.Fatalf("the silent session's ephemeral still exists 30s after its client went silent (session timeout %v)", 2*time.Second)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("silent session's ephemeral removed %v after the client went silent (%v after the leader was killed; session timeout 2s)",
		gone.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	if ok, st, err := observer.Conn.Exists("/eph-live"); err != nil || !ok || st.EphemeralOwner != live.Conn.SessionID() {
		t.Fatalf("the live session's ephemeral: exists=%v %v", ok, err)
	}
	if live.Expired() > 0 {
		t.Fatal("the live session expired")
	}
	if _, err := live.Conn.Set("/eph-live", []byte("still here"), -1); err != nil {
		t.Fatal(err)
	}
}
