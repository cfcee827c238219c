package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/proto"
)

// Digests printed by ZooKeeper 3.8's own generator:
//
//	java -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-api.jar \
//	  org.apache.zookeeper.server.auth.DigestAuthenticationProvider user:pass ...
func TestDigestMatchesZooKeeper(t *testing.T) {
	cases := []struct{ in, want string }{
		{"user:pass", "user:smGaoVKd/cQkjm7b88GyorAUz20="},
		{"super:secret", "super:lK75jTNcA+U9vtVEw5vB51mj/w4="},
		{"a:b:c", "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0="}, // split(":", 2): the user is "a"
		{"nouser", "nouser:/VOdnd9F357nyOV6c/1qBFn7N6o="},
		{":empty", ":d28FdgWGP7/+uHX3M9UcKTYVL90="},
		{"émile:pässwörd", "émile:Zo/xIxUcHGDVwiMm5md9qxi/xFk="},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Digest(c.in), c.in)
	}
}

// DigestAuthenticationProvider decodes the auth bytes into a Java String
// (new String(authData)) before hashing id.getBytes(UTF_8), so undecodable
// bytes become U+FFFD in both the user part and the hashed text, one U+FFFD
// per malformed sequence under Java's rules, and a character outside the BMP
// is hashed as its 4-byte UTF-8 form. Expected values from the JDK 17 (whose
// default charset here is UTF-8): generateDigest(new String(bytes, UTF_8)).
func TestDigestOfInvalidUTF8(t *testing.T) {
	got := DigestProvider{}.Authenticate([]byte("use\xff:pass"), "")
	require.Equal(t, []proto.Id{{Scheme: "digest", ID: "use\uFFFD:gVlqpmMw7jpTe20H8q1/uvN9/fc="}}, got)
	cases := []struct{ in, want string }{
		{"\xf0\x9f\x98\x80:pw", "\U0001F600:WeYoHBmMIQaCHfJ3nqOAjwLO/uQ="},
		{"u\xe2\x82:p\xe2", "u\uFFFD:XPvHYIDhEttyoBuJYS5s2SXk1ZY="},
		{"\xed\xa0\xbd\xed\xb8\x80:p", "\uFFFD\uFFFD:CHAajMjCV+FUX0fRvRN/qglqzJ0="},
	}
	for _, c := range cases {
		require.Equal(t, []proto.Id{{Scheme: "digest", ID: c.want}}, DigestProvider{}.Authenticate([]byte(c.in), ""), "%q", c.in)
	}
}

func TestDigestProvider(t *testing.T) {
	p := DigestProvider{SuperDigest: "super:lK75jTNcA+U9vtVEw5vB51mj/w4="}
	require.Equal(t, "digest", p.Scheme())
	require.True(t, p.Authenticated())
	require.Equal(t, []proto.Id{{Scheme: "digest", ID: "user:smGaoVKd/cQkjm7b88GyorAUz20="}}, p.Authenticate([]byte("user:pass"), "1.2.3.4"))
	require.Equal(t, []proto.Id{{Scheme: "super", ID: ""}, {Scheme: "digest", ID: "super:lK75jTNcA+U9vtVEw5vB51mj/w4="}}, p.Authenticate([]byte("super:secret"), ""))
	wrong := p.Authenticate([]byte("super:wrong"), "")
	require.Len(t, wrong, 1)
	require.Equal(t, "digest", wrong[0].Scheme)
	require.Equal(t, Digest("super:wrong"), wrong[0].ID)
	// Without a super digest configured nobody becomes super.
	require.Len(t, DigestProvider{}.Authenticate([]byte("super:secret"), ""), 1)
	require.True(t, p.Matches("u:x", "u:x"))
	require.False(t, p.Matches("u:x", "u:y"))
}

