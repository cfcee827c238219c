package ensemble

import (
	"net"

	"zkit/server/admin"
	"zkit/server/member"
)

// The members' HTTP endpoints, off unless Config.AdminServer or
// Config.Metrics asks for them: each member then gets an AdminServer
// (Apache's /commands JSON) or a Prometheus /metrics endpoint on Host,
// port 0, kept across the member's restarts (they answer "not serving",
// or export only process metrics, while the member is stopped).

// startHTTP starts the endpoints the ensemble's config asks for.
func (m *Member) startHTTP() error {
	cfg := &m.e.cfg
	addr := net.JoinHostPort(cfg.Host, "0")
	current := func() *member.Server { return m.Server() }
	log := cfg.Logger.With("member", m.ID)
	if cfg.AdminServer {
		a := admin.NewAdminServer(admin.AdminOptions{Addr: addr, Server: current, Logger: log})
		if err := a.Start(); err != nil {
			return err
		}
		m.admin = a
	}
	if cfg.Metrics {
		ms := admin.NewMetricsServer(admin.MetricsOptions{Addr: addr, Server: current, Logger: log})
		if err := ms.Start(); err != nil {
			m.closeHTTP()
			return err
		}
		m.metrics = ms
	}
	return nil
}

// closeHTTP stops the member's endpoints.
func (m *Member) closeHTTP() {
	if m.admin != nil {
		_ = m.admin.Close()
	}
	if m.metrics != nil {
		_ = m.metrics.Close()
	}
}

// AdminURL is the base URL of the member's AdminServer commands
// (http://host:port/commands), "" unless Config.AdminServer is set.
func (m *Member) AdminURL() string {
	if m.admin == nil {
		return ""
	}
	return m.admin.URL()
}

// MetricsURL is the member's Prometheus scrape URL, "" unless
// Config.Metrics is set.
func (m *Member) MetricsURL() string {
	if m.metrics == nil {
		return ""
	}
	return m.metrics.URL()
}
