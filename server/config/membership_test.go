package config

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const threeServers = `server.1=zk1:2888:3888
server.2=zk2:2888:3888
server.3=zk3:2888:3888:observer
`

// ensemble writes myid (unless empty) into a fresh dataDir and returns
// the config text header for it: lines 1-5.
func ensemble(t *testing.T, myid string) (dataDir, header string) {
	t.Helper()
	dataDir = t.TempDir()
	if myid != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dataDir, "myid"), []byte(myid), 0o644))
	}
	return dataDir, fmt.Sprintf("tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=2181\n", dataDir)
}

func TestEnsembleMember(t *testing.T) {
	_, h := ensemble(t, "2\n")
	c := mustParse(t, h+"server.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888\n")
	require.False(t, c.Standalone())
	require.Equal(t, int64(2), c.MyID)
	require.Equal(t, "zk2:2888", c.Self().QuorumAddr())
	require.Equal(t, ":2181", c.ClientAddr())
	require.Len(t, c.Quorum.Servers, 3)
	require.Equal(t, 3, c.Quorum.Voters())
	require.Nil(t, c.Quorum.Server(4))
	require.False(t, c.Quorum.Hierarchical())
	require.Equal(t, "zoo.cfg:7", c.Where("server.2"))
	require.Empty(t, c.Warnings)
}

func TestObserverMember(t *testing.T) {
	_, h := ensemble(t, "3")
	c := mustParse(t, h+threeServers+"peerType=observer\n")
	require.True(t, c.Observer)
	require.Equal(t, []string{"zoo.cfg: no server failure will be tolerated; you need at least 3 servers"}, c.Warnings)

	// Apache trusts the server list and only warns about peerType.
	_, h = ensemble(t, "1")
	c = mustParse(t, h+threeServers+"peerType=observer\n")
	require.False(t, c.Observer)
	require.Contains(t, c.Warnings, `zoo.cfg:9: peerType "observer" disagrees with the server list; using participant`)
}

func TestMyID(t *testing.T) {
	t.Run("missing in an ensemble", func(t *testing.T) {
		dir, h := ensemble(t, "")
		_, err := parse(t, h+threeServers)
		require.EqualError(t, err, filepath.Join(dir, "myid")+": myid file is missing; each ensemble member needs one holding its server id (N of its server.N line)")
	})
	t.Run("missing is fine when standalone", func(t *testing.T) {
		_, h := ensemble(t, "")
		c := mustParse(t, h)
		require.Equal(t, int64(-1), c.MyID)
	})
	// Apache reads the first line with BufferedReader.readLine and
	// Long.parseLong, so blanks around the id are an error ("serverid 2
	// is not a number", checked with Apache 3.8.0) and CRLF is fine.
	bad := map[string]string{
		"abc":  `"abc" is not an integer`,
		"2 ":   `"2 " is not an integer`,
		" 2\n": `" 2" is not an integer`,
		"\n":   `"" is not an integer`,
	}
	for content, msg := range bad {
		t.Run(fmt.Sprintf("invalid %q", content), func(t *testing.T) {
			dir, h := ensemble(t, content)
			_, err := parse(t, h+threeServers)
			require.EqualError(t, err, filepath.Join(dir, "myid")+":1: "+msg+"; it must hold this server's id (N of its server.N line)")
		})
	}
	t.Run("empty", func(t *testing.T) {
		dir, h := ensemble(t, "")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "myid"), nil, 0o644))
		_, err := parse(t, h)
		require.EqualError(t, err, filepath.Join(dir, "myid")+": empty; it must hold this server's id (N of its server.N line)")
	})
	t.Run("invalid even when standalone, as in Apache", func(t *testing.T) {
		_, h := ensemble(t, "x")
		_, err := parse(t, h)
		require.ErrorContains(t, err, `"x" is not an integer`)
	})
	t.Run("CRLF and extra lines", func(t *testing.T) {
		_, h := ensemble(t, "2\r\nignored\n")
		require.Equal(t, int64(2), mustParse(t, h+threeServers).MyID)
	})
	t.Run("no matching server line", func(t *testing.T) {
		dir, h := ensemble(t, "7")
		_, err := parse(t, h+threeServers)
		require.EqualError(t, err, filepath.Join(dir, "myid")+":1: id 7 has no server.7 line")
	})
	t.Run("too large for extendedTypesEnabled", func(t *testing.T) {
		dir, h := ensemble(t, "300")
		_, err := parse(t, h+"extendedTypesEnabled=true\nserver.1=a:1:2\nserver.300=b:1:2\n")
		require.EqualError(t, err, filepath.Join(dir, "myid")+":1: id 300 is above 254, the most extendedTypesEnabled allows")
	})
}

