/* mincounts.c - the sparse-or-dense minute counts of mincounts.h.
 *
 * Invariant (sparse): every cell lies in [base_day, base_day + n_days) and
 * base_day = (newest day written or slid to) - (n_days - 1), or the first
 * day minus that when nothing newer came: what ts_daywin keeps. Going
 * dense places a ts_daywin on the same window and replays the cells.
 */
#include <stdlib.h>

#include "mincounts.h"
#include "util.h"

static int dense_add(ts_mincounts *c, int64_t minute, uint32_t count, int64_t *bytes)
{
	int64_t day = ts_day_of(minute);
	unsigned freed = 0;
	int nomem;
	uint32_t **slot = ts_daywin_slot(c->dense, c->n_days, day, &freed, &nomem);
	if (bytes)
		*bytes -= (int64_t)freed * TS_MIN_PER_DAY * (int64_t)sizeof(uint32_t);
	if (!slot)
		return nomem ? TS_ENOMEM : 0;
	if (!*slot) {
		if (!(*slot = calloc(TS_MIN_PER_DAY, sizeof **slot)))
			return TS_ENOMEM;
		if (bytes)
			*bytes += TS_MIN_PER_DAY * (int64_t)sizeof(uint32_t);
	}
	(*slot)[minute - day * TS_MIN_PER_DAY] += count;
	return 0;
}

/* Replay the cells into a new day window, placed where the sparse one is;
 * the cells are freed. */
static int to_dense(ts_mincounts *c, int64_t *bytes)
{
	ts_daywin *w = calloc(1, sizeof *w);
	if (!w)
		return TS_ENOMEM;
	c->dense = w;
	int64_t before = bytes ? *bytes : 0;
	int rc = 0;
	unsigned freed = 0;
	int nomem;
	if (!ts_daywin_slot(w, c->n_days, c->base_day + c->n_days - 1, &freed, &nomem))
		rc = TS_ENOMEM;
	for (uint32_t i = 0; i < c->n && !rc; i++)
		rc = dense_add(c, c->cells[i].minute, c->cells[i].count, bytes);
	if (rc) {
		ts_daywin_free(w);
		free(w);
		c->dense = NULL;
		if (bytes)
			*bytes = before;
		return rc;
	}
	if (bytes)
		*bytes -= (int64_t)c->alloc * (int64_t)sizeof *c->cells;
	free(c->cells);
	c->cells = NULL;
	c->n = c->alloc = 0;
	return 0;
}

/* Index of the first cell at or after minute. */
static uint32_t lower_bound(const ts_mincounts *c, int64_t minute)
{
	uint32_t lo = 0, hi = c->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (c->cells[mid].minute < minute)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Sparse: move the window to end at day when day is past it. */
static void slide(ts_mincounts *c, int64_t day)
{
	if (day < c->base_day + c->n_days)
		return;
	c->base_day = day - (c->n_days - 1);
	uint32_t keep = lower_bound(c, c->base_day * TS_MIN_PER_DAY);
	if (keep) {
		memmove(c->cells, c->cells + keep, (c->n - keep) * sizeof *c->cells);
		c->n -= keep;
	}
}

int ts_mc_slide(ts_mincounts *c, uint32_t n_days, int64_t day, int64_t *bytes)
{
	if (!c->n_days) {
		c->n_days = n_days;
		c->base_day = day - (n_days - 1);
	}
	if (c->dense) {
		unsigned freed = 0;
		int nomem;
		uint32_t **slot = ts_daywin_slot(c->dense, c->n_days, day, &freed, &nomem);
		if (bytes)
			*bytes -= (int64_t)freed * TS_MIN_PER_DAY * (int64_t)sizeof(uint32_t);
		return slot ? 0 : nomem ? TS_ENOMEM : 1;
	}
	if (day < c->base_day)
		return 1;
	slide(c, day);
	return 0;
}

int64_t ts_mc_first_day(const ts_mincounts *c) { return c->dense ? c->dense->base : c->base_day; }

int ts_mc_add(ts_mincounts *c, uint32_t n_days, int64_t minute, uint32_t count, int64_t *bytes)
{
	if (!count)
		return 0;
	if (!c->n_days) {
		c->n_days = n_days;
		c->base_day = ts_day_of(minute) - (n_days - 1);
	}
	if (!c->dense && (minute < INT32_MIN || minute > INT32_MAX)) {
		int rc = to_dense(c, bytes);
		if (rc)
			return rc;
	}
	if (c->dense)
		return dense_add(c, minute, count, bytes);
	int64_t day = ts_day_of(minute);
	if (day < c->base_day)
		return 0;
	slide(c, day);
	uint32_t i = c->n && c->cells[c->n - 1].minute < minute ? c->n : lower_bound(c, minute);
	if (i < c->n && c->cells[i].minute == minute) {
		c->cells[i].count += count;
		return 0;
	}
	if (c->n == c->alloc) {
		uint32_t na = c->alloc ? c->alloc + c->alloc / 2 + 2 : 2;
		ts_mc_cell *x = realloc(c->cells, (size_t)na * sizeof *x);
		if (!x)
			return TS_ENOMEM;
		if (bytes)
			*bytes += (int64_t)(na - c->alloc) * (int64_t)sizeof *x;
		c->cells = x;
		c->alloc = na;
	}
	memmove(c->cells + i + 1, c->cells + i, (c->n - i) * sizeof *c->cells);
	c->cells[i] = (ts_mc_cell){(int32_t)minute, count};
	c->n++;
	int64_t span = ts_day_of(c->cells[c->n - 1].minute) - ts_day_of(c->cells[0].minute) + 1;
	/* when going dense fails the cells still hold everything */
	if ((int64_t)c->n > TS_MC_DENSE_PER_DAY * span)
		(void)to_dense(c, bytes);
	return 0;
}

void ts_mc_read(const ts_mincounts *c, int64_t from, size_t n, uint32_t *out)
{
	memset(out, 0, n * sizeof *out);
	int64_t end = from + (int64_t)n;
	if (c->dense) {
		for (int64_t t = from; t < end;) {
			int64_t day = ts_day_of(t);
			int64_t day_end = (day + 1) * TS_MIN_PER_DAY;
			int64_t stop = day_end < end ? day_end : end;
			const uint32_t *counts = ts_daywin_get(c->dense, day);
			if (counts)
				memcpy(out + (t - from), counts + (t - day * TS_MIN_PER_DAY),
				       (size_t)(stop - t) * sizeof *out);
			t = stop;
		}
		return;
	}
	for (uint32_t i = lower_bound(c, from); i < c->n && c->cells[i].minute < end; i++)
		out[c->cells[i].minute - from] = c->cells[i].count;
}

size_t ts_mc_memory(const ts_mincounts *c)
{
	size_t m = (size_t)c->alloc * sizeof *c->cells;
	if (c->dense) {
		m += sizeof *c->dense + (size_t)c->dense->n * sizeof *c->dense->days;
		for (uint32_t i = 0; i < c->dense->n; i++)
			m += c->dense->days[i] ? TS_MIN_PER_DAY * sizeof(uint32_t) : 0;
	}
	return m;
}

void ts_mc_free(ts_mincounts *c)
{
	free(c->cells);
	if (c->dense) {
		ts_daywin_free(c->dense);
		free(c->dense);
	}
	memset(c, 0, sizeof *c);
}
