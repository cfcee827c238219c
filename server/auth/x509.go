package auth

import (
	"crypto/x509"
	"log/slog"

	"zkit/server/proto"
)

// Peer is what a connection knows of its client, for providers that
// authenticate from the connection itself rather than from addauth data.
type Peer struct {
	RemoteIP string
	// Certs is the certificate chain a TLS client presented (leaf first);
	// nil on a plain connection or when the client sent none.
	Certs []*x509.Certificate
}

// PeerProvider is a Provider whose authentication reads the connection
// (the x509 scheme reads the TLS client certificate).
type PeerProvider interface {
	Provider
	AuthenticatePeer(data []byte, peer Peer) []proto.Id
}

// X509Scheme is the scheme of client-certificate identities.
const X509Scheme = "x509"

// X509Provider is the "x509" scheme (X509AuthenticationProvider): a TLS
// client's identity is the subject of its certificate, as Java's
// X500Principal.getName() writes it (RFC 2253, e.g.
// "CN=client,OU=dev,O=Example,C=US"). A secure connection gets it when
// the handshake completes; addauth x509 repeats the check on demand.
type X509Provider struct {
	// Verify checks a chain against the trust store; nil means no trust
	// store is available and every authentication fails.
	Verify func(chain []*x509.Certificate) error
	// SuperUser is zookeeper.X509AuthenticationProvider.superUser: the
	// subject that also gets the "super" identity, and whose x509 identity
	// matches every x509 ACL.
	SuperUser string
	Log       *slog.Logger
}

// Scheme implements Provider.
func (*X509Provider) Scheme() string { return X509Scheme }

// Authenticate implements Provider: without the connection there is no
// certificate, so authentication fails.
func (*X509Provider) Authenticate([]byte, string) []proto.Id { return nil }

// AuthenticatePeer implements PeerProvider: the client's certificate chain
// must verify against the trust store; its subject becomes the identity.
func (p *X509Provider) AuthenticatePeer(_ []byte, peer Peer) []proto.Id {
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	if len(peer.Certs) == 0 {
		log.Warn("no certificate chain available to authenticate", "client", peer.RemoteIP)
		return nil
	}
	if p.Verify == nil {
		log.Error("no trust manager available to authenticate", "client", peer.RemoteIP)
		return nil
	}
	if err := p.Verify(peer.Certs); err != nil {
		log.Error("failed to trust certificate", "client", peer.RemoteIP, "err", err)
		return nil
	}
	name, err := X500Name(peer.Certs[0].RawSubject)
	if err != nil {
		log.Error("cannot read the certificate's subject", "client", peer.RemoteIP, "err", err)
		return nil
	}
	var ids []proto.Id
	if p.SuperUser != "" && name == p.SuperUser {
		ids = append(ids, proto.Id{Scheme: "super", ID: name})
		log.Info("authenticated id as super user", "id", name)
	}
	log.Info("authenticated id", "id", name, "scheme", X509Scheme)
	return append(ids, proto.Id{Scheme: X509Scheme, ID: name})
}

// Authenticated implements Provider.
func (*X509Provider) Authenticated() bool { return true }

// Valid implements Provider: the id must parse as an X.500 name
// (new X500Principal(id)).
func (*X509Provider) Valid(id string) bool { return ValidX500Name(id) }

// Matches implements Provider.
func (p *X509Provider) Matches(id, aclID string) bool {
	if p.SuperUser != "" && id == p.SuperUser {
		return true
	}
	return id == aclID
}

// UserName implements Provider.
func (*X509Provider) UserName(id string) string { return id }