// Valid follows Java's String.split(":"): trailing empty strings are
// dropped, leading ones kept, and exactly two parts are needed.
func TestDigestValid(t *testing.T) {
	cases := []struct {
		id    string
		valid bool
	}{
		{"user:hash", true},
		{"user:hash:", true},  // "user", "hash"
		{"user:hash::", true}, // trailing empties dropped
		{":hash", true},       // "", "hash"
		{"user:", false},      // "user"
		{"user", false},
		{"", false},
		{":", false}, // nothing left
		{"::", false},
		{"a:b:c", false}, // three parts
		{"a::b", false},  // "a", "", "b"
		{"user:smGaoVKd/cQkjm7b88GyorAUz20=", true},
	}
	for _, c := range cases {
		require.Equal(t, c.valid, DigestProvider{}.Valid(c.id), "%q", c.id)
	}
}

func TestDigestUserName(t *testing.T) {
	p := DigestProvider{}
	require.Equal(t, "user", p.UserName("user:hash"))
	require.Equal(t, "", p.UserName(":hash"))
	require.Equal(t, "", p.UserName(""))
	require.Equal(t, "a", p.UserName("a:b:c"))
}

func TestIPProviderValid(t *testing.T) {
	cases := []struct {
		id    string
		valid bool
	}{
		{"10.0.0.1", true},
		{"10.0.0.1/8", true},
		{"10.0.0.1/0", true},
		{"10.0.0.1/32", true},
		{"10.0.0.1/33", false},
		{"10.0.0.1/-1", false},
		{"10.0.0.1/", false},
		{"10.0.0.1/x", false},
		{"10.0.0", false},
		{"10.0.0.256", false},
		{"1.2.3.4.5", false},
		{" 10.0.0.1", false},
		{"host.example.com", false},
		{"", false},
		{"::1", true},
		{"fe80::1/64", true},
		{"2001:db8::/32", true},
		{"1:2:3:4:5:6:7:8", true},
		{"::", true},
		{"::1/128", true},
		{"::1/129", false},
		{"1::2::3", false},
		{"12345::1", false},
		{"fe80::1%eth0", false},
	}
	for _, c := range cases {
		require.Equal(t, c.valid, IPProvider{}.Valid(c.id), "%q", c.id)
	}
}

func TestIPProviderMatches(t *testing.T) {
	cases := []struct {
		client, acl string
		match       bool
	}{
		// Expected values for IPv4 checked with ZooKeeper's
		// IPAuthenticationProvider.matches.
		{"10.1.2.3", "10.0.0.0/8", true},
		{"11.1.2.3", "10.0.0.0/8", false},
		{"192.168.1.77", "192.168.1.64/26", true},
		{"192.168.1.128", "192.168.1.64/26", false},
		{"1.2.3.4", "0.0.0.0/0", true},
		{"1.2.3.4", "1.2.3.5/31", true},
		{"1.2.3.4", "1.2.3.4/32", true},
		{"1.2.3.4", "1.2.3.4", true},
		{"1.2.3.4", "1.2.3.5", false},
		{"1.2.3.4", "1.2.3.4/33", false},
		{"1.2.3.4", "junk", false},
		{"junk", "1.2.3.4", false},
		// IPv6, and the two families never match each other.
		{"::1", "::1", true},
		{"0:0:0:0:0:0:0:1", "::1", true},
		{"2001:db8::5", "2001:db8::/32", true},
		{"2001:db9::5", "2001:db8::/32", false},
		{"fe80::1234", "fe80::/10", true},
		{"fe80::1234", "fe80::1233/127", false},
		{"fe80::1234", "fe80::1235/127", true},
		{"127.0.0.1", "::1", false},
		{"::1", "127.0.0.1", false},
		{"10.0.0.1", "::/0", false},
	}
	for _, c := range cases {
		require.Equal(t, c.match, IPProvider{}.Matches(c.client, c.acl), "%s vs %s", c.client, c.acl)
	}
	p := IPProvider{}
	require.Equal(t, "ip", p.Scheme())
	require.False(t, p.Authenticated())
	require.Equal(t, []proto.Id{{Scheme: "ip", ID: "127.0.0.1"}}, p.Authenticate([]byte("ignored"), "127.0.0.1"))
	require.Equal(t, "127.0.0.1", p.UserName("127.0.0.1"))
}

