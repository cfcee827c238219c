package config

import "fmt"

// The checks QuorumPeerConfig.parseProperties makes after reading every
// key, in Apache's order.

// checkSASL: quorum SASL requirements need SASL enabled, and a server that
// requires it must also be a learner that requires it.
func (l *loader) checkSASL() error {
	c := l.cfg
	switch {
	case !c.QuorumSASLEnabled && c.QuorumServerRequireSASL:
		return l.errAt("quorum.auth.serverRequireSasl", "cannot be true while quorum.auth.enableSasl is false")
	case !c.QuorumSASLEnabled && c.QuorumLearnerRequireSASL:
		return l.errAt("quorum.auth.learnerRequireSasl", "cannot be true while quorum.auth.enableSasl is false")
	case !c.QuorumLearnerRequireSASL && c.QuorumServerRequireSASL:
		return l.errAt("quorum.auth.serverRequireSasl", "cannot be true while quorum.auth.learnerRequireSasl is false")
	}
	return nil
}

func (l *loader) finishDirs() error {
	c := l.cfg
	if c.SnapRetainCount < DefaultSnapRetainCount {
		// PurgeTxnLog never keeps fewer than 3 snapshots.
		e, _ := l.find("autopurge.snapRetainCount")
		l.warnf(l.name, e.line, "autopurge.snapRetainCount: %d is below 3; using 3, as Apache does", c.SnapRetainCount)
		c.SnapRetainCount = DefaultSnapRetainCount
	}
	if c.DataDir == "" {
		return &Error{File: l.name, Msg: "dataDir is not set"}
	}
	if c.DataLogDir == "" {
		c.DataLogDir = c.DataDir
	}
	return nil
}

// finishPorts: a listen address needs its port. Port 0 means "not set".
func (l *loader) finishPorts() error {
	c := l.cfg
	if c.ClientPort == 0 && c.ClientPortAddress != "" {
		return l.errAt("clientPortAddress", "is set but clientPort is not set")
	}
	if c.SecureClientPort == 0 && c.SecureClientPortAddress != "" {
		return l.errAt("secureClientPortAddress", "is set but secureClientPort is not set")
	}
	if c.ObserverMasterPort < 0 {
		c.ObserverMasterPort = 0 // Apache: <= 0 is "not set"
	}
	return nil
}

// finishTimes: tickTime is required; session timeouts default to 2 and 20
// ticks when unset or -1, and must be ordered.
func (l *loader) finishTimes() error {
	c := l.cfg
	switch {
	case c.TickTimeMs == 0:
		return l.errAt("tickTime", "is not set (0)")
	case c.TickTimeMs < 0:
		// Apache fails later, on the session timeouts derived from it.
		return l.errAt("tickTime", "%d is not positive", c.TickTimeMs)
	}
	if c.MinSessionTimeoutMs == -1 {
		c.MinSessionTimeoutMs = 2 * c.TickTimeMs
	}
	if c.MaxSessionTimeoutMs == -1 {
		c.MaxSessionTimeoutMs = 20 * c.TickTimeMs
	}
	if c.MinSessionTimeoutMs > c.MaxSessionTimeoutMs {
		return l.errAt("minSessionTimeout", "%d ms must not be larger than maxSessionTimeout (%d ms)",
			c.MinSessionTimeoutMs, c.MaxSessionTimeoutMs)
	}
	if n := c.MetricsProviderClassName; n != DefaultMetricsProvider && n != PrometheusMetricsClass {
		e, _ := l.find("metricsProvider.className")
		l.warnf(l.name, e.line, "metricsProvider.className: %s is not a provider zkit knows", n)
	}
	return nil
}

// checkClientPort is zkit's own: Apache starts without any client port but
// then serves nobody.
func (l *loader) checkClientPort() error {
	c := l.cfg
	if c.ClientPort != 0 || c.SecureClientPort != 0 {
		return nil
	}
	msg := "clientPort is not set (nor secureClientPort)"
	if !c.Standalone() {
		msg = fmt.Sprintf("clientPort is not set (nor secureClientPort, nor a client port on the server.%d line)", c.MyID)
	}
	return &Error{File: l.name, Msg: msg}
}
