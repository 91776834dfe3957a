/* agg.c - open minutes and the per-partition watermark.
 *
 * Counts: open[metric] is NULL or a ring of RING + 1 uint32_t, slot
 * minute % RING, the last element the number of non-zero slots: a ring
 * exists only while its metric has counts in open minutes, and is freed
 * when the last of them closes. Slots are valid for the partition's
 * minutes in (closed, closed + RING]. Since the
 * newest minute never runs more than `lateness` ahead of `closed`, a slot
 * is always free for any minute that is not late.
 * Attributions: per partition and ring slot, a ts_tally of
 * (metric, kind, value) -> count, given up when its minute closes: kept
 * emptied among a few spares (SPARES, each at most SPARE_CAP entries) that
 * the next minute to need a tally takes, so a busy partition does not
 * allocate its tally anew every minute, nor a quiet one hold its own.
 * Closing a minute gathers both into a ts_minute_batch, calls the close
 * callback, then zeroes the slot. Everything is owned here.
 */
#include <stdlib.h>

#include "agg.h"
#include "codec.h"
#include "tally.h"

typedef struct apart {
	int64_t newest;  /* INT64_MIN: nothing seen yet */
	int64_t closed;  /* newest closed minute */
	int64_t active;  /* newest minute that had a count (or was restored) */
	ts_tally *slots; /* [RING] attribution counts, allocated on first use */
} apart;

/* emptied tallies kept for the next open minute */
enum { SPARES = 32, SPARE_CAP = 4096 };

struct ts_agg {
	ts_registry *reg;
	int lateness;
	ts_agg_cb cb;
	int64_t settle, tail; /* see ts_agg_set_skip; 0: close every minute */
	uint32_t **open; /* per metric: NULL or RING counts + the non-zero count */
	uint32_t nopen;
	apart *parts;
	uint32_t nparts;
	/* scratch for building batches */
	uint32_t *dense;
	uint32_t dense_alloc;
	ts_count *counts;
	uint32_t counts_alloc;
	ts_attr_count *attrs;
	size_t attrs_alloc;
	ts_tally spare[SPARES];
	uint32_t nspare;
};

ts_agg *ts_agg_new(ts_registry *reg, int lateness, const ts_agg_cb *cb)
{
	if (lateness < 0 || lateness > TS_AGG_RING - 8)
		return NULL;
	ts_agg *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->reg = reg;
	a->lateness = lateness;
	a->cb = *cb;
	return a;
}

void ts_agg_free(ts_agg *a)
{
	if (!a)
		return;
	for (uint32_t i = 0; i < a->nparts; i++) {
		if (!a->parts[i].slots)
			continue;
		for (int s = 0; s < TS_AGG_RING; s++)
			ts_tally_free(&a->parts[i].slots[s]);
		free(a->parts[i].slots);
	}
	free(a->parts);
	for (uint32_t i = 0; i < a->nopen; i++)
		free(a->open[i]);
	free(a->open);
	free(a->dense);
	free(a->counts);
	free(a->attrs);
	for (uint32_t i = 0; i < a->nspare; i++)
		ts_tally_free(&a->spare[i]);
	free(a);
}

/* The attribution tally of a partition's ring slot, with a spare's memory
 * when it has none of its own. */
static ts_tally *slot_tally(ts_agg *a, apart *ap, unsigned slot)
{
	ts_tally *t = &ap->slots[slot];
	if (!t->cap && a->nspare)
		*t = a->spare[--a->nspare];
	return t;
}

/* Give up a closed minute's tally: emptied into the spares, or freed. */
static void slot_release(ts_agg *a, ts_tally *t)
{
	if (t->cap && t->cap <= SPARE_CAP && a->nspare < SPARES) {
		ts_tally_clear(t);
		a->spare[a->nspare++] = *t;
		*t = (ts_tally){0};
		return;
	}
	ts_tally_free(t);
}

static int grow_to(void *p, uint32_t *alloc, uint32_t need, size_t sz)
{
	size_t cap = *alloc;
	if (need > UINT32_MAX / 2 || ts_grow(p, &cap, need, sz, 16))
		return TS_ENOMEM;
	*alloc = (uint32_t)cap;
	return 0;
}

static int ensure(ts_agg *a, uint32_t pid, uint32_t metric)
{
	int rc = grow_to((void **)&a->open, &a->nopen, metric + 1, sizeof *a->open);
	if (rc)
		return rc;
	uint32_t old = a->nparts;
	if ((rc = grow_to((void **)&a->parts, &a->nparts, pid + 1, sizeof *a->parts)))
		return rc;
	for (uint32_t i = old; i < a->nparts; i++)
		a->parts[i].newest = a->parts[i].closed = a->parts[i].active = INT64_MIN;
	return 0;
}

