/* engine_replay.c - re-detection: the engine fed from the counts a store
 * already holds, as the backfill of the records behind them fed it.
 *
 * For each partition the source store has a saved state for, the state is
 * restored on a scratch engine over the source store (so it is checked
 * whole, and its series, with their first minutes, are made in the
 * registry the engines share),
 * then each UTC day of the partition's counts, from the first minute of
 * any of its series to the newest minute it had seen, is read metric by
 * metric (read_counts, and read_attr_minutes where the store keeps
 * attributions by minute) into lists of non-zero (minute, metric, count)
 * and (minute, metric, kind, value, count) cells, put in minute order and
 * counted into the aggregator, one count at a time with attribution
 * values dealt out so that each kind's tally is the stored one, as
 * ordered records would have been: the aggregator closes the same
 * minutes, the attribution windows hold the same minutes, the detectors
 * see the same counts and the events are the same. Partitions are
 * replayed one after another (a backfill's events do not depend on that
 * order). One day's cells of one partition are the only memory this file
 * holds (freed at the end); the source store is only read. Whole
 * attribution hours come from the engine's store (ts_store_view_new).
 */
#include <stdlib.h>

#include "engine_int.h"

typedef struct cell {
	int64_t minute;
	uint32_t metric;
	uint32_t count;
} cell;

/* An attribution count of a minute (value a registry id). */
typedef struct acell {
	int64_t minute;
	uint32_t metric, value, count;
	int kind;
} acell;

/* One day's cells and attribution cells of a partition (owned). */
typedef struct day_cells {
	cell *c;
	size_t n, alloc;
	acell *a;
	size_t na, aalloc;
	uint32_t metric; /* the metric read_attr_minutes is reading */
} day_cells;

static int by_minute(const void *a, const void *b)
{
	const cell *x = a, *y = b;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	return (x->metric > y->metric) - (x->metric < y->metric);
}

static int acell_cmp(const void *a, const void *b)
{
	const acell *x = a, *y = b;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	return x->kind - y->kind;
}

static int on_attr_minute(void *ctx, int64_t minute, int kind, uint32_t value, uint64_t count)
{
	day_cells *dc = ctx;
	if (kind < 0 || kind >= TS_A_KINDS || !count)
		return 0;
	if (ts_grow(&dc->a, &dc->aalloc, dc->na + 1, sizeof *dc->a, 256))
		return TS_ENOMEM;
	dc->a[dc->na++] = (acell){minute, dc->metric, value,
				  count > UINT32_MAX ? UINT32_MAX : (uint32_t)count, kind};
	return 0;
}

/* Count cell c into the aggregator, each count with attribution values
 * taken in turn from the minute's attribution cells a[na] (those of c's
 * minute and metric): the k-th count gets, per kind, the value whose
 * run of counts holds k, or none past them. The aggregator tallies each
 * kind apart, so the minute's attributions are those stored. */
static int feed_cell(ts_engine *e, uint32_t pid, const cell *c, const acell *a, size_t na)
{
	size_t at[TS_A_KINDS] = {0};
	uint32_t used[TS_A_KINDS] = {0};
	for (uint32_t k = 0; k < c->count; k++) {
		uint32_t vals[TS_A_KINDS];
		for (int kind = 0; kind < TS_A_KINDS; kind++) {
			while (at[kind] < na && (a[at[kind]].kind != kind ||
						 used[kind] >= a[at[kind]].count)) {
				at[kind]++;
				used[kind] = 0;
			}
			vals[kind] = at[kind] < na ? a[at[kind]].value : TS_NO_VALUE;
			used[kind] += at[kind] < na;
		}
		int rc = ts_agg_count(e->agg, pid, c->minute, c->metric, na ? vals : NULL);
		/* in time order nothing comes late */
		if (rc != TS_COUNT_ON_TIME && rc != TS_COUNT_LATE)
			return rc;
	}
	return 0;
}

