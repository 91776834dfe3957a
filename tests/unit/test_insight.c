/* test_insight.c - SHA-1, UUIDs, JSON numbers and strings, insight events.
 *
 * Expected digests and UUIDs come from python3's hashlib and uuid; the
 * event IDs from tests/data/insight/ids.py, which rebuilds the names
 * documented at the top of src/insight.c independently of the C code.
 */
#include <math.h>
#include <stdlib.h>

#include "../check.h"
#include "insight.h"
#include "sha1.h"

static void hex20(const uint8_t d[20], char out[41])
{
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < 20; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[40] = '\0';
}

static void check_sha1(const void *p, size_t n, const char *want)
{
	uint8_t d[20];
	char got[41];
	ts_sha1(p, n, d);
	hex20(d, got);
	CHECK_STR(got, want);
}

static void test_sha1_vectors(void)
{
	check_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		   "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	check_sha1("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		   "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		   112, "a49b2446a02c645bf419f995b67091253a04a259");
	char *m = malloc(1000000);
	CHECK(m != NULL);
	if (m) {
		memset(m, 'a', 1000000);
		check_sha1(m, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
		free(m);
	}
}

/* Lengths around the padding boundaries (55/56 bytes mod 64). */
static void test_sha1_padding(void)
{
	static const struct {
		size_t n;
		const char *want;
	} t[] = {
		{55, "ddf57317ef34bfee3b6df83d359098930eb278bc"},
		{56, "a0d492bb0fc889d0eca3bc137066ab6f4f74f369"},
		{57, "11a02dcf95859677a62e75024067c22b165d890f"},
		{63, "c55856749bef509bdfe6bfebfc7bf4e793e82132"},
		{64, "bede92be29c3874e1b54ddc77988d606fc857a8e"},
		{65, "b05a80522b053d6dc7e0a517d0e70212c7dad11f"},
		{119, "504e27376a6e0f0dba8295b85cb25dc4dfa17d23"},
		{120, "82134b02fb3f702491be9bed581eeab59334acb2"},
		{127, "34d5e582029e9b9b85b2febe31da3db7cdabaaea"},
		{128, "a09133e6730ffe899efb70204cb5646cd5dc24ee"},
	};
	uint8_t msg[128];
	for (unsigned i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < TS_ARRAY_LEN(t); i++)
		check_sha1(msg, t[i].n, t[i].want);
}

static void test_uuid5(void)
{
	static const uint8_t dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
					0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
	static const uint8_t url[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
					0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
	uint8_t u[16];
	char s[37];
	ts_uuid5(dns, "python.org", 10, u);
	ts_uuid_format(u, s);
	CHECK_STR(s, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	CHECK_INT(u[6] >> 4, 5);
	CHECK_INT(u[8] >> 6, 2);
	ts_uuid5(dns, NULL, 0, u); /* an empty name may be NULL */
	ts_uuid_format(u, s);
	CHECK_STR(s, "4ebd0208-8328-5d69-8c44-ec50939c0967");
	ts_uuid5(url, "https://example.com/\xc3\xa9", 22, u);
	ts_uuid_format(u, s);
	CHECK_STR(s, "20ecd233-a9e7-5067-a96f-fd6600ca3fda");

	static const uint8_t ff[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	ts_uuid_format(ff, s);
	CHECK_STR(s, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

/* Format v alone; returns the text (static) or NULL on error. */
static const char *num(double v, int *rc)
{
	static char text[512];
	ts_buf b = {0};
	*rc = ts_json_number(&b, v);
	snprintf(text, sizeof text, "%s", b.p ? b.p : "");
	ts_buf_free(&b);
	return *rc ? NULL : text;
}

static void test_number_format(void)
{
	/* Java's Double.toString of the value rounded to 10 decimals */
	static const struct {
		double v;
		const char *want;
	} t[] = {
		{0, "0.0"},
		{-0.0, "0.0"},
		{-1e-12, "0.0"},
		{1e-11, "0.0"},
		{0.00000000004, "0.0"},
		{0.00000000006, "1.0E-10"},
		{4, "4.0"},
		{5, "5.0"},
		{12.5, "12.5"},
		{50.1, "50.1"},
		{0.1, "0.1"},
		{12.3400000000, "12.34"},
		{-4.5, "-4.5"},
		{0.0000882145, "8.82145E-5"},
		{0.0000982222, "9.82222E-5"},
		{0.000098222249, "9.82222E-5"}, /* rounded to 10 decimals first */
		{1.0 / 3, "0.3333333333"},
		{2.0 / 3, "0.6666666667"},
		{2.99999999999, "3.0"},
		/* the boundaries of the plain decimal form: 10^-3 <= |x| < 10^7 */
		{0.001, "0.001"},
		{-0.001, "-0.001"},
		{0.0009999, "9.999E-4"},
		{-0.0009999, "-9.999E-4"},
		{0.0123456789, "0.0123456789"},
		{9999999.0, "9999999.0"},
		{9999999.5, "9999999.5"},
		{1e7, "1.0E7"},
		{-1e7, "-1.0E7"},
		{10000000.5, "1.00000005E7"},
		{123456789.5, "1.234567895E8"},
		{1e15, "1.0E15"},
		{9007199254740993.0, "9.007199254740992E15"},
		{1e20, "1.0E20"},
		{1.7976931348623157e308, "1.7976931348623157E308"},
		{100, "100.0"},
		{1234567, "1234567.0"},
		{0.5, "0.5"},
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(t); i++) {
		int rc;
		const char *got = num(t[i].v, &rc);
		CHECK_INT(rc, 0);
		CHECK_STR(got, t[i].want);
	}
}

/* ts_java_double without the rounding: shortest digits that read back. */
static void test_java_double(void)
{
	static const struct {
		double v;
		const char *want;
	} t[] = {
		{0.1 + 0.2, "0.30000000000000004"},
		{1e-3, "0.001"},
		{9.999e-4, "9.999E-4"},
		{1e-4, "1.0E-4"},
		{1e7, "1.0E7"},
		{9999999.0, "9999999.0"},
		{9999999.999999998, "9999999.999999998"},
		{1.2e-40, "1.2E-40"},
		{4.9e-324, "4.9E-324"},
		{-2.5e-5, "-2.5E-5"},
		{2.0 / 3, "0.6666666666666666"},
		{123.456, "123.456"},
		{1e22, "1.0E22"},
		{-0.0, "0.0"},
	};
	char out[TS_JAVA_DOUBLE_MAX];
	for (size_t i = 0; i < TS_ARRAY_LEN(t); i++) {
		size_t n = ts_java_double(t[i].v, out);
		CHECK_STR(out, t[i].want);
		CHECK_INT((int)n, (int)strlen(t[i].want));
	}
	/* every spelling reads back as the value, over many magnitudes */
	double x = 1.2345678901234567e-300;
	for (int i = 0; i < 600; i++, x *= 3.1622776601683795) {
		ts_java_double(x, out);
		CHECK(strtod(out, NULL) == x);
		CHECK(strchr(out, '.') != NULL && strchr(out, '+') == NULL);
		ts_java_double(-x, out);
		CHECK(out[0] == '-' && strtod(out, NULL) == -x);
	}
}

static void test_number_invalid(void)
{
	ts_buf b = {0};
	CHECK_INT(ts_buf_puts(&b, "x"), 0);
	CHECK_INT(ts_json_number(&b, NAN), TS_EINVAL);
	CHECK_INT(ts_json_number(&b, INFINITY), TS_EINVAL);
	CHECK_INT(ts_json_number(&b, -INFINITY), TS_EINVAL);
	CHECK_STR(b.p, "x");
	b.cap = 3;
	CHECK_INT(ts_json_number(&b, 0.25), TS_ECAP); /* "x0.25" > 3 */
	CHECK_STR(b.p, "x");
	CHECK_INT(ts_json_number(&b, 12), TS_ECAP); /* "x12.0" > 3 */
	CHECK_STR(b.p, "x");
	b.cap = 0;
	CHECK_INT(ts_json_number(&b, 12), 0);
	CHECK_STR(b.p, "x12.0");
	ts_buf_free(&b);
}

static const char *str(const char *p, size_t n, int *rc)
{
	static char text[512];
	ts_buf b = {0};
	*rc = ts_json_string(&b, (ts_str){p, n});
	snprintf(text, sizeof text, "%s", b.p ? b.p : "");
	ts_buf_free(&b);
	return *rc ? NULL : text;
}

#define STR_CASE(lit, want) {lit, sizeof lit - 1, want}

static void test_string_escape(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
	} t[] = {
		STR_CASE("", "\"\""),
		STR_CASE("plain", "\"plain\""),
		STR_CASE("say \"hi\"", "\"say \\\"hi\\\"\""),
		STR_CASE("a\\b", "\"a\\\\b\""),
		STR_CASE("l1\nl2\tx\ry\bz\f", "\"l1\\nl2\\tx\\ry\\bz\\f\""),
		STR_CASE("\x01\x1f", "\"\\u0001\\u001f\""),
		STR_CASE("nul\0in", "\"nul\\u0000in\""),
		STR_CASE("del\x7f", "\"del\x7f\""),
		STR_CASE("caf\xc3\xa9", "\"caf\xc3\xa9\""),
		STR_CASE("\xf0\x9f\x98\x80!", "\"\xf0\x9f\x98\x80!\""),
		STR_CASE("\xe2\x82\xac", "\"\xe2\x82\xac\""),
		STR_CASE("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""), /* U+10FFFF */
		STR_CASE("/</script>", "\"/</script>\""),
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(t); i++) {
		int rc;
		const char *got = str(t[i].in, t[i].n, &rc);
		CHECK_INT(rc, 0);
		CHECK_STR(got, t[i].want);
	}
	int rc;
	CHECK_STR(str(NULL, 0, &rc), "\"\"");
	CHECK(str(NULL, 3, &rc) == NULL);
	CHECK_INT(rc, TS_EINVAL);
}

/* Ill-formed UTF-8: one U+FFFD per maximal subpart (Unicode 3.9). */
static void test_string_invalid_utf8(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
	} t[] = {
		STR_CASE("a\xff" "b", "\"a\\ufffdb\""),
		STR_CASE("\x80", "\"\\ufffd\""),
		STR_CASE("\xc0\xaf", "\"\\ufffd\\ufffd\""),         /* overlong */
		STR_CASE("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""), /* overlong */
		STR_CASE("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""), /* surrogate */
		STR_CASE("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""),
		STR_CASE("\xe2\x82x", "\"\\ufffdx\""),      /* truncated, then ASCII */
		STR_CASE("ok\xe2\x82", "\"ok\\ufffd\""),    /* truncated at the end */
		STR_CASE("\xf0\x9f\x98", "\"\\ufffd\""),
		STR_CASE("\xc3\xa9\xc3", "\"\xc3\xa9\\ufffd\""),
		STR_CASE("\xf8\x88\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\""),
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(t); i++) {
		int rc;
		const char *got = str(t[i].in, t[i].n, &rc);
		CHECK_INT(rc, 0);
		CHECK_STR(got, t[i].want);
		CHECK(got && ts_utf8_valid(got, strlen(got)));
	}
}

/* --- events --- */

#define START_MINUTE 28494147 /* 2024-03-05T14:27Z */

static ts_attr_value av(const char *v, double avg) { return (ts_attr_value){ts_str_c(v), avg}; }

/* A call-rate Start with three attribution lists, one of them empty. */
static ts_insight call_rate_start(void)
{
	ts_insight ins;
	memset(&ins, 0, sizeof ins);
	ins.state = TS_STATE_START;
	ins.type = TS_CALL_RATE;
	ins.account = ts_str_c("123456789012");
	ins.region = ts_str_c("us-east-1");
	ins.event_source = ts_str_c("ec2.amazonaws.com");
	ins.event_name = ts_str_c("RunInstances");
	ins.start_minute = START_MINUTE;
	ins.baseline_average = 0.0123456789012;
	ins.baseline_duration = 10080 + 14 * 60 + 27;
	ins.insight_average = 50.1;
	ins.insight_duration = 5;
	ins.n_attrs = 3;
	ins.attrs[0].attribute = "userIdentityArn";
	ins.attrs[0].n_insight = 2;
	ins.attrs[0].insight[0] = av("arn:aws:iam::123456789012:user/alice", 48.2);
	ins.attrs[0].insight[1] = av("arn:aws:sts::123456789012:assumed-role/ci/run-7", 1.9);
	ins.attrs[0].n_baseline = 1;
	ins.attrs[0].baseline[0] = av("arn:aws:iam::123456789012:user/alice", 0.0000882145);
	ins.attrs[1].attribute = "userAgent";
	ins.attrs[1].n_insight = 1;
	ins.attrs[1].insight[0] = av("aws-cli/2.15.0 \"q\\", 50.1);
	ins.attrs[1].n_baseline = 0;
	ins.attrs[2].attribute = "errorCode";
	ins.attrs[2].n_insight = 2;
	ins.attrs[2].insight[0] = av("null", 45);
	ins.attrs[2].insight[1] = av("Client.UnauthorizedOperation", 5.1);
	ins.attrs[2].n_baseline = 1;
	ins.attrs[2].baseline[0] = av("null", 0.0123456789012);
	ins.model = "default";
	ins.expected = 0.0002;
	ins.p_value = 1.2e-40;
	return ins;
}

/* The expected line, written by hand; IDs from tests/data/insight/ids.py. */
#define CALL_SHARED "2939197d-ca16-5617-9b46-fd5a2d862be0"
#define CALL_START_ID "8edf5706-f3d1-5b24-91fb-df6e7c0a292f"
#define CALL_END_ID "bb2c6893-5d95-5c4b-9a19-4826e04e6e65"
#define GOLDEN_HEAD                                                                   \
	"{\"eventVersion\":\"1.09\",\"eventTime\":\"2024-03-05T14:27:00Z\","           \
	"\"awsRegion\":\"us-east-1\",\"eventID\":\"" CALL_START_ID "\","              \
	"\"eventType\":\"AwsCloudTrailInsight\",\"recipientAccountId\":\"123456789012\"," \
	"\"sharedEventID\":\"" CALL_SHARED "\","                                       \
	"\"insightDetails\":{\"state\":\"Start\",\"eventSource\":\"ec2.amazonaws.com\"," \
	"\"eventName\":\"RunInstances\",\"insightType\":\"ApiCallRateInsight\","       \
	"\"sourceEventCategory\":\"Management\","                                      \
	"\"insightContext\":{\"statistics\":{\"baseline\":{\"average\":0.0123456789}," \
	"\"insight\":{\"average\":50.1},\"insightDuration\":5,\"baselineDuration\":10947}," \
	"\"attributions\":["                                                           \
	"{\"attribute\":\"userIdentityArn\",\"insight\":["                             \
	"{\"value\":\"arn:aws:iam::123456789012:user/alice\",\"average\":48.2},"        \
	"{\"value\":\"arn:aws:sts::123456789012:assumed-role/ci/run-7\",\"average\":1.9}]," \
	"\"baseline\":[{\"value\":\"arn:aws:iam::123456789012:user/alice\","           \
	"\"average\":8.82145E-5}]},"                                                 \
	"{\"attribute\":\"userAgent\",\"insight\":["                                   \
	"{\"value\":\"aws-cli/2.15.0 \\\"q\\\\\",\"average\":50.1}],\"baseline\":[]}," \
	"{\"attribute\":\"errorCode\",\"insight\":[{\"value\":\"null\",\"average\":45.0}," \
	"{\"value\":\"Client.UnauthorizedOperation\",\"average\":5.1}],"               \
	"\"baseline\":[{\"value\":\"null\",\"average\":0.0123456789}]}]}"
#define GOLDEN_CTX \
	",\"trailsightContext\":{\"model\":\"default\",\"expectedAverage\":2.0E-4,\"pValue\":1.2E-40}"
#define GOLDEN_TAIL "},\"eventCategory\":\"Insight\"}"

static ts_insight error_rate_start(void)
{
	ts_insight ins;
	memset(&ins, 0, sizeof ins);
	ins.state = TS_STATE_START;
	ins.type = TS_ERROR_RATE;
	ins.account = ts_str_c("123456789012");
	ins.region = ts_str_c("eu-west-3");
	ins.event_source = ts_str_c("s3.amazonaws.com");
	ins.event_name = ts_str_c("GetObject");
	ins.error_code = ts_str_c("AccessDenied");
	ins.data_events = 1;
	ins.start_minute = START_MINUTE;
	ins.baseline_average = 0;
	ins.baseline_duration = 10947;
	ins.insight_average = 12;
	ins.insight_duration = 1;
	ins.n_attrs = 2;
	ins.attrs[0].attribute = "userIdentityArn";
	ins.attrs[0].n_insight = 1;
	ins.attrs[0].insight[0] = av("arn:aws:iam::123456789012:user/mallory", 12);
	ins.attrs[1].attribute = "userAgent";
	ins.attrs[1].n_insight = 1;
	ins.attrs[1].insight[0] = av("curl/8.5.0", 12);
	return ins;
}

/* Check the line's structure without a JSON library: no bytes outside
 * strings but JSON punctuation, digits and literals; brackets balance and
 * match; strings close; the keys of the top object and of insightDetails
 * (the only object one level down) appear in the given order. */
static void check_structure(const char *s, const char *top_keys, const char *detail_keys)
{
	char stack[16], top[512] = "", det[512] = "";
	int depth = 0, ok = 1;
	for (const char *p = s; *p && ok; p++) {
		if (*p == '"') {
			const char *q = p + 1;
			while (*q && *q != '"') {
				if ((unsigned char)*q < 0x20)
					ok = 0;
				q += *q == '\\' && q[1] ? 2 : 1;
			}
			if (!*q) {
				ok = 0;
				break;
			}
			if (q[1] == ':' && depth >= 1 && stack[depth - 1] == '{' && depth <= 2) {
				char *dst = depth == 1 ? top : det;
				size_t len = strlen(dst);
				snprintf(dst + len, 512 - len, "%s%.*s", len ? "," : "",
					 (int)(q - p - 1), p + 1);
			}
			p = q;
		} else if (*p == '{' || *p == '[') {
			if (depth == (int)sizeof stack)
				ok = 0;
			else
				stack[depth++] = *p;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0 || stack[depth - 1] != (*p == '}' ? '{' : '['))
				ok = 0;
			else
				depth--;
			if (depth == 0 && p[1])
				ok = 0; /* something after the object */
		} else if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4)) {
			p += 3;
		} else if (!strchr(":,-+.0123456789eE", *p)) {
			ok = 0;
		}
	}
	CHECK(ok);
	CHECK_INT(depth, 0);
	CHECK(s[0] == '{');
	CHECK_STR(top, top_keys);
	CHECK_STR(det, detail_keys);
	CHECK(ts_utf8_valid(s, strlen(s)));
}

#define TOP_KEYS                                                                 \
	"eventVersion,eventTime,awsRegion,eventID,eventType,recipientAccountId," \
	"sharedEventID,insightDetails,eventCategory"

static void test_call_rate_start_golden(void)
{
	ts_insight ins = call_rate_start();
	ts_buf b = {0};
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK_STR(b.p, GOLDEN_HEAD GOLDEN_CTX GOLDEN_TAIL);
	check_structure(b.p, TOP_KEYS,
			"state,eventSource,eventName,insightType,sourceEventCategory,"
			"insightContext,trailsightContext");
	CHECK(strstr(b.p, "\"errorCode\":") == NULL);
	/* appends: a second event follows the first in the same buffer */
	size_t one = b.len;
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK_INT(b.len, 2 * one);
	CHECK(memcmp(b.p, b.p + one, one) == 0);
	ts_buf_free(&b);
}

static void test_expected_from(void)
{
	ts_insight ins = call_rate_start();
	ins.basis = (ts_basis){.day_class = TS_DAY_WEEKEND_RATIO, .weekend_days = 2,
			       .ratio_e4 = 9812, .ratio_raw_e4 = 9750, .ratio_sd_e3 = 141};
	ts_buf b = {0};
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, ",\"pValue\":1.2E-40,\"expectedFrom\":{\"days\":\"weekendRatio\","
			  "\"weekendDays\":2,\"weekendRatio\":0.9812,\"weekendRatioSeen\":0.975,"
			  "\"dayLevelSd\":0.141,\"regularJob\":false}") != NULL);
	ts_buf_reset(&b);
	ins.basis = (ts_basis){.day_class = TS_DAY_WEEKDAY, .weekend_days = 2, .regular = 1};
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, "\"expectedFrom\":{\"days\":\"weekday\",\"weekendDays\":2,"
			  "\"regularJob\":true}") != NULL);
	/* nothing known (an error rate, an older state): not written */
	ts_buf_reset(&b);
	ins.basis.day_class = TS_DAY_NONE;
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, "expectedFrom") == NULL);
	ts_buf_free(&b);
}