/* Add v to metric's open count in slot, making its ring if needed. */
static int open_add(ts_agg *a, uint32_t metric, unsigned slot, uint32_t v)
{
	uint32_t *ring = a->open[metric];
	if (!ring && !(ring = a->open[metric] = calloc(TS_AGG_RING + 1, sizeof *ring)))
		return TS_ENOMEM;
	if (!ring[slot])
		ring[TS_AGG_RING]++;
	ring[slot] += v;
	return 0;
}

static uint32_t open_get(const ts_agg *a, uint32_t metric, unsigned slot)
{
	return metric < a->nopen && a->open[metric] ? a->open[metric][slot] : 0;
}

/* Close minute t of partition pid. */
static int close_minute(ts_agg *a, uint32_t pid, int64_t t)
{
	ts_partition *p = ts_registry_get_partition(a->reg, pid);
	apart *ap = &a->parts[pid];
	unsigned slot = (unsigned)(((t % TS_AGG_RING) + TS_AGG_RING) % TS_AGG_RING);
	int rc = grow_to((void **)&a->dense, &a->dense_alloc, p->nmetrics + 1, sizeof *a->dense);
	if (!rc)
		rc = grow_to((void **)&a->counts, &a->counts_alloc, p->nmetrics + 1, sizeof *a->counts);
	if (rc)
		return rc;
	size_t nc = 0;
	for (uint32_t i = 0; i < p->nmetrics; i++) {
		uint32_t mid = p->metrics[i];
		uint32_t v = 0;
		uint32_t *ring = mid < a->nopen ? a->open[mid] : NULL;
		if (ring && (v = ring[slot])) {
			ring[slot] = 0;
			if (--ring[TS_AGG_RING] == 0) {
				free(ring);
				a->open[mid] = NULL;
			}
		}
		a->dense[i] = v;
		if (v)
			a->counts[nc++] = (ts_count){mid, v};
	}
	size_t na = 0;
	if (ap->slots) {
		ts_tally *m = &ap->slots[slot];
		if (ts_grow(&a->attrs, &a->attrs_alloc, m->n, sizeof *a->attrs, 64))
			return TS_ENOMEM;
		uint64_t k, c;
		for (uint32_t i = 0; ts_tally_next(m, &i, &k, &c);)
			a->attrs[na++] = (ts_attr_count){
				.metric = ts_attr_key_metric(k),
				.kind = (uint8_t)ts_attr_key_kind(k),
				.value = ts_attr_key_value(k),
				.count = (uint32_t)c,
			};
		/* an open minute holds its tally only while it is open */
		slot_release(a, m);
	}
	ap->closed = t;
	ts_minute_batch b = {
		.partition = pid,
		.minute = t,
		.dense = a->dense,
		.ndense = p->nmetrics,
		.counts = a->counts,
		.ncounts = nc,
		.attrs = a->attrs,
		.nattrs = na,
	};
	return a->cb.close(a->cb.ctx, &b);
}

static int close_through(ts_agg *a, uint32_t pid, int64_t upto)
{
	apart *ap = &a->parts[pid];
	/* a jump of more than a ring: the skipped minutes are empty */
	while (ap->closed < upto) {
		/* settled: the minutes up to upto - tail are empty and closing
		 * them one by one changes nothing, so pass over them at once */
		if (a->settle && ap->active != INT64_MIN && ap->closed - ap->active > a->settle &&
		    upto - ap->closed > a->tail) {
			ap->closed = upto - a->tail;
			continue;
		}
		int rc = close_minute(a, pid, ap->closed + 1);
		if (rc)
			return rc;
	}
	return 0;
}

int ts_agg_advance(ts_agg *a, uint32_t pid, int64_t minute)
{
	int rc = ensure(a, pid, 0);
	if (rc)
		return rc;
	apart *ap = &a->parts[pid];
	if (ap->newest == INT64_MIN) {
		/* the first event: open the ring around it, so events up to
		 * RING - lateness - 8 minutes older still count as on time */
		ap->newest = ap->active = minute;
		ap->closed = minute - (TS_AGG_RING - a->lateness - 8);
		return 0;
	}
	if (minute <= ap->newest)
		return 0;
	ap->newest = minute;
	return close_through(a, pid, minute - a->lateness - 1);
}

