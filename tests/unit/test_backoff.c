/* test_backoff.c - the retry schedule: doubling up to the cap, the budget
 * of a blocking caller spent to the millisecond and then refused, a
 * success starting over, and the non-blocking form's next try. */
#include "../check.h"
#include "backoff.h"

static void test_schedule(void)
{
	ts_backoff b;
	ts_backoff_set(&b, 100, 400, 0);
	CHECK_INT(ts_backoff_next(&b), 100);
	CHECK_INT(ts_backoff_next(&b), 200);
	CHECK_INT(ts_backoff_next(&b), 400);
	CHECK_INT(ts_backoff_next(&b), 400); /* capped; no budget: never refused */
	ts_backoff_ok(&b);
	CHECK_INT(ts_backoff_next(&b), 100);
	/* a cap below the first wait is the first wait */
	ts_backoff_set(&b, 100, 50, 0);
	CHECK_INT(ts_backoff_next(&b), 100);
	CHECK_INT(ts_backoff_next(&b), 100);
}

static void test_budget(void)
{
	ts_backoff b;
	ts_backoff_set(&b, 100, 400, 1000);
	CHECK_INT(ts_backoff_next(&b), 100);
	CHECK_INT(ts_backoff_next(&b), 200);
	CHECK_INT(ts_backoff_next(&b), 400);
	CHECK_INT(ts_backoff_next(&b), 300); /* what is left of the budget */
	CHECK_INT(ts_backoff_next(&b), -1);  /* spent exactly: refused */
	CHECK_INT(ts_backoff_next(&b), -1);
	ts_backoff_ok(&b);
	CHECK_INT(ts_backoff_next(&b), 100);
}

static void test_nonblocking(void)
{
	ts_backoff b;
	ts_backoff_set(&b, 1000, 60000, 0);
	CHECK(ts_backoff_ready(&b, 0));
	ts_backoff_fail(&b, 5000);
	CHECK(!ts_backoff_ready(&b, 5999));
	CHECK(ts_backoff_ready(&b, 6000));
	ts_backoff_fail(&b, 6000);
	CHECK(!ts_backoff_ready(&b, 7999));
	CHECK(ts_backoff_ready(&b, 8000));
}

TS_TESTS(test_schedule, test_budget, test_nonblocking)
