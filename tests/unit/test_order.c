/* test_order.c - held records are counted in time order; auto trusts the
 * order only when it holds; the clock skew guard keeps a record alone far
 * ahead out of the count and says where it came from. */
#include "../check.h"
#include "err.h"
#include "order.h"

typedef struct fed {
	int64_t minute[64];
	uint64_t seq[64];
	int n;
	int futures;
	char future_path[64];
	uint64_t future_off;
	int64_t future_t;
	int64_t wall;
} fed_t;

static int feed(void *ctx, const ts_held *ev)
{
	fed_t *f = ctx;
	if (f->n < 64) {
		f->minute[f->n] = ev->minute;
		f->seq[f->n] = ev->seq;
		f->n++;
	}
	return 0;
}

static void future(void *ctx, const char *path, uint64_t off, int64_t t, int ro, int err)
{
	fed_t *f = ctx;
	(void)ro;
	(void)err;
	f->futures++;
	snprintf(f->future_path, sizeof f->future_path, "%s", path);
	f->future_off = off;
	f->future_t = t;
}

static int64_t wall(void *ctx) { return ((fed_t *)ctx)->wall; }

static int add(ts_order *o, int64_t t, uint64_t off)
{
	ts_held ev = {.minute = t / 60, .pid = 0, .metric = 1};
	return ts_order_add(o, 0, t, &ev, 1, 0, 0, "f.json", off, INT64_MIN);
}

static void test_any_sorts(void)
{
	fed_t f = {0};
	ts_order_cb cb = {feed, future, NULL, &f};
	ts_order_opts oo = {.mode = TS_ORDER_ANY, .lateness = 20, .future_secs = 3600};
	ts_order *o = ts_order_new(&oo, &cb);
	/* newest first, 10 minutes apart: nothing is counted before finish */
	for (int i = 9; i >= 0; i--)
		CHECK_INT(add(o, 1000000 * 60 + i * 600, (uint64_t)i), 0);
	CHECK_INT(f.n, 0);
	CHECK(ts_order_holding(o));
	CHECK_INT(ts_order_finish(o), 0);
	CHECK(!ts_order_holding(o));
	CHECK_INT(f.n, 10);
	for (int i = 1; i < f.n; i++)
		CHECK(f.minute[i] > f.minute[i - 1]);
	CHECK_INT(f.futures, 0);
	ts_order_stats st;
	ts_order_get_stats(o, &st);
	CHECK_INT(st.held_peak, 10);
	CHECK(st.replayed);
	ts_order_free(o);
	ts_order_free(NULL);
}

static void test_auto(void)
{
	/* in order: after auto_events counts, counted as they come */
	fed_t f = {0};
	ts_order_cb cb = {feed, future, NULL, &f};
	ts_order_opts oo = {.mode = TS_ORDER_AUTO, .lateness = 20, .auto_events = 4};
	ts_order *o = ts_order_new(&oo, &cb);
	for (int i = 0; i < 8; i++)
		CHECK_INT(add(o, 60000000 + i * 60, 0), 0);
	CHECK(!ts_order_holding(o));
	CHECK_INT(f.n, 8);
	ts_order_free(o);
	/* a record far behind first: everything stays held */
	fed_t g = {0};
	ts_order_cb cb2 = {feed, future, NULL, &g};
	o = ts_order_new(&oo, &cb2);
	CHECK_INT(add(o, 60000000 + 7200, 0), 0);
	CHECK_INT(add(o, 60000000 + 7100, 0), 0);
	for (int i = 0; i < 8; i++)
		CHECK_INT(add(o, 60000000 + i * 60, 0), 0);
	CHECK(ts_order_holding(o));
	CHECK_INT(g.n, 0);
	CHECK_INT(ts_order_finish(o), 0);
	CHECK_INT(g.n, 10);
	CHECK_INT(g.minute[0], 1000000);
	ts_order_free(o);

	/* in order to the end of the first file: counted at once from then */
	fed_t h = {0};
	ts_order_cb cb3 = {feed, future, NULL, &h};
	oo.auto_events = 1000;
	o = ts_order_new(&oo, &cb3);
	CHECK_INT(add(o, 60000000, 0), 0);
	CHECK_INT(add(o, 60000060, 0), 0);
	CHECK_INT(h.n, 0);
	CHECK_INT(ts_order_file_end(o), 0);
	CHECK(!ts_order_holding(o));
	CHECK_INT(h.n, 2);
	CHECK_INT(add(o, 60000120, 0), 0);
	CHECK_INT(h.n, 3);
	ts_order_free(o);
}

