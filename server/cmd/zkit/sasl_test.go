package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/auth"
	"zkit/server/config"
)

func writeJAAS(t *testing.T, dir, name, section string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(section+` {
	org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="bobsecret" user_super="s";
};`), 0o600))
	return p
}

func parseCfg(t *testing.T, dir string, lines ...string) *config.Config {
	t.Helper()
	text := "tickTime=2000\nclientPort=2181\ndataDir=" + dir + "\n" + strings.Join(lines, "\n") + "\n"
	cfg, err := config.Parse(strings.NewReader(text), "zoo.cfg")
	require.NoError(t, err)
	return cfg
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestSASLSettingsNone(t *testing.T) {
	sc, err := saslSettings(parseCfg(t, t.TempDir()), "", env(nil), quiet)
	require.NoError(t, err)
	require.Nil(t, sc)
}

func TestSASLSettingsFromZooCfg(t *testing.T) {
	dir := t.TempDir()
	jaas := writeJAAS(t, dir, "jaas.conf", "Server")
	cfg := parseCfg(t, dir,
		"java.security.auth.login.config="+jaas,
		"authProvider.1="+auth.SASLAuthenticationProviderClass,
		"zookeeper.superUser=bob",
		"superUser.2=carol",
		"sessionRequireClientSASLAuth=true",
		"SASLAuthenticationProvider.superPassword=override",
		"kerberos.removeRealmFromPrincipal=true",
		"letAnySaslUserDoX=anyone",
	)
	require.Empty(t, cfg.Warnings)
	sc, err := saslSettings(cfg, "", env(nil), quiet)
	require.NoError(t, err)
	require.NotNil(t, sc.Login)
	require.Equal(t, map[string]string{"bob": "bobsecret", "super": "s"}, sc.Login.Users)
	require.Equal(t, "override", *sc.Login.SuperPassword)
	require.True(t, sc.Login.RemoveRealm)
	require.False(t, sc.Login.RemoveHost)
	require.True(t, sc.Scheme)
	require.Equal(t, "anyone", sc.LetAnySASLUserDoX)
	require.Equal(t, []string{"bob", "carol"}, sc.SuperUsers)
	require.Equal(t, auth.Enforcement{Enabled: true, Schemes: []string{"sasl"}}, sc.Enforce)
}

// Operators keep SASL in SERVER_JVMFLAGS / JVMFLAGS, as zkServer.sh
// passes them to java; zoo.cfg wins over -Dzookeeper.X, --jaas over all.
func TestSASLSettingsFromJVMFlags(t *testing.T) {
	dir := t.TempDir()
	a := writeJAAS(t, dir, "a.conf", "Server")
	b := writeJAAS(t, dir, "b.conf", "ZkServer")
	c := writeJAAS(t, dir, "c.conf", "Server")
	vars := map[string]string{
		"SERVER_JVMFLAGS": "-Xmx1g -Djava.security.auth.login.config=" + a +
			" -Dzookeeper.authProvider.sasl=" + auth.SASLAuthenticationProviderClass +
			" -Dzookeeper.enforce.auth.enabled=true -Dzookeeper.enforce.auth.schemes=sasl,digest",
		"JVMFLAGS": "-Dzookeeper.superUser=admin",
	}
	sc, err := saslSettings(parseCfg(t, dir), "", env(vars), quiet)
	require.NoError(t, err)
	require.NotNil(t, sc.Login)
	require.True(t, sc.Scheme)
	require.Equal(t, []string{"admin"}, sc.SuperUsers)
	require.Equal(t, auth.Enforcement{Enabled: true, Schemes: []string{"sasl", "digest"}}, sc.Enforce)

	// JVMFLAGS comes later on the command line: it wins.
	vars["JVMFLAGS"] = "-Djava.security.auth.login.config=" + b + " -Dzookeeper.sasl.serverconfig=ZkServer"
	sc, err = saslSettings(parseCfg(t, dir), "", env(vars), quiet)
	require.NoError(t, err)
	require.NotNil(t, sc.Login)

	// zoo.cfg wins over -D: its file (c.conf) and its enforcement; the
	// section still comes from -D, which c.conf lacks: no login.
	sc, err = saslSettings(parseCfg(t, dir, "java.security.auth.login.config="+c, "enforce.auth.enabled=false"), "", env(vars), quiet)
	require.NoError(t, err)
	require.Nil(t, sc.Login)
	require.False(t, sc.Enforce.Enabled)
	sc, err = saslSettings(parseCfg(t, dir, "java.security.auth.login.config="+c, "sasl.serverconfig=Server"), "", env(vars), quiet)
	require.NoError(t, err)
	require.NotNil(t, sc.Login)
	// --jaas wins over everything.
	sc, err = saslSettings(parseCfg(t, dir, "java.security.auth.login.config="+b), a, env(nil), quiet)
	require.NoError(t, err)
	require.NotNil(t, sc.Login)
}

func TestSASLSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	jaas := writeJAAS(t, dir, "jaas.conf", "Server")
	other := writeJAAS(t, dir, "other.conf", "Client")
	krb := filepath.Join(dir, "krb.conf")
	require.NoError(t, os.WriteFile(krb, []byte(`Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true; };`), 0o600))

	_, err := saslSettings(parseCfg(t, dir), jaas+".missing", env(nil), quiet)
	require.ErrorContains(t, err, "--jaas: JAAS login configuration")
	_, err = saslSettings(parseCfg(t, dir), other, env(nil), quiet)
	require.ErrorContains(t, err, `no JAAS section named "Server"`)
	_, err = saslSettings(parseCfg(t, dir), krb, env(nil), quiet)
	require.ErrorContains(t, err, "GSSAPI (Kerberos) is not supported by zkit")
	// An enforced scheme without its provider fails when the server starts.
	sc, err := saslSettings(parseCfg(t, dir, "sessionRequireClientSASLAuth=true"), jaas, env(nil), quiet)
	require.NoError(t, err)
	srv, err := buildServer(parseCfg(t, dir), "127.0.0.1:0", true, sc, quiet)
	require.NoError(t, err)
	require.ErrorContains(t, srv.Start(), `authentication scheme "sasl" is enforced but not available (add authProvider.1=`)
	bad := filepath.Join(dir, "bad.conf")
	require.NoError(t, os.WriteFile(bad, []byte("Server {\n x required a='b'; };"), 0o600))
	_, err = saslSettings(parseCfg(t, dir, "java.security.auth.login.config="+bad), "", env(nil), quiet)
	require.ErrorContains(t, err, "zoo.cfg:4: "+bad+":2: single-quoted")

	// A JAAS file without the server's section, not named by --jaas: SASL
	// stays off, as in Apache.
	sc, err = saslSettings(parseCfg(t, dir), "", env(map[string]string{"JVMFLAGS": "-Djava.security.auth.login.config=" + other}), quiet)
	require.NoError(t, err)
	require.Nil(t, sc)
}
