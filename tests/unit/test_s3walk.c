/* test_s3walk.c - the key rule and the walk of a bucket held in memory:
 * pagination, what is passed over, and the days a range lists. */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "s3walk.h"
#include "util.h"

/* in UTF-8 binary order, as S3 lists them */
static const char *bucket[] = {
	"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/01/02/d.json.gz",
	"AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/01/02/i.json.gz",
	"AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/31/e1.json.gz",
	"AWSLogs/111122223333/CloudTrail/eu-west-1/2026/02/01/e2.json.gz",
	"AWSLogs/111122223333/CloudTrail/us-east-1/2025/12/31/a0.json.gz",
	"AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/01/a1.json.gz",
	"AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/a2.json.gz",
	"AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/a3.json.gz",
	"AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/03/.tmp.json",
	"AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/03/a4.json.gz",
	"AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/03/firehose-1",
	"AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/03/notes.txt/",
	"AWSLogs/o-abc/222233334444/CloudTrail/us-east-1/2026/01/02/o1.json.gz",
	"AWSLogs/o-abc/222233334444/CloudTrail/us-east-1/2026/01/04/o2.json.gz",
	"other/readme.md",
};
#define NB (sizeof bucket / sizeof bucket[0])

typedef struct fake {
	int page_size;
	int calls;
	ts_pathlist asked; /* "prefix|start_after|max_keys" per call */
	int fail_at;       /* this call fails (0: none) */
} fake;

/* ListObjectsV2 over the array above: the token is the index to go on
 * from; no delimiter */
static int fake_list(void *ctx, const ts_s3_listreq *q, ts_s3_page *pg, char *err, size_t cap)
{
	fake *f = ctx;
	memset(pg, 0, sizeof *pg);
	f->calls++;
	CHECK(q->delim == NULL);
	char a[1600];
	snprintf(a, sizeof a, "%s|%s|%d", q->prefix, q->start_after ? q->start_after : "", q->max_keys);
	ts_pathlist_push(&f->asked, a);
	if (f->calls == f->fail_at) {
		snprintf(err, cap, "s3://b/%s: access denied", q->prefix);
		return TS_EIO;
	}
	size_t i = q->token && *q->token ? (size_t)atoi(q->token) : 0, pl = strlen(q->prefix);
	int n = 0, max = q->max_keys ? q->max_keys : f->page_size;
	for (; i < NB; i++) {
		const char *k = bucket[i];
		if (strncmp(k, q->prefix, pl) != 0)
			continue;
		if (q->start_after && strcmp(k, q->start_after) <= 0)
			continue;
		if (n == max) {
			pg->truncated = 1;
			snprintf(pg->next_token, sizeof pg->next_token, "%zu", i);
			break;
		}
		ts_s3_obj o = {.key = strdup(k), .size = 1, .mtime = 0};
		snprintf(o.etag, sizeof o.etag, "e%zu", i);
		ts_s3_objs_push(&pg->objs, &o);
		n++;
	}
	return 0;
}

static int npassed;
static void on_passed(void *ctx, const char *key, const char *why)
{
	(void)ctx, (void)key;
	CHECK(why != NULL);
	npassed++;
}

static int pick3(const char *k, const char **why) { return ts_s3walk_pick(k, why, NULL); }

static void test_pick(void)
{
	size_t fl;
	CHECK_INT(ts_s3walk_pick("a/CloudTrail-Digest/b/c.json", NULL, &fl), TS_S3WALK_PASS);
	CHECK_INT(fl, 20);
	CHECK_INT(ts_s3walk_pick("a/b/c.json", NULL, &fl), TS_S3WALK_LOG);
	CHECK_INT(fl, 0);
	const char *why;
	CHECK_INT(pick3("AWSLogs/1/CloudTrail/r/2026/01/02/a.json.gz", &why), TS_S3WALK_LOG);
	CHECK_INT(pick3("AWSLogs/1/CloudTrail-Digest/r/2026/01/02/a.json.gz", &why), TS_S3WALK_PASS);
	CHECK_STR(why, "digest or insight folder");
	CHECK_INT(pick3("x/111_CloudTrail-Digest_r_20260102.json.gz", &why), TS_S3WALK_PASS);
	CHECK_INT(pick3("x/firehose-1", &why), TS_S3WALK_LOOK);
	CHECK_INT(pick3("x/.part.json", &why), TS_S3WALK_SKIP);
	CHECK_INT(pick3("x/folder/", &why), TS_S3WALK_SKIP);
	CHECK_INT(pick3("", &why), TS_S3WALK_SKIP);
}

