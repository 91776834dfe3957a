/* test_folders.c - the one folder rule (folders.h) as the walk and the
 * watcher apply it: a tree walked and the same tree renamed into a watched
 * folder give the same paths in the same order; files renamed one by one
 * into a watched folder give what the walk of that folder gives; digest
 * and insight folders, hidden folders and files, log suffixes, names that
 * say nothing (read by their content) and what is not a regular file
 * included. A file read only by its content and closed in place is the
 * walk's, not the watcher's, until it is renamed into place. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "folders.h"
#include "watch.h"

#include "tmptree.h"

static void mv(const char *from, const char *to)
{
	char a[512], b[512];
	path_of(a, sizeof a, from);
	path_of(b, sizeof b, to);
	CHECK_INT(rename(a, b), 0);
}

static const char json[] = "{\"eventTime\":\"2026-01-01T00:00:00Z\"}\n";

static const struct {
	const char *name, *text;
} files[] = {
	{"1.json", "{}"},
	{"2.json.gz", "not even gzip: read by its name"},
	{"3.jsonl", "{}"},
	{"4.ndjson.gz", "x"},
	{"README", "hello, world\n"},      /* by content: not JSON */
	{"UPPER.JSON", json},               /* by content */
	{"empty.log", ""},                  /* by content: empty */
	{"firehose-1-2026-01-01-00", json}, /* by content */
	{".hidden.json", "{}"},
	{".part", json},
	{"x_CloudTrail-Digest_y.json", "{}"},
	{"x_CloudTrail-Insight_z.txt", json},
	{"z.log", json},
};

/* Every kind of file the rule knows, and a named pipe, in folder dir
 * (relative to root). */
static void fill(const char *dir)
{
	char rel[512];
	for (size_t i = 0; i < TS_ARRAY_LEN(files); i++) {
		snprintf(rel, sizeof rel, "%s/%s", dir, files[i].name);
		put(rel, files[i].text);
	}
	snprintf(rel, sizeof rel, "%s/%s/pipe", root, dir);
	CHECK_INT(mkfifo(rel, 0644), 0);
}

/* A tree at dir: a/ holds every kind of file, then digest, insight and
 * hidden folders with logs in them, and b/c/ two levels down. */
static void make_tree(const char *dir)
{
	static const char *const dirs[] = {"", "a", "CloudTrail-Digest", "CloudTrail-Insight", ".git",
					   "b", "b/c"};
	static const char *const deep[] = {"CloudTrail-Digest/d.json.gz", "CloudTrail-Insight/i.json",
					   ".git/config.json", "b/c/deep.json", "b/c/deep-obj"};
	char rel[512];
	for (size_t i = 0; i < TS_ARRAY_LEN(dirs); i++) {
		snprintf(rel, sizeof rel, "%s/%s", dir, dirs[i]);
		mk(rel);
	}
	snprintf(rel, sizeof rel, "%s/a", dir);
	fill(rel);
	for (size_t i = 0; i < TS_ARRAY_LEN(deep); i++) {
		snprintf(rel, sizeof rel, "%s/%s", dir, deep[i]);
		put(rel, json);
	}
}

/* The walk of root/rel, as paths relative to root/rel. */
static void walk_rel(const char *rel, ts_pathlist *out)
{
	char arg[512];
	path_of(arg, sizeof arg, rel);
	char *args[] = {arg};
	ts_pathlist got = {0};
	ts_source_stats st;
	memset(&st, 0, sizeof st);
	ts_source_cb cb = {0};
	CHECK_INT(ts_folders_collect(args, 1, &got, &st, &cb), 0);
	CHECK_INT(st.files_failed, 0);
	size_t cut = strlen(arg) + 1;
	for (size_t i = 0; i < got.n; i++)
		CHECK_INT(ts_pathlist_push(out, got.paths[i] + cut), 0);
	ts_pathlist_free(&got);
}

/* Poll until want paths came (or 3 s passed), then once more briefly to
 * see nothing else comes; the paths under root/rel, relative to it, into
 * out. */
