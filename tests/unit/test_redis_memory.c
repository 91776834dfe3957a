/* test_redis_memory.c - what the Redis store holds in the process, against
 * a private redis-server: attribution days are not held once written (the
 * store's memory after a flush does not grow with them), and a read of
 * them still sums every increment, whether applied, in flight in a
 * background flush, or still in the live buffer. */
#include "redis_server.h"
#include "../check.h"
#include "store.h"
#include "tally.h"
#include "util.h"

#define ACCT "111122223333"
#define REGION "us-east-1"
#define DAY 20000 /* 2024-10-04 */
#define NVAL 40
#define NDAYS 5

typedef struct sums {
	uint64_t by_value[NVAL];
	uint64_t other; /* counts of a value or kind not written */
} sums;

static uint32_t vals[NVAL];

static int sum_cb(void *ctx, int kind, uint32_t value, uint64_t count)
{
	sums *s = ctx;
	for (int i = 0; i < NVAL; i++)
		if (vals[i] == value && kind == TS_A_AGENT) {
			s->by_value[i] += count;
			return 0;
		}
	s->other += count;
	return 0;
}

static ts_store *open_store(const test_redis *r, ts_registry *reg)
{
	char spec[128], err[256] = "";
	snprintf(spec, sizeof spec, "redis://127.0.0.1:%d", r->port);
	ts_store_opts o = {.retention_days = 10};
	ts_store *s = NULL;
	int rc = ts_store_open(spec, reg, &o, &s, err, sizeof err);
	if (rc)
		fprintf(stderr, "open %s: %d %s\n", spec, rc, err);
	CHECK_INT(rc, 0);
	return rc ? NULL : s;
}

/* The count written for value i in hour h (hours since the epoch). */
static uint32_t count_of(int i, int64_t h) { return 1 + (uint32_t)((i + h) % 3); }

/* Add every value's count for hour h of metric; add them into want when
 * h is in [w0, w1). */
static void add_hour(ts_store *s, uint32_t metric, int64_t h, int64_t w0, int64_t w1, sums *want)
{
	ts_attr_count a[NVAL];
	for (int i = 0; i < NVAL; i++) {
		a[i] = (ts_attr_count){.metric = metric, .value = vals[i], .count = count_of(i, h),
				       .kind = TS_A_AGENT};
		if (h >= w0 && h < w1)
			want->by_value[i] += a[i].count;
	}
	CHECK_INT(s->ops->add_attrs(s, 0, h * 60, a, NVAL), 0);
}

static void check_sums(const sums *got, const sums *want)
{
	int bad = 0;
	for (int i = 0; i < NVAL; i++)
		bad += got->by_value[i] != want->by_value[i];
	CHECK_INT(bad, 0);
	CHECK_INT(got->other, 0);
}

static void test_attr_days_not_held(void)
{
	test_redis r;
	if (tr_start(&r)) {
		CHECK(!"redis-server did not start");
		return;
	}
	ts_registry *reg = ts_registry_new(NULL);
	uint32_t pid, aid;
	CHECK_INT(ts_registry_partition(reg, ts_str_c(ACCT), ts_str_c(REGION), &pid), 0);
	CHECK_INT(ts_registry_api(reg, pid, ts_str_c("ec2.amazonaws.com"), ts_str_c("RunInstances"),
				  0, &aid),
		  0);
	for (int i = 0; i < NVAL; i++) {
		char v[32];
		snprintf(v, sizeof v, "agent/%d", i);
		CHECK_INT(ts_registry_value(reg, ts_str_c(v), &vals[i]), 0);
	}
	uint32_t calls = ts_registry_get_api(reg, aid)->calls;
	ts_store *s = open_store(&r, reg);
	if (!s)
		goto out;
	int64_t h0 = (int64_t)DAY * 24, w0 = h0 + 10, w1 = h0 + NDAYS * 24 - 3;
	sums want = {0};
	/* the first hour: the per-metric and per-partition tables exist */
	add_hour(s, calls, h0, w0, w1, &want);
	CHECK_INT(s->ops->flush(s), 0);
	size_t m0 = s->ops->memory(s);
	for (int64_t h = h0 + 1; h < h0 + (NDAYS - 1) * 24; h++) {
		add_hour(s, calls, h, w0, w1, &want);
		if (h % 24 == 23)
			CHECK_INT(s->ops->flush(s), 0);
	}
	CHECK_INT(s->ops->flush(s), 0);
	/* NDAYS - 1 days of 40 values an hour written: nothing of them held */
	CHECK_INT(s->ops->memory(s), m0);

	/* the last day: half in flight in a background flush, half live */
	int64_t last = h0 + (NDAYS - 1) * 24;
	for (int64_t h = last; h < last + 12; h++)
		add_hour(s, calls, h, w0, w1, &want);
	CHECK(s->ops->flush_begin != NULL);
	if (s->ops->flush_begin)
		CHECK_INT(s->ops->flush_begin(s), 0);
	for (int64_t h = last + 12; h < last + 24; h++)
		add_hour(s, calls, h, w0, w1, &want);
	CHECK(s->ops->memory(s) > m0); /* the live buffer */
	sums got = {0};
	CHECK_INT(s->ops->read_attrs(s, calls, w0 * 60, w1 * 60, sum_cb, &got), 0);
	check_sums(&got, &want);
	/* a window of one partial day reads the same as before */
	sums got1 = {0}, want1 = {0};
	for (int64_t h = last + 5; h < last + 20; h++)
		for (int i = 0; i < NVAL; i++)
			want1.by_value[i] += count_of(i, h);
	CHECK_INT(s->ops->read_attrs(s, calls, (last + 5) * 60, (last + 20) * 60, sum_cb, &got1),
		  0);
	check_sums(&got1, &want1);
	CHECK_INT(s->ops->flush(s), 0);
	CHECK_INT(s->ops->memory(s), m0);

	/* a fresh store reads the same from Redis alone */
	ts_store *s2 = open_store(&r, reg);
	if (s2) {
		sums got2 = {0};
		CHECK_INT(s2->ops->read_attrs(s2, calls, w0 * 60, w1 * 60, sum_cb, &got2), 0);
		check_sums(&got2, &want);
		ts_store_free(s2);
	}
out:
	ts_store_free(s);
	ts_registry_free(reg);
	tr_stop(&r);
}

TS_TESTS(test_attr_days_not_held)
