/* mdet.c - the idle or active detector of mdet.h.
 *
 * Invariants. Idle (full == NULL): the plain detector would have open 0,
 * held 0, and for every minute t in (floor, last] of the last
 * TS_WINDOW_MAX, the observation made of t's counts (those listed in nz,
 * else 0) and t's baseline (bl for fit_day, bl_prev for the day before,
 * judged: a minute not judged moves the floor to it). An idle step is taken
 * only when the plain detector's step could not open anything either:
 * the window sums stay below the threshold a window needs before it is
 * judged, and no expected rate in reach is high enough for a drop. Else the
 * ring is rebuilt and the step is the plain one. Active: full is the plain
 * detector; exact_from bounds the minutes whose observations rebuild
 * exactly (a restored ring was made with baselines no longer held).
 */
#include <assert.h>
#include <stdlib.h>

#include "mdet.h"

enum { SAFE_CUR = 1, SAFE_PREV = 2 };

void ts_mdet_init(ts_mdet *m)
{
	memset(m, 0, sizeof *m);
	m->last = m->floor = m->quiet_until = INT64_MIN;
	m->exact_from = INT64_MIN;
	m->fit_day = INT64_MIN;
	m->q = m->q_prev = -1;
	m->safe = SAFE_CUR | SAFE_PREV;
}

void ts_mdet_free(ts_mdet *m)
{
	free(m->full);
	free(m->bl);
	free(m->bl_prev);
	free(m->job);
	ts_mdet_init(m);
}

/* 1 when no minute of c expects enough for a window's silence to be judged
 * a drop: every steady rate, summed over a window in double precision and
 * divided by its length, stays below drop_min_rate. */
static int drop_safe(const ts_cbase *c, const ts_profile *p)
{
	const double margin = 1 + 1e-9;
	for (int h = 0; h < 24; h++)
		if (!((double)c->steady_h[h] * margin < p->drop_min_rate))
			return 0;
	for (uint32_t i = 0; i < c->nexc; i++)
		if (!((double)c->exc[i].steady * margin < p->drop_min_rate))
			return 0;
	return 1;
}

int ts_mdet_day(ts_mdet *m, const ts_profile *p, int is_error, int64_t day, int judged,
		const ts_baseline *b, float q)
{
	ts_cbase *nb = NULL;
	if (!is_error && judged && ts_cbase_make(b, &nb))
		return TS_ENOMEM;
	int next = m->fit_day != INT64_MIN && day == m->fit_day + 1;
	free(m->bl_prev);
	m->bl_prev = next ? m->bl : NULL;
	if (!next)
		free(m->bl);
	m->bl = nb;
	m->q_prev = next ? m->q : -1;
	m->q = is_error && judged ? q : -1;
	unsigned cur = is_error || !judged || drop_safe(nb, p) ? SAFE_CUR : 0;
	m->safe = (uint8_t)(cur | (next && !(m->safe & SAFE_CUR) ? 0 : SAFE_PREV));
	m->judged = (uint8_t)(judged != 0);
	m->fit_day = day;
	return 0;
}

/* The observation of minute t (of fit_day, or judged of the day before)
 * with counts x and n, as the engine makes it. */
static ts_det_obs obs_of(const ts_mdet *m, int is_error, int64_t t, uint32_t x, uint32_t n)
{
	ts_det_obs o = {.x = x, .lam = -1, .q = -1};
	int64_t day = ts_day_of(t);
	int cur = day == m->fit_day;
	assert(cur || day == m->fit_day - 1);
	if (cur && !m->judged)
		return o;
	if (is_error) {
		o.n = n;
		o.q = cur ? m->q : m->q_prev;
		return o;
	}
	const ts_cbase *c = cur ? m->bl : m->bl_prev;
	assert(c);
	ts_cbase_at(c, (unsigned)(t - day * TS_MIN_PER_DAY), &o.lam, &o.size, &o.steady);
	o.steady_size = c->steady_size;
	return o;
}

static unsigned slot_of(int64_t t)
{
	return (unsigned)(((t % TS_WINDOW_MAX) + TS_WINDOW_MAX) % TS_WINDOW_MAX);
}

/* The minute of entry e, for a detector whose newest minute is last (the
 * entries are never older than TS_WINDOW_MAX minutes). */
static int64_t nz_minute(const ts_mdet_nz *e, int64_t last)
{
	return last - (int64_t)(uint32_t)((uint32_t)last - e->mlow);
}

