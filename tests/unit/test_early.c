/* test_early.c - early Starts in a stream (early.c): when, within a minute,
 * a burst is judged, and that a regular series never Starts early.
 *
 * Eight days of one API at 8..12 calls a minute, records in time order,
 * as a stream (not sorted, opts.early), on the memory store. Then, in
 * minute BURST, 40 seconds with two extra calls each: the minute is
 * significant a quarter of a minute in, long before its last record. Or
 * a slow rise from BURST on, whose early Start must have the minute of
 * a backfill's (a sorted engine's) Start. */
#include <stdlib.h>

#include "../check.h"
#include "collect.h"
#include "engine.h"

#define DAY0 19997 /* 2024-10-01 */
#define BURST ((DAY0 + 8) * TS_MIN_PER_DAY + 600) /* 2024-10-09T10:00 */

static ts_record rec(int64_t t)
{
	ts_record r;
	memset(&r, 0, sizeof r);
	r.time = t;
	r.event_source = ts_str_c("ec2.amazonaws.com");
	r.event_name = ts_str_c("RunInstances");
	r.aws_region = ts_str_c("us-east-1");
	r.account = ts_str_c("111122223333");
	r.arn = ts_str_c("arn:aws:iam::111122223333:role/app");
	r.user_agent = ts_str_c("aws-cli/2.15.0");
	r.error_code = TS_STR_NULL;
	r.event_category = ts_str_c("Management");
	r.event_type = ts_str_c("AwsApiCall");
	r.read_only = TS_FALSE;
	r.management = TS_TRUE;
	return r;
}

static unsigned steady(int64_t minute) { return 8 + (unsigned)((minute * 7) % 5); }

/* Feed minutes [DAY0, until) in time order: the steady calls at seconds
 * 0, 5, 10, ..., and with burst, two more each second 0..39 of BURST. */
static void feed(ts_engine *e, int64_t until, int burst)
{
	for (int64_t m = DAY0 * TS_MIN_PER_DAY; m < until; m++)
		for (int s = 0; s < 60; s++) {
			int n = s % 5 == 0 && (unsigned)(s / 5) < steady(m);
			if (burst && m == BURST && s < 40)
				n += 2;
			for (int i = 0; i < n; i++) {
				ts_record r = rec(m * 60 + s);
				CHECK_INT(ts_engine_add(e, &r), 0);
			}
		}
}

/* A slow rise from BURST on: minute BURST + k has 2.5 (k + 1) calls more,
 * every minute's calls spread evenly over its seconds. */
static void feed_rise(ts_engine *e, int64_t until)
{
	for (int64_t m = DAY0 * TS_MIN_PER_DAY; m < until; m++) {
		unsigned n = steady(m) + (m >= BURST ? (unsigned)(2.5 * (double)(m - BURST + 1)) : 0);
		for (unsigned i = 0; i < n; i++) {
			ts_record r = rec(m * 60 + (int64_t)(i * 60 / n));
			CHECK_INT(ts_engine_add(e, &r), 0);
		}
	}
}

/* sorted: a backfill's engine; else a stream's with early Starts */
static ts_engine *new_engine(int sorted, ts_registry **reg, ts_store **store, out_t *out)
{
	ts_engine_opts o;
	ts_engine_opts_defaults(&o);
	o.sorted = sorted;
	o.early = !sorted;
	*reg = ts_registry_new(NULL);
	CHECK(*reg != NULL);
	CHECK_INT(ts_store_mem_new(*reg, NULL, store), 0);
	ts_engine *e = ts_engine_new(&o, *reg, *store, collect, out);
	CHECK(e != NULL);
	return e;
}

/* The burst's Start is written while its minute is still filling: decided
 * a quarter or half of a minute in (the newest eventTime then), not only
 * when the next minute begins (10:00:55, its last steady call), and dated
 * at the burst's minute. */
static void test_burst_judged_within_its_minute(void)
{
	ts_registry *reg;
	ts_store *store;
	out_t out = {0};
	ts_engine *e = new_engine(0, &reg, &store, &out);
	feed(e, BURST + 1, 1);
	CHECK_INT(ts_engine_checkpoint(e), 0);
	CHECK_INT(out.n, 1);
	ts_engine_stats st;
	ts_engine_get_stats(e, &st);
	CHECK_INT((int)st.early_starts, 1);
	const char *s = out.lines[0];
	CHECK(strstr(s, "\"state\":\"Start\"") != NULL);
	CHECK(strstr(s, "\"eventTime\":\"2024-10-09T10:00:00Z\"") != NULL);
	CHECK(strstr(s, "\"early\":true") != NULL);
	/* 10:00:14: at 10:00:15 the minute held 3 steady and 30 burst calls
	 * against about 10 expected */
	CHECK(strstr(s, "\"decisionEventTime\":\"2024-10-09T10:00:14Z\"") != NULL);
	ts_engine_free(e);
	ts_store_free(store);
	ts_registry_free(reg);
}

