/* jscan.c - the fast validating walk of one JSON object (see jscan.h).
 *
 * Stage one, per 64-byte block (jblock.h): bit masks of quotes, backslashes,
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

#include "jblock.h"
#include "jscan.h"
#include "util.h"

#define MAX_STACK 256 /* containers open at once that are tracked */
#define HOT_STACK 4   /* the root, userIdentity-like sub, one cold subtree */

/* What a container expects next. The first five are an object's, the
 * last three an array's, so the state also says which one it is. */
enum { X_KEY1, X_KEY, X_COLON, X_VALUE, X_OCOMMA, X_ELEM1, X_ELEM, X_ACOMMA, X_BAD = 0xff };
enum { CTX_NONE, CTX_ROOT, CTX_SUB }; /* whose names its keys are */

/* The class of an event's byte: a literal's first byte, a quote (a key or
 * a string value), ':' ',' and the four brackets. */
enum { C_LIT, C_QUOTE, C_OOPEN, C_AOPEN, C_COLON, C_COMMA, C_OCLOSE, C_ACLOSE, C_COUNT };
#define C_TOKEN(c) ((c) < C_COLON) /* the classes that begin a jsmn token */

/* ev_class[b]: the class of byte b at an event. */
static const unsigned char ev_class[256] = {
	['"'] = C_QUOTE, [':'] = C_COLON, [','] = C_COMMA, ['{'] = C_OOPEN,
	['['] = C_AOPEN, ['}'] = C_OCLOSE, [']'] = C_ACLOSE,
};

/* next_x[x][c]: what a container in state x expects after an event of
 * class c, X_BAD when c may not come there. For an opening bracket, the
 * state the container takes once the value it opens is done; for a
 * closing one, any state but X_BAD says the container may close here. */
#define V_OBJ X_OCOMMA /* after a value: an object's ... */
#define V_ARR X_ACOMMA /* ... and an array's */
static const unsigned char next_x[8][C_COUNT] = {
	/*           LIT    QUOTE    OOPEN  AOPEN  COLON    COMMA  OCLOSE  ACLOSE */
	[X_KEY1] = {X_BAD, X_COLON, X_BAD, X_BAD, X_BAD, X_BAD, X_KEY1, X_BAD},
	[X_KEY] = {X_BAD, X_COLON, X_BAD, X_BAD, X_BAD, X_BAD, X_BAD, X_BAD},
	[X_COLON] = {X_BAD, X_BAD, X_BAD, X_BAD, X_VALUE, X_BAD, X_BAD, X_BAD},
	[X_VALUE] = {V_OBJ, V_OBJ, V_OBJ, V_OBJ, X_BAD, X_BAD, X_BAD, X_BAD},
	[X_OCOMMA] = {X_BAD, X_BAD, X_BAD, X_BAD, X_BAD, X_KEY, X_KEY1, X_BAD},
	[X_ELEM1] = {V_ARR, V_ARR, V_ARR, V_ARR, X_BAD, X_BAD, X_BAD, X_ELEM1},
	[X_ELEM] = {V_ARR, V_ARR, V_ARR, V_ARR, X_BAD, X_BAD, X_BAD, X_BAD},
	[X_ACOMMA] = {X_BAD, X_BAD, X_BAD, X_BAD, X_BAD, X_ELEM, X_BAD, X_ELEM1},
};
#undef V_OBJ
#undef V_ARR

/* A container whose keys or span someone asked for (a hot one). */
typedef struct frame {
	unsigned char expect, ctx;
	int key_slot;   /* slot of the key just read (objects), or -1 */
	ts_jtok *rec;   /* where this container's span goes, or NULL */
} frame;

/* The walk. Hot containers - the root, the sub object, and the value of
 * a slot - are frames, walked by hot_event() with names looked up; a
 * container nobody looks into (ctx CTX_NONE) is cold: once it opens,
 * cold_event() checks the grammar of everything up to its closer with a
 * table (next_x) and a stack of bytes, looking at no name. */
typedef struct walk {
	const char *s;
	size_t n;
	const ts_jscan_want *w;
	ts_jtok *root, *sub;
	unsigned lim;    /* containers open at once, at most */
	frame st[HOT_STACK];
	unsigned sp;     /* open hot containers (a cold subtree's outermost included) */
	unsigned done;   /* the root object has closed */
	/* the cold subtree, when cold: its state and those of the open
	 * containers inside it, outermost first */
	unsigned cold, cd;
	unsigned char x;
	unsigned char cs[MAX_STACK];
	/* the block being walked: its offset, unescaped quotes, backslashes
	 * and the bytes that end a literal */
	size_t p;
	uint64_t quotes, bslash, stop;
} walk;

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

