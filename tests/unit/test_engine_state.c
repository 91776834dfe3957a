/* test_engine_state.c - a partition's checkpoint state (engine_state.c):
 * a state saved in the middle of an episode, with events held, restores
 * into an engine that then writes what the engine that never stopped
 * writes; a restored state saves to the same length; every truncation of
 * it is refused (TS_ESTORE, naming the key) and every single-byte
 * corruption is refused or accepted as a state the engine can run on,
 * without a crash (run under ASan and UBSan). */
#include "../check.h"
#include "engine_int.h"

#define ACCT "111122223333"
#define REGION "us-east-1"

typedef struct events {
	ts_buf all; /* every event, one per line */
	int n;
} events;

static int collect(void *ctx, const char *json, size_t len)
{
	events *ev = ctx;
	ev->n++;
	if (ts_buf_add(&ev->all, json, len) || ts_buf_add(&ev->all, "\n", 1))
		return TS_ENOMEM;
	return 0;
}

static ts_record rec(int64_t minute, int sec, const char *arn, const char *err)
{
	ts_record r;
	memset(&r, 0, sizeof r);
	r.time = minute * 60 + sec;
	r.event_source = ts_str_c("ec2.amazonaws.com");
	r.event_name = ts_str_c("RunInstances");
	r.aws_region = ts_str_c(REGION);
	r.account = ts_str_c(ACCT);
	r.arn = ts_str_c(arn);
	r.user_agent = ts_str_c(sec % 2 ? "aws-cli/2.15.0" : "Boto3/1.34.0");
	r.error_code = err ? ts_str_c(err) : TS_STR_NULL;
	r.event_category = ts_str_c("Management");
	r.event_type = ts_str_c("AwsApiCall");
	r.read_only = TS_FALSE;
	r.management = TS_TRUE;
	return r;
}

static const int64_t day0 = 19997 * (int64_t)TS_MIN_PER_DAY; /* 2024-10-01 */
#define SPIKE (day0 + 8 * TS_MIN_PER_DAY + 600)

/* Eight days of steady calls, then a burst of calls and errors, up to
 * minute `to` (exclusive), into e. 0 or the engine's error. */
static int feed(ts_engine *e, int64_t to)
{
	int rc = 0;
	for (int64_t m = day0; m < to && !rc; m++) {
		int n = 3 + (int)(m % 3);
		int burst = m >= SPIKE && m < SPIKE + 12;
		for (int i = 0; i < n + (burst ? 80 : 0) && !rc; i++) {
			ts_record r = rec(m, i % 60,
					  i >= n ? "arn:aws:iam::111122223333:user/x"
						 : "arn:aws:iam::111122223333:role/app",
					  burst && i % 8 == 0 ? "Client.UnauthorizedOperation" : NULL);
			rc = ts_engine_add(e, &r);
			rc = rc == TS_ADD_IGNORED ? 0 : rc;
		}
	}
	return rc;
}

typedef struct world {
	ts_registry *reg;
	ts_store *store;
	uint32_t pid;
} world;

static int world_new(world *w)
{
	memset(w, 0, sizeof *w);
	w->reg = ts_registry_new(NULL);
	return !w->reg || ts_store_mem_new(w->reg, NULL, &w->store) ||
	       ts_registry_partition(w->reg, ts_str_c(ACCT), ts_str_c(REGION), &w->pid);
}

static void world_free(world *w)
{
	ts_store_free(w->store);
	ts_registry_free(w->reg);
}

static ts_engine *engine(world *w, events *ev)
{
	ts_engine_opts o;
	ts_engine_opts_defaults(&o);
	return ts_engine_new(&o, w->reg, w->store, collect, ev);
}

/* The state saved 30 minutes into the episode (its Start held, the
 * episode open, attribution minutes of the open hour); *whole gets the
 * events of the same run finished without a stop. */
static int make_state(ts_buf *state, events *whole)
{
	world w;
	int rc = world_new(&w);
	ts_engine *e = rc ? NULL : engine(&w, whole);
	if (!e || feed(e, SPIKE + 30) || ts_engine_checkpoint(e) ||
	    w.store->ops->get_state(w.store, w.pid, state) || !state->len ||
	    !ts_engine_pending_events(e) || !ts_engine_open_insights(e) || ts_engine_finish(e))
		rc = -1;
	ts_engine_free(e);
	world_free(&w);
	return rc;
}

/* Store blob as the partition's state in a fresh world and restore it
 * into a fresh engine. Returns the restore's code; with finish, the
 * engine then finishes (its events into ev, when restored); *resaved
 * (may be NULL) gets the state the restored engine saves at once. */
