/* test_backoff.c - the retry schedule: doubling up to the cap, the budget
 * of a blocking caller spent to the millisecond and then refused, a
 * success starting over, the non-blocking form's next try, and a watched
 * wait ended early giving the rest back to the budget. */
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

static int calls;
static int over_at_3(void *ctx)
{
	(void)ctx;
	return ++calls >= 3;
}
static int never(void *ctx)
{
	(void)ctx;
	++calls;
	return 0;
}

static void test_watch(void)
{
	ts_backoff b;
	ts_backoff_set(&b, 100, 400, 150);
	calls = 0;
	CHECK_INT(ts_backoff_sleep_watch(&b, 10, over_at_3, NULL), 0);
	CHECK_INT(calls, 3);        /* over after the third 10 ms slice */
	CHECK_INT(b.spent_ms, 30);  /* 70 of the 100 given back */
	calls = 0;
	CHECK_INT(ts_backoff_sleep_watch(&b, 50, never, NULL), 0);
	CHECK_INT(calls, 2);        /* 120 ms left of 150: slices 50, 50, 20 */
	CHECK_INT(b.spent_ms, 150); /* not asked after the last slice */
	CHECK_INT(ts_backoff_sleep_watch(&b, 50, never, NULL), -1);
}

TS_TESTS(test_schedule, test_budget, test_nonblocking, test_watch)
