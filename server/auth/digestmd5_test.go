package auth

import (
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/internal/zkclient"
	"zkit/server/proto"
)

// RFC 2831 section 4's example: the response and rspauth values printed
// there, from the same formulas the server uses.
func TestDigestMD5RFC2831Example(t *testing.T) {
	nonce, cnonce := []byte("OA6MG9tEQGm2hh"), []byte("OA6MHXh6VqTrRk")
	a1 := digestA1("chris", "elwood.innosoft.com", "secret", nonce, cnonce, nil)
	require.Equal(t, "d388dad90d4bbd760a152321f2143af7",
		string(digestKD(a1, nonce, cnonce, "auth", "AUTHENTICATE:imap/elwood.innosoft.com")))
	require.Equal(t, "ea40f60335c427b5527b84dbabcdfffd",
		string(digestKD(a1, nonce, cnonce, "auth", ":imap/elwood.innosoft.com")))
}

func testLogin() *SASLLogin {
	return &SASLLogin{Users: map[string]string{"bob": "bobsecret", "super": "adminsecret", "émile": "pässwörd", "zoë": "密码"}}
}

// exchange runs a DIGEST-MD5 exchange against a server with the test
// client of zkclient (written independently of the server).
func exchange(t *testing.T, s *DigestMD5Server, m *zkclient.DigestMD5) error {
	t.Helper()
	challenge, err := s.Evaluate(nil)
	require.NoError(t, err)
	require.False(t, s.Complete())
	resp, err := m.Response(challenge)
	require.NoError(t, err)
	final, err := s.Evaluate([]byte(resp))
	if err != nil {
		require.False(t, s.Complete())
		return err
	}
	require.True(t, s.Complete())
	require.NoError(t, m.CheckRspauth(final))
	return nil
}

func TestDigestMD5Challenge(t *testing.T) {
	s := testLogin().NewDigestMD5()
	ch, err := s.Evaluate([]byte{})
	require.NoError(t, err)
	// The JDK's shape: realm, a 40-character base64 nonce, charset, algorithm; no qop (auth).
	require.Regexp(t, regexp.MustCompile(`^realm="zk-sasl-md5",nonce="[A-Za-z0-9+/]{40}",charset=utf-8,algorithm=md5-sess$`), string(ch))
	d, err := ParseDigestDirectives(ch)
	require.NoError(t, err)
	require.Equal(t, "zk-sasl-md5", string(d["realm"]))
	// Every exchange has its own nonce.
	ch2, _ := testLogin().NewDigestMD5().Evaluate(nil)
	require.NotEqual(t, string(ch), string(ch2))
}

func TestDigestMD5Good(t *testing.T) {
	for _, c := range []struct{ user, pass string }{
		{"bob", "bobsecret"}, {"super", "adminsecret"}, {"émile", "pässwörd"}, {"zoë", "密码"},
	} {
		s := testLogin().NewDigestMD5()
		require.NoError(t, exchange(t, s, &zkclient.DigestMD5{User: c.user, Password: c.pass, RFCCharset: true}), c.user)
		require.Equal(t, c.user, s.AuthorizationID())
		// Nothing follows the last step.
		_, err := s.Evaluate([]byte("x"))
		require.ErrorIs(t, err, ErrSASL)
	}
}

// A client that hashes non-ASCII names as UTF-8 although they fit in ISO
// 8859-1 (kazoo's pure-sasl) fails, as it does against the JDK.
func TestDigestMD5Latin1(t *testing.T) {
	require.Error(t, exchange(t, testLogin().NewDigestMD5(), &zkclient.DigestMD5{User: "émile", Password: "pässwörd"}))
	require.NoError(t, exchange(t, testLogin().NewDigestMD5(), &zkclient.DigestMD5{User: "bob", Password: "bobsecret", RFCCharset: true}))
}

