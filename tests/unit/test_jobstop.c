/* test_jobstop.c - the stopped-job watch on hand-made hours: an hourly job
 * whose runs drift and vary in size is quiet, one that stops is Started at
 * its first missed window and Ended by the next run, and a saved watch
 * loaded again goes on as if it had never stopped. */
#include "../check.h"
#include "codec.h"
#include "jobstop.h"

#define WIN_LO 28 /* the job's window: minutes 28..34 of each hour */
#define WIN_HI 34
#define T0 ((int64_t)20000 * 1440)

typedef struct seen {
	int n, kind[8];
	ts_det_event ev[8];
	int64_t at[8];
} seen;

/* The calls of minute t: the steady rate (one call every other minute)
 * and, in hours not stopped, a run of size calls at minute run_at: one of
 * the window's, drifting from hour to hour, moved by shift; with shift
 * >= 100, minute shift - 100 of every hour. */
static uint32_t calls(int64_t t, int stop_from, int stop_to, int shift, uint32_t size)
{
	int64_t h = (t - T0) / 60;
	int mod = (int)((t - T0) % 60);
	uint32_t x = (uint32_t)(t % 2);
	int run_at = 31 + (int)((h * 5 + 3) % (2 * 3 + 1)) - 3 + shift; /* 28..34, shifted */
	if (shift >= 100)
		run_at = shift - 100;
	if ((h < stop_from || h >= stop_to) && mod == run_at)
		x += size + (uint32_t)(h % 3) * 15; /* 20..50 calls */
	return x;
}

static ts_det_obs obs(int64_t t, uint32_t x)
{
	int mod = (int)((t - T0) % 60);
	int win = mod >= WIN_LO && mod <= WIN_HI;
	return (ts_det_obs){.x = x, .lam = win ? 40.0f : 0.5f, .size = win ? 4.0f : 0,
			    .q = -1, .steady = 0.5f};
}

static void feed(ts_jobstop *j, const ts_profile *p, int64_t from, int64_t to, int stop_from,
		 int stop_to, int shift, seen *s)
{
	for (int64_t t = from; t < to; t++) {
		ts_det_obs o = obs(t, calls(t, stop_from, stop_to, shift, 20));
		ts_det_event ev;
		int k = ts_jobstop_step(j, p, t, &o, 1, &ev);
		if (k != TS_DET_NONE && s->n < 8) {
			s->kind[s->n] = k;
			s->ev[s->n] = ev;
			s->at[s->n++] = t;
		}
	}
}

static void test_drifting_runs_are_quiet(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	/* runs anywhere in the window, and up to JOBSTOP_MARGIN minutes
	 * early or late */
	for (int shift = -JOBSTOP_MARGIN; shift <= JOBSTOP_MARGIN; shift++) {
		ts_jobstop j;
		ts_jobstop_init(&j);
		seen s = {0};
		feed(&j, &p, T0, T0 + 48 * 60, -1, -1, shift, &s);
		CHECK_INT(s.n, 0);
		CHECK(ts_jobstop_idle(&j) || j.from != INT64_MIN);
	}
	/* every run early, or every run late, by up to the margin */
	for (int k = 1; k <= JOBSTOP_MARGIN; k++) {
		int at[2] = {100 + WIN_LO - k, 100 + WIN_HI + k};
		for (int i = 0; i < 2; i++) {
			ts_jobstop j;
			ts_jobstop_init(&j);
			seen s = {0};
			feed(&j, &p, T0, T0 + 24 * 60, -1, -1, at[i], &s);
			CHECK_INT(s.n, 0);
		}
	}
	/* runs later than that are missed runs */
	ts_jobstop j;
	ts_jobstop_init(&j);
	seen s = {0};
	feed(&j, &p, T0, T0 + 24 * 60, -1, -1, 100 + WIN_HI + JOBSTOP_MARGIN + 2, &s);
	CHECK(s.n >= 1);
}

static void test_stopped_job_is_a_drop(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	ts_jobstop j;
	ts_jobstop_init(&j);
	seen s = {0};
	/* runs in hours 0..9, none in 10..14, again from 15 */
	feed(&j, &p, T0, T0 + 24 * 60, 10, 15, 0, &s);
	CHECK_INT(s.n, 2);
	CHECK_INT(s.kind[0], TS_DET_START);
	CHECK_INT(s.ev[0].dir, -1);
	CHECK_INT(s.ev[0].job, 1);
	/* dated at hour 10's window, its minutes before included */
	CHECK_INT(s.ev[0].start, T0 + 10 * 60 + WIN_LO - JOBSTOP_MARGIN);
	CHECK(s.ev[0].p_value < p.p_start);
	CHECK(s.ev[0].expected > 0.5);
	CHECK(s.at[0] < T0 + 13 * 60); /* within a few missed runs */
	CHECK_INT(s.kind[1], TS_DET_END);
	CHECK_INT(s.ev[1].start, s.ev[0].start);
	/* ended by hour 15's run, at its window */
	CHECK_INT(s.ev[1].start + s.ev[1].duration, T0 + 15 * 60 + WIN_LO - JOBSTOP_MARGIN);
	CHECK(s.at[1] < T0 + 16 * 60);
}

