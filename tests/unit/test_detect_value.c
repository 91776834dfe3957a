/* test_detect_value.c - real-valued series through the model
 * (ts_model_fit_value) and the detector (ts_detector_step_value), driven
 * the way bench/nab.c drives them: a fit every few rows from the rows
 * before, one observation per row. */
#include <math.h>

#include "../check.h"
#include "detect.h"
#include "err.h"
#include "model.h"

#define ROWS 4000

/* Deterministic noise, about N(0, 1): the sum of four uniforms. */
static double noise(uint64_t *s)
{
	double sum = 0;
	for (int i = 0; i < 4; i++) {
		*s = *s * 6364136223846793005u + 1442695040888963407u;
		sum += (double)(*s >> 11) / 9007199254740992.0;
	}
	return (sum - 2) * sqrt(3);
}

typedef struct run {
	int64_t t[ROWS];
	double x[ROWS];
	float dev[ROWS];
	int starts, ends;
	int64_t first_start, first_end; /* rows; -1: none */
	int dir;
} run;

/* Feed x[0..n) (5-minute rows), refitting every 25 rows. */
static void drive(run *r, int n, const ts_profile *p, const ts_vopts *o)
{
	ts_vbase b;
	ts_detector d;
	ts_detector_init(&d);
	memset(&b, 0, sizeof b);
	r->starts = r->ends = 0;
	r->first_start = r->first_end = -1;
	for (int i = 0; i < n; i++) {
		r->t[i] = 1700000000 + (int64_t)i * 300;
		r->dev[i] = NAN;
		if (i % 25 == 0 || !b.ok)
			CHECK_INT(ts_model_fit_value(r->t, r->x, r->dev, (size_t)i, p, o, &b), 0);
		ts_det_obs ob = {.q = -1};
		if (b.ok) {
			double e = ts_vbase_expect(&b, r->t[i]);
			r->dev[i] = (float)(r->x[i] - e);
			ob.lam = (float)e;
			ob.dev = r->dev[i];
			ob.q = 0;
		}
		ts_det_event ev;
		int k = ts_detector_step_value(&d, p, i, &ob, b.null, &ev);
		if (k == TS_DET_START && r->starts++ == 0) {
			r->first_start = i;
			r->dir = ev.dir;
			CHECK(ev.p_value < p->p_start);
		}
		if (k == TS_DET_END && r->ends++ == 0)
			r->first_end = i;
	}
}

static void nab_like(ts_profile *p, ts_vopts *o)
{
	ts_profile_defaults(p);
	CHECK_INT(ts_profile_set(p, "p_start", "1e-5"), 0);
	CHECK_INT(ts_profile_set(p, "windows", "1, 3, 10, 30"), 0);
	ts_vopts_defaults(o);
}

static void test_noise_is_quiet_and_a_shift_starts(void)
{
	static run r;
	ts_profile p;
	ts_vopts o;
	nab_like(&p, &o);
	/* a flat baseline: on noise the choice, made on the rows the profiles
	 * were fitted on, may take a small seasonal profile */
	o.seasons = 1;
	CHECK_INT(ts_profile_set(&p, "p_start", "1e-8"), 0);
	uint64_t seed = 42;
	for (int i = 0; i < ROWS; i++)
		r.x[i] = 100 + 2 * noise(&seed) + (i >= 3000 && i < 3040 ? 30 : 0);
	drive(&r, 3000, &p, &o);
	CHECK_INT(r.starts, 0);
	drive(&r, ROWS, &p, &o);
	CHECK_INT(r.starts, 1);
	CHECK(r.first_start >= 3000 && r.first_start <= 3002);
	CHECK_INT(r.dir, 1);
	CHECK(r.first_end > 3040 && r.first_end < 3100);
	/* and downwards */
	seed = 42;
	for (int i = 0; i < ROWS; i++)
		r.x[i] = 100 + 2 * noise(&seed) - (i >= 3000 && i < 3040 ? 30 : 0);
	drive(&r, ROWS, &p, &o);
	CHECK_INT(r.first_start, 3000);
	CHECK_INT(r.dir, -1);
}

/* Noise whose spread grows 2.5 times at row 3000, its level unchanged:
 * the spread test of the 32-row window Starts within that window; the
 * level windows alone do not. A spread that shrinks is not an anomaly. */
static void test_spread_rise_starts(void)
{
	static run r;
	ts_profile p;
	ts_vopts o;
	nab_like(&p, &o);
	o.seasons = 1;
	CHECK_INT(ts_profile_set(&p, "p_start", "1e-8"), 0);
	CHECK_INT(ts_profile_set(&p, "windows", "1, 4, 16, 32"), 0);
	CHECK_INT(o.spread_min, 32);
	uint64_t seed = 42;
	for (int i = 0; i < ROWS; i++)
		r.x[i] = 100 + (i >= 3000 ? 2.5 : 1) * noise(&seed);
	drive(&r, 3000, &p, &o);
	CHECK_INT(r.starts, 0);
	drive(&r, ROWS, &p, &o);
	CHECK(r.first_start >= 3000 && r.first_start < 3032);
	o.spread_min = 0; /* the level only */
	drive(&r, ROWS, &p, &o);
	CHECK_INT(r.starts, 0);
	o.spread_min = 32;
	seed = 42;
	for (int i = 0; i < ROWS; i++)
		r.x[i] = 100 + (i >= 3000 ? 0.3 : 1) * noise(&seed);
	drive(&r, ROWS, &p, &o);
	CHECK_INT(r.starts, 0);
}