// ZooKeeper parses each IPv4 octet and the prefix length with
// Integer.parseInt, which takes leading zeros, a sign and any Unicode
// decimal digit, so setACL/create with ip:10.0.0.01 is accepted and matches
// 10.0.0.1. Expected values from IPAuthenticationProvider.isValid/matches
// (isValid38: this machine's ZooKeeper 3.8.0 jar; isValid394: the class
// built from release-3.9.4's source, the first with IPv6, ZOOKEEPER-4240).
// zkit follows 3.8 for IPv4 and 3.9.4 for IPv6, which 3.8 rejects outright.
// Both agreed with IPProvider on 110,000 generated ids and pairs.
func TestIPProviderJavaOctets(t *testing.T) {
	for _, id := range []string{"10.0.0.01", "010.0.0.1", "+10.0.0.1", "10.0.0.1/+8", "10.0.0.1/08"} {
		require.True(t, IPProvider{}.Valid(id), "%q", id)
	}
	require.True(t, IPProvider{}.Matches("10.0.0.1", "10.0.0.01"))
	valid := []struct {
		id                    string
		isValid38, isValid394 bool
	}{
		{"10.0.0.01", true, true},
		{"010.0.0.1", true, true},
		{"+10.0.0.1", true, true},
		{"10.0.0.1/+8", true, true},
		{"10.0.0.1/08", true, true},
		{"-0.0.0.0", true, true},
		{"10.0.0.-1", false, false},
		{"10.0.0.+", false, false},
		{"10.0.0.00000000001", true, true},
		{"\u0661\u0660.0.0.1", true, true},
		{"\uFF11\uFF10.0.0.1", true, true},
		{"10.0.0.1/\uFF18", true, true},
		{"10.0.0.1/-0", true, true},
		{"10.0.0.1/8/9", false, false},
		{"10.0.0.1 ", false, false},
		{"10.0.0.2147483648", false, false},
		{"10.0.0.\U0001D7CF", false, false},
		{"::1", false, true},
		{"+1::", false, true},
		{"-1::", false, true},
		{"-fff::/16", false, true},
		{"::ffff:10.0.0.1", false, false},
		{"::1.2", false, false},
		{"1:2:3:4:5:6:7::", false, true},
		{"1:2:3:4:5:6:7:8::", false, false},
		{":::1", false, false},
		{"fe80::%1", false, false},
		{"\uFF21\uFF21::", false, true},
		{"00001::", false, false},
		{"::/\uFF10", false, true},
	}
	for _, c := range valid {
		want := c.isValid38
		if strings.Contains(c.id, ":") {
			want = c.isValid394
		}
		require.Equal(t, want, IPProvider{}.Valid(c.id), "%q", c.id)
	}
	matches := []struct {
		client, acl           string
		matches38, matches394 bool
	}{
		{"10.0.0.1", "10.0.0.01", true, true},
		{"10.0.0.1", "010.0.0.1/+32", true, true},
		{"10.0.0.1", "+10.0.0.0/8", true, true},
		{"10.0.0.1", "\u0661\u0660.0.0.1", true, true},
		{"10.0.0.01", "10.0.0.1", true, true},
		{"0.0.0.0", "-0.0.0.0", true, true},
		{"ffff::", "-1::", false, true},
		{"ff:ff::", "ff:ff::/08", false, true},
		{"f001::", "-fff::", false, true},
		{"aa::", "\uFF21\uFF21::", false, true},
		{"::ffff:10.0.0.1", "10.0.0.1", false, false},
		{"10.0.0.1", "::ffff:10.0.0.1", false, false},
		{"0:0:0:0:0:0:0:1", "::1", false, true},
		{"::1", "0:0:0:0:0:0:0:1/+128", false, true},
	}
	for _, c := range matches {
		want := c.matches38
		if strings.Contains(c.client+c.acl, ":") {
			want = c.matches394
		}
		require.Equal(t, want, IPProvider{}.Matches(c.client, c.acl), "%q vs %q", c.client, c.acl)
	}
}