func TestDigestMD5Failures(t *testing.T) {
	good := func() *zkclient.DigestMD5 { return &zkclient.DigestMD5{User: "bob", Password: "bobsecret"} }
	str := func(s string) *string { return &s }
	cases := []struct {
		name string
		m    *zkclient.DigestMD5
		want string
	}{
		{"wrong password", &zkclient.DigestMD5{User: "bob", Password: "nope"}, "wrong password"},
		{"unknown user", &zkclient.DigestMD5{User: "eve", Password: "bobsecret"}, "unknown user"},
		{"empty user", &zkclient.DigestMD5{User: "", Password: ""}, "unknown user"},
		{"other realm", &zkclient.DigestMD5{User: "bob", Password: "bobsecret", Realm: str("example.com")}, "realm"},
		{"auth-int", &zkclient.DigestMD5{User: "bob", Password: "bobsecret", Qop: "auth-int"}, "qop auth-int is not supported"},
		{"auth-conf", &zkclient.DigestMD5{User: "bob", Password: "bobsecret", Qop: "auth-conf"}, "qop auth-conf is not supported"},
		{"bad qop", &zkclient.DigestMD5{User: "bob", Password: "bobsecret", Qop: "x"}, "invalid qop"},
		{"digest-uri", &zkclient.DigestMD5{User: "bob", Password: "bobsecret", DigestURI: "zookeeper/localhost"}, "digest-uri"},
		{"mangled response", mutate(good(), func(s string) string { return strings.Replace(s, "response=", "response=0", 1) }), "wrong password"},
		{"no username", mutate(good(), func(s string) string { return strings.Replace(s, `username="bob",`, "", 1) }), "no username"},
		{"no nonce", mutate(good(), func(s string) string { return regexp.MustCompile(`nonce="[^"]*",`).ReplaceAllString(s, "") }), "no nonce"},
		{"other nonce", mutate(good(), func(s string) string { return regexp.MustCompile(`,nonce="[^"]*"`).ReplaceAllString(s, `,nonce="abc"`) }), "nonce does not match"},
		{"no cnonce", mutate(good(), func(s string) string { return regexp.MustCompile(`cnonce="[^"]*",`).ReplaceAllString(s, "") }), "no cnonce"},
		{"nc 2", mutate(good(), func(s string) string { return strings.Replace(s, "nc=00000001", "nc=00000002", 1) }), "nonce count"},
		{"no response", mutate(good(), func(s string) string { return regexp.MustCompile(`,response=[0-9a-f]*`).ReplaceAllString(s, "") }), "no response"},
		{"charset", mutate(good(), func(s string) string { return s + ",charset=iso-8859-1" }), "charset"},
		{"duplicate", mutate(good(), func(s string) string { return s + `,username="bob"` }), "more than once"},
		{"garbage", mutate(good(), func(string) string { return "\x00\xff garbage" }), "malformed"},
		{"unterminated", mutate(good(), func(s string) string { return s + `,authzid="x` }), "malformed"},
		{"empty", mutate(good(), func(string) string { return "" }), "no username"},
	}
	for _, c := range cases {
		s := testLogin().NewDigestMD5()
		err := exchange(t, s, c.m)
		require.ErrorIs(t, err, ErrSASL, c.name)
		require.Contains(t, err.Error(), c.want, c.name)
		// The exchange is over.
		_, err = s.Evaluate(nil)
		require.ErrorIs(t, err, ErrSASL, c.name)
	}
}

func mutate(m *zkclient.DigestMD5, f func(string) string) *zkclient.DigestMD5 {
	m.Mutate = f
	return m
}

func TestDigestMD5Tolerated(t *testing.T) {
	// The digest-uri compares case-insensitively; nc may be left out; an
	// initial response is ignored (the JDK answers it with the challenge).
	s := testLogin().NewDigestMD5()
	require.NoError(t, exchange(t, s, &zkclient.DigestMD5{User: "bob", Password: "bobsecret", DigestURI: "ZooKeeper/ZK-SASL-MD5"}))
	s = testLogin().NewDigestMD5()
	require.NoError(t, exchange(t, s, mutate(&zkclient.DigestMD5{User: "bob", Password: "bobsecret"},
		func(s string) string { return strings.Replace(s, "nc=00000001,", "", 1) })))
	s = testLogin().NewDigestMD5()
	ch, err := s.Evaluate([]byte("a GSSAPI token"))
	require.NoError(t, err)
	require.Contains(t, string(ch), "nonce=")
	// Too long a token fails at any step.
	_, err = testLogin().NewDigestMD5().Evaluate(make([]byte, 4097))
	require.ErrorIs(t, err, ErrSASL)
}

