package ssl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// QuorumHandshakeTimeout bounds a TLS handshake between members.
const QuorumHandshakeTimeout = 5 * time.Second

// Quorum secures the connections between members (sslQuorum): quorum
// links and election connections, both ways, with the ssl.quorum.*
// settings. Both sides present a certificate; by default each checks the
// other's against its trust store and its address (QuorumX509Util
// verifies client hostnames too).
type Quorum struct {
	m      *Material
	server *tls.Config
	// PortUnification accepts plain connections as well (portUnification,
	// for turning sslQuorum on in a running ensemble one member at a time).
	PortUnification bool
	Timeout         time.Duration
}

// NewQuorum builds the member-link security from loaded ssl.quorum.*
// settings.
func NewQuorum(m *Material, portUnification bool) (*Quorum, error) {
	if m.Cert == nil {
		return nil, fmt.Errorf("sslQuorum=true needs %skeyStore.location: members present certificates to each other", m.Settings.Prefix)
	}
	srv, err := m.ServerConfig()
	if err != nil {
		return nil, err
	}
	return &Quorum{m: m, server: srv, PortUnification: portUnification, Timeout: QuorumHandshakeTimeout}, nil
}

// Accepted secures a connection another member opened to us.
func (q *Quorum) Accepted(nc net.Conn) (net.Conn, error) {
	if q.PortUnification {
		pc, isTLS, err := Detect(nc, q.m.Settings.HandshakeDetectionTimeout)
		if err != nil {
			return nil, err
		}
		if !isTLS {
			return pc, nil
		}
		nc = pc
	}
	tc := tls.Server(nc, q.server)
	if err := q.handshake(tc); err != nil {
		return nil, fmt.Errorf("TLS handshake with %s failed: %w", nc.RemoteAddr(), err)
	}
	return tc, nil
}

// Dialed secures a connection we opened to addr (host:port as
// configured: its host is what the peer's certificate must match).
func (q *Quorum) Dialed(nc net.Conn, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	tc := tls.Client(nc, q.m.ClientConfig(host))
	if err := q.handshake(tc); err != nil {
		return nil, fmt.Errorf("TLS handshake with %s failed: %w", addr, err)
	}
	return tc, nil
}

func (q *Quorum) handshake(tc *tls.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), q.Timeout)
	defer cancel()
	return tc.HandshakeContext(ctx)
}

// Detect reads a connection's first byte to tell a TLS handshake (a
// record of type 22) from plain text, waiting at most timeout; the
// returned connection replays what was read.
func Detect(nc net.Conn, timeout time.Duration) (net.Conn, bool, error) {
	if timeout <= 0 {
		timeout = DefaultHandshakeDetectionTimeout
	}
	_ = nc.SetReadDeadline(time.Now().Add(timeout))
	var b [1]byte
	n, err := nc.Read(b[:])
	_ = nc.SetReadDeadline(time.Time{})
	if n == 0 {
		if err == nil {
			err = errors.New("no data")
		}
		return nil, false, err
	}
	return &prefixConn{Conn: nc, prefix: b[:n]}, b[0] == 0x16, nil
}

type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
