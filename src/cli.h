/* cli.h - the command line's own modules, shared by main.c, cli_opts.c
 * (options), run.c (a backfill and the callbacks every run uses),
 * run_stream.c (a stream) and run_report.c (the counters and what is
 * written from them). Nothing below the command line includes it.
 *
 * A ts_cli_opts is what the options say (strings borrowed from argv); a
 * ts_run is one run's state: it owns the engine and the sinks (and the
 * report) and borrows the registry. These files read the wall clock
 * (elapsed time, progress, idle time) and install signal handlers; the
 * modules below them do neither.
 */
#ifndef TS_CLI_H
#define TS_CLI_H

#include <stdio.h>

#include "engine.h"
#include "profile.h"
#include "rules.h"
#include "fileid.h"
#include "folders.h"
#include "reader.h"
#include "record.h"
#include "report.h"
#include "rstream.h"
#include "s3.h"
#include "sqs.h"
#include "sink.h"
#include "source.h"
#include "source_mt.h"
#include "store.h"
#include "watch.h"

#define TS_VERSION "0.1.0"
#define TS_CLI_MAX_WARNINGS 20 /* skips and passed-over files named, each */
#define TS_CLI_MAX_OUTS 16

enum { TS_EXIT_OK = 0, TS_EXIT_USAGE = 1, TS_EXIT_STORE = 2, TS_EXIT_SKIPPED = 3 };

/* The commands ts_cli_parse reads the options of. */
enum ts_cli_mode { TS_CLI_BACKFILL = 0, TS_CLI_STREAM = 1, TS_CLI_DETECT = 2 };

extern const char ts_cli_usage[];
extern const char ts_cli_detect_usage[];

typedef struct ts_stream_cfg {
	const char *watch_dir;
	const char *redis_stream, *group, *consumer;
	int use_stdin;
	int idle_timeout;
	const char *metrics_file;
	int metrics_interval;
	const char *sqs_url;      /* --sqs QUEUE_URL */
	int sqs_visibility;       /* --sqs-visibility; 0: 300 */
	const char *endpoint_url; /* --endpoint-url: S3's, for the objects */
	int s3_connections;       /* --s3-connections; 0: the client's default */
} ts_stream_cfg;

typedef struct ts_cli_opts {
	const char *store_spec, *model, *models_dir, *stats_path, *report_dir, *spool_dir;
	const char *rules_path, *marked_out; /* --rules, --marked-out */
	ts_overrides overrides; /* the profile's override blocks (owned) */
	ts_rules *rules;        /* --rules (owned) */
	const char *outs[TS_CLI_MAX_OUTS];
	size_t nouts;
	size_t sink_queue, flush_cells;
	int alert_repost_s; /* --alert-repost; 0: the sink's default */
	int strict, quiet, threads;
	ts_registry_caps caps;
	ts_engine_opts eo;
	ts_reader_opts ro;
	ts_parser_opts po;
	ts_stream_cfg sc;
	char **paths; /* backfill: the PATH arguments */
	size_t npaths;
	int64_t since, until; /* detect: minutes [since, until); backfill of s3://: the key
				 days they meet; INT64_MIN / INT64_MAX: all */
	const char *endpoint_url; /* --endpoint-url (s3://) */
	int s3_connections;       /* --s3-connections; 0: the client's default */
	const char *s3_accounts, *s3_regions; /* --account, --region: comma lists (s3://) */
	const char *lease_group; /* --group of backfill or stream --watch: leases */
	int lease_ms;            /* --lease-ms */
} ts_cli_opts;

/* Parse the options of `backfill`, `stream` or `detect` (mode, enum
 * ts_cli_mode), argv[0] being the command. Loads the profile and the rules file. Returns -1 to
 * go on and run, or an exit status: TS_EXIT_OK after --help or --version
 * (printed to stdout), TS_EXIT_USAGE after a message on stderr. What it
 * loaded is released by ts_cli_opts_free, whatever it returned. */
int ts_cli_parse(int argc, char **argv, int mode, ts_cli_opts *o);
void ts_cli_opts_free(ts_cli_opts *o);
/* Where profiles named by NAME are: opt, $TRAILSIGHT_MODELS, models/ next
 * to the executable, or "models". Static storage. */
const char *ts_cli_models_dir(const char *opt);

/* --marked-out: the events of marked series, one line each, appended to a
 * file. A write error is reported once; the events still count under
 * their rule. Shared by backfill, stream and detect (run.c). */
typedef struct ts_marked_out {
	FILE *f;
	int failed; /* writing failed (reported once) */
} ts_marked_out;

/* Open path for appending into m. 0, or -1 with the error reported. */
int ts_marked_open(ts_marked_out *m, const char *path);
/* An engine emit_marked callback; ctx is the ts_marked_out. Returns 0. */
int ts_marked_emit(void *ctx, const char *json, size_t len);
/* Close m (nothing open: a no-op). 1 if any write failed, else 0. */
int ts_marked_close(ts_marked_out *m);

