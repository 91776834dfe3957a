/* fuzz_reader.c - the reader must give the same items however its input
 * is cut. Byte 0 picks a chunking pattern (below 0x80: one of eight fixed
 * patterns; from 0x80: chunks of 1 to 300 bytes drawn from a generator it
 * seeds), byte 1 the caps; the rest is fed
 * once in those chunks (draining after every feed, as the contract asks)
 * once all at once, and once whole as a regular file is read (gzip
 * decoded by ts_gunzip_all, the text given with ts_reader_set_text; the
 * input fed when either declines); the chunked and the whole runs again
 * with the record parser finding records' ends (ts_reader_set_span), where
 * every record it parsed on the way must parse the same, field by field,
 * as its item alone. The five logs of (code, offset,
 * length, text) must be equal, and every item must keep the contract: records are objects no
 * longer than max_record, errors carry no text and are of the listed codes,
 * offsets never go back, and for plain input a record is the input bytes
 * at its offset. Any breach aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "gunzip.h"
#include "reader.h"
#include "record.h"
#include "util.h"

/* What the span callback parsed last, and the parser it used. */
typedef struct spanned {
	ts_parser *p, *alone;
	const char *text;
	size_t len;
	int rc;
	ts_record rec;
	size_t count;
} spanned;

typedef struct run {
	ts_buf log;
	uint64_t last_off;
	size_t items;
	spanned *sp; /* NULL: the reader splits alone */
} run;

static size_t span_cb(void *ctx, const char *s, size_t avail)
{
	spanned *sp = ctx;
	size_t len;
	sp->rc = ts_parse_record_span(sp->p, s, avail, &len, &sp->rec);
	if (len > avail || (!len && sp->rc))
		abort();
	sp->text = len ? s : NULL;
	sp->len = len;
	return len;
}

static int same_str(ts_str a, ts_str b)
{
	return a.n == b.n && (!a.n || memcmp(a.p, b.p, a.n) == 0) && !a.p == !b.p;
}

/* A record parsed while its end was sought must be what parsing its
 * item alone gives. */
static void check_spanned(spanned *sp, const ts_reader_item *it)
{
	if (it->text != sp->text || it->len != sp->len)
		return;
	sp->count++;
	ts_record a = sp->rec, b;
	int rb = ts_parse_record(sp->alone, it->text, it->len, &b);
	if (rb != sp->rc)
		abort();
	if (rb)
		return;
	ts_str *fa[] = {&a.event_time, &a.event_source, &a.event_name, &a.aws_region, &a.account,
			&a.error_code, &a.event_category, &a.event_type, &a.arn, &a.identity_type,
			&a.invoked_by, &a.user_agent};
	ts_str *fb[] = {&b.event_time, &b.event_source, &b.event_name, &b.aws_region, &b.account,
			&b.error_code, &b.event_category, &b.event_type, &b.arn, &b.identity_type,
			&b.invoked_by, &b.user_agent};
	for (size_t i = 0; i < TS_ARRAY_LEN(fa); i++)
		if (!same_str(*fa[i], *fb[i]))
			abort();
	if (a.time != b.time || a.read_only != b.read_only || a.management != b.management)
		abort();
}

static const size_t patterns[8][4] = {
	{1, 0}, {2, 0}, {3, 1, 0}, {7, 0}, {13, 2, 64, 0}, {4096, 0}, {1, 1, 100, 0}, {31, 1, 0},
};

static int allowed(int rc)
{
	switch (rc) {
	case TS_EJSON: case TS_ETOOBIG: case TS_EGZIP: case TS_ERATIO: case TS_ETRUNC:
	case TS_ENOTLOG: case TS_EDEPTH: case TS_ENOMEM: case TS_ECAP: case TS_EUTF16:
		return 1;
	}
	return 0;
}

static void drain(ts_reader *r, run *x, const ts_reader_opts *o, const uint8_t *plain, size_t n)
{
	ts_reader_item it;
	int rc;
	while ((rc = ts_reader_next(r, &it)) != 0) {
		ts_reader_stats st;
		ts_reader_get_stats(r, &st);
		if (++x->items > st.out_bytes + 16)
			abort(); /* more items than the text can hold */
		if (it.offset < x->last_off)
			abort();
		x->last_off = it.offset;
		if (rc == 1) {
			if (!it.text || it.len < 2 || it.len > o->max_record || it.text[0] != '{' ||
			    it.text[it.len - 1] != '}')
				abort();
			if (plain && (it.offset > n || it.len > n - it.offset ||
				      memcmp(plain + it.offset, it.text, it.len) != 0))
				abort();
		} else if (!allowed(rc) || it.text) {
			abort();
		}
		if (x->sp && rc == 1)
			check_spanned(x->sp, &it);
		uint64_t head[3] = {(uint64_t)(int64_t)rc, it.offset, it.len};
		if (ts_buf_add(&x->log, head, sizeof head) || (rc == 1 && ts_buf_add(&x->log, it.text, it.len)))
			abort();
	}
}

