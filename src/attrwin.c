/* attrwin.c - one partition's attribution windows (see attrwin.h).
 *
 * The ring holds each closed minute's admitted attribution counts as an
 * array (a slot that held a burst gives its memory back when reused); the
 * hour tally counts (metric, kind, value) over the open hour and
 * hour_nvals the distinct values of each (metric, kind) in it. With a
 * store that keeps minutes (add_attr_minute), the ring holds only which
 * minute each slot has (smin): the counts are the store's, read back, so
 * a window sums what the full ring would, and one scratch slot (one)
 * holds the minute being admitted. The window owns
 * all of it; ts_attrwin_free releases it.
 */
#include <stdlib.h>

#include "agg.h"
#include "attrwin.h"

typedef struct detail_slot {
	int64_t minute; /* INT64_MIN: empty */
	ts_attr_count *e;
	uint32_t n, alloc;
} detail_slot;

struct ts_attrwin {
	detail_slot *detail;   /* [TS_ATTRWIN_RING], or NULL: minutes in the store */
	int64_t *smin;         /* minutes in the store: [TS_ATTRWIN_RING] slots'
				  minutes (INT64_MIN: empty); else NULL */
	detail_slot one;       /* minutes in the store: the minute admitted */
	ts_tally hour;         /* (metric, kind, value) -> count of the open hour */
	ts_tally hour_nvals;   /* (metric, kind, 0) -> distinct values in hour */
	int64_t hour_start;    /* first minute of the open hour; INT64_MIN: none */
	int64_t attrs_flushed; /* attribution hours before this minute are stored */
	uint32_t max_values;
};

static int ring_index(int64_t minute)
{
	return (int)(((minute % TS_ATTRWIN_RING) + TS_ATTRWIN_RING) % TS_ATTRWIN_RING);
}

/* The minute ring slot i holds (INT64_MIN: none). */
static int64_t slot_minute(const ts_attrwin *w, int i)
{
	return w->detail ? w->detail[i].minute : w->smin[i];
}

/* 1 if the ring holds minute m. */
static int in_ring(const ts_attrwin *w, int64_t m)
{
	return slot_minute(w, ring_index(m)) == m;
}

/* A store call's result: 0, TS_ENOMEM, or TS_ESTORE for any other. */
static int store_err(int rc)
{
	return rc == 0 || rc == TS_ENOMEM ? rc : TS_ESTORE;
}

ts_attrwin *ts_attrwin_new(uint32_t max_values, int minutes_in_store)
{
	ts_attrwin *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	if (minutes_in_store)
		w->smin = malloc(TS_ATTRWIN_RING * sizeof *w->smin);
	else
		w->detail = calloc(TS_ATTRWIN_RING, sizeof *w->detail);
	if (!w->smin && !w->detail) {
		free(w);
		return NULL;
	}
	for (int s = 0; s < TS_ATTRWIN_RING; s++)
		if (w->smin)
			w->smin[s] = INT64_MIN;
		else
			w->detail[s].minute = INT64_MIN;
	w->hour_start = INT64_MIN;
	w->attrs_flushed = INT64_MIN;
	w->max_values = max_values;
	return w;
}

void ts_attrwin_free(ts_attrwin *w)
{
	if (!w)
		return;
	for (int s = 0; w->detail && s < TS_ATTRWIN_RING; s++)
		free(w->detail[s].e);
	free(w->detail);
	free(w->smin);
	free(w->one.e);
	ts_tally_free(&w->hour);
	ts_tally_free(&w->hour_nvals);
	free(w);
}

/* *ok = 1 when (metric, kind, value) may be counted in the open hour: it
 * is there already, or its series has fewer than max_values values of
 * that kind in the hour (it becomes one of them). Else *ok = 0 and the
 * count is dropped. 0 or TS_ENOMEM. */
static int admit(ts_attrwin *w, uint32_t metric, unsigned kind, uint32_t value, int *ok,
		 ts_attrwin_counts *c)
{
	*ok = 1;
	if (ts_tally_get(&w->hour, ts_attr_key(metric, kind, value)))
		return 0;
	uint64_t nk = ts_attr_key(metric, kind, 0);
	if (ts_tally_get(&w->hour_nvals, nk) >= w->max_values) {
		*ok = 0;
		c->dropped++;
		return 0;
	}
	return ts_tally_add(&w->hour_nvals, nk, 1);
}

