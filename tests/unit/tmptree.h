/* tmptree.h - files and folders under one temporary root for the tests of
 * the folder walk and the watcher: root (the test makes it, mkdtemp),
 * path_of (a path under it; aborts if the buffer is too short), put (a
 * file with a text), mk (a folder). Included by one test file each. */
#ifndef TS_TEST_TMPTREE_H
#define TS_TEST_TMPTREE_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../check.h"

static char root[64];

static void path_of(char *buf, size_t n, const char *rel)
{
	int k = snprintf(buf, n, "%s/%s", root, rel);
	if (k < 0 || (size_t)k >= n)
		abort(); /* a test path longer than its buffer */
}

static void put(const char *rel, const char *text)
{
	char p[512];
	path_of(p, sizeof p, rel);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void mk(const char *rel)
{
	char p[512];
	path_of(p, sizeof p, rel);
	CHECK_INT(mkdir(p, 0755), 0);
}

#endif
