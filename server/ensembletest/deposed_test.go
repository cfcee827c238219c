package ensembletest

import (
	"testing"
	"time"
)

// TestDeposedLeaderSyncReads: the strongest claim of all. Member 3 runs
// with a long syncLimit (6 s; the others 1 s), so when it is cut off while
// leading, the others elect a new leader and take writes while member 3
// still believes it leads. Sessions connected to member 3 keep doing
// sync+getData (and writes); none of its answers may be stale: the
// history must stay linearizable.
func TestDeposedLeaderSyncReads(t *testing.T) {
	if testing.Short() {
		t.Skip("long: the deposed leader holds on for 6 s")
	}
	const long = 30 // ticks of 200 ms
	c := StartProcs(t, ProcOptions{Voters: 3, Proxied: true, SyncLimits: map[uint64]int{3: long}})
	l, err := c.WaitLeader(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l != 3 {
		// With equal histories the highest id wins: move the lead to 3.
		c.Kill(l)
		if err := c.Start(l); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitReady(20 * time.Second); err != nil {
			t.Fatal(err)
		}
		if l, err = c.WaitLeader(20 * time.Second); err != nil || l != 3 {
			t.Fatalf("member 3 does not lead (leader %d, %v)", l, err)
		}
	}
	s := seed()
	w := StartWorkload(t, c, WorkloadOptions{Seed: s, Sessions: 6, Home: []uint64{3, 3, 3, 1, 2}, StayHome: []uint64{1, 2}, Readers: 3})
	time.Sleep(time.Second)

	c.Partition(3, Blackhole)
	cut := w.History.Now()
	overlap := false
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c.Mode(3) != "leader" {
			break
		}
		if c.Mode(1) == "leader" || c.Mode(2) == "leader" {
			c.Events().Add("member 3 still says it leads, and another member leads too")
			overlap = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for c.Mode(3) != "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stepped := w.History.Now()
	c.Events().Add("member 3 stopped serving (mode %q)", c.Mode(3))
	time.Sleep(500 * time.Millisecond)
	c.Heal()
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	t.Logf("faults:\n%s", c.Events())

	final, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	addr3 := c.ClientAddr(3)
	answered, writes := 0, 0
	for _, op := range w.History.Operations() {
		m := op.Metadata.(Meta)
		if m.Server != addr3 || op.Return < cut || op.Return > stepped || op.Output.(Output).Unknown {
			continue
		}
		if op.Input.(Input).Kind == OpRead {
			answered++
		} else {
			writes++
		}
	}
	t.Logf("while cut off and still leading (%.1fs), member 3 answered %d sync-reads and %d writes",
		time.Duration(stepped-cut).Seconds(), answered, writes)
	stale, total := w.History.StaleReads(addr3)
	t.Logf("sync-reads answered by member 3 over the whole run: %d, certainly stale: %d", total, stale)
	w.Verify(final)
	if !overlap {
		t.Errorf("the scenario did not happen: no other member led while member 3 still believed it led")
	}
}
