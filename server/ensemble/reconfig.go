package ensemble

import (
	"fmt"
	"net"
	"slices"
	"strconv"

	"zkit/server/config"
	"zkit/server/quorum"
)

// serversOf describes members as zoo.cfg's server.N lines would: quorum
// and election ports, role, client address.
func serversOf(ms []*Member) config.Quorum {
	var q config.Quorum
	for _, m := range ms {
		q.Servers = append(q.Servers, m.server())
	}
	slices.SortFunc(q.Servers, func(a, b config.Server) int { return int(a.ID - b.ID) })
	return q
}

// server is the member's server.N line.
func (m *Member) server() config.Server {
	return serverLine(Addrs{ID: m.ID, Client: m.clientAddr, Quorum: m.addrs.Quorum, Election: m.addrs.Election}, m.Observer)
}

func serverLine(a Addrs, observer bool) config.Server {
	s := config.Server{ID: int64(a.ID), Observer: observer}
	qh, qp, _ := net.SplitHostPort(a.Quorum)
	_, ep, _ := net.SplitHostPort(a.Election)
	q, _ := strconv.Atoi(qp)
	e, _ := strconv.Atoi(ep)
	s.Addrs = []config.PeerAddr{{Host: qh, QuorumPort: q, ElectionPort: e}}
	if ch, cp, err := net.SplitHostPort(a.Client); err == nil {
		s.ClientHost = ch
		s.ClientPort, _ = strconv.Atoi(cp)
	}
	return s
}

// Servers is the configuration of members found through a rendezvous
// directory, as server.N lines.
func Servers(all map[uint64]Addrs, observers []uint64) config.Quorum {
	var q config.Quorum
	for _, a := range all {
		q.Servers = append(q.Servers, serverLine(a, slices.Contains(observers, a.ID)))
	}
	slices.SortFunc(q.Servers, func(a, b config.Server) int { return int(a.ID - b.ID) })
	return q
}

// Spec is the member's "server.N=host:port:port:role;host:port", as a
// reconfig's joiningServers or newMembers takes it.
func (m *Member) Spec() string {
	s := m.server()
	return fmt.Sprintf("server.%d=%s", s.ID, s.String())
}

// Join starts a new member outside the configuration, as an operator
// starts a server before adding it with reconfig: its own configuration
// is the active one plus itself (a voter, or an observer), so it finds the
// leader and syncs, without a vote until a reconfig adds it.
func (e *Ensemble) Join(observer bool) (*Member, error) {
	var active config.Quorum
	var next uint64 = 1
	for _, m := range e.Members() {
		next = max(next, m.ID+1)
		if srv := m.Server(); srv != nil && len(active.Servers) == 0 {
			active = srv.Membership()
		}
	}
	var voters, observers []uint64
	for _, s := range active.Servers {
		if s.Observer {
			observers = append(observers, uint64(s.ID))
		} else {
			voters = append(voters, uint64(s.ID))
		}
	}
	if observer {
		observers = append(observers, next)
	} else {
		voters = append(voters, next)
	}
	m, err := newMember(e, next, voters, observers)
	if err != nil {
		return nil, err
	}
	m.Observer = observer
	peers := map[uint64]quorum.Addrs{}
	for _, o := range e.Members() {
		peers[o.ID] = o.addrs
	}
	peers[m.ID] = m.addrs
	q := active.Clone()
	q.Version = 0
	q.Servers = append(q.Servers, m.server())
	m.peers, m.servers = peers, q
	if err := m.start(); err != nil {
		m.Stop()
		return nil, err
	}
	e.mu.Lock()
	e.members = append(e.members, m)
	e.mu.Unlock()
	return m, nil
}