// The authorization id is the authenticated user, whatever authzid the
// client asks for (SaslServerCallbackHandler sets the authorized id from
// the authentication id); the authzid still enters A1.
func TestDigestMD5Authzid(t *testing.T) {
	s := testLogin().NewDigestMD5()
	require.NoError(t, exchange(t, s, &zkclient.DigestMD5{User: "bob", Password: "bobsecret", Authzid: "super"}))
	require.Equal(t, "bob", s.AuthorizationID())
}

func TestDigestMD5SuperPassword(t *testing.T) {
	l := testLogin()
	pw := "override"
	l.SuperPassword = &pw
	require.Error(t, exchange(t, l.NewDigestMD5(), &zkclient.DigestMD5{User: "super", Password: "adminsecret"}))
	require.NoError(t, exchange(t, l.NewDigestMD5(), &zkclient.DigestMD5{User: "super", Password: "override"}))
	// Only for a user "super" listed in the section.
	delete(l.Users, "super")
	require.Error(t, exchange(t, l.NewDigestMD5(), &zkclient.DigestMD5{User: "super", Password: "override"}))
}

func TestAuthorizedIDKerberosNames(t *testing.T) {
	l := &SASLLogin{}
	require.Equal(t, "bob", l.authorizedID("bob", "bob"))
	require.Equal(t, "bob/host", l.authorizedID("bob/host", "bob/host"))
	// A realm other than the (empty) default realm: no rule applies, the
	// requested id stays.
	require.Equal(t, "bob@EXAMPLE.COM", l.authorizedID("bob@EXAMPLE.COM", "bob@EXAMPLE.COM"))
	require.Equal(t, "x", l.authorizedID("bob@EXAMPLE.COM", "x"))
	require.Equal(t, "bob/h@", l.authorizedID("bob/h@", "bob/h@"))
	l.RemoveHost, l.RemoveRealm = true, true
	require.Equal(t, "bob", l.authorizedID("bob/h@", "bob/h@"))
}

func TestParseDigestDirectives(t *testing.T) {
	d, err := ParseDigestDirectives([]byte(` Realm = "a\"b" ,, nonce="x,y",qop=auth , unknown=1, "` + "\t"))
	require.Error(t, err) // a trailing quote with no key
	d, err = ParseDigestDirectives([]byte(` Realm = "a\"b" ,, nonce="x,y",qop=auth , unknown=1 `))
	require.NoError(t, err)
	require.Equal(t, map[string][]byte{"realm": []byte(`a"b`), "nonce": []byte("x,y"), "qop": []byte("auth")}, d)
	for _, bad := range []string{`=x`, `a`, `a b=c`, `a="x" b`, `a=x y`, `nonce="`, `nonce=1,nonce=2`} {
		_, err := ParseDigestDirectives([]byte(bad))
		require.Error(t, err, bad)
	}
}

func TestSASLProvider(t *testing.T) {
	p := SASLProvider{}
	require.Equal(t, "sasl", p.Scheme())
	require.True(t, p.Authenticated())
	require.Nil(t, p.Authenticate([]byte("bob"), "1.2.3.4")) // addauth sasl: AUTHFAILED
	require.True(t, p.Matches("bob", "bob"))
	require.False(t, p.Matches("bob", "alice"))
	require.True(t, p.Matches("super", "alice"))
	require.Equal(t, "bob", p.UserName("bob"))
	any := SASLProvider{LetAnySASLUserDoX: "anyone-sasl"}
	require.True(t, any.Matches("bob", "anyone-sasl"))
	require.False(t, any.Matches("bob", "alice"))
	for id, ok := range map[string]bool{
		"bob": true, "bob/host": true, "bob@R": true, "bob/h@R": true, "bob@": true, "": true,
		"a@b@c": false, "a/b/c@R": false, "@": true, "a@b/c": false,
	} {
		require.Equal(t, ok, p.Valid(id), id)
	}
}

