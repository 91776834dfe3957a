/* report_data.c - the numbers behind one report chart (see report_data.h).
 *
 * The series is found (or added) in the registry by the strings the event
 * names, so the same code reads a backfill's memory store and a Redis
 * store opened afresh. Baselines are refitted per UTC day shown from the
 * store's counts of the days before, with the engine's warm-up rule; when
 * the registry does not know when the API was first seen (a fresh
 * registry over Redis), the first day with any count of the API in the
 * history window stands for it. Band edges are the 1 % and 99 % quantiles
 * of the model's distribution for the minute (negative binomial or
 * Poisson for calls; binomial over the minute's calls for errors), found
 * by bisection on its CDF and cached while the parameters repeat.
 */
#include <math.h>
#include <stdlib.h>

#include "detect.h"
#include "model.h"
#include "report_data.h"

void ts_rdata_clear(ts_rdata *d)
{
	free(d->observed);
	free(d->expected);
	free(d->lo);
	free(d->hi);
	free(d->lastweek);
	free(d->hist);
	free(d->hist2);
	free(d->hist3);
	free(d->cnt);
	free(d->cnt2);
	free(d->cnt3);
	free(d->bl);
	memset(d, 0, sizeof *d);
}

static int grow_u32(uint32_t **p, size_t n)
{
	uint32_t *q = realloc(*p, (n ? n : 1) * sizeof *q);
	if (!q)
		return TS_ENOMEM;
	*p = q;
	return 0;
}

static int grow_f64(double **p, size_t n)
{
	double *q = realloc(*p, (n ? n : 1) * sizeof *q);
	if (!q)
		return TS_ENOMEM;
	*p = q;
	return 0;
}

