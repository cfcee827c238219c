package zkclient

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"zkit/server/jute"
	"zkit/server/proto"
)

// DigestMD5 is the client side of a SASL DIGEST-MD5 login as ZooKeeper
// clients run it (service "zookeeper", host "zk-sasl-md5", qop auth),
// written independently of the server's code so that tests check one
// against the other. Fields left empty take the usual values; tests change
// them to send what a normal client would not.
type DigestMD5 struct {
	User, Password string
	Authzid        string // sent when not empty
	DigestURI      string // default "zookeeper/zk-sasl-md5"
	Realm          *string
	Qop            string // default "auth"
	CNonce         string // default random
	// RFCCharset hashes user, realm and password as ISO 8859-1 when they
	// fit (RFC 2831 2.1.2.1, as Java clients do) and sends charset=utf-8;
	// otherwise they are hashed as UTF-8, as kazoo's pure-sasl does.
	RFCCharset bool
	// Mutate, if set, edits the digest-response before it is sent.
	Mutate func(resp string) string

	challenge map[string]string
	ha1       [16]byte
	uri, qop  string
}

// Response answers the server's challenge.
func (m *DigestMD5) Response(challenge []byte) (string, error) {
	ch, err := parseChallenge(string(challenge))
	if err != nil {
		return "", err
	}
	m.challenge = ch
	realm := ch["realm"]
	if m.Realm != nil {
		realm = *m.Realm
	}
	m.uri = m.DigestURI
	if m.uri == "" {
		m.uri = "zookeeper/zk-sasl-md5"
	}
	m.qop = m.Qop
	if m.qop == "" {
		m.qop = "auth"
	}
	cnonce := m.CNonce
	if cnonce == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		cnonce = hex.EncodeToString(b)
	}
	nonce := ch["nonce"]
	enc := func(s string) string { return s }
	if m.RFCCharset {
		enc = latin1
	}
	inner := md5.Sum([]byte(enc(m.User) + ":" + enc(realm) + ":" + enc(m.Password)))
	a1 := string(inner[:]) + ":" + nonce + ":" + cnonce
	if m.Authzid != "" {
		a1 += ":" + m.Authzid
	}
	m.ha1 = md5.Sum([]byte(a1))
	resp := m.kd(nonce, cnonce, "AUTHENTICATE:"+m.uri)
	parts := []string{
		fmt.Sprintf("username=%q", m.User),
		fmt.Sprintf("realm=%q", realm),
		fmt.Sprintf("nonce=%q", nonce),
		fmt.Sprintf("cnonce=%q", cnonce),
		"nc=00000001",
		"qop=" + m.qop,
		fmt.Sprintf("digest-uri=%q", m.uri),
		"response=" + resp,
	}
	if m.Authzid != "" {
		parts = append(parts, fmt.Sprintf("authzid=%q", m.Authzid))
	}
	if m.RFCCharset {
		parts = append(parts, "charset=utf-8")
	}
	out := strings.Join(parts, ",")
	m.challenge["cnonce"] = cnonce
	if m.Mutate != nil {
		out = m.Mutate(out)
	}
	return out, nil
}

// CheckRspauth verifies the server's final token.
func (m *DigestMD5) CheckRspauth(tok []byte) error {
	got, ok := strings.CutPrefix(string(tok), "rspauth=")
	if !ok {
		return fmt.Errorf("server's last token %q is not rspauth=...", tok)
	}
	if want := m.kd(m.challenge["nonce"], m.challenge["cnonce"], ":"+m.uri); got != want {
		return fmt.Errorf("rspauth %s, want %s", got, want)
	}
	return nil
}

func (m *DigestMD5) kd(nonce, cnonce, a2 string) string {
	ha2 := md5.Sum([]byte(a2))
	s := hex.EncodeToString(m.ha1[:]) + ":" + nonce + ":00000001:" + cnonce + ":" + m.qop + ":" + hex.EncodeToString(ha2[:])
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// latin1 encodes s as ISO 8859-1 if every character fits.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return s
		}
		b = append(b, byte(r))
	}
	return string(b)
}

// parseChallenge reads key=value and key="value" pairs.
func parseChallenge(s string) (map[string]string, error) {
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ,")
		if s == "" {
			break
		}
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("bad challenge near %q", s)
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in challenge")
			}
			v, rest = rest[1:1+end], rest[2+end:]
		} else {
			v, rest, _ = strings.Cut(rest, ",")
		}
		out[strings.TrimSpace(k)] = v
		s = rest
	}
	if out["nonce"] == "" {
		return nil, errors.New("challenge has no nonce")
	}
	return out, nil
}

// SASL sends one SASL token and returns the reply's header and token.
func (c *Client) SASL(token []byte) (proto.ReplyHeader, []byte, error) {
	_, ch := c.Send(proto.OpSASL, &proto.TokenRecord{Token: token})
	select {
	case r, ok := <-ch:
		if !ok {
			return proto.ReplyHeader{}, nil, ErrConnection
		}
		var tok proto.TokenRecord
		if len(r.Body) > 0 {
			d := jute.NewDecoder(r.Body)
			tok.Decode(d)
			if d.Err() != nil {
				return r.Header, nil, d.Err()
			}
		}
		return r.Header, tok.Token, nil
	case <-time.After(15 * time.Second):
		return proto.ReplyHeader{}, nil, errors.New("timeout waiting for SASL reply")
	}
}

// LoginDigestMD5 runs a whole DIGEST-MD5 exchange. It returns the error
// code of the reply that ended it (ErrOK after a verified rspauth).
func (c *Client) LoginDigestMD5(m *DigestMD5) (proto.Err, error) {
	h, challenge, err := c.SASL([]byte{})
	if err != nil || h.Err != proto.ErrOK {
		return h.Err, err
	}
	resp, err := m.Response(challenge)
	if err != nil {
		return 0, err
	}
	h, final, err := c.SASL([]byte(resp))
	if err != nil || h.Err != proto.ErrOK {
		return h.Err, err
	}
	return proto.ErrOK, m.CheckRspauth(final)
}
