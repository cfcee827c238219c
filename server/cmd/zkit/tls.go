package main

import (
	"fmt"
	"log/slog"

	"zkit/server/auth"
	"zkit/server/config"
	"zkit/server/member"
	"zkit/server/ssl"
)

// secureClientAddrFlag is serve's --secure-client-addr.
var secureClientAddrFlag string

// x509ProviderClass is how a zoo.cfg names the x509 scheme's provider
// (authProvider.N=...).
const x509ProviderClass = "org.apache.zookeeper.server.auth.X509AuthenticationProvider"

func secureClientAddr(cfg *config.Config) string {
	if secureClientAddrFlag != "" {
		return secureClientAddrFlag
	}
	return cfg.SecureClientAddr()
}

// tlsOptions maps the TLS settings of a zoo.cfg: the secure client port
// with the ssl.* settings and the x509 scheme (registered, as Apache's
// QuorumPeerConfig.configureSSLAuth does, when there is a secure port or
// an authProvider names X509AuthenticationProvider), and sslQuorum with the
// ssl.quorum.* settings.
func tlsOptions(cfg *config.Config, opts *member.Options, log *slog.Logger) error {
	addr := secureClientAddr(cfg)
	wantX509 := addr != ""
	for _, class := range cfg.AuthProviders {
		if class == x509ProviderClass {
			wantX509 = true
		}
	}
	if v, ok := cfg.Raw["client.portUnification"]; ok && v == "true" {
		log.Warn("client.portUnification is not supported: the client port stays plain text; serve TLS clients on secureClientPort")
	}
	if wantX509 {
		m, err := ssl.LoadProperties(cfg.Raw, ssl.ClientPrefix)
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.File, err)
		}
		if p, ok := cfg.Raw["ssl.authProvider"]; ok && p != auth.X509Scheme {
			return fmt.Errorf("%s: ssl.authProvider=%s: only the built-in x509 provider can authenticate TLS clients in zkit", cfg.File, p)
		}
		for _, w := range ssl.Ignored(cfg.Raw, ssl.ClientPrefix) {
			log.Warn("ignored setting", "setting", w)
		}
		x509 := &auth.X509Provider{SuperUser: cfg.Raw["X509AuthenticationProvider.superUser"], Log: log}
		if m.Roots != nil {
			x509.Verify = m.VerifyClient
		} else {
			log.Warn("ssl.trustStore.location is not set: client certificates cannot be authenticated (x509)")
		}
		opts.X509 = x509
		if addr != "" {
			tlsCfg, err := m.ServerConfig()
			if err != nil {
				return fmt.Errorf("%s: secureClientPort: %w", cfg.File, err)
			}
			opts.SecureClientAddr, opts.TLS = addr, tlsCfg
			log.Info("secure client port configured", "addr", addr, "clientAuth", m.Settings.ClientAuth.String())
		}
	}
	if cfg.SSLQuorum && opts.Quorum != nil {
		m, err := ssl.LoadProperties(cfg.Raw, ssl.QuorumPrefix)
		if err != nil {
			return fmt.Errorf("%s: sslQuorum: %w", cfg.File, err)
		}
		q, err := ssl.NewQuorum(m, cfg.PortUnification)
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.File, err)
		}
		for _, w := range ssl.Ignored(cfg.Raw, ssl.QuorumPrefix) {
			log.Warn("ignored setting", "setting", w)
		}
		opts.Quorum.Secure = q
		log.Info("member links use TLS (sslQuorum)", "portUnification", cfg.PortUnification)
	}
	return nil
}
