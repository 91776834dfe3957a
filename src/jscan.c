/* jscan.c - the fast validating walk of one JSON object (see jscan.h).
 *
 * Stage one, per 64-byte block (jblock.h's lean masks): quotes,
 * backslashes, structural bytes ({}[]:,) and bytes <= 0x20; from them the
 * escaped bytes, the bytes inside strings (a prefix XOR of the unescaped
 * quotes, carried from block to block) and the events: structural bytes
 * outside strings, opening quotes, and the first byte of each literal.
 * Stage two walks the events in order. What each open container expects
 * next is a state; a table (step) gives the state after each class of
 * event, or X_BAD. Most events are nothing but that step - ':' and ','
 * anywhere, and every string of a container nobody looks into (a cold
 * one: below the root and the sub object, all of them) - and a tight
 * loop takes those; literals are checked, brackets push and pop the
 * state, and in the root and the sub object (hot) names are looked up
 * and the values asked for noted. String contents are skipped by the
 * masks. Invariant: every path that cannot prove the text well-formed
 * returns 0.
 */
#include <stdint.h>
#include <string.h>

#include "jblock.h"
#include "jscan.h"
#include "util.h"

#define MAX_STACK 256 /* containers open at once that are tracked */
#define HOT_DEPTH 3   /* the deepest container whose keys or span are asked for */

/* What a container expects next. The first five are an object's, the
 * next three an array's (so the state also says which it is); X_TOP is
 * before the root object, X_END after it. */
enum { X_KEY1, X_KEY, X_COLON, X_VALUE, X_OCOMMA, X_ELEM1, X_ELEM, X_ACOMMA, X_TOP, X_END,
       X_COUNT, X_BAD = 0x7f };
enum { CTX_NONE, CTX_ROOT, CTX_SUB }; /* whose names a container's keys are */

/* The class of an event's byte: a literal's first byte, a quote (a key or
 * a string value), the two opening brackets, ':' ',' and the closers. */
enum { C_LIT, C_QUOTE, C_OOPEN, C_AOPEN, C_COLON, C_COMMA, C_OCLOSE, C_ACLOSE, C_COUNT };

static const unsigned char ev_class[256] = {
	['"'] = C_QUOTE, [':'] = C_COLON, [','] = C_COMMA, ['{'] = C_OOPEN,
	['['] = C_AOPEN, ['}'] = C_OCLOSE, [']'] = C_ACLOSE,
};

/* step[hot][x][c]: what a container in state x expects after an event of
 * class c, X_BAD when c may not come there; hot: 1 in a container whose
 * names are looked up, 0 in one nobody looks into. For an opening
 * bracket, the state the container takes once the value it opens is
 * done; for a closer, any state but X_BAD says the container may close
 * there. X_PLAIN marks the events that are nothing but this step: ':'
 * and ',' anywhere, and strings in a container nobody looks into. */
#define X_PLAIN 0x80
#define PL(x, f) ((x) == X_BAD ? X_BAD : (x) | (f))
/* a row: the next state for LIT QUOTE OOPEN AOPEN COLON COMMA OCLOSE ACLOSE */
#define ROW(l, q, oo, ao, co, cm, oc, ac, qf) {l, PL(q, qf), oo, ao, PL(co, X_PLAIN), PL(cm, X_PLAIN), oc, ac}
#define B X_BAD
#define VO X_OCOMMA /* after a value: an object's ... */
#define VA X_ACOMMA /* ... and an array's */
#define TABLE(qf) {                                                            \
	[X_KEY1] = ROW(B, X_COLON, B, B, B, B, X_KEY1, B, qf),                  \
	[X_KEY] = ROW(B, X_COLON, B, B, B, B, B, B, qf),                        \
	[X_COLON] = ROW(B, B, B, B, X_VALUE, B, B, B, qf),                      \
	[X_VALUE] = ROW(VO, VO, VO, VO, B, B, B, B, qf),                        \
	[X_OCOMMA] = ROW(B, B, B, B, B, X_KEY, X_KEY1, B, qf),                  \
	[X_ELEM1] = ROW(VA, VA, VA, VA, B, B, B, X_ELEM1, qf),                  \
	[X_ELEM] = ROW(VA, VA, VA, VA, B, B, B, B, qf),                         \
	[X_ACOMMA] = ROW(B, B, B, B, B, X_ELEM, B, X_ELEM1, qf),                \
	[X_TOP] = ROW(B, B, X_END, B, B, B, B, B, qf),                          \
	[X_END] = ROW(B, B, B, B, B, B, B, B, qf),                              \
}
static const unsigned char step[2][X_COUNT][C_COUNT] = {TABLE(X_PLAIN), TABLE(0)};
#undef TABLE
#undef VA
#undef VO
#undef B
#undef ROW
#undef PL

