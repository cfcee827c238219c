package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseServer(t *testing.T) {
	cases := []struct {
		spec string
		want Server
	}{
		{"zk1:2888:3888", Server{ID: 1, Addrs: []PeerAddr{{"zk1", 2888, 3888}}}},
		{"zk1:2888:3888:participant", Server{ID: 1, Addrs: []PeerAddr{{"zk1", 2888, 3888}}}},
		{"zk1:2888:3888:Observer", Server{ID: 1, Addrs: []PeerAddr{{"zk1", 2888, 3888}}, Observer: true}},
		{"zk1:2888:3888: observer ", Server{ID: 1, Addrs: []PeerAddr{{"zk1", 2888, 3888}}, Observer: true}},
		{"zk1:2888:3888;2181", Server{ID: 1, Addrs: []PeerAddr{{"zk1", 2888, 3888}}, ClientHost: "0.0.0.0", ClientPort: 2181}},
		{"zk1:2888:3888:observer;127.0.0.1:2181",
			Server{ID: 1, Addrs: []PeerAddr{{"zk1", 2888, 3888}}, Observer: true, ClientHost: "127.0.0.1", ClientPort: 2181}},
		// Apache drops the empty part after a trailing ';' (String.split).
		{"zk1:2888:3888;", Server{ID: 1, Addrs: []PeerAddr{{"zk1", 2888, 3888}}}},
		{"[::1]:2888:3888;[fe80::1]:2181",
			Server{ID: 1, Addrs: []PeerAddr{{"::1", 2888, 3888}}, ClientHost: "fe80::1", ClientPort: 2181}},
		{"10.0.0.1:2888:3888|[2001:db8::1]:2889:3889:participant",
			Server{ID: 1, Addrs: []PeerAddr{{"10.0.0.1", 2888, 3888}, {"2001:db8::1", 2889, 3889}}}},
		// Apache accepts an empty host (it resolves to the loopback address).
		{":2888:3888", Server{ID: 1, Addrs: []PeerAddr{{"", 2888, 3888}}}},
	}
	for _, tc := range cases {
		got, err := ParseServer(1, tc.spec)
		require.NoError(t, err, tc.spec)
		require.Equal(t, tc.want, got, tc.spec)
	}
}

func TestParseServerErrors(t *testing.T) {
	cases := map[string]string{
		"zk1:2888":                         `"zk1:2888": ` + serverForm,
		"zk1":                              `"zk1": ` + serverForm,
		"":                                 `"": ` + serverForm,
		";2181":                            `";2181": ` + serverForm,
		"zk1:2888:3888:4:5":                `"zk1:2888:3888:4:5": ` + serverForm,
		"zk1:2888:3888;;2181":              `"zk1:2888:3888;;2181": ` + serverForm,
		"zk1:2888:3888;a:b:2181":           `"zk1:2888:3888;a:b:2181": ` + serverForm,
		"zk1:x:3888":                       `"zk1:x:3888": quorum port: "x" is not an integer`,
		"zk1:2888:99999":                   `"zk1:2888:99999": election port: port 99999 is out of range (0-65535)`,
		"zk1:2888:3888;port":               `"zk1:2888:3888;port": client port: "port" is not an integer`,
		"zk1:2888:2888":                    `"zk1:2888:2888": quorum and election ports must differ (both 2888)`,
		"zk1:2888:3888:leader":             `"zk1:2888:3888:leader": unrecognised peer type "leader" (want participant or observer)`,
		"[::1:2888:3888":                   `"[::1:2888:3888": "[::1:2888:3888" starts with '[' but has no matching ']'`,
		"[::1]:":                           `"[::1]:": "[::1]:" has no port after the colon`,
		"[::1]x2888:3888":                  `"[::1]x2888:3888": "[::1]x2888:3888": want ':' after ']'`,
		"::1:2888:3888":                    `"::1:2888:3888": ` + serverForm,
		"a:1:2:observer|b:1:2":             "", // untyped addresses take the typed one's role
		"a:1:2:observer|b:1:2:participant": `"a:1:2:observer|b:1:2:participant": all addresses of a server must have the same role`,
		"zk1:2888:3888 ":                   `"zk1:2888:3888 ": election port: "3888 " is not an integer`,
	}
	for spec, msg := range cases {
		_, err := ParseServer(1, spec)
		if msg == "" {
			require.NoError(t, err, spec)
			continue
		}
		require.EqualError(t, err, msg, spec)
	}
}

func TestServerString(t *testing.T) {
	for spec, want := range map[string]string{
		"zk1:2888:3888":                           "zk1:2888:3888:participant",
		"zk1:2888:3888:observer;2181":             "zk1:2888:3888:observer;0.0.0.0:2181",
		"[::1]:2888:3888;[::1]:2181":              "[::1]:2888:3888:participant;[::1]:2181",
		"a:1:2|b:3:4;127.0.0.1:2181":              "a:1:2|b:3:4:participant;127.0.0.1:2181",
		"zk1:2888:3888:participant;10.1.1.1:2181": "zk1:2888:3888:participant;10.1.1.1:2181",
	} {
		s, err := ParseServer(1, spec)
		require.NoError(t, err)
		require.Equal(t, want, s.String(), spec)
	}
	s, _ := ParseServer(1, "[::1]:2888:3888")
	require.Equal(t, "[::1]:2888", s.QuorumAddr())
	require.Equal(t, "[::1]:3888", s.ElectionAddr())
}
