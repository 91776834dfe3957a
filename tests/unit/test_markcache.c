/* test_markcache.c - the per-day file mark cache: lookups, and pruning
 * that keeps it to the last days however many marks pass through. */
#include "../check.h"
#include "markcache.h"

static void test_add_has_read(void)
{
	ts_markcache c = {0};
	CHECK(!ts_mk_has(&c, 100, 7));
	CHECK_INT(ts_mk_add(&c, 100, 7), 0);
	CHECK(ts_mk_has(&c, 100, 7));
	CHECK(!ts_mk_has(&c, 101, 7)); /* by day */
	CHECK(!ts_mk_was_read(&c, 100, 3));
	CHECK_INT(ts_mk_set_read(&c, 100, 3), 0);
	CHECK(ts_mk_was_read(&c, 100, 3));
	CHECK(!ts_mk_was_read(&c, 100, 4));
	CHECK(!ts_mk_was_read(&c, 99, 3));
	CHECK_INT(ts_mk_days(&c), 1);
	ts_mk_free(&c);
	CHECK_INT(ts_mk_days(&c), 0);
	CHECK_INT(ts_mk_memory(&c), 0);
}

static void test_prune_bounds(void)
{
	ts_markcache c = {0};
	enum { DAYS = 60, PER_DAY = 2000, KEEP = 1 };
	size_t mem_max = 0;
	uint64_t h = 1;
	for (int64_t d = 0; d < DAYS; d++) {
		for (int i = 0; i < PER_DAY; i++)
			CHECK_INT(ts_mk_add(&c, 20000 + d, h++ * 0x9E3779B97F4A7C15ull >> 1), 0);
		CHECK_INT(ts_mk_set_read(&c, 20000 + d, 0), 0);
		ts_mk_prune(&c, KEEP);
		CHECK(ts_mk_days(&c) <= KEEP + 1);
		CHECK(ts_mk_count(&c) <= (KEEP + 1) * PER_DAY);
		size_t m = ts_mk_memory(&c);
		mem_max = m > mem_max ? m : mem_max;
	}
	/* two days of 2000 marks: tallies of 4096 slots of 16 bytes each,
	 * plus the small read tallies and the day array */
	CHECK(mem_max <= 2 * 4096 * 16 + 2 * 16 * 16 + 64 * sizeof(ts_mk_day));
	CHECK(ts_mk_has(&c, 20000 + DAYS - 1, (h - 1) * 0x9E3779B97F4A7C15ull >> 1));
	CHECK(!ts_mk_has(&c, 20000, 1 * 0x9E3779B97F4A7C15ull >> 1));
	CHECK(!ts_mk_was_read(&c, 20000, 0));
	CHECK(ts_mk_was_read(&c, 20000 + DAYS - 2, 0));
	/* an old day coming back starts empty and is pruned again */
	CHECK_INT(ts_mk_add(&c, 20000, 5), 0);
	CHECK_INT(ts_mk_days(&c), KEEP + 2);
	ts_mk_prune(&c, KEEP);
	CHECK_INT(ts_mk_days(&c), KEEP + 1);
	CHECK(!ts_mk_has(&c, 20000, 5));
	ts_mk_free(&c);
}

static void test_prune_empty_and_backfill_days(void)
{
	ts_markcache c = {0};
	ts_mk_prune(&c, 1); /* nothing held: nothing happens */
	CHECK_INT(ts_mk_days(&c), 0);
	/* a backfill's many mtime days, then pruned at its end */
	for (int64_t d = 0; d < 500; d++)
		CHECK_INT(ts_mk_add(&c, 19000 + d, (uint64_t)d), 0);
	CHECK_INT(ts_mk_days(&c), 500);
	ts_mk_prune(&c, 0);
	CHECK_INT(ts_mk_days(&c), 1);
	CHECK(ts_mk_has(&c, 19499, 499));
	CHECK(ts_mk_memory(&c) < 4096); /* the day array shrank too */
	ts_mk_free(&c);
}

TS_TESTS(test_add_has_read, test_prune_bounds, test_prune_empty_and_backfill_days)
