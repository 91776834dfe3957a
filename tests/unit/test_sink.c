/* test_sink.c - the sinks: the event-key scan, stdout lines, CloudTrail-
 * Insight files (paths, gzip, content, atomic rename), a Redis Stream on a
 * private redis-server (across a restart), a webhook against a local HTTP
 * receiver (outage, 500 then 200, 4xx, resend after a restart, spool lock),
 * a set of sinks with failing members, and bad specs. A fake clock drives
 * the backoffs, so the test waits only for real I/O. */
#include <dirent.h>
#include <sys/stat.h>
#include <zlib.h>

#include "http_receiver.h"
#include "redis_server.h"

#include "../check.h"
#include "insight.h"
#include "sha1.h"
#include "reader.h"
#include "sink.h"
#include "sink_kit.h"

#define ACCT "111122223333"

static int64_t clock_now;
static int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return clock_now;
}

/* A sink options struct on the fake clock with short backoffs. */
static ts_sink_opts test_opts(void)
{
	ts_sink_opts o = {0};
	o.clock_ms = fake_clock;
	o.retry_first_ms = 100;
	o.retry_max_ms = 400;
	o.http_connect_timeout_ms = 1000;
	o.http_timeout_ms = 2000;
	o.redis_timeout_ms = 1000;
	return o;
}

/* An insight-shaped event. */
static void make_event(char *out, size_t n, const char *acct, const char *region,
		       const char *time, int k)
{
	snprintf(out, n,
		 "{\"eventVersion\":\"1.09\",\"eventTime\":\"%s\",\"awsRegion\":\"%s\","
		 "\"eventID\":\"00000000-0000-5000-8000-%012d\",\"eventType\":\"AwsCloudTrailInsight\","
		 "\"recipientAccountId\":\"%s\",\"sharedEventID\":\"x\",\"insightDetails\":{\"state\":"
		 "\"Start\",\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"RunInstances\","
		 "\"insightContext\":{\"awsRegion\":\"nested\",\"statistics\":{\"baseline\":"
		 "{\"average\":0.5}},\"attributions\":[{\"attribute\":\"userAgent\",\"insight\":"
		 "[{\"value\":\"a \\\"quoted\\\" } ] agent\",\"average\":%d}]}]}},"
		 "\"eventCategory\":\"Insight\"}",
		 time, region, k, acct, k);
}

static int emit_str(ts_sink *s, const char *json) { return ts_sink_emit(s, json, strlen(json)); }

static ts_sink_stats stats_of(const ts_sink *s)
{
	ts_sink_stats st;
	ts_sink_get_stats(s, &st);
	return st;
}

static char *make_tmpdir(char *buf, size_t n)
{
	snprintf(buf, n, "/tmp/ts-sink-XXXXXX");
	return mkdtemp(buf);
}

/* Files under dir (recursively) whose name starts with pfx and ends with
 * sfx; the first one's path into first (if given). */
