/* codec.h - a small binary encoding for saved state (checkpoints).
 *
 * Integers are LEB128 varints (signed ones zigzagged), doubles their 8
 * IEEE-754 bytes little-endian (floats their 4), byte strings a varint length then the
 * bytes. Registry values (ARNs, user agents, codes) are written once in a
 * string table and referred to by index, so a blob does not repeat them.
 *
 * An encoder builds the body in one buffer and the table in another;
 * ts_enc_finish() joins them as: magic (4 bytes), table, body. A decoder
 * reads the magic and table at open (interning the strings into the
 * registry) and then the body field by field; any read past the end or a
 * malformed field makes the decoder fail, sticky, and every later read
 * returns zeros: check ts_dec_ok() once at the end.
 */
#ifndef TS_CODEC_H
#define TS_CODEC_H

#include <stdint.h>

#include "series.h"
#include "tally.h"
#include "util.h"

typedef struct ts_enc {
	ts_buf body;
	ts_buf table;
	ts_tally ids; /* registry value id -> table index + 1 */
	const ts_registry *reg;
	uint64_t nvalues;
	int err; /* sticky: first failure */
} ts_enc;

/* reg is borrowed (to name values). */
void ts_enc_init(ts_enc *e, const ts_registry *reg);
void ts_enc_u64(ts_enc *e, uint64_t v);
void ts_enc_i64(ts_enc *e, int64_t v);
void ts_enc_f64(ts_enc *e, double v);
void ts_enc_f32(ts_enc *e, float v);
void ts_enc_str(ts_enc *e, ts_str s);
/* A registry value id (TS_NO_VALUE-free: every id must name a value). */
void ts_enc_value(ts_enc *e, uint32_t vid);
/* Write magic + table + body into out (reset first). 0 or the first error
 * (TS_ENOMEM). The encoder is freed either way. */
int ts_enc_finish(ts_enc *e, const char magic[4], ts_buf *out);
void ts_enc_free(ts_enc *e);

typedef struct ts_dec {
	const unsigned char *p, *end;
	uint32_t *vids; /* table index -> registry value id */
	uint64_t nvalues;
	int err;
} ts_dec;

/* Open blob[0..n): check the magic, intern the table's strings into reg.
 * 0, TS_EINVAL (not this magic or malformed), TS_ENOMEM or TS_ECAP. The
 * decoder borrows the blob; ts_dec_free releases the table. */
int ts_dec_open(ts_dec *d, const void *blob, size_t n, const char magic[4], ts_registry *reg);
uint64_t ts_dec_u64(ts_dec *d);
int64_t ts_dec_i64(ts_dec *d);
double ts_dec_f64(ts_dec *d);
float ts_dec_f32(ts_dec *d);
/* A signed integer in [lo, hi] (else the decoder fails). */
int64_t ts_dec_i64_in(ts_dec *d, int64_t lo, int64_t hi);
/* A minute since the epoch: INT64_MIN (none) or in [TS_DEC_MINUTE_MIN,
 * TS_DEC_MINUTE_END), else the decoder fails. That is the range of
 * eventTime (years 1970 to 9999), with room below for the minutes an
 * aggregator opens before its first record; sums of minutes and windows
 * cannot overflow, and events can be written for any of them. */
#define TS_DEC_MINUTE_MIN (-((int64_t)1 << 20))
#define TS_DEC_MINUTE_END ((int64_t)2932897 * 1440) /* 10000-01-01T00:00Z */
int64_t ts_dec_minute(ts_dec *d);
/* The slice points into the blob. */
ts_str ts_dec_str(ts_dec *d);
uint32_t ts_dec_value(ts_dec *d);
/* A count that must not exceed max (else the decoder fails): for lengths
 * of arrays about to be read. */
uint64_t ts_dec_count(ts_dec *d, uint64_t max);
/* 1 while nothing failed and, if at_end, the whole blob was read. */
int ts_dec_ok(const ts_dec *d, int at_end);
void ts_dec_free(ts_dec *d);

#endif