typedef struct ts_run {
	ts_engine *engine;
	ts_registry *reg;
	ts_source_stats src;
	int quiet;
	unsigned warnings;
	int fatal;
	int progress;
	double t0, last_progress;
	size_t files_total, files_done;
	uint64_t files_already; /* in the store's index: not read */
	int in_file;            /* the engine has a file open */
	ts_sinks *sinks;
	int stream;              /* stream mode: checkpoint as events come */
	double last_record, last_checkpoint;
	uint64_t since_checkpoint; /* records counted since the last checkpoint */
	int lateness;
	int late_warned;         /* stream: the lateness warning was given */
	uint64_t late_check;
	struct ts_stream_ctx *stream_ctx;
	ts_rstream *rstream;     /* --redis-stream: acknowledged after checkpoints */
	ts_report *report;       /* --report: every event, for the report */
	uint64_t passed_shown;   /* files passed over that were named */
	ts_watch *watch;         /* --watch: the watcher, for its memory */
	ts_marked_out marked;    /* --marked-out: events of marked series */
	struct ts_leases *leases; /* --group: this worker's leases (owned) */
	uint64_t lease_check;    /* records since the start, for renewals */
	struct ts_group_defer *defer; /* stream --watch --group: files waiting */
	ts_engine_stats prior;   /* --group backfill: the finished batch engines' sum */
	size_t group_parts, group_mine; /* partitions seen, of those finished here */
	const ts_file_id *cur_id; /* the id of the input beginning (s3://), else NULL */
	ts_s3_stats s3;          /* s3:// backfill, stream --sqs: the client's requests */
	int s3_used;
	struct ts_sqsrun *sqs;   /* stream --sqs: messages deleted after checkpoints */
	int sqs_used;
	ts_sqs_stats sqs_st;     /* stream --sqs: the queue client's requests */
	uint64_t sqs_deleted, sqs_left, sqs_empty; /* messages deleted; left (not
				    processed); naming nothing to read */
} ts_run;

/* Run what o says (stream or backfill) to the end. The exit status. */
int ts_cli_run(ts_cli_opts *o, int stream);

/* run_detect.c: `detect`, re-detection over a Redis store's counts (o
 * parsed in TS_CLI_DETECT mode). The exit status. */
int ts_cli_detect(ts_cli_opts *o);
/* One re-detection (detect, and a backfill whose files are all counted
 * already): a memory store, the view over it and redis, and an engine
 * with options eo (sorted) over the view, replaying redis's counts before
 * minute until and finished, its events to emit. d owns what it made
 * (ts_cli_redetect_free, also after a failure). 0 or an error code
 * (TS_ESTORE: d->view's errstr says why, when d->view was made). */
typedef struct ts_redetect {
	ts_store *mem, *view;
	ts_engine *engine;
	ts_engine_replay_stats rs;
} ts_redetect;
int ts_cli_redetect(ts_redetect *d, ts_store *redis, ts_registry *reg, const ts_engine_opts *eo,
		    int64_t until, ts_emit_fn emit, void *ctx);
void ts_cli_redetect_free(ts_redetect *d);

/* run.c: seconds on a monotonic clock; the source callbacks of a run
 * (ctx: the ts_run); the files a store has done taken out of a list (0,
 * TS_ESTORE or TS_ENOMEM). */
double ts_cli_now(void);
void ts_cli_progress_clear(ts_run *r);
int ts_cli_on_record(void *ctx, const ts_record *rec, const char *path, uint64_t off);
void ts_cli_on_skip(void *ctx, int code, const char *path, uint64_t off, const char *detail);
void ts_cli_on_passed(void *ctx, const char *path, const char *why);
void ts_cli_on_file_begin(void *ctx, const char *path);
void ts_cli_on_file_done(void *ctx, const char *path, const ts_source_stats *st);
int ts_cli_drop_done_files(ts_store *store, ts_pathlist *l, uint64_t *dropped);

/* run_group.c: a backfill by one worker of a group (--group; r->leases
 * made): the partitions of paths it can claim, read, finished and
 * released batch by batch, engines made with eo (its owns set here),
 * their events to emit. 0 or a fatal code (also in r->fatal). */
int ts_cli_backfill_group(ts_run *r, const ts_cli_opts *o, ts_store *store,
			  const ts_pathlist *paths, const ts_source_cb *cb,
			  const ts_engine_opts *eo, ts_emit_fn emit, void *ectx);
/* Renew r's leases when due (no-op without leases); a failure is fatal
 * (r->fatal, returned). */