int ts_agg_count(ts_agg *a, uint32_t pid, int64_t minute, uint32_t metric,
		 const uint32_t vals[TS_A_KINDS])
{
	int rc = ensure(a, pid, metric);
	if (rc)
		return rc;
	if ((rc = ts_agg_advance(a, pid, minute)))
		return rc;
	apart *ap = &a->parts[pid];
	if (minute <= ap->closed) {
		static const uint32_t none[TS_A_KINDS] = {TS_NO_VALUE, TS_NO_VALUE, TS_NO_VALUE};
		rc = a->cb.late(a->cb.ctx, pid, minute, metric, vals ? vals : none);
		return rc ? rc : TS_COUNT_LATE;
	}
	unsigned slot = (unsigned)(((minute % TS_AGG_RING) + TS_AGG_RING) % TS_AGG_RING);
	if ((rc = open_add(a, metric, slot, 1)))
		return rc;
	if (minute > ap->active)
		ap->active = minute;
	if (!vals)
		return 0;
	if (!ap->slots) {
		ap->slots = calloc(TS_AGG_RING, sizeof *ap->slots);
		if (!ap->slots)
			return TS_ENOMEM;
	}
	for (unsigned k = 0; k < TS_A_KINDS; k++) {
		if (vals[k] == TS_NO_VALUE)
			continue;
		if ((rc = ts_tally_add(slot_tally(a, ap, slot), ts_attr_key(metric, k, vals[k]), 1)))
			return rc;
	}
	return 0;
}

void ts_agg_set_skip(ts_agg *a, int64_t settle, int64_t tail)
{
	a->settle = settle > 0 ? settle : 0;
	a->tail = tail > 0 ? tail : 0;
}

int ts_agg_close_partition(ts_agg *a, uint32_t pid)
{
	if (pid >= a->nparts || a->parts[pid].newest == INT64_MIN)
		return 0;
	return close_through(a, pid, a->parts[pid].newest);
}

int ts_agg_close_all(ts_agg *a)
{
	for (uint32_t pid = 0; pid < a->nparts; pid++) {
		int rc = ts_agg_close_partition(a, pid);
		if (rc)
			return rc;
	}
	return 0;
}

int64_t ts_agg_newest(const ts_agg *a, uint32_t pid)
{
	return pid < a->nparts ? a->parts[pid].newest : INT64_MIN;
}

int64_t ts_agg_active(const ts_agg *a, uint32_t pid)
{
	return pid < a->nparts ? a->parts[pid].active : INT64_MIN;
}

int64_t ts_agg_closed(const ts_agg *a, uint32_t pid)
{
	return pid < a->nparts ? a->parts[pid].closed : INT64_MIN;
}

size_t ts_agg_memory(const ts_agg *a)
{
	size_t m = (size_t)a->nopen * sizeof *a->open + (size_t)a->nparts * sizeof *a->parts;
	for (uint32_t i = 0; i < a->nopen; i++)
		m += a->open[i] ? (TS_AGG_RING + 1) * sizeof **a->open : 0;
	for (uint32_t i = 0; i < a->nparts; i++)
		for (int s = 0; a->parts[i].slots && s < TS_AGG_RING; s++)
			m += ts_tally_memory(&a->parts[i].slots[s]);
	for (uint32_t i = 0; i < a->nspare; i++)
		m += ts_tally_memory(&a->spare[i]);
	return m;
}

void ts_agg_save(const ts_agg *a, uint32_t pid, ts_enc *enc)
{
	const apart *ap = pid < a->nparts ? &a->parts[pid] : NULL;
	int64_t newest = ap ? ap->newest : INT64_MIN, closed = ap ? ap->closed : INT64_MIN;
	ts_enc_i64(enc, newest);
	ts_enc_i64(enc, closed);
	if (newest == INT64_MIN)
		return;
	ts_partition *p = ts_registry_get_partition(a->reg, pid);
	ts_enc_u64(enc, (uint64_t)(newest - closed));
	for (int64_t t = closed + 1; t <= newest; t++) {
		unsigned slot = (unsigned)(((t % TS_AGG_RING) + TS_AGG_RING) % TS_AGG_RING);
		uint64_t nz = 0;
		for (uint32_t i = 0; i < p->nmetrics; i++)
			nz += open_get(a, p->metrics[i], slot) != 0;
		ts_enc_u64(enc, nz);
		for (uint32_t i = 0; i < p->nmetrics; i++) {
			uint32_t mid = p->metrics[i];
			if (open_get(a, mid, slot)) {
				ts_enc_u64(enc, i);
				ts_enc_u64(enc, open_get(a, mid, slot));
			}
		}
		const ts_tally *m = ap->slots ? &ap->slots[slot] : NULL;
		ts_enc_u64(enc, m ? m->n : 0);
		uint64_t k, c;
		for (uint32_t i = 0; m && ts_tally_next(m, &i, &k, &c);) {
			ts_enc_u64(enc, ts_registry_get_metric(a->reg, ts_attr_key_metric(k))->local);
			ts_enc_u64(enc, ts_attr_key_kind(k));
			ts_enc_value(enc, ts_attr_key_value(k));
			ts_enc_u64(enc, c);
		}
	}
}

