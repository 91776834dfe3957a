/* test_agg.c - the watermark closes minutes in order, once, and late
 * events go to the late callback. */
#include "../check.h"
#include "agg.h"
#include "tally.h"

typedef struct log {
	int64_t closed[512];
	uint32_t count_at[512]; /* dense[0] of each closed minute */
	uint32_t attrs_at[512];
	int nclosed;
	int late;
	int64_t late_minute;
} log_t;

static int on_close(void *ctx, const ts_minute_batch *b)
{
	log_t *l = ctx;
	if (l->nclosed < 512) {
		l->closed[l->nclosed] = b->minute;
		l->count_at[l->nclosed] = b->ndense ? b->dense[0] : 0;
		l->attrs_at[l->nclosed] = (uint32_t)b->nattrs;
		l->nclosed++;
	}
	return 0;
}

static int on_late(void *ctx, uint32_t pid, int64_t minute, uint32_t metric,
		   const uint32_t vals[TS_A_KINDS])
{
	log_t *l = ctx;
	(void)pid;
	(void)metric;
	(void)vals;
	l->late++;
	l->late_minute = minute;
	return 0;
}

/* A registry with one partition and one API; its partition and calls metric. */
static ts_registry *one_api(uint32_t *pid, uint32_t *metric)
{
	ts_registry *reg = ts_registry_new(NULL);
	uint32_t aid;
	CHECK_INT(ts_registry_partition(reg, ts_str_c("1"), ts_str_c("r"), pid), 0);
	CHECK_INT(ts_registry_api(reg, *pid, ts_str_c("s"), ts_str_c("n"), 0, &aid), 0);
	*metric = ts_registry_get_api(reg, aid)->calls;
	return reg;
}

static void test_watermark(void)
{
	uint32_t pid, metric;
	ts_registry *reg = one_api(&pid, &metric);
	log_t l = {0};
	ts_agg_cb cb = {on_close, on_late, &l};
	ts_agg *a = ts_agg_new(reg, 20, &cb);
	uint32_t vals[TS_A_KINDS] = {7, TS_NO_VALUE, TS_NO_VALUE};
	int64_t base = 1000000;
	CHECK_INT(ts_agg_count(a, pid, base, metric, vals), 0);
	CHECK_INT(ts_agg_count(a, pid, base, metric, vals), 0);
	CHECK_INT(ts_agg_count(a, pid, base + 5, metric, NULL), 0);
	/* out of order within lateness: still on time */
	CHECK_INT(ts_agg_count(a, pid, base + 30, metric, vals), 0);
	CHECK_INT(ts_agg_count(a, pid, base + 12, metric, vals), 0);
	CHECK_INT(ts_agg_closed(a, pid), base + 30 - 21);
	/* every minute closed so far, in order, each once */
	for (int i = 1; i < l.nclosed; i++)
		CHECK_INT(l.closed[i], l.closed[i - 1] + 1);
	CHECK_INT(l.closed[l.nclosed - 1], base + 9);
	int at = -1;
	for (int i = 0; i < l.nclosed; i++)
		if (l.closed[i] == base)
			at = i;
	CHECK(at >= 0);
	CHECK_INT(l.count_at[at], 2);
	CHECK_INT(l.attrs_at[at], 1); /* one (metric, kind, value), count 2 */
	/* a record for a closed minute is late */
	CHECK_INT(ts_agg_count(a, pid, base + 3, metric, vals), 1);
	CHECK_INT(l.late, 1);
	CHECK_INT(l.late_minute, base + 3);
	/* finishing closes the rest through the newest minute */
	CHECK_INT(ts_agg_close_all(a), 0);
	CHECK_INT(l.closed[l.nclosed - 1], base + 30);
	uint64_t total = 0;
	for (int i = 0; i < l.nclosed; i++)
		total += l.count_at[i];
	CHECK_INT(total, 5);
	ts_agg_free(a);
	ts_registry_free(reg);
}

static void test_big_jump(void)
{
	uint32_t pid, metric;
	ts_registry *reg = one_api(&pid, &metric);
	log_t l = {0};
	ts_agg_cb cb = {on_close, on_late, &l};
	ts_agg *a = ts_agg_new(reg, 20, &cb);
	CHECK_INT(ts_agg_count(a, pid, 5000, metric, NULL), 0);
	/* a jump of more than the ring: the minute at 5000 must still close
	 * with its count, not be overwritten */
	CHECK_INT(ts_agg_count(a, pid, 5300, metric, NULL), 0);
	uint32_t seen = 0;
	for (int i = 0; i < l.nclosed; i++)
		if (l.closed[i] == 5000)
			seen = l.count_at[i];
	CHECK_INT(seen, 1);
	CHECK(ts_agg_new(reg, 500, &cb) == NULL);
	ts_agg_free(a);
	ts_agg_free(NULL);
	ts_registry_free(reg);
}

