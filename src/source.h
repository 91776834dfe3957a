/* source.h - reads one input (a file, or "-" for standard input) through
 * the reader and the record parser, calling back once per good record and
 * once per skipped item with the file and offset; the callbacks and the
 * counters every source of a run shares.
 *
 * An item the record parser finds no eventTime or eventSource in is given
 * to shape.h: a wrapper's record is parsed in its place, digests and
 * CloudWatch Logs control messages are counted as ignored.
 *
 * Which files of a folder are read is folders.h's; reading a list of
 * inputs on several threads is source_mt.h's.
 */
#ifndef TS_SOURCE_H
#define TS_SOURCE_H

#include <stdint.h>

#include "reader.h"
#include "record.h"

typedef struct ts_source_stats {
	uint64_t files;          /* inputs opened and read */
	uint64_t files_failed;   /* inputs that could not be opened or read */
	uint64_t files_ignored;  /* passed over in folders (digests, not JSON) */
	uint64_t ignored_digests; /* digest files read (given by path, piped) */
	uint64_t ignored_control; /* CloudWatch Logs control messages */
	uint64_t bytes_in;       /* raw bytes read */
	uint64_t bytes_out;      /* decompressed bytes */
	uint64_t records;        /* records parsed and handed on */
	uint64_t skipped;        /* items skipped, all reasons */
	uint64_t by_reason[TS_ERR_COUNT]; /* skipped, indexed by -code */
} ts_source_stats;

/* What a record callback asks of the source. */
enum ts_source_next { TS_SOURCE_GO_ON = 0, TS_SOURCE_STOP = 1 };

typedef struct ts_source_cb {
	/* A good record. Return TS_SOURCE_GO_ON, a negative skip code (e.g.
	 * TS_EFIELD) to have it counted and reported as skipped, or
	 * TS_SOURCE_STOP to stop the whole run (the callback keeps its own
	 * reason). */
	int (*record)(void *ctx, const ts_record *rec, const char *path, uint64_t offset);
	/* A skipped item (after counting); may be NULL. detail may be "". */
	void (*skip)(void *ctx, int code, const char *path, uint64_t offset, const char *detail);
	/* After each input; may be NULL. */
	void (*file_done)(void *ctx, const char *path, const ts_source_stats *st);
	void *ctx;
	/* Before the first record of an input that could be opened; may be
	 * NULL. Every input given to file_begin then gets file_done. */
	void (*file_begin)(void *ctx, const char *path);
	/* See ts_source_read; may be NULL. */
	int (*idle)(void *ctx);
	int idle_ms;
	/* A folder or file the walk passes over, and why; may be NULL. */
	void (*passed)(void *ctx, const char *path, const char *why);
} ts_source_cb;

/* Count a skipped item in st (skipped, and by_reason for a code of the
 * list) and hand it to cb->skip when there is one; detail NULL is "". */
void ts_source_count_skip(const ts_source_cb *cb, ts_source_stats *st, int code, const char *path,
			  uint64_t offset, const char *detail);

/* Read one input ("-": stdin). Returns 0 (bad content is counted and
 * skipped, not an error), TS_SOURCE_STOP if the record callback asked to
 * stop, or TS_ENOMEM. With cb->idle set, a read that would wait more than
 * idle_ms first calls it (a pipe gone quiet), and again each idle_ms; a
 * non-zero return stops the read like the record callback's
 * TS_SOURCE_STOP. */
int ts_source_read(const char *path, const ts_reader_opts *ropts, const ts_parser_opts *popts,
		   ts_source_stats *st, const ts_source_cb *cb);

/* An input pushed in pieces by its caller (an object fetched over the
 * network), read through the same reader, record parser and callbacks as
 * a file, without a file: begin, bytes any number of times, end. An input
 * is held whole up to 64 MiB and then read as a regular file is (gzip
 * decoded in one call), else streamed (and always with stream_only), so
 * the records, skips and offsets are those of the same bytes in a file.
 * One push serves one input at a time and is reused from input to input;
 * _free(NULL) is a no-op. */
typedef struct ts_source_push ts_source_push;

/* NULL when out of memory. ropts and popts may be NULL; they are copied. */
ts_source_push *ts_source_push_new(const ts_reader_opts *ropts, const ts_parser_opts *popts);
void ts_source_push_free(ts_source_push *p);
/* Start an input named name (copied; the callbacks get it as their path),
 * counted into st, its records and skips to cb (both borrowed until
 * ts_source_push_end). Calls cb->file_begin. 0 or TS_ENOMEM. */
int ts_source_push_begin(ts_source_push *p, const char *name, ts_source_stats *st,
			 const ts_source_cb *cb);
/* Bytes of the input, in order. 0, TS_SOURCE_STOP (the record callback
 * asked to stop; push nothing more but end) or TS_ENOMEM. */
int ts_source_push_bytes(ts_source_push *p, const void *buf, size_t n);
/* The input is over: whole (failed NULL), or cut short by a failure
 * (failed says what; it is counted as files_failed and skipped as
 * TS_EIO, and what came before still counts). Drains the reader, calls
 * cb->file_done. 0, TS_SOURCE_STOP or TS_ENOMEM. */
int ts_source_push_end(ts_source_push *p, const char *failed);

#endif
