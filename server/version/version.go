// Package version names this build of zkit and the Apache ZooKeeper release
// whose protocol and behaviour it matches.
package version

// Set at build time with -ldflags "-X zkit/server/version.Commit=... -X zkit/server/version.BuildDate=...".
var (
	Commit    = "unknown"
	BuildDate = "unknown"
)

const (
	// Zkit is the zkit release.
	Zkit = "0.1.0"
	// ZooKeeper is the Apache ZooKeeper release zkit is compatible with.
	// Clients gate features on the version a server reports, so zkit
	// reports this one, tagged with its own (e.g. "3.9.3-zkit-0.1.0").
	ZooKeeper = "3.9.3"
)

// Full is the version string without build details.
func Full() string { return ZooKeeper + "-zkit-" + Zkit }

// FullWithBuild is what srvr, stat, mntr and envi report: Full with the
// commit and build date, as ZooKeeper's
// "3.8.0-<commit>, built on <date>".
func FullWithBuild() string { return Full() + "-" + Commit + ", built on " + BuildDate }
