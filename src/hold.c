/* hold.c - a growable array of held events with a cap.
 *
 * ev[0..n) are the events appended since the last reset; alloc is the
 * capacity, doubled as needed and never past cap. ts_hold_sort orders them
 * by (minute, seq) with qsort: seq is unique per record and a record's
 * events are appended in order, so the comparison only ties on the events
 * of one record, which then keep no particular order among themselves (they
 * are different metrics, so the result does not depend on it).
 */
#include <stdlib.h>

#include "err.h"
#include "hold.h"

#define HOLD_CAP_DEFAULT ((size_t)32 << 20)

struct ts_hold {
	ts_held *ev;
	size_t n, alloc, cap;
};

ts_hold *ts_hold_new(size_t cap)
{
	ts_hold *h = calloc(1, sizeof *h);
	if (h)
		h->cap = cap ? cap : HOLD_CAP_DEFAULT;
	return h;
}

void ts_hold_free(ts_hold *h)
{
	if (!h)
		return;
	free(h->ev);
	free(h);
}

int ts_hold_add(ts_hold *h, const ts_held *ev)
{
	if (h->n == h->alloc) {
		if (h->n >= h->cap)
			return TS_ECAP;
		size_t a = h->alloc ? h->alloc * 2 : 1024;
		if (a > h->cap)
			a = h->cap;
		ts_held *x = realloc(h->ev, a * sizeof *x);
		if (!x)
			return TS_ENOMEM;
		h->ev = x;
		h->alloc = a;
	}
	h->ev[h->n++] = *ev;
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const ts_held *x = a, *y = b;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (x->metric > y->metric) - (x->metric < y->metric);
}

void ts_hold_sort(ts_hold *h)
{
	if (h->n > 1)
		qsort(h->ev, h->n, sizeof *h->ev, by_time);
}

const ts_held *ts_hold_at(const ts_hold *h, size_t i) { return &h->ev[i]; }

size_t ts_hold_count(const ts_hold *h) { return h->n; }

void ts_hold_reset(ts_hold *h)
{
	free(h->ev);
	h->ev = NULL;
	h->n = h->alloc = 0;
}

size_t ts_hold_memory(const ts_hold *h) { return h->alloc * sizeof *h->ev; }
