/* reader.c - splits the bytes of one input into the JSON texts of records.
 *
 * Owns the text buffer (buf: text not yet dropped, buf[0] at offset base),
 * the compressed input not yet inflated (zin) and the zlib stream. next()
 * inflates lazily, at most OUT_CHUNK at a time, only when the scanner has
 * used its text: memory stays near max_record + 2 * OUT_CHUNK (+ one feed).
 *
 * The scanner finds boundaries, it does not parse: below the root, 64-byte
 * blocks are classified with SSE2 into quote/backslash/bracket bit masks
 * and only brackets outside strings are visited; at the root a byte-class
 * table and memchr do (the root's keys are checked for "Records"). A stack
 * of bracket kinds checks closers; a look-back at each opener checks the
 * byte before it, which finds a lost '}' at the next record's "},{".
 * With a span callback, the caller's record parser finds the end of each
 * element of a records array it vouches for, and the scan jumps there.
 * Invariants: pos <= len; a buffered item (item && !item_big) starts at
 * item_off >= base; a returned record stays valid until the next call.
 */
#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "jblock.h"
#include "reader.h"
#include "util.h"

#define OUT_CHUNK ((size_t)256 << 10) /* inflate output per call */
#define RATIO_FLOOR ((uint64_t)1 << 20) /* ratio checked from here on */
#define MAX_DEPTH 1024                  /* bracket kinds kept */

enum { K_UNKNOWN, K_PLAIN, K_GZIP };              /* input kind */
enum { S_TOP, S_OBJ, S_RESYNC, S_DEAD, S_DONE };  /* scanner state */

struct ts_reader {
	ts_reader_opts o;
	int kind, st;
	int finished; /* ts_reader_finish() was called */
	int eof;      /* finished and no more text can come */
	int zerr;     /* error to report once the text before it is used */

	char *buf; /* text; buf[0] is at offset base */
	int borrowed; /* buf is the caller's (ts_reader_set_text): never
			 written, moved or freed */
	size_t len, pos, alloc;
	uint64_t base;
	unsigned char saved_sig;  /* last non-blank byte before buf[0] (0: none) */
	unsigned char saved_last; /* byte just before buf[0] */

	unsigned char *zin; /* compressed input not yet inflated: [zpos, zlen) */
	size_t zlen, zpos, zalloc;
	z_stream zs;
	int zinit, zmember; /* zmember: inside a gzip member */
	int zfull;          /* the last inflate filled its output: more may be
			       pending inside zlib without more input */
	uint64_t zused;     /* compressed bytes inflated so far */

	uint64_t depth; /* open brackets; kinds kept for the first MAX_DEPTH */
	unsigned char stack[MAX_DEPTH];
	uint16_t near[2][MAX_DEPTH]; /* level (1-based) of the nearest '{' [0]
					or '[' [1] at or below each level */
	int in_str, esc;    /* inside a string; next byte escaped */
	int records;        /* stack level 2 is a Records array */
	int d1_records;     /* last string at depth 1 was "Records" */
	int seen_obj;       /* an object started at top level */
	int after_bad;      /* an item just failed, or garbage was reported:
			       quiet until the next item starts */
	int deep_noted;     /* EDEPTH outside an item reported (once per
			       top-level object) */
	int nl;             /* resync: previous byte was '\n' */
	int bare;           /* the open top-level value is an array of records:
			       stack[0] is a '{' standing in for a root
			       object, so its elements sit where Records
			       elements do */
	int lead;           /* garbage before the first record, from lead_off:
			       reported once a record starts, or as
			       TS_ENOTLOG at the end when none does */
	uint64_t lead_off;
	const char *const *keys; /* root keys whose array holds the records */
	int nkeys;
	int arrays;              /* a top-level array holds records */
	unsigned char key_first[256]; /* first bytes of keys[] */

	ts_reader_span_fn span; /* the caller's parser finds records' ends */
	void *span_ctx;
	size_t jump;        /* where scanning goes on after a spanned record
			       (0: after the bracket at hand) */