static int count_files(const char *dir, const char *pfx, const char *sfx, char *first,
		       size_t firstn)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char sub[1024];
		snprintf(sub, sizeof sub, "%.700s/%.255s", dir, e->d_name);
		struct stat st;
		if (lstat(sub, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			n += count_files(sub, pfx, sfx, first && n == 0 ? first : NULL, firstn);
			continue;
		}
		size_t l = strlen(e->d_name), ls = strlen(sfx);
		if (strncmp(e->d_name, pfx, strlen(pfx)) == 0 && l >= ls &&
		    strcmp(e->d_name + l - ls, sfx) == 0) {
			if (first && n == 0)
				snprintf(first, firstn, "%s", sub);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Read a whole file (gunzipped when gz) into a malloc'd string; NULL if it
 * cannot be read or is not valid gzip. */
static char *read_file(const char *path, int gz, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	ts_buf raw = {0};
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		ts_buf_add(&raw, chunk, n);
	fclose(f);
	if (!gz) {
		*len = raw.len;
		return raw.p ? raw.p : calloc(1, 1);
	}
	ts_buf out = {0};
	z_stream z;
	memset(&z, 0, sizeof z);
	int ok = raw.len >= 2 && (unsigned char)raw.p[0] == 0x1f && (unsigned char)raw.p[1] == 0x8b &&
		 inflateInit2(&z, 16 + 15) == Z_OK;
	if (ok) {
		z.next_in = (Bytef *)raw.p;
		z.avail_in = (uInt)raw.len;
		int zr;
		do {
			unsigned char o[4096];
			z.next_out = o;
			z.avail_out = sizeof o;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END) {
				ok = 0;
				break;
			}
			ts_buf_add(&out, o, sizeof o - z.avail_out);
		} while (zr != Z_STREAM_END);
		ok = ok && z.avail_in == 0;
		inflateEnd(&z);
	}
	ts_buf_free(&raw);
	if (!ok) {
		ts_buf_free(&out);
		return NULL;
	}
	*len = out.len;
	return out.p ? out.p : calloc(1, 1);
}

static void test_event_keys(void)
{
	char ev[2048];
	make_event(ev, sizeof ev, ACCT, "us-east-1", "2026-01-13T10:05:00Z", 7);
	ts_event_keys k;
	CHECK_INT(ts_sink_event_keys(ev, strlen(ev), &k), 0);
	CHECK_MEM(k.account.p, k.account.n, ACCT);
	CHECK_MEM(k.region.p, k.region.n, "us-east-1"); /* not the nested one */
	CHECK_MEM(k.event_time.p, k.event_time.n, "2026-01-13T10:05:00Z");
	CHECK_MEM(k.event_id.p, k.event_id.n, "00000000-0000-5000-8000-000000000007");
	const char *sp = " { \"x\" : [1, {\"a\":\"}\"}] , \"awsRegion\" : \"eu-west-1\" ,"
			 "\"recipientAccountId\":\"a\\u0041\", \"n\": -1.5e3 } ";
	CHECK_INT(ts_sink_event_keys(sp, strlen(sp), &k), 0);
	CHECK_MEM(k.region.p, k.region.n, "eu-west-1");
	CHECK(k.account.p == NULL); /* escaped: not used */
	CHECK(k.event_time.p == NULL);
	CHECK_INT(ts_sink_event_keys("{}", 2, &k), 0);
	const char *bad[] = {"", "[1]", "{\"a\":}", "{\"a\":\"x\"", "{\"a\" 1}", "{\"a\":1}x",
			     "{\"a\":1,}", "{\"a\":{\"b\":1}", "{a:1}"};
	for (size_t i = 0; i < TS_ARRAY_LEN(bad); i++) {
		int rc = ts_sink_event_keys(bad[i], strlen(bad[i]), &k);
		if (rc != TS_EJSON)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		CHECK_INT(rc, TS_EJSON);
	}
}

/* The memory queue the redis-stream and webhook sinks share: FIFO, copies
 * (NUL-terminated, empty events too), a count that follows pushes and
 * pops, and a clear that leaves it empty and usable. */
/* The event without json[ctx_from..ctx_to), or the event itself. */
static void cut_context(const char *ev, char *out, size_t n)
{
	ts_event_keys k;
	CHECK_INT(ts_sink_event_keys(ev, strlen(ev), &k), 0);
	if (!k.ctx_to) {
		snprintf(out, n, "%s", ev);
		return;
	}
	snprintf(out, n, "%.*s%s", (int)k.ctx_from, ev, ev + k.ctx_to);
}

static void test_context_span(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		/* last member, as trailsight writes it; braces and quotes in strings */
		{"{\"insightDetails\":{\"state\":\"Start\",\"trailsightContext\":{\"model\":"
		 "\"a } \\\" ,\",\"pValue\":1.0E-5}},\"eventCategory\":\"Insight\"}",
		 "{\"insightDetails\":{\"state\":\"Start\"},\"eventCategory\":\"Insight\"}"},
		/* in the middle */
		{"{\"insightDetails\":{\"a\":1, \"trailsightContext\" : {\"x\":[1,{}]} ,\"b\":2}}",
		 "{\"insightDetails\":{\"a\":1 ,\"b\":2}}"},
		/* first, and the only member */
		{"{\"insightDetails\":{\"trailsightContext\":{}, \"b\":2}}",
		 "{\"insightDetails\":{\"b\":2}}"},
		{"{\"insightDetails\":{\"trailsightContext\":{}}}", "{\"insightDetails\":{}}"},
		/* not inside insightDetails, or only named in a string: left alone */
		{"{\"trailsightContext\":{},\"insightDetails\":{\"s\":\"trailsightContext\"}}",
		 "{\"trailsightContext\":{},\"insightDetails\":{\"s\":\"trailsightContext\"}}"},
		{"{\"insightDetails\":{\"insightContext\":{\"trailsightContext\":1}}}",
		 "{\"insightDetails\":{\"insightContext\":{\"trailsightContext\":1}}}"},
	};
	char out[512];
	for (size_t i = 0; i < TS_ARRAY_LEN(t); i++) {
		cut_context(t[i].in, out, sizeof out);
		CHECK_STR(out, t[i].want);
	}
	/* a broken insightDetails is not an object */
	ts_event_keys k;
	const char *bad = "{\"insightDetails\":{\"a\" 1}}";
	CHECK_INT(ts_sink_event_keys(bad, strlen(bad), &k), TS_EJSON);
	bad = "{\"insightDetails\":{\"a\":1,}}";
	CHECK_INT(ts_sink_event_keys(bad, strlen(bad), &k), TS_EJSON);
}

static void test_queue(void)
{
	ts_sink_queue q = {0};
	char ev[8] = "abc";
	CHECK_INT(ts_sink_queue_push(&q, ev, 3), 0);
	ev[0] = 'X'; /* the queue holds a copy */
	CHECK_INT(ts_sink_queue_push(&q, "", 0), 0);
	CHECK_INT(ts_sink_queue_push(&q, "{\"a\":1}", 7), 0);
	CHECK_INT(q.n, 3);
	CHECK_STR(q.head->data, "abc");
	CHECK_INT(q.head->len, 3);
	ts_sink_queue_pop(&q);
	CHECK_INT(q.n, 2);
	CHECK_STR(q.head->data, "");
	CHECK_INT(q.head->len, 0);
	ts_sink_queue_pop(&q);
	CHECK_STR(q.head->data, "{\"a\":1}");
	CHECK(q.head == q.tail);
	ts_sink_queue_pop(&q);
	CHECK(q.head == NULL && q.tail == NULL);
	CHECK_INT(q.n, 0);
	for (int i = 0; i < 5; i++)
		CHECK_INT(ts_sink_queue_push(&q, "e", 1), 0);
	ts_sink_queue_clear(&q);
	CHECK(q.head == NULL && q.tail == NULL);
	CHECK_INT(q.n, 0);
	CHECK_INT(ts_sink_queue_push(&q, "again", 5), 0);
	CHECK_STR(q.tail->data, "again");
	ts_sink_queue_clear(&q);
}

