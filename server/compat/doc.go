// Package compat holds the differential test suite that runs the same
// operation sequences against zkit and against Apache ZooKeeper (the 3.8.0
// oracle) and compares everything a client can observe: error codes, reply
// headers (zxids included), decoded replies, Stat fields, ACLs, multi
// results, watch notifications, session handshakes, whether the server
// closes the connection.
//
// The package has no code of its own; everything is in its tests:
//
//   - harness_test.go: the server pairs (zkit through member, Apache
//     through internal/oracle, configured alike: tickTime 200ms,
//     extendedTypesEnabled, a superDigest, forceSync=no), the recorder that
//     turns a scenario into one transcript per server, normalization and
//     the diff.
//   - allow_test.go: the deliberate deviations. zkit follows ZooKeeper
//     3.9.5 (and 3.8.4+) where later releases changed 3.8.0's behaviour;
//     each such difference is a named Allowance citing the Apache change,
//     attached to the steps that show it (or, for notification zxids,
//     global), never a silent mask.
//   - scenarios_*_test.go: fixed scenarios, one per operation / error path
//     of issue #2.
//   - random_test.go: seeded random operation sequences (-compat.seeds,
//     -compat.ops, -compat.seed=N to replay one).
//   - zkitonly_test.go: zkit-only assertions of the exact 3.9 behaviour the
//     allowances let through.
//
// Normalization: session ids become s1, s2, ... in the order the scenario
// sees them (ephemeralOwner too; container and TTL markers stay raw);
// zxids are compared raw, relative to the last zxid before the scenario on
// the shared pairs (so "+5" is the fifth txn of the scenario) and absolute
// on a fresh pair; ctime/mtime become "T(zxid)", the zxid of the txn that
// set them, and the transcript notes it when one txn shows two times, a
// time lies outside the run, or times go back as zxids go up; children
// and getEphemerals lists are compared as sorted sets. Notifications are
// attributed to the step after which they arrived: the acting client's
// came before its reply, every other client is fenced with a read.
//
// Run with: go test ./server/compat/
package compat
