/* jscan_ref.c - the record scan as it was before its subtree skip and
 * table dispatch: every structural event walked through the grammar by
 * one branchy handler. Kept for the tests only, as the oracle that
 * test_jscan_diff holds ts_jscan() to (the same answer, the same spans).
 */
#include <stdint.h>
#include <string.h>

#include "jblock.h"
#include "jscan.h"
#include "jscan_ref.h"
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

int ts_jscan_ref(const char *s, size_t n, const ts_jscan_want *w, ts_jtok *root, ts_jtok *sub,
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
	uint64_t in_carry = 0, lit_carry = 0, any_high = 0;
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