int ts_agg_load(ts_agg *a, uint32_t pid, ts_dec *dec, const uint32_t *mids, uint32_t nm)
{
	int64_t newest = ts_dec_minute(dec), closed = ts_dec_minute(dec);
	if (!ts_dec_ok(dec, 0))
		return TS_EINVAL;
	if (newest == INT64_MIN)
		return 0;
	uint64_t span = ts_dec_count(dec, TS_AGG_RING);
	if (!ts_dec_ok(dec, 0) || closed != newest - (int64_t)span)
		return TS_EINVAL;
	int rc = ensure(a, pid, 0);
	for (uint32_t i = 0; i < nm && !rc; i++)
		rc = ensure(a, pid, mids[i]);
	if (rc)
		return rc;
	apart *ap = &a->parts[pid];
	if (ap->newest != INT64_MIN)
		return TS_EINVAL;
	ap->newest = ap->active = newest;
	ap->closed = closed;
	for (int64_t t = closed + 1; t <= newest; t++) {
		unsigned slot = (unsigned)(((t % TS_AGG_RING) + TS_AGG_RING) % TS_AGG_RING);
		uint64_t nz = ts_dec_count(dec, nm);
		for (uint64_t i = 0; i < nz; i++) {
			uint64_t li = ts_dec_count(dec, nm ? nm - 1 : 0), v = ts_dec_u64(dec);
			if (!ts_dec_ok(dec, 0) || v > UINT32_MAX)
				return TS_EINVAL;
			uint32_t *ring = a->open[mids[li]];
			if (ring && ring[slot]) { /* a repeated entry replaces the first */
				ring[slot] = 0;
				ring[TS_AGG_RING]--;
			}
			if (v && (rc = open_add(a, mids[li], slot, (uint32_t)v)))
				return rc;
		}
		uint64_t na = ts_dec_count(dec, UINT32_MAX);
		if (na && !ap->slots && !(ap->slots = calloc(TS_AGG_RING, sizeof *ap->slots)))
			return TS_ENOMEM;
		for (uint64_t i = 0; i < na; i++) {
			uint64_t li = ts_dec_count(dec, nm ? nm - 1 : 0);
			uint64_t kind = ts_dec_count(dec, TS_A_KINDS - 1);
			uint32_t vid = ts_dec_value(dec);
			uint64_t c = ts_dec_u64(dec);
			if (!ts_dec_ok(dec, 0) || !nm)
				return TS_EINVAL;
			if ((rc = ts_tally_add(slot_tally(a, ap, slot),
					       ts_attr_key(mids[li], (unsigned)kind, vid), c)))
				return rc;
		}
	}
	return ts_dec_ok(dec, 0) ? 0 : TS_EINVAL;
}

/* Is minute open in partition pid (ring slots valid: closed < minute <=
 * newest)? */
static int is_open(const ts_agg *a, uint32_t pid, int64_t minute)
{
	if (pid >= a->nparts)
		return 0;
	const apart *ap = &a->parts[pid];
	return ap->newest != INT64_MIN && minute > ap->closed && minute <= ap->newest;
}

uint32_t ts_agg_open_count(const ts_agg *a, uint32_t pid, uint32_t metric, int64_t minute)
{
	if (!is_open(a, pid, minute))
		return 0;
	return open_get(a, metric, (unsigned)(((minute % TS_AGG_RING) + TS_AGG_RING) % TS_AGG_RING));
}

const ts_tally *ts_agg_open_attrs(const ts_agg *a, uint32_t pid, int64_t minute)
{
	if (!is_open(a, pid, minute) || !a->parts[pid].slots)
		return NULL;
	const ts_tally *t =
		&a->parts[pid].slots[((minute % TS_AGG_RING) + TS_AGG_RING) % TS_AGG_RING];
	return t->n ? t : NULL;
}
