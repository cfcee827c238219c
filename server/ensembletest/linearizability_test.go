package ensembletest

import (
	"flag"
	"os"
	"testing"
	"time"

	"zkit/server/ensemble"
)

var (
	soakFor  = flag.Duration("ensembletest.soak", 0, "run the random-fault soak for this long (0: skip)")
	soakProc = flag.Bool("ensembletest.soak-inproc", false, "soak the in-process ensemble instead of member processes")
	seedFlag = flag.Int64("ensembletest.seed", 0, "seed for workloads and fault choices (0: time)")
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	CleanupBinary()
	os.Exit(code)
}

// LongEnv names the environment variable that runs the longer variants:
// more rounds of each scenario, and the Apache deposed-leader comparison.
const LongEnv = "ZKIT_ENSEMBLE_LONG"

func long() bool { return os.Getenv(LongEnv) != "" }

func seed() int64 {
	if *seedFlag != 0 {
		return *seedFlag
	}
	return time.Now().UnixNano()
}

// runSchedule runs faults one after another, failing the test on the
// first that cannot complete (the ensemble did not recover).
func runSchedule(t *testing.T, steps ...func() error) {
	t.Helper()
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("fault schedule: %v", err)
		}
	}
}

func finishAndVerify(t *testing.T, c Cluster, w *Workload) {
	t.Helper()
	c.Heal()
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	final, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	w.Verify(final)
}

// TestLinearizableProcesses: 3 voters and an observer as `zkit member`
// processes, their quorum and election links through proxies; six
// sessions spread over the members write, compare-and-set and
// sync-read a few keys while the leader and a follower are kill -9'd and
// restarted, the leader and a follower are partitioned (blackholed, then
// reset) and healed, the leader is stopped with SIGTERM, and every member
// is killed at once and restarted.
func TestLinearizableProcesses(t *testing.T) {
	c := StartProcs(t, ProcOptions{Voters: 3, Observers: 1, Proxied: true})
	s := seed()
	w := StartWorkload(t, c, WorkloadOptions{Seed: s})
	f := NewFaults(c, s)
	time.Sleep(time.Second)
	if testing.Short() {
		runSchedule(t, f.KillLeader, f.PartitionLeader)
	} else {
		f.Mode = Blackhole
		runSchedule(t, f.KillLeader, f.KillFollower, f.PartitionLeader, f.PartitionFollower)
		f.Mode = Reset
		runSchedule(t, f.PartitionLeader, f.StopLeader, f.KillAll)
	}
	time.Sleep(500 * time.Millisecond)
	t.Logf("faults:\n%s", c.Events())
	finishAndVerify(t, c, w)
}

// TestLinearizableInProcessPartitions: the same workload over an
// in-process ensemble (3 voters, 1 observer) whose partitions block a
// member's quorum and election traffic; members are also stopped cleanly
// and restarted.
func TestLinearizableInProcessPartitions(t *testing.T) {
	c := StartInProc(t, ensemble.Config{Size: 3, Observers: 1})
	s := seed()
	w := StartWorkload(t, c, WorkloadOptions{Seed: s})
	f := NewFaults(c, s)
	f.Settle = time.Second
	time.Sleep(500 * time.Millisecond)
	if testing.Short() {
		runSchedule(t, f.PartitionLeader, f.PartitionFollower)
	} else {
		runSchedule(t, f.PartitionLeader, f.PartitionFollower, f.StopLeader, f.PartitionLeader)
	}
	time.Sleep(300 * time.Millisecond)
	t.Logf("faults:\n%s", c.Events())
	finishAndVerify(t, c, w)
}

// TestLinearizableInProcessCrashes: members keep their data on in-memory
// file systems, so a crash loses whatever was not fsynced, as a power
// failure would: a member must never acknowledge what it has not synced.
func TestLinearizableInProcessCrashes(t *testing.T) {
	c := StartInProc(t, ensemble.Config{Size: 3, Observers: 1})
	s := seed()
	w := StartWorkload(t, c, WorkloadOptions{Seed: s})
	f := NewFaults(c, s)
	f.Settle = time.Second
	time.Sleep(500 * time.Millisecond)
	if testing.Short() {
		runSchedule(t, f.KillLeader, f.KillFollower)
	} else {
		runSchedule(t, f.KillLeader, f.KillFollower, f.LoseQuorum, f.KillLeader)
	}
	time.Sleep(300 * time.Millisecond)
	t.Logf("faults:\n%s", c.Events())
	finishAndVerify(t, c, w)
}

// TestSoak runs random faults for -ensembletest.soak (e.g. 10m) against
// member processes (or, with -ensembletest.soak-inproc, an in-process
// ensemble), checking a history per round of faults.
func TestSoak(t *testing.T) {
	if *soakFor == 0 {
		t.Skip("soak: pass -ensembletest.soak=10m")
	}
	deadline := time.Now().Add(*soakFor)
	for round := 1; time.Now().Before(deadline); round++ {
		s := seed()
		t.Run("", func(t *testing.T) {
			t.Logf("round %d, seed %d", round, s)
			var c Cluster
			if *soakProc {
				c = StartInProc(t, ensemble.Config{Size: 3, Observers: 1})
			} else {
				c = StartProcs(t, ProcOptions{Voters: 3, Observers: 1, Proxied: true})
			}
			w := StartWorkload(t, c, WorkloadOptions{Seed: s, Sessions: 8, CheckTimeout: 10 * time.Minute})
			f := NewFaults(c, s)
			for i := 0; i < 6 && time.Now().Before(deadline); i++ {
				f.Mode = CutMode(f.Rng.Intn(2))
				f.Settle = time.Duration(300+f.Rng.Intn(2500)) * time.Millisecond
				if err := f.Random(true); err != nil {
					t.Fatalf("fault: %v", err)
				}
			}
			t.Logf("faults:\n%s", c.Events())
			finishAndVerify(t, c, w)
		})
		if t.Failed() {
			return
		}
	}
}