static void test_stdout(void)
{
	FILE *f = tmpfile();
	CHECK(f != NULL);
	if (!f)
		return;
	ts_sink_opts o = test_opts();
	o.stdout_fp = f;
	ts_sink *s = NULL;
	char err[256];
	CHECK_INT(ts_sink_open("-", &o, &s, err, sizeof err), 0);
	if (!s) {
		fclose(f);
		return;
	}
	CHECK_STR(ts_sink_kind(s), "stdout");
	CHECK_STR(ts_sink_name(s), "-");
	CHECK_INT(emit_str(s, "{\"a\":1}"), 0);
	CHECK_INT(emit_str(s, "{\"b\":\"x y\"}"), 0);
	/* flushed per event: visible before close */
	char got[64] = "";
	rewind(f);
	size_t n = fread(got, 1, sizeof got - 1, f);
	got[n] = '\0';
	CHECK_STR(got, "{\"a\":1}\n{\"b\":\"x y\"}\n");
	ts_sink_stats st = stats_of(s);
	CHECK_INT(st.events, 2);
	CHECK_INT(st.delivered, 2);
	CHECK_INT(st.failed, 0);
	ts_sink_close(s);
	fclose(f);

	/* a stdout that cannot be written: counted, not returned */
	FILE *full = fopen("/dev/full", "w");
	if (full) {
		o.stdout_fp = full;
		CHECK_INT(ts_sink_open("-", &o, &s, err, sizeof err), 0);
		CHECK_INT(emit_str(s, "{\"a\":1}"), 0);
		st = stats_of(s);
		CHECK_INT(st.failed, 1);
		CHECK_INT(st.dropped, 1);
		CHECK_INT(st.delivered, 0);
		ts_sink_close(s);
		fclose(full);
	}
}

/* The path the dir sink must write for these Records (sorted as given). */
static void expected_path(char *out, size_t n, const char *root, const char *acct,
			  const char *region, const char *ymd, const char *hhmm,
			  const char *content)
{
	uint8_t sha[20];
	ts_sha1(content, strlen(content), sha);
	char hex[17];
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	snprintf(out, n,
		 "%s/AWSLogs/%s/CloudTrail-Insight/%s/%.4s/%.2s/%.2s/"
		 "%s_CloudTrail-Insight_%s_%sT%sZ_%s.json.gz",
		 root, acct, region, ymd, ymd + 4, ymd + 6, acct, region, ymd, hhmm, hex);
}

/* Check that path holds exactly {"Records":[a,b,...]} in gzip, and that
 * the project's reader splits it back into those records. */
static void check_insight_file(const char *path, const char *const *recs, size_t nrec)
{
	ts_buf want = {0};
	ts_buf_puts(&want, "{\"Records\":[");
	for (size_t i = 0; i < nrec; i++) {
		if (i)
			ts_buf_puts(&want, ",");
		ts_buf_puts(&want, recs[i]);
	}
	ts_buf_puts(&want, "]}");
	size_t len = 0;
	char *text = read_file(path, 1, &len);
	CHECK(text != NULL);
	if (!text) {
		fprintf(stderr, "  not readable as gzip: %s\n", path);
		ts_buf_free(&want);
		return;
	}
	CHECK_MEM(text, len, want.p);
	/* read it back as a CloudTrail log: compressed bytes through the reader */
	size_t glen = 0;
	char *gz = read_file(path, 0, &glen);
	ts_reader *r = ts_reader_new(NULL);
	CHECK_INT(ts_reader_feed(r, gz, glen), 0);
	ts_reader_finish(r);
	ts_reader_item it;
	size_t got = 0;
	int rc;
	while ((rc = ts_reader_next(r, &it)) != 0) {
		CHECK_INT(rc, 1);
		if (rc == 1 && got < nrec)
			CHECK_MEM(it.text, it.len, recs[got]);
		got++;
	}
	CHECK_INT(got, nrec);
	ts_reader_free(r);
	free(gz);
	free(text);
	ts_buf_free(&want);
}

