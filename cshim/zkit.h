/*
 * zkit.h — the C ABI of libzkit.so: an in-process ZooKeeper-compatible
 * ensemble (zkit's server/ensemble), for the Python kit and any other
 * language with a C FFI.
 *
 * Build:   go build -buildmode=c-shared -o libzkit.so ./cshim
 *          (the Go toolchain also writes libzkit.h, a generated header that
 *          includes this one; this file is the documented contract)
 *
 * Conventions
 * -----------
 * - Every function that can fail returns a char* error: NULL on success,
 *   otherwise a NUL-terminated UTF-8 message allocated with malloc that the
 *   caller must release with zkit_free(). Results come back through out
 *   parameters; a string result is likewise malloc'd and released with
 *   zkit_free(). No pointer into Go memory is ever returned, and the library
 *   keeps no pointer to the caller's memory after a call returns.
 * - A panic inside the library is recovered and returned as an error
 *   ("zkit: internal error: ..."); it never unwinds into the caller.
 * - An ensemble is named by an int64 handle (> 0) returned by zkit_start and
 *   valid until zkit_close. Handles are never reused within a process.
 * - Members are named by their server id (myid): voters are 1..size,
 *   observers size+1..size+observers.
 * - Every function may be called from any thread, concurrently. Calls that
 *   wait (zkit_wait_ready, zkit_next_log, zkit_close) block only the calling
 *   thread; callers that hold a lock such as Python's GIL should release it
 *   (ctypes.CDLL does).
 * - The library never calls back into the caller: log records are buffered
 *   and pulled with zkit_next_log.
 * - The Go runtime does not survive fork(): after fork() a child must not
 *   call any function of this library (exec first, or do not load it before
 *   forking).
 */
#ifndef ZKIT_H
#define ZKIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* zkit_version: the library's version, e.g.
 * "zkit 0.1.0 (ZooKeeper 3.9.3 compatible) abi 1". Free with zkit_free. */
char* zkit_version(void);

/* zkit_abi_version: the ABI revision of this header (1). */
int32_t zkit_abi_version(void);

/* zkit_free: releases a string returned by this library (NULL is fine). */
void zkit_free(void* p);

/* zkit_start: starts an ensemble described by config, a JSON object (every
 * key optional; unknown keys are an error):
 *
 *   size                         voting members (default 3)
 *   observers                    observers (default 0)
 *   tick_time_ms                 tickTime (default 200)
 *   init_limit, sync_limit       in ticks (default 10, 5)
 *   data_dir                     "" (default): each member's data lives in
 *                                memory, on a file system that loses what
 *                                was not synced when the member is killed;
 *                                otherwise a directory holding member-<id>/
 *   host                         address to bind (default "127.0.0.1")
 *   extended_types               TTL nodes (default false)
 *   container_check_interval_ms  reaping of containers/TTL nodes (default 1000)
 *   no_sync                      skip fsyncs with a data_dir (default false)
 *   read_only                    a member cut off from the quorum serves
 *                                read-only clients (readonlymode.enabled;
 *                                default false)
 *   super_digest                 "super:<base64 sha1>": that user passes
 *                                every ACL check (DigestAuthenticationProvider
 *                                .superDigest; default "" = none)
 *   log_level                    "debug", "info", "warn" (default), "error":
 *                                records at or above it are buffered for
 *                                zkit_next_log
 *
 * Every member binds port 0 on host; the ports it got are in zkit_members.
 * Returns once every member runs, not necessarily once a leader is elected
 * (see zkit_wait_ready). On success *handle is set. */
char* zkit_start(char* config, int64_t* handle);

/* zkit_wait_ready: waits up to timeout_ms until one member leads and every
 * running member serves clients. */
char* zkit_wait_ready(int64_t handle, int64_t timeout_ms);

/* zkit_connect_string: "host:port,host:port,..." of every member's client
 * port, voters first (what a ZooKeeper client takes). */
char* zkit_connect_string(int64_t handle, char** out);

/* zkit_members: a JSON array describing every member, voters first:
 *
 *   {"id": 1, "observer": false, "running": true,
 *    "state": "leading" | "following" | "observing" | "looking" | "stopped",
 *    "serving": true, "leader": 1, "epoch": 1, "zxid": 4294967298,
 *    "client": "127.0.0.1:40123", "quorum": "127.0.0.1:40124",
 *    "election": "127.0.0.1:40125"}
 *
 * "leader" is the id of the leader this member follows (0 while looking),
 * "zxid" the last transaction it applied. */
char* zkit_members(int64_t handle, char** out);

/* zkit_member_stop: stops member id cleanly (what it logged stays). */
char* zkit_member_stop(int64_t handle, int64_t id);

/* zkit_member_start: starts a stopped member again, from its data, on the
 * same ports. Starting a running member does nothing. */
char* zkit_member_start(int64_t handle, int64_t id);

/* zkit_member_kill: crashes member id. With in-memory data, whatever it had
 * not synced is lost, as on a power failure; with a data_dir it stops at
 * once (the operating system keeps what was written). */
char* zkit_member_kill(int64_t handle, int64_t id);

/* zkit_member_restart: stops member id cleanly and starts it again. */
char* zkit_member_restart(int64_t handle, int64_t id);

/* zkit_partition: cuts member id off from every other member, both ways;
 * its clients stay connected to it. Partitions add up until zkit_heal. */
char* zkit_partition(int64_t handle, int64_t id);

/* zkit_heal: ends every partition. */
char* zkit_heal(int64_t handle);

/* zkit_expire_session: expires a live session on the leader, as if its
 * timeout had passed: its ephemeral nodes go and its client is told the
 * session expired when it next talks to the ensemble. Asynchronous: the
 * close is queued when this returns. */
char* zkit_expire_session(int64_t handle, int64_t session_id);

/* zkit_close: stops every member, releases their in-memory data and
 * invalidates the handle. */
char* zkit_close(int64_t handle);

/* zkit_next_log: waits up to timeout_ms for buffered log records of any
 * ensemble and returns up to max of them (max <= 0 means 256) as
 *
 *   {"dropped": 0, "records": [{"time_ns": 1732500000123456789,
 *     "level": 0, "msg": "...", "ensemble": 1, "member": 2,
 *     "attrs": {"key": "value", ...}}, ...]}
 *
 * "level" is slog's (-4 debug, 0 info, 4 warn, 8 error); "member" is 0 for
 * records not about one member; "dropped" counts records discarded since the
 * previous call because the bounded buffer (4096 records) was full. *out is
 * set to NULL when no record arrived within timeout_ms. */
char* zkit_next_log(int64_t timeout_ms, int32_t max, char** out);

#ifdef __cplusplus
}
#endif

#endif /* ZKIT_H */
