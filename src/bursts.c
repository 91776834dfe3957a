/* bursts.c - regular bursts (cron jobs) in a metric's history: at a
 * minute of the hour or of the day, exact or drifting by a few minutes,
 * and daily runs of several minutes that land where none did yet.
 *
 * Pure: reads the history and the first seasonal guess, writes the
 * caller's burst[] flags (0 none, 1 exact at a minute of the hour, 3
 * exact at a minute of the day, 2 taken by a drifting window) and each
 * burst minute's mean and negative binomial size. A scratch buffer is
 * malloc'd and freed within the call. A burst counts as regular only
 * when it shows in most hours (minute of hour) or most days (minute of
 * day), so one past anomaly is not learned as a job.
 */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "bursts.h"

/* Mean and variance of burst values at one minute slot, highest dropped
 * when there are enough; a burst counts as regular when its 30% quantile
 * stands clearly above the seasonal rate. */
static int regular_burst(double *v, size_t n, double seasonal, double *mean, double *size)
{
	if (n < 3)
		return 0;
	gsl_sort(v, 1, n);
	double q30 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.3);
	if (!(q30 > 1.5 * seasonal + 3))
		return 0;
	size_t m = n >= 5 ? n - 1 : n;
	double mu = gsl_stats_mean(v, 1, m);
	double var = m > 1 ? gsl_stats_variance_m(v, 1, m, mu) : 0;
	*mean = mu;
	*size = var > mu * 1.05 ? mu * mu / (var - mu) : 0;
	return 1;
}

/* 2b. bursts that recur every hour or every day but not at one exact
 * minute (a job whose runs start a minute or two early or late): for each
 * window of 2 * DRIFT + 1 minutes, the largest count of each run (hour or
 * day) in it, minutes already taken as exact bursts left out; where those
 * peaks are regular, every minute of the window may carry the run, so each
 * one not yet a burst is raised to the peaks' mean and left out of the
 * steady rate. An exact job leaves nothing regular outside its own minutes,
 * so it keeps its single minute. Windows are taken where their sums (bursts
 * left out) stand well above the seasonal rate, best first; a window looked
 * at is not a candidate again. */
#define DRIFT 3

/* The largest count in the window around minute run_start + j of the
 * history, burst minutes left out. */
static double window_peak(const uint32_t *hist, int ndays, const unsigned char *burst,
			  int64_t run_start, int j)
{
	double mx = 0;
	for (int k = -DRIFT; k <= DRIFT; k++) {
		int64_t m = run_start + j + k;
		if (m < 0 || m >= (int64_t)ndays * TS_MIN_PER_DAY)
			continue;
		if (!burst[m % TS_MIN_PER_DAY])
			mx = fmax(mx, hist[m]);
	}
	return mx;
}

/* Mark the window around minute j of each period (per minutes, reps per
 * day) as bursts of mean mu and size sz where it is not one already. */
static void mark_window(unsigned char *burst, float *bmean, float *bsize, int per, int reps, int j,
			double mu, double sz)
{
	for (int r = 0; r < reps; r++) {
		for (int k = -DRIFT; k <= DRIFT; k++) {
			int m = r * per + ((j + k) % per + per) % per;
			if (burst[m])
				continue;
			burst[m] = 2; /* taken by a window: not an exact burst */
			bmean[m] = (float)mu;
			bsize[m] = (float)sz;
		}
	}
}

/* The median over the minutes of hour h of their calls over the ndays
 * days of the history. */
static double hour_median_sum(const uint32_t *hist, int ndays, int h)
{
	double v[60];
	for (int j = 0; j < 60; j++) {
		v[j] = 0;
		for (int d = 0; d < ndays; d++)
			v[j] += hist[(size_t)d * TS_MIN_PER_DAY + h * 60 + j];
	}
	gsl_sort(v, 1, 60);
	return gsl_stats_median_from_sorted_data(v, 1, 60);
}

/* A daily job of several minutes whose runs drift reaches past the
 * window around best: per day, the minutes within 3 DRIFT of best where
 * a run stands out (a third of that day's peak there, and clear of the
 * hour's typical minute); from the first minutes of the runs seen, room
 * for as far again as they lie apart on average (a run may land where
 * none did yet: n starts spread over a range leave about range / (n - 1)
 * beyond each end); every minute from the earliest start to the latest
 * end, widened so, is a burst of the run's mean mu and size sz. */
