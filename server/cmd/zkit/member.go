package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	flag "github.com/spf13/pflag"

	"zkit/server/admin"
	"zkit/server/config"
	"zkit/server/ensemble"
	"zkit/server/member"
)

// runMember runs one member of a local ensemble as its own process, the
// members finding each other through a rendezvous directory (see
// ensemble.WriteAddrs). The Python kit's process mode and the process
// tests use it; operators use zkit serve with a zoo.cfg.
func runMember(args []string) int {
	fs := flag.NewFlagSet("member", flag.ContinueOnError)
	var id uint64
	var voters, observers, rendezvous, dataDir, host, readyFile, superDigest string
	var tick, containerCheck time.Duration
	var initLimit, syncLimit int
	var noSync, extended, readOnly, reconfig bool
	var wait time.Duration
	var lf logFlags
	fs.Uint64Var(&id, "id", 0, "this member's id (myid)")
	fs.StringVar(&voters, "voters", "1,2,3", "ids of the voting members")
	fs.StringVar(&observers, "observers", "", "ids of the observers")
	fs.StringVar(&rendezvous, "rendezvous", "", "directory where members record their addresses (required)")
	fs.StringVar(&dataDir, "data-dir", "", "this member's data directory (required)")
	fs.StringVar(&host, "host", "127.0.0.1", "address to bind")
	fs.DurationVar(&tick, "tick-time", 2*time.Second, "tickTime")
	fs.IntVar(&initLimit, "init-limit", 10, "initLimit, in ticks")
	fs.IntVar(&syncLimit, "sync-limit", 5, "syncLimit, in ticks")
	fs.BoolVar(&noSync, "no-sync", false, "never fsync the log (forceSync=no; tests only)")
	fs.BoolVar(&extended, "extended-types", false, "enable TTL nodes")
	fs.BoolVar(&readOnly, "read-only-mode", false, "serve read-only clients while cut off from the quorum (readonlymode.enabled)")
	fs.BoolVar(&reconfig, "reconfig-enabled", false, "allow dynamic reconfiguration (reconfigEnabled)")
	fs.DurationVar(&containerCheck, "container-check-interval", time.Minute, "how often empty containers and expired TTL nodes are reaped (znode.container.checkIntervalMs)")
	fs.StringVar(&superDigest, "super-digest", "", `the super user's digest, "super:<base64 sha1>" (DigestAuthenticationProvider.superDigest)`)
	fs.DurationVar(&wait, "wait", time.Minute, "how long to wait for the other members' addresses")
	fs.StringVar(&readyFile, "ready-file", "", "once started, write the client address to this file")
	lf.register(fs)
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
	vs, err1 := parseIDs(voters)
	os_, err2 := parseIDs(observers)
	if err := errors.Join(err1, err2); err != nil || id == 0 || rendezvous == "" || dataDir == "" {
		fmt.Fprintln(os.Stderr, "zkit member: --id, --rendezvous and --data-dir are required; --voters/--observers are comma-separated ids", err)
		return 2
	}
	if containerCheck <= 0 {
		fmt.Fprintln(os.Stderr, "zkit member: --container-check-interval must be positive")
		return 2
	}
	if superDigest != "" && !strings.Contains(superDigest, ":") {
		fmt.Fprintln(os.Stderr, `zkit member: --super-digest wants "user:<base64 sha1>"`)
		return 2
	}
	self, known, err := ensemble.ReadAddrs(rendezvous, id)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	any := net.JoinHostPort(host, "0")
	if !known {
		self = ensemble.Addrs{ID: id, Client: any, Quorum: any, Election: any}
	}
	srv := member.New(member.Options{
		ClientAddr: self.Client, TickTime: tick, ExtendedTypes: extended, ServerID: int64(id),
		ContainerCheckInterval: containerCheck, SuperDigest: superDigest, ReconfigEnabled: reconfig,
		FourLetterWords: admin.FourLetterWords(&config.Config{FourLetterWordsAll: true, DataDir: dataDir}),
		Storage:         member.StorageOptions{DataDir: dataDir, NoSync: noSync},
		Logger:          log,
		Quorum: &member.QuorumOptions{
			ID: id, Voters: vs, Observers: os_, QuorumAddr: self.Quorum, ElectionAddr: self.Election,
			InitLimit: initLimit, SyncLimit: syncLimit, ReadOnly: readOnly,
		},
	})
	if err := srv.Bind(); err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	qa := srv.QuorumAddrs()
	self = ensemble.Addrs{ID: id, Client: srv.Addr().String(), Quorum: qa.Quorum, Election: qa.Election}
	if err := ensemble.WriteAddrs(rendezvous, self); err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	all, err := ensemble.WaitAddrs(rendezvous, append(append([]uint64(nil), vs...), os_...), wait)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	srv.SetPeers(ensemble.Peers(all, id))
	srv.SetServers(ensemble.Servers(all, os_))
	if err := srv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	if readyFile != "" {
		if err := writeReadyFile(readyFile, self.Client); err != nil {
			fmt.Fprintln(os.Stderr, "zkit:", err)
			srv.Stop()
			return 1
		}
	}
	failed := waitForStop(log, srv)
	srv.Stop()
	if failed {
		return 1
	}
	return 0
}

func parseIDs(s string) ([]uint64, error) {
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		id, err := strconv.ParseUint(f, 10, 64)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("bad member id %q", f)
		}
		out = append(out, id)
	}
	return out, nil
}
