/* record.c - parses the JSON text of one CloudTrail record into ts_record.
 *
 * Owns a jsmn token array (grown on JSMN_ERROR_NOMEM up to max_tokens, kept
 * across records), the stacks of validate() and a scratch buffer for
 * strings with JSON escapes. ts_record strings point into the caller's text
 * or into scratch; scratch is sized to the record before its first decode,
 * so it never moves during one parse (decoding only shrinks).
 *
 * jsmn tokenises but does not validate, so validate() walks the tokens in
 * document order and checks every byte between them (':' after a key, ','
 * between members, blanks), keys, literals and depth, and notes the
 * top-level keys we use. jsmn's closing-bracket search is O(depth), so one
 * SSE2 pass first counts brackets (when over the cap, an exact depth scan
 * follows) and finds whether the text is pure ASCII (else ts_utf8_valid).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

#include "jscan.h"
#include "record.h"
#include "util.h"

#define DEF_TOKENS 200000u
#define DEF_DEPTH 64u
#define FIRST_TOKENS 512u
#define SHOW_MAX 60 /* bytes of a bad value shown in errdetail */

struct ts_parser {
	jsmntok_t *tok;
	unsigned ntok; /* allocated tokens */
	unsigned max_tokens, max_depth;
	int exact_only;
	int *stack;          /* validate(): end of each open container */
	unsigned char *want; /* validate(): what each one expects next */
	char *scratch;
	size_t scratch_len, scratch_alloc;
	size_t text_len; /* length of the record being parsed */
	int plain;       /* its strings hold no escape and no control byte */
	char detail[160];
};

enum {
	F_TIME, F_SOURCE, F_NAME, F_REGION, F_ACCOUNT, F_ERROR, F_CATEGORY,
	F_TYPE, F_AGENT, F_READONLY, F_MGMT, F_IDENTITY, F_COUNT
};
static const char *const field_names[F_COUNT] = {
	"eventTime", "eventSource", "eventName", "awsRegion", "recipientAccountId",
	"errorCode", "eventCategory", "eventType", "userAgent", "readOnly",
	"managementEvent", "userIdentity",
};

ts_parser *ts_parser_new(const ts_parser_opts *opts)
{
	ts_parser *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->max_tokens = opts && opts->max_tokens ? opts->max_tokens : DEF_TOKENS;
	p->max_depth = opts && opts->max_depth ? opts->max_depth : DEF_DEPTH;
	p->exact_only = opts && opts->exact_only;
	if (p->max_tokens > INT_MAX / 2)
		p->max_tokens = INT_MAX / 2;
	if (p->max_depth > 1u << 20)
		p->max_depth = 1u << 20;
	p->ntok = p->max_tokens < FIRST_TOKENS ? p->max_tokens : FIRST_TOKENS;
	p->tok = malloc(p->ntok * sizeof *p->tok);
	p->stack = malloc(p->max_depth * sizeof *p->stack);
	p->want = malloc(p->max_depth);
	if (!p->tok || !p->stack || !p->want) {
		ts_parser_free(p);
		return NULL;
	}
	return p;
}

void ts_parser_free(ts_parser *p)
{
	if (!p)
		return;
	free(p->tok);
	free(p->stack);
	free(p->want);
	free(p->scratch);
	free(p);
}

const char *ts_parser_errdetail(const ts_parser *p) { return p ? p->detail : ""; }

static int fail(ts_parser *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ts_parser *p, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof p->detail, fmt, ap);
	va_end(ap);
	return code;
}

/* Write s[0..n) quoted into out (cap >= SHOW_MAX + 16): printable ASCII
 * as is, other bytes as \xNN, cut after about SHOW_MAX characters with
 * "..." when there is more. */
