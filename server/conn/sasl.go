package conn

import (
	"errors"

	"zkit/server/jute"
	"zkit/server/proto"
)

// sasl answers a SASL token (ZooKeeperServer.processSasl). With no SASL
// login configured ZooKeeper replies OK with no token and keeps the
// connection. Otherwise the token drives the connection's DIGEST-MD5
// exchange: each step is answered at once (zxid 0) with the server's
// token; on completion the connection gains sasl:<user> (and super for a
// SASL super user). A failed exchange is answered AUTHFAILED (or
// SESSIONCLOSEDREQUIRESASLAUTH when SASL is enforced), with an empty
// token, and the connection closes; the session stays until it expires or
// its client comes back. A request that cannot be read closes the
// connection.
func (c *Conn) sasl(xid int32, body []byte) error {
	var tok proto.TokenRecord
	d := jute.NewDecoder(body)
	tok.Decode(d)
	if d.Err() != nil || len(body) == 0 {
		return errors.New("malformed SASL request")
	}
	cfg := c.srv.auth.SASL()
	if cfg.Login == nil {
		c.Reply(xid, 0, proto.ErrOK, &proto.TokenRecord{Token: nil})
		return nil
	}
	if c.digest == nil {
		c.digest = cfg.Login.NewDigestMD5()
	}
	ignored := c.digest.IgnoredInitialResponse()
	resp, err := c.digest.Evaluate(tok.Token)
	if !ignored && c.digest.IgnoredInitialResponse() {
		c.srv.log.Warn("client sent an initial SASL token, ignored: zkit serves DIGEST-MD5 only (GSSAPI/Kerberos is not supported)",
			"client", c.nc.RemoteAddr().String(), "session", sessionHex(c.session.Load()))
	}
	if err != nil {
		c.srv.log.Warn("client failed to SASL authenticate", "client", c.nc.RemoteAddr().String(),
			"session", sessionHex(c.session.Load()), "reason", err.Error())
		required := cfg.Enforce.SASLRequired()
		if cfg.AllowFailedClients && !required {
			c.srv.log.Warn("keeping the client connection despite its SASL failure (allowSaslFailedClients)")
			c.Reply(xid, 0, proto.ErrOK, &proto.TokenRecord{Token: nil})
			return nil
		}
		code := proto.ErrAuthFailed
		if required {
			code = proto.ErrSessionClosedRequireSASL
		}
		c.Reply(xid, 0, code, &proto.TokenRecord{Token: nil})
		return errClose
	}
	if c.digest.Complete() {
		user := c.digest.AuthorizationID()
		ids := cfg.SASLIdentities(user)
		c.srv.log.Info("SASL authentication succeeded", "session", sessionHex(c.session.Load()),
			"user", user, "super", len(ids) > 1)
		c.addIDs(ids)
	}
	c.Reply(xid, 0, proto.ErrOK, &proto.TokenRecord{Token: resp})
	return nil
}

// addIDs adds identities to the connection, in ZooKeeper's order.
// The slice is replaced, never changed in place: AuthIDs hands it out.
func (c *Conn) addIDs(ids []proto.Id) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	next := append(make([]proto.Id, 0, len(c.ids)+len(ids)), c.ids...)
	for _, id := range ids {
		if !containsID(next, id) {
			next = append(next, id)
		}
	}
	sortAuthIDs(next)
	c.ids = next
}

// enforceAuth refuses a request from a connection with no identity of an
// enforced scheme (AuthenticationHelper.enforceAuthentication): the reply
// is SESSIONCLOSEDREQUIRESASLAUTH and the connection closes, leaving the
// session to expire.
func (c *Conn) enforceAuth(xid int32) error {
	cfg := c.srv.auth.SASL()
	if !cfg.Enforce.Enabled || cfg.Enforced(c.AuthIDs()) {
		return nil
	}
	c.srv.log.Warn("closing a connection without an identity of an enforced scheme",
		"client", c.nc.RemoteAddr().String(), "session", sessionHex(c.session.Load()), "schemes", cfg.Enforce.Schemes)
	c.Reply(xid, 0, proto.ErrSessionClosedRequireSASL, nil)
	return errClose
}
