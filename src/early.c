/* early.c - when a Start is decided, and early Starts in a stream:
 * increases judged on open minutes.
 *
 * The decision time (ts_engine_decision_time_) is data time: in a stream
 * the partition's newest eventTime counted; in a backfill a function of
 * the input alone (see the function).
 *
 * With opts.early (a stream), a call-rate or error-rate metric that gets a
 * count in an open minute is marked (emetric.touched, listed in its
 * partition's epart.touched, so a list never holds a metric twice). When
 * a record opens a newer minute of the partition or a newer step of
 * TS_EARLY_STEP seconds than its newest eventTime (ts_early_due_), and at
 * the end of each file, every marked metric without an open episode is
 * judged: a copy of its detector (ts_mdet_get) is stepped over the open
 * minutes of the baseline's day, with the counts seen so far, as if they
 * had closed with them. Drops are left out (each open minute's steady rate is 0: a minute
 * still filling is not a silence). A Start the copy makes upwards is
 * written at once with early set, decided at the partition's newest
 * eventTime, its statistics read from the store plus the open minutes
 * (ts_early_open_counts_); the detector itself is not changed.
 *
 * As the minutes later close (ts_early_closed_), the detector's own Start
 * of that episode is not written again (the early Start's minute and IDs
 * stay), its End is the episode's End, and if by the early Start's minute
 * the closed minutes have not started it, the detector is put in the
 * open episode there, so that the End comes, as every End does, from
 * closed minutes. The episode (with its early bit) and the detector are
 * saved with the partition's state like any other; the marks are not (a
 * restored stream judges a metric again at its next count).
 *
 * Owns nothing: the marks live in the engine's structures and are freed
 * with them.
 */
#include <math.h>
#include <stdlib.h>

#include "engine_int.h"
#include "tally.h"

/* When a Start made as minute `closing` closed (or, early, on the open
 * minutes) was decided, as data time (unix seconds). A stream: the newest
 * eventTime of the partition. A backfill, so that its output does not
 * depend on how its records were read: the first minute whose records
 * close `closing` under the lateness, or the end of the partition's
 * newest minute when the end of the input closed it. */
int64_t ts_engine_decision_time_(const ts_engine *e, uint32_t pid, int64_t closing)
{
	int64_t newest = ts_agg_newest(e->agg, pid);
	if (e->o.sorted) {
		int64_t m = closing + e->o.lateness + 1;
		if (newest != INT64_MIN && newest + 1 < m)
			m = newest + 1;
		return m * 60;
	}
	int64_t t = ts_order_newest(e->order, pid);
	if (t != INT64_MIN)
		return t;
	return newest == INT64_MIN ? 0 : newest * 60;
}

/* Seconds of data time between judgments inside a minute: a minute's
 * last records often come after the first of the next (a file's records
 * are nearly, not quite, in time order), and a burst can be significant
 * well before its minute ends. */
#define TS_EARLY_STEP 15

int ts_early_due_(const ts_engine *e, uint32_t pid, int64_t t, int newer_minute)
{
	if (newer_minute)
		return 1;
	int64_t newest = ts_order_newest(e->order, pid);
	return newest != INT64_MIN && ts_floordiv(t, TS_EARLY_STEP) > ts_floordiv(newest, TS_EARLY_STEP);
}

int ts_early_touch_(ts_engine *e, uint32_t pid, uint32_t mid)
{
	emetric *em = ts_engine_metric_(e, mid);
	epart *p = ts_engine_part_(e, pid);
	if (!em || !p)
		return TS_ENOMEM;
	if (em->touched)
		return 0;
	if (ts_grow(&p->touched, &p->touched_alloc, p->ntouched + 1, sizeof *p->touched, 16))
		return TS_ENOMEM;
	p->touched[p->ntouched++] = mid;
	em->touched = 1;
	return 0;
}

