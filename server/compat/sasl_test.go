package compat

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/internal/oracle"
	"zkit/server/internal/zkclient"
	"zkit/server/jute"
	"zkit/server/member"
	"zkit/server/proto"
)

// SASL DIGEST-MD5 against Apache ZooKeeper: the same logins, good and
// bad, the sasl ACL scheme, SASL super users and enforcement, recorded as
// transcripts of what a client sees (reply codes, token shapes, whoAmI,
// whether the connection closes) and compared line by line.

const saslJAAS = `Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_bob="bobsecret"
       user_alice="alicesecret"
       user_admin="adminsecret";
};
`

// saslSetup is one configuration, applied alike to both servers.
type saslSetup struct {
	name     string
	provider bool // authProvider.1 = SASLAuthenticationProvider
	require  bool // sessionRequireClientSASLAuth=true
	script   func(r *saslRec)
}

func TestSASLAgainstApache(t *testing.T) {
	dir := t.TempDir()
	jaas := filepath.Join(dir, "jaas.conf")
	require.NoError(t, os.WriteFile(jaas, []byte(saslJAAS), 0o600))
	j, err := auth.LoadJAAS(jaas)
	require.NoError(t, err)

	setups := []saslSetup{
		{name: "provider", provider: true, script: saslScriptFull},
		{name: "no-provider", script: saslScriptNoProvider},
		{name: "required", provider: true, require: true, script: saslScriptRequired},
	}
	for _, su := range setups {
		t.Run(su.name, func(t *testing.T) {
			t.Parallel()
			opts := oracle.Options{
				TickTime: tickMS,
				JVMArgs: []string{
					"-Djava.security.auth.login.config=" + jaas,
					"-Dzookeeper.superUser=admin",
					"-Xshare:auto", "-XX:TieredStopAtLevel=1",
				},
				Config: map[string]string{"forceSync": "no"},
			}
			login, err := j.SASLLogin("Server")
			require.NoError(t, err)
			sc := &auth.SASLConfig{Login: login, SuperUsers: []string{"admin"}}
			if su.provider {
				opts.Config["authProvider.1"] = auth.SASLAuthenticationProviderClass
				sc.Scheme = true
			}
			if su.require {
				opts.Config["sessionRequireClientSASLAuth"] = "true"
				sc.Enforce = auth.Enforcement{Enabled: true, Schemes: []string{"sasl"}}
			}
			a := oracle.Start(t, opts)
			z := member.New(member.Options{
				ClientAddr: "127.0.0.1:0", TickTime: tickMS * time.Millisecond, SASL: sc,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			require.NoError(t, z.Start())
			t.Cleanup(z.Stop)

			var apache []string
			var apacheErr error
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				apache, apacheErr = runSASLScript(a.Addr(), su.script)
			}()
			zkit, err := runSASLScript(z.Addr().String(), su.script)
			wg.Wait()
			require.NoError(t, apacheErr)
			require.NoError(t, err)
			require.Equal(t, strings.Join(apache, "\n"), strings.Join(zkit, "\n"), "apache (expected) vs zkit (actual)")
			t.Logf("transcript:\n%s", strings.Join(zkit, "\n"))
		})
	}
}

// saslRec records one server's transcript.
type saslRec struct {
	addr  string
	lines []string
	err   error
}

func (r *saslRec) logf(format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *saslRec) fail(err error) {
	if r.err == nil && err != nil {
		r.err = err
	}
}

func runSASLScript(addr string, script func(*saslRec)) ([]string, error) {
	r := &saslRec{addr: addr}
	script(r)
	return r.lines, r.err
}

func (r *saslRec) client() *zkclient.Client {
	c, err := zkclient.Connect(r.addr, zkclient.Options{Timeout: 4 * time.Second})
	r.fail(err)
	return c
}

var nonceRE = regexp.MustCompile(`nonce="[A-Za-z0-9+/]{40}"`)

// shape hides the random parts of a server token.
func shape(tok []byte) string {
	if tok == nil {
		return "null"
	}
	s := nonceRE.ReplaceAllString(string(tok), `nonce="<40 base64>"`)
	if strings.HasPrefix(s, "rspauth=") && len(s) == len("rspauth=")+32 {
		s = "rspauth=<32 hex>"
	}
	return fmt.Sprintf("%q", s)
}

// step sends one SASL token and records the reply.
func (r *saslRec) step(label string, c *zkclient.Client, tok []byte) []byte {
	h, out, err := c.SASL(tok)
	if err != nil {
		r.logf("%s: %v", label, err)
		return nil
	}
	r.logf("%s: xid=%d zxid=%d err=%d token=%s", label, h.Xid, h.Zxid, h.Err, shape(out))
	return out
}

// login runs an exchange with m and records both steps.
func (r *saslRec) login(label string, c *zkclient.Client, m *zkclient.DigestMD5) {
	ch := r.step(label+" challenge", c, []byte{})
	if ch == nil {
		return
	}
	resp, err := m.Response(ch)
	if err != nil {
		r.fail(err)
		return
	}
	final := r.step(label+" response", c, []byte(resp))
	if strings.HasPrefix(string(final), "rspauth=") {
		r.logf("%s rspauth check: %v", label, m.CheckRspauth(final))
	}
}

func (r *saslRec) closed(label string, c *zkclient.Client) {
	select {
	case <-c.Done():
		r.logf("%s: connection closed", label)
	case <-time.After(2 * time.Second):
		r.logf("%s: connection open", label)
	}
}

func (r *saslRec) whoAmI(label string, c *zkclient.Client) {
	var who proto.WhoAmIResponse
	h, err := c.Call(proto.OpWhoAmI, nil, &who)
	if err != nil {
		r.logf("%s whoAmI: %v", label, err)
		return
	}
	r.logf("%s whoAmI: err=%d %v", label, h.Err, who.ClientInfo)
}

func (r *saslRec) create(label string, c *zkclient.Client, path string, acl []proto.ACL) {
	h, err := c.Call(proto.OpCreate, &proto.CreateRequest{Path: path, Data: []byte("d"), ACL: acl}, nil)
	if err != nil {
		r.logf("%s create %s: %v", label, path, err)
		return
	}
	r.logf("%s create %s: err=%d", label, path, h.Err)
	if h.Err == proto.ErrOK {
		var got proto.GetACLResponse
		h, err := c.Call(proto.OpGetACL, &proto.PathRecord{Path: path}, &got)
		r.fail(err)
		r.logf("%s getACL %s: err=%d %v", label, path, h.Err, got.ACL)
	}
}

func (r *saslRec) get(label string, c *zkclient.Client, path string) {
	h, err := c.Call(proto.OpGetData, &proto.PathWatchRequest{Path: path}, nil)
	if err != nil {
		r.logf("%s getData %s: %v", label, path, err)
		return
	}
	r.logf("%s getData %s: err=%d", label, path, h.Err)
}

func saslACL(id string) []proto.ACL {
	return []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "sasl", ID: id}}}
}

