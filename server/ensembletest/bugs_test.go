package ensembletest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"zkit/server/ensemble"
)

// TestCrashDuringLogWrite crashes members of an in-process ensemble (their
// in-memory disks lose power) while clients write. A member whose log
// write fails must stop, not hang: storage's ensemble log writer calls the
// member's onFatal (member.Server.fail → Stop) on its own goroutine, and
// Stop waits for that goroutine to exit (ensembleLog.close → wg.Wait).
func TestCrashDuringLogWrite(t *testing.T) {
	c := StartInProc(t, ensemble.Config{Size: 3})
	var stop atomic.Bool
	var wg sync.WaitGroup
	addrs := addrsOf(c)
	for i := 0; i < 4; i++ {
		s, err := Dial(fmt.Sprintf("w%d", i), Rotate(addrs, i), 4*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				_, _ = s.Conn.Create(fmt.Sprintf("/w%d-%d", i, n), []byte("x"), 0, zk.WorldACL(zk.PermAll))
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	// The hang needs a log write to fail after the crash: try a few times.
	for round := 0; round < 10; round++ {
		time.Sleep(200 * time.Millisecond)
		id, err := c.WaitLeader(20 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if round%2 == 1 {
			id = c.E.Members()[(int(id))%3].ID // a follower
		}
		if err := c.Kill(id); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := c.Start(id); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitReady(20 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSessionIDsUniqueAcrossRoles: a member hands out session ids from its
// session tracker while it leads and from its learner's counter while it
// follows; no two sessions may get the same id. Sessions are opened on
// every member; a partition then makes a follower lead and the leader
// follow; sessions are opened on every member again. All ids must differ,
// and closing the later sessions must not end the earlier ones.
func TestSessionIDsUniqueAcrossRoles(t *testing.T) {
	for _, mode := range []string{"inproc", "procs"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "procs" && testing.Short() {
				t.Skip("short")
			}
			// Ids would collide if a member's leader and learner counters
			// were seeded in the same millisecond: ZKIT_ENSEMBLE_LONG tries
			// more ensembles.
			rounds := 1
			if long() {
				rounds = 6
			}
			for round := 0; round < rounds && !t.Failed(); round++ {
				var c Cluster
				if mode == "inproc" {
					c = StartInProc(t, ensemble.Config{Size: 3})
				} else {
					c = StartProcs(t, ProcOptions{Voters: 3, Proxied: true})
				}
				sessionIDsAcrossRoles(t, c)
			}
		})
	}
}

func sessionIDsAcrossRoles(t *testing.T, c Cluster) {
	t.Helper()
	l, err := c.WaitLeader(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// A session opened on member id, able to move to the others.
	open := func(name string, id uint64) *Session {
		hosts := []string{c.ClientAddr(id)}
		for _, o := range c.IDs() {
			if o != id {
				hosts = append(hosts, c.ClientAddr(o))
			}
		}
		s, err := Dial(name, hosts, 4*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		if err := s.WaitConnected(20 * time.Second); err != nil {
			t.Fatal(err)
		}
		return s
	}
	ids := map[int64]string{}
	var before []*Session
	for _, id := range c.IDs() {
		role := c.Mode(id)
		for i := 0; i < 2; i++ {
			s := open(fmt.Sprintf("m%d-%s-%d", id, role, i), id)
			if _, err := s.Conn.Create("/"+s.Name, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
				t.Fatal(err)
			}
			ids[s.Conn.SessionID()] = s.Name
			before = append(before, s)
		}
	}
	// Member l follows, another member leads; no restart.
	c.Partition(l, Reset)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if o, ok := c.Leader(); ok && o != l {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no other leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Heal()
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, s := range before {
		if s.Expired() > 0 {
			t.Fatalf("%s lost its session during the partition", s.Name)
		}
	}
	for _, id := range c.IDs() {
		role := c.Mode(id)
		for i := 0; i < 2; i++ {
			name := fmt.Sprintf("m%d-%s-%d", id, role, i)
			s, err := Dial(name, []string{c.ClientAddr(id)}, 4*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.WaitConnected(10 * time.Second); err != nil {
				s.Close()
				t.Errorf("%s: %v", name, err)
				continue
			}
			if other, dup := ids[s.Conn.SessionID()]; dup {
				t.Errorf("session id 0x%x given to %s and, earlier, to %s", s.Conn.SessionID(), name, other)
			}
			s.Close()
		}
	}
	// Closing the later sessions must leave the earlier ones alive.
	time.Sleep(200 * time.Millisecond)
	for _, s := range before {
		_, _ = s.Conn.Sync("/" + s.Name)
		ok, _, err := s.Conn.Exists("/" + s.Name)
		if err != nil || !ok || s.Expired() > 0 {
			t.Errorf("%s (session now 0x%x): ephemeral exists=%v (%v), session lost %d times", s.Name, s.Conn.SessionID(), ok, err, s.Expired())
		}
	}
}

// TestConnectDuringFailover: clients keep opening sessions on the
// followers while the leader is killed. A connect request that reaches a
// follower just before it notices the leader's death is forwarded to the
// dead leader and lost; the member must then close that connection (as
// Apache closes every client connection when it stops serving) so the
// client tries again, not leave it waiting for an answer that cannot come.
func TestConnectDuringFailover(t *testing.T) {
	c := StartProcs(t, ProcOptions{Voters: 3})
	l, err := c.WaitLeader(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Every member: whichever leads, the others are followers.
	var hosts []string
	for _, id := range c.IDs() {
		hosts = append(hosts, c.ClientAddr(id))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	var stuck []string
	attempts := atomic.Int64{}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				s, err := Dial(fmt.Sprintf("g%d-%d", g, n), Rotate(hosts, g), 4*time.Second)
				if err != nil {
					return
				}
				attempts.Add(1)
				began := time.Now()
				if err := s.WaitConnected(8 * time.Second); err != nil {
					cons := ""
					if a := s.Server(); a != "" {
						cons, _ = FourLetter(a, "cons", time.Second)
					}
					mu.Lock()
					stuck = append(stuck, fmt.Sprintf("%s: began %s, %v; connections:\n%s\nmember's cons:\n%s", s.Name,
						began.Format("15:04:05.000"), err, strings.Join(s.History(), "\n"), cons))
					mu.Unlock()
				}
				s.Close()
			}
		}()
	}
	// Two failovers: the window is narrow.
	rounds := 2
	if testing.Short() {
		rounds = 1
	} else if long() {
		rounds = 6
	}
	for round := 0; round < rounds; round++ {
		time.Sleep(time.Second)
		_ = c.Kill(l)
		nl, err := c.WaitLeader(20 * time.Second)
		if err != nil {
			t.Error(err)
			break
		}
		time.Sleep(time.Second)
		if err := c.Start(l); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitReady(20 * time.Second); err != nil {
			t.Fatal(err)
		}
		l = nl
	}
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d connection attempts", attempts.Load())
	for _, s := range stuck {
		t.Errorf("a new session was not established within 8s although the ensemble served again within a second:\n%s", s)
	}
}

// TestReconnectWhileLeaderStepsDown: sessions live on a follower; the
// leader is cut off (links reset), so the followers drop their clients
// while the old leader steps down; the clients try the old leader next.
// A member that is ceasing to serve must not tell a reconnecting client
// that its (live) session expired: only the ensemble's leader, while it
// leads, may say so.
func TestReconnectWhileLeaderStepsDown(t *testing.T) {
	for _, mode := range []string{"inproc", "procs"} {
		t.Run(mode, func(t *testing.T) {
			var c Cluster
			if mode == "inproc" {
				c = StartInProc(t, ensemble.Config{Size: 3})
			} else {
				c = StartProcs(t, ProcOptions{Voters: 3, Proxied: true})
			}
			reconnectWhileLeaderStepsDown(t, c)
		})
	}
}

func reconnectWhileLeaderStepsDown(t *testing.T, c Cluster) {
	rounds := 1
	if long() {
		rounds = 6
	}
	for round := 0; round < rounds; round++ {
		l, err := c.WaitLeader(20 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var fs []uint64
		for _, id := range c.Voters() {
			if id != l {
				fs = append(fs, id)
			}
		}
		order := []string{c.ClientAddr(fs[0]), c.ClientAddr(l), c.ClientAddr(fs[1])}
		var ss []*Session
		for i := 0; i < 48; i++ {
			s, err := Dial(fmt.Sprintf("r%d-s%d", round, i), order, 4*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.WaitConnected(20 * time.Second); err != nil {
				t.Fatal(err)
			}
			ss = append(ss, s)
		}
		c.Partition(l, Reset)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if o, ok := c.Leader(); ok && o != l {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no new leader")
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, s := range ss {
			if err := s.WaitConnected(10 * time.Second); err != nil {
				t.Errorf("%v; connections:\n%s", err, strings.Join(s.History(), "\n"))
			}
			if s.Expired() > 0 {
				t.Errorf("%s was told its session expired; connections:\n%s", s.Name, strings.Join(s.History(), "\n"))
			}
		}
		c.Heal()
		if err := c.WaitReady(30 * time.Second); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
}