static int restore(const void *blob, size_t len, int finish, events *ev, ts_buf *resaved,
		   char *errstr, size_t errlen)
{
	world w;
	events sink = {{0}, 0};
	if (world_new(&w))
		return TS_ENOMEM;
	int rc = TS_ENOMEM;
	ts_engine *e = NULL;
	if (w.store->ops->put_state(w.store, w.pid, blob, len, NULL, 0) ||
	    w.store->ops->flush(w.store) || !(e = engine(&w, ev ? ev : &sink)))
		goto out;
	rc = ts_engine_restore_(e, w.pid);
	if (rc && errstr)
		snprintf(errstr, errlen, "%s", w.store->errstr);
	if (!rc && resaved) {
		rc = ts_engine_save_(e, w.pid, NULL, 0);
		if (!rc)
			rc = w.store->ops->flush(w.store);
		if (!rc)
			rc = w.store->ops->get_state(w.store, w.pid, resaved);
	}
	if (!rc && finish)
		rc = ts_engine_finish(e);
out:
	ts_engine_free(e);
	world_free(&w);
	ts_buf_free(&sink.all);
	return rc;
}

static ts_buf state;
static events whole;

static void test_round_trip(void)
{
	CHECK_INT(make_state(&state, &whole), 0);
	CHECK(whole.n >= 2); /* the Start, and the End at finish */
	CHECK(state.len > 100);
	CHECK(memcmp(state.p, "TSP3", 4) == 0);

	/* the restored engine writes what the engine that never stopped
	 * wrote, the held Start included: restored on the store of the
	 * first run so that the counts are there */
	world w;
	events ev = {{0}, 0};
	CHECK_INT(world_new(&w), 0);
	ts_engine *a = engine(&w, &ev);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK_INT(feed(a, SPIKE + 30), 0);
	CHECK_INT(ts_engine_checkpoint(a), 0);
	CHECK_INT(ev.n, 0); /* held */
	ts_engine_free(a);
	ts_engine *b = engine(&w, &ev);
	CHECK_INT(ts_engine_finish(b), 0);
	ts_engine_stats st;
	ts_engine_get_stats(b, &st);
	CHECK_INT(st.restored, 1);
	CHECK_INT(ev.n, whole.n);
	CHECK_MEM(ev.all.p, ev.all.len, whole.all.len ? whole.all.p : "");
	ts_engine_free(b);
	world_free(&w);
	ts_buf_free(&ev.all);

	/* saved again at once, a restored state keeps every part: the same
	 * length (a tally's entries may come in another order, as value ids
	 * differ between registries), and so does a state saved from that;
	 * finished without counts, each writes the same events */
	ts_buf again = {0}, third = {0};
	events e1 = {{0}, 0}, e2 = {{0}, 0};
	CHECK_INT(restore(state.p, state.len, 0, NULL, &again, NULL, 0), 0);
	CHECK_INT(again.len, state.len);
	CHECK_INT(restore(again.p, again.len, 0, NULL, &third, NULL, 0), 0);
	CHECK_INT(third.len, again.len);
	CHECK_INT(restore(state.p, state.len, 1, &e1, NULL, NULL, 0), 0);
	CHECK_INT(restore(third.p, third.len, 1, &e2, NULL, NULL, 0), 0);
	CHECK(e1.n >= 1); /* the held Start at least */
	CHECK_INT(e2.n, e1.n);
	CHECK(e1.all.len == e2.all.len && memcmp(e1.all.p, e2.all.p, e1.all.len) == 0);
	ts_buf_free(&e1.all);
	ts_buf_free(&e2.all);
	ts_buf_free(&again);
	ts_buf_free(&third);
}

static void test_truncations(void)
{
	CHECK(state.len > 0);
	int refused = 0;
	char err[1024];
	for (size_t k = 1; k < state.len; k++) {
		err[0] = '\0';
		int rc = restore(state.p, k, 0, NULL, NULL, err, sizeof err);
		if (rc != TS_ESTORE) {
			fprintf(stderr, "truncated to %zu of %zu bytes: %d\n", k, state.len, rc);
			CHECK_INT(rc, TS_ESTORE);
			break;
		}
		refused++;
		if (k == state.len / 2) {
			CHECK(strstr(err, "ts:{" ACCT ":" REGION "}:state") != NULL);
			CHECK(strstr(err, "cannot be decoded") != NULL);
		}
	}
	CHECK_INT(refused, state.len - 1);
}

