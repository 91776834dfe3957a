/* test_watch.c - the folder watcher (watch.c) on a real inotify: a file
 * is reported when it is complete (closed after writing, or renamed into
 * place), once; names that are not log names, hidden and digest folders
 * are not; folders made later are followed, with what they already hold;
 * files marked seen are not reported again. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "watch.h"

#include "tmptree.h"

/* Poll until want paths came (or 3 s passed), then once more briefly to
 * see nothing else comes; the paths reported into got. */
static void poll_for(ts_watch *w, size_t want, ts_pathlist *got)
{
	for (int i = 0; i < 30 && got->n < want; i++)
		CHECK(ts_watch_poll(w, 100, got) >= 0);
	CHECK(ts_watch_poll(w, 200, got) >= 0);
}

static int listed(const ts_pathlist *l, const char *rel)
{
	char p[512];
	path_of(p, sizeof p, rel);
	int k = 0;
	for (size_t i = 0; i < l->n; i++)
		k += strcmp(l->paths[i], p) == 0;
	return k;
}

static void test_watch(void)
{
	snprintf(root, sizeof root, "/tmp/ts-watch-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	mk("old");
	put("old/before.json", "{}"); /* there before the watch: the caller's */
	char err[512] = "";
	ts_watch *w = NULL;
	CHECK_INT(ts_watch_new(root, &w, err, sizeof err), 0);
	if (!w) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_INT(ts_watch_count(w), 2); /* root and old/ */

	ts_pathlist got = {0};
	put("a.json", "{}");                 /* closed after writing */
	put("notes.txt", "{}");              /* not a log name */
	put(".tmp.json", "{}");              /* hidden */
	put("old/.b.json.gz.part", "x");
	char from[512], to[512];
	path_of(from, sizeof from, "old/.b.json.gz.part");
	path_of(to, sizeof to, "old/b.json.gz");
	CHECK_INT(rename(from, to), 0);      /* renamed into place */
	mk("CloudTrail-Digest");
	put("CloudTrail-Digest/d.json.gz", "x");
	poll_for(w, 2, &got);
	CHECK_INT(got.n, 2);
	CHECK_INT(listed(&got, "a.json"), 1);
	CHECK_INT(listed(&got, "old/b.json.gz"), 1);
	CHECK_INT(listed(&got, "old/before.json"), 0);
	ts_pathlist_free(&got);

	/* written again: reported once per watcher, never twice */
	put("a.json", "{}\n{}");
	/* a folder made later is followed, with the files it already holds */
	mk("new");
	put("new/c.ndjson", "{}");
	mk("new/deeper");
	put("new/deeper/e.jsonl.gz", "x");
	poll_for(w, 2, &got);
	CHECK_INT(listed(&got, "a.json"), 0);
	CHECK_INT(listed(&got, "new/c.ndjson"), 1);
	CHECK_INT(listed(&got, "new/deeper/e.jsonl.gz"), 1);
	CHECK_INT(got.n, 2);
	CHECK_INT(ts_watch_count(w), 4); /* and not CloudTrail-Digest */
	ts_pathlist_free(&got);

	/* marked seen (read from a listing): not reported when closed */
	char seen[512];
	path_of(seen, sizeof seen, "old/listed.json");
	CHECK_INT(ts_watch_seen(w, seen), 0);
	put("old/listed.json", "{}");
	put("old/f.json", "{}");
	poll_for(w, 1, &got);
	CHECK_INT(listed(&got, "old/listed.json"), 0);
	CHECK_INT(listed(&got, "old/f.json"), 1);
	CHECK_INT(got.n, 1);
	ts_pathlist_free(&got);

	/* a removed folder is no longer watched */
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s/new'", root);
	CHECK_INT(system(cmd), 0);
	poll_for(w, 0, &got);
	CHECK_INT(got.n, 0);
	CHECK_INT(ts_watch_count(w), 2);
	ts_watch_free(w);

	/* what cannot be watched is said */
	path_of(to, sizeof to, "a.json");
	CHECK_INT(ts_watch_new(to, &w, err, sizeof err), TS_EIO);
	CHECK(strstr(err, "not a folder") != NULL);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	CHECK_INT(system(cmd), 0);
}

TS_TESTS(test_watch)
