package admin

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"zkit/server/config"
	"zkit/server/member"
	"zkit/server/storage/vfs"
	"zkit/server/tree"
	"zkit/server/version"
	"zkit/server/zab"
)

// The AdminServer's commands (Apache's org.apache.zookeeper.server.admin
// .Commands, 3.8 set): each answers a JSON object whose keys, nesting and
// value types are Apache's, followed by the common "command" (the primary
// name) and "error" (null, or a message) keys. The data come from the same
// places as the four-letter words'.

// command is one registered command.
type command struct {
	names []string // primary name first, then aliases
	// serverRequired: answered with notServing while the server does not
	// serve (Command.isServerRequired).
	serverRequired bool
	run            func(c *cmdContext) jsonObj
}

// cmdContext is what a command runs against.
type cmdContext struct {
	cfg    *config.Config
	s      *member.Server // nil when no server runs
	st     status
	kwargs map[string]string // the request's query parameters
	// initialConfig is the text of the zoo.cfg the server started from.
	initialConfig *string
}

// commands is Apache 3.8's command set, by primary name.
var commands = []command{
	{names: []string{"configuration", "conf", "config"}, serverRequired: true, run: cmdConf},
	{names: []string{"connection_stat_reset", "crst"}, serverRequired: true, run: func(c *cmdContext) jsonObj {
		for _, cn := range c.s.Clients.Conns() {
			cn.ResetStats()
		}
		return nil
	}},
	{names: []string{"connections", "cons"}, serverRequired: true, run: func(c *cmdContext) jsonObj {
		return jsonObj{{"connections", connectionInfos(c.s, false)}, {"secure_connections", []any{}}}
	}},
	{names: []string{"dirs"}, serverRequired: true, run: func(c *cmdContext) jsonObj {
		d := dirsOf(c.cfg, c.s)
		return jsonObj{{"datadir_size", d.size(d.snap)}, {"logdir_size", d.size(d.log)}}
	}},
	{names: []string{"dump"}, serverRequired: true, run: cmdDump},
	{names: []string{"environment", "env", "envi"}, run: func(*cmdContext) jsonObj {
		var b strings.Builder
		writeEnvi(&b)
		var out jsonObj
		for _, l := range strings.Split(b.String(), "\n")[1:] {
			if k, v, ok := strings.Cut(l, "="); ok {
				out.put(k, v)
			}
		}
		return out
	}},
	{names: []string{"get_trace_mask", "gtmk"}, run: func(*cmdContext) jsonObj {
		return jsonObj{{"tracemask", traceMask.Load()}}
	}},
	{names: []string{"hash"}, serverRequired: true, run: func(*cmdContext) jsonObj {
		// zkit keeps no digest log (see the package doc).
		return jsonObj{{"digests", []any{}}}
	}},
	{names: []string{"initial_configuration", "icfg"}, serverRequired: true, run: func(c *cmdContext) jsonObj {
		var v any
		// QuorumPeerMain never hands its config text to the server:
		// null on an ensemble member, as in Apache.
		if c.initialConfig != nil && !c.s.IsQuorum() {
			v = *c.initialConfig
		}
		return jsonObj{{"initial_configuration", v}}
	}},
	{names: []string{"is_read_only", "isro"}, serverRequired: true, run: func(c *cmdContext) jsonObj {
		return jsonObj{{"read_only", c.st.Mode == ModeReadOnly}}
	}},
	{names: []string{"last_snapshot", "lsnp"}, serverRequired: true, run: cmdLastSnapshot},
	{names: []string{"leader", "lead"}, serverRequired: true, run: cmdLeader},
	{names: []string{"monitor", "mntr"}, run: cmdMonitor},
	{names: []string{"observer_connection_stat_reset", "orst"}, serverRequired: true, run: func(*cmdContext) jsonObj {
		// zkit has no observer masters: nothing to reset.
		return nil
	}},
	{names: []string{"observers", "obsr"}, serverRequired: true, run: func(c *cmdContext) jsonObj {
		n := 0
		if c.s.IsQuorum() && c.st.Mode == ModeLeader {
			if l := quorumViewOf(c.s).m.Leading; l != nil {
				n = l.SyncedObservers
			}
		}
		// The leader's per-observer handler details are not exposed by
		// zkit's protocol core: the list stays empty.
		return jsonObj{{"synced_observers", n}, {"observers", []any{}}}
	}},
	{names: []string{"ruok"}, serverRequired: true, run: func(*cmdContext) jsonObj { return nil }},
	{names: []string{"server_stats", "srvr"}, serverRequired: true, run: func(c *cmdContext) jsonObj { return cmdSrvr(c, false) }},
	{names: []string{"set_trace_mask", "stmk"}, run: func(c *cmdContext) jsonObj {
		v, ok := c.kwargs["traceMask"]
		if !ok {
			return jsonObj{{"error", "setTraceMask requires long traceMask argument"}}
		}
		mask, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return jsonObj{{"error", "setTraceMask requires long traceMask argument, got " + v}}
		}
		traceMask.Store(mask)
		return jsonObj{{"tracemask", mask}}
	}},
	{names: []string{"stat_reset", "srst"}, serverRequired: true, run: func(c *cmdContext) jsonObj {
		resetServerStats(c.s)
		return nil
	}},
	{names: []string{"stats", "stat"}, serverRequired: true, run: func(c *cmdContext) jsonObj { return cmdSrvr(c, true) }},
	{names: []string{"system_properties", "sysp"}, run: cmdSystemProperties},
	{names: []string{"voting_view"}, serverRequired: true, run: cmdVotingView},
	{names: []string{"watch_summary", "wchs"}, serverRequired: true, run: func(c *cmdContext) jsonObj {
		byID := dataWatches(c.s)
		paths := map[string]bool{}
		total := 0
		for _, ps := range byID {
			total += len(ps)
			for _, p := range ps {
				paths[p] = true
			}
		}
		return jsonObj{{"num_connections", len(byID)}, {"num_paths", len(paths)}, {"num_total_watches", total}}
	}},
	{names: []string{"watches", "wchc"}, serverRequired: true, run: func(c *cmdContext) jsonObj {
		byID := dataWatches(c.s)
		var m jsonObj
		for _, id := range sortedIDs(byID) {
			m = append(m, jsonField{strconv.FormatInt(id, 10), byID[id]})
		}
		return jsonObj{{"session_id_to_watched_paths", orEmpty(m)}}
	}},
	{names: []string{"watches_by_path", "wchp"}, serverRequired: true, run: func(c *cmdContext) jsonObj {
		byPath := map[string][]int64{}
		for id, ps := range dataWatches(c.s) {
			for _, p := range ps {
				byPath[p] = append(byPath[p], id)
			}
		}
		var m jsonObj
		for _, p := range sortedKeys(byPath) {
			ids := byPath[p]
			slices.Sort(ids)
			m = append(m, jsonField{p, ids})
		}
		return jsonObj{{"path_to_session_ids", orEmpty(m)}}
	}},
	{names: []string{"zabstate"}, run: cmdZabState},
}

