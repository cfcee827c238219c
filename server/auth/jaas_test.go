package auth

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The JAAS file of ZooKeeper's SASL guide, with the comment styles and
// quoting Java's parser accepts.
const sampleJAAS = `
/* The server's users. */
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"   // the super user
       user_bob="bob\"s \\secret"
       user_alice=plainword
       user_émile="pässwörd";
};

Client {
       org.apache.zookeeper.server.auth.DigestLoginModule Optional
       username="bob"
       password="bobsecret";
};
Empty { };
`

func TestParseJAAS(t *testing.T) {
	j, err := ParseJAAS([]byte(sampleJAAS), "jaas.conf")
	require.NoError(t, err)
	require.Len(t, j.Sections, 3)
	srv := j.Sections["Server"]
	require.Len(t, srv, 1)
	require.Equal(t, DigestLoginModule, srv[0].Class)
	require.Equal(t, "REQUIRED", srv[0].Flag)
	require.Equal(t, 4, srv[0].Line)
	require.Equal(t, "OPTIONAL", j.Sections["Client"][0].Flag)
	require.Empty(t, j.Sections["Empty"])

	login, err := j.SASLLogin("Server")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"super": "adminsecret", "bob": `bob"s \secret`, "alice": "plainword", "émile": "pässwörd"}, login.Users)
	// The Client section's username/password are no server users.
	login, err = j.SASLLogin("Client")
	require.NoError(t, err)
	require.Empty(t, login.Users)
	login, err = j.SASLLogin("Missing")
	require.NoError(t, err)
	require.Nil(t, login)
}

func TestParseJAASErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{`Server { m required a="b" }; `, "jaas.conf:1: expected an option name or ';', found '}'"},
		{`Server { m required a="b"; `, "expected a login module class name, found end of file"},
		{`Server { m mandatory; };`, `jaas.conf:1: invalid control flag "mandatory"`},
		{"Server {\n m required\n a='b'; };", "jaas.conf:3: single-quoted strings are not accepted"},
		{`Server { m required a=123; };`, "must be double-quoted"},
		{`Server { m required a="${user.home}"; };`, "property expansion is not supported"},
		{"Server { m required a=\"b\n\"; };", "unterminated quoted string"},
		{`Server { m required a="b"; }; Server { n required; };`, `section "Server" is given more than once`},
		{`Server { m required a b; };`, "expected '=', found 'b'"},
		{`Server { m required; }`, "expected ';', found end of file"},
		{`/* open`, "unterminated /* comment"},
		{`Server ( };`, `unexpected character '('`},
	}
	for _, c := range cases {
		_, err := ParseJAAS([]byte(c.text), "jaas.conf")
		require.ErrorContains(t, err, c.want, c.text)
	}
}

func TestJAASUnsupportedModules(t *testing.T) {
	j, err := ParseJAAS([]byte(`Server {
	com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/k" principal="zookeeper/h@R";
};
Other { org.example.Custom required user_a="b"; };`), "j.conf")
	require.NoError(t, err)
	_, err = j.SASLLogin("Server")
	require.ErrorContains(t, err, "j.conf:2: section Server uses com.sun.security.auth.module.Krb5LoginModule: SASL with GSSAPI (Kerberos) is not supported by zkit")
	_, err = j.SASLLogin("Other")
	require.ErrorContains(t, err, "login module org.example.Custom, which zkit does not support")
}

func TestJAASPath(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/zk/jaas.conf":              "/etc/zk/jaas.conf",
		"=/etc/zk/jaas.conf":             "/etc/zk/jaas.conf",
		"file:///etc/zk/jaas.conf":       "/etc/zk/jaas.conf",
		"file:/etc/zk/a%20b.conf":        "/etc/zk/a b.conf",
		"conf/jaas.conf":                 "conf/jaas.conf",
		"C:/zk/jaas.conf":                "C:/zk/jaas.conf",
		"file:relative/jaas.conf":        "relative/jaas.conf",
		"==/etc/zk/jaas.conf":            "=/etc/zk/jaas.conf",
		"/path/with:colon/jaas.conf":     "/path/with:colon/jaas.conf",
		"FILE:///etc/zookeeper/jaas.cfg": "/etc/zookeeper/jaas.cfg",
	} {
		got, err := JAASPath(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "=", "http://example.com/jaas.conf", "${user.home}/jaas.conf"} {
		_, err := JAASPath(bad)
		require.Error(t, err, bad)
	}
}

func TestLoadJAAS(t *testing.T) {
	p := filepath.Join(t.TempDir(), "jaas.conf")
	require.NoError(t, os.WriteFile(p, []byte(sampleJAAS), 0o600))
	j, err := LoadJAAS(p)
	require.NoError(t, err)
	require.Equal(t, p, j.File)
	_, err = LoadJAAS(p + ".missing")
	require.ErrorContains(t, err, "no such file")
}
