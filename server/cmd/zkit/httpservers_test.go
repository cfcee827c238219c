package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"zkit/server/config"
	"zkit/server/member"
)

// syncBuffer is a log sink safe for the servers' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveConfig starts an in-memory server for a zoo.cfg text as zkit serve
// does and returns it with the parsed config.
func serveConfig(t *testing.T, text string) (*config.Config, *member.Server) {
	t.Helper()
	cfg, err := config.Parse(strings.NewReader("dataDir="+t.TempDir()+"\nclientPort=2181\n"+text), "zoo.cfg")
	require.NoError(t, err)
	srv, err := buildServer(cfg, "127.0.0.1:0", true, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(srv.Stop)
	return cfg, srv
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err, url)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// boundAddr finds the address a start line logged.
func boundAddr(t *testing.T, log, what string) string {
	t.Helper()
	m := regexp.MustCompile(`msg="` + what + ` started" addr=(\S+)`).FindStringSubmatch(log)
	require.NotNil(t, m, "no %q line in the log:\n%s", what, log)
	return m[1]
}

func TestServeStartsAdminServerAndMetrics(t *testing.T) {
	cfg, srv := serveConfig(t, "admin.serverAddress=127.0.0.1\nadmin.serverPort=0\n"+
		"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"+
		"metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=0\n")
	var logs syncBuffer
	stop, err := startHTTPServers(cfg, srv, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	adminAddr := boundAddr(t, logs.String(), "AdminServer")
	metricsAddr := boundAddr(t, logs.String(), "Prometheus metrics endpoint")
	require.NotContains(t, adminAddr, ":0")

	code, body := get(t, "http://"+adminAddr+"/commands/ruok")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"command" : "ruok"`)
	code, body = get(t, "http://"+adminAddr+"/commands/srvr")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"server_state" : "standalone"`)
	code, body = get(t, "http://"+metricsAddr+"/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "# TYPE znode_count gauge")

	stop()
	_, err = http.Get("http://" + adminAddr + "/commands/ruok")
	require.Error(t, err, "closed with the server")
	_, err = http.Get("http://" + metricsAddr + "/metrics")
	require.Error(t, err)
}

func TestServeAdminServerOff(t *testing.T) {
	cfg, srv := serveConfig(t, "admin.enableServer=false\n")
	var logs syncBuffer
	stop, err := startHTTPServers(cfg, srv, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	defer stop()
	require.NotContains(t, logs.String(), "AdminServer")
	require.NotContains(t, logs.String(), "metrics")
}

// busyPort holds a loopback port for the test.
func busyPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func TestServeAdminPortTaken(t *testing.T) {
	port := busyPort(t)
	// Configured: an error, as Apache's "Unable to start AdminServer".
	cfg, srv := serveConfig(t, "admin.serverAddress=127.0.0.1\nadmin.serverPort="+strconv.Itoa(port)+"\n")
	_, err := startHTTPServers(cfg, srv, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "AdminServer")

	// On only by default (nothing about it in zoo.cfg; the address is
	// moved off 0.0.0.0:8080 here to a port known to be taken): a warning,
	// and the server goes on.
	cfg, srv = serveConfig(t, "")
	require.True(t, cfg.AdminEnableServer)
	require.Equal(t, 8080, cfg.AdminServerPort)
	cfg.AdminServerAddress, cfg.AdminServerPort = "127.0.0.1", port
	var logs syncBuffer
	stop, err := startHTTPServers(cfg, srv, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	defer stop()
	require.Contains(t, logs.String(), "AdminServer not started")

	// A Prometheus endpoint that cannot listen is an error.
	cfg, srv = serveConfig(t, "admin.enableServer=false\n"+
		"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"+
		"metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort="+strconv.Itoa(port)+"\n")
	_, err = startHTTPServers(cfg, srv, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "metrics")
}
