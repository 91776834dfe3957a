/* jblock.h - 64 bytes of JSON text as bit masks, for the two scanners
 * that walk JSON by blocks: the reader (reader.c, which splits records)
 * and the record scan (jscan.c, which checks and reads one record).
 *
 * Bit i of a mask is byte i of the block. SSE2 where the compiler has it,
 * a byte loop otherwise (TS_NO_SIMD forces the loop); both give the same
 * masks. Pure functions, no state: the caller pads a short block with
 * blanks and carries what crosses a block boundary (an escaping backslash
 * at byte 63, being inside a string) itself.
 *   ts_jblock_split    quotes, backslashes, brackets (the reader's need)
 *   ts_jblock_full     those, and ':' ',' as structural bytes, blanks,
 *                      NUL bytes and bytes >= 0x80
 *   ts_jblock_lean_of  quotes, backslashes, structural bytes, the bytes
 *                      <= 0x20, whether any byte is >= 0x80 (the record
 *                      scan's need, at the least cost)
 *   ts_jblock_escaped  the bytes escaped by a backslash
 *   ts_jblock_prefix_xor  bit i = XOR of bits 0..i (quotes -> in string)
 */
#ifndef TS_JBLOCK_H
#define TS_JBLOCK_H

#include <stdint.h>
#if defined(__SSE2__) && !defined(TS_NO_SIMD)
#include <emmintrin.h>
#define TS_SSE2 1
#endif

typedef struct ts_jblock {
	uint64_t quote, bslash;
	uint64_t bracket;    /* { } [ ] */
	uint64_t structural; /* { } [ ] : , (ts_jblock_full only) */
	uint64_t blank;      /* space, tab, LF, CR (ts_jblock_full only) */
	uint64_t nul, high;  /* 0x00, >= 0x80 (ts_jblock_full only) */
} ts_jblock;

#ifdef TS_SSE2
static inline uint64_t ts_jb_lanes(__m128i m) { return (uint64_t)(unsigned)_mm_movemask_epi8(m); }
static inline __m128i ts_jb_eq(__m128i v, char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); }
static inline __m128i ts_jb_or(__m128i a, __m128i b) { return _mm_or_si128(a, b); }
/* x | 0x20 turns '[' into '{' and ']' into '}' (and nothing else into them) */
static inline __m128i ts_jb_bracket(__m128i v)
{
	__m128i l = _mm_or_si128(v, _mm_set1_epi8(0x20));
	return ts_jb_or(ts_jb_eq(l, '{'), ts_jb_eq(l, '}'));
}
#endif

/* Quotes, backslashes and brackets of the 64 bytes at s. */
static inline void ts_jblock_split(const unsigned char *s, ts_jblock *k)
{
#ifdef TS_SSE2
	k->quote = k->bslash = k->bracket = 0;
	for (unsigned i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i));
		unsigned sh = 16 * i;
		k->quote |= ts_jb_lanes(ts_jb_eq(v, '"')) << sh;
		k->bslash |= ts_jb_lanes(ts_jb_eq(v, '\\')) << sh;
		k->bracket |= ts_jb_lanes(ts_jb_bracket(v)) << sh;
	}
#else
	k->quote = k->bslash = k->bracket = 0;
	for (unsigned i = 0; i < 64; i++) {
		uint64_t bit = (uint64_t)1 << i;
		switch (s[i]) {
		case '"': k->quote |= bit; break;
		case '\\': k->bslash |= bit; break;
		case '{': case '[': case '}': case ']': k->bracket |= bit; break;
		}
	}
#endif
}

/* Every mask of the 64 bytes at s. */
static inline void ts_jblock_full(const unsigned char *s, ts_jblock *k)
{
#ifdef TS_SSE2
	*k = (ts_jblock){0};
	for (unsigned i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i));
		__m128i br = ts_jb_bracket(v);
		__m128i st = ts_jb_or(br, ts_jb_or(ts_jb_eq(v, ':'), ts_jb_eq(v, ',')));
		__m128i bl = ts_jb_or(ts_jb_or(ts_jb_eq(v, ' '), ts_jb_eq(v, '\t')),
				      ts_jb_or(ts_jb_eq(v, '\n'), ts_jb_eq(v, '\r')));
		unsigned sh = 16 * i;
		k->quote |= ts_jb_lanes(ts_jb_eq(v, '"')) << sh;
		k->bslash |= ts_jb_lanes(ts_jb_eq(v, '\\')) << sh;
		k->bracket |= ts_jb_lanes(br) << sh;
		k->structural |= ts_jb_lanes(st) << sh;
		k->blank |= ts_jb_lanes(bl) << sh;
		k->nul |= ts_jb_lanes(ts_jb_eq(v, 0)) << sh;
		k->high |= ts_jb_lanes(v) << sh;
	}
