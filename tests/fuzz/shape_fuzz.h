/* shape_fuzz.h - the body of the per-shape fuzz targets (fuzz_array.c,
 * fuzz_lookup.c, fuzz_eventbridge.c, fuzz_cwlogs.c): each defines
 * FUZZ_FORMAT (a TS_FMT_*) and FUZZ_WRAPPER (the shape.h wrapper name its
 * records come in, or NULL) and includes this file.
 *
 * The input is read as source.c reads it, with the format forced: the
 * reader splits items, the record parser parses each, and an item without
 * eventTime or eventSource goes to ts_shape_unwrap, whose record is parsed
 * in its place. Byte 0 picks how the input is cut into feeds. Checked:
 * the log of (item code, offset, parse result, eventTime) is the same
 * however the input is cut and under the whole-text path; a wrapper's
 * record lies inside its item (EventBridge) or is no longer than it (a
 * decoded string); a forced format unwraps only its own wrapper; a parsed
 * record has its eventTime in range and its strings valid UTF-8. Any
 * breach aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "reader.h"
#include "record.h"
#include "shape.h"
#include "util.h"

typedef struct fz {
	ts_parser *p;
	ts_shape *s;
	ts_buf log;
} fz;

static void check_str(ts_str s)
{
	if (s.p && !ts_utf8_valid(s.p, s.n))
		abort();
}

static void one_item(fz *x, const ts_reader_item *it)
{
	ts_record rec;
	int pr = ts_parse_record(x->p, it->text, it->len, &rec);
	int kind = -1;
	if (pr == TS_ENOTIME || pr == TS_EFIELD) {
		ts_shape_inner in;
		kind = ts_shape_unwrap(x->s, it->text, it->len, &in);
		if (kind == TS_SHAPE_RECORD) {
			if (!in.text || in.len > it->len)
				abort();
			const char *want = FUZZ_WRAPPER; /* NULL: this shape has none */
			if (!want || !in.wrapper || strcmp(in.wrapper, want) != 0)
				abort();
			if (FUZZ_FORMAT == TS_FMT_EVENTBRIDGE &&
			    (in.text < it->text || in.text + in.len > it->text + it->len))
				abort();
			pr = ts_parse_record(x->p, in.text, in.len, &rec);
		} else if (kind != TS_SHAPE_NONE && kind != TS_SHAPE_DIGEST &&
			   kind != TS_SHAPE_CONTROL && kind != TS_EJSON && kind != TS_ENOMEM) {
			abort();
		}
	}
	int64_t t = 0;
	if (!pr) {
		if (rec.time < 0 || rec.time > 253402300799 + 86400 || !rec.event_source.p ||
		    !rec.event_name.p)
			abort();
		check_str(rec.event_time);
		check_str(rec.event_source);
		check_str(rec.event_name);
		check_str(rec.arn);
		t = rec.time;
	}
	int64_t head[4] = {(int64_t)it->offset, pr, kind, t};
	if (ts_buf_add(&x->log, head, sizeof head))
		abort();
}

static void drain_fz(ts_reader *r, fz *x)
{
	ts_reader_item it;
	int rc;
	while ((rc = ts_reader_next(r, &it)) != 0) {
		if (rc == 1) {
			one_item(x, &it);
			continue;
		}
		if (it.text)
			abort();
		int64_t head[4] = {(int64_t)it.offset, rc, 0, 0};
		if (ts_buf_add(&x->log, head, sizeof head))
			abort();
	}
}

static void read_fz(const uint8_t *d, size_t n, size_t chunk, int whole, fz *x)
{
	ts_reader_opts o = {.max_record = 8192, .max_ratio = 8, .format = FUZZ_FORMAT};
	ts_reader *r = ts_reader_new(&o);
	if (!r)
		abort();
	if (whole && !(n >= 2 && d[0] == 0x1f && d[1] == 0x8b) &&
	    ts_reader_set_text(r, (const char *)d, n, n) == 0) {
		drain_fz(r, x);
		ts_reader_free(r);
		return;
	}
	if (!chunk)
		chunk = n; /* the whole-text path declined: all at once */
	for (size_t off = 0; off < n;) {
		size_t c = chunk < n - off ? chunk : n - off;
		if (ts_reader_feed(r, d + off, c) != 0)
			abort();
		off += c;
		drain_fz(r, x);
	}
	if (ts_reader_finish(r) != 0)
		abort();
	drain_fz(r, x);
	ts_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const size_t chunks[8] = {1, 2, 3, 7, 16, 61, 256, 4096};
	fz x[3];
	for (int i = 0; i < 3; i++) {
		memset(&x[i], 0, sizeof x[i]);
		x[i].p = ts_parser_new(NULL);
		x[i].s = ts_shape_new(FUZZ_FORMAT, 0, 0);
		if (!x[i].p || !x[i].s)
			abort();
	}
	read_fz(data + 1, size - 1, chunks[data[0] & 7], 0, &x[0]);
	read_fz(data + 1, size - 1, size, 0, &x[1]);
	read_fz(data + 1, size - 1, 0, 1, &x[2]);
	for (int i = 1; i < 3; i++)
		if (x[i].log.len != x[0].log.len ||
		    (x[0].log.len && memcmp(x[i].log.p, x[0].log.p, x[0].log.len) != 0))
			abort();
	for (int i = 0; i < 3; i++) {
		ts_parser_free(x[i].p);
		ts_shape_free(x[i].s);
		ts_buf_free(&x[i].log);
	}
	return 0;
}
