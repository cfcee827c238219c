package admin

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"zkit/server/config"
	"zkit/server/member"
	"zkit/server/tree"
)

// The Prometheus endpoint: what Apache's PrometheusMetricsProvider serves
// on metricsProvider.httpHost:httpPort/metrics, with Apache's metric names
// and types (its help text is the name too), collected at each scrape from
// the same data as mntr. Only what zkit measures is exported: a metric
// Apache has and zkit does not measure is absent, never a made-up zero
// (see MetricsLeftOut). With exportJvmInfo (default true) the process_*
// metrics are exported under the same names as Apache's (Prometheus'
// process collector) and the Go runtime's go_* metrics take the place of
// the JVM's jvm_* ones.
//
// zoo.cfg keys honoured: metricsProvider.className (Apache's
// org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider turns
// the endpoint on), metricsProvider.httpHost (default 0.0.0.0),
// metricsProvider.httpPort (default 7000; 0 picks a free port),
// metricsProvider.exportJvmInfo.

// MetricsLeftOut lists the metrics of Apache's Prometheus provider (3.8,
// standalone and quorum) that zkit does not export because it does not
// measure them, by group.
var MetricsLeftOut = map[string][]string{
	"request latency summaries (zkit measures one latency for all requests: see avg_latency, min_latency, max_latency)": {
		"readlatency", "updatelatency", "local_write_committed_time_ms", "server_write_committed_time_ms",
	},
	"elections": {"looking_count", "election_time", "leader_unavailable_time", "unavailable_time", "follower_sync_time", "observer_sync_time"},
	"client response sizes, authentication, TLS, throttling": {
		"last_client_response_size", "min_client_response_size", "max_client_response_size", "auth_failed_count",
		"non_mtls_local_conn_count", "non_mtls_remote_conn_count", "outstanding_tls_handshake", "tls_handshake_exceeded",
		"connection_drop_probability", "connection_drop_count", "connection_rejected", "throttled_ops",
		"request_throttle_wait_count", "large_requests_rejected", "insecure_admin_count", "local_sessions",
		"synced_non_voting_followers",
	},
	"other ServerMetrics counters and summaries (request processor queues and times, watch and session internals, bytes, quotas)": {
		"bytes_received_count", "response_bytes", "commit_count", "learner_proposal_received_count", "learner_commit_received_count",
		"snapshottime", "dbinittime", "startup_txns_loaded", "startup_txns_load_time", "startup_snap_load_time",
		"prep_process_time", "proposal_process_time", "commit_process_time", "sync_process_time", "sync_processor_request_queued",
		"outstanding_changes_queued", "outstanding_changes_removed", "request_commit_queued", "node_created_watch_count",
		"node_changed_watch_count", "node_deleted_watch_count", "node_children_watch_count", "watch_bytes", "dead_watchers_queued",
		"dead_watchers_cleared", "stale_sessions_expired", "connection_request_count", "jvm_pause_time_ms",
		"quota_count_limit_per_namespace", "quota_bytes_limit_per_namespace", "quota_count_usage_per_namespace",
		"quota_bytes_usage_per_namespace", "quota_exceeded_error_per_namespace",
		"fsynctime quantiles (count and sum are exported)",
	},
	"JVM (the Go runtime's go_* metrics instead)": {"jvm_*"},
}

// MetricsOptions configures a MetricsServer.
type MetricsOptions struct {
	// Addr is host:port to listen on; port 0 picks a free port.
	Addr string
	// Server returns the server to report on; nil exports only the
	// process metrics.
	Server func() *member.Server
	// ExportRuntime adds the process_* and go_* metrics
	// (metricsProvider.exportJvmInfo).
	ExportRuntime bool
	Logger        *slog.Logger
}

// PrometheusEnabled reports whether cfg asks for the Prometheus endpoint.
func PrometheusEnabled(cfg *config.Config) bool {
	return cfg != nil && cfg.MetricsProviderClassName == config.PrometheusMetricsClass
}

