/* jscan.c - the fast validating walk of one JSON object (see jscan.h).
 *
 * Stage one, per 64-byte block: bit masks of quotes, backslashes,
 * structural bytes ({}[]:,), blanks and NUL bytes; from them the escaped
 * bytes, the bytes inside strings (a prefix XOR of the unescaped quotes,
 * carried from block to block) and the events: structural bytes outside
 * strings, opening quotes, and the first byte of each literal. Stage two
 * walks the events in order with a stack of open containers, each with
 * what it expects next. Only keys, the values asked for and literals are
 * looked at byte by byte; string contents are skipped by the masks.
 * Invariant: every path that cannot prove the text well-formed returns 0.
 */
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__) && !defined(TS_NO_SIMD)
#include <emmintrin.h>
#define JS_SSE2 1
#endif

#include "jscan.h"
#include "util.h"

#define MAX_STACK 256 /* containers open at once that are tracked */

/* What a container expects next. */
enum { X_KEY1, X_KEY, X_COLON, X_VALUE, X_OCOMMA, X_ELEM1, X_ELEM, X_ACOMMA };
enum { CTX_NONE, CTX_ROOT, CTX_SUB }; /* whose names its keys are */

typedef struct frame {
	unsigned char expect, ctx, is_obj;
	int key_slot;   /* slot of the key just read (objects), or -1 */
	ts_jtok *rec;   /* where this container's span goes, or NULL */
} frame;

typedef struct walk {
	const char *s;
	size_t n;
	const ts_jscan_want *w;
	ts_jtok *root, *sub;
	frame st[MAX_STACK];
	unsigned sp;     /* open containers */
	unsigned tokens; /* jsmn's count so far */
	int done;        /* the root object has closed */
} walk;

#ifdef JS_SSE2
static inline uint64_t mask16(__m128i m) { return (uint64_t)(unsigned)_mm_movemask_epi8(m); }
#endif

typedef struct blockmask {
	uint64_t quote, bslash, structural, blank, nul, high;
} blockmask;

/* Classify the 64 bytes at b. */
static inline void classify(const unsigned char *b, blockmask *k)
{
#ifdef JS_SSE2
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), x20 = _mm_set1_epi8(0x20);
	const __m128i ob = _mm_set1_epi8('{'), cb = _mm_set1_epi8('}'), colon = _mm_set1_epi8(':');
	const __m128i comma = _mm_set1_epi8(','), sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
	const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'), zero = _mm_setzero_si128();
	memset(k, 0, sizeof *k);
	for (int i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * i));
		__m128i v20 = _mm_or_si128(v, x20); /* '[' -> '{', ']' -> '}' */
		__m128i st = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v20, ob), _mm_cmpeq_epi8(v20, cb)),
					  _mm_or_si128(_mm_cmpeq_epi8(v, colon), _mm_cmpeq_epi8(v, comma)));
		__m128i bl = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab)),
					  _mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, cr)));
		unsigned sh = 16u * (unsigned)i;
		k->quote |= mask16(_mm_cmpeq_epi8(v, q)) << sh;
		k->bslash |= mask16(_mm_cmpeq_epi8(v, bs)) << sh;
		k->structural |= mask16(st) << sh;
		k->blank |= mask16(bl) << sh;
		k->nul |= mask16(_mm_cmpeq_epi8(v, zero)) << sh;
		k->high |= mask16(v) << sh;
	}
#else
	memset(k, 0, sizeof *k);
	for (int i = 0; i < 64; i++) {
		uint64_t bit = (uint64_t)1 << i;
		switch (b[i]) {
		case '"': k->quote |= bit; break;
		case '\\': k->bslash |= bit; break;
		case '{': case '}': case '[': case ']': case ':': case ',': k->structural |= bit; break;
		case ' ': case '\t': case '\n': case '\r': k->blank |= bit; break;
		case 0: k->nul |= bit; break;
		}
		if (b[i] & 0x80)
			k->high |= bit;
	}
#endif
}

static inline uint64_t prefix_xor(uint64_t x)
{
	x ^= x << 1;
	x ^= x << 2;
	x ^= x << 4;
	x ^= x << 8;
	x ^= x << 16;
	x ^= x << 32;
	return x;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int ts_json_literal_ok(const char *s, size_t n)
{
	if (n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "null", 4)))
		return 1;
	if (n == 5 && !memcmp(s, "false", 5))
		return 1;
	size_t i = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else if (i < n && is_digit(s[i])) {
		while (i < n && is_digit(s[i]))
			i++;
	} else {
		return 0;
	}
	if (i < n && s[i] == '.') {
		size_t f = ++i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == f)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t f = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == f)
			return 0;
	}
	return i == n;
}

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* The escaped byte at i is one JSON allows after a backslash. */
static int escape_ok(const char *s, size_t n, size_t i)
{
	switch (s[i]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return 1;
	case 'u':
		return n - i > 4 && is_hex((unsigned char)s[i + 1]) && is_hex((unsigned char)s[i + 2]) &&
		       is_hex((unsigned char)s[i + 3]) && is_hex((unsigned char)s[i + 4]);
	}
	return 0;
}

