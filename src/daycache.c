/* daycache.c - the held days and sparse counts of daycache.h.
 *
 * Invariant: every held day lies in mc's window (ts_mc_first_day and the
 * n_days after it); counts exist only for held days, since they are added
 * only to held days and leave with them when the window slides.
 */
#include <stdlib.h>

#include "daycache.h"
#include "util.h"

/* Index of the first held day at or after day. */
static uint32_t lower(const ts_daycache *c, int64_t day)
{
	uint32_t lo = 0, hi = c->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (c->days[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ts_dc_has(const ts_daycache *c, int64_t day)
{
	uint32_t i = lower(c, day);
	return i < c->n && c->days[i] == day;
}

int ts_dc_hold(ts_daycache *c, uint32_t n_days, int64_t day, int64_t *bytes)
{
	if (day < INT32_MIN || day > INT32_MAX)
		return 1; /* no eventTime names it */
	if (ts_dc_has(c, day))
		return 0;
	int rc = ts_mc_slide(&c->mc, n_days, day, bytes);
	if (rc)
		return rc;
	uint32_t drop = lower(c, ts_mc_first_day(&c->mc));
	if (drop) {
		memmove(c->days, c->days + drop, (c->n - drop) * sizeof *c->days);
		c->n -= drop;
	}
	if (c->n == c->alloc) {
		uint32_t na = c->alloc ? c->alloc * 2 : 2;
		int32_t *d = realloc(c->days, na * sizeof *d);
		if (!d)
			return TS_ENOMEM;
		if (bytes)
			*bytes += (int64_t)(na - c->alloc) * (int64_t)sizeof *d;
		c->days = d;
		c->alloc = na;
	}
	uint32_t i = lower(c, day);
	memmove(c->days + i + 1, c->days + i, (c->n - i) * sizeof *c->days);
	c->days[i] = (int32_t)day;
	c->n++;
	return 0;
}

int ts_dc_add(ts_daycache *c, int64_t minute, uint32_t count, int64_t *bytes)
{
	return ts_mc_add(&c->mc, c->mc.n_days, minute, count, bytes);
}

void ts_dc_read(const ts_daycache *c, int64_t from, size_t n, uint32_t *out)
{
	ts_mc_read(&c->mc, from, n, out);
}

size_t ts_dc_memory(const ts_daycache *c)
{
	return ts_mc_memory(&c->mc) + (size_t)c->alloc * sizeof *c->days;
}

void ts_dc_free(ts_daycache *c)
{
	ts_mc_free(&c->mc);
	free(c->days);
	memset(c, 0, sizeof *c);
}