	int item;           /* an item (record candidate) is open */
	uint64_t item_off, item_level; /* its first byte, its bracket level */
	int item_bad;       /* TS_EJSON or TS_EDEPTH once it went wrong */
	int item_big;       /* over max_record: no longer buffered */

	ts_reader_stats stats;
};

enum { C_NONE, C_QUOTE, C_OPEN, C_CLOSE };
static const unsigned char cls[256] = {
	['"'] = C_QUOTE, ['{'] = C_OPEN, ['['] = C_OPEN, ['}'] = C_CLOSE, [']'] = C_CLOSE,
};

static int is_blank(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

ts_reader *ts_reader_new(const ts_reader_opts *opts)
{
	ts_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	if (opts)
		r->o = *opts;
	if (!r->o.max_record)
		r->o.max_record = (size_t)1 << 20;
	if (!(r->o.max_ratio > 0))
		r->o.max_ratio = 1000;
	r->saved_last = '\n';
	/* the values of these root keys are arrays of records (or of the
	 * wrappers shape.h unwraps): CloudTrail log files, lookup-events
	 * output, CloudWatch Logs subscription messages */
	static const char *const all[] = {"Records\"", "Events\"", "logEvents\""};
	switch (r->o.format) {
	case TS_FMT_AUTO: r->keys = all; r->nkeys = 3; break;
	case TS_FMT_RECORDS: r->keys = all; r->nkeys = 1; break;
	case TS_FMT_LOOKUP: r->keys = all + 1; r->nkeys = 1; break;
	case TS_FMT_CWLOGS: r->keys = all + 2; r->nkeys = 1; break;
	default: r->nkeys = 0; break;
	}
	r->arrays = r->o.format == TS_FMT_AUTO || r->o.format == TS_FMT_ARRAY;
	for (int i = 0; i < r->nkeys; i++)
		r->key_first[(unsigned char)r->keys[i][0]] = 1;
	return r;
}

void ts_reader_free(ts_reader *r)
{
	if (!r)
		return;
	if (r->zinit)
		inflateEnd(&r->zs);
	free(r->zin);
	if (!r->borrowed)
		free(r->buf);
	free(r);
}

/* Drop the text nobody needs any more: everything before the scan position,
 * or before the open item while it is buffered. Remembers what the look-back
 * needs from the dropped bytes. */
static void compact(ts_reader *r)
{
	size_t keep = r->pos;
	if (r->item && !r->item_big && r->item_off - r->base < keep)
		keep = (size_t)(r->item_off - r->base);
	if (keep == 0)
		return;
	const unsigned char *b = (const unsigned char *)r->buf;
	size_t q = keep;
	r->saved_last = b[keep - 1];
	while (q > 0 && is_blank(b[q - 1]))
		q--;
	if (q > 0)
		r->saved_sig = b[q - 1];
	memmove(r->buf, r->buf + keep, r->len - keep);
	r->len -= keep;
	r->pos -= keep;
	r->base += keep;
}

/* Make room for n more bytes of text after len. Compacts only when the
 * buffer is full, and grows it when that would free less than half, so
 * each byte is moved O(1) times however small the feeds are. */
static int text_room(ts_reader *r, size_t n)
{
	assert(!r->borrowed); /* a borrowed text is all the text there is */
	if (r->alloc - r->len >= n)
		return 0;
	compact(r);
	if (r->alloc - r->len >= n && r->len <= r->alloc / 2)
		return 0;
	if (n > SIZE_MAX / 4 - r->len)
		return TS_ENOMEM;
	size_t na = r->alloc ? r->alloc : 4096;
	while (na - r->len < n || r->len > na / 2)
		na *= 2;
	char *p = realloc(r->buf, na);
	if (!p)
		return TS_ENOMEM;
	r->buf = p;
	r->alloc = na;
	return 0;
}

/* The last non-blank byte before buf[p], looking into dropped text too;
 * with bom, byte order marks count as blanks (the slow path, for an
 * opener whose byte before is 0xbf). */
static unsigned char prev_sig(const ts_reader *r, size_t p, int bom)
{
	const unsigned char *b = (const unsigned char *)r->buf;
	while (p > 0) {
		unsigned char c = b[--p];
		if (bom && c == 0xbf && p >= 2 && b[p - 1] == 0xbb && b[p - 2] == 0xef)
			p -= 2;
		else if (!is_blank(c))
			return c;
	}
	return r->saved_sig;
}

static int at_column0(const ts_reader *r, size_t p)
{
	return (p ? (unsigned char)r->buf[p - 1] : r->saved_last) == '\n';
}

static int report(ts_reader_item *it, int code, uint64_t off, uint64_t len)
{
	it->text = NULL;
	it->offset = off;
	it->len = (size_t)len;
	return code;
}

static void start_item(ts_reader *r, size_t p, uint64_t level)
{
	r->item = 1;
	r->item_off = r->base + p;
	r->item_level = level;
	r->item_bad = 0;
	r->item_big = 0;
	r->after_bad = 0;
}

/* The item's closing bracket ends at buf[end - 1]. */
static int finish_item(ts_reader *r, size_t end, ts_reader_item *it)
{
	uint64_t off = r->item_off, n = r->base + end - off;
	int bad = r->item_bad;
	r->item = 0;
	if (r->item_level == 1)
		r->st = S_TOP;
	if (bad) {
		r->after_bad = bad == TS_EJSON;
		return report(it, bad, off, n);
	}
	if (r->item_big || n > r->o.max_record)
		return report(it, TS_ETOOBIG, off, n);
	it->text = r->buf + (off - r->base);
	it->len = (size_t)n;
	it->offset = off;
	r->stats.records++;
	return 1;
}

/* Open a bracket. Past MAX_DEPTH only the count is kept, and the item (or,
 * outside one, the top-level object once) is reported as TS_EDEPTH. */
static void push(ts_reader *r, unsigned char c, int *rc)
{
	uint64_t d = r->depth;
	if (d < MAX_DEPTH) {
		r->stack[d] = c;
		for (int i = 0; i < 2; i++)
			r->near[i][d] = (uint16_t)(c == "{["[i] ? d + 1 : d ? r->near[i][d - 1] : 0);
	} else if (r->item) {
		if (!r->item_bad)
			r->item_bad = TS_EDEPTH;
	} else if (!r->deep_noted) {
		r->deep_noted = 1;
		if (!*rc)
			*rc = TS_EDEPTH;
	}
	r->depth++;
}

/* An opening bracket at buf[p]; the caller steps over it. Returns 0 or an
 * item to report (state already updated to go on after the bracket). */
static int on_open(ts_reader *r, size_t p, unsigned char c, ts_reader_item *it)
{
	uint64_t d = r->depth;
	unsigned char parent = d && d <= MAX_DEPTH ? r->stack[d - 1] : 0;
	unsigned char prev = parent ? prev_sig(r, p, 0) : 0;
	if (prev == 0xbf)
		prev = prev_sig(r, p, 1); /* a byte order mark between records */
	int ok = !parent || (parent == '{' ? prev == ':' : prev == '[' || prev == ',');
	int rc = 0;

	if (d == 1 && c == '[' && ok && r->d1_records) {
		/* the Records array of a log file: the root is not a record */
		if (r->item) {
			r->item = 0;
			if (r->item_bad)
				rc = report(it, r->item_bad, r->item_off, 0);
		}
		push(r, c, &rc);
		r->records = 1;
		return rc;
	}
	if (d == 2 && r->records && c == '{') {
		int quiet = r->after_bad;
		start_item(r, p, 3);
		if (ok && r->span) {
			size_t avail = r->len - p, cap = r->o.max_record;
			size_t n = r->span(r->span_ctx, r->buf + p, avail < cap ? avail : cap);
			if (n) {
				r->jump = p + n;
				return finish_item(r, p + n, it);
			}
		}
		push(r, c, &rc);
		return ok || quiet ? 0 : report(it, TS_EJSON, r->base + p, 0);
	}
	if (!ok && r->bare && !r->item && at_column0(r, p)) {
		/* a top-level array that lost its ']': a value in column 0
		 * where an element cannot be starts the next line's value */
		rc = r->after_bad ? 0 : TS_EJSON;
		r->depth = 0;
		r->bare = 0;
		r->records = 0;
		if (c == '[') {
			push(r, '{', &rc);
			push(r, '[', &rc);
			r->records = 1;
			r->bare = 1;
			r->after_bad = 0;
		} else {
			start_item(r, p, 1);
			push(r, c, &rc);
		}
		return rc ? report(it, rc, r->base + p, 0) : 0;
	}
	if (!ok && c == '{' && r->item) {
		if (r->item_level == 1 && at_column0(r, p)) {
			/* NDJSON: the line before lost a closer; a record starts here */
			rc = report(it, r->item_bad == TS_EDEPTH ? TS_EDEPTH : TS_EJSON, r->item_off, 0);
			r->depth = 0;
			r->records = 0;
			start_item(r, p, 1);
			push(r, c, &rc);
			return rc;
		}
		if (r->item_level == 3 && parent == '{' && (prev == ',' || prev == '}')) {
			/* "},{" where a key should be: the element before lost a
			 * '}', and this is the next element of the Records array */
			rc = report(it, r->item_bad == TS_EDEPTH ? TS_EDEPTH : TS_EJSON, r->item_off, 0);
			r->depth = 2;
			start_item(r, p, 3);
			push(r, c, &rc);
			return rc;
		}
	}
	if (!ok) {
		if (r->item) {
			if (!r->item_bad)
				r->item_bad = TS_EJSON;
		} else if (!r->after_bad) {
			rc = TS_EJSON;
			r->after_bad = 1; /* one report per run of garbage */
		}
	}
	push(r, c, &rc);
	return rc ? report(it, rc, r->base + p, 0) : 0;
}

/* The depth dropped below 2: no Records array is open any more, and a
 * top-level array that closed takes its stand-in root with it. */
static void left_records(ts_reader *r)
{
	r->records = 0;
	if (r->bare) {
		r->bare = 0;
		r->depth = 0;
		r->st = S_TOP;
	}
}

/* A closing bracket at buf[p]; the caller steps over it. */
static int on_close(ts_reader *r, size_t p, unsigned char c, ts_reader_item *it)
{
	uint64_t d = r->depth;
	if (d > MAX_DEPTH) {
		r->depth = d - 1; /* kinds unknown this deep: trust it */
		return 0;
	}
	unsigned char want = c == '}' ? '{' : '[';
	if (r->stack[d - 1] == want) {
		r->depth = d - 1;
	} else {
		uint64_t k = r->near[want == '['][d - 1]; /* the opener it closes */
		if (r->item) {
			if (!r->item_bad)
				r->item_bad = TS_EJSON;
			if (k >= r->item_level) {
				r->depth = k - 1;
			} else if (k == 2 && r->records) {
				/* the element never closed; the Records array does */
				r->item = 0;
				r->after_bad = 1;
				r->depth = 1;
				left_records(r);
				return report(it, TS_EJSON, r->item_off, 0);
			} else {
				return 0; /* nothing in the item to close: ignore it */
			}
		} else {
			if (k >= 2)
				r->depth = k - 1;
			if (r->depth < 2)
				left_records(r);
			if (r->after_bad)
				return 0;
			r->after_bad = 1; /* one report per run of garbage */
			return report(it, TS_EJSON, r->base + p, 0);
		}
	}
	if (r->depth < 2)
		left_records(r);
	if (r->item && r->depth == r->item_level - 1)
		return finish_item(r, p + 1, it);
	if (r->depth == 0)
		r->st = S_TOP;
	return 0;
}

/* Skip string bytes from p (after the opening quote, or where the last call
 * stopped). Returns the index after the closing quote, or e with in_str set
 * and esc saying whether the next byte is escaped. */
static size_t skip_string(ts_reader *r, const unsigned char *b, size_t p, size_t e)
{
	size_t from = p;
	int carry = r->esc;
	for (;;) {
		const unsigned char *q = memchr(b + p, '"', e - p);
		if (!q) {
			size_t k = e;
			while (k > from && b[k - 1] == '\\')
				k--;
			r->esc = (int)(((e - k) + (k == from ? (size_t)carry : 0)) & 1);
			r->in_str = 1;
			return e;
		}
		size_t k = (size_t)(q - b), j = k;
		while (j > from && b[j - 1] == '\\')
			j--;
		if ((((k - j) + (j == from ? (size_t)carry : 0)) & 1) == 0) {
			r->in_str = 0;
			r->esc = 0;
			return k + 1;
		}
		p = from = k + 1; /* an escaped quote */
		carry = 0;
	}
}

/* Below the root (depth >= 2) only brackets outside strings matter. This
 * scans 64-byte blocks: a backslash escapes the byte after it, unescaped
 * quotes toggle "in a string" (a prefix XOR), and the brackets left outside
 * strings are handled in order. in_str and esc carry from block to block,
 * so where blocks (and fed chunks) start does not change the result.
 * Returns 0 at the end of the text or when depth drops to 1, else an item. */
static int scan_deep(ts_reader *r, size_t *pp, ts_reader_item *it)
{
	const unsigned char *b = (const unsigned char *)r->buf;
	size_t p = *pp, e = r->len;
	unsigned char pad[64];
	while (p < e) {
		size_t n = e - p < 64 ? e - p : 64;
		const unsigned char *s = b + p;
		if (n < 64) {
			memset(pad, ' ', sizeof pad);
			memcpy(pad, s, n);
			s = pad;
		}
		ts_jblock k;
		ts_jblock_split(s, &k);
		int carry;
		uint64_t esc = ts_jblock_escaped(k.bslash, r->esc, &carry);
		if (n < 64)
			carry = (int)(esc >> n & 1);
		/* inside a string: the unescaped quotes, by prefix XOR */
		uint64_t in = ts_jblock_prefix_xor(k.quote & ~esc);
		if (r->in_str)
			in = ~in;
		uint64_t ev = k.bracket & ~in;
		while (ev) {
			size_t i = (size_t)__builtin_ctzll(ev);
			ev &= ev - 1;
			unsigned char c = b[p + i];
			int rc = cls[c] == C_OPEN ? on_open(r, p + i, c, it) : on_close(r, p + i, c, it);
			if (rc || r->depth < 2 || r->st != S_OBJ) {
				r->in_str = 0;
				r->esc = 0;
				*pp = r->jump ? r->jump : p + i + 1;
				r->jump = 0;
				return rc;
			}
		}
		r->in_str = (int)(in >> (n - 1) & 1);
		r->esc = carry;
		p += n;
	}
	*pp = p;
	return 0;
}

/* Inside a top-level object. Returns 0 when it needs more text (or the
 * object ended without an item to report), else an item. */
static int scan_obj(ts_reader *r, size_t *pp, ts_reader_item *it)
{
	const unsigned char *b = (const unsigned char *)r->buf;
	size_t p = *pp, e = r->len;
	int rc = 0;

	if (r->in_str && r->depth < 2) {
		p = skip_string(r, b, p, e);
		if (r->in_str)
			goto out;
	}
	while (r->st == S_OBJ) {
		if (r->depth >= 2) {
			rc = scan_deep(r, &p, it);
			if (rc || p >= e)
				break;
			continue;
		}
		while (p < e && !cls[b[p]])
			p++;
		if (p >= e)
			break;
		unsigned char c = b[p];
		unsigned k = cls[c];
		if (k == C_QUOTE) {
			if (r->depth == 1) {
				/* a key of the root: is it one whose array holds
				 * records? Wait for more text only while what there
				 * is could still be one. */
				int more = 0;
				r->d1_records = 0;
				int maybe = p + 1 < e ? r->key_first[b[p + 1]] : r->nkeys > 0;
				for (int i = 0; maybe && i < r->nkeys; i++) {
					const char *key = r->keys[i];
					if (p + 1 < e && b[p + 1] != (unsigned char)key[0])
						continue;
					size_t kl = strlen(key), have = e - p - 1 < kl ? e - p - 1 : kl;
					if (memcmp(b + p + 1, key, have) == 0) {
						if (have == kl)
							r->d1_records = 1;
						else
							more = 1;
					}
				}
				if (more && !r->d1_records && !r->eof)
					break;
			}
			p = skip_string(r, b, p + 1, e);
			if (r->in_str)
				break;
			continue;
		}
		rc = k == C_OPEN ? on_open(r, p, c, it) : on_close(r, p, c, it);
		p++;
		if (rc)
			break;
	}
out:
	*pp = p;
	return rc;
}

/* Run the scanner over the text it has. 0: needs more text. */
static int scan(ts_reader *r, ts_reader_item *it)
{
	size_t p = r->pos;
	int rc = 0;
	for (;;) {
		const unsigned char *b = (const unsigned char *)r->buf;
		size_t e = r->len;
		if (r->st == S_OBJ) {
			rc = scan_obj(r, &p, it);
			if (rc || r->st == S_OBJ)
				break;
			continue;
		}
		if (p >= e)
			break;
		if (r->st == S_TOP) {
			while (p < e && is_blank(b[p]))
				p++;
			if (p >= e)
				break;
			if (r->base + p == 0 && !r->eof && e - p < 2)
				break; /* two bytes tell UTF-16 */
			if (r->base + p == 0 && e - p >= 2 &&
			    ((b[p] == 0xff && b[p + 1] == 0xfe) || (b[p] == 0xfe && b[p + 1] == 0xff) ||
			     (b[p] && !b[p + 1]) || (!b[p] && b[p + 1]))) {
				rc = report(it, TS_EUTF16, 0, 0);
				r->st = S_DEAD;
				p = e;
				break;
			}
			if (r->lead && (b[p] == '{' || (b[p] == '[' && r->arrays))) {
				/* the garbage before the first record ends here */
				r->lead = 0;
				rc = report(it, TS_EJSON, r->lead_off, r->base + p - r->lead_off);
				break;
			}
			if (b[p] == '[' && r->arrays) {
				/* a top-level array: its objects are records */
				r->seen_obj = 1;
				r->deep_noted = 0;
				r->depth = 0;
				r->item = 0;
				r->after_bad = 0;
				push(r, '{', &rc);
				push(r, '[', &rc);
				r->records = 1;
				r->bare = 1;
				r->st = S_OBJ;
				p++;
				continue;
			}
			if (b[p] == '{') {
				r->seen_obj = 1;
				r->deep_noted = 0;
				r->depth = 0;
				r->records = 0;
				r->d1_records = 0;
				start_item(r, p, 1);
				push(r, '{', &rc);
				r->st = S_OBJ;
				p++;
				continue;
			}
			if (b[p] == 0xef) { /* a UTF-8 byte order mark: harmless between values */
				size_t have = e - p < 3 ? e - p : 3;
				int match = memcmp(b + p, "\xef\xbb\xbf", have) == 0;
				if (match && have < 3 && !r->eof)
					break;
				if (match && have == 3) {
					p += 3;
					continue;
				}
			}
			if (!r->seen_obj && !r->lead) {
				/* garbage before the first record (a pasted prompt,
				 * a file cut mid-record): skip to the next line
				 * that starts a value; reported when one does */
				r->lead = 1;
				r->lead_off = r->base + p;
				r->after_bad = 1;
			}
			int quiet = r->after_bad;
			r->st = S_RESYNC;
			r->nl = 0;
			if (!quiet) {
				rc = report(it, TS_EJSON, r->base + p, 0);
				p++;
				break;
			}
			p++;
			continue;
		}
		if (r->st == S_RESYNC) {
			/* skip to a '{' (or '[', or a byte order mark) in column 0 */
			if (r->nl && (b[p] == '{' || (b[p] == '[' && r->arrays) || b[p] == 0xef)) {
				r->st = S_TOP;
				continue;
			}
			const unsigned char *q = memchr(b + p, '\n', e - p);
			if (!q) {
				p = e;
				r->nl = 0;
				break;
			}
			p = (size_t)(q - b) + 1;
			r->nl = 1;
			continue;
		}
		p = e; /* dead: the rest is ignored */
		break;
	}
	r->pos = p;
	if (!rc && r->item && !r->item_big && r->base + p - r->item_off > r->o.max_record)
		r->item_big = 1;
	return rc;
}

/* Inflate more text. 1: some text was added; 0: none until more input;
 * negative: an error to report now. */
static int inflate_more(ts_reader *r)
{
	for (;;) {
		size_t avail = r->zlen - r->zpos;
		if (!avail && !(r->zfull && r->zmember))
			return 0;
		if (!r->zmember) {
			if (inflateReset(&r->zs) != Z_OK)
				return TS_EGZIP;
			r->zmember = 1;
		}
		/* room for OUT_CHUNK, or less when little input is waiting */
		size_t want = avail < OUT_CHUNK / 16 ? 16 * avail : OUT_CHUNK;
		if (text_room(r, want < 4096 ? 4096 : want))
			return TS_ENOMEM;
		uint64_t out = r->stats.out_bytes;
		uint64_t room = OUT_CHUNK - out % OUT_CHUNK; /* stop at each checkpoint */
		if (room > r->alloc - r->len)
			room = r->alloc - r->len;
		if (r->o.max_output && r->o.max_output - out + 1 < room)
			room = r->o.max_output - out + 1;
		uInt in_n = avail > UINT_MAX ? UINT_MAX : (uInt)avail;
		r->zs.next_in = r->zin + r->zpos;
		r->zs.avail_in = in_n;
		r->zs.next_out = (unsigned char *)r->buf + r->len;
		r->zs.avail_out = (uInt)room;
		int zr = inflate(&r->zs, Z_NO_FLUSH);
		size_t used = in_n - r->zs.avail_in, made = (size_t)room - r->zs.avail_out;
		r->zfull = r->zs.avail_out == 0;
		r->zpos += used;
		r->zused += used;
		r->len += made;
		r->stats.out_bytes += made;
		if (zr == Z_STREAM_END)
			r->zmember = 0;
		else if (zr == Z_MEM_ERROR)
			r->zerr = TS_ENOMEM;
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			r->zerr = TS_EGZIP;
		if (r->o.max_output && r->stats.out_bytes > r->o.max_output) {
			size_t over = (size_t)(r->stats.out_bytes - r->o.max_output);
			r->len -= over;
			made -= over;
			r->stats.out_bytes = r->o.max_output;
			r->zerr = TS_ECAP;
		}
		out = r->stats.out_bytes;
		if (!r->zerr && out >= RATIO_FLOOR && out % OUT_CHUNK == 0 &&
		    (double)out > r->o.max_ratio * (double)r->zused)
			r->zerr = TS_ERATIO;
		if (made)
			return 1;
		if (r->zerr)
			return 0;
		if (!used && !r->zfull)
			return 0;
	}
}

int ts_reader_next(ts_reader *r, ts_reader_item *it)
{
	if (!r || !it)
		return TS_EINVAL;
	report(it, 0, 0, 0);
	for (;;) {
		if (r->st == S_DONE)
			return 0;
		if (r->st != S_DEAD) {
			int rc = scan(r, it);
			if (rc)
				return rc;
		}
		int got = 0;
		if (r->st != S_DEAD && !r->zerr && r->kind == K_GZIP)
			got = inflate_more(r);
		if (got > 0)
			continue;
		if (got == 0 && r->zerr && r->st != S_DEAD)
			got = r->zerr;
		if (got < 0) {
			r->zerr = 0;
			r->st = S_DEAD;
			return report(it, got, r->base + r->len, 0);
		}
		if (!r->finished)
			return 0;
		if (!r->eof && r->st != S_DEAD) {
			r->eof = 1; /* one more pass: waits for lookahead end now */
			continue;
		}
		int trunc = r->st == S_OBJ || (r->kind == K_GZIP && r->zmember);
		int was_dead = r->st == S_DEAD;
		r->st = S_DONE;
		if (r->lead && !was_dead) /* nothing but garbage */
			return report(it, TS_ENOTLOG, r->lead_off, 0);
		if (trunc && !was_dead)
			return report(it, TS_ETRUNC, r->item ? r->item_off : r->base + r->len, 0);
		return 0;
	}
}

/* Text bytes for a plain input: appended straight to the text buffer. */
static int add_text(ts_reader *r, const unsigned char *p, size_t n)
{
	if (r->o.max_output && n > r->o.max_output - r->stats.out_bytes) {
		n = (size_t)(r->o.max_output - r->stats.out_bytes);
		r->zerr = TS_ECAP;
	}
	if (!n)
		return 0;
	if (text_room(r, n))
		return TS_ENOMEM;
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->stats.out_bytes += n;
	return 0;
}

static int add_zin(ts_reader *r, const unsigned char *p, size_t n)
{
	if (r->zpos) {
		memmove(r->zin, r->zin + r->zpos, r->zlen - r->zpos);
		r->zlen -= r->zpos;
		r->zpos = 0;
	}
	if (r->zalloc - r->zlen < n) {
		if (n > SIZE_MAX / 2 - r->zlen)
			return TS_ENOMEM;
		size_t na = r->zalloc ? r->zalloc : 4096;
		while (na - r->zlen < n)
			na *= 2;
		unsigned char *np = realloc(r->zin, na);
		if (!np)
			return TS_ENOMEM;
		r->zin = np;
		r->zalloc = na;
	}
	memcpy(r->zin + r->zlen, p, n);
	r->zlen += n;
	return 0;
}

/* Decide plain or gzip from the first two bytes (held in zin until then). */
static int decide_kind(ts_reader *r)
{
	if (r->zlen < 2 && !r->finished && !(r->zlen == 1 && r->zin[0] != 0x1f))
		return 0;
	if (r->zlen >= 2 && r->zin[0] == 0x1f && r->zin[1] == 0x8b) {
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
			return TS_ENOMEM;
		r->zinit = 1;
		r->zmember = 1;
		r->kind = K_GZIP;
		return 0;
	}
	r->kind = K_PLAIN;
	int rc = add_text(r, r->zin, r->zlen);
	r->zlen = r->zpos = 0;
	return rc;
}

int ts_reader_feed(ts_reader *r, const void *buf, size_t len)
{
	if (!r || (!buf && len))
		return TS_EINVAL;
	if (r->finished)
		return TS_EINVAL;
	r->stats.in_bytes += len;
	if (!len || r->st == S_DEAD || r->st == S_DONE || r->zerr)
		return 0;
	if (r->kind == K_PLAIN)
		return add_text(r, buf, len);
	int rc = add_zin(r, buf, len);
	if (!rc && r->kind == K_UNKNOWN)
		rc = decide_kind(r);
	return rc;
}

int ts_reader_set_text(ts_reader *r, const char *text, size_t len, uint64_t in_bytes)
{
	if (!r || (!text && len) || r->kind != K_UNKNOWN || r->zlen || r->finished ||
	    r->stats.in_bytes)
		return TS_EINVAL;
	if (r->o.max_output && len > r->o.max_output)
		return TS_ECAP;
	if (len >= RATIO_FLOOR && (double)len > r->o.max_ratio * (double)in_bytes)
		return TS_ERATIO;
	r->kind = K_PLAIN;
	r->borrowed = 1;
	r->buf = (char *)text; /* only read: see borrowed */
	r->len = r->alloc = len;
	r->stats.in_bytes = in_bytes;
	r->stats.out_bytes = len;
	r->finished = 1;
	return 0;
}

void ts_reader_set_span(ts_reader *r, ts_reader_span_fn fn, void *ctx)
{
	if (r) {
		r->span = fn;
		r->span_ctx = ctx;
	}
}

int ts_reader_finish(ts_reader *r)
{
	if (!r)
		return TS_EINVAL;
	r->finished = 1;
	if (r->kind == K_UNKNOWN && r->st != S_DEAD) {
		int rc = decide_kind(r);
		if (rc && !r->zerr)
			r->zerr = rc; /* reported by ts_reader_next() */
	}
	return 0;
}

void ts_reader_get_stats(const ts_reader *r, ts_reader_stats *st)
{
	if (r)
		*st = r->stats;
	else
		memset(st, 0, sizeof *st);
}