func TestRegistrySASL(t *testing.T) {
	r := NewRegistry("")
	require.Nil(t, r.Get("sasl"))
	require.Nil(t, r.SASL().Login)
	require.NoError(t, r.ConfigureSASL(SASLConfig{Scheme: true, SuperUsers: []string{"admin"}}))
	require.NotNil(t, r.Get("sasl"))
	bob := []proto.Id{{Scheme: "ip", ID: "127.0.0.1"}, {Scheme: "sasl", ID: "bob"}}
	saslBob := []proto.ACL{oneACL(proto.PermAll, "sasl", "bob")}
	require.NoError(t, r.Check(saslBob, proto.PermRead, bob))
	require.Equal(t, proto.ErrNoAuth, r.Check(saslBob, proto.PermRead, idList("ip", "127.0.0.1")))
	require.Equal(t, proto.ErrNoAuth, r.Check(saslBob, proto.PermRead, idList("sasl", "alice")))
	require.Equal(t, proto.ErrNoAuth, r.Check(saslBob, proto.PermRead, idList("digest", "bob")))
	require.NoError(t, r.Check(saslBob, proto.PermRead, idList("sasl", "super")))
	// The auth scheme expands to the SASL identity.
	got, err := r.Fixup([]proto.ACL{oneACL(proto.PermAll, "auth", "")}, bob)
	require.NoError(t, err)
	require.Equal(t, saslBob, got)
	_, err = r.Fixup([]proto.ACL{oneACL(proto.PermAll, "sasl", "a@b@c")}, bob)
	require.Equal(t, proto.ErrInvalidACL, err)
	// Super users.
	require.Equal(t, []proto.Id{{Scheme: "sasl", ID: "admin"}, {Scheme: "super", ID: ""}}, r.SASL().SASLIdentities("admin"))
	require.Equal(t, []proto.Id{{Scheme: "sasl", ID: "bob"}}, r.SASL().SASLIdentities("bob"))
	require.Equal(t, []proto.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "sasl", User: "bob"}}, r.ClientInfos(bob))
}

func TestEnforcement(t *testing.T) {
	r := NewRegistry("")
	err := r.ConfigureSASL(SASLConfig{Enforce: Enforcement{Enabled: true, Schemes: []string{"sasl"}}})
	require.ErrorContains(t, err, `"sasl" is enforced but not available`)
	require.ErrorContains(t, err, SASLAuthenticationProviderClass)
	require.ErrorContains(t, NewRegistry("").ConfigureSASL(SASLConfig{Enforce: Enforcement{Enabled: true}}), "names no scheme")
	r = NewRegistry("")
	require.NoError(t, r.ConfigureSASL(SASLConfig{Scheme: true, Enforce: Enforcement{Enabled: true, Schemes: []string{"sasl"}}}))
	c := r.SASL()
	require.True(t, c.Enforce.SASLRequired())
	require.False(t, c.Enforced(idList("ip", "1.2.3.4", "digest", "u:x")))
	require.True(t, c.Enforced(idList("ip", "1.2.3.4", "sasl", "bob")))
	r = NewRegistry("")
	require.NoError(t, r.ConfigureSASL(SASLConfig{Enforce: Enforcement{Enabled: true, Schemes: []string{"digest", "ip"}}}))
	require.False(t, r.SASL().Enforce.SASLRequired())
	require.True(t, r.SASL().Enforced(idList("ip", "1.2.3.4")))
	require.True(t, NewRegistry("").SASL().Enforced(nil))
}

func TestHexIsLowercase(t *testing.T) {
	// The JDK compares the response bytes exactly: lower-case hex.
	nonce := []byte("n")
	v := digestKD(digestA1("u", "r", "p", nonce, nonce, nil), nonce, nonce, "auth", "x")
	_, err := hex.DecodeString(string(v))
	require.NoError(t, err)
	require.Equal(t, strings.ToLower(string(v)), string(v))
}

func idList(pairs ...string) []proto.Id {
	var out []proto.Id
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, proto.Id{Scheme: pairs[i], ID: pairs[i+1]})
	}
	return out
}

func oneACL(perms int32, scheme, id string) proto.ACL {
	return proto.ACL{Perms: perms, ID: proto.Id{Scheme: scheme, ID: id}}
}
