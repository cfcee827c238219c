package ssl

import (
	"crypto/x509/pkix"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/ssl/ssltest"
)

func quorumFor(t *testing.T, ca *ssltest.CA, leaf *ssltest.Leaf, props map[string]string, unified bool) *Quorum {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{
		"ssl.quorum.keyStore.location":   leaf.WriteKeyStore(dir, "member"),
		"ssl.quorum.trustStore.location": ca.WriteTrustStore(dir, "ca"),
	}
	for k, v := range props {
		all[k] = v
	}
	m, err := LoadProperties(all, QuorumPrefix)
	require.NoError(t, err)
	q, err := NewQuorum(m, unified)
	require.NoError(t, err)
	return q
}

// link dials from a to b over loopback and exchanges a byte; it returns
// the dialing and accepting sides' errors.
func link(t *testing.T, a, b *Quorum, host string) (dialErr, acceptErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			accepted <- err
			return
		}
		defer nc.Close()
		sc, err := b.Accepted(nc)
		if err == nil {
			_, err = sc.Write([]byte{1})
		}
		accepted <- err
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	nc, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	sc, dialErr := a.Dialed(nc, net.JoinHostPort(host, port))
	if dialErr == nil {
		_ = sc.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, dialErr = io.ReadFull(sc, make([]byte, 1))
	} else {
		nc.Close()
	}
	return dialErr, <-accepted
}

func TestQuorumLinks(t *testing.T) {
	ca := ssltest.NewCA("quorum CA")
	good := quorumFor(t, ca, ca.Issue(ssltest.Localhost("m1")), nil, false)
	good2 := quorumFor(t, ca, ca.Issue(ssltest.Localhost("m2")), nil, false)
	d, a := link(t, good, good2, "127.0.0.1")
	require.NoError(t, d)
	require.NoError(t, a)
	d, a = link(t, good, good2, "localhost")
	require.NoError(t, d)
	require.NoError(t, a)

	// The dialed member's certificate must name the host dialed.
	elsewhere := quorumFor(t, ca, ca.Issue(ssltest.Options{Subject: pkix.Name{CommonName: "zk9"}, DNS: []string{"zk9.example.com"}}), nil, false)
	d, _ = link(t, good, elsewhere, "127.0.0.1")
	require.ErrorContains(t, d, "doesn't match any of the subject alternative names")
	// ... and the dialing member's must name its address (QuorumX509Util
	// verifies client hostnames).
	_, a = link(t, elsewhere, good, "127.0.0.1")
	require.ErrorContains(t, a, "doesn't match")
	// Unless hostname verification is off.
	lax := map[string]string{"ssl.quorum.hostnameVerification": "false"}
	d, a = link(t, quorumFor(t, ca, ca.Issue(ssltest.Options{Subject: pkix.Name{CommonName: "zk9"}}), lax, false),
		quorumFor(t, ca, ca.Issue(ssltest.Options{Subject: pkix.Name{CommonName: "zk8"}}), lax, false), "127.0.0.1")
	require.NoError(t, d)
	require.NoError(t, a)

	// A member of another CA is refused both ways.
	other := ssltest.NewCA("other")
	stranger := quorumFor(t, other, other.Issue(ssltest.Localhost("x")), nil, false)
	_, a = link(t, stranger, good, "127.0.0.1")
	require.Error(t, a)
	d, _ = link(t, good, stranger, "127.0.0.1")
	require.ErrorContains(t, d, "unknown authority")
}

// portUnification: a member accepts plain and TLS connections alike.
func TestQuorumPortUnification(t *testing.T) {
	ca := ssltest.NewCA("quorum CA")
	unified := quorumFor(t, ca, ca.Issue(ssltest.Localhost("m1")), nil, true)
	client := quorumFor(t, ca, ca.Issue(ssltest.Localhost("m2")), nil, false)
	d, a := link(t, client, unified, "127.0.0.1")
	require.NoError(t, d)
	require.NoError(t, a)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		nc, err := ln.Accept()
		require.NoError(t, err)
		defer nc.Close()
		sc, err := unified.Accepted(nc)
		require.NoError(t, err)
		b := make([]byte, 5)
		_, _ = io.ReadFull(sc, b)
		got <- string(b)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	_, _ = nc.Write([]byte("plain"))
	require.Equal(t, "plain", <-got)
}

func TestNewQuorumNeedsKeyStore(t *testing.T) {
	m, err := LoadProperties(map[string]string{"ssl.quorum.trustStore.location": filepath.Join("testdata", "ca.pem")}, QuorumPrefix)
	require.NoError(t, err)
	_, err = NewQuorum(m, false)
	require.ErrorContains(t, err, "sslQuorum=true needs ssl.quorum.keyStore.location")
}
