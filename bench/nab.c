/* nab.c - trailsight's detector core on the Numenta Anomaly Benchmark.
 *
 *   nab [--labels WINDOWS.json] [--set KEY=VALUE]... DATA_DIR RESULTS_DIR
 *
 * Reads every DATA_DIR/<category>/<name>.csv (timestamp,value), scores each
 * row with a streaming detector and writes NAB's results layout,
 * RESULTS_DIR/trailsight/<category>/trailsight_<name>.csv with the columns
 * timestamp,value,anomaly_score,label. The label column (1 inside a labelled
 * window) is NAB's format; it is filled from WINDOWS.json after detection and
 * never seen by the detector. bench/nab.sh builds and runs this, and NAB's
 * own scorer; bench/nab.md describes the whole procedure.
 *
 * The detector (struct nab_det) is trailsight's core adapted to real-valued
 * series: it sees one row at a time, in order, and the score of row i uses
 * rows 0..i only (no file length, no min/max, no labels).
 *   1. Baselines, as in model.c: a flat one and seasonal ones (time of day,
 *      time of week; robust medians over the last periods, shrunk toward
 *      flat), refitted every profile_refit rows. Count series (non-negative
 *      integers in the warm-up) are judged on sqrt(x), their stabilised scale.
 *   2. Trailing windows, as in detect.c: for each window of w rows, the
 *      mean deseasonalised value minus the mean of the reference rows just
 *      before it.
 *   3. Tail probabilities: each window's statistic is judged against the
 *      null learned from its own past values (median/MAD, then a generalised
 *      Pareto tail on each side, GSL's Pareto and exponential CDFs), so a
 *      series that is always spiky does not alarm on every spike. The
 *      smallest p over the windows (times their number) is the row's p.
 *   4. Start/End: an episode starts when p < p_start and ends after end_after
 *      rows no longer unusual at p_continue; only the Start row gets a
 *      score, L / (L + 10) with L = -log10 p, every other row scores 0.
 * Invariants: rows 0..n-1 are stored; once warm, every enabled baseline has
 * y, pre and stat for each stored row; a null is fitted only from statistics
 * of windows that end before the judged window begins.
 * Ownership: a nab_det owns its row arrays (capped at NAB_MAX_ROWS); main owns
 * the file texts and the windows table.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_statistics_double.h>

#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "util.h"

#define NAB_MAX_WINDOWS 8
#define NAB_MAX_ROWS 10000000u          /* rows in one series */
#define NAB_MAX_FILE (1024u * 1024 * 1024) /* bytes in one input file */
#define NAB_MAX_BINS 1024
#define NAB_DETECTOR "trailsight"        /* NAB: no underscore in the name */

/* ------------------------------------------------------------------ */
/* Settings: one global setting for every file. */

enum { M_FLAT, M_DAY, M_WEEK, N_MODELS };

typedef struct nab_settings {
	int windows[NAB_MAX_WINDOWS]; /* trailing windows judged, rows */
	int n_windows;
	int ref_min;        /* reference rows before a window, at least */
	double ref_mult;    /* ... and at least this many times the window */
	int history;        /* past statistics a null is fitted on, rows */
	int refit;          /* rows between refits of the nulls */
	int profile_refit;  /* rows between refits of the seasonal profiles */
	int profile_periods;/* days (weeks) a daily (weekly) profile learns from */
	int day_bins;       /* bins of the daily profile */
	int week_bins;      /* bins of the weekly profile */
	double shrink;      /* periods of prior pulling a profile toward flat */
	int models;         /* baselines allowed: bit 0 flat, 1 daily, 2 weekly */
	double margin;      /* a seasonal baseline must cut the scale by this */
	int warmup;         /* rows before the first judgement */
	int sqrt_counts;    /* judge count series on the square-root scale */
	double tail_frac;   /* fraction of a null's statistics in each GPD tail */
	int tail_min;       /* ... but at least this many */
	double p_start;     /* tail probability that starts an episode */
	double p_continue;  /* looser probability that keeps it open */
	int end_after;      /* rows no longer unusual that end an episode */
	int cooldown;       /* rows after an End before the next Start */
} nab_settings;

static void nab_defaults(nab_settings *s)
{
	static const int w[] = {1, 3, 10, 30, 100};
	memset(s, 0, sizeof *s);
	memcpy(s->windows, w, sizeof w);
	s->n_windows = (int)TS_ARRAY_LEN(w);
	s->ref_min = 50;
	s->ref_mult = 3;
	s->history = 4000;
	s->refit = 25;
	s->profile_refit = 50;
	s->profile_periods = 4;
	s->day_bins = 48;
	s->week_bins = 168;
	s->shrink = 1;
	s->models = 7;
	s->margin = 0.05;
	s->warmup = 50;
	s->sqrt_counts = 1;
	s->tail_frac = 0.01;
	s->tail_min = 25;
	s->p_start = 1e-3;
	s->p_continue = 1e-2;
	s->end_after = 5;
	s->cooldown = 0;
}

