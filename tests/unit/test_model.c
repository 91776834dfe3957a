/* test_model.c - baseline fitting and tail probabilities. */
#include <math.h>

#include <gsl/gsl_errno.h>

#include "../check.h"
#include "model.h"

#define DAYS 8
static uint32_t hist[DAYS * TS_MIN_PER_DAY];

/* A deterministic pseudo-Poisson count with mean mu (small LCG + inversion). */
static uint64_t rng = 88172645463325252ull;
static uint32_t poisson(double mu)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	double u = (double)(rng >> 11) / 9007199254740992.0;
	double p = exp(-mu), c = p;
	uint32_t k = 0;
	while (u > c && k < 10000) {
		k++;
		p *= mu / k;
		c += p;
	}
	return k;
}

static void test_constant_rate(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	for (int i = 0; i < DAYS * TS_MIN_PER_DAY; i++)
		hist[i] = poisson(10);
	ts_baseline b;
	CHECK_INT(ts_model_fit_rate(hist, DAYS, 20000, &p, &b), 0);
	CHECK(fabs(b.level - 10) < 0.2);
	for (int m = 0; m < TS_MIN_PER_DAY; m += 97)
		CHECK(fabs(b.lam[m] - 10) < 0.6);
	CHECK_INT(b.regular_minutes, 0);
	/* Poisson data shows no over-dispersion worth modelling */
	CHECK(b.size[0] == 0 || b.size[0] > 50);
}

static void test_hourly_cron_learned(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	for (int i = 0; i < DAYS * TS_MIN_PER_DAY; i++)
		hist[i] = poisson(2) + (i % 60 == 7 ? 80 + poisson(20) : 0);
	ts_baseline b;
	CHECK_INT(ts_model_fit_rate(hist, DAYS, 20000, &p, &b), 0);
	CHECK(b.lam[7] > 70);           /* the burst minute expects the burst */
	CHECK(b.lam[13 * 60 + 7] > 70);
	CHECK(b.lam[8] < 6);            /* its neighbours do not */
	CHECK(b.regular_minutes >= 24);
	/* a normal burst is not unusual, a ten-fold one is */
	CHECK(ts_model_p_high(110, b.lam[7], b.size[7]) > 1e-4);
	CHECK(ts_model_p_high(1000, b.lam[7], b.size[7]) < 1e-7);
}

/* The compact baseline gives back every minute's floats exactly, and is
 * small when only the burst minutes differ from their hour. */
static void test_compact_baseline(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	for (int i = 0; i < DAYS * TS_MIN_PER_DAY; i++)
		hist[i] = poisson(2) + (i % 60 == 7 ? 80 + poisson(20) : 0);
	static ts_baseline b;
	CHECK_INT(ts_model_fit_rate(hist, DAYS, 20000, &p, &b), 0);
	ts_cbase *c = NULL;
	CHECK_INT(ts_cbase_make(&b, &c), 0);
	CHECK_INT(c->nexc, (uint32_t)b.regular_minutes);
	CHECK(ts_cbase_size(c) < 1024);
	/* an exception anywhere else (even a steady rate that changes inside
	 * its hour) is kept too */
	b.steady[61] = 99;
	b.size[1439] = 7;
	CHECK_INT(ts_cbase_make(&b, &c), 0);
	CHECK_INT(c->nexc, (uint32_t)b.regular_minutes + 2);
	for (unsigned m = 0; m < TS_MIN_PER_DAY; m++) {
		float lam, size, steady;
		ts_cbase_at(c, m, &lam, &size, &steady);
		CHECK(memcmp(&lam, &b.lam[m], sizeof lam) == 0);
		CHECK(memcmp(&size, &b.size[m], sizeof size) == 0);
		CHECK(memcmp(&steady, &b.steady[m], sizeof steady) == 0);
	}
	CHECK(c->steady_size == (float)b.steady_size);
	/* what each minute's expectation came from: a weekday's, the job's
	 * minute regular */
	ts_basis basis;
	ts_cbase_basis(c, 7, &basis);
	CHECK_INT(basis.day_class, TS_DAY_WEEKDAY);
	CHECK_INT(basis.regular, 1);
	ts_cbase_basis(c, 30, &basis);
	CHECK_INT(basis.regular, 0);
	free(c);
}

