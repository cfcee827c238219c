package main

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"zkit/server/config"
	"zkit/server/member"
	"zkit/server/ssl/ssltest"
)

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var lns []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// A three-member ensemble from zoo.cfg files: sslQuorum with
// ssl.quorum.* stores, and a TLS-only client port (secureClientPort, no
// clientPort) with ssl.* stores, mapped as `zkit serve` maps them.
func TestZooCfgTLSEnsemble(t *testing.T) {
	dir := t.TempDir()
	ca := ssltest.NewCA("zoo.cfg CA")
	memberStore := ca.Issue(ssltest.Localhost("member")).WriteKeyStore(dir, "member")
	trust := ca.WriteTrustStore(dir, "ca")
	ports := freePorts(t, 9)
	var servers strings.Builder
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&servers, "server.%d=127.0.0.1:%d:%d\n", i, ports[3*i-3], ports[3*i-2])
	}
	log := slog.New(slog.DiscardHandler)
	var secure []string
	for i := 1; i <= 3; i++ {
		data := filepath.Join(dir, fmt.Sprintf("data%d", i))
		require.NoError(t, os.MkdirAll(data, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(data, "myid"), []byte(fmt.Sprintf("%d\n", i)), 0o644))
		cfgPath := filepath.Join(dir, fmt.Sprintf("zoo%d.cfg", i))
		require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`tickTime=100
initLimit=10
syncLimit=5
dataDir=%s
secureClientPort=%d
secureClientPortAddress=127.0.0.1
sslQuorum=true
ssl.quorum.keyStore.location=%s
ssl.quorum.trustStore.location=%s
ssl.keyStore.location=%s
ssl.trustStore.location=%s
ssl.clientAuth=want
%s`, data, ports[3*i-1], memberStore, trust, memberStore, trust, servers.String())), 0o644))
		cfg, err := config.Load(cfgPath)
		require.NoError(t, err)
		q, err := quorumOptions(cfg)
		require.NoError(t, err)
		opts := member.Options{TickTime: 100 * time.Millisecond, ServerID: cfg.MyID, Quorum: q, Logger: log}
		require.NoError(t, tlsOptions(cfg, &opts, log))
		require.NotNil(t, opts.Quorum.Secure)
		require.NotNil(t, opts.TLS)
		require.NotNil(t, opts.X509)
		srv := member.New(opts)
		require.NoError(t, srv.Start())
		t.Cleanup(srv.Stop)
		require.Equal(t, srv.SecureAddr(), srv.Addr(), "TLS-only")
		secure = append(secure, srv.SecureAddr().String())
	}

	alice := ca.Issue(ssltest.Options{Subject: pkix.Name{CommonName: "alice"}})
	tlsCfg := &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{alice.TLS()}, ServerName: "localhost"}
	dial := func(network, addr string, timeout time.Duration) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, addr, tlsCfg)
	}
	c, _, err := zk.Connect(secure, 4*time.Second, zk.WithDialer(dial), zk.WithLogInfo(false))
	require.NoError(t, err)
	defer c.Close()
	require.Eventually(t, func() bool {
		_, err := c.Create("/alice", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "x509", ID: "CN=alice"}})
		return err == nil || err == zk.ErrNodeExists
	}, 15*time.Second, 20*time.Millisecond)
	for _, addr := range secure {
		c2, _, err := zk.Connect([]string{addr}, 4*time.Second, zk.WithDialer(dial), zk.WithLogInfo(false))
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			if _, err := c2.Sync("/alice"); err != nil {
				return false
			}
			_, _, err := c2.Get("/alice")
			return err == nil
		}, 15*time.Second, 20*time.Millisecond, addr)
		c2.Close()
	}
}

func TestTLSOptionsErrors(t *testing.T) {
	dir := t.TempDir()
	ca := ssltest.NewCA("CA")
	store := ca.Issue(ssltest.Localhost("s")).WriteKeyStore(dir, "s")
	log := slog.New(slog.DiscardHandler)
	for body, msg := range map[string]string{
		"secureClientPort=2281\n":                                                               "ssl.keyStore.location is not set",
		"secureClientPort=2281\nssl.keyStore.location=/nope.pem\n":                              "no such file",
		"secureClientPort=2281\nssl.keyStore.location=" + store + "\nssl.keyStore.type=BCFKS\n": "BCFKS",
		"secureClientPort=2281\nssl.keyStore.location=" + store + "\nssl.authProvider=mine\n":   "only the built-in x509 provider",
		"secureClientPort=2281\nssl.keyStore.location=" + store + "\nssl.crl=true\n":            "revocation",
	} {
		cfgPath := filepath.Join(dir, "zoo.cfg")
		require.NoError(t, os.WriteFile(cfgPath, []byte("tickTime=100\ndataDir="+dir+"\n"+body), 0o644))
		cfg, err := config.Load(cfgPath)
		require.NoError(t, err)
		var opts member.Options
		require.ErrorContains(t, tlsOptions(cfg, &opts, log), msg, body)
	}
	// No secure port and no x509 provider: nothing to do.
	cfgPath := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(cfgPath, []byte("tickTime=100\nclientPort=2181\ndataDir="+dir+"\nssl.keyStore.location=/nope\n"), 0o644))
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	var opts member.Options
	require.NoError(t, tlsOptions(cfg, &opts, log))
	require.Nil(t, opts.X509)
}
