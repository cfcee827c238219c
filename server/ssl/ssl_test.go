package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/ssl/ssltest"
)

// The stores in testdata were made by keytool (Java 17) and OpenSSL 3:
// see testdata/gen.sh.
const fixturePassword = "changeit"

func TestStoreType(t *testing.T) {
	for _, c := range []struct{ typ, file, want string }{
		{"", "a.pem", TypePEM}, {"", "a.p12", TypePKCS12}, {"", "a.jks", TypeJKS},
		{"pem", "a.jks", TypePEM}, {"Pkcs12", "x", TypePKCS12}, {"jks", "", TypeJKS},
	} {
		got, err := StoreType(c.typ, c.file)
		require.NoError(t, err)
		require.Equal(t, c.want, got)
	}
	for _, c := range []struct{ typ, file, msg string }{
		{"", "a.PEM", "cannot tell the store type"}, // Apache matches extensions exactly
		{"", "a.pfx", "cannot tell the store type"},
		{"", "noext", "cannot tell the store type"},
		{"BCFKS", "a.bcfks", "BCFKS (Bouncy Castle FIPS) is not supported"},
		{"", "a.bcfks", "BCFKS (Bouncy Castle FIPS) is not supported"},
		{"JCEKS", "a", `unknown store type "JCEKS"`},
	} {
		_, err := StoreType(c.typ, c.file)
		require.ErrorContains(t, err, c.msg)
		require.ErrorContains(t, err, "PEM (.pem), PKCS12 (.p12) and JKS (.jks)")
	}
}

func TestKeyStoreFormats(t *testing.T) {
	for _, name := range []string{
		"server.jks",               // keytool, JKS
		"server.p12",               // keytool, Java 17 defaults: PBES2/AES-256, HMAC-SHA256
		"server-legacy.p12",        // keytool, Java 8 algorithms: RC2-40, 3DES, HMAC-SHA1
		"openssl.p12",              // OpenSSL 3 defaults
		"openssl-3des.p12",         // OpenSSL, 3DES
		"server.pem",               // PKCS#8 key + chain
		"server-aes.pem",           // encrypted PKCS#8, PBES2 AES-256
		"server-des3.pem",          // encrypted PKCS#8, PBES2 3DES, HMAC-SHA1
		"server-pbe-sha1-3des.pem", // encrypted PKCS#8, PKCS#12 PBE
		"server-pkcs1.pem",         // traditional RSA key (accepted, though Apache wants PKCS#8)
	} {
		t.Run(name, func(t *testing.T) {
			pw := fixturePassword
			if name == "server.pem" || name == "server-pkcs1.pem" {
				pw = ""
			}
			cert, err := LoadKeyStore(Store{Location: filepath.Join("testdata", name), Password: pw})
			require.NoError(t, err)
			require.Equal(t, "server", cert.Leaf.Subject.CommonName)
			require.Len(t, cert.Certificate, 2, "leaf and CA")
			ca, err := x509.ParseCertificate(cert.Certificate[1])
			require.NoError(t, err)
			require.Equal(t, "Test CA", ca.Subject.CommonName)
			require.True(t, publicKeyMatches(cert.PrivateKey, cert.Leaf))
		})
	}
}

func TestKeyStoreErrors(t *testing.T) {
	load := func(name, pw, typ string) error {
		_, err := LoadKeyStore(Store{Location: filepath.Join("testdata", name), Password: pw, Type: typ})
		return err
	}
	require.ErrorContains(t, load("server.jks", "wrong", ""), "keystore was tampered with, or password was incorrect")
	require.ErrorContains(t, load("server.p12", "wrong", ""), "keystore password was incorrect")
	require.ErrorContains(t, load("server-aes.pem", "wrong", ""), "decrypting the private key")
	require.ErrorContains(t, load("server-aes.pem", "", ""), "the private key is encrypted but no key store password is set")
	require.ErrorContains(t, load("server.jks", fixturePassword, "PEM"), "no PEM data found")
	require.ErrorContains(t, load("server.pem", "", "PKCS12"), "not a DER PKCS#12 file")
	require.ErrorContains(t, load("ca.pem", "", ""), "no private key in the key store")
	require.ErrorContains(t, load("missing.pem", "", ""), "no such file")

	dir := t.TempDir()
	jceks := filepath.Join(dir, "x.jks")
	require.NoError(t, os.WriteFile(jceks, append([]byte{0xce, 0xce, 0xce, 0xce}, make([]byte, 40)...), 0o600))
	_, err := LoadKeyStore(Store{Location: jceks, Password: "x"})
	require.ErrorContains(t, err, "JCEKS")

	// A key with someone else's certificate.
	a, b := ssltest.SelfSigned(ssltest.Localhost("a")), ssltest.SelfSigned(ssltest.Localhost("b"))
	mixed := filepath.Join(dir, "mixed.pem")
	require.NoError(t, os.WriteFile(mixed, append(a.KeyPEM(), b.CertPEM()...), 0o600))
	_, err = LoadKeyStore(Store{Location: mixed})
	require.ErrorContains(t, err, "the private key matches no certificate")
}