static void test_one_missed_small_run_is_not_a_drop(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	ts_jobstop j;
	ts_jobstop_init(&j);
	seen s = {0};
	feed(&j, &p, T0, T0 + 24 * 60, 10, 11, 0, &s);
	CHECK_INT(s.n, 0);
}

static void test_held_back_while_another_episode(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	ts_jobstop j;
	ts_jobstop_init(&j);
	int starts = 0;
	for (int64_t t = T0; t < T0 + 24 * 60; t++) {
		ts_det_obs o = obs(t, calls(t, 10, 15, 0, 20));
		ts_det_event ev;
		starts += ts_jobstop_step(&j, &p, t, &o, 0, &ev) == TS_DET_START;
	}
	CHECK_INT(starts, 0);
}

static void test_window_not_whole_is_not_judged(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	ts_jobstop j;
	ts_jobstop_init(&j);
	seen s = {0};
	/* first seen at a window's first minute, its run the day before */
	feed(&j, &p, T0 + 10 * 60 + WIN_LO, T0 + 10 * 60 + 59, 10, 11, 0, &s);
	CHECK_INT(s.n, 0);
	CHECK(ts_jobstop_idle(&j));
	/* a minute not judged forgets the window under way */
	ts_jobstop_init(&j);
	feed(&j, &p, T0, T0 + 10 * 60 + WIN_LO + 1, -1, -1, 0, &s);
	ts_det_obs un = {.lam = -1, .q = -1};
	ts_det_event ev;
	CHECK_INT(ts_jobstop_step(&j, &p, T0 + 10 * 60 + WIN_LO + 1, &un, 1, &ev), TS_DET_NONE);
	CHECK(j.from == INT64_MIN);
}

static void test_saved_and_loaded(void)
{
	ts_profile p;
	ts_profile_defaults(&p);
	seen whole = {0};
	ts_jobstop a;
	ts_jobstop_init(&a);
	feed(&a, &p, T0, T0 + 24 * 60, 10, 15, 0, &whole);
	CHECK_INT(whole.n, 2);
	/* cut mid-window, mid-stop (after the Start) and mid-margin */
	static const int64_t cuts[] = {T0 + 10 * 60 + 30, T0 + 13 * 60 + 5, T0 + 15 * 60 + 36};
	for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
		ts_jobstop b;
		ts_jobstop_init(&b);
		seen s = {0};
		feed(&b, &p, T0, cuts[c], 10, 15, 0, &s);
		ts_enc enc;
		ts_enc_init(&enc, NULL);
		ts_jobstop_save(&b, &enc);
		ts_buf blob = {0};
		CHECK_INT(ts_enc_finish(&enc, "TJS1", &blob), 0);
		ts_dec dec;
		CHECK_INT(ts_dec_open(&dec, blob.p, blob.len, "TJS1", NULL), 0);
		ts_jobstop r;
		CHECK_INT(ts_jobstop_load(&r, &dec), 0);
		CHECK(ts_dec_ok(&dec, 1));
		ts_dec_free(&dec);
		CHECK(memcmp(&r, &b, sizeof r) == 0);
		feed(&r, &p, cuts[c], T0 + 24 * 60, 10, 15, 0, &s);
		CHECK_INT(s.n, whole.n);
		for (int i = 0; i < s.n && i < whole.n; i++) {
			CHECK_INT(s.kind[i], whole.kind[i]);
			CHECK_INT(s.at[i], whole.at[i]);
			CHECK_INT(s.ev[i].start, whole.ev[i].start);
			CHECK_INT(s.ev[i].duration, whole.ev[i].duration);
		}
		/* a truncated state is refused */
		CHECK_INT(ts_dec_open(&dec, blob.p, blob.len - 1, "TJS1", NULL) == 0 &&
				  ts_jobstop_load(&r, &dec) == 0 && ts_dec_ok(&dec, 1),
			  0);
		ts_dec_free(&dec);
		ts_buf_free(&blob);
	}
}

static void test_run_low(void)
{
	CHECK(ts_jobstop_run_low(100, 0) == 100);     /* Poisson: the run */
	CHECK(ts_jobstop_run_low(100, 100) == 80);    /* less two sd */
	CHECK(ts_jobstop_run_low(100, 2) == 40);      /* at least two fifths */
}

TS_TESTS(test_drifting_runs_are_quiet, test_stopped_job_is_a_drop,
	 test_one_missed_small_run_is_not_a_drop, test_held_back_while_another_episode,
	 test_window_not_whole_is_not_judged, test_saved_and_loaded, test_run_low)