/* The closing quote of the string whose opening quote is at i, from the
 * block's masks when it is in the same block, else string_end(). */
static size_t close_quote(const walk *k, size_t i)
{
	unsigned j = (unsigned)(i - k->p);
	uint64_t after = j < 63 ? k->quotes >> (j + 1) : 0;
	if (after)
		return i + 1 + (size_t)__builtin_ctzll(after);
	return string_end(k->s, k->n, i);
}

static int is_literal_byte(unsigned char c)
{
	return c != '"' && c != '{' && c != '}' && c != '[' && c != ']' && c != ':' && c != ',' &&
	       c != ' ' && c != '\t' && c != '\n' && c != '\r';
}

/* The end of the literal that starts at i, from the block's masks when
 * it ends in the same block. */
static size_t literal_end(const walk *k, size_t i)
{
	uint64_t rest = k->stop >> (i - k->p);
	if (rest)
		return i + (size_t)__builtin_ctzll(rest);
	size_t e = k->p + 64;
	while (e < k->n && is_literal_byte((unsigned char)k->s[e]))
		e++;
	return e;
}

/* Whether s[from..to) holds a backslash (from the block's mask when the
 * span lies in the block). */
static int has_bslash(const walk *k, size_t from, size_t to)
{
	if (to - k->p < 64) {
		uint64_t span = ((uint64_t)1 << (to - k->p)) - ((uint64_t)1 << (from - k->p));
		return (k->bslash & span) != 0;
	}
	return memchr(k->s + from, '\\', to - from) != NULL;
}

static int literal_ok(const walk *k, size_t i)
{
	size_t e = literal_end(k, i);
	return ts_json_literal_ok(k->s + i, e - i);
}

/* A value of class c begins at i in the innermost hot container: is one
 * allowed there? Moves the container to what follows a value and returns
 * where the value's span goes, via *rec (NULL when nobody asked). */
static int take_value(walk *k, unsigned c, ts_jtok **rec)
{
	*rec = NULL;
	if (k->sp == 0)
		return 0; /* only the root's '{' may stand outside: see on_open */
	frame *f = &k->st[k->sp - 1];
	unsigned char nx = next_x[f->expect][c];
	if (nx == X_BAD)
		return 0;
	f->expect = nx;
	if (nx == X_OCOMMA && f->key_slot >= 0) {
		ts_jtok *t = f->ctx == CTX_ROOT ? &k->root[f->key_slot] : &k->sub[f->key_slot];
		if (t->type != TS_JT_NONE)
			return 0; /* the same name twice */
		*rec = t;
	}
	return 1;
}