// commandIndex maps every name and alias to its command.
var commandIndex = func() map[string]*command {
	m := map[string]*command{}
	for i := range commands {
		for _, n := range commands[i].names {
			m[n] = &commands[i]
		}
	}
	return m
}()

// CommandNames returns the primary names of the AdminServer's commands,
// sorted (Commands.getPrimaryNames, as the command list shows them).
func CommandNames() []string {
	out := make([]string, 0, len(commands))
	for _, c := range commands {
		out = append(out, c.names[0])
	}
	sort.Strings(out)
	return out
}

// runCommand answers the command named name (a primary name or an alias)
// as Commands.runGetCommand and CommandResponse.toMap do: the command's
// data, then "command" (the primary name; the name asked for when it is
// unknown or the server does not serve) and "error".
func runCommand(name string, c *cmdContext) jsonObj {
	cmd := commandIndex[name]
	if cmd == nil {
		return jsonObj{{"command", name}, {"error", "Unknown command: " + name}}
	}
	if c.s != nil {
		c.st = statusOf(c.s)
	}
	if (cmd.serverRequired || cmd.names[0] == "monitor") && (c.s == nil || !c.st.Serving) {
		// Apache's monitor is not server-required but cannot run without
		// a server either.
		return jsonObj{{"command", name}, {"error", notServing}}
	}
	data := cmd.run(c)
	out := append(jsonObj(nil), data...)
	out.put("command", cmd.names[0])
	if _, ok := data.get("error"); !ok {
		out.put("error", nil)
	}
	return out
}

