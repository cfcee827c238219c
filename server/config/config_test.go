package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// base is a minimal valid config: lines 1 and 2. Its dataDir does not
// exist, so no myid is read.
const base = "dataDir=/nonexistent/zkit-config-test\nclientPort=2181\n"

func parse(t *testing.T, text string) (*Config, error) {
	t.Helper()
	return Parse(strings.NewReader(text), "zoo.cfg")
}

func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	c, err := parse(t, text)
	require.NoError(t, err)
	return c
}

func TestLoadApacheSample(t *testing.T) {
	c, err := Load("testdata/zoo_sample.cfg")
	require.NoError(t, err)
	require.Equal(t, "testdata/zoo_sample.cfg", c.File)
	require.Equal(t, 2000, c.TickTimeMs)
	require.Equal(t, 10, c.InitLimit)
	require.Equal(t, 5, c.SyncLimit)
	require.Equal(t, "/tmp/zookeeper", c.DataDir)
	require.Equal(t, "/tmp/zookeeper", c.DataLogDir)
	require.Equal(t, 2181, c.ClientPort)
	require.Equal(t, ":2181", c.ClientAddr())
	require.Equal(t, 4000, c.MinSessionTimeoutMs)
	require.Equal(t, 40000, c.MaxSessionTimeoutMs)
	require.True(t, c.Standalone())
	require.Empty(t, c.Warnings)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.cfg")
	require.EqualError(t, err, "testdata/nope.cfg: cannot read: no such file or directory")
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, base)
	want := newConfig("zoo.cfg")
	want.DataDir, want.DataLogDir, want.ClientPort = "/nonexistent/zkit-config-test", "/nonexistent/zkit-config-test", 2181
	want.MinSessionTimeoutMs, want.MaxSessionTimeoutMs = 6000, 60000 // 2 and 20 ticks of 3000 ms
	want.Raw = map[string]string{"dataDir": want.DataDir, "clientPort": "2181"}
	want.where = map[string]string{"dataDir": "zoo.cfg:1", "clientPort": "zoo.cfg:2"}
	require.Equal(t, want, c)

	// The values Apache 3.8 uses, spelled out.
	require.Equal(t, 3000, c.TickTimeMs)
	require.Equal(t, 0, c.InitLimit)
	require.Equal(t, 0, c.SyncLimit)
	require.Equal(t, 60, c.MaxClientCnxns)
	require.Equal(t, -1, c.ClientPortListenBacklog)
	require.Equal(t, 0, c.SecureClientPort)
	require.Equal(t, "", c.SecureClientAddr())
	require.Equal(t, 3, c.ElectionAlg)
	require.Equal(t, 3, c.SnapRetainCount)
	require.Equal(t, 0, c.PurgeIntervalHours)
	require.Equal(t, 100000, c.SnapCount)
	require.Equal(t, 0xfffff, c.JuteMaxBuffer)
	require.Equal(t, int64(65536), c.PreAllocSizeKB)
	require.True(t, c.ForceSync)
	require.True(t, c.SyncEnabled)
	require.True(t, c.StandaloneEnabled)
	require.False(t, c.ReconfigEnabled)
	require.False(t, c.LocalSessionsEnabled)
	require.False(t, c.ExtendedTypesEnabled)
	require.False(t, c.ReadOnlyMode)
	require.False(t, c.QuorumListenOnAllIPs)
	require.False(t, c.Observer)
	require.True(t, c.AdminEnableServer)
	require.Equal(t, "0.0.0.0", c.AdminServerAddress)
	require.Equal(t, 8080, c.AdminServerPort)
	require.Equal(t, "/commands", c.AdminCommandURL)
	require.Equal(t, DefaultMetricsProvider, c.MetricsProviderClassName)
	require.Equal(t, "0.0.0.0", c.MetricsHTTPHost)
	require.Equal(t, 7000, c.MetricsHTTPPort)
	require.Nil(t, c.FourLetterWords)
	require.Empty(t, c.SuperDigest)
	require.Empty(t, c.SuperUsers)
	require.Empty(t, c.AuthProviders)
	require.Equal(t, int64(-1), c.MyID)
	require.Nil(t, c.Self())
	require.True(t, c.Standalone())
}