/* A container at depth 1..HOT_DEPTH: whose names its keys are, and where
 * its span goes (NULL: nowhere). Deeper ones are CTX_NONE, NULL. */
typedef struct level {
	unsigned char ctx;
	ts_jtok *rec;
} level;

/* The block being walked: its offset, its unescaped quotes, backslashes
 * and the bytes that end a literal. */
typedef struct blockv {
	const char *s;
	size_t n, p;
	uint64_t quotes, bslash, stop;
} blockv;

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

static int is_literal_byte(unsigned char c)
{
	return c != '"' && c != '{' && c != '}' && c != '[' && c != ']' && c != ':' && c != ',' &&
	       c != ' ' && c != '\t' && c != '\n' && c != '\r';
}

/* The closing quote of the string whose opening quote is at i, from the
 * block's masks when it is in the same block, else string_end(). */
static inline size_t close_quote(const blockv *v, size_t i)
{
	unsigned j = (unsigned)(i - v->p);
	uint64_t after = j < 63 ? v->quotes >> (j + 1) : 0;
	if (after)
		return i + 1 + (size_t)__builtin_ctzll(after);
	return string_end(v->s, v->n, i);
}

/* Whether s[from..to) holds a backslash (from the block's mask when the
 * span ends in the block). */
static inline int has_bslash(const blockv *v, size_t from, size_t to)
{
	if (to - v->p < 64) {
		uint64_t span = ((uint64_t)1 << (to - v->p)) - ((uint64_t)1 << (from - v->p));
		return (v->bslash & span) != 0;
	}
	return memchr(v->s + from, '\\', to - from) != NULL;
}

/* The end of the literal that starts at i, from the block's masks when
 * it ends in the same block. */
static inline size_t literal_end(const blockv *v, size_t i)
{
	uint64_t rest = v->stop >> (i - v->p);
	if (rest)
		return i + (size_t)__builtin_ctzll(rest);
	size_t e = v->p + 64;
	while (e < v->n && is_literal_byte((unsigned char)v->s[e]))
		e++;
	return e;
}

/* jsmn's tokens that begin in a block: opening quotes, literals and
 * opening brackets (starts: the first two; outside: structural bytes
 * outside strings). */
static unsigned block_tokens(const unsigned char *blk, uint64_t starts, uint64_t outside)
{
	unsigned t = (unsigned)__builtin_popcountll(starts);
	for (; outside; outside &= outside - 1) {
		unsigned char c = blk[__builtin_ctzll(outside)];
		t += c == '{' || c == '[';
	}
	return t;
}

/* The bytes >= 0x80 among s[0..n), n <= 64: whether there is one. */
static unsigned any_high_in(const unsigned char *s, size_t n)
{
	unsigned h = 0;
	for (size_t i = 0; i < n; i++)
		h |= s[i] & 0x80u;
	return h;
}

/* ts_jscan (span NULL) and ts_jscan_span (span the length found); with
 * wide, the blocks are classified with AVX-512 (only in walk_wide, below). */