/* Apply "key=value". 0, or -1 for an unknown key or a bad value. */
static int nab_set(nab_settings *s, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq)
		return -1;
	size_t kl = (size_t)(eq - kv);
	const char *v = eq + 1;
	struct {
		const char *key;
		double *d;
		int *i;
		double lo, hi;
	} keys[] = {
		{"ref_min", NULL, &s->ref_min, 1, 100000},
		{"ref_mult", &s->ref_mult, NULL, 0, 1000},
		{"history", NULL, &s->history, 50, 1000000},
		{"refit", NULL, &s->refit, 1, 100000},
		{"profile_refit", NULL, &s->profile_refit, 1, 100000},
		{"profile_periods", NULL, &s->profile_periods, 2, 100},
		{"day_bins", NULL, &s->day_bins, 1, NAB_MAX_BINS},
		{"week_bins", NULL, &s->week_bins, 1, NAB_MAX_BINS},
		{"shrink", &s->shrink, NULL, 0, 1e6},
		{"models", NULL, &s->models, 1, 7},
		{"margin", &s->margin, NULL, -1, 1},
		{"warmup", NULL, &s->warmup, 1, 100000},
		{"sqrt_counts", NULL, &s->sqrt_counts, 0, 1},
		{"tail_frac", &s->tail_frac, NULL, 0, 0.3},
		{"tail_min", NULL, &s->tail_min, 3, 100000},
		{"p_start", &s->p_start, NULL, 1e-300, 0.5},
		{"p_continue", &s->p_continue, NULL, 1e-300, 1},
		{"end_after", NULL, &s->end_after, 1, 1000000},
		{"cooldown", NULL, &s->cooldown, 0, 1000000},
	};
	if (kl == 7 && strncmp(kv, "windows", 7) == 0) {
		int n = 0;
		while (*v) {
			char *end;
			errno = 0;
			long w = strtol(v, &end, 10);
			if (errno || end == v || w < 1 || w > 100000 || n == NAB_MAX_WINDOWS)
				return -1;
			s->windows[n++] = (int)w;
			if (*end == ',')
				end++;
			else if (*end)
				return -1;
			v = end;
		}
		if (n == 0)
			return -1;
		s->n_windows = n;
		return 0;
	}
	for (size_t k = 0; k < TS_ARRAY_LEN(keys); k++) {
		if (strlen(keys[k].key) != kl || strncmp(kv, keys[k].key, kl) != 0)
			continue;
		double d;
		if (ts_parse_double(v, keys[k].lo, keys[k].hi, &d))
			return -1;
		if (keys[k].i) {
			if (d != floor(d))
				return -1;
			*keys[k].i = (int)d;
		} else {
			*keys[k].d = d;
		}
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Nulls: what a window statistic looks like when nothing is wrong. */

/* One side of a null: above u (in standardised units), a generalised
 * Pareto tail holding the fraction frac of the statistics. */
typedef struct gpd_tail {
	double u, frac, xi, sigma;
} gpd_tail;

typedef struct null_fit {
	int ok;
	size_t n;            /* statistics it was fitted on */
	double loc, scale;   /* median and MAD scale (floored) */
	gpd_tail hi, lo;     /* upper tail of z, and of -z */
} null_fit;

/* Fit the upper tail of z[n] (standardised statistics; tmp[n] scratch).
 * Parameters by the method of moments on the exceedances, xi clamped at 0
 * (an exponential tail at least: the tail is never bounded). 0 or -1. */
static int fit_tail(const nab_settings *s, const double *z, size_t n, gpd_tail *t,
		    double *tmp)
{
	size_t k = (size_t)fmax(s->tail_min, s->tail_frac * (double)n);
	if (n < 3 * k)
		return -1;
	memcpy(tmp, z, n * sizeof *tmp);
	t->u = gsl_stats_select(tmp, 1, n, n - k - 1);
	double sum = 0, sum2 = 0;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(z[i] > t->u))
			continue;
		double e = z[i] - t->u;
		sum += e;
		sum2 += e * e;
		m++;
	}
	if (m < 3)
		return -1;
	double mean = sum / (double)m, var = sum2 / (double)m - mean * mean;
	if (!(mean > 1e-12))
		mean = 1e-12; /* ties at the top: a near point mass */
	if (!(var > 0))
		var = mean * mean;
	double r = mean * mean / var;
	t->xi = 0.5 * (1 - r);
	t->sigma = 0.5 * mean * (1 + r);
	if (t->xi < 0) {
		t->xi = 0;
		t->sigma = mean;
	}
	t->frac = (double)m / (double)(n + 1);
	return 0;
}

/* P(Z >= z) from one fitted tail. Below the threshold the tail says only
 * "at least frac", which is never unusual enough to matter. */
