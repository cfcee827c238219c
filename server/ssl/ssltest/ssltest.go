// Package ssltest makes certificates for tests: a CA, and server and
// client certificates it signs (or self-signed ones), written as the PEM
// key and trust stores ZooKeeper's ssl.* settings point at.
package ssltest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

var serial atomic.Int64

// CA is a certificate authority.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// Leaf is a certificate with its key.
type Leaf struct {
	Cert  *x509.Certificate
	Key   *ecdsa.PrivateKey
	Chain []*x509.Certificate // issuers after Cert (none for a self-signed one)
}

// Options describe a leaf certificate.
type Options struct {
	Subject pkix.Name
	// RawSubject, when set, is the DER subject instead of Subject.
	RawSubject []byte
	DNS        []string
	IPs        []net.IP
	// NotBefore and NotAfter default to an hour ago and a year ahead.
	NotBefore, NotAfter time.Time
	// Usage is the extended key usage (default server and client auth).
	Usage []x509.ExtKeyUsage
}

func newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// NewCA makes a self-signed CA named cn.
func NewCA(cn string) *CA {
	key := newKey()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: cn, Organization: []string{"zkit tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, key: key}
}

func (o Options) template() *x509.Certificate {
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	if o.Usage == nil {
		o.Usage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: o.Subject, RawSubject: o.RawSubject, DNSNames: o.DNS, IPAddresses: o.IPs,
		NotBefore: o.NotBefore, NotAfter: o.NotAfter, ExtKeyUsage: o.Usage,
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
}

// Issue signs a leaf certificate.
func (ca *CA) Issue(o Options) *Leaf {
	key := newKey()
	der, err := x509.CreateCertificate(rand.Reader, o.template(), ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &Leaf{Cert: cert, Key: key, Chain: []*x509.Certificate{ca.Cert}}
}

// SelfSigned makes a self-signed leaf certificate.
func SelfSigned(o Options) *Leaf {
	key := newKey()
	tmpl := o.template()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &Leaf{Cert: cert, Key: key}
}

// Localhost are the names of a certificate for 127.0.0.1 and localhost.
func Localhost(cn string) Options {
	return Options{Subject: pkix.Name{CommonName: cn, Organization: []string{"zkit tests"}},
		DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// CertPEM is the certificate followed by its issuers.
func (l *Leaf) CertPEM() []byte {
	out := certPEM(l.Cert)
	for _, c := range l.Chain {
		out = append(out, certPEM(c)...)
	}
	return out
}

// KeyPEM is the private key as unencrypted PKCS#8.
func (l *Leaf) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// TLS is the certificate for a crypto/tls configuration.
func (l *Leaf) TLS() tls.Certificate {
	out := tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
	for _, c := range l.Chain {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out
}

// WriteKeyStore writes a PEM key store (key, then certificate chain) as
// dir/name.pem and returns its path.
func (l *Leaf) WriteKeyStore(dir, name string) string {
	return write(dir, name+".pem", append(l.KeyPEM(), l.CertPEM()...))
}

// WriteFiles writes the certificate chain and key as separate PEM files
// (dir/name.crt, dir/name.key), as Python's ssl module takes them.
func (l *Leaf) WriteFiles(dir, name string) (certFile, keyFile string) {
	return write(dir, name+".crt", l.CertPEM()), write(dir, name+".key", l.KeyPEM())
}

// WriteTrustStore writes the CA certificate as dir/name.pem.
func (ca *CA) WriteTrustStore(dir, name string) string {
	return write(dir, name+".pem", certPEM(ca.Cert))
}

// Pool is a pool holding the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

func write(dir, name string, data []byte) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		panic(err)
	}
	return p
}
