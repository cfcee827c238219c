package config

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// The membership part of Apache's QuorumPeerConfig: server lines from
// zoo.cfg or from the dynamic config file, myid, this server's client
// address and role, and the checks for an ensemble member.

// loadQuorum builds the Quorum from the static file or, when
// dynamicConfigFile is set, from that file (QuorumPeerConfig.parse and
// parseDynamicConfig).
func (l *loader) loadQuorum() error {
	c := l.cfg
	file, entries, strict := l.name, l.entries, false
	if c.DynamicConfigFile != "" {
		var err error
		if entries, err = l.readDynamic(); err != nil {
			return err
		}
		file, strict = c.DynamicConfigFile, true
	}
	l.warnUntrimmed(file, entries)
	q, err := buildQuorum(file, entries, strict, c.MultiAddressEnabled)
	if err != nil {
		return err
	}
	if strict {
		q.Version = versionFromFilename(file)
		for _, e := range entries {
			c.where[e.key] = fmt.Sprintf("%s:%d", file, e.line)
		}
	}
	c.Quorum = q
	return l.checkMembers(file)
}

// readDynamic reads the dynamic config file. Apache forbids "version" in
// it: the version is the file name's hex suffix (zoo.cfg.dynamic.100000000).
func (l *loader) readDynamic() ([]entry, error) {
	path := l.cfg.DynamicConfigFile
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read dynamic config file: " + unwrapPathError(err)}
	}
	defer f.Close()
	props, err := ReadProperties(f, path)
	if err != nil {
		return nil, err
	}
	entries := l.dedupe(path, props)
	for _, e := range entries {
		if e.key == "version" {
			return nil, &Error{File: path, Line: e.line, Key: e.key,
				Msg: "not allowed in a dynamic config file (the version is the file name's suffix)"}
		}
	}
	return entries, nil
}

// versionFromFilename is QuorumPeerConfig.getVersionFromFilename: the hex
// number after the last '.', or 0.
func versionFromFilename(path string) int64 {
	i := strings.LastIndex(path, ".")
	if i < 0 {
		return 0
	}
	v, err := parseLong(path[i+1:], 16)
	if err != nil {
		return 0
	}
	return v
}

// warnUntrimmed: Apache does not trim server.N values, so trailing blanks
// make it fail ("Address unresolved: host:3888 ") unless the value ends
// with a type, which it trims. zkit trims them all.
func (l *loader) warnUntrimmed(file string, entries []entry) {
	for _, e := range entries {
		if !strings.HasPrefix(e.key, "server.") || e.raw == e.value {
			continue
		}
		if _, err := ParseServer(0, e.raw); err != nil {
			l.warnf(file, e.line, "%s: trailing blanks ignored (Apache ZooKeeper 3.8 rejects this line)", e.key)
		}
	}
}

// checkMembers applies parseDynamicConfig's rules on the number of
// participants and decides isDistributed.
func (l *loader) checkMembers(file string) error {
	c := l.cfg
	voters := c.Quorum.Voters()
	observers := len(c.Quorum.Servers) - voters
	switch {
	case voters == 0:
		if !c.StandaloneEnabled {
			return l.errAt("standaloneEnabled", "is false, which needs at least one participant server.N line")
		}
		if observers > 0 {
			return &Error{File: file, Msg: "observers without participants is an invalid configuration"}
		}
	case voters == 1 && c.StandaloneEnabled:
		if observers > 0 {
			return &Error{File: file, Msg: "observers without a quorum is an invalid configuration (one participant while standaloneEnabled is true)"}
		}
		l.warnf(file, 0, "only one server line: running standalone (set standaloneEnabled=false for a one-member ensemble)")
	case voters <= 2:
		l.warnf(file, 0, "no server failure will be tolerated; you need at least 3 servers")
	case voters%2 == 0:
		l.warnf(file, 0, "non-optimal configuration: consider an odd number of servers")
	}
	c.distributed = !c.StandaloneEnabled || voters > 1
	return nil
}