static void test_no_model(void)
{
	ts_insight ins = call_rate_start();
	ins.model = NULL;
	ins.p_value = NAN; /* not written, so not checked */
	ts_buf b = {0};
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK_STR(b.p, GOLDEN_HEAD GOLDEN_TAIL);
	CHECK(strstr(b.p, "trailsightContext") == NULL);
	check_structure(b.p, TOP_KEYS,
			"state,eventSource,eventName,insightType,sourceEventCategory,"
			"insightContext");
	ts_buf_free(&b);
}

/* A Start says when it was decided: data time, wall time, early; an End
 * does not, and neither does an event without trailsightContext. */
static void test_decision_time(void)
{
	ts_insight ins = call_rate_start();
	ins.decision_time = 1709649021;  /* 2024-03-05T14:30:21Z */
	ts_buf b = {0};
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, ",\"pValue\":1.2E-40,\"decisionEventTime\":\"2024-03-05T14:30:21Z\"}") !=
	      NULL);
	CHECK(strstr(b.p, "decisionWallTime") == NULL);
	CHECK(strstr(b.p, "early") == NULL);
	ts_buf_reset(&b);
	ins.decision_wall = 1709652659; /* 2024-03-05T15:30:59Z */
	ins.early = 1;
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, ",\"decisionEventTime\":\"2024-03-05T14:30:21Z\","
			  "\"decisionWallTime\":\"2024-03-05T15:30:59Z\",\"early\":true}") != NULL);
	check_structure(b.p, TOP_KEYS,
			"state,eventSource,eventName,insightType,sourceEventCategory,"
			"insightContext,trailsightContext");
	ts_buf_reset(&b);
	ins.state = TS_STATE_END;
	ins.insight_duration = 5;
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, "decision") == NULL && strstr(b.p, "early") == NULL);
	ts_buf_reset(&b);
	ins.state = TS_STATE_START;
	ins.model = NULL;
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, "decision") == NULL);
	/* seconds of a negative time and of the last second of a day */
	char t[21];
	ts_format_time(-1, t);
	CHECK_STR(t, "1969-12-31T23:59:59Z");
	ts_format_time(86399, t);
	CHECK_STR(t, "1970-01-01T23:59:59Z");
	ts_buf_free(&b);
}

