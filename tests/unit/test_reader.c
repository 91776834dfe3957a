/* test_reader.c - splitting plain, gzip and NDJSON input into records;
 * chunking invariance; recovery from bad structure; caps; the shared
 * samples through reader and parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../check.h"
#include "gz_mem.h"
#include "gunzip.h"
#include "reader.h"
#include "record.h"

/* --- helpers --- */

typedef struct item {
	int rc;
	uint64_t off;
	size_t len;
	char *text; /* NUL-terminated copy of a record, NULL for errors */
} item;

typedef struct items {
	item *v;
	size_t n, alloc;
} items;

static void items_free(items *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static void drain(ts_reader *r, items *l)
{
	ts_reader_item it;
	int rc;
	while ((rc = ts_reader_next(r, &it)) != 0) {
		if (l->n == l->alloc) {
			l->alloc = l->alloc ? 2 * l->alloc : 16;
			l->v = realloc(l->v, l->alloc * sizeof *l->v);
			if (!l->v)
				abort();
		}
		item *x = &l->v[l->n++];
		x->rc = rc;
		x->off = it.offset;
		x->len = it.len;
		x->text = NULL;
		if (rc == 1) {
			x->text = malloc(it.len + 1);
			if (!x->text)
				abort();
			memcpy(x->text, it.text, it.len);
			x->text[it.len] = '\0';
		} else if (it.text) {
			x->rc = 99; /* an error must not carry text */
		}
	}
}

/* Feed data in chunks whose sizes cycle through chunks[] (0-terminated;
 * NULL: all at once), draining after each feed. */
static void run(const void *data, size_t n, const ts_reader_opts *o, const size_t *chunks,
		items *out)
{
	memset(out, 0, sizeof *out);
	ts_reader *r = ts_reader_new(o);
	if (!r)
		abort();
	const char *p = data;
	size_t off = 0, k = 0;
	while (off < n) {
		size_t c = chunks ? chunks[k] : n - off;
		if (chunks && !chunks[++k])
			k = 0;
		if (c > n - off)
			c = n - off;
		CHECK_INT(ts_reader_feed(r, p + off, c), 0);
		off += c;
		drain(r, out);
	}
	CHECK_INT(ts_reader_finish(r), 0);
	drain(r, out);
	/* finished: nothing more, ever, and no more feeding */
	ts_reader_item it;
	CHECK_INT(ts_reader_next(r, &it), 0);
	CHECK_INT(ts_reader_feed(r, "x", 1), TS_EINVAL);
	ts_reader_free(r);
}

static void runs(const char *s, items *out) { run(s, strlen(s), NULL, NULL, out); }

static int same(const items *a, const items *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const item *x = &a->v[i], *y = &b->v[i];
		if (x->rc != y->rc || x->off != y->off || x->len != y->len)
			return 0;
		if ((x->text || y->text) && (!x->text || !y->text || strcmp(x->text, y->text)))
			return 0;
	}
	return 1;
}

/* The whole text given at once with ts_reader_set_text(): gzip input is
 * decoded first with ts_gunzip_all(). 0, or the gunzip code when it would
 * not decode the input (the caller then streams it). */
static int run_set_text(const void *data, size_t n, const ts_reader_opts *o, items *out)
{
	memset(out, 0, sizeof *out);
	const unsigned char *b = data;
	const char *text = data;
	size_t len = n;
	ts_gunzip *g = ts_gunzip_new();
	ts_reader *r = ts_reader_new(o);
	if (!g || !r)
		abort();
	int rc = 0;
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		rc = ts_gunzip_all(g, data, n, o && o->max_output ? o->max_output : SIZE_MAX / 4,
				   &text, &len);
	if (!rc)
		rc = ts_reader_set_text(r, text, len, n);
	if (!rc) {
		CHECK_INT(ts_reader_set_text(r, text, len, n), TS_EINVAL); /* once */
		CHECK_INT(ts_reader_feed(r, "x", 1), TS_EINVAL);
		drain(r, out);
		ts_reader_stats st;
		ts_reader_get_stats(r, &st);
		CHECK_INT(st.in_bytes, n);
		CHECK_INT(st.out_bytes, len);
	}
	ts_reader_free(r);
	ts_gunzip_free(g);
	return rc;
}

/* The same items however the input is cut into chunks, and when it is
 * given whole (decoded whole first, for gzip that decodes cleanly). */
static void check_chunking(const void *data, size_t n, const ts_reader_opts *o)
{
	static const size_t one[] = {1, 0}, odd[] = {3, 7, 1, 13, 2, 64, 5, 0},
			    big[] = {4093, 17, 65536, 1, 0};
	items whole, a, b, c;
	run(data, n, o, NULL, &whole);
	run(data, n, o, one, &a);
	run(data, n, o, odd, &b);
	run(data, n, o, big, &c);
	CHECK(same(&whole, &a));
	CHECK(same(&whole, &b));
	CHECK(same(&whole, &c));
	items t;
	if (run_set_text(data, n, o, &t) == 0)
		CHECK(same(&whole, &t));
	items_free(&t);
	items_free(&whole);
	items_free(&a);
	items_free(&b);
	items_free(&c);
}

