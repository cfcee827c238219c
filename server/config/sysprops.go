package config

import (
	"slices"
	"strings"
)

// Apache's QuorumPeerConfig turns every key it does not parse itself into
// the Java system property "zookeeper."+key, which other classes then read.
// So "snapCount=1000" in zoo.cfg sets zookeeper.snapCount. zkit accepts a
// setting under its zoo.cfg name X and under the property name
// zookeeper.X; when both are given X wins, being the one Apache honours.
// Apache reads these properties leniently (Integer.getInteger falls back to
// the default, Boolean.getBoolean treats anything but "true" as false), so
// a malformed value is a warning here, never an error.

// sysSetter applies one system-property setting.
type sysSetter func(l *loader, e entry)

var sysKeys = map[string]sysSetter{
	// FourLetterCommands reads zookeeper.4lw.commands.whitelist.
	"4lw.commands.whitelist": set4lw,
	// EphemeralType: Boolean.getBoolean("zookeeper.extendedTypesEnabled").
	"extendedTypesEnabled": getBoolean(func(c *Config) *bool { return &c.ExtendedTypesEnabled }),
	// BinaryInputArchive reads "jute.maxbuffer", which zoo.cfg cannot set
	// in Apache 3.8 (the key becomes zookeeper.jute.maxbuffer, read by
	// nobody); zkit honours both spellings.
	"jute.maxbuffer": getInteger(func(c *Config) *int { return &c.JuteMaxBuffer }),
	"snapCount":      setSnapCount,
	// FileTxnLog: forceSync = !"no".equals(zookeeper.forceSync).
	"forceSync":    setForceSync,
	"preAllocSize": setPreAllocSize,
	// QuorumPeer and FourLetterCommands read "readonlymode.enabled", again
	// out of zoo.cfg's reach in Apache; zkit honours both spellings.
	"readonlymode.enabled": getBoolean(func(c *Config) *bool { return &c.ReadOnlyMode }),
	// AdminServerFactory: enabled unless the value is exactly "false".
	"admin.enableServer":  setAdminEnable,
	"admin.serverAddress": sysString(func(c *Config) *string { return &c.AdminServerAddress }),
	"admin.serverPort":    getInteger(func(c *Config) *int { return &c.AdminServerPort }),
	"admin.commandURL":    sysString(func(c *Config) *string { return &c.AdminCommandURL }),
	"DigestAuthenticationProvider.superDigest": sysString(func(c *Config) *string {
		return &c.SuperDigest
	}),
}

// sysPrefixes are families of system-property settings, kept in Raw (and
// authProvider.* / superUser.* also in typed fields).
var sysPrefixes = []string{"ssl.", "authProvider.", "superUser."}

// passThrough lists the other settings Apache 3.8's server reads as
// "zookeeper.X" system properties (collected from the string literals of
// its source), plus the few it reads without the prefix (znode.container.*,
// *.nodelay), which zkit accepts from zoo.cfg like jute.maxbuffer. They are
// kept in Raw without a warning.
var passThrough = map[string]bool{}

func init() {
	for _, name := range strings.Fields(`
		superUser DigestAuthenticationProvider.digestAlg DigestAuthenticationProvider.enabled
		SASLAuthenticationProvider.superPassword X509AuthenticationProvider.superUser
		admin.forceHttps admin.httpVersion admin.idleTimeout admin.portUnification
		allowSaslFailedClients audit.enable audit.impl.class bitHashCacheSize
		client.portUnification client.secure clientCnxnSocket clientTcpKeepAlive
		closeSessionTxn.enabled cnxTimeout commitLogCount commitProcessor.maxCommitBatchSize
		commitProcessor.maxReadBatchSize commitProcessor.numWorkerThreads
		commitProcessor.shutdownTimeout connection_throttle_decrease_ratio
		connection_throttle_drop_decrease connection_throttle_drop_increase
		connection_throttle_fill_count connection_throttle_fill_time connection_throttle_freeze_time
		connection_throttle_global_session_weight connection_throttle_local_session_weight
		connection_throttle_renew_session_weight connection_throttle_tokens
		connection_throttle_weight_enabled datadir.autocreate db.autocreate digest.enabled
		electionPortBindRetry emulate353TTLNodes enableEagerACLCheck enforce.auth.enabled
		enforce.auth.schemes enforceQuota ensembleAuthName fastleader.maxNotificationInterval
		fastleader.minNotificationInterval flushDelay follower.skipLearnerRequestToNextProcessor
		forceSnapshotSync forward_learner_requests_to_commit_processor_disabled
		fsync.warningthresholdms globalOutstandingLimit intBufferStartingSizeBytes
		jute.maxbuffer.extrasize kerberos.canonicalizeHostNames
		kerberos.removeHostFromPrincipal kerberos.removeRealmFromPrincipal kinit
		largeRequestMaxBytes largeRequestThreshold leader.ackLoggingFrequency
		leader.closeSocketAsync leader.maxConcurrentDiffSyncs leader.maxConcurrentSnapSyncs
		leader.maxTimeToWaitForEpoch leaderConnectDelayDuringRetryMs leaderServes
		learner.asyncSending learner.closeSocketAsync letAnySaslUserDoX maxBatchSize maxCnxns
		maxGetChildrenResponseCacheSize maxInProcessingDeadWatchers maxResponseCacheSize
		maxWriteQueuePollTime messageTracker.BufferSize messageTracker.Enabled
		netty.advancedFlowControl.enabled netty.server.earlyDropSecureConnectionHandshakes
		netty.server.outstandingHandshake.limit nio.directBufferBytes nio.numSelectorThreads
		nio.numWorkerThreads nio.sessionlessCnxnTimeout nio.shutdownTimeout
		observer.election.DelayMs observer.reconnectDelayMs observer.syncEnabled
		observerMaster.sizeLimit pathStats.delay pathStats.enabled pathStats.initialDelay
		pathStats.maxDepth pathStats.sampleRate pathStats.slotCapacity pathStats.slotDuration
		pathStats.topPathMax quorumCnxnTimeoutMs request.timeout request_stale_connection_check
		request_stale_latency_check request_throttle_drop_stale request_throttle_max_requests
		request_throttle_stall_time request_throttler.shutdownTimeout requireKerberosConfig
		sasl.client sasl.client.canonicalize.hostname sasl.client.username sasl.clientconfig
		sasl.serverconfig security.auth_to_local server.principal server.realm
		serverCnxnFactory sessionRequireClientSASLAuth skipACL snapSizeLimitInKb
		snapshot.compression.method snapshot.trust.empty snapshotSizeFactor tcpKeepAlive
		throttled_op_wait_time txnLogSizeLimitInKb watchManagerName
		watcherCleanIntervalInSeconds watcherCleanThreadsNum watcherCleanThreshold
		znode.container.checkIntervalMs znode.container.maxPerMinute
		znode.container.maxNeverUsedIntervalMs follower.nodelay leader.nodelay`) {
		passThrough[name] = true
	}
	// The JAAS login configuration (SASL users). Apache reads it only as
	// the JVM property java.security.auth.login.config; zkit also takes it
	// from zoo.cfg (see cmd/zkit's SASL setup).
	passThrough["java.security.auth.login.config"] = true
}