func orEmpty(o jsonObj) jsonObj {
	if o == nil {
		return jsonObj{}
	}
	return o
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// cmdConf is ZooKeeperServer.getConf().toMap(): the 3.9 directories, as
// conf's (data_dir the snapshots, data_log_dir the txn log).
func cmdConf(c *cmdContext) jsonObj {
	opts := c.s.Options()
	port := 0
	if a, ok := c.s.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	d := dirsOf(c.cfg, c.s)
	return jsonObj{
		{"client_port", port},
		{"data_dir", d.snap},
		{"data_log_dir", d.log},
		{"tick_time", opts.TickTime.Milliseconds()},
		{"max_client_cnxns", opts.MaxClientCnxns},
		{"min_session_timeout", opts.MinSessionTimeout.Milliseconds()},
		{"max_session_timeout", opts.MaxSessionTimeout.Milliseconds()},
		{"server_id", c.st.ServerID},
		{"client_port_listen_backlog", -1},
	}
}

// jsonAddr is Jackson's InetSocketAddress form: "ip:port", an IPv6
// address in Java's uncompressed form within brackets.
func jsonAddr(hostport string) string {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return hostport
	}
	a := strings.TrimPrefix(javaAddr(hostport), "/")
	if ap.Addr().Unmap().Is6() {
		i := strings.LastIndexByte(a, ':')
		return "[" + a[:i] + "]" + a[i:]
	}
	return a
}

// connectionInfos is ServerCnxnFactory.getAllConnectionInfo
// (ServerCnxn.getConnectionInfo), brief or full.
func connectionInfos(s *member.Server, brief bool) []any {
	out := []any{}
	for _, v := range connections(s) {
		in := v.info
		ops, recved := in.Interest, in.Received
		if v.fourLetter {
			ops, recved = 0, recved+1
		}
		o := jsonObj{
			{"remote_socket_address", jsonAddr(in.Remote)},
			{"interest_ops", ops},
			{"outstanding_requests", int64(in.Queued)},
			{"packets_received", recved},
			{"packets_sent", in.Sent},
		}
		if !brief {
			lresp := int64(0)
			if !in.LastResp.IsZero() {
				lresp = elapsedMillis(in.LastResp)
			}
			total, count := v.c.LatencyTotals()
			avg := int64(0)
			if count > 0 {
				avg = total / count
			}
			o = append(o,
				jsonField{"session_id", in.SessionID},
				jsonField{"last_operation", in.LastOp},
				jsonField{"established", in.Established.UnixMilli()},
				jsonField{"session_timeout", int64(in.Timeout)},
				jsonField{"last_cxid", int64(in.LastCxid)},
				jsonField{"last_zxid", in.LastZxid},
				jsonField{"last_response_time", lresp},
				jsonField{"last_latency", in.LastLatency},
				jsonField{"min_latency", in.MinLatency},
				jsonField{"avg_latency", avg},
				jsonField{"max_latency", in.MaxLatency},
			)
		}
		out = append(out, o)
	}
	return out
}