static size_t count_rc(const items *l, int rc)
{
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++)
		k += l->v[i].rc == rc;
	return k;
}

/* A Records file with n records of about 120 bytes each. */
static char *records_file(int n, size_t *len)
{
	ts_buf b = {0};
	ts_buf_puts(&b, "{\"Records\":[");
	for (int i = 0; i < n; i++)
		ts_buf_printf(&b,
			      "%s{\"eventTime\":\"2024-01-01T00:%02d:00Z\",\"eventSource\":"
			      "\"s3.amazonaws.com\",\"eventName\":\"Get\\\"{[%d\",\"n\":[%d,{}]}",
			      i ? "," : "", i % 60, i, i);
	ts_buf_puts(&b, "]}\n");
	*len = b.len;
	return b.p;
}

/* --- tests --- */

static const char plain_log[] =
	"{\"Records\":[{\"eventName\":\"A\",\"x\":{\"y\":[1,2]}},\n"
	"  {\"eventName\":\"B\"} , {\"eventName\":\"C\"}]}";

static void test_plain_records(void)
{
	items l;
	runs(plain_log, &l);
	CHECK_INT(l.n, 3);
	if (l.n == 3) {
		CHECK_STR(l.v[0].text, "{\"eventName\":\"A\",\"x\":{\"y\":[1,2]}}");
		CHECK_INT(l.v[0].off, strstr(plain_log, "{\"eventName\":\"A") - plain_log);
		CHECK_STR(l.v[1].text, "{\"eventName\":\"B\"}");
		CHECK_INT(l.v[1].off, strstr(plain_log, "{\"eventName\":\"B") - plain_log);
		CHECK_STR(l.v[2].text, "{\"eventName\":\"C\"}");
		CHECK_INT(l.v[2].off, strstr(plain_log, "{\"eventName\":\"C") - plain_log);
	}
	items_free(&l);
	check_chunking(plain_log, strlen(plain_log), NULL);
}

static void test_gzip_records(void)
{
	size_t gn;
	unsigned char *g = gz(plain_log, strlen(plain_log), &gn);
	items a, b;
	runs(plain_log, &a);
	run(g, gn, NULL, NULL, &b);
	CHECK(same(&a, &b)); /* offsets are in decompressed bytes */
	CHECK_INT(b.n, 3);
	check_chunking(g, gn, NULL);
	ts_reader *r = ts_reader_new(NULL);
	ts_reader_feed(r, g, gn);
	ts_reader_finish(r);
	items_free(&b);
	drain(r, &b);
	ts_reader_stats st;
	ts_reader_get_stats(r, &st);
	CHECK_INT(st.in_bytes, gn);
	CHECK_INT(st.out_bytes, strlen(plain_log));
	CHECK_INT(st.records, 3);
	ts_reader_free(r);
	items_free(&a);
	items_free(&b);
	free(g);
}

static void test_gzip_members(void)
{
	/* two members, split in the middle of a record */
	size_t n, cut = 0, g1n, g2n;
	char *text = records_file(50, &n);
	cut = n / 2 + 7;
	unsigned char *g1 = gz(text, cut, &g1n), *g2 = gz(text + cut, n - cut, &g2n);
	unsigned char *both = malloc(g1n + g2n);
	memcpy(both, g1, g1n);
	memcpy(both + g1n, g2, g2n);
	items a, b;
	run(text, n, NULL, NULL, &a);
	run(both, g1n + g2n, NULL, NULL, &b);
	CHECK_INT(a.n, 50);
	CHECK_INT(count_rc(&a, 1), 50);
	CHECK(same(&a, &b));
	check_chunking(both, g1n + g2n, NULL);
	/* garbage after the last member */
	unsigned char *tail = malloc(g1n + g2n + 4);
	memcpy(tail, both, g1n + g2n);
	memcpy(tail + g1n + g2n, "junk", 4);
	items_free(&b);
	run(tail, g1n + g2n + 4, NULL, NULL, &b);
	CHECK_INT(count_rc(&b, 1), 50);
	CHECK_INT(b.n, 51);
	if (b.n == 51)
		CHECK_INT(b.v[50].rc, TS_EGZIP);
	items_free(&a);
	items_free(&b);
	free(text);
	free(g1);
	free(g2);
	free(both);
	free(tail);
}

static void test_ndjson(void)
{
	const char *s = "\xef\xbb\xbf{\"a\":1}\n\n   \r\n{\"b\":\"}\"}\r\n\t{\"c\":[{}]}{\"d\":{}}\n\n"
			"{\"e\":\"q\\\"}\\\\\"}\n";
	items l;
	runs(s, &l);
	CHECK_INT(l.n, 5);
	if (l.n == 5) {
		CHECK_STR(l.v[4].text, "{\"e\":\"q\\\"}\\\\\"}");
		CHECK_STR(l.v[0].text, "{\"a\":1}");
		CHECK_INT(l.v[0].off, 3);
		CHECK_STR(l.v[1].text, "{\"b\":\"}\"}");
		CHECK_STR(l.v[2].text, "{\"c\":[{}]}");
		CHECK_STR(l.v[3].text, "{\"d\":{}}");
	}
	items_free(&l);
	check_chunking(s, strlen(s), NULL);
	/* nested arrays holding "Records" do not make a log file */
	runs("{\"x\":{\"Records\":[{\"a\":1}]},\"Records\":5}\n", &l);
	CHECK_INT(l.n, 1);
	if (l.n == 1)
		CHECK_INT(l.v[0].rc, 1);
	items_free(&l);
}

