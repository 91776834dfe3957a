/* test_record.c - the record parser: fields, escapes, types, structure
 * checks, caps and error details. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "record.h"

#define T0 "\"eventTime\":\"2024-02-29T23:59:59Z\""
#define SRC "\"eventSource\":\"iam.amazonaws.com\""
#define NAME "\"eventName\":\"GetUser\""
#define MIN T0 "," SRC "," NAME

static ts_parser *P;
static ts_record R;
static ts_parser *EXACT; /* exact_only: the fast path must agree with it */

static int same_str(ts_str a, ts_str b) { return ts_str_eq(a, b) && !a.p == !b.p; }

static int same_rec(const ts_record *a, const ts_record *b)
{
	return a->time == b->time && same_str(a->event_time, b->event_time) &&
	       same_str(a->event_source, b->event_source) && same_str(a->event_name, b->event_name) &&
	       same_str(a->aws_region, b->aws_region) && same_str(a->account, b->account) &&
	       same_str(a->error_code, b->error_code) &&
	       same_str(a->event_category, b->event_category) &&
	       same_str(a->event_type, b->event_type) && same_str(a->arn, b->arn) &&
	       same_str(a->identity_type, b->identity_type) &&
	       same_str(a->invoked_by, b->invoked_by) && same_str(a->user_agent, b->user_agent) && a->read_only == b->read_only &&
	       a->management == b->management;
}

/* Parse with p, and with the exact path too: the same result, the same
 * detail and, on success, the same fields. 1 when they agree. */
static int agree(ts_parser *p, const char *s, size_t n, ts_record *out, int *rc)
{
	ts_record e;
	*rc = ts_parse_record(p, s, n, out);
	int erc = ts_parse_record(EXACT, s, n, &e);
	return *rc == erc && strcmp(ts_parser_errdetail(p), ts_parser_errdetail(EXACT)) == 0 &&
	       (*rc != 0 || same_rec(out, &e));
}

static int parse(const char *s)
{
	int rc;
	CHECK(agree(P, s, strlen(s), &R, &rc));
	return rc;
}

/* Slice lies inside [base, base + n). */
static int inside(ts_str v, const char *base, size_t n)
{
	return v.p && (uintptr_t)v.p >= (uintptr_t)base && (uintptr_t)(v.p + v.n) <= (uintptr_t)(base + n);
}

