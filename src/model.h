/* model.h - the baseline: what count of events each minute of a day should
 * bring, learned from the trailing history of one metric, and the tail
 * probabilities that say how unusual an observed count is. GSL lives here.
 *
 * Call rate: the expected count at minute m of day D is a seasonal rate
 * (hour of day, from robust trimmed means over the history's weekdays,
 * shrunk toward the day's level; on a weekend day, that times the series'
 * weekend ratio, shrunk toward 1 by its evidence, its uncertainty widening
 * the distribution), raised where the history shows a
 * regular burst at that minute of the hour or of the day (cron jobs), or
 * anywhere in a window of a few minutes for jobs whose runs drift; counts
 * are judged as negative binomial (Poisson when the history shows no
 * over-dispersion).
 * Error rate: errors of one code are judged against the API's calls in the
 * same minutes, as binomial with the baseline error fraction.
 * Real values (rows at any interval, bench/nab.c): see the end of this file.
 */
#ifndef TS_MODEL_H
#define TS_MODEL_H

#include <stdint.h>

#include "profile.h"
#include "util.h"

typedef struct ts_baseline {
	int64_t day;               /* the day (days since epoch) it applies to */
	float lam[TS_MIN_PER_DAY]; /* expected count per minute */
	float size[TS_MIN_PER_DAY];/* negative binomial size per minute; 0: Poisson */
	float steady[TS_MIN_PER_DAY]; /* expected count without regular bursts */
	double steady_size;        /* its negative binomial size; 0: Poisson */
	double level;              /* mean count per minute over the history */
	double q;                  /* error rate: baseline fraction errors / calls */
	int regular_minutes;       /* minutes of the day raised as regular bursts */
	/* which day class the call rate was learned from (trailsightContext) */
	int day_class;             /* TS_DAY_* */
	int weekend_days;          /* weekend days in the history */
	double ratio_raw;          /* TS_DAY_WEEKEND_RATIO: weekend/weekday as seen */
	double ratio;              /* ... shrunk toward 1 by its evidence, as applied */
	double ratio_sd;           /* ... sd of the day's log rate it adds */
} ts_baseline;

/* Day classes of a call-rate baseline. */
enum {
	TS_DAY_NONE = 0,          /* not known (an error rate, an older state) */
	TS_DAY_ALL = 1,           /* all history days (too few of the day's class) */
	TS_DAY_WEEKDAY = 2,       /* a weekday, from the history's weekdays */
	TS_DAY_WEEKEND = 3,       /* a weekend day, from the history's weekend days */
	TS_DAY_WEEKEND_RATIO = 4, /* a weekend day: weekdays' shape x shrunk ratio */
};

/* Which component of the expected rate applied at one minute, for
 * trailsightContext.expectedFrom; in fixed point, so an episode saves and
 * loads it exactly (ts_episode_save). */
#define TS_BASIS_RATIO_MAX 1048575u /* ratios in 1e-4, to 104.8575 */
#define TS_BASIS_SD_MAX 4095u       /* sd in 1e-3, to 4.095 */
typedef struct ts_basis {
	int day_class;    /* TS_DAY_*; TS_DAY_NONE: nothing to say */
	int weekend_days; /* weekend days in the history (<= 28) */
	int regular;      /* the minute is a regular burst's (a job) */
	int job_stop;     /* a regular job's runs did not come (jobstop.h) */
	uint32_t ratio_e4, ratio_raw_e4, ratio_sd_e3; /* TS_DAY_WEEKEND_RATIO: the
						 ratio applied, as seen, the sd it adds */
} ts_basis;

/* A call-rate baseline held compactly, as the detector reads it: the
 * steady rate of each hour, one negative binomial size, and the minutes
 * that differ from those (regular bursts), sorted. ts_cbase_at gives back
 * exactly the floats of the ts_baseline it was made from: about 120 bytes
 * for a series without bursts instead of 17 KB. */
typedef struct ts_cbase_exc {
	uint16_t minute;
	float lam, size, steady;
} ts_cbase_exc;

typedef struct ts_cbase {
	float steady_h[24]; /* steady[] of each hour's first minute */
	float size0;        /* size[] where no exception says otherwise */
	float steady_size;  /* (float)steady_size */
	int8_t day_class, weekend_days; /* of the ts_baseline */
	float ratio, ratio_raw, ratio_sd;
	uint32_t nexc;
	ts_cbase_exc exc[]; /* minutes m where lam, size or steady differ */
} ts_cbase;

/* Make *out (realloc'd; the caller frees it) from b. 0 or TS_ENOMEM
 * (*out unchanged). */
int ts_cbase_make(const ts_baseline *b, ts_cbase **out);
/* The lam, size and steady of minute of day mod (< 1440). */
void ts_cbase_at(const ts_cbase *c, unsigned mod, float *lam, float *size, float *steady);
size_t ts_cbase_size(const ts_cbase *c);
/* What the expectation of minute of day mod (< 1440) of c came from. */
void ts_cbase_basis(const ts_cbase *c, unsigned mod, ts_basis *out);

