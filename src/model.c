/* model.c - baseline fitting and tail probabilities (GSL).
 *
 * Fitting reads only its arguments and writes only *out; it keeps no state,
 * so the detector calls it once per metric per UTC day (as AWS recomputes
 * its baselines daily). Robustness: hourly levels are trimmed means over
 * days (the highest and lowest day dropped when there are five or more), so
 * one past anomaly does not poison the baseline; regular bursts (jobs)
 * are found by bursts.c.
 * The real-valued baseline (the end of this file, bench/nab.c's series)
 * is fitted the same way, from its arguments only, every few rows; its
 * scratch arrays are malloc'd and freed within the call.
 */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "bursts.h"
#include "model.h"

#define POISSON_SIZE 1e6 /* sizes above this are judged as Poisson */
#define MAX_DAYS 28

int ts_model_weekend(int64_t day)
{
	/* 1970-01-01 was a Thursday: (day + 4) % 7 is 0 on Sunday */
	int64_t dow = ((day + 4) % 7 + 7) % 7;
	return dow == 0 || dow == 6;
}

/* Trimmed mean of v[n] (sorted in place). */
static double robust_mean(double *v, size_t n)
{
	if (n == 0)
		return 0;
	gsl_sort(v, 1, n);
	if (n >= 5)
		return gsl_stats_mean(v + 1, 1, n - 2);
	if (n >= 3)
		return gsl_stats_mean(v, 1, n - 1); /* drop the highest */
	return gsl_stats_mean(v, 1, n);
}

/* The weekend ratio of a series (a weekend day's calls over a weekday's),
 * as honest as its evidence. Its log has a prior N(0, WEEKEND_TAU2) (most
 * series: 1/e to e) and is estimated from the weekend days of the history
 * against the weekdays' robust hourly rates (rate_h per minute over kept
 * minutes, regular bursts left out of both); the estimate's variance is
 * the Poisson error of both sides plus the day-to-day variance of a
 * weekday's total (robust, at least WEEK_VAR: no two weeks are alike)
 * over each side's days. Returns the posterior ratio exp(mean); *c2 gets
 * the predictive variance of the log rate of the day judged: the
 * posterior's plus one day's own. Fills out's ratio fields. */
#define WEEKEND_TAU2 1.0
#define WEEK_VAR 0.01
#define WEEKLY_MIN_CALLS 20 /* weekday calls a weekday shape needs */

static double weekly_ratio(double (*hourly)[24], int ndays, int64_t day, const double *rate_h,
			   const int *kept, double *c2, ts_baseline *out)
{
	double wd = 0, we_tot[MAX_DAYS], lwd[MAX_DAYS], poisson_part = 0;
	size_t n_we = 0, n_wd = 0;
	for (int h = 0; h < 24; h++)
		wd += rate_h[h] * kept[h];
	for (int d = 0; d < ndays; d++) {
		double t = 0;
		for (int h = 0; h < 24; h++)
			t += hourly[d][h];
		if (ts_model_weekend(day - ndays + d)) {
			we_tot[n_we++] = t;
		} else {
			lwd[n_wd++] = log(t + 0.5);
			poisson_part += 1 / (t + 0.5);
		}
	}
	double vday = WEEK_VAR;
	if (n_wd >= 3) {
		gsl_sort(lwd, 1, n_wd);
		double med = gsl_stats_median_from_sorted_data(lwd, 1, n_wd);
		for (size_t i = 0; i < n_wd; i++)
			lwd[i] = fabs(lwd[i] - med);
		gsl_sort(lwd, 1, n_wd);
		double sc = 1.4826 * gsl_stats_median_from_sorted_data(lwd, 1, n_wd);
		vday = fmax(sc * sc - poisson_part / (double)n_wd, WEEK_VAR);
	}
	out->ratio_raw = out->ratio = 1;
	if (n_we == 0 || n_wd == 0) {
		*c2 = WEEKEND_TAU2 + vday; /* no weekend seen: anything from 1/e to e */
		out->ratio_sd = sqrt(*c2);
		return 1;
	}
	double we = robust_mean(we_tot, n_we);
	double cwe = we * (double)n_we, cwd = wd * (double)n_wd;
	double lr = log((cwe + 0.5) / (double)n_we) - log((cwd + 0.5) / (double)n_wd);
	double s2 = 1 / (cwe + 0.5) + 1 / (cwd + 0.5) + vday / (double)n_we + vday / (double)n_wd;
	double w = WEEKEND_TAU2 / (WEEKEND_TAU2 + s2);
	*c2 = w * s2 + vday;
	out->ratio_raw = exp(lr);
	out->ratio = exp(w * lr);
	out->ratio_sd = sqrt(*c2);
	return out->ratio;
}

