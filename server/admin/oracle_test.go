package admin

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/internal/oracle"
)

// The differential test runs the capture scenario against Apache
// ZooKeeper (the oracle, 3.8.0) and zkit, asks both the same words in the
// same order, and compares the answers with the values that legitimately
// differ masked: versions, times, ports, session ids, sizes of data
// directories, counters that depend on timing, and the JVM's own keys.
// Apache's hash orders (connections, watches, ephemerals) are compared as
// sets.

var (
	maskVersion = regexp.MustCompile(`\d+\.\d+\.\d+-\S*, built on .*$`)
	maskAddr    = regexp.MustCompile(`/127\.0\.0\.1:\d+`)
	maskDate    = regexp.MustCompile(reDate)
	maskSid     = regexp.MustCompile(`0x1[0-9a-f]{14}`)
)

// mask replaces the values of the named fields ("name=" or "name: ")
// with their shape: N for an integer, D for a double.
func mask(line string, fields ...string) string {
	line = maskVersion.ReplaceAllString(line, "VERSION")
	line = maskAddr.ReplaceAllString(line, "/ADDR")
	line = maskDate.ReplaceAllString(line, "DATE")
	line = maskSid.ReplaceAllString(line, "0xSID")
	for _, f := range fields {
		re := regexp.MustCompile(`(` + regexp.QuoteMeta(f) + `)(-?\d+\.\d+(?:E-?\d+)?|-?\d+)`)
		line = re.ReplaceAllStringFunc(line, func(m string) string {
			v := m[len(f):]
			if strings.ContainsAny(v, ".E") {
				return f + "D"
			}
			return f + "N"
		})
	}
	return line
}

func maskAll(out string, fields ...string) []string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		ls = append(ls, mask(l, fields...))
	}
	return ls
}

// sortRuns sorts each run of consecutive lines that match re (lines in
// Java hash order).
func sortRuns(ls []string, re *regexp.Regexp) []string {
	out := append([]string(nil), ls...)
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && re.MatchString(out[j]) {
			j++
		}
		sort.Strings(out[i:j])
		if j == i {
			j++
		}
		i = j
	}
	return out
}

// blocks turns "head\n\titem\n\titem\n..." into sorted "head|item,item"
// entries: wchc, wchp and the ephemerals of dump, all in hash order.
func blocks(ls []string) []string {
	var out []string
	for _, l := range ls {
		if strings.HasPrefix(l, "\t") && len(out) > 0 {
			out[len(out)-1] += "|" + l[1:]
			continue
		}
		out = append(out, l)
	}
	for i, b := range out {
		parts := strings.Split(b, "|")
		sort.Strings(parts[1:])
		out[i] = strings.Join(parts, "|")
	}
	sort.Strings(out)
	return out
}