static void show(char *out, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0;
	out[o++] = '"';
	for (; i < n && o < SHOW_MAX && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o++] = '"';
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* One pass over the text: returns the number of '{' and '[' bytes (an
 * upper bound on the nesting depth) and sets *high when a byte >= 0x80 is
 * there (else the text is ASCII, hence valid UTF-8). */
static size_t scan_text(const char *s, size_t n, int *high)
{
	size_t c = 0, i = 0;
	unsigned hi = 0;
#if defined(__SSE2__)
	const __m128i low = _mm_set1_epi8(0x20), brace = _mm_set1_epi8('{');
	while (n - i >= 16) {
		__m128i acc = _mm_setzero_si128(), any = _mm_setzero_si128();
		size_t blocks = (n - i) / 16;
		if (blocks > 255)
			blocks = 255;
		for (size_t k = 0; k < blocks; k++, i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			/* '[' | 0x20 == '{'; no other byte maps there */
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_or_si128(v, low), brace));
			any = _mm_or_si128(any, v);
		}
		__m128i sum = _mm_sad_epu8(acc, _mm_setzero_si128());
		c += (size_t)_mm_cvtsi128_si32(sum) + (size_t)_mm_extract_epi16(sum, 4);
		hi |= (unsigned)_mm_movemask_epi8(any);
	}
#endif
	for (; i < n; i++) {
		unsigned char b = (unsigned char)s[i];
		c += (b | 0x20) == '{';
		hi |= b & 0x80;
	}
	*high = hi != 0;
	return c;
}

/* Exact bracket depth outside strings; stops once it passes limit. */
static size_t nest_depth(const char *s, size_t n, size_t limit)
{
	size_t d = 0, max = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
		} else if (c == '{' || c == '[') {
			if (++d > max && (max = d) > limit)
				break;
		} else if ((c == '}' || c == ']') && d) {
			d--;
		}
	}
	return max;
}

