/* test_sniff.c - what the folder walk takes for JSON text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../check.h"
#include "sniff.h"

/* gzip in memory (one member). */
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

static void test_sniff_json(void)
{
	CHECK_INT(ts_sniff_json("{\"a\":1}", 7), 1);
	CHECK_INT(ts_sniff_json("  \n\t[", 5), 1);
	CHECK_INT(ts_sniff_json("\xef\xbb\xbf{", 4), 1);
	CHECK_INT(ts_sniff_json("$ prompt\n{\"a\":1}", 17), 1);
	CHECK_INT(ts_sniff_json("\xff\xfe{\0", 4), 1);
	CHECK_INT(ts_sniff_json("hello {world}\n", 14), 0);
	CHECK_INT(ts_sniff_json("", 0), 0);
	size_t gn;
	unsigned char *g = gz("\n{\"Records\":[]}", 15, &gn);
	CHECK_INT(ts_sniff_json(g, gn), 1);
	free(g);
	g = gz("a,b,c\n1,2,3\n", 12, &gn);
	CHECK_INT(ts_sniff_json(g, gn), 0);
	free(g);
}


static void test_sniff_late_line(void)
{
	/* a value starts a line after a long preamble, within the 4 KiB */
	char buf[3000];
	memset(buf, 'x', sizeof buf);
	buf[2000] = '\n';
	buf[2001] = '[';
	CHECK_INT(ts_sniff_json(buf, sizeof buf), 1);
	buf[2001] = 'y';
	CHECK_INT(ts_sniff_json(buf, sizeof buf), 0);
}

TS_TESTS(test_sniff_json, test_sniff_late_line)
