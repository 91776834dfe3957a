/* test_gunzip.c - whole-buffer gzip decoding: members, growth of the
 * reused buffer, the output cap, and every way an input is refused (so
 * that the caller streams it instead). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../check.h"
#include "gz_mem.h"
#include "gunzip.h"
#include "util.h"

/* n bytes of text that compress moderately, differing by seed */
static char *text_of(size_t n, unsigned seed)
{
	char *t = malloc(n + 1);
	if (!t)
		abort();
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		t[i] = (char)('a' + (x >> 16) % 7);
	}
	t[n] = '\0';
	return t;
}

static void test_one_member(void)
{
	ts_gunzip *g = ts_gunzip_new();
	CHECK(g != NULL);
	for (size_t n = 0; n <= 300000; n = n ? n * 3 : 1) {
		char *t = text_of(n, (unsigned)n);
		size_t zn;
		unsigned char *z = gz(t, n, &zn);
		const char *out;
		size_t len;
		CHECK_INT(ts_gunzip_all(g, z, zn, SIZE_MAX / 4, &out, &len), 0);
		CHECK_INT(len, n);
		CHECK(n == 0 || memcmp(out, t, n) == 0);
		free(z);
		free(t);
	}
	ts_gunzip_free(g);
	ts_gunzip_free(NULL);
}

/* Several members back to back: the length field of the last one is a
 * poor guess for the whole, so the buffer must grow mid-way. */
static void test_members_grow(void)
{
	ts_gunzip *g = ts_gunzip_new();
	size_t sizes[] = {10, 200000, 3, 500000, 0, 70000};
	unsigned char *all = NULL;
	size_t alln = 0, total = 0;
	char *want = malloc(1);
	for (size_t i = 0; i < TS_ARRAY_LEN(sizes); i++) {
		char *t = text_of(sizes[i], (unsigned)i + 7);
		size_t zn;
		unsigned char *z = gz(t, sizes[i], &zn);
		all = realloc(all, alln + zn);
		want = realloc(want, total + sizes[i] + 1);
		if (!all || !want)
			abort();
		memcpy(all + alln, z, zn);
		memcpy(want + total, t, sizes[i]);
		alln += zn;
		total += sizes[i];
		free(z);
		free(t);
	}
	const char *out;
	size_t len;
	CHECK_INT(ts_gunzip_all(g, all, alln, SIZE_MAX / 4, &out, &len), 0);
	CHECK_INT(len, total);
	CHECK(memcmp(out, want, total) == 0);
	/* the cap: exactly the length passes, one byte less is TS_ECAP */
	CHECK_INT(ts_gunzip_all(g, all, alln, total, &out, &len), 0);
	CHECK_INT(ts_gunzip_all(g, all, alln, total - 1, &out, &len), TS_ECAP);
	CHECK_INT(ts_gunzip_all(g, all, alln, 5, &out, &len), TS_ECAP);
	/* and the decoder still works after refusing */
	CHECK_INT(ts_gunzip_all(g, all, alln, SIZE_MAX / 4, &out, &len), 0);
	CHECK_INT(len, total);
	free(all);
	free(want);
	ts_gunzip_free(g);
}

static void test_refused(void)
{
	ts_gunzip *g = ts_gunzip_new();
	char *t = text_of(50000, 3);
	size_t zn;
	unsigned char *z = gz(t, 50000, &zn);
	unsigned char *b = malloc(zn + 16);
	const char *out;
	size_t len;
	/* not gzip, or too short to be */
	CHECK_INT(ts_gunzip_all(g, t, 50000, SIZE_MAX / 4, &out, &len), TS_EGZIP);
	CHECK_INT(ts_gunzip_all(g, z, 10, SIZE_MAX / 4, &out, &len), TS_EGZIP);
	/* every truncation */
	for (size_t cut = 1; cut < zn; cut += 1 + cut / 8)
		CHECK_INT(ts_gunzip_all(g, z, zn - cut, SIZE_MAX / 4, &out, &len), TS_EGZIP);
	/* a wrong CRC-32, a wrong length field */
	memcpy(b, z, zn);
	b[zn - 8] ^= 1;
	CHECK_INT(ts_gunzip_all(g, b, zn, SIZE_MAX / 4, &out, &len), TS_EGZIP);
	memcpy(b, z, zn);
	b[zn - 1] ^= 1;
	CHECK_INT(ts_gunzip_all(g, b, zn, SIZE_MAX / 4, &out, &len), TS_EGZIP);
	/* trailing zeros or garbage after a whole member */
	memcpy(b, z, zn);
	memset(b + zn, 0, 16);
	CHECK_INT(ts_gunzip_all(g, b, zn + 16, SIZE_MAX / 4, &out, &len), TS_EGZIP);
	memcpy(b + zn, "\x1f\x8bxxxxxxxxxxxxxx", 16);
	CHECK_INT(ts_gunzip_all(g, b, zn + 16, SIZE_MAX / 4, &out, &len), TS_EGZIP);
	/* the intact member still decodes */
	CHECK_INT(ts_gunzip_all(g, z, zn, SIZE_MAX / 4, &out, &len), 0);
	CHECK_INT(len, 50000);
	free(b);
	free(z);
	free(t);
	ts_gunzip_free(g);
}

/* A large input makes the buffer grow past what is kept between calls;
 * the next call gives it back and still decodes. */
static void test_large_then_small(void)
{
	ts_gunzip *g = ts_gunzip_new();
	size_t big = (size_t)20 << 20;
	char *t = calloc(1, big);
	if (!t)
		abort();
	size_t zn, sn;
	unsigned char *z = gz(t, big, &zn);
	unsigned char *s = gz("{\"Records\":[]}", 14, &sn);
	const char *out;
	size_t len;
	CHECK_INT(ts_gunzip_all(g, z, zn, SIZE_MAX / 4, &out, &len), 0);
	CHECK_INT(len, big);
	CHECK_INT(ts_gunzip_all(g, s, sn, SIZE_MAX / 4, &out, &len), 0);
	CHECK_MEM(out, len, "{\"Records\":[]}");
	free(s);
	free(z);
	free(t);
	ts_gunzip_free(g);
}

TS_TESTS(test_one_member, test_members_grow, test_refused, test_large_then_small)
