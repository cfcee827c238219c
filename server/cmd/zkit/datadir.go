package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	flag "github.com/spf13/pflag"

	"zkit/server/proto"
	"zkit/server/storage"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
)

// runDatadir inspects a data directory: the counterpart of ZooKeeper's
// LogFormatter, SnapshotFormatter and PurgeTxnLog.
func runDatadir(args []string) int {
	subs := map[string]func([]string) int{
		"list": datadirList, "log": datadirLog, "snapshot": datadirSnapshot,
		"verify": datadirVerify, "purge": datadirPurge,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprint(os.Stderr, `usage: zkit datadir <command> [flags] <path>

  list <dataDir>          snapshots and log segments, with zxid ranges, sizes and validity
  log <segment file>      every txn of a log segment, one line each
  snapshot <file>         a snapshot's summary; --nodes lists its znodes
  verify <dataDir>        check every checksum and the zxid sequence (exit status 1 on corruption)
  purge <dataDir>         keep the newest --retain snapshots and the log they need

<dataDir> is the directory named by dataDir in zoo.cfg (the files are in its zkit
subdirectory); give --log-dir when dataLogDir differs.
`)
		return 2
	}
	return subs[args[0]](args[1:])
}

// dirFlags parses the flags common to the directory commands.
type dirFlags struct {
	fs     *flag.FlagSet
	logDir string
}

func newDirFlags(name, usage string) *dirFlags {
	d := &dirFlags{fs: flag.NewFlagSet("datadir "+name, flag.ContinueOnError)}
	d.fs.StringVar(&d.logDir, "log-dir", "", "the dataLogDir, when it is not the dataDir")
	d.fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: zkit datadir %s\n\n", usage)
		d.fs.PrintDefaults()
	}
	return d
}

// parse returns the one path argument, or an exit status.
func (d *dirFlags) parse(args []string) (string, int) {
	if err := d.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", 0
		}
		return "", 2
	}
	if d.fs.NArg() != 1 {
		d.fs.Usage()
		return "", 2
	}
	return d.fs.Arg(0), -1
}

// dataDirs accepts the configured directory or its zkit subdirectory.
func (d *dirFlags) dataDirs(dir string) (string, string) {
	base := func(p string) string {
		if p == "" {
			return ""
		}
		if _, err := os.Stat(storage.Dir(p)); err != nil && filepath.Base(filepath.Clean(p)) == "zkit" {
			return filepath.Dir(filepath.Clean(p))
		}
		return p
	}
	return base(dir), base(d.logDir)
}

