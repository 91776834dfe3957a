/* test_engine.c - records in, insight events out, on the memory store,
 * with records made in memory (the CLI tests cover files). */
#include <math.h>
#include <stdlib.h>

#include "../check.h"
#include "collect.h"
#include "engine.h"
#include "insight.h"

/* An engine with default options on a fresh registry and memory store,
 * collecting its events. */
typedef struct fixture {
	ts_registry *reg;
	ts_store *store;
	ts_engine *e;
	out_t out;
} fixture;

static void fixture_init(fixture *f)
{
	memset(f, 0, sizeof *f);
	ts_engine_opts o;
	ts_engine_opts_defaults(&o);
	f->reg = ts_registry_new(NULL);
	CHECK(f->reg != NULL);
	CHECK_INT(ts_store_mem_new(f->reg, NULL, &f->store), 0);
	f->e = ts_engine_new(&o, f->reg, f->store, collect, &f->out);
	CHECK(f->e != NULL);
}

static void fixture_free(fixture *f)
{
	ts_engine_free(f->e);
	ts_store_free(f->store);
	ts_registry_free(f->reg);
}

static ts_record rec(int64_t minute, int sec, const char *name, const char *arn, const char *err)
{
	ts_record r;
	memset(&r, 0, sizeof r);
	r.time = minute * 60 + sec;
	r.event_source = ts_str_c("ec2.amazonaws.com");
	r.event_name = ts_str_c(name);
	r.aws_region = ts_str_c("us-east-1");
	r.account = ts_str_c("111122223333");
	r.arn = ts_str_c(arn);
	r.user_agent = ts_str_c("aws-cli/2.15.0");
	r.error_code = err ? ts_str_c(err) : TS_STR_NULL;
	r.event_category = ts_str_c("Management");
	r.event_type = ts_str_c("AwsApiCall");
	r.read_only = TS_FALSE;
	r.management = TS_TRUE;
	return r;
}

/* Steady counts 8..12 per minute, from 2024-10-01 (day 19997). */
static unsigned steady(int64_t minute) { return 8 + (unsigned)((minute * 7) % 5); }

#define DAY0 19997
#define SPIKE_DAY (DAY0 + 8)
#define SPIKE_MIN (SPIKE_DAY * TS_MIN_PER_DAY + 600)

static void run(ts_engine *e, int spike, int error_burst)
{
	for (int64_t m = DAY0 * TS_MIN_PER_DAY; m < (DAY0 + 9) * TS_MIN_PER_DAY; m++) {
		unsigned n = steady(m);
		for (unsigned i = 0; i < n; i++) {
			ts_record r = rec(m, (int)(i * 5 % 60), "RunInstances",
					  i % 3 ? "arn:aws:iam::111122223333:role/app" : "arn:aws:iam::111122223333:user/ops",
					  NULL);
			CHECK_INT(ts_engine_add(e, &r), 0);
		}
		int in_spike = m >= SPIKE_MIN && m < SPIKE_MIN + 15;
		if (spike && in_spike)
			for (int i = 0; i < 100; i++) {
				ts_record r = rec(m, i % 60, "RunInstances", "arn:aws:iam::111122223333:user/x", NULL);
				ts_engine_add(e, &r);
			}
		if (error_burst && in_spike)
			for (int i = 0; i < 6; i++) {
				ts_record r = rec(m, i, "RunInstances", "arn:aws:iam::111122223333:role/app",
						  "Client.UnauthorizedOperation");
				ts_engine_add(e, &r);
			}
		/* a read-only API that is never judged for its call rate */
		ts_record ro = rec(m, 30, "DescribeInstances", "arn:aws:iam::111122223333:role/app", NULL);
		ro.read_only = TS_TRUE;
		ts_engine_add(e, &ro);
	}
}

static const char *field(const char *line, const char *key, char *buf, size_t n)
{
	const char *p = strstr(line, key);
	if (!p)
		return "";
	p += strlen(key);
	size_t i = 0;
	while (p[i] && p[i] != ',' && p[i] != '}' && i + 1 < n) {
		buf[i] = p[i];
		i++;
	}
	buf[i] = '\0';
	return buf;
}

static void test_steady_no_insight(void)
{
	fixture f;
	fixture_init(&f);
	ts_engine *e = f.e;
	run(e, 0, 0);
	CHECK_INT(ts_engine_finish(e), 0);
	CHECK_INT(f.out.n, 0);
	ts_engine_stats st;
	ts_engine_get_stats(e, &st);
	CHECK(st.fits > 0);
	CHECK_INT(st.late, 0);
	fixture_free(&f);
}

