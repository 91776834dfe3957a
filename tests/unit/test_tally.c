/* test_tally.c - the counter map and attribution key packing. */
#include "../check.h"
#include "tally.h"

static void test_add_and_visit(void)
{
	ts_tally t = {0};
	for (uint64_t k = 0; k < 1000; k++)
		CHECK_INT(ts_tally_add(&t, k * 7919, k + 1), 0);
	CHECK_INT(ts_tally_add(&t, 0, 5), 0); /* key 0 is a key like any other */
	CHECK_INT(t.n, 1000);
	uint64_t k = 0, c = 0, sum = 0, seen = 0;
	for (uint32_t i = 0; ts_tally_next(&t, &i, &k, &c);) {
		CHECK_INT(k % 7919, 0);
		CHECK_INT(c, k / 7919 + 1 + (k == 0 ? 5 : 0));
		sum += c;
		seen++;
	}
	CHECK_INT(seen, 1000);
	CHECK_INT(sum, 1000 * 1001 / 2 + 5);
	ts_tally_clear(&t);
	CHECK_INT(t.n, 0);
	uint32_t i = 0;
	CHECK(!ts_tally_next(&t, &i, &k, &c));
	/* a cleared key starts again from zero */
	CHECK_INT(ts_tally_add(&t, 7919, 2), 0);
	i = 0;
	CHECK(ts_tally_next(&t, &i, &k, &c));
	CHECK_INT(c, 2);
	ts_tally_free(&t);
	CHECK(t.keys == NULL && t.cap == 0);
}

static void test_attr_key(void)
{
	uint64_t k = ts_attr_key((1u << 30) - 1, 2, 0xffffffffu);
	CHECK_INT(ts_attr_key_metric(k), (1u << 30) - 1);
	CHECK_INT(ts_attr_key_kind(k), 2);
	CHECK_INT(ts_attr_key_value(k), 0xffffffffu);
	CHECK(ts_attr_key(1, 0, 5) != ts_attr_key(0, 1, 5));
}

TS_TESTS(test_add_and_visit, test_attr_key)