static void test_corruptions(void)
{
	CHECK(state.len > 0);
	static const unsigned char flips[] = {0x01, 0x80, 0xff};
	unsigned char *copy = malloc(state.len);
	CHECK(copy != NULL);
	if (!copy)
		return;
	size_t refused = 0, accepted = 0;
	for (size_t i = 0; i < state.len; i++)
		for (size_t f = 0; f < sizeof flips; f++) {
			memcpy(copy, state.p, state.len);
			copy[i] ^= flips[f];
			/* an accepted state must also run: close its minutes, run
			 * its detectors, write its events */
			events ev = {{0}, 0};
			int rc = restore(copy, state.len, 1, &ev, NULL, NULL, 0);
			ts_buf_free(&ev.all);
			/* as fuzz_state allows: refused (naming the key), or a cap
			 * or memory limit a corrupt count ran into */
			if (rc == TS_ESTORE || rc == TS_ECAP || rc == TS_ENOMEM) {
				refused++;
			} else if (rc == 0) {
				accepted++;
			} else {
				fprintf(stderr, "byte %zu ^ 0x%02x: %d\n", i, flips[f], rc);
				CHECK_INT(rc, 0);
				goto out;
			}
		}
	/* the magic and most structure bytes are checked; a flipped bit in a
	 * count or an average can make another valid state (no checksum) */
	fprintf(stderr, "corruptions: %zu refused, %zu accepted and run\n", refused, accepted);
	CHECK(refused > 0);
	for (size_t f = 0; f < sizeof flips; f++)
		for (size_t i = 0; i < 4; i++) {
			memcpy(copy, state.p, state.len);
			copy[i] ^= flips[f];
			CHECK_INT(restore(copy, state.len, 0, NULL, NULL, NULL, 0), TS_ESTORE);
		}
out:
	free(copy);
}

static void test_cleanup(void)
{
	ts_buf_free(&state);
	ts_buf_free(&whole.all);
}

/* An hourly job (60 calls at :15 over 2 calls a minute) that misses
 * hours JOB_STOP..JOB_STOP + 3 of day 8, in minutes [from, to), into e. */
#define JOB_STOP (day0 + 8 * TS_MIN_PER_DAY + 5 * 60)
static int feed_job(ts_engine *e, int64_t from, int64_t to)
{
	int rc = 0;
	for (int64_t m = from; m < to && !rc; m++) {
		int stopped = m >= JOB_STOP && m < JOB_STOP + 4 * 60;
		int n = 2 + (m % 60 == 15 && !stopped ? 60 : 0);
		for (int i = 0; i < n && !rc; i++) {
			ts_record r = rec(m, i % 60, "arn:aws:iam::111122223333:role/cron", NULL);
			rc = ts_engine_add(e, &r);
			rc = rc == TS_ADD_IGNORED ? 0 : rc;
		}
	}
	return rc;
}

/* The stop is reported (jobStopped, a Start and an End), and an engine
 * checkpointed in the middle of it and another restored from that state
 * write the same events as the engine that never stopped. */
static void test_job_stop_across_checkpoint(void)
{
	const int64_t end = JOB_STOP + 8 * 60;
	events one = {{0}, 0}, two = {{0}, 0};
	world w;
	CHECK_INT(world_new(&w), 0);
	ts_engine *e = engine(&w, &one);
	CHECK_INT(feed_job(e, day0, end), 0);
	CHECK_INT(ts_engine_finish(e), 0);
	ts_engine_free(e);
	world_free(&w);
	CHECK_INT(one.n, 2);
	CHECK(one.all.p && strstr(one.all.p, "\"jobStopped\":true") != NULL);
	CHECK(one.all.p && strstr(one.all.p, "\"state\":\"End\"") != NULL);

	/* cut after the Start (two missed runs summed), before the End */
	CHECK_INT(world_new(&w), 0);
	e = engine(&w, &two);
	CHECK_INT(feed_job(e, day0, JOB_STOP + 2 * 60 + 30), 0);
	CHECK_INT(ts_engine_checkpoint(e), 0);
	ts_engine_free(e);
	e = engine(&w, &two);
	CHECK_INT(feed_job(e, JOB_STOP + 2 * 60 + 30, end), 0);
	CHECK_INT(ts_engine_finish(e), 0);
	ts_engine_free(e);
	world_free(&w);
	CHECK_INT(two.n, one.n);
	CHECK(one.all.len == two.all.len && !memcmp(one.all.p, two.all.p, one.all.len));
	ts_buf_free(&one.all);
	ts_buf_free(&two.all);
}

TS_TESTS(test_round_trip, test_truncations, test_corruptions, test_cleanup,
	 test_job_stop_across_checkpoint)