static void test_spike_insight(void)
{
	fixture f;
	fixture_init(&f);
	ts_engine *e = f.e;
	run(e, 1, 0);
	CHECK_INT(ts_engine_finish(e), 0);
	CHECK_INT(f.out.n, 2);
	char b1[128], b2[128];
	const char *start = f.out.lines[0], *end = f.out.lines[1];
	CHECK(strstr(start, "\"eventTime\":\"2024-10-09T10:00:00Z\"") != NULL);
	CHECK(strstr(start, "\"state\":\"Start\"") != NULL);
	CHECK(strstr(start, "\"insightType\":\"ApiCallRateInsight\"") != NULL);
	CHECK(strstr(start, "\"eventName\":\"RunInstances\"") != NULL);
	CHECK(strstr(end, "\"state\":\"End\"") != NULL);
	CHECK(strstr(end, "\"eventTime\":\"2024-10-09T10:15:00Z\"") != NULL);
	CHECK_STR(field(end, "\"insightDuration\":", b1, sizeof b1), "15");
	/* baseline window: 00:00 seven days before the Start, to the Start */
	int64_t from = (SPIKE_DAY - 7) * TS_MIN_PER_DAY;
	uint64_t count = 0;
	for (int64_t m = from; m < SPIKE_MIN; m++)
		count += steady(m);
	CHECK_STR(field(start, "\"baselineDuration\":", b1, sizeof b1), "10680");
	char want[64];
	/* Java's spelling of the average rounded to 10 decimals */
	snprintf(want, sizeof want, "%.10f", (double)count / 10680);
	ts_java_double(strtod(want, NULL), want);
	CHECK_STR(field(start, "\"baseline\":{\"average\":", b2, sizeof b2), want);
	/* the Start's insight minute: steady + 100 */
	snprintf(want, sizeof want, "%u.0", steady(SPIKE_MIN) + 100);
	CHECK_STR(field(start, "\"insight\":{\"average\":", b2, sizeof b2), want);
	/* the new principal leads the insight attributions */
	CHECK(strstr(start, "\"insight\":[{\"value\":\"arn:aws:iam::111122223333:user/x\",\"average\":") != NULL);
	/* the same sharedEventID in both */
	CHECK_STR(field(start, "\"sharedEventID\":", b1, sizeof b1),
		  field(end, "\"sharedEventID\":", b2, sizeof b2));
	fixture_free(&f);
}

/* Six new callers in the spike: the insight window's attributions list
 * the top five, no more, no fewer. */
static void test_top_five(void)
{
	fixture f;
	fixture_init(&f);
	for (int64_t m = DAY0 * TS_MIN_PER_DAY; m < (DAY0 + 9) * TS_MIN_PER_DAY; m++) {
		for (unsigned i = 0; i < steady(m); i++) {
			ts_record r = rec(m, (int)(i * 5 % 60), "RunInstances",
					  "arn:aws:iam::111122223333:role/app", NULL);
			CHECK_INT(ts_engine_add(f.e, &r), 0);
		}
		if (m >= SPIKE_MIN && m < SPIKE_MIN + 15)
			for (int i = 0; i < 120; i++) {
				char arn[64];
				snprintf(arn, sizeof arn, "arn:aws:iam::111122223333:user/x%d", i % 6);
				ts_record r = rec(m, i % 60, "RunInstances", arn, NULL);
				CHECK_INT(ts_engine_add(f.e, &r), 0);
			}
	}
	CHECK_INT(ts_engine_finish(f.e), 0);
	CHECK_INT(f.out.n, 2);
	for (int k = 0; k < f.out.n && k < 2; k++) {
		int n = 0;
		for (const char *p = f.out.lines[k]; (p = strstr(p, ":user/x")) != NULL; p++)
			n++;
		CHECK_INT(n, 5);
	}
	fixture_free(&f);
}

/* Data events (--include-data-events): the call rate counts reads too, as
 * AWS's data-event Insights do, and the event says sourceEventCategory
 * "Data"; the same reads as management events are not judged. */
