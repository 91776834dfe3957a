/* order.c - holding, replaying in time order, and the clock skew guard.
 *
 * Per partition (opart): while holding, the newest and second newest
 * record times and where the newest came from (the one record that may
 * prove to be alone far ahead); while counting at once, the newest time
 * counted and at most one record kept aside. Invariants: a kept-aside
 * record's counts were given to no one; held counts are in the hold buffer
 * only; `holding` goes from 1 to 0 once (a replay) and never back.
 * Paths are copied (top_path, sus_path) and freed here.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "order.h"
#include "util.h"

#define AUTO_EVENTS_DEFAULT ((size_t)1 << 18)

typedef struct opart {
	int64_t t1, t2;    /* holding: newest and second newest times */
	uint64_t top_seq;  /* holding: the newest record */
	char *top_path;
	uint64_t top_off;
	uint8_t top_ro, top_err;
	int64_t newest;    /* counting: newest time counted (INT64_MIN: none) */
	int has_sus;       /* a record kept aside */
	int64_t sus_t;
	ts_held sus_ev[2];
	int sus_n;
	char *sus_path;
	uint64_t sus_off;
	uint8_t sus_ro, sus_err;
	uint64_t drop_seq; /* replay: the seq to keep aside (UINT64_MAX: none) */
} opart;

struct ts_order {
	ts_order_opts o;
	ts_order_cb cb;
	ts_hold *hold;
	opart *parts;
	uint32_t nparts;
	uint64_t seq;
	int holding, disorder;
	ts_order_stats st;
};

ts_order *ts_order_new(const ts_order_opts *o, const ts_order_cb *cb)
{
	ts_order *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	x->o = *o;
	x->cb = *cb;
	if (!x->o.auto_events)
		x->o.auto_events = AUTO_EVENTS_DEFAULT;
	x->holding = o->mode != TS_ORDER_TIME;
	if (x->holding && !(x->hold = ts_hold_new(o->hold_cap))) {
		free(x);
		return NULL;
	}
	return x;
}

void ts_order_free(ts_order *o)
{
	if (!o)
		return;
	for (uint32_t i = 0; i < o->nparts; i++) {
		free(o->parts[i].top_path);
		free(o->parts[i].sus_path);
	}
	free(o->parts);
	ts_hold_free(o->hold);
	free(o);
}

static opart *get_part(ts_order *o, uint32_t pid)
{
	if (pid >= o->nparts) {
		size_t n = o->nparts;
		if (ts_grow(&o->parts, &n, (size_t)pid + 1, sizeof *o->parts, 16))
			return NULL;
		for (size_t i = o->nparts; i < n; i++) {
			o->parts[i].t1 = o->parts[i].t2 = o->parts[i].newest = INT64_MIN;
			o->parts[i].drop_seq = UINT64_MAX;
		}
		o->nparts = (uint32_t)n;
	}
	return &o->parts[pid];
}

/* *dst = a copy of path, reusing *dst when it already says the same. */
static int set_path(char **dst, const char *path)
{
	if (*dst && strcmp(*dst, path) == 0)
		return 0;
	size_t n = strlen(path);
	char *c = malloc(n + 1);
	if (!c)
		return TS_ENOMEM;
	memcpy(c, path, n + 1);
	free(*dst);
	*dst = c;
	return 0;
}

static int feed_all(ts_order *o, const ts_held *ev, int nev, int *late)
{
	*late = 0;
	for (int i = 0; i < nev; i++) {
		int rc = o->cb.feed(o->cb.ctx, &ev[i]);
		if (rc < 0)
			return rc;
		*late |= rc == TS_COUNT_LATE;
	}
	return 0;
}

/* Count the kept-aside record of p: it was not alone. */
static int confirm(ts_order *o, opart *p)
{
	int late;
	p->has_sus = 0;
	int rc = feed_all(o, p->sus_ev, p->sus_n, &late);
	if (rc)
		return rc;
	o->st.late += late;
	if (p->sus_t > p->newest)
		p->newest = p->sus_t;
	return 0;
}

/* Replay the held counts in time order, then count at once. */
static int replay(ts_order *o)
{
	for (uint32_t pid = 0; pid < o->nparts; pid++) {
		opart *p = &o->parts[pid];
		p->drop_seq = UINT64_MAX;
		if (p->t1 == INT64_MIN)
			continue;
		if (o->o.future_secs && p->t2 != INT64_MIN && p->t1 - p->t2 > o->o.future_secs &&
		    !p->has_sus) {
			/* alone far ahead so far: kept aside, not counted */
			p->drop_seq = p->top_seq;
			p->has_sus = 1;
			p->sus_t = p->t1;
			p->sus_n = 0;
			p->sus_path = p->top_path;
			p->top_path = NULL;
			p->sus_off = p->top_off;
			p->sus_ro = p->top_ro;
			p->sus_err = p->top_err;
			o->st.kept_aside++;
		}
		int64_t counted = p->drop_seq != UINT64_MAX ? p->t2 : p->t1;
		if (counted > p->newest)
			p->newest = counted;
	}
	ts_hold_sort(o->hold);
	size_t n = ts_hold_count(o->hold);
	for (size_t i = 0; i < n; i++) {
		const ts_held *ev = ts_hold_at(o->hold, i);
		opart *p = &o->parts[ev->pid];
		if (ev->seq == p->drop_seq) {
			if (p->sus_n < 2)
				p->sus_ev[p->sus_n++] = *ev;
			continue;
		}
		int rc = o->cb.feed(o->cb.ctx, ev);
		if (rc < 0)
			return rc;
		o->st.late += rc == TS_COUNT_LATE && ev->first;
	}
	for (uint32_t pid = 0; pid < o->nparts; pid++) {
		opart *p = &o->parts[pid];
		p->t1 = p->t2 = INT64_MIN;
		free(p->top_path);
		p->top_path = NULL;
	}
	o->st.held_bytes = ts_hold_memory(o->hold);
	ts_hold_reset(o->hold);
	o->holding = 0;
	o->st.replayed = 1;
	return 0;
}

