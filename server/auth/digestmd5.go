package auth

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The DIGEST-MD5 server side of RFC 2831, as ZooKeeper runs it through the
// JDK's SaslServer: service "zookeeper", server name and realm
// "zk-sasl-md5", quality of protection "auth" only (no integrity or
// privacy layer), UTF-8 offered (charset=utf-8), algorithm md5-sess.
//
// The exchange takes two client tokens:
//
//	client: (empty token)
//	server: realm="zk-sasl-md5",nonce="...",charset=utf-8,algorithm=md5-sess
//	client: username="bob",realm="zk-sasl-md5",nonce="...",cnonce="...",
//	        nc=00000001,qop=auth,digest-uri="zookeeper/zk-sasl-md5",response=<32 hex>
//	server: rspauth=<32 hex>        (the exchange is complete)

const (
	// SASLRealm is the realm (and server name) ZooKeeper's DIGEST-MD5 uses.
	SASLRealm = "zk-sasl-md5"
	// SASLService is the protocol part of the digest-uri.
	SASLService = "zookeeper"
	// maxDigestResponse is the longest token the server accepts
	// (the JDK's DigestMD5Server limit).
	maxDigestResponse = 4096
	// rawNonceSize random bytes make a 40-character base64 nonce.
	rawNonceSize = 30
)

// ErrSASL is wrapped by every failure of a SASL exchange.
var ErrSASL = errors.New("SASL authentication failed")

func saslErr(format string, args ...any) error {
	return fmt.Errorf("%w: DIGEST-MD5: %s", ErrSASL, fmt.Sprintf(format, args...))
}

// digestStep is where a DigestMD5Server stands.
type digestStep int

const (
	stepChallenge digestStep = iota // expecting the client's first (empty) token
	stepResponse                    // challenge sent; expecting the digest-response
	stepDone                        // complete, or failed: no more tokens
)

// DigestMD5Server is one connection's DIGEST-MD5 exchange. It is not safe
// for concurrent use; a connection's reader drives it.
type DigestMD5Server struct {
	login *SASLLogin
	step  digestStep
	nonce []byte
	ok    bool
	authz string
	// ignoredInitial: the client's first token was not empty.
	ignoredInitial bool
}

// Evaluate takes the client's next token and returns the server's answer.
// An error (wrapping ErrSASL) ends the exchange: the client failed to
// authenticate.
func (s *DigestMD5Server) Evaluate(token []byte) ([]byte, error) {
	if len(token) > maxDigestResponse {
		s.step = stepDone
		return nil, saslErr("token of %d bytes is longer than %d", len(token), maxDigestResponse)
	}
	switch s.step {
	case stepChallenge:
		// The JDK ignores an initial response (RFC 2831 2.2: a server that
		// does not support subsequent authentication answers with a
		// challenge). A GSSAPI client sends one too, and then fails on the
		// challenge.
		s.ignoredInitial = len(token) > 0
		s.nonce = newNonce()
		s.step = stepResponse
		return s.challenge(), nil
	case stepResponse:
		s.step = stepDone
		rsp, authz, err := s.verify(token)
		if err != nil {
			return nil, err
		}
		s.ok, s.authz = true, authz
		return rsp, nil
	default:
		return nil, saslErr("the exchange is already over (a token after the last step)")
	}
}

// IgnoredInitialResponse reports whether the client's first token carried
// data, which DIGEST-MD5 ignores: typically a GSSAPI (Kerberos) client,
// whose login will then fail.
func (s *DigestMD5Server) IgnoredInitialResponse() bool { return s.ignoredInitial }

// Complete reports whether the client authenticated.
func (s *DigestMD5Server) Complete() bool { return s.ok }

// AuthorizationID is the authenticated user, once Complete.
func (s *DigestMD5Server) AuthorizationID() string { return s.authz }

func newNonce() []byte {
	raw := make([]byte, rawNonceSize)
	if _, err := rand.Read(raw); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(len(raw)))
	base64.StdEncoding.Encode(out, raw)
	return out
}

func (s *DigestMD5Server) challenge() []byte {
	var b bytes.Buffer
	b.WriteString(`realm="`)
	b.Write(quoteValue([]byte(SASLRealm)))
	b.WriteString(`",nonce="`)
	b.Write(quoteValue(s.nonce))
	b.WriteString(`",charset=utf-8,algorithm=md5-sess`)
	return b.Bytes()
}

