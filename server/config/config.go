package config

import (
	"net"
	"slices"
	"strconv"
)

// Apache ZooKeeper 3.8 defaults, for settings whose default is not zero.
const (
	DefaultTickTimeMs      = 3000 // ZooKeeperServer.DEFAULT_TICK_TIME
	DefaultMaxClientCnxns  = 60
	DefaultSnapRetainCount = 3 // also the minimum: Apache raises smaller values to 3
	DefaultSnapCount       = 100000
	DefaultJuteMaxBuffer   = 0xfffff // BinaryInputArchive: 1 MiB - 1
	DefaultPreAllocSizeKB  = 65536   // FilePadding: 64 MiB
	DefaultAdminServerPort = 8080
	DefaultAdminCommandURL = "/commands"
	DefaultMetricsProvider = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider"
	PrometheusMetricsClass = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
	DefaultMetricsHTTPPort = 7000 // PrometheusMetricsProvider
)

const (
	defaultWildcardAddress   = "0.0.0.0"
	maxExtendedTypesServerID = 254 // EphemeralType.MAX_EXTENDED_SERVER_ID
)

// Config is a zoo.cfg (plus dynamic config file and myid) as Apache
// ZooKeeper 3.8's QuorumPeerConfig and the system properties it sets would
// see it. Times are in milliseconds, limits in ticks, as in zoo.cfg.
// A zero port means "not set".
type Config struct {
	File              string // the static config, as named to Load or Parse
	DynamicConfigFile string // dynamicConfigFile, "" if the servers are in File

	TickTimeMs                  int // tickTime
	InitLimit                   int // initLimit, in ticks; required in an ensemble
	SyncLimit                   int // syncLimit, in ticks; required in an ensemble
	ConnectToLearnerMasterLimit int // connectToLearnerMasterLimit, in ticks; 0 = use initLimit
	DataDir                     string
	DataLogDir                  string // defaults to DataDir

	// ClientPort and ClientPortAddress are where clients connect, after
	// Apache's rule that this server's "server.N=...;[host:]port" wins over
	// clientPort/clientPortAddress. An empty address means all interfaces.
	ClientPort              int
	ClientPortAddress       string
	SecureClientPort        int
	SecureClientPortAddress string
	ObserverMasterPort      int
	ClientPortListenBacklog int // -1 = the OS default

	MaxClientCnxns      int // per client IP; 0 = unlimited
	MinSessionTimeoutMs int // 2*tickTime when unset or -1
	MaxSessionTimeoutMs int // 20*tickTime when unset or -1

	LocalSessionsEnabled          bool
	LocalSessionsUpgradingEnabled bool
	ElectionAlg                   int  // always 3 (the only one Apache 3.8 accepts)
	QuorumListenOnAllIPs          bool // quorumListenOnAllIPs
	Observer                      bool // peerType=observer, corrected from the server list as Apache does
	SyncEnabled                   bool // syncEnabled: observers log and snapshot too (default true)
	StandaloneEnabled             bool // standaloneEnabled (default true)
	ReconfigEnabled               bool // reconfigEnabled (default false)
	SnapRetainCount               int  // autopurge.snapRetainCount, at least 3
	PurgeIntervalHours            int  // autopurge.purgeInterval; 0 = no autopurge
	SSLQuorum                     bool // sslQuorum
	PortUnification               bool // portUnification
	SSLQuorumReloadCertFiles      bool // sslQuorumReloadCertFiles
	MultiAddressEnabled           bool // multiAddress.enabled: allow "a|b" server addresses
	QuorumSASLEnabled             bool // quorum.auth.enableSasl
	QuorumServerRequireSASL       bool // quorum.auth.serverRequireSasl
	QuorumLearnerRequireSASL      bool // quorum.auth.learnerRequireSasl

	MetricsProviderClassName string            // metricsProvider.className
	MetricsProvider          map[string]string // other metricsProvider.* keys, prefix removed
	MetricsHTTPHost          string            // metricsProvider.httpHost (default 0.0.0.0)
	MetricsHTTPPort          int               // metricsProvider.httpPort (default 7000)

	// Settings Apache reads as Java system properties; see the package doc
	// for the spellings accepted.

	// FourLetterWords is 4lw.commands.whitelist without "*" (nil if unset);
	// use FourLetterWordEnabled rather than reading it.
	FourLetterWords      []string
	FourLetterWordsAll   bool // the whitelist contains "*"
	ExtendedTypesEnabled bool // extendedTypesEnabled: TTL nodes
	JuteMaxBuffer        int  // jute.maxbuffer, bytes
	SnapCount            int  // snapCount, at least 2
	ForceSync            bool // forceSync: anything but "no" means yes
	PreAllocSizeKB       int64
	ReadOnlyMode         bool // readonlymode.enabled
	AdminEnableServer    bool // admin.enableServer: anything but "false" means true
	AdminServerAddress   string
	AdminServerPort      int
	AdminCommandURL      string
	SuperDigest          string            // DigestAuthenticationProvider.superDigest ("super:<base64 sha1>")
	SuperUsers           []string          // superUser and superUser.* (SASL super users), by key
	AuthProviders        map[string]string // authProvider.<name> = Java class name

	Quorum Quorum // server.N, group.N, weight.N, version
	MyID   int64  // the id in dataDir/myid; -1 when there is no myid file

	// Raw holds every key of the static file with its trimmed value,
	// including those also parsed above. A key Apache reads as system
	// property "zookeeper.X" is stored as X however the file spelled it.
	Raw map[string]string
	// Warnings lists unknown keys and settings Apache accepts but that look
	// wrong, each as "file:line: message". See LogWarnings.
	Warnings []string

	distributed bool
	where       map[string]string // key -> "file:line"
}

