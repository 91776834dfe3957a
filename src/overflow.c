/* overflow.c - the overflow table of overflow.h.
 *
 * Keys are interned as 4 bytes of partition id then the eventSource;
 * the key id indexes rows[]. Past max_keys rows, a partition's records
 * go to its "other" row (the key of an empty source), which is made even
 * when the table is full (one per partition at most, partitions being
 * capped by the registry).
 */
#include <stdlib.h>

#include "intern.h"
#include "overflow.h"

struct ts_overflow {
	ts_intern *keys;
	ts_overflow_row *rows; /* by key id */
	uint32_t nrows, alloc, max_keys;
	uint64_t total[TS_OV_KINDS];
	ts_buf key; /* scratch */
};

ts_overflow *ts_overflow_new(uint32_t max_keys)
{
	ts_overflow *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->max_keys = max_keys ? max_keys : 10000;
	if (!(o->keys = ts_intern_new(0, 0))) {
		free(o);
		return NULL;
	}
	return o;
}

void ts_overflow_free(ts_overflow *o)
{
	if (!o)
		return;
	ts_intern_free(o->keys);
	free(o->rows);
	ts_buf_free(&o->key);
	free(o);
}

/* The row of (partition, source), made if new; NULL on ENOMEM. */
static ts_overflow_row *row_of(ts_overflow *o, uint32_t partition, ts_str source)
{
	ts_buf_reset(&o->key);
	if (ts_buf_add(&o->key, &partition, sizeof partition) ||
	    ts_buf_add(&o->key, source.p, source.n))
		return NULL;
	uint32_t id;
	ts_str k = {o->key.p, o->key.len};
	if (ts_intern_find(o->keys, k, &id) == 0)
		return &o->rows[id];
	if (o->nrows == o->alloc) {
		uint32_t na = o->alloc ? o->alloc * 2 : 16;
		ts_overflow_row *r = realloc(o->rows, na * sizeof *r);
		if (!r)
			return NULL;
		o->rows = r;
		o->alloc = na;
	}
	if (ts_intern_put(o->keys, k, &id, NULL))
		return NULL;
	ts_str stored = ts_intern_str(o->keys, id);
	ts_overflow_row *r = &o->rows[id];
	memset(r, 0, sizeof *r);
	r->partition = partition;
	r->source = (ts_str){stored.p + sizeof partition, stored.n - sizeof partition};
	o->nrows++;
	return r;
}

int ts_overflow_add(ts_overflow *o, uint32_t partition, ts_str source, int kind)
{
	if (o->nrows >= o->max_keys) {
		uint32_t id;
		ts_buf_reset(&o->key);
		if (ts_buf_add(&o->key, &partition, sizeof partition) ||
		    ts_buf_add(&o->key, source.p, source.n))
			return TS_ENOMEM;
		if (ts_intern_find(o->keys, (ts_str){o->key.p, o->key.len}, &id) != 0)
			source = (ts_str){"", 0};
	}
	ts_overflow_row *r = row_of(o, partition, source);
	if (!r)
		return TS_ENOMEM;
	r->count[kind]++;
	o->total[kind]++;
	return 0;
}

uint64_t ts_overflow_total(const ts_overflow *o, int kind) { return o->total[kind]; }
uint32_t ts_overflow_rows(const ts_overflow *o) { return o->nrows; }

static int by_records(const void *a, const void *b)
{
	const ts_overflow_row *x = a, *y = b;
	uint64_t cx = x->count[0] + x->count[1], cy = y->count[0] + y->count[1];
	if (cx != cy)
		return cx > cy ? -1 : 1;
	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	size_t n = x->source.n < y->source.n ? x->source.n : y->source.n;
	int c = memcmp(x->source.p, y->source.p, n);
	return c ? c : (x->source.n > y->source.n) - (x->source.n < y->source.n);
}

int ts_overflow_top(const ts_overflow *o, uint32_t max, ts_overflow_row **rows, uint32_t *n)
{
	*rows = NULL;
	*n = 0;
	if (!o->nrows)
		return 0;
	ts_overflow_row *r = malloc(o->nrows * sizeof *r);
	if (!r)
		return TS_ENOMEM;
	memcpy(r, o->rows, o->nrows * sizeof *r);
	qsort(r, o->nrows, sizeof *r, by_records);
	*rows = r;
	*n = o->nrows < max ? o->nrows : max;
	return 0;
}

size_t ts_overflow_memory(const ts_overflow *o)
{
	return ts_intern_memory(o->keys) + (size_t)o->alloc * sizeof *o->rows;
}
