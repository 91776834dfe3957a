/* jblock.h - the reader's view of 64 bytes of JSON text: bit masks of its
 * quotes, backslashes and brackets (SSE2 where the compiler has it, a byte
 * loop otherwise; TS_NO_SIMD forces the loop). Pure functions, no state:
 * bit i of a mask is byte i of the block. The caller pads a short block
 * with blanks and works out which bytes are inside strings.
 */
#ifndef TS_JBLOCK_H
#define TS_JBLOCK_H

#include <stdint.h>
#if defined(__SSE2__) && !defined(TS_NO_SIMD)
#include <emmintrin.h>
#define TS_SSE2 1
#endif

/* Bit masks of one block of 64 text bytes: quotes, backslashes, brackets. */
typedef struct block {
	uint64_t quote, bslash, bracket;
} block;

#ifdef TS_SSE2
static inline uint64_t lanes16(__m128i m) { return (uint64_t)(unsigned)_mm_movemask_epi8(m); }
static inline uint64_t bits16(__m128i v, __m128i c) { return lanes16(_mm_cmpeq_epi8(v, c)); }
#endif

/* Classify 64 bytes at s (the caller pads a short block with blanks). */
static inline void classify(const unsigned char *s, block *k)
{
#ifdef TS_SSE2
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i lc = _mm_set1_epi8(0x20), op = _mm_set1_epi8('{'), cl = _mm_set1_epi8('}');
	const __m128i *in = (const __m128i *)(const void *)s;
	__m128i v0 = _mm_loadu_si128(in), v1 = _mm_loadu_si128(in + 1);
	__m128i v2 = _mm_loadu_si128(in + 2), v3 = _mm_loadu_si128(in + 3);
	/* x | 0x20 turns '[' into '{' and ']' into '}' (and nothing else) */
#define TS_BR(v) _mm_or_si128(_mm_cmpeq_epi8(_mm_or_si128(v, lc), op), \
			      _mm_cmpeq_epi8(_mm_or_si128(v, lc), cl))
	__m128i b0 = TS_BR(v0), b1 = TS_BR(v1), b2 = TS_BR(v2), b3 = TS_BR(v3);
#undef TS_BR
#define TS_BITS64(a, b, c, d, x)                                               \
	(bits16(a, x) | bits16(b, x) << 16 | bits16(c, x) << 32 | bits16(d, x) << 48)
	k->quote = TS_BITS64(v0, v1, v2, v3, q);
	k->bslash = TS_BITS64(v0, v1, v2, v3, bs);
#undef TS_BITS64
	k->bracket = lanes16(b0) | lanes16(b1) << 16 | lanes16(b2) << 32 | lanes16(b3) << 48;
#else
	k->quote = k->bslash = k->bracket = 0;
	for (int i = 0; i < 64; i++) {
		uint64_t bit = (uint64_t)1 << i;
		switch (s[i]) {
		case '"': k->quote |= bit; break;
		case '\\': k->bslash |= bit; break;
		case '{': case '[': case '}': case ']': k->bracket |= bit; break;
		}
	}
#endif
}

#endif
