/* test_store_redis.c - the Redis backend against a private redis-server:
 * the shared conformance suite, the key scheme, exactly-once flushes across
 * restarts, AUTH/SELECT, a bad spec and commands per cell. */
#include "minattr.h"
#include "redis_server.h"
#include "store_conformance.h"

#define ACCT "111122223333"
#define REGION "us-east-1"
#define PFX "ts:{" ACCT ":" REGION "}:"
#define DAY 20000 /* 2024-10-04 */

static ts_registry *make_registry(void)
{
	ts_registry *reg = ts_registry_new(NULL);
	uint32_t pid, aid, v;
	CHECK_INT(ts_registry_partition(reg, ts_str_c(ACCT), ts_str_c(REGION), &pid), 0);
	CHECK_INT(ts_registry_api(reg, pid, ts_str_c("ec2.amazonaws.com"), ts_str_c("RunInstances"), 0,
				  &aid),
		  0);
	CHECK_INT(ts_registry_value(reg, ts_str_c(ACCT), &v), 0);
	CHECK_INT(v, 0);
	return reg;
}

/* Start a private redis-server and a registry with one API; non-zero (and
 * a failed check) when the server does not start. */
static int setup(test_redis *r, ts_registry **reg)
{
	if (tr_start(r)) {
		CHECK(!"redis-server did not start");
		return -1;
	}
	*reg = make_registry();
	return 0;
}

/* Free the store (may be NULL) and the registry, stop the server. */
static void teardown(test_redis *r, ts_registry *reg, ts_store *s)
{
	ts_store_free(s);
	ts_registry_free(reg);
	tr_stop(r);
}

static ts_store *open_store(const test_redis *r, const char *tail, ts_registry *reg,
			    const ts_store_opts *o)
{
	char spec[128], err[256] = "";
	snprintf(spec, sizeof spec, "redis://127.0.0.1:%d%s", r->port, tail ? tail : "");
	ts_store *s = NULL;
	int rc = ts_store_open(spec, reg, o, &s, err, sizeof err);
	if (rc)
		fprintf(stderr, "open %s: %d %s\n", spec, rc, err);
	CHECK_INT(rc, 0);
	return rc ? NULL : s;
}

/* A raw command's reply as a string ("" for nil), into out. */
static const char *raw_str(redisContext *c, char *out, size_t n, const char *fmt, const char *a,
			   const char *b)
{
	redisReply *r = redisCommand(c, fmt, a, b);
	out[0] = '\0';
	if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
		  r->type == REDIS_REPLY_ERROR))
		snprintf(out, n, "%s", r->str);
	else if (r && r->type == REDIS_REPLY_INTEGER)
		snprintf(out, n, "%lld", r->integer);
	if (r)
		freeReplyObject(r);
	return out;
}

static long long raw_int(redisContext *c, const char *fmt, const char *a)
{
	redisReply *r = redisCommand(c, fmt, a);
	long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -999;
	if (r)
		freeReplyObject(r);
	return v;
}

/* Keys in the selected db other than the store's ts:probe:* preflight
 * keys (which expire on their own). */
static long long data_keys(redisContext *c)
{
	redisReply *r = redisCommand(c, "EVAL %s 0",
				     "local n = 0 for _, k in ipairs(redis.call('KEYS', '*')) do "
				     "if not string.find(k, '^ts:probe:') then n = n + 1 end end "
				     "return n");
	long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -999;
	if (r)
		freeReplyObject(r);
	return v;
}

static void test_conformance(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	ts_store_opts o = {.retention_days = 10};
	ts_store *s = open_store(&r, NULL, reg, &o);
	if (s) {
		CHECK_STR(s->ops->name, "redis");
		store_conformance(s);
		store_checkpoint_conformance(s);
		CHECK_INT(s->ops->flush(s), 0);
		ts_store_free(s);
	}
	teardown(&r, reg, NULL);
}

static int sum_cb(void *ctx, int kind, uint32_t value, uint64_t count)
{
	uint64_t *v = ctx;
	v[0]++;
	v[1] = value;
	v[2] += count;
	v[3] = (uint64_t)kind;
	return 0;
}

