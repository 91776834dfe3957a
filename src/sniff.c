/* sniff.c - whether an input looks like JSON text, from its first bytes
 * (sniff.h). Inflates at most 16 KiB of a gzip input into a stack buffer;
 * owns nothing between calls. */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "sniff.h"

static int is_blank(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Inflate the start of a gzip input into out[cap]; the bytes made. */
static size_t sniff_inflate(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return 0;
	zs.next_in = (unsigned char *)(uintptr_t)in; /* zlib does not write it */
	zs.avail_in = n > UINT_MAX ? UINT_MAX : (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	inflate(&zs, Z_SYNC_FLUSH);
	size_t made = cap - zs.avail_out;
	inflateEnd(&zs);
	return made;
}

int ts_sniff_json(const void *buf, size_t n)
{
	const unsigned char *b = buf;
	unsigned char tmp[16384];
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
		n = sniff_inflate(b, n, tmp, sizeof tmp);
		b = tmp;
	}
	if (n >= 2 && ((b[0] == 0xff && b[1] == 0xfe) || (b[0] == 0xfe && b[1] == 0xff) ||
		       (b[0] && !b[1]) || (!b[0] && b[1])))
		return 1; /* UTF-16: read, to be reported as such */
	int col0 = 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = b[i];
		if (col0 && (c == '{' || c == '['))
			return 1;
		if (col0 && c == 0xef && i + 2 < n && b[i + 1] == 0xbb && b[i + 2] == 0xbf) {
			i += 2;
			continue;
		}
		if (c == '\n')
			col0 = 1;
		else if (!is_blank(c))
			col0 = 0; /* blanks before a value keep the line's start */
	}
	return 0;
}
