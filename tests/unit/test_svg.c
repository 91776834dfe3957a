/* test_svg.c - the chart module: the x scale it states and draws by,
 * markers, ticks, breaks at missing values, the log scale switch, bad
 * input, and HTML escaping.
 */
#include <math.h>
#include <stdlib.h>

#include "../check.h"
#include "svg.h"

/* The number after `key="` in s, or NAN. */
static double attr(const char *s, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "%s=\"", key);
	const char *p = strstr(s, pat);
	return p ? strtod(p + strlen(pat), NULL) : NAN;
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

#define T0 (29470000LL) /* 2026-01-12T06:40Z, in minutes since the epoch */

static void test_scale_and_markers(void)
{
	double obs[120], exp_[120], lo[120], hi[120];
	for (int i = 0; i < 120; i++) {
		obs[i] = i >= 60 && i < 80 ? 40 : 5;
		exp_[i] = 5;
		lo[i] = 1;
		hi[i] = 10;
	}
	ts_chart c = {.t0 = T0, .n = 120, .observed = obs, .expected = exp_, .lo = lo, .hi = hi,
		      .start = T0 + 60, .end = T0 + 80, .width = 960, .height = 340, .font = 13,
		      .title = "a <chart>", .unit = "calls per minute"};
	ts_buf b = {0};
	CHECK_INT(ts_svg_chart(&c, &b), 0);
	double x0 = attr(b.p, "data-x0"), ppm = attr(b.p, "data-px-per-min");
	CHECK(x0 > 0 && ppm > 0);
	CHECK_INT((long long)attr(b.p, "data-t0"), T0);
	/* the Start line sits at x(T0 + 60), the End at x(T0 + 80) */
	const char *s = strstr(b.p, "class=\"ts-start\"");
	CHECK(s != NULL);
	CHECK(fabs(attr(s, "x1") - (x0 + 60 * ppm)) < 0.06);
	const char *e = strstr(b.p, "class=\"ts-end\"");
	CHECK(e != NULL);
	CHECK(fabs(attr(e, "x1") - (x0 + 80 * ppm)) < 0.06);
	CHECK(strstr(s, "Start 07:40") != NULL);
	/* the first observed point is at the middle of minute 0 */
	const char *o = strstr(b.p, "class=\"ts-observed\" d=\"M");
	CHECK(o != NULL);
	CHECK(fabs(strtod(o + strlen("class=\"ts-observed\" d=\"M"), NULL) - (x0 + 0.5 * ppm)) < 0.06);
	CHECK_INT(count(o, "L"), 119);
	/* ticks on round UTC minutes, the date under the first */
	CHECK(strstr(b.p, "data-time=\"2026-01-12T07:00:00Z\"") != NULL);
	CHECK(strstr(b.p, ">Jan 12</text>") != NULL);
	CHECK(strstr(b.p, "data-scale=\"linear\"") != NULL);
	CHECK(strstr(b.p, "aria-label=\"a &lt;chart&gt;\"") != NULL);
	CHECK(strstr(b.p, "class=\"ts-band\" d=\"M") != NULL);
	CHECK(strstr(b.p, "http") == NULL); /* no reference, not even a namespace URL */
	ts_buf_free(&b);
}

static void test_breaks_and_log(void)
{
	double obs[60], exp_[60];
	for (int i = 0; i < 60; i++) {
		obs[i] = i == 30 ? 900 : 2;
		exp_[i] = i >= 10 && i < 20 ? NAN : 2;
	}
	ts_chart c = {.t0 = T0, .n = 60, .observed = obs, .expected = exp_,
		      .start = INT64_MIN, .end = INT64_MIN};
	ts_buf b = {0};
	CHECK_INT(ts_svg_chart(&c, &b), 0);
	CHECK(strstr(b.p, "data-scale=\"log\"") != NULL);
	CHECK(strstr(b.p, "(log scale)") != NULL);
	CHECK(strstr(b.p, "class=\"ts-start\"") == NULL);
	const char *e = strstr(b.p, "class=\"ts-expected\" d=\"");
	CHECK(e != NULL);
	const char *end = e ? strchr(e + 24, '"') : NULL;
	size_t m = 0;
	for (const char *p = e; p && p < end; p++)
		m += *p == 'M';
	CHECK_INT(m, 2); /* broken once at the missing minutes */
	CHECK(strstr(b.p, "data-value=\"1000\"") != NULL); /* log ticks 0, 1, 3, 10, ... 1000 */
	ts_buf_free(&b);
}

static void test_bad_input(void)
{
	double obs[3] = {1, NAN, 2};
	ts_buf b = {0};
	CHECK_INT(ts_buf_puts(&b, "keep"), 0);
	ts_chart c = {.t0 = T0, .n = 3, .observed = obs, .start = INT64_MIN, .end = INT64_MIN};
	CHECK_INT(ts_svg_chart(&c, &b), TS_EINVAL);
	obs[1] = -1;
	CHECK_INT(ts_svg_chart(&c, &b), TS_EINVAL);
	c.n = 0;
	CHECK_INT(ts_svg_chart(&c, &b), TS_EINVAL);
	c.n = TS_CHART_MAX_MINUTES + 1;
	CHECK_INT(ts_svg_chart(&c, &b), TS_EINVAL);
	c.n = 3;
	c.observed = NULL;
	CHECK_INT(ts_svg_chart(&c, &b), TS_EINVAL);
	CHECK_STR(b.p, "keep");
	/* a buffer cap fails cleanly and leaves the buffer as it was */
	obs[1] = 1;
	c.observed = obs;
	ts_buf small = {.cap = 100};
	CHECK_INT(ts_buf_puts(&small, "x"), 0);
	CHECK_INT(ts_svg_chart(&c, &small), TS_ECAP);
	CHECK_STR(small.p, "x");
	ts_buf_free(&small);
	ts_buf_free(&b);
}

static void test_escape(void)
{
	ts_buf b = {0};
	const char *s = "a<b>&\"c'd";
	CHECK_INT(ts_html_escape(&b, s, strlen(s)), 0);
	CHECK_STR(b.p, "a&lt;b&gt;&amp;&quot;c&#39;d");
	ts_buf_free(&b);
}

TS_TESTS(test_scale_and_markers, test_breaks_and_log, test_bad_input, test_escape)
