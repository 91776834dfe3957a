/* fuzz_record.c - the record parser on arbitrary bytes. On success every
 * string field must be valid UTF-8 and lie within the input (or, when the
 * input has escapes, in the parser's scratch space: ASan checks that the
 * bytes are readable), the time must match eventTime, and the tri-states be
 * in range. A parser held to the exact path (jsmn, no jscan) must give the
 * same answer as the default one (fast path where jscan vouches), a second
 * parser with tiny caps must agree or stop at a cap, and a reparse must
 * give the same answer. Any breach aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static void check_str(ts_str v, const uint8_t *d, size_t n, int has_bslash)
{
	if (!v.p) {
		if (v.n)
			abort();
		return;
	}
	int in = (uintptr_t)v.p >= (uintptr_t)d && v.n <= n &&
		 (uintptr_t)v.p - (uintptr_t)d <= n - v.n;
	if (!in && !has_bslash)
		abort();
	if (!ts_utf8_valid(v.p, v.n))
		abort();
}

static void check_rec(const ts_record *r, const uint8_t *d, size_t n)
{
	int bs = memchr(d, '\\', n) != NULL;
	const ts_str *f[] = {&r->event_time, &r->event_source, &r->event_name, &r->aws_region,
			     &r->account, &r->error_code, &r->event_category, &r->event_type,
			     &r->arn, &r->identity_type, &r->invoked_by, &r->user_agent};
	for (size_t i = 0; i < TS_ARRAY_LEN(f); i++)
		check_str(*f[i], d, n, bs);
	int64_t t;
	if (!r->event_time.p || ts_parse_time(r->event_time.p, r->event_time.n, &t) || t != r->time)
		abort();
	if (!r->event_source.p || !r->event_name.p)
		abort();
	if (r->read_only < TS_ABSENT || r->read_only > TS_TRUE || r->management < TS_ABSENT ||
	    r->management > TS_TRUE)
		abort();
}

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

static void check_detail(const char *s)
{
	if (!s || strlen(s) >= 160)
		abort();
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	ts_parser *p = ts_parser_new(NULL);
	ts_parser_opts small_o = {.max_tokens = 24, .max_depth = 4};
	ts_parser *small = ts_parser_new(&small_o);
	ts_parser_opts exact_o = {.exact_only = 1};
	ts_parser *exact = ts_parser_new(&exact_o);
	if (!p || !small || !exact)
		abort();
	ts_record r, r2, r3, rx;
	int rc = ts_parse_record(p, text, size, &r);
	check_detail(ts_parser_errdetail(p));
	/* the fast path and the exact one agree on every input */
	int rcx = ts_parse_record(exact, text, size, &rx);
	if (rcx != rc || (rc == 0 && !same_rec(&r, &rx)))
		abort();
	switch (rc) {
	case 0:
		check_rec(&r, data, size);
		break;
	case TS_EUTF8: case TS_EJSON: case TS_ETOKENS: case TS_EDEPTH: case TS_ENOTIME:
	case TS_EBADTIME: case TS_EFIELD: case TS_ENOMEM:
		break;
	default:
		abort();
	}
	int rc2 = ts_parse_record(small, text, size, &r2);
	check_detail(ts_parser_errdetail(small));
	if (rc2 != rc && rc2 != TS_ETOKENS && rc2 != TS_EDEPTH)
		abort();
	if (rc2 == 0 && !same_rec(&r, &r2))
		abort();
	/* a reparse (r is no longer valid after it) gives the same answer */
	int rc3 = ts_parse_record(p, text, size, &r3);
	if (rc3 != rc || (rc2 == 0 && !same_rec(&r2, &r3)))
		abort();
	if (rc3 == 0)
		check_rec(&r3, data, size);
	ts_parser_free(exact);
	ts_parser_free(small);
	ts_parser_free(p);
	return 0;
}
