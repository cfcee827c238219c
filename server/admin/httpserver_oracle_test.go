package admin

import (
	"encoding/json"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/internal/oracle"
	"zkit/server/member"
)

// The AdminServer compared with Apache ZooKeeper 3.8's, key by key: the
// capture scenario runs against both, every command is asked of both, and
// the answers must have the same keys, nesting and JSON types everywhere
// (maps keyed by session id, path, time or server id compared by their
// values' shapes), plus the same values where the scenario fixes them.
// Apache runs with the Prometheus provider when its jars are at hand
// (oracle.PrometheusJars), and its scrape is compared too.

// dynamicKeys are the objects keyed by data rather than by field name.
var dynamicKeys = map[string]bool{
	"expiry_time_to_session_ids": true, "session_id_to_ephemeral_paths": true,
	"session_id_to_watched_paths": true, "path_to_session_ids": true, "current_config": true,
}

// shape describes a decoded JSON value by its structure and types.
func shape(v any, dynamic bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if dynamic {
				k = "*"
			}
			out[k] = shape(e, dynamicKeys[k])
		}
		return out
	case []any:
		seen := map[string]bool{}
		for _, e := range x {
			b, _ := json.Marshal(shape(e, false))
			seen[string(b)] = true
		}
		var elems []string
		for k := range seen {
			elems = append(elems, k)
		}
		sort.Strings(elems)
		return "[" + strings.Join(elems, "|") + "]"
	case json.Number:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "?"
}

// shapeOf is the shape of a command's answer; a map keyed by data is
// reduced to the shape of one entry.
func shapeOf(m map[string]any) any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = shape(v, dynamicKeys[k])
	}
	return out
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// mntr39 are the monitor keys 3.9 added to 3.8's (zkit answers as 3.9).
var mntr39 = []string{"snapshot_error_count", "snapshot_rate_limited_count", "restore_error_count",
	"restore_rate_limited_count", "avg_restore_time", "min_restore_time", "max_restore_time",
	"cnt_restore_time", "sum_restore_time"}