static void test_dir(void)
{
	char root[64];
	if (!make_tmpdir(root, sizeof root)) {
		CHECK(!"mkdtemp");
		return;
	}
	char spec[160], err[256], sub[128];
	snprintf(sub, sizeof sub, "%s/out", root); /* made by the sink */
	snprintf(spec, sizeof spec, "dir:%s", sub);
	ts_sink_opts o = test_opts();
	o.dir_max_events = 2;
	o.dir_max_age_ms = 5000;
	clock_now = 1000;
	ts_sink *s = NULL;
	CHECK_INT(ts_sink_open(spec, &o, &s, err, sizeof err), 0);
	if (!s) {
		tr_rm_tree(root);
		return;
	}
	CHECK_STR(ts_sink_kind(s), "dir");
	char e1[2048], e2[2048], e3[2048], e4[2048], e5[2048], e6[2048];
	make_event(e1, sizeof e1, ACCT, "us-east-1", "2026-01-13T10:07:00Z", 1);
	make_event(e2, sizeof e2, ACCT, "us-east-1", "2026-01-13T10:05:59.500Z", 2);
	make_event(e3, sizeof e3, ACCT, "us-east-1", "2026-01-13T23:59:00Z", 3);
	make_event(e4, sizeof e4, ACCT, "eu-west-1", "2026-01-13T09:00:00Z", 4);
	make_event(e5, sizeof e5, ACCT, "us-east-1", "2026-01-14T00:01:00Z", 5);
	make_event(e6, sizeof e6, "444455556666", "us-east-1", "2026-01-14T00:02:00Z", 6);
	CHECK_INT(emit_str(s, e1), 0);
	CHECK_INT(count_files(sub, "", ".json.gz", NULL, 0), 0);
	CHECK_INT(emit_str(s, e2), 0); /* two events: the file is written now */
	const char *r12[] = {e1, e2};
	char want[1024], content[8192];
	snprintf(content, sizeof content, "{\"Records\":[%s,%s]}", e1, e2);
	/* named after the newest minute in it, 10:07: at or after every record */
	expected_path(want, sizeof want, sub, ACCT, "us-east-1", "20260113", "1007", content);
	struct stat st;
	CHECK_INT(stat(want, &st), 0);
	if (stat(want, &st))
		fprintf(stderr, "  missing %s\n", want);
	check_insight_file(want, r12, 2);
	CHECK_INT(emit_str(s, e3), 0);
	CHECK_INT(emit_str(s, e4), 0);
	CHECK_INT(emit_str(s, e5), 0);
	/* events whose fields cannot make a path are dropped, loudly */
	char bad[2048];
	make_event(bad, sizeof bad, "../../etc", "us-east-1", "2026-01-13T10:05:00Z", 9);
	CHECK_INT(emit_str(s, bad), 0);
	make_event(bad, sizeof bad, ACCT, "us-east-1", "2026-02-30T10:05:00Z", 9);
	CHECK_INT(emit_str(s, bad), 0);
	CHECK_INT(emit_str(s, "not json"), 0);
	ts_sink_stats ss = stats_of(s);
	CHECK_INT(ss.events, 8);
	CHECK_INT(ss.delivered, 2);
	CHECK_INT(ss.pending, 3);
	CHECK_INT(ss.dropped, 3);
	/* not old enough yet */
	clock_now += 4000;
	ts_sink_tick(s);
	CHECK_INT(count_files(sub, "", ".json.gz", NULL, 0), 1);
	clock_now += 1000;
	ts_sink_tick(s);
	CHECK_INT(count_files(sub, "", ".json.gz", NULL, 0), 4);
	ss = stats_of(s);
	CHECK_INT(ss.delivered, 5);
	CHECK_INT(ss.pending, 0);
	const char *r3[] = {e3}, *r4[] = {e4}, *r5[] = {e5}, *r6[] = {e6};
	snprintf(content, sizeof content, "{\"Records\":[%s]}", e3);
	expected_path(want, sizeof want, sub, ACCT, "us-east-1", "20260113", "2359", content);
	check_insight_file(want, r3, 1);
	snprintf(content, sizeof content, "{\"Records\":[%s]}", e4);
	expected_path(want, sizeof want, sub, ACCT, "eu-west-1", "20260113", "0900", content);
	check_insight_file(want, r4, 1);
	snprintf(content, sizeof content, "{\"Records\":[%s]}", e5);
	expected_path(want, sizeof want, sub, ACCT, "us-east-1", "20260114", "0001", content);
	check_insight_file(want, r5, 1);
	/* close writes what is open */
	CHECK_INT(emit_str(s, e6), 0);
	ts_sink_close(s);
	snprintf(content, sizeof content, "{\"Records\":[%s]}", e6);
	expected_path(want, sizeof want, sub, "444455556666", "us-east-1", "20260114", "0002",
		      content);
	check_insight_file(want, r6, 1);
	CHECK_INT(count_files(sub, "", ".json.gz", NULL, 0), 5);
	/* every file renamed into place: no temporary left, nothing else */
	CHECK_INT(count_files(sub, ".", "", NULL, 0), 0);
	CHECK_INT(count_files(sub, "", "", NULL, 0), 5);
	CHECK_INT(count_files(sub, "", ".json.gz", NULL, 0), 5);
	tr_rm_tree(root);
}

/* dir: writes AWS's keys only; ?context=1 keeps trailsightContext. */
static void test_dir_context(void)
{
	char root[64];
	if (!make_tmpdir(root, sizeof root)) {
		CHECK(!"mkdtemp");
		return;
	}
	const char *ev = "{\"eventVersion\":\"1.09\",\"eventTime\":\"2026-01-13T10:07:00Z\","
			 "\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"" ACCT "\","
			 "\"insightDetails\":{\"state\":\"Start\",\"insightContext\":{},"
			 "\"trailsightContext\":{\"model\":\"default\",\"pValue\":1.0E-5}},"
			 "\"eventCategory\":\"Insight\"}";
	const char *aws = "{\"eventVersion\":\"1.09\",\"eventTime\":\"2026-01-13T10:07:00Z\","
			  "\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"" ACCT "\","
			  "\"insightDetails\":{\"state\":\"Start\",\"insightContext\":{}},"
			  "\"eventCategory\":\"Insight\"}";
	for (int keep = 0; keep < 2; keep++) {
		char spec[160], err[256], sub[128], want[1024], content[2048];
		snprintf(sub, sizeof sub, "%s/out%d", root, keep);
		snprintf(spec, sizeof spec, "dir:%s%s", sub, keep ? "?context=1" : "");
		ts_sink_opts o = test_opts();
		ts_sink *s = NULL;
		CHECK_INT(ts_sink_open(spec, &o, &s, err, sizeof err), 0);
		if (!s)
			continue;
		CHECK_STR(ts_sink_name(s), spec);
		CHECK_INT(emit_str(s, ev), 0);
		ts_sink_close(s);
		const char *rec[] = {keep ? ev : aws};
		snprintf(content, sizeof content, "{\"Records\":[%s]}", rec[0]);
		expected_path(want, sizeof want, sub, ACCT, "us-east-1", "20260113", "1007",
			      content);
		check_insight_file(want, rec, 1);
	}
	tr_rm_tree(root);
}

