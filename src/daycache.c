/* daycache.c - the held days and sparse counts of daycache.h.
 *
 * Invariant: the held bits name days in mc's window (bit i: day
 * ts_mc_first_day + i, i < n_days); counts exist only for held days, since
 * they are added only to held days and leave with them when the window
 * slides (the bits shift by as many days as the window moved).
 */
#include <stdlib.h>

#include "daycache.h"
#include "util.h"

#define INLINE_DAYS 64

static int is_inline(const ts_daycache *c) { return c->mc.n_days <= INLINE_DAYS; }

static size_t nwords(const ts_daycache *c) { return (c->mc.n_days + 63) / 64; }

static uint64_t *bits_of(ts_daycache *c) { return is_inline(c) ? &c->held.bits : c->held.words; }

static const uint64_t *cbits_of(const ts_daycache *c)
{
	return is_inline(c) ? &c->held.bits : c->held.words;
}

int ts_dc_has(const ts_daycache *c, int64_t day)
{
	if (!c->mc.n_days)
		return 0;
	int64_t i = day - ts_mc_first_day(&c->mc);
	if (i < 0 || i >= (int64_t)c->mc.n_days)
		return 0;
	const uint64_t *b = cbits_of(c);
	return (int)((b[i / 64] >> (i % 64)) & 1);
}

/* Move the held bits down by k days (the window's first day moved on). */
static void shift_down(ts_daycache *c, int64_t k)
{
	uint64_t *b = bits_of(c);
	size_t nw = nwords(c);
	if (k <= 0)
		return;
	if (k >= (int64_t)nw * 64) {
		memset(b, 0, nw * sizeof *b);
		return;
	}
	size_t w = (size_t)(k / 64);
	unsigned s = (unsigned)(k % 64);
	for (size_t i = 0; i < nw; i++) {
		uint64_t lo = i + w < nw ? b[i + w] : 0, hi = i + w + 1 < nw ? b[i + w + 1] : 0;
		b[i] = s ? lo >> s | hi << (64 - s) : lo;
	}
}

int ts_dc_hold(ts_daycache *c, uint32_t n_days, int64_t day, int64_t *bytes)
{
	if (day < INT32_MIN || day > INT32_MAX)
		return 1; /* no eventTime names it */
	if (ts_dc_has(c, day))
		return 0;
	int first = !c->mc.n_days;
	if (first && n_days > INLINE_DAYS) {
		size_t nw = (n_days + 63) / 64;
		uint64_t *w = calloc(nw, sizeof *w);
		if (!w)
			return TS_ENOMEM;
		c->held.words = w;
		if (bytes)
			*bytes += (int64_t)(nw * sizeof *w);
	}
	int64_t before = first ? 0 : ts_mc_first_day(&c->mc);
	int rc = ts_mc_slide(&c->mc, n_days, day, bytes); /* sets mc.n_days */
	if (rc)
		return rc;
	if (!first)
		shift_down(c, ts_mc_first_day(&c->mc) - before);
	int64_t i = day - ts_mc_first_day(&c->mc);
	bits_of(c)[i / 64] |= (uint64_t)1 << (i % 64);
	return 0;
}

int ts_dc_add(ts_daycache *c, int64_t minute, uint32_t count, int64_t *bytes)
{
	if (!c->mc.n_days)
		return 0; /* no day held */
	/* a held day is in the window, so the window stays; were it to move,
	 * the bits follow it */
	int64_t before = ts_mc_first_day(&c->mc);
	int rc = ts_mc_add(&c->mc, c->mc.n_days, minute, count, bytes);
	shift_down(c, ts_mc_first_day(&c->mc) - before);
	return rc;
}

void ts_dc_read(const ts_daycache *c, int64_t from, size_t n, uint32_t *out)
{
	ts_mc_read(&c->mc, from, n, out);
}

size_t ts_dc_memory(const ts_daycache *c)
{
	return ts_mc_memory(&c->mc) + (is_inline(c) ? 0 : nwords(c) * sizeof(uint64_t));
}

void ts_dc_free(ts_daycache *c)
{
	if (!is_inline(c))
		free(c->held.words);
	ts_mc_free(&c->mc);
	memset(c, 0, sizeof *c);
}