static double tail_p(const gpd_tail *t, double z)
{
	if (z <= t->u)
		return fmin(1, t->frac * (1 + (t->u - z)));
	double e = z - t->u;
	if (t->xi < 1e-9)
		return t->frac * gsl_cdf_exponential_Q(e, t->sigma);
	/* GPD(xi, sigma) is a Pareto shifted by sigma/xi */
	double b = t->sigma / t->xi;
	return t->frac * gsl_cdf_pareto_Q(e + b, 1 / t->xi, b);
}

/* Fit a null to v[n]; a and b are scratch of n doubles. */
static void fit_null(const nab_settings *s, const double *v, size_t n, null_fit *f, double *a,
		     double *b)
{
	f->ok = 0;
	f->n = n;
	if (n < 30)
		return;
	memcpy(a, v, n * sizeof *a);
	double med = gsl_stats_median(a, 1, n);
	double mean_ad = 0;
	for (size_t i = 0; i < n; i++) {
		a[i] = fabs(v[i] - med);
		mean_ad += a[i];
	}
	mean_ad /= (double)n;
	double sc = 1.4826 * gsl_stats_median(a, 1, n);
	/* a series that is mostly constant has MAD 0: use its mean deviation */
	if (sc < 0.5 * mean_ad)
		sc = 0.5 * mean_ad;
	if (!(sc > 1e-12 * fabs(med)) || !(sc > 1e-300))
		sc = fmax(1e-12 * fabs(med), 1e-300);
	f->loc = med;
	f->scale = sc;
	for (size_t i = 0; i < n; i++)
		a[i] = (v[i] - med) / sc;
	if (fit_tail(s, a, n, &f->hi, b))
		return;
	for (size_t i = 0; i < n; i++)
		a[i] = -a[i];
	if (fit_tail(s, a, n, &f->lo, b))
		return;
	f->ok = 1;
}

/* Two-sided tail probability of statistic v; *dir gets its sign. */
static double null_p(const null_fit *f, double v, int *dir)
{
	double z = (v - f->loc) / f->scale;
	*dir = z > 0 ? 1 : -1;
	double p = z > 0 ? tail_p(&f->hi, z) : tail_p(&f->lo, -z);
	return fmin(1, 2 * p);
}

/* ------------------------------------------------------------------ */
/* Seasonal baselines. */

static const int64_t model_period[N_MODELS] = {0, 86400, 7 * 86400};
#define WEEK_ORIGIN (4 * 86400) /* 1970-01-05, a Monday */

static int model_bins(const nab_settings *s, int k)
{
	return k == M_DAY ? s->day_bins : k == M_WEEK ? s->week_bins : 1;
}

static int model_bin(const nab_settings *s, int k, int64_t t)
{
	if (k == M_FLAT)
		return 0;
	int64_t per = model_period[k];
	int64_t off = ((t - WEEK_ORIGIN) % per + per) % per;
	return (int)(off * model_bins(s, k) / per);
}

/* Fit the profile of baseline k from rows [lo, hi): prof[b] is the median
 * over the rows in bin b of (value - the median of its period), shrunk
 * toward 0 by shrink periods of prior. Periods with fewer than 4 rows are
 * left out; with fewer than two periods the profile is flat. tmp and eff
 * are scratch of hi - lo doubles. */
static void fit_profile(const nab_settings *s, int k, const int64_t *t, const double *x,
			size_t lo, size_t hi, double *prof, double *tmp, double *eff)
{
	int nb = model_bins(s, k);
	int64_t per = model_period[k];
	for (int b = 0; b < nb; b++)
		prof[b] = 0;
	int nper = 0;
	for (size_t j = lo; j < hi;) {
		int64_t id = ts_floordiv(t[j] - WEEK_ORIGIN, per);
		size_t q = j, c = 0;
		while (q < hi && ts_floordiv(t[q] - WEEK_ORIGIN, per) == id)
			tmp[c++] = x[q++];
		double med = c >= 4 ? gsl_stats_median(tmp, 1, c) : NAN;
		nper += c >= 4;
		for (size_t r = j; r < q; r++)
			eff[r - lo] = x[r] - med;
		j = q;
	}
	if (nper < 2)
		return;
	/* bucket the deviations by bin (counting sort), then a median per bin */
	size_t start[NAB_MAX_BINS + 1] = {0}, fill[NAB_MAX_BINS];
	for (size_t r = lo; r < hi; r++)
		if (!isnan(eff[r - lo]))
			start[model_bin(s, k, t[r]) + 1]++;
	for (int b = 0; b < nb; b++) {
		start[b + 1] += start[b];
		fill[b] = start[b];
	}
	for (size_t r = lo; r < hi; r++)
		if (!isnan(eff[r - lo]))
			tmp[fill[model_bin(s, k, t[r])]++] = eff[r - lo];
	double w = nper / (nper + s->shrink);
	for (int b = 0; b < nb; b++) {
		size_t c = start[b + 1] - start[b];
		if (c)
			prof[b] = w * gsl_stats_median(tmp + start[b], 1, c);
	}
}

/* ------------------------------------------------------------------ */
/* The streaming detector. */

