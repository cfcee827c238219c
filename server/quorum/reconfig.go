package quorum

import (
	"encoding/binary"
	"net"
	"strconv"
	"strings"
	"time"

	"zkit/server/config"
	"zkit/server/proto"
	"zkit/server/tree"
	"zkit/server/zab"
)

// Dynamic reconfiguration, the driver's side: the membership with its
// addresses, the leader's checks of a reconfig request, and what a member
// does when a configuration becomes active.

// setEntryConfig marks a reconfig transaction's entry with the
// configuration it carries (the data of its SetDataTxn on
// /zookeeper/config), so that the protocol can count its quorum.
func setEntryConfig(e *zab.Entry) {
	// TxnHeader: clientId, cxid, zxid, time, then the type at byte 28.
	if len(e.Data) < 32 || proto.Op(int32(binary.BigEndian.Uint32(e.Data[28:]))) != proto.OpReconfig {
		return
	}
	txn, err := entryTxn(e)
	if err != nil {
		return
	}
	if sd, ok := txn.Body.(*proto.SetDataRequest); ok {
		if q, err := config.ParseDynamic(string(sd.Data)); err == nil {
			e.Config = membershipOf(q)
		}
	}
}

// membershipOf is the protocol's view of a configuration; the addresses
// ride along as its Detail.
func membershipOf(q config.Quorum) *zab.Membership {
	m := &zab.Membership{Version: q.Version, Detail: q}
	for _, s := range q.Servers {
		if s.Observer {
			m.Observers = append(m.Observers, uint64(s.ID))
		} else {
			m.Voters = append(m.Voters, uint64(s.ID))
		}
	}
	return m
}

// initialServers is the configuration a member starts with: the one it
// last made active, if newer than the one it was given.
func initialServers(cfg Config, be Backend) config.Quorum {
	q := cfg.Servers.Clone()
	if len(q.Servers) == 0 {
		q = serversFromIDs(cfg)
	}
	if b := be.DynamicConfig(); len(b) > 0 {
		if saved, err := config.ParseDynamic(string(b)); err == nil && saved.Version > q.Version {
			return saved
		}
	}
	return q
}

// serversFromIDs describes a member configured by ids and addresses only
// (the in-process ensemble's older options): no client addresses.
func serversFromIDs(cfg Config) config.Quorum {
	var q config.Quorum
	add := func(id uint64, observer bool) {
		s := config.Server{ID: int64(id), Observer: observer}
		if a, ok := cfg.Peers[id]; ok {
			if pa, ok := peerAddr(a); ok {
				s.Addrs = []config.PeerAddr{pa}
			}
		}
		q.Servers = append(q.Servers, s)
	}
	for _, id := range cfg.Voters {
		add(id, false)
	}
	for _, id := range cfg.Observers {
		add(id, true)
	}
	return q
}

func peerAddr(a Addrs) (config.PeerAddr, bool) {
	qh, qp, err1 := net.SplitHostPort(a.Quorum)
	_, ep, err2 := net.SplitHostPort(a.Election)
	if err1 != nil || err2 != nil {
		return config.PeerAddr{}, false
	}
	q, _ := strconv.Atoi(qp)
	e, _ := strconv.Atoi(ep)
	return config.PeerAddr{Host: qh, QuorumPort: q, ElectionPort: e}, true
}

// addrsOf lists the quorum and election addresses of a configuration's
// servers, this member excluded.
func addrsOf(q config.Quorum, self uint64) map[uint64]Addrs {
	out := map[uint64]Addrs{}
	for _, s := range q.Servers {
		if uint64(s.ID) == self || len(s.Addrs) == 0 {
			continue
		}
		out[uint64(s.ID)] = Addrs{Quorum: s.QuorumAddr(), Election: s.ElectionAddr()}
	}
	return out
}

// Servers returns the active configuration, with addresses.
func (p *Peer) Servers() config.Quorum { return p.servers.Load().Clone() }

// activeQuorum publishes a configuration the protocol made active, with
// addresses, as Servers' answer.
func (p *Peer) activeQuorum(m *zab.Membership) *config.Quorum {
	q, ok := m.Detail.(config.Quorum)
	if !ok {
		q = p.regroup(m)
	}
	q.Version = m.Version
	p.servers.Store(&q)
	return &q
}

// onMembership takes a configuration the protocol made active, once
// published: remember it on disk (to restart with it), reach its servers,
// and rewrite /zookeeper/config when no transaction did (a first leader's
// version, ZOOKEEPER-1783).
func (p *Peer) onMembership(m *zab.Membership, q config.Quorum) {
	p.tr.SetPeers(addrsOf(q, p.cfg.ID))
	if err := p.be.SaveDynamicConfig([]byte(q.DynamicString())); err != nil {
		p.log.Error("cannot save the active configuration", "version", zxidHex(q.Version), "err", err)
	}
	if zab.Counter(m.Version) == 0 {
		p.writeConfigNode(q)
	}
	p.setStatus(func(s *Status) { s.Voters, s.Observers = m.Voters, m.Observers })
	p.log.Info("configuration active", "version", zxidHex(m.Version), "voters", m.Voters, "observers", m.Observers)
}

// regroup rebuilds a configuration the protocol describes by ids only
// (announced by a leader or a peer) from the addresses known here.
func (p *Peer) regroup(m *zab.Membership) config.Quorum {
	known := map[int64]config.Server{}
	for _, s := range p.servers.Load().Servers {
		known[s.ID] = s
	}
	var q config.Quorum
	add := func(id uint64, observer bool) {
		s, ok := known[int64(id)]
		if !ok {
			s = config.Server{ID: int64(id)}
		}
		s.Observer = observer
		q.Servers = append(q.Servers, s)
	}
	for _, id := range m.Voters {
		add(id, false)
	}
	for _, id := range m.Observers {
		add(id, true)
	}
	sortServers(q.Servers)
	return q
}