static void run_span(const uint32_t *hist, int ndays, int best, double mu, unsigned char *burst,
		     float *bmean, float *bsize, double sz)
{
	const int reach = 3 * DRIFT;
	int first_lo = reach + 1, first_hi = -reach - 1, last_hi = -reach - 1, nruns = 0;
	double base[6 * DRIFT + 1];
	for (int k = -reach; k <= reach; k++)
		base[k + reach] = hour_median_sum(hist, ndays,
				     ((best + k) % TS_MIN_PER_DAY + TS_MIN_PER_DAY) % TS_MIN_PER_DAY / 60) /
			      ndays;
	for (int d = 0; d < ndays; d++) {
		const uint32_t *x = hist + (size_t)d * TS_MIN_PER_DAY;
		double pk = 0;
		for (int k = -reach; k <= reach; k++)
			pk = fmax(pk, x[((best + k) % TS_MIN_PER_DAY + TS_MIN_PER_DAY) % TS_MIN_PER_DAY]);
		if (pk < 0.5 * mu)
			continue; /* no run that day, or a small one */
		int first = reach + 1, last = -reach - 1;
		for (int k = -reach; k <= reach; k++) {
			int mm = ((best + k) % TS_MIN_PER_DAY + TS_MIN_PER_DAY) % TS_MIN_PER_DAY;
			double bm = base[k + reach];
			if (x[mm] >= pk / 3 && x[mm] > bm + 4 * sqrt(bm + 1)) {
				first = k < first ? k : first;
				last = k;
			}
		}
		if (last < first)
			continue;
		nruns++;
		first_lo = first < first_lo ? first : first_lo;
		first_hi = first > first_hi ? first : first_hi;
		last_hi = last > last_hi ? last : last_hi;
	}
	if (nruns == 0)
		return;
	int ext = nruns > 1 ? (first_hi - first_lo + nruns - 2) / (nruns - 1) : 0;
	int from = first_lo - ext < -reach ? -reach : first_lo - ext;
	int to = last_hi + ext > reach ? reach : last_hi + ext;
	for (int k = from; k <= to; k++) {
		int mm = ((best + k) % TS_MIN_PER_DAY + TS_MIN_PER_DAY) % TS_MIN_PER_DAY;
		if (burst[mm])
			continue;
		burst[mm] = 2;
		bmean[mm] = (float)mu;
		bsize[mm] = (float)sz;
	}
}

static void drifting_bursts(const uint32_t *hist, int ndays, const double *rate_h, double peak,
			    double total, double *buf, unsigned char *burst, float *bmean,
			    float *bsize)
{
	const int64_t span = (int64_t)ndays * TS_MIN_PER_DAY;
	double *sum = malloc(sizeof(double) * TS_MIN_PER_DAY);
	if (!sum)
		return; /* without the windows: exact bursts only */
	/* hourly: minute-of-hour windows, over every hour of the history */
	double moh[60] = {0};
	for (int64_t m = 0; m < span; m++)
		if (!burst[m % TS_MIN_PER_DAY])
			moh[m % 60] += hist[m];
	/* a window stands out when it holds clearly more than its share of
	 * the history: Poisson noise of that share, and ten calls a day */
	const double share = (2 * DRIFT + 1) * (total / 60.0);
	for (;;) {
		int best = -1;
		double best_sum = share + 4 * sqrt(share) + 10 * ndays;
		for (int j = 0; j < 60; j++) {
			double w = 0;
			for (int k = -DRIFT; k <= DRIFT; k++)
				w += moh[(j + k + 60) % 60];
			if (w > best_sum) {
				best_sum = w;
				best = j;
			}
		}
		if (best < 0)
			break;
		size_t n = 0;
		for (int64_t h = 0; h < (int64_t)ndays * 24; h++)
			buf[n++] = window_peak(hist, ndays, burst, h * 60, best);
		double mu, sz;
		int regular = regular_burst(buf, n, peak, &mu, &sz);
		for (int k = -DRIFT; k <= DRIFT; k++)
			moh[(best + k + 60) % 60] = 0;
		if (regular)
			mark_window(burst, bmean, bsize, 60, 24, best, mu, sz);
	}
	/* daily: minute-of-day windows */
	for (int m = 0; m < TS_MIN_PER_DAY; m++) {
		sum[m] = 0;
		for (int d = 0; !burst[m] && d < ndays; d++)
			sum[m] += hist[(size_t)d * TS_MIN_PER_DAY + m];
	}
	/* a daily job whose runs overlap on some minutes on most days has
	 * those as exact bursts: its runs reach past them (run_span) */
	for (int m = 0; m < TS_MIN_PER_DAY;) {
		if (burst[m] != 3) {
			m++;
			continue;
		}
		int e = m, top = m;
		while (e + 1 < TS_MIN_PER_DAY && burst[e + 1] == 3)
			if (bmean[++e] > bmean[top])
				top = e;
		int c = (m + e) / 2;
		run_span(hist, ndays, c, bmean[top], burst, bmean, bsize, bsize[top]);
		for (int k = -3 * DRIFT; k <= 3 * DRIFT; k++)
			sum[((c + k) % TS_MIN_PER_DAY + TS_MIN_PER_DAY) % TS_MIN_PER_DAY] = 0;
		m = e + 1;
	}
	for (;;) {
		int best = -1;
		double best_sum = 0;
		for (int m = 0; ndays >= 3 && m < TS_MIN_PER_DAY; m++) {
			double w = 0, expect = 0;
			for (int k = -DRIFT; k <= DRIFT; k++) {
				int mm = (m + k + TS_MIN_PER_DAY) % TS_MIN_PER_DAY;
				w += sum[mm];
				expect += rate_h[mm / 60];
			}
			if (w > 2 * expect * ndays + 3 * (2 * DRIFT + 1) * ndays && w > best_sum) {
				best_sum = w;
				best = m;
			}
		}
		if (best < 0)
			break;
		for (int d = 0; d < ndays; d++)
			buf[d] = window_peak(hist, ndays, burst, (int64_t)d * TS_MIN_PER_DAY, best);
		double mu, sz;
		int regular = regular_burst(buf, (size_t)ndays, rate_h[best / 60], &mu, &sz);
		for (int k = -DRIFT; k <= DRIFT; k++)
			sum[(best + k + TS_MIN_PER_DAY) % TS_MIN_PER_DAY] = 0;
		if (!regular)
			continue;
		mark_window(burst, bmean, bsize, TS_MIN_PER_DAY, 1, best, mu, sz);
		run_span(hist, ndays, best, mu, burst, bmean, bsize, sz);
		for (int k = -3 * DRIFT; k <= 3 * DRIFT; k++)
			sum[((best + k) % TS_MIN_PER_DAY + TS_MIN_PER_DAY) % TS_MIN_PER_DAY] = 0;
	}
	free(sum);
}

