/* store_conformance.h - the behaviour every store backend must show.
 * Included by test_store.c (memory) and the Redis backend's test, so both
 * run the same assertions. The store must be fresh and opened on reg. */
#ifndef TS_STORE_CONFORMANCE_H
#define TS_STORE_CONFORMANCE_H

#include "../check.h"
#include "store.h"

typedef struct conf_sum {
	uint64_t arn_a, arn_b, agent, other;
	int calls;
} conf_sum;

static int conf_cb(void *ctx, int kind, uint32_t value, uint64_t count)
{
	conf_sum *s = ctx;
	s->calls++;
	(void)value;
	if (kind == TS_A_ARN && value == 0)
		s->arn_a += count;
	else if (kind == TS_A_ARN && value == 1)
		s->arn_b += count;
	else if (kind == TS_A_AGENT)
		s->agent += count;
	else
		s->other += count;
	return 0;
}

/* Runs the suite; reg must have partition 0 with one API (metrics 0, 1)
 * and values 0 and 1 interned. */
static void store_conformance(ts_store *s)
{
	int64_t day = 20000; /* 2024-10-04 */
	int64_t t = day * TS_MIN_PER_DAY + 600;
	ts_count c[2] = {{0, 5}, {1, 7}};
	CHECK_INT(s->ops->add_minute(s, 0, t, c, 2), 0);
	/* adding again to the same minute accumulates */
	ts_count c2 = {0, 3};
	CHECK_INT(s->ops->add_minute(s, 0, t, &c2, 1), 0);
	/* the minute before midnight and after it: two days */
	ts_count c3 = {0, 1};
	CHECK_INT(s->ops->add_minute(s, 0, day * TS_MIN_PER_DAY - 1, &c3, 1), 0);
	CHECK_INT(s->ops->add_minute(s, 0, (day + 1) * TS_MIN_PER_DAY, &c3, 1), 0);

	uint32_t out[2000];
	CHECK_INT(s->ops->read_counts(s, 0, t - 1, 3, out), 0);
	CHECK_INT(out[0], 0);
	CHECK_INT(out[1], 8);
	CHECK_INT(out[2], 0);
	CHECK_INT(s->ops->read_counts(s, 1, t, 1, out), 0);
	CHECK_INT(out[0], 7);
	/* a read across both midnights sees all three minutes */
	CHECK_INT(s->ops->read_counts(s, 0, day * TS_MIN_PER_DAY - 1, 1442, out), 0);
	uint64_t sum = 0;
	for (int i = 0; i < 1442; i++)
		sum += out[i];
	CHECK_INT(sum, 1 + 8 + 1);
	CHECK_INT(out[0], 1);
	CHECK_INT(out[1441], 1);
	/* a metric never written reads as zeros */
	CHECK_INT(s->ops->read_counts(s, 1, day * TS_MIN_PER_DAY - 1, 1442, out), 0);
	sum = 0;
	for (int i = 0; i < 1442; i++)
		sum += out[i];
	CHECK_INT(sum, 7);

	/* attributions per hour, summed over a range of hours */
	int64_t h = (t / 60) * 60;
	ts_attr_count a[3] = {
		{.metric = 0, .value = 0, .count = 4, .kind = TS_A_ARN},
		{.metric = 0, .value = 1, .count = 2, .kind = TS_A_ARN},
		{.metric = 0, .value = 0, .count = 6, .kind = TS_A_AGENT},
	};
	CHECK_INT(s->ops->add_attrs(s, 0, h, a, 3), 0);
	CHECK_INT(s->ops->add_attrs(s, 0, h + 60, a, 1), 0);
	ts_attr_count other = {.metric = 1, .value = 0, .count = 100, .kind = TS_A_ARN};
	CHECK_INT(s->ops->add_attrs(s, 0, h, &other, 1), 0);
	conf_sum cs = {0};
	CHECK_INT(s->ops->read_attrs(s, 0, h, h + 120, conf_cb, &cs), 0);
	CHECK_INT(cs.arn_a, 8);
	CHECK_INT(cs.arn_b, 2);
	CHECK_INT(cs.agent, 6);
	CHECK_INT(cs.other, 0);
	CHECK_INT(cs.calls, 3); /* one call per (kind, value), summed */
	memset(&cs, 0, sizeof cs);
	CHECK_INT(s->ops->read_attrs(s, 0, h + 60, h + 120, conf_cb, &cs), 0);
	CHECK_INT(cs.arn_a, 4);
	CHECK_INT(cs.arn_b, 0);
	/* adding to an hour and value again accumulates (late records do) */
	CHECK_INT(s->ops->add_attrs(s, 0, h + 60, a, 1), 0);
	memset(&cs, 0, sizeof cs);
	CHECK_INT(s->ops->read_attrs(s, 0, h + 60, h + 120, conf_cb, &cs), 0);
	CHECK_INT(cs.arn_a, 8);
	memset(&cs, 0, sizeof cs);
	CHECK_INT(s->ops->read_attrs(s, 0, h - 600, h, conf_cb, &cs), 0);
	CHECK_INT(cs.calls, 0);

	/* history older than the retention is dropped once newer days come */
	int64_t late_day = day + s->retention_days + 5;
	CHECK_INT(s->ops->add_minute(s, 0, late_day * TS_MIN_PER_DAY, &c3, 1), 0);
	CHECK_INT(s->ops->read_counts(s, 0, t, 1, out), 0);
	CHECK_INT(out[0], 0);
	CHECK_INT(s->ops->read_counts(s, 0, late_day * TS_MIN_PER_DAY, 1, out), 0);
	CHECK_INT(out[0], 1);
}