int ts_model_fit_rate(const uint32_t *hist, int ndays, int64_t day, const ts_profile *p,
		      ts_baseline *out)
{
	if (ndays < 1 || ndays > MAX_DAYS)
		return TS_EINVAL;
	double hourly[MAX_DAYS][24];
	double total = 0;
	memset(out, 0, sizeof *out);
	out->day = day;
	for (int d = 0; d < ndays; d++) {
		for (int h = 0; h < 24; h++) {
			uint64_t s = 0;
			const uint32_t *x = hist + (size_t)d * TS_MIN_PER_DAY + h * 60;
			for (int m = 0; m < 60; m++)
				s += x[m];
			hourly[d][h] = (double)s;
			total += (double)s;
		}
	}
	out->level = total / ((double)ndays * TS_MIN_PER_DAY);
	if (total == 0) {
		for (int m = 0; m < TS_MIN_PER_DAY; m++)
			out->lam[m] = 0;
		return 0;
	}

	/* day class: a weekday is judged from the history's weekdays when it
	 * has at least two. A weekend day is judged from the weekdays' hourly
	 * shape times the series' weekend ratio, shrunk toward 1 by its evidence
	 * (weekly_ratio), when the history has at least two weekdays; otherwise
	 * from its own class when two such days exist, else from all days,
	 * scaled by the ratio of class means when one exists. sel[d] marks the
	 * days the hourly rates are learned from. */
	int target_we = ts_model_weekend(day);
	int n_we = 0;
	for (int d = 0; d < ndays; d++)
		n_we += ts_model_weekend(day - ndays + d);
	int n_wd = ndays - n_we;
	double wd_calls = 0;
	for (int d = 0; d < ndays; d++)
		for (int h = 0; h < 24; h++)
			wd_calls += ts_model_weekend(day - ndays + d) ? 0 : hourly[d][h];
	int weekly = target_we && n_wd >= 2 && wd_calls >= WEEKLY_MIN_CALLS;
	int use_class = weekly || (target_we ? n_we : n_wd) >= 2;
	int shape_we = weekly ? 0 : target_we;
	unsigned char sel[MAX_DAYS];
	double class_sum = 0, all_sum = 0;
	int class_days = 0, same = 0;
	for (int d = 0; d < ndays; d++) {
		int we = ts_model_weekend(day - ndays + d);
		double dt = 0;
		for (int h = 0; h < 24; h++)
			dt += hourly[d][h];
		all_sum += dt;
		if (we == target_we) {
			class_sum += dt;
			class_days++;
		}
		sel[d] = (unsigned char)(!use_class || we == shape_we);
		same += sel[d];
	}
	double factor = 1;
	if (!use_class && class_days > 0 && all_sum > 0)
		factor = (class_sum / class_days) / (all_sum / ndays);
	out->day_class = (!use_class ? TS_DAY_ALL : !target_we ? TS_DAY_WEEKDAY
				       : weekly ? TS_DAY_WEEKEND_RATIO : TS_DAY_WEEKEND);
	out->weekend_days = n_we;
	out->ratio_raw = out->ratio = 1;

	/* 1. a first seasonal guess, from all minutes */
	double rate_h[24], vals[MAX_DAYS], level = 0;
	for (int h = 0; h < 24; h++) {
		size_t n = 0;
		for (int d = 0; d < ndays; d++)
			if (sel[d])
				vals[n++] = hourly[d][h];
		rate_h[h] = robust_mean(vals, n) / 60.0 * factor;
	}

	/* 2. regular bursts (cron jobs) at a minute of the hour or of the day
	 * (bursts.c); burst[m] flags minute m of the day */
	unsigned char burst[TS_MIN_PER_DAY] = {0};
	float bmean[TS_MIN_PER_DAY], bsize[TS_MIN_PER_DAY];
	if (ts_bursts_find(hist, ndays, rate_h, total, burst, bmean, bsize))
		return TS_ENOMEM;

	/* 3. the steady seasonal rate, from the minutes that are not bursts:
	 * a daily job of hundreds of calls must not raise its whole hour */
	int kept[24];
	for (int h = 0; h < 24; h++) {
		kept[h] = 0;
		for (int j = 0; j < 60; j++)
			kept[h] += !burst[h * 60 + j];
		for (int d = 0; d < ndays; d++) {
			double sum = 0;
			const uint32_t *x = hist + (size_t)d * TS_MIN_PER_DAY + h * 60;
			for (int j = 0; j < 60; j++)
				if (!burst[h * 60 + j])
					sum += x[j];
			hourly[d][h] = sum;
		}
		size_t n = 0;
		for (int d = 0; d < ndays; d++)
			if (sel[d])
				vals[n++] = hourly[d][h];
		rate_h[h] = kept[h] ? robust_mean(vals, n) / kept[h] * factor : 0;
		level += rate_h[h] / 24;
	}
	/* a weekend from the weekdays' shape: times the shrunk ratio, and the
	 * ratio's uncertainty (c2, a variance of the log rate) widens every
	 * minute's distribution below */
	double c2 = 0;
	if (weekly) {
		double r = weekly_ratio(hourly, ndays, day, rate_h, kept, &c2, out);
		level = 0;
		for (int h = 0; h < 24; h++) {
			rate_h[h] *= r;
			level += rate_h[h] / 24;
		}
	}
	/* shrink each hour toward the level (a gamma prior worth `shrink`
	 * minutes), and smooth across neighbours where counts are thin */
	double k = p->shrink, nd = same;
	double sm[24];
	for (int h = 0; h < 24; h++)
		sm[h] = 0.25 * rate_h[(h + 23) % 24] + 0.5 * rate_h[h] + 0.25 * rate_h[(h + 1) % 24];
	for (int h = 0; h < 24; h++) {
		/* keep the sharper of raw and smoothed where the raw rate is well
		 * estimated (many events), the smoothed one where it is not */
		double events = rate_h[h] * kept[h] * nd;
		double r = events > 200 ? rate_h[h] : sm[h];
		rate_h[h] = (60 * nd * r + k * level) / (60 * nd + k);
	}

	/* 4. over-dispersion from per-minute variance within hours, bursts out */
	double phis[24];
	size_t nphi = 0;
	for (int h = 0; h < 24; h++) {
		double mu = rate_h[h];
		if (mu < 1 || kept[h] < 2)
			continue;
		double s2 = 0;
		size_t n = 0;
		for (int d = 0; d < ndays; d++) {
			if (!sel[d])
				continue;
			const uint32_t *x = hist + (size_t)d * TS_MIN_PER_DAY + h * 60;
			double hm = hourly[d][h] / kept[h];
			for (int j = 0; j < 60; j++) {
				if (burst[h * 60 + j])
					continue;
				s2 += (x[j] - hm) * (x[j] - hm);
				n++;
			}
		}
		if (n > 60)
			phis[nphi++] = (s2 / (double)(n - 1) - mu) / (mu * mu);
	}
	double size = 0;
	if (nphi) {
		gsl_sort(phis, 1, nphi);
		double phi = gsl_stats_median_from_sorted_data(phis, 1, nphi);
		if (phi > 0.005)
			size = 1.0 / phi < 3 ? 3 : 1.0 / phi;
	}
	if (c2 > 0) {
		/* the weekend ratio's own uncertainty, on top: it moves every
		 * minute of the day together, so a window of w minutes gains
		 * c2 (w lam)^2, but the detector sums minutes as independent
		 * (w lam^2 / size). Scaled by k_win, the length of the shortest
		 * window that can hold min_count events at the day's level,
		 * the sum is right for that window and short of it for longer
		 * ones: honest where Starts are decided, never wider. */
		double k_win = fmin(60, fmax(1, p->min_count / fmax(level, 1e-9)));
		size = 1.0 / ((size > 0 ? 1.0 / size : 0) + c2 * k_win);
	}

	/* 5. the expectation: steady rate, raised at regular burst minutes */
	out->steady_size = size;
	for (int m = 0; m < TS_MIN_PER_DAY; m++) {
		out->steady[m] = (float)rate_h[m / 60];
		out->lam[m] = out->steady[m];
		out->size[m] = (float)size;
		if (burst[m] && bmean[m] > out->lam[m]) {
			out->lam[m] = bmean[m];
			out->size[m] = bsize[m];
			out->regular_minutes++;
		}
	}
	return 0;
}