static void test_data_event_reads(void)
{
	for (int data = 0; data < 2; data++) {
		fixture f;
		memset(&f, 0, sizeof f);
		ts_engine_opts o;
		ts_engine_opts_defaults(&o);
		o.include_data = 1;
		f.reg = ts_registry_new(NULL);
		CHECK_INT(ts_store_mem_new(f.reg, NULL, &f.store), 0);
		f.e = ts_engine_new(&o, f.reg, f.store, collect, &f.out);
		CHECK(f.e != NULL);
		if (!f.e) {
			fixture_free(&f);
			return;
		}
		for (int64_t m = DAY0 * TS_MIN_PER_DAY; m < (DAY0 + 9) * TS_MIN_PER_DAY; m++) {
			unsigned n = steady(m) + (m >= SPIKE_MIN && m < SPIKE_MIN + 15 ? 100 : 0);
			for (unsigned i = 0; i < n; i++) {
				ts_record r = rec(m, (int)(i % 60), "GetObject",
						  "arn:aws:iam::111122223333:role/app", NULL);
				r.event_source = ts_str_c("s3.amazonaws.com");
				r.read_only = TS_TRUE;
				if (data) {
					r.event_category = ts_str_c("Data");
					r.management = TS_FALSE;
				}
				CHECK_INT(ts_engine_add(f.e, &r), 0);
			}
		}
		CHECK_INT(ts_engine_finish(f.e), 0);
		if (!data) {
			CHECK_INT(f.out.n, 0);
		} else {
			CHECK_INT(f.out.n, 2);
			const char *start = f.out.lines[0];
			CHECK(strstr(start, "\"eventSource\":\"s3.amazonaws.com\",\"eventName\":"
					    "\"GetObject\",\"insightType\":\"ApiCallRateInsight\","
					    "\"sourceEventCategory\":\"Data\"") != NULL);
			char b[64], want[64];
			snprintf(want, sizeof want, "%u.0", steady(SPIKE_MIN) + 100);
			CHECK_STR(field(start, "\"insight\":{\"average\":", b, sizeof b), want);
			CHECK(strstr(f.out.lines[1], "\"state\":\"End\"") != NULL);
		}
		fixture_free(&f);
	}
}

static void test_error_insight(void)
{
	fixture f;
	fixture_init(&f);
	ts_engine *e = f.e;
	run(e, 0, 1);
	CHECK_INT(ts_engine_finish(e), 0);
	CHECK_INT(f.out.n, 2);
	CHECK(strstr(f.out.lines[0], "\"insightType\":\"ApiErrorRateInsight\",\"errorCode\":\"Client.UnauthorizedOperation\"") != NULL);
	CHECK(strstr(f.out.lines[0], "\"attribute\":\"errorCode\"") == NULL);
	fixture_free(&f);
}

static void test_ignored_and_skipped(void)
{
	fixture f;
	fixture_init(&f);
	ts_engine *e = f.e;
	ts_record r = rec(28800000, 0, "PutObject", "a", NULL);
	r.event_category = ts_str_c("Data");
	CHECK_INT(ts_engine_add(e, &r), 1);
	r = rec(28800000, 0, "X", "a", NULL);
	r.event_type = ts_str_c("AwsCloudTrailInsight");
	CHECK_INT(ts_engine_add(e, &r), 1);
	r = rec(28800000, 0, "X", "a", NULL);
	r.account = TS_STR_NULL;
	CHECK_INT(ts_engine_add(e, &r), TS_EFIELD);
	/* names that would not survive the store's "ACCOUNT:REGION" listing
	 * and key hash tags: a restart would read another partition's state */
	r = rec(28800000, 0, "X", "a", NULL);
	r.aws_region = ts_str_c("us-east-1:x");
	CHECK_INT(ts_engine_add(e, &r), TS_EFIELD);
	r = rec(28800000, 0, "X", "a", NULL);
	r.account = (ts_str){"1111\0002222", 9};
	CHECK_INT(ts_engine_add(e, &r), TS_EFIELD);
	r = rec(28800000, 0, "X", "a", NULL);
	r.aws_region = ts_str_c("{us-east-1}");
	CHECK_INT(ts_engine_add(e, &r), TS_EFIELD);
	ts_engine_stats st;
	ts_engine_get_stats(e, &st);
	CHECK_INT(st.ignored_data, 1);
	CHECK_INT(st.ignored_insight, 1);
	CHECK_INT(st.skipped_fields, 4);
	CHECK_INT(st.counted, 0);
	fixture_free(&f);
}