static inline __attribute__((always_inline)) int
walk(const char *s, size_t n, const ts_jscan_want *w, ts_jtok *root, ts_jtok *sub,
     unsigned *flags, size_t *span, int wide)
{
	(void)wide;
	memset(root, 0, (size_t)w->nroot * sizeof *root);
	if (w->nsub)
		memset(sub, 0, (size_t)w->nsub * sizeof *sub);
	*flags = 0;
	if (span) {
		/* a text longer than the token cap may hold more tokens than
		 * it: such a record is left to the caller's exact path */
		*span = 0;
		if (n > w->max_tokens)
			n = w->max_tokens;
	}
	if (!s || n == 0 || n > (size_t)INT32_MAX / 2 || w->max_depth < 1)
		return 0;
	unsigned lim = w->max_depth < MAX_STACK ? w->max_depth : MAX_STACK;
	/* every token begins at a byte of its own: only a text longer than
	 * the cap can have more */
	int count = !span && n > w->max_tokens;
	/* The walk: x is what the innermost of the d open containers
	 * expects; xs[k] what the one at depth k will expect once the value
	 * it holds at depth k + 1 closes (written as containers open, not
	 * zeroed per record); ctx is the innermost's, slot the slot of the
	 * key just read in a hot container (-1: none, or not hot). */
	unsigned char xs[MAX_STACK];
	level lv[HOT_DEPTH + 1];
	unsigned x = X_TOP, d = 0, ctx = CTX_NONE;
	int slot = -1;
	const unsigned char(*tab)[C_COUNT] = step[0];
	lv[0] = (level){CTX_NONE, NULL};
	blockv v = {s, n, 0, 0, 0, 0};
	const unsigned char *b = (const unsigned char *)s;
	unsigned char pad[64];
	uint64_t in_carry = 0, lit_carry = 0, tokens = 0;
	uint64_t any_bslash = 0;
	unsigned any_high = 0, ctl = 0;
	int esc_carry = 0;
	for (size_t p = 0; p < n; p += 64) {
		size_t len = n - p < 64 ? n - p : 64;
		const unsigned char *blk = b + p;
		if (len < 64) {
			memset(pad, ' ', sizeof pad);
			memcpy(pad, blk, len);
			blk = pad;
		}
		ts_jblock_lean m;
#ifdef TS_JB512
		if (wide)
			ts_jblock_lean_of_512(blk, &m);
		else
#endif
			ts_jblock_lean_of(blk, &m);
		unsigned ctl_blk = 0; /* a byte below 0x20 in a string of this block */
		uint64_t esc = ts_jblock_escaped(m.bslash, esc_carry, &esc_carry);
		uint64_t quotes = m.quote & ~esc;
		uint64_t in = ts_jblock_prefix_xor(quotes) ^ in_carry; /* opening quotes and string bytes */
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
		/* Bytes <= 0x20: no NUL in strings (jsmn would stop there;
		 * strings have no control bytes at all, as a rule), and only
		 * blanks outside them (compact JSON has none; the padding is
		 * blanks) */
		for (uint64_t o = m.low & in; o; o &= o - 1) {
			unsigned char c = blk[__builtin_ctzll(o)];
			if (c == 0)
				return 0;
			ctl_blk |= c != ' ';
		}
		uint64_t real = len < 64 ? ((uint64_t)1 << len) - 1 : ~(uint64_t)0;
		for (uint64_t o = m.low & ~in & real; o; o &= o - 1) {
			unsigned char c = blk[__builtin_ctzll(o)];
			if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
				return 0;
		}
		uint64_t lit = ~(m.quote | m.structural | m.low | in);
		uint64_t lit_start = lit & ~(lit << 1 | lit_carry);
		lit_carry = lit >> 63;
		uint64_t ev = (m.structural & ~in) | (quotes & in) | lit_start;
		if (count && (tokens += block_tokens(blk, (quotes & in) | lit_start,
						     m.structural & ~in)) > w->max_tokens)
			return 0;
		v.p = p;
		v.quotes = quotes;
		v.bslash = m.bslash;
		v.stop = m.quote | m.structural | m.low;
		for (;;) {
			/* the plain events in a tight loop, the others below */
			size_t j;
			unsigned c, nx;
			for (;;) {
				if (!ev)
					goto next_block;
				j = (size_t)__builtin_ctzll(ev);
				ev &= ev - 1;
				c = ev_class[blk[j]];
				nx = tab[x][c];
				if (!(nx & X_PLAIN))
					break;
				x = nx ^ X_PLAIN;
			}
			if (nx == X_BAD)
				return 0;
			size_t i = p + j;
			switch (c) {
			case C_QUOTE:
				if (x <= X_KEY) {
					/* a name of a hot container */
					size_t e = close_quote(&v, i);
					if (e >= n || has_bslash(&v, i + 1, e))
						return 0; /* escaped names are the exact path's */
					slot = ctx == CTX_ROOT ? w->root(s + i + 1, e - i - 1)
							       : w->sub(s + i + 1, e - i - 1);
					/* its ':' right after it in the block: taken here */
					if (e + 1 - p < 64 && (ev >> (e + 1 - p) & 1) && s[e + 1] == ':') {
						ev &= ~((uint64_t)1 << (e + 1 - p));
						nx = X_VALUE;
					}
				} else if (slot >= 0) {
					ts_jtok *t = ctx == CTX_ROOT ? &root[slot] : &sub[slot];
					size_t e = close_quote(&v, i);
					if (t->type != TS_JT_NONE || e >= n)
						return 0; /* the same name twice, or no end */
					*t = (ts_jtok){TS_JT_STRING, (int)i + 1, (int)e};
					slot = -1;
				}
				x = nx;
				continue;
			case C_LIT: {
				size_t e = literal_end(&v, i);
				if (!ts_json_literal_ok(s + i, e - i))
					return 0;
				if (slot >= 0 && x == X_VALUE) {
					ts_jtok *t = ctx == CTX_ROOT ? &root[slot] : &sub[slot];
					if (t->type != TS_JT_NONE)
						return 0;
					*t = (ts_jtok){TS_JT_PRIMITIVE, (int)i, (int)e};
				}
				slot = -1;
				x = nx;
				continue;
			}
			case C_OOPEN:
			case C_AOPEN: {
				if (d >= lim)
					return 0;
				ts_jtok *t = NULL;
				unsigned nctx = CTX_NONE;
				if (d == 0) {
					nctx = CTX_ROOT;
				} else if (slot >= 0 && x == X_VALUE) {
					t = ctx == CTX_ROOT ? &root[slot] : &sub[slot];
					if (t->type != TS_JT_NONE)
						return 0;
					*t = (ts_jtok){c == C_OOPEN ? TS_JT_OBJECT : TS_JT_ARRAY, (int)i, -1};
					if (c == C_OOPEN && ctx == CTX_ROOT && slot == w->sub_of)
						nctx = CTX_SUB;
				}
				xs[d++] = (unsigned char)nx;
				if (d <= HOT_DEPTH)
					lv[d] = (level){(unsigned char)nctx, t};
				ctx = nctx;
				tab = step[ctx != CTX_NONE];
				slot = -1;
				x = c == C_OOPEN ? X_KEY1 : X_ELEM1;
				continue;
			}
			default: /* a closer */
				if (d <= HOT_DEPTH && lv[d].rec)
					lv[d].rec->end = (int)i + 1;
				x = xs[--d];
				if (span && d == 0) {
					/* the root closed: the record ends here, and
					 * what follows in the block is not its own */
					uint64_t mine = j == 63 ? ~(uint64_t)0 : ((uint64_t)2 << j) - 1;
					any_bslash |= m.bslash & mine;
					if (m.high)
						any_high |= any_high_in(blk, j + 1);
					for (uint64_t o = m.low & in & mine; o; o &= o - 1)
						ctl |= blk[__builtin_ctzll(o)] != ' ';
					*flags = (any_high ? TS_JSCAN_HIGH : 0) |
						 (!any_bslash && !ctl ? TS_JSCAN_PLAIN : 0);
					*span = i + 1;
					return 1;
				}
				ctx = d <= HOT_DEPTH ? lv[d].ctx : CTX_NONE;
				tab = step[ctx != CTX_NONE];
				continue;
			}
		}
next_block:
		any_high |= m.high;
		any_bslash |= m.bslash;
		ctl |= ctl_blk;
	}
	if (span)
		return 0; /* the text ended inside the object */
	*flags = (any_high ? TS_JSCAN_HIGH : 0) | (!any_bslash && !ctl ? TS_JSCAN_PLAIN : 0);
	/* an open string, a dangling escape, an open container */
	return !in_carry && !esc_carry && x == X_END;
}