// MetricsOptionsFor returns the options cfg gives the endpoint for s.
func MetricsOptionsFor(cfg *config.Config, s *member.Server, log *slog.Logger) MetricsOptions {
	export := true
	if v, ok := cfg.MetricsProvider["exportJvmInfo"]; ok {
		export = strings.EqualFold(strings.TrimSpace(v), "true") // Boolean.parseBoolean
	}
	return MetricsOptions{
		Addr:          net.JoinHostPort(cfg.MetricsHTTPHost, strconv.Itoa(cfg.MetricsHTTPPort)),
		Server:        func() *member.Server { return s },
		ExportRuntime: export,
		Logger:        log,
	}
}

// MetricsServer serves /metrics.
type MetricsServer struct {
	opts MetricsOptions
	reg  *prometheus.Registry

	mu   sync.Mutex
	ln   net.Listener
	http *http.Server
	done chan struct{}
}

// NewMetricsServer returns a MetricsServer; Start makes it listen.
func NewMetricsServer(o MetricsOptions) *MetricsServer {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Server == nil {
		o.Server = func() *member.Server { return nil }
	}
	return &MetricsServer{opts: o, reg: newMetricsRegistry(o.Server, o.ExportRuntime)}
}

// newMetricsRegistry is the registry the endpoint serves (and monitor
// dumps when the Prometheus provider is configured).
func newMetricsRegistry(server func() *member.Server, runtime bool) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&zkCollector{server: server})
	if runtime {
		reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg.MustRegister(collectors.NewGoCollector())
	}
	return reg
}

// dumpMetrics is PrometheusMetricsProvider.dump: every sample of reg as
// name{label="value",...} and its value (a double), as the monitor command
// lists them with that provider.
func dumpMetrics(reg *prometheus.Registry, put func(k string, v any)) {
	fams, err := reg.Gather()
	if err != nil && len(fams) == 0 {
		return
	}
	for _, f := range fams {
		name := f.GetName()
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"=\""+l.GetValue()+"\"")
			}
			key := func(suffix string, extra ...string) string {
				ls := append(append([]string(nil), labels...), extra...)
				if len(ls) == 0 {
					return name + suffix
				}
				return name + suffix + "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.GetGauge() != nil:
				put(key(""), jsonDouble(m.GetGauge().GetValue()))
			case m.GetCounter() != nil:
				put(key(""), jsonDouble(m.GetCounter().GetValue()))
			case m.GetUntyped() != nil:
				put(key(""), jsonDouble(m.GetUntyped().GetValue()))
			case m.GetSummary() != nil:
				sm := m.GetSummary()
				for _, q := range sm.GetQuantile() {
					put(key("", "quantile=\""+strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)+"\""), jsonDouble(q.GetValue()))
				}
				put(key("_count"), jsonDouble(float64(sm.GetSampleCount())))
				put(key("_sum"), jsonDouble(sm.GetSampleSum()))
			case m.GetHistogram() != nil:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					put(key("_bucket", "le=\""+strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)+"\""), jsonDouble(float64(b.GetCumulativeCount())))
				}
				put(key("_count"), jsonDouble(float64(h.GetSampleCount())))
				put(key("_sum"), jsonDouble(h.GetSampleSum()))
			}
		}
	}
}

// Registry is the registry scraped at /metrics.
func (m *MetricsServer) Registry() *prometheus.Registry { return m.reg }

// Handler serves /metrics (and 404 elsewhere).
func (m *MetricsServer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return mux
}

// Start listens and serves in the background.
func (m *MetricsServer) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ln != nil {
		return errors.New("admin: metrics server already started")
	}
	ln, err := net.Listen("tcp", m.opts.Addr)
	if err != nil {
		return err
	}
	m.ln = ln
	m.http = &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.opts.Logger.Handler(), slog.LevelWarn),
	}
	m.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln)
	}(m.http, m.done)
	m.opts.Logger.Info("Prometheus metrics endpoint started", "addr", ln.Addr().String(), "path", "/metrics")
	return nil
}

// Addr is the bound address (nil before Start).
func (m *MetricsServer) Addr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ln == nil {
		return nil
	}
	return m.ln.Addr()
}

// URL is the scrape URL (a wildcard address given as loopback).
func (m *MetricsServer) URL() string {
	addr := m.Addr()
	if addr == nil {
		return ""
	}
	return "http://" + dialable(addr) + "/metrics"
}

// Close stops serving.
func (m *MetricsServer) Close() error {
	m.mu.Lock()
	srv, done := m.http, m.done
	m.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = srv.Close()
	}
	<-done
	return err
}

