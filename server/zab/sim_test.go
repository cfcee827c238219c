package zab

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The simulator runs members over a network that drops, delays, duplicates
// and reorders messages, partitions members and crashes them (losing what
// was not fsynced), then checks ZAB's invariants:
//
//   - one leader per epoch;
//   - every member that serves has applied a prefix of one common
//     sequence (committed transactions in the same order everywhere);
//   - every transaction the leader committed survives: it is in the final
//     state of every member.
//
// go test -short runs a few thousand seeds; -sim.seeds raises that, and
// -sim.seed replays one seed with a trace.

var (
	simSeeds = flag.Int("sim.seeds", 0, "number of simulation seeds (default: 300 with -short, 2000 otherwise)")
	simSeed  = flag.Int64("sim.seed", -1, "replay this one seed, with a trace")
	simTrace = flag.Bool("sim.trace", false, "print every message")
)

// simDisk is what survives a crash.
type simDisk struct {
	accepted, current uint32
	snapZxid          int64
	snapSeq           []int64     // the applied sequence the snapshot holds
	log               []Entry     // durable entries after snapZxid
	config            *Membership // the last configuration activated
}

type simMember struct {
	id          uint64
	node        *Node
	disk        simDisk
	pending     []Entry // appended, not yet fsynced
	syncAt      int     // round the pending entries become durable
	state       []int64 // applied zxids, in order
	up          bool
	incarnation uint64
	snapIn      []int64 // snapshot data of the SNAP message last received
	serving     bool
	role        Role
	epoch       uint32
}

type simMsg struct {
	m    Message
	at   int // delivery round
	snap []int64
	seq  int // tie-break for determinism
}

type sim struct {
	t       testing.TB
	rng     *rand.Rand
	cfg     Config
	members map[uint64]*simMember
	ids     []uint64
	queue   []simMsg
	round   int
	msgSeq  int
	cut     map[[2]uint64]bool // partitioned pairs
	lastAt  map[[2]uint64]int  // delivery round of the last quorum message per pair
	trace   bool

	drop, dup, reorder float64
	maxDelay           int

	canon     []int64           // the longest serving state: the common sequence
	acked     map[int64]bool    // committed at a leader
	leaders   map[uint32]uint64 // epoch → leader
	proposed  int
	quiet     bool
	ackedList []int64 // committed transactions, in the order leaders committed them
	syncs     int
	nextCount map[uint32]uint32
	failures  []string

	// Reconfiguration: spare members run outside the initial
	// configuration (as servers about to join do), and leaders now and
	// then propose a new configuration over every member.
	reconfigs float64              // chance per proposal round
	configs   map[int64]Membership // reconfig entries by zxid
	reconfigd int                  // reconfigs committed
}

func newSim(t testing.TB, seed int64, voters, observers int) *sim {
	return newSimSpares(t, seed, voters, observers, 0)
}

func newSimSpares(t testing.TB, seed int64, voters, observers, spares int) *sim {
	s := &sim{
		t: t, rng: rand.New(rand.NewSource(seed)), members: map[uint64]*simMember{},
		cut: map[[2]uint64]bool{}, acked: map[int64]bool{}, leaders: map[uint32]uint64{},
		lastAt:    map[[2]uint64]int{},
		nextCount: map[uint32]uint32{},
		configs:   map[int64]Membership{},
	}
	for i := 1; i <= voters; i++ {
		s.cfg.Voters = append(s.cfg.Voters, uint64(i))
	}
	for i := 1; i <= observers; i++ {
		s.cfg.Observers = append(s.cfg.Observers, uint64(voters+i))
	}
	s.cfg.PingTicks, s.cfg.SyncLimit, s.cfg.InitLimit = 2, 8, 20
	s.cfg.FinalizeWait, s.cfg.NotifyInterval, s.cfg.MaxNotify = 2, 4, 40
	s.cfg.Window = 20 + s.rng.Intn(40) // small, so SNAP happens
	s.drop = []float64{0, 0.01, 0.05}[s.rng.Intn(3)]
	s.dup = []float64{0, 0.01, 0.03}[s.rng.Intn(3)]
	s.reorder = []float64{0, 0.01, 0.05}[s.rng.Intn(3)]
	s.maxDelay = 1 + s.rng.Intn(3)
	// An election waits longer than a round trip before it settles, as
	// finalizeWait (tens of ms) exceeds a LAN's round trip: otherwise a
	// member that has not heard of a pending reconfig can keep deciding
	// on a vote the others have already moved away from.
	s.cfg.FinalizeWait = 2*s.maxDelay + 1
	// With spares, the first leader gives the configuration a version, so
	// that the spares, whose own view shares version 0, adopt it.
	s.cfg.ReconfigEnabled = spares > 0
	all := append(append([]uint64(nil), s.cfg.Voters...), s.cfg.Observers...)
	for i := 1; i <= spares; i++ {
		all = append(all, uint64(voters+observers+i))
	}
	for _, id := range all {
		m := &simMember{id: id}
		s.members[id] = m
		s.ids = append(s.ids, id)
		s.start(m)
	}
	return s
}