static void test_all_fields(void)
{
	const char *s =
		"{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
		"\"arn\":\"arn:aws:iam::123456789012:user/alice\",\"sessionContext\":{\"arn\":\"no\"}},"
		T0 "," SRC "," NAME ",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"1.2.3.4\","
		"\"userAgent\":\"aws-cli/2.0\",\"errorCode\":\"AccessDenied\",\"requestParameters\":"
		"{\"eventName\":\"nested, ignored\",\"list\":[1,-2.5e3,true,false,null,{},[]]},"
		"\"readOnly\":false,\"eventType\":\"AwsApiCall\",\"managementEvent\":true,"
		"\"recipientAccountId\":\"123456789012\",\"eventCategory\":\"Management\"}";
	CHECK_INT(parse(s), 0);
	CHECK_INT(R.time, 1709251199);
	CHECK_MEM(R.event_time.p, R.event_time.n, "2024-02-29T23:59:59Z");
	CHECK_MEM(R.event_source.p, R.event_source.n, "iam.amazonaws.com");
	CHECK_MEM(R.event_name.p, R.event_name.n, "GetUser");
	CHECK_MEM(R.aws_region.p, R.aws_region.n, "us-east-1");
	CHECK_MEM(R.account.p, R.account.n, "123456789012");
	CHECK_MEM(R.error_code.p, R.error_code.n, "AccessDenied");
	CHECK_MEM(R.event_category.p, R.event_category.n, "Management");
	CHECK_MEM(R.event_type.p, R.event_type.n, "AwsApiCall");
	CHECK_MEM(R.arn.p, R.arn.n, "arn:aws:iam::123456789012:user/alice");
	CHECK_MEM(R.identity_type.p, R.identity_type.n, "IAMUser");
	CHECK(R.invoked_by.p == NULL);
	CHECK_MEM(R.user_agent.p, R.user_agent.n, "aws-cli/2.0");
	CHECK_INT(R.read_only, TS_FALSE);
	CHECK_INT(R.management, TS_TRUE);
	/* no escapes: slices point into the text itself */
	CHECK(inside(R.event_name, s, strlen(s)));
	CHECK(inside(R.arn, s, strlen(s)));
	CHECK_STR(ts_parser_errdetail(P), "");

	/* the minimum: optional fields absent */
	CHECK_INT(parse("{" MIN "}"), 0);
	CHECK(R.aws_region.p == NULL && R.aws_region.n == 0);
	CHECK(R.error_code.p == NULL && R.arn.p == NULL && R.user_agent.p == NULL);
	CHECK(R.account.p == NULL && R.event_category.p == NULL && R.event_type.p == NULL);
	CHECK_INT(R.read_only, TS_ABSENT);
	CHECK_INT(R.management, TS_ABSENT);
	/* null is absent; "" is an empty string, not absent */
	CHECK_INT(parse("{" MIN ",\"errorCode\":null,\"userAgent\":\"\",\"userIdentity\":null,"
			"\"readOnly\":null,\"managementEvent\":null}"),
		  0);
	CHECK(R.error_code.p == NULL);
	CHECK(R.user_agent.p != NULL && R.user_agent.n == 0);
	CHECK(R.arn.p == NULL);
	CHECK_INT(R.read_only, TS_ABSENT);
	/* userIdentity without arn, with arn null */
	CHECK_INT(parse("{" MIN ",\"userIdentity\":{\"type\":\"AWSService\"}}"), 0);
	CHECK(R.arn.p == NULL);
	CHECK_MEM(R.identity_type.p, R.identity_type.n, "AWSService");
	/* invokedBy, also under an escaped key; only userIdentity's own members */
	CHECK_INT(parse("{" MIN ",\"userIdentity\":{\"type\":\"AWSService\",\"invokedBy\":"
			"\"ec2.amazonaws.com\",\"sessionContext\":{\"type\":\"no\"}}}"),
		  0);
	CHECK_MEM(R.invoked_by.p, R.invoked_by.n, "ec2.amazonaws.com");
	CHECK_MEM(R.identity_type.p, R.identity_type.n, "AWSService");
	CHECK_INT(parse("{" MIN ",\"userIdentity\":{\"\\u0074ype\":\"Root\",\"invokedBy\":null}}"), 0);
	CHECK_MEM(R.identity_type.p, R.identity_type.n, "Root");
	CHECK(R.invoked_by.p == NULL);
	CHECK_INT(parse("{" MIN ",\"userIdentity\":{\"arn\":null}}"), 0);
	CHECK(R.arn.p == NULL);
	/* blanks around the object and inside it */
	CHECK_INT(parse(" \n{ \"eventTime\" :\t\"2024-01-01T00:00:00.123Z\" ,\r\n " SRC " , " NAME
			" }\n "),
		  0);
	CHECK_INT(R.time, 1704067200);
}