/* xorshift32: chunk sizes for seeds >= 0x80 */
static size_t next_chunk(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return 1 + *s % 300;
}

static void feed_all(const uint8_t *d, size_t n, const ts_reader_opts *o, const size_t *pat,
		     uint32_t seed, run *x)
{
	const uint8_t *plain = n && d[0] == 0x1f ? NULL : d;
	ts_reader *r = ts_reader_new(o);
	if (!r)
		abort();
	if (x->sp)
		ts_reader_set_span(r, span_cb, x->sp);
	size_t off = 0, k = 0;
	while (off < n) {
		size_t c = seed ? next_chunk(&seed) : pat ? pat[k] : n - off;
		if (!seed && pat && !pat[++k])
			k = 0;
		if (c > n - off)
			c = n - off;
		if (ts_reader_feed(r, d + off, c) != 0)
			abort();
		off += c;
		drain(r, x, o, plain, n);
	}
	if (ts_reader_finish(r) != 0)
		abort();
	drain(r, x, o, plain, n);
	ts_reader_stats st;
	ts_reader_get_stats(r, &st);
	if (st.in_bytes != n || (plain && st.out_bytes > n))
		abort();
	ts_reader_free(r);
}

/* The whole-file path of source.c: decode a gzip input at once, give the
 * reader the text; where either declines, feed the input as it is. */
static void whole(const uint8_t *d, size_t n, const ts_reader_opts *o, ts_gunzip *gz, run *x)
{
	const uint8_t *plain = n && d[0] == 0x1f ? NULL : d;
	ts_reader *r = ts_reader_new(o);
	if (!r)
		abort();
	if (x->sp)
		ts_reader_set_span(r, span_cb, x->sp);
	int set = -1;
	if (n >= 2 && d[0] == 0x1f && d[1] == 0x8b) {
		const char *text;
		size_t tlen;
		int g = ts_gunzip_all(gz, d, n, o->max_output ? o->max_output : (size_t)1 << 24, &text,
				      &tlen);
		if (g != 0 && g != TS_EGZIP && g != TS_ECAP && g != TS_ENOMEM)
			abort();
		if (!g)
			set = ts_reader_set_text(r, text, tlen, n);
	} else {
		set = ts_reader_set_text(r, (const char *)d, n, n);
	}
	if (set != 0 && set != TS_ECAP && set != TS_ERATIO && set != -1)
		abort();
	if (set != 0) {
		if (n && ts_reader_feed(r, d, n) != 0)
			abort();
		if (ts_reader_finish(r) != 0)
			abort();
	}
	drain(r, x, o, plain, n);
	ts_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const size_t *pat = patterns[data[0] & 7];
	ts_reader_opts o = {
		.max_record = (size_t)64 << (data[1] & 7),
		.max_ratio = 8, /* fuzz inputs are small: 1 MiB out is always over */
		.max_output = data[1] & 8 ? 3000 + 1000 * (uint64_t)(data[1] >> 4) : 0,
	};
	run a = {0}, b = {0};
	uint32_t seed = data[0] & 0x80 ? 0x9e3779b9u ^ data[0] : 0;
	feed_all(data + 2, size - 2, &o, pat, seed, &a);
	feed_all(data + 2, size - 2, &o, NULL, 0, &b);
	if (a.log.len != b.log.len || (a.log.len && memcmp(a.log.p, b.log.p, a.log.len) != 0))
		abort();
	static ts_gunzip *gz; /* one per thread, reused as source.c does */
	if (!gz && !(gz = ts_gunzip_new()))
		abort();
	run c = {0};
	whole(data + 2, size - 2, &o, gz, &c);
	if (c.log.len != b.log.len || (c.log.len && memcmp(c.log.p, b.log.p, c.log.len) != 0))
		abort();
	/* the same with the record parser finding records' ends; small caps
	 * in the parser from byte 1 as well */
	static spanned sp;
	ts_parser_opts po = {.max_tokens = data[1] & 0x40 ? 50 : 0, .max_depth = data[1] & 0x80 ? 3 : 0};
	ts_parser_free(sp.p);
	ts_parser_free(sp.alone);
	sp = (spanned){.p = ts_parser_new(&po), .alone = ts_parser_new(&po)};
	if (!sp.p || !sp.alone)
		abort();
	run d = {.sp = &sp}, e = {.sp = &sp};
	feed_all(data + 2, size - 2, &o, pat, seed, &d);
	whole(data + 2, size - 2, &o, gz, &e);
	if (d.log.len != b.log.len || (d.log.len && memcmp(d.log.p, b.log.p, d.log.len) != 0))
		abort();
	if (e.log.len != b.log.len || (e.log.len && memcmp(e.log.p, b.log.p, e.log.len) != 0))
		abort();
	ts_buf_free(&a.log);
	ts_buf_free(&b.log);
	ts_buf_free(&c.log);
	ts_buf_free(&d.log);
	ts_buf_free(&e.log);
	return 0;
}