static void test_walk_all(void)
{
	for (size_t i = 1; i < NB; i++)
		CHECK(strcmp(bucket[i - 1], bucket[i]) < 0);
	for (int ps = 1; ps <= 20; ps += 3) {
		fake f = {.page_size = ps};
		ts_s3_objs out = {0};
		uint64_t passed = 0;
		char err[200];
		npassed = 0;
		ts_s3walk_opts o = {.since_day = INT64_MIN, .until_day = INT64_MAX,
				     .passed = on_passed, .ctx = NULL, .list = fake_list, .list_ctx = &f};
		CHECK_INT(ts_s3walk("AWSLogs/", &o, &out, &passed, err, sizeof err), 0);
		/* 14 keys under AWSLogs/: a digest and an insight passed over, a
		 * hidden one and a folder marker left out silently */
		CHECK_INT(out.n, 10);
		CHECK_INT(passed, 2);
		CHECK_INT(npassed, 2);
		CHECK_INT(f.calls, (14 + ps - 1) / ps);
		CHECK_STR(out.v[0].key, bucket[2]);
		CHECK_STR(out.v[9].key, bucket[13]);
		for (size_t i = 1; i < out.n; i++)
			CHECK(strcmp(out.v[i - 1].key, out.v[i].key) < 0);
		ts_s3_objs_free(&out);
		ts_pathlist_free(&f.asked);
	}
}

static int asked(const fake *f, const char *a)
{
	for (size_t i = 0; i < f->asked.n; i++)
		if (strcmp(f->asked.paths[i], a) == 0)
			return 1;
	return 0;
}

