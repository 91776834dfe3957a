/* markcache.c - the per-day file mark cache of markcache.h.
 *
 * Invariant: at most one entry per day. Each entry
 * owns its two tallies; ts_mk_prune and ts_mk_free release them.
 */
#include <stdlib.h>

#include "markcache.h"
#include "util.h"

static ts_mk_day *find(const ts_markcache *c, int64_t day)
{
	for (uint32_t i = c->n; i-- > 0;) /* the newest days are added last */
		if (c->d[i].day == day)
			return &c->d[i];
	return NULL;
}

/* The day's entry, added if new; NULL on ENOMEM. */
static ts_mk_day *get(ts_markcache *c, int64_t day)
{
	ts_mk_day *d = find(c, day);
	if (d)
		return d;
	if (c->n == c->alloc) {
		uint32_t na = c->alloc ? c->alloc * 2 : 4;
		ts_mk_day *nd = realloc(c->d, na * sizeof *nd);
		if (!nd)
			return NULL;
		c->d = nd;
		c->alloc = na;
	}
	d = &c->d[c->n++];
	memset(d, 0, sizeof *d);
	d->day = day;
	return d;
}

int ts_mk_add(ts_markcache *c, int64_t day, uint64_t hash)
{
	ts_mk_day *d = get(c, day);
	return d ? ts_tally_add(&d->seen, hash, 1) : TS_ENOMEM;
}

int ts_mk_has(const ts_markcache *c, int64_t day, uint64_t hash)
{
	const ts_mk_day *d = find(c, day);
	return d && ts_tally_get(&d->seen, hash) != 0;
}

int ts_mk_set_read(ts_markcache *c, int64_t day, uint32_t partition)
{
	ts_mk_day *d = get(c, day);
	return d ? ts_tally_add(&d->read, partition, 1) : TS_ENOMEM;
}

int ts_mk_was_read(const ts_markcache *c, int64_t day, uint32_t partition)
{
	const ts_mk_day *d = find(c, day);
	return d && ts_tally_get(&d->read, partition) != 0;
}

void ts_mk_prune(ts_markcache *c, int64_t keep_days)
{
	if (!c->n)
		return;
	int64_t newest = c->d[0].day;
	for (uint32_t i = 1; i < c->n; i++)
		newest = c->d[i].day > newest ? c->d[i].day : newest;
	uint32_t w = 0;
	for (uint32_t i = 0; i < c->n; i++) {
		if (c->d[i].day < newest - keep_days) {
			ts_tally_free(&c->d[i].read);
			ts_tally_free(&c->d[i].seen);
		} else {
			c->d[w++] = c->d[i];
		}
	}
	c->n = w;
	if (c->alloc > 16 && c->n * 4 < c->alloc) { /* a backfill's many days passed */
		ts_mk_day *nd = realloc(c->d, (c->n ? c->n : 1) * sizeof *nd);
		if (nd) {
			c->d = nd;
			c->alloc = c->n ? c->n : 1;
		}
	}
}

uint32_t ts_mk_days(const ts_markcache *c) { return c->n; }

size_t ts_mk_count(const ts_markcache *c)
{
	size_t n = 0;
	for (uint32_t i = 0; i < c->n; i++)
		n += c->d[i].seen.n;
	return n;
}

size_t ts_mk_memory(const ts_markcache *c)
{
	size_t m = (size_t)c->alloc * sizeof *c->d;
	for (uint32_t i = 0; i < c->n; i++)
		m += ts_tally_memory(&c->d[i].read) + ts_tally_memory(&c->d[i].seen);
	return m;
}

void ts_mk_free(ts_markcache *c)
{
	for (uint32_t i = 0; i < c->n; i++) {
		ts_tally_free(&c->d[i].read);
		ts_tally_free(&c->d[i].seen);
	}
	free(c->d);
	memset(c, 0, sizeof *c);
}