static int is_blank(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Which field the name s[0..n) is, or -1. */
static int field_match(const char *name, size_t n)
{
#define IS(lit, f) (!memcmp(name, lit, sizeof lit - 1) ? (f) : -1)
	switch (n) {
	case 8: return IS("readOnly", F_READONLY);
	case 9:
		switch (name[0]) {
		case 'a': return IS("awsRegion", F_REGION);
		case 'u': return IS("userAgent", F_AGENT);
		case 'r': return -1; /* requestID, resources */
		}
		switch (name[5]) {
		case 'T': return name[6] == 'i' ? IS("eventTime", F_TIME) : IS("eventType", F_TYPE);
		case 'N': return IS("eventName", F_NAME);
		case 'C': return IS("errorCode", F_ERROR);
		}
		return -1;
	case 11: return IS("eventSource", F_SOURCE);
	case 12: return IS("userIdentity", F_IDENTITY);
	case 13: return IS("eventCategory", F_CATEGORY);
	case 15: return IS("managementEvent", F_MGMT);
	case 18: return IS("recipientAccountId", F_ACCOUNT);
	}
	return -1;
#undef IS
}

/* Which field a top-level key token names (escapes decoded), or -1. */
static int field_of(const char *s, const jsmntok_t *k)
{
	const char *name = s + k->start;
	size_t n = (size_t)(k->end - k->start);
	int f = field_match(name, n);
	char buf[128];
	if (f >= 0 || n < 8 || n > sizeof buf || !memchr(name, '\\', n))
		return f;
	long m = ts_json_unescape(name, n, buf);
	return m < 0 ? -1 : field_match(buf, (size_t)m);
}

static int tok_is(const char *s, const jsmntok_t *t, const char *lit)
{
	size_t n = strlen(lit);
	return t->type == JSMN_PRIMITIVE && (size_t)(t->end - t->start) == n &&
	       !memcmp(s + t->start, lit, n);
}

/* Tokenise with jsmn, growing the token array on NOMEM up to max_tokens. */
static int tokenise(ts_parser *p, const char *s, size_t n)
{
	for (;;) {
		jsmn_parser jp;
		jsmn_init(&jp);
		int r = jsmn_parse(&jp, s, n, p->tok, p->ntok);
		if (r == JSMN_ERROR_NOMEM) {
			if (p->ntok >= p->max_tokens)
				return fail(p, TS_ETOKENS, "more than %u JSON tokens", p->max_tokens);
			unsigned nn = p->ntok > p->max_tokens / 2 ? p->max_tokens : p->ntok * 2;
			jsmntok_t *t = realloc(p->tok, nn * sizeof *t);
			if (!t)
				return fail(p, TS_ENOMEM, "out of memory for %u tokens", nn);
			p->tok = t;
			p->ntok = nn;
			continue;
		}
		if (r < 0)
			return fail(p, TS_EJSON, "invalid JSON near byte %u", jp.pos);
		if (r == 0)
			return fail(p, TS_EJSON, "empty text");
		return r;
	}
}

/* What an open container expects next. */
enum { W_KEY1, W_KEY, W_VALUE, W_ELEM1, W_ELEM };

/* s[from..to) is blanks, or blanks, sep, blanks when sep is not 0. */
static inline int gap_ok(const char *s, int from, int to, char sep)
{
	if (to - from == (sep != 0) && (!sep || s[from] == sep))
		return 1; /* compact JSON: nothing or just the separator */
	int i = from;
	while (i < to && is_blank(s[i]))
		i++;
	if (sep) {
		if (i >= to || s[i] != sep)
			return 0;
		i++;
		while (i < to && is_blank(s[i]))
			i++;
	}
	return i == to;
}

/* Check the structure of the n tokens: walk them in document order with a
 * stack of open containers, give each token its role from what its
 * container expects (key, value, element) and check the bytes between it
 * and the token before: ':' before a value, ',' between members, blanks
 * only before a closer. Token spans come from jsmn, which has matched the
 * brackets and checked strings; roles and separators are checked here.
 * Notes the value token of each top-level field we use in slot[] (0:
 * absent) and the first duplicated one in *dup. */
static int validate(ts_parser *p, const char *s, int n, int *slot, int *dup)
{
	const jsmntok_t *t = p->tok;
	int *end = p->stack; /* end offset of each open container */
	unsigned char *want = p->want;
	unsigned sp = 1;
	end[0] = t[0].end;
	want[0] = W_KEY1;
	int pos = t[0].start + 1;
	for (int i = 1; i < n;) {
		const jsmntok_t *k = &t[i];
		int ostart = k->start - (k->type == JSMN_STRING);
		while (end[sp - 1] <= ostart) {
			if (!gap_ok(s, pos, end[sp - 1] - 1, 0))
				return fail(p, TS_EJSON, "invalid JSON near byte %d", pos);
			pos = end[--sp];
			if (sp == 0)
				return fail(p, TS_EJSON, "more than one JSON value");
		}
		char sep = want[sp - 1] == W_KEY || want[sp - 1] == W_ELEM ? ',' : 0;
		if (!gap_ok(s, pos, ostart, sep))
			return fail(p, TS_EJSON, "invalid JSON near byte %d", pos);
		if (want[sp - 1] <= W_KEY) {
			/* a member: the key, then its value, the next token */
			if (k->type != JSMN_STRING)
				return fail(p, TS_EJSON, "object key is not a string at byte %d",
					    k->start);
			if (sp == 1) {
				int f = field_of(s, k);
				if (f >= 0) {
					if (slot[f] && *dup < 0)
						*dup = f;
					slot[f] = i + 1;
				}
			}
			pos = k->end + 1;
			want[sp - 1] = W_VALUE;
			if (++i >= n)
				break; /* key without value: reported below */
			k = &t[i];
			ostart = k->start - (k->type == JSMN_STRING);
			if (ostart >= end[sp - 1] || !gap_ok(s, pos, ostart, ':'))
				return fail(p, TS_EJSON, "object key without a value near byte %d", pos);
			want[sp - 1] = W_KEY;
		} else {
			want[sp - 1] = W_ELEM;
		}
		switch (k->type) {
		case JSMN_STRING:
			pos = k->end + 1;
			break;
		case JSMN_OBJECT:
		case JSMN_ARRAY:
			if (sp >= p->max_depth)
				return fail(p, TS_EDEPTH, "nested deeper than %u", p->max_depth);
			end[sp] = k->end;
			want[sp++] = k->type == JSMN_OBJECT ? W_KEY1 : W_ELEM1;
			pos = k->start + 1;
			break;
		default:
			if (!ts_json_literal_ok(s + k->start, (size_t)(k->end - k->start)))
				return fail(p, TS_EJSON, "invalid literal at byte %d", k->start);
			pos = k->end;
			break;
		}
		i++;
	}
	while (sp > 0) {
		if (want[sp - 1] == W_VALUE || !gap_ok(s, pos, end[sp - 1] - 1, 0))
			return fail(p, TS_EJSON, "invalid JSON near byte %d", pos);
		pos = end[--sp];
	}
	return 0;
}

/* 1 if any of the 8 bytes in w is below 0x20 or a backslash. */
static inline int ctl_or_bslash(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t b = w ^ (ones * '\\');
	return (((w - ones * 0x20) & ~w) | ((b - ones) & ~b)) & high ? 1 : 0;
}

/* The string value of token k as a decoded slice. */
static int get_str(ts_parser *p, const char *s, const jsmntok_t *k, const char *field,
		   ts_str *out)
{
	const char *a = s + k->start;
	size_t n = (size_t)(k->end - k->start), i = 0;
	int esc = 0;
	if (p->plain) {
		*out = (ts_str){a, n};
		return 0;
	}
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, a + i, 8);
		if (ctl_or_bslash(w))
			break;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x20)
			return fail(p, TS_EJSON, "%s: control character in string", field);
		esc |= c == '\\';
	}
	if (!esc) {
		*out = (ts_str){a, n};
		return 0;
	}
	if (p->scratch_alloc < p->text_len) {
		/* once per record at most: later decodes must not move it */
		char *np = realloc(p->scratch, p->text_len);
		if (!np)
			return fail(p, TS_ENOMEM, "%s: out of memory", field);
		p->scratch = np;
		p->scratch_alloc = p->text_len;
	}
	char *o = p->scratch + p->scratch_len;
	long m = ts_json_unescape(a, n, o);
	if (m < 0)
		return fail(p, TS_EJSON, "%s: bad escape or lone surrogate", field);
	p->scratch_len += (size_t)m;
	*out = (ts_str){o, (size_t)m};
	return 0;
}