int ts_cli_lease_tick(ts_run *r);
/* The partition a path names: .../ACCT/CloudTrail/REGION/... (ACCT twelve
 * digits; the last such part). 0 and the two (pointing into path), or -1. */
int ts_cli_path_partition(const char *path, ts_str *acct, ts_str *region);
/* stream --watch --group: the files waiting for partitions other workers
 * hold (run_group.c; owned by the ts_run, freed with
 * ts_cli_group_defer_free). ts_cli_group_file decides for one file of
 * the watched tree: *read_now 1 when this worker owns (or claims now)
 * its partition, else it waits (or is left to the partition's owner).
 * ts_cli_group_poll, every third of the lease time, claims partitions
 * whose lease lapsed and appends their waiting files not done for them
 * to ready. 0 or an error (TS_ESTORE, TS_ENOMEM). ts_cli_owns is the
 * engine's owns callback (ctx: the ts_leases). */
typedef struct ts_group_defer ts_group_defer;
int ts_cli_group_file(ts_run *r, const char *path, int *read_now);
int ts_cli_group_poll(ts_run *r, ts_store *store, ts_pathlist *ready);
void ts_cli_group_defer_free(ts_group_defer *g);
int ts_cli_owns(void *ctx, uint32_t pid);
/* acc += s, counter by counter (peaks: the larger). */
void ts_cli_stats_add(ts_engine_stats *acc, const ts_engine_stats *s);

/* run_s3.c: whether a PATH argument is s3://...; a backfill of o's s3://
 * PATH arguments through cb (the records to r's engine; finishing the
 * engine is the caller's). 0, or an exit status after a message on stderr
 * (r->fatal set when the run failed). */
int ts_cli_is_s3(const char *path);
/* The checkpoint name of an S3 object: its key from the last "AWSLogs/"
 * component on (the whole key without one), '#', the ETag. Allocated
 * (the caller frees it); NULL when out of memory. */
char *ts_cli_s3_name(const char *key, const char *etag);
int ts_cli_backfill_s3(ts_run *r, const ts_cli_opts *o, ts_store *store, const ts_source_cb *cb);

/* run_sqs.c: stream --sqs, the loop of receiving, reading and settling
 * batches of messages until a stop or a fatal error, tick(tick_ctx) (the
 * stream's housekeeping) after each batch; 0 or an exit status (r->fatal
 * set when the run failed). r->sqs is made here and freed by
 * ts_cli_sqs_free (after the last checkpoint). ts_cli_sqs_ack deletes the
 * messages whose objects the checkpoint just made has stored (a no-op
 * without r->sqs); a deletion that fails is warned about (the message
 * comes back and is passed over). 0. */
typedef struct ts_sqsrun ts_sqsrun;
int ts_cli_stream_sqs(ts_run *r, const ts_stream_cfg *sc, ts_store *store,
		      const ts_reader_opts *ro, const ts_parser_opts *po, int force,
		      int (*tick)(void *), void *tick_ctx);
int ts_cli_sqs_ack(ts_run *r);
void ts_cli_sqs_free(ts_sqsrun *x);

/* run_stream.c: run a stream until a signal, the end of stdin or a fatal
 * error; 0 or an exit status. A checkpoint that also acknowledges what a
 * Redis Stream gave. Whether SIGTERM or SIGINT came. */
int ts_cli_stream(ts_run *r, const ts_stream_cfg *sc, ts_store *store, const ts_reader_opts *ro,
		  const ts_parser_opts *po, int force);
int ts_cli_stream_checkpoint(ts_run *r);
int ts_cli_stopping(void);

/* run_report.c: every figure a run reports, gathered once, in one place,
 * so that --stats, the summary and the metrics file say the same. */
typedef struct ts_run_counters {
	ts_engine_stats es;
	uint64_t files, files_failed, files_ignored, files_already;
	uint64_t bytes_in, bytes_out;
	uint64_t records_read;   /* parsed: given to the engine, or refused
				    by it (TS_EFIELD, TS_ECAP) */
	uint64_t ignored_digests, ignored_control;
	uint64_t skipped;                    /* the sum of skipped_by */
	uint64_t skipped_by[TS_ERR_COUNT];   /* by reason, indexed by -code */
	uint32_t apis, series;
	uint64_t open_insights;  /* episodes open now */
	double secs;             /* elapsed */
	long rss_kb;             /* peak resident set */
} ts_run_counters;

void ts_run_counters_get(const ts_run *r, double secs, ts_run_counters *c);
void ts_run_write_stats(FILE *f, const ts_run *r, const ts_run_counters *c, const ts_store *store);
void ts_run_print_summary(const ts_run *r, const ts_run_counters *c, const ts_store *store);
/* Prometheus text, written to a temporary name and renamed into path. */
void ts_run_write_metrics(const char *path, const ts_run *r, const ts_store *store);

#endif
