/* test_jscan.c - the fast validating walk: what it vouches for, the
 * spans it gives, and the shapes it leaves to the exact path. The
 * agreement of the two paths on every input is test_record's. */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "jscan.h"
#include "util.h"

static int root_slot(const char *name, size_t n)
{
	if (n == 1 && name[0] == 'a')
		return 0;
	if (n == 1 && name[0] == 'u')
		return 1;
	return -1;
}

static int sub_slot(const char *name, size_t n) { return n == 3 && !memcmp(name, "arn", 3) ? 0 : -1; }

static ts_jtok ROOT[2], SUB[1];

static int scan_caps(const char *s, unsigned tokens, unsigned depth)
{
	ts_jscan_want w = {root_slot, 2, 1, sub_slot, 1, tokens, depth};
	unsigned flags;
	return ts_jscan(s, strlen(s), &w, ROOT, SUB, &flags);
}

static int scan(const char *s) { return scan_caps(s, 1000, 64); }

static void test_spans(void)
{
	const char *s = " {\"x\":[1,{\"a\":2}],\"a\":\"v\\\"w\",\"u\":{\"k\":{\"arn\":1},\"arn\":\"z\"}}\n";
	CHECK_INT(scan(s), 1);
	CHECK_INT(ROOT[0].type, TS_JT_STRING);
	CHECK_MEM(s + ROOT[0].start, (size_t)(ROOT[0].end - ROOT[0].start), "v\\\"w");
	CHECK_INT(ROOT[1].type, TS_JT_OBJECT);
	CHECK_INT(s[ROOT[1].start], '{');
	CHECK_INT(s[ROOT[1].end - 1], '}');
	CHECK_INT(s[ROOT[1].end], '}'); /* the root's closer follows */
	/* only the sub object's own "arn", not the nested one */
	CHECK_INT(SUB[0].type, TS_JT_STRING);
	CHECK_MEM(s + SUB[0].start, (size_t)(SUB[0].end - SUB[0].start), "z");

	CHECK_INT(scan("{\"a\":-0.5e+7,\"u\":[{\"arn\":\"no\"}]}"), 1);
	CHECK_INT(ROOT[0].type, TS_JT_PRIMITIVE);
	CHECK_INT(ROOT[1].type, TS_JT_ARRAY);
	CHECK_INT(SUB[0].type, TS_JT_NONE);
	CHECK_INT(scan("{}"), 1);
	CHECK_INT(ROOT[0].type, TS_JT_NONE);
}

/* Long strings across many 64-byte blocks, with escapes at block edges. */
static void test_blocks(void)
{
	for (int pad = 0; pad < 140; pad++) {
		ts_buf b = {0};
		ts_buf_puts(&b, "{\"p\":\"");
		for (int i = 0; i < pad; i++)
			ts_buf_puts(&b, i % 7 == 3 ? "\\\\" : i % 11 == 5 ? "\\\"" : "x");
		ts_buf_puts(&b, "\",\"a\":true}");
		CHECK_INT(scan(b.p), 1);
		CHECK_INT(ROOT[0].type, TS_JT_PRIMITIVE);
		CHECK_MEM(b.p + ROOT[0].start, (size_t)(ROOT[0].end - ROOT[0].start), "true");
		/* cut anywhere: never vouched for */
		for (size_t cut = 1; cut < b.len; cut += 1 + cut / 3) {
			ts_jscan_want w = {root_slot, 2, 1, sub_slot, 1, 1000, 64};
			unsigned flags;
			CHECK_INT(ts_jscan(b.p, cut, &w, ROOT, SUB, &flags), 0);
		}
		ts_buf_free(&b);
	}
}

static void test_refused(void)
{
	static const char *bad[] = {
		"", "[]", "{", "}", "{}{}", "{} x", "x{}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}",
		"{\"a\":1,}", "{,}", "{\"a\":1 \"b\":2}", "{\"a\":[1,]}", "{\"a\":[,1]}",
		"{\"a\":[1 2]}", "{\"a\":tru}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}",
		"{\"a\":-}", "{\"a\":1e}", "{\"a\":nul}", "{\"a\":\"x\\q\"}", "{\"a\":\"\\u12g4\"}",
		"{\"a\":\"\\u12\"}", "{\"a\":\"open}", "{\"a\":[}", "{\"a\":{]}", "{1:2}",
		"{\"a\":1}]", "{\"a\":\"x\"\"y\"}", "{\"a\":true1}", "{\"a\":\"\\",
		/* left to the exact path: an escaped name, a name twice */
		"{\"\\u0061\":1}", "{\"a\":1,\"a\":2}", "{\"u\":{\"arn\":1,\"arn\":2}}",
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(bad); i++) {
		if (scan(bad[i]) != 0)
			fprintf(stderr, "  vouched for: %s\n", bad[i]);
		CHECK_INT(scan(bad[i]), 0);
	}
	/* a NUL byte anywhere */
	ts_jscan_want w = {root_slot, 2, 1, sub_slot, 1, 1000, 64};
	unsigned flags;
	CHECK_INT(ts_jscan("{\"a\":\"x\0\"}", 9, &w, ROOT, SUB, &flags), 0);
	CHECK_INT(ts_jscan("{\"a\":1}\0", 8, &w, ROOT, SUB, &flags), 0);
	/* escapes that are fine, and bytes jsmn does not check inside strings */
	CHECK_INT(scan("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00E9\\uDBFF\"}"), 1);
	CHECK_INT(scan("{\"a\":\"tab\there\"}"), 1);
	CHECK_INT(ts_jscan("{\"a\":\"\xc3\xa9\"}", 10, &w, ROOT, SUB, &flags), 1);
	CHECK_INT(flags, TS_JSCAN_HIGH | TS_JSCAN_PLAIN);
	/* plain: no backslash anywhere, no control byte in a string */
	CHECK_INT(ts_jscan("{\"a\":\"x y\"}\n", 12, &w, ROOT, SUB, &flags), 1);
	CHECK_INT(flags, TS_JSCAN_PLAIN);
	CHECK_INT(ts_jscan("{\"b\":\"\\n\",\"a\":1}", 16, &w, ROOT, SUB, &flags), 1);
	CHECK_INT(flags, 0);
	CHECK_INT(ts_jscan("{\"b\":\"\t\",\"a\":1}", 15, &w, ROOT, SUB, &flags), 1);
	CHECK_INT(flags, 0);
	CHECK_INT(scan("{\"a\":\"plain\"}"), 1);
}

static void test_caps(void)
{
	/* tokens as jsmn counts them: the root, "a", [, 1, 2 = 5 */
	CHECK_INT(scan_caps("{\"a\":[1,2]}", 5, 64), 1);
	CHECK_INT(scan_caps("{\"a\":[1,2]}", 4, 64), 0);
	/* depth: containers open at once, the root included */
	CHECK_INT(scan_caps("{\"a\":[[1]]}", 100, 3), 1);
	CHECK_INT(scan_caps("{\"a\":[[1]]}", 100, 2), 0);
	ts_buf b = {0};
	ts_buf_puts(&b, "{\"a\":");
	for (int i = 0; i < 300; i++)
		ts_buf_puts(&b, "[");
	for (int i = 0; i < 300; i++)
		ts_buf_puts(&b, "]");
	ts_buf_puts(&b, "}");
	CHECK_INT(scan_caps(b.p, 1000, 100000), 0); /* deeper than it tracks */
	ts_buf_free(&b);
}

TS_TESTS(test_spans, test_blocks, test_refused, test_caps)
