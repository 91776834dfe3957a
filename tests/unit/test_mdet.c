/* test_mdet.c - the compact detector against the plain one: fed the same
 * minutes with the same baselines, the same events, and the same detector
 * state at every minute; idle (no ring held) for quiet series. */
#include "../check.h"
#include "mdet.h"

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33);
}

/* A baseline with hourly steady rates around level, a few burst minutes,
 * sizes of both kinds. */
static void make_baseline(ts_baseline *b, int64_t day, double level)
{
	memset(b, 0, sizeof *b);
	b->day = day;
	b->steady_size = rnd() % 3 ? 0 : 2.5;
	for (int m = 0; m < TS_MIN_PER_DAY; m++) {
		float r = (float)(level * (0.5 + (m / 60) % 5 * 0.25));
		b->lam[m] = b->steady[m] = r;
		b->size[m] = (float)b->steady_size;
		if (rnd() % 200 == 0)
			b->lam[m] = r + (float)(rnd() % 30);
	}
}

/* The detectors' states agree: scalars, and the ring where windows read it. */
static int same_state(const ts_detector *a, const ts_detector *b)
{
	if (a->last != b->last || a->floor != b->floor || a->quiet_until != b->quiet_until ||
	    a->open != b->open || a->held != b->held)
		return 0;
	if (a->open && (a->dir != b->dir || a->start != b->start ||
			a->last_elevated != b->last_elevated))
		return 0;
	if (a->last == INT64_MIN)
		return 1;
	for (int64_t t = a->last; t > a->last - TS_WINDOW_MAX && t > a->floor; t--) {
		unsigned s = (unsigned)(t % TS_WINDOW_MAX);
		if (memcmp(&a->ring[s], &b->ring[s], sizeof a->ring[s]))
			return 0;
	}
	return 1;
}

static int min_quiet; /* the profile's, for every run */

typedef struct run_result {
	int events, mismatches, idle_minutes, minutes, job_events;
} run_result;

/* Feed days of minutes to a plain and a compact detector. kind: 0 sparse
 * calls, 1 busy calls with a spike and a drop, 2 errors. */
static run_result run(int kind, uint64_t seed, int days, int restore_at)
{
	rng_state = seed;
	ts_profile p;
	ts_profile_defaults(&p);
	p.min_quiet = min_quiet;
	int is_error = kind == 2;
	ts_detector plain;
	ts_detector_init(&plain);
	ts_mdet md;
	ts_mdet_init(&md);
	ts_baseline b;
	ts_cbase *cb = NULL;
	float q = -1;
	int judged = 0;
	run_result r = {0};
	int64_t first = 20000 * (int64_t)TS_MIN_PER_DAY;
	for (int64_t t = first; t < first + days * TS_MIN_PER_DAY; t++) {
		int64_t day = ts_day_of(t);
		unsigned mod = (unsigned)(t - day * TS_MIN_PER_DAY);
		if (mod == 0) {
			judged = day - ts_day_of(first) >= 2;
			double level = kind == 1 ? 8 + rnd() % 8 : 0.01 * (rnd() % 20);
			make_baseline(&b, day, level);
			q = 0.05f;
			if (!is_error && judged)
				CHECK_INT(ts_cbase_make(&b, &cb), 0);
			CHECK_INT(ts_mdet_day(&md, &p, is_error, day, judged, &b, q), 0);
		}
		if (t == first + restore_at) {
			/* a restore: the detector as saved, set into a new one
			 * that has seen no day yet */
			ts_detector saved;
			ts_mdet_get(&md, is_error, &saved);
			ts_mdet_free(&md);
			CHECK_INT(ts_mdet_day(&md, &p, is_error, day, judged, &b, q), 0);
			CHECK_INT(ts_mdet_set(&md, &saved), 0);
		}
		uint32_t x = 0, n = 0;
		if (kind == 0) {
			x = rnd() % 90 == 0 ? 1 + rnd() % 3 : 0;
			if (mod >= 600 && mod < 615 && day == ts_day_of(first) + 3)
				x = 6; /* a burst over min_count in 15 minutes */
		} else if (kind == 1) {
			x = 8 + rnd() % 9;
			if (mod >= 300 && mod < 320 && day == ts_day_of(first) + 3)
				x = 200;
			if (mod >= 900 && mod < 960 && day == ts_day_of(first) + 4)
				x = 0;
			if (day == ts_day_of(first) + 5)
				x = rnd() % 400 == 0; /* goes quiet */
		} else {
			n = rnd() % 16 == 0 ? rnd() % 5 : 0;
			x = n && rnd() % 2 == 0 ? 1 : 0;
			if (mod >= 700 && mod < 720 && day == ts_day_of(first) + 3) {
				n = 10;
				x = 8;
			}
		}
		ts_det_obs o = {.x = x, .lam = -1, .q = -1};
		if (is_error) {
			o.n = n;
			if (judged)
				o.q = q;
		} else if (judged) {
			ts_cbase_at(cb, mod, &o.lam, &o.size, &o.steady);
			o.steady_size = cb->steady_size;
		}
		ts_det_event e1, e2;
		int k1 = ts_detector_step(&plain, &p, is_error, t, &o, &e1);
		int k2 = ts_mdet_step(&md, &p, is_error, t, x, n, &e2);
		if (k2 != TS_DET_NONE && e2.job) {
			r.job_events++; /* a job's stop: the watch's, not the detector's */
			k2 = TS_DET_NONE;
		}
		r.minutes++;
		r.idle_minutes += md.full == NULL;
		if (k1 != k2) {
			r.mismatches++;
			continue;
		}
		if (k1 != TS_DET_NONE) {
			r.events++;
			if (e1.start != e2.start || e1.duration != e2.duration ||
			    memcmp(&e1.p_value, &e2.p_value, sizeof e1.p_value) ||
			    memcmp(&e1.expected, &e2.expected, sizeof e1.expected))
				r.mismatches++;
		}
		ts_detector got;
		ts_mdet_get(&md, is_error, &got);
		if (!same_state(&plain, &got))
			r.mismatches++;
	}
	ts_mdet_free(&md);
	free(cb);
	if (getenv("TS_TEST_VERBOSE"))
		fprintf(stderr, "kind %d seed %llu: %d events, %d of %d minutes idle\n", kind,
			(unsigned long long)seed, r.events, r.idle_minutes, r.minutes);
	return r;
}