/* The closing quote of the string whose opening quote is at q, or n. */
static size_t string_end(const char *s, size_t n, size_t q)
{
	size_t p = q + 1;
	for (;;) {
		const char *e = memchr(s + p, '"', n - p);
		if (!e)
			return n;
		size_t k = (size_t)(e - s), j = k;
		while (j > q + 1 && s[j - 1] == '\\')
			j--;
		if (((k - j) & 1) == 0)
			return k;
		p = k + 1;
	}
}

/* A value begins at i in the innermost container: is one allowed there?
 * Marks the value as taken (the container then expects a separator) and
 * returns where its span goes, via *rec (NULL when nobody asked). */
static int take_value(walk *k, ts_jtok **rec)
{
	*rec = NULL;
	if (++k->tokens > k->w->max_tokens)
		return 0;
	if (k->sp == 0)
		return 0; /* only the root's '{' may stand outside: see on_open */
	frame *f = &k->st[k->sp - 1];
	if (f->is_obj) {
		if (f->expect != X_VALUE)
			return 0;
		f->expect = X_OCOMMA;
		if (f->key_slot >= 0) {
			ts_jtok *t = f->ctx == CTX_ROOT ? &k->root[f->key_slot] : &k->sub[f->key_slot];
			if (t->type != TS_JT_NONE)
				return 0; /* the same name twice */
			*rec = t;
		}
		return 1;
	}
	if (f->expect != X_ELEM1 && f->expect != X_ELEM)
		return 0;
	f->expect = X_ACOMMA;
	return 1;
}

static int on_open(walk *k, size_t i, int is_obj)
{
	ts_jtok *rec = NULL;
	unsigned char ctx = CTX_NONE;
	if (k->sp == 0) {
		if (k->done || !is_obj || ++k->tokens > k->w->max_tokens)
			return 0;
		ctx = CTX_ROOT;
	} else {
		frame *parent = &k->st[k->sp - 1];
		int slot = parent->is_obj ? parent->key_slot : -1;
		unsigned char pctx = parent->ctx;
		if (!take_value(k, &rec))
			return 0;
		if (k->sp >= k->w->max_depth || k->sp >= MAX_STACK)
			return 0;
		if (is_obj && pctx == CTX_ROOT && slot >= 0 && slot == k->w->sub_of)
			ctx = CTX_SUB;
	}
	if (rec) {
		rec->type = is_obj ? TS_JT_OBJECT : TS_JT_ARRAY;
		rec->start = (int)i;
		rec->end = -1;
	}
	frame *f = &k->st[k->sp++];
	f->expect = is_obj ? X_KEY1 : X_ELEM1;
	f->ctx = ctx;
	f->is_obj = (unsigned char)is_obj;
	f->key_slot = -1;
	f->rec = rec;
	return 1;
}

static int on_close(walk *k, size_t i, int is_obj)
{
	if (k->sp == 0)
		return 0;
	frame *f = &k->st[k->sp - 1];
	if (f->is_obj != is_obj)
		return 0;
	if (is_obj ? f->expect != X_KEY1 && f->expect != X_OCOMMA
		   : f->expect != X_ELEM1 && f->expect != X_ACOMMA)
		return 0;
	if (f->rec)
		f->rec->end = (int)i + 1;
	if (--k->sp == 0)
		k->done = 1;
	return 1;
}

static int on_quote(walk *k, size_t i)
{
	if (k->sp == 0)
		return 0;
	frame *f = &k->st[k->sp - 1];
	if (f->is_obj && (f->expect == X_KEY1 || f->expect == X_KEY)) {
		if (++k->tokens > k->w->max_tokens)
			return 0;
		f->expect = X_COLON;
		f->key_slot = -1;
		if (f->ctx == CTX_NONE)
			return 1; /* nobody asked: the masks skip the name */
		const char *e = memchr(k->s + i + 1, '"', k->n - i - 1);
		if (!e)
			return 0;
		size_t len = (size_t)(e - (k->s + i + 1));
		if (memchr(k->s + i + 1, '\\', len))
			return 0; /* escaped names are the exact path's */
		f->key_slot = f->ctx == CTX_ROOT ? k->w->root(k->s + i + 1, len)
						 : k->w->sub(k->s + i + 1, len);
		return 1;
	}
	ts_jtok *rec;
	if (!take_value(k, &rec))
		return 0;
	if (rec) {
		size_t e = string_end(k->s, k->n, i);
		if (e >= k->n)
			return 0;
		rec->type = TS_JT_STRING;
		rec->start = (int)i + 1;
		rec->end = (int)e;
	}
	return 1;
}