static void test_chunk_invariance(void)
{
	size_t n, gn;
	char *text = records_file(300, &n);
	unsigned char *g = gz(text, n, &gn);
	check_chunking(text, n, NULL);
	check_chunking(g, gn, NULL);
	ts_reader_opts o = {.max_record = 100};
	check_chunking(text, n, &o); /* every record too big */
	items l;
	run(text, n, &o, NULL, &l);
	CHECK_INT(count_rc(&l, TS_ETOOBIG), 300);
	items_free(&l);
	static const char *bad[] = {
		"{\"Records\":[{\"a\":{\"b\":1},{\"c\":2},{\"d\":[}]},{\"e\":3}]}",
		"{\"a\":{\"x\":1}\n{\"b\":2}\ngarbage\n{\"c\":\"\\\\\"}\n",
		"{\"Records\":[{\"a\":\"\\\\\\\"]}\"},{\"b\":1}]}",
		"{\"Records\":[{\"k\":\"v\"} x {\"k\":1}]}}",
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(bad); i++)
		check_chunking(bad[i], strlen(bad[i]), NULL);
	free(text);
	free(g);
}

static void test_truncated_gzip(void)
{
	size_t n, gn;
	char *text = records_file(400, &n);
	unsigned char *g = gz(text, n, &gn);
	items full;
	run(text, n, NULL, NULL, &full);
	size_t cuts[] = {gn / 3, gn / 2, gn - 8, gn - 1, 11};
	for (size_t c = 0; c < TS_ARRAY_LEN(cuts); c++) {
		items l;
		run(g, cuts[c], NULL, NULL, &l);
		CHECK(l.n >= 1);
		if (l.n < 1)
			continue;
		/* the records before the cut, unchanged, then one TS_ETRUNC */
		CHECK_INT(l.v[l.n - 1].rc, TS_ETRUNC);
		CHECK_INT(count_rc(&l, TS_ETRUNC), 1);
		CHECK_INT(count_rc(&l, 1), l.n - 1);
		for (size_t i = 0; i + 1 < l.n && i < full.n; i++)
			CHECK(l.v[i].off == full.v[i].off && !strcmp(l.v[i].text, full.v[i].text));
		if (cuts[c] == gn - 8) /* only the trailer is missing */
			CHECK_INT(l.n, 401);
		if (cuts[c] == gn / 2)
			CHECK(l.n > 50 && l.n < 400);
		items_free(&l);
	}
	/* an unfinished object in plain text: ETRUNC at its offset */
	items l;
	runs("{\"Records\":[{\"a\":1},{\"b\":[", &l);
	CHECK_INT(l.n, 2);
	if (l.n == 2) {
		CHECK_INT(l.v[1].rc, TS_ETRUNC);
		CHECK_INT(l.v[1].off, 20);
	}
	items_free(&l);
	runs("{\"Records\":[{\"a\":1}]", &l); /* the root is never closed */
	CHECK_INT(l.n, 2);
	if (l.n == 2)
		CHECK_INT(l.v[1].rc, TS_ETRUNC);
	items_free(&l);
	items_free(&full);
	free(text);
	free(g);
}

static void test_corrupt_gzip(void)
{
	size_t n, gn;
	char *text = records_file(400, &n);
	unsigned char *g = gz(text, n, &gn);
	/* corrupt the deflate data in the middle: either the decoder fails
	 * at once or the CRC does at the end; one TS_EGZIP, last, either way */
	for (size_t at = gn / 4; at < gn - 8; at += gn / 5) {
		unsigned char *c = malloc(gn);
		memcpy(c, g, gn);
		for (size_t i = 0; i < 16; i++)
			c[at + i] ^= 0x55;
		items l;
		run(c, gn, NULL, NULL, &l);
		CHECK(l.n >= 1);
		CHECK_INT(count_rc(&l, TS_EGZIP), 1);
		if (l.n)
			CHECK_INT(l.v[l.n - 1].rc, TS_EGZIP);
		CHECK_INT(count_rc(&l, TS_ETRUNC), 0);
		items_free(&l);
		free(c);
	}
	/* a gzip header and then garbage */
	static const unsigned char bad[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff};
	items l;
	run(bad, sizeof bad, NULL, NULL, &l);
	CHECK_INT(l.n, 1);
	if (l.n)
		CHECK_INT(l.v[0].rc, TS_EGZIP);
	items_free(&l);
	free(text);
	free(g);
}

