package ensembletest

import (
	"fmt"
	"math/rand"
	"time"
)

// Faults drives a Cluster through crashes, restarts and partitions.
type Faults struct {
	C    Cluster
	Rng  *rand.Rand
	Mode CutMode // how partitions cut (processes only)
	// Settle is how long to wait after each fault and each repair.
	Settle time.Duration
}

// NewFaults returns a fault driver.
func NewFaults(c Cluster, seed int64) *Faults {
	return &Faults{C: c, Rng: rand.New(rand.NewSource(seed)), Settle: 1500 * time.Millisecond}
}

func (f *Faults) leader() (uint64, error) { return f.C.WaitLeader(20 * time.Second) }

func (f *Faults) follower(leader uint64) uint64 {
	var fs []uint64
	for _, id := range f.C.Voters() {
		if id != leader {
			fs = append(fs, id)
		}
	}
	return fs[f.Rng.Intn(len(fs))]
}

func (f *Faults) pause() { time.Sleep(f.Settle) }

// KillLeader kill -9s the leader, waits, restarts it and waits until the
// ensemble is whole again.
func (f *Faults) KillLeader() error {
	l, err := f.leader()
	if err != nil {
		return err
	}
	return f.crashAndRestart(l, true)
}

// KillFollower does the same to a follower.
func (f *Faults) KillFollower() error {
	l, err := f.leader()
	if err != nil {
		return err
	}
	return f.crashAndRestart(f.follower(l), true)
}

// StopLeader stops the leader cleanly (SIGTERM), then restarts it.
func (f *Faults) StopLeader() error {
	l, err := f.leader()
	if err != nil {
		return err
	}
	return f.crashAndRestart(l, false)
}

func (f *Faults) crashAndRestart(id uint64, kill bool) error {
	var err error
	if kill {
		err = f.C.Kill(id)
	} else {
		err = f.C.Stop(id)
	}
	if err != nil {
		return err
	}
	f.pause()
	if err := f.C.Start(id); err != nil {
		return err
	}
	return f.ready()
}

// PartitionLeader cuts the leader off from the others, waits, heals.
func (f *Faults) PartitionLeader() error {
	l, err := f.leader()
	if err != nil {
		return err
	}
	return f.partition(l)
}

// PartitionFollower cuts a follower off, waits, heals.
func (f *Faults) PartitionFollower() error {
	l, err := f.leader()
	if err != nil {
		return err
	}
	return f.partition(f.follower(l))
}

// partition cuts a member off until it stops serving and (if it led)
// another member leads, holds the cut a while longer, then heals.
func (f *Faults) partition(id uint64) error {
	f.C.Partition(id, f.Mode)
	deadline := time.Now().Add(30 * time.Second)
	for {
		l, ok := f.C.Leader()
		if f.C.Mode(id) == "" && ok && l != id {
			f.C.Events().Add("member %d stopped serving; member %d leads", id, l)
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("member %d, partitioned for 30s: still serving (%q) or no other leader", id, f.C.Mode(id))
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.pause()
	f.C.Heal()
	return f.ready()
}

// LoseQuorum kills two voters (of three) at once: nothing may be written
// until one comes back.
func (f *Faults) LoseQuorum() error {
	l, err := f.leader()
	if err != nil {
		return err
	}
	other := f.follower(l)
	if err := f.C.Kill(l); err != nil {
		return err
	}
	if err := f.C.Kill(other); err != nil {
		return err
	}
	f.pause()
	if err := f.C.Start(other); err != nil {
		return err
	}
	time.Sleep(f.Settle / 2)
	if err := f.C.Start(l); err != nil {
		return err
	}
	return f.ready()
}

// KillAll kill -9s every member at once and restarts them all: every
// acknowledged write must come back from the members' disks.
func (f *Faults) KillAll() error {
	for _, id := range f.C.IDs() {
		if err := f.C.Kill(id); err != nil {
			return err
		}
	}
	time.Sleep(f.Settle / 3)
	for _, id := range f.C.IDs() {
		if err := f.C.Start(id); err != nil {
			return err
		}
	}
	return f.ready()
}

func (f *Faults) ready() error {
	if err := f.C.WaitReady(30 * time.Second); err != nil {
		return err
	}
	f.C.Events().Add("ready again")
	time.Sleep(f.Settle / 3)
	return nil
}

// Random runs one randomly chosen fault.
func (f *Faults) Random(partitions bool) error {
	type fault struct {
		name string
		do   func() error
	}
	all := []fault{
		{"kill leader", f.KillLeader},
		{"kill follower", f.KillFollower},
		{"stop leader", f.StopLeader},
		{"lose quorum", f.LoseQuorum},
		{"kill all", f.KillAll},
	}
	if partitions {
		all = append(all, fault{"partition leader", f.PartitionLeader}, fault{"partition follower", f.PartitionFollower})
		if p, ok := f.C.(*Procs); ok {
			all = append(all, fault{"bridge", func() error { return f.bridge(p) }})
		}
	}
	x := all[f.Rng.Intn(len(all))]
	if err := x.do(); err != nil {
		return fmt.Errorf("%s: %w", x.name, err)
	}
	return nil
}

// bridge cuts the leader from one follower only: the other follower still
// hears both (a "bridge" partition).
func (f *Faults) bridge(p *Procs) error {
	l, err := f.leader()
	if err != nil {
		return err
	}
	p.CutLink(l, f.follower(l), f.Mode)
	f.pause()
	p.Heal()
	return f.ready()
}
