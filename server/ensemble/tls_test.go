package ensemble

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/quorum"
	"zkit/server/ssl"
	"zkit/server/ssl/ssltest"
)

// countingSecure counts the TLS handshakes between members.
type countingSecure struct {
	quorum.Secure
	accepted, dialed atomic.Int64
}

func (c *countingSecure) Accepted(nc net.Conn) (net.Conn, error) {
	sc, err := c.Secure.Accepted(nc)
	if err == nil {
		c.accepted.Add(1)
	}
	return sc, err
}

func (c *countingSecure) Dialed(nc net.Conn, addr string) (net.Conn, error) {
	sc, err := c.Secure.Dialed(nc, addr)
	if err == nil {
		c.dialed.Add(1)
	}
	return sc, err
}

// An ensemble whose members talk TLS (sslQuorum) and serve TLS clients:
// it elects, replicates, and survives the loss of its leader.
func TestSSLQuorumEnsemble(t *testing.T) {
	dir := t.TempDir()
	ca := ssltest.NewCA("ensemble CA")
	member := ca.Issue(ssltest.Localhost("member"))
	qm, err := ssl.LoadProperties(map[string]string{
		"ssl.quorum.keyStore.location":   member.WriteKeyStore(dir, "member"),
		"ssl.quorum.trustStore.location": ca.WriteTrustStore(dir, "ca"),
	}, ssl.QuorumPrefix)
	require.NoError(t, err)
	q, err := ssl.NewQuorum(qm, false)
	require.NoError(t, err)
	sec := &countingSecure{Secure: q}
	cm, err := ssl.LoadProperties(map[string]string{
		"ssl.keyStore.location":   member.WriteKeyStore(dir, "server"),
		"ssl.trustStore.location": ca.WriteTrustStore(dir, "clients-ca"),
	}, ssl.ClientPrefix)
	require.NoError(t, err)
	clientTLS, err := cm.ServerConfig()
	require.NoError(t, err)

	e := start(t, Config{QuorumTLS: sec, ClientTLS: clientTLS, X509: &auth.X509Provider{Verify: cm.VerifyClient, Log: slog.New(slog.DiscardHandler)}})
	require.Greater(t, sec.accepted.Load(), int64(0))
	require.Greater(t, sec.dialed.Load(), int64(0))

	alice := ca.Issue(ssltest.Options{Subject: pkix.Name{CommonName: "alice"}})
	tlsCfg := &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{alice.TLS()}, ServerName: "localhost"}
	dial := func(network, addr string, timeout time.Duration) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, addr, tlsCfg)
	}
	secure := strings.Split(e.SecureConnectString(), ",")
	require.Len(t, secure, 3)
	c1, _, err := zk.Connect(secure[:1], 4*time.Second, zk.WithDialer(dial), zk.WithLogInfo(false))
	require.NoError(t, err)
	defer c1.Close()
	mustCreate(t, c1, "/over-tls", "x")
	acl := []zk.ACL{{Perms: zk.PermAll, Scheme: "x509", ID: "CN=alice"}}
	require.Eventually(t, func() bool {
		_, err := c1.Create("/alice-only", nil, 0, acl)
		return err == nil || err == zk.ErrNodeExists
	}, 10*time.Second, 10*time.Millisecond)

	// Another member sees the writes; a plain client is refused by the ACL.
	c3, _, err := zk.Connect(secure[2:], 4*time.Second, zk.WithDialer(dial), zk.WithLogInfo(false))
	require.NoError(t, err)
	defer c3.Close()
	_, err = c3.Sync("/over-tls")
	require.NoError(t, err)
	_, _, err = c3.Get("/alice-only")
	require.NoError(t, err)
	plain := client(t, e.Members()[2].ClientAddr())
	_, _, err = plain.Get("/alice-only")
	require.ErrorIs(t, err, zk.ErrNoAuth)

	old := e.Leader()
	old.Kill()
	require.Eventually(t, func() bool { l := e.Leader(); return l != nil && l != old }, 10*time.Second, 2*time.Millisecond)
	require.NoError(t, old.Start())
	require.NoError(t, e.WaitReady(10*time.Second))
	for _, m := range e.Members() {
		require.NotEqual(t, "looking", m.Status().State(), "member %d", m.ID)
	}

	// Strangers are turned away at the member ports; the ensemble goes on.
	stranger := ssltest.NewCA("stranger CA").Issue(ssltest.Localhost("stranger"))
	for _, m := range e.Members() {
		for _, addr := range []string{m.Addrs().Election, m.Addrs().Quorum} {
			nc, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{stranger.TLS()}})
			if err == nil {
				_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, err = io.ReadAll(nc)
				nc.Close()
			}
			require.Error(t, err, "a member certificate from another CA")
			raw, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			_, _ = raw.Write([]byte("ZKEL\x00\x00\x00\x00\x00\x00\x00\x09plain text"))
			_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.ReadAll(raw)
			require.NoError(t, err, "closed, not left hanging")
			raw.Close()
		}
	}
	mustCreate(t, c1, "/after-strangers", "x")
}
