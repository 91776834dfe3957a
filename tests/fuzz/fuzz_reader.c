/* fuzz_reader.c - the reader must give the same items however its input
 * is cut. Byte 0 picks a chunking pattern (below 0x80: one of eight fixed
 * patterns; from 0x80: chunks of 1 to 300 bytes drawn from a generator it
 * seeds), byte 1 the caps; the rest is fed
 * once in those chunks (draining after every feed, as the contract asks)
 * once all at once, and once whole as a regular file is read (gzip
 * decoded by ts_gunzip_all, the text given with ts_reader_set_text; the
 * input fed when either declines). The three logs of (code, offset,
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
#include "util.h"

typedef struct run {
	ts_buf log;
	uint64_t last_off;
	size_t items;
} run;

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
	ts_buf_free(&a.log);
	ts_buf_free(&b.log);
	ts_buf_free(&c.log);
	return 0;
}