// sysName returns the zoo.cfg name of a system-property setting spelled
// either X or zookeeper.X, and false if key is not one.
func sysName(key string) (string, bool) {
	if isSysSetting(key) {
		return key, true
	}
	if short, ok := strings.CutPrefix(key, "zookeeper."); ok && isSysSetting(short) {
		return short, true
	}
	return "", false
}

func isSysSetting(name string) bool {
	if sysKeys[name] != nil || passThrough[name] {
		return true
	}
	for _, p := range sysPrefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// set4lw parses the comma list; "*" enables everything (Apache adds every
// known command and stops reading the list there).
func set4lw(l *loader, e entry) {
	words := []string{}
	for _, w := range strings.Split(e.value, ",") {
		w = javaTrim(w)
		if w == "*" {
			l.cfg.FourLetterWordsAll = true
			break
		}
		if w != "" && !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	l.cfg.FourLetterWords = words
}

// getBoolean is Boolean.getBoolean: "true" in any case, else false.
func getBoolean(field func(*Config) *bool) sysSetter {
	return func(l *loader, e entry) {
		b, err := parseBool(e.value)
		if err != nil {
			l.warnf(l.name, e.line, "%s: %v; Apache reads it as false", e.key, err)
		}
		*field(l.cfg) = b
	}
}

// getInteger is Integer.getInteger: Integer.decode, or the default.
func getInteger(field func(*Config) *int) sysSetter {
	return func(l *loader, e entry) {
		n, err := decodeInt(e.value)
		if err != nil {
			l.warnf(l.name, e.line, "%s: %v; using the default %d, as Apache does", e.key, err, *field(l.cfg))
			return
		}
		*field(l.cfg) = n
	}
}

func sysString(field func(*Config) *string) sysSetter {
	return func(l *loader, e entry) { *field(l.cfg) = e.value }
}

// setSnapCount: ZooKeeperServer.getSnapCount raises values below 2 to 2.
func setSnapCount(l *loader, e entry) {
	getInteger(func(c *Config) *int { return &c.SnapCount })(l, e)
	if l.cfg.SnapCount < 2 {
		l.warnf(l.name, e.line, "%s: %d is below 2; using 2, as Apache does", e.key, l.cfg.SnapCount)
		l.cfg.SnapCount = 2
	}
}

func setForceSync(l *loader, e entry) {
	if e.value != "yes" && e.value != "no" {
		l.warnf(l.name, e.line, "%s: %q is neither yes nor no; Apache reads anything but \"no\" as yes", e.key, e.value)
	}
	l.cfg.ForceSync = e.value != "no"
}

// setPreAllocSize: FilePadding takes Long.parseLong kilobytes and keeps the
// default on a bad value.
func setPreAllocSize(l *loader, e entry) {
	n, err := parseLong(e.value, 10)
	if err != nil {
		l.warnf(l.name, e.line, "%s: %v; using the default %d KB, as Apache does", e.key, err, l.cfg.PreAllocSizeKB)
		return
	}
	l.cfg.PreAllocSizeKB = n
}

func setAdminEnable(l *loader, e entry) {
	if e.value != "true" && e.value != "false" {
		l.warnf(l.name, e.line, "%s: %q is neither true nor false; Apache enables the admin server unless it is exactly \"false\"", e.key, e.value)
	}
	l.cfg.AdminEnableServer = e.value != "false"
}

// collectAuth fills SuperUsers and AuthProviders from Raw, in key order.
// ZooKeeperServer.isSaslSuperUser accepts zookeeper.superUser and
// zookeeper.superUser.*; ProviderRegistry loads every
// zookeeper.authProvider.* class.
func (l *loader) collectAuth() {
	keys := make([]string, 0, len(l.cfg.Raw))
	for k := range l.cfg.Raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := l.cfg.Raw[k]
		if k == "superUser" || strings.HasPrefix(k, "superUser.") {
			l.cfg.SuperUsers = append(l.cfg.SuperUsers, v)
		} else if name, ok := strings.CutPrefix(k, "authProvider."); ok && name != "" {
			l.cfg.AuthProviders[name] = v
		}
	}
}
