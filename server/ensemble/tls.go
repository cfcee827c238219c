package ensemble

import (
	"net"
	"strings"
)

// secureClientAddr is where the member serves TLS clients: the port it
// bound first, kept across restarts ("" without Config.ClientTLS).
func (m *Member) secureClientAddr() string {
	if m.e.cfg.ClientTLS == nil {
		return ""
	}
	if m.secureAddr != "" {
		return m.secureAddr
	}
	return net.JoinHostPort(m.e.cfg.Host, "0")
}

// SecureClientAddr is the member's secure (TLS) client address, or ""
// without Config.ClientTLS.
func (m *Member) SecureClientAddr() string { return m.secureAddr }

// SecureConnectString is "host:port,..." of every member's secure client
// port.
func (e *Ensemble) SecureConnectString() string {
	var hosts []string
	for _, m := range e.Members() {
		if a := m.SecureClientAddr(); a != "" {
			hosts = append(hosts, a)
		}
	}
	return strings.Join(hosts, ",")
}