static void test_key_scheme(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	uint32_t s3, code, err_m, arn;
	CHECK_INT(ts_registry_api(reg, 0, ts_str_c("s3.amazonaws.com"), ts_str_c("GetObject"), 1, &s3),
		  0);
	CHECK_INT(ts_registry_value(reg, ts_str_c("AccessDenied"), &code), 0);
	CHECK_INT(ts_registry_error_metric(reg, 0, code, &err_m), 0);
	CHECK_INT(ts_registry_value(reg, ts_str_c("arn:aws:iam::1:user/a b"), &arn), 0);
	const ts_api *ec2 = ts_registry_get_api(reg, 0);
	uint32_t calls = ec2->calls, reads = ec2->reads;
	uint32_t s3calls = ts_registry_get_api(reg, s3)->calls;

	ts_store_opts o = {.retention_days = 10};
	ts_store *s = open_store(&r, NULL, reg, &o);
	if (!s)
		goto out_stop;
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY + 600; /* 10:00 */
	ts_count c[4] = {{calls, 5}, {reads, 2}, {err_m, 3}, {s3calls, 9}};
	CHECK_INT(s->ops->add_minute(s, 0, t, c, 4), 0);
	ts_attr_count a = {.metric = calls, .value = arn, .count = 4, .kind = TS_A_ARN};
	CHECK_INT(s->ops->add_attrs(s, 0, t, &a, 1), 0);
	CHECK(s->ops->memory(s) > 0);
	/* nothing reaches Redis before a flush */
	redisContext *rc = tr_connect(&r);
	CHECK(rc != NULL);
	if (!rc)
		goto out_free;
	char buf[256];
	CHECK_INT(raw_int(rc, "EXISTS %s", PFX "c:20241004:m:ec2.amazonaws.com:RunInstances:calls"), 0);
	CHECK_INT(s->ops->flush(s), 0);
	CHECK_STR(raw_str(rc, buf, sizeof buf, "GET %s", "ts:schema", NULL), "1");
	CHECK_STR(raw_str(rc, buf, sizeof buf, "HGET %s %s",
			  PFX "c:20241004:m:ec2.amazonaws.com:RunInstances:calls", "600"),
		  "5");
	CHECK_STR(raw_str(rc, buf, sizeof buf, "HGET %s %s",
			  PFX "c:20241004:m:ec2.amazonaws.com:RunInstances:reads", "600"),
		  "2");
	CHECK_STR(raw_str(rc, buf, sizeof buf, "HGET %s %s",
			  PFX "c:20241004:m:ec2.amazonaws.com:RunInstances:err:AccessDenied", "600"),
		  "3");
	CHECK_STR(raw_str(rc, buf, sizeof buf, "HGET %s %s",
			  PFX "c:20241004:d:s3.amazonaws.com:GetObject:calls", "600"),
		  "9");
	CHECK_STR(raw_str(rc, buf, sizeof buf, "HGET %s %s",
			  PFX "a:20241004:m:ec2.amazonaws.com:RunInstances:calls",
			  "10:arn:arn:aws:iam::1:user/a b"),
		  "4");
	CHECK_INT(raw_int(rc, "HLEN %s", PFX "c:20241004:m:ec2.amazonaws.com:RunInstances:calls"), 1);
	long long ttl = raw_int(rc, "TTL %s", PFX "c:20241004:m:ec2.amazonaws.com:RunInstances:calls");
	CHECK(ttl > 0 && ttl <= 10 * 86400);
	ttl = raw_int(rc, "TTL %s", PFX "a:20241004:m:ec2.amazonaws.com:RunInstances:calls");
	CHECK(ttl > 0 && ttl <= 10 * 86400);
	CHECK_STR(raw_str(rc, buf, sizeof buf, "GET %s", PFX "flushseq", NULL), "1");
	/* 5 data keys, the flushseq key and ts:schema */
	CHECK_INT(data_keys(rc), 7);

	/* attributions read back on a fresh registry come as its ids */
	ts_registry *reg2 = make_registry();
	uint32_t other;
	CHECK_INT(ts_registry_value(reg2, ts_str_c("something else"), &other), 0);
	ts_store *s2 = open_store(&r, NULL, reg2, &o);
	if (s2) {
		uint64_t got[4] = {0};
		CHECK_INT(s2->ops->read_attrs(s2, 0, t - 600, t + 60, sum_cb, got), 0);
		CHECK_INT(got[0], 1);
		CHECK_INT(got[2], 4);
		CHECK_INT(got[3], TS_A_ARN);
		CHECK_MEM(ts_registry_value_str(reg2, (uint32_t)got[1]).p,
			  ts_registry_value_str(reg2, (uint32_t)got[1]).n, "arn:aws:iam::1:user/a b");
		uint32_t out[2];
		CHECK_INT(s2->ops->read_counts(s2, 0, t, 2, out), 0);
		CHECK_INT(out[0], 5);
		CHECK_INT(out[1], 0);
		ts_store_free(s2);
	}
	ts_registry_free(reg2);

	/* another schema version refuses to open */
	raw_str(rc, buf, sizeof buf, "SET %s %s", "ts:schema", "2");
	char spec[64], err[256] = "";
	snprintf(spec, sizeof spec, "redis://127.0.0.1:%d", r.port);
	ts_store *s3s = NULL;
	CHECK_INT(ts_store_open(spec, reg, &o, &s3s, err, sizeof err), TS_ESTORE);
	CHECK(strstr(err, "ts:schema") != NULL);
	redisFree(rc);
out_free:
	ts_store_free(s);
out_stop:
	teardown(&r, reg, NULL);
}

/* Run the flush script by hand with a given sequence number. */
static long long run_script(redisContext *c, const char *sha, const char *seq, const char *key,
			    const char *field, const char *incr)
{
	const char *av[] = {"EVALSHA", sha, "3", PFX "flushseq", PFX "state", key, seq, "600", "",
			    "0", "1", field, incr};
	redisReply *r = redisCommandArgv(c, 13, av, NULL);
	long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	if (r && r->type == REDIS_REPLY_ERROR)
		fprintf(stderr, "script: %s\n", r->str);
	if (r)
		freeReplyObject(r);
	return v;
}

static void test_idempotent_flush(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	ts_store *s = open_store(&r, NULL, reg, NULL);
	redisContext *c = tr_connect(&r);
	if (!s || !c)
		goto out;
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY + 600;
	ts_count cnt = {0, 5};
	CHECK_INT(s->ops->add_minute(s, 0, t, &cnt, 1), 0);
	CHECK_INT(s->ops->flush(s), 0);
	CHECK_INT(s->ops->add_minute(s, 0, t, &cnt, 1), 0);
	CHECK_INT(s->ops->flush(s), 0);
	char buf[64], sha[64];
	const char *key = PFX "c:20241004:m:ec2.amazonaws.com:RunInstances:calls";
	CHECK_STR(raw_str(c, buf, sizeof buf, "GET %s", PFX "flushseq", NULL), "2");
	CHECK_STR(raw_str(c, buf, sizeof buf, "HGET %s %s", key, "600"), "10");
	raw_str(c, sha, sizeof sha, "SCRIPT LOAD %s", ts_store_redis_script(), NULL);
	CHECK_INT(strlen(sha), 40);
	/* replaying sequence 2 (a retried flush) changes nothing */
	CHECK_INT(run_script(c, sha, "2", key, "600", "5"), 0);
	CHECK_INT(run_script(c, sha, "1", key, "600", "5"), 0);
	CHECK_STR(raw_str(c, buf, sizeof buf, "HGET %s %s", key, "600"), "10");
	/* sequence 3 applies once, its replay does not */
	CHECK_INT(run_script(c, sha, "3", key, "601", "7"), 1);
	CHECK_INT(run_script(c, sha, "3", key, "601", "7"), 0);
	CHECK_STR(raw_str(c, buf, sizeof buf, "HGET %s %s", key, "601"), "7");
	CHECK_STR(raw_str(c, buf, sizeof buf, "GET %s", PFX "flushseq", NULL), "3");
	/* the store would send 3 next, which Redis already holds: its first
	 * send answers "applied", so it renumbers to 4 instead of losing it */
	CHECK_INT(s->ops->add_minute(s, 0, t, &cnt, 1), 0);
	CHECK_INT(s->ops->flush(s), 0);
	CHECK_STR(raw_str(c, buf, sizeof buf, "HGET %s %s", key, "600"), "15");
	CHECK_STR(raw_str(c, buf, sizeof buf, "HGET %s %s", key, "601"), "7");
	CHECK_STR(raw_str(c, buf, sizeof buf, "GET %s", PFX "flushseq", NULL), "4");
out:
	if (c)
		redisFree(c);
	teardown(&r, reg, s);
}