static int walk_base(const char *s, size_t n, const ts_jscan_want *w, ts_jtok *root,
		     ts_jtok *sub, unsigned *flags, size_t *span)
{
	return walk(s, n, w, root, sub, flags, span, 0);
}

#ifdef TS_JB512
TS_JB512_TARGET static int walk_wide(const char *s, size_t n, const ts_jscan_want *w,
				     ts_jtok *root, ts_jtok *sub, unsigned *flags, size_t *span)
{
	return walk(s, n, w, root, sub, flags, span, 1);
}

static int wide_off; /* ts_jscan_wide(0) was called: tests only */

static int use_wide(void) { return !wide_off && __builtin_cpu_supports("avx512bw"); }
#endif

int ts_jscan_wide(int want)
{
#ifdef TS_JB512
	if (want >= 0)
		wide_off = !want;
	return use_wide();
#else
	(void)want;
	return 0;
#endif
}

static int dispatch(const char *s, size_t n, const ts_jscan_want *w, ts_jtok *root,
		    ts_jtok *sub, unsigned *flags, size_t *span)
{
#ifdef TS_JB512
	if (use_wide())
		return walk_wide(s, n, w, root, sub, flags, span);
#endif
	return walk_base(s, n, w, root, sub, flags, span);
}

int ts_jscan(const char *s, size_t n, const ts_jscan_want *w, ts_jtok *root, ts_jtok *sub,
	     unsigned *flags)
{
	return dispatch(s, n, w, root, sub, flags, NULL);
}

int ts_jscan_span(const char *s, size_t avail, const ts_jscan_want *w, ts_jtok *root,
		  ts_jtok *sub, unsigned *flags, size_t *len)
{
	return dispatch(s, avail, w, root, sub, flags, len);
}