/* Checkpoints: a state and file marks saved with put_state read back after
 * a flush; the index holds only what mark_files added; a file with another
 * size or mtime is not done. */
static void store_checkpoint_conformance(ts_store *s)
{
	ts_buf b = {0};
	CHECK_INT(s->ops->get_state(s, 0, &b), 0);
	CHECK_INT(b.len, 0);
	static const char blob[] = "TSP1\0binary\xff state";
	ts_file_id f[2] = {{"AWSLogs/1/CloudTrail/us-east-1/2024/10/04/a.json.gz", 1234, 1728000000},
			   {"/data/b.json", 99, 1728086400}};
	CHECK_INT(s->ops->put_state(s, 0, blob, sizeof blob, f, 1), 0);
	CHECK_INT(s->ops->mark_files(s, f, 1), 0);
	CHECK_INT(s->ops->flush(s), 0);
	CHECK_INT(s->ops->get_state(s, 0, &b), 0);
	CHECK_INT(b.len, sizeof blob);
	CHECK(b.len == sizeof blob && memcmp(b.p, blob, sizeof blob) == 0);
	int done = -1;
	CHECK_INT(s->ops->file_done_in(s, 0, &f[0], &done), 0);
	CHECK_INT(done, 1);
	CHECK_INT(s->ops->file_done_in(s, 0, &f[1], &done), 0);
	CHECK_INT(done, 0);
	ts_file_id changed = f[0];
	changed.size++;
	CHECK_INT(s->ops->file_done_in(s, 0, &changed, &done), 0);
	CHECK_INT(done, 0);
	uint8_t d[3] = {9, 9, 9};
	ts_file_id q[3] = {f[0], f[1], changed};
	CHECK_INT(s->ops->files_done(s, q, 3, d), 0);
	CHECK_INT(d[0], 1);
	CHECK_INT(d[1], 0);
	CHECK_INT(d[2], 0);
	/* the partition is listed, split at its last ':' */
	CHECK_INT(s->ops->partitions(s, &b), 0);
	ts_partition *p = ts_registry_get_partition(s->reg, 0);
	char want[128];
	snprintf(want, sizeof want, "%.*s:%.*s", (int)p->account.n, p->account.p, (int)p->region.n,
		 p->region.p);
	CHECK(b.len > 0);
	if (b.len)
		CHECK_STR(b.p, want);
	ts_buf_free(&b);
}

#endif