static void test_end_event(void)
{
	ts_insight ins = call_rate_start();
	char s_shared[37], s_event[37], e_shared[37], e_event[37];
	ts_insight_ids(&ins, s_shared, s_event);
	ins.state = TS_STATE_END;
	ins.insight_duration = 47; /* 14:27 + 47 min = 15:14 */
	ins.insight_average = 31.25;
	ts_insight_ids(&ins, e_shared, e_event);
	CHECK_STR(s_shared, CALL_SHARED);
	CHECK_STR(e_shared, CALL_SHARED);
	CHECK_STR(s_event, CALL_START_ID);
	CHECK_STR(e_event, CALL_END_ID);
	CHECK(strcmp(s_event, e_event) != 0);

	ts_buf b = {0};
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strncmp(b.p, "{\"eventVersion\":\"1.09\",\"eventTime\":\"2024-03-05T15:14:00Z\","
			   "\"awsRegion\":\"us-east-1\",\"eventID\":\"" CALL_END_ID "\",",
		      strlen("{\"eventVersion\":\"1.09\",\"eventTime\":\"2024-03-05T15:14:00Z\","
			     "\"awsRegion\":\"us-east-1\",\"eventID\":\"" CALL_END_ID "\",")) == 0);
	CHECK(strstr(b.p, "\"sharedEventID\":\"" CALL_SHARED "\"") != NULL);
	CHECK(strstr(b.p, "\"insightDetails\":{\"state\":\"End\",") != NULL);
	CHECK(strstr(b.p, "\"insight\":{\"average\":31.25},\"insightDuration\":47,") != NULL);
	check_structure(b.p, TOP_KEYS,
			"state,eventSource,eventName,insightType,sourceEventCategory,"
			"insightContext,trailsightContext");

	/* an End crossing midnight and a month */
	ts_buf_reset(&b);
	ins.insight_duration = (int64_t)26 * TS_MIN_PER_DAY + 573; /* 9h33 to midnight, 26 days */
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, "\"eventTime\":\"2024-04-01T00:00:00Z\"") != NULL);
	ts_buf_free(&b);
}