/* The plain detector an idle m stands for, into d. */
static void rebuild(const ts_mdet *m, int is_error, ts_detector *d)
{
	ts_detector_init(d);
	d->last = m->last;
	d->floor = m->floor;
	d->quiet_until = m->quiet_until;
	if (m->last == INT64_MIN)
		return;
	int64_t lo = m->last - TS_WINDOW_MAX > m->floor ? m->last - TS_WINDOW_MAX : m->floor;
	for (int64_t t = lo + 1; t <= m->last; t++) {
		uint32_t x = 0, n = 0;
		for (unsigned i = 0; i < m->nnz; i++)
			if (nz_minute(&m->nz[i], m->last) == t) {
				x = m->nz[i].x;
				n = m->nz[i].n;
			}
		d->ring[slot_of(t)] = obs_of(m, is_error, t, x, n);
	}
}

/* Make an active m idle when the plain detector is quiet (see the header). */
static void try_idle(ts_mdet *m, const ts_profile *p, int is_error)
{
	const ts_detector *d = m->full;
	if (d->open || d->held || d->last == INT64_MIN || (!is_error && !(m->safe & SAFE_CUR)))
		return;
	int64_t lo = d->last - TS_WINDOW_MAX > d->floor ? d->last - TS_WINDOW_MAX : d->floor;
	if (lo + 1 < m->exact_from)
		return;
	int64_t day_start = m->fit_day * TS_MIN_PER_DAY;
	if (lo + 1 < day_start &&
	    (lo + 1 < day_start - TS_MIN_PER_DAY || (is_error ? !(m->q_prev >= 0) : !m->bl_prev)))
		return;
	double thresh = ts_detector_min_events(p, is_error);
	double sum = 0;
	ts_mdet_nz nz[TS_MDET_NZ];
	unsigned k = 0;
	for (int64_t t = lo + 1; t <= d->last; t++) {
		const ts_det_obs *o = &d->ring[slot_of(t)];
		if (!o->x && !o->n)
			continue;
		if (k == TS_MDET_NZ)
			return;
		nz[k++] = (ts_mdet_nz){(uint32_t)t, o->x, o->n};
		sum += o->x;
	}
	if (!(sum < thresh))
		return;
#ifndef NDEBUG
	for (int64_t t = lo + 1; t <= d->last; t++) {
		const ts_det_obs *o = &d->ring[slot_of(t)];
		ts_det_obs r = obs_of(m, is_error, t, o->x, o->n);
		assert(memcmp(&r, o, sizeof r) == 0);
	}
#endif
	m->last = d->last;
	m->floor = d->floor;
	m->quiet_until = d->quiet_until;
	memcpy(m->nz, nz, k * sizeof *nz);
	m->nnz = (uint8_t)k;
	free(m->full);
	m->full = NULL;
}

/* An idle step, when it is one: the plain detector's step would open
 * nothing. 1 when taken, 0 when the step must be the plain one. */
static int idle_step(ts_mdet *m, const ts_profile *p, int is_error, int64_t minute,
		     const ts_det_obs *o)
{
	int64_t f = m->floor;
	if (m->last != INT64_MIN && minute > m->last + 1 && f < minute - 1)
		f = minute - 1;
	int judged = is_error ? o->q >= 0 : o->lam >= 0;
	if (!judged) {
		m->last = m->floor = minute;
		m->nnz = 0;
		return 1;
	}
	/* the quiet time moves the floor each minute: the plain step's */
	if (p->min_quiet > 0 && minute < m->quiet_until)
		return 0;
	if (!is_error && (!(m->safe & SAFE_CUR) ||
			  (minute - m->fit_day * TS_MIN_PER_DAY < TS_WINDOW_MAX && !(m->safe & SAFE_PREV))))
		return 0;
	/* the entries still in reach, then this minute's */
	ts_mdet_nz nz[TS_MDET_NZ + 1];
	unsigned k = 0;
	double sum = 0;
	for (unsigned i = 0; i < m->nnz && m->last != INT64_MIN && minute - m->last < TS_WINDOW_MAX;
	     i++) {
		int64_t t = nz_minute(&m->nz[i], m->last);
		if (t > f && t > minute - TS_WINDOW_MAX) {
			nz[k++] = m->nz[i];
			sum += m->nz[i].x;
		}
	}
	if (o->x || o->n) {
		nz[k++] = (ts_mdet_nz){(uint32_t)minute, o->x, o->n};
		sum += o->x;
	}
	double thresh = ts_detector_min_events(p, is_error);
	if (k > TS_MDET_NZ || !(sum < thresh))
		return 0;
	m->floor = f;
	m->last = minute;
	memcpy(m->nz, nz, k * sizeof *nz);
	m->nnz = (uint8_t)k;
	return 1;
}

