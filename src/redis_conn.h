/* redis_conn.h - the Redis plumbing shared by the store, the stream
 * source and the stream sink: the redis:// spec, opening a connection, and
 * what Redis' error replies mean. */
#ifndef TS_REDIS_CONN_H
#define TS_REDIS_CONN_H

#include <stddef.h>

/* A parsed "redis://[user:pass@]host:port[/db]" (user and pass
 * percent-decoded; user empty for AUTH with a password only, pass empty
 * for no AUTH; port 6379 and db 0 when absent). */
typedef struct ts_redis_spec {
	char host[256];
	char user[256];
	char pass[512];
	int port;
	int db;
} ts_redis_spec;

/* Connect to sp with a connect timeout and a command timeout (ms), then
 * AUTH and SELECT as sp says: the one way every part of trailsight opens
 * a Redis connection (store, background flush, stream source, stream
 * sink). 0 and *out (the caller redisFree()s it); 1 a failure worth
 * retrying (cannot connect, LOADING, ...); -1 one that is not (AUTH or
 * SELECT refused). The reason, without credentials, goes to errbuf. */
struct redisContext;
int ts_redis_connect(const ts_redis_spec *sp, int connect_ms, int cmd_ms, struct redisContext **out,
		     char *errbuf, size_t errlen);

/* A hint for an error reply Redis gave (OOM, READONLY, NOPERM, WRONGPASS,
 * MISCONF): what it means and what to do, as " [...]" to append to a
 * message; "" for other replies. Static storage. */
const char *ts_redis_hint(const char *reply);

/* Parse a Redis spec into *out. 0, or TS_EINVAL with a message naming the
 * spec in errbuf. */
int ts_store_redis_parse(const char *spec, ts_redis_spec *out, char *errbuf, size_t errlen);
/* 1 if an error reply is worth a retry (LOADING, BUSY, TRYAGAIN,
 * MASTERDOWN), else 0. */
int ts_redis_transient(const char *reply);

#endif
