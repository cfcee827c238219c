package admin

import (
	"strconv"
	"strings"
	"time"

	"zkit/server/member"
	"zkit/server/tree"
	"zkit/server/version"
)

// mntr (MonitorCommand) prints "zk_<key>\t<value>" lines: version and
// server_state, then the metrics provider's dump: gauges, counters, basic
// summaries (avg_ min_ max_ cnt_ sum_ + name), advanced summaries (the
// same plus p50_ p95_ p99_ p999_). Apache keeps each group in a
// ConcurrentHashMap and prints it in that map's iteration order, which
// depends only on the set of names registered (and their registration
// order within a hash bucket). The orders below are the ones Apache 3.9.5
// prints for a standalone server, obtained by inserting 3.9.5's
// registrations (ServerMetrics' constructor, ZooKeeperServer.registerMetrics)
// into java.util.concurrent.ConcurrentHashMap in registration order; the
// same procedure reproduces the 3.8.0 capture in
// /work/notes/4lw-apache-3.8.0-raw/standalone-fresh/mntr.txt exactly.
// testdata/chmorder holds the program. 3.9 adds the counters
// snapshot_error_count, snapshot_rate_limited_count, restore_error_count,
// restore_rate_limited_count and the summary restore_time to 3.8's set,
// which reorders the counters.
//
// Quorum servers add peer_state after server_state (observers then
// observer_master_id) and gauges of their role (quorum_size; a leader's
// learners, synced_followers, ...), which changes the gauge order: each
// role has its own list, obtained the same way (the registrations of
// QuorumZooKeeperServer and LeaderZooKeeperServer/FollowerZooKeeperServer
// appended; see testdata/chmorder/gauges-*.txt). The gauge names are the
// same in 3.8 and 3.9, and the leader and follower lists reproduce the
// captures in /work/notes/4lw-apache-3.8.0-raw/ensemble-{leader,follower}.
// They are the orders of a member's first role since its start: Apache
// unregisters a role's gauges and registers the next role's into the same
// map, so a member that changed roles may print them in another order.

// standaloneGauges is the gauge order of a standalone server.
var standaloneGauges = []string{
	"ephemerals_count", "num_alive_connections", "avg_latency", "outstanding_requests",
	"znode_count", "global_sessions", "non_mtls_remote_conn_count", "last_client_response_size",
	"packets_sent", "packets_received", "max_client_response_size", "connection_drop_probability",
	"watch_count", "auth_failed_count", "min_latency", "max_file_descriptor_count",
	"approximate_data_size", "open_file_descriptor_count", "local_sessions", "uptime",
	"max_latency", "outstanding_tls_handshake", "min_client_response_size", "non_mtls_local_conn_count",
}

// leaderGauges is the gauge order of a leader.
var leaderGauges = []string{
	"ephemerals_count", "num_alive_connections", "avg_latency", "min_proposal_size",
	"outstanding_requests", "znode_count", "global_sessions", "non_mtls_remote_conn_count",
	"last_client_response_size", "packets_sent", "packets_received", "max_proposal_size",
	"max_client_response_size", "synced_followers", "connection_drop_probability", "watch_count",
	"synced_non_voting_followers", "synced_observers", "auth_failed_count", "min_latency",
	"max_file_descriptor_count", "approximate_data_size", "open_file_descriptor_count", "last_proposal_size",
	"pending_syncs", "leader_uptime", "local_sessions", "uptime",
	"max_latency", "outstanding_tls_handshake", "learners", "min_client_response_size",
	"non_mtls_local_conn_count", "quorum_size",
}

// readOnlyGauges is the gauge order of a read-only server: the standalone
// registrations, but into the map a quorum role's gauges were unregistered
// from (as in /work/notes/4lw-apache-3.8.0-raw/ensemble-read-only, a
// member that had been a follower).
var readOnlyGauges = []string{
	"ephemerals_count", "avg_latency", "num_alive_connections", "outstanding_requests",
	"znode_count", "global_sessions", "non_mtls_remote_conn_count", "last_client_response_size",
	"packets_sent", "packets_received", "max_client_response_size", "connection_drop_probability",
	"watch_count", "auth_failed_count", "min_latency", "max_file_descriptor_count",
	"approximate_data_size", "open_file_descriptor_count", "local_sessions", "uptime",
	"max_latency", "outstanding_tls_handshake", "min_client_response_size", "non_mtls_local_conn_count",
}