static void test_error_rate(void)
{
	ts_insight ins = error_rate_start();
	ts_buf b = {0};
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, "\"eventID\":\"77bf424f-991a-58f8-a439-405ae536dcfe\"") != NULL);
	CHECK(strstr(b.p, "\"sharedEventID\":\"ea901ead-0f47-53b8-96ea-5dc46ddee848\"") != NULL);
	CHECK(strstr(b.p, "\"insightType\":\"ApiErrorRateInsight\",\"errorCode\":\"AccessDenied\","
			  "\"sourceEventCategory\":\"Data\",") != NULL);
	CHECK(strstr(b.p, "{\"baseline\":{\"average\":0.0},\"insight\":{\"average\":12.0},"
			  "\"insightDuration\":1,\"baselineDuration\":10947}") != NULL);
	CHECK(strstr(b.p, "\"attributions\":[{\"attribute\":\"userIdentityArn\",\"insight\":"
			  "[{\"value\":\"arn:aws:iam::123456789012:user/mallory\",\"average\":12.0}],"
			  "\"baseline\":[]},{\"attribute\":\"userAgent\",\"insight\":"
			  "[{\"value\":\"curl/8.5.0\",\"average\":12.0}],\"baseline\":[]}]}},") != NULL);
	int n = 0;
	for (const char *p = b.p; (p = strstr(p, "\"attribute\":")) != NULL; p++)
		n++;
	CHECK_INT(n, 2);
	check_structure(b.p, TOP_KEYS,
			"state,eventSource,eventName,insightType,errorCode,sourceEventCategory,"
			"insightContext");

	/* the error code is part of the series: another code, another episode */
	char a[37], ea[37], c[37], ec[37];
	ts_insight_ids(&ins, a, ea);
	ins.error_code = ts_str_c("NoSuchKey");
	ts_insight_ids(&ins, c, ec);
	CHECK(strcmp(a, c) != 0);
	/* no attributions at all: an empty array */
	ins.n_attrs = 0;
	ts_buf_reset(&b);
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, "\"attributions\":[]}") != NULL);
	ts_buf_free(&b);
}

