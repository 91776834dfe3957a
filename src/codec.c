/* codec.c - varints, doubles, strings and a value table for saved state.
 * The encoder owns its two buffers and id map until ts_enc_finish or
 * ts_enc_free; the decoder owns only its table of value ids.
 */
#include <stdlib.h>

#include "codec.h"

void ts_enc_init(ts_enc *e, const ts_registry *reg)
{
	memset(e, 0, sizeof *e);
	e->reg = reg;
}

static void put_varint(ts_enc *e, ts_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	do {
		unsigned char c = v & 0x7f;
		v >>= 7;
		tmp[n++] = (unsigned char)(c | (v ? 0x80 : 0));
	} while (v);
	if (!e->err)
		e->err = ts_buf_add(b, tmp, n);
}

void ts_enc_u64(ts_enc *e, uint64_t v) { put_varint(e, &e->body, v); }

void ts_enc_i64(ts_enc *e, int64_t v)
{
	put_varint(e, &e->body, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void ts_enc_f64(ts_enc *e, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	if (!e->err)
		e->err = ts_buf_add(&e->body, b, 8);
}

void ts_enc_f32(ts_enc *e, float v)
{
	uint32_t u;
	memcpy(&u, &v, sizeof u);
	unsigned char b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	if (!e->err)
		e->err = ts_buf_add(&e->body, b, 4);
}

static void put_str(ts_enc *e, ts_buf *b, ts_str s)
{
	put_varint(e, b, s.n);
	if (!e->err && s.n)
		e->err = ts_buf_add(b, s.p, s.n);
}

void ts_enc_str(ts_enc *e, ts_str s) { put_str(e, &e->body, s); }

void ts_enc_value(ts_enc *e, uint32_t vid)
{
	if (e->err)
		return;
	uint64_t idx = ts_tally_get(&e->ids, vid); /* table index + 1 */
	if (!idx) {
		idx = ++e->nvalues;
		if ((e->err = ts_tally_add(&e->ids, vid, idx)))
			return;
		put_str(e, &e->table, ts_registry_value_str(e->reg, vid));
	}
	put_varint(e, &e->body, idx - 1);
}

int ts_enc_finish(ts_enc *e, const char magic[4], ts_buf *out)
{
	ts_buf_reset(out);
	int rc = e->err;
	if (!rc)
		rc = ts_buf_add(out, magic, 4);
	if (!rc) {
		/* the table's entry count, then its strings */
		ts_enc cnt = {0};
		put_varint(&cnt, out, e->nvalues);
		rc = cnt.err;
	}
	if (!rc)
		rc = ts_buf_add(out, e->table.p ? e->table.p : "", e->table.len);
	if (!rc)
		rc = ts_buf_add(out, e->body.p ? e->body.p : "", e->body.len);
	ts_enc_free(e);
	return rc;
}

void ts_enc_free(ts_enc *e)
{
	ts_buf_free(&e->body);
	ts_buf_free(&e->table);
	ts_tally_free(&e->ids);
	e->nvalues = 0;
}

static uint64_t get_varint(ts_dec *d)
{
	uint64_t v = 0;
	for (unsigned shift = 0; !d->err; shift += 7) {
		if (d->p >= d->end || shift > 63) {
			d->err = TS_EINVAL;
			break;
		}
		unsigned char c = *d->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	return 0;
}

static ts_str get_str(ts_dec *d)
{
	uint64_t n = get_varint(d);
	if (d->err || n > (uint64_t)(d->end - d->p)) {
		d->err = TS_EINVAL;
		return (ts_str){"", 0};
	}
	ts_str s = {(const char *)d->p, (size_t)n};
	d->p += n;
	return s;
}

int ts_dec_open(ts_dec *d, const void *blob, size_t n, const char magic[4], ts_registry *reg)
{
	memset(d, 0, sizeof *d);
	d->p = blob;
	d->end = d->p + n;
	if (n < 4 || memcmp(blob, magic, 4) != 0)
		return TS_EINVAL;
	d->p += 4;
	uint64_t nv = ts_dec_count(d, (uint64_t)(d->end - d->p));
	if (d->err)
		return TS_EINVAL;
	d->vids = malloc((nv ? nv : 1) * sizeof *d->vids);
	if (!d->vids)
		return TS_ENOMEM;
	for (uint64_t i = 0; i < nv; i++) {
		ts_str s = get_str(d);
		if (d->err)
			return TS_EINVAL;
		int rc = ts_registry_value(reg, s, &d->vids[i]);
		if (rc)
			return rc;
		d->nvalues = i + 1;
	}
	return 0;
}

uint64_t ts_dec_u64(ts_dec *d) { return get_varint(d); }

int64_t ts_dec_i64(ts_dec *d)
{
	uint64_t u = get_varint(d);
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

int64_t ts_dec_i64_in(ts_dec *d, int64_t lo, int64_t hi)
{
	int64_t v = ts_dec_i64(d);
	if (!d->err && (v < lo || v > hi))
		d->err = TS_EINVAL;
	return d->err ? 0 : v;
}

int64_t ts_dec_minute(ts_dec *d)
{
	int64_t v = ts_dec_i64(d);
	if (!d->err && v != INT64_MIN && (v < TS_DEC_MINUTE_MIN || v >= TS_DEC_MINUTE_END))
		d->err = TS_EINVAL;
	return d->err ? INT64_MIN : v;
}

double ts_dec_f64(ts_dec *d)
{
	if (d->err || d->end - d->p < 8) {
		d->err = TS_EINVAL;
		return 0;
	}
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)d->p[i] << (8 * i);
	d->p += 8;
	double v;
	memcpy(&v, &u, sizeof v);
	return v;
}

float ts_dec_f32(ts_dec *d)
{
	if (d->err || d->end - d->p < 4) {
		d->err = TS_EINVAL;
		return 0;
	}
	uint32_t u = 0;
	for (int i = 0; i < 4; i++)
		u |= (uint32_t)d->p[i] << (8 * i);
	d->p += 4;
	float v;
	memcpy(&v, &u, sizeof v);
	return v;
}

ts_str ts_dec_str(ts_dec *d) { return get_str(d); }

uint32_t ts_dec_value(ts_dec *d)
{
	uint64_t i = get_varint(d);
	if (d->err || i >= d->nvalues) {
		d->err = TS_EINVAL;
		return 0;
	}
	return d->vids[i];
}

uint64_t ts_dec_count(ts_dec *d, uint64_t max)
{
	uint64_t n = get_varint(d);
	if (!d->err && n > max)
		d->err = TS_EINVAL;
	return d->err ? 0 : n;
}

int ts_dec_ok(const ts_dec *d, int at_end) { return !d->err && (!at_end || d->p == d->end); }

void ts_dec_free(ts_dec *d)
{
	free(d->vids);
	d->vids = NULL;
	d->nvalues = 0;
}
