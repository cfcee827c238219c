package ssl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Material is a family of settings with its stores loaded.
type Material struct {
	Settings Settings
	// Cert is what this side presents (nil without a key store).
	Cert *tls.Certificate
	// Roots are the trusted certificates (nil: the system's roots, as
	// Java falls back to its cacerts without a trust store).
	Roots *x509.CertPool
	// Trusted lists the trust store's certificates.
	Trusted []*x509.Certificate
}

// Load reads the key and trust stores.
func Load(s Settings) (*Material, error) {
	m := &Material{Settings: s}
	if s.KeyStore.Location != "" {
		cert, err := LoadKeyStore(s.KeyStore)
		if err != nil {
			return nil, fmt.Errorf("%skeyStore.location: %w", s.Prefix, err)
		}
		m.Cert = &cert
	}
	if s.TrustStore.Location != "" {
		pool, certs, err := LoadTrustStore(s.TrustStore)
		if err != nil {
			return nil, fmt.Errorf("%strustStore.location: %w", s.Prefix, err)
		}
		m.Roots, m.Trusted = pool, certs
	}
	return m, nil
}

// LoadProperties parses and loads the settings under prefix.
func LoadProperties(props map[string]string, prefix string) (*Material, error) {
	s, err := Parse(props, prefix)
	if err != nil {
		return nil, err
	}
	return Load(s)
}

func (m *Material) versions() (lo, hi uint16) {
	s := m.Settings
	if len(s.EnabledProtocols) > 0 {
		lo, hi, _ = versionRange(s.EnabledProtocols)
		return lo, hi
	}
	if s.Protocol != "" {
		hi, _ = protocolVersion(s.Protocol, true)
		lo = tls.VersionTLS12
		if hi < lo {
			lo = hi
		}
	}
	return lo, hi
}

func (m *Material) base() *tls.Config {
	cfg := &tls.Config{}
	cfg.MinVersion, cfg.MaxVersion = m.versions()
	if m.Settings.CipherSuites != nil {
		cfg.CipherSuites, _ = cipherSuiteIDs(m.Settings.CipherSuites)
	}
	if m.Cert != nil {
		cfg.Certificates = []tls.Certificate{*m.Cert}
	}
	return cfg
}

// ServerConfig is the accepting side's configuration: this side's
// certificate, and client certificates asked for, required and verified
// as ssl.clientAuth says. With client hostname verification the client's
// certificate must also match the client's address.
func (m *Material) ServerConfig() (*tls.Config, error) {
	if m.Cert == nil {
		return nil, fmt.Errorf("%skeyStore.location is not set: a TLS server needs a certificate and key", m.Settings.Prefix)
	}
	cfg := m.base()
	cfg.ClientCAs = m.Roots
	switch m.Settings.ClientAuth {
	case Need:
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case Want:
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		cfg.ClientAuth = tls.NoClientCert
	}
	if m.Settings.ClientHostnameVerification && cfg.ClientAuth != tls.NoClientCert {
		base := cfg.Clone()
		cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			c := base.Clone()
			host := remoteHost(hello.Conn.RemoteAddr())
			c.VerifyConnection = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return nil
				}
				return m.verifyHost(host, cs.PeerCertificates[0])
			}
			return c, nil
		}
	}
	return cfg, nil
}

// ClientConfig is the dialing side's configuration for a connection to
// host: the peer's certificate is verified against the trust store and,
// with hostname verification, against host (as Apache's
// ZKHostnameVerifier does: subject alternative names, else the CN).
func (m *Material) ClientConfig(host string) *tls.Config {
	cfg := m.base()
	if net.ParseIP(host) == nil {
		cfg.ServerName = host
	}
	// Verification is done here, not by crypto/tls, for Apache's rules
	// (CN fallback, reverse DNS).
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the server presented no certificate")
		}
		if err := m.verifyChain(cs.PeerCertificates, x509.ExtKeyUsageServerAuth); err != nil {
			return err
		}
		if m.Settings.HostnameVerification {
			return m.verifyHost(host, cs.PeerCertificates[0])
		}
		return nil
	}
	return cfg
}

// VerifyClient checks a chain a client presented against the trust store
// (the x509 authentication provider's trust manager).
func (m *Material) VerifyClient(chain []*x509.Certificate) error {
	return m.verifyChain(chain, x509.ExtKeyUsageClientAuth)
}

func (m *Material) verifyChain(chain []*x509.Certificate, usage x509.ExtKeyUsage) error {
	if len(chain) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots: m.Roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage},
	})
	return err
}

func (m *Material) verifyHost(host string, cert *x509.Certificate) error {
	err := VerifyHostname(host, cert)
	if err == nil || !m.Settings.AllowReverseDNS || net.ParseIP(host) == nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	names, lerr := net.DefaultResolver.LookupAddr(ctx, host)
	if lerr != nil {
		return err
	}
	for _, n := range names {
		if VerifyHostname(strings.TrimSuffix(n, "."), cert) == nil {
			return nil
		}
	}
	return err
}

// VerifyHostname checks a certificate against a host name or address as
// Apache's ZKHostnameVerifier does: against the DNS and IP subject
// alternative names when there are any, else against the subject's CN.
func VerifyHostname(host string, cert *x509.Certificate) error {
	if len(cert.DNSNames) > 0 || len(cert.IPAddresses) > 0 {
		if err := cert.VerifyHostname(host); err != nil {
			return fmt.Errorf("certificate for <%s> doesn't match any of the subject alternative names %v", host, sanList(cert))
		}
		return nil
	}
	cn := cert.Subject.CommonName
	if cn == "" {
		return fmt.Errorf("certificate subject for <%s> doesn't contain a common name and does not have alternative names", host)
	}
	if !matchName(strings.ToLower(host), strings.ToLower(cn)) {
		return fmt.Errorf("certificate for <%s> doesn't match common name of the certificate subject: %s", host, cn)
	}
	return nil
}

func sanList(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// matchName matches a host against a name that may start with a "*."
// wildcard standing for one label.
func matchName(host, name string) bool {
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		i := strings.IndexByte(host, '.')
		return i > 0 && host[i+1:] == rest
	}
	if a, b := net.ParseIP(host), net.ParseIP(name); a != nil && b != nil {
		return a.Equal(b)
	}
	return host == name
}

func remoteHost(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
