/* minattr.h - the packed form of one day's per-minute attribution counts
 * of one metric (the Redis store's `am:` keys, written for re-detection).
 *
 * A key's value is a string of segments, one per checkpoint that wrote to
 * the key (each is APPENDed): a 4-byte little-endian length, then a codec
 * blob (codec.h: magic "TSM1", the segment's value table, then the body).
 * The body is the entry count, then per entry, in order of (minute, kind,
 * value): a varint (minute of day minus the previous entry's, the first
 * from 0) << 2 | kind, the value (an index into the segment's table), and
 * the count. A value is written once per segment however many minutes
 * name it; an entry takes three or four bytes. The same (minute, kind,
 * value) may appear in several segments: a reader sums them.
 */
#ifndef TS_MINATTR_H
#define TS_MINATTR_H

#include <stdint.h>

#include "series.h"
#include "util.h"

typedef struct ts_minattr {
	uint32_t mod;   /* minute of the day, 0..1439 */
	uint32_t kind;  /* enum ts_attr_kind */
	uint32_t value; /* registry value id */
	uint64_t count;
} ts_minattr;

/* One segment for v[0..n) (n > 0; every mod < 1440, kind < TS_A_KINDS,
 * value a registry id) into out (reset first). v is sorted in place.
 * 0, TS_EINVAL (an entry out of range), TS_ENOMEM or TS_ECAP. */
int ts_minattr_pack(ts_minattr *v, size_t n, const ts_registry *reg, ts_buf *out);

/* Called once per entry of a segment, in the segment's order; a nonzero
 * return stops the parse and is returned. */
typedef int (*ts_minattr_cb)(void *ctx, const ts_minattr *a);

/* Read p[0..len), the segments of one key, interning their values into
 * reg. A segment is checked whole before any of its entries reaches cb, so
 * a damaged segment delivers nothing. 0; TS_EINVAL at the first damaged
 * segment (those before it were delivered, *bad_at set to its offset when
 * bad_at is not NULL); TS_ENOMEM, TS_ECAP; or cb's return. */
int ts_minattr_parse(const void *p, size_t len, ts_registry *reg, ts_minattr_cb cb, void *ctx,
		     size_t *bad_at);

#endif