/* Replay partition pid's minutes [from, to] from src. */
static int replay_part(ts_engine *e, ts_store *src, uint32_t pid, int64_t from, int64_t to,
		       ts_engine_replay_stats *st)
{
	ts_partition *part = ts_registry_get_partition(e->reg, pid);
	uint32_t *day = malloc(TS_MIN_PER_DAY * sizeof *day);
	day_cells dc = {0};
	int rc = day ? 0 : TS_ENOMEM;
	for (int64_t d = ts_day_of(from); !rc && d <= ts_day_of(to); d++) {
		dc.n = dc.na = 0;
		int64_t d0 = d * TS_MIN_PER_DAY, lo = from > d0 ? from : d0;
		int64_t hi = to < d0 + TS_MIN_PER_DAY - 1 ? to : d0 + TS_MIN_PER_DAY - 1;
		for (uint32_t i = 0; i < part->nmetrics && !rc; i++) {
			uint32_t mid = part->metrics[i];
			rc = ts_engine_store_err_(src->ops->read_counts(src, mid, d0, TS_MIN_PER_DAY, day));
			st->days++;
			size_t before = dc.n;
			for (int64_t t = lo; t <= hi && !rc; t++) {
				if (!day[t - d0])
					continue;
				if (ts_grow(&dc.c, &dc.alloc, dc.n + 1, sizeof *dc.c, 256))
					rc = TS_ENOMEM;
				else
					dc.c[dc.n++] = (cell){t, mid, day[t - d0]};
			}
			/* the reads metric has no attributions */
			const ts_metric *m = ts_registry_get_metric(e->reg, mid);
			if (!rc && dc.n > before && m->kind != TS_M_READS && src->ops->read_attr_minutes) {
				dc.metric = mid;
				rc = ts_engine_store_err_(src->ops->read_attr_minutes(
					src, mid, lo, hi + 1, on_attr_minute, &dc));
			}
		}
		if (rc)
			break;
		qsort(dc.c, dc.n, sizeof *dc.c, by_minute);
		if (dc.na)
			qsort(dc.a, dc.na, sizeof *dc.a, acell_cmp);
		size_t j = 0;
		for (size_t i = 0; i < dc.n && !rc; i++) {
			const cell *c = &dc.c[i];
			if (st->first == INT64_MIN || c->minute < st->first)
				st->first = c->minute;
			if (st->last == INT64_MIN || c->minute > st->last)
				st->last = c->minute;
			st->counts += c->count;
			while (j < dc.na && (dc.a[j].minute < c->minute ||
					     (dc.a[j].minute == c->minute && dc.a[j].metric < c->metric)))
				j++;
			size_t k = j;
			while (k < dc.na && dc.a[k].minute == c->minute && dc.a[k].metric == c->metric)
				k++;
			rc = feed_cell(e, pid, c, dc.a + j, k - j);
			j = k;
		}
		if (!rc && e->err)
			rc = e->err;
	}
	free(dc.c);
	free(dc.a);
	free(day);
	return rc;
}

/* The emit of the engines that only restore a state (never finished). */
static int no_emit(void *ctx, const char *json, size_t len)
{
	(void)ctx;
	(void)json;
	(void)len;
	return 0;
}

int ts_engine_replay(ts_engine *e, ts_store *src, int64_t until, ts_engine_replay_stats *st)
{
	memset(st, 0, sizeof *st);
	st->first = st->last = INT64_MIN;
	if (e->err)
		return e->err;
	ts_buf list = {0};
	int rc = ts_engine_store_err_(src->ops->partitions(src, &list));
	size_t off = 0;
	ts_str acct, region;
	while (!rc && ts_engine_next_partition_(&list, &off, &acct, &region)) {
		uint32_t pid;
		if ((rc = ts_registry_partition(e->reg, acct, region, &pid)))
			break;
		/* the partition's saved state, restored on an engine of its own
		 * over src: checked whole (a state that does not decode stops
		 * the run with the message a backfill gives), its series made in
		 * the registry with their first minutes, and its newest minute */
		ts_engine *chk = ts_engine_new(&e->o, e->reg, src, no_emit, NULL);
		if (!chk) {
			rc = TS_ENOMEM;
			break;
		}
		rc = ts_engine_restore_(chk, pid);
		int restored = chk->st.restored > 0;
		int64_t newest = ts_agg_newest(chk->agg, pid);
		ts_engine_free(chk);
		if (rc)
			break;
		if (!restored)
			continue;
		ts_partition *part = ts_registry_get_partition(e->reg, pid);
		st->partitions++;
		st->series += part->napis;
		st->metrics += part->nmetrics;
		int64_t first = INT64_MAX;
		for (uint32_t i = 0; i < part->nmetrics; i++) {
			const ts_metric *mt = ts_registry_get_metric(e->reg, part->metrics[i]);
			int64_t f = ts_registry_get_api(e->reg, mt->api)->first_minute;
			first = f < first ? f : first;
		}
		int64_t last = newest;
		if (until != INT64_MAX && until - 1 < last)
			last = until - 1;
		if (newest == INT64_MIN || first == INT64_MAX || first > last)
			continue;
		if (!ts_engine_part_(e, pid)) {
			rc = TS_ENOMEM;
			break;
		}
		rc = replay_part(e, src, pid, first, last, st);
	}
	ts_buf_free(&list);
	if (rc && !e->err)
		e->err = rc;
	return rc;
}