int ts_bursts_find(const uint32_t *hist, int ndays, const double *rate_h, double total,
		   unsigned char *burst, float *bmean, float *bsize)
{
	/* candidates first, cheaply */
	double *buf = malloc(sizeof(double) * (size_t)ndays * 24);
	if (!buf)
		return TS_ENOMEM;
	double moh_sum[60] = {0}, peak = 0;
	for (int d = 0; d < ndays; d++)
		for (int m = 0; m < TS_MIN_PER_DAY; m++)
			moh_sum[m % 60] += hist[(size_t)d * TS_MIN_PER_DAY + m];
	for (int h = 0; h < 24; h++)
		peak = fmax(peak, rate_h[h]);
	for (int j = 0; j < 60; j++) {
		if (!(moh_sum[j] > 2 * (total / 60.0) + 10 * ndays))
			continue;
		size_t n = 0;
		for (int d = 0; d < ndays; d++)
			for (int h = 0; h < 24; h++)
				buf[n++] = hist[(size_t)d * TS_MIN_PER_DAY + h * 60 + j];
		double mu, sz;
		if (!regular_burst(buf, n, peak, &mu, &sz))
			continue;
		for (int h = 0; h < 24; h++) {
			burst[h * 60 + j] = 1;
			bmean[h * 60 + j] = (float)mu;
			bsize[h * 60 + j] = (float)sz;
		}
	}
	for (int m = 0; m < TS_MIN_PER_DAY; m++) {
		double sum = 0;
		for (int d = 0; d < ndays; d++)
			sum += hist[(size_t)d * TS_MIN_PER_DAY + m];
		if (!(sum > 2 * rate_h[m / 60] * ndays + 3 * ndays))
			continue;
		for (int d = 0; d < ndays; d++)
			buf[d] = hist[(size_t)d * TS_MIN_PER_DAY + m];
		double mu, sz;
		if (!regular_burst(buf, (size_t)ndays, rate_h[m / 60], &mu, &sz))
			continue;
		if (!burst[m] || mu > bmean[m]) {
			bmean[m] = (float)mu;
			bsize[m] = (float)sz;
		}
		burst[m] = 3; /* exact, at a minute of the day */
	}
	drifting_bursts(hist, ndays, rate_h, peak, total, buf, burst, bmean, bsize);
	free(buf);
	return 0;
}