func TestTrustStoreFormats(t *testing.T) {
	for _, c := range []struct{ name, pw string }{
		{"ca.pem", ""}, {"truststore.jks", fixturePassword}, {"truststore.jks", ""}, {"truststore.p12", fixturePassword},
	} {
		pool, certs, err := LoadTrustStore(Store{Location: filepath.Join("testdata", c.name), Password: c.pw})
		require.NoError(t, err, c.name)
		require.NotNil(t, pool)
		require.Len(t, certs, 1)
		require.Equal(t, "Test CA", certs[0].Subject.CommonName)
	}
	_, _, err := LoadTrustStore(Store{Location: filepath.Join("testdata", "truststore.jks"), Password: "wrong"})
	require.ErrorContains(t, err, "password was incorrect")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	require.NoError(t, os.WriteFile(empty, []byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"), 0o600))
	_, _, err = LoadTrustStore(Store{Location: empty})
	require.ErrorContains(t, err, "holds no certificate")
}

// The keytool-made stores work end to end: a mutual-TLS handshake with the
// JKS key store and the PKCS#12 trust store.
func TestFixtureHandshake(t *testing.T) {
	props := map[string]string{
		"ssl.keyStore.location":   "testdata/server.jks",
		"ssl.keyStore.password":   fixturePassword,
		"ssl.trustStore.location": "testdata/truststore.p12",
		"ssl.trustStore.password": fixturePassword,
	}
	m, err := LoadProperties(props, ClientPrefix)
	require.NoError(t, err)
	srv, err := m.ServerConfig()
	require.NoError(t, err)
	require.NoError(t, handshake(t, srv, m.ClientConfig("127.0.0.1")))
	// A client that does not trust the CA fails.
	other := ssltest.NewCA("other")
	require.ErrorContains(t, handshake(t, srv, &tls.Config{RootCAs: other.Pool(), Certificates: []tls.Certificate{*m.Cert}, ServerName: "localhost"}), "unknown authority")
}

func handshake(t *testing.T, server, client *tls.Config) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer nc.Close()
		tc := tls.Server(nc, server)
		_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			done <- err
			return
		}
		_, err = tc.Write([]byte("ok"))
		done <- err
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	tc := tls.Client(nc, client)
	_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
	cerr := tc.Handshake()
	if cerr == nil {
		// TLS 1.3: a rejected client certificate shows on the first read.
		_, cerr = io.ReadFull(tc, make([]byte, 2))
	}
	serr := <-done
	if cerr != nil {
		return cerr
	}
	return serr
}