static int is_literal_byte(unsigned char c)
{
	return c != '"' && c != '{' && c != '}' && c != '[' && c != ']' && c != ':' && c != ',' &&
	       c != ' ' && c != '\t' && c != '\n' && c != '\r';
}

static int on_literal(walk *k, size_t i)
{
	ts_jtok *rec;
	if (!take_value(k, &rec))
		return 0;
	size_t e = i;
	while (e < k->n && is_literal_byte((unsigned char)k->s[e]))
		e++;
	if (!ts_json_literal_ok(k->s + i, e - i))
		return 0;
	if (rec) {
		rec->type = TS_JT_PRIMITIVE;
		rec->start = (int)i;
		rec->end = (int)e;
	}
	return 1;
}

static int on_event(walk *k, size_t i)
{
	switch (k->s[i]) {
	case '{': return on_open(k, i, 1);
	case '[': return on_open(k, i, 0);
	case '}': return on_close(k, i, 1);
	case ']': return on_close(k, i, 0);
	case '"': return on_quote(k, i);
	case ':': {
		frame *f = k->sp ? &k->st[k->sp - 1] : NULL;
		if (!f || !f->is_obj || f->expect != X_COLON)
			return 0;
		f->expect = X_VALUE;
		return 1;
	}
	case ',': {
		frame *f = k->sp ? &k->st[k->sp - 1] : NULL;
		if (!f || f->expect != (f->is_obj ? X_OCOMMA : X_ACOMMA))
			return 0;
		f->expect = f->is_obj ? X_KEY : X_ELEM;
		return 1;
	}
	}
	return on_literal(k, i);
}

int ts_jscan(const char *s, size_t n, const ts_jscan_want *w, ts_jtok *root, ts_jtok *sub,
	     int *high)
{
	memset(root, 0, (size_t)w->nroot * sizeof *root);
	if (w->nsub)
		memset(sub, 0, (size_t)w->nsub * sizeof *sub);
	if (!s || n == 0 || n > (size_t)INT32_MAX / 2 || w->max_depth < 1)
		return 0;
	/* the frames are written as containers open: not zeroed per record */
	walk k;
	k.s = s;
	k.n = n;
	k.w = w;
	k.root = root;
	k.sub = sub;
	k.sp = k.tokens = 0;
	k.done = 0;
	const unsigned char *b = (const unsigned char *)s;
	unsigned char pad[64];
	uint64_t in_carry = 0, esc_carry = 0, lit_carry = 0, any_high = 0;
	*high = 0;
	for (size_t p = 0; p < n; p += 64) {
		size_t len = n - p < 64 ? n - p : 64;
		const unsigned char *blk = b + p;
		if (len < 64) {
			memset(pad, ' ', sizeof pad);
			memcpy(pad, blk, len);
			blk = pad;
		}
		blockmask m;
		classify(blk, &m);
		if (m.nul)
			return 0;
		any_high |= m.high;
		/* escaped bytes: each backslash not itself escaped escapes the next */
		uint64_t esc = esc_carry, bs = m.bslash & ~esc_carry;
		esc_carry = 0;
		while (bs) {
			unsigned j = (unsigned)__builtin_ctzll(bs);
			if (j == 63) {
				esc_carry = 1;
				break;
			}
			esc |= (uint64_t)2 << j;
			bs &= ~((uint64_t)3 << j);
		}
		uint64_t quotes = m.quote & ~esc;
		uint64_t in = prefix_xor(quotes) ^ in_carry; /* opening quotes and string bytes */
		in_carry = (uint64_t)0 - (in >> 63);
		/* every escape inside a string must be one JSON allows */
		for (uint64_t e = esc & in & ~quotes; e;) {
			unsigned j = (unsigned)__builtin_ctzll(e);
			e &= e - 1;
			if (p + j >= n || !escape_ok(s, n, p + j))
				return 0;
		}
		if (esc & quotes & in)
			return 0; /* cannot happen; kept as a guard */
		uint64_t lit = ~(m.quote | m.structural | m.blank | in);
		uint64_t lit_start = lit & ~(lit << 1 | lit_carry);
		lit_carry = lit >> 63;
		uint64_t ev = (m.structural & ~in) | (quotes & in) | lit_start;
		while (ev) {
			unsigned j = (unsigned)__builtin_ctzll(ev);
			ev &= ev - 1;
			if (k.done || !on_event(&k, p + j))
				return 0;
		}
	}
	*high = any_high != 0;
	/* an open string, a dangling escape, an open container */
	return !in_carry && !esc_carry && k.done && k.sp == 0;
}