// zkCollector reads the server at each scrape.
type zkCollector struct {
	server func() *member.Server
	descs  sync.Map // name -> *prometheus.Desc
}

// Describe sends nothing: the set of metrics depends on the role, so the
// collector is unchecked.
func (*zkCollector) Describe(chan<- *prometheus.Desc) {}

func (z *zkCollector) desc(name string) *prometheus.Desc {
	if d, ok := z.descs.Load(name); ok {
		return d.(*prometheus.Desc)
	}
	// Apache's help text is the metric's name.
	d, _ := z.descs.LoadOrStore(name, prometheus.NewDesc(name, name, nil, nil))
	return d.(*prometheus.Desc)
}

func (z *zkCollector) Collect(ch chan<- prometheus.Metric) {
	s := z.server()
	if s == nil || s.Started.IsZero() {
		return
	}
	gauge := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(z.desc(name), prometheus.GaugeValue, v)
	}
	counter := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(z.desc(name), prometheus.CounterValue, v)
	}
	summary := func(name string, count uint64, sum float64) {
		ch <- prometheus.MustNewConstSummary(z.desc(name), count, sum, nil)
	}

	// ZooKeeperServer.registerMetrics' gauges.
	var nodes, ephemerals, sessions int
	var dataSize int64
	s.DB.Read(func(t *tree.Tree) {
		nodes = t.NodeCount() + 1 // as mntr: Apache counts the root twice
		ephemerals = t.EphemeralCount()
		sessions = len(t.Sessions())
		dataSize = t.DataSize()
	})
	lat := s.Clients.Stats.Latency()
	gauge("znode_count", float64(nodes))
	gauge("ephemerals_count", float64(ephemerals))
	gauge("global_sessions", float64(sessions))
	gauge("approximate_data_size", float64(dataSize))
	gauge("watch_count", float64(s.DB.Watches.Summarize().Watches))
	gauge("num_alive_connections", float64(len(connections(s))))
	gauge("outstanding_requests", float64(s.Proc.Stats.Outstanding.Load()))
	gauge("packets_received", float64(s.Clients.Stats.PacketsReceived.Load()))
	gauge("packets_sent", float64(s.Clients.Stats.PacketsSent.Load()))
	gauge("avg_latency", avg4(lat.Total, lat.Count))
	gauge("min_latency", float64(lat.Min))
	gauge("max_latency", float64(lat.Max))
	gauge("uptime", float64(time.Since(s.Started).Milliseconds()))
	if n := openFDs(); n >= 0 {
		gauge("open_file_descriptor_count", float64(n))
	}
	if n := maxFDs(); n >= 0 {
		gauge("max_file_descriptor_count", float64(n))
	}

	// ServerMetrics counters and summaries zkit measures.
	counter("prep_processor_request_queued", float64(s.Proc.Stats.Received.Load()))
	if st := s.Store(); st != nil {
		// Since the start: Apache's Prometheus provider ignores srst.
		summary("fsynctime", uint64(st.Stats.Fsyncs.Load()), float64(st.Stats.FsyncNanos.Load())/1e6)
		summary("sync_processor_batch_size", uint64(st.Stats.Batches.Load()), float64(st.Stats.Txns.Load()))
		counter("snap_count", float64(st.Stats.Snapshots.Load()))
	}

	// Quorum gauges (QuorumZooKeeperServer, LeaderZooKeeperServer).
	if s.IsQuorum() {
		q := quorumViewOf(s)
		gauge("quorum_size", float64(q.m.QuorumSize))
		if l := q.m.Leading; l != nil {
			gauge("learners", float64(l.Learners))
			gauge("synced_followers", float64(l.SyncedFollowers))
			gauge("synced_observers", float64(l.SyncedObservers))
			gauge("pending_syncs", float64(l.PendingSyncs))
			gauge("leader_uptime", float64(l.Uptime.Milliseconds()))
			gauge("last_proposal_size", float64(l.LastProposalSize))
			gauge("min_proposal_size", float64(l.MinProposalSize))
			gauge("max_proposal_size", float64(l.MaxProposalSize))
			counter("proposal_count", float64(l.Proposals))
		}
	}
}
