// Package ensemble runs a ZooKeeper ensemble — N members and observers —
// inside one process, on loopback ports the members bind themselves. Tests,
// the Python kit and `zkit ensemble -n 3` use it. Members can be stopped,
// crashed, restarted and partitioned.
package ensemble

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"zkit/server/auth"
	"zkit/server/quorum"
	"zkit/server/zab"
)

// Config describes an ensemble.
type Config struct {
	Size      int           // voting members (default 3)
	Observers int           // observers
	TickTime  time.Duration // ZooKeeper's tickTime (default 200 ms)
	InitLimit int           // default 10 ticks
	SyncLimit int           // default 5 ticks
	// DataDir holds one directory per member (member-<id>); empty keeps
	// each member's data in memory, on a file system that forgets what was
	// not synced when the member is killed.
	DataDir       string
	Host          string // loopback address to bind (default 127.0.0.1)
	ExtendedTypes bool   // TTL nodes
	// ContainerCheckInterval is how often empty containers and expired TTL
	// nodes are reaped (default 1 s: quick, for tests).
	ContainerCheckInterval time.Duration
	// NoSync skips fsyncs (forceSync=no) when DataDir is set.
	NoSync bool
	// ReadOnly lets members cut off from the quorum serve read-only
	// clients (readonlymode.enabled).
	ReadOnly bool
	// ReconfigEnabled allows dynamic reconfiguration (reconfigEnabled).
	ReconfigEnabled bool
	// SuperDigest is DigestAuthenticationProvider.superDigest
	// ("super:<base64 sha1>"): whoever authenticates as that user passes
	// every ACL check.
	SuperDigest string

	// QuorumTLS secures the links between members (sslQuorum: see
	// ssl.NewQuorum); nil leaves them plain TCP.
	QuorumTLS quorum.Secure
	// ClientTLS gives every member a secure client port as well, on Host,
	// port 0 (Member.SecureClientAddr), with X509 as its x509 scheme.
	ClientTLS *tls.Config
	X509      *auth.X509Provider

	// AdminServer and Metrics give every member an AdminServer or a
	// Prometheus /metrics endpoint on Host, port 0 (Member.AdminURL,
	// Member.MetricsURL); both off by default.
	AdminServer bool
	Metrics     bool
	Logger      *slog.Logger
}

func (c *Config) defaults() error {
	if c.Size == 0 {
		c.Size = 3
	}
	if c.Size < 1 || c.Observers < 0 {
		return fmt.Errorf("ensemble: size %d and observers %d: need at least one voter", c.Size, c.Observers)
	}
	if c.TickTime <= 0 {
		c.TickTime = 200 * time.Millisecond
	}
	if c.InitLimit <= 0 {
		c.InitLimit = 10
	}
	if c.SyncLimit <= 0 {
		c.SyncLimit = 5
	}
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.ContainerCheckInterval <= 0 {
		c.ContainerCheckInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Ensemble is a running ensemble.
type Ensemble struct {
	cfg     Config
	mu      sync.Mutex
	members []*Member
}

// ErrTimeout is returned by WaitReady when the ensemble does not settle.
var ErrTimeout = errors.New("ensemble: timed out waiting for a leader and synced members")

// Start builds and starts an ensemble; it returns once every member runs
// (not necessarily once a leader is elected: see WaitReady).
func Start(cfg Config) (*Ensemble, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	e := &Ensemble{cfg: cfg}
	var voters, observers []uint64
	for i := 1; i <= cfg.Size+cfg.Observers; i++ {
		id := uint64(i)
		if i <= cfg.Size {
			voters = append(voters, id)
		} else {
			observers = append(observers, id)
		}
	}
	for _, id := range append(append([]uint64(nil), voters...), observers...) {
		m, err := newMember(e, id, voters, observers)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.members = append(e.members, m)
	}
	peers := map[uint64]quorum.Addrs{}
	for _, m := range e.members {
		peers[m.ID] = m.addrs
	}
	servers := serversOf(e.members)
	for _, m := range e.members {
		m.peers = peers
		m.servers = servers
		if err := m.start(); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// Members returns the members, voters first.
func (e *Ensemble) Members() []*Member {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*Member(nil), e.members...)
}

// Member returns the member with this id, or nil.
func (e *Ensemble) Member(id uint64) *Member {
	for _, m := range e.Members() {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// ConnectString is "host:port,host:port,..." of every member's client port.
func (e *Ensemble) ConnectString() string {
	var hosts []string
	for _, m := range e.Members() {
		hosts = append(hosts, m.ClientAddr())
	}
	return strings.Join(hosts, ",")
}

// Leader returns the member leading an established epoch, or nil.
func (e *Ensemble) Leader() *Member {
	for _, m := range e.Members() {
		if st := m.Status(); st.Running && st.Role == zab.Leading && st.Serving {
			return m
		}
	}
	return nil
}

// WaitReady waits until one member leads and every running member serves.
func (e *Ensemble) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if e.ready() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w (%s)", ErrTimeout, e.describe())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (e *Ensemble) ready() bool {
	leaders := 0
	for _, m := range e.Members() {
		st := m.Status()
		if !st.Running {
			continue
		}
		if !st.Serving {
			return false
		}
		if st.Role == zab.Leading {
			leaders++
		}
	}
	return leaders == 1
}

func (e *Ensemble) describe() string {
	var parts []string
	for _, m := range e.Members() {
		st := m.Status()
		parts = append(parts, fmt.Sprintf("%d:%s", m.ID, st.State()))
	}
	return strings.Join(parts, " ")
}

// Partition cuts member id off from every other member (both ways); its
// clients stay connected to it, as in a network partition.
func (e *Ensemble) Partition(id uint64) error {
	target := e.Member(id)
	if target == nil {
		return fmt.Errorf("ensemble: no member %d", id)
	}
	for _, m := range e.Members() {
		if m.ID == id {
			continue
		}
		m.block(id)
		target.block(m.ID)
	}
	return nil
}

// Heal ends every partition.
func (e *Ensemble) Heal() {
	for _, m := range e.Members() {
		m.unblockAll()
	}
}

// ExpireSession closes a session as if its timeout had passed, on the
// leader: its ephemerals go and its client is told it expired.
func (e *Ensemble) ExpireSession(id int64) error {
	l := e.Leader()
	if l == nil {
		return errors.New("ensemble: no leader to expire the session")
	}
	return l.expireSession(id)
}

// Close stops every member and releases their data.
func (e *Ensemble) Close() {
	var wg sync.WaitGroup
	for _, m := range e.Members() {
		wg.Add(1)
		go func(m *Member) {
			defer wg.Done()
			m.Stop()
		}(m)
	}
	wg.Wait()
	for _, m := range e.Members() {
		m.closeHTTP()
	}
}