static void test_future_backfill(void)
{
	fed_t f = {0};
	ts_order_cb cb = {feed, future, NULL, &f};
	ts_order_opts oo = {.mode = TS_ORDER_TIME, .lateness = 20, .future_secs = 3600};
	ts_order *o = ts_order_new(&oo, &cb);
	int64_t t0 = 60000000;
	CHECK_INT(add(o, t0, 1), 0);
	CHECK_INT(add(o, 253402300799, 77), 0); /* 9999-12-31T23:59:59Z: kept aside */
	CHECK_INT(add(o, t0 + 60, 2), 0);
	CHECK_INT(f.n, 2);
	/* two hours on, but below the one kept aside: counted */
	CHECK_INT(add(o, t0 + 7260, 3), 0);
	CHECK_INT(f.n, 3);
	CHECK_INT(ts_order_finish(o), 0);
	CHECK_INT(f.n, 3);
	CHECK_INT(f.futures, 1);
	CHECK_STR(f.future_path, "f.json");
	CHECK_INT(f.future_off, 77);
	CHECK_INT(f.future_t, 253402300799);
	ts_order_free(o);

	/* a gap of two hours: the record after it is kept aside until one
	 * near it shows it is not alone; then both count, in order */
	fed_t g = {0};
	ts_order_cb cb2 = {feed, future, NULL, &g};
	o = ts_order_new(&oo, &cb2);
	CHECK_INT(add(o, t0, 1), 0);
	CHECK_INT(add(o, t0 + 7260, 2), 0);
	CHECK_INT(g.n, 1);
	CHECK_INT(add(o, t0 + 7300, 3), 0);
	CHECK_INT(g.n, 3);
	CHECK_INT(g.minute[1], (t0 + 7260) / 60);
	CHECK_INT(g.minute[2], (t0 + 7300) / 60);
	CHECK_INT(ts_order_finish(o), 0);
	CHECK_INT(g.futures, 0);
	ts_order_free(o);
}

static void test_future_stream(void)
{
	fed_t f = {.wall = 60000000 + 600};
	ts_order_cb cb = {feed, future, wall, &f};
	ts_order_opts oo = {.mode = TS_ORDER_TIME, .lateness = 20, .future_secs = 3600};
	ts_order *o = ts_order_new(&oo, &cb);
	CHECK_INT(add(o, 60000000, 0), 0);
	CHECK_INT(add(o, 253402300799, 0), TS_EFUTURE);
	/* two hours ahead of the newest but not of the wall clock: counted */
	f.wall += 7200;
	CHECK_INT(add(o, 60000000 + 7200, 0), 0);
	CHECK_INT(f.n, 2);
	CHECK_INT(ts_order_finish(o), 0);
	CHECK_INT(f.futures, 0);
	ts_order_free(o);
}

static void test_hold_cap(void)
{
	fed_t f = {0};
	ts_order_cb cb = {feed, future, NULL, &f};
	ts_order_opts oo = {.mode = TS_ORDER_ANY, .lateness = 20, .hold_cap = 3};
	ts_order *o = ts_order_new(&oo, &cb);
	for (int i = 5; i >= 0; i--)
		add(o, 60000000 + i * 3000, 0);
	ts_order_stats st;
	ts_order_get_stats(o, &st);
	CHECK(st.capped);
	CHECK_INT(st.held_peak, 3);
	CHECK(!ts_order_holding(o));
	CHECK_INT(f.n, 6);
	CHECK_INT(ts_order_finish(o), 0);
	ts_order_free(o);
	CHECK_INT(ts_order_mode_parse("any"), TS_ORDER_ANY);
	CHECK_INT(ts_order_mode_parse("auto"), TS_ORDER_AUTO);
	CHECK_INT(ts_order_mode_parse("time"), TS_ORDER_TIME);
	CHECK_INT(ts_order_mode_parse("x"), -1);
}

TS_TESTS(test_any_sorts, test_auto, test_future_backfill, test_future_stream, test_hold_cap)