static void test_sparse_calls_idle(void)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		run_result r = run(0, seed, 6, -1);
		CHECK_INT(r.mismatches, 0);
		CHECK(r.events >= 1); /* the burst */
		/* idle nearly all the time */
		CHECK(r.idle_minutes > r.minutes * 9 / 10);
	}
}

static void test_busy_calls(void)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		run_result r = run(1, seed, 7, -1);
		CHECK_INT(r.mismatches, 0);
		CHECK(r.events >= 4); /* spike and drop, each Start and End */
		/* active once judged (a drop could be), idle in the warm-up */
		CHECK(r.idle_minutes > TS_MIN_PER_DAY / 2);
		CHECK(r.idle_minutes < r.minutes / 2);
	}
}

static void test_errors(void)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		run_result r = run(2, seed, 5, -1);
		CHECK_INT(r.mismatches, 0);
		CHECK(r.events >= 2);
		CHECK(r.idle_minutes > r.minutes / 2);
	}
}

/* A detector restored mid-day (its ring made with baselines it no longer
 * holds) and across a day change still matches. */
static void test_restored(void)
{
	static const int at[] = {3 * 1440 + 5, 3 * 1440 + 610, 4 * 1440 - 3, 4 * 1440 + 2};
	for (int kind = 0; kind < 3; kind++)
		for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
			run_result r = run(kind, 7 + i, 6, at[i]);
			CHECK_INT(r.mismatches, 0);
		}
}

static void test_idle_is_small(void)
{
	ts_mdet md;
	ts_mdet_init(&md);
	ts_profile p;
	ts_profile_defaults(&p);
	ts_baseline b;
	rng_state = 3;
	make_baseline(&b, 100, 0.01);
	CHECK_INT(ts_mdet_day(&md, &p, 0, 100, 1, &b, 0), 0);
	ts_det_event ev;
	for (int64_t t = 100 * TS_MIN_PER_DAY; t < 100 * TS_MIN_PER_DAY + 200; t++)
		CHECK(ts_mdet_step(&md, &p, 0, t, t % 50 == 0, 0, &ev) == TS_DET_NONE || ev.job);
	CHECK(md.full == NULL);
	CHECK(ts_mdet_memory(&md) < 400); /* the baseline only */
	CHECK(ts_mdet_memory(&md) + sizeof md < sizeof(ts_detector) / 2);
	ts_mdet_free(&md);
}

/* With a quiet time after each End, compact and plain still agree. */
static void test_min_quiet(void)
{
	min_quiet = 90;
	for (int kind = 0; kind < 3; kind++)
		for (uint64_t seed = 1; seed <= 2; seed++) {
			run_result r = run(kind, seed, 6, kind == 1 ? 4 * TS_MIN_PER_DAY + 970 : -1);
			CHECK_INT(r.mismatches, 0);
			CHECK(r.events >= 2);
		}
	min_quiet = 0;
}

TS_TESTS(test_min_quiet, test_sparse_calls_idle, test_busy_calls, test_errors, test_restored, test_idle_is_small)