// learnerGauges is the gauge order of a follower and of an observer. A
// follower also registers synced_observers (between watch_count and
// auth_failed_count), which is null, hence not printed, without observer
// masters.
var learnerGauges = []string{
	"ephemerals_count", "num_alive_connections", "avg_latency", "outstanding_requests",
	"znode_count", "global_sessions", "non_mtls_remote_conn_count", "last_client_response_size",
	"packets_sent", "packets_received", "max_client_response_size", "connection_drop_probability",
	"watch_count", "auth_failed_count", "min_latency", "max_file_descriptor_count",
	"approximate_data_size", "open_file_descriptor_count", "local_sessions", "uptime",
	"max_latency", "outstanding_tls_handshake", "min_client_response_size", "non_mtls_local_conn_count",
	"quorum_size",
}

// counters is the order of ServerMetrics' counters.
var counters = []string{
	"watch_bytes", "stale_requests_dropped", "throttled_ops", "insecure_admin_count",
	"connection_rejected", "sessionless_connections_expired", "dead_watchers_queued", "stale_requests",
	"connection_drop_count", "response_packet_cache_hits", "bytes_received_count", "add_dead_watcher_stall_time",
	"request_throttle_wait_count", "requests_not_forwarded_to_commit_processor", "response_packet_cache_misses", "prep_processor_request_queued",
	"stale_replies", "response_bytes", "ensemble_auth_fail", "diff_count",
	"connection_revalidate_count", "quit_leading_due_to_disloyal_voter", "unrecoverable_error_count", "unsuccessful_handshake",
	"commit_count", "outstanding_changes_queued", "request_commit_queued", "ensemble_auth_skip",
	"skip_learner_request_to_next_processor_count", "proposal_count", "large_requests_rejected", "outstanding_changes_removed",
	"restore_error_count", "cnxn_closed_without_zk_server_running", "looking_count", "snapshot_rate_limited_count",
	"learner_proposal_received_count", "digest_mismatches_count", "dead_watchers_cleared", "ensemble_auth_success",
	"learner_commit_received_count", "snapshot_error_count", "connection_request_count", "response_packet_get_children_cache_misses",
	"snap_count", "stale_sessions_expired", "restore_rate_limited_count", "response_packet_get_children_cache_hits",
	"sync_processor_request_queued", "tls_handshake_exceeded", "revalidate_count",
}

// basicSummaries is the order of ServerMetrics' BASIC summaries.
var basicSummaries = []string{
	"socket_closing_time", "proposal_process_time", "leader_unavailable_time", "node_created_watch_count",
	"session_queues_drained", "write_commit_proc_req_queued", "connection_token_deficit", "read_commit_proc_req_queued",
	"node_deleted_watch_count", "startup_txns_load_time", "sync_processor_queue_size", "follower_sync_time",
	"prep_processor_queue_size", "fsynctime", "inflight_snap_count", "reads_issued_from_session_queue",
	"restore_time", "learner_request_processor_queue_size", "snapshottime", "unavailable_time",
	"startup_txns_loaded", "reads_after_write_in_session_queue", "requests_in_session_queue", "write_commit_proc_issued",
	"prep_process_time", "pending_session_queue_size", "time_waiting_empty_pool_in_commit_processor_read_ms", "commit_process_time",
	"dbinittime", "inflight_diff_count", "netty_queued_buffer_capacity", "election_time",
	"commit_commit_proc_req_queued", "sync_processor_batch_size", "node_children_watch_count", "write_batch_time_in_commit_processor",
	"read_commit_proc_issued", "concurrent_request_processing_in_commit_processor", "observer_sync_time", "node_changed_watch_count",
	"sync_process_time", "startup_snap_load_time",
}

// advancedSummaries is the order of ServerMetrics' ADVANCED summaries.
var advancedSummaries = []string{
	"prep_processor_queue_time_ms", "jvm_pause_time_ms", "close_session_prep_time", "read_commitproc_time_ms",
	"updatelatency", "local_write_committed_time_ms", "request_throttle_queue_time_ms", "readlatency",
	"quorum_ack_latency", "om_commit_process_time_ms", "read_final_proc_time_ms", "commit_propagation_latency",
	"dead_watchers_cleaner_latency", "write_final_proc_time_ms", "proposal_ack_creation_latency", "proposal_latency",
	"om_proposal_process_time_ms", "sync_processor_queue_and_flush_time_ms", "propagation_latency", "server_write_committed_time_ms",
	"sync_processor_queue_time_ms", "sync_processor_queue_flush_time_ms", "write_commitproc_time_ms",
}