// cmdSrvr is server_stats (SrvrCommand) and, with connections, stats.
func cmdSrvr(c *cmdContext, withConns bool) jsonObj {
	s := c.s
	lat := s.Clients.Stats.Latency()
	d := dirsOf(c.cfg, s)
	uptime := int64(0)
	if !s.Started.IsZero() {
		uptime = time.Since(s.Started).Milliseconds()
	}
	// zkit does not measure response sizes: Apache's "no sample" value.
	noSizes := func() jsonObj {
		return jsonObj{{"last_buffer_size", -1}, {"min_buffer_size", -1}, {"max_buffer_size", -1}}
	}
	stats := jsonObj{
		{"packets_sent", s.Clients.Stats.PacketsSent.Load()},
		{"packets_received", s.Clients.Stats.PacketsReceived.Load()},
		// zkit has no fsync warning threshold (fsync.warningthresholdms).
		{"fsync_threshold_exceed_count", int64(0)},
		{"client_response_stats", noSizes()},
		{"server_state", string(c.st.Mode)},
		{"data_dir_size", d.size(d.snap)},
		{"log_dir_size", d.size(d.log)},
		{"provider_null", false},
		{"last_processed_zxid", s.DB.LastZxid()},
		{"outstanding_requests", s.Proc.Stats.Outstanding.Load()},
		{"avg_latency", jsonDouble(avg4(lat.Total, lat.Count))},
		{"max_latency", lat.Max},
		{"min_latency", lat.Min},
		{"num_alive_client_connections", len(connections(s))},
		{"auth_failed_count", int64(0)},
		{"non_mtlsremote_conn_count", int64(0)},
		{"non_mtlslocal_conn_count", int64(0)},
		{"uptime", uptime},
	}
	out := jsonObj{
		{"version", version.FullWithBuild()},
		{"read_only", c.st.Mode == ModeReadOnly},
		{"server_stats", stats},
		{"client_response", noSizes()},
	}
	if c.st.Mode == ModeLeader {
		if l := quorumViewOf(s).m.Leading; l != nil {
			out = append(out, jsonField{"proposal_stats", jsonObj{
				{"last_buffer_size", l.LastProposalSize},
				{"min_buffer_size", l.MinProposalSize},
				{"max_buffer_size", l.MaxProposalSize},
			}})
		}
	}
	out = append(out, jsonField{"node_count", nodeCount(s)})
	if withConns {
		out = append(out, jsonField{"connections", connectionInfos(s, true)}, jsonField{"secure_connections", []any{}})
	}
	return out
}

// cmdDump is dump: the session tracker's expiry buckets (times on
// Apache's elapsed-time clock) and each session's ephemerals. A follower's
// or observer's tracker answers no buckets, as Apache's
// LearnerSessionTracker does.
func cmdDump(c *cmdContext) jsonObj {
	expiry := jsonObj{}
	if !c.s.IsQuorum() || c.st.Mode == ModeLeader {
		buckets := c.s.Sessions.ExpiryBuckets()
		times := make([]int64, 0, len(buckets))
		for t := range buckets {
			times = append(times, t)
		}
		slices.Sort(times)
		for _, t := range times {
			ids := append([]int64(nil), buckets[t]...)
			slices.Sort(ids)
			expiry = append(expiry, jsonField{strconv.FormatInt(elapsedMillis(time.UnixMilli(t)), 10), ids})
		}
	}
	var eph map[int64][]string
	c.s.DB.Read(func(t *tree.Tree) { eph = t.EphemeralSessions() })
	ephs := jsonObj{}
	for _, id := range sortedIDs(eph) {
		ps := append([]string(nil), eph[id]...)
		sort.Strings(ps)
		ephs = append(ephs, jsonField{strconv.FormatInt(id, 10), ps})
	}
	return jsonObj{{"expiry_time_to_session_ids", expiry}, {"session_id_to_ephemeral_paths", ephs}}
}

// cmdLastSnapshot is last_snapshot: the newest snapshot's zxid
// (Long.toHexString) and modification time in seconds, or
// ffffffffffffffff and -1 without a snapshot. A snapshot on an in-memory
// file system has no time: -1.
func cmdLastSnapshot(c *cmdContext) jsonObj {
	zxid, ts := int64(-1), int64(-1)
	d := dirsOf(c.cfg, c.s)
	if d.snap != "" {
		fsys := d.fs
		if fsys == nil {
			fsys = vfs.OS
		}
		if names, err := fsys.List(d.snap); err == nil {
			for _, n := range names {
				if z, ok := snapshotZxid(n); ok && (zxid == -1 || z > zxid) {
					zxid, ts = z, -1
					if d.fs == nil {
						if fi, err := os.Stat(filepath.Join(d.snap, n)); err == nil {
							ts = fi.ModTime().Unix()
						}
					}
				}
			}
		}
	}
	return jsonObj{{"zxid", strconv.FormatUint(uint64(zxid), 16)}, {"timestamp", ts}}
}

