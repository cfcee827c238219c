// Package auth decides who a client is and what it may do: the
// authentication schemes (world, auth, digest, ip, super), ACL checks, and
// the expansion of ACLs given to create and setACL, as ZooKeeper's
// ProviderRegistry, ZooKeeperServer.checkACL and
// PrepRequestProcessor.fixupACL do.
package auth

import (
	"strings"

	"zkit/server/proto"
)

// Provider is one authentication scheme (AuthenticationProvider).
type Provider interface {
	// Scheme names the scheme, as used in ACLs and addauth.
	Scheme() string
	// Authenticate turns addauth data into identities; an empty result
	// means AUTHFAILED. remoteIP is the client's address.
	Authenticate(data []byte, remoteIP string) []proto.Id
	// Authenticated reports whether the identities of this scheme stand for
	// a user (used by the "auth" ACL scheme).
	Authenticated() bool
	// Valid reports whether id is well formed for an ACL of this scheme.
	Valid(id string) bool
	// Matches reports whether an identity id satisfies an ACL's id.
	Matches(id, aclID string) bool
	// UserName is what whoAmI reports for id.
	UserName(id string) string
}

// Registry holds the providers of a server.
type Registry struct {
	providers map[string]Provider
	// SkipACL disables every ACL check (zookeeper.skipACL).
	SkipACL bool
	// sasl is the SASL setup (see ConfigureSASL); nil when none.
	sasl *SASLConfig
}

// NewRegistry returns the default providers: ip and digest, with an
// optional super digest ("super:<base64 sha1>").
func NewRegistry(superDigest string) *Registry {
	r := &Registry{providers: map[string]Provider{}}
	r.Add(IPProvider{})
	r.Add(DigestProvider{SuperDigest: superDigest})
	return r
}

// Add registers a provider under its scheme.
func (r *Registry) Add(p Provider) { r.providers[p.Scheme()] = p }

// Get returns the provider of a scheme, or nil.
func (r *Registry) Get(scheme string) Provider { return r.providers[scheme] }

// Check returns ErrNoAuth unless ids grant one of the perm bits under acl
// (ZooKeeperServer.checkACL). An empty ACL and the super identity allow
// everything.
func (r *Registry) Check(acl []proto.ACL, perm int32, ids []proto.Id) error {
	if r.SkipACL || len(acl) == 0 {
		return nil
	}
	for _, id := range ids {
		if id.Scheme == "super" {
			return nil
		}
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.ID.Scheme == "world" && a.ID.ID == "anyone" {
			return nil
		}
		p := r.providers[a.ID.Scheme]
		if p == nil {
			continue
		}
		for _, id := range ids {
			if id.Scheme == a.ID.Scheme && p.Matches(id.ID, a.ID.ID) {
				return nil
			}
		}
	}
	return proto.ErrNoAuth
}

// Fixup validates the ACL of a create or setACL and expands the "auth"
// scheme into the client's authenticated identities
// (PrepRequestProcessor.fixupACL). Duplicates are dropped first.
func (r *Registry) Fixup(acls []proto.ACL, ids []proto.Id) ([]proto.ACL, error) {
	uniq := dedupe(acls)
	if len(uniq) == 0 {
		return nil, proto.ErrInvalidACL
	}
	out := make([]proto.ACL, 0, len(uniq))
	for _, a := range uniq {
		switch {
		case a.ID.Scheme == "world" && a.ID.ID == "anyone":
			out = append(out, a)
		case a.ID.Scheme == "auth":
			valid := false
			for _, id := range ids {
				if p := r.providers[id.Scheme]; p != nil && p.Authenticated() {
					valid = true
					out = append(out, proto.ACL{Perms: a.Perms, ID: id})
				}
			}
			if !valid {
				return nil, proto.ErrInvalidACL
			}
		default:
			p := r.providers[a.ID.Scheme]
			if p == nil || !p.Valid(a.ID.ID) {
				return nil, proto.ErrInvalidACL
			}
			out = append(out, a)
		}
	}
	return out, nil
}

func dedupe(acls []proto.ACL) []proto.ACL {
	out := make([]proto.ACL, 0, len(acls))
	for _, a := range acls {
		dup := false
		for _, b := range out {
			if a == b {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out
}

// ClientInfos lists identities as whoAmI reports them (AuthUtil).
func (r *Registry) ClientInfos(ids []proto.Id) []proto.ClientInfo {
	out := make([]proto.ClientInfo, 0, len(ids))
	for _, id := range ids {
		user := ""
		if p := r.providers[id.Scheme]; p != nil {
			user = p.UserName(id.ID)
		}
		out = append(out, proto.ClientInfo{AuthScheme: id.Scheme, User: user})
	}
	return out
}

// javaSplit splits like Java's String.split(sep) with no limit: trailing
// empty strings are removed.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}