/* Smallest k in [0, kmax] with cdf(k) >= q. */
static double quantile(double q, double kmax, double (*cdf)(double k, const double *a),
		       const double *a)
{
	double lo = 0, hi = kmax;
	if (cdf(0, a) >= q)
		return 0;
	while (hi - lo > 1) {
		double mid = floor((lo + hi) / 2);
		if (cdf(mid, a) >= q)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

static double cdf_rate(double k, const double *a) /* a: mean, size */
{
	return ts_model_p_low(k, a[0], a[1]);
}

static double cdf_binom(double k, const double *a) /* a: n, q */
{
	return 1.0 - ts_model_p_binom_high((uint64_t)k + 1, (uint64_t)a[0], a[1]);
}

typedef struct band_cache {
	double a0, a1, lo, hi;
	int valid;
} band_cache;

static void band(band_cache *c, int is_error, double a0, double a1, double *lo, double *hi)
{
	if (!c->valid || c->a0 != a0 || c->a1 != a1) {
		double a[2] = {a0, a1};
		if (is_error) {
			c->lo = quantile(TS_BAND_LO, a0, cdf_binom, a);
			c->hi = quantile(TS_BAND_HI, a0, cdf_binom, a);
		} else {
			double var = a1 > 0 ? a0 + a0 * a0 / a1 : a0;
			double kmax = ceil(a0 + 40 * sqrt(var) + 20);
			c->lo = quantile(TS_BAND_LO, kmax, cdf_rate, a);
			c->hi = quantile(TS_BAND_HI, kmax, cdf_rate, a);
		}
		c->a0 = a0;
		c->a1 = a1;
		c->valid = 1;
	}
	*lo = c->lo;
	*hi = c->hi;
}

/* The metric the event is about, found or added. */
static int find_metric(ts_registry *reg, const ts_event *ev, uint32_t *mid, const ts_api **api)
{
	uint32_t pid, aid, vid;
	int rc = ts_registry_partition(reg, ts_str_c(ev->account), ts_str_c(ev->region), &pid);
	if (!rc)
		rc = ts_registry_api(reg, pid, ts_str_c(ev->source), ts_str_c(ev->name),
				     ev->data_events, &aid);
	if (rc)
		return rc;
	const ts_api *a = ts_registry_get_api(reg, aid);
	*mid = a->calls;
	if (ev->type == TS_ERROR_RATE) {
		if ((rc = ts_registry_value(reg, ts_str_c(ev->error_code), &vid)) ||
		    (rc = ts_registry_error_metric(reg, aid, vid, mid)))
			return rc;
		a = ts_registry_get_api(reg, aid); /* may have moved */
	}
	*api = a;
	return 0;
}

/* The first day with any count of the API (calls, reads or m) among the
 * hd days before day; day when there is none. */
static int first_day(ts_rdata *d, ts_store *s, const ts_api *api, uint32_t m, int64_t day, int hd,
		     int64_t *out)
{
	size_t n = (size_t)hd * TS_MIN_PER_DAY;
	int64_t from = (day - hd) * TS_MIN_PER_DAY;
	uint32_t ids[3] = {api->calls, api->reads, m};
	int64_t first = day * TS_MIN_PER_DAY;
	for (int k = 0; k < 3; k++) {
		if (s->ops->read_counts(s, ids[k], from, n, d->hist))
			return TS_ESTORE;
		for (size_t i = 0; i < n && from + (int64_t)i < first; i++)
			if (d->hist[i]) {
				first = from + (int64_t)i;
				break;
			}
	}
	*out = ts_day_of(first);
	return 0;
}

/* Fit day's baseline into bl (call rate) or *q (error rate). *judged 0
 * while the series is warming up. */
static int fit_day(ts_rdata *d, ts_store *s, const ts_profile *p, const ts_api *api, uint32_t m,
		   int is_error, int64_t first, int64_t day, ts_baseline *bl, double *q, int *judged)
{
	*judged = 0;
	if (day - first < p->warmup_days)
		return 0;
	int64_t avail = day - first;
	int nd = avail < p->history_days ? (int)avail : p->history_days;
	int64_t from = (day - nd) * TS_MIN_PER_DAY;
	size_t n = (size_t)nd * TS_MIN_PER_DAY;
	if (s->ops->read_counts(s, m, from, n, d->hist))
		return TS_ESTORE;
	if (is_error) {
		if (s->ops->read_counts(s, api->calls, from, n, d->hist2) ||
		    s->ops->read_counts(s, api->reads, from, n, d->hist3))
			return TS_ESTORE;
		for (size_t i = 0; i < n; i++)
			d->hist2[i] += d->hist3[i];
		ts_baseline b;
		int rc = ts_model_fit_error(d->hist, d->hist2, nd, day, &b);
		if (rc)
			return rc;
		*q = b.q;
	} else {
		int rc = ts_model_fit_rate(d->hist, nd, day, p, bl);
		if (rc)
			return rc;
	}
	*judged = 1;
	return 0;
}

static int alloc_all(ts_rdata *d, size_t n, size_t hist)
{
	if (grow_f64(&d->observed, n) || grow_f64(&d->expected, n) || grow_f64(&d->lo, n) ||
	    grow_f64(&d->hi, n) || grow_f64(&d->lastweek, n))
		return TS_ENOMEM;
	if (n > d->cnt_cap) {
		if (grow_u32(&d->cnt, n) || grow_u32(&d->cnt2, n) || grow_u32(&d->cnt3, n))
			return TS_ENOMEM;
		d->cnt_cap = n;
	}
	if (hist > d->hist_cap) {
		if (grow_u32(&d->hist, hist) || grow_u32(&d->hist2, hist) || grow_u32(&d->hist3, hist))
			return TS_ENOMEM;
		d->hist_cap = hist;
	}
	if (!d->bl && !(d->bl = malloc(sizeof(ts_baseline))))
		return TS_ENOMEM;
	return 0;
}

int ts_rdata_fill(ts_rdata *d, const ts_event *ev, int64_t start, int64_t end, int drop,
		  int before, int after, const ts_profile *p, ts_registry *reg, ts_store *s)
{
	uint32_t m;
	const ts_api *api;
	int rc = find_metric(reg, ev, &m, &api);
	if (rc)
		return rc;
	int is_error = ev->type == TS_ERROR_RATE;
	int64_t shown_end = end == INT64_MIN ? start + 60 : end;
	int64_t t0 = start - before, t1 = shown_end + after;
	if (t1 - t0 > 14 * TS_MIN_PER_DAY)
		t1 = t0 + 14 * TS_MIN_PER_DAY;
	size_t n = (size_t)(t1 - t0);
	int hd = p->history_days > 0 ? p->history_days : 28;
	if ((rc = alloc_all(d, n, (size_t)hd * TS_MIN_PER_DAY)))
		return rc;
	d->t0 = t0;
	d->n = n;
	/* the counts shown, the week before, and (errors) the calls */
	if (s->ops->read_counts(s, m, t0, n, d->cnt) ||
	    s->ops->read_counts(s, m, t0 - 7 * TS_MIN_PER_DAY, n, d->cnt2))
		return TS_ESTORE;
	for (size_t i = 0; i < n; i++) {
		d->observed[i] = d->cnt[i];
		d->lastweek[i] = d->cnt2[i];
		d->expected[i] = d->lo[i] = d->hi[i] = NAN;
	}
	if (is_error) {
		if (s->ops->read_counts(s, api->calls, t0, n, d->cnt2) ||
		    s->ops->read_counts(s, api->reads, t0, n, d->cnt3))
			return TS_ESTORE;
		for (size_t i = 0; i < n; i++)
			d->cnt2[i] += d->cnt3[i];
	}
	int64_t first;
	if (api->first_minute != INT64_MAX)
		first = ts_day_of(api->first_minute);
	else if ((rc = first_day(d, s, api, m, ts_day_of(t0), hd, &first)))
		return rc;

	ts_baseline *bl = d->bl;
	ts_detector det;
	ts_detector_init(&det);
	det.floor = t0 - 1; /* windows see only the minutes replayed */
	band_cache bc = {0};
	int64_t fitted = INT64_MIN;
	int judged = 0;
	double q = 0;
	d->judged = 0;
	d->decided = INT64_MIN;
	d->replay_p = NAN;
	for (size_t i = 0; i < n; i++) {
		int64_t t = t0 + (int64_t)i, day = ts_day_of(t);
		unsigned mod = (unsigned)(t - day * TS_MIN_PER_DAY);
		if (day != fitted) {
			if ((rc = fit_day(d, s, p, api, m, is_error, first, day, bl, &q, &judged)))
				return rc;
			fitted = day;
			bc.valid = 0;
		}
		ts_det_obs o = {.x = d->cnt[i], .lam = -1, .q = -1};
		if (judged) {
			d->judged = 1;
			if (is_error) {
				o.n = d->cnt2[i];
				o.q = (float)q;
				d->expected[i] = q * d->cnt2[i];
				band(&bc, 1, d->cnt2[i], q, &d->lo[i], &d->hi[i]);
			} else {
				o.lam = bl->lam[mod];
				o.size = bl->size[mod];
				o.steady = bl->steady[mod];
				o.steady_size = (float)bl->steady_size;
				d->expected[i] = bl->lam[mod];
				band(&bc, 0, bl->lam[mod], bl->size[mod], &d->lo[i], &d->hi[i]);
			}
		}
		ts_det_event de;
		if (ts_detector_step(&det, p, is_error, t, &o, &de) == TS_DET_START &&
		    d->decided == INT64_MIN && de.start == start) {
			d->decided = t;
			d->replay_p = de.p_value;
		}
	}
	/* the episode's extreme minute */
	d->peak = NAN;
	d->peak_minute = start;
	d->peak_expected = NAN;
	for (int64_t t = start; t < shown_end && t < t1; t++) {
		size_t i = (size_t)(t - t0);
		double v = d->observed[i];
		if (isnan(d->peak) || (drop ? v < d->peak : v > d->peak)) {
			d->peak = v;
			d->peak_minute = t;
			d->peak_expected = d->expected[i];
		}
	}
	return 0;
}