static void watch_rel(ts_watch *w, size_t want, const char *rel, ts_pathlist *out)
{
	ts_pathlist got = {0};
	for (int i = 0; i < 30 && got.n < want; i++)
		CHECK(ts_watch_poll(w, 100, &got) >= 0);
	CHECK(ts_watch_poll(w, 200, &got) >= 0);
	char pre[512];
	path_of(pre, sizeof pre, rel);
	size_t cut = strlen(pre);
	for (size_t i = 0; i < got.n; i++) {
		CHECK(strncmp(got.paths[i], pre, cut) == 0 && got.paths[i][cut] == '/');
		CHECK_INT(ts_pathlist_push(out, got.paths[i] + cut + 1), 0);
	}
	ts_pathlist_free(&got);
}

static int same(const ts_pathlist *a, const ts_pathlist *b)
{
	int ok = a->n == b->n;
	for (size_t i = 0; ok && i < a->n; i++)
		ok = strcmp(a->paths[i], b->paths[i]) == 0;
	if (!ok) {
		for (size_t i = 0; i < a->n; i++)
			fprintf(stderr, "walk:  %s\n", a->paths[i]);
		for (size_t i = 0; i < b->n; i++)
			fprintf(stderr, "watch: %s\n", b->paths[i]);
	}
	return ok;
}

static void test_pick(void)
{
	static const struct {
		const char *name;
		unsigned mode;
		ts_folders_verdict v;
		const char *why;
	} t[] = {
		{"us-east-1", S_IFDIR, TS_FOLDERS_DESCEND, NULL},
		{"CloudTrail", S_IFDIR, TS_FOLDERS_DESCEND, NULL},
		{"CloudTrail-Digest", S_IFDIR, TS_FOLDERS_PASS, "digest or insight folder"},
		{"CloudTrail-Insight", S_IFDIR, TS_FOLDERS_PASS, "digest or insight folder"},
		{"x_CloudTrail-Digest_y", S_IFDIR, TS_FOLDERS_DESCEND, NULL},
		{".git", S_IFDIR, TS_FOLDERS_PASS, "hidden"},
		{"a.json", S_IFREG, TS_FOLDERS_LOG, NULL},
		{"a.json.gz", S_IFREG, TS_FOLDERS_LOG, NULL},
		{"a.jsonl", S_IFREG, TS_FOLDERS_LOG, NULL},
		{"a.jsonl.gz", S_IFREG, TS_FOLDERS_LOG, NULL},
		{"a.ndjson", S_IFREG, TS_FOLDERS_LOG, NULL},
		{"a.ndjson.gz", S_IFREG, TS_FOLDERS_LOG, NULL},
		{"a.json.gz.1A2b3C4d", S_IFREG, TS_FOLDERS_LOOK, NULL},
		{"a.JSON", S_IFREG, TS_FOLDERS_LOOK, NULL},
		{"a.log", S_IFREG, TS_FOLDERS_LOOK, NULL},
		{"a.gz", S_IFREG, TS_FOLDERS_LOOK, NULL},
		{"firehose-1-2026-01-01", S_IFREG, TS_FOLDERS_LOOK, NULL},
		{".a.json", S_IFREG, TS_FOLDERS_PASS, "hidden"},
		{"1_CloudTrail-Digest_2.json.gz", S_IFREG, TS_FOLDERS_PASS, "digest or insight file"},
		{"1_CloudTrail-Insight_2.json.gz", S_IFREG, TS_FOLDERS_PASS, "digest or insight file"},
		{"CloudTrail-Digest.txt", S_IFREG, TS_FOLDERS_PASS, "digest or insight file"},
		{"a.json", S_IFIFO, TS_FOLDERS_PASS, "not a regular file"},
		{".a.json", S_IFIFO, TS_FOLDERS_PASS, "hidden"},
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(t); i++) {
		const char *why = "unset";
		ts_folders_verdict v = ts_folders_pick(t[i].name, t[i].mode, &why);
		if (v != t[i].v)
			fprintf(stderr, "pick '%s': %d\n", t[i].name, (int)v);
		CHECK_INT(v, t[i].v);
		if (t[i].why)
			CHECK_STR(why, t[i].why);
		else
			CHECK(why == NULL);
		if (S_ISREG(t[i].mode))
			CHECK_INT(ts_folders_is_log_name(t[i].name), t[i].v == TS_FOLDERS_LOG);
	}
}

