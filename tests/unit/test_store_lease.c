/* test_store_lease.c - partition leases and fencing (lease.h, the Redis
 * store's lease and fence ops) against a private redis-server: claims,
 * renewals and releases, a finished release seen by the next claim, and
 * a checkpoint with a stale fencing token refused by the flush script,
 * writing nothing, the partition dropped for good; the marks a partition's
 * holder writes are seen by a worker that looked before it claimed. */
#include "../check.h"
#include "err.h"
#include "lease.h"
#include "redis_server.h"
#include "store.h"

#define ACCT "111122223333"
#define REGION "us-east-1"
#define PFX "ts:{" ACCT ":" REGION "}:"
#define T0 ((int64_t)20000 * 1440) /* 2024-10-04 00:00, in minutes */

static ts_registry *make_registry(uint32_t *metric)
{
	ts_registry *reg = ts_registry_new(NULL);
	uint32_t pid;
	CHECK_INT(ts_registry_partition(reg, ts_str_c(ACCT), ts_str_c(REGION), &pid), 0);
	CHECK_INT(pid, 0);
	CHECK_INT(ts_registry_api(reg, pid, ts_str_c("ec2.amazonaws.com"), ts_str_c("RunInstances"),
				  0, metric),
		  0);
	return reg;
}

static ts_store *open_store(const test_redis *r, ts_registry *reg)
{
	char spec[64], err[256] = "";
	snprintf(spec, sizeof spec, "redis://127.0.0.1:%d", r->port);
	ts_store *s = NULL;
	int rc = ts_store_open(spec, reg, NULL, &s, err, sizeof err);
	if (rc)
		fprintf(stderr, "open %s: %s\n", spec, err);
	CHECK_INT(rc, 0);
	return s;
}

static long long raw_int(redisContext *c, const char *fmt, const char *a)
{
	redisReply *r = redisCommand(c, fmt, a);
	long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -999;
	if (r)
		freeReplyObject(r);
	return v;
}

static void raw_str(redisContext *c, char *out, size_t n, const char *fmt, const char *a)
{
	redisReply *r = redisCommand(c, fmt, a);
	out[0] = '\0';
	if (r && r->type == REDIS_REPLY_STRING)
		snprintf(out, n, "%s", r->str);
	if (r)
		freeReplyObject(r);
}

/* One checkpoint of partition 0: count n at minute T0 + m, a state "S<n>",
 * flushed. The flush's result. */
static int checkpoint(ts_store *s, uint32_t metric, int m, uint32_t n)
{
	ts_count c = {metric, n};
	char blob[16];
	int len = snprintf(blob, sizeof blob, "S%u", n);
	CHECK_INT(s->ops->add_minute(s, 0, T0 + m, &c, 1), 0);
	CHECK_INT(s->ops->put_state(s, 0, blob, (size_t)len, NULL, 0), 0);
	return s->ops->flush(s);
}

static void test_memory_store_has_none(void)
{
	uint32_t metric;
	ts_registry *reg = make_registry(&metric);
	ts_store *s = NULL;
	char err[256];
	CHECK_INT(ts_store_open("mem", reg, NULL, &s, err, sizeof err), 0);
	ts_leases *l = NULL;
	CHECK_INT(ts_leases_new(s, "g", "w1", 30000, &l, err, sizeof err), TS_EINVAL);
	CHECK(l == NULL);
	CHECK(strstr(err, "memory store has no leases") != NULL);
	CHECK_INT(ts_lease_group_check("a/b", err, sizeof err), TS_EINVAL);
	CHECK_INT(ts_lease_group_check("g-1.x_y", err, sizeof err), 0);
	ts_store_free(s);
	ts_registry_free(reg);
}

