/* test_watch_cap.c - the folder watcher: each complete file reported once, and
 * the set of paths reported stays within its cap however many files come. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "tally.h"
#include "util.h"
#include "watch.h"

static char *tmpdir(char *buf, size_t n)
{
	const char *t = getenv("TMPDIR");
	snprintf(buf, n, "%s/ts-watch-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(buf);
}

/* Write dir/name as a writer that renames into place does. */
static int put(const char *dir, const char *name)
{
	char tmp[600], dst[600];
	snprintf(tmp, sizeof tmp, "%s/.%s.part", dir, name);
	snprintf(dst, sizeof dst, "%s/%s", dir, name);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs("{\"Records\":[]}\n", f);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, dst);
}

/* Poll until n paths are ready or 50 polls pass; the number gathered. */
static size_t gather(ts_watch *w, ts_pathlist *ready, size_t n)
{
	for (int i = 0; i < 50 && ready->n < n; i++)
		if (ts_watch_poll(w, 100, ready) < 0)
			break;
	return ready->n;
}

static void rm_tree(const char *dir, int nfiles)
{
	char p[600];
	for (int i = 0; i < nfiles; i++) {
		snprintf(p, sizeof p, "%s/f%05d.json", dir, i);
		unlink(p);
	}
	rmdir(dir);
}

static void test_each_file_once_and_seen_capped(void)
{
	char dir[256];
	if (!tmpdir(dir, sizeof dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	ts_watch *w = NULL;
	char err[512];
	CHECK_INT(ts_watch_new(dir, &w, err, sizeof err), 0);
	if (!w)
		return;
	enum { CAP = 16, FILES = 1000 };
	ts_watch_set_seen_cap(w, CAP);
	size_t mem0 = ts_watch_memory(w), mem_max = 0;
	int reported = 0, dup = 0;
	ts_tally got = {0};
	for (int i = 0; i < FILES; i++) {
		char name[64];
		snprintf(name, sizeof name, "f%05d.json", i);
		CHECK_INT(put(dir, name), 0);
		if (i % 50 != 49)
			continue;
		ts_pathlist ready = {0};
		gather(w, &ready, 50);
		for (size_t k = 0; k < ready.n; k++) {
			uint64_t h = ts_hash(ready.paths[k], strlen(ready.paths[k]), 1) >> 1;
			dup += ts_tally_get(&got, h) != 0;
			CHECK_INT(ts_tally_add(&got, h, 1), 0);
			reported++;
		}
		ts_pathlist_free(&ready);
		/* the bound: never more than two generations of paths */
		CHECK(ts_watch_seen_count(w) <= 2 * CAP);
		size_t m = ts_watch_memory(w);
		mem_max = m > mem_max ? m : mem_max;
	}
	CHECK_INT(reported, FILES);
	CHECK_INT(dup, 0);
	CHECK(ts_watch_seen_count(w) >= CAP);
	/* two tallies of at most 2 * CAP slots of 16 bytes, over the start */
	CHECK(mem_max <= mem0 + 2 * (2 * CAP) * 16 + 2 * 16 * 16);

	/* a recent path written again is not reported again */
	char name[64];
	snprintf(name, sizeof name, "f%05d.json", FILES - 1);
	CHECK_INT(put(dir, name), 0);
	ts_pathlist ready = {0};
	for (int i = 0; i < 3; i++)
		CHECK(ts_watch_poll(w, 100, &ready) >= 0);
	CHECK_INT(ready.n, 0);
	/* one reported CAP * 2 + files ago was forgotten: written again, it
	 * is reported again (the store's file marks keep it from counting) */
	CHECK_INT(put(dir, "f00000.json"), 0);
	CHECK_INT(gather(w, &ready, 1), 1);
	ts_pathlist_free(&ready);

	ts_tally_free(&got);
	ts_watch_free(w);
	rm_tree(dir, FILES);
}

static void test_marked_seen_not_reported(void)
{
	char dir[256];
	if (!tmpdir(dir, sizeof dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	ts_watch *w = NULL;
	char err[512];
	CHECK_INT(ts_watch_new(dir, &w, err, sizeof err), 0);
	if (!w)
		return;
	char path[600];
	snprintf(path, sizeof path, "%s/f00000.json", dir);
	CHECK_INT(ts_watch_seen(w, path), 0);
	CHECK_INT(ts_watch_seen_count(w), 1);
	CHECK_INT(put(dir, "f00000.json"), 0);
	CHECK_INT(put(dir, "f00001.json"), 0);
	ts_pathlist ready = {0};
	gather(w, &ready, 1);
	for (int i = 0; i < 2; i++)
		CHECK(ts_watch_poll(w, 100, &ready) >= 0);
	CHECK_INT(ready.n, 1);
	if (ready.n == 1)
		CHECK(strstr(ready.paths[0], "f00001.json") != NULL);
	ts_pathlist_free(&ready);
	ts_watch_free(w);
	rm_tree(dir, 2);
}

TS_TESTS(test_each_file_once_and_seen_capped, test_marked_seen_not_reported)