int ts_attrwin_flush(ts_attrwin *w, ts_store *s, uint32_t pid, ts_attrwin_counts *c)
{
	if (w->hour_start == INT64_MIN)
		return 0;
	if (w->hour.n) {
		ts_attr_count *a = malloc(w->hour.n * sizeof *a);
		if (!a)
			return TS_ENOMEM;
		size_t n = 0;
		uint64_t k, cnt;
		for (uint32_t i = 0; ts_tally_next(&w->hour, &i, &k, &cnt);)
			a[n++] = (ts_attr_count){ts_attr_key_metric(k), ts_attr_key_value(k),
						 (uint32_t)cnt, (uint8_t)ts_attr_key_kind(k)};
		c->cells += n;
		int rc = s->ops->add_attrs(s, pid, w->hour_start, a, n);
		free(a);
		if (rc)
			return store_err(rc);
		ts_tally_reset(&w->hour);
	}
	ts_tally_reset(&w->hour_nvals);
	w->attrs_flushed = w->hour_start + 60;
	w->hour_start = INT64_MIN;
	return 0;
}

int ts_attrwin_minute(ts_attrwin *w, ts_store *s, uint32_t pid, int64_t minute,
		      const ts_attr_count *a, size_t n, ts_attrwin_counts *c)
{
	int64_t hour = ts_floordiv(minute, 60) * 60;
	int rc;
	if (w->hour_start != hour && (rc = ts_attrwin_flush(w, s, pid, c)))
		return rc;
	w->hour_start = hour;
	int ri = ring_index(minute);
	detail_slot *sl = w->detail ? &w->detail[ri] : &w->one;
	sl->minute = minute;
	if (w->smin)
		w->smin[ri] = minute;
	sl->n = 0;
	/* a slot that held a burst gives its memory back */
	if (sl->alloc > 64 && n * 8 < sl->alloc) {
		free(sl->e);
		sl->e = NULL;
		sl->alloc = 0;
	}
	if (n > sl->alloc) {
		ts_attr_count *x = realloc(sl->e, n * sizeof *x);
		if (!x)
			return TS_ENOMEM;
		sl->e = x;
		sl->alloc = (uint32_t)n;
	}
	for (size_t i = 0; i < n; i++) {
		int ok;
		if ((rc = admit(w, a[i].metric, a[i].kind, a[i].value, &ok, c)))
			return rc;
		if (!ok)
			continue;
		sl->e[sl->n++] = a[i];
		if (ts_tally_add(&w->hour, ts_attr_key(a[i].metric, a[i].kind, a[i].value),
				 a[i].count))
			return TS_ENOMEM;
	}
	/* a store that keeps minutes keeps what the ring holds */
	if (sl->n && s->ops->add_attr_minute &&
	    (rc = s->ops->add_attr_minute(s, pid, minute, sl->e, sl->n)))
		return store_err(rc);
	return 0;
}

int ts_attrwin_minute_done(ts_attrwin *w, ts_store *s, uint32_t pid, int64_t minute,
			   ts_attrwin_counts *c)
{
	int64_t hour = ts_floordiv(minute, 60) * 60;
	return minute == hour + 59 ? ts_attrwin_flush(w, s, pid, c) : 0;
}

int ts_attrwin_late(ts_attrwin *w, ts_store *s, uint32_t pid, int64_t minute, uint32_t metric,
		    const uint32_t vals[TS_A_KINDS], ts_attrwin_counts *c)
{
	ts_attr_count a[TS_A_KINDS];
	size_t n = 0;
	for (int k = 0; k < TS_A_KINDS; k++)
		if (vals[k] != TS_NO_VALUE)
			a[n++] = (ts_attr_count){metric, vals[k], 1, (uint8_t)k};
	int64_t hour = ts_floordiv(minute, 60) * 60;
	if (hour == w->hour_start) {
		for (size_t i = 0; i < n; i++) {
			int ok, rc = admit(w, metric, a[i].kind, a[i].value, &ok, c);
			if (rc)
				return rc;
			if (ok && ts_tally_add(&w->hour, ts_attr_key(metric, a[i].kind, a[i].value), 1))
				return TS_ENOMEM;
		}
		return 0;
	}
	return n ? store_err(s->ops->add_attrs(s, pid, hour, a, n)) : 0;
}