func saslScriptFull(r *saslRec) {
	bob := r.client()
	defer bob.Drop()
	r.login("bob", bob, &zkclient.DigestMD5{User: "bob", Password: "bobsecret"})
	r.whoAmI("bob", bob)
	r.create("bob", bob, "/sasl-bob", saslACL("bob"))
	r.create("bob", bob, "/sasl-auth", []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "auth"}}})
	r.create("bob", bob, "/sasl-bad", saslACL("a@b@c"))
	r.create("bob", bob, "/sasl-krb", saslACL("zk/host@EXAMPLE.COM"))
	r.get("bob", bob, "/sasl-bob")

	plain := r.client()
	defer plain.Drop()
	r.get("plain", plain, "/sasl-bob")
	alice := r.client()
	defer alice.Drop()
	r.login("alice", alice, &zkclient.DigestMD5{User: "alice", Password: "alicesecret"})
	r.get("alice", alice, "/sasl-bob")
	admin := r.client()
	defer admin.Drop()
	r.login("admin", admin, &zkclient.DigestMD5{User: "admin", Password: "adminsecret"})
	r.whoAmI("admin", admin)
	r.get("admin", admin, "/sasl-bob")

	// An authzid does not change who the user is.
	az := r.client()
	defer az.Drop()
	r.login("authzid", az, &zkclient.DigestMD5{User: "bob", Password: "bobsecret", Authzid: "admin"})
	r.whoAmI("authzid", az)
	// digest-uri compares case-insensitively.
	uc := r.client()
	defer uc.Drop()
	r.login("uri-case", uc, &zkclient.DigestMD5{User: "alice", Password: "alicesecret", DigestURI: "ZOOKEEPER/zk-SASL-md5"})
	// An initial response is ignored: the challenge comes anyway.
	ir := r.client()
	defer ir.Drop()
	r.step("initial-response", ir, []byte("an initial response"))
	// A token after the completed exchange.
	r.step("after-complete", bob, []byte("more"))
	r.closed("after-complete", bob)

	for _, f := range []struct {
		label string
		m     *zkclient.DigestMD5
	}{
		{"wrong-password", &zkclient.DigestMD5{User: "bob", Password: "wrong"}},
		{"unknown-user", &zkclient.DigestMD5{User: "eve", Password: "evesecret"}},
		{"auth-int", &zkclient.DigestMD5{User: "bob", Password: "bobsecret", Qop: "auth-int"}},
		{"other-uri", &zkclient.DigestMD5{User: "bob", Password: "bobsecret", DigestURI: "zookeeper/localhost"}},
		{"garbage", &zkclient.DigestMD5{Mutate: func(string) string { return "\x01 not a digest response" }}},
		{"no-username", &zkclient.DigestMD5{Mutate: func(s string) string { return strings.Replace(s, `username="",`, "", 1) }}},
	} {
		c := r.client()
		r.login(f.label, c, f.m)
		r.closed(f.label, c)
		c.Drop()
	}

	// addauth sasl fails.
	aa := r.client()
	code, err := aa.Auth("sasl", []byte("bob"))
	r.logf("addauth sasl: err=%d %v", code, err)
	r.closed("addauth sasl", aa)
	// An unreadable SASL request closes the connection.
	mal := r.client()
	e := jute.NewEncoder(nil)
	(&proto.RequestHeader{Xid: 1, Type: proto.OpSASL}).Encode(e)
	e.Int(64)
	frame := append([]byte{0, 0, 0, byte(len(e.Bytes()))}, e.Bytes()...)
	r.fail(mal.SendRaw(frame))
	r.closed("malformed request", mal)

	// The server is unharmed.
	again := r.client()
	defer again.Drop()
	r.login("again", again, &zkclient.DigestMD5{User: "bob", Password: "bobsecret"})
	r.get("again", again, "/sasl-bob")
}

