// Order prints the order in which Apache ZooKeeper's mntr lists its metrics:
// DefaultMetricsProvider keeps gauges, counters, basic and advanced
// summaries in four ConcurrentHashMaps and dumps each in iteration order.
// Inserting the names in registration order reproduces that order.
//
//	javac -d /tmp Order.java
//	java -cp /tmp Order gauges-standalone.txt metrics-3.9.5.txt
//
// gauges-standalone.txt: the registerGauge names of
// ZooKeeperServer.registerMetrics, in source order. gauges-leader.txt,
// gauges-follower.txt, gauges-observer.txt: the same followed by what
// QuorumZooKeeperServer (quorum_size) and LeaderZooKeeperServer or
// FollowerZooKeeperServer (synced_observers, null hence not printed) register
// after it; with an empty metrics file (java -cp /tmp Order gauges-leader.txt
// /dev/null) they give the gauge orders of leaderGauges and learnerGauges,
// which match /work/notes/4lw-apache-3.8.0-raw/ensemble-{leader,follower}. metrics-<version>.txt:
// "Counter|CounterSet|Summary|SummarySet <name> [BASIC|ADVANCED]" for each
// metricsContext.get* call of ServerMetrics' constructor, in source order.
// With metrics-3.8.0.txt the output matches the 3.8.0 capture
// (/work/notes/4lw-apache-3.8.0-raw/standalone-fresh/mntr.txt) line for line.
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.ConcurrentHashMap;

public class Order {
    public static void main(String[] args) throws Exception {
        ConcurrentHashMap<String, String> gauges = new ConcurrentHashMap<>();
        ConcurrentHashMap<String, String> counters = new ConcurrentHashMap<>();
        ConcurrentHashMap<String, String> basic = new ConcurrentHashMap<>();
        ConcurrentHashMap<String, String> advanced = new ConcurrentHashMap<>();
        for (String g : Files.readAllLines(Paths.get(args[0]))) {
            if (!g.isBlank()) {
                gauges.put(g.trim(), "");
            }
        }
        for (String line : Files.readAllLines(Paths.get(args[1]))) {
            String[] f = line.trim().split(" ");
            if (f[0].equals("Counter")) {
                counters.computeIfAbsent(f[1], k -> "");
            } else if (f[0].equals("Summary")) {
                (f[2].equals("BASIC") ? basic : advanced).computeIfAbsent(f[1], k -> "");
            }
        }
        gauges.keySet().forEach(k -> System.out.println("G " + k));
        counters.keySet().forEach(k -> System.out.println("C " + k));
        basic.keySet().forEach(k -> System.out.println("B " + k));
        advanced.keySet().forEach(k -> System.out.println("A " + k));
    }
}