/* Hostile strings in every field still give one well-formed line. */
static void test_nasty_strings(void)
{
	ts_insight ins = call_rate_start();
	ins.event_source = ts_str_c("a\"},{\"x\":[\n");
	ins.event_name = (ts_str){"\\\\\"\x01\xff", 5};
	ins.attrs[0].insight[0].value = ts_str_c("]}\"],\"eventCategory\":\"Fake\"");
	ins.model = "m\"}";
	ts_buf b = {0};
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	check_structure(b.p, TOP_KEYS,
			"state,eventSource,eventName,insightType,sourceEventCategory,"
			"insightContext,trailsightContext");
	CHECK(strstr(b.p, "\"eventSource\":\"a\\\"},{\\\"x\\\":[\\n\",") != NULL);
	CHECK(strstr(b.p, "\"eventName\":\"\\\\\\\\\\\"\\u0001\\ufffd\",") != NULL);
	CHECK(strchr(b.p, '\n') == NULL);
	ts_buf_free(&b);
}

static void ids_of(ts_str src, ts_str name, char shared[37], char event[37])
{
	ts_insight ins = call_rate_start();
	ins.event_source = src;
	ins.event_name = name;
	ts_insight_ids(&ins, shared, event);
}

static void test_field_split(void)
{
	char s1[37], e1[37], s2[37], e2[37];
	ids_of(ts_str_c("ab"), ts_str_c("c"), s1, e1);
	ids_of(ts_str_c("a"), ts_str_c("bc"), s2, e2);
	CHECK(strcmp(s1, s2) != 0);
	CHECK(strcmp(e1, e2) != 0);
	/* separators inside fields cannot forge a split either */
	ids_of(ts_str_c("a\n1:b"), ts_str_c("c"), s1, e1);
	ids_of(ts_str_c("a"), ts_str_c("b\n1:c"), s2, e2);
	CHECK(strcmp(s1, s2) != 0);
	ids_of(ts_str_c(""), ts_str_c("x"), s1, e1);
	ids_of(ts_str_c("x"), ts_str_c(""), s2, e2);
	CHECK(strcmp(s1, s2) != 0);

	ts_insight a = call_rate_start(), b = call_rate_start();
	a.account = ts_str_c("1234567890121");
	a.region = ts_str_c("us-east-1");
	b.account = ts_str_c("123456789012");
	b.region = ts_str_c("1us-east-1");
	ts_insight_ids(&a, s1, e1);
	ts_insight_ids(&b, s2, e2);
	CHECK(strcmp(s1, s2) != 0);
}