// Without the SASLAuthenticationProvider, logins succeed but the sasl
// scheme is unknown to ACLs.
func saslScriptNoProvider(r *saslRec) {
	bob := r.client()
	defer bob.Drop()
	r.login("bob", bob, &zkclient.DigestMD5{User: "bob", Password: "bobsecret"})
	r.whoAmI("bob", bob)
	r.create("bob", bob, "/sasl-bob", saslACL("bob"))
	r.create("bob", bob, "/sasl-auth", []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "auth"}}})
	admin := r.client()
	defer admin.Drop()
	r.login("admin", admin, &zkclient.DigestMD5{User: "admin", Password: "adminsecret"})
	r.whoAmI("admin", admin)
}

// sessionRequireClientSASLAuth: requests before a SASL login close the
// connection; a failed login says SASL is required.
func saslScriptRequired(r *saslRec) {
	plain := r.client()
	h, err := plain.Call(proto.OpExists, &proto.PathWatchRequest{Path: "/"}, nil)
	r.logf("plain exists: err=%d zxid=%d %v", h.Err, h.Zxid, err)
	r.closed("plain", plain)
	bob := r.client()
	defer bob.Drop()
	r.login("bob", bob, &zkclient.DigestMD5{User: "bob", Password: "bobsecret"})
	r.create("bob", bob, "/req", proto.OpenACLUnsafe)
	bad := r.client()
	r.login("wrong-password", bad, &zkclient.DigestMD5{User: "bob", Password: "wrong"})
	r.closed("wrong-password", bad)
	bad.Drop()
}