static void test_escapes(void)
{
	const char *s = "{" T0 "," SRC ",\"eventName\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\","
			"\"userAgent\":\"\\u00e9\\u20AC\\ud83d\\ude00\\u0041\","
			"\"awsRegion\":\"plain\",\"errorCode\":\"caf\xc3\xa9\"}";
	CHECK_INT(parse(s), 0);
	CHECK_MEM(R.event_name.p, R.event_name.n, "a\"b\\c/d\b\f\n\r\te");
	CHECK_MEM(R.user_agent.p, R.user_agent.n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "A");
	CHECK_MEM(R.error_code.p, R.error_code.n, "caf\xc3\xa9");
	CHECK(!inside(R.event_name, s, strlen(s))); /* decoded into scratch */
	CHECK(!inside(R.user_agent, s, strlen(s)));
	CHECK(inside(R.aws_region, s, strlen(s)));
	/* the first decoded field is still intact after the second */
	CHECK_MEM(R.event_name.p, R.event_name.n, "a\"b\\c/d\b\f\n\r\te");
	/* escaped key names are the same keys */
	CHECK_INT(parse("{\"event\\u0054ime\":\"2024-01-01T00:00:00Z\"," SRC "," NAME "}"), 0);
	CHECK_INT(R.time, 1704067200);
	/* lone surrogates and broken escapes */
	static const char *bad[] = {
		"{" MIN ",\"userAgent\":\"\\ud83d\"}",
		"{" MIN ",\"userAgent\":\"\\ude00\"}",
		"{" MIN ",\"userAgent\":\"\\ud83dx\"}",
		"{" MIN ",\"userAgent\":\"\\ud83d\\u0041\"}",
		"{" MIN ",\"userAgent\":\"\\ud83d\\ud83d\"}",
		"{" MIN ",\"userAgent\":\"\\x41\"}",
		"{" MIN ",\"userAgent\":\"\\u12G4\"}",
		"{" MIN ",\"userAgent\":\"tab\there\"}", /* raw control character */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(bad[i]);
		if (rc != TS_EJSON)
			fprintf(stderr, "  bad[%zu]\n", i);
		CHECK_INT(rc, TS_EJSON);
	}
	CHECK(strstr(ts_parser_errdetail(P), "userAgent") != NULL);
}

static void test_read_only(void)
{
	static const struct {
		const char *v;
		int rc, want;
	} c[] = {
		{"true", 0, TS_TRUE},     {"false", 0, TS_FALSE}, {"\"true\"", 0, TS_TRUE},
		{"\"false\"", 0, TS_FALSE}, {"null", 0, TS_ABSENT}, {"1", TS_EFIELD, 0},
		{"\"yes\"", TS_EFIELD, 0}, {"{}", TS_EFIELD, 0},  {"[true]", TS_EFIELD, 0},
		{"\"True\"", TS_EFIELD, 0}, {"\"null\"", TS_EFIELD, 0},
	};
	char buf[256];
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		snprintf(buf, sizeof buf, "{" MIN ",\"readOnly\":%s}", c[i].v);
		CHECK_INT(parse(buf), c[i].rc);
		if (c[i].rc == 0)
			CHECK_INT(R.read_only, c[i].want);
		else
			CHECK(strncmp(ts_parser_errdetail(P), "readOnly:", 9) == 0);
		snprintf(buf, sizeof buf, "{" MIN ",\"managementEvent\":%s}", c[i].v);
		CHECK_INT(parse(buf), c[i].rc);
		if (c[i].rc == 0)
			CHECK_INT(R.management, c[i].want);
	}
}

