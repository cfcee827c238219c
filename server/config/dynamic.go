package config

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The dynamic configuration as the /zookeeper/config node, reconfig
// requests and zkit's own record of the active membership carry it.

// DynamicString formats the membership as Apache's QuorumMaj.toString:
// one "server.N=..." line per server in id order, then "version=<hex>"
// with no final newline.
func (q *Quorum) DynamicString() string {
	var b strings.Builder
	for _, s := range q.Servers {
		fmt.Fprintf(&b, "server.%d=%s\n", s.ID, s.String())
	}
	b.WriteString("version=" + strconv.FormatInt(q.Version, 16))
	return b.String()
}

// ParseDynamic reads a dynamic configuration: "server.N=..." lines and an
// optional "version=<hex>", in java.util.Properties syntax
// (QuorumPeerConfig.parseDynamicConfig). Any other key is an error; so are
// hierarchical quorums, which zkit does not support.
func ParseDynamic(text string) (Quorum, error) {
	props, err := ReadProperties(strings.NewReader(text), "dynamic configuration")
	if err != nil {
		return Quorum{}, err
	}
	var q Quorum
	seen := map[int64]bool{}
	for _, p := range props {
		key, value := javaTrim(p.Key), javaTrim(p.Value)
		switch {
		case key == "version":
			if q.Version, err = parseLong(value, 16); err != nil {
				return Quorum{}, fmt.Errorf("version: %w", err)
			}
		case strings.HasPrefix(key, "server."):
			id, err := keyID(key)
			if err != nil {
				return Quorum{}, fmt.Errorf("%s: %w", key, err)
			}
			if seen[id] {
				return Quorum{}, fmt.Errorf("%s: server id %d is given twice", key, id)
			}
			s, err := ParseServer(id, value)
			if err != nil {
				return Quorum{}, fmt.Errorf("%s: %w", key, err)
			}
			seen[id] = true
			q.Servers = append(q.Servers, s)
		default:
			return Quorum{}, fmt.Errorf("%s: not a server.N or version line", key)
		}
	}
	slices.SortFunc(q.Servers, func(a, b Server) int { return cmp.Compare(a.ID, b.ID) })
	return q, nil
}

// Clone returns a deep copy.
func (q Quorum) Clone() Quorum {
	out := Quorum{Version: q.Version, Servers: make([]Server, len(q.Servers))}
	for i, s := range q.Servers {
		s.Addrs = slices.Clone(s.Addrs)
		out.Servers[i] = s
	}
	return out
}

// CheckAddressDuplicate is QuorumServer.checkAddressDuplicate: two servers
// may not share a quorum or election address (host and port).
func (s *Server) CheckAddressDuplicate(o *Server) error {
	for _, a := range s.Addrs {
		for _, b := range o.Addrs {
			ours := []string{hostPort(a.Host, a.QuorumPort), hostPort(a.Host, a.ElectionPort)}
			theirs := []string{hostPort(b.Host, b.QuorumPort), hostPort(b.Host, b.ElectionPort)}
			for _, x := range ours {
				if slices.Contains(theirs, x) {
					return fmt.Errorf("server.%d and server.%d both use %s", s.ID, o.ID, x)
				}
			}
		}
	}
	return nil
}

func hostPort(h string, p int) string { return h + ":" + strconv.Itoa(p) }

// ParseJavaLong parses a decimal long as Java's Long.parseLong does (an
// optional sign, no blanks).
func ParseJavaLong(s string) (int64, error) { return parseLong(s, 10) }