static void test_daily_job_does_not_raise_its_hour(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	/* a job of ~300 calls at 03:00 and 03:01 every day over a steady 2/min */
	for (int i = 0; i < DAYS * TS_MIN_PER_DAY; i++) {
		int m = i % TS_MIN_PER_DAY;
		hist[i] = poisson(2) + (m == 180 || m == 181 ? 280 + poisson(20) : 0);
	}
	ts_baseline b;
	CHECK_INT(ts_model_fit_rate(hist, DAYS, 20000, &p, &b), 0);
	CHECK(b.lam[180] > 200 && b.lam[181] > 200); /* the job is expected */
	CHECK(b.steady[185] < 3);  /* the rest of its hour stays at ~2/min */
	CHECK(b.lam[185] < 3);
	CHECK(b.steady[180] < 3);  /* drops are judged against the steady rate */
	/* silence in the job's hour is not unusual at the steady rate */
	CHECK(ts_model_p_low(0, b.steady[185] * 5, b.steady_size) > 1e-7);
}

/* An hourly job whose runs start up to 2 minutes early or late and vary in
 * size: every minute a run may take expects it, the rest of the hour does
 * not, a run at either end of its drift is not unusual, a ten-fold run is. */
static void test_drifting_hourly_job(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	for (int i = 0; i < DAYS * TS_MIN_PER_DAY; i++)
		hist[i] = poisson(2);
	for (int h = 0; h < DAYS * 24; h++) {
		int shift = (int)((h * 7919u) % 5) - 2; /* -2..2, every offset seen */
		hist[h * 60 + 20 + shift] += 60 + (uint32_t)((h * 104729u) % 81);
	}
	ts_baseline b;
	CHECK_INT(ts_model_fit_rate(hist, DAYS, 20000, &p, &b), 0);
	for (int m = 18; m <= 22; m++) {
		CHECK(b.lam[m] > 50);
		CHECK(b.lam[15 * 60 + m] > 50);
	}
	CHECK(b.lam[10] < 6 && b.lam[30] < 6);
	CHECK(b.steady[20] < 3 && b.steady[10] < 3);
	CHECK(ts_model_p_high(140, b.lam[22], b.size[22]) > 1e-4);
	CHECK(ts_model_p_high(140, b.lam[18], b.size[18]) > 1e-4);
	CHECK(ts_model_p_high(1000, b.lam[20], b.size[20]) < 1e-7);
}

/* A daily job of two minutes, starting up to 2 minutes early or late: the
 * minutes it may take expect it, its hour's steady rate stays low. */
static void test_drifting_daily_job(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	for (int i = 0; i < DAYS * TS_MIN_PER_DAY; i++)
		hist[i] = poisson(2);
	static const int shift[DAYS] = {0, 2, -2, 1, -1, 2, 0, -2};
	for (int d = 0; d < DAYS; d++) {
		int at = d * TS_MIN_PER_DAY + 300 + shift[d];
		hist[at] += 150 + (uint32_t)(d * 13);
		hist[at + 1] += 140 + (uint32_t)(d * 11);
	}
	ts_baseline b;
	CHECK_INT(ts_model_fit_rate(hist, DAYS, 20000, &p, &b), 0);
	for (int m = 298; m <= 303; m++)
		CHECK(b.lam[m] > 100);
	CHECK(b.lam[290] < 6 && b.lam[310] < 6);
	CHECK(b.steady[305] < 3); /* the job does not raise its hour */
	CHECK(ts_model_p_high(190, b.lam[303], b.size[303]) > 1e-4);
	CHECK(ts_model_p_high(2000, b.lam[300], b.size[300]) < 1e-7);
}

/* A small hourly job over a busy base: 46 calls a run (+-50%), drifting
 * +-2 minutes, over 7 calls a minute; its window holds little more than
 * twice its share of the base, and it is still learned. */