static void test_too_big(void)
{
	ts_buf b = {0};
	ts_buf_puts(&b, "{\"Records\":[{\"a\":1},{\"big\":\"");
	size_t big_off = 20;
	for (int i = 0; i < 3000; i++)
		ts_buf_puts(&b, "x]}{\\\"");
	ts_buf_puts(&b, "\",\"n\":[[[{}]]]},{\"b\":2}]}");
	size_t big_len = b.len - big_off - strlen(",{\"b\":2}]}");
	ts_reader_opts o = {.max_record = 4096};
	items l;
	run(b.p, b.len, &o, NULL, &l);
	CHECK_INT(l.n, 3);
	if (l.n == 3) {
		CHECK_STR(l.v[0].text, "{\"a\":1}");
		CHECK_INT(l.v[1].rc, TS_ETOOBIG);
		CHECK_INT(l.v[1].off, big_off);
		CHECK_INT(l.v[1].len, big_len);
		CHECK_STR(l.v[2].text, "{\"b\":2}");
	}
	items_free(&l);
	check_chunking(b.p, b.len, &o);
	/* the same as NDJSON */
	ts_buf_reset(&b);
	ts_buf_puts(&b, "{\"a\":1}\n{\"big\":\"");
	for (int i = 0; i < 3000; i++)
		ts_buf_puts(&b, "0123456789");
	ts_buf_puts(&b, "\"}\n{\"b\":2}\n");
	run(b.p, b.len, &o, NULL, &l);
	CHECK_INT(l.n, 3);
	if (l.n == 3) {
		CHECK_INT(l.v[0].rc, 1);
		CHECK_INT(l.v[1].rc, TS_ETOOBIG);
		CHECK_INT(l.v[1].off, 8);
		CHECK_STR(l.v[2].text, "{\"b\":2}");
	}
	items_free(&l);
	check_chunking(b.p, b.len, &o);
	/* a record of exactly max_record bytes is fine */
	o.max_record = 7;
	runs("", &l);
	items_free(&l);
	run("{\"a\":1}{\"ab\":1}", 15, &o, NULL, &l);
	CHECK_INT(l.n, 2);
	if (l.n == 2) {
		CHECK_INT(l.v[0].rc, 1);
		CHECK_INT(l.v[1].rc, TS_ETOOBIG);
	}
	items_free(&l);
	ts_buf_free(&b);
}

static void test_recovery(void)
{
	items l;
	/* a missing '}' inside a record: noticed at "},{", where the next
	 * record starts; the records after it come out */
	runs("{\"Records\":[{\"u\":{\"a\":1,\"b\":2},{\"c\":3},{\"d\":4}]}", &l);
	CHECK_INT(l.n, 3);
	if (l.n == 3) {
		CHECK_INT(l.v[0].rc, TS_EJSON);
		CHECK_INT(l.v[0].off, 12);
		CHECK_STR(l.v[1].text, "{\"c\":3}");
		CHECK_STR(l.v[2].text, "{\"d\":4}");
	}
	items_free(&l);
	/* ... in the last record: noticed at ']' */
	runs("{\"Records\":[{\"a\":1},{\"b\":{\"x\":1}]}", &l);
	CHECK_INT(l.n, 2);
	if (l.n == 2) {
		CHECK_STR(l.v[0].text, "{\"a\":1}");
		CHECK_INT(l.v[1].rc, TS_EJSON);
		CHECK_INT(l.v[1].off, 20);
	}
	items_free(&l);
	/* a mismatched closer inside a record */
	runs("{\"Records\":[{\"a\":1},{\"b\":[1,2},\"z\":0},{\"c\":3}]}", &l);
	CHECK_INT(l.n, 3);
	if (l.n == 3) {
		CHECK_INT(l.v[1].rc, TS_EJSON);
		CHECK_INT(l.v[1].off, 20);
		CHECK_INT(l.v[1].len, strlen("{\"b\":[1,2}"));
		CHECK_STR(l.v[2].text, "{\"c\":3}");
	}
	items_free(&l);
	/* a stray closer and garbage between records */
	runs("{\"Records\":[{\"a\":1}},{\"b\":2} xyz {\"c\":3}]}", &l);
	CHECK_INT(l.n, 5);
	if (l.n == 5) {
		CHECK_INT(l.v[0].rc, 1);
		CHECK_INT(l.v[1].rc, TS_EJSON);
		CHECK_INT(l.v[1].off, 19);
		CHECK_STR(l.v[2].text, "{\"b\":2}");
		CHECK_INT(l.v[3].rc, TS_EJSON);
		CHECK_INT(l.v[3].off, 33);
		CHECK_STR(l.v[4].text, "{\"c\":3}");
	}
	items_free(&l);
	/* a run of garbage is one error, however long */
	runs("{\"Records\":[{\"a\":1}}}}}:x,{\"b\":2}]}", &l);
	CHECK_INT(l.n, 3);
	if (l.n == 3) {
		CHECK_INT(l.v[1].rc, TS_EJSON);
		CHECK_INT(l.v[1].off, 19);
		CHECK_STR(l.v[2].text, "{\"b\":2}");
	}
	items_free(&l);
	/* NDJSON: a line without its last '}', a garbage line */
	runs("{\"a\":{\"x\":1}\n{\"b\":2}\nnot json\n{\"c\":3}\n", &l);
	CHECK_INT(l.n, 4);
	if (l.n == 4) {
		CHECK_INT(l.v[0].rc, TS_EJSON);
		CHECK_INT(l.v[0].off, 0);
		CHECK_STR(l.v[1].text, "{\"b\":2}");
		CHECK_INT(l.v[2].rc, TS_EJSON);
		CHECK_INT(l.v[2].off, 21);
		CHECK_STR(l.v[3].text, "{\"c\":3}");
	}
	items_free(&l);
	/* NDJSON: garbage, then a record on the same line: skipped too */
	runs("{\"a\":1}\nx{\"b\":2}\n{\"c\":3}\n", &l);
	CHECK_INT(l.n, 3);
	if (l.n == 3) {
		CHECK_INT(l.v[1].rc, TS_EJSON);
		CHECK_INT(l.v[1].off, 8);
		CHECK_STR(l.v[2].text, "{\"c\":3}");
	}
	items_free(&l);
	/* NDJSON: a line with an extra '}' and junk; resync at column 0 */
	runs("{\"a\":[1}, \"b\":2}\n  {\"skipped\":1}\n{\"c\":3}\n", &l);
	CHECK_INT(l.n, 2);
	if (l.n == 2) {
		CHECK_INT(l.v[0].rc, TS_EJSON);
		CHECK_STR(l.v[1].text, "{\"c\":3}");
	}
	items_free(&l);
}

