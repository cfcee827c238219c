package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	flag "github.com/spf13/pflag"
)

// Main is `zkit bench`: one load-generator run (or, with the first argument
// "suite", the side-by-side comparison with Apache ZooKeeper). It returns the
// process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "suite" {
		return suiteMain(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	var hosts string
	var jsonOnly bool
	var cpuProfile string
	fs.StringVar(&hosts, "hosts", "127.0.0.1:2181", "comma-separated host:port list; client i connects to host i mod n")
	fs.IntVar(&cfg.Clients, "clients", 16, "sessions (one TCP connection each)")
	fs.IntVar(&cfg.Inflight, "inflight", 1, "requests in flight per session (pipelining depth)")
	fs.StringVar(&cfg.Op, "op", OpMixed, "workload: create, set, get or mixed")
	fs.Float64Var(&cfg.ReadRatio, "read-ratio", 0.9, "share of getData in the mixed workload (the rest is setData)")
	fs.IntVar(&cfg.Size, "size", 1024, "bytes of data per create or setData")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured window")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "load before the measured window (not counted)")
	fs.IntVar(&cfg.Znodes, "znodes", 1000, "znodes that set, get and mixed choose from (created under --root/n if missing)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the clients' random choices")
	fs.StringVar(&cfg.Root, "root", "/zkit-bench", "parent znode of everything the run creates")
	fs.Int64Var(&cfg.Count, "count", 0, "stop after this many requests instead of after --duration")
	fs.BoolVar(&cfg.Cleanup, "cleanup", true, "after a create run, delete the znodes it created (not measured)")
	fs.IntSliceVar(&cfg.ServerPIDs, "server-pid", nil, "local server process(es) whose CPU per op and RSS to report (from /proc)")
	fs.StringVar(&cfg.Label, "label", "", "free text copied into the JSON result")
	fs.BoolVar(&jsonOnly, "json", false, "print only the JSON line, not the table")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the load generator itself to this file (what the client costs)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: zkit bench [flags]        one load-generator run against ZooKeeper servers\n")
		fmt.Fprintf(stderr, "       zkit bench suite [flags]  zkit and Apache ZooKeeper side by side (see --help)\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cfg.Hosts = splitList(hosts)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "zkit bench:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "zkit bench:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	res, err := Run(cfg)
	if res != nil {
		line, _ := json.Marshal(res)
		fmt.Fprintf(stdout, "%s\n", line)
		if !jsonOnly {
			fmt.Fprintln(stdout)
			WriteTable(stdout, []*Result{res})
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "zkit bench:", err)
		return 1
	}
	if res.Errors > 0 {
		fmt.Fprintf(stderr, "zkit bench: %d requests failed: %v\n", res.Errors, res.ErrorCodes)
		return 1
	}
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// WriteTable prints results as an aligned human-readable table.
func WriteTable(w io.Writer, rs []*Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "label\top\tclients\tinflight\tsize\tops\tops/s\tp50\tp99\tp99.9\tmax\terrors\tsrv CPU/op\tsrv RSS\tcli CPU/op\t")
	for _, r := range rs {
		op := r.Op
		if r.Op == OpMixed {
			op = fmt.Sprintf("mixed %.0f%%r", r.ReadRatio*100)
		}
		srvCPU, srvRSS := "-", "-"
		if len(r.ServerPIDs) > 0 {
			srvCPU = fmtMicros(r.ServerCPUPerOp)
			srvRSS = fmtBytes(r.ServerRSS)
		}
		label := r.Label
		if label == "" {
			label = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t\n",
			label, op, r.Clients, r.Inflight, r.Size, r.Ops, r.OpsPerSec,
			fmtMicros(r.P50), fmtMicros(r.P99), fmtMicros(r.P999), fmtMicros(r.Max),
			r.Errors, srvCPU, srvRSS, fmtMicros(r.ClientCPUPerOp))
	}
	tw.Flush()
}

// fmtMicros formats a duration given in microseconds.
func fmtMicros(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2fs", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.2fms", us/1e3)
	default:
		return fmt.Sprintf("%.1fµs", us)
	}
}

func fmtBytes(b int64) string {
	return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
}