static void test_determinism(void)
{
	ts_insight a = call_rate_start();
	/* the same content in other memory */
	char src[] = "ec2.amazonaws.com", name[] = "RunInstancesXYZ";
	ts_insight b = call_rate_start();
	b.event_source = ts_str_c(src);
	b.event_name = (ts_str){name, 12};
	b.insight_average = 99; /* statistics are not part of the IDs */
	b.n_attrs = 0;
	char s1[37], e1[37], s2[37], e2[37];
	ts_insight_ids(&a, s1, e1);
	ts_insight_ids(&b, s2, e2);
	CHECK_STR(s1, s2);
	CHECK_STR(e1, e2);
	CHECK_STR(s1, CALL_SHARED);
	ts_buf x = {0}, y = {0};
	CHECK_INT(ts_insight_write(&a, &x), 0);
	CHECK_INT(ts_insight_write(&a, &y), 0);
	CHECK_STR(x.p, y.p);
	ts_buf_free(&x);
	ts_buf_free(&y);

	/* what names the episode: start minute, category, type */
	b = call_rate_start();
	b.start_minute++;
	ts_insight_ids(&b, s2, e2);
	CHECK(strcmp(s1, s2) != 0);
	b = call_rate_start();
	b.data_events = 1;
	ts_insight_ids(&b, s2, e2);
	CHECK(strcmp(s1, s2) != 0);
	b = call_rate_start();
	b.error_code = ts_str_c("ignored for call rate");
	ts_insight_ids(&b, s2, e2);
	CHECK_STR(s1, s2);
	b.type = TS_ERROR_RATE;
	b.error_code = TS_STR_NULL;
	ts_insight_ids(&b, s2, e2);
	CHECK(strcmp(s1, s2) != 0);
}