/* Fit a call-rate baseline for day `day` from hist[ndays * 1440], the
 * counts of the ndays days before it (hist[0] is the oldest minute).
 * Returns 0, or TS_EINVAL if ndays < 1. */
int ts_model_fit_rate(const uint32_t *hist, int ndays, int64_t day, const ts_profile *p,
		      ts_baseline *out);

/* Fit an error-rate baseline: errors and calls (all management calls of
 * the API) over the same ndays days. Sets out->q; lam/size are unused. */
int ts_model_fit_error(const uint32_t *errors, const uint32_t *calls, int ndays, int64_t day,
		       ts_baseline *out);

/* P(X >= x) and P(X <= x) for X negative binomial with the given mean and
 * size (size <= 0 or huge: Poisson). mean <= 0 is treated as a tiny mean. */
double ts_model_p_high(double x, double mean, double size);
double ts_model_p_low(double x, double mean, double size);
/* P(K >= k) for K ~ Binomial(n, q). */
double ts_model_p_binom_high(uint64_t k, uint64_t n, double q);

/* 1 if day (days since epoch) is a Saturday or Sunday. */
int ts_model_weekend(int64_t day);

/* ---- Real-valued series ----
 * Rows of real values at any interval (NAB's series; bench/nab.c), judged
 * by the same detector (ts_detector_step_value). The expected value of a
 * row is the series' level (the mean of its last rows, seasonal profile
 * taken out) plus the profile of its time of day or week, chosen per fit
 * (flat unless a profile cuts the spread of the rows' deviations by
 * `margin`). A window's deviation (the sum of its rows' deviations from
 * their expectations) is judged against the null learnt from the series'
 * own past window deviations: median and MAD scale, then on each side a
 * generalised Pareto tail fitted by moments to the top tail_frac of the
 * standardised deviations. So a series that always has spikes of some
 * size learns that they are normal. Long windows (spread_min) also get
 * a null of their spread, fitted the same way. Refitted by the caller
 * every few rows, from the past rows only. */
#define TS_VBINS_MAX 336

typedef struct ts_vopts {
	int ref;          /* rows the level is the mean of (the last ones) */
	int warm;         /* rows needed before the first fit */
	int history;      /* past window deviations a null is fitted on */
	double tail_frac; /* fraction of them in each Pareto tail ... */
	int tail_min;     /* ... but at least this many */
	int day_bins, week_bins; /* profile bins (<= TS_VBINS_MAX) */
	int periods;      /* days (weeks) a daily (weekly) profile learns from */
	double shrink;    /* periods of prior pulling a profile toward flat */
	double margin;    /* spread cut a seasonal profile needs over flat */
	int seasons;      /* profiles allowed: bit 0 flat, 1 daily, 2 weekly */
	int spread_min;   /* windows of >= this many (and 4) rows are also
			     judged on their spread; 0: none */
} ts_vopts;

/* Defaults of ts_vopts (bench/nab.md). */
void ts_vopts_defaults(ts_vopts *o);

typedef struct ts_vtail {
	double u, frac, xi, sigma; /* threshold, mass above it, Pareto shape and scale */
} ts_vtail;

typedef struct ts_vnull {
	int ok;            /* fitted (enough past deviations) */
	double loc, scale; /* median and MAD scale of the window deviations */
	double res;        /* resolution: a deviation within res of loc is none */
	ts_vtail hi, lo;   /* tails of the standardised deviations above and below */
} ts_vnull;

typedef struct ts_vbase {
	int ok;            /* the level is known: rows can be judged */
	double level;      /* mean deseasonalised value of the last ref rows */
	int season;        /* 0 flat, 1 daily, 2 weekly */
	int nbins;
	double prof[TS_VBINS_MAX]; /* expected deviation from the level per bin */
	/* null[i]: the level null of the profile's window i (its sum of
	 * deviations); null[TS_MAX_WINDOWS + i]: its spread null (the sum of
	 * the absolute differences of its consecutive deviations), ok 0 for
	 * windows shorter than spread_min or 4 rows */
	ts_vnull null[2 * TS_MAX_WINDOWS];
} ts_vbase;

/* Fit a real-valued baseline from the n past rows: times t[] (seconds),
 * values x[] and the deviations dev[] the detector was given for them
 * (NaN where not judged); p gives the windows. out->ok is 0 while fewer
 * than warm rows are known; each null's ok is 0 while it has too few
 * deviations. Returns 0, or TS_ENOMEM (out->ok 0). */
int ts_model_fit_value(const int64_t *t, const double *x, const float *dev, size_t n,
		       const ts_profile *p, const ts_vopts *o, ts_vbase *out);
/* The expected value of a row at time t (seconds). */
double ts_vbase_expect(const ts_vbase *b, int64_t t);
/* P(D >= s) (dir > 0) or P(D <= s) (dir < 0) for a window deviation s
 * under null f; 1 when f is not fitted or s is within f->res of its
 * centre (a difference below the values' resolution). */
double ts_model_p_value(const ts_vnull *f, double s, int dir);

#endif