static void test_small_drifting_hourly_job(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	for (int i = 0; i < DAYS * TS_MIN_PER_DAY; i++)
		hist[i] = poisson(7);
	for (int h = 0; h < DAYS * 24; h++) {
		int shift = (int)((h * 7919u) % 5) - 2;
		hist[h * 60 + 44 + shift] += 23 + (uint32_t)((h * 104729u) % 47);
	}
	ts_baseline b;
	CHECK_INT(ts_model_fit_rate(hist, DAYS, 20000, &p, &b), 0);
	for (int m = 42; m <= 46; m++)
		CHECK(b.lam[10 * 60 + m] > 30);
	CHECK(b.lam[10 * 60 + 20] < 10);
	/* a run of 69 calls in the window is normal, one ten times its size not */
	CHECK(ts_model_p_high(76, b.lam[10 * 60 + 46], b.size[10 * 60 + 46]) > 1e-4);
	CHECK(ts_model_p_high(460, b.lam[10 * 60 + 44], b.size[10 * 60 + 44]) < 1e-7);
}

/* A daily job of three minutes drifting +-3: its run reaches 5 minutes
 * past its nominal start, beyond a window of +-3, and is still expected
 * there. */
static void test_long_drifting_daily_job(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	for (int i = 0; i < DAYS * TS_MIN_PER_DAY; i++)
		hist[i] = poisson(0.1);
	static const int shift[DAYS] = {3, -3, 2, 3, -1, 0, -2, 1};
	for (int d = 0; d < DAYS; d++)
		for (int k = 0; k < 3; k++)
			hist[d * TS_MIN_PER_DAY + 1350 + shift[d] + k] += 25 + (uint32_t)(d * 5);
	ts_baseline b;
	CHECK_INT(ts_model_fit_rate(hist, DAYS, 20000, &p, &b), 0);
	for (int m = 1347; m <= 1355; m++)
		CHECK(b.lam[m] > 15);
	CHECK(b.lam[1340] < 1 && b.lam[1360] < 1);
}

/* A daily job of three minutes that mostly starts on time: the minutes
 * its runs share on most days are exact bursts, and the runs that start
 * two minutes late (and one further minute either side, where none has
 * landed yet) are expected too. */
static void test_daily_job_exact_and_late_runs(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	for (int i = 0; i < DAYS * TS_MIN_PER_DAY; i++)
		hist[i] = poisson(0.1);
	static const int shift[DAYS] = {0, 0, 2, 0, 0, 2, 0, 0};
	for (int d = 0; d < DAYS; d++)
		for (int k = 0; k < 3; k++)
			hist[d * TS_MIN_PER_DAY + 1350 + shift[d] + k] += 40 + (uint32_t)(d * 3);
	ts_baseline b;
	CHECK_INT(ts_model_fit_rate(hist, DAYS, 20000, &p, &b), 0);
	for (int m = 1349; m <= 1355; m++)
		CHECK(b.lam[m] > 15);
	CHECK(b.lam[1346] < 1 && b.lam[1358] < 1);
}

static void test_diurnal_and_past_anomaly(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	for (int d = 0; d < DAYS; d++)
		for (int m = 0; m < TS_MIN_PER_DAY; m++) {
			double mu = m / 60 >= 8 && m / 60 < 20 ? 20 : 2;
			/* day 3 had a huge anomaly at 10:00-12:00 */
			if (d == 3 && m >= 600 && m < 720)
				mu = 500;
			hist[d * TS_MIN_PER_DAY + m] = poisson(mu);
		}
	ts_baseline b;
	/* day 20003 is a Sunday; the history runs Thursday..Thursday */
	CHECK_INT(ts_model_fit_rate(hist, DAYS, 20001, &p, &b), 0);
	CHECK(b.lam[3 * 60] < 5);
	CHECK(b.lam[14 * 60] > 15 && b.lam[14 * 60] < 25);
	/* the trimmed mean keeps the past anomaly out */
	CHECK(b.lam[11 * 60] < 30);
}