static void test_empty_and_not_log(void)
{
	items l;
	runs("{\"Records\":[]}", &l);
	CHECK_INT(l.n, 0);
	items_free(&l);
	runs("  \n{\"Records\" : [ ] , \"x\":{\"y\":[{}]}}\n", &l);
	CHECK_INT(l.n, 0);
	items_free(&l);
	runs("", &l);
	CHECK_INT(l.n, 0);
	items_free(&l);
	size_t gn;
	unsigned char *g = gz("{\"Records\":[]}", 14, &gn);
	run(g, gn, NULL, NULL, &l);
	CHECK_INT(l.n, 0);
	items_free(&l);
	free(g);
	static const char *not_log[] = {"hello world\n", "\x1f", "\"Records\"", "\x1f\x8c{}",
					"x\n [1]"};
	for (size_t i = 0; i < TS_ARRAY_LEN(not_log); i++) {
		runs(not_log[i], &l);
		CHECK_INT(l.n, 1);
		if (l.n) {
			CHECK_INT(l.v[0].rc, TS_ENOTLOG);
			CHECK_INT(l.v[0].off, 0);
		}
		items_free(&l);
	}
}

static void deflate_to(z_stream *z, const void *p, size_t n, int flush, ts_buf *out)
{
	unsigned char tmp[65536];
	int zr;
	z->next_in = (unsigned char *)(uintptr_t)p;
	z->avail_in = (uInt)n;
	do {
		z->next_out = tmp;
		z->avail_out = sizeof tmp;
		zr = deflate(z, flush);
		ts_buf_add(out, tmp, sizeof tmp - z->avail_out);
	} while (z->avail_in || z->avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
}

/* gzip of pre, count bytes of c, post, made without holding the text. */
static unsigned char *gz_fill(const char *pre, char c, size_t count, const char *post, size_t *outn)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	ts_buf out = {0};
	char chunk[65536];
	memset(chunk, c, sizeof chunk);
	deflate_to(&z, pre, strlen(pre), Z_NO_FLUSH, &out);
	for (size_t left = count; left;) {
		size_t k = left < sizeof chunk ? left : sizeof chunk;
		deflate_to(&z, chunk, k, Z_NO_FLUSH, &out);
		left -= k;
	}
	deflate_to(&z, post, strlen(post), Z_FINISH, &out);
	deflateEnd(&z);
	*outn = out.len;
	return (unsigned char *)out.p;
}