var snapshotName = regexp.MustCompile(`^snapshot\.([0-9a-f]{16})$`)

// snapshotZxid parses a zkit snapshot file name (storage's
// "snapshot.<16 hex digits>").
func snapshotZxid(name string) (int64, bool) {
	m := snapshotName.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseUint(m[1], 16, 64)
	return int64(v), err == nil
}

// cmdLeader is leader: on an ensemble member, whether it leads, the
// leader's id and its host (QuorumPeer.getLeaderAddress: the quorum
// addresses' host strings, '|'-joined).
func cmdLeader(c *cmdContext) jsonObj {
	if !c.s.IsQuorum() {
		return jsonObj{{"error", "server is not initialized"}}
	}
	q := quorumViewOf(c.s)
	id := int64(-1)
	host := ""
	if q.m.Leader != 0 {
		id = int64(q.m.Leader)
		servers, _ := membership(c.cfg, c.s)
		for _, srv := range servers {
			if srv.ID == id {
				var hosts []string
				for _, a := range srv.Addrs {
					hosts = append(hosts, a.Host)
				}
				host = strings.Join(hosts, "|")
			}
		}
	}
	return jsonObj{{"is_leader", c.st.Mode == ModeLeader}, {"leader_id", id}, {"leader_ip", host}}
}

var (
	intText    = regexp.MustCompile(`^-?\d+$`)
	doubleText = regexp.MustCompile(`^-?\d+\.\d+(E-?\d+)?$|^NaN$|^-?Infinity$`)
)

// cmdMonitor is monitor: the keys and values of mntr (without the zk_
// prefix), numbers as numbers, as MonitorCommand puts them with the default
// metrics provider; with the Prometheus provider configured, version,
// server_state (and peer_state) followed by the samples of the Prometheus
// endpoint, as Apache's PrometheusMetricsProvider.dump lists them.
func cmdMonitor(c *cmdContext) jsonObj {
	out := string(run(c.cfg, c.s, "mntr", ""))
	if strings.HasPrefix(out, notServing) {
		return jsonObj{{"error", notServing}}
	}
	var o jsonObj
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, "\t")
		if !ok {
			continue
		}
		k = strings.TrimPrefix(k, "zk_")
		if PrometheusEnabled(c.cfg) && k != "version" && k != "server_state" && k != "peer_state" && k != "observer_master_id" {
			// With the Prometheus provider, Apache lists the provider's
			// samples after ZooKeeperServer.dumpMonitorValues's keys.
			continue
		}
		switch {
		case k == "version" || k == "server_state" || k == "peer_state":
			o.put(k, v)
		case intText.MatchString(v):
			o.put(k, jsonNum(v))
		case doubleText.MatchString(v):
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				o.put(k, jsonDouble(f))
			} else {
				o.put(k, v)
			}
		default:
			o.put(k, v)
		}
	}
	if PrometheusEnabled(c.cfg) {
		s := c.s
		dumpMetrics(newMetricsRegistry(func() *member.Server { return s }, MetricsOptionsFor(c.cfg, s, nil).ExportRuntime), o.put)
	}
	return o
}