int ts_model_fit_error(const uint32_t *errors, const uint32_t *calls, int ndays, int64_t day,
		       ts_baseline *out)
{
	if (ndays < 1 || ndays > MAX_DAYS)
		return TS_EINVAL;
	memset(out, 0, sizeof *out);
	out->day = day;
	double fr[MAX_DAYS];
	size_t nfr = 0;
	uint64_t te = 0, tc = 0;
	for (int d = 0; d < ndays; d++) {
		uint64_t e = 0, c = 0;
		for (int m = 0; m < TS_MIN_PER_DAY; m++) {
			e += errors[(size_t)d * TS_MIN_PER_DAY + m];
			c += calls[(size_t)d * TS_MIN_PER_DAY + m];
		}
		te += e;
		tc += c;
		if (c >= 20)
			fr[nfr++] = (double)e / (double)c;
	}
	out->level = (double)te / ((double)ndays * TS_MIN_PER_DAY);
	/* pooled fraction with a Jeffreys-style prior; with enough days, the
	 * median of daily fractions keeps one bad day from raising it */
	double pooled = ((double)te + 0.5) / ((double)tc + 1.0);
	double q = pooled;
	if (nfr >= 3) {
		gsl_sort(fr, 1, nfr);
		double med = gsl_stats_median_from_sorted_data(fr, 1, nfr);
		q = fmin(pooled, fmax(med, 0.5 / ((double)tc + 1.0)));
		/* a steady chronic rate varies by the hour: keep its upper range */
		double hi = gsl_stats_quantile_from_sorted_data(fr, 1, nfr, 0.75);
		q = fmax(q, fmin(hi, pooled));
	}
	out->q = q;
	return 0;
}