func newConfig(name string) *Config {
	return &Config{
		File:                     name,
		TickTimeMs:               DefaultTickTimeMs,
		ClientPortListenBacklog:  -1,
		MaxClientCnxns:           DefaultMaxClientCnxns,
		MinSessionTimeoutMs:      -1,
		MaxSessionTimeoutMs:      -1,
		ElectionAlg:              3,
		SyncEnabled:              true,
		StandaloneEnabled:        true,
		SnapRetainCount:          DefaultSnapRetainCount,
		MetricsProviderClassName: DefaultMetricsProvider,
		MetricsProvider:          map[string]string{},
		MetricsHTTPHost:          defaultWildcardAddress,
		MetricsHTTPPort:          DefaultMetricsHTTPPort,
		JuteMaxBuffer:            DefaultJuteMaxBuffer,
		SnapCount:                DefaultSnapCount,
		ForceSync:                true,
		PreAllocSizeKB:           DefaultPreAllocSizeKB,
		AdminEnableServer:        true,
		AdminServerAddress:       defaultWildcardAddress,
		AdminServerPort:          DefaultAdminServerPort,
		AdminCommandURL:          DefaultAdminCommandURL,
		AuthProviders:            map[string]string{},
		MyID:                     -1,
		Raw:                      map[string]string{},
		where:                    map[string]string{},
	}
}

// Standalone reports whether this server runs alone rather than as a member
// of an ensemble. As in Apache (QuorumPeerConfig.isDistributed), that is the
// case when there are no server lines, or just one participant while
// standaloneEnabled is true.
func (c *Config) Standalone() bool { return !c.distributed }

// Self returns this server's entry in the server list, or nil (no myid
// file, or its id has no server line).
func (c *Config) Self() *Server {
	if c.MyID < 0 {
		return nil
	}
	return c.Quorum.Server(c.MyID)
}

// ClientAddr returns the host:port to listen on for clients, e.g.
// ":2181" for all interfaces, or "" if no plain client port is configured
// (a TLS-only server). 0.0.0.0 counts as all interfaces, as a Java wildcard
// socket also accepts IPv6.
func (c *Config) ClientAddr() string {
	return listenAddr(c.ClientPortAddress, c.ClientPort)
}

// SecureClientAddr is ClientAddr for secureClientPort (TLS).
func (c *Config) SecureClientAddr() string {
	return listenAddr(c.SecureClientPortAddress, c.SecureClientPort)
}

func listenAddr(host string, port int) string {
	if port == 0 {
		return ""
	}
	if host == defaultWildcardAddress {
		host = ""
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// FourLetterWordEnabled reports whether the four-letter word cmd (such as
// "ruok") may run, as Apache's FourLetterCommands.isEnabled decides: the
// 4lw.commands.whitelist entries ("*" = every command), plus "srvr" always
// and "isro" when read-only mode is enabled. Without a whitelist Apache 3.8
// enables only those two.
func (c *Config) FourLetterWordEnabled(cmd string) bool {
	switch {
	case c.FourLetterWordsAll, cmd == "srvr":
		return true
	case cmd == "isro" && c.ReadOnlyMode:
		return true
	}
	return slices.Contains(c.FourLetterWords, cmd)
}

// Where returns "file:line" for a key of the config (or of the dynamic
// config file, for server.N lines), or "" if it is not set. Use it to name
// the place in errors about Raw settings.
func (c *Config) Where(key string) string {
	return c.where[key]
}
