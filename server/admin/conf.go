package admin

import (
	"net"
	"strconv"
	"strings"

	"zkit/server/config"
	"zkit/server/member"
)

// writeConf is conf (ZooKeeperServer.dumpConf, 3.9 form: dataLogDir is the
// transaction log directory and the sizes are not crossed as in 3.8; the
// directories are zkit's storage directories, see dirsOf), plus an
// ensemble member's quorum keys (QuorumZooKeeperServer.dumpConf).
func writeConf(b *strings.Builder, cfg *config.Config, s *member.Server, st status) {
	opts := s.Options()
	port := 0
	if a, ok := s.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	d := dirsOf(cfg, s)
	kv := func(k, v string) { b.WriteString(k + "=" + v + "\n") }
	kv("clientPort", strconv.Itoa(port))
	// zkit serves no TLS port: -1, as Apache without one.
	kv("secureClientPort", "-1")
	kv("dataDir", d.snap)
	kv("dataDirSize", formatLong(d.size(d.snap)))
	kv("dataLogDir", d.log)
	kv("dataLogSize", formatLong(d.size(d.log)))
	kv("tickTime", formatLong(opts.TickTime.Milliseconds()))
	kv("maxClientCnxns", strconv.Itoa(opts.MaxClientCnxns))
	kv("minSessionTimeout", formatLong(opts.MinSessionTimeout.Milliseconds()))
	kv("maxSessionTimeout", formatLong(opts.MaxSessionTimeout.Milliseconds()))
	// zkit listens with the system's default backlog whatever
	// clientPortListenBacklog says: -1, Apache's "default".
	kv("clientPortListenBacklog", "-1")
	kv("serverId", formatLong(st.ServerID))
	if s.IsQuorum() {
		writeQuorumConf(b, cfg, s, st.Mode == ModeReadOnly)
	}
}
