/* test_mincounts.c - sparse-or-dense minute counts read exactly as a day
 * window of dense days would. */
#include "../check.h"
#include "mincounts.h"
#include "util.h"

/* A reference: the same adds into a ts_daywin of dense days. */
static void ref_add(ts_daywin *w, uint32_t n, int64_t minute, uint32_t count)
{
	int64_t day = ts_day_of(minute);
	unsigned freed = 0;
	int nomem;
	uint32_t **s = ts_daywin_slot(w, n, day, &freed, &nomem);
	if (!s)
		return;
	if (!*s)
		*s = calloc(TS_MIN_PER_DAY, sizeof **s);
	(*s)[minute - day * TS_MIN_PER_DAY] += count;
}

static void ref_read(const ts_daywin *w, int64_t from, size_t n, uint32_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int64_t t = from + (int64_t)i, day = ts_day_of(t);
		const uint32_t *d = ts_daywin_get(w, day);
		out[i] = d ? d[t - day * TS_MIN_PER_DAY] : 0;
	}
}

/* Random adds (sparse, a busy stretch that goes dense, late minutes,
 * minutes before the window) read back the same as the reference. */
static void test_against_daywin(void)
{
	for (int busy = 0; busy < 2; busy++) {
		ts_mincounts c = {0};
		ts_daywin w = {0};
		uint64_t x = 12345 + (uint64_t)busy;
		int64_t bytes = 0, t0 = 20000 * (int64_t)TS_MIN_PER_DAY;
		for (int i = 0; i < (busy ? 60000 : 3000); i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			int64_t minute = t0 + (int64_t)((x >> 33) % (busy ? 3 * 1440 : 12 * 1440));
			if (i % 7 == 0 && i > (busy ? 50000 : 0))
				minute += (int64_t)(i - (busy ? 50000 : 0)) * 3; /* later and later: the window slides */
			uint32_t count = (uint32_t)(x >> 60) + (i % 5 == 0);
			CHECK_INT(ts_mc_add(&c, 4, minute, count, &bytes), 0);
			ref_add(&w, 4, minute, count);
		}
		CHECK_INT(c.dense != NULL, busy);
		if (!c.dense)
			CHECK_INT((int64_t)ts_mc_memory(&c), bytes);
		size_t n = 20 * TS_MIN_PER_DAY;
		uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
		for (int64_t from = t0 - 1440; from < t0 + 200 * 1440; from += 7 * 1440 + 13) {
			ts_mc_read(&c, from, n, a);
			ref_read(&w, from, n, b);
			CHECK(memcmp(a, b, n * sizeof *a) == 0);
		}
		free(a);
		free(b);
		ts_mc_free(&c);
		ts_daywin_free(&w);
		CHECK(c.cells == NULL && c.dense == NULL && c.n_days == 0);
	}
}

/* A sparse series costs 8 bytes a non-zero minute; old days fall out. */
static void test_sparse_memory(void)
{
	ts_mincounts c = {0};
	int64_t bytes = 0, t0 = 20000 * (int64_t)TS_MIN_PER_DAY;
	for (int d = 0; d < 10; d++)
		for (int k = 0; k < 4; k++)
			CHECK_INT(ts_mc_add(&c, 3, t0 + d * 1440 + k * 300, 1, &bytes), 0);
	CHECK(c.dense == NULL);
	CHECK_INT(c.n, 12); /* 3 days of 4 */
	CHECK(ts_mc_memory(&c) <= 64 * sizeof(ts_mc_cell));
	CHECK_INT(bytes, (int64_t)ts_mc_memory(&c));
	uint32_t out[1440];
	ts_mc_read(&c, t0 + 6 * 1440, 1440, out); /* out of the window */
	CHECK_INT(out[0], 0);
	ts_mc_read(&c, t0 + 9 * 1440, 1440, out);
	CHECK_INT(out[0] + out[300] + out[600] + out[900], 4);
	/* before the window: dropped */
	CHECK_INT(ts_mc_add(&c, 3, t0, 5, &bytes), 0);
	CHECK_INT(c.n, 12);
	/* zero adds nothing */
	CHECK_INT(ts_mc_add(&c, 3, t0 + 9 * 1440 + 1, 0, &bytes), 0);
	CHECK_INT(c.n, 12);
	ts_mc_free(&c);
}

TS_TESTS(test_against_daywin, test_sparse_memory)
