/* sha1.c - SHA-1 (FIPS 180-4), streaming, for names of any length: the
 * digest behind insight IDs (version-5 UUIDs, insight.c) and the names of
 * webhook spools and dir-sink files. No allocation; the context is the
 * caller's. Invariant between calls: ctx->used < 64.
 */
#include <assert.h>

#include "sha1.h"
#include "util.h"

static uint32_t rol32(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void sha1_compress(uint32_t h[5], const uint8_t *blk)
{
	uint32_t w[80];
	for (unsigned i = 0; i < 16; i++)
		w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
		       (uint32_t)blk[4 * i + 2] << 8 | (uint32_t)blk[4 * i + 3];
	for (unsigned i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (unsigned i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		uint32_t t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void ts_sha1_init(ts_sha1_ctx *s)
{
	s->h[0] = 0x67452301;
	s->h[1] = 0xefcdab89;
	s->h[2] = 0x98badcfe;
	s->h[3] = 0x10325476;
	s->h[4] = 0xc3d2e1f0;
	s->len = 0;
	s->used = 0;
}

void ts_sha1_update(ts_sha1_ctx *s, const void *data, size_t n)
{
	const uint8_t *p = data;
	if (n == 0) /* data may be NULL then */
		return;
	s->len += n;
	if (s->used) {
		size_t take = 64 - s->used < n ? 64 - s->used : n;
		memcpy(s->block + s->used, p, take);
		s->used += take;
		p += take;
		n -= take;
		if (s->used < 64)
			return;
		sha1_compress(s->h, s->block);
		s->used = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		sha1_compress(s->h, p);
	if (n)
		memcpy(s->block, p, n);
	s->used = n;
}

void ts_sha1_final(ts_sha1_ctx *s, uint8_t out[20])
{
	static const uint8_t pad[64] = {0x80};
	uint64_t bits = s->len * 8;
	uint8_t lenbe[8];
	for (unsigned i = 0; i < 8; i++)
		lenbe[i] = (uint8_t)(bits >> (56 - 8 * i));
	/* 0x80, then zeros up to 56 mod 64, then the bit length */
	ts_sha1_update(s, pad, s->used < 56 ? 56 - s->used : 120 - s->used);
	ts_sha1_update(s, lenbe, 8);
	assert(s->used == 0);
	for (unsigned i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

void ts_sha1(const void *p, size_t n, uint8_t out[20])
{
	ts_sha1_ctx s;
	ts_sha1_init(&s);
	ts_sha1_update(&s, p, n);
	ts_sha1_final(&s, out);
}

