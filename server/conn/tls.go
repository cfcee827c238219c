package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"zkit/server/auth"
	"zkit/server/proto"
)

// TLSHandshakeTimeout bounds a secure client's TLS handshake (Netty's
// SslHandler default).
const TLSHandshakeTimeout = 10 * time.Second

// startTLS completes the handshake of a connection to the secure port and,
// when the client presented a certificate, gives the connection the
// identity the x509 provider derives from it, as Apache's
// NettyServerCnxnFactory.CertificateVerifier does. A failed handshake, or
// a certificate the provider rejects, ends the connection.
func (c *Conn) startTLS() error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), TLSHandshakeTimeout)
	defer cancel()
	c.srv.TLSStats.Handshaking.Add(1)
	err := tc.HandshakeContext(ctx)
	c.srv.TLSStats.Handshaking.Add(-1)
	if err != nil {
		c.srv.TLSStats.Failed.Add(1)
		return &tlsError{fmt.Errorf("TLS handshake failed: %w", err)}
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		// ssl.clientAuth=want (or none): no certificate, no identity.
		return nil
	}
	p, _ := c.srv.auth.Get(auth.X509Scheme).(auth.PeerProvider)
	if p == nil {
		c.srv.TLSStats.Failed.Add(1)
		return &tlsError{errors.New("X509 auth provider not found: x509")}
	}
	ids := p.AuthenticatePeer(nil, c.peer())
	if len(ids) == 0 {
		c.srv.TLSStats.Failed.Add(1)
		return &tlsError{errors.New("authentication of the client certificate failed")}
	}
	c.addIDs(ids)
	return nil
}

// TLSStats count what the secure port sees.
type TLSStats struct {
	// Handshaking is the number of TLS handshakes in progress (mntr's
	// outstanding_tls_handshake).
	Handshaking atomic.Int64
	// Failed counts failed handshakes and rejected client certificates
	// (Apache adds them to auth_failed_count).
	Failed atomic.Int64
}

// tlsError is a secure connection's failure to start.
type tlsError struct{ err error }

func (e *tlsError) Error() string { return e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// peer is what the connection knows of its client.
func (c *Conn) peer() auth.Peer {
	p := auth.Peer{RemoteIP: c.remoteIP}
	if tc, ok := c.nc.(*tls.Conn); ok {
		p.Certs = tc.ConnectionState().PeerCertificates
	}
	return p
}

// authenticate runs addauth through a provider, with the connection for
// those that read it (x509).
func (c *Conn) authenticate(p auth.Provider, data []byte) []proto.Id {
	if pp, ok := p.(auth.PeerProvider); ok {
		return pp.AuthenticatePeer(data, c.peer())
	}
	return p.Authenticate(data, c.remoteIP)
}

// Secure reports whether the connection came in on the secure (TLS) port.
func (c *Conn) Secure() bool {
	_, ok := c.nc.(*tls.Conn)
	return ok
}

func (s *Server) logTLSErr(c *Conn, err error) {
	s.log.Warn("closing secure client connection", "client", c.nc.RemoteAddr().String(), "reason", err.Error())
}

// listenSecure binds the secure client port, if there is one.
func (s *Server) listenSecure() error {
	if s.cfg.SecureAddr == "" || s.sln != nil {
		return nil
	}
	if s.cfg.TLS == nil {
		return errors.New("a secure client port needs a TLS configuration")
	}
	ln, err := net.Listen("tcp", s.cfg.SecureAddr)
	if err != nil {
		return fmt.Errorf("secure client port %s: %w", s.cfg.SecureAddr, err)
	}
	s.sln = ln
	return nil
}

// SecureAddr returns the secure client port's bound address, or nil.
func (s *Server) SecureAddr() net.Addr {
	if s.sln == nil {
		return nil
	}
	return s.sln.Addr()
}