double ts_model_p_high(double x, double mean, double size)
{
	if (x <= 0)
		return 1;
	if (mean < 1e-9)
		mean = 1e-9;
	unsigned k = x > 4e9 ? 4000000000u : (unsigned)x;
	if (size <= 0 || size > POISSON_SIZE)
		return gsl_cdf_poisson_Q(k - 1, mean);
	double pr = size / (size + mean);
	return gsl_cdf_negative_binomial_Q(k - 1, pr, size);
}

double ts_model_p_low(double x, double mean, double size)
{
	if (mean < 1e-9)
		return 1;
	unsigned k = x < 0 ? 0 : x > 4e9 ? 4000000000u : (unsigned)x;
	if (size <= 0 || size > POISSON_SIZE)
		return gsl_cdf_poisson_P(k, mean);
	double pr = size / (size + mean);
	return gsl_cdf_negative_binomial_P(k, pr, size);
}

double ts_model_p_binom_high(uint64_t k, uint64_t n, double q)
{
	if (k == 0)
		return 1;
	if (k > n)
		return 0;
	if (q <= 0)
		q = 1e-12;
	if (q >= 1)
		return 1;
	if (n > 4000000000u) {
		double scale = 4e9 / (double)n;
		k = (uint64_t)((double)k * scale);
		n = 4000000000u;
	}
	return gsl_cdf_binomial_Q((unsigned)k - 1, q, (unsigned)n);
}

