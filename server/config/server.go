package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// PeerAddr is one address of an ensemble member: host, quorum (ZAB) port
// and leader-election port.
type PeerAddr struct {
	Host         string // as written, without IPv6 brackets; not resolved
	QuorumPort   int
	ElectionPort int
}

// Server is one server.N line:
//
//	server.N=host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]
//
// Since ZooKeeper 3.6 several addresses may be given, separated by '|'.
type Server struct {
	ID       int64
	Addrs    []PeerAddr // at least one
	Observer bool
	// ClientHost and ClientPort come from the optional ";[host:]port" part.
	// ClientPort is 0 when absent; ClientHost is then "", and "0.0.0.0"
	// when only a port was given (as Apache fills it in).
	ClientHost string
	ClientPort int
}

// QuorumAddr returns host:port of the first address's quorum port.
func (s *Server) QuorumAddr() string {
	return net.JoinHostPort(s.Addrs[0].Host, strconv.Itoa(s.Addrs[0].QuorumPort))
}

// ElectionAddr returns host:port of the first address's election port.
func (s *Server) ElectionAddr() string {
	return net.JoinHostPort(s.Addrs[0].Host, strconv.Itoa(s.Addrs[0].ElectionPort))
}

// String formats the server's value the way Apache writes it in dynamic
// config files and the /zookeeper/config node, e.g.
// "host:2888:3888:participant;0.0.0.0:2181" (without the "server.N=").
func (s *Server) String() string {
	parts := make([]string, len(s.Addrs))
	for i, a := range s.Addrs {
		parts[i] = fmt.Sprintf("%s:%d:%d", bracketHost(a.Host), a.QuorumPort, a.ElectionPort)
	}
	out := strings.Join(parts, "|")
	if s.Observer {
		out += ":observer"
	} else {
		out += ":participant"
	}
	if s.ClientPort != 0 {
		out += fmt.Sprintf(";%s:%d", bracketHost(s.ClientHost), s.ClientPort)
	}
	return out
}

func bracketHost(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

const serverForm = "want host:port:port[:participant|:observer][;[host:]port], several host:port:port parts separated by '|'"

// ParseServer parses the value of a server.N line as Apache's
// QuorumPeer.QuorumServer does. It accepts several '|'-separated addresses;
// whether that is allowed (multiAddress.enabled) is the caller's decision.
// Host names are not resolved.
func ParseServer(id int64, spec string) (Server, error) {
	s := Server{ID: id}
	parts := javaSplit(spec, ";")
	if len(parts) == 0 || len(parts) > 2 {
		return s, fmt.Errorf("%q: %s", spec, serverForm)
	}
	if len(parts) == 2 {
		if err := s.parseClient(parts[1]); err != nil {
			return s, fmt.Errorf("%q: %w", spec, err)
		}
	}
	types := map[bool]bool{}
	for _, a := range javaSplit(parts[0], "|") {
		addr, observer, typed, err := parsePeerAddr(a)
		if err != nil {
			return s, fmt.Errorf("%q: %w", spec, err)
		}
		s.Addrs = append(s.Addrs, addr)
		if typed {
			types[observer] = true
			s.Observer = observer
		}
	}
	if len(types) > 1 {
		return s, fmt.Errorf("%q: all addresses of a server must have the same role", spec)
	}
	return s, nil
}

// parseClient parses the client part: "port" or "host:port".
func (s *Server) parseClient(c string) error {
	hp, err := hostAndPort(c)
	if err != nil {
		return err
	}
	if len(hp) > 2 {
		return errors.New(serverForm)
	}
	s.ClientHost = defaultWildcardAddress
	if len(hp) == 2 {
		s.ClientHost = hp[0]
	}
	s.ClientPort, err = parsePort(hp[len(hp)-1])
	if err != nil {
		return fmt.Errorf("client port: %w", err)
	}
	return nil
}

// parsePeerAddr parses host:quorumPort:electionPort[:type]. typed reports
// whether a type was given.
func parsePeerAddr(a string) (addr PeerAddr, observer, typed bool, err error) {
	hp, err := hostAndPort(a)
	if err != nil {
		return addr, false, false, err
	}
	if len(hp) < 3 || len(hp) > 4 {
		return addr, false, false, errors.New(serverForm)
	}
	addr.Host = hp[0]
	if addr.QuorumPort, err = parsePort(hp[1]); err != nil {
		return addr, false, false, fmt.Errorf("quorum port: %w", err)
	}
	if addr.ElectionPort, err = parsePort(hp[2]); err != nil {
		return addr, false, false, fmt.Errorf("election port: %w", err)
	}
	if addr.QuorumPort == addr.ElectionPort {
		return addr, false, false, fmt.Errorf("quorum and election ports must differ (both %d)", addr.QuorumPort)
	}
	if len(hp) == 4 {
		observer, err = parsePeerType(hp[3])
		return addr, observer, true, err
	}
	return addr, false, false, nil
}

// parsePeerType accepts "participant" or "observer" in any case, ignoring
// surrounding blanks (QuorumServer.getType).
func parsePeerType(t string) (observer bool, err error) {
	switch strings.ToLower(javaTrim(t)) {
	case "observer":
		return true, nil
	case "participant":
		return false, nil
	}
	return false, fmt.Errorf("unrecognised peer type %q (want participant or observer)", t)
}

// hostAndPort splits "host:port..." on ':' with an optional [IPv6] host,
// as Apache's ConfigUtils.getHostAndPort. Unlike Apache it insists on the
// ':' after ']' (Apache skips whatever character is there).
func hostAndPort(s string) ([]string, error) {
	if !strings.HasPrefix(s, "[") {
		return javaSplit(s, ":"), nil
	}
	i := strings.Index(s, "]")
	switch {
	case i < 0:
		return nil, fmt.Errorf("%q starts with '[' but has no matching ']'", s)
	case i+1 == len(s):
		return []string{s[1:i]}, nil
	case s[i+1] != ':':
		return nil, fmt.Errorf("%q: want ':' after ']'", s)
	case i+2 == len(s):
		return nil, fmt.Errorf("%q has no port after the colon", s)
	}
	return append([]string{s[1:i]}, javaSplit(s[i+2:], ":")...), nil
}
