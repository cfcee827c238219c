package clitest

import "testing"

// Every cli_mt command that talks to a server (create with its +e +s +c
// +t= modes, create2, get, set, ls, ls2, delete, sync, exists, wexists,
// myid, addauth, config, reconfig, reinit; the 'a' prefix for the
// asynchronous form), run against Apache ZooKeeper and zkit. cli_mt
// prints nearly everything to stderr; myid prints to stdout.
func TestCliMT(t *testing.T) {
	t.Parallel()
	s := startServers(t)
	compareCliMT(t, s, []string{
		"help",
		"create /c",
		"create /c",
		"create /c/a",
		"create +e /c/eph",
		"create +s /c/seq-",
		"create +s /c/seq-",
		"create +es /c/eseq-",
		"create +c /c/cont",
		"create /c/cont/child",
		"create +t=600000 /c/ttl",
		"create +st=600000 /c/ttlseq-",
		"create +et=1000 /c/bad",
		"create +x /c/bad",
		"create /no/parent",
		"create relative",
		"create2 /c/two",
		"create2 +s /c/twoseq-",
		"create2 /c/two",
		"get /c",
		"get /c/missing",
		"get /zookeeper",
		"set /c hello",
		"get /c",
		"set /c/missing x",
		"set /c",
		"ls /c",
		"ls /c/missing",
		"ls /",
		"ls2 /c",
		"ls2 /zookeeper",
		"exists /c",
		"exists /c/missing",
		"wexists /c/a",
		"set /c/a changed",
		"wexists /c/missing",
		"create /c/missing",
		"sync /c",
		"sync /c/none",
		"delete /c/a",
		"delete /c",
		"delete /c/missing",
		"myid",
		"config",
		"reconfig -add 4=127.0.0.1:2888:3888;2181",
		"addauth digest user:pass",
		"create /authed",
		"get /authed",
		"aget /c",
		"als /c",
		"aexists /c",
		"delete /c/two",
		"ls /c",
	})
}

// TestCliMTReinit: a new session in the same client (reinit) loses the
// first one's ephemerals.
func TestCliMTReinit(t *testing.T) {
	t.Parallel()
	s := startServers(t)
	compareCliMT(t, s, []string{
		"create +e /eph",
		"ls /",
		"reinit",
		"ls /",
		"create /after",
		"ls /",
	})
}
