package main

import (
	"fmt"
	"log/slog"

	"zkit/server/admin"
	"zkit/server/config"
	"zkit/server/member"
)

// startHTTPServers starts what cfg asks for besides the client port: the
// AdminServer (admin.enableServer, on by default as in Apache, on
// admin.serverAddress:admin.serverPort, default 0.0.0.0:8080) and the
// Prometheus endpoint (metricsProvider.className = Apache's
// PrometheusMetricsProvider, on metricsProvider.httpHost:httpPort). Each
// logs the address it bound (port 0 picks a free port). stop closes them.
//
// As in Apache, a configured endpoint that cannot listen is an error. The
// one exception: an AdminServer that is on only by default (zoo.cfg says
// nothing of admin.enableServer or admin.serverPort) and finds its port
// taken is logged and skipped, so that a second zkit on the machine still
// serves its clients.
func startHTTPServers(cfg *config.Config, srv *member.Server, log *slog.Logger) (stop func(), err error) {
	var closers []func() error
	stop = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
	}
	if admin.AdminEnabled(cfg) {
		a := admin.NewAdminServer(admin.AdminOptionsFor(cfg, srv, log))
		if err := a.Start(); err != nil {
			_, explicit := cfg.Raw["admin.enableServer"]
			_, port := cfg.Raw["admin.serverPort"]
			if explicit || port {
				stop()
				return nil, fmt.Errorf("unable to start the AdminServer on %s: %w", admin.AdminAddr(cfg), err)
			}
			log.Warn("AdminServer not started (set admin.enableServer=false or another admin.serverPort)",
				"addr", admin.AdminAddr(cfg), "err", err)
		} else {
			closers = append(closers, a.Close)
		}
	}
	if admin.PrometheusEnabled(cfg) {
		m := admin.NewMetricsServer(admin.MetricsOptionsFor(cfg, srv, log))
		if err := m.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("cannot start the Prometheus /metrics endpoint on %s: %w", admin.MetricsOptionsFor(cfg, srv, log).Addr, err)
		}
		closers = append(closers, m.Close)
	}
	return stop, nil
}