func TestStandaloneDecision(t *testing.T) {
	_, h := ensemble(t, "")
	c := mustParse(t, h+"server.1=zk1:2888:3888\n")
	require.True(t, c.Standalone(), "one participant with standaloneEnabled=true")
	require.Equal(t, []string{"zoo.cfg: only one server line: running standalone (set standaloneEnabled=false for a one-member ensemble)"}, c.Warnings)

	_, h = ensemble(t, "1")
	c = mustParse(t, h+"standaloneEnabled=false\nserver.1=zk1:2888:3888\n")
	require.False(t, c.Standalone(), "a one-member ensemble")

	_, h = ensemble(t, "")
	_, err := parse(t, h+"standaloneEnabled=false\n")
	require.EqualError(t, err, "zoo.cfg:6: standaloneEnabled: is false, which needs at least one participant server.N line")

	_, err = parse(t, h+"server.1=zk1:2888:3888:observer\n")
	require.EqualError(t, err, "zoo.cfg: observers without participants is an invalid configuration")

	_, err = parse(t, h+"server.1=zk1:2888:3888\nserver.2=zk2:2888:3888:observer\n")
	require.EqualError(t, err, "zoo.cfg: observers without a quorum is an invalid configuration (one participant while standaloneEnabled is true)")
}

func TestEnsembleNeedsLimits(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "myid"), []byte("1"), 0o644))
	_, err := parse(t, "dataDir="+dir+"\nclientPort=2181\n"+threeServers)
	require.EqualError(t, err, "zoo.cfg: initLimit: is not set (an ensemble member needs it)")
	_, err = parse(t, "dataDir="+dir+"\nclientPort=2181\ninitLimit=5\n"+threeServers)
	require.EqualError(t, err, "zoo.cfg: syncLimit: is not set (an ensemble member needs it)")
}

func TestQuorumSizeWarnings(t *testing.T) {
	_, h := ensemble(t, "1")
	c := mustParse(t, h+"server.1=a:1:2\nserver.2=b:1:2\n")
	require.Equal(t, []string{"zoo.cfg: no server failure will be tolerated; you need at least 3 servers"}, c.Warnings)
	c = mustParse(t, h+"server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2\n")
	require.Equal(t, []string{"zoo.cfg: non-optimal configuration: consider an odd number of servers"}, c.Warnings)
}

