/* jscan.h - a fast validating walk of one JSON object, for the record
 * parser's common case.
 *
 * ts_jscan() classifies the text 64 bytes at a time (SSE2: quotes,
 * backslashes, structural bytes, blanks) and walks only the structural
 * events - brackets, ':' and ',' outside strings, string and literal
 * starts - through the JSON grammar. It answers "yes, and here are the
 * values you asked for" only when the whole text is one object that the
 * exact path (jsmn plus record.c's checks) would accept as well-formed
 * within the same token and depth caps; for everything else - any
 * error, and shapes it does not handle, such as keys with escapes or a
 * NUL byte - it answers "not sure", and the caller takes the exact path,
 * which finds and words the fault. So it never changes a result, only
 * how fast a well-formed record is read.
 *
 * What it checks: the grammar (keys are strings, ':' and ',' in place,
 * brackets matched, one object and nothing but blanks around it), every
 * literal (true, false, null, JSON numbers), every escape (one of
 * \" \\ \/ \b \f \n \r \t or \u and four hex digits), no NUL byte, depth
 * and token count within the caps. Strings' other bytes are not checked
 * here, as jsmn does not check them: the record parser checks the strings
 * it uses (unless TS_JSCAN_PLAIN says there is nothing in them to check),
 * and the UTF-8 of the whole text, itself.
 */
#ifndef TS_JSCAN_H
#define TS_JSCAN_H

#include <stddef.h>

enum { TS_JT_NONE, TS_JT_OBJECT, TS_JT_ARRAY, TS_JT_STRING, TS_JT_PRIMITIVE };

/* A value: for a string the bytes between its quotes (escapes not
 * decoded), else the whole value; type TS_JT_NONE when absent. */
typedef struct ts_jtok {
	int type;
	int start, end;
} ts_jtok;

/* What to look for. root(name, n) maps a member name of the root object
 * (its raw bytes, which hold no backslash) to a slot in [0, nroot) or -1.
 * The member in slot sub_of, when its value is an object, has its own
 * members looked up with sub() into [0, nsub) the same way. */
typedef struct ts_jscan_want {
	int (*root)(const char *name, size_t n);
	int nroot;
	int sub_of;
	int (*sub)(const char *name, size_t n);
	int nsub;
	unsigned max_tokens; /* as jsmn counts them: every value and key */
	unsigned max_depth;  /* containers open at once, the root included */
} ts_jscan_want;

/* What *flags says after a 1. */
#define TS_JSCAN_HIGH 1u  /* some byte is 0x80 or above (the caller checks UTF-8) */
#define TS_JSCAN_PLAIN 2u /* no backslash anywhere and no byte below 0x20 in a
			   * string: every string is its bytes, nothing to
			   * check or decode in it */

/* Walk s[0..n). 1: the text is one well-formed JSON object within the
 * caps, and root[nroot] and sub[nsub] hold the values found (a name found
 * twice in one object is not sure, so each slot has at most one), and
 * *flags is TS_JSCAN_* or-ed; 0: not sure (see above). root and sub are
 * written in either case. */
int ts_jscan(const char *s, size_t n, const ts_jscan_want *w, ts_jtok *root, ts_jtok *sub,
	     unsigned *flags);

/* ts_jscan for a text whose end is not known: s[0..avail) starts with
 * the object (blanks may come before it) and goes on past it. 1: the
 * object closes within avail bytes (and within max_tokens bytes), *len
 * is its length from s (its closing brace included), and root, sub and
 * *flags are what ts_jscan(s, *len, ...) gives; 0: not sure, *len = 0.
 * Bytes after the object are not looked at, but a few beyond it (in the
 * same 64-byte block) may make it answer not sure. */
int ts_jscan_span(const char *s, size_t avail, const ts_jscan_want *w, ts_jtok *root,
		  ts_jtok *sub, unsigned *flags, size_t *len);

/* Whether the walk classifies blocks with AVX-512 (where the CPU has
 * AVX-512BW and the build is for x86-64; the answers are the same
 * either way). want 0 turns that off and 1 back on, for tests comparing
 * the two; -1 only asks. Not for use while other threads scan. */
int ts_jscan_wide(int want);

/* 1 if s[0..n) is true, false, null or a JSON number (RFC 8259), else 0.
 * The one check of literals for both record parsing paths. */
int ts_json_literal_ok(const char *s, size_t n);

#endif