/* The spike run, hour by hour as files "hNNN", from minute m0 to m1. */
static void run_files(ts_engine *e, int64_t m0, int64_t m1)
{
	for (int64_t h = m0; h < m1; h += 60) {
		char name[32];
		snprintf(name, sizeof name, "h%lld", (long long)(h / 60));
		ts_file_id id = {name, 100, 1700000000};
		CHECK_INT(ts_engine_file_begin(e, &id), 0);
		for (int64_t m = h; m < h + 60 && m < m1; m++) {
			for (unsigned i = 0; i < steady(m); i++) {
				ts_record r = rec(m, (int)(i * 5 % 60), "RunInstances",
						  "arn:aws:iam::111122223333:role/app", NULL);
				ts_engine_add(e, &r);
			}
			if (m >= SPIKE_MIN && m < SPIKE_MIN + 15)
				for (int i = 0; i < 100; i++) {
					ts_record r = rec(m, i % 60, "RunInstances",
							  "arn:aws:iam::111122223333:user/x", NULL);
					ts_engine_add(e, &r);
				}
		}
		CHECK_INT(ts_engine_file_end(e), 0);
	}
}

/* An engine stopped after a checkpoint in the middle of an episode (its
 * Start made and held) and a new engine on the same store, given every
 * file again: the files done are skipped, the state is restored, and the
 * events are exactly those of one uninterrupted run. */
static void test_checkpoint_resume(void)
{
	int64_t m0 = DAY0 * TS_MIN_PER_DAY, m1 = (DAY0 + 9) * TS_MIN_PER_DAY;
	int64_t cut = SPIKE_MIN + 60 - SPIKE_MIN % 60 + 60; /* two hours into it */
	fixture one;
	fixture_init(&one);
	run_files(one.e, m0, m1);
	CHECK_INT(ts_engine_finish(one.e), 0);
	CHECK_INT(one.out.n, 2);

	fixture f;
	fixture_init(&f);
	run_files(f.e, m0, cut);
	CHECK_INT(ts_engine_checkpoint(f.e), 0);
	CHECK_INT(f.out.n, 0); /* sorted: held, and saved with the state */
	ts_engine_free(f.e);
	f.out.n = 0;
	ts_engine_opts o;
	ts_engine_opts_defaults(&o);
	f.e = ts_engine_new(&o, f.reg, f.store, collect, &f.out);
	CHECK(f.e != NULL);
	if (!f.e)
		goto out;
	run_files(f.e, m0, m1);
	CHECK_INT(ts_engine_finish(f.e), 0);
	ts_engine_stats st;
	ts_engine_get_stats(f.e, &st);
	CHECK_INT(st.restored, 1);
	CHECK(st.already_counted > 0);
	CHECK_INT(f.out.n, one.out.n);
	for (int i = 0; i < f.out.n && i < one.out.n; i++)
		CHECK_STR(f.out.lines[i], one.out.lines[i]);
	/* a third engine reads nothing new and writes nothing */
	ts_engine_free(f.e);
	f.out.n = 0;
	f.e = ts_engine_new(&o, f.reg, f.store, collect, &f.out);
	run_files(f.e, m0, m1);
	CHECK_INT(ts_engine_finish(f.e), 0);
	CHECK_INT(f.out.n, 0);
	ts_engine_get_stats(f.e, &st);
	CHECK_INT(st.counted, 0);
out:
	fixture_free(&f);
	fixture_free(&one);
}

/* The spike run in files of `step` minutes from minute m0 to m1 (the same
 * names for the same files on every call). With stop_open, checkpoint and
 * return the end of the first file after which an episode is open. */
static int64_t run_steps(ts_engine *e, int64_t m0, int64_t m1, int step, int stop_open)
{
	for (int64_t f = m0; f < m1; f += step) {
		char name[32];
		snprintf(name, sizeof name, "m%lld", (long long)f);
		ts_file_id id = {name, 100, 1700000000};
		CHECK_INT(ts_engine_file_begin(e, &id), 0);
		for (int64_t m = f; m < f + step && m < m1; m++) {
			for (unsigned i = 0; i < steady(m); i++) {
				ts_record r = rec(m, (int)(i * 5 % 60), "RunInstances",
						  "arn:aws:iam::111122223333:role/app", NULL);
				ts_engine_add(e, &r);
			}
			if (m >= SPIKE_MIN && m < SPIKE_MIN + 15)
				for (int i = 0; i < 100; i++) {
					ts_record r = rec(m, i % 60, "RunInstances",
							  "arn:aws:iam::111122223333:user/x", NULL);
					ts_engine_add(e, &r);
				}
		}
		CHECK_INT(ts_engine_file_end(e), 0);
		if (stop_open && ts_engine_open_insights(e) > 0) {
			CHECK_INT(ts_engine_checkpoint(e), 0);
			return f + step;
		}
	}
	return m1;
}

