/* engine_replay.c - re-detection: the engine fed from the counts a store
 * already holds, as the backfill of the records behind them fed it.
 *
 * For each partition the source store has a saved state for, the state's
 * table of series (names, kinds, first minutes) is made in the registry,
 * then each UTC day of the partition's counts, from the first minute of
 * any of its series to the newest minute it had seen, is read metric by
 * metric (read_counts) into a list of non-zero (minute, metric, count)
 * cells, put in minute order and counted into the aggregator, one count
 * at a time, as ordered records would have been: the aggregator closes
 * the same minutes, the detectors see the same counts and the events are
 * the same. Partitions are replayed one after another (a backfill's
 * events do not depend on that order). The cells of one day are the only
 * memory this file holds (freed at the end); the source store is only
 * read. Attribution values are not in the counts: the engine's store
 * answers them from the source's hours (ts_store_view_new).
 */
#include <stdlib.h>

#include "engine_int.h"

typedef struct cell {
	int64_t minute;
	uint32_t metric;
	uint32_t count;
} cell;

static int by_minute(const void *a, const void *b)
{
	const cell *x = a, *y = b;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	return (x->metric > y->metric) - (x->metric < y->metric);
}

/* Replay partition pid's minutes [from, to] from src. */
static int replay_part(ts_engine *e, ts_store *src, uint32_t pid, int64_t from, int64_t to,
		       ts_engine_replay_stats *st)
{
	ts_partition *part = ts_registry_get_partition(e->reg, pid);
	uint32_t *day = malloc(TS_MIN_PER_DAY * sizeof *day);
	cell *cells = NULL;
	size_t ncells = 0, alloc = 0;
	int rc = day ? 0 : TS_ENOMEM;
	for (int64_t d = ts_day_of(from); !rc && d <= ts_day_of(to); d++) {
		ncells = 0;
		for (uint32_t i = 0; i < part->nmetrics && !rc; i++) {
			uint32_t mid = part->metrics[i];
			rc = ts_engine_store_err_(src->ops->read_counts(src, mid, d * TS_MIN_PER_DAY,
								      TS_MIN_PER_DAY, day));
			st->days++;
			for (int m = 0; m < TS_MIN_PER_DAY && !rc; m++) {
				int64_t t = d * TS_MIN_PER_DAY + m;
				if (!day[m] || t < from || t > to)
					continue;
				if (ts_grow(&cells, &alloc, ncells + 1, sizeof *cells, 256)) {
					rc = TS_ENOMEM;
					break;
				}
				cells[ncells++] = (cell){t, mid, day[m]};
			}
		}
		if (rc)
			break;
		qsort(cells, ncells, sizeof *cells, by_minute);
		for (size_t i = 0; i < ncells && !rc; i++) {
			if (st->first == INT64_MIN || cells[i].minute < st->first)
				st->first = cells[i].minute;
			if (st->last == INT64_MIN || cells[i].minute > st->last)
				st->last = cells[i].minute;
			st->counts += cells[i].count;
			for (uint32_t k = 0; k < cells[i].count && !rc; k++) {
				rc = ts_agg_count(e->agg, pid, cells[i].minute, cells[i].metric, NULL);
				/* in time order nothing comes late */
				if (rc == TS_COUNT_ON_TIME || rc == TS_COUNT_LATE)
					rc = 0;
			}
		}
		if (!rc && e->err)
			rc = e->err;
	}
	free(cells);
	free(day);
	return rc;
}

int ts_engine_replay(ts_engine *e, ts_store *src, int64_t until, ts_engine_replay_stats *st)
{
	memset(st, 0, sizeof *st);
	st->first = st->last = INT64_MIN;
	if (e->err)
		return e->err;
	ts_buf list = {0}, blob = {0};
	int rc = ts_engine_store_err_(src->ops->partitions(src, &list));
	for (size_t off = 0; off < list.len && !rc;) {
		const char *m = list.p + off;
		size_t n = strlen(m);
		off += n + 1;
		const char *colon = NULL;
		for (size_t i = 0; i < n; i++)
			if (m[i] == ':')
				colon = m + i;
		if (!colon)
			continue;
		ts_str acct = {m, (size_t)(colon - m)};
		ts_str region = {colon + 1, n - (size_t)(colon + 1 - m)};
		uint32_t pid;
		if ((rc = ts_registry_partition(e->reg, acct, region, &pid)))
			break;
		if ((rc = ts_engine_store_err_(src->ops->get_state(src, pid, &blob))))
			break;
		if (!blob.len)
			continue;
		int64_t newest = INT64_MIN;
		rc = ts_engine_state_series_(blob.p, blob.len, e->reg, pid, &newest);
		if (rc == TS_EINVAL) {
			ts_store_errorf(src,
					"the saved state of partition %.*s/%.*s (key "
					"ts:{%.*s:%.*s}:state) cannot be decoded: it is corrupt or from "
					"another trailsight, and names the series to replay",
					(int)acct.n, acct.p, (int)region.n, region.p, (int)acct.n,
					acct.p, (int)region.n, region.p);
			rc = TS_ESTORE;
		}
		if (rc)
			break;
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
	ts_buf_free(&blob);
	if (rc && !e->err)
		e->err = rc;
	return rc;
}