/* With ts_agg_set_skip, a gap of a century closes settle + tail minutes,
 * not one per minute: the counted minute, settle empty ones, then the
 * last tail before the target, in order; the next count is on time. */
static void test_skip_gap(void)
{
	uint32_t pid, metric;
	ts_registry *reg = one_api(&pid, &metric);
	log_t l = {0};
	ts_agg_cb cb = {on_close, on_late, &l};
	ts_agg *a = ts_agg_new(reg, 20, &cb);
	ts_agg_set_skip(a, 100, 50);
	int64_t base = 1000000, far = base + 100LL * 366 * 1440;
	CHECK_INT(ts_agg_count(a, pid, base, metric, NULL), 0);
	CHECK_INT(ts_agg_count(a, pid, far, metric, NULL), 0);
	CHECK(l.nclosed < 512);
	CHECK_INT(ts_agg_closed(a, pid), far - 21);
	/* closed in order; the one jump lands tail minutes before the target */
	int jumps = 0;
	for (int i = 1; i < l.nclosed; i++) {
		CHECK(l.closed[i] > l.closed[i - 1]);
		if (l.closed[i] != l.closed[i - 1] + 1) {
			jumps++;
			CHECK_INT(l.closed[i], far - 21 - 50 + 1);
			CHECK(l.closed[i - 1] > base + 100);
		}
	}
	CHECK_INT(jumps, 1);
	CHECK_INT(l.closed[l.nclosed - 1], far - 21);
	uint32_t total = 0;
	for (int i = 0; i < l.nclosed; i++)
		total += l.count_at[i];
	CHECK_INT(total, 1); /* the minute at base, with its count */
	CHECK_INT(ts_agg_count(a, pid, far - 5, metric, NULL), 0);
	CHECK_INT(l.late, 0);
	ts_agg_free(a);
	ts_registry_free(reg);
}

/* The counts and attributions of open minutes so far; nothing for a
 * closed minute or one after the newest. */
static void test_open_counts(void)
{
	uint32_t pid, metric;
	ts_registry *reg = one_api(&pid, &metric);
	log_t l = {0};
	ts_agg_cb cb = {on_close, on_late, &l};
	ts_agg *a = ts_agg_new(reg, 20, &cb);
	uint32_t vals[TS_A_KINDS] = {7, TS_NO_VALUE, TS_NO_VALUE};
	int64_t base = 1000000;
	CHECK_INT(ts_agg_count(a, pid, base, metric, vals), 0);
	CHECK_INT(ts_agg_count(a, pid, base, metric, vals), 0);
	CHECK_INT(ts_agg_count(a, pid, base + 3, metric, NULL), 0);
	CHECK_INT(ts_agg_open_count(a, pid, metric, base), 2);
	CHECK_INT(ts_agg_open_count(a, pid, metric, base + 3), 1);
	CHECK_INT(ts_agg_open_count(a, pid, metric, base + 1), 0);
	CHECK_INT(ts_agg_open_count(a, pid, metric, base + 4), 0);
	CHECK_INT(ts_agg_open_count(a, pid + 1, metric, base), 0);
	const ts_tally *t = ts_agg_open_attrs(a, pid, base);
	CHECK(t != NULL);
	uint64_t k = 0, c = 0;
	uint32_t i = 0;
	CHECK(t && ts_tally_next(t, &i, &k, &c));
	CHECK_INT(ts_attr_key_metric(k), metric);
	CHECK_INT(ts_attr_key_value(k), 7);
	CHECK_INT(c, 2);
	CHECK(ts_agg_open_attrs(a, pid, base + 3) == NULL);
	/* closed: the counts went to the close callback, none are open */
	CHECK_INT(ts_agg_count(a, pid, base + 30, metric, NULL), 0);
	CHECK_INT(ts_agg_open_count(a, pid, metric, base), 0);
	CHECK(ts_agg_open_attrs(a, pid, base) == NULL);
	CHECK_INT(ts_agg_open_count(a, pid, metric, base + 30), 1);
	ts_agg_free(a);
	ts_registry_free(reg);
}

TS_TESTS(test_watermark, test_big_jump, test_skip_gap, test_open_counts)