static void test_claim_renew_release(void)
{
	test_redis r;
	if (tr_start(&r)) {
		CHECK(!"redis-server did not start");
		return;
	}
	uint32_t metric, pid = 0;
	ts_registry *reg = make_registry(&metric);
	ts_store *s1 = open_store(&r, reg), *s2 = open_store(&r, reg);
	ts_leases *a = NULL, *b = NULL;
	char err[256];
	redisContext *rc = tr_connect(&r);
	if (!s1 || !s2 || !rc)
		goto out;
	CHECK_INT(ts_leases_new(s1, "g", "a", 300, &a, err, sizeof err), 0);
	CHECK_INT(ts_leases_new(s2, "g", "b", 300, &b, err, sizeof err), 0);
	uint8_t got, fin;
	CHECK_INT(ts_leases_claim(a, 1, &pid, 0.0, &got, &fin), 0);
	CHECK_INT(got, 1);
	CHECK_INT(fin, 0);
	CHECK(ts_leases_owns(a, pid));
	char v[128];
	raw_str(rc, v, sizeof v, "GET %s", PFX "lease");
	CHECK_STR(v, "1/g/a");
	long long pttl = raw_int(rc, "PTTL %s", PFX "lease");
	CHECK(pttl > 0 && pttl <= 300);
	/* held: b cannot take it */
	CHECK_INT(ts_leases_claim(b, 1, &pid, 0.0, &got, NULL), 0);
	CHECK_INT(got, 0);
	CHECK(!ts_leases_owns(b, pid));
	/* a renewal before a third of the lease time is not due; after, it is */
	CHECK_INT(ts_leases_tick(a, 0.05, NULL), 0);
	ts_lease_stats st;
	ts_leases_get_stats(a, &st);
	CHECK_INT(st.renewals, 0);
	tr_sleep_ms(150);
	CHECK_INT(ts_leases_tick(a, 0.15, NULL), 0);
	ts_leases_get_stats(a, &st);
	CHECK_INT(st.renewals, 1);
	CHECK(raw_int(rc, "PTTL %s", PFX "lease") > 200);
	/* released finished: b claims it with the next token and is told */
	CHECK_INT(ts_leases_release(a, 1, &pid, 1), 0);
	CHECK_INT(raw_int(rc, "EXISTS %s", PFX "lease"), 0);
	CHECK(!ts_leases_owns(a, pid));
	CHECK_INT(ts_leases_claim(b, 1, &pid, 1.0, &got, &fin), 0);
	CHECK_INT(got, 1);
	CHECK_INT(fin, 1);
	raw_str(rc, v, sizeof v, "GET %s", PFX "lease");
	CHECK_STR(v, "2/g/b");
	/* a released partition is never claimed again by the same worker */
	CHECK_INT(ts_leases_claim(a, 1, &pid, 1.0, &got, NULL), 0);
	CHECK_INT(got, 0);
	/* b lets it lapse; a renewal then finds it lost */
	tr_sleep_ms(400);
	size_t lost = 0;
	CHECK_INT(ts_leases_tick(b, 2.0, &lost), 0);
	CHECK_INT(lost, 1);
	CHECK(ts_leases_lost(b, pid));
	CHECK(!ts_leases_owns(b, pid));
out:
	if (rc)
		redisFree(rc);
	ts_leases_free(a);
	ts_leases_free(b);
	ts_store_free(s1);
	ts_store_free(s2);
	ts_registry_free(reg);
	tr_stop(&r);
}

static void test_stale_token_refused(void)
{
	test_redis r;
	if (tr_start(&r)) {
		CHECK(!"redis-server did not start");
		return;
	}
	uint32_t metric, pid = 0;
	ts_registry *reg = make_registry(&metric);
	ts_store *s1 = open_store(&r, reg), *s2 = open_store(&r, reg);
	ts_leases *a = NULL, *b = NULL;
	char err[256], v[128];
	redisContext *rc = tr_connect(&r);
	if (!s1 || !s2 || !rc)
		goto out;
	CHECK_INT(ts_leases_new(s1, "g", "a", 200, &a, err, sizeof err), 0);
	CHECK_INT(ts_leases_new(s2, "g", "b", 30000, &b, err, sizeof err), 0);
	uint8_t got;
	CHECK_INT(ts_leases_claim(a, 1, &pid, 0.0, &got, NULL), 0);
	CHECK_INT(got, 1);
	/* a's checkpoint under its lease is written */
	CHECK_INT(checkpoint(s1, metric, 0, 5), 0);
	const char *ckey = PFX "c:20241004:m:ec2.amazonaws.com:RunInstances:calls";
	raw_str(rc, v, sizeof v, "HGET %s 0", ckey);
	CHECK_STR(v, "5");
	raw_str(rc, v, sizeof v, "GET %s", PFX "state");
	CHECK_STR(v, "S5");
	/* a pauses past its lease; b claims it with token 2 and checkpoints */
	tr_sleep_ms(300);
	CHECK_INT(ts_leases_claim(b, 1, &pid, 0.0, &got, NULL), 0);
	CHECK_INT(got, 1);
	raw_str(rc, v, sizeof v, "GET %s", PFX "fence");
	CHECK_STR(v, "2");
	CHECK_INT(checkpoint(s2, metric, 1, 7), 0);
	raw_str(rc, v, sizeof v, "GET %s", PFX "flushseq");
	CHECK_STR(v, "2");
	/* a, back, still believes it owns the partition: its checkpoint with
	 * the stale token 1 is refused and writes nothing */
	CHECK(ts_leases_owns(a, pid));
	CHECK_INT(checkpoint(s1, metric, 2, 9), 0);
	raw_str(rc, v, sizeof v, "HGET %s 2", ckey);
	CHECK_STR(v, "");
	raw_str(rc, v, sizeof v, "HGET %s 0", ckey);
	CHECK_STR(v, "5");
	raw_str(rc, v, sizeof v, "HGET %s 1", ckey);
	CHECK_STR(v, "7");
	raw_str(rc, v, sizeof v, "GET %s", PFX "state");
	CHECK_STR(v, "S7");
	raw_str(rc, v, sizeof v, "GET %s", PFX "flushseq");
	CHECK_STR(v, "2");
	CHECK_INT(s1->ops->fenced_out(s1, pid), 1);
	CHECK(!ts_leases_owns(a, pid));
	CHECK(ts_leases_lost(a, pid));
	size_t lost = 0;
	CHECK_INT(ts_leases_tick(a, 10.0, &lost), 0);
	ts_lease_stats st;
	ts_leases_get_stats(a, &st);
	CHECK_INT(st.fenced, 1);
	/* nothing of the partition is sent again by a, even with b gone */
	CHECK_INT(ts_leases_release(b, 1, &pid, 0), 0);
	CHECK_INT(checkpoint(s1, metric, 3, 11), 0);
	raw_str(rc, v, sizeof v, "HGET %s 3", ckey);
	CHECK_STR(v, "");
	raw_str(rc, v, sizeof v, "GET %s", PFX "state");
	CHECK_STR(v, "S7");
	/* b's lease is gone: a fenced checkpoint of b's is refused too */
	CHECK_INT(checkpoint(s2, metric, 4, 13), 0);
	raw_str(rc, v, sizeof v, "HGET %s 4", ckey);
	CHECK_STR(v, "");
	CHECK_INT(s2->ops->fenced_out(s2, pid), 1);
out:
	if (rc)
		redisFree(rc);
	ts_leases_free(a);
	ts_leases_free(b);
	ts_store_free(s1);
	ts_store_free(s2);
	ts_registry_free(reg);
	tr_stop(&r);
}