/* ---- compact baselines ---- */

static int same_float(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

int ts_cbase_make(const ts_baseline *b, ts_cbase **out)
{
	uint32_t nexc = 0;
	for (int pass = 0; pass < 2; pass++) {
		ts_cbase *c = pass ? *out : NULL;
		float size0 = (float)b->steady_size;
		uint32_t k = 0;
		for (int m = 0; m < TS_MIN_PER_DAY; m++) {
			float sh = b->steady[m - m % 60];
			if (same_float(b->lam[m], sh) && same_float(b->size[m], size0) &&
			    same_float(b->steady[m], sh))
				continue;
			if (c)
				c->exc[k] = (ts_cbase_exc){(uint16_t)m, b->lam[m], b->size[m], b->steady[m]};
			k++;
		}
		if (pass) {
			c->size0 = size0;
			c->steady_size = (float)b->steady_size;
			c->nexc = k;
			c->day_class = (int8_t)b->day_class;
			c->weekend_days = (int8_t)b->weekend_days;
			c->ratio = (float)b->ratio;
			c->ratio_raw = (float)b->ratio_raw;
			c->ratio_sd = (float)b->ratio_sd;
			for (int h = 0; h < 24; h++)
				c->steady_h[h] = b->steady[h * 60];
			return 0;
		}
		nexc = k;
		ts_cbase *n = realloc(*out, sizeof *n + nexc * sizeof n->exc[0]);
		if (!n)
			return TS_ENOMEM;
		*out = n;
	}
	return 0;
}

void ts_cbase_at(const ts_cbase *c, unsigned mod, float *lam, float *size, float *steady)
{
	uint32_t lo = 0, hi = c->nexc;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (c->exc[mid].minute < mod)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nexc && c->exc[lo].minute == mod) {
		*lam = c->exc[lo].lam;
		*size = c->exc[lo].size;
		*steady = c->exc[lo].steady;
		return;
	}
	*lam = *steady = c->steady_h[mod / 60];
	*size = c->size0;
}

size_t ts_cbase_size(const ts_cbase *c) { return sizeof *c + c->nexc * sizeof c->exc[0]; }

static uint32_t fixed(float x, double scale, uint32_t max)
{
	double v = round((double)x * scale);
	return !(v > 0) ? 0 : v >= max ? max : (uint32_t)v;
}

void ts_cbase_basis(const ts_cbase *c, unsigned mod, ts_basis *out)
{
	float lam, size, steady;
	ts_cbase_at(c, mod, &lam, &size, &steady);
	*out = (ts_basis){.day_class = c->day_class,
			  .weekend_days = c->weekend_days,
			  .regular = lam > steady,
			  .ratio_e4 = fixed(c->ratio, 1e4, TS_BASIS_RATIO_MAX),
			  .ratio_raw_e4 = fixed(c->ratio_raw, 1e4, TS_BASIS_RATIO_MAX),
			  .ratio_sd_e3 = fixed(c->ratio_sd, 1e3, TS_BASIS_SD_MAX)};
}

/* ---- real-valued series ---- */

#define VWEEK_ORIGIN (4 * 86400) /* 1970-01-05, a Monday */
static const int64_t vperiod[3] = {0, 86400, 7 * 86400};

