package member

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/internal/zkclient"
	"zkit/server/proto"
	"zkit/server/ssl"
	"zkit/server/ssl/ssltest"
)

// tlsLogBuffer collects log output from many goroutines.
type tlsLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *tlsLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *tlsLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tlsEnv is a server with a secure client port, its CA and its log.
type tlsEnv struct {
	ca   *ssltest.CA
	srv  *Server
	logs *tlsLogBuffer
}

// startTLS starts a server whose secure port uses props (ssl.* settings
// added to a key store and trust store made by a fresh CA); plain adds a
// plain client port.
func startTLS(t *testing.T, props map[string]string, plain bool) *tlsEnv {
	t.Helper()
	dir := t.TempDir()
	ca := ssltest.NewCA("zkit test CA")
	all := map[string]string{
		"ssl.keyStore.location":   ca.Issue(ssltest.Localhost("server")).WriteKeyStore(dir, "server"),
		"ssl.trustStore.location": ca.WriteTrustStore(dir, "ca"),
	}
	for k, v := range props {
		all[k] = v
	}
	m, err := ssl.LoadProperties(all, ssl.ClientPrefix)
	require.NoError(t, err)
	tlsCfg, err := m.ServerConfig()
	require.NoError(t, err)
	logs := &tlsLogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	opts := Options{
		SecureClientAddr: "127.0.0.1:0", TLS: tlsCfg, TickTime: 100 * time.Millisecond, Logger: log,
		X509: &auth.X509Provider{Verify: m.VerifyClient, SuperUser: all["X509AuthenticationProvider.superUser"], Log: log},
		FourLetterWords: func(_ *Server, cmd string) []byte {
			if cmd == "ruok" {
				return []byte("imok")
			}
			return nil
		},
	}
	if plain {
		opts.ClientAddr = "127.0.0.1:0"
	}
	s := New(opts)
	require.NoError(t, s.Start())
	t.Cleanup(s.Stop)
	return &tlsEnv{ca: ca, srv: s, logs: logs}
}

func (e *tlsEnv) client(cn string) *ssltest.Leaf {
	return e.ca.Issue(ssltest.Options{Subject: pkix.Name{CommonName: cn, Organization: []string{"zkit tests"}}})
}

// dialer connects to the secure port presenting leaf (nil: no
// certificate) and trusting roots.
func dialer(leaf *ssltest.Leaf, roots *x509.CertPool) func(string) (net.Conn, error) {
	cfg := &tls.Config{RootCAs: roots, ServerName: "localhost"}
	if leaf != nil {
		cfg.Certificates = []tls.Certificate{leaf.TLS()}
	}
	return func(addr string) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	}
}

func (e *tlsEnv) connect(leaf *ssltest.Leaf) (*zkclient.Client, error) {
	return zkclient.Connect(e.srv.SecureAddr().String(), zkclient.Options{Dial: dialer(leaf, e.ca.Pool())})
}

func (e *tlsEnv) mustConnect(t *testing.T, leaf *ssltest.Leaf) *zkclient.Client {
	t.Helper()
	c, err := e.connect(leaf)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func tlsWhoAmI(t *testing.T, c *zkclient.Client) []proto.ClientInfo {
	t.Helper()
	var resp proto.WhoAmIResponse
	h, err := c.Call(proto.OpWhoAmI, nil, &resp)
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, h.Err)
	return resp.ClientInfo
}

func tlsCreate(t *testing.T, c *zkclient.Client, path string, acl []proto.ACL) proto.Err {
	t.Helper()
	h, err := c.Call(proto.OpCreate, &proto.CreateRequest{Path: path, Data: []byte("x"), ACL: acl}, &proto.PathRecord{})
	require.NoError(t, err)
	return h.Err
}

func tlsGetData(t *testing.T, c *zkclient.Client, path string) proto.Err {
	t.Helper()
	h, err := c.Call(proto.OpGetData, &proto.PathWatchRequest{Path: path}, &proto.GetDataResponse{})
	require.NoError(t, err)
	return h.Err
}

const aliceDN = "CN=alice,O=zkit tests"

func TestTLSClientCertificateIdentity(t *testing.T) {
	e := startTLS(t, nil, true)
	alice := e.mustConnect(t, e.client("alice"))
	bob := e.mustConnect(t, e.client("bob"))

	require.ElementsMatch(t, []proto.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "x509", User: aliceDN}}, tlsWhoAmI(t, alice))

	x509ACL := []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "x509", ID: aliceDN}}}
	require.Equal(t, proto.ErrOK, tlsCreate(t, alice, "/secret", x509ACL))
	require.Equal(t, proto.ErrOK, tlsGetData(t, alice, "/secret"))
	require.Equal(t, proto.ErrNoAuth, tlsGetData(t, bob, "/secret"))

	// The "auth" scheme expands to the certificate's identity.
	require.Equal(t, proto.ErrOK, tlsCreate(t, alice, "/mine", proto.CreatorAllACL))
	var acl proto.GetACLResponse
	h, err := alice.Call(proto.OpGetACL, &proto.PathRecord{Path: "/mine"}, &acl)
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, h.Err)
	require.Equal(t, x509ACL, acl.ACL)
	// An x509 ACL id must be a distinguished name.
	require.Equal(t, proto.ErrInvalidACL, tlsCreate(t, alice, "/bad", []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "x509", ID: "not a DN"}}}))

	// addauth x509 checks the connection's certificate again.
	code, err := bob.Auth("x509", nil)
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, code)
	require.Equal(t, proto.ErrNoAuth, tlsGetData(t, bob, "/secret"))

	// On the plain port there is no certificate: AUTHFAILED, connection closed.
	plain, err := zkclient.Connect(e.srv.Addr().String(), zkclient.Options{})
	require.NoError(t, err)
	defer plain.Drop()
	require.ElementsMatch(t, []proto.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}}, tlsWhoAmI(t, plain))
	code, err = plain.Auth("x509", nil)
	require.NoError(t, err)
	require.Equal(t, proto.ErrAuthFailed, code)
	select {
	case <-plain.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the connection stayed open after AUTHFAILED")
	}
	require.Equal(t, proto.ErrNoAuth, func() proto.Err {
		c, err := zkclient.Connect(e.srv.Addr().String(), zkclient.Options{})
		require.NoError(t, err)
		defer c.Close()
		return tlsGetData(t, c, "/secret")
	}())
}