/* The same series without the burst: judged every quarter of a minute on
 * partial minutes, it never Starts, early or not. */
static void test_regular_series_no_early_start(void)
{
	ts_registry *reg;
	ts_store *store;
	out_t out = {0};
	ts_engine *e = new_engine(0, &reg, &store, &out);
	feed(e, BURST + 120, 0);
	CHECK_INT(ts_engine_checkpoint(e), 0);
	CHECK_INT(out.n, 0);
	ts_engine_stats st;
	ts_engine_get_stats(e, &st);
	CHECK_INT((int)st.early_starts, 0);
	CHECK_INT((int)st.starts, 0);
	ts_engine_free(e);
	ts_store_free(store);
	ts_registry_free(reg);
}

/* The same records through a stream's engine with early Starts (out[0])
 * and a backfill's (out[1]). */
static void run_both(void (*feed_fn)(ts_engine *, int64_t), int64_t until, out_t out[2])
{
	memset(out, 0, 2 * sizeof *out);
	for (int sorted = 0; sorted < 2; sorted++) {
		ts_registry *reg;
		ts_store *store;
		ts_engine *e = new_engine(sorted, &reg, &store, &out[sorted]);
		feed_fn(e, until);
		CHECK_INT(sorted ? ts_engine_finish(e) : ts_engine_checkpoint(e), 0);
		ts_engine_free(e);
		ts_store_free(store);
		ts_registry_free(reg);
	}
}

static const char *start_minute(const out_t *out)
{
	for (int i = 0; i < out->n && i < COLLECT_MAX; i++)
		if (strstr(out->lines[i], "\"state\":\"Start\""))
			return strstr(out->lines[i], "\"eventTime\":\"");
	return NULL;
}

/* A slow rise judged on a partial newest minute: fewer calls in it lower
 * the multiple of a late split, and the copy of the detector dated this
 * one a minute before the closed minutes do (10:01 against 10:02,
 * decided at 10:06:44). The early Start waits until the minute, scaled to
 * a whole one, dates it the same, and then has the backfill's minute. */
static void test_slow_rise_dated_as_closed(void)
{
	static out_t out[2];
	run_both(feed_rise, BURST + 60, out);
	const char *early = start_minute(&out[0]), *closed = start_minute(&out[1]);
	CHECK(early != NULL && closed != NULL);
	CHECK(strstr(out[0].lines[0], "\"early\":true") != NULL);
	CHECK(strncmp(closed, "\"eventTime\":\"2024-10-09T10:02:00Z\"", 34) == 0);
	CHECK(early && closed && strncmp(early, closed, 34) == 0);
}

/* A thin series, a call every third minute (at second 20), that from
 * BURST on gets 2 and 3 calls a minute by turns (at seconds 10 and 30,
 * and 50): a rise of about x7.5 that reaches min_count in a 5-minute
 * window only in its 8th minute. Both engines date it at BURST; the
 * stream's early Start, made by the rise scan, is decided in the rise's
 * 5th minute (10:04:30; the fixed windows alone: 10:06:20). */
static void feed_thin(ts_engine *e, int64_t until)
{
	for (int64_t m = DAY0 * TS_MIN_PER_DAY; m < until; m++) {
		int n = m >= BURST ? 2 + (int)((m - BURST) % 2) : 0;
		for (int s = 0; s < 60; s++) {
			int k = (s == 20 && m % 3 == 0) + (m >= BURST && (s == 10 || s == 30)) +
				(n == 3 && s == 50);
			for (int i = 0; i < k; i++) {
				ts_record r = rec(m * 60 + s);
				r.event_source = ts_str_c("iam.amazonaws.com");
				r.event_name = ts_str_c("UpdateAssumeRolePolicy");
				CHECK_INT(ts_engine_add(e, &r), 0);
			}
		}
	}
}

static void test_thin_rise_scanned(void)
{
	static out_t out[2];
	run_both(feed_thin, BURST + 30, out);
	const char *early = start_minute(&out[0]), *closed = start_minute(&out[1]);
	CHECK(early != NULL && closed != NULL);
	CHECK(strstr(out[0].lines[0], "\"early\":true") != NULL);
	CHECK(closed && strncmp(closed, "\"eventTime\":\"2024-10-09T10:00:00Z\"", 34) == 0);
	CHECK(early && closed && strncmp(early, closed, 34) == 0);
	const char *dec = strstr(out[0].lines[0], "\"decisionEventTime\":\"");
	CHECK(dec != NULL);
	CHECK(dec && strncmp(dec + 21, "2024-10-09T10:05:00Z", 20) < 0);
}

TS_TESTS(test_burst_judged_within_its_minute, test_regular_series_no_early_start,
	 test_slow_rise_dated_as_closed, test_thin_rise_scanned)
