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

#endif