void ts_vopts_defaults(ts_vopts *o)
{
	*o = (ts_vopts){.ref = 300, .warm = 50, .history = 4000, .tail_frac = 0.01, .tail_min = 25,
			.day_bins = 48, .week_bins = 168, .periods = 4, .shrink = 1,
			.margin = 0.05, .seasons = 7, .spread_min = 32};
}

static int vbins(const ts_vopts *o, int k)
{
	int b = k == 1 ? o->day_bins : k == 2 ? o->week_bins : 1;
	return b < 1 ? 1 : b > TS_VBINS_MAX ? TS_VBINS_MAX : b;
}

static int vbin(int64_t per, int nbins, int64_t t)
{
	if (per == 0)
		return 0;
	int64_t off = ((t - VWEEK_ORIGIN) % per + per) % per;
	return (int)(off * nbins / per);
}

double ts_vbase_expect(const ts_vbase *b, int64_t t)
{
	return b->level + b->prof[vbin(vperiod[b->season], b->nbins, t)];
}

/* The profile of season k from rows [lo, hi): per bin, the median of each
 * row's deviation from the median of its own period, shrunk toward 0 by
 * `shrink` periods of prior; periods with fewer than 4 rows are left out,
 * and with fewer than two periods the profile stays flat. a and b are
 * scratch of hi - lo doubles. */
static void vprofile(const ts_vopts *o, int k, const int64_t *t, const double *x, size_t lo,
		     size_t hi, double *prof, double *a, double *b)
{
	int nb = vbins(o, k);
	int64_t per = vperiod[k];
	for (int i = 0; i < nb; i++)
		prof[i] = 0;
	int nper = 0;
	for (size_t j = lo; j < hi;) {
		int64_t id = ts_floordiv(t[j] - VWEEK_ORIGIN, per);
		size_t q = j, c = 0;
		while (q < hi && ts_floordiv(t[q] - VWEEK_ORIGIN, per) == id)
			a[c++] = x[q++];
		double med = c >= 4 ? gsl_stats_median(a, 1, c) : NAN;
		nper += c >= 4;
		for (size_t r = j; r < q; r++)
			b[r - lo] = x[r] - med;
		j = q;
	}
	if (nper < 2)
		return;
	/* rows by bin (a counting sort into a), then a median per bin */
	size_t start[TS_VBINS_MAX + 1] = {0}, fill[TS_VBINS_MAX];
	for (size_t r = lo; r < hi; r++)
		if (!isnan(b[r - lo]))
			start[vbin(per, nb, t[r]) + 1]++;
	for (int i = 0; i < nb; i++) {
		start[i + 1] += start[i];
		fill[i] = start[i];
	}
	for (size_t r = lo; r < hi; r++)
		if (!isnan(b[r - lo]))
			a[fill[vbin(per, nb, t[r])]++] = b[r - lo];
	double w = nper / (nper + o->shrink);
	for (int i = 0; i < nb; i++) {
		size_t c = start[i + 1] - start[i];
		if (c)
			prof[i] = w * gsl_stats_median(a + start[i], 1, c);
	}
}

/* MAD scale of v[n] around its median (v is reordered); *med gets the
 * median. Floored by half the mean absolute deviation, so a series that is
 * mostly constant still has a scale, and by res, the resolution below which
 * a difference is rounding (ts_model_fit_value). */
static double vscale(double *v, size_t n, double *med, double res)
{
	*med = gsl_stats_median(v, 1, n);
	double mad = 0;
	for (size_t i = 0; i < n; i++) {
		v[i] = fabs(v[i] - *med);
		mad += v[i];
	}
	mad /= (double)n;
	double sc = 1.4826 * gsl_stats_median(v, 1, n);
	if (sc < 0.5 * mad)
		sc = 0.5 * mad;
	double fl = fmax(fmax(1e-12 * fabs(*med), res), 1e-300);
	return sc > fl ? sc : fl;
}