/* A constant series: its deviations are only the rounding of the level's
 * sums (about 1e-14), which the nulls must not read as a scale. No Start;
 * a real step of a thousandth of the value still Starts at once (the
 * nulls of tied values have a tail). */
static void test_constant_is_quiet(void)
{
	static run r;
	ts_profile p;
	ts_vopts o;
	nab_like(&p, &o);
	CHECK_INT(ts_profile_set(&p, "p_start", "5e-4"), 0);
	CHECK_INT(ts_profile_set(&p, "windows", "1, 4, 16, 32"), 0);
	for (int i = 0; i < ROWS; i++)
		r.x[i] = sqrt(45.0);
	drive(&r, ROWS, &p, &o);
	CHECK_INT(r.starts, 0);
	for (int i = 3000; i < ROWS; i++)
		r.x[i] = sqrt(45.0) * 1.001;
	drive(&r, ROWS, &p, &o);
	CHECK_INT(r.first_start, 3000);
	CHECK_INT(r.dir, 1);
}

/* The tail of a null of tied sums: 998 deviations of 0 and two of 1
 * leave only 2 sums above the tail's threshold. A sum just past the
 * resolution is not unusual (the tied mass is at or above it); one far
 * beyond everything seen is. */
static void test_tied_null_tail(void)
{
	static run r;
	ts_profile p;
	ts_vopts o;
	nab_like(&p, &o);
	CHECK_INT(ts_profile_set(&p, "windows", "1"), 0);
	for (int i = 0; i < 1000; i++) {
		r.t[i] = 1700000000 + (int64_t)i * 300;
		r.x[i] = 1;
		r.dev[i] = i == 500 || i == 700 ? 1 : 0;
	}
	ts_vbase b;
	CHECK_INT(ts_model_fit_value(r.t, r.x, r.dev, 1000, &p, &o, &b), 0);
	CHECK_INT(b.null[0].ok, 1);
	CHECK(b.null[0].res > 0 && b.null[0].res < 1e-6);
	CHECK(ts_model_p_value(&b.null[0], 0.5 * b.null[0].res, 1) == 1);
	CHECK(ts_model_p_value(&b.null[0], 3 * b.null[0].res, 1) > 0.01);
	CHECK(ts_model_p_value(&b.null[0], 10, 1) < 1e-6);
}

static void test_daily_profile_is_chosen(void)
{
	static run r;
	ts_profile p;
	ts_vopts o;
	nab_like(&p, &o);
	uint64_t seed = 7;
	for (int i = 0; i < ROWS; i++) /* 288 rows a day */
		r.x[i] = 50 + 20 * sin(2 * M_PI * i / 288.0) + noise(&seed);
	for (int i = 0; i < ROWS; i++)
		r.t[i] = 1700000000 + (int64_t)i * 300, r.dev[i] = 0;
	ts_vbase b;
	CHECK_INT(ts_model_fit_value(r.t, r.x, r.dev, ROWS, &p, &o, &b), 0);
	CHECK_INT(b.ok, 1);
	CHECK_INT(b.season, 1);
	CHECK(fabs(ts_vbase_expect(&b, r.t[ROWS - 1] + 300) - (50 + 20 * sin(2 * M_PI * ROWS / 288.0))) < 6);
	/* the daily swing itself is not an anomaly */
	drive(&r, ROWS, &p, &o);
	CHECK_INT(r.starts, 0);
	/* without the daily profile, the swing is too much for the flat one */
	o.seasons = 1;
	CHECK_INT(ts_model_fit_value(r.t, r.x, r.dev, ROWS, &p, &o, &b), 0);
	CHECK_INT(b.season, 0);
}

static void test_few_rows_not_judged(void)
{
	static run r;
	ts_profile p;
	ts_vopts o;
	nab_like(&p, &o);
	ts_vbase b;
	for (int i = 0; i < 10; i++)
		r.t[i] = i, r.x[i] = i, r.dev[i] = NAN;
	CHECK_INT(ts_model_fit_value(r.t, r.x, r.dev, 10, &p, &o, &b), 0);
	CHECK_INT(b.ok, 0);
	CHECK(ts_model_p_value(&b.null[0], 1e9, 1) == 1);
}

static void test_profile_set(void)
{
	ts_profile p, q;
	ts_profile_defaults(&p);
	q = p;
	CHECK_INT(ts_profile_set(&p, "no_such_key", "1"), TS_EINVAL);
	CHECK_INT(ts_profile_set(&p, "windows", "1, 99"), TS_EINVAL);
	CHECK(!memcmp(&p, &q, sizeof p));
	CHECK_INT(ts_profile_set(&p, "end_after", "7"), 0);
	CHECK_INT(p.end_after, 7);
}

TS_TESTS(test_noise_is_quiet_and_a_shift_starts, test_spread_rise_starts,
	 test_constant_is_quiet, test_tied_null_tail, test_daily_profile_is_chosen,
	 test_few_rows_not_judged, test_profile_set)
