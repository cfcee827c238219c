package auth

import (
	"crypto/sha1"
	"encoding/base64"
	"strings"

	"zkit/server/jute"
	"zkit/server/proto"
)

// DigestProvider is the "digest" scheme: addauth "user:password" becomes
// the identity "user:base64(sha1(user:password))"; the super digest, when
// matched, also grants the "super" identity.
type DigestProvider struct {
	SuperDigest string
}

// Digest returns the digest identity of "user:password"
// (DigestAuthenticationProvider.generateDigest). That method takes a Java
// String, so userPassword is first read as Java reads its bytes: a
// malformed UTF-8 sequence becomes U+FFFD, in the user part and in the
// hashed text (id.getBytes(UTF_8)) alike.
func Digest(userPassword string) string {
	userPassword = jute.JavaUTF8(userPassword)
	user, _, _ := strings.Cut(userPassword, ":")
	sum := sha1.Sum([]byte(userPassword))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// Scheme implements Provider.
func (DigestProvider) Scheme() string { return "digest" }

// Authenticate implements Provider. ZooKeeper's handleAuthentication
// hashes new String(authData), the auth bytes decoded as Java does, and so
// does Digest.
func (p DigestProvider) Authenticate(data []byte, _ string) []proto.Id {
	d := Digest(string(data))
	var ids []proto.Id
	if p.SuperDigest != "" && d == p.SuperDigest {
		ids = append(ids, proto.Id{Scheme: "super", ID: ""})
	}
	return append(ids, proto.Id{Scheme: "digest", ID: d})
}

// Authenticated implements Provider.
func (DigestProvider) Authenticated() bool { return true }

// Valid implements Provider: exactly one colon-separated pair, judged with
// Java's split, which drops trailing empty parts.
func (DigestProvider) Valid(id string) bool { return len(javaSplit(id, ":")) == 2 }

// Matches implements Provider.
func (DigestProvider) Matches(id, aclID string) bool { return id == aclID }

// UserName implements Provider.
func (DigestProvider) UserName(id string) string {
	parts := javaSplit(id, ":")
	if len(parts) == 0 {
		return ""
	}
	return parts[0]
}