/* A string field that may be absent or null. */
static int opt_str(ts_parser *p, const char *s, int v, const char *field, ts_str *out)
{
	*out = TS_STR_NULL;
	if (!v || tok_is(s, &p->tok[v], "null"))
		return 0;
	if (p->tok[v].type != JSMN_STRING)
		return fail(p, TS_EFIELD, "%s: not a string", field);
	return get_str(p, s, &p->tok[v], field, out);
}

/* true/false, "true"/"false", null or absent. */
static int opt_bool(ts_parser *p, const char *s, int v, const char *field, int *out)
{
	*out = TS_ABSENT;
	if (!v)
		return 0;
	const jsmntok_t *k = &p->tok[v];
	const char *a = s + k->start;
	size_t n = (size_t)(k->end - k->start);
	if (k->type == JSMN_PRIMITIVE || k->type == JSMN_STRING) {
		if (n == 4 && !memcmp(a, "true", 4))
			*out = TS_TRUE;
		else if (n == 5 && !memcmp(a, "false", 5))
			*out = TS_FALSE;
		else if (k->type == JSMN_PRIMITIVE && n == 4 && !memcmp(a, "null", 4))
			return 0;
		if (*out != TS_ABSENT)
			return 0;
	}
	char v_[SHOW_MAX + 16];
	show(v_, sizeof v_, a, n);
	return fail(p, TS_EFIELD, "%s: not a boolean: %s", field, v_);
}

/* The members of userIdentity the parser uses, by slot. */
enum { I_ARN, I_TYPE, I_INVOKED, I_COUNT };
static const char *const identity_names[I_COUNT] = {"arn", "type", "invokedBy"};

static int identity_match(const char *name, size_t n)
{
	for (int i = 0; i < I_COUNT; i++)
		if (n == strlen(identity_names[i]) && !memcmp(name, identity_names[i], n))
			return i;
	return -1;
}

/* The fast path: when ts_jscan() vouches for the text, put the values of
 * the fields we use into the token array as the exact path would (slot[f]
 * is the index of field f's value, 0 when absent) and return the number
 * of tokens, with id[i] the index of userIdentity's member i (I_ARN,
 * I_TYPE, I_INVOKED; 0: none). 0 when it does not vouch (then the exact
 * path runs). */