static void test_error_fraction(void)
{
	static uint32_t errs[DAYS * TS_MIN_PER_DAY], calls[DAYS * TS_MIN_PER_DAY];
	for (int i = 0; i < DAYS * TS_MIN_PER_DAY; i++) {
		calls[i] = 20;
		errs[i] = i % 50 == 0 ? 1 : 0; /* 0.1% */
	}
	ts_baseline b;
	CHECK_INT(ts_model_fit_error(errs, calls, DAYS, 20000, &b), 0);
	CHECK(b.q > 0.0005 && b.q < 0.002);
	CHECK(ts_model_p_binom_high(10, 20, b.q) < 1e-20);
	CHECK(ts_model_p_binom_high(1, 20, b.q) > 0.01);
}

static void test_tails(void)
{
	CHECK(fabs(ts_model_p_low(0, 10, 0) - exp(-10)) < 1e-12);
	CHECK(fabs(ts_model_p_high(1, 2, 0) - (1 - exp(-2))) < 1e-12);
	CHECK(ts_model_p_high(0, 5, 0) == 1);
	/* negative binomial tails are heavier than Poisson with the same mean */
	CHECK(ts_model_p_high(30, 10, 5) > ts_model_p_high(30, 10, 0));
	CHECK(ts_model_p_high(30, 10, 0) < 1e-6);
	CHECK(ts_model_p_binom_high(0, 10, 0.5) == 1);
	CHECK(ts_model_p_binom_high(11, 10, 0.5) == 0);
	CHECK(fabs(ts_model_p_binom_high(10, 10, 0.5) - 1.0 / 1024) < 1e-12);
	CHECK(!ts_model_weekend(20000)); /* 2024-10-04, a Friday */
	CHECK(ts_model_weekend(20001));
	CHECK(ts_model_weekend(20002));
	CHECK(!ts_model_weekend(20003));
}

/* ---- weekends: the weekdays' shape times a shrunk weekend ratio ---- */
#define WDAYS 12
static uint32_t whist[WDAYS * TS_MIN_PER_DAY];
#define SAT 20008 /* a Saturday; its 12 days of history hold one weekend */

/* Fill whist: a diurnal weekday rate (peak `peak`/min 8-20 h, a tenth of
 * it at night) and weekend days at `we` times that. */
static void weekly_history(double peak, double we)
{
	for (int d = 0; d < WDAYS; d++) {
		double f = ts_model_weekend(SAT - WDAYS + d) ? we : 1;
		for (int m = 0; m < TS_MIN_PER_DAY; m++) {
			double mu = m / 60 >= 8 && m / 60 < 20 ? peak : peak / 10;
			whist[d * TS_MIN_PER_DAY + m] = poisson(mu * f);
		}
	}
}

static void test_machine_weekend_keeps_weekday_rate(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	/* as busy at weekends; only one weekend seen, its hours noisy */
	weekly_history(1.5, 1.0);
	static ts_baseline b;
	CHECK_INT(ts_model_fit_rate(whist, WDAYS, SAT, &p, &b), 0);
	CHECK_INT(b.day_class, TS_DAY_WEEKEND_RATIO);
	CHECK_INT(b.weekend_days, 2);
	CHECK(fabs(b.ratio - 1) < 0.1);
	/* each hour from ten weekdays' shape, not two weekend days' */
	for (int h = 8; h < 20; h++)
		CHECK(fabs(b.steady[h * 60] - 1.5) < 0.2);
	/* one weekend seen: the day's level is uncertain, so wider than Poisson */
	CHECK(b.ratio_sd > 0.1);
	CHECK(b.steady_size > 0 && b.steady_size < 100);
	/* and the compact baseline says so, in fixed point */
	ts_cbase *c = NULL;
	CHECK_INT(ts_cbase_make(&b, &c), 0);
	ts_basis basis;
	ts_cbase_basis(c, 600, &basis);
	CHECK_INT(basis.day_class, TS_DAY_WEEKEND_RATIO);
	CHECK_INT(basis.weekend_days, 2);
	CHECK_INT(basis.ratio_e4, (uint32_t)lround(b.ratio * 1e4));
	CHECK_INT(basis.ratio_raw_e4, (uint32_t)lround(b.ratio_raw * 1e4));
	CHECK_INT(basis.ratio_sd_e3, (uint32_t)lround(b.ratio_sd * 1e3));
	free(c);
}