// quoteValue escapes '"' and '\' for a quoted-string.
func quoteValue(v []byte) []byte {
	if !bytes.ContainsAny(v, `"\`) {
		return v
	}
	var out []byte
	for _, c := range v {
		if c == '"' || c == '\\' {
			out = append(out, '\\')
		}
		out = append(out, c)
	}
	return out
}

// digestKeys are the directives a server reads (others are ignored, as
// auth-params). Each may appear at most once.
var digestKeys = []string{
	"realm", "qop", "algorithm", "nonce", "maxbuf", "charset", "cipher", "rspauth",
	"stale", "username", "cnonce", "nc", "digest-uri", "response", "authzid",
}

// ParseDigestDirectives parses a comma-separated list of key=value
// directives (RFC 2831 7.1: values are tokens or quoted-strings with
// backslash escapes; linear white space is allowed around elements). Keys
// are lower-cased; a known directive given twice is an error.
func ParseDigestDirectives(buf []byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	isLWS := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	skip := func(i int) int {
		for i < len(buf) && isLWS(buf[i]) {
			i++
		}
		return i
	}
	put := func(key string, val []byte) error {
		k := strings.ToLower(key)
		for _, known := range digestKeys {
			if k == known {
				if _, dup := out[k]; dup {
					return fmt.Errorf("directive %s given more than once", k)
				}
				out[k] = val
				return nil
			}
		}
		return nil // an auth-param: ignored
	}
	i := skip(0)
	for i < len(buf) {
		if buf[i] == ',' { // an empty element
			i = skip(i + 1)
			continue
		}
		start := i
		for i < len(buf) && buf[i] != '=' && buf[i] != ',' && !isLWS(buf[i]) {
			i++
		}
		key := string(buf[start:i])
		i = skip(i)
		if i >= len(buf) || buf[i] != '=' {
			return nil, fmt.Errorf("'=' expected after directive key %q", key)
		}
		if key == "" {
			return nil, errors.New("empty directive key")
		}
		i = skip(i + 1)
		var val []byte
		if i < len(buf) && buf[i] == '"' {
			i++
			closed := false
			for i < len(buf) {
				c := buf[i]
				if c == '\\' {
					if i+1 >= len(buf) {
						break
					}
					val = append(val, buf[i+1])
					i += 2
					continue
				}
				if c == '"' {
					i++
					closed = true
					break
				}
				val = append(val, c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated quoted value of directive %q", key)
			}
			i = skip(i)
			if i < len(buf) && buf[i] != ',' {
				return nil, fmt.Errorf("comma expected after the quoted value of directive %q", key)
			}
		} else {
			start := i
			for i < len(buf) && buf[i] != ',' && !isLWS(buf[i]) {
				i++
			}
			val = append([]byte{}, buf[start:i]...)
			i = skip(i)
			if i < len(buf) && buf[i] != ',' {
				return nil, fmt.Errorf("comma expected after the value of directive %q", key)
			}
		}
		if err := put(key, val); err != nil {
			return nil, err
		}
		if i < len(buf) { // at a comma
			i = skip(i + 1)
		}
	}
	return out, nil
}

// verify checks a digest-response and returns rspauth and the
// authorization id.
func (s *DigestMD5Server) verify(token []byte) ([]byte, string, error) {
	d, err := ParseDigestDirectives(token)
	if err != nil {
		return nil, "", saslErr("malformed digest-response: %v", err)
	}
	if cs, ok := d["charset"]; ok && string(cs) != "utf-8" {
		return nil, "", saslErr("charset %q is not utf-8", cs)
	}
	if mb, ok := d["maxbuf"]; ok {
		if _, err := strconv.ParseInt(string(mb), 10, 32); err != nil {
			return nil, "", saslErr("maxbuf %q is not a number", mb)
		}
	}
	userBytes, ok := d["username"]
	if !ok {
		return nil, "", saslErr("digest-response has no username")
	}
	// The server decodes the client's strings as UTF-8 (it offered
	// charset=utf-8), whether or not the client echoed the charset.
	user := decodeUTF8(userBytes)
	realm := decodeUTF8(d["realm"])
	if realm != SASLRealm {
		return nil, "", saslErr("realm %q is not the server's realm %q", realm, SASLRealm)
	}
	nonce, ok := d["nonce"]
	if !ok {
		return nil, "", saslErr("digest-response has no nonce")
	}
	if !bytes.Equal(nonce, s.nonce) {
		return nil, "", saslErr("nonce does not match the server's")
	}
	cnonce, ok := d["cnonce"]
	if !ok {
		return nil, "", saslErr("digest-response has no cnonce")
	}
	if nc, ok := d["nc"]; ok {
		if n, err := strconv.ParseUint(string(nc), 16, 32); err != nil || n != 1 {
			return nil, "", saslErr("nonce count %q is not 00000001", nc)
		}
	}
	qop := "auth"
	if q, ok := d["qop"]; ok {
		qop = string(q)
	}
	switch qop {
	case "auth":
	case "auth-int", "auth-conf":
		return nil, "", saslErr("qop %s is not supported: zkit offers qop auth only (no integrity or privacy layer)", qop)
	default:
		return nil, "", saslErr("invalid qop %q", qop)
	}
	uri, ok := d["digest-uri"]
	if want := SASLService + "/" + SASLRealm; !ok || !strings.EqualFold(decodeUTF8(uri), want) {
		return nil, "", saslErr("digest-uri %q is not %q", uri, want)
	}
	resp, ok := d["response"]
	if !ok {
		return nil, "", saslErr("digest-response has no response value")
	}
	authzidBytes, hasAuthzid := d["authzid"]
	if !hasAuthzid {
		authzidBytes = nil
	}
	passwd, known := s.login.password(user)
	if !known {
		return nil, "", saslErr("unknown user %q (no user_%s in the JAAS section)", user, user)
	}
	a1 := digestA1(user, realm, passwd, s.nonce, cnonce, authzidBytes)
	want := digestKD(a1, s.nonce, cnonce, qop, "AUTHENTICATE:"+string(uri))
	if !bytes.Equal(resp, want) {
		return nil, "", saslErr("wrong password for user %q (response mismatch)", user)
	}
	requested := user
	if hasAuthzid {
		requested = decodeUTF8(authzidBytes)
	}
	authz := s.login.authorizedID(user, requested)
	rspauth := digestKD(a1, s.nonce, cnonce, qop, ":"+string(uri))
	return append([]byte("rspauth="), rspauth...), authz, nil
}

// decodeUTF8 is Java's new String(b, UTF_8): bad bytes become U+FFFD.
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// latin1OrUTF8 encodes s as ISO 8859-1 when every character fits, else as
// UTF-8 (RFC 2831 2.1.2.1, as the JDK does once UTF-8 is in use).
func latin1OrUTF8(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return []byte(s)
		}
		out = append(out, byte(r))
	}
	return out
}

// digestA1 returns H(A1) = MD5( MD5(user:realm:passwd) ":" nonce ":" cnonce [":" authzid] ).
func digestA1(user, realm, passwd string, nonce, cnonce, authzid []byte) [16]byte {
	var b bytes.Buffer
	b.Write(latin1OrUTF8(user))
	b.WriteByte(':')
	b.Write(latin1OrUTF8(realm))
	b.WriteByte(':')
	b.Write(latin1OrUTF8(passwd))
	inner := md5.Sum(b.Bytes())
	b.Reset()
	b.Write(inner[:])
	b.WriteByte(':')
	b.Write(nonce)
	b.WriteByte(':')
	b.Write(cnonce)
	if authzid != nil {
		b.WriteByte(':')
		b.Write(authzid)
	}
	return md5.Sum(b.Bytes())
}

// digestKD returns the response-value HEX(KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2)))),
// with nc 00000001.
func digestKD(ha1 [16]byte, nonce, cnonce []byte, qop, a2 string) []byte {
	ha2 := md5.Sum([]byte(a2))
	var b bytes.Buffer
	b.WriteString(hex.EncodeToString(ha1[:]))
	b.WriteByte(':')
	b.Write(nonce)
	b.WriteString(":00000001:")
	b.Write(cnonce)
	b.WriteByte(':')
	b.WriteString(qop)
	b.WriteByte(':')
	b.WriteString(hex.EncodeToString(ha2[:]))
	sum := md5.Sum(b.Bytes())
	return []byte(hex.EncodeToString(sum[:]))
}
