/* sink_redis.c - the redis-stream:redis://...#KEY sink.
 *
 * Each event is one stream entry, XADD KEY MAXLEN ~ N * event JSON, sent
 * with hiredis' argv form (the event is never formatted into a command),
 * through the Redis client (redis_conn.h): the URL, AUTH (ACL user or
 * password) and SELECT work as for the store. The sink must not block the
 * engine, so it makes one attempt per try (ts_redis_send) and waits out
 * the client's backoff schedule in the sink's own ts_backoff.
 *
 * While Redis is away, events wait in a FIFO queue in memory (at most
 * queue_max_events; past it the oldest is dropped with an error), and the
 * queue is resent in order once the backoff has passed, from tick or the
 * next emit; a new event never overtakes queued ones. The connection is
 * dropped on any I/O error and made again on the next attempt. What is
 * still queued at the end of the run (finish), after one last try, is
 * dropped with an error.
 */
#include <hiredis/hiredis.h>
#include <stdlib.h>

#include "redis_conn.h"
#include "sink_kit.h"
#include "util.h"

typedef struct redis_sink {
	ts_sink base;
	ts_redis *r;
	char *key;
	size_t keylen;
	char maxlen[24];
	ts_sink_queue q;
	ts_backoff bo;
	char err[512]; /* why the last attempt failed */
} redis_sink;

/* Connect if not connected. 0, or -1 with rs->err set. */
static int rconnect(redis_sink *rs)
{
	if (ts_redis_connect(rs->r)) {
		snprintf(rs->err, sizeof rs->err, "cannot connect: %.480s", ts_redis_error(rs->r));
		return -1;
	}
	return 0;
}

/* XADD one event. 0, or -1 with rs->err set. */
static int xadd(redis_sink *rs, const char *json, size_t len)
{
	if (rconnect(rs))
		return -1;
	const char *av[8] = {"XADD", rs->key, "MAXLEN", "~", rs->maxlen, "*", "event", json};
	size_t al[8] = {4, rs->keylen, 6, 1, strlen(rs->maxlen), 1, 5, len};
	ts_redis_cmd cmd = {8, av, al};
	redisReply *r;
	if (ts_redis_send(rs->r, 1, &cmd, &r, NULL)) {
		snprintf(rs->err, sizeof rs->err, "XADD: %.480s", ts_redis_error(rs->r));
		return -1;
	}
	int ok = r->type == REDIS_REPLY_STRING;
	if (!ok)
		snprintf(rs->err, sizeof rs->err, "XADD: %.200s%s",
			 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply",
			 r->type == REDIS_REPLY_ERROR ? ts_redis_hint(r->str) : "");
	freeReplyObject(r);
	return ok ? 0 : -1;
}

static void sent(redis_sink *rs)
{
	rs->base.st.delivered++;
	ts_backoff_ok(&rs->bo);
	ts_sink_ok(&rs->base);
}

static void failed(redis_sink *rs, int64_t now)
{
	rs->base.st.failed++;
	ts_backoff_fail(&rs->bo, now);
	ts_sink_fail(&rs->base, "%s", rs->err);
}

static void pop(redis_sink *rs)
{
	ts_sink_queue_pop(&rs->q);
	rs->base.st.pending--;
}

/* Resend queued events in order, at most limit, until one fails. */
static void drain(redis_sink *rs, int64_t now, size_t limit)
{
	for (size_t done = 0; rs->q.head && done < limit; done++) {
		if (xadd(rs, rs->q.head->data, rs->q.head->len)) {
			failed(rs, now);
			return;
		}
		pop(rs);
		sent(rs);
	}
}

static int redis_emit(ts_sink *s, const char *json, size_t len, int64_t now)
{
	redis_sink *rs = (redis_sink *)s;
	s->st.events++;
	if (!rs->q.head && ts_backoff_ready(&rs->bo, now)) {
		if (xadd(rs, json, len) == 0) {
			sent(rs);
			return 0;
		}
		failed(rs, now);
	}
	if (ts_sink_queue_push(&rs->q, json, len)) {
		ts_sink_drop(s, 1, "out of memory");
		return TS_ENOMEM;
	}
	s->st.spooled++;
	s->st.pending++;
	if (rs->q.n > s->o.queue_max_events) {
		pop(rs);
		ts_sink_drop_once(s, 1, "queue over %zu events, its cap: the oldest goes",
				 s->o.queue_max_events);
	}
	if (ts_backoff_ready(&rs->bo, now))
		drain(rs, now, s->o.retry_batch);
	return 0;
}