func TestAgainstApache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Apache ZooKeeper in a JVM")
	}
	ap := oracle.Start(t, oracle.Options{Config: map[string]string{"4lw.commands.whitelist": "*"}})
	zs, _ := startZkit(t, "tickTime=2000\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n")
	apAddr, zkAddr := ap.Addr(), zs.Addr().String()
	runScenario(t, apAddr)
	runScenario(t, zkAddr)

	ask := func(cmd string) (apache, zkit string) {
		return word(t, apAddr, cmd), word(t, zkAddr, cmd)
	}
	same := func(cmd string, apache, zkit []string) {
		t.Helper()
		if os.Getenv("ADMIN_DEBUG") != "" {
			t.Logf("%s:\napache: %q\nzkit:   %q", cmd, apache, zkit)
		}
		require.Equal(t, apache, zkit, "%s", cmd)
	}

	for _, cmd := range []string{"ruok", "isro", "gtmk", "hash", "wchs"} {
		a, z := ask(cmd)
		require.Equal(t, a, z, cmd)
	}

	statFields := []string{"Latency min/avg/max: ", "/", "Received: ", "Sent: ", "recved=", "sent="}
	client := regexp.MustCompile(`^ /ADDR\[`)
	for _, cmd := range []string{"srvr", "stat"} {
		a, z := ask(cmd)
		same(cmd, sortRuns(maskAll(a, statFields...), client), sortRuns(maskAll(z, statFields...), client))
	}

	a, z := ask("conf")
	confFields := []string{"clientPort=", "dataDirSize=", "dataLogSize="}
	// Apache keeps its files in version-2, zkit its own format in zkit.
	dir := regexp.MustCompile(`^(dataDir|dataLogDir)=/\S+/(version-2|zkit)$`)
	norm := func(out string) []string {
		ls := maskAll(out, confFields...)
		for i, l := range ls {
			if dir.MatchString(l) {
				ls[i] = dir.ReplaceAllString(l, "$1=DIR")
			}
		}
		return ls
	}
	same("conf", norm(a), norm(z))

	consFields := []string{"recved=", "sent=", "est=", "lresp=", "llat=", "minlat=", "avglat=", "maxlat="}
	a, z = ask("cons")
	same("cons", sortRuns(maskAll(a, consFields...), client), sortRuns(maskAll(z, consFields...), client))

	a, z = ask("dump")
	same("dump", normDump(a), normDump(z))

	for _, cmd := range []string{"wchc", "wchp"} {
		a, z := ask(cmd)
		same(cmd, blocks(maskAll(a)), blocks(maskAll(z)))
	}

	a, z = ask("envi")
	same("envi", normEnvi(a), normEnvi(z))

	a, z = ask("mntr")
	compareMntr(t, a, z)

	a, z = ask("dirs")
	same("dirs", maskAll(a, "datadir_size: ", "logdir_size: "), maskAll(z, "datadir_size: ", "logdir_size: "))

	a, z = ask("crst")
	require.Equal(t, a, z, "crst")
	a, z = ask("cons")
	same("cons after crst", sortRuns(maskAll(a, consFields...), client), sortRuns(maskAll(z, consFields...), client))

	a, z = ask("srst")
	require.Equal(t, a, z, "srst")
	a, z = ask("srvr")
	same("srvr after srst", maskAll(a, "Latency min/avg/max: ", "/"), maskAll(z, "Latency min/avg/max: ", "/"))

	stillServes(t, zkAddr)
}

// normDump masks dump and puts Apache's hash orders in order. Session and
// connection expiry buckets are reduced to their elements: Apache keeps
// emptied buckets and both servers' bucket boundaries depend on timing.
func normDump(out string) []string {
	ls := maskAll(strings.TrimSuffix(out, "\n"))
	bucket := regexp.MustCompile(`^\d+ expire at DATE:$`)
	sets := regexp.MustCompile(`^(Session |Connections )Sets \(\d+\)/\((\d+)\):$`)
	section := map[string][]string{}
	var order []string
	cur := ""
	for _, l := range ls {
		switch {
		case l == "SessionTracker dump:" || l == "ephemeral nodes dump:" || l == "Connections dump:":
			cur = l
			order = append(order, l)
		case bucket.MatchString(l):
		case sets.MatchString(l):
			section[cur] = append(section[cur], sets.ReplaceAllString(l, "${1}Sets (B)/($2):"))
		default:
			section[cur] = append(section[cur], l)
		}
	}
	var res []string
	for _, h := range order {
		body := section[h]
		res = append(res, h)
		if len(body) == 0 {
			continue
		}
		res = append(res, body[0])
		rest := append([]string(nil), body[1:]...)
		if h == "ephemeral nodes dump:" {
			rest = blocks(rest)
		} else {
			sort.Strings(rest)
		}
		res = append(res, rest...)
	}
	return res
}

// normEnvi keeps envi's keys and the values that describe the machine
// rather than the runtime.
func normEnvi(out string) []string {
	keep := map[string]bool{"host.name": true, "java.compiler": true, "os.name": true, "os.arch": true,
		"os.version": true, "user.name": true, "user.home": true, "java.io.tmpdir": true}
	var res []string
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, "=")
		switch {
		case !ok:
			res = append(res, l)
		case keep[k]:
			res = append(res, k+"="+v)
		case strings.HasPrefix(k, "os.memory."):
			res = append(res, mask(l, k+"="))
		default:
			res = append(res, k+"=*")
		}
	}
	return res
}

