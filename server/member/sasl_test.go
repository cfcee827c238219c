package member

import (
	"encoding/binary"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/internal/zkclient"
	"zkit/server/jute"
	"zkit/server/proto"
)

func saslServer(t *testing.T, mod func(*auth.SASLConfig)) *Server {
	t.Helper()
	cfg := &auth.SASLConfig{
		Login:      &auth.SASLLogin{Users: map[string]string{"bob": "bobsecret", "alice": "alicesecret", "admin": "adminsecret"}},
		Scheme:     true,
		SuperUsers: []string{"admin"},
	}
	if mod != nil {
		mod(cfg)
	}
	return startServer(t, Options{SASL: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func rawClient(t *testing.T, s *Server) *zkclient.Client {
	t.Helper()
	c, err := zkclient.Connect(s.Addr().String(), zkclient.Options{Timeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(c.Drop)
	return c
}

func saslLogin(t *testing.T, s *Server, user, pass string) *zkclient.Client {
	t.Helper()
	c := rawClient(t, s)
	code, err := c.LoginDigestMD5(&zkclient.DigestMD5{User: user, Password: pass})
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, code)
	return c
}

func whoAmI(t *testing.T, c *zkclient.Client) []proto.ClientInfo {
	t.Helper()
	var who proto.WhoAmIResponse
	h, err := c.Call(proto.OpWhoAmI, nil, &who)
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, h.Err)
	return who.ClientInfo
}

func create(t *testing.T, c *zkclient.Client, path string, acl []proto.ACL) proto.Err {
	t.Helper()
	h, err := c.Call(proto.OpCreate, &proto.CreateRequest{Path: path, Data: []byte("x"), ACL: acl}, nil)
	require.NoError(t, err)
	return h.Err
}

func getData(t *testing.T, c *zkclient.Client, path string) proto.Err {
	t.Helper()
	h, err := c.Call(proto.OpGetData, &proto.PathWatchRequest{Path: path}, nil)
	require.NoError(t, err)
	return h.Err
}

func requireClosed(t *testing.T, c *zkclient.Client) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("the connection stayed open")
	}
}

func TestSASLDigestLoginAndACL(t *testing.T) {
	s := saslServer(t, nil)
	bob := saslLogin(t, s, "bob", "bobsecret")
	require.Equal(t, []proto.ClientInfo{{AuthScheme: "sasl", User: "bob"}, {AuthScheme: "ip", User: "127.0.0.1"}}, whoAmI(t, bob))

	saslBob := []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "sasl", ID: "bob"}}}
	require.Equal(t, proto.ErrOK, create(t, bob, "/s", saslBob))
	require.Equal(t, proto.ErrOK, getData(t, bob, "/s"))
	// The "auth" scheme expands to the SASL identity.
	require.Equal(t, proto.ErrOK, create(t, bob, "/a", []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "auth"}}}))
	var acl proto.GetACLResponse
	_, err := bob.Call(proto.OpGetACL, &proto.PathRecord{Path: "/a"}, &acl)
	require.NoError(t, err)
	require.Equal(t, saslBob, acl.ACL)
	require.Equal(t, proto.ErrInvalidACL, create(t, bob, "/bad", []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "sasl", ID: "a@b@c"}}}))

	plain := rawClient(t, s)
	require.Equal(t, proto.ErrNoAuth, getData(t, plain, "/s"))
	alice := saslLogin(t, s, "alice", "alicesecret")
	require.Equal(t, proto.ErrNoAuth, getData(t, alice, "/s"))
	// A SASL super user passes every ACL.
	admin := saslLogin(t, s, "admin", "adminsecret")
	require.Equal(t, []proto.ClientInfo{{AuthScheme: "sasl", User: "admin"}, {AuthScheme: "super", User: ""}, {AuthScheme: "ip", User: "127.0.0.1"}}, whoAmI(t, admin))
	require.Equal(t, proto.ErrOK, getData(t, admin, "/s"))
	// addauth with scheme sasl fails and closes the connection.
	code, err := plain.Auth("sasl", []byte("bob"))
	require.NoError(t, err)
	require.Equal(t, proto.ErrAuthFailed, code)
	requireClosed(t, plain)
}