static void redis_tick(ts_sink *s, int64_t now)
{
	redis_sink *rs = (redis_sink *)s;
	if (rs->q.head && ts_backoff_ready(&rs->bo, now))
		drain(rs, now, s->o.retry_batch);
}

static void redis_finish(ts_sink *s, int64_t now)
{
	redis_sink *rs = (redis_sink *)s;
	if (rs->q.head) {
		ts_backoff_ok(&rs->bo); /* one last try */
		drain(rs, now, SIZE_MAX);
	}
	if (rs->q.head) {
		uint64_t n = rs->q.n;
		while (rs->q.head)
			pop(rs);
		ts_sink_drop(s, n, "Redis still unreachable at the end of the run (%s)", rs->err);
	}
}

static void redis_close(ts_sink *s, int64_t now)
{
	(void)now;
	redis_sink *rs = (redis_sink *)s;
	ts_redis_free(rs->r);
	ts_sink_queue_clear(&rs->q);
	free(rs->key);
	free(rs);
}

static const ts_sink_ops redis_ops = {"redis-stream", redis_emit, redis_tick, redis_finish,
				    redis_close};

int ts_sink_redis_new(const char *spec, const ts_sink_opts *o, ts_sink **out, char *errbuf,
		      size_t errlen)
{
	const char *hash = strchr(spec, '#');
	if (!hash || !hash[1]) {
		snprintf(errbuf, errlen,
			 "sink 'redis-stream:…': no stream key (expected "
			 "redis-stream:redis://[user:pass@]host:port[/db]#KEY)");
		return TS_EINVAL;
	}
	int rc = TS_ENOMEM;
	size_t ulen = (size_t)(hash - spec);
	redis_sink *rs = calloc(1, sizeof *rs);
	char *url = malloc(ulen + 1);
	if (!rs || !url)
		goto out_nomem;
	rs->keylen = strlen(hash + 1);
	rs->key = malloc(rs->keylen + 1);
	if (!rs->key)
		goto out_nomem;
	memcpy(rs->key, hash + 1, rs->keylen + 1);
	memcpy(url, spec, ulen);
	url[ulen] = '\0';
	ts_redis_spec sp;
	const char *why;
	if (ts_redis_parse(url, &sp, &why)) {
		snprintf(errbuf, errlen, "sink 'redis-stream:…#%s': %s", rs->key, why);
		rc = TS_EINVAL;
		goto out_free;
	}
	ts_redis_opts ro = {.connect_ms = o->redis_timeout_ms, .cmd_ms = o->redis_timeout_ms};
	if (ts_redis_new(&sp, &ro, &rs->r))
		goto out_nomem;
	free(url);
	rs->base.ops = &redis_ops;
	rs->base.o = *o;
	snprintf(rs->maxlen, sizeof rs->maxlen, "%lld", o->stream_maxlen);
	int v6 = strchr(sp.host, ':') != NULL;
	snprintf(rs->base.name, sizeof rs->base.name, "redis-stream:redis://%.32s%s%s%.64s%s:%d/%d#%.48s",
		 sp.user, sp.user[0] ? "@" : "", v6 ? "[" : "", sp.host, v6 ? "]" : "",
		 sp.port, sp.db, rs->key);
	ts_sink_backoff_init(&rs->bo, o);
	if (rconnect(rs))
		ts_sink_fail(&rs->base, "%s", rs->err);
	*out = &rs->base;
	return 0;
out_nomem:
	snprintf(errbuf, errlen, "sink 'redis-stream:…': out of memory");
out_free:
	free(url);
	if (rs) {
		ts_redis_free(rs->r);
		free(rs->key);
	}
	free(rs);
	return rc;
}