/* Two stores writing one partition (no lease): neither loses counts. */
static void test_two_writers(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	ts_store *a = open_store(&r, NULL, reg, NULL), *b = open_store(&r, NULL, reg, NULL);
	if (!a || !b)
		goto out;
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY;
	ts_count one = {0, 1};
	for (int i = 0; i < 10; i++) {
		CHECK_INT(a->ops->add_minute(a, 0, t, &one, 1), 0);
		CHECK_INT(b->ops->add_minute(b, 0, t, &one, 1), 0);
		CHECK_INT(b->ops->add_minute(b, 0, t, &one, 1), 0);
		if (i % 3 == 0)
			CHECK_INT(a->ops->flush(a), 0);
		CHECK_INT(b->ops->flush(b), 0);
	}
	/* each store's cache has only its own increments: read afresh */
	ts_store *fresh = open_store(&r, NULL, reg, NULL);
	uint32_t out[1] = {0};
	CHECK(fresh != NULL);
	if (fresh)
		CHECK_INT(fresh->ops->read_counts(fresh, 0, t, 1, out), 0);
	CHECK_INT(out[0], 30);
	ts_store_free(fresh);
out:
	ts_store_free(a);
	ts_store_free(b);
	teardown(&r, reg, NULL);
}

static void test_restart(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	ts_store_opts o = {.reconnect_first_ms = 50, .reconnect_max_ms = 400,
			   .reconnect_total_ms = 1500};
	ts_store *s = open_store(&r, NULL, reg, &o);
	if (!s)
		goto out;
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY;
	uint64_t want[4] = {0};
	for (int round = 0; round < 6; round++) {
		/* every round writes four minutes, 3 times each */
		for (int k = 0; k < 3; k++)
			for (int m = 0; m < 4; m++) {
				ts_count c = {0, (uint32_t)(round * 10 + m + 1)};
				CHECK_INT(s->ops->add_minute(s, 0, t + m, &c, 1), 0);
				want[m] += c.count;
			}
		if (round == 0 || round == 2)
			CHECK_INT(s->ops->flush(s), 0);
		if (round == 1) {
			/* killed and back between flushes: the next flush reconnects */
			tr_kill(&r, SIGKILL);
			CHECK_INT(tr_restart(&r), 0);
		}
		if (round == 3) {
			/* down during a flush: it fails, keeps the data */
			tr_kill(&r, SIGKILL);
			CHECK_INT(s->ops->flush(s), TS_ESTORE);
			fprintf(stderr, "  flush while down: %s\n", s->errstr);
			CHECK(strstr(s->errstr, "127.0.0.1") != NULL);
			CHECK_INT(s->ops->flush(s), TS_ESTORE);
			CHECK_INT(tr_restart(&r), 0);
		}
	}
	CHECK_INT(s->ops->flush(s), 0);
	uint32_t out[5];
	CHECK_INT(s->ops->read_counts(s, 0, t, 5, out), 0);
	for (int m = 0; m < 4; m++)
		CHECK_INT(out[m], want[m]);
	CHECK_INT(out[4], 0);
	/* and a fresh store reading what survived in the AOF after a restart */
	ts_store_free(s);
	tr_kill(&r, SIGKILL);
	CHECK_INT(tr_restart(&r), 0);
	s = open_store(&r, NULL, reg, &o);
	if (s) {
		CHECK_INT(s->ops->read_counts(s, 0, t, 5, out), 0);
		for (int m = 0; m < 4; m++)
			CHECK_INT(out[m], want[m]);
	}
out:
	teardown(&r, reg, s);
}

/* The flush script runs but its reply never comes back (the server sleeps
 * past the command timeout, then runs what the dead connection sent):
 * the flush fails, and the retry must not apply it a second time. */
static void test_lost_reply(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	ts_store_opts o = {.command_timeout_ms = 300, .reconnect_first_ms = 100,
			   .reconnect_max_ms = 200, .reconnect_total_ms = 300};
	ts_store *s = open_store(&r, NULL, reg, &o);
	redisContext *c = tr_connect(&r);
	if (!s || !c)
		goto out;
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY;
	ts_count cnt = {0, 5};
	CHECK_INT(s->ops->add_minute(s, 0, t, &cnt, 1), 0);
	CHECK_INT(s->ops->flush(s), 0);
	CHECK_INT(s->ops->add_minute(s, 0, t, &cnt, 1), 0);
	/* block the server for 2.5 s without waiting for the reply here */
	redisAppendCommand(c, "DEBUG SLEEP 2.5");
	int done = 0;
	while (!done && redisBufferWrite(c, &done) == REDIS_OK)
		;
	tr_sleep_ms(100);
	CHECK_INT(s->ops->flush(s), TS_ESTORE);
	fprintf(stderr, "  lost reply: %s\n", s->errstr);
	void *rep = NULL;
	CHECK_INT(redisGetReply(c, &rep), REDIS_OK); /* the sleep is over */
	if (rep)
		freeReplyObject(rep);
	CHECK_INT(s->ops->flush(s), 0);
	uint32_t out[1];
	CHECK_INT(s->ops->read_counts(s, 0, t, 1, out), 0);
	CHECK_INT(out[0], 10);
out:
	if (c)
		redisFree(c);
	teardown(&r, reg, s);
}

/* Redis loses what the store wrote: a FLUSHALL (the connection lives on)
 * is seen by the flush script (flushseq gone for a batch above 1), a
 * restart without the data by the reconnect (ts:schema gone). Either way
 * the store fails with a message naming the server, and writes nothing. */
