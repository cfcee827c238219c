package admin

import (
	"io/fs"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"zkit/server/config"
	"zkit/server/member"
)

// writeConf is conf (ZooKeeperServer.dumpConf, 3.9 form: dataLogDir is the
// transaction log directory and the sizes are not crossed as in 3.8).
func writeConf(b *strings.Builder, cfg *config.Config, s *member.Server, st status) {
	opts := s.Options()
	port := 0
	if a, ok := s.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	snap, log := dirs(cfg)
	kv := func(k, v string) { b.WriteString(k + "=" + v + "\n") }
	kv("clientPort", strconv.Itoa(port))
	// zkit serves no TLS port: -1, as Apache without one.
	kv("secureClientPort", "-1")
	kv("dataDir", snap)
	kv("dataDirSize", formatLong(dirSize(snap)))
	kv("dataLogDir", log)
	kv("dataLogSize", formatLong(dirSize(log)))
	kv("tickTime", formatLong(opts.TickTime.Milliseconds()))
	kv("maxClientCnxns", strconv.Itoa(opts.MaxClientCnxns))
	kv("minSessionTimeout", formatLong(opts.MinSessionTimeout.Milliseconds()))
	kv("maxSessionTimeout", formatLong(opts.MaxSessionTimeout.Milliseconds()))
	// zkit listens with the system's default backlog whatever
	// clientPortListenBacklog says: -1, Apache's "default".
	kv("clientPortListenBacklog", "-1")
	kv("serverId", formatLong(st.ServerID))
	// Quorum members add initLimit, syncLimit, electionAlg, electionPort,
	// quorumPort, peerType, "membership: ", the server lines and version=
	// (without a final LF); a read-only server stops after peerType.
}

// dirs returns the snapshot and transaction log directories as Apache's
// FileTxnSnapLog names them: dataDir and dataLogDir (default dataDir),
// absolute, with the "version-2" subdirectory. Empty when no dataDir is
// configured (an in-memory server).
func dirs(cfg *config.Config) (snap, log string) {
	if cfg == nil {
		return "", ""
	}
	logDir := cfg.DataLogDir
	if logDir == "" {
		logDir = cfg.DataDir
	}
	return versionDir(cfg.DataDir), versionDir(logDir)
}

func versionDir(dir string) string {
	if dir == "" {
		return ""
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Join(dir, "version-2")
}

// dirSize is the byte size of the files below dir (ZooKeeperServer's
// getDirSize); 0 when it does not exist.
func dirSize(dir string) int64 {
	if dir == "" {
		return 0
	}
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
