/* store_mem.c - the memory backend of the store.
 *
 * Counts: per metric, a window of days; each day is NULL (nothing counted)
 * or a uint32_t[1440] array, allocated on first write. The window slides
 * forward as later days are written; days more than retention_days before
 * the newest day are freed, so memory grows with series x retention, not
 * with records.
 * Attributions: per metric, a window of hours likewise; each hour is a small
 * unsorted vector of (kind, value, count), merged on add.
 * Checkpoints: state blobs per partition and a set of hashed (file,
 * partition) marks, so a run that reuses the store in one process (tests)
 * sees what it saved.
 * Everything belongs to the store and is freed by its free.
 */
#include <stdlib.h>

#include "daywin.h"
#include "store.h"
#include "tally.h"

typedef struct attr_ent {
	uint32_t value;
	uint32_t count;
	uint8_t kind;
} attr_ent;

typedef struct hour_vec {
	attr_ent *e;
	uint32_t n, alloc;
} hour_vec;

typedef struct mem_metric {
	ts_daywin days;
	int64_t base_hour; /* hour index (minute / 60) of hours[0] */
	uint32_t nhours;
	hour_vec *hours;
} mem_metric;

typedef struct mem_store {
	ts_store base;
	mem_metric *m;
	uint32_t nm;
	size_t bytes;
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
	int64_t day = ts_day_of(minute);
	unsigned mod = (unsigned)(minute - day * TS_MIN_PER_DAY);
	for (size_t i = 0; i < n; i++) {
		if (!c[i].count)
			continue;
		if (ensure_metric(s, c[i].metric))
			return TS_ENOMEM;
		unsigned freed = 0;
		int nomem;
		uint32_t **slot = ts_daywin_slot(&s->m[c[i].metric].days,
						 (uint32_t)s->base.retention_days + 1, day, &freed, &nomem);
		s->bytes -= freed * TS_MIN_PER_DAY * sizeof(uint32_t);
		if (!slot) {
			if (nomem)
				return TS_ENOMEM;
			continue; /* older than retention */
		}
		if (!*slot) {
			*slot = calloc(TS_MIN_PER_DAY, sizeof **slot);
			if (!*slot)
				return TS_ENOMEM;
			s->bytes += TS_MIN_PER_DAY * sizeof(uint32_t);
		}
		(*slot)[mod] += c[i].count;
	}
	return 0;
}

static int mem_read_counts(ts_store *st, uint32_t metric, int64_t from, size_t n, uint32_t *out)
{
	mem_store *s = (mem_store *)st;
	memset(out, 0, n * sizeof *out);
	if (metric >= s->nm)
		return 0;
	const ts_daywin *w = &s->m[metric].days;
	int64_t t = from, end = from + (int64_t)n;
	while (t < end) {
		int64_t day = ts_day_of(t);
		int64_t day_end = (day + 1) * TS_MIN_PER_DAY;
		int64_t stop = day_end < end ? day_end : end;
		const uint32_t *counts = ts_daywin_get(w, day);
		if (counts)
			memcpy(out + (t - from), counts + (t - day * TS_MIN_PER_DAY),
			       (size_t)(stop - t) * sizeof *out);
		t = stop;
	}
	return 0;
}

static hour_vec *hour_slot(mem_store *s, mem_metric *mm, int64_t hour)
{
	uint32_t keep = ((uint32_t)s->base.retention_days + 1) * 24;
	if (!mm->hours) {
		mm->hours = calloc(keep, sizeof *mm->hours);
		if (!mm->hours)
			return NULL;
		mm->nhours = keep;
		mm->base_hour = hour - (keep - 1);
	}
	if (hour < mm->base_hour)
		return (hour_vec *)-1;
	if (hour >= mm->base_hour + mm->nhours) {
		int64_t shift = hour - (mm->base_hour + mm->nhours - 1);
		for (int64_t i = 0; i < shift && i < mm->nhours; i++) {
			s->bytes -= mm->hours[i].alloc * sizeof(attr_ent);
			free(mm->hours[i].e);
		}
		if (shift < mm->nhours)
			memmove(mm->hours, mm->hours + shift, (mm->nhours - shift) * sizeof *mm->hours);
		int64_t from = shift < mm->nhours ? mm->nhours - shift : 0;
		memset(mm->hours + from, 0, (mm->nhours - from) * sizeof *mm->hours);
		mm->base_hour += shift;
	}
	return &mm->hours[hour - mm->base_hour];
}

