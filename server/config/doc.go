// Package config loads an unchanged Apache ZooKeeper 3.8 zoo.cfg, its
// dynamic config file and dataDir/myid, and interprets them as Apache's
// QuorumPeerConfig (and the classes reading the system properties it sets)
// would, into a typed Config.
//
//	cfg, err := config.Load("conf/zoo.cfg")
//	if err != nil {
//		return err // e.g. "conf/zoo.cfg:7: tickTime: \"abc\" is not an integer"
//	}
//	cfg.LogWarnings(logger) // unknown keys and dubious values
//	ln, err := net.Listen("tcp", cfg.ClientAddr())
//
// The file is read with java.util.Properties syntax (see ReadProperties);
// keys and values are trimmed as Apache trims them. Apache parses some keys
// itself (tickTime, dataDir, server.N, ...) and turns every other key X
// into the Java system property "zookeeper.X", read elsewhere (snapCount,
// 4lw.commands.whitelist, admin.*, ssl.*, ...). zkit accepts those under
// both spellings X and zookeeper.X. A key that no part of Apache's server
// reads is a warning, never an error. A value Apache rejects is an error
// naming file, line and key; a value Apache silently replaces by a default
// (Integer.getInteger and friends) is a warning and gets the same default.
//
// Deliberate differences from Apache 3.8, each where Apache would fail late,
// crash, or ignore the setting:
//   - jute.maxbuffer and readonlymode.enabled take effect from zoo.cfg
//     (Apache only reads them as -D system properties).
//   - java.security.auth.login.config, the JAAS file of SASL users, may be
//     set in zoo.cfg (Apache only reads the JVM property).
//   - multiAddress.enabled=true in zoo.cfg allows "a|b" server addresses
//     (Apache 3.8.0 only looks at -Dzookeeper.multiAddress.enabled).
//   - trailing blanks after a server.N value are ignored with a warning.
//   - an empty dataDir or client address, a negative tickTime, a myid that
//     matches no server line, and a config with no client port at all are
//     errors at load time.
//   - host names are never resolved: addresses are kept as written.
//   - non-ASCII bytes are kept as UTF-8 (Java reads the file as Latin-1).
//   - the ".dynamic.next" file of an unfinished reconfig is not read.
package config