// writeMntr is mntr.
func writeMntr(b *strings.Builder, s *member.Server, st status) {
	kv := func(k, v string) { b.WriteString("zk_" + k + "\t" + v + "\n") }
	kv("version", version.FullWithBuild())
	kv("server_state", string(st.Mode))

	gauges := gaugeValues(s)
	order := standaloneGauges
	// The counters zkit keeps; the others it does not measure.
	measured := map[string]int64{
		// Every request entering the pipeline (Apache: every request
		// queued to PrepRequestProcessor, reads included).
		"prep_processor_request_queued": s.Proc.Stats.Received.Load(),
	}
	switch {
	case st.Mode == ModeReadOnly:
		// ReadOnlyZooKeeperServer is no QuorumZooKeeperServer: no
		// peer_state, no quorum_size.
		order = readOnlyGauges
	case s.IsQuorum():
		q := quorumViewOf(s)
		kv("peer_state", q.peerState())
		if st.Mode == ModeObserver {
			// Observer.getLearnerMasterId: the member it observes through,
			// here always the leader.
			kv("observer_master_id", formatLong(int64(q.m.Leader)))
		}
		q.addGauges(gauges)
		order = learnerGauges
		if st.Mode == ModeLeader {
			order = leaderGauges
		}
		if l := q.m.Leading; l != nil {
			// Proposals of this leadership (Apache counts them per
			// process): since it began or the last srst.
			measured["proposal_count"] = l.Proposals
		}
	}
	for _, k := range order {
		if v, ok := gauges[k]; ok {
			kv(k, v)
		}
	}
	for _, k := range counters {
		kv(k, formatLong(measured[k]))
	}
	fsync := fsyncOf(s.Store())
	for _, k := range basicSummaries {
		if k == "fsynctime" {
			writeFsync(kv, fsync)
			continue
		}
		writeSummary(kv, k, false)
	}
	for _, k := range advancedSummaries {
		writeSummary(kv, k, true)
	}
	// Summary sets (per-namespace read/write sizes, a leader's per-learner
	// queue stats) appear once they have a sample; zkit takes none.
}

// writeSummary prints a summary without samples.
func writeSummary(kv func(k, v string), name string, advanced bool) {
	kv("avg_"+name, "0.0")
	for _, p := range []string{"min_", "max_", "cnt_", "sum_"} {
		kv(p+name, "0")
	}
	if advanced {
		for _, p := range []string{"p50_", "p95_", "p99_", "p999_"} {
			kv(p+name, "0")
		}
	}
}

// gaugeValues computes the gauges of ZooKeeperServer.registerMetrics.
func gaugeValues(s *member.Server) map[string]string {
	lat := s.Clients.Stats.Latency()
	var nodes, ephemerals, sessions int
	var dataSize int64
	s.DB.Read(func(t *tree.Tree) {
		nodes = t.NodeCount() + 1 // Apache counts the root twice
		ephemerals = t.EphemeralCount()
		sessions = len(t.Sessions())
		dataSize = t.DataSize()
	})
	watches := s.DB.Watches.Summarize().Watches
	uptime := int64(0)
	if !s.Started.IsZero() {
		uptime = time.Since(s.Started).Milliseconds()
	}
	i := strconv.Itoa
	return map[string]string{
		"avg_latency":           javaDouble(avg4(lat.Total, lat.Count)),
		"max_latency":           formatLong(lat.Max),
		"min_latency":           formatLong(lat.Min),
		"packets_received":      formatLong(s.Clients.Stats.PacketsReceived.Load()),
		"packets_sent":          formatLong(s.Clients.Stats.PacketsSent.Load()),
		"num_alive_connections": i(len(connections(s))),
		"outstanding_requests":  formatLong(s.Proc.Stats.Outstanding.Load()),
		"uptime":                formatLong(uptime),
		"znode_count":           i(nodes),
		"watch_count":           i(watches),
		"ephemerals_count":      i(ephemerals),
		"approximate_data_size": formatLong(dataSize),
		"global_sessions":       i(sessions),
		// Local sessions exist only in an ensemble with
		// localSessionsEnabled.
		"local_sessions":             "0",
		"open_file_descriptor_count": formatLong(openFDs()),
		"max_file_descriptor_count":  formatLong(maxFDs()),
		// zkit has no connection throttle.
		"connection_drop_probability": "0.0",
		// Response sizes are not measured: Apache's "no sample" value.
		"last_client_response_size": "-1",
		"max_client_response_size":  "-1",
		"min_client_response_size":  "-1",
		// zkit serves no TLS; failed authentications are not counted.
		"outstanding_tls_handshake":  "0",
		"auth_failed_count":          "0",
		"non_mtls_remote_conn_count": "0",
		"non_mtls_local_conn_count":  "0",
	}
}
