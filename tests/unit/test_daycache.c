/* test_daycache.c - the held days of a ts_daycache follow its window
 * exactly as a plain list of days would, in no memory of their own up to
 * 64 days. */
#include "../check.h"
#include "daycache.h"
#include "util.h"

#define SPAN 400 /* days the random walk covers */

/* Random holds and adds (forward, late, before the window, far jumps)
 * against a reference: held days are those held and not before the
 * window's first day (newest held day - n_days + 1). */
static void check_window(uint32_t n_days, int busy)
{
	ts_daycache c = {0};
	uint8_t ref[SPAN] = {0};
	uint32_t refc[SPAN] = {0}; /* counts of minute 7 of each day */
	int64_t d0 = 20000, newest = -1, bytes = 0;
	uint64_t x = 99 + n_days;
	int bad = 0, bad_counts = 0;
	for (int step = 0; step < 4000; step++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		int64_t rel;
		unsigned r = (unsigned)(x >> 33) % 100;
		if (newest < 0 || r < 40)
			rel = newest + 1 + (int64_t)((x >> 20) % 3);      /* forward */
		else if (r < 90)
			rel = newest - (int64_t)((x >> 20) % (n_days + 5)); /* late, some too late */
		else
			rel = newest + (int64_t)((x >> 20) % (2 * n_days)); /* a jump */
		if (rel < 0)
			rel = 0;
		if (rel >= SPAN)
			break;
		int rc = ts_dc_hold(&c, n_days, d0 + rel, &bytes);
		int64_t first = (newest > rel ? newest : rel) - (int64_t)n_days + 1;
		int want_rc = rel < first ? 1 : 0;
		if (rc != want_rc) {
			bad++;
			continue;
		}
		if (!rc) {
			if (rel > newest)
				newest = rel;
			ref[rel] = 1;
			uint32_t k = 1 + (uint32_t)(x % 5);
			if (busy || (x >> 40) % 2) {
				CHECK_INT(ts_dc_add(&c, (d0 + rel) * TS_MIN_PER_DAY + 7, k, &bytes), 0);
				refc[rel] += k;
			}
			if (busy) /* a day of many minutes: the counts go dense */
				for (int m = 100; m < 100 + TS_MC_DENSE_PER_DAY + 10; m++)
					CHECK_INT(ts_dc_add(&c, (d0 + rel) * TS_MIN_PER_DAY + m, 1, &bytes),
						  0);
		}
		int64_t lo = newest - (int64_t)n_days + 1;
		for (int64_t d = 0; d < SPAN; d++) {
			if (d < lo) {
				ref[d] = 0;
				refc[d] = 0;
			}
			bad += ts_dc_has(&c, d0 + d) != ref[d];
			if (ref[d]) {
				uint32_t got;
				ts_dc_read(&c, (d0 + d) * TS_MIN_PER_DAY + 7, 1, &got);
				bad_counts += got != refc[d];
			}
		}
	}
	CHECK_INT(bad, 0);
	CHECK_INT(bad_counts, 0);
	CHECK(newest > (int64_t)n_days); /* the window slid */
	if (!busy) /* (a dense window's pointer array is not in bytes) */
		CHECK_INT(bytes, (int64_t)ts_dc_memory(&c));
	ts_dc_free(&c);
	CHECK_INT(ts_dc_memory(&c), 0);
}

static void test_window_29(void) { check_window(29, 0); }
static void test_window_64(void) { check_window(64, 0); }
static void test_window_90(void) { check_window(90, 0); }
static void test_window_dense(void) { check_window(29, 1); }

/* Up to 64 days, holding days costs no memory: only counts do. */
static void test_days_cost_nothing(void)
{
	ts_daycache c = {0};
	int64_t bytes = 0;
	for (int64_t d = 20000; d < 20029; d++)
		CHECK_INT(ts_dc_hold(&c, 29, d, &bytes), 0);
	CHECK_INT(bytes, 0);
	CHECK_INT(ts_dc_memory(&c), 0);
	for (int64_t d = 20000; d < 20029; d++)
		CHECK_INT(ts_dc_has(&c, d), 1);
	CHECK_INT(ts_dc_has(&c, 19999), 0);
	CHECK_INT(ts_dc_hold(&c, 29, 19999, &bytes), 1); /* before the window */
	CHECK_INT(ts_dc_add(&c, 20003 * (int64_t)TS_MIN_PER_DAY + 5, 4, &bytes), 0);
	CHECK(bytes > 0);
	CHECK_INT(ts_dc_memory(&c), (size_t)bytes);
	ts_dc_free(&c);
}

TS_TESTS(test_window_29, test_window_64, test_window_90, test_window_dense, test_days_cost_nothing)
