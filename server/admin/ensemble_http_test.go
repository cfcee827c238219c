package admin_test

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"zkit/server/admin"
	"zkit/server/ensemble"
	"zkit/server/internal/oracle"
)

// The AdminServer and the Prometheus endpoint of ensemble members (the
// ensemble package's AdminServer and Metrics options), compared with a
// 3-member Apache ensemble: the same commands on the leader and on a
// follower must have the same keys, nesting and types, and the metric
// families the same names and types.

// httpScenario: a client of the follower creates /h and the ephemeral
// /h/eph and watches /h.
func httpScenario(t *testing.T, followerAddr string) {
	t.Helper()
	c, ev, err := zk.Connect([]string{followerAddr}, 10*time.Second, zk.WithLogger(quietHTTP{}))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	go func() {
		for range ev {
		}
	}()
	acl := zk.WorldACL(zk.PermAll)
	_, err = c.Create("/h", []byte("data"), 0, acl)
	require.NoError(t, err)
	_, err = c.Create("/h/eph", []byte("e"), zk.FlagEphemeral, acl)
	require.NoError(t, err)
	_, _, _, err = c.GetW("/h")
	require.NoError(t, err)
}

type quietHTTP struct{}

func (quietHTTP) Printf(string, ...any) {}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	status, h, body := admin.HTTPGetForTest(t, url)
	require.Equal(t, 200, status, url)
	require.Equal(t, "application/json", h.Get("Content-Type"), url)
	return admin.DecodeJSONForTest(t, body)
}

// ensembleCommands are compared by shape on a leader and a follower.
var ensembleCommands = []string{"server_stats", "stats", "configuration", "connections", "dump", "leader",
	"voting_view", "zabstate", "observers", "is_read_only", "last_snapshot", "watch_summary", "watches",
	"watches_by_path", "dirs", "initial_configuration", "ruok", "hash"}