func datadirList(args []string) int {
	d := newDirFlags("list", "list [--log-dir D] <dataDir>")
	dir, code := d.parse(args)
	if code >= 0 {
		return code
	}
	data, logs := d.dataDirs(dir)
	reports, err := storage.Inspect(vfs.OS, data, logs, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	printReports(os.Stdout, reports)
	return 0
}

func printReports(w io.Writer, reports []storage.FileReport) {
	for _, r := range reports {
		state := "ok"
		if r.Problem != "" {
			state = r.Problem
		}
		switch r.Kind {
		case "snapshot":
			fmt.Fprintf(w, "%-28s %10d bytes  zxid %-12s %d nodes, %d sessions  %s\n",
				filepath.Base(r.Path), r.Size, storage.ZxidString(r.First), r.Count, r.Sessions, state)
		case "log":
			zx := "(empty)"
			if r.Count > 0 {
				zx = storage.ZxidString(r.First) + ".." + storage.ZxidString(r.Last)
			}
			fmt.Fprintf(w, "%-28s %10d bytes  zxid %-25s %d txns  %s\n", filepath.Base(r.Path), r.Size, zx, r.Count, state)
		default:
			fmt.Fprintf(w, "%-28s %10d bytes  %s\n", filepath.Base(r.Path), r.Size, state)
		}
	}
}

func datadirVerify(args []string) int {
	d := newDirFlags("verify", "verify [--log-dir D] <dataDir>")
	dir, code := d.parse(args)
	if code >= 0 {
		return code
	}
	data, logs := d.dataDirs(dir)
	reports, err := storage.Inspect(vfs.OS, data, logs, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	printReports(os.Stdout, reports)
	corrupt := 0
	for _, r := range reports {
		if r.Corrupt {
			corrupt++
		}
	}
	if corrupt > 0 {
		fmt.Printf("CORRUPT: %d of %d files\n", corrupt, len(reports))
		return 1
	}
	fmt.Printf("ok: %d files verified\n", len(reports))
	return 0
}

func datadirPurge(args []string) int {
	d := newDirFlags("purge", "purge [--log-dir D] [--retain N] <dataDir>")
	retain := d.fs.Int("retain", storage.DefaultSnapRetainCount, "snapshots to keep (at least 3, as PurgeTxnLog)")
	dir, code := d.parse(args)
	if code >= 0 {
		return code
	}
	data, logs := d.dataDirs(dir)
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	res, err := storage.Purge(vfs.OS, data, logs, *retain, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	for _, p := range append(res.Snapshots, res.Segments...) {
		fmt.Println("removed", p)
	}
	fmt.Printf("kept snapshots from zxid %s on; removed %d snapshots and %d log segments\n",
		storage.ZxidString(res.OldestKept), len(res.Snapshots), len(res.Segments))
	return 0
}

func datadirLog(args []string) int {
	d := newDirFlags("log", "log <segment file>")
	path, code := d.parse(args)
	if code >= 0 {
		return code
	}
	if dbid, first, err := storage.ReadSegmentHeader(vfs.OS, path); err == nil {
		fmt.Printf("zkit txn log segment %s with database id %016x, first zxid %s\n", filepath.Base(path), dbid, storage.ZxidString(first))
	}
	info, err := storage.DumpSegment(vfs.OS, path, func(t *proto.Txn) { fmt.Println(storage.Describe(t)) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	if info.Problem != "" {
		fmt.Printf("stopped at: %s\n", info.Problem)
	}
	fmt.Printf("EOF reached after %d txns.\n", info.Txns)
	return 0
}

func datadirSnapshot(args []string) int {
	d := newDirFlags("snapshot", "snapshot [--nodes] [--data] <file>")
	nodes := d.fs.Bool("nodes", false, "list every znode with its stat (as SnapshotFormatter)")
	data := d.fs.Bool("data", false, "with --nodes, print each znode's data too")
	path, code := d.parse(args)
	if code >= 0 {
		return code
	}
	var list []nodeLine
	sessions := map[int64]int32{}
	acls := 0
	v := storage.SnapshotVisitor{
		Session: func(id int64, timeout int32) { sessions[id] = timeout },
		ACL:     func(int64, []proto.ACL) { acls++ },
		Node: func(p string, n tree.Node, children int) {
			if *nodes {
				list = append(list, nodeLine{p, n, children})
			}
		},
	}
	h, count, err := storage.ReadSnapshot(vfs.OS, path, v)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkit:", err)
		return 1
	}
	if *nodes {
		printNodes(os.Stdout, list, *data)
		printSessions(os.Stdout, sessions, list)
	}
	fmt.Printf("snapshot %s: database %016x, zxid %s, taken %s\n", filepath.Base(path), h.DBID,
		storage.ZxidString(h.Zxid), time.UnixMilli(h.TimeMs).UTC().Format(time.RFC3339))
	fmt.Printf("%d node records, %d ACL lists, %d sessions; checksum ok\n", count, acls, len(sessions))
	return 0
}

type nodeLine struct {
	path     string
	n        tree.Node
	children int
}

func printNodes(w io.Writer, list []nodeLine, data bool) {
	sort.Slice(list, func(i, j int) bool { return list[i].path < list[j].path })
	fmt.Fprintf(w, "ZNode Details (count=%d):\n", len(list))
	for _, l := range list {
		n := &l.n
		fmt.Fprintf(w, "----\n%s\n", l.path)
		fmt.Fprintf(w, "  cZxid = 0x%014x\n  ctime = %s\n  mZxid = 0x%014x\n  mtime = %s\n  pZxid = 0x%014x\n",
			n.Czxid, msTime(n.Ctime), n.Mzxid, msTime(n.Mtime), n.Pzxid)
		// The cversion clients see counts deletes too (tree.Node.Stat).
		fmt.Fprintf(w, "  cversion = %d\n  dataVersion = %d\n  aclVersion = %d\n  ephemeralOwner = 0x%014x\n  dataLength = %d\n",
			n.Cversion*2-int32(l.children), n.Version, n.Aversion, uint64(n.Owner), len(n.Data))
		if data {
			fmt.Fprintf(w, "  data = %q\n", n.Data)
		}
	}
	fmt.Fprintln(w, "----")
}

func printSessions(w io.Writer, sessions map[int64]int32, list []nodeLine) {
	eph := map[int64]int{}
	for _, l := range list {
		eph[l.n.Owner]++
	}
	ids := make([]int64, 0, len(sessions))
	for id := range sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	fmt.Fprintln(w, "Session Details (sid, timeout, ephemeralCount):")
	for _, id := range ids {
		fmt.Fprintf(w, "0x%x, %d, %d\n", uint64(id), sessions[id], eph[id])
	}
	fmt.Fprintln(w, strings.Repeat("-", 4))
}

func msTime(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000 MST") }
