/* source.h - finds the input files of a run and reads each one through
 * the reader and the record parser, calling back once per good record and
 * once per skipped item with the file and offset.
 *
 * A folder is walked recursively in name order (so the S3 layout
 * AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/ is read in time order per
 * region); CloudTrail-Digest and CloudTrail-Insight folders and digest
 * files are passed over. Other regular files that are not hidden are read
 * when their names say so (*.json, *.json.gz, *.jsonl, *.ndjson, optionally
 * .gz) or, whatever their names (Firehose objects, .log, .JSON), when
 * their first bytes look like JSON text (ts_sniff_json); the rest is
 * passed over. Everything passed over is counted and named through
 * cb->passed. A path named on the command line is read whatever its name.
 * "-" is standard input.
 *
 * An item the record parser finds no eventTime or eventSource in is given
 * to shape.h: a wrapper's record is parsed in its place, digests and
 * CloudWatch Logs control messages are counted as ignored.
 */
#ifndef TS_SOURCE_H
#define TS_SOURCE_H

#include <stdint.h>

#include "fileid.h"
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

typedef struct ts_pathlist {
	char **paths;
	size_t n, alloc;
} ts_pathlist;

/* Expand the arguments into the files to read, in order. Unreadable
 * folders and missing paths are reported through cb->skip with TS_EIO and
 * counted as failed. Returns 0 or TS_ENOMEM. */
int ts_source_collect(char *const *args, size_t nargs, ts_pathlist *out, ts_source_stats *st,
		      const ts_source_cb *cb);
/* The names in folder dir, hidden ones (".x") left out, sorted, appended
 * to names. 0, TS_EIO (cannot open it; errno says why) or TS_ENOMEM. */
int ts_source_list_dir(const char *dir, ts_pathlist *names);
/* Append a copy of path to l (a list of owned strings). 0 or TS_ENOMEM. */
int ts_pathlist_push(ts_pathlist *l, const char *path);
void ts_pathlist_free(ts_pathlist *l);

/* Read one input ("-": stdin). Returns 0 (bad content is counted and
 * skipped, not an error), TS_SOURCE_STOP if the record callback asked to
 * stop, or TS_ENOMEM. With cb->idle set, a read that would wait more than
 * idle_ms first calls it (a pipe gone quiet), and again each idle_ms; a
 * non-zero return stops the read like the record callback's
 * TS_SOURCE_STOP. */
int ts_source_read(const char *path, const ts_reader_opts *ropts, const ts_parser_opts *popts,
		   ts_source_stats *st, const ts_source_cb *cb);

/* Read every input of the list in order, with nthreads worker threads
 * reading and parsing files ahead (nthreads <= 1: inline, no threads).
 * Callbacks always run on the calling thread, in file order, so results do
 * not depend on nthreads. At most 2 * nthreads parsed files wait in memory.
 * A list of one input with nthreads > 1 is read on two threads: one reads,
 * inflates and parses it in batches of records, the calling thread takes
 * each batch as it is done (at most 3 wait).
 * Returns 0, TS_SOURCE_STOP if the record callback asked to stop, or
 * TS_ENOMEM. */
int ts_source_read_all(const ts_pathlist *l, int nthreads, const ts_reader_opts *ropts,
		       const ts_parser_opts *popts, ts_source_stats *st, const ts_source_cb *cb);

/* 1 if a file of this name (no folder part) is read from folders without
 * a look at its content: a log suffix, not hidden, not a digest or insight
 * file. */
int ts_source_is_log_name(const char *name);

/* The checkpoint name of a file: the part of its real path from the last
 * "AWSLogs/" component on, or the whole real path when there is none;
 * into name[cap]. With its size and mtime into *out (out->name = name).
 * 0, or TS_EIO when the file cannot be resolved or stat'ed. */
int ts_source_file_id(const char *path, char *name, size_t cap, ts_file_id *out);

#endif
