/* test_redis_conn.c - the Redis client: URL parsing, error classes and
 * hints, the backoff schedule, and against a private redis-server: the
 * connection hook, reconnecting after the server comes back, giving up when
 * the budget is spent, retrying a transient reply (BUSY) and failing at
 * once on a reply that is an answer (BUSYGROUP). */
#include <pthread.h>
#include <time.h>

#include "redis_server.h"
#include "../check.h"
#include "backoff.h"
#include "err.h"
#include "redis_conn.h"
#include "util.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_parse(void)
{
	static const struct {
		const char *spec;
		int rc;
		const char *host, *user, *pass;
		int port, db;
	} t[] = {
		{"redis://localhost", 0, "localhost", "", "", 6379, 0},
		{"redis://127.0.0.1:6390", 0, "127.0.0.1", "", "", 6390, 0},
		{"redis://h:1/3", 0, "h", "", "", 1, 3},
		{"redis://h/2", 0, "h", "", "", 6379, 2},
		{"redis://h:6379/", 0, "h", "", "", 6379, 0},
		{"redis://u:pw@h:7000/1", 0, "h", "u", "pw", 7000, 1},
		{"redis://:secret@h:7000", 0, "h", "", "secret", 7000, 0},
		{"redis://us%65r:p%40ss%3Aw%2Frd%25@h", 0, "h", "user", "p@ss:w/rd%", 6379, 0},
		{"redis://u:a@b@h", 0, "h", "u", "a@b", 6379, 0},
		{"redis://[::1]:6380/4", 0, "::1", "", "", 6380, 4},
		{"redis://", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://:6379", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://h:", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://h:0", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://h:65536", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://h:12x", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://h/x", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://h/1/2", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://h/-1", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://pw@h", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://u:@h", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://u:%4@h", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://u:%zz@h", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://u:%00@h", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://[::1", TS_EINVAL, 0, 0, 0, 0, 0},
		{"redis://h h:1", TS_EINVAL, 0, 0, 0, 0, 0},
		{"rediss://h", TS_EINVAL, 0, 0, 0, 0, 0},
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(t); i++) {
		ts_redis_spec sp;
		const char *why = NULL;
		int rc = ts_redis_parse(t[i].spec, &sp, &why);
		if (rc != t[i].rc)
			fprintf(stderr, "  spec %s\n", t[i].spec);
		CHECK_INT(rc, t[i].rc);
		if (rc) {
			/* a reason, and a zeroed spec (no half-parsed password) */
			CHECK(why != NULL && why[0] != '\0');
			CHECK_STR(sp.pass, "");
			CHECK_INT(sp.port, 0);
			continue;
		}
		CHECK_STR(sp.host, t[i].host);
		CHECK_STR(sp.user, t[i].user);
		CHECK_STR(sp.pass, t[i].pass);
		CHECK_INT(sp.port, t[i].port);
		CHECK_INT(sp.db, t[i].db);
	}
	/* the reason never quotes the URL (it may hold a password) */
	ts_redis_spec sp;
	const char *why = NULL;
	CHECK_INT(ts_redis_parse("redis://u:s3cret@h:0", &sp, &why), TS_EINVAL);
	CHECK(why && strstr(why, "s3cret") == NULL);
	char where[64];
	CHECK_INT(ts_redis_parse("redis://[::1]:6380/2", &sp, &why), 0);
	ts_redis_where(&sp, where, sizeof where);
	CHECK_STR(where, "redis://[::1]:6380");
	CHECK_INT(ts_redis_parse("redis://u:p@h:7", &sp, &why), 0);
	ts_redis_where(&sp, where, sizeof where);
	CHECK_STR(where, "redis://h:7");
}

static void test_classify(void)
{
	static const char *const transient[] = {
		"LOADING Redis is loading the dataset in memory",
		"BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
		"SHUTDOWN NOSAVE.",
		"TRYAGAIN Multiple keys request during rehashing of slot",
		"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
		"CLUSTERDOWN The cluster is down",
		"CLUSTERDOWN Hash slot not served",
		"LOADING",
	};
	static const char *const answers[] = {
		"BUSYGROUP Consumer Group name already exists",
		"BUSYKEY Target key name already exists.",
		"ERR unknown command",
		"NOSCRIPT No matching script.",
		"OOM command not allowed when used memory > 'maxmemory'.",
		"READONLY You can't write against a read only replica.",
		"LOADINGX",
		"MOVED 3999 127.0.0.1:6381",
		"ASK 3999 127.0.0.1:6381",
		"CROSSSLOT Keys in request don't hash to the same slot",
		"",
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(transient); i++)
		CHECK_INT(ts_redis_transient(transient[i]), 1);
	for (size_t i = 0; i < TS_ARRAY_LEN(answers); i++)
		CHECK_INT(ts_redis_transient(answers[i]), 0);
	CHECK_INT(ts_redis_transient(NULL), 0);
	CHECK(strstr(ts_redis_hint("OOM command not allowed"), "maxmemory") != NULL);
	CHECK(strstr(ts_redis_hint("READONLY You can't write"), "primary") != NULL);
	CHECK(strstr(ts_redis_hint("NOPERM this user has no permissions"), "ACL SETUSER") != NULL);
	CHECK(strstr(ts_redis_hint("WRONGPASS invalid username-password pair"), "password") != NULL);
	CHECK(strstr(ts_redis_hint("MISCONF Redis is configured to save"), "disk") != NULL);
	CHECK(strstr(ts_redis_hint("MOVED 3999 127.0.0.1:6381"), "redis-cluster://") != NULL);
	CHECK(strstr(ts_redis_hint("ASK 3999 127.0.0.1:6381"), "redis-cluster://") != NULL);
	CHECK_STR(ts_redis_hint("ASKING"), "");
	CHECK_STR(ts_redis_hint("ERR unknown command"), "");
	CHECK_STR(ts_redis_hint(NULL), "");
}

static void test_backoff(void)
{
	ts_backoff b;
	/* with a budget: waits double up to the cap, the last is cut to what
	 * is left, then it is spent */
	ts_backoff_set(&b, 100, 450, 1000);
	CHECK_INT(ts_backoff_next(&b), 100);
	CHECK_INT(ts_backoff_next(&b), 200);
	CHECK_INT(ts_backoff_next(&b), 400);
	CHECK_INT(ts_backoff_next(&b), 300);
	CHECK_INT(b.spent_ms, 1000);
	CHECK_INT(ts_backoff_next(&b), -1);
	CHECK_INT(ts_backoff_sleep(&b), -1);
	ts_backoff_ok(&b);
	CHECK_INT(ts_backoff_next(&b), 100);
	/* the cap holds without a budget, for ever */
	ts_backoff_set(&b, 100, 450, 0);
	int last = 0;
	for (int i = 0; i < 100; i++)
		last = ts_backoff_next(&b);
	CHECK_INT(last, 450);
	/* the non-blocking form */
	ts_backoff_set(&b, 1000, 3000, 0);
	CHECK_INT(ts_backoff_ready(&b, -5), 1);
	ts_backoff_fail(&b, 10);
	CHECK_INT(ts_backoff_ready(&b, 1009), 0);
	CHECK_INT(ts_backoff_ready(&b, 1010), 1);
	ts_backoff_fail(&b, 2000);
	CHECK_INT(b.until, 4000);
	ts_backoff_fail(&b, 5000);
	CHECK_INT(b.until, 8000); /* capped at 3000 */
	ts_backoff_ok(&b);
	CHECK_INT(ts_backoff_ready(&b, 0), 1);
	ts_backoff_fail(&b, 0);
	CHECK_INT(b.until, 1000);
	/* a cap below the first wait counts as the first wait */
	ts_backoff_set(&b, 500, 100, 0);
	CHECK_INT(ts_backoff_next(&b), 500);
	CHECK_INT(ts_backoff_next(&b), 500);
}

typedef struct hook_log {
	int calls, agains, fail;
} hook_log;

static int hook(void *ctx, redisContext *c, int again, char *err, size_t errlen)
{
	hook_log *h = ctx;
	h->calls++;
	h->agains += again;
	if (h->fail) {
		snprintf(err, errlen, "hook says no");
		return -1;
	}
	redisReply *r;
	const char *av[3] = {"SET", "hooked", again ? "2" : "1"};
	int rc = ts_redis_setup_cmd(c, "SET hooked", 3, av, NULL, &r, err, errlen);
	if (!rc)
		freeReplyObject(r);
	return rc;
}

static ts_redis *client(const test_redis *tr, ts_redis_opts *o)
{
	char url[64];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", tr->port);
	ts_redis_spec sp;
	const char *why;
	CHECK_INT(ts_redis_parse(url, &sp, &why), 0);
	ts_redis *r = NULL;
	CHECK_INT(ts_redis_new(&sp, o, &r), 0);
	return r;
}

static const char *get(ts_redis *r, const char *key, char *buf, size_t n)
{
	const char *av[2] = {"GET", key};
	redisReply *rep;
	buf[0] = '\0';
	if (ts_redis_run1(r, 2, av, NULL, &rep))
		return "(error)";
	if (rep->type == REDIS_REPLY_STRING)
		snprintf(buf, n, "%s", rep->str);
	freeReplyObject(rep);
	return buf;
}

static void test_reconnect(void)
{
	test_redis tr;
	if (tr_start(&tr)) {
		CHECK(!"redis-server did not start");
		return;
	}
	hook_log h = {0};
	ts_redis_opts o = {.first_ms = 20, .max_ms = 100, .total_ms = 400, .on_connect = hook,
			   .ctx = &h};
	ts_redis *r = client(&tr, &o);
	char buf[64];
	if (!r)
		goto out;
	CHECK_STR(get(r, "hooked", buf, sizeof buf), "1");
	CHECK_INT(h.calls, 1);
	CHECK_INT(h.agains, 0);
	CHECK(ts_redis_context(r) != NULL);
	CHECK_INT(ts_redis_round_trips(r), 1);
	/* the server goes away: the run waits out its budget, then fails */
	tr_kill(&tr, SIGKILL);
	int64_t t0 = now_ms();
	redisReply *rep = NULL;
	const char *av[2] = {"GET", "hooked"};
	CHECK_INT(ts_redis_run1(r, 2, av, NULL, &rep), TS_ESTORE);
	int64_t took = now_ms() - t0;
	CHECK(took >= 350);
	CHECK(strstr(ts_redis_error(r), "gave up after 400 ms") != NULL);
	CHECK(strstr(ts_redis_error(r), "redis://127.0.0.1:") != NULL);
	CHECK(ts_redis_context(r) == NULL);
	/* it comes back (the AOF kept the key): the next run reconnects, and
	 * the hook runs again, knowing it is a reconnection */
	if (tr_restart(&tr))
		goto out;
	CHECK_STR(get(r, "hooked", buf, sizeof buf), "2");
	CHECK_INT(h.calls, 2);
	CHECK_INT(h.agains, 1);
	CHECK_INT(ts_redis_reconnects(r), 1);
	/* a hook that refuses: a permanent failure with its message */
	h.fail = 1;
	ts_redis_drop(r);
	CHECK_INT(ts_redis_connect(r), -1);
	CHECK_STR(ts_redis_error(r), "hook says no");
	t0 = now_ms();
	CHECK_INT(ts_redis_run1(r, 2, av, NULL, &rep), TS_ESTORE);
	CHECK(now_ms() - t0 < 300); /* no waiting on a permanent failure */
out:
	ts_redis_free(r);
	tr_stop(&tr);
}

typedef struct killer {
	int port, delay_ms;
} killer;

static void *kill_script(void *arg)
{
	killer *k = arg;
	tr_sleep_ms(k->delay_ms);
	test_redis t = {.port = k->port};
	redisContext *c = tr_connect(&t);
	if (c) {
		redisReply *r = redisCommand(c, "SCRIPT KILL");
		if (r)
			freeReplyObject(r);
		redisFree(c);
	}
	return NULL;
}

static void test_busy_and_busygroup(void)
{
	test_redis tr;
	if (tr_start(&tr)) {
		CHECK(!"redis-server did not start");
		return;
	}
	ts_redis_opts o = {.first_ms = 50, .max_ms = 200, .total_ms = 5000};
	ts_redis *r = client(&tr, &o);
	redisContext *busy = tr_connect(&tr);
	redisReply *rep = NULL;
	if (!r || !busy)
		goto out;
	/* BUSYGROUP is an answer: failed at once, not retried */
	const char *xg[6] = {"XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"};
	CHECK_INT(ts_redis_run1(r, 6, xg, NULL, &rep), 0);
	if (rep)
		freeReplyObject(rep);
	int64_t t0 = now_ms();
	CHECK_INT(ts_redis_run1(r, 6, xg, NULL, &rep), TS_ESTORE);
	CHECK(now_ms() - t0 < 1000);
	CHECK(strstr(ts_redis_error(r), "BUSYGROUP") != NULL);
	/* a script that never ends makes the server answer BUSY: the client
	 * waits and retries until the script is killed */
	rep = redisCommand(busy, "CONFIG SET busy-reply-threshold 50");
	CHECK(rep && rep->type == REDIS_REPLY_STATUS);
	if (rep)
		freeReplyObject(rep);
	CHECK_INT(redisAppendCommand(busy, "EVAL %s 0", "while true do end"), REDIS_OK);
	int done = 0;
	while (!done)
		if (redisBufferWrite(busy, &done) != REDIS_OK)
			break;
	tr_sleep_ms(200);
	killer k = {tr.port, 600};
	pthread_t th;
	int started = pthread_create(&th, NULL, kill_script, &k) == 0;
	CHECK(started);
	const char *sv[3] = {"SET", "after", "busy"};
	t0 = now_ms();
	rep = NULL;
	CHECK_INT(ts_redis_run1(r, 3, sv, NULL, &rep), 0);
	CHECK(now_ms() - t0 >= 300);
	CHECK(rep && rep->type == REDIS_REPLY_STATUS);
	if (rep)
		freeReplyObject(rep);
	if (started)
		pthread_join(th, NULL);
	char buf[32];
	CHECK_STR(get(r, "after", buf, sizeof buf), "busy");
out:
	if (busy)
		redisFree(busy);
	ts_redis_free(r);
	tr_stop(&tr);
}

TS_TESTS(test_parse, test_classify, test_backoff, test_reconnect, test_busy_and_busygroup)
