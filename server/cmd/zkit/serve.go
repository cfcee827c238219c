package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	flag "github.com/spf13/pflag"

	"zkit/server/admin"
	"zkit/server/auth"
	"zkit/server/bench"
	"zkit/server/config"
	"zkit/server/member"
)

func runServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfgPath, clientAddr, readyFile, jaasPath string
	var inMemory bool
	var lf logFlags
	var prof bench.ProfileFlags
	fs.StringVar(&cfgPath, "config", "", "path to zoo.cfg (may also be given as the argument)")
	fs.StringVar(&clientAddr, "client-addr", "", "serve clients on this host:port instead of the config's (port 0 picks a free port)")
	fs.StringVar(&readyFile, "ready-file", "", "once serving, write the client address actually bound to this file")
	fs.BoolVar(&inMemory, "in-memory", false, "keep no data directory: nothing survives a restart (throwaway test servers)")
	fs.StringVar(&secureClientAddrFlag, "secure-client-addr", "", "serve TLS clients on this host:port instead of the config's secureClientPort (port 0 picks a free port)")
	fs.StringVar(&jaasPath, "jaas", "", "JAAS file whose Server section lists the SASL DIGEST-MD5 users (else java.security.auth.login.config from zoo.cfg, JVMFLAGS or SERVER_JVMFLAGS)")
	lf.register(fs)
	prof.Register(fs)
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: zkit serve [flags] zoo.cfg\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if cfgPath == "" && fs.NArg() == 1 {
		cfgPath = fs.Arg(0)
	}
	if cfgPath == "" || fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	log, err := lf.logger(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 2
	}
	stopProfiles, err := prof.Start(log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 2
	}
	defer stopProfiles()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	cfg.LogWarnings(log)
	sasl, err := saslSettings(cfg, jaasPath, osGetenv, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	srv, err := buildServer(cfg, clientAddr, inMemory, sasl, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	if err := srv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	stopHTTP, err := startHTTPServers(cfg, srv, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		srv.Stop()
		return 1
	}
	defer stopHTTP()
	if readyFile != "" {
		if err := writeReadyFile(readyFile, srv.Addr().String()); err != nil {
			fmt.Fprintln(os.Stderr, "zkit:", err)
			srv.Stop()
			return 1
		}
	}
	if failed := waitForStop(log, srv); failed {
		return 1
	}
	done := make(chan struct{})
	go func() { srv.Stop(); close(done) }()
	select {
	case <-done:
		log.Info("stopped")
	case <-time.After(5 * time.Second):
		log.Error("stop timed out")
		return 1
	}
	return 0
}

// buildServer maps a zoo.cfg onto a standalone server.
func buildServer(cfg *config.Config, clientAddr string, inMemory bool, sasl *auth.SASLConfig, log *slog.Logger) (*member.Server, error) {
	addr := cfg.ClientAddr()
	if clientAddr != "" {
		addr = clientAddr
	}
	if addr == "" && secureClientAddr(cfg) == "" {
		return nil, fmt.Errorf("%s: no clientPort: set clientPort or secureClientPort", cfg.File)
	}
	tick := time.Duration(cfg.TickTimeMs) * time.Millisecond
	opts := member.Options{
		ClientAddr:             addr,
		TickTime:               tick,
		MinSessionTimeout:      time.Duration(cfg.MinSessionTimeoutMs) * time.Millisecond,
		MaxSessionTimeout:      time.Duration(cfg.MaxSessionTimeoutMs) * time.Millisecond,
		MaxClientCnxns:         cfg.MaxClientCnxns,
		MaxBuffer:              cfg.JuteMaxBuffer,
		ExtendedTypes:          cfg.ExtendedTypesEnabled,
		EnforceQuota:           strings.EqualFold(cfg.Raw["enforceQuota"], "true"),
		ReconfigEnabled:        cfg.ReconfigEnabled,
		SuperDigest:            cfg.SuperDigest,
		ContainerCheckInterval: containerInterval(cfg),
		Storage:                storageOptions(cfg, inMemory),
		SASL:                   sasl,
		FourLetterWords:        admin.FourLetterWords(cfg),
		Logger:                 log,
	}
	if !cfg.Standalone() {
		q, err := quorumOptions(cfg)
		if err != nil {
			return nil, err
		}
		opts.Quorum = q
		opts.ServerID = cfg.MyID
	}
	if err := tlsOptions(cfg, &opts, log); err != nil {
		return nil, err
	}
	return member.New(opts), nil
}

func containerInterval(cfg *config.Config) time.Duration {
	if v, ok := cfg.Raw["znode.container.checkIntervalMs"]; ok {
		var ms int
		if _, err := fmt.Sscan(v, &ms); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return time.Minute
}

// writeReadyFile publishes the bound address atomically, so a watcher of
// the file never reads half of it.
func writeReadyFile(path, addr string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