static void test_ratio_bomb(void)
{
	size_t gn;
	size_t blanks = (size_t)50 << 20;
	unsigned char *g = gz_fill("{\"Records\":[{\"a\":1},", ' ', blanks, "{\"b\":2}]}", &gn);
	CHECK(gn < blanks / 500);
	ts_reader_opts o = {.max_ratio = 100};
	ts_reader *r = ts_reader_new(&o);
	ts_reader_feed(r, g, gn);
	ts_reader_finish(r);
	items l = {0};
	drain(r, &l);
	ts_reader_stats st;
	ts_reader_get_stats(r, &st);
	CHECK(st.out_bytes <= (2u << 20)); /* stopped at the first checkpoint */
	CHECK_INT(l.n, 2);
	if (l.n == 2) {
		CHECK_STR(l.v[0].text, "{\"a\":1}");
		CHECK_INT(l.v[1].rc, TS_ERATIO);
	}
	items_free(&l);
	ts_reader_free(r);
	/* without the cap it is just a big file */
	o.max_ratio = 1e9;
	run(g, gn, &o, NULL, &l);
	CHECK_INT(l.n, 2);
	CHECK_INT(count_rc(&l, 1), 2);
	if (l.n == 2)
		CHECK_INT(l.v[1].off, 20 + blanks);
	items_free(&l);
	/* output that fills the buffer just as the input runs out (at each
	 * 256 KiB checkpoint) must still come out: chunking invariance */
	size_t g2n;
	unsigned char *g2 = gz_fill("{\"Records\":[{\"a\":1},", ' ', 3u << 20, "{\"b\":2}]}", &g2n);
	o.max_ratio = 1e9;
	check_chunking(g2, g2n, &o);
	check_chunking(g2, g2n * 2 / 3, &o);
	free(g2);
	/* max_output caps the text of plain and gzip input alike */
	ts_reader_opts c = {.max_output = 1000};
	run(g, gn, &c, NULL, &l);
	CHECK_INT(l.n, 2);
	if (l.n == 2)
		CHECK_INT(l.v[1].rc, TS_ECAP);
	items_free(&l);
	c.max_output = 14;
	runs("{\"a\":1}\n{\"b\":2}\n", &l);
	items_free(&l);
	run("{\"a\":1}\n{\"b\":2}\n", 16, &c, NULL, &l);
	CHECK_INT(l.n, 2);
	if (l.n == 2) {
		CHECK_INT(l.v[0].rc, 1);
		CHECK_INT(l.v[1].rc, TS_ECAP);
		CHECK_INT(l.v[1].off, 14);
	}
	items_free(&l);
	free(g);
}

static void test_tricky_strings(void)
{
	const char *s = "{\"x\":\"Records\",\"Records\":[{\"k\":\"}{][\\\"\",\"Records\":\"Records\","
			"\"e\":\"\\\\\"},{\"q\":\"\\\\\\\"]}\"},\"Records\",[{\"in\":\"array\"}],7]"
			",\"after\":[{\"z\":1}]}";
	items l;
	runs(s, &l);
	CHECK_INT(l.n, 2);
	if (l.n == 2) {
		CHECK_STR(l.v[0].text, "{\"k\":\"}{][\\\"\",\"Records\":\"Records\",\"e\":\"\\\\\"}");
		CHECK_STR(l.v[1].text, "{\"q\":\"\\\\\\\"]}\"}");
	}
	items_free(&l);
	check_chunking(s, strlen(s), NULL);
	/* "Records" with a value that is not an array: an ordinary record */
	runs("{\"Records\":{\"a\":[1]}}{\"Records\":\"[\"}", &l);
	CHECK_INT(count_rc(&l, 1), 2);
	items_free(&l);
}

static void test_depth_cap(void)
{
	ts_buf b = {0};
	ts_buf_puts(&b, "{\"Records\":[{\"a\":1},{\"deep\":");
	for (int i = 0; i < 3000; i++)
		ts_buf_puts(&b, "[");
	for (int i = 0; i < 3000; i++)
		ts_buf_puts(&b, "]");
	ts_buf_puts(&b, "},{\"b\":2}]}");
	items l;
	run(b.p, b.len, NULL, NULL, &l);
	CHECK_INT(l.n, 3);
	if (l.n == 3) {
		CHECK_INT(l.v[1].rc, TS_EDEPTH);
		CHECK_INT(l.v[1].off, 20);
		CHECK_STR(l.v[2].text, "{\"b\":2}");
	}
	items_free(&l);
	check_chunking(b.p, b.len, NULL);
	ts_buf_free(&b);
}

static void test_api_edges(void)
{
	ts_reader_free(NULL);
	ts_reader *r = ts_reader_new(NULL);
	ts_reader_item it;
	CHECK_INT(ts_reader_feed(r, NULL, 0), 0);
	CHECK_INT(ts_reader_feed(r, NULL, 5), TS_EINVAL);
	CHECK_INT(ts_reader_next(r, &it), 0);
	CHECK_INT(ts_reader_feed(r, "{\"a\":", 5), 0);
	CHECK_INT(ts_reader_next(r, &it), 0); /* needs more */
	CHECK_INT(ts_reader_feed(r, "1}", 2), 0);
	CHECK_INT(ts_reader_next(r, &it), 1); /* at once: no lookahead wait */
	CHECK_INT(it.len, 7);
	CHECK_INT(ts_reader_next(r, &it), 0);
	CHECK_INT(ts_reader_feed(r, "\n{\"Rec", 6), 0);
	CHECK_INT(ts_reader_next(r, &it), 0);
	CHECK_INT(ts_reader_feed(r, "ords\":[{\"x\":2}", 14), 0);
	CHECK_INT(ts_reader_next(r, &it), 1);
	CHECK_INT(it.len, 7);
	CHECK_INT(it.offset, 20);
	CHECK_INT(ts_reader_next(r, &it), 0);
	CHECK_INT(ts_reader_finish(r), 0);
	CHECK_INT(ts_reader_next(r, &it), TS_ETRUNC); /* the array is open */
	CHECK_INT(it.offset, 27);
	CHECK_INT(ts_reader_finish(r), 0);
	CHECK_INT(ts_reader_next(r, &it), 0);
	ts_reader_free(r);
}