/* The upper tail of z[n]: a generalised Pareto above the value that leaves
 * max(tail_min, tail_frac n) above it, by the method of moments on the
 * exceedances, the shape kept >= 0 (the tail is never bounded); with
 * fewer than 3 values above u (ties), an exponential of one scale unit.
 * tmp is scratch of n. 0, or -1 with too few values. */
static int vtail(const ts_vopts *o, const double *z, size_t n, ts_vtail *t, double *tmp)
{
	size_t k = (size_t)fmax(o->tail_min, o->tail_frac * (double)n);
	if (n < 3 * k)
		return -1;
	memcpy(tmp, z, n * sizeof *tmp);
	t->u = gsl_stats_select(tmp, 1, n, n - k - 1);
	double s1 = 0, s2 = 0;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(z[i] > t->u))
			continue;
		double e = z[i] - t->u;
		s1 += e;
		s2 += e * e;
		m++;
	}
	if (m < 3) {
		/* ties: (almost) every value is at or below u, so the sample
		 * says nothing about a tail's shape; beyond u it falls off by
		 * one scale unit (exponential) from the mass at or above u
		 * (the ties count), so a value past everything seen is as
		 * unusual as its distance says and one at u is not */
		size_t ge = 0;
		for (size_t i = 0; i < n; i++)
			ge += z[i] >= t->u;
		t->frac = (double)ge / (double)(n + 1);
		t->xi = 0;
		t->sigma = 1;
		return 0;
	}
	double mean = fmax(s1 / (double)m, 1e-12), var = s2 / (double)m - mean * mean;
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

/* P(Z >= z) under one tail; below its threshold only "at least frac". */
static double vtail_p(const ts_vtail *t, double z)
{
	if (z <= t->u)
		return fmin(1, t->frac * (1 + (t->u - z)));
	double e = z - t->u;
	if (t->xi < 1e-9)
		return t->frac * gsl_cdf_exponential_Q(e, t->sigma);
	double b = t->sigma / t->xi; /* GPD(xi, sigma) is a Pareto shifted by b */
	return t->frac * gsl_cdf_pareto_Q(e + b, 1 / t->xi, b);
}

double ts_model_p_value(const ts_vnull *f, double s, int dir)
{
	if (!f->ok || fabs(s - f->loc) <= f->res)
		return 1;
	double z = (s - f->loc) / f->scale;
	return dir > 0 ? vtail_p(&f->hi, z) : vtail_p(&f->lo, -z);
}

/* The null of v[n] (reordered), its scale at least res; a is scratch of n. */
static void vnull(const ts_vopts *o, double *v, size_t n, double res, ts_vnull *f, double *a)
{
	f->ok = 0;
	if (n < 30)
		return;
	memcpy(a, v, n * sizeof *a);
	f->scale = vscale(a, n, &f->loc, res);
	f->res = res;
	for (size_t i = 0; i < n; i++)
		v[i] = (v[i] - f->loc) / f->scale;
	if (vtail(o, v, n, &f->hi, a))
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = -v[i];
	if (vtail(o, v, n, &f->lo, a))
		return;
	f->ok = 1;
}