func TestAdminAgainstApache(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Apache ZooKeeper in a JVM")
	}
	adminPort, promPort := freeLoopbackPort(t), freeLoopbackPort(t)
	// Apache's AdminServer and metrics listen on 127.0.0.2: the oracle
	// finds Apache's client port as its only 127.0.0.1 listener.
	apCfg := map[string]string{
		"admin.enableServer": "true", "admin.serverAddress": "127.0.0.2", "admin.serverPort": strconv.Itoa(adminPort),
	}
	jars := oracle.AdminJars
	promJars, promErr := oracle.PrometheusJars()
	if promErr == nil {
		jars = promJars
		apCfg["metricsProvider.className"] = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
		apCfg["metricsProvider.httpHost"] = "127.0.0.2"
		apCfg["metricsProvider.httpPort"] = strconv.Itoa(promPort)
	} else {
		t.Logf("comparing without Apache's Prometheus endpoint: %v", promErr)
	}
	ap := oracle.Start(t, oracle.Options{ExtraJars: jars, Config: apCfg})
	zkCfg := "tickTime=2000\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n" +
		"admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=0\n"
	if promErr == nil {
		zkCfg += "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n" +
			"metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=0\n"
	}
	zs, cfg, zkText := startZkitFile(t, zkCfg)
	za := startAdmin(t, cfg, func() *member.Server { return zs })
	apacheURL := "http://127.0.0.2:" + strconv.Itoa(adminPort) + "/commands"

	apSc, zkSc := runScenario(t, ap.Addr()), runScenario(t, zs.Addr().String())
	time.Sleep(100 * time.Millisecond) // let Apache's last replies settle

	// The command list, byte for byte, without a Content-Type.
	ai, zi := httpGet(t, apacheURL), httpGet(t, za.URL())
	require.Equal(t, string(ai.body), string(zi.body))
	require.Equal(t, ai.header.Get("Content-Type"), zi.header.Get("Content-Type"))

	// The names the session ids of the scenario get, to compare values.
	apIDs := map[string]string{itoa64(apSc.a.SessionID()): "A", itoa64(apSc.b.SessionID()): "B", itoa64(apSc.c.SessionID()): "C"}
	zkIDs := map[string]string{itoa64(zkSc.a.SessionID()): "A", itoa64(zkSc.b.SessionID()): "B", itoa64(zkSc.c.SessionID()): "C"}
	rename := func(ids map[string]string, v any) any {
		b, _ := json.Marshal(v)
		s := string(b)
		for id, n := range ids {
			s = strings.ReplaceAll(s, `"`+id+`"`, `"`+n+`"`)
			s = strings.ReplaceAll(s, id, `"`+n+`"`)
		}
		var out any
		require.NoError(t, json.Unmarshal([]byte(s), &out))
		return sortArrays(out)
	}

	ask := func(name string) (apache, zkit map[string]any) {
		t.Helper()
		ar, zr := httpGet(t, apacheURL+"/"+name), httpGet(t, za.URL()+"/"+name)
		require.Equal(t, ar.status, zr.status, name)
		require.Equal(t, ar.header.Get("Content-Type"), zr.header.Get("Content-Type"), name)
		return decodeJSON(t, ar.body), decodeJSON(t, zr.body)
	}
	for _, name := range CommandNames() {
		if name == "set_trace_mask" || name == "stat_reset" || name == "connection_stat_reset" {
			continue // run below, after the reads
		}
		a, z := ask(name)
		dropEmptyBuckets(a) // the sessions in buckets are compared below
		as, zsh := shapeOf(a), shapeOf(z)
		switch name {
		case "monitor":
			if promErr == nil {
				// Both dump their Prometheus samples: zkit's (but the Go
				// runtime's) must be Apache's, with the same types.
				for k, v := range zsh.(map[string]any) {
					if strings.HasPrefix(k, "go_") || strings.HasPrefix(k, "process_network_") || k == "process_virtual_memory_max_bytes" {
						continue
					}
					require.Contains(t, as, k)
					require.Equal(t, as.(map[string]any)[k], v, k)
				}
				for _, k := range []string{"version", "server_state", "znode_count", "ephemerals_count", "watch_count", "fsynctime_count"} {
					require.Contains(t, zsh, k)
				}
				continue
			}
			for _, k := range mntr39 {
				delete(zsh.(map[string]any), k)
			}
			// Apache adds per-namespace summaries once sampled; zkit
			// takes no such samples (documented in the package doc).
			for k := range as.(map[string]any) {
				if strings.HasSuffix(k, "_per_namespace") {
					delete(as.(map[string]any), k)
				}
			}
		case "system_properties":
			// The JVM's properties have no Go counterpart beyond envi's;
			// the zookeeper.* ones from zoo.cfg must match (Apache's
			// server.1 is the oracle's port-0 trick).
			for k, v := range a {
				if strings.HasPrefix(k, "zookeeper.") && k != "zookeeper.server.1" && k != "zookeeper.admin.serverAddress" && k != "zookeeper.admin.serverPort" {
					require.Equal(t, v, z[k], k)
				}
			}
			for _, k := range []string{"java.version", "java.vendor", "os.name", "os.arch", "user.dir", "file.separator", "line.separator", "path.separator"} {
				require.Contains(t, z, k)
			}
			continue
		}
		require.Equal(t, as, zsh, "%s: apache %v\nzkit %v", name, a, z)

		// Values the scenario fixes.
		switch name {
		case "watch_summary", "hash", "is_read_only", "voting_view", "zabstate", "observers", "leader", "get_trace_mask", "ruok", "initial_configuration":
			if name == "initial_configuration" {
				require.Equal(t, zkText, z["initial_configuration"]) // the file's text, as Apache's
				continue
			}
			require.Equal(t, a, z, name)
		case "watches", "watches_by_path", "dump":
			for k := range a {
				if k == "expiry_time_to_session_ids" {
					// The buckets' times differ; which sessions share one
					// must not.
					require.Equal(t, rename(apIDs, buckets(a[k])), rename(zkIDs, buckets(z[k])), "%s %s", name, k)
					continue
				}
				require.Equal(t, rename(apIDs, a[k]), rename(zkIDs, z[k]), "%s %s", name, k)
			}
		case "server_stats", "stats":
			require.Equal(t, a["node_count"], z["node_count"])
			as, zst := a["server_stats"].(map[string]any), z["server_stats"].(map[string]any)
			for _, k := range []string{"server_state", "last_processed_zxid", "num_alive_client_connections", "outstanding_requests", "provider_null"} {
				require.Equal(t, as[k], zst[k], k)
			}
		case "configuration":
			for _, k := range []string{"tick_time", "max_client_cnxns", "min_session_timeout", "max_session_timeout", "server_id", "client_port_listen_backlog"} {
				require.Equal(t, a[k], z[k], k)
			}
		case "environment":
			require.Equal(t, a["os.name"], z["os.name"])
			require.Equal(t, a["user.name"], z["user.name"])
		case "monitor":
			for _, k := range []string{"server_state", "znode_count", "ephemerals_count", "watch_count", "approximate_data_size", "num_alive_connections", "global_sessions", "outstanding_requests"} {
				require.Equal(t, a[k], z[k], k)
			}
		}
	}
	for _, name := range []string{"set_trace_mask?traceMask=306", "stmk", "srst", "crst", "nosuch", "nosuch/deeper"} {
		a, z := ask(name)
		require.Equal(t, a, z, name)
	}

	if promErr == nil {
		t.Run("prometheus", func(t *testing.T) {
			zm := NewMetricsServer(MetricsOptionsFor(cfg, zs, nil))
			zm.opts.Addr = "127.0.0.1:0"
			require.NoError(t, zm.Start())
			defer zm.Close()
			apache := scrape(t, "http://127.0.0.2:"+strconv.Itoa(promPort)+"/metrics")
			zkit := scrape(t, zm.URL())
			compareWithApache(t, apache, zkit)
			// The live scrape agrees with the recorded one.
			recorded := apacheFamilies(t, "standalone")
			for name, typ := range apache {
				if !strings.HasPrefix(name, "jvm_") {
					require.Equal(t, typ, recorded[name], name)
				}
			}
			for _, k := range []string{"znode_count", "ephemerals_count", "watch_count", "approximate_data_size", "global_sessions"} {
				require.Equal(t, sampleValue(t, "http://127.0.0.2:"+strconv.Itoa(promPort)+"/metrics", k),
					sampleValue(t, zm.URL(), k), k)
			}
		})
	}
}

// dropEmptyBuckets removes the empty sets from an answer's
// expiry_time_to_session_ids. Apache's ExpiryQueue.update takes a touched
// session out of its old bucket but leaves the emptied set in the map
// until poll() reaches its time, so whether an answer shows one depends on
// when the clients' pings fell; zkit drops a bucket with its last session.
func dropEmptyBuckets(m map[string]any) {
	b, _ := m["expiry_time_to_session_ids"].(map[string]any)
	for exp, ids := range b {
		if l, ok := ids.([]any); ok && len(l) == 0 {
			delete(b, exp)
		}
	}
}

// buckets lists the session sets of an expiry_time_to_session_ids object
// without their times.
func buckets(v any) []any {
	var out []any
	for _, ids := range v.(map[string]any) {
		out = append(out, ids)
	}
	return out
}

// sortArrays sorts every array of strings in v (Apache lists sets in hash
// order).
func sortArrays(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = sortArrays(e)
		}
	case []any:
		for i, e := range x {
			x[i] = sortArrays(e)
		}
		sort.Slice(x, func(i, j int) bool {
			bi, _ := json.Marshal(x[i])
			bj, _ := json.Marshal(x[j])
			return string(bi) < string(bj)
		})
	}
	return v
}
