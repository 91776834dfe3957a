/* test_util.c - calendar arithmetic, time parsing, UTF-8, buffers. */
#include "../check.h"
#include "util.h"

static void test_civil_roundtrip(void)
{
	CHECK_INT(ts_days_from_civil(1970, 1, 1), 0);
	CHECK_INT(ts_days_from_civil(2000, 3, 1), 11017);
	for (int64_t z = -800000; z < 800000; z += 97) {
		int64_t y;
		unsigned m, d;
		ts_civil_from_days(z, &y, &m, &d);
		if (ts_days_from_civil(y, m, d) != z) {
			CHECK_INT(ts_days_from_civil(y, m, d), z);
			break;
		}
	}
}

static void test_parse_time(void)
{
	int64_t s = 0;
	CHECK_INT(ts_parse_time("2024-02-29T23:59:59Z", 20, &s), 0);
	CHECK_INT(s, 1709251199);
	CHECK_INT(ts_parse_time("2020-09-14T00:44:23.000Z", 24, &s), 0);
	CHECK_INT(s, 1600044263);
	CHECK_INT(ts_parse_time("2023-02-29T00:00:00Z", 20, &s), TS_EBADTIME);
	/* century years are leap years only every 400 years */
	CHECK_INT(ts_parse_time("2100-02-29T00:00:00Z", 20, &s), TS_EBADTIME);
	CHECK_INT(ts_parse_time("2000-02-29T00:00:00Z", 20, &s), 0);
	CHECK_INT(s, 951782400);
	CHECK_INT(ts_parse_time("2023-13-01T00:00:00Z", 20, &s), TS_EBADTIME);
	CHECK_INT(ts_parse_time("2023-01-01 00:00:00Z", 20, &s), TS_EBADTIME);
	CHECK_INT(ts_parse_time("2023-01-01T00:00:00", 19, &s), TS_EBADTIME);
	/* RFC 3339 offsets and fractions are converted to UTC */
	CHECK_INT(ts_parse_time("2023-01-01T00:00:00+01:00", 25, &s), 0);
	CHECK_INT(s, 1672531200 - 3600);
	CHECK_INT(ts_parse_time("2022-12-31T19:30:00.123456-04:30", 32, &s), 0);
	CHECK_INT(s, 1672531200);
	CHECK_INT(ts_parse_time("2023-01-01t00:00:00z", 20, &s), 0);
	CHECK_INT(s, 1672531200);
	CHECK_INT(ts_parse_time("1970-01-01T00:30:00+01:00", 25, &s), TS_EBADTIME);
	CHECK_INT(ts_parse_time("2023-01-01T00:00:00+0100", 24, &s), TS_EBADTIME);
	CHECK_INT(ts_parse_time("2023-01-01T00:00:00+24:00", 25, &s), TS_EBADTIME);
	CHECK_INT(ts_parse_time("2023-01-01T00:00:00+01:60", 25, &s), TS_EBADTIME);
	CHECK_INT(ts_parse_time("2023-01-01T00:00:00 +01:00", 26, &s), TS_EBADTIME);
	CHECK_INT(ts_parse_time("2023-01-01T24:00:00Z", 20, &s), TS_EBADTIME);
	CHECK_INT(ts_parse_time("2023-01-01T00:00:00.Z", 21, &s), TS_EBADTIME);
	CHECK_INT(ts_parse_time("", 0, &s), TS_EBADTIME);
}

static void test_format_minute(void)
{
	char out[21];
	ts_format_minute(0, out);
	CHECK_STR(out, "1970-01-01T00:00:00Z");
	ts_format_minute(1709251199 / 60, out);
	CHECK_STR(out, "2024-02-29T23:59:00Z");
}