static int fast_tokens(ts_parser *p, const char *text, size_t *lenp, int span, int *slot,
		       int *id)
{
	static const jsmntype_t types[] = {
		[TS_JT_OBJECT] = JSMN_OBJECT, [TS_JT_ARRAY] = JSMN_ARRAY,
		[TS_JT_STRING] = JSMN_STRING, [TS_JT_PRIMITIVE] = JSMN_PRIMITIVE,
	};
	ts_jtok root[F_COUNT], sub[I_COUNT];
	ts_jscan_want w = {field_match, F_COUNT, F_IDENTITY, identity_match, I_COUNT,
			   p->max_tokens, p->max_depth};
	unsigned flags;
	if (p->exact_only || p->ntok < F_COUNT + I_COUNT + 1)
		return span ? (*lenp = 0, -1) : 0;
	if (span ? !ts_jscan_span(text, *lenp, &w, root, sub, &flags, lenp)
		 : !ts_jscan(text, *lenp, &w, root, sub, &flags))
		return span ? -1 : 0;
	size_t len = *lenp;
	if ((flags & TS_JSCAN_HIGH) && !ts_utf8_valid(text, len))
		return 0;
	p->plain = (flags & TS_JSCAN_PLAIN) != 0;
	jsmntok_t *t = p->tok;
	int n = 0;
	t[n++] = (jsmntok_t){.type = JSMN_OBJECT, .start = 0, .end = (int)len, .parent = -1};
	for (int f = 0; f < F_COUNT; f++) {
		slot[f] = 0;
		if (root[f].type == TS_JT_NONE)
			continue;
		slot[f] = n;
		t[n++] = (jsmntok_t){.type = types[root[f].type], .start = root[f].start,
				     .end = root[f].end, .parent = 0};
	}
	for (int i = 0; i < I_COUNT; i++) {
		id[i] = 0;
		if (sub[i].type == TS_JT_NONE)
			continue;
		id[i] = n;
		t[n++] = (jsmntok_t){.type = types[sub[i].type], .start = sub[i].start,
				     .end = sub[i].end, .parent = slot[F_IDENTITY]};
	}
	return n;
}

/* ts_parse_record, and with span set ts_parse_record_span: then *lenp is
 * what is available on entry, and the length of the record on return (0,
 * and the return 0, when the fast scan does not vouch for it). */
