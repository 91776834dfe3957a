/* redis_conn.h - the Redis client of trailsight: the one way the store,
 * its background flush, the Redis Stream source and the Redis Stream sink
 * reach Redis.
 *
 * It owns: the redis:// URL (ts_redis_parse), opening a connection
 * (connect and command timeouts, AUTH, SELECT), what Redis' error replies
 * mean (worth a retry or not, and a hint for the operator), and the one
 * reconnect policy: a ts_redis drops its connection on any I/O error and
 * makes it again on the next command; ts_redis_run retries a batch through
 * connection failures, I/O errors and transient replies, waiting by the
 * ts_backoff schedule (backoff.h) until its budget is spent. Callers that
 * must not block use ts_redis_send (one attempt) and keep their own
 * ts_backoff of the same schedule.
 *
 * Messages never hold credentials. A ts_redis is used by one thread.
 */
#ifndef TS_REDIS_CONN_H
#define TS_REDIS_CONN_H

#include <stddef.h>
#include <stdint.h>

struct redisContext;
struct redisReply;

/* A parsed "redis://[user:pass@]host:port[/db]" (user and pass
 * percent-decoded; user empty for AUTH with a password only, pass empty
 * for no AUTH; port 6379 and db 0 when absent; host without the brackets
 * of an IPv6 literal). */
typedef struct ts_redis_spec {
	char host[256];
	char user[256];
	char pass[512];
	int port;
	int db;
} ts_redis_spec;

/* Parse url into *out. 0, or TS_EINVAL with *why set to the reason
 * (static storage, never quoting the URL) and *out zeroed. */
int ts_redis_parse(const char *url, ts_redis_spec *out, const char **why);
/* "redis://host:port" ("redis://[v6]:port"), for messages, into buf. */
void ts_redis_where(const ts_redis_spec *sp, char *buf, size_t n);

/* 1 if an error reply is worth a retry: its first word is LOADING, BUSY,
 * TRYAGAIN, MASTERDOWN or CLUSTERDOWN (not BUSYGROUP, BUSYKEY: those are
 * answers). Else 0. */
int ts_redis_transient(const char *reply);
/* A hint for an error reply Redis gave (OOM, READONLY, NOPERM, WRONGPASS,
 * MISCONF, and MOVED, ASK, CROSSSLOT from a cluster node): what it means and what to do, as " [...]" to append to a
 * message; "" for other replies and NULL. Static storage. */
const char *ts_redis_hint(const char *reply);

/* A command on a connection being set up (in on_connect): 0 and *out (the
 * caller frees it; out NULL: freed here); 1 a transient failure, -1 a
 * permanent one, the reason in err ("WHAT failed: REPLY [hint]" or
 * "WHAT: I/O error"). */
int ts_redis_setup_cmd(struct redisContext *c, const char *what, int argc, const char **argv,
		       const size_t *lens, struct redisReply **out, char *err, size_t errlen);

/* One command of a batch: argv[argc] with lengths lens (NULL: strlen). */
typedef struct ts_redis_cmd {
	int argc;
	const char *const *argv;
	const size_t *lens;
} ts_redis_cmd;

typedef struct ts_redis_opts {
	int connect_ms; /* 0: 2000 */
	int cmd_ms;     /* each command; 0: 5000 */
	/* ts_redis_run's backoff; 0 takes the default */
	int first_ms;   /* 0: 100 */
	int max_ms;     /* 0: 5000 */
	int total_ms;   /* 0: 30000 */
	/* "store", "redis-stream", ...: names the user in the warning logged
	 * when a connection is made again; NULL: no warning */
	const char *label;
	/* Called on each new connection once AUTH and SELECT passed (to load
	 * scripts, to check a key); again is 1 from the second connection on.
	 * 0, 1 transient failure, -1 permanent, with the whole message (naming
	 * the server) in err. Its commands are not counted as round trips.
	 * NULL: none. */
	int (*on_connect)(void *ctx, struct redisContext *c, int again, char *err, size_t errlen);
	void *ctx;
} ts_redis_opts;

typedef struct ts_redis ts_redis;

/* A client for sp with options o (copied; NULL: defaults). It connects on
 * first use. 0 and *out, or TS_ENOMEM. */
int ts_redis_new(const ts_redis_spec *sp, const ts_redis_opts *o, ts_redis **out);
/* NULL is a no-op. */
void ts_redis_free(ts_redis *r);

/* Connect now if not connected: one attempt, no wait. 0; 1 a failure worth
 * retrying (cannot connect, LOADING, ...); -1 one that is not (AUTH or
 * SELECT refused, on_connect said so). ts_redis_error() says why. */
int ts_redis_connect(ts_redis *r);
/* Close the connection (the next command makes a new one). */
void ts_redis_drop(ts_redis *r);

/* One attempt at a pipelined batch: connect if needed, send cmds[n], read
 * the n replies (of any type, error replies included) into replies[n]
 * (the caller frees each). 0, or TS_ESTORE when the connection failed
 * (dropped; ts_redis_error() says why, no replies kept). *sent (if not
 * NULL) is 1 once the batch was written out: it may have run. */
int ts_redis_send(ts_redis *r, size_t n, const ts_redis_cmd *cmds, struct redisReply **replies,
		  int *sent);
/* ts_redis_send in two halves, so that batches to several servers are on
 * the wire at once: ts_redis_post connects if needed, writes cmds[n] out
 * and returns 0 (*sent, if not NULL, is 1 once writing began: the batch
 * may have run), or TS_ESTORE (dropped; ts_redis_error() says why);
 * ts_redis_collect then reads its n replies into replies[n] (the caller
 * frees each): 0, or TS_ESTORE (dropped, no replies kept). */
int ts_redis_post(ts_redis *r, size_t n, const ts_redis_cmd *cmds, int *sent);
int ts_redis_collect(ts_redis *r, size_t n, struct redisReply **replies);
/* The reconnect policy: ts_redis_send until no reply is an error, waiting
 * by the backoff after a connection failure, an I/O error or a transient
 * reply, and giving up when its budget is spent. A NOSCRIPT reply
 * reconnects at once (on_connect loads the scripts again; at most 3 times).
 * The batch is sent whole each time: use it for idempotent commands or
 * scripts that apply once. 0 and replies[n] (caller frees each); TS_ESTORE
 * on a reply no retry mends, on on_connect's permanent failure, or when the
 * budget is spent (ts_redis_error() says why). *sends (if not NULL) counts
 * the sends that may have run (NOSCRIPT rounds do not). */
int ts_redis_run(ts_redis *r, size_t n, const ts_redis_cmd *cmds, struct redisReply **replies,
		 int *sends);
/* ts_redis_run of one command: 0 and *reply, or TS_ESTORE. */
int ts_redis_run1(ts_redis *r, int argc, const char *const *argv, const size_t *lens,
		  struct redisReply **reply);

/* The last failure: "redis://host:port: what" (no credentials). */
const char *ts_redis_error(const ts_redis *r);
/* "redis://host:port" of this client. */
const char *ts_redis_name(const ts_redis *r);
/* The connection (NULL while disconnected), for a caller's own pipeline
 * on top of ts_redis_connect. */
struct redisContext *ts_redis_context(ts_redis *r);
/* Batches written out, and connections made again after the first. */
uint64_t ts_redis_round_trips(const ts_redis *r);
uint64_t ts_redis_reconnects(const ts_redis *r);

#endif