static void test_dir_unwritable(void)
{
	char root[64], spec[128], err[256];
	if (!make_tmpdir(root, sizeof root)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(spec, sizeof spec, "dir:%s", root);
	ts_sink_opts o = test_opts();
	o.dir_max_events = 1;
	clock_now = 0;
	ts_sink *s = NULL;
	CHECK_INT(ts_sink_open(spec, &o, &s, err, sizeof err), 0);
	if (!s) {
		tr_rm_tree(root);
		return;
	}
	/* a file where the sink wants a folder: writes fail */
	char blocker[128];
	snprintf(blocker, sizeof blocker, "%s/AWSLogs", root);
	FILE *f = fopen(blocker, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	char e1[2048], e2[2048];
	make_event(e1, sizeof e1, ACCT, "us-east-1", "2026-01-13T10:07:00Z", 1);
	make_event(e2, sizeof e2, ACCT, "us-east-1", "2026-01-13T10:08:00Z", 2);
	CHECK_INT(emit_str(s, e1), 0);
	ts_sink_stats st = stats_of(s);
	CHECK_INT(st.failed, 1);
	CHECK_INT(st.pending, 1);
	CHECK_INT(emit_str(s, e2), 0); /* in backoff: held, not tried */
	st = stats_of(s);
	CHECK_INT(st.failed, 1);
	CHECK_INT(st.pending, 2);
	unlink(blocker);
	clock_now += 200;
	ts_sink_tick(s);
	st = stats_of(s);
	CHECK_INT(st.delivered, 2);
	CHECK_INT(st.pending, 0);
	ts_sink_close(s);
	char path[1024];
	CHECK_INT(count_files(root, "", ".json.gz", path, sizeof path), 1);
	const char *r12[] = {e1, e2};
	check_insight_file(path, r12, 2);
	tr_rm_tree(root);
}

/* XRANGE KEY - + on db: the event fields, in order, into out (up to max). */
static size_t xrange(const test_redis *r, int db, const char *key, char **out, size_t max)
{
	redisContext *c = tr_connect(r);
	if (!c)
		return 0;
	size_t n = 0;
	redisReply *rep = redisCommand(c, "SELECT %d", db);
	if (rep)
		freeReplyObject(rep);
	rep = redisCommand(c, "XRANGE %s - +", key);
	if (rep && rep->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < rep->elements && n < max; i++) {
			redisReply *e = rep->element[i];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
				continue;
			redisReply *f = e->element[1];
			if (f->type != REDIS_REPLY_ARRAY || f->elements != 2 ||
			    strcmp(f->element[0]->str, "event") != 0)
				continue;
			out[n] = malloc(f->element[1]->len + 1);
			memcpy(out[n], f->element[1]->str, f->element[1]->len + 1);
			n++;
		}
	}
	if (rep)
		freeReplyObject(rep);
	redisFree(c);
	return n;
}

static void test_redis_stream(void)
{
	test_redis r;
	if (tr_start(&r)) {
		CHECK(!"redis-server did not start");
		return;
	}
	char spec[256], err[256];
	snprintf(spec, sizeof spec, "redis-stream:redis://127.0.0.1:%d/3#ts:insights", r.port);
	ts_sink_opts o = test_opts();
	clock_now = 0;
	ts_sink *s = NULL;
	CHECK_INT(ts_sink_open(spec, &o, &s, err, sizeof err), 0);
	if (!s) {
		fprintf(stderr, "  %s\n", err);
		tr_stop(&r);
		return;
	}
	CHECK_STR(ts_sink_kind(s), "redis-stream");
	char ev[4][2048];
	for (int i = 0; i < 4; i++)
		make_event(ev[i], sizeof ev[i], ACCT, "us-east-1", "2026-01-13T10:07:00Z", i);
	CHECK_INT(emit_str(s, ev[0]), 0);
	CHECK_INT(emit_str(s, ev[1]), 0);
	CHECK_INT(stats_of(s).delivered, 2);
	/* Redis goes away: events wait in order */
	tr_kill(&r, SIGKILL);
	CHECK_INT(emit_str(s, ev[2]), 0);
	ts_sink_stats st = stats_of(s);
	CHECK_INT(st.failed, 1);
	CHECK_INT(st.spooled, 1);
	CHECK_INT(st.pending, 1);
	CHECK_INT(tr_restart(&r), 0);
	/* past the backoff, a new event goes after the queued one */
	clock_now += 1000;
	CHECK_INT(emit_str(s, ev[3]), 0);
	for (int i = 0; i < 10 && stats_of(s).pending; i++) {
		clock_now += 1000;
		ts_sink_tick(s);
	}
	st = stats_of(s);
	CHECK_INT(st.delivered, 4);
	CHECK_INT(st.pending, 0);
	CHECK_INT(st.dropped, 0);
	ts_sink_close(s);
	char *got[8];
	size_t n = xrange(&r, 3, "ts:insights", got, 8);
	CHECK_INT(n, 4);
	for (size_t i = 0; i < n; i++) {
		if (i < 4)
			CHECK_STR(got[i], ev[i]);
		free(got[i]);
	}

	/* MAXLEN ~ trims; AUTH with a password, kept out of the name */
	redisContext *c = tr_connect(&r);
	redisReply *rep = c ? redisCommand(c, "CONFIG SET requirepass hunter2") : NULL;
	CHECK(rep && rep->type == REDIS_REPLY_STATUS);
	if (rep)
		freeReplyObject(rep);
	if (c)
		redisFree(c);
	snprintf(spec, sizeof spec, "redis-stream:redis://:hunter2@127.0.0.1:%d#small", r.port);
	o.stream_maxlen = 10;
	CHECK_INT(ts_sink_open(spec, &o, &s, err, sizeof err), 0);
	if (s) {
		CHECK(strstr(ts_sink_name(s), "hunter2") == NULL);
		for (int i = 0; i < 600; i++)
			emit_str(s, ev[i % 4]);
		st = stats_of(s);
		CHECK_INT(st.delivered, 600);
		ts_sink_close(s);
		c = tr_connect(&r);
		rep = c ? redisCommand(c, "AUTH hunter2") : NULL;
		if (rep)
			freeReplyObject(rep);
		rep = c ? redisCommand(c, "XLEN small") : NULL;
		CHECK(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer >= 10 &&
		      rep->integer < 300);
		if (rep)
			freeReplyObject(rep);
		if (c)
			redisFree(c);
	}
	/* a wrong password: the sink opens, holds, and at close drops loudly */
	snprintf(spec, sizeof spec, "redis-stream:redis://:wrong@127.0.0.1:%d#small", r.port);
	CHECK_INT(ts_sink_open(spec, &o, &s, err, sizeof err), 0);
	if (s) {
		CHECK_INT(emit_str(s, ev[0]), 0);
		st = stats_of(s);
		CHECK_INT(st.failed, 1);
		CHECK_INT(st.pending, 1);
		ts_sink_close(s);
	}
	tr_stop(&r);
}

/* A webhook sink on the receiver's port with its spool under spool. */
static ts_sink *open_webhook(const http_rx *rx, int port, const char *spool, int expect)
{
	char spec[256], err[256] = "";
	snprintf(spec, sizeof spec, "webhook:http://127.0.0.1:%d/hook?token=secret",
		 rx ? rx->port : port);
	ts_sink_opts o = test_opts();
	o.spool_dir = spool;
	ts_sink *s = NULL;
	int rc = ts_sink_open(spec, &o, &s, err, sizeof err);
	if (rc != expect)
		fprintf(stderr, "  open %s: %d %s\n", spec, rc, err);
	CHECK_INT(rc, expect);
	if (s)
		CHECK(strstr(ts_sink_name(s), "secret") == NULL);
	return s;
}

/* The receiver got exactly these bodies, in order. */
static void check_bodies(http_rx *rx, char (*ev)[2048], size_t n)
{
	CHECK_INT(hr_bodies(rx), n);
	for (size_t i = 0; i < n && i < rx->nbody; i++)
		CHECK_STR(rx->body[i], ev[i]);
}

static void test_webhook_outage(void)
{
	char spool[64];
	if (!make_tmpdir(spool, sizeof spool)) {
		CHECK(!"mkdtemp");
		return;
	}
	http_rx rx;
	CHECK_INT(hr_start(&rx, 0), 0);
	clock_now = 0;
	ts_sink *s = open_webhook(&rx, 0, spool, 0);
	if (!s) {
		hr_free(&rx);
		tr_rm_tree(spool);
		return;
	}
	CHECK_STR(ts_sink_kind(s), "webhook");
	char ev[6][2048];
	for (int i = 0; i < 6; i++)
		make_event(ev[i], sizeof ev[i], ACCT, "us-east-1", "2026-01-13T10:07:00Z", i);
	CHECK_INT(emit_str(s, ev[0]), 0);
	CHECK_INT(emit_str(s, ev[1]), 0);
	check_bodies(&rx, ev, 2);
	CHECK_STR(rx.content_type, "application/json");
	CHECK_STR(rx.path, "/hook?token=secret");
	/* the receiver goes away */
	hr_stop(&rx);
	for (int i = 2; i < 5; i++)
		CHECK_INT(emit_str(s, ev[i]), 0);
	ts_sink_stats st = stats_of(s);
	CHECK_INT(st.delivered, 2);
	CHECK_INT(st.failed, 1); /* one try, then straight to the spool */
	CHECK_INT(st.spooled, 3);
	CHECK_INT(st.pending, 3);
	CHECK_INT(count_files(spool, "", ".json", NULL, 0), 3);
	clock_now += 50; /* before the backoff: no try */
	ts_sink_tick(s);
	CHECK_INT(stats_of(s).failed, 1);
	clock_now += 1000; /* still down: one more failure */
	ts_sink_tick(s);
	CHECK_INT(stats_of(s).failed, 2);
	CHECK_INT(hr_start(&rx, rx.port), 0);
	/* past the backoff, a new event still goes after the spooled ones */
	clock_now += 1000;
	CHECK_INT(emit_str(s, ev[5]), 0);
	for (int i = 0; i < 20 && stats_of(s).pending; i++) {
		clock_now += 1000;
		ts_sink_tick(s);
	}
	st = stats_of(s);
	CHECK_INT(st.delivered, 6);
	CHECK_INT(st.pending, 0);
	CHECK_INT(st.dropped, 0);
	check_bodies(&rx, ev, 6);
	CHECK_INT(hr_requests(&rx), 6);
	CHECK_INT(count_files(spool, "", ".json", NULL, 0), 0);
	ts_sink_close(s);
	hr_free(&rx);
	tr_rm_tree(spool);
}

static void test_webhook_500_then_200(void)
{
	char spool[64];
	if (!make_tmpdir(spool, sizeof spool)) {
		CHECK(!"mkdtemp");
		return;
	}
	http_rx rx;
	CHECK_INT(hr_start(&rx, 0), 0);
	hr_script(&rx, 2, 500);
	clock_now = 0;
	ts_sink *s = open_webhook(&rx, 0, spool, 0);
	if (s) {
		char ev[2][2048];
		make_event(ev[0], sizeof ev[0], ACCT, "us-east-1", "2026-01-13T10:07:00Z", 0);
		make_event(ev[1], sizeof ev[1], ACCT, "us-east-1", "2026-01-13T10:08:00Z", 1);
		CHECK_INT(emit_str(s, ev[0]), 0); /* 500: spooled */
		CHECK_INT(stats_of(s).spooled, 1);
		clock_now += 100;
		ts_sink_tick(s); /* 500 again */
		CHECK_INT(stats_of(s).failed, 2);
		CHECK_INT(emit_str(s, ev[1]), 0); /* in backoff: behind ev[0] */
		clock_now += 200;
		ts_sink_tick(s); /* 200 twice */
		ts_sink_stats st = stats_of(s);
		CHECK_INT(st.delivered, 2);
		CHECK_INT(st.pending, 0);
		CHECK_INT(hr_requests(&rx), 4);
		check_bodies(&rx, ev, 2);
		ts_sink_close(s);
	}
	hr_free(&rx);
	tr_rm_tree(spool);
}

static void test_webhook_rejected(void)
{
	char spool[64];
	if (!make_tmpdir(spool, sizeof spool)) {
		CHECK(!"mkdtemp");
		return;
	}
	http_rx rx;
	CHECK_INT(hr_start(&rx, 0), 0);
	hr_script(&rx, 1, 400);
	clock_now = 0;
	ts_sink *s = open_webhook(&rx, 0, spool, 0);
	if (s) {
		char ev[2][2048];
		make_event(ev[0], sizeof ev[0], ACCT, "us-east-1", "2026-01-13T10:07:00Z", 0);
		make_event(ev[1], sizeof ev[1], ACCT, "us-east-1", "2026-01-13T10:08:00Z", 1);
		CHECK_INT(emit_str(s, ev[0]), 0); /* 400: not retried, kept aside */
		CHECK_INT(emit_str(s, ev[1]), 0); /* no backoff for a refusal */
		ts_sink_stats st = stats_of(s);
		CHECK_INT(st.dropped, 1);
		CHECK_INT(st.delivered, 1);
		CHECK_INT(st.pending, 0);
		check_bodies(&rx, ev + 1, 1);
		char path[1024];
		CHECK_INT(count_files(spool, "", ".json", path, sizeof path), 1);
		CHECK(strstr(path, "/rejected/") != NULL);
		size_t len;
		char *kept = read_file(path, 0, &len);
		CHECK(kept && strcmp(kept, ev[0]) == 0);
		free(kept);
		ts_sink_close(s);
	}
	hr_free(&rx);
	tr_rm_tree(spool);
}

static void test_webhook_restart(void)
{
	char spool[64];
	if (!make_tmpdir(spool, sizeof spool)) {
		CHECK(!"mkdtemp");
		return;
	}
	/* learn a free port, then leave it closed */
	http_rx rx;
	CHECK_INT(hr_start(&rx, 0), 0);
	int port = rx.port;
	hr_stop(&rx);
	clock_now = 0;
	char ev[3][2048];
	for (int i = 0; i < 3; i++)
		make_event(ev[i], sizeof ev[i], ACCT, "us-east-1", "2026-01-13T10:07:00Z", i);
	ts_sink *a = open_webhook(NULL, port, spool, 0);
	if (a) {
		CHECK_INT(emit_str(a, ev[0]), 0);
		CHECK_INT(emit_str(a, ev[1]), 0);
		CHECK_INT(stats_of(a).pending, 2);
		/* a second sink on the same spool is refused */
		ts_sink *dup = open_webhook(NULL, port, spool, TS_EIO);
		ts_sink_close(dup);
		ts_sink_close(a); /* the events stay on disk */
	}
	CHECK_INT(count_files(spool, "", ".json", NULL, 0), 2);
	CHECK_INT(hr_start(&rx, port), 0);
	ts_sink *b = open_webhook(&rx, 0, spool, 0);
	if (b) {
		CHECK_INT(stats_of(b).pending, 2);
		ts_sink_tick(b);
		CHECK_INT(emit_str(b, ev[2]), 0);
		ts_sink_stats st = stats_of(b);
		CHECK_INT(st.delivered, 3);
		CHECK_INT(st.pending, 0);
		check_bodies(&rx, ev, 3);
		ts_sink_close(b);
	}
	CHECK_INT(count_files(spool, "", ".json", NULL, 0), 0);
	hr_free(&rx);
	tr_rm_tree(spool);
}

static void test_set(void)
{
	char root[64];
	if (!make_tmpdir(root, sizeof root)) {
		CHECK(!"mkdtemp");
		return;
	}
	FILE *f = tmpfile();
	http_rx rx; /* only for a port nobody listens on */
	CHECK_INT(hr_start(&rx, 0), 0);
	int dead = rx.port;
	hr_free(&rx);
	char spool[128], spec[256], err[256];
	snprintf(spool, sizeof spool, "%s/spool", root);
	ts_sink_opts o = test_opts();
	o.stdout_fp = f;
	o.spool_dir = spool;
	o.dir_max_events = 1;
	clock_now = 0;
	ts_sinks *set = ts_sinks_new(&o);
	CHECK(set != NULL);
	if (!set || !f) {
		if (f)
			fclose(f);
		ts_sinks_free(set);
		tr_rm_tree(root);
		return;
	}
	snprintf(spec, sizeof spec, "webhook:http://127.0.0.1:%d/", dead);
	CHECK_INT(ts_sinks_add(set, spec, err, sizeof err), 0);
	snprintf(spec, sizeof spec, "redis-stream:redis://127.0.0.1:%d#k", dead);
	CHECK_INT(ts_sinks_add(set, spec, err, sizeof err), 0);
	CHECK_INT(ts_sinks_add(set, "-", err, sizeof err), 0);
	snprintf(spec, sizeof spec, "dir:%s/out", root);
	CHECK_INT(ts_sinks_add(set, spec, err, sizeof err), 0);
	CHECK_INT(ts_sinks_add(set, "nope:x", err, sizeof err), TS_EINVAL);
	CHECK_INT(ts_sinks_count(set), 4);
	CHECK(ts_sinks_get(set, 4) == NULL);
	char ev[2048];
	make_event(ev, sizeof ev, ACCT, "us-east-1", "2026-01-13T10:07:00Z", 1);
	CHECK_INT(ts_sinks_emit_fn(set, ev, strlen(ev)), 0);
	ts_sinks_tick(set);
	ts_sink_stats st = stats_of(ts_sinks_get(set, 0));
	CHECK_INT(st.failed, 1);
	CHECK_INT(st.spooled, 1);
	st = stats_of(ts_sinks_get(set, 1));
	CHECK_INT(st.failed, 1);
	CHECK_INT(st.pending, 1);
	st = stats_of(ts_sinks_get(set, 2));
	CHECK_INT(st.delivered, 1);
	st = stats_of(ts_sinks_get(set, 3));
	CHECK_INT(st.delivered, 1);
	ts_sinks_free(set);
	fclose(f);
	CHECK_INT(count_files(root, "", ".json.gz", NULL, 0), 1);
	CHECK_INT(count_files(spool, "", ".json", NULL, 0), 1); /* kept for the next start */
	tr_rm_tree(root);
}

static void test_bad_specs(void)
{
	ts_sink_opts o = test_opts();
	o.spool_dir = "/tmp";
	struct {
		const char *spec;
		int rc;
		const char *in_msg;
	} cases[] = {
		{"", TS_EINVAL, "empty"},
		{"bogus:secret", TS_EINVAL, "bogus"},
		{"dir:", TS_EINVAL, "dir"},
		{"dir:?context=1", TS_EINVAL, "no folder"},
		{"dir:/tmp/x?context=2", TS_EINVAL, "unknown option 'context=2'"},
		{"dir:/tmp/x?context=1&gzip=0", TS_EINVAL, "unknown option 'gzip=0'"},
		{"dir:/dev/null/x", TS_EIO, "/dev/null/x"},
		{"redis-stream:redis://127.0.0.1:6379", TS_EINVAL, "stream key"},
		{"redis-stream:redis://:hunter2@127.0.0.1:99999#k", TS_EINVAL, "port"},
		{"redis-stream:http://x#k", TS_EINVAL, "redis://"},
		{"webhook:ftp://x/", TS_EINVAL, "http://"},
		{"webhook:http://a b/", TS_EINVAL, "control"},
		{"webhook:http://x/", TS_EIO, "spool"},
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
		char err[256] = "";
		ts_sink *s = NULL;
		if (i == TS_ARRAY_LEN(cases) - 1)
			o.spool_dir = "/dev/null";
		int rc = ts_sink_open(cases[i].spec, &o, &s, err, sizeof err);
		if (rc != cases[i].rc || !strstr(err, cases[i].in_msg) || strstr(err, "hunter2") ||
		    strstr(err, "secret"))
			fprintf(stderr, "  %s: %d '%s'\n", cases[i].spec, rc, err);
		CHECK_INT(rc, cases[i].rc);
		CHECK(strstr(err, cases[i].in_msg) != NULL);
		CHECK(strncmp(err, "sink ", 5) == 0);
		CHECK(strstr(err, "hunter2") == NULL && strstr(err, "secret") == NULL);
		CHECK(s == NULL);
		ts_sink_close(s);
	}
}

TS_TESTS(test_event_keys, test_context_span, test_queue, test_stdout, test_dir, test_dir_context,
	 test_dir_unwritable, test_redis_stream,
	 test_webhook_outage, test_webhook_500_then_200, test_webhook_rejected,
	 test_webhook_restart, test_set, test_bad_specs)
