package member

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/internal/oracle"
	"zkit/server/internal/zkclient"
	"zkit/server/proto"
	"zkit/server/ssl"
	"zkit/server/ssl/ssltest"
)

// nettyJars complete the netty jars zookeeper.jar's manifest names, for
// Apache's Netty connection factory and its TLS handler.
var nettyJars = []string{"netty-codec.jar", "netty-resolver.jar", "netty-transport-native-unix-common.jar"}

// TestTLSMatchesApache runs one scenario against Apache ZooKeeper 3.8's
// secure client port (NettyServerCnxnFactory) and zkit's, with the same
// stores — the server's key store is keytool's PKCS#12 (testdata), the
// trust store a PEM CA — and compares what clients see: who they are
// (whoAmI, with an awkward certificate subject), x509 ACLs, addauth x509,
// and which clients are turned away.
func TestTLSMatchesApache(t *testing.T) {
	dir := t.TempDir()
	ca := ssltest.NewCA("clients CA")
	props := map[string]string{
		"ssl.keyStore.location":   abs(t, "../ssl/testdata/server.p12"),
		"ssl.keyStore.password":   "changeit",
		"ssl.trustStore.location": ca.WriteTrustStore(dir, "clients-ca"),
	}
	serverRoots := x509.NewCertPool()
	caPEM, err := os.ReadFile("../ssl/testdata/ca.pem")
	require.NoError(t, err)
	require.True(t, serverRoots.AppendCertsFromPEM(caPEM))

	// Apache: a secure port beside its plain one, on all interfaces so the
	// oracle still finds a single 127.0.0.1 listener (the plain port).
	port := freePort(t)
	cfg := map[string]string{
		"serverCnxnFactory":       "org.apache.zookeeper.server.NettyServerCnxnFactory",
		"secureClientPort":        strconv.Itoa(port),
		"secureClientPortAddress": "0.0.0.0",
	}
	for k, v := range props {
		cfg[k] = v
	}
	ap := oracle.Start(t, oracle.Options{Config: cfg, ExtraJars: nettyJars})
	apacheAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	m, err := ssl.LoadProperties(props, ssl.ClientPrefix)
	require.NoError(t, err)
	tlsCfg, err := m.ServerConfig()
	require.NoError(t, err)
	zs := New(Options{
		SecureClientAddr: "127.0.0.1:0", TLS: tlsCfg, TickTime: 100 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
		X509:   &auth.X509Provider{Verify: m.VerifyClient, Log: slog.New(slog.DiscardHandler)},
	})
	require.NoError(t, zs.Start())
	t.Cleanup(zs.Stop)

	// alice's subject: C=US / O="Example, Inc." / OU=dev+CN=al ice #1 /
	// emailAddress — escaping, a multi-valued RDN and a non-RFC 2253 attribute.
	str := func(tag int, s string) asn1.RawValue { return asn1.RawValue{Tag: tag, Bytes: []byte(s)} }
	type atv struct {
		Type  asn1.ObjectIdentifier
		Value asn1.RawValue
	}
	type rdnSET []atv
	raw, err := asn1.Marshal([]rdnSET{
		{{asn1.ObjectIdentifier{2, 5, 4, 6}, str(19, "US")}},
		{{asn1.ObjectIdentifier{2, 5, 4, 10}, str(12, "Example, Inc.")}},
		{{asn1.ObjectIdentifier{2, 5, 4, 11}, str(12, "dev")}, {asn1.ObjectIdentifier{2, 5, 4, 3}, str(12, "al ice #1")}},
		{{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, str(22, "alice@example.com")}},
	})
	require.NoError(t, err)
	clients := map[string]*ssltest.Leaf{
		"alice":   ca.Issue(ssltest.Options{RawSubject: raw}),
		"bob":     ca.Issue(ssltest.Options{Subject: pkix.Name{CommonName: "bob"}}),
		"mallory": ssltest.NewCA("another CA").Issue(ssltest.Options{Subject: pkix.Name{CommonName: "mallory"}}),
		"expired": ca.Issue(ssltest.Options{Subject: pkix.Name{CommonName: "old"},
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}),
		"none": nil,
	}
	run := func(addr string) []string {
		var out []string
		note := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
		conn := func(who string) *zkclient.Client {
			c, err := zkclient.Connect(addr, zkclient.Options{Dial: dialer(clients[who], serverRoots)})
			if err != nil {
				note("%s: refused", who)
				return nil
			}
			t.Cleanup(func() { c.Drop() })
			note("%s: connected", who)
			return c
		}
		for _, who := range []string{"none", "mallory", "expired"} {
			conn(who)
		}
		alice, bob := conn("alice"), conn("bob")
		if alice == nil || bob == nil {
			return out
		}
		ids := tlsWhoAmI(t, alice)
		sort.Slice(ids, func(i, j int) bool { return ids[i].AuthScheme < ids[j].AuthScheme })
		note("alice whoAmI: %q", ids)
		dn := ""
		for _, id := range ids {
			if id.AuthScheme == "x509" {
				dn = id.User
			}
		}
		acl := []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "x509", ID: dn}}}
		note("alice creates /x509: %v", tlsCreate(t, alice, "/x509", acl))
		note("alice reads: %v", tlsGetData(t, alice, "/x509"))
		note("bob reads: %v", tlsGetData(t, bob, "/x509"))
		code, err := bob.Auth("x509", []byte("anything"))
		require.NoError(t, err)
		note("bob addauth x509: %v", code)
		note("bob reads: %v", tlsGetData(t, bob, "/x509"))
		note("alice creates with a bad DN: %v", tlsCreate(t, alice, "/bad", []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "x509", ID: "FOO=bar"}}}))
		note("alice creates with auth: %v", tlsCreate(t, alice, "/auth", proto.CreatorAllACL))
		var got proto.GetACLResponse
		h, err := alice.Call(proto.OpGetACL, &proto.PathRecord{Path: "/auth"}, &got)
		require.NoError(t, err)
		note("getACL /auth: %v %v", h.Err, got.ACL)
		return out
	}
	apache := run(apacheAddr)
	zkit := run(zs.SecureAddr().String())
	t.Logf("Apache:\n%s", join(apache))
	require.Equal(t, apache, zkit, "Apache log tail:\n%s", ap.LogTail(40))
	// The most specific RDN first; a multi-valued RDN in its DER (SET) order.
	require.Contains(t, join(zkit), `"x509" "1.2.840.113549.1.9.1=#1611616c696365406578616d706c652e636f6d,OU=dev+CN=al ice \\#1,O=Example\\, Inc.,C=US"`)
}

func join(lines []string) string {
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