// readMyID reads dataDir/myid when it exists (QuorumPeerConfig.setupMyId):
// the first line must be a number, with no blanks around it.
func (l *loader) readMyID() error {
	l.myidPath = filepath.Join(l.cfg.DataDir, "myid")
	if fi, err := os.Stat(l.myidPath); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	data, err := os.ReadFile(l.myidPath)
	if err != nil {
		return &Error{File: l.myidPath, Msg: "cannot read: " + unwrapPathError(err)}
	}
	if len(data) == 0 {
		return &Error{File: l.myidPath, Msg: "empty; it must hold this server's id (N of its server.N line)"}
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		data = data[:i]
	}
	id, err := parseLong(string(data), 10)
	if err != nil {
		return &Error{File: l.myidPath, Line: 1, Msg: err.Error() + "; it must hold this server's id (N of its server.N line)"}
	}
	l.cfg.MyID = id
	return nil
}

// setupClientPort: this server's ";[host:]port" in its server line must
// agree with clientPort/clientPortAddress when both are given, and wins.
func (l *loader) setupClientPort() error {
	c := l.cfg
	s := c.Self()
	if s == nil || s.ClientPort == 0 {
		return nil
	}
	if c.ClientPort != 0 && !sameClientAddr(c.ClientPortAddress, c.ClientPort, s.ClientHost, s.ClientPort) {
		return l.errAt("clientPort", "this server listens on %s here but on %s in its server.%d line (%s)",
			net.JoinHostPort(orWildcard(c.ClientPortAddress), fmt.Sprint(c.ClientPort)),
			net.JoinHostPort(s.ClientHost, fmt.Sprint(s.ClientPort)), s.ID, c.Where(fmt.Sprintf("server.%d", s.ID)))
	}
	c.ClientPortAddress, c.ClientPort = s.ClientHost, s.ClientPort
	return nil
}

func orWildcard(host string) string {
	if host == "" {
		return defaultWildcardAddress
	}
	return host
}

// sameClientAddr mirrors Apache's test: with a wildcard static address
// only the ports must match, else address and port. Apache compares
// resolved addresses; zkit resolves nothing, so two different names count
// as the same unless both are IP literals.
func sameClientAddr(host string, port int, lineHost string, linePort int) bool {
	if port != linePort {
		return false
	}
	ip := net.ParseIP(host)
	if host == "" || (ip != nil && ip.IsUnspecified()) {
		return true
	}
	lineIP := net.ParseIP(lineHost)
	if ip == nil || lineIP == nil {
		return true
	}
	return ip.Equal(lineIP)
}

// setupPeerType: the server list decides whether this server observes;
// peerType only gets a warning when it disagrees (as in Apache).
func (l *loader) setupPeerType() error {
	c := l.cfg
	observer := false
	if s := c.Self(); s != nil {
		observer = s.Observer
	}
	if observer != c.Observer {
		e, _ := l.find("peerType")
		l.warnf(l.name, e.line, "peerType %q disagrees with the server list; using %s", e.value, roleName(observer))
		c.Observer = observer
	}
	return nil
}

func roleName(observer bool) string {
	if observer {
		return "observer"
	}
	return "participant"
}

// checkValidity: what an ensemble member needs (QuorumPeerConfig
// .checkValidity, plus two checks Apache makes only when starting up).
func (l *loader) checkValidity() error {
	c := l.cfg
	switch {
	case c.Standalone():
		return nil
	case c.InitLimit == 0:
		return l.errAt("initLimit", "is not set (an ensemble member needs it)")
	case c.SyncLimit == 0:
		return l.errAt("syncLimit", "is not set (an ensemble member needs it)")
	case c.MyID < 0:
		return &Error{File: l.myidPath, Msg: "myid file is missing; each ensemble member needs one holding its server id (N of its server.N line)"}
	case c.Self() == nil:
		return &Error{File: l.myidPath, Line: 1, Msg: fmt.Sprintf("id %d has no server.%d line", c.MyID, c.MyID)}
	case c.ExtendedTypesEnabled && c.MyID > maxExtendedTypesServerID:
		return &Error{File: l.myidPath, Line: 1, Msg: fmt.Sprintf("id %d is above %d, the most extendedTypesEnabled allows", c.MyID, maxExtendedTypesServerID)}
	}
	return nil
}