func TestParse(t *testing.T) {
	s, err := Parse(map[string]string{}, ClientPrefix)
	require.NoError(t, err)
	require.Equal(t, Need, s.ClientAuth)
	require.True(t, s.HostnameVerification)
	require.False(t, s.ClientHostnameVerification, "clients' hostnames are not checked by default")
	q, err := Parse(map[string]string{}, QuorumPrefix)
	require.NoError(t, err)
	require.True(t, q.ClientHostnameVerification, "members' hostnames are")

	s, err = Parse(map[string]string{
		"ssl.clientAuth": "Want", "ssl.hostnameVerification": "FALSE", "ssl.quorum.clientAuth": "none",
		"ssl.enabledProtocols": "TLSv1.3, TLSv1.2", "ssl.ciphersuites": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256,NO_SUCH_SUITE",
		"ssl.handshakeDetectionTimeoutMillis": "250",
	}, ClientPrefix)
	require.NoError(t, err)
	require.Equal(t, Want, s.ClientAuth)
	require.False(t, s.HostnameVerification)
	require.Equal(t, []string{"TLSv1.3", "TLSv1.2"}, s.EnabledProtocols)
	require.Equal(t, 250*time.Millisecond, s.HandshakeDetectionTimeout)
	m := &Material{Settings: s}
	cfg := m.base()
	require.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	require.Equal(t, uint16(tls.VersionTLS13), cfg.MaxVersion)
	require.Equal(t, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, cfg.CipherSuites)

	m = &Material{Settings: Settings{Protocol: "TLSv1.2"}}
	cfg = m.base()
	require.Equal(t, uint16(tls.VersionTLS12), cfg.MaxVersion)

	for props, msg := range map[string]string{
		"ssl.clientAuth=maybe":                   "is not one of need, want, none",
		"ssl.protocol=SSLv3":                     `unsupported protocol "SSLv3"`,
		"ssl.enabledProtocols=TLSv1.2,SSLv2":     `unsupported protocol "SSLv2"`,
		"ssl.ciphersuites=FOO,BAR":               "no cipher suite Go supports",
		"ssl.crl=true":                           "certificate revocation checking (CRL/OCSP) is not supported",
		"ssl.ocsp=TRUE":                          "not supported",
		"ssl.context.supplier.class=com.x.Y":     "a Java SSLContext supplier cannot be loaded",
		"ssl.keyStore.passwordPath=/nonexistent": "ssl.keyStore.passwordPath",
	} {
		k, v, _ := strings.Cut(props, "=")
		_, err := Parse(map[string]string{k: v}, ClientPrefix)
		require.ErrorContains(t, err, msg, props)
	}
	// Settings of the other family are not read.
	_, err = Parse(map[string]string{"ssl.quorum.clientAuth": "bogus"}, ClientPrefix)
	require.NoError(t, err)

	pwFile := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pwFile, []byte("secret\n"), 0o600))
	s, err = Parse(map[string]string{"ssl.keyStore.password": "ignored", "ssl.keyStore.passwordPath": pwFile}, ClientPrefix)
	require.NoError(t, err)
	require.Equal(t, "secret", s.KeyStore.Password)
}

func TestVerifyHostname(t *testing.T) {
	withSAN := ssltest.SelfSigned(ssltest.Localhost("ignored-cn")).Cert
	require.NoError(t, VerifyHostname("127.0.0.1", withSAN))
	require.NoError(t, VerifyHostname("localhost", withSAN))
	require.ErrorContains(t, VerifyHostname("10.0.0.1", withSAN), "doesn't match any of the subject alternative names")
	require.Error(t, VerifyHostname("ignored-cn", withSAN), "the CN is not used when there are SANs")

	cnOnly := ssltest.SelfSigned(ssltest.Options{Subject: pkix.Name{CommonName: "*.example.com"}}).Cert
	require.NoError(t, VerifyHostname("zk1.example.com", cnOnly))
	require.Error(t, VerifyHostname("a.b.example.com", cnOnly))
	ipCN := ssltest.SelfSigned(ssltest.Options{Subject: pkix.Name{CommonName: "127.0.0.1"}}).Cert
	require.NoError(t, VerifyHostname("127.0.0.1", ipCN))
	noName := ssltest.SelfSigned(ssltest.Options{Subject: pkix.Name{Organization: []string{"x"}}}).Cert
	require.ErrorContains(t, VerifyHostname("127.0.0.1", noName), "doesn't contain a common name")
}

// RFC 2268's test vectors (key, effective bits, plaintext, ciphertext).
func TestRC2Vectors(t *testing.T) {
	for _, v := range []struct {
		key  string
		bits int
		pt   string
		ct   string
	}{
		{"0000000000000000", 63, "0000000000000000", "ebb773f993278eff"},
		{"ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"},
		{"3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"},
		{"88", 64, "0000000000000000", "61a8a244adacccf0"},
		{"88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"},
		{"88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"},
		{"88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"},
	} {
		key, _ := hex.DecodeString(v.key)
		pt, _ := hex.DecodeString(v.pt)
		c := newRC2(key, v.bits)
		out := make([]byte, 8)
		c.Encrypt(out, pt)
		require.Equal(t, v.ct, hex.EncodeToString(out), v.key)
		back := make([]byte, 8)
		c.Decrypt(back, out)
		require.Equal(t, v.pt, hex.EncodeToString(back))
	}
}

func TestIgnored(t *testing.T) {
	props := map[string]string{"ssl.sslProvider": "OPENSSL", "ssl.quorum.sslProvider": "JDK", "sslQuorumReloadCertFiles": "true", "client.certReload": "true"}
	require.Equal(t, []string{"client.certReload: certificate files are read once, at startup",
		"ssl.sslProvider: Netty's choice of TLS engine; zkit always uses Go's crypto/tls"}, Ignored(props, ClientPrefix))
	require.Len(t, Ignored(props, QuorumPrefix), 2)
	require.Empty(t, Ignored(map[string]string{"sslQuorumReloadCertFiles": "false"}, QuorumPrefix))
}