int ts_mdet_step(ts_mdet *m, const ts_profile *p, int is_error, int64_t minute, uint32_t x,
		 uint32_t n, ts_det_event *ev)
{
	assert(ts_day_of(minute) == m->fit_day);
	if (m->bl_prev && minute - m->fit_day * TS_MIN_PER_DAY >= TS_WINDOW_MAX) {
		free(m->bl_prev);
		m->bl_prev = NULL;
		m->safe |= SAFE_PREV;
	}
	ts_det_obs o = obs_of(m, is_error, minute, x, is_error ? n : 0);
	if (!is_error && !m->job && o.lam > o.steady) {
		if (!(m->job = malloc(sizeof *m->job)))
			return TS_ENOMEM;
		ts_jobstop_init(m->job);
	}
	int jk = TS_DET_NONE;
	ts_det_event jev;
	if (!m->full && idle_step(m, p, is_error, minute, &o)) {
		if (m->job)
			jk = ts_jobstop_step(m->job, p, minute, &o, 1, &jev);
		if (jk != TS_DET_NONE)
			*ev = jev;
		return jk;
	}
	if (!m->full) {
		ts_detector *d = malloc(sizeof *d);
		if (!d)
			return TS_ENOMEM;
		rebuild(m, is_error, d);
		m->full = d;
	}
	if (m->job)
		jk = ts_jobstop_step(m->job, p, minute, &o, !m->full->open && !m->full->held,
				     &jev);
	int k = ts_detector_step(m->full, p, is_error, minute, &o, ev);
	if (!x && k != TS_DET_START)
		try_idle(m, p, is_error);
	if (k == TS_DET_START && m->job)
		m->job->open = INT64_MIN; /* the detector's episode from here */
	else if (k == TS_DET_NONE && jk != TS_DET_NONE) {
		*ev = jev;
		return jk;
	}
	if (k != TS_DET_NONE)
		ev->job = 0;
	return k;
}

void ts_mdet_get(const ts_mdet *m, int is_error, ts_detector *out)
{
	if (m->full)
		*out = *m->full;
	else
		rebuild(m, is_error, out);
}

int ts_mdet_set(ts_mdet *m, const ts_detector *d)
{
	if (!m->full && !(m->full = malloc(sizeof *m->full)))
		return TS_ENOMEM;
	*m->full = *d;
	m->exact_from = d->last == INT64_MIN ? INT64_MIN : d->last + 1;
	return 0;
}

ts_det_obs ts_mdet_obs(const ts_mdet *m, int is_error, int64_t minute, uint32_t x, uint32_t n)
{
	assert(ts_day_of(minute) == m->fit_day);
	return obs_of(m, is_error, minute, x, is_error ? n : 0);
}

int64_t ts_mdet_last(const ts_mdet *m) { return m->full ? m->full->last : m->last; }

void ts_mdet_basis(const ts_mdet *m, int64_t t, ts_basis *out)
{
	int64_t day = ts_day_of(t);
	const ts_cbase *c = day == m->fit_day - 1 && m->bl_prev ? m->bl_prev : m->bl;
	memset(out, 0, sizeof *out);
	if (c)
		ts_cbase_basis(c, (unsigned)(t - day * TS_MIN_PER_DAY), out);
}

const ts_jobstop *ts_mdet_job(const ts_mdet *m) { return m->job; }

int ts_mdet_set_job(ts_mdet *m, const ts_jobstop *j)
{
	if (!m->job && !(m->job = malloc(sizeof *m->job)))
		return TS_ENOMEM;
	*m->job = *j;
	return 0;
}

size_t ts_mdet_memory(const ts_mdet *m)
{
	return (m->job ? sizeof *m->job : 0) + (m->full ? sizeof *m->full : 0) +
	       (m->bl ? ts_cbase_size(m->bl) : 0) + (m->bl_prev ? ts_cbase_size(m->bl_prev) : 0);
}