func TestTypedKeys(t *testing.T) {
	c := mustParse(t, base+`tickTime=1000
initLimit=10
syncLimit=5
dataLogDir=/logs
clientPortAddress=[::1]
secureClientPort=2281
secureClientPortAddress=10.0.0.1
maxClientCnxns=0
minSessionTimeout=1500
maxSessionTimeout=90000
localSessionsEnabled=TRUE
quorumListenOnAllIPs=true
electionAlg=3
autopurge.snapRetainCount=5
autopurge.purgeInterval=24
reconfigEnabled=true
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpHost=127.0.0.1
metricsProvider.httpPort=7001
metricsProvider.exportJvmInfo=false
`)
	require.Equal(t, 1000, c.TickTimeMs)
	require.Equal(t, "/logs", c.DataLogDir)
	require.Equal(t, "::1", c.ClientPortAddress)
	require.Equal(t, "[::1]:2181", c.ClientAddr())
	require.Equal(t, "10.0.0.1:2281", c.SecureClientAddr())
	require.Equal(t, 0, c.MaxClientCnxns)
	require.Equal(t, 1500, c.MinSessionTimeoutMs)
	require.Equal(t, 90000, c.MaxSessionTimeoutMs)
	require.True(t, c.LocalSessionsEnabled)
	require.True(t, c.QuorumListenOnAllIPs)
	require.Equal(t, 5, c.SnapRetainCount)
	require.Equal(t, 24, c.PurgeIntervalHours)
	require.True(t, c.ReconfigEnabled)
	require.Equal(t, PrometheusMetricsClass, c.MetricsProviderClassName)
	require.Equal(t, "127.0.0.1", c.MetricsHTTPHost)
	require.Equal(t, 7001, c.MetricsHTTPPort)
	require.Equal(t, map[string]string{"httpHost": "127.0.0.1", "httpPort": "7001", "exportJvmInfo": "false"}, c.MetricsProvider)
	require.Equal(t, "zoo.cfg:6", c.Where("dataLogDir"))
	require.Empty(t, c.Warnings)
}

func TestSessionTimeoutDefaultsFollowTickTime(t *testing.T) {
	c := mustParse(t, base+"tickTime=500\nminSessionTimeout=-1\n")
	require.Equal(t, 1000, c.MinSessionTimeoutMs)
	require.Equal(t, 10000, c.MaxSessionTimeoutMs)
}

func TestSnapRetainCountIsAtLeastThree(t *testing.T) {
	c := mustParse(t, base+"autopurge.snapRetainCount=1\n")
	require.Equal(t, 3, c.SnapRetainCount)
	require.Equal(t, []string{"zoo.cfg:3: autopurge.snapRetainCount: 1 is below 3; using 3, as Apache does"}, c.Warnings)
}

func TestBadValues(t *testing.T) {
	cases := []struct{ line, err string }{
		{"tickTime=abc", `zoo.cfg:3: tickTime: "abc" is not an integer`},
		{"tickTime=", `zoo.cfg:3: tickTime: "" is not an integer`},
		{"tickTime=0", `zoo.cfg:3: tickTime: is not set (0)`},
		{"tickTime=-5", `zoo.cfg:3: tickTime: -5 is not positive`},
		{"initLimit=1.5", `zoo.cfg:3: initLimit: "1.5" is not an integer`},
		{"maxClientCnxns=99999999999", `zoo.cfg:3: maxClientCnxns: "99999999999" is out of range`},
		{"clientPort=70000", `zoo.cfg:3: clientPort: port 70000 is out of range (0-65535)`},
		{"secureClientPort=x", `zoo.cfg:3: secureClientPort: "x" is not an integer`},
		{"standaloneEnabled=yes", `zoo.cfg:3: standaloneEnabled: "yes" is not a boolean (want true or false)`},
		{"localSessionsEnabled=1", `zoo.cfg:3: localSessionsEnabled: "1" is not a boolean (want true or false)`},
		{"peerType=leader", `zoo.cfg:3: peerType: unrecognised peer type "leader" (want participant or observer)`},
		{"electionAlg=1", `zoo.cfg:3: electionAlg: 1 is not supported; only 3 (fast leader election) is`},
		{"jvm.pause.warn-threshold.ms=soon", `zoo.cfg:3: jvm.pause.warn-threshold.ms: "soon" is not an integer`},
		{"metricsProvider.httpPort=http", `zoo.cfg:3: metricsProvider.httpPort: "http" is not an integer`},
		{"dataLogDir=", `zoo.cfg:3: dataLogDir: empty directory name`},
		{"clientPortAddress=", `zoo.cfg:3: clientPortAddress: empty address`},
		{"dynamicConfigFile=", `zoo.cfg:3: dynamicConfigFile: empty file name`},
		{"minSessionTimeout=70000", `zoo.cfg:3: minSessionTimeout: 70000 ms must not be larger than maxSessionTimeout (60000 ms)`},
		{"minSessionTimeout=5000\nmaxSessionTimeout=4000", `zoo.cfg:3: minSessionTimeout: 5000 ms must not be larger than maxSessionTimeout (4000 ms)`},
		{"quorum.auth.serverRequireSasl=true", `zoo.cfg:3: quorum.auth.serverRequireSasl: cannot be true while quorum.auth.enableSasl is false`},
		{"dynamicConfigFile=/x\nserver.1=a:1:2", `zoo.cfg:4: server.1: must be in the dynamic config file, as dynamicConfigFile is set`},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			_, err := parse(t, base+tc.line+"\n")
			require.EqualError(t, err, tc.err)
			var ce *Error
			require.ErrorAs(t, err, &ce)
		})
	}
}