static int parse(ts_parser *p, const char *text, size_t *lenp, int span, ts_record *rec)
{
	int slot[F_COUNT] = {0}, dup = -1, rc;
	if (!p || !rec || (!text && *lenp)) {
		if (!span)
			return TS_EINVAL;
		*lenp = 0;
		return 0;
	}
	p->detail[0] = '\0';
	p->scratch_len = 0;
	p->plain = 0;
	memset(rec, 0, sizeof *rec);
	if (span && *lenp > INT_MAX / 2)
		*lenp = INT_MAX / 2;
	if (*lenp > INT_MAX / 2)
		return fail(p, TS_EINVAL, "record of %zu bytes is too long to parse", *lenp);
	int id[I_COUNT] = {0};
	int n = fast_tokens(p, text, lenp, span, slot, id);
	if (n < 0)
		return 0; /* span: not vouched for, *lenp is 0 */
	size_t len = *lenp;
	p->text_len = len;
	int fast = n > 0;
	if (!n) {
		int high;
		size_t openers = scan_text(text, len, &high);
		if (high && !ts_utf8_valid(text, len))
			return fail(p, TS_EUTF8, "not valid UTF-8");
		if (openers > p->max_depth && nest_depth(text, len, p->max_depth) > p->max_depth)
			return fail(p, TS_EDEPTH, "nested deeper than %u", p->max_depth);
		n = tokenise(p, text, len);
		if (n < 0)
			return n;
		const jsmntok_t *t0 = p->tok;
		if (t0[0].type != JSMN_OBJECT)
			return fail(p, TS_EJSON, "not a JSON object");
		for (int i = 0; i < t0[0].start; i++)
			if (!is_blank(text[i]))
				return fail(p, TS_EJSON, "bytes before the object");
		for (size_t i = (size_t)t0[0].end; i < len; i++)
			if (!is_blank(text[i]))
				return fail(p, TS_EJSON, "bytes after the object at byte %zu", i);
		memset(slot, 0, F_COUNT * sizeof *slot);
		rc = validate(p, text, n, slot, &dup);
		if (rc)
			return rc;
	}
	const jsmntok_t *t = p->tok;

	/* eventTime first: a record without a usable time is not counted */
	int v = slot[F_TIME];
	if (!v)
		return fail(p, TS_ENOTIME, "eventTime: missing");
	if (tok_is(text, &t[v], "null"))
		return fail(p, TS_ENOTIME, "eventTime: null");
	if (t[v].type != JSMN_STRING)
		return fail(p, TS_EBADTIME, "eventTime: not a string");
	if (dup >= 0)
		return fail(p, TS_EFIELD, "%s: duplicate key", field_names[dup]);
	if ((rc = get_str(p, text, &t[v], "eventTime", &rec->event_time)))
		return rc;
	if (ts_parse_time(rec->event_time.p, rec->event_time.n, &rec->time)) {
		char v_[SHOW_MAX + 16];
		show(v_, sizeof v_, rec->event_time.p, rec->event_time.n);
		return fail(p, TS_EBADTIME, "eventTime: %s", v_);
	}

	static const struct {
		int f;
		size_t off;
	} strs[] = {
		{F_SOURCE, offsetof(ts_record, event_source)},
		{F_NAME, offsetof(ts_record, event_name)},
		{F_REGION, offsetof(ts_record, aws_region)},
		{F_ACCOUNT, offsetof(ts_record, account)},
		{F_ERROR, offsetof(ts_record, error_code)},
		{F_CATEGORY, offsetof(ts_record, event_category)},
		{F_TYPE, offsetof(ts_record, event_type)},
		{F_AGENT, offsetof(ts_record, user_agent)},
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(strs); i++) {
		int f = strs[i].f;
		ts_str *out = (ts_str *)(void *)((char *)rec + strs[i].off);
		if ((rc = opt_str(p, text, slot[f], field_names[f], out)))
			return rc;
	}
	/* An Insight event has its eventSource and eventName inside
	 * insightDetails: it parses, and is counted as an insight event
	 * (ignored) rather than skipped. */
	int insight = ts_str_eqc(rec->event_type, "AwsCloudTrailInsight");
	for (int i = 0; i < 2; i++) {
		int f = i ? F_NAME : F_SOURCE;
		ts_str *out = i ? &rec->event_name : &rec->event_source;
		if (out->p)
			continue;
		if (!insight)
			return fail(p, TS_EFIELD, "%s: %s", field_names[f],
				    slot[f] ? "null" : "missing");
		*out = (ts_str){"", 0};
	}
	if ((rc = opt_bool(p, text, slot[F_READONLY], "readOnly", &rec->read_only)))
		return rc;
	if ((rc = opt_bool(p, text, slot[F_MGMT], "managementEvent", &rec->management)))
		return rc;

	v = slot[F_IDENTITY];
	if (v && !tok_is(text, &t[v], "null")) {
		if (t[v].type != JSMN_OBJECT)
			return fail(p, TS_EFIELD, "userIdentity: not an object");
		for (int i = v + 1; !fast && i < n && t[i].start < t[v].end; i++) {
			if (t[i].parent != v)
				continue;
			size_t kn = (size_t)(t[i].end - t[i].start);
			int which = identity_match(text + t[i].start, kn);
			if (which < 0 && memchr(text + t[i].start, '\\', kn)) {
				char kb[32];
				long m = kn <= sizeof kb ? ts_json_unescape(text + t[i].start, kn, kb) : -1;
				which = m >= 0 ? identity_match(kb, (size_t)m) : -1;
			}
			if (which >= 0) {
				if (id[which])
					return fail(p, TS_EFIELD, "userIdentity.%s: duplicate key",
						    identity_names[which]);
				id[which] = i + 1;
			}
		}
		static const char *const full[I_COUNT] = {
			"userIdentity.arn", "userIdentity.type", "userIdentity.invokedBy"};
		ts_str *out[I_COUNT] = {&rec->arn, &rec->identity_type, &rec->invoked_by};
		for (int i = 0; i < I_COUNT; i++)
			if ((rc = opt_str(p, text, id[i], full[i], out[i])))
				return rc;
	}
	return 0;
}

int ts_parse_record(ts_parser *p, const char *text, size_t len, ts_record *rec)
{
	return parse(p, text, &len, 0, rec);
}

int ts_parse_record_span(ts_parser *p, const char *text, size_t avail, size_t *len,
			 ts_record *rec)
{
	*len = avail;
	return parse(p, text, len, 1, rec);
}