/* Events written as they are made (not sorted): an engine stopped right
 * after the checkpoint that wrote a Start, with its episode still open,
 * and a new engine on the same store given every file again. The new one
 * writes only the End, which carries the Start's sharedEventID and the
 * statistics of one uninterrupted run: the Start minute, baseline and
 * attributions restored from the saved episode. */
static void test_resume_mid_episode(void)
{
	int64_t m0 = DAY0 * TS_MIN_PER_DAY, m1 = (DAY0 + 9) * TS_MIN_PER_DAY;
	ts_engine_opts o;
	ts_engine_opts_defaults(&o);
	o.sorted = 0;
	fixture one;
	fixture_init(&one);
	ts_engine_free(one.e);
	one.e = ts_engine_new(&o, one.reg, one.store, collect, &one.out);
	CHECK(one.e != NULL);
	fixture f;
	fixture_init(&f);
	ts_engine_free(f.e);
	f.e = ts_engine_new(&o, f.reg, f.store, collect, &f.out);
	CHECK(f.e != NULL);
	if (!one.e || !f.e)
		goto out;
	run_steps(one.e, m0, m1, 5, 0);
	CHECK_INT(ts_engine_finish(one.e), 0);
	CHECK_INT(one.out.n, 2);

	int64_t cut = run_steps(f.e, m0, m1, 5, 1);
	/* cut between the Start and its End: the Start written, one open */
	CHECK(cut > SPIKE_MIN && cut < m1);
	CHECK_INT(ts_engine_open_insights(f.e), 1);
	CHECK_INT(f.out.n, 1);
	CHECK(strstr(f.out.lines[0], "\"state\":\"Start\"") != NULL);
	CHECK_STR(f.out.lines[0], one.out.lines[0]);
	ts_engine_free(f.e); /* stopped: nothing more is saved */
	f.e = ts_engine_new(&o, f.reg, f.store, collect, &f.out);
	CHECK(f.e != NULL);
	if (!f.e)
		goto out;
	run_steps(f.e, m0, m1, 5, 0);
	CHECK_INT(ts_engine_finish(f.e), 0);
	ts_engine_stats st;
	ts_engine_get_stats(f.e, &st);
	CHECK_INT(st.restored, 1);
	CHECK_INT(st.starts, 0);
	CHECK_INT(st.ends, 1);
	CHECK_INT(f.out.n, 2);
	if (f.out.n == 2 && one.out.n == 2) {
		char b1[128], b2[128];
		const char *end = f.out.lines[1];
		CHECK(strstr(end, "\"state\":\"End\"") != NULL);
		CHECK_STR(field(end, "\"sharedEventID\":", b1, sizeof b1),
			  field(f.out.lines[0], "\"sharedEventID\":", b2, sizeof b2));
		CHECK(strstr(end, "\"eventTime\":\"2024-10-09T10:15:00Z\"") != NULL);
		CHECK_STR(field(end, "\"insightDuration\":", b1, sizeof b1), "15");
		/* the whole End, statistics included, as one run writes it */
		CHECK_STR(end, one.out.lines[1]);
	}
out:
	fixture_free(&f);
	fixture_free(&one);
}

/* A memory store that counts the states put between two flushes. */
static const ts_store_ops *mem_ops;
static size_t states_pending, states_most, states_all, flushes;

static int counting_put_state(ts_store *s, uint32_t partition, const void *blob, size_t len,
			      const ts_file_id *files, size_t nfiles)
{
	states_pending++;
	states_all++;
	return mem_ops->put_state(s, partition, blob, len, files, nfiles);
}

static int counting_flush(ts_store *s)
{
	flushes++;
	states_most = states_pending > states_most ? states_pending : states_most;
	states_pending = 0;
	return mem_ops->flush(s);
}

/* Finishing closes the open minutes of every partition; their states go
 * to the store in slices of at most 64 partitions, each flushed before
 * the next is made, not all at once. */