func TestHTTPOnEnsemble(t *testing.T) {
	e, err := ensemble.Start(ensemble.Config{Size: 3, TickTime: 2 * time.Second, AdminServer: true, Metrics: true})
	require.NoError(t, err)
	t.Cleanup(e.Close)
	require.NoError(t, e.WaitReady(30*time.Second))
	leader := e.Leader()
	var follower *ensemble.Member
	for _, m := range e.Members() {
		if m != leader {
			follower = m
			break
		}
	}
	httpScenario(t, follower.ClientAddr())
	zkm := map[string]*ensemble.Member{"leader": leader, "follower": follower}

	// zkit alone: the values the roles fix.
	l := getJSON(t, leader.AdminURL()+"/leader")
	require.Equal(t, true, l["is_leader"])
	require.Equal(t, json.Number(strconv.FormatUint(leader.ID, 10)), l["leader_id"])
	require.Equal(t, "127.0.0.1", l["leader_ip"])
	f := getJSON(t, follower.AdminURL()+"/lead")
	require.Equal(t, false, f["is_leader"])
	require.Equal(t, l["leader_id"], f["leader_id"])
	require.Contains(t, getJSON(t, leader.AdminURL()+"/srvr"), "proposal_stats")
	require.NotContains(t, getJSON(t, follower.AdminURL()+"/srvr"), "proposal_stats")
	require.Equal(t, "follower", getJSON(t, follower.AdminURL()+"/srvr")["server_stats"].(map[string]any)["server_state"])
	vv := getJSON(t, follower.AdminURL()+"/voting_view")["current_config"].(map[string]any)
	require.Len(t, vv, 3)
	self := vv[strconv.FormatUint(follower.ID, 10)].(map[string]any)
	require.Equal(t, []any{follower.Addrs().Quorum}, self["server_addresses"])
	require.Equal(t, follower.ClientAddr(), self["client_address"])
	zs := getJSON(t, follower.AdminURL()+"/zabstate")
	require.Equal(t, "broadcast", zs["zabstate"])
	require.Equal(t, true, zs["voting"])
	require.Empty(t, getJSON(t, follower.AdminURL()+"/dump")["expiry_time_to_session_ids"], "a learner's tracker lists no buckets, as Apache's")
	require.Len(t, getJSON(t, leader.AdminURL()+"/dump")["expiry_time_to_session_ids"], 1)
	mntr := getJSON(t, leader.AdminURL()+"/mntr")
	require.Equal(t, "leading - broadcast", mntr["peer_state"])
	require.Equal(t, json.Number("3"), mntr["quorum_size"])
	fams := admin.ScrapeForTest(t, leader.MetricsURL())
	for _, name := range []string{"quorum_size", "learners", "synced_followers", "proposal_count", "znode_count"} {
		require.Contains(t, fams, name)
	}
	admin.CompareWithApacheTypes(t, admin.ApacheFamiliesForTest(t, "leader"), fams)
	ff := admin.ScrapeForTest(t, follower.MetricsURL())
	require.Contains(t, ff, "quorum_size")
	require.NotContains(t, ff, "learners")
	admin.CompareWithApacheTypes(t, admin.ApacheFamiliesForTest(t, "follower"), ff)

	if testing.Short() {
		return
	}
	jars, promErr := oracle.PrometheusJars()
	cfg := map[string]string{"admin.enableServer": "true", "admin.serverAddress": "127.0.0.2", "admin.serverPort": "0"}
	if promErr == nil {
		cfg["metricsProvider.className"] = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
		cfg["metricsProvider.httpHost"] = "127.0.0.3"
		cfg["metricsProvider.httpPort"] = "0"
	} else {
		jars = oracle.AdminJars
		t.Logf("comparing without Apache's Prometheus endpoint: %v", promErr)
	}
	ap := oracle.StartEnsemble(t, 3, oracle.Options{ExtraJars: jars, Config: cfg})
	li := ap.Leader()
	fi := (li + 1) % 3
	httpScenario(t, ap.Addr(fi))
	// Each JVM's AdminServer is its 127.0.0.2 listener, its metrics its
	// 127.0.0.3 one.
	listener := func(i int, ip string) string {
		var out string
		require.Eventually(t, func() bool {
			aps, err := oracle.ListeningAddrs(ap.PID(i))
			require.NoError(t, err)
			for _, a := range aps {
				if a.Addr() == netip.MustParseAddr(ip) {
					out = a.String()
				}
			}
			return out != ""
		}, 10*time.Second, 50*time.Millisecond)
		return out
	}
	apIndex := map[string]int{"leader": li, "follower": fi}
	for role, i := range apIndex {
		apURL := "http://" + listener(i, "127.0.0.2") + "/commands"
		for _, name := range ensembleCommands {
			a := getJSON(t, apURL+"/"+name)
			z := getJSON(t, zkm[role].AdminURL()+"/"+name)
			admin.DropEmptyBuckets(a) // timing-dependent in Apache's dump
			require.Equal(t, admin.ShapeOfForTest(a), admin.ShapeOfForTest(z), "%s %s:\napache %v\nzkit   %v", role, name, a, z)
		}
		for _, name := range []string{"leader", "is_read_only", "observers", "hash", "ruok", "watch_summary"} {
			a := getJSON(t, apURL+"/"+name)
			z := getJSON(t, zkm[role].AdminURL()+"/"+name)
			if name == "leader" {
				require.Equal(t, a["is_leader"], z["is_leader"], role)
				require.Equal(t, a["leader_ip"], z["leader_ip"], role)
				continue
			}
			require.Equal(t, a, z, "%s %s", role, name)
		}
		for _, k := range []string{"zabstate", "voting", "is_leader"} {
			require.Equal(t, getJSON(t, apURL+"/zabstate")[k], getJSON(t, zkm[role].AdminURL()+"/zabstate")[k], k)
		}
		if promErr == nil {
			apache := admin.ScrapeForTest(t, "http://"+listener(i, "127.0.0.3")+"/metrics")
			zkit := admin.ScrapeForTest(t, zkm[role].MetricsURL())
			admin.CompareWithApacheTypes(t, apache, zkit)
			// The live scrape agrees with the recorded one (labelled
			// families appear once sampled).
			recorded := admin.ApacheFamiliesForTest(t, role)
			for name, typ := range apache {
				if !strings.HasPrefix(name, "jvm_") {
					require.Equal(t, typ, recorded[name], "recorded %s %s", role, name)
				}
			}
		}
	}

	// A stopped member's AdminServer stays and says it does not serve.
	follower.Stop()
	m := getJSON(t, follower.AdminURL()+"/srvr")
	require.Equal(t, "This ZooKeeper instance is not currently serving requests", m["error"])
}