#else
	ts_jblock_split(s, k);
	k->structural = k->bracket;
	k->blank = k->nul = k->high = 0;
	for (unsigned i = 0; i < 64; i++) {
		uint64_t bit = (uint64_t)1 << i;
		switch (s[i]) {
		case ':': case ',': k->structural |= bit; break;
		case ' ': case '\t': case '\n': case '\r': k->blank |= bit; break;
		case 0: k->nul |= bit; break;
		}
		if (s[i] & 0x80)
			k->high |= bit;
	}
#endif
}

/* What the record scan needs of a block. low: bytes <= 0x20 (the blanks,
 * other control bytes and NUL); high: nonzero when some byte is >= 0x80. */
typedef struct ts_jblock_lean {
	uint64_t quote, bslash, structural, low;
	unsigned high;
} ts_jblock_lean;

static inline void ts_jblock_lean_of(const unsigned char *s, ts_jblock_lean *k)
{
#ifdef TS_SSE2
	__m128i high = _mm_setzero_si128();
	const __m128i sp = _mm_set1_epi8(0x20);
	k->quote = k->bslash = k->structural = k->low = 0;
	for (unsigned i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i));
		__m128i st = ts_jb_or(ts_jb_bracket(v), ts_jb_or(ts_jb_eq(v, ':'), ts_jb_eq(v, ',')));
		unsigned sh = 16 * i;
		k->quote |= ts_jb_lanes(ts_jb_eq(v, '"')) << sh;
		k->bslash |= ts_jb_lanes(ts_jb_eq(v, '\\')) << sh;
		k->structural |= ts_jb_lanes(st) << sh;
		k->low |= ts_jb_lanes(_mm_cmpeq_epi8(_mm_min_epu8(v, sp), v)) << sh;
		high = ts_jb_or(high, v);
	}
	k->high = (unsigned)_mm_movemask_epi8(high);
#else
	ts_jblock f;
	ts_jblock_full(s, &f);
	k->quote = f.quote;
	k->bslash = f.bslash;
	k->structural = f.structural;
	k->low = 0;
	for (unsigned i = 0; i < 64; i++)
		if (s[i] <= 0x20)
			k->low |= (uint64_t)1 << i;
	k->high = f.high != 0;
#endif
}

/* ts_jblock_lean_of with AVX-512BW: one compare per class of the whole
 * block, straight into a mask. Only for functions compiled for that
 * target (TS_JB512_TARGET) and run where the CPU has it. */
#if defined(TS_SSE2) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TS_JB512 1
#define TS_JB512_TARGET __attribute__((target("avx512f,avx512bw")))
TS_JB512_TARGET static inline void ts_jblock_lean_of_512(const unsigned char *s,
							 ts_jblock_lean *k)
{
	__m512i v = _mm512_loadu_si512((const void *)s);
	__m512i l = _mm512_or_si512(v, _mm512_set1_epi8(0x20)); /* '[' ']' -> '{' '}' */
	k->quote = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
	k->bslash = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\'));
	k->structural = _mm512_cmpeq_epi8_mask(l, _mm512_set1_epi8('{')) |
			_mm512_cmpeq_epi8_mask(l, _mm512_set1_epi8('}')) |
			_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(':')) |
			_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(','));
	k->low = _mm512_cmple_epu8_mask(v, _mm512_set1_epi8(0x20));
	k->high = _mm512_movepi8_mask(v) != 0;
}
#endif

/* The bytes escaped by a backslash: each backslash not itself escaped
 * escapes the next byte. carry_in: byte 0 is escaped (the previous block
 * ended in an escaping backslash); *carry_out: this one does (byte 63 is
 * an escaping backslash, its byte is in the next block). */
static inline uint64_t ts_jblock_escaped(uint64_t bslash, int carry_in, int *carry_out)
{
	uint64_t esc = carry_in ? 1 : 0, m = bslash & ~esc;
	*carry_out = 0;
	while (m) {
		unsigned i = (unsigned)__builtin_ctzll(m);
		if (i == 63) {
			*carry_out = 1;
			break;
		}
		esc |= (uint64_t)2 << i;
		m &= ~((uint64_t)3 << i);
	}
	return esc;
}

static inline uint64_t ts_jblock_prefix_xor(uint64_t x)
{
	x ^= x << 1;
	x ^= x << 2;
	x ^= x << 4;
	x ^= x << 8;
	x ^= x << 16;
	x ^= x << 32;
	return x;
}

#endif
