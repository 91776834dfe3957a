/* reader.h - turns the bytes of one input (a file or stdin) into the JSON
 * texts of single CloudTrail records. No I/O: the caller pushes bytes in
 * with ts_reader_feed() and pulls records out with ts_reader_next(), in the
 * manner of hiredis' reply reader. zlib lives here and nowhere else.
 *
 * Accepted inputs, detected from the bytes:
 *   - gzip (magic 1f 8b), including several concatenated gzip members;
 *     the decompressed text is then read as below;
 *   - a CloudTrail log file: one object {"Records":[ {...}, {...} ]}
 *     (other keys beside "Records" are ignored); each element of the
 *     Records array that is an object is a record;
 *   - NDJSON or concatenated JSON: every top-level object that has no
 *     "Records" key is itself a record (blank lines and whitespace between
 *     objects are fine).
 *
 * Bad input never stops the reader by itself: each bad item is returned once
 * as a negative code from ts_reader_next() with its offset, and reading goes
 * on with the next item where that is possible (a corrupt deflate stream or
 * an inflate ratio over the cap cannot be resynchronised: the rest of that
 * input is then lost, and that is reported once).
 */
#ifndef TS_READER_H
#define TS_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct ts_reader ts_reader;

typedef struct ts_reader_opts {
	size_t max_record;   /* bytes of one record's JSON text; 0: 1 MiB */
	double max_ratio;    /* cap on decompressed/compressed bytes of a gzip
				input, checked once 1 MiB is out; 0: 1000 */
	uint64_t max_output; /* cap on decompressed bytes of one input; 0: none */
} ts_reader_opts;

/* One record, or the item a negative ts_reader_next() reports.
 * For a record, text/len is the record's JSON object, exactly as in the
 * input (not NUL-terminated), owned by the reader and valid until the next
 * call on it. offset is the byte offset of the item's first byte in the
 * decompressed text (for plain input, in the input itself). */
typedef struct ts_reader_item {
	const char *text;
	size_t len;
	uint64_t offset;
} ts_reader_item;

/* A new reader, or NULL when out of memory. opts may be NULL (defaults). */
ts_reader *ts_reader_new(const ts_reader_opts *opts);
/* Frees the reader and everything it owns; NULL is a no-op. */
void ts_reader_free(ts_reader *r);

/* Push the next len bytes of the raw input (compressed or not). The reader
 * keeps what it needs; buf is not used after return. Returns 0, TS_ENOMEM,
 * or TS_EINVAL after ts_reader_finish(). Errors in the data itself are not
 * returned here but by ts_reader_next(). Call ts_reader_next() until it
 * returns 0 between feeds: the reader buffers at most one record (plus one
 * fed chunk's decompressed output, bounded by the caps). */
int ts_reader_feed(ts_reader *r, const void *buf, size_t len);

/* Say that the input has ended. Afterwards ts_reader_next() drains what is
 * left and reports a truncated gzip member or an unfinished JSON value
 * (TS_ETRUNC) once. Returns 0. */
int ts_reader_finish(ts_reader *r);

/* Pull the next item.
 *   1          a record in *it;
 *   0          no more records until more is fed (or, after finish, ever);
 *   negative   a skipped item, reported once; *it has its offset (and len:
 *              its length where known, else 0), text is NULL. Call again to
 *              go on. Codes: TS_EJSON (malformed structure), TS_ETOOBIG
 *              (record over max_record; skipped whole), TS_EGZIP, TS_ERATIO,
 *              TS_ETRUNC, TS_ENOTLOG (the input is not JSON objects at all,
 *              e.g. a top-level array or plain text: reported once, rest of
 *              the input ignored), TS_EDEPTH, TS_ENOMEM.
 * A record's text is only split out here, not validated: that is the
 * record parser's job. */
int ts_reader_next(ts_reader *r, ts_reader_item *it);

/* Counters for the summary: raw bytes fed, decompressed bytes produced,
 * records returned. */
typedef struct ts_reader_stats {
	uint64_t in_bytes;
	uint64_t out_bytes;
	uint64_t records;
} ts_reader_stats;
void ts_reader_get_stats(const ts_reader *r, ts_reader_stats *st);

#endif