static int mem_add_attrs(ts_store *st, uint32_t partition, int64_t hour_minute,
			 const ts_attr_count *a, size_t n)
{
	mem_store *s = (mem_store *)st;
	(void)partition;
	int64_t hour = ts_floordiv(hour_minute, 60);
	for (size_t i = 0; i < n; i++) {
		if (ensure_metric(s, a[i].metric))
			return TS_ENOMEM;
		hour_vec *v = hour_slot(s, &s->m[a[i].metric], hour);
		if (!v)
			return TS_ENOMEM;
		if (v == (hour_vec *)-1)
			continue;
		uint32_t k;
		for (k = 0; k < v->n; k++)
			if (v->e[k].value == a[i].value && v->e[k].kind == a[i].kind)
				break;
		if (k == v->n) {
			if (v->n == v->alloc) {
				uint32_t na = v->alloc ? v->alloc * 2 : 4;
				attr_ent *e = realloc(v->e, na * sizeof *e);
				if (!e)
					return TS_ENOMEM;
				s->bytes += (na - v->alloc) * sizeof *e;
				v->e = e;
				v->alloc = na;
			}
			v->e[v->n++] = (attr_ent){a[i].value, 0, a[i].kind};
		}
		v->e[k].count += a[i].count;
	}
	return 0;
}

/* Sum entries into a scratch vector, then report. Windows are short (a
 * week of hours) and value sets small, so a linear merge is fine. */
static int mem_read_attrs(ts_store *st, uint32_t metric, int64_t from, int64_t to, ts_attr_cb cb,
			  void *ctx)
{
	mem_store *s = (mem_store *)st;
	if (metric >= s->nm || !s->m[metric].hours)
		return 0;
	mem_metric *mm = &s->m[metric];
	int64_t h0 = ts_floordiv(from, 60), h1 = ts_floordiv(to, 60);
	attr_ent *acc = NULL;
	uint64_t *sums = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;
	for (int64_t h = h0 < mm->base_hour ? mm->base_hour : h0;
	     h < h1 && h < mm->base_hour + mm->nhours; h++) {
		hour_vec *v = &mm->hours[h - mm->base_hour];
		for (uint32_t k = 0; k < v->n; k++) {
			size_t j;
			for (j = 0; j < n; j++)
				if (acc[j].value == v->e[k].value && acc[j].kind == v->e[k].kind)
					break;
			if (j == n) {
				if (n == alloc) {
					size_t na = alloc ? alloc * 2 : 16;
					attr_ent *e = realloc(acc, na * sizeof *e);
					uint64_t *u = e ? realloc(sums, na * sizeof *u) : NULL;
					if (e)
						acc = e;
					if (!u) {
						rc = TS_ENOMEM;
						goto out_free;
					}
					sums = u;
					alloc = na;
				}
				acc[n] = v->e[k];
				sums[n++] = 0;
			}
			sums[j] += v->e[k].count;
		}
	}
	for (size_t j = 0; j < n && !rc; j++)
		rc = cb(ctx, acc[j].kind, acc[j].value, sums[j]);
out_free:
	free(acc);
	free(sums);
	return rc;
}

static size_t mem_memory(const ts_store *st)
{
	const mem_store *s = (const mem_store *)st;
	return s->bytes + s->nm * sizeof(mem_metric);
}

static void mem_free(ts_store *st)
{
	mem_store *s = (mem_store *)st;
	for (uint32_t i = 0; i < s->nm; i++) {
		mem_metric *mm = &s->m[i];
		ts_daywin_free(&mm->days);
		for (uint32_t h = 0; h < mm->nhours; h++)
			free(mm->hours[h].e);
		free(mm->hours);
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
	ts_buf_reset(&s->states[partition]);
	int rc = ts_buf_add(&s->states[partition], blob, len);
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
