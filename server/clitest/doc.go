// Package clitest checks that ZooKeeper's own command-line clients — the
// Java zkCli.sh (Debian's zookeeper package, ZooKeeper 3.8) and the C
// client's cli_mt (zookeeper-bin) — work against zkit as they do against
// Apache ZooKeeper: its tests drive the same scripted sessions through
// both clients against a zkit server and an Apache one (server/internal/
// oracle) and compare the outputs once what legitimately differs (times,
// session ids, ports) is masked. There is no code here besides the tests.
//
// zkCli.sh runs one JVM per session, its commands on stdin, each followed
// by "sync /" whose answer ("Sync is OK") ends the command's output; watch
// events, which zkCli prints from its event thread, are moved to the end
// of the output they fall in. cli_mt is driven line by line, each command
// followed by "sync /zkit-marker-N". Zxids, versions and sequence numbers
// are compared as they are: each test has its own pair of fresh servers.
// Known differences are spelled out where they are allowed (deviations,
// unordered in harness_test.go).
//
// Run with: go test ./server/clitest/ (CLITEST_DEBUG=1 logs every
// command's output on both sides).
package clitest
