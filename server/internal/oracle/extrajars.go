package oracle

import (
	"net/netip"
	"os"
	"path/filepath"
)

// AdminJars are the jars Apache's AdminServer (JettyAdminServer) needs
// beyond zookeeper.jar's manifest Class-Path (which brings jetty and
// jackson): the servlet API. Pass them as Options.ExtraJars together with
// admin.enableServer=true.
var AdminJars = []string{"servlet-api.jar"}

// prometheusArtifacts are the Maven artifacts of Apache ZooKeeper 3.8.0's
// Prometheus metrics provider (zookeeper-prometheus-metrics, built against
// the Prometheus simpleclient 0.9.0). Debian does not package them.
var prometheusArtifacts = []struct{ group, artifact, version string }{
	{"org/apache/zookeeper", "zookeeper-prometheus-metrics", "3.8.0"},
	{"io/prometheus", "simpleclient", "0.9.0"},
	{"io/prometheus", "simpleclient_common", "0.9.0"},
	{"io/prometheus", "simpleclient_hotspot", "0.9.0"},
	{"io/prometheus", "simpleclient_servlet", "0.9.0"},
}

// PrometheusHint says how to get the jars PrometheusJars looks for.
const PrometheusHint = "fetch them into ~/.m2 with: for a in org.apache.zookeeper:zookeeper-prometheus-metrics:3.8.0 " +
	"io.prometheus:simpleclient:0.9.0 io.prometheus:simpleclient_common:0.9.0 io.prometheus:simpleclient_hotspot:0.9.0 " +
	"io.prometheus:simpleclient_servlet:0.9.0; do mvn -q dependency:get -Dartifact=$a -Dtransitive=false; done"

// PrometheusJars returns the absolute paths of the jars that
// metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
// needs (the provider, the Prometheus simpleclient and the servlet API),
// found in the local Maven repository (~/.m2/repository), or a
// MissingError naming the first one absent (see PrometheusHint).
func PrometheusJars() ([]string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, &MissingError{What: "home directory (for ~/.m2)"}
	}
	repo := filepath.Join(home, ".m2", "repository")
	var out []string
	for _, a := range prometheusArtifacts {
		p := filepath.Join(repo, filepath.FromSlash(a.group), a.artifact, a.version, a.artifact+"-"+a.version+".jar")
		if _, err := os.Stat(p); err != nil {
			return nil, &MissingError{What: p + " (" + PrometheusHint + ")"}
		}
		out = append(out, p)
	}
	out = append(out, filepath.Join(DefaultJarDir, "servlet-api.jar"))
	return out, nil
}

// ListeningAddrs returns the TCP addresses the process pid listens on (a
// JVM started by this package: its AdminServer or metrics endpoint bound to
// port 0 is found this way).
func ListeningAddrs(pid int) ([]netip.AddrPort, error) { return listeningAddrs(pid) }