// only39 are the mntr keys 3.9 added to 3.8's (counters and a summary).
var only39 = map[string]bool{
	"snapshot_error_count": true, "snapshot_rate_limited_count": true,
	"restore_error_count": true, "restore_rate_limited_count": true,
	"avg_restore_time": true, "min_restore_time": true, "max_restore_time": true,
	"cnt_restore_time": true, "sum_restore_time": true,
}

// compareMntr compares the key lists (zkit's without the 3.9 additions;
// counters as a set, since adding keys reorders them; Apache's without the
// per-namespace sets zkit does not keep), the shape of every value, and the
// gauges both servers know exactly.
func compareMntr(t *testing.T, apache, zkit string) {
	t.Helper()
	parse := func(out string) (keys []string, vals map[string]string) {
		vals = map[string]string{}
		for _, l := range lines(t, out) {
			k, v, ok := strings.Cut(l, "\t")
			require.True(t, ok, l)
			k = strings.TrimPrefix(k, "zk_")
			keys = append(keys, k)
			vals[k] = v
		}
		return keys, vals
	}
	ak, av := parse(apache)
	zk, zv := parse(zkit)
	isCounter := map[string]bool{}
	for _, c := range counters {
		isCounter[c] = true
	}
	var aOrdered, zOrdered, aCounters, zCounters []string
	for _, k := range ak {
		switch {
		case strings.HasSuffix(k, "_per_namespace"):
		case isCounter[k]:
			aCounters = append(aCounters, k)
		default:
			aOrdered = append(aOrdered, k)
		}
	}
	for _, k := range zk {
		switch {
		case only39[k]:
		case isCounter[k]:
			zCounters = append(zCounters, k)
		default:
			zOrdered = append(zOrdered, k)
		}
	}
	require.Equal(t, aOrdered, zOrdered, "mntr keys")
	require.ElementsMatch(t, aCounters, zCounters, "mntr counters")
	shape := func(v string) string { return mask("="+v, "=") }
	for _, k := range append(aOrdered, aCounters...) {
		if k == "version" {
			continue
		}
		require.Equal(t, shape(av[k]), shape(zv[k]), "shape of zk_%s: %q vs %q", k, av[k], zv[k])
	}
	for _, k := range []string{"server_state", "ephemerals_count", "num_alive_connections", "outstanding_requests",
		"znode_count", "global_sessions", "non_mtls_remote_conn_count", "connection_drop_probability",
		"watch_count", "auth_failed_count", "approximate_data_size", "local_sessions",
		"outstanding_tls_handshake", "non_mtls_local_conn_count"} {
		require.Equal(t, av[k], zv[k], "zk_%s", k)
	}
}

func TestWhitelistAgainstApache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Apache ZooKeeper in a JVM")
	}
	ap := oracle.Start(t, oracle.Options{Config: map[string]string{"4lw.commands.whitelist": "ruok, stat"}})
	zs, _ := startZkit(t, "tickTime=2000\n4lw.commands.whitelist=ruok, stat\n")
	for _, cmd := range []string{"ruok", "mntr", "conf", "isro", "wchs", "envi", "gtmk", "hash", "abcd"} {
		require.Equal(t, word(t, ap.Addr(), cmd), word(t, zs.Addr().String(), cmd), cmd)
	}
	for _, cmd := range []string{"srvr", "stat"} {
		a := maskAll(word(t, ap.Addr(), cmd), "Latency min/avg/max: ", "/", "Received: ", "Sent: ", "recved=", "sent=")
		z := maskAll(word(t, zs.Addr().String(), cmd), "Latency min/avg/max: ", "/", "Received: ", "Sent: ", "recved=", "sent=")
		require.Equal(t, a, z, cmd)
	}
	stillServes(t, zs.Addr().String())
}