static void test_history_lost(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	ts_store_opts o = {.reconnect_first_ms = 50, .reconnect_max_ms = 100,
			   .reconnect_total_ms = 3000};
	ts_store *s = open_store(&r, NULL, reg, &o);
	redisContext *c = tr_connect(&r);
	char where[64], buf[64];
	snprintf(where, sizeof where, "redis://127.0.0.1:%d lost the history", r.port);
	if (!s || !c)
		goto out;
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY;
	ts_count cnt = {0, 5};
	CHECK_INT(s->ops->add_minute(s, 0, t, &cnt, 1), 0);
	CHECK_INT(s->ops->flush(s), 0);
	raw_str(c, buf, sizeof buf, "FLUSHALL", NULL, NULL);
	CHECK_INT(s->ops->add_minute(s, 0, t + 1, &cnt, 1), 0);
	CHECK_INT(s->ops->flush(s), TS_ESTORE);
	fprintf(stderr, "  flushed: %s\n", s->errstr);
	CHECK(strstr(s->errstr, where) != NULL);
	CHECK(strstr(s->errstr, "ts:{" ACCT ":" REGION "}:flushseq is gone") != NULL);
	CHECK_INT(data_keys(c), 0);
	ts_store_free(s);

	/* a fresh store on the emptied server, then a restart without data */
	s = open_store(&r, NULL, reg, &o);
	if (!s)
		goto out;
	CHECK_INT(s->ops->add_minute(s, 0, t, &cnt, 1), 0);
	CHECK_INT(s->ops->flush(s), 0);
	redisFree(c);
	c = NULL;
	tr_kill(&r, SIGKILL);
	char aof[128];
	snprintf(aof, sizeof aof, "%s/appendonlydir", r.dir);
	tr_rm_tree(aof);
	CHECK_INT(tr_restart(&r), 0);
	uint32_t out[1];
	CHECK_INT(s->ops->read_counts(s, 0, (int64_t)(DAY - 3) * TS_MIN_PER_DAY, 1, out),
		  TS_ESTORE);
	fprintf(stderr, "  restarted empty: %s\n", s->errstr);
	CHECK(strstr(s->errstr, where) != NULL);
	CHECK(strstr(s->errstr, "ts:schema is gone") != NULL);
out:
	if (c)
		redisFree(c);
	teardown(&r, reg, s);
}

static void test_cap_while_down(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	ts_store_opts o = {.reconnect_first_ms = 50, .reconnect_max_ms = 200,
			   .reconnect_total_ms = 500, .flush_cells = 50, .max_cells = 100};
	ts_store *s = open_store(&r, NULL, reg, &o);
	if (!s)
		goto out;
	tr_kill(&r, SIGKILL);
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY;
	int added = 0, rc = 0;
	for (int m = 0; m < 200 && !rc; m++) {
		ts_count c = {0, 2};
		rc = s->ops->add_minute(s, 0, t + m, &c, 1);
		if (!rc)
			added++;
	}
	CHECK_INT(rc, TS_ECAP);
	CHECK_INT(added, 100);
	fprintf(stderr, "  at the cap: %s\n", s->errstr);
	CHECK(strstr(s->errstr, "Redis unreachable and 100 unwritten cells buffered") != NULL);
	CHECK_INT(tr_restart(&r), 0);
	CHECK_INT(s->ops->flush(s), 0);
	uint32_t out[200];
	CHECK_INT(s->ops->read_counts(s, 0, t, 200, out), 0);
	uint64_t sum = 0;
	for (int m = 0; m < 200; m++)
		sum += out[m];
	CHECK_INT(sum, 2 * 100);
	CHECK_INT(out[99], 2);
	CHECK_INT(out[100], 0);
out:
	teardown(&r, reg, s);
}

static void test_unreachable(void)
{
	int port = 0;
	for (int p = 39000; p < 39500; p++)
		if (tr_port_free(p)) {
			port = p;
			break;
		}
	CHECK(port != 0);
	ts_registry *reg = make_registry();
	char spec[64], want[64], err[256] = "";
	snprintf(spec, sizeof spec, "redis://127.0.0.1:%d", port);
	snprintf(want, sizeof want, "127.0.0.1:%d", port);
	ts_store *s = NULL;
	CHECK_INT(ts_store_open(spec, reg, NULL, &s, err, sizeof err), TS_ESTORE);
	CHECK(s == NULL);
	CHECK(strstr(err, want) != NULL);
	fprintf(stderr, "  unreachable: %s\n", err);
	ts_registry_free(reg);
}

static void test_spec_parse(void)
{
	/* a bad spec fails before any connection, quoting it (the URL forms
	 * themselves are tested in test_redis_conn.c) */
	ts_registry *reg = make_registry();
	ts_store *s = NULL;
	char err[256] = "";
	CHECK_INT(ts_store_open("redis://h:99999", reg, NULL, &s, err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "redis://h:99999") != NULL);
	ts_registry_free(reg);
}

static void test_auth(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	redisContext *c = tr_connect(&r);
	char buf[256], err[256], spec[128];
	ts_store *s = NULL;
	if (!c)
		goto out;
	CHECK_STR(raw_str(c, buf, sizeof buf, "ACL SETUSER u on %s ~* &* +@all", ">p@ss:w/rd%", NULL),
		  "OK");
	snprintf(spec, sizeof spec, "redis://u:p%%40ss%%3Aw%%2Frd%%25@127.0.0.1:%d", r.port);
	CHECK_INT(ts_store_open(spec, reg, NULL, &s, err, sizeof err), 0);
	if (s) {
		ts_count cnt = {0, 1};
		CHECK_INT(s->ops->add_minute(s, 0, (int64_t)DAY * TS_MIN_PER_DAY, &cnt, 1), 0);
		CHECK_INT(s->ops->flush(s), 0);
		ts_store_free(s);
		s = NULL;
	}
	snprintf(spec, sizeof spec, "redis://u:wrong@127.0.0.1:%d", r.port);
	CHECK_INT(ts_store_open(spec, reg, NULL, &s, err, sizeof err), TS_ESTORE);
	CHECK(strstr(err, "AUTH") != NULL);
	CHECK(strstr(err, "wrong") == NULL); /* no password in messages */
	fprintf(stderr, "  wrong password: %s\n", err);
	/* password only, for the default user */
	CHECK_STR(raw_str(c, buf, sizeof buf, "CONFIG SET requirepass %s", "sec ret", NULL), "OK");
	snprintf(spec, sizeof spec, "redis://:sec%%20ret@127.0.0.1:%d/1", r.port);
	CHECK_INT(ts_store_open(spec, reg, NULL, &s, err, sizeof err), 0);
	ts_store_free(s);
	s = NULL;
	snprintf(spec, sizeof spec, "redis://127.0.0.1:%d", r.port);
	CHECK_INT(ts_store_open(spec, reg, NULL, &s, err, sizeof err), TS_ESTORE);
	fprintf(stderr, "  no password: %s\n", err);
	redisFree(c);
out:
	teardown(&r, reg, NULL);
}