static void test_walk_and_watch(void)
{
	snprintf(root, sizeof root, "/tmp/ts-folders-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	mk("stage");
	make_tree("stage/tree");
	mk("watched");
	char err[512] = "", dir[512];
	path_of(dir, sizeof dir, "watched");
	ts_watch *w = NULL;
	CHECK_INT(ts_watch_new(dir, &w, err, sizeof err), 0);
	if (!w) {
		fprintf(stderr, "%s\n", err);
		return;
	}

	/* 1. a tree: walked, then renamed into the watched folder */
	ts_pathlist walked = {0}, watched = {0};
	walk_rel("stage/tree", &walked);
	static const char *const want[] = {"a/1.json",      "a/2.json.gz",
					   "a/3.jsonl",     "a/4.ndjson.gz",
					   "a/UPPER.JSON",  "a/firehose-1-2026-01-01-00",
					   "a/z.log",       "b/c/deep-obj",
					   "b/c/deep.json"};
	CHECK_INT(walked.n, TS_ARRAY_LEN(want));
	for (size_t i = 0; i < walked.n && i < TS_ARRAY_LEN(want); i++)
		CHECK_STR(walked.paths[i], want[i]);
	mv("stage/tree", "watched/tree");
	watch_rel(w, walked.n, "watched/tree", &watched);
	CHECK(same(&walked, &watched));
	CHECK_INT(ts_watch_count(w), 5); /* watched, tree, a, b, b/c */
	ts_pathlist_free(&walked);
	ts_pathlist_free(&watched);

	/* 2. the same files renamed one by one into a watched folder, in name
	 * order: the watcher takes what the walk of that folder lists */
	mk("watched/flat");
	watch_rel(w, 0, "watched", &watched);
	CHECK_INT(watched.n, 0);
	mk("stage/one");
	fill("stage/one");
	ts_pathlist names = {0};
	char from[512];
	path_of(from, sizeof from, "stage/one");
	CHECK_INT(ts_folders_list_dir(from, &names), 0);
	CHECK_INT(ts_pathlist_push(&names, ".hidden.json"), 0); /* listing leaves it out */
	CHECK_INT(ts_pathlist_push(&names, ".part"), 0);
	for (size_t i = 0; i < names.n; i++) {
		char a[512], b[512];
		snprintf(a, sizeof a, "stage/one/%s", names.paths[i]);
		snprintf(b, sizeof b, "watched/flat/%s", names.paths[i]);
		mv(a, b);
	}
	ts_pathlist_free(&names);
	walk_rel("watched/flat", &walked);
	CHECK_INT(walked.n, 7);
	watch_rel(w, walked.n, "watched/flat", &watched);
	CHECK(same(&walked, &watched));
	ts_pathlist_free(&walked);
	ts_pathlist_free(&watched);

	/* 3. closed in place: the walk reads a file by its content, the
	 * watcher waits for it to be renamed into place (it may be a sync
	 * tool's temporary name); by its name, both read it at once */
	mk("watched/inplace");
	watch_rel(w, 0, "watched", &watched);
	CHECK_INT(watched.n, 0);
	put("watched/inplace/c.json", "{}");
	put("watched/inplace/obj", json);
	put("watched/inplace/.t.json", "{}");
	put("watched/inplace/x_CloudTrail-Digest.json", "{}");
	watch_rel(w, 1, "watched/inplace", &watched);
	CHECK_INT(watched.n, 1);
	if (watched.n)
		CHECK_STR(watched.paths[0], "c.json");
	ts_pathlist_free(&watched);
	walk_rel("watched/inplace", &walked);
	CHECK_INT(walked.n, 2);
	if (walked.n == 2) {
		CHECK_STR(walked.paths[0], "c.json");
		CHECK_STR(walked.paths[1], "obj");
	}
	ts_pathlist_free(&walked);
	mv("watched/inplace/obj", "watched/inplace/obj-1");
	watch_rel(w, 1, "watched/inplace", &watched);
	CHECK_INT(watched.n, 1);
	if (watched.n)
		CHECK_STR(watched.paths[0], "obj-1");
	ts_pathlist_free(&watched);

	ts_watch_free(w);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	CHECK_INT(system(cmd), 0);
}

TS_TESTS(test_pick, test_walk_and_watch)