// Bad clients are turned away at the handshake with a log line saying why;
// the server goes on serving.
func TestTLSRejectsBadClients(t *testing.T) {
	e := startTLS(t, nil, false)
	addr := e.srv.SecureAddr().String()

	_, err := e.connect(nil)
	require.Error(t, err, "no client certificate with ssl.clientAuth=need")
	other := ssltest.NewCA("another CA")
	_, err = e.connect(other.Issue(ssltest.Options{Subject: pkix.Name{CommonName: "mallory"}}))
	require.Error(t, err, "a certificate from another CA")
	expired := e.ca.Issue(ssltest.Options{Subject: pkix.Name{CommonName: "old"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	_, err = e.connect(expired)
	require.Error(t, err, "an expired certificate")
	// The server's certificate, too, is checked by the client.
	_, err = zkclient.Connect(addr, zkclient.Options{Dial: dialer(e.client("alice"), other.Pool())})
	require.ErrorContains(t, err, "certificate signed by unknown authority")

	// Not TLS at all: a plain ZooKeeper connect, then garbage.
	for _, hello := range [][]byte{
		{0, 0, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x75, 0x30},
		[]byte("ruok\r\n"), // (four bytes alone wait for a fifth, the record header, as in Netty)
		bytes.Repeat([]byte{0x16, 0x03, 0x01, 0xff, 0xff}, 10), // a TLS record header announcing junk
	} {
		nc, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		_, _ = nc.Write(hello)
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadAll(nc)
		var ne net.Error
		if err != nil && tlsErrorAs(err, &ne) && ne.Timeout() {
			t.Fatalf("hello %q: the server kept the connection open", hello)
		}
		nc.Close()
	}

	require.Eventually(t, func() bool {
		logs := e.logs.String()
		return strings.Count(logs, "closing secure client connection") >= 7 &&
			strings.Contains(logs, "client didn't provide a certificate") &&
			strings.Contains(logs, "first record does not look like a TLS handshake") &&
			strings.Contains(logs, "TLS handshake failed")
	}, 5*time.Second, 10*time.Millisecond, e.logs.String())
	t.Logf("server log:\n%s", e.logs.String())

	// Unharmed.
	c := e.mustConnect(t, e.client("alice"))
	require.Equal(t, proto.ErrOK, tlsCreate(t, c, "/still-here", proto.OpenACLUnsafe))
	require.Len(t, e.srv.Clients.Conns(), 1)
	require.GreaterOrEqual(t, e.srv.Clients.TLSStats.Failed.Load(), int64(7))
	require.Zero(t, e.srv.Clients.TLSStats.Handshaking.Load())
}

func tlsErrorAs(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

func TestTLSClientAuthWantAndNone(t *testing.T) {
	e := startTLS(t, map[string]string{"ssl.clientAuth": "want"}, false)
	anon := e.mustConnect(t, nil)
	require.Equal(t, []proto.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}}, tlsWhoAmI(t, anon))
	alice := e.mustConnect(t, e.client("alice"))
	require.ElementsMatch(t, []proto.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "x509", User: aliceDN}}, tlsWhoAmI(t, alice))
	// addauth x509 without a certificate fails.
	code, err := anon.Auth("x509", nil)
	require.NoError(t, err)
	require.Equal(t, proto.ErrAuthFailed, code)

	n := startTLS(t, map[string]string{"ssl.clientAuth": "none"}, false)
	// A certificate nobody asked for is not sent, so it gives no identity.
	c := n.mustConnect(t, n.client("alice"))
	require.Equal(t, []proto.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}}, tlsWhoAmI(t, c))
}

func TestTLSOnlyServer(t *testing.T) {
	e := startTLS(t, nil, false)
	require.Equal(t, e.srv.SecureAddr(), e.srv.Addr(), "a TLS-only server's address is its secure port")
	c := e.mustConnect(t, e.client("alice"))
	require.Equal(t, proto.ErrOK, tlsCreate(t, c, "/a", proto.OpenACLUnsafe))
	// A four-letter word over TLS.
	nc, err := dialer(e.client("ops"), e.ca.Pool())(e.srv.SecureAddr().String())
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte("ruok"))
	require.NoError(t, err)
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	out, _ := io.ReadAll(nc)
	require.Equal(t, "imok", string(out))
}

func TestX509SuperUser(t *testing.T) {
	e := startTLS(t, map[string]string{"X509AuthenticationProvider.superUser": "CN=admin,O=zkit tests"}, false)
	alice := e.mustConnect(t, e.client("alice"))
	admin := e.mustConnect(t, e.client("admin"))
	require.Equal(t, proto.ErrOK, tlsCreate(t, alice, "/secret", []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "x509", ID: aliceDN}}}))
	require.Equal(t, proto.ErrOK, tlsGetData(t, admin, "/secret"))
	require.ElementsMatch(t, []proto.ClientInfo{
		{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "super", User: ""}, {AuthScheme: "x509", User: "CN=admin,O=zkit tests"},
	}, tlsWhoAmI(t, admin))
}