/* --- the shared samples, through reader and parser --- */

typedef struct expect {
	const char *file;
	int ok, ejson, enotime, ebadtime, efield, other;
} expect;

static int read_file(const char *path, char **data, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	ts_buf b = {0};
	char tmp[65536];
	size_t k;
	while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
		ts_buf_add(&b, tmp, k);
	fclose(f);
	*data = b.p;
	*n = b.len;
	return 0;
}

static void test_samples(void)
{
	static const expect ex[] = {
		{"aws-cpl/SerializerAllFieldsNull.json", 1, 0, 1, 0, 0, 0},
		{"aws-cpl/SerializerTestFile.json", 6, 0, 0, 0, 0, 0},
		{"aws-cpl/SerializerTestFileBadFieldName.json", 1, 0, 1, 0, 0, 0},
		{"aws-cpl/SerializerTestFileBadJsonFormat.json", 1, 1, 0, 0, 0, 0},
		{"aws-cpl/SerializerTestFileCompact.json", 6, 0, 0, 0, 0, 0},
		{"aws-cpl/SerializerTestFileCompact.json.gz", 6, 0, 0, 0, 0, 0},
		{"aws-cpl/SerializerTestFileLocation.json", 6, 0, 0, 0, 0, 0},
		{"aws-cpl/SerializerTestFileMissField.json", 3, 0, 0, 1, 0, 0},
		{"aws-cpl/SerializerTestFileNewFieldAtRandomPlaces.json", 2, 0, 0, 0, 0, 0},
		{"aws-cpl/SerializerTestFileNewFieldName.json", 1, 0, 1, 0, 0, 0},
		{"aws-cpl/SerializerTestFileNewFieldsInRoot.json", 2, 0, 0, 0, 0, 0},
		{"aws-cpl/SerializerTestFileNewFieldsInUserIdentity.json", 2, 0, 0, 0, 0, 0},
		{"aws-cpl/SerializerVariousUserIdentityTestFile.json", 1, 0, 0, 0, 0, 0},
		{"otrf/ec2_proxy_s3_exfiltration_2020-09-14011940.json", 0, 0, 103, 0, 0, 0},
	};
	const char *dir = getenv("TS_SHARED_DIR");
	char path[4096];
	if (!dir) {
		TS_SKIP("test_samples: TS_SHARED_DIR not set");
		return;
	}
	snprintf(path, sizeof path, "%s/samples/aws-cpl/SerializerTestFile.json", dir);
	FILE *probe = fopen(path, "rb");
	if (!probe) {
		TS_SKIP("test_samples: no samples under '%s/samples'", dir);
		return;
	}
	fclose(probe);
	ts_parser *p = ts_parser_new(NULL);
	for (size_t i = 0; i < TS_ARRAY_LEN(ex); i++) {
		char *data;
		size_t n;
		snprintf(path, sizeof path, "%s/samples/%s", dir, ex[i].file);
		CHECK(read_file(path, &data, &n) == 0);
		if (!data)
			continue;
		items l;
		run(data, n, NULL, NULL, &l);
		int got[6] = {0};
		for (size_t k = 0; k < l.n; k++) {
			int rc = l.v[k].rc;
			if (rc == 1) {
				ts_record rec;
				rc = ts_parse_record(p, l.v[k].text, l.v[k].len, &rec);
			}
			got[rc == 0 ? 0 : rc == TS_EJSON ? 1 : rc == TS_ENOTIME ? 2 : rc == TS_EBADTIME ? 3
			  : rc == TS_EFIELD ? 4 : 5]++;
		}
		int want[6] = {ex[i].ok, ex[i].ejson, ex[i].enotime, ex[i].ebadtime, ex[i].efield,
			       ex[i].other};
		for (int k = 0; k < 6; k++) {
			if (got[k] != want[k])
				fprintf(stderr, "  %s: class %d\n", ex[i].file, k);
			CHECK_INT(got[k], want[k]);
		}
		check_chunking(data, n, NULL);
		items_free(&l);
		free(data);
	}
	/* what the reader and parser make of the file with the missing '}' */
	snprintf(path, sizeof path, "%s/samples/aws-cpl/SerializerTestFileBadJsonFormat.json", dir);
	char *data;
	size_t n;
	if (read_file(path, &data, &n) == 0) {
		items l;
		run(data, n, NULL, NULL, &l);
		CHECK_INT(l.n, 2);
		if (l.n == 2) {
			ts_record rec;
			CHECK_INT(l.v[0].rc, TS_EJSON);
			CHECK_INT(l.v[0].off, 27);
			CHECK_INT(l.v[1].rc, 1);
			CHECK_INT(ts_parse_record(p, l.v[1].text, l.v[1].len, &rec), 0);
			CHECK_MEM(rec.event_name.p, rec.event_name.n, "eventName2");
		}
		items_free(&l);
		free(data);
	}
	ts_parser_free(p);
}

/* The shapes besides {"Records":[...]} and NDJSON, and what is harmless
 * between records. */