/* A worker that looked at a partition's marks while another held it (a
 * stream keeping that partition's files waiting) sees, once it claims the
 * partition, the files the other marked done after that first look. */
static void test_marks_seen_after_takeover(void)
{
	test_redis r;
	if (tr_start(&r)) {
		CHECK(!"redis-server did not start");
		return;
	}
	uint32_t metric, pid = 0;
	ts_registry *reg = make_registry(&metric);
	ts_store *s1 = open_store(&r, reg), *s2 = open_store(&r, reg);
	ts_leases *a = NULL, *b = NULL;
	char err[256];
	if (!s1 || !s2)
		goto out;
	CHECK_INT(ts_leases_new(s1, "g", "a", 200, &a, err, sizeof err), 0);
	CHECK_INT(ts_leases_new(s2, "g", "b", 30000, &b, err, sizeof err), 0);
	const ts_file_id f1 = {"AWSLogs/" ACCT "/CloudTrail/" REGION "/a.json.gz", 10,
			       (int64_t)20000 * 86400 + 60};
	const ts_file_id f2 = {"AWSLogs/" ACCT "/CloudTrail/" REGION "/b.json.gz", 20,
			       (int64_t)20000 * 86400 + 120};
	uint8_t got;
	CHECK_INT(ts_leases_claim(a, 1, &pid, 0.0, &got, NULL), 0);
	CHECK_INT(got, 1);
	CHECK_INT(ts_leases_claim(b, 1, &pid, 0.0, &got, NULL), 0);
	CHECK_INT(got, 0); /* a holds it */
	ts_count c = {metric, 1};
	CHECK_INT(s1->ops->add_minute(s1, 0, T0, &c, 1), 0);
	CHECK_INT(s1->ops->put_state(s1, 0, "S1", 2, &f1, 1), 0);
	CHECK_INT(s1->ops->flush(s1), 0);
	int done = -1;
	CHECK_INT(s2->ops->file_done_in(s2, pid, &f1, &done), 0);
	CHECK_INT(done, 1);
	CHECK_INT(s2->ops->file_done_in(s2, pid, &f2, &done), 0);
	CHECK_INT(done, 0);
	/* a marks the second file, then dies; b claims the partition */
	CHECK_INT(s1->ops->add_minute(s1, 0, T0 + 1, &c, 1), 0);
	CHECK_INT(s1->ops->put_state(s1, 0, "S2", 2, &f2, 1), 0);
	CHECK_INT(s1->ops->flush(s1), 0);
	CHECK_INT(s2->ops->file_done_in(s2, pid, &f2, &done), 0);
	CHECK_INT(done, 1); /* read again: not b's, not remembered as read */
	tr_sleep_ms(300);
	CHECK_INT(ts_leases_claim(b, 1, &pid, 0.0, &got, NULL), 0);
	CHECK_INT(got, 1);
	CHECK_INT(s2->ops->file_done_in(s2, pid, &f1, &done), 0);
	CHECK_INT(done, 1);
	CHECK_INT(s2->ops->file_done_in(s2, pid, &f2, &done), 0);
	CHECK_INT(done, 1);
out:
	ts_leases_free(a);
	ts_leases_free(b);
	ts_store_free(s1);
	ts_store_free(s2);
	ts_registry_free(reg);
	tr_stop(&r);
}

TS_TESTS(test_memory_store_has_none, test_claim_renew_release, test_stale_token_refused,
	 test_marks_seen_after_takeover)