int ts_model_fit_value(const int64_t *t, const double *x, const float *dev, size_t n,
		       const ts_profile *p, const ts_vopts *o, ts_vbase *out)
{
	memset(out, 0, sizeof *out);
	out->nbins = 1;
	size_t ref = o->ref > 0 ? (size_t)o->ref : 1;
	if (n < (size_t)o->warm || n < 2)
		return 0;
	size_t h = n < (size_t)o->history ? n : (size_t)o->history;
	double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * (n + 1)),
	       *y = malloc(sizeof(double) * n), *pre = malloc(sizeof(double) * (n + 1));
	double prof[TS_VBINS_MAX];
	if (!a || !b || !y || !pre)
		goto nomem;
	/* the profile whose rows deviate least from the level of the ref rows
	 * before each (flat unless a seasonal one cuts that by the margin) */
	double best = INFINITY;
	for (int k = 0; k < 3; k++) {
		if (!(o->seasons >> k & 1))
			continue;
		size_t from = 0;
		if (k) {
			int64_t span = (int64_t)o->periods * vperiod[k];
			while (from < n && t[from] < t[n - 1] - span)
				from++;
			vprofile(o, k, t, x, from, n, prof, a, b);
		} else {
			prof[0] = 0;
		}
		int nb = vbins(o, k);
		pre[0] = 0;
		for (size_t i = 0; i < n; i++) {
			y[i] = x[i] - prof[vbin(vperiod[k], nb, t[i])];
			pre[i + 1] = pre[i] + y[i];
		}
		size_t c = 0;
		for (size_t i = n - h; i < n; i++)
			if (i >= ref)
				a[c++] = y[i] - (pre[i] - pre[i - ref]) / (double)ref;
			else if (i >= (size_t)o->warm)
				a[c++] = y[i] - pre[i] / (double)i;
		double med, sc = c >= 30 ? vscale(a, c, &med, 0) : INFINITY;
		if (k == 0)
			sc *= 1 - o->margin;
		if (sc < best || k == 0) {
			best = sc;
			out->season = k;
			out->nbins = nb;
			memcpy(out->prof, prof, sizeof(double) * (size_t)nb);
			/* the level: the last ref rows, fewer while the series is young */
			size_t lo = n > ref ? n - ref : 0;
			out->level = (pre[n] - pre[lo]) / (double)(n - lo);
		}
	}
	out->ok = 1;
	/* the resolution of a row's deviation: below a billionth of the rows'
	 * mean magnitude a difference is the rounding of the level's sums (a
	 * constant series must not turn it into an anomaly); a window of w
	 * rows sums w of them */
	double res = 0;
	for (size_t i = n - h; i < n; i++)
		res += fabs(x[i]);
	res = 1e-9 * res / (double)h;
	/* the nulls: the past sums of deviations over each window; prefix
	 * sums of the deviations in pre, of the rows not judged in b */
	pre[0] = b[0] = 0;
	for (size_t i = 0; i < n; i++) {
		pre[i + 1] = pre[i] + (isnan(dev[i]) ? 0 : dev[i]);
		b[i + 1] = b[i] + isnan(dev[i]);
	}
	for (int w = 0; w < p->n_windows; w++) {
		size_t ww = (size_t)p->windows[w], c = 0;
		for (size_t i = n - h; i < n; i++)
			if (i + 1 >= ww && b[i + 1] == b[i + 1 - ww])
				y[c++] = pre[i + 1] - pre[i + 1 - ww];
		vnull(o, y, c, res * (double)ww, &out->null[w], a);
	}
	/* the spread nulls, of windows of at least spread_min (and 4) rows:
	 * the past sums of |dev[i] - dev[i-1]| over the window's rows, prefix
	 * sums in pre */
	for (size_t i = 0; i < n; i++)
		pre[i + 1] = pre[i] + (i > 0 && !isnan(dev[i]) && !isnan(dev[i - 1])
					       ? fabs((double)dev[i] - dev[i - 1])
					       : 0);
	for (int w = 0; o->spread_min > 0 && w < p->n_windows; w++) {
		size_t ww = (size_t)p->windows[w], c = 0;
		if (ww < 4 || ww < (size_t)o->spread_min)
			continue;
		for (size_t i = n - h; i < n; i++)
			if (i + 1 >= ww && b[i + 1] == b[i + 1 - ww])
				y[c++] = pre[i + 1] - pre[i + 2 - ww];
		vnull(o, y, c, res * (double)ww, &out->null[TS_MAX_WINDOWS + w], a);
	}
	free(a);
	free(b);
	free(y);
	free(pre);
	return 0;
nomem:
	free(a);
	free(b);
	free(y);
	free(pre);
	out->ok = 0;
	return TS_ENOMEM;
}
