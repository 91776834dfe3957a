/* gz_mem.h - gzip in memory for the tests that read gzip input: one member
 * of src[0..n) at level 6, in a malloc'd buffer (aborts when it cannot). */
#ifndef TS_TEST_GZ_MEM_H
#define TS_TEST_GZ_MEM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static unsigned char *gz(const void *src, size_t n, size_t *outn)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	size_t cap = deflateBound(&z, (uLong)n) + 64;
	unsigned char *out = malloc(cap);
	if (!out)
		abort();
	z.next_in = (unsigned char *)(uintptr_t)src;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*outn = z.total_out;
	deflateEnd(&z);
	return out;
}

#endif
