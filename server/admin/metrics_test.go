package admin

import (
	"bufio"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"zkit/server/member"
)

// scrapeFamilies fetches and parses a Prometheus text exposition.
func scrapeFamilies(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err, url)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"), resp.Header.Get("Content-Type"))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err, url)
	return fams
}

// scrape returns the metric families' types by name ("gauge", ...).
func scrape(t *testing.T, url string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, f := range scrapeFamilies(t, url) {
		out[name] = strings.ToLower(f.GetType().String())
	}
	return out
}

// sampleValue is the value of the unlabelled gauge or counter name.
func sampleValue(t *testing.T, url, name string) float64 {
	t.Helper()
	f := scrapeFamilies(t, url)[name]
	require.NotNil(t, f, name)
	m := f.GetMetric()[0]
	if m.GetGauge() != nil {
		return m.GetGauge().GetValue()
	}
	return m.GetCounter().GetValue()
}

// apacheFamilies reads the recorded families of Apache's provider for a
// role (standalone, leader, follower).
func apacheFamilies(t *testing.T, role string) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/prometheus-apache-3.8.0.txt")
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == role {
			out[fields[1]] = fields[2]
		}
	}
	require.NotEmpty(t, out, role)
	return out
}

// compareWithApache checks that every family zkit exports exists in
// Apache's scrape with the same type, but for the Go runtime's go_* (in
// place of jvm_*) and the process collector's extras.
func compareWithApache(t *testing.T, apache, zkit map[string]string) {
	t.Helper()
	for name, typ := range zkit {
		if strings.HasPrefix(name, "go_") || name == "process_virtual_memory_max_bytes" || strings.HasPrefix(name, "process_network_") {
			continue
		}
		require.Contains(t, apache, name, "zkit exports %s, which Apache does not", name)
		require.Equal(t, apache[name], typ, name)
	}
}

// exported are the families zkit exports on a standalone server.
var exportedStandalone = []string{
	"znode_count", "ephemerals_count", "global_sessions", "approximate_data_size", "watch_count",
	"num_alive_connections", "outstanding_requests", "packets_received", "packets_sent",
	"avg_latency", "min_latency", "max_latency", "uptime", "open_file_descriptor_count",
	"max_file_descriptor_count", "prep_processor_request_queued", "fsynctime",
	"sync_processor_batch_size", "snap_count",
	"process_cpu_seconds_total", "process_start_time_seconds", "process_open_fds", "process_max_fds",
	"process_virtual_memory_bytes", "process_resident_memory_bytes",
}

func TestPrometheusStandalone(t *testing.T) {
	s, cfg := startZkit(t, "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"+
		"metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=0\n")
	require.True(t, PrometheusEnabled(cfg))
	o := MetricsOptionsFor(cfg, s, nil)
	require.Equal(t, "127.0.0.1:0", o.Addr)
	require.True(t, o.ExportRuntime)
	m := NewMetricsServer(o)
	require.NoError(t, m.Start())
	defer m.Close()
	runScenario(t, s.Addr().String())

	zkit := scrape(t, m.URL())
	for _, name := range exportedStandalone {
		require.Contains(t, zkit, name)
	}
	compareWithApache(t, apacheFamilies(t, "standalone"), zkit)
	// Nothing of what zkit does not measure.
	for _, names := range MetricsLeftOut {
		for _, n := range names {
			require.NotContains(t, zkit, n)
		}
	}
	require.Equal(t, 13.0, sampleValue(t, m.URL(), "znode_count"))
	require.Equal(t, 3.0, sampleValue(t, m.URL(), "ephemerals_count"))
	require.Equal(t, 7.0, sampleValue(t, m.URL(), "watch_count"))
	require.Equal(t, 3.0, sampleValue(t, m.URL(), "global_sessions"))
	require.Equal(t, 167.0, sampleValue(t, m.URL(), "approximate_data_size"))
	fsync := scrapeFamilies(t, m.URL())["fsynctime"].GetMetric()[0].GetSummary()
	require.Positive(t, fsync.GetSampleCount(), "the scenario's writes are synced")

	// Other paths are not the endpoint.
	resp, err := http.Get(strings.TrimSuffix(m.URL(), "/metrics") + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestPrometheusOptions(t *testing.T) {
	_, cfg := startZkit(t, "metricsProvider.exportJvmInfo=false\n")
	require.False(t, PrometheusEnabled(cfg))
	o := MetricsOptionsFor(cfg, nil, nil)
	require.Equal(t, "0.0.0.0:7000", o.Addr, "Apache's defaults")
	require.False(t, o.ExportRuntime)

	// Without a server, and without the runtime: an empty scrape.
	m := NewMetricsServer(MetricsOptions{Addr: "127.0.0.1:0", Server: func() *member.Server { return nil }})
	require.NoError(t, m.Start())
	defer m.Close()
	require.Empty(t, scrape(t, m.URL()))
}

// TestMetricsLeftOutAreApaches: the list of what zkit leaves out names
// Apache's metrics.
func TestMetricsLeftOutAreApaches(t *testing.T) {
	all := map[string]string{}
	for _, role := range []string{"standalone", "leader", "follower"} {
		for k, v := range apacheFamilies(t, role) {
			all[k] = v
		}
	}
	var names []string
	for _, ns := range MetricsLeftOut {
		for _, n := range ns {
			if strings.Contains(n, "*") || strings.Contains(n, " ") {
				continue
			}
			require.Contains(t, all, n)
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for i := 1; i < len(names); i++ {
		require.NotEqual(t, names[i-1], names[i], "listed twice")
	}
}