func TestClientPortFromServerLine(t *testing.T) {
	dir, _ := ensemble(t, "2")
	head := fmt.Sprintf("initLimit=10\nsyncLimit=5\ndataDir=%s\n", dir)
	servers := "server.1=zk1:2888:3888;2181\nserver.2=zk2:2888:3888;127.0.0.1:2182\nserver.3=zk3:2888:3888;2183\n"

	// No clientPort in zoo.cfg: the server line says where to listen.
	c := mustParse(t, head+servers)
	require.Equal(t, "127.0.0.1:2182", c.ClientAddr())

	// A wildcard clientPort must name the same port (Apache 3.8.0 fails with
	// "client address for this server (id = 2) in static config file is
	// 0.0.0.0/0.0.0.0:2181 is different from ... /127.0.0.1:2182").
	_, err := parse(t, head+"clientPort=2181\n"+servers)
	require.EqualError(t, err, "zoo.cfg:4: clientPort: this server listens on 0.0.0.0:2181 here but on 127.0.0.1:2182 in its server.2 line (zoo.cfg:6)")

	// Same port: the line's address wins.
	c = mustParse(t, head+"clientPort=2182\n"+servers)
	require.Equal(t, "127.0.0.1", c.ClientPortAddress)

	// A specific address must match address and port.
	_, err = parse(t, head+"clientPort=2182\nclientPortAddress=127.0.0.2\n"+servers)
	require.ErrorContains(t, err, "this server listens on 127.0.0.2:2182 here but on 127.0.0.1:2182")
	c = mustParse(t, head+"clientPort=2182\nclientPortAddress=127.0.0.1\n"+servers)
	require.Equal(t, "127.0.0.1:2182", c.ClientAddr())

	// A line without a client port leaves clientPort alone.
	c = mustParse(t, head+"clientPort=2999\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n")
	require.Equal(t, ":2999", c.ClientAddr())

	// Neither: no way for clients to connect.
	_, err = parse(t, head+"server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n")
	require.EqualError(t, err, "zoo.cfg: clientPort is not set (nor secureClientPort, nor a client port on the server.2 line)")
}

func TestBadServerLines(t *testing.T) {
	_, h := ensemble(t, "1")
	cases := map[string]string{
		"server.1=zk1:2888":               `zoo.cfg:6: server.1: "zk1:2888": ` + serverForm,
		"server.x=zk1:2888:3888":          `zoo.cfg:6: server.x: bad id: "x" is not an integer`,
		"server.1=a:1:2\nserver.01=b:1:2": `zoo.cfg:7: server.01: server id 1 is already defined on line 6`,
		"server.1=a:1:2|b:3:4":            `zoo.cfg:6: server.1: several addresses given, but multiAddress.enabled is not true`,
		"version=xyz":                     `zoo.cfg:6: version: "xyz" is not a hexadecimal number`,
	}
	for text, msg := range cases {
		_, err := parse(t, h+text+"\n")
		require.EqualError(t, err, msg, text)
	}
}

// Apache 3.8.0 only allows several addresses with
// -Dzookeeper.multiAddress.enabled=true: the zoo.cfg key multiAddress.enabled
// is read into a field its server-line parser never looks at ("Multiple
// address feature is disabled, but multiple addresses were specified for
// sid 1", checked). zkit honours the zoo.cfg key.
func TestMultiAddress(t *testing.T) {
	_, h := ensemble(t, "1")
	c := mustParse(t, h+"multiAddress.enabled=true\nserver.1=10.0.0.1:2888:3888|10.0.1.1:2888:3888\nserver.2=b:1:2\nserver.3=c:1:2\n")
	require.Len(t, c.Self().Addrs, 2)
	require.Equal(t, "10.0.0.1:2888", c.Self().QuorumAddr())
}

// Apache does not trim server values, so it rejects a trailing blank
// ("Address unresolved: localhost:3888 ", checked); zkit accepts it.
// Apache silently keeps one of server.1 and server.01; zkit refuses both
// (see TestBadServerLines).
func TestServerLineTrailingBlank(t *testing.T) {
	_, h := ensemble(t, "1")
	c := mustParse(t, h+"server.1=a:1:2 \nserver.2=b:1:2\nserver.3=c:1:2\n")
	require.Equal(t, []string{"zoo.cfg:6: server.1: trailing blanks ignored (Apache ZooKeeper 3.8 rejects this line)"}, c.Warnings)

	// After a type, Apache trims them too (checked).
	c = mustParse(t, h+"server.1=a:1:2:participant \nserver.2=b:1:2\nserver.3=c:1:2\n")
	require.Empty(t, c.Warnings)
}

