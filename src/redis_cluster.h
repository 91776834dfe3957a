/* redis_cluster.h - the Redis Cluster client of trailsight: commands routed
 * to the node that serves their key, over ts_redis connections
 * (redis_conn.h), one per node.
 *
 * It owns: the key slot (CRC16, XMODEM variant, of the key or of its hash
 * tag, modulo 16384, as the Redis Cluster specification defines it), the
 * redis-cluster:// URL, the slot map (read with CLUSTER SLOTS from any node
 * it knows), one ts_redis per node (each with the connect and command
 * timeouts, AUTH and on_connect hook of the options), and the routing of a
 * batch: its commands grouped per node, each group pipelined, every group
 * written out before any is read. Redirects and failures:
 *   MOVED        the map is read again and the command retried on the new
 *                owner (at once, no wait);
 *   ASK          ASKING then the command on the node named, the map kept;
 *   CLUSTERDOWN, TRYAGAIN, LOADING, BUSY, MASTERDOWN
 *                retried after the ts_backoff wait (backoff.h);
 *   a node that cannot be reached (a master dead, its replica taking over)
 *                the map is read again from any other known node (masters,
 *                replicas, the URL's seeds) and the command retried after
 *                the wait, at once if the map changed;
 * until the budget of the options (total_ms) is spent. A wait is slept in
 * slices of 200 ms with the map read after each, and ends early when the
 * map changes (a replica promoted), the part not slept given back to the
 * budget. Any other error
 * reply fails the batch, as ts_redis_run does.
 *
 * Order: the replies come back in the caller's order. Commands on one node
 * run in the caller's order; commands on different nodes in no set order;
 * a command redirected runs after those of its node that were not.
 *
 * A ts_rcluster is used by one thread. Messages never hold credentials.
 */
#ifndef TS_REDIS_CLUSTER_H
#define TS_REDIS_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "redis_conn.h"

#define TS_RCLUSTER_SLOTS 16384
#define TS_RCLUSTER_MAX_SEEDS 16  /* host:port pairs in a URL */
#define TS_RCLUSTER_MAX_NODES 512 /* masters and replicas known at once */

/* The CRC16 of the specification (XMODEM: polynomial 0x1021, initial 0,
 * no reflection; "123456789" gives 0x31C3). */
uint16_t ts_rcluster_crc16(const void *buf, size_t n);
/* The hash slot of key[0..n), 0 to 16383: the CRC16 of the hash tag if the
 * key has one (the bytes between its first '{' and the first '}' after
 * it, when there is at least one), else of the whole key, modulo 16384. */
int ts_rcluster_keyslot(const void *key, size_t n);

/* A parsed "redis-cluster://[user:pass@]host:port[,host:port...][/0]":
 * the credentials (as for redis://, used on every node) and the seeds. */
typedef struct ts_rcluster_spec {
	char user[256];
	char pass[512];
	int nseeds;
	struct {
		char host[256];
		int port;
	} seed[TS_RCLUSTER_MAX_SEEDS];
} ts_rcluster_spec;

/* Parse url into *out. 0, or TS_EINVAL with *why set to the reason (static
 * storage, never quoting the URL) and *out zeroed. A database other than 0
 * is refused: a cluster has only database 0. */
int ts_rcluster_parse(const char *url, ts_rcluster_spec *out, const char **why);

/* One command of a batch: argv[argc] (lengths lens, NULL: strlen) and key,
 * the index in argv of a key naming its slot (1 <= key < argc; every key of
 * the command must be in that slot, as the cluster requires). */
typedef struct ts_rcluster_cmd {
	int argc;
	const char *const *argv;
	const size_t *lens;
	int key;
} ts_rcluster_cmd;

typedef struct ts_rcluster ts_rcluster;

/* A client for the cluster of sp, with options o (copied; NULL: defaults,
 * as for ts_redis_new; the on_connect hook runs on each node's connection).
 * It reads the slot map on first use. 0 and *out, or TS_ENOMEM. */
int ts_rcluster_new(const ts_rcluster_spec *sp, const ts_redis_opts *o, ts_rcluster **out);
/* NULL is a no-op. */
void ts_rcluster_free(ts_rcluster *c);

/* Read the slot map now from the first known node that gives one (one
 * attempt each, no wait). 0, or TS_ESTORE (ts_rcluster_error() says why;
 * the map is kept as it was). */
int ts_rcluster_refresh(ts_rcluster *c);

/* Run cmds[n] on the cluster, routed, redirected and retried as described
 * at the top, until no reply is an error. 0 and replies[n] in the order of
 * cmds (the caller frees each); TS_ESTORE on an error reply no retry mends,
 * on on_connect's permanent failure, or when the budget is spent
 * (ts_rcluster_error() says why; no replies kept). *sends (if not NULL) is
 * the most times one command was written out where it may have run (1 when
 * nothing failed after writing: a redirected command did not run). */
int ts_rcluster_run(ts_rcluster *c, size_t n, const ts_rcluster_cmd *cmds,
		    struct redisReply **replies, int *sends);

/* Run cmds[n] as one transaction (MULTI, cmds..., EXEC) on the node that
 * serves their slot (every key of every command in one slot, else
 * TS_ESTORE at once), redirected and retried whole as ts_rcluster_run
 * does (ASK: ASKING before MULTI, which keeps it for the transaction).
 * 0 and replies[n + 2]: MULTI's, each command's QUEUED, EXEC's array
 * (the caller frees each; EXEC's elements may be error replies of the
 * commands that ran); TS_ESTORE as for ts_rcluster_run. *sends (if not
 * NULL) counts the times EXEC was written out where it may have run. */
int ts_rcluster_run_tx(ts_rcluster *c, size_t n, const ts_rcluster_cmd *cmds,
		       struct redisReply **replies, int *sends);

/* The last failure: "redis://host:port: what" (no credentials). */
const char *ts_rcluster_error(const ts_rcluster *c);
/* "host:port" of the master the map gives slot, into buf; 0, or -1 (and
 * buf "") if the map gives it no node. */
int ts_rcluster_owner(const ts_rcluster *c, int slot, char *buf, size_t n);

typedef struct ts_rcluster_stats {
	uint64_t round_trips; /* batches written out, over all nodes */
	uint64_t moved, ask;  /* redirect replies */
	uint64_t refreshes;   /* slot maps read */
	uint64_t waits;       /* backoff waits (transient replies, nodes unreachable) */
	uint64_t reconnects;  /* connections made again, over all nodes */
	int nodes;            /* nodes known now */
} ts_rcluster_stats;
void ts_rcluster_stats_get(const ts_rcluster *c, ts_rcluster_stats *out);

#endif