static void test_select_db(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	ts_store *s3 = open_store(&r, "/3", reg, NULL), *s0 = NULL;
	redisContext *c = tr_connect(&r);
	if (!s3 || !c)
		goto out;
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY + 5;
	ts_count cnt = {0, 4};
	CHECK_INT(s3->ops->add_minute(s3, 0, t, &cnt, 1), 0);
	CHECK_INT(s3->ops->flush(s3), 0);
	CHECK_INT(raw_int(c, "DBSIZE", NULL), 0);
	char buf[32];
	raw_str(c, buf, sizeof buf, "SELECT %s", "3", NULL);
	CHECK_INT(data_keys(c), 3);
	s0 = open_store(&r, NULL, reg, NULL);
	if (s0) {
		uint32_t out[1];
		CHECK_INT(s0->ops->read_counts(s0, 0, t, 1, out), 0);
		CHECK_INT(out[0], 0);
		CHECK_INT(s3->ops->read_counts(s3, 0, t, 1, out), 0);
		CHECK_INT(out[0], 4);
	}
	/* a db the server does not have */
	char spec[64], err[256] = "";
	ts_store *bad = NULL;
	snprintf(spec, sizeof spec, "redis://127.0.0.1:%d/99", r.port);
	CHECK_INT(ts_store_open(spec, reg, NULL, &bad, err, sizeof err), TS_ESTORE);
	CHECK(strstr(err, "SELECT") != NULL);
out:
	if (c)
		redisFree(c);
	ts_store_free(s3);
	ts_store_free(s0);
	teardown(&r, reg, NULL);
}

/* Sum of calls= over INFO commandstats, and the calls of one command. */
static long long commandstats(redisContext *c, const char *name, long long *one)
{
	redisReply *r = redisCommand(c, "INFO commandstats");
	long long total = 0;
	*one = 0;
	if (!r || r->type != REDIS_REPLY_STRING) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	char want[64];
	snprintf(want, sizeof want, "cmdstat_%s:", name);
	for (char *p = r->str; (p = strstr(p, "cmdstat_")) != NULL; p++) {
		char *q = strstr(p, "calls=");
		if (!q)
			break;
		long long v = strtoll(q + 6, NULL, 10);
		if (strncmp(p, "cmdstat_info:", 13) != 0 && strncmp(p, "cmdstat_config", 14) != 0)
			total += v;
		if (strncmp(p, want, strlen(want)) == 0)
			*one = v;
	}
	freeReplyObject(r);
	return total;
}

static void test_commands_per_cell(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	uint32_t metrics[50];
	for (int i = 0; i < 25; i++) {
		char name[32];
		snprintf(name, sizeof name, "Api%d", i);
		uint32_t aid;
		CHECK_INT(ts_registry_api(reg, 0, ts_str_c("svc.amazonaws.com"), ts_str_c(name), i & 1,
					  &aid),
			  0);
		metrics[2 * i] = ts_registry_get_api(reg, aid)->calls;
		metrics[2 * i + 1] = ts_registry_get_api(reg, aid)->reads;
	}
	ts_store *s = open_store(&r, NULL, reg, NULL);
	redisContext *c = tr_connect(&r);
	if (!s || !c)
		goto out;
	raw_str(c, (char[8]){0}, 8, "CONFIG RESETSTAT", NULL, NULL);
	int64_t t0 = (int64_t)DAY * TS_MIN_PER_DAY;
	ts_count cs[50];
	for (int m = 0; m < 200; m++) {
		for (int i = 0; i < 50; i++)
			cs[i] = (ts_count){metrics[i], (uint32_t)(m + i + 1)};
		CHECK_INT(s->ops->add_minute(s, 0, t0 + m, cs, 50), 0);
	}
	long long evalsha, hgetall;
	/* adding costs no round trip at all */
	CHECK_INT(commandstats(c, "hgetall", &hgetall), 0);
	CHECK_INT(s->ops->flush(s), 0);
	/* the flush reads each new key's day once (one pipeline), then writes */
	commandstats(c, "hgetall", &hgetall);
	CHECK_INT(hgetall, 50);
	long long total = commandstats(c, "evalsha", &evalsha);
	fprintf(stderr, "  10000 cells in 50 keys: %lld commands (%lld EVALSHA), %.4f per cell\n",
		total, evalsha, (double)total / 10000.0);
	CHECK_INT(evalsha, 1);
	/* per key: HGETALL once, and HMGET + HSET + EXPIRE inside the script */
	CHECK(total > 0 && total <= 50 * 4 + 5);
	uint32_t out[200];
	CHECK_INT(s->ops->read_counts(s, metrics[49], t0, 200, out), 0);
	CHECK_INT(out[0], 50);
	CHECK_INT(out[199], 249);
out:
	if (c)
		redisFree(c);
	teardown(&r, reg, s);
}

/* A day once read is served from the store's cache: no flush, no round
 * trip, and it still sees every later increment; Redis agrees after a flush. */
static void test_read_cache(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	uint32_t calls = ts_registry_get_api(reg, 0)->calls;
	ts_store_opts o = {.retention_days = 10};
	ts_store *s = open_store(&r, NULL, reg, &o);
	redisContext *rc = tr_connect(&r);
	CHECK(s && rc);
	if (!s || !rc)
		goto out;
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY + 60;
	ts_count c = {calls, 4};
	uint32_t out[3];
	CHECK_INT(s->ops->add_minute(s, 0, t, &c, 1), 0);
	CHECK_INT(s->ops->read_counts(s, calls, t - 1, 3, out), 0);
	CHECK_INT(out[1], 4);
	long long hgetall0, hgetall1, evalsha0, evalsha1;
	commandstats(rc, "hgetall", &hgetall0);
	commandstats(rc, "evalsha", &evalsha0);
	c.count = 3;
	CHECK_INT(s->ops->add_minute(s, 0, t, &c, 1), 0);
	CHECK_INT(s->ops->add_minute(s, 0, t + 1, &c, 1), 0);
	CHECK_INT(s->ops->read_counts(s, calls, t - 1, 3, out), 0);
	CHECK_INT(out[0], 0);
	CHECK_INT(out[1], 7);
	CHECK_INT(out[2], 3);
	commandstats(rc, "hgetall", &hgetall1);
	commandstats(rc, "evalsha", &evalsha1);
	CHECK_INT(hgetall1, hgetall0); /* served from the cache */
	CHECK_INT(evalsha1, evalsha0); /* and without a flush */
	CHECK_INT(s->ops->flush(s), 0);
	char buf[64];
	CHECK_STR(raw_str(rc, buf, sizeof buf, "HGET %s %s",
			  PFX "c:20241004:m:ec2.amazonaws.com:RunInstances:calls", "60"),
		  "7");
	/* a fresh store reads the same from Redis */
	ts_store *s2 = open_store(&r, NULL, reg, &o);
	CHECK(s2 != NULL);
	if (s2) {
		CHECK_INT(s2->ops->read_counts(s2, calls, t - 1, 3, out), 0);
		CHECK_INT(out[1], 7);
		CHECK_INT(out[2], 3);
		ts_store_free(s2);
	}
out:
	if (rc)
		redisFree(rc);
	teardown(&r, reg, s);
}