// cmdSystemProperties is system_properties: zkit runs no JVM, so the
// properties are those of envi (which describes the Go runtime in Java's
// terms), Java's separators, and the zookeeper.* properties Apache would
// set from the zoo.cfg; sorted by name.
func cmdSystemProperties(c *cmdContext) jsonObj {
	props := map[string]string{
		"file.separator": string(filepath.Separator),
		"path.separator": string(filepath.ListSeparator),
		"line.separator": "\n",
		"java.vm.name":   "Go " + runtime.Compiler,
	}
	var b strings.Builder
	writeEnvi(&b)
	for _, l := range strings.Split(b.String(), "\n")[1:] {
		k, v, ok := strings.Cut(l, "=")
		if ok && (strings.HasPrefix(k, "java.") || strings.HasPrefix(k, "user.") ||
			k == "os.name" || k == "os.arch" || k == "os.version") {
			props[k] = v
		}
	}
	if c.cfg != nil {
		for k, v := range c.cfg.SystemProperties() {
			props[k] = v
		}
	}
	var out jsonObj
	for _, k := range sortedKeys(props) {
		out = append(out, jsonField{k, props[k]})
	}
	return out
}

// cmdVotingView is voting_view: the voting members (participants), by id.
func cmdVotingView(c *cmdContext) jsonObj {
	view := jsonObj{}
	if c.s.IsQuorum() {
		servers, _ := membership(c.cfg, c.s)
		self := int64(c.s.Options().Quorum.ID)
		for _, srv := range servers {
			if srv.Observer {
				continue
			}
			var qs, es []string
			for _, a := range srv.Addrs {
				qs = append(qs, net.JoinHostPort(a.Host, strconv.Itoa(a.QuorumPort)))
				es = append(es, net.JoinHostPort(a.Host, strconv.Itoa(a.ElectionPort)))
			}
			client := ""
			switch {
			case srv.ClientPort != 0:
				client = net.JoinHostPort(srv.ClientHost, strconv.Itoa(srv.ClientPort))
			case srv.ID == self:
				// A member configured in code knows only its own client
				// address.
				client = c.s.Addr().String()
			}
			view = append(view, jsonField{strconv.FormatInt(srv.ID, 10), jsonObj{
				{"server_addresses", qs}, {"election_addresses", es},
				{"client_address", client}, {"learner_type", "participant"},
			}})
		}
	}
	return jsonObj{{"current_config", view}}
}

// multipleAddresses is Jackson's bean form of Apache's MultipleAddresses
// for one address (zabstate's quorum_address and election_address).
func multipleAddresses(hostport string) jsonObj {
	host, port := splitHostPort(hostport)
	a := jsonAddr(hostport)
	wild := "0.0.0.0:" + strconv.Itoa(port)
	if ap, err := netip.ParseAddrPort(hostport); err == nil && ap.Addr().Unmap().Is6() {
		wild = "[0:0:0:0:0:0:0:0]:" + strconv.Itoa(port)
	}
	return jsonObj{
		{"empty", false},
		{"all_addresses", []string{a}},
		{"all_reachable_addresses", []string{a}},
		{"one", a},
		{"reachable_address", a},
		{"wildcard_addresses", []string{wild}},
		{"all_ports", []int{port}},
		{"all_host_strings", []string{host}},
		{"all_reachable_addresses_or_all", []string{a}},
		{"reachable_or_one", a},
	}
}

// cmdZabState is zabstate: the member's addresses, whether it votes, its
// last zxid and its ZAB phase; voting false and an empty state on a
// standalone server or a member that does not serve.
func cmdZabState(c *cmdContext) jsonObj {
	if c.s == nil || !c.s.IsQuorum() || !c.st.Serving {
		return jsonObj{{"voting", false}, {"zabstate", ""}}
	}
	q := c.s.Options().Quorum
	addrs := c.s.QuorumAddrs()
	z := c.s.DB.LastZxid()
	phase := quorumViewOf(c.s).m.Phase
	if phase == zab.PhaseElection {
		phase = zab.PhaseBroadcast // serving: the view fell back to the role
	}
	return jsonObj{
		{"myid", c.st.ServerID},
		{"is_leader", c.st.Mode == ModeLeader},
		{"quorum_address", multipleAddresses(addrs.Quorum)},
		{"election_address", multipleAddresses(addrs.Election)},
		{"client_address", jsonAddr(c.s.Addr().String())},
		{"voting", slices.Contains(q.Voters, q.ID)},
		{"last_zxid", hex(z)},
		{"zab_epoch", z >> 32},
		{"zab_counter", z & 0xffffffff},
		{"zabstate", phase.String()},
	}
}