static void test_buffer_cap(void)
{
	ts_insight ins = call_rate_start();
	ts_buf full = {0};
	CHECK_INT(ts_insight_write(&ins, &full), 0);
	size_t n = full.len;
	CHECK(n > 100);

	/* every cap short of the line fails cleanly and leaves the prefix */
	for (size_t cap = 3; cap < n + 2; cap += cap < n - 40 ? 37 : 1) {
		ts_buf b = {0};
		b.cap = cap;
		CHECK_INT(ts_buf_puts(&b, "ab"), 0);
		int rc = ts_insight_write(&ins, &b);
		int bad = rc != TS_ECAP || strcmp(b.p, "ab") != 0;
		if (bad) {
			fprintf(stderr, "  cap %zu of %zu:\n", cap, n + 2);
			CHECK_INT(rc, TS_ECAP);
			CHECK_STR(b.p, "ab");
		}
		ts_buf_free(&b);
		if (bad)
			break;
	}
	ts_buf b = {0};
	b.cap = n + 2;
	CHECK_INT(ts_buf_puts(&b, "ab"), 0);
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(b.len == n + 2 && memcmp(b.p + 2, full.p, n) == 0);
	ts_buf_free(&b);
	ts_buf_free(&full);
}

static void test_pvalue(void)
{
	static const struct {
		double p;
		const char *want;
	} t[] = {
		{1.2e-40, "1.2E-40"}, {0.05, "0.05"},      {1, "1.0"},
		{2, "1.0"},           {INFINITY, "1.0"},   {0, "0.0"},
		{-0.0, "0.0"},        {-1, "0.0"},         {-INFINITY, "0.0"},
		{0.123456789, "0.123457"}, {4.9e-324, "4.9E-324"},
		{6.307354e-11, "6.30735E-11"}, {0.0009999996, "0.001"},
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(t); i++) {
		ts_insight ins = call_rate_start();
		ins.p_value = t[i].p;
		ts_buf b = {0};
		char want[64];
		snprintf(want, sizeof want, ",\"pValue\":%s}}", t[i].want);
		CHECK_INT(ts_insight_write(&ins, &b), 0);
		if (!b.p || !strstr(b.p, want)) {
			fprintf(stderr, "  p=%g: want %s in %s\n", t[i].p, want, b.p ? b.p : "");
			CHECK(0);
		}
		ts_buf_free(&b);
	}
}