static void test_utf8(void)
{
	CHECK(ts_utf8_valid("plain ascii text, long enough", 29));
	CHECK(ts_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	CHECK(!ts_utf8_valid("\xc3", 1));           /* truncated */
	CHECK(!ts_utf8_valid("\xc0\xaf", 2));       /* overlong */
	CHECK(!ts_utf8_valid("\xed\xa0\x80", 3));   /* surrogate */
	CHECK(!ts_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	CHECK(!ts_utf8_valid("abcdefgh\xff", 9));
}

static void test_buf_cap(void)
{
	ts_buf b = {0};
	b.cap = 8;
	CHECK_INT(ts_buf_puts(&b, "12345678"), 0);
	CHECK_INT(ts_buf_puts(&b, "9"), TS_ECAP);
	CHECK_STR(b.p, "12345678");
	ts_buf_reset(&b);
	CHECK_INT(ts_buf_printf(&b, "%d-%s", 42, "x"), 0);
	CHECK_STR(b.p, "42-x");
	ts_buf_free(&b);
	CHECK(b.p == NULL);
}

static void test_errors(void)
{
	CHECK_STR(ts_strerror(TS_EJSON), "invalid JSON");
	CHECK_STR(ts_errname(TS_ENOTIME), "no_event_time");
	CHECK_STR(ts_strerror(-999), "unknown error");
	CHECK_STR(ts_errname(-999), "unknown");
	/* every code from 0 down has a message and a name of its own, from the
	 * one table; tables indexed by -code have room for the last one */
	CHECK_INT(TS_ERR_COUNT, 21);
	CHECK_INT(-TS_EFENCED, TS_ERR_COUNT - 1);
	CHECK_STR(ts_errname(TS_EUTF16), "utf16");
	CHECK_STR(ts_errname(TS_EFENCED), "fenced");
	CHECK_STR(ts_errname(TS_ETRUNC), "truncated");
	CHECK_STR(ts_errname(TS_OK), "ok");
	for (int i = 0; i < TS_ERR_COUNT; i++) {
		CHECK(strcmp(ts_strerror(-i), "unknown error") != 0);
		CHECK(strcmp(ts_errname(-i), "unknown") != 0);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(ts_errname(-i), ts_errname(-j)) != 0);
	}
	CHECK_STR(ts_errname(-TS_ERR_COUNT), "unknown");
}

static void test_grow(void)
{
	uint32_t *a = NULL;
	size_t cap = 0;
	CHECK_INT(ts_grow(&a, &cap, 0, sizeof *a, 8), 0);
	CHECK(a == NULL);
	CHECK_INT(ts_grow(&a, &cap, 1, sizeof *a, 8), 0);
	CHECK_INT(cap, 8);
	for (size_t i = 0; i < cap; i++)
		CHECK_INT(a[i], 0);
	a[7] = 7;
	CHECK_INT(ts_grow(&a, &cap, 8, sizeof *a, 8), 0); /* room already */
	CHECK_INT(cap, 8);
	CHECK_INT(ts_grow(&a, &cap, 33, sizeof *a, 8), 0);
	CHECK_INT(cap, 64);
	CHECK_INT(a[7], 7); /* kept */
	int zero = 1;
	for (size_t i = 8; i < cap; i++)
		zero &= a[i] == 0;
	CHECK(zero); /* new elements zeroed */
	/* a size that overflows is refused, the array unchanged */
	uint32_t *keep = a;
	CHECK_INT(ts_grow(&a, &cap, SIZE_MAX / 2, sizeof *a, 8), TS_ENOMEM);
	CHECK(a == keep);
	CHECK_INT(cap, 64);
	free(a);
}

static void test_parse_double(void)
{
	double d = -1;
	CHECK_INT(ts_parse_double("1e-7", 0, 1, &d), 0);
	CHECK(d == 1e-7);
	CHECK_INT(ts_parse_double("2.5", 0, 2, &d), -1);  /* over hi */
	CHECK_INT(ts_parse_double("1x", 0, 2, &d), -1);   /* trailing text */
	CHECK_INT(ts_parse_double("", 0, 2, &d), -1);
	CHECK_INT(ts_parse_double("nan", -1e9, 1e9, &d), -1);
}

TS_TESTS(test_grow, test_parse_double, test_civil_roundtrip, test_parse_time, test_format_minute, test_utf8,
	 test_buf_cap, test_errors)