/* The process holds only the count days Redis may not have all of yet:
 * once the chunks with a metric's writes are applied, its days are let go
 * (history memory 0) and read from Redis, whole; a metric written since
 * the last freeze keeps its days; a later write to a day let go adds to
 * what Redis holds. */
static void test_cache_lets_go(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	const ts_api *api = ts_registry_get_api(reg, 0);
	uint32_t calls = api->calls, reads = api->reads;
	ts_store_opts o = {.retention_days = 10};
	ts_store *s = open_store(&r, NULL, reg, &o);
	redisContext *rc = tr_connect(&r);
	CHECK(s && rc);
	if (!s || !rc)
		goto out;
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY + 60;
	uint32_t out[3];
	size_t attrs;
	ts_count c[2] = {{calls, 4}, {reads, 2}};
	CHECK_INT(s->ops->add_minute(s, 0, t, c, 2), 0);
	CHECK_INT(s->ops->add_minute(s, 0, t + TS_MIN_PER_DAY, c, 2), 0);
	CHECK(s->ops->history_memory(s, &attrs) > 0);
	/* a checkpoint begun: the chunk is frozen, not yet known applied */
	CHECK_INT(s->ops->flush_begin(s), 0);
	CHECK(s->ops->history_memory(s, &attrs) > 0);
	/* calls is written again after the freeze, reads is not */
	c[0].count = 1;
	CHECK_INT(s->ops->add_minute(s, 0, t + 1, c, 1), 0);
	size_t both = s->ops->history_memory(s, &attrs);
	CHECK_INT(s->ops->flush_begin(s), 0); /* the first chunk is applied now */
	size_t one = s->ops->history_memory(s, &attrs);
	CHECK(one > 0 && one < both);
	/* reads' days come from Redis now, whole */
	CHECK_INT(s->ops->read_counts(s, reads, t - 1, 3, out), 0);
	CHECK_INT(out[0], 0);
	CHECK_INT(out[1], 2);
	CHECK_INT(out[2], 0);
	CHECK_INT(s->ops->read_counts(s, calls, t, 2, out), 0);
	CHECK_INT(out[0], 4);
	CHECK_INT(out[1], 1);
	CHECK_INT(s->ops->flush(s), 0);
	CHECK_INT((long long)s->ops->history_memory(s, &attrs), 0);
	CHECK_INT(s->ops->read_counts(s, calls, t, 2, out), 0);
	CHECK_INT(out[0], 4);
	CHECK_INT(out[1], 1);
	CHECK_INT(s->ops->read_counts(s, reads, t + TS_MIN_PER_DAY, 1, out), 0);
	CHECK_INT(out[0], 2);
	/* a late write to a day let go: Redis's part plus it */
	c[1].count = 5;
	CHECK_INT(s->ops->add_minute(s, 0, t, &c[1], 1), 0);
	CHECK_INT(s->ops->read_counts(s, reads, t, 1, out), 0);
	CHECK_INT(out[0], 7);
	CHECK_INT(s->ops->flush(s), 0);
	char buf[64];
	CHECK_STR(raw_str(rc, buf, sizeof buf, "HGET %s %s",
			  PFX "c:20241004:m:ec2.amazonaws.com:RunInstances:reads", "60"),
		  "7");
out:
	if (rc)
		redisFree(rc);
	teardown(&r, reg, s);
}

/* A partition with more keys than one script call takes is cut into
 * chunks, each its own sequence number, sent in one MULTI/EXEC. */
static void test_chunking(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	enum { NAPI = 1500 };
	static uint32_t metrics[2 * NAPI];
	for (int i = 0; i < NAPI; i++) {
		char name[32];
		snprintf(name, sizeof name, "Api%d", i);
		uint32_t aid;
		CHECK_INT(ts_registry_api(reg, 0, ts_str_c("svc.amazonaws.com"), ts_str_c(name), 0, &aid),
			  0);
		metrics[2 * i] = ts_registry_get_api(reg, aid)->calls;
		metrics[2 * i + 1] = ts_registry_get_api(reg, aid)->reads;
	}
	ts_store *s = open_store(&r, NULL, reg, NULL);
	redisContext *c = tr_connect(&r);
	if (!s || !c)
		goto out;
	raw_str(c, (char[8]){0}, 8, "CONFIG RESETSTAT", NULL, NULL);
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY + 7;
	for (int i = 0; i < 2 * NAPI; i++) {
		ts_count cnt = {metrics[i], (uint32_t)i + 1};
		CHECK_INT(s->ops->add_minute(s, 0, t, &cnt, 1), 0);
	}
	CHECK_INT(s->ops->flush(s), 0);
	long long eval, multi, exec;
	commandstats(c, "eval", &eval);
	commandstats(c, "multi", &multi);
	commandstats(c, "exec", &exec);
	CHECK_INT(eval, 2); /* 3000 keys: 2000 + 1000 */
	CHECK_INT(multi, 1); /* applied together */
	CHECK_INT(exec, 1);
	char buf[32];
	CHECK_STR(raw_str(c, buf, sizeof buf, "GET %s", PFX "flushseq", NULL), "2");
	uint64_t bad = 0;
	for (int i = 0; i < 2 * NAPI; i++) {
		uint32_t out[1];
		CHECK_INT(s->ops->read_counts(s, metrics[i], t, 1, out), 0);
		bad += out[0] != (uint32_t)i + 1;
	}
	CHECK_INT(bad, 0);
out:
	if (c)
		redisFree(c);
	teardown(&r, reg, s);
}