int ts_early_open_counts_(void *ctx, uint32_t metric, int64_t from, int64_t to, uint64_t *sum,
			  ts_tally *t)
{
	ts_engine *e = ctx;
	uint32_t pid = ts_registry_get_metric(e->reg, metric)->partition;
	int64_t lo = ts_agg_closed(e->agg, pid), hi = ts_agg_newest(e->agg, pid);
	if (lo == INT64_MIN || hi == INT64_MIN)
		return 0;
	lo = lo + 1 > from ? lo + 1 : from;
	hi = hi < to - 1 ? hi : to - 1;
	for (int64_t minute = lo; minute <= hi; minute++) {
		*sum += ts_agg_open_count(e->agg, pid, metric, minute);
		const ts_tally *a = t ? ts_agg_open_attrs(e->agg, pid, minute) : NULL;
		uint64_t k, c;
		for (uint32_t i = 0; a && ts_tally_next(a, &i, &k, &c);) {
			if (!c || ts_attr_key_metric(k) != metric)
				continue;
			int rc = ts_tally_add(
				t, ts_attr_key(0, ts_attr_key_kind(k), ts_attr_key_value(k)), c);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* A generous whole-minute count for c counts seen in a fraction frac of
 * the minute: the same pace for the rest, plus three standard deviations
 * of a Poisson count of that size. */
static uint32_t whole_minute(uint32_t c, double frac)
{
	double w = c / frac;
	w = ceil(w + 3 * sqrt(w));
	return w < UINT32_MAX ? (uint32_t)w : UINT32_MAX;
}

/* Step a copy of em's detector over the open minutes closed + 1 .. newest
 * (those of the baseline's day) with the counts so far, the newest
 * minute's raised to whole_minute() (frac 1: as they are). TS_DET_START
 * with *ev (and the minute it was made at in *at) or TS_DET_NONE. */
static int step_open(ts_engine *e, uint32_t pid, uint32_t mid, int64_t closed, int64_t newest,
		     double frac, ts_det_event *ev, int64_t *at)
{
	emetric *em = e->m[mid];
	const ts_profile *prof = ts_engine_profile_(e, em);
	const ts_metric *m = ts_registry_get_metric(e->reg, mid);
	const ts_api *api = ts_registry_get_api(e->reg, m->api);
	int is_error = m->kind == TS_M_ERRORS;
	ts_detector d;
	ts_mdet_get(&em->md, is_error, &d);
	for (int64_t t = closed + 1; t <= newest && ts_day_of(t) == em->md.fit_day; t++) {
		uint32_t x = ts_agg_open_count(e->agg, pid, mid, t), n = 0;
		if (is_error)
			n = ts_agg_open_count(e->agg, pid, api->calls, t) +
			    ts_agg_open_count(e->agg, pid, api->reads, t);
		if (t == newest && frac < 1) {
			x = whole_minute(x, frac);
			n = whole_minute(n, frac);
		}
		ts_det_obs o = ts_mdet_obs(&em->md, is_error, t, x, n);
		o.steady = 0;
		o.steady_size = 0;
		if (ts_detector_step(&d, prof, is_error, t, &o, ev) == TS_DET_START) {
			*at = t;
			return TS_DET_START;
		}
	}
	return TS_DET_NONE;
}

/* Judge metric mid of partition pid on its open minutes; write its Start
 * when the copy of its detector makes one upwards. A Start made at the
 * newest minute, of which only `seen` seconds of data time were read, is
 * written only if the copy dates it at the same minute when that minute's
 * counts are raised to a generous whole minute (whole_minute): a partial
 * minute lowers the multiple of a late split and can date a slow rise
 * before the closed minutes do; more counts in the newest minute favour
 * the later splits (those of the higher multiple), so a date both counts
 * give is, as a rule, that of every count between them. Otherwise the Start waits for the next judgment
 * (the metric stays marked; by then the minute is no longer the newest,
 * or more of it is read). 0 or a fatal code. */
static int judge(ts_engine *e, uint32_t pid, uint32_t mid)
{
	emetric *em = e->m[mid];
	/* the series' own profile (an override's, if one applies); none for a
	 * series an unjudged rule holds */
	const ts_profile *prof = ts_engine_profile_(e, em);
	if (ts_engine_unjudged_(e, em))
		return 0;
	const ts_metric *m = ts_registry_get_metric(e->reg, mid);
	int is_error = m->kind == TS_M_ERRORS;
	if (em->open || m->kind == TS_M_READS || em->md.fit_day == INT64_MIN || !em->md.judged)
		return 0;
	int64_t closed = ts_agg_closed(e->agg, pid), newest = ts_agg_newest(e->agg, pid);
	if (closed == INT64_MIN || newest <= closed)
		return 0;
	ts_detector d;
	ts_mdet_get(&em->md, is_error, &d);
	if (d.open || d.last > closed)
		return 0;
	ts_det_event ev, whole;
	int64_t at, at_whole;
	if (step_open(e, pid, mid, closed, newest, 1, &ev, &at) != TS_DET_START)
		return 0;
	/* upwards, with its insight window begun */
	if (ev.dir < 0 || newest < ev.start + prof->insight_minutes - 1)
		return 0;
	int64_t seen = ts_order_newest(e->order, pid) - newest * 60 + 1;
	if (at == newest && seen > 0 && seen < 60 &&
	    (step_open(e, pid, mid, closed, newest, seen / 60.0, &whole, &at_whole) != TS_DET_START ||
	     whole.start != ev.start))
		return ts_early_touch_(e, pid, mid); /* judged again at the next step */
	/* past the partition's cap the closed minutes decide (and count) */
	if (ts_engine_start_capped_(e, em, pid, 0))
		return 0;
	if (!(em->open = calloc(1, sizeof *em->open)))
		return TS_ENOMEM;
	em->open->start = ev.start;
	em->open->p_value = ev.p_value;
	em->open->expected = ev.expected;
	em->open->early = 1;
	int rc = ts_engine_emit_(e, mid, 0, closed, 1);
	if (rc)
		return rc;
	em->open->start_written = 1;
	e->st.early_starts++;
	e->parts[pid]->dirty = 1;
	return 0;
}

int ts_early_judge_(ts_engine *e, uint32_t pid)
{
	if (pid >= e->nparts || !e->parts[pid])
		return 0;
	epart *p = e->parts[pid];
	int rc = 0;
	/* a metric judge() marks again is appended: judged at the next call */
	size_t i = 0, n = p->ntouched;
	for (; i < n && !rc; i++) {
		uint32_t mid = p->touched[i];
		e->m[mid]->touched = 0;
		rc = judge(e, pid, mid);
	}
	/* after a fatal error the rest stay marked */
	if (i && i < p->ntouched)
		memmove(p->touched, p->touched + i, (p->ntouched - i) * sizeof *p->touched);
	p->ntouched -= i;
	return rc;
}

int ts_early_judge_all_(ts_engine *e)
{
	int rc = 0;
	for (uint32_t pid = 0; pid < e->nparts && !rc; pid++)
		if (e->parts[pid] && e->parts[pid]->ntouched)
			rc = ts_early_judge_(e, pid);
	return rc;
}

int ts_early_closed_(ts_engine *e, emetric *em, int is_error, int64_t minute, int k,
		     ts_det_event *ev)
{
	(void)e;
	const ts_episode *ep = em->open;
	if (k == TS_DET_START) /* already written, at the early minute */
		return TS_DET_NONE;
	if (k == TS_DET_END) {
		/* the End's minute is the detector's; the episode's start stays */
		int64_t end = ev->start + ev->duration;
		ev->duration = end > ep->start ? end - ep->start : 1;
		return k;
	}
	if (minute < ep->start)
		return k;
	ts_detector d;
	ts_mdet_get(&em->md, is_error, &d);
	if (d.open)
		return k;
	/* not started on the closed minutes by the early Start's minute: the
	 * episode goes on from there, until end_after usual minutes */
	d.open = 1;
	d.dir = 1;
	d.start = ep->start;
	d.last_elevated = minute;
	d.held = 0;
	return ts_mdet_set(&em->md, &d) ? TS_ENOMEM : TS_DET_NONE;
}
