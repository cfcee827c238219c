package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSystemPropertySettings(t *testing.T) {
	c := mustParse(t, base+`extendedTypesEnabled=true
jute.maxbuffer=0x400000
snapCount=5000
forceSync=no
preAllocSize=1024
readonlymode.enabled=true
admin.enableServer=false
admin.serverAddress=127.0.0.1
admin.serverPort=9090
admin.commandURL=/cmd
DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
superUser=admin
superUser.2=ops
authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
authProvider.sasl=com.example.Sasl
`)
	require.Empty(t, c.Warnings)
	require.True(t, c.ExtendedTypesEnabled)
	require.Equal(t, 0x400000, c.JuteMaxBuffer)
	require.Equal(t, 5000, c.SnapCount)
	require.False(t, c.ForceSync)
	require.Equal(t, int64(1024), c.PreAllocSizeKB)
	require.True(t, c.ReadOnlyMode)
	require.False(t, c.AdminEnableServer)
	require.Equal(t, "127.0.0.1", c.AdminServerAddress)
	require.Equal(t, 9090, c.AdminServerPort)
	require.Equal(t, "/cmd", c.AdminCommandURL)
	require.Equal(t, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=", c.SuperDigest)
	require.Equal(t, []string{"admin", "ops"}, c.SuperUsers)
	require.Equal(t, map[string]string{
		"1":    "org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
		"sasl": "com.example.Sasl",
	}, c.AuthProviders)
}

// Every system-property setting may also be spelled with the "zookeeper."
// prefix of the Java property (as one would pass it with -D).
func TestZookeeperPrefixedSpellings(t *testing.T) {
	c := mustParse(t, base+`zookeeper.extendedTypesEnabled=true
zookeeper.jute.maxbuffer=2048
zookeeper.snapCount=10
zookeeper.readonlymode.enabled=true
zookeeper.4lw.commands.whitelist=ruok
zookeeper.DigestAuthenticationProvider.superDigest=super:x
zookeeper.superUser=root
zookeeper.authProvider.1=com.example.Auth
zookeeper.admin.serverPort=9999
`)
	require.Empty(t, c.Warnings)
	require.True(t, c.ExtendedTypesEnabled)
	require.Equal(t, 2048, c.JuteMaxBuffer)
	require.Equal(t, 10, c.SnapCount)
	require.True(t, c.ReadOnlyMode)
	require.Equal(t, []string{"ruok"}, c.FourLetterWords)
	require.Equal(t, "super:x", c.SuperDigest)
	require.Equal(t, []string{"root"}, c.SuperUsers)
	require.Equal(t, map[string]string{"1": "com.example.Auth"}, c.AuthProviders)
	require.Equal(t, 9999, c.AdminServerPort)
	require.Equal(t, "2048", c.Raw["jute.maxbuffer"])
	require.NotContains(t, c.Raw, "zookeeper.jute.maxbuffer")
}

func TestBothSpellingsShortWins(t *testing.T) {
	for _, text := range []string{
		"snapCount=7\nzookeeper.snapCount=9\n",
		"zookeeper.snapCount=9\nsnapCount=7\n",
	} {
		c := mustParse(t, base+text)
		require.Equal(t, 7, c.SnapCount)
		require.Len(t, c.Warnings, 1)
		require.Contains(t, c.Warnings[0], "zookeeper.snapCount is also set as snapCount")
	}
}

// Apache reads these leniently: a bad value falls back to the default (or
// to false), so zkit warns instead of failing.
func TestLenientValuesWarn(t *testing.T) {
	cases := []struct {
		line, warning string
		check         func(*Config)
	}{
		{"snapCount=lots", `zoo.cfg:3: snapCount: "lots" is not an integer; using the default 100000, as Apache does`,
			func(c *Config) { require.Equal(t, 100000, c.SnapCount) }},
		{"snapCount=1", `zoo.cfg:3: snapCount: 1 is below 2; using 2, as Apache does`,
			func(c *Config) { require.Equal(t, 2, c.SnapCount) }},
		{"jute.maxbuffer=4M", `zoo.cfg:3: jute.maxbuffer: "4M" is not an integer; using the default 1048575, as Apache does`,
			func(c *Config) { require.Equal(t, 0xfffff, c.JuteMaxBuffer) }},
		{"extendedTypesEnabled=yes", `zoo.cfg:3: extendedTypesEnabled: "yes" is not a boolean (want true or false); Apache reads it as false`,
			func(c *Config) { require.False(t, c.ExtendedTypesEnabled) }},
		// FileTxnLog only compares with "no": forceSync=false still syncs.
		{"forceSync=false", `zoo.cfg:3: forceSync: "false" is neither yes nor no; Apache reads anything but "no" as yes`,
			func(c *Config) { require.True(t, c.ForceSync) }},
		{"preAllocSize=64M", `zoo.cfg:3: preAllocSize: "64M" is not an integer; using the default 65536 KB, as Apache does`,
			func(c *Config) { require.Equal(t, int64(65536), c.PreAllocSizeKB) }},
		// AdminServerFactory compares with "false" exactly.
		{"admin.enableServer=FALSE", `zoo.cfg:3: admin.enableServer: "FALSE" is neither true nor false; Apache enables the admin server unless it is exactly "false"`,
			func(c *Config) { require.True(t, c.AdminEnableServer) }},
		{"metricsProvider.className=com.example.Metrics", `zoo.cfg:3: metricsProvider.className: com.example.Metrics is not a provider zkit knows`,
			func(c *Config) { require.Equal(t, "com.example.Metrics", c.MetricsProviderClassName) }},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			c := mustParse(t, base+tc.line+"\n")
			require.Equal(t, []string{tc.warning}, c.Warnings)
			tc.check(c)
		})
	}
}

func TestFourLetterWords(t *testing.T) {
	// Checked against Apache 3.8.0 standalone: with no whitelist, "srvr"
	// answers and "ruok", "stat", "conf" and "isro" reply
	// "... is not executed because it is not in the whitelist."
	c := mustParse(t, base)
	for cmd, want := range map[string]bool{"srvr": true, "ruok": false, "stat": false, "mntr": false, "isro": false} {
		require.Equal(t, want, c.FourLetterWordEnabled(cmd), cmd)
	}

	c = mustParse(t, base+"4lw.commands.whitelist= stat, ruok ,,stat\nreadonlymode.enabled=true\n")
	require.Equal(t, []string{"stat", "ruok"}, c.FourLetterWords)
	for cmd, want := range map[string]bool{"srvr": true, "ruok": true, "stat": true, "mntr": false, "isro": true} {
		require.Equal(t, want, c.FourLetterWordEnabled(cmd), cmd)
	}

	c = mustParse(t, base+"4lw.commands.whitelist=ruok, *\n")
	require.True(t, c.FourLetterWordsAll)
	require.True(t, c.FourLetterWordEnabled("mntr"))

	c = mustParse(t, base+"4lw.commands.whitelist=\n")
	require.Equal(t, []string{}, c.FourLetterWords)
	require.True(t, c.FourLetterWordEnabled("srvr"))
	require.False(t, c.FourLetterWordEnabled("ruok"))
}