static int add_to_tally(void *ctx, int kind, uint32_t value, uint64_t count)
{
	return ts_tally_add(ctx, ts_attr_key(0, (unsigned)kind, value), count);
}

static int add_minute_to_tally(void *ctx, int64_t minute, int kind, uint32_t value,
			       uint64_t count)
{
	(void)minute;
	return add_to_tally(ctx, kind, value, count);
}

/* Add the ring's counts of metric in minutes [a, b) to t. A store that
 * keeps minutes has the same counts for them: ts_attrwin_window reads the
 * ring for a stored hour only when every minute asked is in the ring, and
 * for the open hour, whose minutes are all in the ring once closed (it is
 * shorter than the ring, and a load restores all of it). */
static int ring_sum(const ts_attrwin *w, ts_store *s, uint32_t metric, int64_t a, int64_t b,
		    ts_tally *t)
{
	int rc = 0;
	if (!w->detail)
		return s->ops->read_attr_minutes(s, metric, a, b, add_minute_to_tally, t);
	for (int64_t m = a; m < b && !rc; m++) {
		const detail_slot *sl = &w->detail[ring_index(m)];
		if (sl->minute != m)
			continue;
		for (uint32_t i = 0; i < sl->n && !rc; i++)
			if (sl->e[i].metric == metric)
				rc = ts_tally_add(t, ts_attr_key(0, sl->e[i].kind, sl->e[i].value),
						  sl->e[i].count);
	}
	return rc;
}

int ts_attrwin_window(const ts_attrwin *w, ts_store *s, uint32_t metric, int64_t from, int64_t to,
		      ts_tally *t)
{
	int64_t h = ts_floordiv(from, 60) * 60;
	int64_t run_from = INT64_MIN, run_to = INT64_MIN;
	int rc = 0;
	for (; h < to && !rc; h += 60) {
		int64_t a = from > h ? from : h, b = to < h + 60 ? to : h + 60;
		int stored = h + 60 <= w->attrs_flushed;
		int whole = a == h && b == h + 60;
		int ring = 1;
		for (int64_t m = a; m < b && ring; m++)
			ring = in_ring(w, m);
		if (stored && (whole || !ring)) {
			/* whole stored hours in a row are read in one call */
			if (run_to != h) {
				if (run_from != INT64_MIN)
					rc = s->ops->read_attrs(s, metric, run_from, run_to,
								add_to_tally, t);
				run_from = h;
			}
			run_to = h + 60;
			continue;
		}
		rc = ring_sum(w, s, metric, a, b, t);
	}
	if (!rc && run_from != INT64_MIN)
		rc = s->ops->read_attrs(s, metric, run_from, run_to, add_to_tally, t);
	return store_err(rc);
}

/* ---- saved state ---- */

static void enc_attr(ts_enc *enc, const ts_registry *reg, uint32_t mid, unsigned kind,
		     uint32_t value, uint64_t count)
{
	ts_enc_u64(enc, ts_registry_get_metric(reg, mid)->local);
	ts_enc_u64(enc, kind);
	ts_enc_value(enc, value);
	ts_enc_u64(enc, count);
}

static int dec_attr(ts_dec *d, const uint32_t *mids, uint32_t nm, ts_attr_count *a)
{
	uint64_t li = ts_dec_count(d, nm ? nm - 1 : 0);
	uint64_t kind = ts_dec_count(d, TS_A_KINDS - 1);
	uint32_t v = ts_dec_value(d);
	uint64_t c = ts_dec_u64(d);
	if (!ts_dec_ok(d, 0) || !nm || c > UINT32_MAX)
		return TS_EINVAL;
	*a = (ts_attr_count){mids[li], v, (uint32_t)c, (uint8_t)kind};
	return 0;
}