static void test_finish_in_slices(void)
{
	fixture f;
	fixture_init(&f);
	static ts_store_ops ops;
	mem_ops = f.store->ops;
	ops = *mem_ops;
	ops.put_state = counting_put_state;
	ops.flush = counting_flush;
	ops.flush_begin = NULL;
	f.store->ops = &ops;
	enum { NPARTS = 150 };
	ts_file_id id = {"org.json", 100, 1700000000};
	CHECK_INT(ts_engine_file_begin(f.e, &id), 0);
	int64_t m0 = DAY0 * TS_MIN_PER_DAY;
	for (int p = 0; p < NPARTS; p++)
		for (int64_t m = m0; m < m0 + 5; m++) {
			char acct[16];
			snprintf(acct, sizeof acct, "%012d", 100000 + p);
			ts_record r = rec(m, 1, "RunInstances", "arn:aws:iam::1:role/app", NULL);
			r.account = ts_str_c(acct);
			CHECK_INT(ts_engine_add(f.e, &r), 0);
		}
	CHECK_INT(ts_engine_file_end(f.e), 0);
	CHECK_INT(ts_engine_checkpoint(f.e), 0); /* as a backfill's last one */
	states_pending = states_most = states_all = flushes = 0;
	CHECK_INT(ts_engine_finish(f.e), 0);
	CHECK(states_all >= NPARTS);
	CHECK(states_most > 0 && states_most <= 64);
	CHECK(flushes >= NPARTS / 64 + 1);
	/* every partition's minutes were closed and stored */
	uint32_t pid, calls[3];
	CHECK_INT(ts_registry_partition(f.reg, ts_str_c("000000100149"), ts_str_c("us-east-1"), &pid),
		  0);
	const ts_partition *part = ts_registry_get_partition(f.reg, pid);
	CHECK_INT(f.store->ops->read_counts(f.store, part->metrics[0], m0 + 2, 3, calls), 0);
	CHECK_INT(calls[0] + calls[1] + calls[2], 3);
	f.store->ops = mem_ops;
	fixture_free(&f);
}

/* A stream's idle closes (ts_engine_close_open) close each partition
 * through its newest record, never past it: the second of two idle times
 * with records of another partition alone between them leaves the first
 * partition's next minutes open, so their records, when they come, are on
 * time (as in a backfill), not late. Advancing by lateness + 1 at each idle
 * time closed 21 minutes past the records every time. */
static void test_close_open_twice(void)
{
	fixture f;
	memset(&f, 0, sizeof f);
	ts_engine_opts o;
	ts_engine_opts_defaults(&o);
	o.sorted = 0;
	f.reg = ts_registry_new(NULL);
	CHECK(f.reg != NULL);
	CHECK_INT(ts_store_mem_new(f.reg, NULL, &f.store), 0);
	f.e = ts_engine_new(&o, f.reg, f.store, collect, &f.out);
	CHECK(f.e != NULL);
	int64_t m0 = (int64_t)DAY0 * TS_MIN_PER_DAY;
	static const char *const regions[2] = {"us-east-1", "eu-west-1"};
	for (int64_t m = m0; m <= m0 + 10; m++)
		for (int k = 0; k < 2; k++) {
			ts_record r = rec(m, 5, "RunInstances", "arn:aws:iam::1:role/app", NULL);
			r.aws_region = ts_str_c(regions[k]);
			CHECK_INT(ts_engine_add(f.e, &r), 0);
		}
	CHECK_INT(ts_engine_close_open(f.e), 0);
	/* only the second partition reads on, then the stream is idle again */
	for (int64_t m = m0 + 11; m <= m0 + 15; m++) {
		ts_record r = rec(m, 5, "RunInstances", "arn:aws:iam::1:role/app", NULL);
		r.aws_region = ts_str_c(regions[1]);
		CHECK_INT(ts_engine_add(f.e, &r), 0);
	}
	CHECK_INT(ts_engine_close_open(f.e), 0);
	CHECK_INT(ts_engine_close_open(f.e), 0); /* nothing new: nothing moves */
	/* the first partition's next minute is on time */
	ts_record r = rec(m0 + 11, 5, "RunInstances", "arn:aws:iam::1:role/app", NULL);
	CHECK_INT(ts_engine_add(f.e, &r), 0);
	ts_engine_stats st;
	ts_engine_get_stats(f.e, &st);
	CHECK_INT(st.late, 0);
	CHECK_INT(st.counted, 11 * 2 + 5 + 1);
	fixture_free(&f);
}

TS_TESTS(test_top_five, test_close_open_twice, test_data_event_reads, test_steady_no_insight, test_spike_insight, test_error_insight, test_ignored_and_skipped,
	 test_checkpoint_resume, test_resume_mid_episode, test_finish_in_slices)
