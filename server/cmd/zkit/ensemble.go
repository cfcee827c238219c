package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	flag "github.com/spf13/pflag"

	"zkit/server/ensemble"
)

func runEnsemble(args []string) int {
	fs := flag.NewFlagSet("ensemble", flag.ContinueOnError)
	var cfg ensemble.Config
	var readyFile string
	var asJSON bool
	var lf logFlags
	fs.IntVarP(&cfg.Size, "members", "n", 3, "voting members")
	fs.IntVar(&cfg.Observers, "observers", 0, "observers")
	fs.DurationVar(&cfg.TickTime, "tick-time", 2*time.Second, "tickTime")
	fs.IntVar(&cfg.InitLimit, "init-limit", 10, "initLimit, in ticks")
	fs.IntVar(&cfg.SyncLimit, "sync-limit", 5, "syncLimit, in ticks")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "keep each member's data under this directory (default: in memory)")
	fs.StringVar(&cfg.Host, "host", "127.0.0.1", "loopback address to bind")
	fs.BoolVar(&cfg.ExtendedTypes, "extended-types", false, "enable TTL nodes (extendedTypesEnabled)")
	fs.BoolVar(&cfg.ReconfigEnabled, "reconfig-enabled", false, "allow dynamic reconfiguration (reconfigEnabled)")
	fs.BoolVar(&cfg.ReadOnly, "read-only-mode", false, "members cut off from the quorum serve read-only clients (readonlymode.enabled)")
	fs.StringVar(&cfg.SuperDigest, "super-digest", "", `the super user's digest, "super:<base64 sha1>" (DigestAuthenticationProvider.superDigest)`)
	fs.StringVar(&readyFile, "ready-file", "", "once ready, write the connect string to this file")
	fs.BoolVar(&asJSON, "json", false, "print the members as JSON once ready")
	lf.register(fs)
	_ = fs.Set("log-level", "warn")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: zkit ensemble [flags]\n\nStarts a local ensemble in this process on free loopback ports, prints its\nconnect string, and serves until interrupted.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log, err := lf.logger(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 2
	}
	cfg.Logger = log
	began := time.Now()
	e, err := ensemble.Start(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	defer e.Close()
	if err := e.WaitReady(time.Duration(cfg.InitLimit) * cfg.TickTime); err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	report(e, time.Since(began), asJSON)
	if readyFile != "" {
		if err := writeReadyFile(readyFile, e.ConnectString()); err != nil {
			fmt.Fprintln(os.Stderr, "zkit:", err)
			return 1
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return 0
}

type memberInfo struct {
	ID       uint64 `json:"id"`
	Role     string `json:"role"`
	Client   string `json:"client"`
	Quorum   string `json:"quorum"`
	Election string `json:"election"`
}

func report(e *ensemble.Ensemble, took time.Duration, asJSON bool) {
	var ms []memberInfo
	for _, m := range e.Members() {
		a := m.Addrs()
		ms = append(ms, memberInfo{ID: m.ID, Role: m.Status().State(), Client: m.ClientAddr(), Quorum: a.Quorum, Election: a.Election})
	}
	if asJSON {
		b, _ := json.Marshal(map[string]any{"connect": e.ConnectString(), "members": ms})
		fmt.Println(string(b))
		return
	}
	fmt.Println(e.ConnectString())
	fmt.Fprintf(os.Stderr, "ensemble ready in %v:\n", took.Round(time.Millisecond))
	for _, m := range ms {
		fmt.Fprintf(os.Stderr, "  server.%d  %-9s client %s  quorum %s  election %s\n", m.ID, m.Role, m.Client, m.Quorum, m.Election)
	}
	fmt.Fprintln(os.Stderr, "serving until interrupted (Ctrl-C)")
}