typedef struct baseline {
	double prof[NAB_MAX_BINS]; /* expected deviation per bin */
	size_t from;               /* first row of the periods the profile learns from */
	double *y;                 /* per row: value minus its bin's profile */
	double *pre;               /* prefix sums of y, pre[i] = y[0] + .. + y[i-1] */
	double *stat[NAB_MAX_WINDOWS]; /* per row: window mean minus reference mean */
	null_fit null[NAB_MAX_WINDOWS];
} baseline;

typedef struct nab_det {
	nab_settings set;
	size_t n, cap;       /* rows seen; rows allocated */
	int64_t *t;          /* timestamps, seconds */
	double *x;           /* values, on the judged scale once warm */
	int counts;          /* 1: count series, judged on sqrt */
	baseline base[N_MODELS];
	int chosen;          /* the baseline the windows are judged with */
	double *buf, *work, *work2; /* scratch, cap doubles each */
	/* the episode (detect.c's state, in rows) */
	int open, dir;
	size_t last_unusual, quiet_until;
	/* what was found, for the summary */
	size_t starts;
} nab_det;

static size_t ref_len(const nab_settings *s, int w)
{
	return (size_t)fmax(s->ref_min, s->ref_mult * s->windows[w]);
}

static void nab_det_free(nab_det *d);

/* A detector with the given settings, or NULL (out of memory). Free with
 * nab_det_free; nab_det_free(NULL) is a no-op. */
static nab_det *nab_det_new(const nab_settings *set)
{
	nab_det *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->set = *set;
	return d;
}

static void nab_det_free(nab_det *d)
{
	if (!d)
		return;
	for (int k = 0; k < N_MODELS; k++) {
		free(d->base[k].y);
		free(d->base[k].pre);
		for (int w = 0; w < NAB_MAX_WINDOWS; w++)
			free(d->base[k].stat[w]);
	}
	free(d->t);
	free(d->x);
	free(d->buf);
	free(d->work);
	free(d->work2);
	free(d);
}

static int grow(void *pp, size_t elem, size_t n)
{
	void *p = realloc(*(void **)pp, elem * n);
	if (!p)
		return TS_ENOMEM;
	*(void **)pp = p;
	return 0;
}

/* Room for one more row. 0, TS_ECAP or TS_ENOMEM. */
static int reserve(nab_det *d)
{
	if (d->n < d->cap)
		return 0;
	if (d->cap >= NAB_MAX_ROWS)
		return TS_ECAP;
	size_t cap = d->cap ? d->cap * 2 : 4096;
	if (cap > NAB_MAX_ROWS)
		cap = NAB_MAX_ROWS;
	if (grow(&d->t, sizeof *d->t, cap) || grow(&d->x, sizeof *d->x, cap) ||
	    grow(&d->buf, sizeof(double), cap) || grow(&d->work, sizeof(double), cap) ||
	    grow(&d->work2, sizeof(double), cap))
		return TS_ENOMEM;
	for (int k = 0; k < N_MODELS; k++) {
		baseline *b = &d->base[k];
		if (grow(&b->y, sizeof(double), cap) || grow(&b->pre, sizeof(double), cap + 1))
			return TS_ENOMEM;
		for (int w = 0; w < d->set.n_windows; w++)
			if (grow(&b->stat[w], sizeof(double), cap))
				return TS_ENOMEM;
	}
	d->cap = cap;
	return 0;
}

/* Row j enters the baselines: profiles refitted from rows before it when
 * due, then its deseasonalised value and window statistics. */
static void advance(nab_det *d, size_t j)
{
	const nab_settings *s = &d->set;
	for (int k = 0; k < N_MODELS; k++) {
		baseline *b = &d->base[k];
		if (!(s->models >> k & 1))
			continue;
		if (k != M_FLAT && j > 0 && j % (size_t)s->profile_refit == 0) {
			int64_t span = s->profile_periods * model_period[k];
			while (d->t[b->from] < d->t[j] - span)
				b->from++;
			fit_profile(s, k, d->t, d->x, b->from, j, b->prof, d->buf, d->work);
		}
		b->y[j] = d->x[j] - b->prof[model_bin(s, k, d->t[j])];
		if (j == 0)
			b->pre[0] = 0;
		b->pre[j + 1] = b->pre[j] + b->y[j];
		for (int w = 0; w < s->n_windows; w++) {
			size_t ww = (size_t)s->windows[w], L = ref_len(s, w);
			if (j + 1 < ww + L) {
				b->stat[w][j] = NAN;
				continue;
			}
			double cur = (b->pre[j + 1] - b->pre[j + 1 - ww]) / (double)ww;
			double ref = (b->pre[j + 1 - ww] - b->pre[j + 1 - ww - L]) / (double)L;
			b->stat[w][j] = cur - ref;
		}
	}
}

/* Fit the null of window w of baseline b at row i, from the statistics of
 * the history rows that end before the current window begins. */
