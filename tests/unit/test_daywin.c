/* test_daywin.c - the sliding window of days. */
#include "../check.h"
#include "daywin.h"

static uint32_t *day_of_value(uint32_t v)
{
	uint32_t *d = calloc(1440, sizeof *d);
	if (d)
		d[0] = v;
	return d;
}

static void test_slide(void)
{
	ts_daywin w = {0};
	unsigned freed = 0;
	int nomem;
	uint32_t **s = ts_daywin_slot(&w, 3, 100, &freed, &nomem);
	CHECK(s && !*s);
	*s = day_of_value(100);
	/* the window ends at the first day: 98..100 */
	s = ts_daywin_slot(&w, 3, 98, &freed, &nomem);
	CHECK(s != NULL);
	*s = day_of_value(98);
	CHECK(ts_daywin_slot(&w, 3, 97, &freed, &nomem) == NULL);
	CHECK_INT(nomem, 0);
	CHECK_INT(ts_daywin_get(&w, 100)[0], 100);
	CHECK_INT(ts_daywin_get(&w, 98)[0], 98);
	CHECK(ts_daywin_get(&w, 99) == NULL);
	/* day 101 slides the window to 99..101: day 98 is freed */
	s = ts_daywin_slot(&w, 3, 101, &freed, &nomem);
	CHECK(s && !*s);
	CHECK_INT(freed, 1);
	CHECK(ts_daywin_get(&w, 98) == NULL);
	CHECK_INT(ts_daywin_get(&w, 100)[0], 100);
	/* a jump far ahead frees everything */
	s = ts_daywin_slot(&w, 3, 500, &freed, &nomem);
	CHECK(s != NULL);
	CHECK_INT(freed, 2);
	CHECK(ts_daywin_get(&w, 100) == NULL);
	CHECK(ts_daywin_get(&w, 1000) == NULL);
	ts_daywin_free(&w);
	CHECK(w.days == NULL && w.n == 0);
	ts_daywin_free(&w);
}

TS_TESTS(test_slide)