func TestAllValueErrorsAreReported(t *testing.T) {
	_, err := parse(t, base+"tickTime=abc\ninitLimit=x\n")
	require.EqualError(t, err, "zoo.cfg:3: tickTime: \"abc\" is not an integer\nzoo.cfg:4: initLimit: \"x\" is not an integer")
}

func TestMissingRequiredValues(t *testing.T) {
	cases := []struct{ text, err string }{
		{"clientPort=2181\n", "zoo.cfg: dataDir is not set"},
		{"dataDir=/d\n", "zoo.cfg: clientPort is not set (nor secureClientPort)"},
		{"dataDir=/d\nclientPortAddress=127.0.0.1\n", "zoo.cfg:2: clientPortAddress: is set but clientPort is not set"},
		{"dataDir=/d\nclientPort=1\nsecureClientPortAddress=::1\n", "zoo.cfg:3: secureClientPortAddress: is set but secureClientPort is not set"},
	}
	for _, tc := range cases {
		_, err := parse(t, tc.text)
		require.EqualError(t, err, tc.err)
	}
	// A TLS-only server is fine.
	c := mustParse(t, "dataDir=/d\nsecureClientPort=2281\n")
	require.Equal(t, "", c.ClientAddr())
	require.Equal(t, ":2281", c.SecureClientAddr())
}

func TestUnknownKeyIsAWarning(t *testing.T) {
	c := mustParse(t, base+"tikTime=2000\nzookeeper.tickTime=5\n")
	require.Equal(t, 3000, c.TickTimeMs)
	require.Equal(t, []string{
		`zoo.cfg:3: unknown key "tikTime"; ignored`,
		`zoo.cfg:4: unknown key "zookeeper.tickTime"; ignored`,
	}, c.Warnings)
	require.Equal(t, "2000", c.Raw["tikTime"])

	var buf bytes.Buffer
	c.LogWarnings(slog.New(slog.NewTextHandler(&buf, nil)))
	require.Contains(t, buf.String(), `level=WARN msg="zoo.cfg:3: unknown key \"tikTime\"; ignored"`)
}

func TestKnownPassThroughKeys(t *testing.T) {
	c := mustParse(t, base+`ssl.keyStore.location=/k.jks
zookeeper.ssl.quorum.trustStore.location=/t.jks
skipACL=yes
globalOutstandingLimit=2000
fsync.warningthresholdms=500
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
znode.container.checkIntervalMs=1000
`)
	require.Empty(t, c.Warnings)
	require.Equal(t, "/k.jks", c.Raw["ssl.keyStore.location"])
	require.Equal(t, "/t.jks", c.Raw["ssl.quorum.trustStore.location"], "stored under the zoo.cfg spelling")
	require.Equal(t, "zoo.cfg:4", c.Where("ssl.quorum.trustStore.location"))
	require.Equal(t, "yes", c.Raw["skipACL"])
	require.Equal(t, "1000", c.Raw["znode.container.checkIntervalMs"])
}

func TestDuplicateKeyLastWins(t *testing.T) {
	// Checked with Apache 3.8.0: clientPort=2181 then 2182 listens on 2182.
	c := mustParse(t, base+"clientPort=2182\n")
	require.Equal(t, 2182, c.ClientPort)
	require.Equal(t, []string{"zoo.cfg:3: clientPort is set again (first on line 2); the last value wins, as in Apache"}, c.Warnings)
}

func TestRelativeDataDirWarns(t *testing.T) {
	c := mustParse(t, "dataDir=data\nclientPort=1\n")
	require.Equal(t, []string{`zoo.cfg:1: dataDir "data" is relative to the working directory; prepend ./ to show you mean it`}, c.Warnings)
	require.Empty(t, mustParse(t, "dataDir=./data\nclientPort=1\n").Warnings)
}

func TestPropertiesSyntaxInConfig(t *testing.T) {
	c := mustParse(t, "  dataDir : /d  \n\tclientPort 2181\ntickTime = \\\n   1000\n4lw.commands.whitelist=ruok, \\\n  stat\n")
	require.Equal(t, "/d", c.DataDir, "values are trimmed")
	require.Equal(t, 2181, c.ClientPort)
	require.Equal(t, 1000, c.TickTimeMs)
	require.Equal(t, []string{"ruok", "stat"}, c.FourLetterWords)

	_, err := parse(t, base+"tickTime=\\\n  abc\n")
	require.EqualError(t, err, `zoo.cfg:3: tickTime: "abc" is not an integer`, "a continued value is reported at its first line")
}