static void fit_window(nab_det *d, baseline *b, int w, size_t i)
{
	size_t ww = (size_t)d->set.windows[w];
	size_t hi = i + 1 >= ww ? i + 1 - ww : 0;
	size_t lo = hi > (size_t)d->set.history ? hi - (size_t)d->set.history : 0;
	size_t c = 0;
	for (size_t j = lo; j < hi; j++)
		if (!isnan(b->stat[w][j]))
			d->buf[c++] = b->stat[w][j];
	fit_null(&d->set, d->buf, c, &b->null[w], d->work, d->work2);
}

/* Refit: the 1-row window of every baseline, the baseline with the smallest
 * scale chosen (flat unless a seasonal one is better by the margin), then
 * the chosen baseline's other windows. */
static void refit(nab_det *d, size_t i)
{
	const nab_settings *s = &d->set;
	double best = INFINITY;
	d->chosen = -1;
	for (int k = 0; k < N_MODELS; k++) {
		if (!(s->models >> k & 1))
			continue;
		baseline *b = &d->base[k];
		fit_window(d, b, 0, i);
		double sc = b->null[0].ok ? b->null[0].scale : INFINITY;
		if (k == M_FLAT)
			sc *= 1 - s->margin;
		if (sc < best || d->chosen < 0) {
			best = sc;
			d->chosen = k;
		}
	}
	for (int w = 1; w < s->n_windows; w++)
		fit_window(d, &d->base[d->chosen], w, i);
}

/* Judge row i: its p over the windows, then the Start/End state machine.
 * Returns the row's score. */
static double judge(nab_det *d, size_t i)
{
	const nab_settings *s = &d->set;
	if ((i - (size_t)s->warmup) % (size_t)s->refit == 0)
		refit(d, i);
	const baseline *b = &d->base[d->chosen];
	double p = 1;
	int dir = 0, nw = 0;
	for (int w = 0; w < s->n_windows; w++) {
		if (!b->null[w].ok || isnan(b->stat[w][i]))
			continue;
		int dw;
		double pw = null_p(&b->null[w], b->stat[w][i], &dw);
		nw++;
		if (pw < p) {
			p = pw;
			dir = dw;
		}
	}
	p = fmin(1, p * (nw ? nw : 1)); /* Bonferroni over the windows judged */
	if (d->open) {
		if (p < s->p_continue && dir == d->dir)
			d->last_unusual = i;
		if (i - d->last_unusual >= (size_t)s->end_after) {
			d->open = 0;
			d->quiet_until = i + (size_t)s->cooldown;
		}
		return 0;
	}
	if (!(p < s->p_start) || i < d->quiet_until)
		return 0;
	d->open = 1;
	d->dir = dir;
	d->last_unusual = i;
	d->starts++;
	double l = -log10(fmax(p, 1e-300));
	return l / (l + 10);
}

/* Feed one row, in file order (timestamp in seconds: NAB's files step back
 * in time a few times, which only puts a row in another profile bin).
 * *score gets the row's anomaly score in [0, 1), from this row and the
 * rows before it. 0, TS_ECAP (too many rows) or TS_ENOMEM. */
static int nab_det_step(nab_det *d, int64_t t, double x, double *score)
{
	const nab_settings *s = &d->set;
	*score = 0;
	int rc = reserve(d);
	if (rc)
		return rc;
	size_t i = d->n++;
	d->t[i] = t;
	d->x[i] = x;
	if (d->n < (size_t)s->warmup)
		return 0;
	if (d->n == (size_t)s->warmup) {
		/* warm: choose the scale from the rows seen, then catch up */
		d->counts = s->sqrt_counts;
		for (size_t j = 0; j < d->n; j++)
			if (!(d->x[j] >= 0 && d->x[j] == floor(d->x[j])))
				d->counts = 0;
		for (size_t j = 0; j < i; j++) {
			if (d->counts)
				d->x[j] = sqrt(d->x[j]);
			advance(d, j);
		}
	}
	if (d->counts)
		d->x[i] = copysign(sqrt(fabs(x)), x);
	advance(d, i);
	if (i < (size_t)s->warmup)
		return 0;
	*score = judge(d, i);
	return 0;
}

/* ------------------------------------------------------------------ */
/* NAB files. */

