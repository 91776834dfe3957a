/* test_sniff.c - what the folder walk takes for JSON text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../check.h"
#include "gz_mem.h"
#include "sniff.h"

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
