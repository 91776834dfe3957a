/* gunzip.c - whole-buffer gzip decoding with libdeflate.
 *
 * Owns one libdeflate decompressor and one output buffer (out, alloc
 * bytes), reused across calls so that a run of many files does not map
 * and fault in fresh pages for each. Members are decoded one after the
 * other into the buffer; when one does not fit, the buffer doubles and
 * that member is decoded again. Invariant: alloc <= max_out + 1 of the
 * call that grew it, and alloc <= KEEP_MAX once a call starts.
 */
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>

#include "gunzip.h"
#include "util.h"

#define KEEP_MAX ((size_t)16 << 20) /* buffer kept between calls */
#define FIRST_GUESS ((size_t)64 << 10)

struct ts_gunzip {
	struct libdeflate_decompressor *d;
	char *out;
	size_t alloc;
};

ts_gunzip *ts_gunzip_new(void)
{
	ts_gunzip *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->d = libdeflate_alloc_decompressor();
	if (!g->d) {
		free(g);
		return NULL;
	}
	return g;
}

void ts_gunzip_free(ts_gunzip *g)
{
	if (!g)
		return;
	libdeflate_free_decompressor(g->d);
	free(g->out);
	free(g);
}

/* Grow the buffer to at least want bytes (capped at cap). */
static int grow(ts_gunzip *g, size_t want, size_t cap)
{
	if (want <= g->alloc)
		return 0;
	if (want > cap)
		want = cap;
	if (want <= g->alloc)
		return TS_ECAP;
	char *p = realloc(g->out, want);
	if (!p)
		return TS_ENOMEM;
	g->out = p;
	g->alloc = want;
	return 0;
}

int ts_gunzip_all(ts_gunzip *g, const void *in, size_t n, size_t max_out, const char **text,
		  size_t *len)
{
	const unsigned char *p = in;
	size_t used = 0, made = 0;
	/* one byte more than max_out tells "longer than allowed" apart */
	size_t cap = max_out < SIZE_MAX / 2 ? max_out + 1 : SIZE_MAX / 2;

	if (g->alloc > KEEP_MAX) {
		free(g->out);
		g->out = NULL;
		g->alloc = 0;
	}
	if (n < 18 || p[0] != 0x1f || p[1] != 0x8b)
		return TS_EGZIP;
	/* the last member's length field (mod 2^32): exact for one member */
	size_t guess = (size_t)p[n - 4] | (size_t)p[n - 3] << 8 | (size_t)p[n - 2] << 16 |
		       (size_t)p[n - 1] << 24;
	if (guess < n)
		guess = n * 4;
	int rc = grow(g, (guess < FIRST_GUESS ? FIRST_GUESS : guess) + 1, cap);
	if (rc)
		return rc;
	while (used < n) {
		size_t in_used = 0, out_made = 0;
		enum libdeflate_result r = libdeflate_gzip_decompress_ex(
			g->d, p + used, n - used, g->out + made, g->alloc - made, &in_used, &out_made);
		if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
			if (g->alloc >= cap)
				return TS_ECAP;
			if ((rc = grow(g, g->alloc < cap / 2 ? g->alloc * 2 : cap, cap)))
				return rc;
			continue;
		}
		if (r != LIBDEFLATE_SUCCESS || in_used == 0)
			return TS_EGZIP;
		used += in_used;
		made += out_made;
		if (made > max_out)
			return TS_ECAP;
	}
	*text = g->out;
	*len = made;
	return 0;
}
