/* store_mem.c - the memory backend of the store.
 *
 * Counts: per metric, a ts_mincounts: (minute, count) cells for a sparse
 * series, days of uint32_t[1440] for a busy one, over a window of
 * retention_days + 1 days that slides forward as later days are written;
 * so memory grows with the non-zero minutes held, not with records or
 * with series x days.
 * Attributions: per metric, one vector of (hour, kind, value, count)
 * entries sorted by (hour, kind, value), over a window of hours likewise:
 * 12 bytes per value seen in an hour.
 * Checkpoints: state blobs per partition and a set of hashed (file,
 * partition) marks, so a run that reuses the store in one process (tests)
 * sees what it saved.
 * Everything belongs to the store and is freed by its free.
 */
#include <stdlib.h>

#include "mincounts.h"
#include "store.h"
#include "tally.h"

/* One attribution count: hk = hour * 4 + kind, so entries sort by hour,
 * then kind, then value. Hours of eventTimes (years 1970 to 9999, and the
 * minutes an aggregator opens before them) fit hk in 32 bits. */
typedef struct attr_ent {
	int32_t hk;
	uint32_t value;
	uint32_t count;
} attr_ent;

typedef struct mem_metric {
	ts_mincounts counts;
	attr_ent *attrs;   /* sorted by (hk, value); hours in the window */
	uint32_t nattrs, attrs_alloc;
	int32_t base_hour; /* first hour of the attribution window (hk range) */
	uint32_t nhours;   /* its length; 0 before the first add */
} mem_metric;

typedef struct mem_store {
	ts_store base;
	mem_metric *m;
	uint32_t nm;
	int64_t bytes;
	ts_buf *states; /* per partition: the saved state blob */
	uint32_t nstates;
	ts_tally marks; /* file_key() -> 1: files done per partition, and the index */
} mem_store;

static int ensure_metric(mem_store *s, uint32_t id)
{
	if (id < s->nm)
		return 0;
	uint32_t n = s->nm ? s->nm : 64;
	while (n <= id)
		n *= 2;
	mem_metric *m = realloc(s->m, n * sizeof *m);
	if (!m)
		return TS_ENOMEM;
	memset(m + s->nm, 0, (n - s->nm) * sizeof *m);
	s->m = m;
	s->nm = n;
	return 0;
}

static int mem_add_minute(ts_store *st, uint32_t partition, int64_t minute, const ts_count *c,
			  size_t n)
{
	mem_store *s = (mem_store *)st;
	(void)partition;
	for (size_t i = 0; i < n; i++) {
		if (!c[i].count)
			continue;
		if (ensure_metric(s, c[i].metric))
			return TS_ENOMEM;
		int rc = ts_mc_add(&s->m[c[i].metric].counts, (uint32_t)s->base.retention_days + 1,
				   minute, c[i].count, &s->bytes);
		if (rc)
			return rc;
	}
	return 0;
}

static int mem_read_counts(ts_store *st, uint32_t metric, int64_t from, size_t n, uint32_t *out)
{
	mem_store *s = (mem_store *)st;
	if (metric >= s->nm) {
		memset(out, 0, n * sizeof *out);
		return 0;
	}
	ts_mc_read(&s->m[metric].counts, from, n, out);
	return 0;
}

