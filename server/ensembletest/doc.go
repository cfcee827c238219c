// Package ensembletest tests zkit ensembles as users run them: real
// `zkit member` processes, real clients (go-zookeeper, kazoo, zkCli.sh, the
// C client), real faults (kill -9, SIGTERM, restarts, network partitions),
// and checks what ZooKeeper promises — linearizable writes and sync+reads
// (porcupine), no acknowledged write lost, no client seeing time go
// backwards — and measures leader failover against Apache ZooKeeper 3.8.
// The deterministic simulation of the protocol core lives in server/zab.
//
// # The harness
//
// StartProcs runs N voters and M observers, one `zkit member` process
// each (the binary is built once per test run from this module, or taken
// from $ZKIT_BIN), with data directories in the test's temp dir. Members
// find each other through rendezvous directories (server/ensemble:
// <dir>/<id>.json holds a member's client, quorum and election addresses;
// a member that finds its own file binds exactly those ports). With
// ProcOptions.Proxied, each member gets its own rendezvous directory in
// which every other member's quorum and election addresses are those of a
// proxy the test controls (one per direction and port), while its own file
// holds its real ports; so no server change is needed to cut links. A cut
// is Blackhole (connections stay open and carry nothing; they are reset on
// heal) or Reset (closed at once, new ones refused). Clients reach members
// directly, so a partitioned member keeps its clients, as in a real
// partition.
//
// StartInProc adapts an in-process ensemble (server/ensemble) to the same
// Cluster interface: its Kill loses whatever a member had not fsynced (an
// in-memory file system "loses power"), its Partition blocks the member's
// quorum and election traffic.
//
// # The checks
//
// A Workload runs sessions (go-zookeeper, spread over the members) that
// write (setData), compare-and-set (setData with the version a getData
// returned), sync-read (sync then getData on the same session: the read
// zkit promises linearizable on every member) and plain-read (getData,
// only sequentially consistent) a few keys. Writes, compare-and-sets and
// sync-reads form a porcupine history over a register model (value and
// data version); an operation whose outcome is unknown (connection lost)
// is pending forever, a read with an unknown outcome is dropped. On a
// violation the history's visualization is written to a temp file whose
// path the test prints.
//
// Every session dials through a tap that reads the reply headers
// go-zookeeper hides: the zxid a session sees must never go backwards,
// across reconnections to other members too. Every read (plain ones
// included) is checked against the writes known from all replies: it may
// not miss a write at or below the zxid its member had applied (the reply
// header) or the session had seen. After the faults, every member is read
// with sync+getData: members agree, and each key's version and mzxid are
// at least those of every acknowledged write to it (no acknowledged write
// lost); no two acknowledged writes got the same version.
//
// # Other scenarios
//
// Clients: go-zookeeper, Apache's zkCli.sh and its C client cli_mt keep
// their sessions, watches and ephemerals when the member they use is
// killed. Failover: a leader is killed under a writing client on zkit and
// on an Apache ZooKeeper 3.8 ensemble (server/internal/oracle), and the
// times until the next write are logged side by side. The deposed leader:
// a leader cut off from its followers, with a long syncLimit, keeps
// believing it leads while the others elect a new one; its sync-reads
// must not be stale. Recovery: a follower catches up by snapshot after
// 15,000 transactions; a silent client's session expires across a
// failover. The rest pin down server bugs these tests found: a member
// whose txn log fails while it is stopped must not hang; session ids stay
// unique when a member changes roles; a connect request forwarded to a
// dying leader must not hang the client.
//
// The tests that run Apache ZooKeeper, zkCli.sh (with java) or cli_mt find
// them where Debian installs them (packages zookeeper, zookeeper-bin, a
// JRE; scripts/deps.sh installs them) and fail, not skip, when they are
// missing.
//
// # Running
//
//	go test ./server/ensembletest/                 # everything but the long variants (~2 min)
//	go test -short ./server/ensembletest/          # a faster subset
//	ZKIT_ENSEMBLE_LONG=1 go test ./server/ensembletest/   # more rounds of each scenario, more failover rounds, and the Apache deposed-leader comparison
//	go test -run TestSoak ./server/ensembletest/ -ensembletest.soak=10m [-ensembletest.soak-inproc]
//	go test -run Apache ./server/ensembletest/ -ensembletest.apache   # the deposed-leader scenario on Apache 3.8
//	go test -run '^$' -bench Failover -benchtime 5x ./server/ensembletest/
//
// -ensembletest.seed fixes the workload's and the faults' random choices.
// Each test removes every process and file it made. On a failure it logs
// the tails of the members' logs; ZKIT_TEST_KEEP=1 keeps the whole logs
// and, for a history that is not linearizable, porcupine's visualization
// and the history itself (check it again with -ensembletest.recheck=
// <file>.json). ZKIT_TEST_DEBUG=1 runs the members at debug log level;
// ZKIT_BIN runs a given zkit binary instead of one built from this module.
package ensembletest