/* A stream's file marks: the store caches those of the last two mtime days
 * only, whatever the number of files; a file of an older day is still
 * found done (its marks are read again from Redis), and one never marked
 * is not. */
static void test_marks_bounded(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	ts_store *s = open_store(&r, NULL, reg, NULL);
	if (!s)
		goto out;
	enum { DAYS = 12, PER_DAY = 400 };
	char name[96];
	size_t mem_day2 = 0, mem_max = 0;
	for (int d = 0; d < DAYS; d++) {
		for (int i = 0; i < PER_DAY; i++) {
			snprintf(name, sizeof name, "AWSLogs/" ACCT "/CloudTrail/" REGION "/f-%02d-%04d.json.gz",
				 d, i);
			ts_file_id f = {name, 1000 + (uint64_t)i, (int64_t)(DAY + d) * 86400 + i * 60};
			int done = -1;
			CHECK_INT(s->ops->file_done_in(s, 0, &f, &done), 0);
			CHECK_INT(done, 0);
			CHECK_INT(s->ops->put_state(s, 0, "x", 1, &f, 1), 0);
			if (i % 100 == 99)
				CHECK_INT(s->ops->flush(s), 0);
		}
		size_t m = s->ops->memory(s);
		if (d == 2)
			mem_day2 = m;
		if (d > 2)
			mem_max = m > mem_max ? m : mem_max;
	}
	/* 12 days of marks cost what 2-3 did: no growth per file */
	CHECK(mem_max <= mem_day2 + 4096);
	/* the first day's files are done (read back from Redis), a file
	 * never marked, or marked with another size, is not */
	for (int i = 0; i < PER_DAY; i += 37) {
		snprintf(name, sizeof name, "AWSLogs/" ACCT "/CloudTrail/" REGION "/f-%02d-%04d.json.gz", 0,
			 i);
		ts_file_id f = {name, 1000 + (uint64_t)i, (int64_t)DAY * 86400 + i * 60};
		int done = -1;
		CHECK_INT(s->ops->file_done_in(s, 0, &f, &done), 0);
		CHECK_INT(done, 1);
		f.size++;
		CHECK_INT(s->ops->file_done_in(s, 0, &f, &done), 0);
		CHECK_INT(done, 0);
	}
	ts_file_id nf = {"AWSLogs/" ACCT "/CloudTrail/" REGION "/never.json.gz", 5, (int64_t)DAY * 86400};
	int done = -1;
	CHECK_INT(s->ops->file_done_in(s, 0, &nf, &done), 0);
	CHECK_INT(done, 0);
	/* a mark written and not flushed yet is done at once */
	nf.size = 6;
	CHECK_INT(s->ops->put_state(s, 0, "y", 1, &nf, 1), 0);
	CHECK_INT(s->ops->file_done_in(s, 0, &nf, &done), 0);
	CHECK_INT(done, 1);
	CHECK_INT(s->ops->flush(s), 0);
	CHECK_INT(s->ops->file_done_in(s, 0, &nf, &done), 0);
	CHECK_INT(done, 1);
out:
	teardown(&r, reg, s);
}

/* Sum of read_attrs callbacks into sum[TS_A_KINDS]. */
static int kind_sum_cb(void *ctx, int kind, uint32_t value, uint64_t count)
{
	(void)value;
	((uint64_t *)ctx)[kind] += count;
	return 0;
}

/* Attribution days are not held in the process, however many days pass:
 * every day is read from Redis plus the buffer, and a late write to an old
 * day counts once, before and after its flush. */
static void test_attr_days_from_redis(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	uint32_t calls = ts_registry_get_api(reg, 0)->calls;
	ts_store *s = open_store(&r, NULL, reg, NULL);
	if (!s)
		goto out;
	enum { DAYS = 15, VALUES = 40 };
	uint32_t vid[VALUES];
	for (int v = 0; v < VALUES; v++) {
		char name[48];
		snprintf(name, sizeof name, "arn:aws:iam::" ACCT ":user/u%d", v);
		CHECK_INT(ts_registry_value(reg, ts_str_c(name), &vid[v]), 0);
	}
	size_t attrs = 0, attrs_max = 0;
	for (int d = 0; d < DAYS; d++) {
		for (int h = 0; h < 24; h++) {
			ts_attr_count a[VALUES];
			for (int v = 0; v < VALUES; v++)
				a[v] = (ts_attr_count){calls, vid[v], 2, TS_A_ARN};
			int64_t hour = ((int64_t)(DAY + d) * 24 + h) * 60;
			CHECK_INT(s->ops->add_attrs(s, 0, hour, a, VALUES), 0);
		}
		CHECK_INT(s->ops->flush(s), 0);
		s->ops->history_memory(s, &attrs);
		attrs_max = attrs > attrs_max ? attrs : attrs_max;
	}
	CHECK_INT(attrs_max, 0); /* no attribution day held */
	/* every day still reads in full: old ones from Redis */
	uint64_t sum[TS_A_KINDS] = {0};
	int64_t from = (int64_t)DAY * TS_MIN_PER_DAY, to = (int64_t)(DAY + DAYS) * TS_MIN_PER_DAY;
	CHECK_INT(s->ops->read_attrs(s, calls, from, to, kind_sum_cb, sum), 0);
	CHECK_INT(sum[TS_A_ARN], (uint64_t)DAYS * 24 * VALUES * 2);
	/* a late write to an old day: counted once, read back right
	 * before (from the buffer) and after its flush */
	ts_attr_count late = {calls, vid[0], 5, TS_A_ARN};
	CHECK_INT(s->ops->add_attrs(s, 0, (int64_t)(DAY + 2) * TS_MIN_PER_DAY, &late, 1), 0);
	memset(sum, 0, sizeof sum);
	CHECK_INT(s->ops->read_attrs(s, calls, from, to, kind_sum_cb, sum), 0);
	CHECK_INT(sum[TS_A_ARN], (uint64_t)DAYS * 24 * VALUES * 2 + 5);
	CHECK_INT(s->ops->flush(s), 0);
	memset(sum, 0, sizeof sum);
	CHECK_INT(s->ops->read_attrs(s, calls, from, to, kind_sum_cb, sum), 0);
	CHECK_INT(sum[TS_A_ARN], (uint64_t)DAYS * 24 * VALUES * 2 + 5);
	s->ops->history_memory(s, &attrs);
	CHECK_INT(attrs, 0);
out:
	teardown(&r, reg, s);
}

