/* test_walk.c - the folder walk (ts_folders_collect): which files a
 * backfill reads, in which order, and what it passes over, names and
 * counts. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "folders.h"

static char root[64];

typedef struct seen {
	char lines[64][512]; /* "passed PATH: WHY" or "skip CODE PATH" */
	int n;
} seen;

static void on_passed(void *ctx, const char *path, const char *why)
{
	seen *s = ctx;
	if (s->n < 64)
		snprintf(s->lines[s->n++], sizeof s->lines[0], "passed %s: %s", path, why);
}

static void on_skip(void *ctx, int code, const char *path, uint64_t off, const char *detail)
{
	seen *s = ctx;
	(void)off;
	(void)detail;
	if (s->n < 64)
		snprintf(s->lines[s->n++], sizeof s->lines[0], "skip %s %s", ts_errname(code), path);
}

/* Whether s holds "passed ROOT/rel: why" (why non-NULL) or "skip io
 * ROOT/rel". */
static int has(const seen *s, const char *rel, const char *why)
{
	char want[512];
	if (why)
		snprintf(want, sizeof want, "passed %s/%s: %s", root, rel, why);
	else
		snprintf(want, sizeof want, "skip io %s/%s", root, rel);
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->lines[i], want) == 0)
			return 1;
	fprintf(stderr, "not reported: %s\n", want);
	return 0;
}

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void mk(const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	CHECK_INT(mkdir(path, 0755), 0);
}

static void test_walk(void)
{
	snprintf(root, sizeof root, "/tmp/ts-walk-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	mk("b");
	mk("b/CloudTrail-Digest");
	mk("a");
	mk(".git");
	put("b/CloudTrail-Digest/d.json.gz", "x");
	put("b/2.json", "{\"Records\":[]}");
	put("b/1.json.gz", "not even gzip: read by its name");
	put("a/z.log", "  {\"eventTime\":\"2024-01-01T00:00:00Z\"}\n"); /* by content */
	put("a/empty.txt", "");
	put("a/notes.txt", "hello, world\n");
	put("a/x_CloudTrail-Digest_y.txt", "{}");
	put("a/.partial.json", "{}");   /* hidden: a writer's temporary name */
	put(".git/config.json", "{}"); /* hidden folder */
	char fifo[512];
	snprintf(fifo, sizeof fifo, "%s/a/pipe", root);
	CHECK_INT(mkfifo(fifo, 0644), 0);

	char arg[80], missing[80];
	snprintf(arg, sizeof arg, "%s//", root); /* trailing slashes dropped */
	snprintf(missing, sizeof missing, "%s/none", root);
	char *args[] = {arg, "-", missing};
	ts_pathlist out = {0};
	ts_source_stats st;
	memset(&st, 0, sizeof st);
	seen s = {.n = 0};
	ts_source_cb cb = {.skip = on_skip, .passed = on_passed, .ctx = &s};
	CHECK_INT(ts_folders_collect(args, 3, &out, &st, &cb), 0);

	/* depth first, each folder's names sorted bytewise */
	static const char *want[] = {"a/z.log", "b/1.json.gz", "b/2.json", NULL};
	CHECK_INT(out.n, TS_ARRAY_LEN(want));
	for (size_t i = 0; i < out.n && i < TS_ARRAY_LEN(want); i++) {
		char w[512];
		if (want[i])
			snprintf(w, sizeof w, "%s/%s", root, want[i]);
		else
			snprintf(w, sizeof w, "-");
		CHECK_STR(out.paths[i], w);
	}
	CHECK(has(&s, "a/empty.txt", "empty"));
	CHECK(has(&s, "a/notes.txt", "not JSON text"));
	CHECK(has(&s, "a/pipe", "not a regular file"));
	CHECK(has(&s, "a/x_CloudTrail-Digest_y.txt", "digest or insight file"));
	CHECK(has(&s, "b/CloudTrail-Digest", "digest or insight folder"));
	CHECK(has(&s, "none", NULL));
	CHECK_INT(s.n, 6); /* hidden names are neither read nor named */
	CHECK_INT(st.files_ignored, 5);
	CHECK_INT(st.files_failed, 1);
	CHECK_INT(st.by_reason[-TS_EIO], 1);
	ts_pathlist_free(&out);

	/* a tree deeper than the walk goes is reported, not followed */
	char deep[4096];
	int len = snprintf(deep, sizeof deep, "%s/deep", root);
	CHECK_INT(mkdir(deep, 0755), 0);
	for (int i = 0; i < 70; i++) {
		len += snprintf(deep + len, sizeof deep - (size_t)len, "/d");
		CHECK_INT(mkdir(deep, 0755), 0);
	}
	snprintf(deep + len, sizeof deep - (size_t)len, "/x.json");
	FILE *f = fopen(deep, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	snprintf(arg, sizeof arg, "%s/deep", root);
	char *args2[] = {arg};
	memset(&st, 0, sizeof st);
	s.n = 0;
	CHECK_INT(ts_folders_collect(args2, 1, &out, &st, &cb), 0);
	CHECK_INT(out.n, 0);
	CHECK_INT(st.by_reason[-TS_EDEPTH], 1);
	CHECK_INT(st.files_failed, 1);
	ts_pathlist_free(&out);

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	CHECK_INT(system(cmd), 0);
}

TS_TESTS(test_walk)