func TestHierarchicalQuorum(t *testing.T) {
	_, h := ensemble(t, "1")
	c := mustParse(t, h+"server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2:observer\n"+
		"group.1=1:2\ngroup.2=3\nweight.1=2\nversion=1a\n")
	require.True(t, c.Quorum.Hierarchical())
	require.Equal(t, map[int64][]int64{1: {1, 2}, 2: {3}}, c.Quorum.Groups)
	require.Equal(t, map[int64]int64{1: 2, 2: 1, 3: 1}, c.Quorum.Weights)
	require.Equal(t, int64(0x1a), c.Quorum.Version)

	_, err := parse(t, h+"server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2\n")
	require.EqualError(t, err, "zoo.cfg:8: server.3: not in any group.N (a hierarchical quorum needs every participant in a group)")
	_, err = parse(t, h+"server.1=a:1:2\nserver.2=b:1:2\ngroup.1=1:2\ngroup.2=2\n")
	require.EqualError(t, err, "zoo.cfg:9: group.2: server 2 is in group 1 and group 2")
	_, err = parse(t, h+"server.1=a:1:2\nserver.2=b:1:2\ngroup.1=1:2\nweight.2=heavy\n")
	require.EqualError(t, err, `zoo.cfg:9: weight.2: "heavy" is not an integer`)
}

func TestDynamicConfigFile(t *testing.T) {
	dir, h := ensemble(t, "2")
	dyn := filepath.Join(dir, "zoo.cfg.dynamic.1000000a")
	require.NoError(t, os.WriteFile(dyn, []byte(
		"server.1=zk1:2888:3888:participant;0.0.0.0:2181\n"+
			"server.2=zk2:2888:3888:participant;0.0.0.0:2182\n"+
			"server.3=zk3:2888:3888:participant;0.0.0.0:2183\n"), 0o644))
	// Apache's reconfig leaves clientPort out of zoo.cfg once it wrote the
	// dynamic file; the server line supplies it.
	static := fmt.Sprintf("tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nreconfigEnabled=true\ndynamicConfigFile=%s\n", dir, dyn)
	c := mustParse(t, static)
	require.Equal(t, dyn, c.DynamicConfigFile)
	require.False(t, c.Standalone())
	require.Len(t, c.Quorum.Servers, 3)
	require.Equal(t, int64(0x1000000a), c.Quorum.Version, "the version is the file name's hex suffix")
	require.Equal(t, ":2182", c.ClientAddr())
	require.Equal(t, dyn+":2", c.Where("server.2"))

	t.Run("no version suffix", func(t *testing.T) {
		plain := filepath.Join(dir, "dyn")
		require.NoError(t, os.WriteFile(plain, []byte("server.1=a:1:2;2181\nserver.2=b:1:2;2181\nserver.3=c:1:2;2181\n"), 0o644))
		c := mustParse(t, h+"dynamicConfigFile="+plain+"\n")
		require.Equal(t, int64(0), c.Quorum.Version)
		require.Equal(t, 2181, c.ClientPort, "zoo.cfg's clientPort is kept when it agrees (wildcard, same port)")
	})

	bad := map[string]string{
		"server.1=a:1:2\nversion=5\n":  ":2: version: not allowed in a dynamic config file (the version is the file name's suffix)",
		"server.1=a:1:2\ntickTime=5\n": ":2: tickTime: unrecognised parameter in a dynamic config file (only server.N, group.N and weight.N)",
		"server.1=a:1\n":               `:1: server.1: "a:1": ` + serverForm,
	}
	for content, msg := range bad {
		path := filepath.Join(dir, "bad.dynamic")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
		_, err := parse(t, h+"dynamicConfigFile="+path+"\n")
		require.EqualError(t, err, path+msg, content)
	}

	_, err := parse(t, h+"dynamicConfigFile="+filepath.Join(dir, "nope")+"\n")
	require.EqualError(t, err, filepath.Join(dir, "nope")+": cannot read dynamic config file: no such file or directory")
}