static void test_invalid_input(void)
{
	ts_buf b = {0};
	ts_insight ins;
	CHECK_INT(ts_buf_puts(&b, "keep"), 0);
#define EXPECT_EINVAL(change)                                   \
	do {                                                    \
		ins = call_rate_start();                        \
		change;                                         \
		CHECK_INT(ts_insight_write(&ins, &b), TS_EINVAL); \
		CHECK_STR(b.p, "keep");                         \
	} while (0)
	EXPECT_EINVAL(ins.state = 2);
	EXPECT_EINVAL(ins.state = -1);
	EXPECT_EINVAL(ins.type = 7);
	EXPECT_EINVAL(ins.n_attrs = 4);
	EXPECT_EINVAL(ins.attrs[1].n_insight = TS_ATTR_TOP + 1);
	EXPECT_EINVAL(ins.attrs[2].n_baseline = TS_ATTR_TOP + 1);
	EXPECT_EINVAL(ins.attrs[0].attribute = NULL);
	EXPECT_EINVAL(ins.baseline_average = NAN);
	EXPECT_EINVAL(ins.insight_average = INFINITY);
	EXPECT_EINVAL(ins.attrs[2].baseline[0].average = -INFINITY);
	EXPECT_EINVAL(ins.expected = NAN);
	EXPECT_EINVAL(ins.p_value = NAN);
	EXPECT_EINVAL(ins.insight_duration = -1);
	EXPECT_EINVAL(ins.baseline_duration = -1);
	EXPECT_EINVAL(ins.start_minute = -1);
	EXPECT_EINVAL(ins.start_minute = INT64_MAX);
	EXPECT_EINVAL((ins.state = TS_STATE_END, ins.insight_duration = INT64_MAX));
	EXPECT_EINVAL(ins.region = ((ts_str){NULL, 4}));
#undef EXPECT_EINVAL
	/* the last minute of year 9999 is still writable */
	ins = call_rate_start();
	ins.start_minute = ts_days_from_civil(10000, 1, 1) * TS_MIN_PER_DAY - 1;
	ts_buf_reset(&b);
	CHECK_INT(ts_insight_write(&ins, &b), 0);
	CHECK(strstr(b.p, "\"eventTime\":\"9999-12-31T23:59:00Z\"") != NULL);
	ts_buf_free(&b);
}

TS_TESTS(test_expected_from, test_sha1_vectors, test_sha1_padding, test_uuid5, test_number_format, test_java_double,
	 test_number_invalid, test_string_escape, test_string_invalid_utf8,
	 test_call_rate_start_golden, test_no_model, test_decision_time, test_end_event, test_error_rate,
	 test_nasty_strings, test_field_split, test_determinism, test_buffer_cap,
	 test_pvalue, test_invalid_input)
