package ssl

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Store types, as KeyStoreFileType names them.
const (
	TypePEM    = "PEM"
	TypePKCS12 = "PKCS12"
	TypeJKS    = "JKS"
	TypeBCFKS  = "BCFKS"
)

// SupportedTypes names the store types zkit reads, for error messages.
const SupportedTypes = "PEM (.pem), PKCS12 (.p12) and JKS (.jks)"

// StoreType returns a store's type as Apache decides it
// (KeyStoreFileType.fromPropertyValueOrFileName): the type setting in any
// case, else the file name's extension, exactly .pem, .p12, .jks or
// .bcfks. Only PEM, PKCS12 and JKS can be read.
func StoreType(typ, location string) (string, error) {
	if typ != "" {
		switch t := strings.ToUpper(typ); t {
		case TypePEM, TypePKCS12, TypeJKS:
			return t, nil
		case TypeBCFKS:
			return "", fmt.Errorf("store type BCFKS (Bouncy Castle FIPS) is not supported; zkit reads %s", SupportedTypes)
		}
		return "", fmt.Errorf("unknown store type %q; zkit reads %s", typ, SupportedTypes)
	}
	if i := strings.LastIndexByte(location, '.'); i >= 0 {
		switch location[i:] {
		case ".pem":
			return TypePEM, nil
		case ".p12":
			return TypePKCS12, nil
		case ".jks":
			return TypeJKS, nil
		case ".bcfks":
			return "", fmt.Errorf("%s: store type BCFKS (Bouncy Castle FIPS) is not supported; zkit reads %s", location, SupportedTypes)
		}
	}
	return "", fmt.Errorf("cannot tell the store type of %q from its name: set the store's type (zkit reads %s)", location, SupportedTypes)
}

// storeContents is what a store file holds: private keys with their
// certificate chains, and certificates.
type storeContents struct {
	keys  []keyEntry
	certs []*x509.Certificate // every certificate, chains included
}

type keyEntry struct {
	key   crypto.PrivateKey
	chain []*x509.Certificate // as stored; may be empty (PKCS#12 pairs later)
}

// readStore reads a store; a trust store's private keys are skipped.
func readStore(st Store, trust bool) (*storeContents, string, error) {
	typ, err := StoreType(st.Type, st.Location)
	if err != nil {
		return nil, "", err
	}
	data, err := os.ReadFile(st.Location)
	if err != nil {
		return nil, typ, err
	}
	var c *storeContents
	switch typ {
	case TypePEM:
		c, err = readPEM(data, st.Password, trust)
	case TypePKCS12:
		c, err = readPKCS12(data, st.Password, trust)
	case TypeJKS:
		c, err = readJKS(data, st.Password, trust)
	}
	if err != nil {
		return nil, typ, fmt.Errorf("%s (%s): %w", st.Location, typ, err)
	}
	return c, typ, nil
}

// LoadKeyStore reads the certificate and private key a side presents.
func LoadKeyStore(st Store) (tls.Certificate, error) {
	c, typ, err := readStore(st, false)
	if err != nil {
		return tls.Certificate{}, err
	}
	if len(c.keys) == 0 {
		return tls.Certificate{}, fmt.Errorf("%s (%s): no private key in the key store", st.Location, typ)
	}
	// Like Java's key manager, use the first key entry.
	e := c.keys[0]
	chain, err := orderChain(e, c.certs)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s (%s): %w", st.Location, typ, err)
	}
	out := tls.Certificate{PrivateKey: e.key, Leaf: chain[0]}
	for _, cert := range chain {
		out.Certificate = append(out.Certificate, cert.Raw)
	}
	return out, nil
}

// LoadTrustStore reads the certificates a side trusts: every certificate
// of a PEM or PKCS#12 file, the trusted-certificate entries of a JKS
// store (as Java's PKIX trust manager takes them).
func LoadTrustStore(st Store) (*x509.CertPool, []*x509.Certificate, error) {
	c, typ, err := readStore(st, true)
	if err != nil {
		return nil, nil, err
	}
	if len(c.certs) == 0 {
		// Java: "the trustAnchors parameter must be non-empty".
		return nil, nil, fmt.Errorf("%s (%s): the trust store holds no certificate", st.Location, typ)
	}
	pool := x509.NewCertPool()
	for _, cert := range c.certs {
		pool.AddCert(cert)
	}
	return pool, c.certs, nil
}

// orderChain returns the key's certificate first, then the certificates
// that chain up from it.
func orderChain(e keyEntry, all []*x509.Certificate) ([]*x509.Certificate, error) {
	candidates := append(append([]*x509.Certificate(nil), e.chain...), all...)
	var leaf *x509.Certificate
	for _, c := range candidates {
		if publicKeyMatches(e.key, c) {
			leaf = c
			break
		}
	}
	if leaf == nil {
		if len(candidates) == 0 {
			return nil, errors.New("the key store holds a private key but no certificate")
		}
		return nil, errors.New("the private key matches no certificate in the key store")
	}
	chain := []*x509.Certificate{leaf}
	pool := e.chain
	if len(pool) == 0 {
		pool = all
	}
	used := map[*x509.Certificate]bool{leaf: true}
	for cur := leaf; len(chain) < 10 && !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
		var next *x509.Certificate
		for _, c := range pool {
			if !used[c] && bytes.Equal(cur.RawIssuer, c.RawSubject) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		used[next] = true
		chain = append(chain, next)
		cur = next
	}
	return chain, nil
}

func publicKeyMatches(key crypto.PrivateKey, c *x509.Certificate) bool {
	type pub interface{ Equal(crypto.PublicKey) bool }
	var p crypto.PublicKey
	switch k := key.(type) {
	case *rsa.PrivateKey:
		p = &k.PublicKey
	case *ecdsa.PrivateKey:
		p = &k.PublicKey
	case ed25519.PrivateKey:
		p = k.Public()
	default:
		return false
	}
	if e, ok := p.(pub); ok {
		return e.Equal(c.PublicKey)
	}
	return false
}

// parsePrivateKey reads a DER private key: PKCS#8, or (leniently, where
// Java insists on PKCS#8) PKCS#1 RSA or SEC 1 EC.
func parsePrivateKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return checkKeyType(k)
	} else if strings.Contains(err.Error(), "unknown") || strings.Contains(err.Error(), "unsupported") {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("cannot parse the private key (expected PKCS#8, PKCS#1 RSA or SEC 1 EC); a wrong password gives this too")
}

func checkKeyType(k any) (crypto.PrivateKey, error) {
	switch k.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("private key of type %T is not supported (RSA, EC and Ed25519 are)", k)
}

// parseCertificate parses one DER certificate, ignoring data after it
// (OpenSSL's "TRUSTED CERTIFICATE" appends trust settings).
func parseCertificate(der []byte) (*x509.Certificate, error) {
	if n := derLen(der); n > 0 && n < len(der) {
		der = der[:n]
	}
	return x509.ParseCertificate(der)
}

// derLen returns the length of the DER element at the start of b, or 0.
func derLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	l := int(b[1])
	hdr := 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 4 || len(b) < 2+n {
			return 0
		}
		l = 0
		for _, c := range b[2 : 2+n] {
			l = l<<8 | int(c)
		}
		hdr += n
	}
	return hdr + l
}