static void test_event_time(void)
{
	CHECK_INT(parse("{" SRC "," NAME "}"), TS_ENOTIME);
	CHECK_STR(ts_parser_errdetail(P), "eventTime: missing");
	CHECK_INT(parse("{\"eventTime\":null," SRC "," NAME "}"), TS_ENOTIME);
	CHECK_STR(ts_parser_errdetail(P), "eventTime: null");
	CHECK_INT(parse("{\"@timestamp\":\"2020-09-14T00:44:23.000Z\"," SRC "," NAME "}"),
		  TS_ENOTIME);
	CHECK_INT(parse("{\"eventTime\":\"2023-02-30T00:00:00Z\"," SRC "," NAME "}"), TS_EBADTIME);
	CHECK_STR(ts_parser_errdetail(P), "eventTime: \"2023-02-30T00:00:00Z\"");
	CHECK_INT(parse("{\"eventTime\":1700000000," SRC "," NAME "}"), TS_EBADTIME);
	CHECK_STR(ts_parser_errdetail(P), "eventTime: not a string");
	CHECK_INT(parse("{\"eventTime\":\"2023-01-01T00:00:00+01:00\"," SRC "," NAME "}"), 0);
	CHECK_INT(parse("{\"eventTime\":\"2023-01-01T00:00:00+01\"," SRC "," NAME "}"),
		  TS_EBADTIME);
	/* a long, unprintable value is cut and escaped in the detail */
	char buf[512];
	snprintf(buf, sizeof buf, "{\"eventTime\":\"\\u0001%s\"," SRC "," NAME "}",
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	CHECK_INT(parse(buf), TS_EBADTIME);
	const char *d = ts_parser_errdetail(P);
	CHECK(strncmp(d, "eventTime: \"\\x01xxx", 19) == 0);
	CHECK(strlen(d) < 100);
	CHECK(strstr(d, "...") != NULL);
	/* eventTime problems come before other field problems */
	CHECK_INT(parse("{\"eventSource\":5,\"eventTime\":null}"), TS_ENOTIME);
}

static void test_utf8(void)
{
	CHECK_INT(parse("{" MIN ",\"x\":\"\xff\"}"), TS_EUTF8);
	CHECK_INT(parse("{" MIN ",\"x\":\"\xc0\xaf\"}"), TS_EUTF8);
	CHECK_INT(parse("{" MIN ",\"x\":\"\xed\xa0\x80\"}"), TS_EUTF8); /* raw surrogate */
	CHECK_INT(parse("{" MIN ",\"x\":\"\xe2\x82\"}"), TS_EUTF8);
	CHECK_INT(parse("{" MIN ",\"x\":\"\xf0\x9f\x98\x80\"}"), 0);
}

static void test_structure(void)
{
	static const char *bad[] = {
		"{\"a\":1,\"b\"}",
		"{" MIN "} x",
		"{" MIN "}{}",
		"x{" MIN "}",
		"[{" MIN "}]",
		"\"" MIN "\"",
		"",
		"   ",
		"{" MIN ",}",
		"{," MIN "}",
		"{" MIN ",\"a\"::1}",
		"{" MIN " \"a\":1}",
		"{" MIN ",\"a\":[1 2]}",
		"{" MIN ",\"a\":[1,]}",
		"{" MIN ",\"a\":[,1]}",
		"{" MIN ",\"a\":{\"b\":1,}}",
		"{" MIN ",\"a\":{\"b\"}}",
		"{" MIN ",\"a\":{1:2}}",
		"{" MIN ",\"a\":[\"b\":1]}",
		"{" MIN ",\"a\":\"b\":\"c\"}",
		"{" MIN ",\"a\":tru}",
		"{" MIN ",\"a\":nulll}",
		"{" MIN ",\"a\":01}",
		"{" MIN ",\"a\":1.}",
		"{" MIN ",\"a\":-}",
		"{" MIN ",\"a\":1e}",
		"{" MIN ",\"a\":[}",
		"{" MIN ",\"a\":{]}",
		"{" MIN ",\"a\":1",
		"{" MIN ",\"a\":\"x}",
		"{" MIN ",\"a\":'x'}",
		"{" MIN "}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(bad[i]);
		if (rc != TS_EJSON)
			fprintf(stderr, "  bad[%zu] = %d: %s\n", i, rc, bad[i]);
		CHECK_INT(rc, TS_EJSON);
	}
	/* a NUL byte anywhere */
	static const char nul[] = "{" MIN "}\0 ";
	CHECK_INT(ts_parse_record(P, nul, sizeof nul - 1, &R), TS_EJSON);
	static const char nul2[] = "{" MIN ",\"a\":\"x\0y\"}";
	CHECK_INT(ts_parse_record(P, nul2, sizeof nul2 - 1, &R), TS_EJSON);
	/* valid oddities */
	CHECK_INT(parse("{" MIN ",\"a\":[[],{},\"\",0,-0.5E+2,1e-7,[{\"b\":[null]}]]}"), 0);
	CHECK_INT(ts_parse_record(P, NULL, 0, &R), TS_EJSON);
}

static void test_field_types(void)
{
	static const struct {
		const char *s;
		const char *detail;
	} c[] = {
		{"{" T0 ",\"eventSource\":5," NAME "}", "eventSource: not a string"},
		{"{" T0 "," NAME "}", "eventSource: missing"},
		{"{" T0 ",\"eventSource\":null," NAME "}", "eventSource: null"},
		{"{" T0 "," SRC ",\"eventName\":null}", "eventName: null"},
		{"{" T0 "," SRC ",\"eventName\":[\"x\"]}", "eventName: not a string"},
		{"{" MIN ",\"awsRegion\":[]}", "awsRegion: not a string"},
		{"{" MIN ",\"recipientAccountId\":123456789012}", "recipientAccountId: not a string"},
		{"{" MIN ",\"errorCode\":false}", "errorCode: not a string"},
		{"{" MIN ",\"eventCategory\":{}}", "eventCategory: not a string"},
		{"{" MIN ",\"eventType\":1}", "eventType: not a string"},
		{"{" MIN ",\"userAgent\":{}}", "userAgent: not a string"},
		{"{" MIN ",\"userIdentity\":\"root\"}", "userIdentity: not an object"},
		{"{" MIN ",\"userIdentity\":[]}", "userIdentity: not an object"},
		{"{" MIN ",\"userIdentity\":{\"arn\":5}}", "userIdentity.arn: not a string"},
		{"{" MIN ",\"userIdentity\":{\"arn\":\"a\",\"arn\":\"b\"}}",
		 "userIdentity.arn: duplicate key"},
		{"{" MIN ",\"userIdentity\":{\"type\":1}}", "userIdentity.type: not a string"},
		{"{" MIN ",\"userIdentity\":{\"invokedBy\":{}}}", "userIdentity.invokedBy: not a string"},
		{"{" MIN ",\"userIdentity\":{\"type\":\"a\",\"type\":\"b\"}}",
		 "userIdentity.type: duplicate key"},
		{"{" MIN ",\"eventName\":\"Other\"}", "eventName: duplicate key"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		int rc = parse(c[i].s);
		if (rc != TS_EFIELD)
			fprintf(stderr, "  case %zu\n", i);
		CHECK_INT(rc, TS_EFIELD);
		CHECK_STR(ts_parser_errdetail(P), c[i].detail);
	}
}

static char *nested(int depth)
{
	ts_buf b = {0};
	ts_buf_puts(&b, "{" MIN ",\"d\":");
	for (int i = 1; i < depth; i++)
		ts_buf_puts(&b, i % 2 ? "[" : "{\"k\":");
	ts_buf_puts(&b, "0");
	for (int i = depth - 1; i >= 1; i--)
		ts_buf_puts(&b, i % 2 ? "]" : "}");
	ts_buf_puts(&b, "}");
	return b.p;
}

static void test_depth(void)
{
	char *ok = nested(64), *deep = nested(65), *very = nested(100000);
	CHECK_INT(parse(ok), 0);
	CHECK_INT(parse(deep), TS_EDEPTH);
	CHECK_STR(ts_parser_errdetail(P), "nested deeper than 64");
	CHECK_INT(parse(very), TS_EDEPTH); /* fast: refused before jsmn */
	/* brackets inside strings do not count */
	ts_buf b = {0};
	ts_buf_puts(&b, "{" MIN ",\"s\":\"");
	for (int i = 0; i < 500; i++)
		ts_buf_puts(&b, "[{");
	ts_buf_puts(&b, "\\\"[\"}");
	CHECK_INT(parse(b.p), 0);
	/* the depth is checked before tokenising: deep beats the token cap */
	ts_parser_opts few = {.max_tokens = 1000};
	ts_parser *fp = ts_parser_new(&few);
	char *d5k = nested(5000);
	CHECK_INT(ts_parse_record(fp, d5k, strlen(d5k), &R), TS_EDEPTH);
	ts_parser_free(fp);
	free(d5k);
	ts_parser_opts o = {.max_depth = 3};
	ts_parser *small = ts_parser_new(&o);
	CHECK_INT(ts_parse_record(small, "{" MIN ",\"a\":{\"b\":[1]}}",
				  strlen("{" MIN ",\"a\":{\"b\":[1]}}"), &R),
		  0);
	CHECK_INT(ts_parse_record(small, "{" MIN ",\"a\":{\"b\":[[1]]}}",
				  strlen("{" MIN ",\"a\":{\"b\":[[1]]}}"), &R),
		  TS_EDEPTH);
	ts_parser_free(small);
	ts_buf_free(&b);
	free(ok);
	free(deep);
	free(very);
}

static char *many_tokens(int n)
{
	ts_buf b = {0};
	ts_buf_puts(&b, "{" MIN ",\"list\":[");
	for (int i = 0; i < n; i++)
		ts_buf_printf(&b, "%s%d", i ? "," : "", i);
	ts_buf_puts(&b, "]}");
	return b.p;
}

static void test_tokens(void)
{
	char *s = many_tokens(40); /* 1 + 6 + 2 + 40 = 49 tokens */
	ts_parser_opts o = {.max_tokens = 16};
	ts_parser *small = ts_parser_new(&o);
	CHECK_INT(ts_parse_record(small, s, strlen(s), &R), TS_ETOKENS);
	CHECK_STR(ts_parser_errdetail(small), "more than 16 JSON tokens");
	ts_parser_free(small);
	o.max_tokens = 49;
	small = ts_parser_new(&o);
	CHECK_INT(ts_parse_record(small, s, strlen(s), &R), 0);
	ts_parser_free(small);
	o.max_tokens = 48;
	small = ts_parser_new(&o);
	CHECK_INT(ts_parse_record(small, s, strlen(s), &R), TS_ETOKENS);
	ts_parser_free(small);
	free(s);
	/* the token array grows past its first size, then is reused */
	s = many_tokens(50000);
	CHECK_INT(parse(s), 0);
	CHECK_INT(parse("{" MIN "}"), 0);
	CHECK_INT(parse(s), 0);
	free(s);
	s = many_tokens(300000);
	CHECK_INT(parse(s), TS_ETOKENS);
	free(s);
}

static void test_big_record(void)
{
	/* a 1 MiB record, typical shapes, parses with the default caps */
	ts_buf b = {0};
	ts_buf_puts(&b, "{" MIN ",\"userIdentity\":{\"arn\":\"arn:x\"},\"responseElements\":{\"items\":[");
	for (int i = 0; b.len < (1u << 20) - 200; i++)
		ts_buf_printf(&b, "%s{\"id\":\"i-%08d\",\"tags\":[{\"k\":\"Name\",\"v\":\"web\\\"%d\"}],\"n\":%d}",
			      i ? "," : "", i, i, i);
	ts_buf_puts(&b, "]},\"readOnly\":true}");
	CHECK(b.len > 1000000 && b.len <= (1u << 20));
	CHECK_INT(parse(b.p), 0);
	CHECK_MEM(R.arn.p, R.arn.n, "arn:x");
	CHECK_INT(R.read_only, TS_TRUE);
	ts_buf_free(&b);
}

static void test_api(void)
{
	ts_parser_free(NULL);
	CHECK_STR(ts_parser_errdetail(NULL), "");
	CHECK_INT(ts_parse_record(P, NULL, 5, &R), TS_EINVAL);
	CHECK_INT(ts_parse_record(P, "{}", 2, NULL), TS_EINVAL);
	CHECK_INT(ts_parse_record(P, "{}", 2, &R), TS_ENOTIME);
	/* a pretty-printed record */
	CHECK_INT(parse("{\n    \"eventTime\": \"2013-11-01T00:00:00Z\",\n    \"eventSource\": \"s\",\n"
			"    \"eventName\": \"n\",\n    \"resources\": [\n        {\n"
			"            \"ARN\": \"a\"\n        }\n    ]\n}"),
		  0);
	CHECK_INT(R.time, 1383264000);
}

/* Small mutations of well-formed records (a byte flipped, dropped,
 * doubled or replaced by a JSON-significant one): the fast path and the
 * exact path agree on every one, and most are still parsed. */
static void test_mutations(void)
{
	static const char *seeds[] = {
		"{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::1:u\","
		"\"sessionContext\":{\"attributes\":{\"mfa\":\"false\"}}}," T0 "," SRC "," NAME
		",\"awsRegion\":\"us-east-1\",\"userAgent\":\"a\\\"b\\u00e9\",\"errorCode\":\"Denied\","
		"\"requestParameters\":{\"policy\":\"{\\\"V\\\":[1,2]}\",\"n\":[-1.5e+3,0,true,null]},"
		"\"readOnly\":false,\"managementEvent\":\"true\",\"recipientAccountId\":\"1\"}",
		"{ \"Records\" : 1 , \"eventTime\" : \"2024-01-01T00:00:00.123Z\" , \"eventSource\" : "
		"\"s\u00e9\" , \"eventName\" : \"n\" , \"userIdentity\" : { \"arn\" : null } , "
		"\"eventCategory\" : \"Data\" , \"x\" : [ [ ] , { } , \"\\/\\b\\f\\n\\r\\t\" ] }\n",
		"{" MIN ",\"userIdentity\":null,\"readOnly\":true,\"k\":\"\xc3\xa9\xe2\x82\xac\"}",
	};
	static const char sig[] = "{}[]:,\"\\ 0-e.tfn\x80\x01";
	uint32_t x = 12345;
	size_t agreed = 0, parsed = 0, total = 0;
	ts_buf b = {0};
	for (size_t si = 0; si < TS_ARRAY_LEN(seeds); si++) {
		const char *seed = seeds[si];
		size_t n = strlen(seed);
		ts_record r;
		int rc;
		CHECK(agree(P, seed, n, &r, &rc));
		CHECK_INT(rc, 0);
		for (int iter = 0; iter < 20000; iter++) {
			ts_buf_reset(&b);
			ts_buf_add(&b, seed, n);
			for (int m = 0; m < 1 + iter % 3; m++) {
				x = x * 1103515245u + 12345u;
				size_t at = (x >> 8) % b.len;
				x = x * 1103515245u + 12345u;
				char c = sig[(x >> 8) % (sizeof sig - 1)];
				switch ((x >> 20) % 4) {
				case 0: b.p[at] = c; break;
				case 1: b.p[at] ^= (char)(1u << ((x >> 4) % 8)); break;
				case 2: memmove(b.p + at, b.p + at + 1, b.len - at); b.len--; break;
				case 3: ts_buf_add(&b, "", 1); memmove(b.p + at + 1, b.p + at, b.len - at - 1); break;
				}
			}
			total++;
			if (agree(P, b.p, b.len, &r, &rc))
				agreed++;
			else
				fprintf(stderr, "  disagree on: %.*s\n", (int)b.len, b.p);
			parsed += rc == 0;
		}
	}
	ts_buf_free(&b);
	CHECK_INT(agreed, total);
	CHECK(parsed > total / 20); /* the mutations do reach the success path */
}

static void setup_and_run(void (*fn)(void))
{
	P = ts_parser_new(NULL);
	ts_parser_opts eo = {.exact_only = 1};
	EXACT = ts_parser_new(&eo);
	if (!P || !EXACT)
		abort();
	fn();
	ts_parser_free(P);
	ts_parser_free(EXACT);
	P = EXACT = NULL;
}

static void all_fields(void) { setup_and_run(test_all_fields); }
static void escapes(void) { setup_and_run(test_escapes); }
static void read_only(void) { setup_and_run(test_read_only); }
static void event_time(void) { setup_and_run(test_event_time); }
static void utf8(void) { setup_and_run(test_utf8); }
static void structure(void) { setup_and_run(test_structure); }
static void field_types(void) { setup_and_run(test_field_types); }
static void depth(void) { setup_and_run(test_depth); }
static void tokens(void) { setup_and_run(test_tokens); }
static void big_record(void) { setup_and_run(test_big_record); }
static void api(void) { setup_and_run(test_api); }
static void mutations(void) { setup_and_run(test_mutations); }

TS_TESTS(all_fields, escapes, read_only, event_time, utf8, structure, field_types, depth, tokens,
	 big_record, api, mutations)
