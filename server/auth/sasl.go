package auth

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"zkit/server/proto"
)

// SASL in ZooKeeper: a client that was configured for it sends SASL tokens
// (opcode 102) right after its session is established; when the exchange
// completes the connection gains the identity sasl:<user>, and super if
// the user is listed in zookeeper.superUser. zkit implements the server
// side of DIGEST-MD5 with users from a JAAS file's Server section, as
// Apache's SaslServerCallbackHandler reads them. GSSAPI (Kerberos) is not
// supported.

// SASLAuthenticationProviderClass is the authProvider.N class that
// registers the "sasl" ACL scheme in Apache ZooKeeper.
const SASLAuthenticationProviderClass = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"

// SASLLogin holds the DIGEST-MD5 users of a server (its JAAS Server
// section) and the settings of Apache's SaslServerCallbackHandler.
type SASLLogin struct {
	// Users maps user names to passwords (the user_<name>="<password>"
	// options of the section).
	Users map[string]string
	// SuperPassword, when set, is the password of user "super" instead of
	// its user_super entry, which must still exist
	// (zookeeper.SASLAuthenticationProvider.superPassword).
	SuperPassword *string
	// RemoveHost and RemoveRealm drop the "/host" and "@realm" parts of a
	// Kerberos-style user name (zookeeper.kerberos.removeHostFromPrincipal,
	// zookeeper.kerberos.removeRealmFromPrincipal).
	RemoveHost, RemoveRealm bool
}

// NewDigestMD5 starts the DIGEST-MD5 exchange of one connection.
func (l *SASLLogin) NewDigestMD5() *DigestMD5Server { return &DigestMD5Server{login: l} }

// password returns the password a user authenticates with.
func (l *SASLLogin) password(user string) (string, bool) {
	p, ok := l.Users[user]
	if !ok {
		return "", false
	}
	if user == "super" && l.SuperPassword != nil {
		return *l.SuperPassword, true
	}
	return p, true
}

// kerberosName matches principal names of at most two components with a
// realm: service[/host]@realm.
var kerberosName = regexp.MustCompile(`^([^/@]*)(/([^/@]*))?@([^/@]*)$`)

// authorizedID is the identity an authenticated user gets
// (SaslServerCallbackHandler.handleAuthorizeCallback): the authentication
// id canonicalized as a Kerberos name, whatever authorization id the client
// asked for. A plain name ("bob") stays as it is. A name with a realm is
// shortened only under the default realm, which is empty as no Kerberos
// configuration is read; otherwise the client's requested id is kept, as
// Apache keeps it when no auth_to_local rule applies.
func (l *SASLLogin) authorizedID(user, requested string) string {
	m := kerberosName.FindStringSubmatch(user)
	if m == nil {
		return user // no realm: already a short name
	}
	service, host, hasHost, realm := m[1], m[3], m[2] != "", m[4]
	if realm != "" {
		return requested // no rule maps another realm
	}
	name := service
	if hasHost && !l.RemoveHost {
		name += "/" + host
	}
	if !l.RemoveRealm {
		name += "@" + realm
	}
	return name
}

// validKerberosName is KerberosName's constructor check: a name with '@'
// must be service[/host]@realm.
func validKerberosName(id string) bool {
	return !strings.Contains(id, "@") || kerberosName.MatchString(id)
}

// SASLProvider is the "sasl" ACL scheme (SASLAuthenticationProvider). Its
// identities come only from a SASL exchange: addauth with scheme sasl
// fails.
type SASLProvider struct {
	// LetAnySASLUserDoX names an ACL id that every SASL user matches
	// (zookeeper.letAnySaslUserDoX).
	LetAnySASLUserDoX string
}

// Scheme implements Provider.
func (SASLProvider) Scheme() string { return "sasl" }

// Authenticate implements Provider: SASL is negotiated with SASL tokens,
// never with addauth, which gets AUTHFAILED.
func (SASLProvider) Authenticate([]byte, string) []proto.Id { return nil }

// Authenticated implements Provider.
func (SASLProvider) Authenticated() bool { return true }

// Valid implements Provider: a Kerberos-style name.
func (SASLProvider) Valid(id string) bool { return validKerberosName(id) }