static void test_people_weekend_ratio_learned(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	/* a sixth at weekends, with plenty of calls: the ratio is believed */
	weekly_history(12, 1.0 / 6);
	static ts_baseline b;
	CHECK_INT(ts_model_fit_rate(whist, WDAYS, SAT, &p, &b), 0);
	CHECK(fabs(b.ratio_raw - 1.0 / 6) < 0.02);
	CHECK(fabs(b.ratio - b.ratio_raw) < 0.01);
	CHECK(fabs(b.steady[14 * 60] - 2) < 0.3);
	CHECK(b.steady[3 * 60] < 0.4);
	/* a handful of calls above 2/min weigh less than under Poisson */
	CHECK(ts_model_p_high(6, b.steady[14 * 60], b.steady_size) >
	      1.5 * ts_model_p_high(6, b.steady[14 * 60], 0));
	/* a weekday is still judged from weekdays alone */
	CHECK_INT(ts_model_fit_rate(whist, WDAYS - 1, SAT - 1, &p, &b), 0);
	CHECK_INT(b.day_class, TS_DAY_WEEKDAY);
	CHECK(fabs(b.steady[14 * 60] - 12) < 1);
	CHECK(b.ratio == 1);
}

static void test_thin_weekend_evidence_shrinks(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	/* ~7 calls a weekday, none on the one weekend: too little to learn
	 * that weekends are silent */
	weekly_history(0.008, 0);
	static ts_baseline b;
	CHECK_INT(ts_model_fit_rate(whist, WDAYS, SAT, &p, &b), 0);
	CHECK_INT(b.day_class, TS_DAY_WEEKEND_RATIO);
	CHECK(b.ratio_raw < 0.1);
	CHECK(b.ratio > 3 * b.ratio_raw);
	CHECK(b.ratio_sd > 0.5);
	/* and the shrunk ratio is the one applied: the day's expectation is
	 * the weekday's times it */
	double we = 0, wd = 0, r = b.ratio, raw = b.ratio_raw;
	for (int m = 0; m < TS_MIN_PER_DAY; m++)
		we += b.steady[m];
	CHECK_INT(ts_model_fit_rate(whist, WDAYS - 1, SAT - 1, &p, &b), 0);
	for (int m = 0; m < TS_MIN_PER_DAY; m++)
		wd += b.steady[m];
	CHECK(we > 0.5 * r * wd && we < 2 * r * wd);
	CHECK(we > 3 * raw * wd);
	/* no weekend in the history (Monday to Friday): ratio 1, wide */
	CHECK_INT(ts_model_fit_rate(whist + 7 * TS_MIN_PER_DAY, 5, SAT, &p, &b), 0);
	CHECK(b.ratio == 1);
	CHECK(b.ratio_sd >= 1);
}

static void test_fit_rejects_bad_days(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	ts_baseline b;
	CHECK_INT(ts_model_fit_rate(hist, 0, 20000, &p, &b), TS_EINVAL);
	CHECK_INT(ts_model_fit_rate(hist, 29, 20000, &p, &b), TS_EINVAL);
}

TS_TESTS(test_constant_rate, test_hourly_cron_learned, test_drifting_hourly_job, test_drifting_daily_job, test_small_drifting_hourly_job,
	 test_long_drifting_daily_job, test_daily_job_exact_and_late_runs, test_compact_baseline, test_daily_job_does_not_raise_its_hour, test_diurnal_and_past_anomaly,
	 test_error_fraction, test_tails, test_fit_rejects_bad_days, test_machine_weekend_keeps_weekday_rate,
	 test_people_weekend_ratio_learned, test_thin_weekend_evidence_shrinks)