static int add_now(ts_order *o, opart *p, int64_t t, ts_held *ev, int nev, int ro, int err,
		   const char *path, uint64_t off, int64_t agg_newest)
{
	int rc;
	if (p->has_sus && (t > p->sus_t || p->sus_t - t <= o->o.future_secs) &&
	    (rc = confirm(o, p)))
		return rc;
	int64_t ref = p->newest;
	if (ref == INT64_MIN && agg_newest != INT64_MIN)
		ref = agg_newest * 60 + 59;
	if (o->o.future_secs && ref != INT64_MIN && t - ref > o->o.future_secs) {
		if (o->cb.wall) {
			if (t - o->cb.wall(o->cb.ctx) > TS_FUTURE_WALL_SECS)
				return TS_EFUTURE;
		} else if (!p->has_sus) {
			if ((rc = set_path(&p->sus_path, path)))
				return rc;
			p->has_sus = 1;
			p->sus_t = t;
			p->sus_n = nev;
			memcpy(p->sus_ev, ev, (size_t)nev * sizeof *ev);
			p->sus_off = off;
			p->sus_ro = (uint8_t)ro;
			p->sus_err = (uint8_t)err;
			o->st.kept_aside++;
			return 0;
		}
	}
	int late;
	if ((rc = feed_all(o, ev, nev, &late)))
		return rc;
	if (t > p->newest)
		p->newest = t;
	return late;
}

int ts_order_add(ts_order *o, uint32_t pid, int64_t t, ts_held *ev, int nev, int ro, int err,
		 const char *path, uint64_t off, int64_t agg_newest)
{
	opart *p = get_part(o, pid);
	if (!p)
		return TS_ENOMEM;
	uint64_t seq = o->seq++;
	for (int i = 0; i < nev; i++) {
		ev[i].seq = seq;
		ev[i].first = i == 0;
	}
	if (!o->holding)
		return add_now(o, p, t, ev, nev, ro, err, path, off, agg_newest);
	if (p->t2 != INT64_MIN &&
	    ts_floordiv(t, 60) < ts_floordiv(p->t2, 60) - o->o.lateness)
		o->disorder = 1;
	int rc;
	for (int i = 0; i < nev; i++) {
		rc = ts_hold_add(o->hold, &ev[i]);
		if (rc == TS_ECAP) {
			/* past the cap: what is held goes in, in order; the
			 * rest of this record and what follows count at once */
			o->st.capped = 1;
			if ((rc = replay(o)))
				return rc;
			int late;
			if ((rc = feed_all(o, ev + i, nev - i, &late)))
				return rc;
			if (t > p->newest)
				p->newest = t;
			return late;
		}
		if (rc)
			return rc;
	}
	if (ts_hold_count(o->hold) > o->st.held_peak)
		o->st.held_peak = ts_hold_count(o->hold);
	if (t > p->t1) {
		p->t2 = p->t1;
		p->t1 = t;
		p->top_seq = seq;
		if ((rc = set_path(&p->top_path, path)))
			return rc;
		p->top_off = off;
		p->top_ro = (uint8_t)ro;
		p->top_err = (uint8_t)err;
	} else if (t > p->t2) {
		p->t2 = t;
	}
	if (o->o.mode == TS_ORDER_AUTO && !o->disorder &&
	    ts_hold_count(o->hold) >= o->o.auto_events)
		return replay(o);
	return 0;
}

int ts_order_file_end(ts_order *o)
{
	if (o->o.mode == TS_ORDER_AUTO && o->holding && !o->disorder && ts_hold_count(o->hold))
		return replay(o);
	return 0;
}

int ts_order_holding(const ts_order *o) { return o->holding; }

int ts_order_finish(ts_order *o)
{
	int rc;
	if (o->holding && (rc = replay(o)))
		return rc;
	for (uint32_t pid = 0; pid < o->nparts; pid++) {
		opart *p = &o->parts[pid];
		if (!p->has_sus)
			continue;
		p->has_sus = 0;
		if (o->cb.future)
			o->cb.future(o->cb.ctx, p->sus_path ? p->sus_path : "-", p->sus_off, p->sus_t,
				     p->sus_ro, p->sus_err);
	}
	return 0;
}

void ts_order_get_stats(const ts_order *o, ts_order_stats *st)
{
	*st = o->st;
	st->holding = o->holding;
	st->disorder = o->disorder;
	if (o->holding)
		st->held_bytes = ts_hold_memory(o->hold);
}

int ts_order_mode_parse(const char *s)
{
	if (strcmp(s, "time") == 0)
		return TS_ORDER_TIME;
	if (strcmp(s, "auto") == 0)
		return TS_ORDER_AUTO;
	if (strcmp(s, "any") == 0)
		return TS_ORDER_ANY;
	return -1;
}

int64_t ts_order_newest(const ts_order *o, uint32_t pid)
{
	return pid < o->nparts ? o->parts[pid].newest : INT64_MIN;
}