func (s *sim) fail(format string, args ...any) {
	s.failures = append(s.failures, fmt.Sprintf("round %d: ", s.round)+fmt.Sprintf(format, args...))
}

func (s *sim) start(m *simMember) {
	cfg := s.cfg
	cfg.ID = m.id
	s.restoreConfig(m, &cfg)
	// Members disagree on timeouts now and then, so a deposed leader can
	// go on believing it leads while a new one commits.
	if s.rng.Intn(3) == 0 {
		cfg.SyncLimit = 8 + s.rng.Intn(30)
	}
	m.incarnation++
	m.state = append(append([]int64(nil), m.disk.snapSeq...), zxids(m.disk.log)...)
	applied := m.disk.snapZxid
	if len(m.disk.log) > 0 {
		applied = m.disk.log[len(m.disk.log)-1].Zxid
	}
	n, err := NewNode(cfg, State{
		AcceptedEpoch: m.disk.accepted, CurrentEpoch: m.disk.current,
		Base: m.disk.snapZxid, Entries: m.disk.log, Applied: applied, Incarnation: m.incarnation,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	m.node, m.up, m.pending, m.serving, m.role = n, true, nil, false, Looking
	s.process(m)
}

type syncMarker struct{ before int }

func zxids(es []Entry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Zxid
	}
	return out
}

func (s *sim) crash(m *simMember) {
	if s.trace {
		fmt.Printf("r%d: crash %d\n", s.round, m.id)
	}
	// What was not fsynced is lost; sometimes a prefix of it made it.
	if len(m.pending) > 0 && s.rng.Intn(2) == 0 {
		k := s.rng.Intn(len(m.pending) + 1)
		m.disk.log = append(m.disk.log, m.pending[:k]...)
	}
	m.up, m.node, m.pending, m.serving = false, nil, nil, false
}

// process carries out a member's Ready, in the documented order.
func (s *sim) process(m *simMember) {
	for m.up && m.node.HasReady() {
		rd := m.node.Ready()
		if rd.Truncate != nil {
			s.truncate(m, *rd.Truncate)
		}
		if rd.Snapshot != nil {
			s.installSnapshot(m, *rd.Snapshot)
		}
		if rd.AcceptedEpoch != nil {
			m.disk.accepted = *rd.AcceptedEpoch
		}
		if rd.CurrentEpoch != nil {
			m.disk.current = *rd.CurrentEpoch
		}
		if rd.Membership != nil {
			c := rd.Membership.clone()
			m.disk.config = &c
		}
		if len(rd.Entries) > 0 {
			m.pending = append(m.pending, rd.Entries...)
			if m.syncAt <= s.round {
				m.syncAt = s.round + s.rng.Intn(3)
			}
		}
		for _, msg := range rd.Messages {
			s.sendMsg(m, msg)
		}
		s.apply(m, rd.Committed)
		if rd.Role != nil {
			s.roleChange(m, rd.Role)
		}
	}
}

func (s *sim) truncate(m *simMember, z int64) {
	all := append(append([]Entry(nil), m.disk.log...), m.pending...)
	var keep []Entry
	for _, e := range all {
		if e.Zxid <= z {
			keep = append(keep, e)
		}
	}
	m.disk.log, m.pending = keep, nil
	if z < m.disk.snapZxid {
		s.fail("member %d truncated to %#x below its snapshot %#x", m.id, z, m.disk.snapZxid)
	}
	var st []int64
	for _, x := range m.state {
		if x <= z {
			st = append(st, x)
		}
	}
	m.state = st
}

func (s *sim) installSnapshot(m *simMember, z int64) {
	if m.snapIn == nil && z != 0 {
		s.fail("member %d installs a snapshot it never received", m.id)
	}
	m.disk.snapSeq = append([]int64(nil), m.snapIn...)
	m.disk.snapZxid = z
	m.disk.log, m.pending = nil, nil
	m.state = append([]int64(nil), m.snapIn...)
	m.snapIn = nil
}

func (s *sim) apply(m *simMember, cs []Committed) {
	for _, c := range cs {
		if mk, ok := c.Marker.(syncMarker); ok {
			for _, z := range s.ackedList[:mk.before] {
				if !contains(m.state, z) {
					s.fail("member %d answers a sync without %#x, committed before the sync", m.id, z)
				}
			}
			s.syncs++
		}
		if c.Entry == nil {
			continue
		}
		if n := len(m.state); n > 0 && m.state[n-1] >= c.Entry.Zxid {
			s.fail("member %d applies %#x after %#x", m.id, c.Entry.Zxid, m.state[n-1])
		}
		m.state = append(m.state, c.Entry.Zxid)
		if m.node.Role() == Leading && !s.acked[c.Entry.Zxid] {
			s.acked[c.Entry.Zxid] = true
			s.ackedList = append(s.ackedList, c.Entry.Zxid)
			if c.Entry.Config != nil {
				s.reconfigd++
			}
		}
	}
	if len(cs) > 0 {
		if n := len(m.state); n > 0 {
			m.node.Applied(m.state[n-1])
		}
		s.checkState(m)
	}
}

func (s *sim) roleChange(m *simMember, rc *RoleChange) {
	m.role, m.serving, m.epoch = rc.Role, rc.Serving, rc.Epoch
	if s.trace {
		fmt.Printf("r%d: member %d is %s leader=%d epoch=%d serving=%v\n", s.round, m.id, rc.Role, rc.Leader, rc.Epoch, rc.Serving)
	}
	if rc.Role == Leading && rc.Serving {
		if prev, ok := s.leaders[rc.Epoch]; ok && prev != m.id {
			s.fail("epoch %d has two leaders: %d and %d", rc.Epoch, prev, m.id)
		}
		s.leaders[rc.Epoch] = m.id
	}
	if rc.Serving {
		s.checkState(m)
	}
}

// checkState verifies a serving member's state is a prefix of the common
// sequence (or extends it).
func (s *sim) checkState(m *simMember) {
	if !m.serving {
		return
	}
	n := min(len(m.state), len(s.canon))
	for i := 0; i < n; i++ {
		if m.state[i] != s.canon[i] {
			s.fail("member %d diverges at %d: %#x, common sequence has %#x", m.id, i, m.state[i], s.canon[i])
			return
		}
	}
	if len(m.state) > len(s.canon) {
		s.canon = append(s.canon, m.state[len(s.canon):]...)
	}
}

func (s *sim) sendMsg(from *simMember, m Message) {
	if s.cut[[2]uint64{m.From, m.To}] || s.rng.Float64() < s.drop {
		return
	}
	sm := simMsg{m: m}
	if m.Type == MsgSnap {
		var snap []int64
		for _, z := range from.state {
			if z <= m.Zxid {
				snap = append(snap, z)
			}
		}
		sm.snap = snap
	}
	copies := 1
	if s.rng.Float64() < s.dup {
		copies = 2
	}
	for i := 0; i < copies; i++ {
		sm.at = s.round + 1 + s.rng.Intn(s.maxDelay)
		pair := [2]uint64{m.From, m.To}
		if !m.IsElection() && sm.at < s.lastAt[pair] {
			// Quorum links are FIFO, like the TCP connections they model.
			sm.at = s.lastAt[pair]
		}
		if s.rng.Float64() < s.reorder {
			sm.at += s.rng.Intn(5)
		} else if !m.IsElection() {
			s.lastAt[pair] = sm.at
		}
		s.msgSeq++
		sm.seq = s.msgSeq
		s.queue = append(s.queue, sm)
	}
}

// deliver hands out the messages due this round. Messages on one link
// keep their order unless the reorder fault moved them.
func (s *sim) deliver() {
	var due, later []simMsg
	for _, sm := range s.queue {
		if sm.at <= s.round {
			due = append(due, sm)
		} else {
			later = append(later, sm)
		}
	}
	s.queue = later
	sort.Slice(due, func(i, j int) bool {
		if due[i].at != due[j].at {
			return due[i].at < due[j].at
		}
		return due[i].seq < due[j].seq
	})
	for _, sm := range due {
		to := s.members[sm.m.To]
		if to == nil || !to.up || s.cut[[2]uint64{sm.m.From, sm.m.To}] {
			continue
		}
		if s.trace {
			fmt.Printf("r%d: %s\n", s.round, sm.m)
		}
		if sm.m.Type == MsgSnap {
			to.snapIn = sm.snap
		}
		to.node.Step(sm.m)
		s.process(to)
	}
}

func (s *sim) fsync() {
	for _, id := range s.ids {
		m := s.members[id]
		if !m.up || len(m.pending) == 0 || m.syncAt > s.round {
			continue
		}
		m.disk.log = append(m.disk.log, m.pending...)
		last := m.pending[len(m.pending)-1].Zxid
		m.pending = nil
		m.node.Persisted(last)
		s.process(m)
	}
}

// leader returns a member that believes it leads (a random one when a
// deposed leader has not noticed yet).
func (s *sim) leader() *simMember {
	var ls []*simMember
	for _, id := range s.ids {
		m := s.members[id]
		if m.up && m.role == Leading && m.serving {
			ls = append(ls, m)
		}
	}
	if len(ls) == 0 {
		return nil
	}
	return ls[s.rng.Intn(len(ls))]
}

func (s *sim) propose() {
	l := s.leader()
	if l == nil {
		return
	}
	var ps []Proposal
	for k := s.rng.Intn(3); k > 0; k-- {
		e := l.epoch
		last := l.node.LastZxid()
		c := s.nextCount[e] + 1
		if Epoch(last) == e && Counter(last) >= c {
			c = Counter(last) + 1
		}
		s.nextCount[e] = c
		z := Zxid(e, c)
		ps = append(ps, Proposal{Entry: &Entry{Zxid: z, Data: []byte(fmt.Sprint(z))}})
		s.proposed++
	}
	if s.reconfigs > 0 && s.rng.Float64() < s.reconfigs {
		if p, ok := s.reconfigProposal(l); ok {
			ps = append(ps, p)
		}
	}
	if s.rng.Intn(10) == 0 {
		// A sync: when it is answered, the leader must have applied every
		// transaction committed anywhere before it was asked for.
		ps = append(ps, Proposal{Marker: syncMarker{before: len(s.ackedList)}, Confirm: true})
	}
	if len(ps) > 0 {
		if err := l.node.Propose(ps...); err == nil {
			s.process(l)
		}
	}
}

// faults changes the network and the members at random.
func (s *sim) faults() {
	r := s.rng.Float64()
	switch {
	case r < 0.004:
		m := s.members[s.ids[s.rng.Intn(len(s.ids))]]
		if m.up {
			s.crash(m)
		}
	case r < 0.010:
		for _, id := range s.ids {
			if m := s.members[id]; !m.up {
				s.start(m)
				break
			}
		}
	case r < 0.013:
		a := s.ids[s.rng.Intn(len(s.ids))]
		for _, b := range s.ids {
			if b != a {
				s.cut[[2]uint64{a, b}], s.cut[[2]uint64{b, a}] = true, true
			}
		}
		if s.trace {
			fmt.Printf("r%d: partition %d\n", s.round, a)
		}
	case r < 0.020:
		s.cut = map[[2]uint64]bool{}
	}
}

func (s *sim) step(faulty bool) {
	s.round++
	for _, id := range s.ids {
		if m := s.members[id]; m.up {
			m.node.Tick()
			s.process(m)
		}
	}
	s.deliver()
	s.fsync()
	if !s.quiet && s.rng.Intn(2) == 0 {
		s.propose()
	}
	if faulty {
		s.faults()
	}
}

// heal restores every member and the network, then runs until all serve.
func (s *sim) heal() bool {
	s.cut = map[[2]uint64]bool{}
	s.drop, s.dup, s.reorder = 0, 0, 0
	for _, id := range s.ids {
		if m := s.members[id]; !m.up {
			s.start(m)
		}
	}
	for i := 0; i < 1500; i++ {
		s.step(false)
		if s.allServing() && i > 50 {
			// Let what is in flight land before the final check.
			s.quiet = true
			for j := 0; j < 60; j++ {
				s.step(false)
			}
			return s.allServing()
		}
	}
	return false
}

func (s *sim) allServing() bool {
	for _, id := range s.ids {
		if m := s.members[id]; !m.up || !m.serving {
			return false
		}
	}
	return true
}

// finalCheck: everything a leader committed is in every member's state.
func (s *sim) finalCheck() {
	for z := range s.acked {
		for _, id := range s.ids {
			m := s.members[id]
			if !contains(m.state, z) {
				s.fail("committed %#x is missing from member %d", z, id)
				return
			}
		}
	}
}

func contains(xs []int64, z int64) bool {
	i := sort.Search(len(xs), func(i int) bool { return xs[i] >= z })
	return i < len(xs) && xs[i] == z
}

func runSeed(t testing.TB, seed int64, trace bool) (*sim, bool) {
	rng := rand.New(rand.NewSource(seed))
	voters := []int{1, 3, 3, 3, 5}[rng.Intn(5)]
	observers := []int{0, 0, 1}[rng.Intn(3)]
	spares, reconfigs := 0, 0.0
	if rng.Intn(3) == 0 {
		spares, reconfigs = rng.Intn(3), 0.05
	}
	s := newSimSpares(t, seed, voters, observers, spares)
	s.reconfigs = reconfigs
	s.trace = trace
	for i := 0; i < 600; i++ {
		s.step(true)
	}
	healed := s.heal()
	if healed {
		s.finalCheck()
	}
	return s, healed
}

func TestSimulation(t *testing.T) {
	if *simSeed >= 0 {
		s, healed := runSeed(t, *simSeed, *simTrace)
		report(t, *simSeed, s, healed)
		return
	}
	n := *simSeeds
	if n == 0 {
		n = 2000
		if testing.Short() {
			n = 300
		}
	}
	if v := os.Getenv("ZAB_SIM_SEEDS"); v != "" {
		fmt.Sscan(v, &n)
	}
	stuck := 0
	committed, syncs, reconfigs := 0, 0, 0
	for seed := int64(0); seed < int64(n); seed++ {
		s, healed := runSeed(t, seed, false)
		if len(s.failures) > 0 {
			report(t, seed, s, healed)
			return
		}
		if !healed {
			stuck++
			t.Errorf("seed %d: the ensemble did not recover after healing (replay: go test ./server/zab -run TestSimulation -sim.seed=%d -sim.trace)", seed, seed)
			if stuck > 3 {
				return
			}
		}
		committed += len(s.acked)
		syncs += s.syncs
		reconfigs += s.reconfigd
	}
	t.Logf("%d seeds, %d transactions committed and checked (%d reconfigs), %d syncs answered", n, committed, reconfigs, syncs)
}

func report(t *testing.T, seed int64, s *sim, healed bool) {
	if len(s.failures) > 0 {
		t.Fatalf("seed %d: invariant broken (replay: go test ./server/zab -run TestSimulation -sim.seed=%d -sim.trace):\n%s",
			seed, seed, strings.Join(s.failures[:min(len(s.failures), 10)], "\n"))
	}
	if !healed {
		t.Fatalf("seed %d: no recovery after healing", seed)
	}
	t.Logf("seed %d: %d rounds, %d committed", seed, s.round, len(s.acked))
}

// restoreConfig gives a starting member the last configuration it
// activated, as the driver keeps it beside the epochs. A spare that never
// activated one starts as a joining server does: with the initial
// configuration plus itself as a voter, a view nobody else shares.
func (s *sim) restoreConfig(m *simMember, cfg *Config) {
	if c := m.disk.config; c != nil {
		cfg.Voters, cfg.Observers, cfg.Version = slices.Clone(c.Voters), slices.Clone(c.Observers), c.Version
		return
	}
	if !cfg.isVoter(m.id) && !cfg.isObserver(m.id) {
		cfg.Voters = append(slices.Clone(cfg.Voters), m.id)
	}
}

// reconfigProposal draws a new configuration over every member, if the
// leader may propose one: none pending, and a quorum of the new voters in
// sync with it (PrepRequestProcessor's ReconfigInProgress and
// NewConfigNoQuorum checks).
func (s *sim) reconfigProposal(l *simMember) (Proposal, bool) {
	if _, pending := l.node.PendingConfig(); pending {
		return Proposal{}, false
	}
	var m Membership
	for _, id := range s.ids {
		switch r := s.rng.Intn(4); {
		case r < 2:
			m.Voters = append(m.Voters, id)
		case r == 2:
			m.Observers = append(m.Observers, id)
		}
	}
	if len(m.Voters) == 0 {
		return Proposal{}, false
	}
	synced := map[uint64]bool{l.id: true}
	for _, id := range l.node.SyncedFollowers() {
		synced[id] = true
	}
	n := 0
	for _, id := range m.Voters {
		if synced[id] {
			n++
		}
	}
	if n < m.quorum() {
		return Proposal{}, false
	}
	e := l.epoch
	last := l.node.LastZxid()
	c := s.nextCount[e] + 1
	if Epoch(last) == e && Counter(last) >= c {
		c = Counter(last) + 1
	}
	s.nextCount[e] = c
	z := Zxid(e, c)
	m.Version = z
	s.configs[z] = m
	s.proposed++
	if s.trace {
		fmt.Printf("r%d: %d proposes config %#x voters=%v observers=%v\n", s.round, l.id, z, m.Voters, m.Observers)
	}
	return Proposal{Entry: &Entry{Zxid: z, Data: []byte(fmt.Sprint(z)), Config: &m}}, true
}