/* Index of the first entry at or after (hk, value). */
static uint32_t attr_lower(const mem_metric *mm, int64_t hk, uint32_t value)
{
	uint32_t lo = 0, hi = mm->nattrs;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const attr_ent *e = &mm->attrs[mid];
		if (e->hk < hk || (e->hk == hk && e->value < value))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Slide the hour window to include hour; 0 if the hour is in it, 1 if it
 * is before it (dropped). The window is fixed at the first add to end at
 * its hour, as the day windows of the counts are. */
static int hour_window(mem_store *s, mem_metric *mm, int64_t hour)
{
	if (!mm->nhours) {
		mm->nhours = ((uint32_t)s->base.retention_days + 1) * 24;
		mm->base_hour = (int32_t)(hour - (int64_t)(mm->nhours - 1));
	}
	if (hour < mm->base_hour)
		return 1;
	if (hour >= (int64_t)mm->base_hour + mm->nhours) {
		mm->base_hour = (int32_t)(hour - (int64_t)(mm->nhours - 1));
		uint32_t keep = attr_lower(mm, (int64_t)mm->base_hour * 4, 0);
		memmove(mm->attrs, mm->attrs + keep, (mm->nattrs - keep) * sizeof *mm->attrs);
		mm->nattrs -= keep;
	}
	return 0;
}

static int mem_add_attrs(ts_store *st, uint32_t partition, int64_t hour_minute,
			 const ts_attr_count *a, size_t n)
{
	mem_store *s = (mem_store *)st;
	(void)partition;
	int64_t hour = ts_floordiv(hour_minute, 60);
	if (hour < INT32_MIN / 4 || hour >= INT32_MAX / 4)
		return 0; /* no eventTime names it */
	for (size_t i = 0; i < n; i++) {
		if (ensure_metric(s, a[i].metric))
			return TS_ENOMEM;
		mem_metric *mm = &s->m[a[i].metric];
		if (hour_window(s, mm, hour))
			continue;
		int32_t hk = (int32_t)(hour * 4 + (a[i].kind & 3));
		uint32_t k = mm->nattrs && (mm->attrs[mm->nattrs - 1].hk < hk ||
					    (mm->attrs[mm->nattrs - 1].hk == hk &&
					     mm->attrs[mm->nattrs - 1].value < a[i].value))
				     ? mm->nattrs
				     : attr_lower(mm, hk, a[i].value);
		if (k < mm->nattrs && mm->attrs[k].hk == hk && mm->attrs[k].value == a[i].value) {
			mm->attrs[k].count += a[i].count;
			continue;
		}
		if (mm->nattrs == mm->attrs_alloc) {
			uint32_t na = mm->attrs_alloc ? mm->attrs_alloc + mm->attrs_alloc / 2 + 2 : 4;
			attr_ent *e = realloc(mm->attrs, na * sizeof *e);
			if (!e)
				return TS_ENOMEM;
			s->bytes += (int64_t)(na - mm->attrs_alloc) * (int64_t)sizeof *e;
			mm->attrs = e;
			mm->attrs_alloc = na;
		}
		memmove(mm->attrs + k + 1, mm->attrs + k, (mm->nattrs - k) * sizeof *mm->attrs);
		mm->attrs[k] = (attr_ent){hk, a[i].value, a[i].count};
		mm->nattrs++;
	}
	return 0;
}

/* Sum the window's entries per (kind, value) in a tally, then report. */
static int mem_read_attrs(ts_store *st, uint32_t metric, int64_t from, int64_t to, ts_attr_cb cb,
			  void *ctx)
{
	mem_store *s = (mem_store *)st;
	if (metric >= s->nm || !s->m[metric].nattrs)
		return 0;
	const mem_metric *mm = &s->m[metric];
	int64_t h0 = ts_floordiv(from, 60), h1 = ts_floordiv(to, 60);
	ts_tally sums = {0};
	int rc = 0;
	for (uint32_t k = attr_lower(mm, h0 * 4, 0); k < mm->nattrs && mm->attrs[k].hk < h1 * 4 && !rc;
	     k++)
		rc = ts_tally_add(&sums, ts_attr_key(0, (unsigned)(mm->attrs[k].hk & 3), mm->attrs[k].value),
				  mm->attrs[k].count);
	uint64_t key, c;
	for (uint32_t i = 0; !rc && ts_tally_next(&sums, &i, &key, &c);)
		rc = cb(ctx, (int)ts_attr_key_kind(key), ts_attr_key_value(key), c);
	ts_tally_free(&sums);
	return rc;
}

static size_t mem_memory(const ts_store *st)
{
	const mem_store *s = (const mem_store *)st;
	return (size_t)s->bytes + s->nm * sizeof(mem_metric);
}

static size_t mem_history_memory(const ts_store *st, size_t *attrs)
{
	const mem_store *s = (const mem_store *)st;
	size_t a = 0;
	for (uint32_t i = 0; i < s->nm; i++)
		a += (size_t)s->m[i].attrs_alloc * sizeof *s->m[i].attrs;
	*attrs = a;
	return (size_t)s->bytes;
}

static void mem_free(ts_store *st)
{
	mem_store *s = (mem_store *)st;
	for (uint32_t i = 0; i < s->nm; i++) {
		mem_metric *mm = &s->m[i];
		ts_mc_free(&mm->counts);
		free(mm->attrs);
	}
	free(s->m);
	for (uint32_t i = 0; i < s->nstates; i++)
		ts_buf_free(&s->states[i]);
	free(s->states);
	ts_tally_free(&s->marks);
	free(s);
}

/* Nothing is buffered: every add is already in place. */
static int mem_flush(ts_store *st)
{
	(void)st;
	return 0;
}

/* A 64-bit key for (file, partition); UINT32_MAX is the index. */
static uint64_t file_key(const ts_file_id *f, uint32_t partition)
{
	uint64_t h = ts_hash(f->name, strlen(f->name), partition);
	h = ts_hash(&f->size, sizeof f->size, h);
	return ts_hash(&f->mtime, sizeof f->mtime, h) >> 1;
}

static int mem_put_state(ts_store *st, uint32_t partition, const void *blob, size_t len,
			 const ts_file_id *files, size_t nfiles)
{
	mem_store *s = (mem_store *)st;
	if (partition >= s->nstates) {
		uint32_t n = s->nstates ? s->nstates : 16;
		while (n <= partition)
			n *= 2;
		ts_buf *b = realloc(s->states, n * sizeof *b);
		if (!b)
			return TS_ENOMEM;
		memset(b + s->nstates, 0, (n - s->nstates) * sizeof *b);
		s->states = b;
		s->nstates = n;
	}
	ts_buf *b = &s->states[partition];
	/* held until the end: no room to spare */
	if (b->alloc != len + 1) {
		ts_buf_free(b);
		char *p = malloc(len + 1);
		if (!p)
			return TS_ENOMEM;
		*b = (ts_buf){p, 0, len + 1, 0};
	}
	ts_buf_reset(b);
	int rc = ts_buf_add(b, blob, len);
	for (size_t i = 0; i < nfiles && !rc; i++)
		rc = ts_tally_add(&s->marks, file_key(&files[i], partition), 1);
	return rc;
}

static int mem_get_state(ts_store *st, uint32_t partition, ts_buf *out)
{
	mem_store *s = (mem_store *)st;
	ts_buf_reset(out);
	if (partition >= s->nstates || !s->states[partition].len)
		return 0;
	return ts_buf_add(out, s->states[partition].p, s->states[partition].len);
}

static int mem_file_done_in(ts_store *st, uint32_t partition, const ts_file_id *f, int *done)
{
	mem_store *s = (mem_store *)st;
	*done = ts_tally_get(&s->marks, file_key(f, partition)) != 0;
	return 0;
}

static int mem_mark_files(ts_store *st, const ts_file_id *f, size_t n)
{
	mem_store *s = (mem_store *)st;
	for (size_t i = 0; i < n; i++)
		if (ts_tally_add(&s->marks, file_key(&f[i], UINT32_MAX), 1))
			return TS_ENOMEM;
	return 0;
}

static int mem_files_done(ts_store *st, const ts_file_id *f, size_t n, uint8_t *done)
{
	mem_store *s = (mem_store *)st;
	for (size_t i = 0; i < n; i++)
		done[i] = ts_tally_get(&s->marks, file_key(&f[i], UINT32_MAX)) != 0;
	return 0;
}

static int mem_partitions(ts_store *st, ts_buf *out)
{
	mem_store *s = (mem_store *)st;
	ts_buf_reset(out);
	int rc = 0;
	for (uint32_t i = 0; i < s->nstates && !rc; i++) {
		ts_partition *p = s->states[i].len ? ts_registry_get_partition(st->reg, i) : NULL;
		if (p)
			rc = ts_buf_printf(out, "%.*s:%.*s%c", (int)p->account.n, p->account.p,
					   (int)p->region.n, p->region.p, 0);
	}
	return rc;
}

static int mem_flush_due(const ts_store *st)
{
	(void)st;
	return 0;
}

static const ts_store_ops mem_ops = {
	.name = "mem",
	.add_minute = mem_add_minute,
	.read_counts = mem_read_counts,
	.add_attrs = mem_add_attrs,
	.read_attrs = mem_read_attrs,
	.memory = mem_memory,
	.history_memory = mem_history_memory,
	.free = mem_free,
	.flush = mem_flush,
	.put_state = mem_put_state,
	.get_state = mem_get_state,
	.file_done_in = mem_file_done_in,
	.mark_files = mem_mark_files,
	.files_done = mem_files_done,
	.flush_due = mem_flush_due,
	.partitions = mem_partitions,
};

int ts_store_mem_new(ts_registry *reg, const ts_store_opts *opts, ts_store **out)
{
	mem_store *s = calloc(1, sizeof *s);
	if (!s)
		return TS_ENOMEM;
	s->base.ops = &mem_ops;
	s->base.reg = reg;
	s->base.retention_days = opts && opts->retention_days > 0 ? opts->retention_days : 28;
	*out = &s->base;
	return 0;
}