// Matches implements Provider: the same user, or the user "super", or any
// user for the letAnySaslUserDoX id.
func (p SASLProvider) Matches(id, aclID string) bool {
	if id == "super" || id == aclID {
		return true
	}
	return p.LetAnySASLUserDoX != "" && aclID == p.LetAnySASLUserDoX
}

// UserName implements Provider.
func (SASLProvider) UserName(id string) string { return id }

// Enforcement makes every request of a connection that lacks an identity of
// one of Schemes fail with SESSIONCLOSEDREQUIRESASLAUTH and close the
// connection (AuthenticationHelper: zookeeper.enforce.auth.enabled and
// zookeeper.enforce.auth.schemes, or zookeeper.sessionRequireClientSASLAuth
// for the scheme sasl).
type Enforcement struct {
	Enabled bool
	Schemes []string
}

// SASLRequired reports whether the enforcement demands a SASL identity: a
// failed SASL exchange then answers SESSIONCLOSEDREQUIRESASLAUTH.
func (e Enforcement) SASLRequired() bool { return e.Enabled && slices.Contains(e.Schemes, "sasl") }

// SASLConfig is a server's SASL and authentication-enforcement setup.
type SASLConfig struct {
	// Login answers SASL tokens with DIGEST-MD5; nil means no JAAS Server
	// section: tokens get an OK reply with no token, as in Apache.
	Login *SASLLogin
	// Scheme registers the "sasl" ACL scheme (authProvider.N =
	// SASLAuthenticationProviderClass).
	Scheme bool
	// LetAnySASLUserDoX: see SASLProvider.
	LetAnySASLUserDoX string
	// SuperUsers are the SASL users that also get the super identity
	// (zookeeper.superUser and zookeeper.superUser.*).
	SuperUsers []string
	// AllowFailedClients keeps the connection of a client whose SASL
	// exchange failed, unless SASL is required
	// (zookeeper.allowSaslFailedClients).
	AllowFailedClients bool
	// Enforce requires an identity of some scheme before any request.
	Enforce Enforcement
}

// ConfigureSASL installs the SASL setup: the "sasl" scheme if asked for,
// and the login and enforcement the connections consult. An enforced
// scheme with no provider is an error, as in Apache.
func (r *Registry) ConfigureSASL(c SASLConfig) error {
	if c.Scheme {
		r.Add(SASLProvider{LetAnySASLUserDoX: c.LetAnySASLUserDoX})
	}
	if c.Enforce.Enabled {
		if len(c.Enforce.Schemes) == 0 {
			return fmt.Errorf("zookeeper.enforce.auth.enabled is true but zookeeper.enforce.auth.schemes names no scheme")
		}
		for _, s := range c.Enforce.Schemes {
			if r.Get(s) == nil {
				hint := ""
				if s == "sasl" {
					hint = " (add authProvider.1=" + SASLAuthenticationProviderClass + ")"
				}
				return fmt.Errorf("authentication scheme %q is enforced but not available%s", s, hint)
			}
		}
	}
	cc := c
	r.sasl = &cc
	return nil
}

// SASL returns the SASL setup; the zero value when none was configured.
func (r *Registry) SASL() *SASLConfig {
	if r.sasl == nil {
		return &SASLConfig{}
	}
	return r.sasl
}

// SASLIdentities are the identities a connection gains when user completes
// a SASL exchange: sasl:<user>, and super if user is a SASL super user
// (ZooKeeperServer.processSasl, isSaslSuperUser).
func (c *SASLConfig) SASLIdentities(user string) []proto.Id {
	ids := []proto.Id{{Scheme: "sasl", ID: user}}
	if user != "" && slices.Contains(c.SuperUsers, user) {
		ids = append(ids, proto.Id{Scheme: "super", ID: ""})
	}
	return ids
}

// Enforced reports whether ids satisfy the enforcement: true when it is
// off, or some identity is of an enforced scheme.
func (c *SASLConfig) Enforced(ids []proto.Id) bool {
	if !c.Enforce.Enabled {
		return true
	}
	for _, id := range ids {
		if slices.Contains(c.Enforce.Schemes, id.Scheme) {
			return true
		}
	}
	return false
}