static void test_walk_days(void)
{
	fake f = {.page_size = 2};
	ts_s3_objs out = {0};
	uint64_t passed = 0;
	char err[200];
	npassed = 0;
	int64_t d2 = ts_days_from_civil(2026, 1, 2);
	ts_s3walk_opts o = {.since_day = d2, .until_day = d2 + 1,
			     .passed = on_passed, .ctx = NULL, .list = fake_list, .list_ctx = &f};
	CHECK_INT(ts_s3walk("", &o, &out, &passed, err, sizeof err), 0);
	CHECK_INT(out.n, 3);
	CHECK_STR(out.v[0].key, bucket[6]);
	CHECK_STR(out.v[1].key, bucket[7]);
	CHECK_STR(out.v[2].key, bucket[12]);
	CHECK_INT(passed, 3); /* the digest and insight folders, other/readme.md */
	/* each Region's folder listed from the day asked on; the digest and
	 * insight folders skipped over, unlisted */
	CHECK(asked(&f, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/||0"));
	CHECK(asked(&f, "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/02/||0"));
	CHECK(asked(&f, "|AWSLogs/111122223333/CloudTrail-Digest0|1"));
	for (size_t i = 0; i < f.asked.n; i++)
		CHECK(strncmp(f.asked.paths[i], "AWSLogs/111122223333/CloudTrail-", 32) != 0);
	/* 7 keys looked at one by one (digest, insight, 3 Regions, other/,
	 * the end), one day folder in each of the 3 Regions */
	CHECK_INT(f.calls, 10);
	ts_s3_objs_free(&out);
	ts_pathlist_free(&f.asked);

	/* an open range: from 2026-01-03 on */
	fake g = {.page_size = 100};
	o = (ts_s3walk_opts){.since_day = d2 + 1, .until_day = INT64_MAX,
			     .passed = NULL, .ctx = NULL, .list = fake_list, .list_ctx = &g};
	CHECK_INT(ts_s3walk("AWSLogs/111122223333/CloudTrail/", &o, &out, &passed, err, sizeof err), 0);
	CHECK_INT(out.n, 4); /* e1, e2, a4 and firehose-1 */
	CHECK_STR(out.v[0].key, bucket[2]);
	ts_s3_objs_free(&out);
	ts_pathlist_free(&g.asked);

	/* a long closed range: from its first day on, until a day past it */
	fake l = {.page_size = 2};
	o = (ts_s3walk_opts){.since_day = ts_days_from_civil(2025, 12, 1),
			     .until_day = ts_days_from_civil(2026, 2, 1),
			     .passed = NULL, .ctx = NULL, .list = fake_list, .list_ctx = &l};
	CHECK_INT(ts_s3walk("AWSLogs/", &o, &out, &passed, err, sizeof err), 0);
	CHECK_INT(out.n, 9); /* all but e2 (February) */
	CHECK(asked(&l, "AWSLogs/111122223333/CloudTrail/us-east-1/|"
			"AWSLogs/111122223333/CloudTrail/us-east-1/2025/12/01|0"));
	ts_s3_objs_free(&out);
	ts_pathlist_free(&l.asked);

	/* a prefix inside a day folder */
	fake h = {.page_size = 100};
	o = (ts_s3walk_opts){.since_day = d2, .until_day = d2 + 1,
			     .passed = NULL, .ctx = NULL, .list = fake_list, .list_ctx = &h};
	CHECK_INT(ts_s3walk("AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/a3", &o, &out,
			    &passed, err, sizeof err), 0);
	CHECK_INT(out.n, 1);
	CHECK_INT(h.calls, 1);
	ts_s3_objs_free(&out);
	ts_pathlist_free(&h.asked);
}

static void test_walk_fail(void)
{
	for (int at = 1; at <= 6; at++) {
		fake f = {.page_size = 3, .fail_at = at};
		ts_s3_objs out = {0};
		uint64_t passed = 0;
		char err[200] = "";
		int64_t d2 = ts_days_from_civil(2026, 1, 2);
		ts_s3walk_opts o = {.since_day = d2, .until_day = d2 + 2,
				     .passed = NULL, .ctx = NULL, .list = fake_list, .list_ctx = &f};
		CHECK_INT(ts_s3walk("", &o, &out, &passed, err, sizeof err), TS_EIO);
		CHECK(strstr(err, "access denied") != NULL);
		ts_s3_objs_free(&out);
		ts_pathlist_free(&f.asked);
	}
}

static void test_walk_filters(void)
{
	ts_pathlist acct = {0}, reg = {0};
	ts_pathlist_push(&acct, "222233334444");
	fake f = {.page_size = 100};
	ts_s3_objs out = {0};
	uint64_t passed = 0;
	char err[200];
	ts_s3walk_opts o = {.since_day = INT64_MIN, .until_day = INT64_MAX, .accounts = &acct,
			    .list = fake_list, .list_ctx = &f};
	CHECK_INT(ts_s3walk("AWSLogs/", &o, &out, &passed, err, sizeof err), 0);
	CHECK_INT(out.n, 2); /* o1, o2: the other account's folders not listed */
	CHECK_STR(out.v[0].key, bucket[12]);
	for (size_t i = 0; i < f.asked.n; i++)
		CHECK(strstr(f.asked.paths[i], "111122223333/CloudTrail/us-east-1/|") == NULL);
	ts_s3_objs_free(&out);
	ts_pathlist_free(&f.asked);
	/* a Region, with a day range */
	ts_pathlist_push(&reg, "eu-west-1");
	fake g = {.page_size = 100};
	o = (ts_s3walk_opts){.since_day = ts_days_from_civil(2026, 1, 1),
			     .until_day = ts_days_from_civil(2026, 3, 1), .regions = &reg,
			     .list = fake_list, .list_ctx = &g};
	CHECK_INT(ts_s3walk("", &o, &out, &passed, err, sizeof err), 0);
	CHECK_INT(out.n, 2); /* e1, e2 */
	CHECK_STR(out.v[0].key, bucket[2]);
	CHECK_STR(out.v[1].key, bucket[3]);
	ts_s3_objs_free(&out);
	ts_pathlist_free(&g.asked);
	/* both: nothing is both */
	fake h = {.page_size = 100};
	o.accounts = &acct;
	o.list_ctx = &h;
	CHECK_INT(ts_s3walk("", &o, &out, &passed, err, sizeof err), 0);
	CHECK_INT(out.n, 0);
	ts_s3_objs_free(&out);
	ts_pathlist_free(&h.asked);
	ts_pathlist_free(&acct);
	ts_pathlist_free(&reg);
}

TS_TESTS(test_pick, test_walk_all, test_walk_days, test_walk_fail, test_walk_filters)