static void nab_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void nab_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("nab: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Read a whole file into a NUL-terminated buffer. 0, TS_EIO, TS_ECAP or
 * TS_ENOMEM; the caller frees *out. */
static int slurp(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return TS_EIO;
	ts_buf b = {.cap = NAB_MAX_FILE};
	char tmp[65536];
	size_t r;
	int rc = 0;
	while (!rc && (r = fread(tmp, 1, sizeof tmp, f)) > 0)
		rc = ts_buf_add(&b, tmp, r);
	if (!rc && ferror(f))
		rc = TS_EIO;
	fclose(f);
	if (!rc && !b.p)
		rc = ts_buf_grow(&b, 1);
	if (rc) {
		ts_buf_free(&b);
		return rc;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS" (fraction ignored) to epoch seconds. 0 or -1. */
static int parse_nab_time(const char *p, size_t n, int64_t *sec)
{
	unsigned v[6];
	static const unsigned width[6] = {4, 2, 2, 2, 2, 2};
	static const char sep[6] = {'-', '-', ' ', ':', ':', 0};
	size_t k = 0;
	for (int f = 0; f < 6; f++) {
		v[f] = 0;
		for (unsigned c = 0; c < width[f]; c++, k++) {
			if (k >= n || p[k] < '0' || p[k] > '9')
				return -1;
			v[f] = v[f] * 10 + (unsigned)(p[k] - '0');
		}
		if (sep[f]) {
			if (k >= n || (p[k] != sep[f] && !(f == 2 && p[k] == 'T')))
				return -1;
			k++;
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -1;
	*sec = ts_days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
	return 0;
}

/* One data file: rows point into text, which is modified (lines cut). */
typedef struct nab_file {
	char *text;
	size_t n;
	const char **row; /* "timestamp,value" of each row, as in the file */
	int64_t *t;
	double *x;
} nab_file;

static void nab_file_free(nab_file *f)
{
	free(f->text);
	free(f->row);
	free(f->t);
	free(f->x);
	memset(f, 0, sizeof *f);
}

/* Read a NAB data file (header "timestamp,value"). 0, or an error code with
 * a message in err. */
static int nab_file_read(const char *path, nab_file *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	size_t len;
	int rc = slurp(path, &f->text, &len);
	if (rc) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 rc == TS_EIO ? strerror(errno) : ts_strerror(rc));
		return rc;
	}
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += f->text[i] == '\n';
	f->row = malloc(lines * sizeof *f->row);
	f->t = malloc(lines * sizeof *f->t);
	f->x = malloc(lines * sizeof *f->x);
	if (!f->row || !f->t || !f->x) {
		snprintf(err, errlen, "'%s': %s", path, ts_strerror(TS_ENOMEM));
		return TS_ENOMEM;
	}
	char *p = f->text, *end = f->text + len;
	size_t line = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		line++;
		if (line == 1) {
			if (strncmp(p, "timestamp,value", 15) != 0) {
				snprintf(err, errlen, "%s:1: header is not 'timestamp,value'", path);
				return TS_EINVAL;
			}
		} else if (*p) {
			char *comma = strchr(p, ',');
			char *vend;
			if (!comma || parse_nab_time(p, (size_t)(comma - p), &f->t[f->n])) {
				snprintf(err, errlen, "%s:%zu: bad timestamp", path, line);
				return TS_EINVAL;
			}
			errno = 0;
			f->x[f->n] = strtod(comma + 1, &vend);
			if (errno || vend == comma + 1 || *vend || !isfinite(f->x[f->n])) {
				snprintf(err, errlen, "%s:%zu: bad value", path, line);
				return TS_EINVAL;
			}
			f->row[f->n++] = p;
		}
		p = nl + 1;
	}
	return 0;
}

/* The labelled windows, combined_windows.json: "<category>/<name>.csv" ->
 * [[start, end], ...]. Only used to write NAB's label column. */
typedef int64_t nab_span[2]; /* first and last second of a window */

typedef struct nab_windows {
	size_t n;
	char **key;       /* "<category>/<name>.csv" */
	size_t *count;    /* windows of each key */
	nab_span **win;
} nab_windows;

static void nab_windows_free(nab_windows *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->key[i]);
		free(w->win[i]);
	}
	free(w->key);
	free(w->count);
	free(w->win);
	memset(w, 0, sizeof *w);
}

/* Index of the token after the value starting at token i. */
static int tok_skip(const jsmntok_t *tok, int ntok, int i)
{
	int end = tok[i].end;
	i++;
	while (i < ntok && tok[i].start < end)
		i++;
	return i;
}

