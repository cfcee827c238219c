package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// setter applies one key that QuorumPeerConfig.parseProperties handles
// itself. An error is about the value; the caller adds file, line and key.
type setter func(l *loader, e entry) error

// staticKeys are the keys Apache 3.8's QuorumPeerConfig parses itself, with
// the same value checks (Integer.parseInt, strict true/false). Keys with a
// nil field are checked but only kept in Raw.
var staticKeys = map[string]setter{
	"dataDir":                                 dirKey(func(c *Config) *string { return &c.DataDir }),
	"dataLogDir":                              dirKey(func(c *Config) *string { return &c.DataLogDir }),
	"clientPort":                              portKey(func(c *Config) *int { return &c.ClientPort }),
	"clientPortAddress":                       addrKey(func(c *Config) *string { return &c.ClientPortAddress }),
	"localSessionsEnabled":                    boolKey(func(c *Config) *bool { return &c.LocalSessionsEnabled }),
	"localSessionsUpgradingEnabled":           boolKey(func(c *Config) *bool { return &c.LocalSessionsUpgradingEnabled }),
	"secureClientPort":                        portKey(func(c *Config) *int { return &c.SecureClientPort }),
	"secureClientPortAddress":                 addrKey(func(c *Config) *string { return &c.SecureClientPortAddress }),
	"observerMasterPort":                      intKey(func(c *Config) *int { return &c.ObserverMasterPort }),
	"clientPortListenBacklog":                 intKey(func(c *Config) *int { return &c.ClientPortListenBacklog }),
	"tickTime":                                intKey(func(c *Config) *int { return &c.TickTimeMs }),
	"maxClientCnxns":                          intKey(func(c *Config) *int { return &c.MaxClientCnxns }),
	"minSessionTimeout":                       intKey(func(c *Config) *int { return &c.MinSessionTimeoutMs }),
	"maxSessionTimeout":                       intKey(func(c *Config) *int { return &c.MaxSessionTimeoutMs }),
	"initLimit":                               intKey(func(c *Config) *int { return &c.InitLimit }),
	"syncLimit":                               intKey(func(c *Config) *int { return &c.SyncLimit }),
	"connectToLearnerMasterLimit":             intKey(func(c *Config) *int { return &c.ConnectToLearnerMasterLimit }),
	"electionAlg":                             setElectionAlg,
	"quorumListenOnAllIPs":                    boolKey(func(c *Config) *bool { return &c.QuorumListenOnAllIPs }),
	"peerType":                                setPeerType,
	"syncEnabled":                             boolKey(func(c *Config) *bool { return &c.SyncEnabled }),
	"dynamicConfigFile":                       setDynamicConfigFile,
	"autopurge.snapRetainCount":               intKey(func(c *Config) *int { return &c.SnapRetainCount }),
	"autopurge.purgeInterval":                 intKey(func(c *Config) *int { return &c.PurgeIntervalHours }),
	"standaloneEnabled":                       boolKey(func(c *Config) *bool { return &c.StandaloneEnabled }),
	"reconfigEnabled":                         boolKey(func(c *Config) *bool { return &c.ReconfigEnabled }),
	"sslQuorum":                               boolKey(func(c *Config) *bool { return &c.SSLQuorum }),
	"portUnification":                         boolKey(func(c *Config) *bool { return &c.PortUnification }),
	"sslQuorumReloadCertFiles":                boolKey(func(c *Config) *bool { return &c.SSLQuorumReloadCertFiles }),
	"quorum.auth.enableSasl":                  boolKey(func(c *Config) *bool { return &c.QuorumSASLEnabled }),
	"quorum.auth.serverRequireSasl":           boolKey(func(c *Config) *bool { return &c.QuorumServerRequireSASL }),
	"quorum.auth.learnerRequireSasl":          boolKey(func(c *Config) *bool { return &c.QuorumLearnerRequireSASL }),
	"quorum.auth.learner.saslLoginContext":    strKey(nil),
	"quorum.auth.server.saslLoginContext":     strKey(nil),
	"quorum.auth.kerberos.servicePrincipal":   strKey(nil),
	"quorum.cnxn.threads.size":                intKey(nil),
	"jvm.pause.info-threshold.ms":             longKey,
	"jvm.pause.warn-threshold.ms":             longKey,
	"jvm.pause.sleep.time.ms":                 longKey,
	"jvm.pause.monitor":                       boolKey(nil),
	"metricsProvider.className":               strKey(func(c *Config) *string { return &c.MetricsProviderClassName }),
	"multiAddress.enabled":                    boolKey(func(c *Config) *bool { return &c.MultiAddressEnabled }),
	"multiAddress.reachabilityCheckTimeoutMs": intKey(nil),
	"multiAddress.reachabilityCheckEnabled":   boolKey(nil),
	"oraclePath":                              strKey(nil),
}