/* read_attr_minutes: each (minute, kind, value) once, minutes in order,
 * with its count: the buffer's before a flush, Redis' after it, and a
 * cell in both summed; the field names the minute of day. */
typedef struct mseen {
	int64_t minute[16];
	int kind[16];
	uint64_t count[16];
	int n, ordered;
} mseen;

static int minute_cb(void *ctx, int64_t minute, int kind, uint32_t value, uint64_t count)
{
	(void)value;
	mseen *m = ctx;
	if (m->n && minute < m->minute[m->n - 1])
		m->ordered = 0;
	if (m->n < 16) {
		m->minute[m->n] = minute;
		m->kind[m->n] = kind;
		m->count[m->n] = count;
	}
	m->n++;
	return 0;
}

static int on_raw_minattr(void *ctx, const ts_minattr *a)
{
	return minute_cb(ctx, a->mod, (int)a->kind, a->value, a->count);
}

/* A minute-attribution key read straight from Redis with minattr.h. */
static int raw_minattr(redisContext *c, ts_registry *reg, const char *key, mseen *m)
{
	redisReply *r = redisCommand(c, "GET %s", key);
	int rc = -1;
	if (r && r->type == REDIS_REPLY_STRING)
		rc = ts_minattr_parse(r->str, r->len, reg, on_raw_minattr, m, NULL);
	if (r)
		freeReplyObject(r);
	return rc;
}

static void test_attr_minutes(void)
{
	test_redis r;
	ts_registry *reg;
	if (setup(&r, &reg))
		return;
	uint32_t calls = ts_registry_get_api(reg, 0)->calls, arn, agent;
	CHECK_INT(ts_registry_value(reg, ts_str_c("arn:aws:iam::1:user/a"), &arn), 0);
	CHECK_INT(ts_registry_value(reg, ts_str_c("aws-cli/2"), &agent), 0);
	ts_store *s = open_store(&r, NULL, reg, NULL);
	if (!s)
		goto out;
	CHECK(s->ops->add_attr_minute != NULL && s->ops->read_attr_minutes != NULL);
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY + 1439; /* 23:59, then 00:00 of the next day */
	ts_attr_count a[2] = {{calls, arn, 3, TS_A_ARN}, {calls, agent, 2, TS_A_AGENT}};
	CHECK_INT(s->ops->add_attr_minute(s, 0, t + 1, a, 2), 0);
	CHECK_INT(s->ops->add_attr_minute(s, 0, t, a, 1), 0);
	mseen m = {.ordered = 1};
	CHECK_INT(s->ops->read_attr_minutes(s, calls, t, t + 2, minute_cb, &m), 0);
	CHECK_INT(m.n, 3);
	CHECK(m.ordered);
	CHECK(m.minute[0] == t && m.count[0] == 3 && m.kind[0] == TS_A_ARN);
	CHECK_INT(s->ops->flush(s), 0);
	redisContext *rc = tr_connect(&r);
	CHECK(rc != NULL);
	if (rc) {
		/* one string per day, one segment each: what minattr.h reads */
		mseen d1 = {.ordered = 1}, d2 = {.ordered = 1};
		CHECK_INT(raw_minattr(rc, reg, PFX "am:20241004:m:ec2.amazonaws.com:RunInstances:calls",
				      &d1),
			  0);
		CHECK_INT(d1.n, 1);
		CHECK(d1.minute[0] == 1439 && d1.count[0] == 3 && d1.kind[0] == TS_A_ARN);
		CHECK_INT(raw_minattr(rc, reg, PFX "am:20241005:m:ec2.amazonaws.com:RunInstances:calls",
				      &d2),
			  0);
		CHECK_INT(d2.n, 2);
		CHECK(d2.minute[1] == 0 && d2.count[1] == 2 && d2.kind[1] == TS_A_AGENT);
		CHECK_INT(raw_int(rc, "EXISTS %s",
				  PFX "m:20241004:m:ec2.amazonaws.com:RunInstances:calls"),
			  0);
		long long ttl = raw_int(rc, "TTL %s",
					PFX "am:20241004:m:ec2.amazonaws.com:RunInstances:calls");
		CHECK(ttl > 0);
		/* a damaged tail is skipped; the segment before it still counts */
		char buf[32];
		CHECK(atoi(raw_str(rc, buf, sizeof buf, "APPEND %s %s",
				   PFX "am:20241004:m:ec2.amazonaws.com:RunInstances:calls", "xyz")) > 3);
		redisFree(rc);
	}
	/* after the damage: the first segment still read */
	m = (mseen){.ordered = 1};
	CHECK_INT(s->ops->read_attr_minutes(s, calls, t, t + 1, minute_cb, &m), 0);
	CHECK_INT(m.n, 1);
	CHECK_INT(m.count[0], 3);
	/* the same minute again, buffered: summed with what Redis has */
	CHECK_INT(s->ops->add_attr_minute(s, 0, t, a, 1), 0);
	m = (mseen){.ordered = 1};
	CHECK_INT(s->ops->read_attr_minutes(s, calls, t, t + 1, minute_cb, &m), 0);
	CHECK_INT(m.n, 1);
	CHECK_INT(m.count[0], 6);
	/* outside the range: nothing */
	m = (mseen){.ordered = 1};
	CHECK_INT(s->ops->read_attr_minutes(s, calls, t - 60, t, minute_cb, &m), 0);
	CHECK_INT(m.n, 0);
out:
	teardown(&r, reg, s);
}

TS_TESTS(test_spec_parse, test_history_lost, test_unreachable, test_conformance, test_key_scheme, test_read_cache, test_cache_lets_go,
	 test_idempotent_flush, test_two_writers, test_restart, test_lost_reply,
	 test_cap_while_down, test_auth, test_select_db,
	 test_commands_per_cell, test_chunking, test_marks_bounded,
	 test_attr_days_from_redis, test_attr_minutes)
