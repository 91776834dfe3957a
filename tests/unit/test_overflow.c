/* test_overflow.c - the overflow table: counts by partition and
 * eventSource, its own cap, the top rows. */
#include "../check.h"
#include "overflow.h"

static void test_counts_and_top(void)
{
	ts_overflow *o = ts_overflow_new(3);
	CHECK(o != NULL);
	for (int i = 0; i < 5; i++)
		CHECK_INT(ts_overflow_add(o, 1, ts_str_c("a.amazonaws.com"), TS_OV_SERIES), 0);
	CHECK_INT(ts_overflow_add(o, 1, ts_str_c("b.amazonaws.com"), TS_OV_CODE), 0);
	CHECK_INT(ts_overflow_add(o, 2, ts_str_c("a.amazonaws.com"), TS_OV_SERIES), 0);
	/* the table is full: a new source counts as its partition's "other" */
	CHECK_INT(ts_overflow_add(o, 2, ts_str_c("c.amazonaws.com"), TS_OV_SERIES), 0);
	CHECK_INT(ts_overflow_add(o, 2, ts_str_c("d.amazonaws.com"), TS_OV_SERIES), 0);
	/* a known row still counts as itself */
	CHECK_INT(ts_overflow_add(o, 2, ts_str_c("a.amazonaws.com"), TS_OV_SERIES), 0);
	CHECK_INT(ts_overflow_total(o, TS_OV_SERIES), 9);
	CHECK_INT(ts_overflow_total(o, TS_OV_CODE), 1);
	CHECK_INT(ts_overflow_rows(o), 4);
	ts_overflow_row *rows;
	uint32_t n;
	CHECK_INT(ts_overflow_top(o, 10, &rows, &n), 0);
	CHECK_INT(n, 4);
	CHECK_INT(rows[0].partition, 1);
	CHECK_MEM(rows[0].source.p, rows[0].source.n, "a.amazonaws.com");
	CHECK_INT(rows[0].count[TS_OV_SERIES], 5);
	/* 2 records each: partition 2's "a" and "other", then partition 1's "b" (1) */
	CHECK_INT(rows[1].partition, 2);
	CHECK_INT(rows[1].source.n, 0);
	CHECK_INT(rows[1].count[TS_OV_SERIES], 2);
	CHECK_MEM(rows[2].source.p, rows[2].source.n, "a.amazonaws.com");
	CHECK_INT(rows[3].count[TS_OV_CODE], 1);
	free(rows);
	CHECK_INT(ts_overflow_top(o, 1, &rows, &n), 0);
	CHECK_INT(n, 1);
	free(rows);
	ts_overflow_free(o);
	ts_overflow_free(NULL);
}

TS_TESTS(test_counts_and_top)