func TestSASLFailuresCloseOnlyThatConnection(t *testing.T) {
	s := saslServer(t, nil)
	bystander := saslLogin(t, s, "bob", "bobsecret")
	fail := func(name string, m *zkclient.DigestMD5) {
		c := rawClient(t, s)
		code, err := c.LoginDigestMD5(m)
		require.NoError(t, err, name)
		require.Equal(t, proto.ErrAuthFailed, code, name)
		requireClosed(t, c)
		require.Len(t, whoAmI(t, bystander), 2, name)
	}
	fail("wrong password", &zkclient.DigestMD5{User: "bob", Password: "wrong"})
	fail("unknown user", &zkclient.DigestMD5{User: "eve", Password: "bobsecret"})
	fail("auth-int", &zkclient.DigestMD5{User: "bob", Password: "bobsecret", Qop: "auth-int"})
	fail("garbage", &zkclient.DigestMD5{Mutate: func(string) string { return "\x00garbage" }})

	// The failure reply carries a null token, as Apache's does.
	c := rawClient(t, s)
	_, ch := c.Send(proto.OpSASL, &proto.TokenRecord{Token: []byte{}})
	<-ch
	_, ch = c.Send(proto.OpSASL, &proto.TokenRecord{Token: []byte(`username="x"`)})
	r := <-ch
	require.Equal(t, proto.ErrAuthFailed, r.Header.Err)
	require.Equal(t, []byte{0xff, 0xff, 0xff, 0xff}, r.Body)
	requireClosed(t, c)

	// A token after the completed exchange fails.
	c = saslLogin(t, s, "alice", "alicesecret")
	h, _, err := c.SASL([]byte("more"))
	require.NoError(t, err)
	require.Equal(t, proto.ErrAuthFailed, h.Err)
	requireClosed(t, c)

	// A SASL request whose body cannot be read closes the connection.
	c = rawClient(t, s)
	e := jute.NewEncoder(nil)
	(&proto.RequestHeader{Xid: 1, Type: proto.OpSASL}).Encode(e)
	e.Int(1000) // a token length with no token
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(e.Bytes())))
	require.NoError(t, c.SendRaw(append(frame, e.Bytes()...)))
	requireClosed(t, c)

	// The server is unharmed.
	require.Equal(t, proto.ErrOK, create(t, bystander, "/still-here", proto.OpenACLUnsafe))
	saslLogin(t, s, "bob", "bobsecret")
}

// Without a JAAS login, a SASL token gets OK with no token and the
// connection stays (Apache's behaviour when it has no SASL server).
func TestSASLUnconfigured(t *testing.T) {
	s := startServer(t, Options{})
	c := rawClient(t, s)
	for i := 0; i < 2; i++ {
		h, tok, err := c.SASL([]byte("anything"))
		require.NoError(t, err)
		require.Equal(t, proto.ErrOK, h.Err)
		require.Nil(t, tok)
	}
	require.Len(t, whoAmI(t, c), 1)
	// Without authProvider = SASLAuthenticationProvider the sasl scheme is
	// unknown: its ACLs are invalid.
	require.Equal(t, proto.ErrInvalidACL, create(t, c, "/s", []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "sasl", ID: "bob"}}}))
}

func TestSASLEnforced(t *testing.T) {
	s := saslServer(t, func(c *auth.SASLConfig) {
		c.Enforce = auth.Enforcement{Enabled: true, Schemes: []string{"sasl"}}
	})
	plain := rawClient(t, s)
	h, err := plain.Call(proto.OpExists, &proto.PathWatchRequest{Path: "/"}, nil)
	require.NoError(t, err)
	require.Equal(t, proto.ErrSessionClosedRequireSASL, h.Err)
	requireClosed(t, plain)

	bob := saslLogin(t, s, "bob", "bobsecret")
	require.Equal(t, proto.ErrOK, create(t, bob, "/ok", proto.OpenACLUnsafe))

	// A failed login is answered SESSIONCLOSEDREQUIRESASLAUTH.
	c := rawClient(t, s)
	code, err := c.LoginDigestMD5(&zkclient.DigestMD5{User: "bob", Password: "nope"})
	require.NoError(t, err)
	require.Equal(t, proto.ErrSessionClosedRequireSASL, code)
	requireClosed(t, c)
}

func TestSASLAllowFailedClients(t *testing.T) {
	s := saslServer(t, func(c *auth.SASLConfig) { c.AllowFailedClients = true })
	c := rawClient(t, s)
	_, _, err := c.SASL(nil)
	require.NoError(t, err)
	h, tok, err := c.SASL([]byte(`username="bob"`))
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, h.Err)
	require.Nil(t, tok)
	require.Equal(t, []proto.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}}, whoAmI(t, c))
}

func TestSASLEnforcementNeedsProvider(t *testing.T) {
	s := New(Options{ClientAddr: "127.0.0.1:0", SASL: &auth.SASLConfig{
		Enforce: auth.Enforcement{Enabled: true, Schemes: []string{"sasl"}},
	}})
	require.ErrorContains(t, s.Start(), `authentication scheme "sasl" is enforced but not available`)
}
