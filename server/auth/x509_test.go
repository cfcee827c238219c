package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/proto"
)

func strValue(tag int, s string) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: []byte(s)}
}

// The expected names were printed by Java 17's
// X509Certificate.getSubjectX500Principal().getName() for certificates
// with these subjects.
func TestX500NameMatchesJava(t *testing.T) {
	var (
		cn     = asn1.ObjectIdentifier{2, 5, 4, 3}
		o      = asn1.ObjectIdentifier{2, 5, 4, 10}
		ou     = asn1.ObjectIdentifier{2, 5, 4, 11}
		c      = asn1.ObjectIdentifier{2, 5, 4, 6}
		st     = asn1.ObjectIdentifier{2, 5, 4, 8}
		serial = asn1.ObjectIdentifier{2, 5, 4, 5}
		email  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
		dc     = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
		uid    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	)
	type av = attributeTypeAndValue
	cases := []struct {
		rdns []rdnSET
		want string
	}{
		{[]rdnSET{{av{c, strValue(19, "US")}}, {av{o, strValue(12, "Example, Inc.")}}, {av{ou, strValue(12, "dev")}}, {av{cn, strValue(12, "client")}}},
			`CN=client,OU=dev,O=Example\, Inc.,C=US`},
		{[]rdnSET{{av{cn, strValue(12, " lead and trail ")}}}, `CN=\ lead and trail\ `},
		{[]rdnSET{{av{cn, strValue(12, `#hash=eq+plus<lt>gt;semi"q\bs`)}}}, `CN=\#hash\=eq\+plus\<lt\>gt\;semi\"q\\bs`},
		{[]rdnSET{{av{cn, strValue(19, "a b")}, av{ou, strValue(19, "multi")}}}, `CN=a b+OU=multi`},
		{[]rdnSET{{av{email, strValue(22, "me@example.com")}}, {av{cn, strValue(12, "with email")}}},
			`CN=with email,1.2.840.113549.1.9.1=#160e6d65406578616d706c652e636f6d`},
		{[]rdnSET{{av{dc, strValue(22, "com")}}, {av{dc, strValue(22, "example")}}, {av{uid, strValue(12, "jdoe")}}}, `UID=jdoe,DC=example,DC=com`},
		{[]rdnSET{{av{serial, strValue(19, "1234")}}, {av{st, strValue(12, "Bavaria")}}}, `ST=Bavaria,2.5.4.5=#130431323334`},
		{[]rdnSET{{av{cn, strValue(20, "c\xe9a")}}}, "CN=c\uFFFDa"},                   // T61String, read as UTF-8
		{[]rdnSET{{av{cn, strValue(30, "\x00h\x00\xe9N-")}}}, "CN=\\00h\\00\uFFFDN-"}, // BMPString, likewise
		{[]rdnSET{{av{cn, strValue(12, "héllo wörld ✓")}}}, "CN=héllo wörld ✓"},
		{[]rdnSET{{av{cn, strValue(12, "nul\x00x")}}}, `CN=nul\00x`},
		{[]rdnSET{{av{cn, strValue(12, "under_score@at*star!")}}}, `CN=under_score@at*star!`},
		{[]rdnSET{{av{cn, strValue(12, "cr\r")}}}, "CN=cr\\\r"},
		{[]rdnSET{{av{cn, strValue(28, "\x00\x00\x00u")}}}, `CN=#1c0400000075`}, // UniversalString
		{[]rdnSET{{av{cn, asn1.RawValue{Tag: 2, Bytes: []byte{5}}}}}, `CN=#020105`},
		{[]rdnSET{{av{cn, strValue(12, " ")}}}, `CN=\ `},
		{[]rdnSET{{av{cn, strValue(26, "visible")}}}, `CN=#1a0776697369626c65`},
		{[]rdnSET{{av{cn, strValue(27, "general")}}}, `CN=general`},
		{[]rdnSET{{av{cn, strValue(18, "123")}}}, `CN=#1203313233`},
		{[]rdnSET{{av{cn, strValue(25, "graphic")}}}, `CN=#190767726170686963`},
		{[]rdnSET{{av{cn, strValue(12, "\xe4\xb8")}}}, "CN=\uFFFD"},
		{[]rdnSET{{av{cn, strValue(19, "")}}}, `CN=`},
	}
	for _, tc := range cases {
		der, err := asn1.Marshal(tc.rdns)
		require.NoError(t, err)
		got, err := X500Name(der)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
	_, err := X500Name([]byte{0x30, 0x03, 0x01})
	require.Error(t, err)
}

// The expectations are new X500Principal(s) in Java 17 (true: accepted).
func TestValidX500NameMatchesJava(t *testing.T) {
	cases := map[string]bool{
		`CN=client,OU=dev,O=Example\, Inc.,C=US`: true,
		`cn=lower`:                               true,
		`CN=a=b`:                                 true,
		`CN=a<b`:                                 false,
		`CN=a>b`:                                 false,
		`CN=a#b`:                                 true,
		`CN=#hash`:                               false,
		`CN=#0c0161`:                             true,
		`CN=#0c01`:                               false,
		`CN="quoted, value"`:                     true,
		`CN="unterminated`:                       false,
		`CN=x;OU=y`:                              true,
		`CN=x+OU=y`:                              true,
		`CN=x,`:                                  false,
		`,CN=x`:                                  false,
		`CN=`:                                    true,
		`CN`:                                     false,
		`FOO=bar`:                                false,
		`OID.2.5.4.3=x`:                          true,
		`2.5.4.3=x`:                              true,
		`2.5=x`:                                  true,
		`1=x`:                                    false,
		`CN=a\zz`:                                false,
		`CN=a\41`:                                true,
		`CN=a\,b`:                                true,
		` CN = spaced , OU = y `:                 true,
		`EMAILADDRESS=a@b`:                       true,
		`SERIALNUMBER=1`:                         true,
		`T=title`:                                true,
		`IP=1.2.3.4`:                             true,
		`CN=a"b`:                                 false,
		`CN=trailing\`:                           false,
		`CN=x,,OU=y`:                             false,
		`CN=x OU=y`:                              true,
		``:                                       true,
	}
	for s, want := range cases {
		require.Equal(t, want, ValidX500Name(s), "%q", s)
	}
}

func selfSigned(t *testing.T, subject pkix.Name) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

func TestX509Provider(t *testing.T) {
	alice := selfSigned(t, pkix.Name{CommonName: "alice", Organization: []string{"Example"}})
	boss := selfSigned(t, pkix.Name{CommonName: "boss"})
	trusted := map[*x509.Certificate]bool{alice: true, boss: true}
	p := &X509Provider{
		Verify: func(chain []*x509.Certificate) error {
			if !trusted[chain[0]] {
				return errors.New("untrusted")
			}
			return nil
		},
		SuperUser: "CN=boss",
		Log:       slog.New(slog.DiscardHandler),
	}
	r := NewRegistry("")
	r.Add(p)
	require.Nil(t, r.Get("x509").Authenticate([]byte("x"), "127.0.0.1"), "no certificate without the connection")
	require.Nil(t, p.AuthenticatePeer(nil, Peer{RemoteIP: "127.0.0.1"}))

	ids := p.AuthenticatePeer(nil, Peer{Certs: []*x509.Certificate{alice}})
	require.Equal(t, []proto.Id{{Scheme: "x509", ID: "CN=alice,O=Example"}}, ids)
	require.Equal(t, []proto.Id{{Scheme: "super", ID: "CN=boss"}, {Scheme: "x509", ID: "CN=boss"}},
		p.AuthenticatePeer(nil, Peer{Certs: []*x509.Certificate{boss}}))
	stranger := selfSigned(t, pkix.Name{CommonName: "stranger"})
	require.Nil(t, p.AuthenticatePeer(nil, Peer{Certs: []*x509.Certificate{stranger}}))
	require.Nil(t, (&X509Provider{Log: p.Log}).AuthenticatePeer(nil, Peer{Certs: []*x509.Certificate{alice}}), "no trust store")

	acl := []proto.ACL{{Perms: proto.PermRead, ID: proto.Id{Scheme: "x509", ID: "CN=alice,O=Example"}}}
	require.NoError(t, r.Check(acl, proto.PermRead, ids))
	require.Equal(t, proto.ErrNoAuth, r.Check(acl, proto.PermRead, []proto.Id{{Scheme: "x509", ID: "CN=bob"}}))
	// The super user's x509 identity matches every x509 ACL.
	require.NoError(t, r.Check(acl, proto.PermRead, []proto.Id{{Scheme: "x509", ID: "CN=boss"}}))

	fixed, err := r.Fixup([]proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "auth"}}}, ids)
	require.NoError(t, err)
	require.Equal(t, []proto.ACL{{Perms: proto.PermAll, ID: ids[0]}}, fixed)
	_, err = r.Fixup([]proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "x509", ID: "FOO=bar"}}}, nil)
	require.Equal(t, proto.ErrInvalidACL, err)
	require.Equal(t, []proto.ClientInfo{{AuthScheme: "x509", User: "CN=alice,O=Example"}}, r.ClientInfos(ids))
}
