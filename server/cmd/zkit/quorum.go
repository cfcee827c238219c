package main

import (
	"fmt"
	"net"
	"strconv"

	"zkit/server/config"
	"zkit/server/member"
	"zkit/server/quorum"
)

// quorumOptions maps the server.N lines and myid of an ensemble's zoo.cfg:
// this member listens on its own line's quorum and election ports (on all
// interfaces with quorumListenOnAllIPs) and reaches the others on theirs.
func quorumOptions(cfg *config.Config) (*member.QuorumOptions, error) {
	self := cfg.Self()
	if self == nil {
		return nil, fmt.Errorf("%s: myid %d has no server.%d line", cfg.File, cfg.MyID, cfg.MyID)
	}
	if cfg.Quorum.Hierarchical() {
		return nil, fmt.Errorf("%s: hierarchical quorums (group.N/weight.N) are not supported; use a majority quorum", cfg.File)
	}
	q := &member.QuorumOptions{
		ID: uint64(self.ID), InitLimit: cfg.InitLimit, SyncLimit: cfg.SyncLimit,
		Peers: map[uint64]quorum.Addrs{}, ReadOnly: cfg.ReadOnlyMode,
		Servers: cfg.Quorum.Clone(), StandaloneEnabled: cfg.StandaloneEnabled,
	}
	for _, srv := range cfg.Quorum.Servers {
		id := uint64(srv.ID)
		if srv.Observer {
			q.Observers = append(q.Observers, id)
		} else {
			q.Voters = append(q.Voters, id)
		}
		if srv.ID != self.ID {
			q.Peers[id] = quorum.Addrs{Quorum: srv.QuorumAddr(), Election: srv.ElectionAddr()}
		}
	}
	a := self.Addrs[0]
	host := a.Host
	if cfg.QuorumListenOnAllIPs {
		host = ""
	}
	q.QuorumAddr = net.JoinHostPort(host, strconv.Itoa(a.QuorumPort))
	q.ElectionAddr = net.JoinHostPort(host, strconv.Itoa(a.ElectionPort))
	return q, nil
}