func intKey(field func(*Config) *int) setter {
	return func(l *loader, e entry) error {
		n, err := parseInt(e.value)
		if err == nil && field != nil {
			*field(l.cfg) = n
		}
		return err
	}
}

func longKey(l *loader, e entry) error {
	_, err := parseLong(e.value, 10)
	return err
}

func portKey(field func(*Config) *int) setter {
	return func(l *loader, e entry) error {
		n, err := parsePort(e.value)
		*field(l.cfg) = n
		return err
	}
}

func boolKey(field func(*Config) *bool) setter {
	return func(l *loader, e entry) error {
		b, err := parseBool(e.value)
		if err == nil && field != nil {
			*field(l.cfg) = b
		}
		return err
	}
}

func strKey(field func(*Config) *string) setter {
	return func(l *loader, e entry) error {
		if field != nil {
			*field(l.cfg) = e.value
		}
		return nil
	}
}

// dirKey takes a directory and, like Apache's VerifyingFileFactory, warns
// when it is relative (to the working directory) without a leading "./".
// Apache 3.8 crashes on an empty or one-character relative path here.
func dirKey(field func(*Config) *string) setter {
	return func(l *loader, e entry) error {
		if e.value == "" {
			return errors.New("empty directory name")
		}
		if !filepath.IsAbs(e.value) && !strings.HasPrefix(e.value, "./") {
			l.warnf(l.name, e.line, "%s %q is relative to the working directory; prepend ./ to show you mean it", e.key, e.value)
		}
		*field(l.cfg) = e.value
		return nil
	}
}

// addrKey takes a client listen address. Apache resolves it
// (InetAddress.getByName, which accepts "[v6]"); zkit keeps the name.
func addrKey(field func(*Config) *string) setter {
	return func(l *loader, e entry) error {
		host := strings.TrimSuffix(strings.TrimPrefix(e.value, "["), "]")
		if host == "" {
			// Apache would bind to the loopback address; refuse instead.
			return errors.New("empty address")
		}
		*field(l.cfg) = host
		return nil
	}
}

func setElectionAlg(l *loader, e entry) error {
	n, err := parseInt(e.value)
	if err != nil {
		return err
	}
	if n != 3 {
		return fmt.Errorf("%d is not supported; only 3 (fast leader election) is", n)
	}
	l.cfg.ElectionAlg = n
	return nil
}

// setDynamicConfigFile: Apache fails to open an empty name.
func setDynamicConfigFile(l *loader, e entry) error {
	if e.value == "" {
		return errors.New("empty file name")
	}
	l.cfg.DynamicConfigFile = e.value
	return nil
}

func setPeerType(l *loader, e entry) error {
	observer, err := parsePeerType(e.value)
	l.cfg.Observer = observer
	return err
}

// setMetricsProvider handles metricsProvider.* keys other than className:
// Apache passes them, prefix removed, to the provider. httpHost and
// httpPort are the Prometheus provider's.
func setMetricsProvider(l *loader, e entry, name string) error {
	l.cfg.MetricsProvider[name] = e.value
	switch name {
	case "httpHost":
		l.cfg.MetricsHTTPHost = e.value
	case "httpPort":
		n, err := parsePort(e.value)
		l.cfg.MetricsHTTPPort = n
		return err
	}
	return nil
}
