/* store_redis_cluster.c - the Redis store on a Redis Cluster: the open of a
 * redis-cluster:// store and the routing of the store's batches through
 * ts_rcluster (redis_cluster.h).
 *
 * The store builds the same batches for a cluster as for one server
 * (ts_redis_cmd, no key named); rs_cluster_send names each command's key
 * (argv[1], or the first KEYS of EVAL/EVALSHA) and sends the batch routed,
 * or, for a batch MULTI ... EXEC, the commands between as one transaction
 * on the node of their slot (ts_rcluster_run_tx). Every key a flush script
 * call or a MULTI group touches is one partition's, under its
 * {ACCT:REGION} hash tag: one slot, so a checkpoint stays atomic on a
 * cluster. The global keys (ts:schema, ts:partitions, ts:files:DAY) are
 * written by single-key commands, each routed to its own slot.
 *
 * Scripts: each node's connection loads the flush script (on_connect, on
 * every connection); its sha is the script's SHA-1, the same on every
 * node. A NOSCRIPT reply (a node restarted, its script cache flushed)
 * makes ts_rcluster reconnect to that node, which loads it again.
 *
 * Open: the slot map is read at once (a server with cluster support
 * disabled fails here, with a hint to use redis://), then the preflight
 * runs each command the store uses on ts:probe:{probe}:* keys (one slot;
 * ACLs are per node, so this checks the node serving that slot), then
 * ts:schema is set as on one server. History loss on a cluster is caught
 * per partition (the flush script's flushseq check), not by re-reading
 * ts:schema on each reconnect as on one server.
 *
 * The redis_store owns its ts_rcluster (rs->rc), freed by rs_free.
 */
#include <stdlib.h>

#include "redis_cluster.h"
#include "sha1.h"
#include "store_redis_int.h"
#include "util.h"

/* The index in argv of the key naming the slot of a store command. */
static int cmd_key(const ts_redis_cmd *c)
{
	size_t l0 = c->lens ? c->lens[0] : strlen(c->argv[0]);
	if (c->argc > 3 && ((l0 == 4 && strncasecmp(c->argv[0], "EVAL", 4) == 0) ||
			    (l0 == 7 && strncasecmp(c->argv[0], "EVALSHA", 7) == 0)))
		return 3;
	return 1;
}

static int is_word(const ts_redis_cmd *c, const char *w)
{
	size_t l = c->lens ? c->lens[0] : strlen(c->argv[0]);
	return c->argc == 1 && l == strlen(w) && strncasecmp(c->argv[0], w, l) == 0;
}

int rs_cluster_send(ts_rcluster *c, size_t n, const ts_redis_cmd *cmds, redisReply **replies,
		    int *sends)
{
	int tx = n >= 2 && is_word(&cmds[0], "MULTI") && is_word(&cmds[n - 1], "EXEC");
	size_t first = tx ? 1 : 0, m = tx ? n - 2 : n;
	ts_rcluster_cmd *cc = malloc((m ? m : 1) * sizeof *cc);
	if (!cc)
		return TS_ENOMEM;
	for (size_t i = 0; i < m; i++) {
		const ts_redis_cmd *x = &cmds[first + i];
		if (x->argc < 2 || is_word(x, "MULTI") || is_word(x, "EXEC")) {
			free(cc);
			return TS_EINVAL; /* a batch this store does not build */
		}
		cc[i] = (ts_rcluster_cmd){x->argc, x->argv, x->lens, cmd_key(x)};
	}
	int rc = tx ? ts_rcluster_run_tx(c, m, cc, replies, sends)
		    : ts_rcluster_run(c, m, cc, replies, sends);
	free(cc);
	return rc;
}

/* On each node's connection: load the flush script; its sha must be the
 * one computed at open. 0, 1 transient, -1 permanent. */
static int on_node_connect(void *ctx, redisContext *c, int again, char *err, size_t errlen)
{
	redis_store *rs = ctx;
	char why[768];
	const char *av[3] = {"SCRIPT", "LOAD", rs_script()};
	size_t al[3] = {6, 4, rs_script_len()};
	redisReply *r = NULL;
	(void)again;
	int rc = ts_redis_setup_cmd(c, "SCRIPT LOAD", 3, av, al, &r, why, sizeof why);
	if (rc) {
		snprintf(err, errlen, "%s: %s", rs->where, why);
		return rc;
	}
	int ok = r->type == REDIS_REPLY_STRING && r->len == 40 && memcmp(r->str, rs->sha, 40) == 0;
	freeReplyObject(r);
	if (!ok)
		snprintf(err, errlen, "%s: SCRIPT LOAD: unexpected reply", rs->where);
	return ok ? 0 : -1;
}

/* Each command the store uses, once, on ts:probe:{probe}:* keys (one
 * slot, 60 s TTL), then a MULTI/EXEC group: a missing permission or a
 * replica fails here, naming the command. 0 or TS_ESTORE (errstr set). */