func sortServers(ss []config.Server) {
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0 && ss[j].ID < ss[j-1].ID; j-- {
			ss[j], ss[j-1] = ss[j-1], ss[j]
		}
	}
}

// writeConfigNode sets /zookeeper/config outside any transaction, as
// ZKDatabase.initConfigInZKDatabase does at start and when a configuration
// is adopted: the text, mzxid = the version, mtime = now, data version -1.
func (p *Peer) writeConfigNode(q config.Quorum) {
	data := []byte(q.DynamicString())
	now := time.Now().UnixMilli()
	p.db.Write(func(t *tree.Tree) { t.SetConfig(data, q.Version, now) })
}

// learnServers takes the addresses of the configuration a committed
// reconfig or an installed snapshot holds, so that members added while
// this one was away can be reached.
func (p *Peer) learnServers(data []byte) {
	q, err := config.ParseDynamic(string(data))
	if err != nil {
		return
	}
	p.tr.SetPeers(addrsOf(q, p.cfg.ID))
}

// reconfigurer is the leader's part of PrepRequestProcessor's reconfig.
type reconfigurer struct{ p *Peer }

// Active implements pipeline.Reconfigurer.
func (r reconfigurer) Active(zxid int64) ([]byte, bool) {
	q := r.p.servers.Load()
	if q.Version < zxid {
		return nil, false
	}
	return []byte(q.DynamicString()), true
}

// Reconfig implements pipeline.Reconfigurer.
func (r reconfigurer) Reconfig(req *proto.ReconfigRequest, current []byte, zxid int64) ([]byte, error) {
	p := r.p
	if st := p.status.Load(); st.Role != zab.Leading || !st.Serving {
		return nil, proto.ErrUnimplemented
	}
	cur, err := config.ParseDynamic(string(current))
	if err != nil {
		cur = p.Servers()
	}
	if req.CurConfigID != -1 && req.CurConfigID != cur.Version {
		return nil, proto.ErrBadVersion
	}
	var next config.Quorum
	if req.HasNewMembers {
		// Commas or newlines separate the servers.
		if next, err = config.ParseDynamic(strings.ReplaceAll(req.NewMembers, ",", "\n")); err != nil {
			return nil, proto.ErrBadArguments
		}
	} else if next, err = incremental(cur, req); err != nil {
		return nil, err
	}
	next.Version = zxid
	voters := next.Voters()
	if (p.cfg.StandaloneEnabled && voters < 2) || voters < 1 {
		return nil, proto.ErrBadArguments
	}
	if !r.quorumSynced(next) {
		return nil, proto.ErrNewConfigNoQuorum
	}
	return []byte(next.DynamicString()), nil
}

// incremental applies leavingServers and joiningServers to the current
// configuration. A number Java cannot parse fails as Apache's uncaught
// NumberFormatException does: MARSHALLINGERROR.
func incremental(cur config.Quorum, req *proto.ReconfigRequest) (config.Quorum, error) {
	next := cur.Clone()
	if req.HasLeaving {
		for _, l := range javaSplit(req.LeavingServers, ",") {
			id, err := config.ParseJavaLong(l)
			if err != nil {
				return next, proto.ErrMarshallingError
			}
			next.Servers = removeServer(next.Servers, id)
		}
	}
	if req.HasJoining {
		for _, j := range javaSplit(req.JoiningServers, ",") {
			s, err := joiner(j)
			if err != nil {
				return next, err
			}
			next.Servers = removeServer(next.Servers, s.ID)
			for i := range next.Servers {
				if next.Servers[i].CheckAddressDuplicate(&s) != nil {
					return next, proto.ErrBadArguments
				}
			}
			next.Servers = append(next.Servers, s)
		}
	}
	sortServers(next.Servers)
	return next, nil
}

// joiner parses "server.N=host:port:port[:role];[host:]port": the client
// address is required for a joining server.
func joiner(spec string) (config.Server, error) {
	parts := javaSplit(spec, "=")
	if len(parts) != 2 {
		return config.Server{}, proto.ErrBadArguments
	}
	id, err := config.ParseJavaLong(parts[0][strings.LastIndex(parts[0], ".")+1:])
	if err != nil {
		return config.Server{}, proto.ErrMarshallingError
	}
	s, err := config.ParseServer(id, parts[1])
	if err != nil || s.ClientPort == 0 {
		return config.Server{}, proto.ErrBadArguments
	}
	return s, nil
}

func removeServer(ss []config.Server, id int64) []config.Server {
	out := ss[:0]
	for _, s := range ss {
		if s.ID != id {
			out = append(out, s)
		}
	}
	return out
}

// javaSplit is ZooKeeper's StringUtils.split: split, trim, drop empties.
func javaSplit(s, sep string) []string {
	var out []string
	for _, part := range strings.Split(s, sep) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// quorumSynced is Leader.isQuorumSynced: the leader (if it votes in next)
// and the followers in sync with it that vote in next are a majority of
// next's voters.
func (r reconfigurer) quorumSynced(next config.Quorum) bool {
	votes := map[int64]bool{}
	for _, s := range next.Servers {
		if !s.Observer {
			votes[s.ID] = true
		}
	}
	n := 0
	if votes[int64(r.p.cfg.ID)] {
		n++
	}
	for _, id := range *r.p.synced.Load() {
		if votes[int64(id)] {
			n++
		}
	}
	return n > len(votes)/2
}
