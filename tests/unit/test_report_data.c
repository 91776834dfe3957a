/* test_report_data.c - the numbers behind a report chart, on a memory
 * store filled by hand: a steady series of 20 calls a minute for nine
 * days, then 200 a minute for half an hour. The expected rate and band
 * must surround the steady level, the week-before line must be the same
 * minutes seven days earlier, the detector replay must decide the Start
 * at its first unusual minute, and a series still warming up has none.
 */
#include <math.h>
#include <stdlib.h>

#include "../check.h"
#include "insight_read.h"
#include "report_data.h"

#define DAY0 20460 /* 2026-01-05, a Monday */

static uint32_t level(int64_t t, int64_t spike)
{
	/* steady, with a small deterministic wobble so the model sees variance */
	uint32_t v = 20 + (uint32_t)((t * 7919) % 9) - 4;
	return t >= spike && t < spike + 30 ? 200 : v;
}

static void test_fill(void)
{
	ts_registry *reg = ts_registry_new(NULL);
	ts_store *s = NULL;
	ts_store_opts so = {.retention_days = 60};
	CHECK_INT(ts_store_mem_new(reg, &so, &s), 0);
	uint32_t pid, aid;
	CHECK_INT(ts_registry_partition(reg, ts_str_c("111122223333"), ts_str_c("us-east-1"), &pid), 0);
	CHECK_INT(ts_registry_api(reg, pid, ts_str_c("ec2.amazonaws.com"), ts_str_c("RunInstances"), 0,
				  &aid), 0);
	const ts_api *api = ts_registry_get_api(reg, aid);
	uint32_t calls = api->calls;
	int64_t spike = (DAY0 + 8) * TS_MIN_PER_DAY + 600; /* day 8, 10:00 */
	for (int64_t t = (int64_t)DAY0 * TS_MIN_PER_DAY; t < (DAY0 + 9) * TS_MIN_PER_DAY; t++) {
		ts_count c = {calls, level(t, spike)};
		CHECK_INT(s->ops->add_minute(s, pid, t, &c, 1), 0);
	}
	ts_event ev = {0};
	snprintf(ev.account, sizeof ev.account, "111122223333");
	snprintf(ev.region, sizeof ev.region, "us-east-1");
	snprintf(ev.source, sizeof ev.source, "ec2.amazonaws.com");
	snprintf(ev.name, sizeof ev.name, "RunInstances");
	ev.type = TS_CALL_RATE;
	ts_profile p;
	ts_profile_defaults(&p);
	ts_rdata d = {0};
	CHECK_INT(ts_rdata_fill(&d, &ev, spike, spike + 30, 0, 120, 60, &p, reg, s), 0);
	CHECK_INT(d.t0, spike - 120);
	CHECK_INT(d.n, 120 + 30 + 60);
	CHECK(d.judged);
	for (size_t i = 0; i < d.n; i++) {
		int64_t t = d.t0 + (int64_t)i;
		CHECK(d.observed[i] == level(t, spike));
		CHECK(d.lastweek[i] == level(t - 7 * TS_MIN_PER_DAY, spike));
		CHECK(d.expected[i] > 17 && d.expected[i] < 23);
		CHECK(d.lo[i] <= d.expected[i] && d.expected[i] <= d.hi[i]);
		CHECK(d.lo[i] >= 5 && d.hi[i] <= 40);
	}
	CHECK(d.peak == 200);
	CHECK(d.peak_minute >= spike && d.peak_minute < spike + 30);
	CHECK(d.decided >= spike && d.decided < spike + 5);
	CHECK(d.replay_p < p.p_start);

	/* the same minutes, seen as if the API had started on day 6: warming up */
	api = ts_registry_get_api(reg, aid);
	((ts_api *)api)->first_minute = (DAY0 + 6) * TS_MIN_PER_DAY;
	CHECK_INT(ts_rdata_fill(&d, &ev, spike, spike + 30, 0, 120, 60, &p, reg, s), 0);
	CHECK(!d.judged);
	CHECK(isnan(d.expected[0]) && isnan(d.lo[0]));
	CHECK(d.decided == INT64_MIN);

	/* a series the store never had: zeros, not an error */
	snprintf(ev.name, sizeof ev.name, "TerminateInstances");
	CHECK_INT(ts_rdata_fill(&d, &ev, spike, INT64_MIN, 0, 60, 60, &p, reg, s), 0);
	CHECK_INT(d.n, 60 + 60 + 60); /* an open episode shows an hour after its Start */
	CHECK(d.observed[0] == 0 && !d.judged);
	ts_rdata_clear(&d);
	ts_store_free(s);
	ts_registry_free(reg);
}

TS_TESTS(test_fill)
