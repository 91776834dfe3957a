/* shape.c - recognising the wrappers of shape.h.
 *
 * Owns a decode buffer for records held as JSON strings (grown to the
 * largest such item, and given back when that is over a few MiB). The
 * root of an item is walked once with ts_jscan, which also checks that the
 * item is well-formed; the string of a wrapped record is decoded with
 * ts_json_unescape, the one copy that form costs.
 */
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "reader.h"
#include "shape.h"
#include "util.h"

#define KEEP_BUF ((size_t)4 << 20)
#define DEF_TOKENS 200000u
#define DEF_DEPTH 64u

enum { K_CTEVENT, K_DETAIL, K_DETAIL_TYPE, K_MESSAGE, K_DIGEST, K_COUNT };

struct ts_shape {
	int format;
	unsigned max_tokens, max_depth;
	char *buf;
	size_t alloc;
};

ts_shape *ts_shape_new(int format, unsigned max_tokens, unsigned max_depth)
{
	ts_shape *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->format = format;
	s->max_tokens = max_tokens ? max_tokens : DEF_TOKENS;
	s->max_depth = max_depth ? max_depth : DEF_DEPTH;
	return s;
}

void ts_shape_free(ts_shape *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s);
}

static int key_slot(const char *name, size_t n)
{
#define IS(lit, k) (n == sizeof lit - 1 && !memcmp(name, lit, n) ? (k) : -1)
	switch (n) {
	case 6: return IS("detail", K_DETAIL);
	case 7: return IS("message", K_MESSAGE);
	case 11: return IS("detail-type", K_DETAIL_TYPE);
	case 15: return name[0] == 'C' ? IS("CloudTrailEvent", K_CTEVENT)
				       : IS("digestStartTime", K_DIGEST);
	}
	return -1;
#undef IS
}

/* Decode the string token t of text into the buffer. */
static int decode(ts_shape *s, const char *text, const ts_jtok *t, ts_shape_inner *in)
{
	size_t n = (size_t)(t->end - t->start);
	if (s->alloc < n || (s->alloc > KEEP_BUF && n < KEEP_BUF / 2)) {
		size_t na = n < 4096 ? 4096 : n;
		char *p = malloc(na);
		if (!p)
			return TS_ENOMEM;
		free(s->buf);
		s->buf = p;
		s->alloc = na;
	}
	long m = ts_json_unescape(text + t->start, n, s->buf);
	if (m < 0)
		return TS_EJSON;
	in->text = s->buf;
	in->len = (size_t)m;
	return TS_SHAPE_RECORD;
}

static int starts_with(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	return n >= k && !memcmp(s, lit, k);
}

int ts_shape_unwrap(ts_shape *s, const char *text, size_t len, ts_shape_inner *in)
{
	ts_jtok root[K_COUNT];
	ts_jscan_want w = {key_slot, K_COUNT, -1, NULL, 0, s->max_tokens, s->max_depth};
	unsigned flags;
	memset(in, 0, sizeof *in);
	if (!ts_jscan(text, len, &w, root, NULL, &flags))
		return TS_SHAPE_NONE;
	int f = s->format, any = f == TS_FMT_AUTO;
	if (root[K_DIGEST].type != TS_JT_NONE)
		return TS_SHAPE_DIGEST;
	if ((any || f == TS_FMT_LOOKUP) && root[K_CTEVENT].type == TS_JT_STRING) {
		in->wrapper = "lookup-events";
		return decode(s, text, &root[K_CTEVENT], in);
	}
	if ((any || f == TS_FMT_EVENTBRIDGE) && root[K_DETAIL].type == TS_JT_OBJECT &&
	    root[K_DETAIL_TYPE].type == TS_JT_STRING) {
		in->wrapper = "EventBridge";
		in->text = text + root[K_DETAIL].start;
		in->len = (size_t)(root[K_DETAIL].end - root[K_DETAIL].start);
		return TS_SHAPE_RECORD;
	}
	if ((any || f == TS_FMT_CWLOGS) && root[K_MESSAGE].type == TS_JT_STRING) {
		const ts_jtok *t = &root[K_MESSAGE];
		const char *m = text + t->start;
		size_t n = (size_t)(t->end - t->start);
		if (starts_with(m, n, "CWL CONTROL MESSAGE"))
			return TS_SHAPE_CONTROL;
		in->wrapper = "CloudWatch Logs";
		return decode(s, text, t, in);
	}
	return TS_SHAPE_NONE;
}