static int on_open(walk *k, size_t i, unsigned c)
{
	int is_obj = c == C_OOPEN;
	ts_jtok *rec = NULL;
	unsigned char ctx = CTX_NONE;
	if (k->sp == 0) {
		if (k->done || !is_obj)
			return 0;
		ctx = CTX_ROOT;
	} else {
		frame *parent = &k->st[k->sp - 1];
		int slot = parent->key_slot;
		unsigned char pctx = parent->ctx;
		if (!take_value(k, c, &rec))
			return 0;
		if (k->sp >= k->lim || k->sp >= HOT_STACK)
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
	f->key_slot = -1;
	f->rec = rec;
	if (ctx == CTX_NONE) {
		/* nobody looks into it: walk it cold */
		k->cold = 1;
		k->cd = 0;
		k->x = f->expect;
	}
	return 1;
}

/* The innermost hot container, in state x, closes at i with class c. */
static int on_close(walk *k, size_t i, unsigned c, unsigned char x)
{
	if (k->sp == 0 || next_x[x][c] == X_BAD)
		return 0;
	frame *f = &k->st[k->sp - 1];
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
	if (f->expect == X_KEY1 || f->expect == X_KEY) {
		f->expect = X_COLON;
		f->key_slot = -1;
		if (f->ctx == CTX_NONE)
			return 1; /* nobody asked: the masks skip the name */
		size_t e = close_quote(k, i);
		if (e >= k->n)
			return 0;
		size_t len = e - i - 1;
		if (has_bslash(k, i + 1, e))
			return 0; /* escaped names are the exact path's */
		f->key_slot = f->ctx == CTX_ROOT ? k->w->root(k->s + i + 1, len)
						 : k->w->sub(k->s + i + 1, len);
		return 1;
	}
	ts_jtok *rec;
	if (!take_value(k, C_QUOTE, &rec))
		return 0;
	if (rec) {
		size_t e = close_quote(k, i);
		if (e >= k->n)
			return 0;
		rec->type = TS_JT_STRING;
		rec->start = (int)i + 1;
		rec->end = (int)e;
	}
	return 1;
}

static int on_literal(walk *k, size_t i)
{
	ts_jtok *rec;
	if (!take_value(k, C_LIT, &rec))
		return 0;
	size_t e = literal_end(k, i);
	if (!ts_json_literal_ok(k->s + i, e - i))
		return 0;
	if (rec) {
		rec->type = TS_JT_PRIMITIVE;
		rec->start = (int)i;
		rec->end = (int)e;
	}
	return 1;
}

/* An event of class c at i in a hot container (or outside the root). */
static int hot_event(walk *k, size_t i, unsigned c)
{
	frame *f = k->sp ? &k->st[k->sp - 1] : NULL;
	switch (c) {
	case C_OOPEN:
	case C_AOPEN:
		return on_open(k, i, c);
	case C_OCLOSE:
	case C_ACLOSE:
		return f && on_close(k, i, c, f->expect);
	case C_QUOTE:
		return on_quote(k, i);
	case C_COLON:
	case C_COMMA:
		if (!f || next_x[f->expect][c] == X_BAD)
			return 0;
		f->expect = next_x[f->expect][c];
		return 1;
	}
	return on_literal(k, i);
}

/* An event of class c at i inside the cold subtree: the grammar only. */
static inline int cold_event(walk *k, size_t i, unsigned c)
{
	unsigned char nx = next_x[k->x][c];
	if (nx == X_BAD)
		return 0;
	switch (c) {
	case C_OOPEN:
	case C_AOPEN:
		if (k->sp + k->cd >= k->lim)
			return 0;
		k->cs[k->cd++] = nx;
		k->x = c == C_OOPEN ? X_KEY1 : X_ELEM1;
		return 1;
	case C_OCLOSE:
	case C_ACLOSE:
		if (k->cd == 0) {
			k->cold = 0; /* its outermost container closes */
			return on_close(k, i, c, k->x);
		}
		k->x = k->cs[--k->cd];
		return 1;
	case C_LIT:
		k->x = nx;
		return literal_ok(k, i);
	}
	k->x = nx;
	return 1;
}

int ts_jscan(const char *s, size_t n, const ts_jscan_want *w, ts_jtok *root, ts_jtok *sub,
	     int *high)
{
	memset(root, 0, (size_t)w->nroot * sizeof *root);
	if (w->nsub)
		memset(sub, 0, (size_t)w->nsub * sizeof *sub);
	if (!s || n == 0 || n > (size_t)INT32_MAX / 2 || w->max_depth < 1)
		return 0;
	/* the cold stack is written as containers open: not zeroed per record */
	walk k;
	k.s = s;
	k.n = n;
	k.w = w;
	k.root = root;
	k.sub = sub;
	k.lim = w->max_depth < MAX_STACK ? w->max_depth : MAX_STACK;
	k.sp = k.done = k.cold = k.cd = 0;
	k.x = X_BAD;
	const unsigned char *b = (const unsigned char *)s;
	unsigned char pad[64];
	uint64_t in_carry = 0, lit_carry = 0, any_high = 0, tokens = 0;
	int esc_carry = 0;
	*high = 0;
	for (size_t p = 0; p < n; p += 64) {
		size_t len = n - p < 64 ? n - p : 64;
		const unsigned char *blk = b + p;
		if (len < 64) {
			memset(pad, ' ', sizeof pad);
			memcpy(pad, blk, len);
			blk = pad;
		}
		ts_jblock m;
		ts_jblock_full(blk, &m);
		if (m.nul)
			return 0;
		any_high |= m.high;
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
		uint64_t lit = ~(m.quote | m.structural | m.blank | in);
		uint64_t lit_start = lit & ~(lit << 1 | lit_carry);
		lit_carry = lit >> 63;
		uint64_t ev = (m.structural & ~in) | (quotes & in) | lit_start;
		k.p = p;
		k.quotes = quotes;
		k.bslash = m.bslash;
		k.stop = m.quote | m.structural | m.blank;
		while (ev) {
			unsigned j = (unsigned)__builtin_ctzll(ev);
			ev &= ev - 1;
			unsigned c = ev_class[blk[j]];
			tokens += C_TOKEN(c);
			if (!(k.cold ? cold_event(&k, p + j, c) : hot_event(&k, p + j, c)))
				return 0;
		}
		if (tokens > w->max_tokens)
			return 0;
	}
	*high = any_high != 0;
	/* an open string, a dangling escape, an open container */
	return !in_carry && !esc_carry && k.done && k.sp == 0;
}
