/* util.h - small shared pieces: string slices, a capped growing buffer,
 * a list of owned strings, UTC calendar arithmetic, UTF-8 validation,
 * hashing and logging.
 *
 * Every project .c file includes this header after its system headers;
 * it ends by including banned.h.
 */
#ifndef TS_UTIL_H
#define TS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

/* A byte slice that is not NUL-terminated. The owner of the bytes is
 * whoever produced the slice; the slice never frees anything. */
typedef struct ts_str {
	const char *p;
	size_t n;
} ts_str;

#define TS_STR_NULL ((ts_str){NULL, 0})
static inline ts_str ts_str_c(const char *s) { return (ts_str){s, s ? strlen(s) : 0}; }
static inline int ts_str_eq(ts_str a, ts_str b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}
static inline int ts_str_eqc(ts_str a, const char *c) { return ts_str_eq(a, ts_str_c(c)); }

/* A growing byte buffer with a hard cap.
 * Invariant: len < alloc whenever p != NULL, and p[len] == '\0', so the
 * contents can be used as a C string. A zeroed struct is an empty buffer
 * with no cap (cap 0 means SIZE_MAX/2). */
typedef struct ts_buf {
	char *p;
	size_t len;
	size_t alloc;
	size_t cap;
} ts_buf;

/* Make room for n more bytes. 0, TS_ECAP past the cap, or TS_ENOMEM. */
int ts_buf_grow(ts_buf *b, size_t n);
/* Append bytes / a C string / formatted text. Same returns as ts_buf_grow;
 * on failure the buffer is unchanged. */
int ts_buf_add(ts_buf *b, const void *p, size_t n);
int ts_buf_puts(ts_buf *b, const char *s);
int ts_buf_printf(ts_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void ts_buf_reset(ts_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}
/* Release the memory; the buffer is empty afterwards and keeps its cap. */
void ts_buf_free(ts_buf *b);

/* A list of strings it owns (paths, stream entry IDs), in the order
 * pushed. {0} is an empty list; ts_pathlist_free frees the strings and
 * the array and leaves it empty. */
typedef struct ts_pathlist {
	char **paths;
	size_t n, alloc;
} ts_pathlist;

/* Append a copy of s. 0 or TS_ENOMEM (the list unchanged). */
int ts_pathlist_push(ts_pathlist *l, const char *s);
void ts_pathlist_free(ts_pathlist *l);

/* --- UTC time. Minutes are counted from 1970-01-01T00:00Z. --- */
#define TS_MIN_PER_DAY 1440
/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t ts_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Inverse of ts_days_from_civil. */
void ts_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/* Floor division that works for negative minutes. */
static inline int64_t ts_floordiv(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
static inline int64_t ts_day_of(int64_t minute) { return ts_floordiv(minute, TS_MIN_PER_DAY); }
/* Write "YYYY-MM-DDTHH:MM:00Z" (21 bytes with the NUL) into out. */
void ts_format_minute(int64_t minute, char out[21]);
/* Unix seconds secs as "YYYY-MM-DDTHH:MM:SSZ" (years clamped to 0..9999). */
void ts_format_time(int64_t secs, char out[21]);
/* Parse an RFC 3339 time "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm|-hh:mm)"
 * into epoch seconds, UTC (fractions dropped, an offset applied; 'T' and
 * 'Z' may be lower case). 0 or TS_EBADTIME. Fields are range checked (no
 * Feb 30). */
int ts_parse_time(const char *s, size_t n, int64_t *sec);
/* A time given on the command line (--since, --until): YYYY-MM-DD (its
 * midnight), YYYY-MM-DDTHH:MMZ, or any eventTime form, as a minute since
 * the epoch into *out. 0, or -1 when s is none of these. */
int ts_parse_minute_arg(const char *s, int64_t *out);
/* Decode the JSON string escapes of s[0..n) (the bytes between the
 * quotes) into out, which has room for n bytes (decoding never grows).
 * Returns the decoded length, or -1 on a bad escape or a lone surrogate
 * escape. Other bytes are copied as they are. */
long ts_json_unescape(const char *s, size_t n, char *out);

/* Parse a whole C string as a number in [lo, hi]. 0 and *out, or -1
 * (empty, trailing text, out of range, NaN). */
int ts_parse_double(const char *s, double lo, double hi, double *out);

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, no surrogates), else 0. */
int ts_utf8_valid(const char *s, size_t n);

/* 64-bit FNV-1a style hash, good enough for hash tables of our keys. */
uint64_t ts_hash(const void *p, size_t n, uint64_t seed);

/* --- logging to stderr. Levels: 0 error, 1 warn, 2 info, 3 debug. --- */
extern int ts_log_level;
void ts_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ts_error(...) ts_log(0, __VA_ARGS__)
#define ts_warn(...) ts_log(1, __VA_ARGS__)
#define ts_info(...) ts_log(2, __VA_ARGS__)
#define ts_debug(...) ts_log(3, __VA_ARGS__)

/* Make room in a growing array: when need > *cap, the array at *(T **)arr
 * (*cap elements of elem bytes) is reallocated to the first of first,
 * 2 first, 4 first, ... that holds need, and the new elements are zeroed.
 * 0, or TS_ENOMEM with nothing changed (also when the size would
 * overflow). Callers keep their own caps on need. */
int ts_grow(void *arr, size_t *cap, size_t need, size_t elem, size_t first);

#define TS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#include "banned.h"
#endif
