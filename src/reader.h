/* reader.h - turns the bytes of one input (a file or stdin) into the JSON
 * texts of single CloudTrail records. No I/O: the caller pushes bytes in
 * with ts_reader_feed() and pulls records out with ts_reader_next(), in the
 * manner of hiredis' reply reader. zlib lives here and nowhere else.
 *
 * Accepted inputs, detected from the bytes (opts.format may restrict them,
 * see TS_FMT_*):
 *   - gzip (magic 1f 8b), including several concatenated gzip members;
 *     the decompressed text is then read as below;
 *   - a container: an object with a root key "Records" (a CloudTrail log
 *     file), "Events" (aws cloudtrail lookup-events) or "logEvents" (a
 *     CloudWatch Logs subscription message) whose value is an array (other
 *     keys beside it are ignored); each element of that array that is an
 *     object is an item;
 *   - a top-level array: each element that is an object is an item (one
 *     array per line is fine too);
 *   - NDJSON or concatenated JSON: every other top-level object is itself
 *     an item (blank lines, whitespace and UTF-8 byte order marks between
 *     values are fine).
 * An item is a record or a wrapper of one (shape.h unwraps those).
 * UTF-16 text (a BOM, or a NUL beside an ASCII byte in the first two) is
 * reported once as TS_EUTF16 and the rest ignored.
 *
 * Bad input never stops the reader by itself: each bad item is returned once
 * as a negative code from ts_reader_next() with its offset, and reading goes
 * on with the next item where that is possible (a corrupt deflate stream or
 * an inflate ratio over the cap cannot be resynchronised: the rest of that
 * input is then lost, and that is reported once).
 *
 * How it resynchronises (the reader finds boundaries; it does not parse):
 *   - a Records element that lost a '}' is noticed at the next element's
 *     "},{" (a '{' where a key belongs): TS_EJSON for the broken element,
 *     and that '{' starts the next record; in the last element it is
 *     noticed at the ']' that closes Records;
 *   - a mismatched closer inside a record closes up to its opener and the
 *     record is TS_EJSON; stray closers and other garbage between elements
 *     are one TS_EJSON per run, where first noticed; a '{' after garbage
 *     still starts the next record;
 *   - NDJSON: a line that lost a closer ends at a '{' in column 0 where a
 *     key belongs; after garbage at top level the reader skips to the next
 *     line that starts with '{' or '[' (in column 0); garbage before the
 *     first value is reported once, as TS_EJSON with its length when such
 *     a line comes, or as TS_ENOTLOG at the end when none does;
 *   - "Records" makes a log file only as a key of a top-level object whose
 *     value is an array; a "Records" key with another value is an ordinary
 *     key of a record. Elements of Records that are not objects are skipped;
 *   - nesting deeper than 1024 is TS_EDEPTH for the item, skipped whole
 *     (the record parser's own depth cap is normally much lower).
 */
#ifndef TS_READER_H
#define TS_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct ts_reader ts_reader;

/* What the input is, when the user says so (--format); TS_FMT_AUTO: from
 * the content. A forced format turns off the containers of the others. */
enum {
	TS_FMT_AUTO,        /* every shape below */
	TS_FMT_RECORDS,     /* {"Records":[...]} log files; a top-level object
			       without Records is a record */
	TS_FMT_NDJSON,      /* records one after another, no container */
	TS_FMT_ARRAY,       /* [record, ...], also one array per line */
	TS_FMT_LOOKUP,      /* aws cloudtrail lookup-events: {"Events":[...]}
			       or one event per line */
	TS_FMT_EVENTBRIDGE, /* EventBridge events, the record under "detail" */
	TS_FMT_CWLOGS,      /* CloudWatch Logs subscription messages */
	TS_FMT_COUNT
};

typedef struct ts_reader_opts {
	size_t max_record;   /* bytes of one record's JSON text; 0: 1 MiB */
	double max_ratio;    /* cap on decompressed/compressed bytes of a gzip
				input, checked at every 256 KiB of output once
				1 MiB is out; 0: 1000 */
	uint64_t max_output; /* cap on decompressed bytes of one input; 0: none */
	int stream_only;     /* for source.c: read every input through the
				streaming path (zlib), never whole (gunzip.h) */
	int format;          /* TS_FMT_*; 0: auto */
} ts_reader_opts;

/* A record's end found by the caller's record parser in the same pass as
 * its fields, instead of by the reader's own scan. At each '{' that starts
 * an element of a records array where one may start, the reader calls
 * span(ctx, s, avail) with the text from that '{' (avail bytes of it,
 * at most max_record). The answer is the length of the one well-formed
 * JSON object that starts at s, or 0 when the parser cannot vouch for one
 * there (the reader then finds the end as it always does). A reader
 * without one (the default) does all the splitting itself. */
typedef size_t (*ts_reader_span_fn)(void *ctx, const char *s, size_t avail);

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

/* Give a new reader (nothing fed yet) the whole decompressed text of an
 * input at once, e.g. a gzip file the caller decoded with ts_gunzip_all().
 * The reader scans text in place, without a copy: it must stay unchanged
 * and valid until the reader is freed. The input counts as finished, and
 * the items ts_reader_next() returns are those that feeding the original
 * input and finishing would give (the text is never taken for gzip, even
 * when it starts with the gzip magic). in_bytes is the size of the
 * original input, for the stats and the ratio cap.
 * Returns 0; TS_ECAP when len is over max_output, or TS_ERATIO when the
 * text is 1 MiB or more and over max_ratio times in_bytes (the caller
 * then feeds the original input, and the streaming path reports where it
 * went over); TS_EINVAL when something was fed before. On error the
 * reader is unchanged. */
int ts_reader_set_text(ts_reader *r, const char *text, size_t len, uint64_t in_bytes);

/* Install (fn not NULL) or remove the span callback above. */
void ts_reader_set_span(ts_reader *r, ts_reader_span_fn fn, void *ctx);

/* Say that the input has ended. Afterwards ts_reader_next() drains what is
 * left and reports a truncated gzip member or an unfinished JSON value
 * (TS_ETRUNC) once. Returns 0 (an allocation failure here is reported by
 * ts_reader_next()). */
int ts_reader_finish(ts_reader *r);

/* Pull the next item.
 *   1          a record in *it;
 *   0          no more records until more is fed (or, after finish, ever);
 *   negative   a skipped item, reported once; *it has its offset (and len:
 *              its length where known, else 0), text is NULL. Call again to
 *              go on. Codes: TS_EJSON (malformed structure), TS_ETOOBIG
 *              (record over max_record; skipped whole), TS_EGZIP, TS_ERATIO,
 *              TS_ETRUNC, TS_ENOTLOG (the input holds no JSON value at the
 *              start of a line: plain text; reported once, at the end),
 *              TS_EUTF16, TS_EDEPTH, TS_ECAP (more text than max_output:
 *              the rest is ignored), TS_ENOMEM.
 * Offsets: a record or a skipped record has the offset of its '{'; garbage
 * the offset where it was noticed; TS_EGZIP, TS_ERATIO, TS_ECAP the amount
 * of text produced before it; TS_ETRUNC the unfinished record, or the end
 * of the text. Offsets never decrease, and the items do not depend on how
 * the input was cut into feeds.
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
