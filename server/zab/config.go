package zab

import (
	"fmt"
	"slices"
)

// Config describes a member and its ensemble. Times are in ticks: the
// driver calls Node.Tick at a fixed interval of its choosing.
type Config struct {
	ID        uint64
	Voters    []uint64 // participants (the quorum is a majority of them)
	Observers []uint64
	// Version is the configuration's version (0: never reconfigured).
	Version int64
	// ReconfigEnabled: a configuration still at version 0 takes the zxid
	// of the first epoch a leader establishes as its version, as
	// ZooKeeper's Leader.lead does when reconfigEnabled is set.
	ReconfigEnabled bool

	PingTicks      int // leader → learner ping interval (ZooKeeper: tickTime/2)
	SyncLimit      int // ticks a synced learner or the leader may go unheard (syncLimit × tickTime)
	InitLimit      int // ticks allowed to connect and synchronize (initLimit × tickTime)
	FinalizeWait   int // ticks an election waits for a better vote once a quorum agrees
	ConnectRetry   int // ticks a learner waits for LEADERINFO before trying a new link
	NotifyInterval int // ticks between election resends while nothing is heard (doubles)
	MaxNotify      int // cap of the resend interval
	// Window is how many committed entries stay in memory for DIFF (up to an
	// eighth more between trims); older learners get a SNAP.
	Window int
}

// Validate checks the config and fills defaults.
func (c *Config) Validate() error {
	if c.ID == 0 {
		return fmt.Errorf("zab: member id must be positive")
	}
	if len(c.Voters) == 0 {
		return fmt.Errorf("zab: no voters")
	}
	seen := map[uint64]bool{}
	for _, id := range append(append([]uint64(nil), c.Voters...), c.Observers...) {
		if seen[id] {
			return fmt.Errorf("zab: member %d listed twice", id)
		}
		seen[id] = true
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.PingTicks, 2)
	def(&c.SyncLimit, 10)
	def(&c.InitLimit, 20)
	def(&c.FinalizeWait, 2)
	def(&c.ConnectRetry, max(c.InitLimit/4, 1))
	def(&c.NotifyInterval, 5)
	def(&c.MaxNotify, 200)
	def(&c.Window, 10000)
	return nil
}

func (c *Config) isVoter(id uint64) bool    { return slices.Contains(c.Voters, id) }
func (c *Config) isObserver(id uint64) bool { return slices.Contains(c.Observers, id) }

func (c *Config) quorum() int { return len(c.Voters)/2 + 1 }

// peers returns every member but this one.
func (c *Config) peers() []uint64 {
	var out []uint64
	for _, id := range append(append([]uint64(nil), c.Voters...), c.Observers...) {
		if id != c.ID {
			out = append(out, id)
		}
	}
	return out
}