static int nab_windows_read(const char *path, nab_windows *w, char *err, size_t errlen)
{
	memset(w, 0, sizeof *w);
	char *js;
	size_t len;
	int rc = slurp(path, &js, &len);
	if (rc) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 rc == TS_EIO ? strerror(errno) : ts_strerror(rc));
		return rc;
	}
	jsmn_parser ps;
	jsmn_init(&ps);
	int ntok = jsmn_parse(&ps, js, len, NULL, 0);
	jsmntok_t *tok = ntok > 0 ? malloc(sizeof *tok * (size_t)ntok) : NULL;
	rc = TS_EJSON;
	if (!tok)
		goto bad;
	jsmn_init(&ps);
	if (jsmn_parse(&ps, js, len, tok, (unsigned)ntok) != ntok || tok[0].type != JSMN_OBJECT)
		goto bad;
	size_t nkeys = (size_t)tok[0].size;
	w->key = calloc(nkeys ? nkeys : 1, sizeof *w->key);
	w->count = calloc(nkeys ? nkeys : 1, sizeof *w->count);
	w->win = calloc(nkeys ? nkeys : 1, sizeof *w->win);
	if (!w->key || !w->count || !w->win) {
		rc = TS_ENOMEM;
		goto bad;
	}
	int i = 1;
	for (size_t k = 0; k < nkeys; k++) {
		if (i >= ntok || tok[i].type != JSMN_STRING || i + 1 >= ntok ||
		    tok[i + 1].type != JSMN_ARRAY)
			goto bad;
		w->key[k] = strndup(js + tok[i].start, (size_t)(tok[i].end - tok[i].start));
		size_t nw = (size_t)tok[i + 1].size;
		w->win[k] = malloc(sizeof *w->win[k] * (nw ? nw : 1));
		w->n = k + 1;
		if (!w->key[k] || !w->win[k]) {
			rc = TS_ENOMEM;
			goto bad;
		}
		int j = i + 2;
		for (size_t q = 0; q < nw; q++) {
			if (j + 2 >= ntok || tok[j].type != JSMN_ARRAY || tok[j].size != 2 ||
			    tok[j + 1].type != JSMN_STRING || tok[j + 2].type != JSMN_STRING)
				goto bad;
			for (int e = 0; e < 2; e++) {
				const jsmntok_t *s = &tok[j + 1 + e];
				if (parse_nab_time(js + s->start, (size_t)(s->end - s->start),
						   &w->win[k][q][e]))
					goto bad;
			}
			j += 3;
		}
		w->count[k] = nw;
		i = tok_skip(tok, ntok, i + 1);
	}
	free(tok);
	free(js);
	return 0;
bad:
	if (rc == TS_EJSON)
		snprintf(err, errlen, "'%s': not NAB's windows JSON ({\"cat/name.csv\": [[start, end], ...]})",
			 path);
	else
		snprintf(err, errlen, "'%s': %s", path, ts_strerror(rc));
	free(tok);
	free(js);
	nab_windows_free(w);
	return rc;
}

/* The windows of key, or NULL if the file has no entry. */
static const nab_span *windows_of(const nab_windows *w, const char *key, size_t *n)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->key[i], key) == 0) {
			*n = w->count[i];
			return w->win[i];
		}
	*n = 0;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The run. */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir: subfolders (dirs=1) or *.csv files (dirs=0), sorted. The
 * caller frees each name and the array. 0 or an error code. */
static int list_dir(const char *dir, int dirs, char ***out, size_t *nout)
{
	DIR *d = opendir(dir);
	if (!d)
		return TS_EIO;
	char **v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
			continue;
		struct stat st;
		if (stat(path, &st))
			continue;
		size_t l = strlen(e->d_name);
		if (dirs ? !S_ISDIR(st.st_mode)
			 : !S_ISREG(st.st_mode) || l < 5 || strcmp(e->d_name + l - 4, ".csv") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, cap * sizeof *v);
			if (!nv) {
				rc = TS_ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name)))
			rc = TS_ENOMEM;
		else
			n++;
	}
	closedir(d);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof *v, cmp_name);
	*out = v;
	*nout = n;
	return 0;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0777) == 0 || errno == EEXIST)
		return 0;
	nab_err("cannot create '%s': %s", path, strerror(errno));
	return TS_EIO;
}

typedef struct run_stats {
	size_t files, rows, starts, labelled;
} run_stats;

/* Detect on one file and write its results file. 0 or an error code
 * (already reported). */
static int run_file(const nab_settings *set, const nab_windows *wins, const char *data,
		    const char *out, const char *cat, const char *name, run_stats *st)
{
	char in[4096], res[4096], key[1024], err[4400];
	if ((size_t)snprintf(in, sizeof in, "%s/%s/%s", data, cat, name) >= sizeof in ||
	    (size_t)snprintf(res, sizeof res, "%s/" NAB_DETECTOR "/%s/" NAB_DETECTOR "_%s", out, cat,
			     name) >= sizeof res ||
	    (size_t)snprintf(key, sizeof key, "%s/%s", cat, name) >= sizeof key) {
		nab_err("path too long: '%s/%s'", cat, name);
		return TS_EINVAL;
	}
	nab_file f;
	int rc = nab_file_read(in, &f, err, sizeof err);
	if (rc) {
		nab_err("%s", err);
		nab_file_free(&f);
		return rc;
	}
	double *score = calloc(f.n ? f.n : 1, sizeof *score);
	nab_det *d = nab_det_new(set);
	if (!score || !d) {
		rc = TS_ENOMEM;
		nab_err("'%s': %s", in, ts_strerror(rc));
		goto done;
	}
	for (size_t i = 0; i < f.n && !rc; i++)
		rc = nab_det_step(d, f.t[i], f.x[i], &score[i]);
	if (rc) {
		nab_err("'%s': %s", in, ts_strerror(rc));
		goto done;
	}
	/* labels: only now, for NAB's column */
	size_t nw;
	const nab_span *w = windows_of(wins, key, &nw);
	if (!w && wins->n)
		nab_err("warning: '%s' has no entry in the windows file; label 0 throughout", key);
	FILE *o = fopen(res, "w");
	if (!o) {
		nab_err("cannot write '%s': %s", res, strerror(errno));
		rc = TS_EIO;
		goto done;
	}
	fputs("timestamp,value,anomaly_score,label\n", o);
	for (size_t i = 0; i < f.n; i++) {
		int label = 0;
		for (size_t q = 0; q < nw && !label; q++)
			label = f.t[i] >= w[q][0] && f.t[i] <= w[q][1];
		st->labelled += (size_t)label;
		fprintf(o, "%s,%.9f,%d\n", f.row[i], score[i], label);
	}
	if (ferror(o) | fclose(o)) {
		nab_err("cannot write '%s': %s", res, strerror(errno));
		rc = TS_EIO;
		goto done;
	}
	st->files++;
	st->rows += f.n;
	st->starts += d->starts;
done:
	nab_det_free(d);
	free(score);
	nab_file_free(&f);
	return rc;
}

