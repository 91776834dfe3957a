/* minattr.c - packing and reading a day's per-minute attribution counts
 * (format in minattr.h). Nothing here is kept between calls. */
#include <stdlib.h>

#include "codec.h"
#include "err.h"
#include "minattr.h"

static const char minattr_magic[4] = {'T', 'S', 'M', '1'};

static int by_minute(const void *a, const void *b)
{
	const ts_minattr *x = a, *y = b;
	if (x->mod != y->mod)
		return x->mod < y->mod ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->value > y->value) - (x->value < y->value);
}

int ts_minattr_pack(ts_minattr *v, size_t n, const ts_registry *reg, ts_buf *out)
{
	ts_buf_reset(out);
	for (size_t i = 0; i < n; i++)
		if (v[i].mod >= TS_MIN_PER_DAY || v[i].kind >= TS_A_KINDS)
			return TS_EINVAL;
	qsort(v, n, sizeof *v, by_minute);
	ts_enc e;
	ts_enc_init(&e, reg);
	ts_enc_u64(&e, n);
	uint32_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		ts_enc_u64(&e, (uint64_t)(v[i].mod - prev) << 2 | v[i].kind);
		ts_enc_value(&e, v[i].value);
		ts_enc_u64(&e, v[i].count);
		prev = v[i].mod;
	}
	/* the length first, filled in once the blob is made */
	static const unsigned char zero[4];
	ts_buf blob = {0};
	int rc = ts_enc_finish(&e, minattr_magic, &blob);
	if (!rc && blob.len > UINT32_MAX)
		rc = TS_ECAP;
	if (!rc)
		rc = ts_buf_add(out, zero, 4);
	if (!rc)
		rc = ts_buf_add(out, blob.p, blob.len);
	if (!rc)
		for (int i = 0; i < 4; i++)
			out->p[i] = (char)(unsigned char)(blob.len >> (8 * i));
	ts_buf_free(&blob);
	return rc;
}

/* Walk one segment's body: check it (cb NULL) or deliver it. 0 or
 * TS_EINVAL (damaged), or cb's return. */
static int walk(ts_dec *d, ts_minattr_cb cb, void *ctx)
{
	/* an entry is at least three bytes */
	uint64_t n = ts_dec_count(d, (uint64_t)(d->end - d->p) / 3 + 1);
	uint64_t mod = 0;
	for (uint64_t i = 0; i < n && ts_dec_ok(d, 0); i++) {
		uint64_t dk = ts_dec_u64(d);
		ts_minattr a = {.kind = (uint32_t)(dk & 3)};
		mod += dk >> 2;
		a.value = ts_dec_value(d);
		a.count = ts_dec_u64(d);
		if (!ts_dec_ok(d, 0) || (dk >> 2) >= TS_MIN_PER_DAY || mod >= TS_MIN_PER_DAY ||
		    a.kind >= TS_A_KINDS)
			return TS_EINVAL;
		a.mod = (uint32_t)mod;
		if (cb) {
			int rc = cb(ctx, &a);
			if (rc)
				return rc;
		}
	}
	return ts_dec_ok(d, 1) ? 0 : TS_EINVAL;
}

int ts_minattr_parse(const void *p, size_t len, ts_registry *reg, ts_minattr_cb cb, void *ctx,
		     size_t *bad_at)
{
	const unsigned char *b = p;
	size_t off = 0;
	int rc = 0;
	while (off < len && !rc) {
		uint32_t n = 0;
		if (len - off < 4)
			rc = TS_EINVAL;
		for (int i = 0; i < 4 && !rc; i++)
			n |= (uint32_t)b[off + (size_t)i] << (8 * i);
		if (!rc && n > len - off - 4)
			rc = TS_EINVAL;
		ts_dec d = {0};
		if (!rc)
			rc = ts_dec_open(&d, b + off + 4, n, minattr_magic, reg);
		if (rc) {
			if (rc == TS_EINVAL && bad_at)
				*bad_at = off;
			ts_dec_free(&d);
			break;
		}
		const unsigned char *body = d.p;
		rc = walk(&d, NULL, NULL);
		if (!rc) {
			d.p = body;
			rc = walk(&d, cb, ctx);
		} else if (bad_at) {
			*bad_at = off;
		}
		ts_dec_free(&d);
		off += 4 + (size_t)n;
	}
	return rc;
}