void ts_attrwin_save(const ts_attrwin *w, ts_enc *enc, const ts_registry *reg, int64_t cut)
{
	ts_enc_i64(enc, w->hour_start);
	ts_enc_i64(enc, w->attrs_flushed);
	ts_enc_u64(enc, w->hour.n);
	uint64_t k, c;
	for (uint32_t i = 0; ts_tally_next(&w->hour, &i, &k, &c);)
		enc_attr(enc, reg, ts_attr_key_metric(k), ts_attr_key_kind(k), ts_attr_key_value(k), c);
	uint64_t nslots = 0;
	for (int s = 0; s < TS_ATTRWIN_RING; s++)
		nslots += slot_minute(w, s) != INT64_MIN && slot_minute(w, s) >= cut;
	ts_enc_u64(enc, nslots);
	for (int s = 0; s < TS_ATTRWIN_RING; s++) {
		int64_t minute = slot_minute(w, s);
		if (minute == INT64_MIN || minute < cut)
			continue;
		ts_enc_i64(enc, minute);
		if (!w->detail) { /* its counts are the store's */
			ts_enc_u64(enc, 0);
			continue;
		}
		const detail_slot *d = &w->detail[s];
		ts_enc_u64(enc, d->n);
		for (uint32_t j = 0; j < d->n; j++)
			enc_attr(enc, reg, d->e[j].metric, d->e[j].kind, d->e[j].value, d->e[j].count);
	}
}

int ts_attrwin_load(ts_attrwin *w, ts_dec *d, const uint32_t *mids, uint32_t nm, size_t len)
{
	int rc;
	w->hour_start = ts_dec_minute(d);
	w->attrs_flushed = ts_dec_minute(d);
	uint64_t nh = ts_dec_count(d, len);
	for (uint64_t i = 0; i < nh; i++) {
		ts_attr_count a;
		if ((rc = dec_attr(d, mids, nm, &a)) ||
		    (rc = ts_tally_add(&w->hour, ts_attr_key(a.metric, a.kind, a.value), a.count)) ||
		    (rc = ts_tally_add(&w->hour_nvals, ts_attr_key(a.metric, a.kind, 0), 1)))
			return rc;
	}
	uint64_t nslots = ts_dec_count(d, TS_ATTRWIN_RING);
	for (uint64_t i = 0; i < nslots; i++) {
		int64_t minute = ts_dec_minute(d);
		uint64_t n = ts_dec_count(d, len);
		if (!ts_dec_ok(d, 0) || minute == INT64_MIN)
			return TS_EINVAL;
		if (!w->detail) { /* the counts are the store's: read past them */
			w->smin[ring_index(minute)] = minute;
			for (uint64_t j = 0; j < n; j++) {
				ts_attr_count a;
				if ((rc = dec_attr(d, mids, nm, &a)))
					return rc;
			}
			continue;
		}
		detail_slot *s = &w->detail[ring_index(minute)];
		ts_attr_count *x = realloc(s->e, (n ? n : 1) * sizeof *x);
		if (!x)
			return TS_ENOMEM;
		s->e = x;
		s->alloc = (uint32_t)(n ? n : 1);
		s->minute = minute;
		s->n = 0;
		for (uint64_t j = 0; j < n; j++, s->n++)
			if ((rc = dec_attr(d, mids, nm, &s->e[j])))
				return rc;
	}
	return ts_dec_ok(d, 0) ? 0 : TS_EINVAL;
}

size_t ts_attrwin_memory(const ts_attrwin *w)
{
	size_t m = sizeof *w + ts_tally_memory(&w->hour) + ts_tally_memory(&w->hour_nvals) +
		   w->one.alloc * sizeof(ts_attr_count);
	if (w->smin)
		return m + TS_ATTRWIN_RING * sizeof *w->smin;
	m += TS_ATTRWIN_RING * sizeof *w->detail;
	for (int s = 0; s < TS_ATTRWIN_RING; s++)
		m += w->detail[s].alloc * sizeof(ts_attr_count);
	return m;
}