func testIDs(pairs ...string) []proto.Id {
	var out []proto.Id
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, proto.Id{Scheme: pairs[i], ID: pairs[i+1]})
	}
	return out
}

func testACL(perms int32, scheme, id string) proto.ACL {
	return proto.ACL{Perms: perms, ID: proto.Id{Scheme: scheme, ID: id}}
}

func TestCheck(t *testing.T) {
	r := NewRegistry("")
	userDigest := "user:smGaoVKd/cQkjm7b88GyorAUz20="
	client := testIDs("ip", "10.0.0.7", "digest", userDigest)
	cases := []struct {
		name string
		acl  []proto.ACL
		perm int32
		ids  []proto.Id
		ok   bool
	}{
		{"empty ACL allows all", nil, proto.PermAdmin, nil, true},
		{"world anyone", []proto.ACL{testACL(proto.PermRead, "world", "anyone")}, proto.PermRead, nil, true},
		{"world anyone lacks perm", []proto.ACL{testACL(proto.PermRead, "world", "anyone")}, proto.PermWrite, nil, false},
		{"world other id", []proto.ACL{testACL(proto.PermAll, "world", "someone")}, proto.PermRead, client, false},
		{"digest match", []proto.ACL{testACL(proto.PermWrite, "digest", userDigest)}, proto.PermWrite, client, true},
		{"digest other user", []proto.ACL{testACL(proto.PermWrite, "digest", "other:x")}, proto.PermWrite, client, false},
		{"digest needs digest identity", []proto.ACL{testACL(proto.PermWrite, "digest", userDigest)}, proto.PermWrite, testIDs("ip", userDigest), false},
		{"ip range", []proto.ACL{testACL(proto.PermRead, "ip", "10.0.0.0/24")}, proto.PermRead, client, true},
		{"ip other range", []proto.ACL{testACL(proto.PermRead, "ip", "10.0.1.0/24")}, proto.PermRead, client, false},
		{"unknown scheme", []proto.ACL{testACL(proto.PermAll, "sasl", "u")}, proto.PermRead, testIDs("sasl", "u"), false},
		{"any of the perm bits", []proto.ACL{testACL(proto.PermAdmin, "world", "anyone")}, proto.PermRead | proto.PermAdmin, nil, true},
		{"second entry grants", []proto.ACL{testACL(proto.PermRead, "ip", "1.1.1.1"), testACL(proto.PermAll, "digest", userDigest)}, proto.PermDelete, client, true},
		{"super passes everything", []proto.ACL{testACL(proto.PermRead, "ip", "1.1.1.1")}, proto.PermAdmin, testIDs("super", ""), true},
		{"no identities", []proto.ACL{testACL(proto.PermAll, "digest", userDigest)}, proto.PermRead, nil, false},
	}
	for _, c := range cases {
		err := r.Check(c.acl, c.perm, c.ids)
		if c.ok {
			require.NoError(t, err, c.name)
		} else {
			require.Equal(t, proto.ErrNoAuth, err, c.name)
		}
	}
	r.SkipACL = true
	require.NoError(t, r.Check([]proto.ACL{testACL(proto.PermRead, "ip", "1.1.1.1")}, proto.PermAdmin, nil))
}

func TestSuperDigestAuthenticatesAsSuper(t *testing.T) {
	r := NewRegistry("super:lK75jTNcA+U9vtVEw5vB51mj/w4=")
	got := r.Get("digest").Authenticate([]byte("super:secret"), "")
	require.NoError(t, r.Check([]proto.ACL{testACL(proto.PermRead, "ip", "1.1.1.1")}, proto.PermAdmin, got))
	require.Nil(t, r.Get("sasl"))
	require.NotNil(t, r.Get("ip"))
}