static void usage(FILE *o)
{
	fputs("usage: nab [--labels WINDOWS.json] [--set KEY=VALUE]... DATA_DIR RESULTS_DIR\n"
	      "\n"
	      "Scores every DATA_DIR/<category>/<name>.csv of the Numenta Anomaly Benchmark\n"
	      "with trailsight's detector core and writes NAB's results layout,\n"
	      "RESULTS_DIR/" NAB_DETECTOR "/<category>/" NAB_DETECTOR "_<name>.csv\n"
	      "(timestamp,value,anomaly_score,label). The label column comes from\n"
	      "WINDOWS.json (NAB's labels/combined_windows.json); without it, 0.\n"
	      "--set changes one detector setting for every file (see bench/nab.md):\n"
	      "  windows=1,3,10,30,100 ref_min=50 ref_mult=3 history=4000 refit=25\n"
	      "  profile_refit=50 profile_periods=4 day_bins=48 week_bins=168 shrink=1\n"
	      "  models=7 margin=0.05 warmup=50 sqrt_counts=1 tail_frac=0.01 tail_min=25\n"
	      "  p_start=0.001 p_continue=0.01 end_after=5 cooldown=0\n",
	      o);
}

int main(int argc, char **argv)
{
	gsl_set_error_handler_off();
	nab_settings set;
	nab_defaults(&set);
	const char *labels = NULL;
	int a = 1;
	for (; a < argc && argv[a][0] == '-' && argv[a][1]; a++) {
		if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[a], "--labels") && a + 1 < argc) {
			labels = argv[++a];
		} else if (!strcmp(argv[a], "--set") && a + 1 < argc) {
			if (nab_set(&set, argv[++a])) {
				nab_err("--set %s: unknown key or bad value", argv[a]);
				return 1;
			}
		} else if (!strcmp(argv[a], "--")) {
			a++;
			break;
		} else {
			nab_err("unknown option '%s' (try --help)", argv[a]);
			return 1;
		}
	}
	if (argc - a != 2) {
		usage(stderr);
		return 1;
	}
	const char *data = argv[a], *out = argv[a + 1];
	nab_windows wins = {0};
	char err[4400];
	if (labels && nab_windows_read(labels, &wins, err, sizeof err)) {
		nab_err("%s", err);
		return 1;
	}
	char **cats = NULL;
	size_t ncat = 0;
	int rc = list_dir(data, 1, &cats, &ncat);
	if (rc || ncat == 0) {
		nab_err("'%s': %s", data, rc ? strerror(errno) : "no category folders");
		nab_windows_free(&wins);
		return 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_stats st = {0};
	char path[4096];
	snprintf(path, sizeof path, "%s/" NAB_DETECTOR, out);
	rc = make_dir(out) || make_dir(path);
	for (size_t c = 0; c < ncat && !rc; c++) {
		char cdir[4096];
		char **files = NULL;
		size_t nf = 0;
		if ((size_t)snprintf(cdir, sizeof cdir, "%s/%s", data, cats[c]) >= sizeof cdir ||
		    (size_t)snprintf(path, sizeof path, "%s/" NAB_DETECTOR "/%s", out, cats[c]) >=
			    sizeof path) {
			nab_err("path too long: '%s'", cats[c]);
			rc = TS_EINVAL;
			break;
		}
		if ((rc = list_dir(cdir, 0, &files, &nf))) {
			nab_err("cannot list '%s': %s", cdir, strerror(errno));
			break;
		}
		if (nf)
			rc = make_dir(path);
		for (size_t i = 0; i < nf && !rc; i++)
			rc = run_file(&set, &wins, data, out, cats[c], files[i], &st);
		free_names(files, nf);
	}
	free_names(cats, ncat);
	nab_windows_free(&wins);
	if (rc)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "nab: %zu files, %zu rows, %zu starts flagged, %zu rows in labelled windows, %.1f s\n",
		st.files, st.rows, st.starts, st.labelled, secs);
	return 0;
}