static int cluster_preflight(redis_store *rs)
{
#define PK "ts:probe:{probe}:"
	enum { MAXARGS = 20, NCMD = 13 };
	const char *cmds[NCMD][MAXARGS] = {
		{"SET", PK "s", "1", "EX", "60"},
		{"GET", PK "s"},
		{"HSET", PK "h", "f", "0"},
		{"HMGET", PK "h", "f"},
		{"HGETALL", PK "h"},
		{"EXPIRE", PK "h", "60"},
		{"SADD", PK "p", "x"},
		{"SMEMBERS", PK "p"},
		{"EXPIRE", PK "p", "60"},
		{"APPEND", PK "a", "x"},
		{"EXPIRE", PK "a", "60"},
		{"EVALSHA", rs->sha, "4", PK "seq", PK "state", PK "h", PK "a", "1", "60", "", "0", "1",
		 "f", "0", "+", "x"},
		{"EVAL", rs_script(), "4", PK "seq", PK "state", PK "h", PK "a", "1", "60", "", "0", "1",
		 "f", "0", "+", "x"},
	};
	ts_redis_cmd rc[NCMD + 3];
	redisReply *rep[NCMD + 3];
	for (int i = 0; i < NCMD; i++) {
		int n = 0;
		while (n < MAXARGS && cmds[i][n])
			n++;
		rc[i] = (ts_redis_cmd){n, cmds[i], NULL};
	}
	static const char *const multi[1] = {"MULTI"}, *const exec[1] = {"EXEC"},
				 *const get[2] = {"GET", PK "s"};
#undef PK
	rc[NCMD] = (ts_redis_cmd){1, multi, NULL};
	rc[NCMD + 1] = (ts_redis_cmd){2, get, NULL};
	rc[NCMD + 2] = (ts_redis_cmd){1, exec, NULL};
	int r = rs_run(rs, NCMD, rc, rep, NULL);
	for (int i = 0; !r && i < NCMD; i++)
		freeReplyObject(rep[i]);
	if (!r)
		r = rs_run(rs, 3, rc + NCMD, rep, NULL);
	for (int i = 0; !r && i < 3; i++)
		freeReplyObject(rep[i]);
	return r ? TS_ESTORE : 0;
}

/* SET ts:schema 1 NX (a warning when that made a new store), then check
 * it reads "1". 0 or TS_ESTORE (errstr set). */
static int cluster_schema(redis_store *rs)
{
	const char *sv[4] = {"SET", "ts:schema", "1", "NX"};
	const char *gv[2] = {"GET", "ts:schema"};
	redisReply *r;
	if (rs_run1(rs, 4, sv, NULL, &r))
		return TS_ESTORE;
	if (r->type == REDIS_REPLY_STATUS)
		ts_warn("store %s holds no history yet (ts:schema was not set): a new one starts "
			"here, and every series warms up before it is judged",
			rs->where);
	freeReplyObject(r);
	if (rs_run1(rs, 2, gv, NULL, &r))
		return TS_ESTORE;
	int ok = r->type == REDIS_REPLY_STRING && r->len == 1 && r->str[0] == '1';
	if (!ok)
		rs_set_err(rs, "%s: ts:schema is '%.40s', this trailsight writes schema 1", rs->where,
			   r->type == REDIS_REPLY_STRING ? r->str : "(not a string)");
	freeReplyObject(r);
	return ok ? 0 : TS_ESTORE;
}

int rs_cluster_open(redis_store *rs, const char *spec, char *errbuf, size_t errlen)
{
	ts_rcluster_spec sp;
	const char *why;
	if (ts_rcluster_parse(spec, &sp, &why)) {
		snprintf(errbuf, errlen,
			 "store '%s': %s (expected redis-cluster://[user:pass@]host:port[,host:port...])",
			 spec, why);
		return TS_EINVAL;
	}
	/* "redis-cluster://host:port,..." of the seeds, no credentials */
	size_t w = (size_t)snprintf(rs->where, sizeof rs->where, "redis-cluster://");
	for (int i = 0; i < sp.nseeds && w < sizeof rs->where; i++)
		w += (size_t)snprintf(rs->where + w, sizeof rs->where - w,
				      strchr(sp.seed[i].host, ':') ? "%s[%s]:%d" : "%s%s:%d",
				      i ? "," : "", sp.seed[i].host, sp.seed[i].port);
	uint8_t d[20];
	ts_sha1(rs_script(), rs_script_len(), d);
	for (int i = 0; i < 20; i++)
		snprintf(rs->sha + 2 * i, 3, "%02x", d[i]);
	ts_redis_opts ro = rs_conn_opts(rs, on_node_connect);
	rs->csp = sp;
	int rc = ts_rcluster_new(&sp, &ro, &rs->rc);
	memset(&sp, 0, sizeof sp);
	if (rc) {
		snprintf(errbuf, errlen, "redis store: %s", ts_strerror(TS_ENOMEM));
		return TS_ENOMEM;
	}
	/* open fails fast: the map read once from the seeds, no backoff */
	if (ts_rcluster_refresh(rs->rc)) {
		const char *e = ts_rcluster_error(rs->rc);
		snprintf(errbuf, errlen, "%s%s", e,
			 strstr(e, "cluster support disabled")
				 ? " [this server is not a Redis Cluster node: use a redis:// URL]"
				 : "");
		return TS_ESTORE;
	}
	if (cluster_preflight(rs) || cluster_schema(rs)) {
		snprintf(errbuf, errlen, "%s", rs->base.errstr);
		return TS_ESTORE;
	}
	return 0;
}