func TestFixup(t *testing.T) {
	r := NewRegistry("")
	userDigest := "user:smGaoVKd/cQkjm7b88GyorAUz20="
	client := testIDs("ip", "10.0.0.7", "digest", userDigest, "digest", "other:abc")
	open := testACL(proto.PermAll, "world", "anyone")
	cases := []struct {
		name string
		in   []proto.ACL
		ids  []proto.Id
		want []proto.ACL // nil: InvalidACL
	}{
		{"open", []proto.ACL{open}, nil, []proto.ACL{open}},
		{"duplicates dropped", []proto.ACL{open, open}, nil, []proto.ACL{open}},
		{"same id other perms kept", []proto.ACL{open, testACL(proto.PermRead, "world", "anyone")}, nil, []proto.ACL{open, testACL(proto.PermRead, "world", "anyone")}},
		{"empty", []proto.ACL{}, nil, nil},
		{"null", nil, nil, nil},
		{"auth expands to authenticated ids, not ip",
			[]proto.ACL{testACL(proto.PermRead|proto.PermWrite, "auth", "")}, client,
			[]proto.ACL{testACL(proto.PermRead|proto.PermWrite, "digest", userDigest), testACL(proto.PermRead|proto.PermWrite, "digest", "other:abc")}},
		{"auth id is ignored", []proto.ACL{testACL(proto.PermAll, "auth", "whatever")}, testIDs("digest", userDigest), []proto.ACL{testACL(proto.PermAll, "digest", userDigest)}},
		{"auth without authenticated ids", []proto.ACL{testACL(proto.PermAll, "auth", "")}, testIDs("ip", "10.0.0.7"), nil},
		{"auth with no ids", []proto.ACL{testACL(proto.PermAll, "auth", "")}, nil, nil},
		{"auth with unknown scheme id", []proto.ACL{testACL(proto.PermAll, "auth", "")}, testIDs("sasl", "u"), nil},
		{"digest valid", []proto.ACL{testACL(proto.PermAll, "digest", "u:h")}, nil, []proto.ACL{testACL(proto.PermAll, "digest", "u:h")}},
		{"digest invalid", []proto.ACL{testACL(proto.PermAll, "digest", "u")}, nil, nil},
		{"ip valid", []proto.ACL{testACL(proto.PermAll, "ip", "10.0.0.0/8")}, nil, []proto.ACL{testACL(proto.PermAll, "ip", "10.0.0.0/8")}},
		{"ip invalid", []proto.ACL{testACL(proto.PermAll, "ip", "10.0.0.0/40")}, nil, nil},
		{"unknown scheme", []proto.ACL{testACL(proto.PermAll, "sasl", "u")}, nil, nil},
		{"world other id", []proto.ACL{testACL(proto.PermAll, "world", "someone")}, nil, nil},
		{"one bad entry spoils all", []proto.ACL{open, testACL(proto.PermAll, "digest", "bad")}, nil, nil},
		{"super is no ACL scheme", []proto.ACL{testACL(proto.PermAll, "super", "")}, nil, nil},
		{"order kept, auth in place",
			[]proto.ACL{testACL(proto.PermRead, "ip", "1.2.3.4"), testACL(proto.PermAll, "auth", ""), open}, testIDs("digest", userDigest),
			[]proto.ACL{testACL(proto.PermRead, "ip", "1.2.3.4"), testACL(proto.PermAll, "digest", userDigest), open}},
	}
	for _, c := range cases {
		got, err := r.Fixup(c.in, c.ids)
		if c.want == nil {
			require.Equal(t, proto.ErrInvalidACL, err, c.name)
			require.Nil(t, got, c.name)
			continue
		}
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, got, c.name)
	}
}

func TestClientInfos(t *testing.T) {
	r := NewRegistry("")
	got := r.ClientInfos(testIDs("ip", "127.0.0.1", "digest", "user:hash", "super", "", "sasl", "x"))
	require.Equal(t, []proto.ClientInfo{
		{AuthScheme: "ip", User: "127.0.0.1"},
		{AuthScheme: "digest", User: "user"},
		{AuthScheme: "super", User: ""},
		{AuthScheme: "sasl", User: ""},
	}, got)
	require.Equal(t, []proto.ClientInfo{}, r.ClientInfos(nil))
}