static void test_shapes(void)
{
	items l;
	/* a top-level array, pretty-printed, then an array per line */
	const char *arr = "[\n  {\"a\": [1, {\"b\": 2}]},\n  {\"c\": \"]\"}\n]\n[{\"d\":1}]\n[]\n{\"e\":1}";
	runs(arr, &l);
	CHECK_INT(l.n, 4);
	if (l.n == 4) {
		CHECK_STR(l.v[0].text, "{\"a\": [1, {\"b\": 2}]}");
		CHECK_STR(l.v[1].text, "{\"c\": \"]\"}");
		CHECK_STR(l.v[2].text, "{\"d\":1}");
		CHECK_STR(l.v[3].text, "{\"e\":1}");
	}
	items_free(&l);
	check_chunking(arr, strlen(arr), NULL);
	/* an array per line that lost its ']': the next line starts afresh */
	const char *lost = "[{\"a\":1}\n[{\"b\":2}]\n{\"c\":3}";
	runs(lost, &l);
	CHECK_INT(l.n, 4);
	if (l.n == 4) {
		CHECK_INT(l.v[0].rc, 1);
		CHECK_INT(l.v[1].rc, TS_EJSON);
		CHECK_INT(l.v[1].off, 9);
		CHECK_STR(l.v[2].text, "{\"b\":2}");
		CHECK_INT(l.v[2].off, 10);
		CHECK_STR(l.v[3].text, "{\"c\":3}");
	}
	items_free(&l);
	check_chunking(lost, strlen(lost), NULL);
	/* lookup-events and CloudWatch Logs: the array's elements are items */
	const char *ev = "{\"Events\":[{\"EventId\":\"1\"},{\"EventId\":\"2\"}],\"NextToken\":\"x\"}"
			 "{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[{\"id\":\"3\"}]}";
	runs(ev, &l);
	CHECK_INT(l.n, 3);
	if (l.n == 3)
		CHECK_STR(l.v[2].text, "{\"id\":\"3\"}");
	items_free(&l);
	check_chunking(ev, strlen(ev), NULL);
	/* a forced format knows only its own container */
	ts_reader_opts o = {.format = TS_FMT_NDJSON};
	run(ev, strlen(ev), &o, NULL, &l);
	CHECK_INT(l.n, 2);
	items_free(&l);
	o.format = TS_FMT_RECORDS;
	run(arr, strlen(arr), &o, NULL, &l);
	CHECK_INT(l.n, 2); /* the arrays are garbage to it, up to the last line */
	if (l.n == 2) {
		CHECK_INT(l.v[0].rc, TS_EJSON);
		CHECK_STR(l.v[1].text, "{\"e\":1}");
	}
	items_free(&l);
	/* byte order marks where files were concatenated, and between elements */
	const char *bom = "\xef\xbb\xbf{\"a\":1}\n\xef\xbb\xbf{\"b\":2}\xef\xbb\xbf{\"Records\":[{\"c\":3},\xef\xbb\xbf{\"d\":4}]}";
	runs(bom, &l);
	CHECK_INT(l.n, 4);
	for (size_t i = 0; i < l.n; i++)
		CHECK_INT(l.v[i].rc, 1);
	items_free(&l);
	check_chunking(bom, strlen(bom), NULL);
	/* garbage before the first record costs only the garbage */
	const char *lead = "$ aws cloudtrail lookup-events > x\n  \"eventName\": \"x\"}\n{\"a\":1}\n{\"b\":2}\n";
	runs(lead, &l);
	CHECK_INT(l.n, 3);
	if (l.n == 3) {
		CHECK_INT(l.v[0].rc, TS_EJSON);
		CHECK_INT(l.v[0].off, 0);
		CHECK_INT(l.v[0].len, 55);
		CHECK_INT(l.v[1].rc, 1);
		CHECK_INT(l.v[1].off, 55);
		CHECK_INT(l.v[2].rc, 1);
	}
	items_free(&l);
	check_chunking(lead, strlen(lead), NULL);
	/* UTF-16, with and without a byte order mark: one clear item */
	static const char u16le[] = "\xff\xfe{\0\"\0a\0\"\0:\0" "1\0}\0", u16be[] = "\0{\0}";
	run(u16le, sizeof u16le - 1, NULL, NULL, &l);
	CHECK_INT(l.n, 1);
	if (l.n)
		CHECK_INT(l.v[0].rc, TS_EUTF16);
	items_free(&l);
	run(u16be, sizeof u16be - 1, NULL, NULL, &l);
	CHECK_INT(l.n, 1);
	if (l.n)
		CHECK_INT(l.v[0].rc, TS_EUTF16);
	items_free(&l);
	check_chunking(u16le, sizeof u16le - 1, NULL);
}

TS_TESTS(test_plain_records, test_gzip_records, test_gzip_members, test_ndjson,
	 test_chunk_invariance, test_truncated_gzip, test_corrupt_gzip, test_too_big,
	 test_recovery, test_empty_and_not_log, test_ratio_bomb, test_tricky_strings,
	 test_depth_cap, test_api_edges, test_samples, test_shapes)
