/* main.c - the trailsight command line: parses options, opens the store,
 * runs the source -> engine pipeline, prints insights to stdout and the
 * summary to stderr, writes --stats. The only file that reads the wall
 * clock (for elapsed time and progress) and that exits.
 */
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "engine.h"
#include "order.h"
#include "insight.h"
#include "overflow.h"
#include "report.h"
#include "report_cli.h"
#include "sink.h"
#include "rstream.h"
#include "source.h"
#include "watch.h"
#include "store.h"
#include "util.h"

#define TS_VERSION "0.1.0"
#define MAX_WARNINGS 20

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_STORE = 2, EXIT_SKIPPED = 3 };

static const char usage_text[] =
	"usage: trailsight backfill [options] PATH...\n"
	"       trailsight stream (--watch DIR | --stdin | --redis-stream URL#KEY) [options]\n"
	"       trailsight report --store redis://... --events FILE [options] DIR\n"
	"\n"
	"Reads CloudTrail logs, counts API calls and errors per minute for every\n"
	"eventSource/eventName, learns each API's normal rate, and writes\n"
	"CloudTrail Insights events (ApiCallRateInsight, ApiErrorRateInsight; a\n"
	"Start when unusual activity begins, an End when it stops) to stdout, one\n"
	"JSON object per line, in CloudTrail's own format.\n"
	"\n"
	"backfill reads PATH: a log file, gzipped or not, in any shape CloudTrail\n"
	"records come in ({\"Records\":[...]}, NDJSON, a JSON array, lookup-events\n"
	"output, EventBridge events, CloudWatch Logs subscription messages), a\n"
	"folder (walked recursively, e.g. an S3 sync of AWSLogs/<acct>/CloudTrail/...;\n"
	"files are read by content, whatever their names), or - for standard input;\n"
	"it writes its events sorted by time at the end.\n"
	"\n"
	"stream runs until SIGTERM or SIGINT (it then checkpoints and exits 0),\n"
	"writing each event as soon as the checkpoint that made it is stored:\n"
	"  --watch DIR             read the log files under DIR, then every file that\n"
	"                          appears (renamed into place or closed after writing)\n"
	"  --stdin                 read NDJSON records from standard input\n"
	"  --redis-stream URL#KEY  read records (field \"record\") from a Redis Stream\n"
	"                          through a consumer group, acknowledged once counted\n"
	"                          and checkpointed; --group NAME (trailsight),\n"
	"                          --consumer NAME (the host name)\n"
	"  --idle-timeout SEC      with no record for SEC seconds, close the open\n"
	"                          minutes, then advance one minute per minute of\n"
	"                          silence (default 60)\n"
	"  --metrics-file PATH     write Prometheus text metrics to PATH (atomically)\n"
	"  --metrics-interval SEC  how often (default 5)\n"
	"\n"
	"options:\n"
	"  --store SPEC            mem (default) or redis://[user:pass@]host:port[/db]\n"
	"  --model NAME|PATH       sensitivity profile (default: default), see models/\n"
	"  --models-dir DIR        where profiles by NAME are found\n"
	"  --out SINK              where insights go (repeatable; default -):\n"
	"                            -                      NDJSON on stdout\n"
	"                            dir:PATH               CloudTrail-Insight files (S3 layout)\n"
	"                            redis-stream:URL#KEY   XADD to a Redis Stream\n"
	"                            webhook:URL            HTTP POST per event, spooled on failure\n"
	"  --spool-dir DIR         where webhook events wait for a retry\n"
	"                          (default $STATE_DIRECTORY or ~/.local/state/trailsight/spool)\n"
	"  --sink-queue N          events a sink holds in memory while its destination or\n"
	"                          its disk fails (default 10000; past it they are dropped)\n"
	"  --stats FILE            write a JSON summary of the run to FILE\n"
	"  --lateness MIN          minutes a record may arrive after newer ones (0-112, default 20)\n"
	"  --order MODE            backfill: auto (default): records held until they prove\n"
	"                          to be in time order; any: all held, then put in time\n"
	"                          order (memory: 40 bytes a count); time: as they come\n"
	"  --future-minutes MIN    skip as future_time a record more than MIN minutes ahead\n"
	"                          of every other of its partition (default 60; 0: off)\n"
	"  --include-read-only     count read-only calls in the call rate too\n"
	"  --include-data-events   count data events, as their own series\n"
	"  --max-record BYTES      largest record accepted (default 1048576)\n"
	"  --format SHAPE          read every input as this shape only: records, ndjson,\n"
	"                          array, lookup-events, eventbridge, cwlogs (default\n"
	"                          auto: each input by its content)\n"
	"  --inflate MODE          fast (default): gzip files up to 64 MiB decoded whole\n"
	"                          with libdeflate; zlib: every input streamed through\n"
	"                          zlib. Both give the same records, skips and offsets\n"
	"  --force                 read files the store has as already counted, and count\n"
	"                          them again\n"
	"  --max-series N          series (APIs) in all (default 4000000); records of\n"
	"                          new series past a cap are counted as overflow by\n"
	"                          account, Region and eventSource, never in a series\n"
	"  --max-series-per-partition N  series per account and Region (default 5000)\n"
	"  --max-error-codes N     errorCodes per series (default 50)\n"
	"  --max-attr-values N     attribution values per series, kind and hour\n"
	"                          (default 1000)\n"
	"  --checkpoint-cells N    Redis store: checkpoint (write counts, state and files\n"
	"                          done) once N counts are buffered (default 500000;\n"
	"                          stream also checkpoints each second it has news)\n"
	"  --threads N             backfill: files read and parsed in parallel (default:\n"
	"                          the number of cores); results do not depend on it\n"
	"  --report DIR            backfill: write a static HTML report of the run's\n"
	"                          insights into DIR at the end (trailsight report -h)\n"
	"  --strict                exit 3 if any input was skipped (ignored ones, such as\n"
	"                          insight events and digests, are not skips)\n"
	"  --no-trailsight-context leave out insightDetails.trailsightContext\n"
	"  -q, --quiet             no summary, no warnings\n"
	"  -v, --verbose           more messages\n"
	"  -h, --help              this text\n"
	"  --version               the version\n"
	"\n"
	"Insights go to stdout; progress (on a terminal), warnings and the summary to\n"
	"stderr. Exit status: 0 done, 1 bad usage or configuration, 2 the store or\n"
	"the run failed, 3 inputs were skipped under --strict.\n";

typedef struct run {
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
	struct stream_ctx *stream_ctx;
	ts_rstream *rstream;     /* --redis-stream: acknowledged after checkpoints */
	ts_report *report;       /* --report: every event, for the report */
	uint64_t passed_shown;   /* files passed over that were named */
} run;

static volatile sig_atomic_t stop_flag;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_clear(run *r)
{
	if (r->progress && r->last_progress > 0)
		fprintf(stderr, "\r\033[K");
}

static int stream_checkpoint(run *r);

/* --report: the sinks get each event, and so does the report */
static int tee_emit(void *ctx, const char *json, size_t len)
{
	run *r = ctx;
	int rc = ts_sinks_emit_fn(r->sinks, json, len);
	return rc ? rc : ts_report_emit(r->report, json, len);
}

static void on_skip(void *ctx, int code, const char *path, uint64_t off, const char *detail);

/* stream: once, when most records come later than the lateness */
static void warn_if_late(run *r)
{
	uint64_t counted, late;
	ts_engine_late(r->engine, &counted, &late);
	if (counted < 1024 || late * 2 < counted)
		return;
	r->late_warned = 1;
	if (r->quiet)
		return;
	progress_clear(r);
	ts_warn("%llu of %llu records came more than --lateness %d minutes behind newer ones "
		"and were counted but not judged: stream expects records in time order. For "
		"exported, newest-first or shuffled files use 'trailsight backfill' (any order)",
		(unsigned long long)late, (unsigned long long)counted, r->lateness);
}

static int on_record(void *ctx, const ts_record *rec, const char *path, uint64_t off)
{
	run *r = ctx;
	ts_engine_set_origin(r->engine, path, off);
	int rc = ts_engine_add(r->engine, rec);
	if (r->stream && (rc == 0 || rc == 1) && !r->late_warned && ++r->late_check % 1024 == 0)
		warn_if_late(r);
	if (r->stream && (rc == 0 || rc == 1)) {
		r->since_checkpoint++;
		/* stdin has no file boundaries: any record boundary will do */
		if (strcmp(path, "-") == 0 && (ts_engine_pending_events(r->engine) ||
					       (r->since_checkpoint % 256 == 0 &&
						now() - r->last_checkpoint >= 1.0)))
			rc = stream_checkpoint(r);
		if (!rc && stop_flag)
			return 1;
	}
	if (rc == 0 || rc == 1)
		return 0;
	if (rc == TS_EFIELD || rc == TS_ECAP || rc == TS_EFUTURE)
		return rc;
	r->fatal = rc;
	return 1;
}

static int64_t ts_wall_seconds(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

/* "eventTime YYYY-MM-DDTHH:MM:SSZ is more than N minutes ahead of ..." */
static void ts_fmt_future(char *buf, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char when[32] = "?";
	if (gmtime_r(&tt, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(buf, n, "eventTime %s, alone ahead of every other record of its partition", when);
}

/* A backfill's record skipped as future_time at finish: counted and
 * reported as the source reports its skips. */
static void on_future(void *ctx, const char *path, uint64_t off, int64_t t)
{
	run *r = ctx;
	char detail[96];
	ts_fmt_future(detail, sizeof detail, t);
	r->src.skipped++;
	r->src.by_reason[-TS_EFUTURE]++;
	on_skip(r, TS_EFUTURE, path, off, detail);
}

static void on_skip(void *ctx, int code, const char *path, uint64_t off, const char *detail)
{
	run *r = ctx;
	if (r->quiet)
		return;
	r->warnings++;
	if (r->warnings > MAX_WARNINGS)
		return;
	progress_clear(r);
	const char *what = code == TS_EFIELD && !*detail ? "no recipientAccountId or awsRegion"
							 : detail;
	if (code == TS_EIO)
		ts_warn("cannot read '%s': %s", path, detail);
	else
		ts_warn("'%s': offset %llu: %s%s%s, skipped", path, (unsigned long long)off,
			ts_strerror(code), *what ? ": " : "", what);
	if (r->warnings == MAX_WARNINGS)
		ts_warn("further skips are counted in the summary but not shown");
}

/* A file or folder the walk passes over: named, up to a cap. */
static void on_passed(void *ctx, const char *path, const char *why)
{
	run *r = ctx;
	if (r->quiet)
		return;
	if (r->passed_shown < MAX_WARNINGS)
		ts_warn("'%s': passed over (%s)", path, why);
	else if (r->passed_shown == MAX_WARNINGS)
		ts_warn("further files passed over are counted in the summary but not named");
	r->passed_shown++;
}

static void on_file_begin(void *ctx, const char *path)
{
	run *r = ctx;
	char name[4096];
	ts_file_id id;
	if (r->fatal || strcmp(path, "-") == 0 || ts_source_file_id(path, name, sizeof name, &id))
		return; /* read without a checkpoint */
	int rc = ts_engine_file_begin(r->engine, &id);
	if (rc)
		r->fatal = rc;
	else
		r->in_file = 1;
}

static void on_file_done(void *ctx, const char *path, const ts_source_stats *st)
{
	run *r = ctx;
	(void)path;
	if (r->in_file) {
		r->in_file = 0;
		int rc = ts_engine_file_end(r->engine);
		if (rc && !r->fatal)
			r->fatal = rc;
	}
	r->files_done++;
	if (!r->progress)
		return;
	double t = now();
	if (t - r->last_progress < 0.5 && r->files_done != r->files_total)
		return;
	r->last_progress = t;
	double secs = t - r->t0;
	fprintf(stderr, "\r\033[Ktrailsight: %zu/%zu files, %llu records, %.0f MB/s", r->files_done,
		r->files_total, (unsigned long long)st->records,
		secs > 0 ? (double)st->bytes_out / 1e6 / secs : 0.0);
}


static double clock_cb(void *ctx)
{
	(void)ctx;
	return now();
}

static const char *find_models_dir(const char *opt)
{
	static char buf[PATH_MAX];
	if (opt)
		return opt;
	const char *env = getenv("TRAILSIGHT_MODELS");
	if (env && *env)
		return env;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		static const char *rel[] = {"/../models", "/../../models", "/../share/trailsight/models"};
		for (size_t i = 0; i < TS_ARRAY_LEN(rel); i++) {
			snprintf(buf, sizeof buf, "%s%s", exe, rel[i]);
			if (access(buf, R_OK) == 0)
				return buf;
		}
	}
	return "models";
}

#define OVERFLOW_TOP 20

/* The overflow rows with the most records, as a JSON array. */
static void write_overflow_json(FILE *f, const run *r)
{
	const ts_overflow *o = ts_engine_overflow(r->engine);
	ts_overflow_row *rows;
	uint32_t n;
	fprintf(f, "\"overflow\":{\"series_records\":%llu,\"error_code_records\":%llu,\"rows\":%u,\"top\":[",
		(unsigned long long)ts_overflow_total(o, TS_OV_SERIES),
		(unsigned long long)ts_overflow_total(o, TS_OV_CODE), ts_overflow_rows(o));
	if (ts_overflow_top(o, OVERFLOW_TOP, &rows, &n) == 0) {
		ts_buf b = {0};
		for (uint32_t i = 0; i < n; i++) {
			ts_partition *p = ts_registry_get_partition(r->reg, rows[i].partition);
			ts_buf_reset(&b);
			if (ts_json_string(&b, p->account) || ts_buf_add(&b, ",\"region\":", 10) ||
			    ts_json_string(&b, p->region) || ts_buf_add(&b, ",\"eventSource\":", 15) ||
			    ts_json_string(&b, rows[i].source))
				break;
			fprintf(f, "%s{\"account\":%.*s,\"series_records\":%llu,\"error_code_records\":%llu}",
				i ? "," : "", (int)b.len, b.p, (unsigned long long)rows[i].count[TS_OV_SERIES],
				(unsigned long long)rows[i].count[TS_OV_CODE]);
		}
		ts_buf_free(&b);
		free(rows);
	}
	fprintf(f, "]},");
}

/* The overflow in the summary: the total and the largest sources. */
static void print_overflow(const run *r, const ts_engine_stats *es)
{
	if (!es->overflow_series && !es->overflow_codes && !es->attr_dropped)
		return;
	const ts_overflow *o = ts_engine_overflow(r->engine);
	fprintf(stderr,
		"trailsight: overflow: %llu records of new series past the series caps, %llu errors of "
		"codes past the per-series cap, %llu attribution values dropped; series already "
		"counted are unaffected\n",
		(unsigned long long)es->overflow_series, (unsigned long long)es->overflow_codes,
		(unsigned long long)es->attr_dropped);
	ts_overflow_row *rows;
	uint32_t n;
	if (ts_overflow_top(o, 5, &rows, &n))
		return;
	for (uint32_t i = 0; i < n; i++) {
		ts_partition *p = ts_registry_get_partition(r->reg, rows[i].partition);
		fprintf(stderr, "trailsight:   %.*s %.*s %.*s%s: %llu records\n", (int)p->account.n,
			p->account.p, (int)p->region.n, p->region.p,
			(int)(rows[i].source.n > 100 ? 100 : rows[i].source.n), rows[i].source.p,
			rows[i].source.n ? "" : "(other sources)",
			(unsigned long long)(rows[i].count[0] + rows[i].count[1]));
	}
	free(rows);
}

static void write_stats_json(FILE *f, const run *r, const ts_engine_stats *es, double secs,
			     long rss_kb, uint32_t apis, uint32_t metrics, const ts_store *store)
{
	const ts_source_stats *s = &r->src;
	fprintf(f, "{\"files\":%llu,\"files_failed\":%llu,\"files_ignored\":%llu,",
		(unsigned long long)s->files, (unsigned long long)s->files_failed,
		(unsigned long long)s->files_ignored);
	fprintf(f, "\"bytes_read\":%llu,\"bytes_inflated\":%llu,", (unsigned long long)s->bytes_in,
		(unsigned long long)s->bytes_out);
	fprintf(f, "\"records_read\":%llu,\"records_counted\":%llu,\"records_late\":%llu,",
		(unsigned long long)(s->records + es->skipped_fields + es->skipped_cap),
		(unsigned long long)es->counted, (unsigned long long)es->late);
	fprintf(f, "\"records_ignored\":{\"data_events\":%llu,\"insight_events\":%llu,\"other_category\":%llu,\"digests\":%llu,\"control_messages\":%llu},",
		(unsigned long long)es->ignored_data, (unsigned long long)es->ignored_insight,
		(unsigned long long)es->ignored_category, (unsigned long long)s->ignored_digests,
		(unsigned long long)s->ignored_control);
	fprintf(f, "\"skipped\":%llu,\"skipped_by_reason\":{", (unsigned long long)s->skipped);
	int first = 1;
	for (int i = 1; i < TS_ERR_COUNT; i++) {
		if (!s->by_reason[i])
			continue;
		fprintf(f, "%s\"%s\":%llu", first ? "" : ",", ts_errname(-i),
			(unsigned long long)s->by_reason[i]);
		first = 0;
	}
	fprintf(f, "},\"apis\":%u,\"series\":%u,\"minutes_closed\":%llu,\"cells_written\":%llu,\"attribution_cells_written\":%llu,",
		apis, metrics, (unsigned long long)es->minutes_closed, (unsigned long long)es->cells,
		(unsigned long long)es->attr_cells);
	fprintf(f, "\"files_already_counted\":%llu,\"records_already_counted\":%llu,\"partitions_restored\":%llu,\"checkpoints\":%llu,",
		(unsigned long long)r->files_already, (unsigned long long)es->already_counted,
		(unsigned long long)es->restored, (unsigned long long)es->checkpoints);
	fprintf(f, "\"attribution_values_dropped\":%llu,", (unsigned long long)es->attr_dropped);
	fprintf(f, "\"order\":{\"held_peak\":%llu,\"held_bytes\":%llu,\"out_of_order\":%s,\"hold_capped\":%s},",
		(unsigned long long)es->held_peak, (unsigned long long)es->held_bytes,
		es->reordered ? "true" : "false", es->hold_capped ? "true" : "false");
	write_overflow_json(f, r);
	fprintf(f, "\"sinks\":[");
	for (size_t i = 0; i < ts_sinks_count(r->sinks); i++) {
		ts_sink *sk = ts_sinks_get(r->sinks, i);
		ts_sink_stats ss;
		ts_sink_get_stats(sk, &ss);
		fprintf(f, "%s{\"kind\":\"%s\",\"events\":%llu,\"delivered\":%llu,\"failed\":%llu,\"spooled\":%llu,\"dropped\":%llu,\"pending\":%llu}",
			i ? "," : "", ts_sink_kind(sk), (unsigned long long)ss.events,
			(unsigned long long)ss.delivered, (unsigned long long)ss.failed,
			(unsigned long long)ss.spooled, (unsigned long long)ss.dropped,
			(unsigned long long)ss.pending);
	}
	fprintf(f, "],");
	fprintf(f, "\"store\":{\"backend\":\"%s\",\"round_trips\":%llu,\"reconnects\":%llu},",
		store->ops->name, (unsigned long long)store->round_trips,
		(unsigned long long)store->reconnects);
	fprintf(f, "\"insights\":{\"start\":%llu,\"end\":%llu,\"open_at_end\":%llu},",
		(unsigned long long)es->starts, (unsigned long long)es->ends,
		(unsigned long long)es->open_at_end);
	if (es->latency_n)
		fprintf(f, "\"start_latency_seconds\":{\"n\":%llu,\"median\":%.3f,\"p90\":%.3f,"
			   "\"p99\":%.3f,\"max\":%.3f},",
			(unsigned long long)es->latency_n, es->latency_median, es->latency_p90,
			es->latency_p99, es->latency_max);
	fprintf(f, "\"elapsed_seconds\":%.3f,\"records_per_second\":%.0f,\"peak_rss_kb\":%ld}\n", secs,
		secs > 0 ? (double)es->counted / secs : 0.0, rss_kb);
}

static void print_summary(const run *r, const ts_store *store, const ts_engine_stats *es,
			  double secs, uint32_t apis,
			  uint32_t metrics)
{
	const ts_source_stats *s = &r->src;
	fprintf(stderr,
		"trailsight: read %llu files (%.1f MB, %.1f MB inflated), %llu records counted in %.2f s (%.0f records/s)",
		(unsigned long long)s->files, (double)s->bytes_in / 1e6, (double)s->bytes_out / 1e6,
		(unsigned long long)es->counted, secs, secs > 0 ? (double)es->counted / secs : 0.0);
	if (es->late)
		fprintf(stderr, ", %llu late", (unsigned long long)es->late);
	fprintf(stderr, "\n");
	uint64_t ignored = es->ignored_data + es->ignored_insight + es->ignored_category;
	if (ignored)
		fprintf(stderr,
			"trailsight: ignored %llu records (data events %llu, insight events %llu, other categories %llu)\n",
			(unsigned long long)ignored, (unsigned long long)es->ignored_data,
			(unsigned long long)es->ignored_insight,
			(unsigned long long)es->ignored_category);
	if (s->ignored_digests || s->ignored_control)
		fprintf(stderr, "trailsight: ignored %llu digest files, %llu CloudWatch Logs control messages\n",
			(unsigned long long)s->ignored_digests, (unsigned long long)s->ignored_control);
	if (s->files_ignored)
		fprintf(stderr, "trailsight: passed over %llu files or folders (named above%s)\n",
			(unsigned long long)s->files_ignored,
			s->files_ignored > MAX_WARNINGS ? ", the first ones" : "");
	if (s->skipped || s->files_failed) {
		fprintf(stderr, "trailsight: skipped %llu (", (unsigned long long)s->skipped);
		int first = 1;
		for (int i = 1; i < TS_ERR_COUNT; i++) {
			if (!s->by_reason[i])
				continue;
			fprintf(stderr, "%s%s %llu", first ? "" : ", ", ts_strerror(-i),
				(unsigned long long)s->by_reason[i]);
			first = 0;
		}
		fprintf(stderr, "); %llu files could not be read\n", (unsigned long long)s->files_failed);
	}
	if (r->files_already || es->already_counted)
		fprintf(stderr,
			"trailsight: %llu files already counted in the store, not read; %llu records "
			"of partly counted files skipped (--force reads and counts them again)\n",
			(unsigned long long)r->files_already, (unsigned long long)es->already_counted);
	if (es->reordered)
		fprintf(stderr, "trailsight: records out of time order: %llu counts held (%.1f MB) "
				"and put in time order%s\n",
			(unsigned long long)es->held_peak, (double)es->held_bytes / 1e6,
			es->hold_capped ? " up to the hold cap; the rest counted as it came" : "");
	if (es->late && !r->stream)
		fprintf(stderr,
			"trailsight: %llu records came more than --lateness %d minutes behind newer ones "
			"of their partition (with --order time, or after --order auto trusted the "
			"order): counted but not judged. --order any holds every record and puts them "
			"in time order\n",
			(unsigned long long)es->late, r->lateness);
	print_overflow(r, es);
	if (es->restored)
		fprintf(stderr, "trailsight: %llu partitions resumed from their saved state\n",
			(unsigned long long)es->restored);
	if (store && store->reconnects)
		fprintf(stderr, "trailsight: store connections made again after a failure: %llu\n",
			(unsigned long long)store->reconnects);
	if (es->latency_n)
		fprintf(stderr,
			"trailsight: Starts written %.3f s (median), %.3f s (max) after their minute closed\n",
			es->latency_median, es->latency_max);
	fprintf(stderr, "trailsight: %u APIs, %u series; insights: %llu Start, %llu End, %llu still open\n",
		apis, metrics, (unsigned long long)es->starts, (unsigned long long)es->ends,
		(unsigned long long)es->open_at_end);
}

/* Take the files the store's index has as done out of the list (their
 * count into *dropped). 0, TS_ESTORE or TS_ENOMEM. */
static int drop_done_files(ts_store *store, ts_pathlist *l, uint64_t *dropped)
{
	size_t n = l->n;
	ts_file_id *ids = calloc(n ? n : 1, sizeof *ids);
	char **names = calloc(n ? n : 1, sizeof *names);
	uint8_t *have = calloc(n ? n : 1, 1), *done = calloc(n ? n : 1, 1);
	int rc = TS_ENOMEM;
	size_t k = 0;
	if (!ids || !names || !have || !done)
		goto out_free;
	for (size_t i = 0; i < n; i++) {
		char buf[4096];
		ts_file_id id;
		if (strcmp(l->paths[i], "-") == 0 || ts_source_file_id(l->paths[i], buf, sizeof buf, &id))
			continue;
		if (!(names[k] = strdup(buf)))
			goto out_free;
		id.name = names[k];
		ids[k++] = id;
		have[i] = 1;
	}
	if (k && (rc = store->ops->files_done(store, ids, k, done)))
		goto out_free;
	size_t w = 0, j = 0;
	for (size_t i = 0; i < n; i++) {
		if (have[i] && done[j++]) {
			free(l->paths[i]);
			++*dropped;
			continue;
		}
		l->paths[w++] = l->paths[i];
	}
	l->n = w;
	rc = 0;
out_free:
	for (size_t i = 0; names && i < k; i++)
		free(names[i]);
	free(names);
	free(ids);
	free(have);
	free(done);
	return rc;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

typedef struct stream_cfg {
	const char *watch_dir;
	const char *redis_stream, *group, *consumer;
	int use_stdin;
	int idle_timeout;
	const char *metrics_file;
	int metrics_interval;
} stream_cfg;

static void write_metrics(const char *path, const run *r, const ts_store *store);
static int stream_main(run *r, const stream_cfg *sc, ts_store *store, const ts_reader_opts *ro,
		       const ts_parser_opts *po, int force);

static int cmd_run(int argc, char **argv, int stream)
{
	enum {
		O_STORE = 256, O_MODEL, O_MODELS_DIR, O_OUT, O_STATS, O_LATENESS, O_READ, O_DATA,
		O_MAXREC, O_THREADS, O_STRICT, O_NOCTX, O_VERSION, O_FORCE, O_FLUSH, O_SPOOL,
		O_WATCH, O_STDIN, O_IDLE, O_METRICS, O_METRICS_INT, O_RSTREAM, O_GROUP, O_CONSUMER,
		O_INFLATE, O_REPORT, O_SINKQ, O_MAX_SERIES, O_MAX_PART, O_MAX_CODES, O_MAX_ATTRS,
		O_ORDER, O_FUTURE, O_FORMAT
	};
	static const struct option longopts[] = {
		{"store", required_argument, 0, O_STORE},
		{"model", required_argument, 0, O_MODEL},
		{"models-dir", required_argument, 0, O_MODELS_DIR},
		{"out", required_argument, 0, O_OUT},
		{"spool-dir", required_argument, 0, O_SPOOL},
		{"sink-queue", required_argument, 0, O_SINKQ},
		{"stats", required_argument, 0, O_STATS},
		{"lateness", required_argument, 0, O_LATENESS},
		{"order", required_argument, 0, O_ORDER},
		{"future-minutes", required_argument, 0, O_FUTURE},
		{"include-read-only", no_argument, 0, O_READ},
		{"include-data-events", no_argument, 0, O_DATA},
		{"max-record", required_argument, 0, O_MAXREC},
		{"threads", required_argument, 0, O_THREADS},
		{"inflate", required_argument, 0, O_INFLATE},
		{"format", required_argument, 0, O_FORMAT},
		{"strict", no_argument, 0, O_STRICT},
		{"force", no_argument, 0, O_FORCE},
		{"checkpoint-cells", required_argument, 0, O_FLUSH},
		{"max-series", required_argument, 0, O_MAX_SERIES},
		{"max-series-per-partition", required_argument, 0, O_MAX_PART},
		{"max-error-codes", required_argument, 0, O_MAX_CODES},
		{"max-attr-values", required_argument, 0, O_MAX_ATTRS},
		{"watch", required_argument, 0, O_WATCH},
		{"stdin", no_argument, 0, O_STDIN},
		{"redis-stream", required_argument, 0, O_RSTREAM},
		{"group", required_argument, 0, O_GROUP},
		{"consumer", required_argument, 0, O_CONSUMER},
		{"idle-timeout", required_argument, 0, O_IDLE},
		{"metrics-file", required_argument, 0, O_METRICS},
		{"metrics-interval", required_argument, 0, O_METRICS_INT},
		{"no-trailsight-context", no_argument, 0, O_NOCTX},
		{"report", required_argument, 0, O_REPORT},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *store_spec = getenv("TRAILSIGHT_STORE"), *model = "default", *models_dir = NULL;
	const char *stats_path = NULL, *report_dir = NULL;
	int strict = 0, c;
	size_t flush_cells = 0;
	ts_registry_caps caps = {0};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int threads = ncpu > 0 ? (int)(ncpu > 64 ? 64 : ncpu) : 1;
	long v;
	run r;
	memset(&r, 0, sizeof r);
	const char *outs[16];
	size_t nouts = 0;
	const char *spool_dir = NULL;
	size_t sink_queue = 0;
	ts_engine_opts eo;
	ts_engine_opts_defaults(&eo);
	ts_reader_opts ro = {0};
	ts_parser_opts po = {0};
	stream_cfg sc = {.idle_timeout = 60, .metrics_interval = 5, .group = "trailsight"};
	int stream_only = 0, backfill_only = 0, order_set = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		switch (c) {
		case O_STORE: store_spec = optarg; break;
		case O_MODEL: model = optarg; break;
		case O_MODELS_DIR: models_dir = optarg; break;
		case O_OUT:
			if (nouts == TS_ARRAY_LEN(outs)) {
				ts_error("--out: at most %zu sinks", TS_ARRAY_LEN(outs));
				return EXIT_USAGE;
			}
			outs[nouts++] = optarg;
			break;
		case O_SPOOL: spool_dir = optarg; break;
		case O_STATS: stats_path = optarg; break;
		case O_LATENESS:
			if (parse_long(optarg, 0, 120 - 8, &v)) {
				ts_error("--lateness '%s': expected minutes from 0 to %d", optarg, 120 - 8);
				return EXIT_USAGE;
			}
			eo.lateness = (int)v;
			break;
		case O_ORDER:
			if ((eo.order = ts_order_mode_parse(optarg)) < 0) {
				ts_error("--order '%s': expected auto, any or time", optarg);
				return EXIT_USAGE;
			}
			backfill_only = 1;
			order_set = 1;
			break;
		case O_FUTURE:
			if (parse_long(optarg, 0, 1000000, &v)) {
				ts_error("--future-minutes '%s': expected minutes from 0 to 1000000", optarg);
				return EXIT_USAGE;
			}
			eo.future_minutes = (int)v;
			break;
		case O_READ: eo.include_read_only = 1; break;
		case O_DATA: eo.include_data = 1; break;
		case O_MAXREC:
			if (parse_long(optarg, 1024, 64L << 20, &v)) {
				ts_error("--max-record '%s': expected bytes from 1024 to 67108864", optarg);
				return EXIT_USAGE;
			}
			ro.max_record = (size_t)v;
			break;
		case O_FORMAT: {
			static const char *const names[TS_FMT_COUNT] = {
				"auto", "records", "ndjson", "array", "lookup-events", "eventbridge",
				"cwlogs"};
			int f = -1;
			for (int i = 0; i < TS_FMT_COUNT; i++)
				if (strcmp(optarg, names[i]) == 0)
					f = i;
			if (f < 0) {
				ts_error("--format '%s': expected auto, records, ndjson, array, "
					 "lookup-events, eventbridge or cwlogs", optarg);
				return EXIT_USAGE;
			}
			ro.format = f;
			break;
		}
		case O_INFLATE:
			if (strcmp(optarg, "fast") != 0 && strcmp(optarg, "zlib") != 0) {
				ts_error("--inflate '%s': expected fast or zlib", optarg);
				return EXIT_USAGE;
			}
			ro.stream_only = strcmp(optarg, "zlib") == 0;
			break;
		case O_THREADS:
			backfill_only = 1;
			if (parse_long(optarg, 1, 256, &v)) {
				ts_error("--threads '%s': expected 1 to 256", optarg);
				return EXIT_USAGE;
			}
			threads = (int)v;
			break;
		case O_STRICT: strict = 1; break;
		case O_FORCE: eo.force = 1; break;
		case O_WATCH: sc.watch_dir = optarg; break;
		case O_STDIN: sc.use_stdin = 1; break;
		case O_RSTREAM: sc.redis_stream = optarg; break;
		case O_GROUP: sc.group = optarg; break;
		case O_CONSUMER: sc.consumer = optarg; break;
		case O_METRICS: sc.metrics_file = optarg; break;
		case O_IDLE:
		case O_METRICS_INT:
			if (parse_long(optarg, 1, 86400, &v)) {
				ts_error("--%s '%s': expected seconds from 1 to 86400",
					 c == O_IDLE ? "idle-timeout" : "metrics-interval", optarg);
				return EXIT_USAGE;
			}
			*(c == O_IDLE ? &sc.idle_timeout : &sc.metrics_interval) = (int)v;
			break;
		case O_FLUSH:
			if (parse_long(optarg, 1, 100000000, &v)) {
				ts_error("--checkpoint-cells '%s': expected 1 to 100000000", optarg);
				return EXIT_USAGE;
			}
			flush_cells = (size_t)v;
			break;
		case O_SINKQ:
			if (parse_long(optarg, 1, 10000000, &v)) {
				ts_error("--sink-queue '%s': expected 1 to 10000000", optarg);
				return EXIT_USAGE;
			}
			sink_queue = (size_t)v;
			break;
		case O_MAX_SERIES:
		case O_MAX_PART:
		case O_MAX_CODES:
		case O_MAX_ATTRS: {
			static const char *const names[] = {"max-series", "max-series-per-partition",
							    "max-error-codes", "max-attr-values"};
			int which = c - O_MAX_SERIES;
			if (parse_long(optarg, 1, 100000000, &v)) {
				ts_error("--%s '%s': expected 1 to 100000000", names[which], optarg);
				return EXIT_USAGE;
			}
			uint32_t *dst[] = {&caps.max_apis, &caps.max_apis_per_partition,
					   &caps.max_codes_per_api, &eo.max_attr_values};
			*dst[which] = (uint32_t)v;
			break;
		}
		case O_NOCTX: eo.trailsight_context = 0; break;
		case O_REPORT: report_dir = optarg; backfill_only = 1; break;
		case 'q': r.quiet = 1; ts_log_level = 0; break;
		case 'v': ts_log_level = 3; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: fputs(usage_text, stderr); return EXIT_USAGE;
		}
	}
	stream_only = sc.watch_dir || sc.use_stdin || sc.metrics_file || sc.redis_stream;
	if (stream) {
		if (backfill_only || optind < argc) {
			ts_error("stream: %s", optind < argc ? "no PATH arguments: use --watch DIR or --stdin"
							     : "--threads and --report are for backfill");
			return EXIT_USAGE;
		}
		if (!!sc.watch_dir + !!sc.use_stdin + !!sc.redis_stream != 1) {
			ts_error("stream: give one of --watch DIR, --stdin or --redis-stream URL#KEY");
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
		eo.sorted = 0;
		eo.clock = clock_cb;
	} else {
		if (stream_only) {
			ts_error("backfill: --watch, --stdin, --redis-stream and --metrics-file are for "
				 "stream");
			return EXIT_USAGE;
		}
		if (optind >= argc) {
			ts_error("backfill: no PATH given (a file, a folder, or - for stdin)");
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}

	char err[512];
	const char *mdir = find_models_dir(models_dir);
	int rc = ts_profile_load(model, mdir, &eo.profile, err, sizeof err);
	if (rc == TS_EIO && strcmp(model, "default") == 0 && !models_dir) {
		ts_profile_defaults(&eo.profile); /* built-in default */
	} else if (rc) {
		ts_error("%s", err);
		return EXIT_USAGE;
	}

	int exit_code = EXIT_OK;
	ts_registry *reg = ts_registry_new(&caps);
	ts_store *store = NULL;
	ts_pathlist paths = {0};
	if (!reg) {
		ts_error("out of memory");
		return EXIT_STORE;
	}
	/* a report draws an insight with the history before it: keep twice
	 * the history, so the last history_days days' insights are whole */
	int keep = eo.profile.history_days + 2 + (report_dir ? eo.profile.history_days : 0);
	ts_store_opts so = {.retention_days = keep, .flush_cells = flush_cells};
	rc = ts_store_open(store_spec, reg, &so, &store, err, sizeof err);
	if (rc) {
		ts_error("%s", err);
		exit_code = rc == TS_EINVAL ? EXIT_USAGE : EXIT_STORE;
		goto out_reg;
	}
	ts_sink_opts sko = {.spool_dir = spool_dir, .queue_max_events = sink_queue};
	r.sinks = ts_sinks_new(&sko);
	if (!r.sinks) {
		ts_error("out of memory");
		exit_code = EXIT_STORE;
		goto out_store;
	}
	if (!nouts)
		outs[nouts++] = "-";
	for (size_t i = 0; i < nouts; i++) {
		rc = ts_sinks_add(r.sinks, outs[i], err, sizeof err);
		if (rc) {
			ts_error("%s", err);
			exit_code = rc == TS_EINVAL ? EXIT_USAGE : EXIT_STORE;
			goto out_sinks;
		}
	}
	if (report_dir) {
		ts_report_opts rpo = {.profile = eo.profile, .since = INT64_MIN, .until = INT64_MAX,
				      .source = store->ops->name[0] == 'm' ? "the memory store of this backfill"
									 : "the store of this backfill"};
		if (!(r.report = ts_report_new(&rpo))) {
			ts_error("out of memory");
			exit_code = EXIT_STORE;
			goto out_sinks;
		}
	}
	r.reg = reg;
	if (!stream && !order_set)
		eo.order = TS_ORDER_AUTO;
	if (stream)
		eo.wall = ts_wall_seconds;
	eo.on_future = on_future;
	eo.future_ctx = &r;
	r.engine = ts_engine_new(&eo, reg, store, report_dir ? tee_emit : ts_sinks_emit_fn,
				 report_dir ? (void *)&r : (void *)r.sinks);
	if (!r.engine) {
		ts_error("out of memory");
		exit_code = EXIT_STORE;
		goto out_sinks;
	}

	r.t0 = now();
	r.lateness = eo.lateness;
	if (stream) {
		rc = stream_main(&r, &sc, store, &ro, &po, eo.force);
		if (rc) {
			exit_code = rc;
			goto out_engine;
		}
	} else {
		/* a store connection that breaks is an error to handle (the
		 * store reconnects), not a signal that ends the run */
		signal(SIGPIPE, SIG_IGN);
		r.progress = !r.quiet && isatty(2);
		ts_source_cb cb = {on_record, on_skip, on_file_done, &r, on_file_begin, NULL, 0, on_passed};
		if (ts_source_collect(argv + optind, (size_t)(argc - optind), &paths, &r.src, &cb)) {
			ts_error("out of memory");
			exit_code = EXIT_STORE;
			goto out_engine;
		}
		if (!eo.force && (rc = drop_done_files(store, &paths, &r.files_already))) {
			ts_error("%s", rc == TS_ESTORE ? store->errstr : ts_strerror(rc));
			exit_code = EXIT_STORE;
			goto out_engine;
		}
		r.files_total = paths.n;
		rc = ts_source_read_all(&paths, threads, &ro, &po, &r.src, &cb);
		if (rc < 0 && !r.fatal)
			r.fatal = rc;
		if (!r.fatal)
			r.fatal = ts_engine_finish(r.engine);
	}
	progress_clear(&r);
	double secs = now() - r.t0;
	if (report_dir && !r.fatal) {
		ts_report_stats rs;
		double t = now();
		rc = ts_report_write(r.report, report_dir, reg, store, &rs, err, sizeof err);
		if (rc) {
			ts_error("report: %s", err);
			exit_code = EXIT_STORE;
		} else if (!r.quiet) {
			fprintf(stderr, "trailsight: report of %zu insights written to %s in %.2f s\n",
				rs.insights, report_dir, now() - t);
		}
	}
	/* sinks: a last try at what they hold, then read what they gave up on */
	ts_sinks_finish(r.sinks);
	if (stream && sc.metrics_file)
		write_metrics(sc.metrics_file, &r, store);
	uint64_t dropped = 0;
	for (size_t i = 0; i < ts_sinks_count(r.sinks); i++) {
		ts_sink *sk = ts_sinks_get(r.sinks, i);
		ts_sink_stats ss;
		ts_sink_get_stats(sk, &ss);
		if (ss.dropped)
			ts_error("sink %s: %llu of %llu events given up on (see above)",
				 ts_sink_name(sk), (unsigned long long)ss.dropped,
				 (unsigned long long)ss.events);
		dropped += ss.dropped;
	}

	ts_engine_stats es;
	ts_engine_get_stats(r.engine, &es);
	if (stream)
		es.open_at_end = ts_engine_open_insights(r.engine);
	r.src.skipped += es.skipped_fields + es.skipped_cap;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	if (r.fatal) {
		ts_error("run stopped: %s", r.fatal == TS_ESTORE && store->errstr[0]
						    ? store->errstr : ts_strerror(r.fatal));
		exit_code = EXIT_STORE;
	}
	if (!r.quiet)
		print_summary(&r, store, &es, secs, ts_registry_napis(reg), ts_registry_nmetrics(reg));
	if (stats_path) {
		FILE *f = fopen(stats_path, "w");
		if (!f) {
			ts_error("cannot write '%s': %s", stats_path, strerror(errno));
			if (!exit_code)
				exit_code = EXIT_USAGE;
		} else {
			write_stats_json(f, &r, &es, secs, ru.ru_maxrss, ts_registry_napis(reg),
					 ts_registry_nmetrics(reg), store);
			if (fclose(f) != 0 && !exit_code)
				exit_code = EXIT_USAGE;
		}
	}
	if (!exit_code && dropped) {
		ts_error("%llu insight events could not be delivered: exit status 2",
			 (unsigned long long)dropped);
		exit_code = EXIT_STORE;
	}
	if (!exit_code && strict && (r.src.skipped || r.src.files_failed))
		exit_code = EXIT_SKIPPED;
out_engine:
	ts_pathlist_free(&paths);
	ts_engine_free(r.engine);
out_sinks:
	ts_report_free(r.report);
	ts_sinks_free(r.sinks);
out_store:
	ts_store_free(store);
out_reg:
	ts_registry_free(reg);
	return exit_code;
}

/* ---- stream ---- */

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int stream_checkpoint(run *r)
{
	int rc = ts_engine_checkpoint(r->engine);
	r->last_checkpoint = now();
	r->since_checkpoint = 0;
	/* what the checkpoint stored may be acknowledged now */
	if (!rc && r->rstream && ts_rstream_ack(r->rstream)) {
		ts_error("%s", ts_rstream_error(r->rstream));
		rc = TS_ESTORE;
	}
	return rc;
}

/* A Prometheus label value: backslash, quote and newline escaped, at most
 * 200 bytes. */
static void put_label(FILE *f, ts_str s)
{
	for (size_t i = 0; i < s.n && i < 200; i++) {
		char c = s.p[i];
		if (c == '\\' || c == '"')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else
			fputc(c, f);
	}
}

/* The overflow by account, Region and eventSource, the top rows only. */
static void write_overflow_metrics(FILE *f, const run *r)
{
	ts_overflow_row *rows;
	uint32_t n;
	if (ts_overflow_top(ts_engine_overflow(r->engine), OVERFLOW_TOP, &rows, &n) || !n)
		return;
	fprintf(f, "# HELP trailsight_overflow_source_records_total Records of new series past the caps, "
		   "by source (the %d largest).\n"
		   "# TYPE trailsight_overflow_source_records_total counter\n",
		OVERFLOW_TOP);
	for (uint32_t i = 0; i < n; i++) {
		ts_partition *p = ts_registry_get_partition(r->reg, rows[i].partition);
		fputs("trailsight_overflow_source_records_total{account=\"", f);
		put_label(f, p->account);
		fputs("\",region=\"", f);
		put_label(f, p->region);
		fputs("\",eventSource=\"", f);
		put_label(f, rows[i].source);
		fprintf(f, "\"} %llu\n", (unsigned long long)(rows[i].count[0] + rows[i].count[1]));
	}
	free(rows);
}

/* Prometheus text format, written to a temporary name and renamed. */
static void write_metrics(const char *path, const run *r, const ts_store *store)
{
	ts_engine_stats es;
	ts_engine_get_stats(r->engine, &es);
	ts_buf tmp = {0};
	if (ts_buf_printf(&tmp, "%s.tmp", path)) {
		ts_buf_free(&tmp);
		return;
	}
	FILE *f = fopen(tmp.p, "w");
	if (!f) {
		ts_warn("cannot write '%s': %s", tmp.p, strerror(errno));
		ts_buf_free(&tmp);
		return;
	}
	const ts_source_stats *s = &r->src;
	fprintf(f, "# HELP trailsight_records_read_total Records parsed from the input.\n"
		   "# TYPE trailsight_records_read_total counter\n"
		   "trailsight_records_read_total %llu\n",
		(unsigned long long)s->records);
	fprintf(f, "# HELP trailsight_records_counted_total Records counted in a series.\n"
		   "# TYPE trailsight_records_counted_total counter\n"
		   "trailsight_records_counted_total %llu\n",
		(unsigned long long)es.counted);
	fprintf(f, "# HELP trailsight_records_late_total Records for a minute already closed.\n"
		   "# TYPE trailsight_records_late_total counter\n"
		   "trailsight_records_late_total %llu\n",
		(unsigned long long)es.late);
	fprintf(f, "# HELP trailsight_skipped_total Inputs skipped, by reason.\n"
		   "# TYPE trailsight_skipped_total counter\n");
	for (int i = 1; i < TS_ERR_COUNT; i++)
		fprintf(f, "trailsight_skipped_total{reason=\"%s\"} %llu\n", ts_errname(-i),
			(unsigned long long)(s->by_reason[i] + (i == -TS_EFIELD ? es.skipped_fields : 0) +
					     (i == -TS_ECAP ? es.skipped_cap : 0)));
	fprintf(f, "# HELP trailsight_overflow_records_total Records turned away by the cardinality caps.\n"
		   "# TYPE trailsight_overflow_records_total counter\n"
		   "trailsight_overflow_records_total{cap=\"series\"} %llu\n"
		   "trailsight_overflow_records_total{cap=\"error_codes\"} %llu\n"
		   "trailsight_overflow_records_total{cap=\"attribution_values\"} %llu\n",
		(unsigned long long)es.overflow_series, (unsigned long long)es.overflow_codes,
		(unsigned long long)es.attr_dropped);
	write_overflow_metrics(f, r);
	fprintf(f, "# HELP trailsight_files_total Input files read.\n"
		   "# TYPE trailsight_files_total counter\n"
		   "trailsight_files_total %llu\n",
		(unsigned long long)s->files);
	int64_t newest = ts_engine_newest(r->engine);
	if (newest != INT64_MIN) {
		fprintf(f, "# HELP trailsight_watermark_lag_seconds Wall clock minus the newest eventTime seen.\n"
			   "# TYPE trailsight_watermark_lag_seconds gauge\n"
			   "trailsight_watermark_lag_seconds %lld\n",
			(long long)time(NULL) - (long long)newest * 60);
	}
	fprintf(f, "# HELP trailsight_open_insights Insights started and not yet ended.\n"
		   "# TYPE trailsight_open_insights gauge\n"
		   "trailsight_open_insights %llu\n",
		(unsigned long long)ts_engine_open_insights(r->engine));
	fprintf(f, "# HELP trailsight_insights_total Insight events made.\n"
		   "# TYPE trailsight_insights_total counter\n"
		   "trailsight_insights_total{state=\"Start\"} %llu\n"
		   "trailsight_insights_total{state=\"End\"} %llu\n",
		(unsigned long long)es.starts, (unsigned long long)es.ends);
	if (es.latency_n)
		fprintf(f, "# HELP trailsight_start_latency_seconds Seconds from a Start's minute "
			   "closing to its writing.\n"
			   "# TYPE trailsight_start_latency_seconds summary\n"
			   "trailsight_start_latency_seconds{quantile=\"0.5\"} %.3f\n"
			   "trailsight_start_latency_seconds{quantile=\"0.9\"} %.3f\n"
			   "trailsight_start_latency_seconds{quantile=\"0.99\"} %.3f\n"
			   "trailsight_start_latency_seconds{quantile=\"1\"} %.3f\n"
			   "trailsight_start_latency_seconds_count %llu\n",
			es.latency_median, es.latency_p90, es.latency_p99, es.latency_max,
			(unsigned long long)es.latency_n);
	fprintf(f, "# HELP trailsight_checkpoints_total Checkpoints stored.\n"
		   "# TYPE trailsight_checkpoints_total counter\n"
		   "trailsight_checkpoints_total %llu\n",
		(unsigned long long)es.checkpoints);
	fprintf(f, "# HELP trailsight_store_reconnects_total Store connections made again.\n"
		   "# TYPE trailsight_store_reconnects_total counter\n"
		   "trailsight_store_reconnects_total %llu\n",
		(unsigned long long)store->reconnects);
	fprintf(f, "# HELP trailsight_sink_events_total Events per sink and outcome.\n"
		   "# TYPE trailsight_sink_events_total counter\n");
	for (size_t i = 0; i < ts_sinks_count(r->sinks); i++) {
		ts_sink *sk = ts_sinks_get(r->sinks, i);
		ts_sink_stats ss;
		ts_sink_get_stats(sk, &ss);
		static const char *const res[] = {"delivered", "failed", "spooled", "dropped"};
		uint64_t v[] = {ss.delivered, ss.failed, ss.spooled, ss.dropped};
		for (int k = 0; k < 4; k++)
			fprintf(f, "trailsight_sink_events_total{sink=\"%zu\",kind=\"%s\",result=\"%s\"} %llu\n",
				i, ts_sink_kind(sk), res[k], (unsigned long long)v[k]);
	}
	fprintf(f, "# HELP trailsight_sink_failures_total Failed delivery attempts, all sinks.\n"
		   "# TYPE trailsight_sink_failures_total counter\n");
	uint64_t fails = 0;
	for (size_t i = 0; i < ts_sinks_count(r->sinks); i++) {
		ts_sink_stats ss;
		ts_sink_get_stats(ts_sinks_get(r->sinks, i), &ss);
		fails += ss.failed;
	}
	fprintf(f, "trailsight_sink_failures_total %llu\n", (unsigned long long)fails);
	if (fclose(f) != 0 || rename(tmp.p, path) != 0)
		ts_warn("cannot write '%s': %s", path, strerror(errno));
	ts_buf_free(&tmp);
}

typedef struct stream_ctx {
	run *r;
	const stream_cfg *sc;
	ts_store *store;
	int lateness;
	double last_tick, last_metrics, advanced_at;
	int idle_advanced;
	uint64_t records_seen;
} stream_ctx;

/* Once a second or so: sinks retry, an idle source advances time, a
 * checkpoint writes what is new, metrics are written. Non-zero: stop. */
static int housekeeping(stream_ctx *x)
{
	run *r = x->r;
	double t = now();
	if (r->src.records != x->records_seen) {
		x->records_seen = r->src.records;
		r->last_record = t;
		x->idle_advanced = 0;
	}
	int rc = 0;
	if (t - r->last_record >= x->sc->idle_timeout) {
		if (!x->idle_advanced) {
			rc = ts_engine_advance(r->engine, x->lateness + 1);
			x->idle_advanced = 1;
			x->advanced_at = t;
		} else if (t - x->advanced_at >= 60) {
			rc = ts_engine_advance(r->engine, 1);
			x->advanced_at += 60;
		}
	}
	if (!rc && (r->since_checkpoint || ts_engine_pending_events(r->engine) ||
		    x->idle_advanced) && t - r->last_checkpoint >= 1.0)
		rc = stream_checkpoint(r);
	if (rc && !r->fatal)
		r->fatal = rc;
	if (t - x->last_tick >= 1.0) {
		ts_sinks_tick(r->sinks);
		x->last_tick = t;
	}
	if (x->sc->metrics_file && t - x->last_metrics >= x->sc->metrics_interval) {
		write_metrics(x->sc->metrics_file, r, x->store);
		x->last_metrics = t;
	}
	return stop_flag || r->fatal;
}

static int stdin_idle(void *ctx) { return housekeeping(((run *)ctx)->stream_ctx); }

/* Read one file of the watched folder and checkpoint if it made events
 * or a second has passed. */
static int stream_file(stream_ctx *x, const char *path, const ts_reader_opts *ro,
		       const ts_parser_opts *po)
{
	run *r = x->r;
	ts_source_cb cb = {on_record, on_skip, on_file_done, r, on_file_begin, NULL, 0, on_passed};
	int rc = ts_source_read(path, ro, po, &r->src, &cb);
	if (rc < 0 && !r->fatal)
		r->fatal = rc;
	if (!r->fatal && (ts_engine_pending_events(r->engine) || now() - r->last_checkpoint >= 1.0))
		r->fatal = stream_checkpoint(r);
	return r->fatal;
}

static int stream_main(run *r, const stream_cfg *sc, ts_store *store, const ts_reader_opts *ro,
		       const ts_parser_opts *po, int force)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r->stream = 1;
	r->last_record = r->last_checkpoint = now();
	stream_ctx x = {.r = r, .sc = sc, .store = store, .lateness = r->lateness};
	x.last_tick = x.last_metrics = now() - 3600;
	ts_info("stream: %s, store %s", sc->watch_dir ? sc->watch_dir : "stdin", store->ops->name);
	if (sc->redis_stream) {
		char err[1024], host[256] = "trailsight";
		gethostname(host, sizeof host - 1);
		int rc = ts_rstream_open(sc->redis_stream, sc->group,
					 sc->consumer ? sc->consumer : host, &r->rstream, err, sizeof err);
		if (rc) {
			ts_error("%s", err);
			return rc == TS_EINVAL ? EXIT_USAGE : EXIT_STORE;
		}
		ts_parser *p = ts_parser_new(po);
		if (!p) {
			ts_rstream_free(r->rstream);
			r->rstream = NULL;
			return EXIT_STORE;
		}
		const char *name = ts_rstream_name(r->rstream);
		while (!stop_flag && !r->fatal) {
			const ts_rstream_entry *ent;
			size_t n;
			if ((rc = ts_rstream_read(r->rstream, 1000, 1000, &ent, &n))) {
				ts_error("%s", ts_rstream_error(r->rstream));
				r->fatal = rc;
				break;
			}
			size_t done = 0; /* entries processed; the rest stay pending */
			for (size_t i = 0; i < n && !r->fatal; i++) {
				ts_record rec;
				ts_engine_set_position(r->engine, ent[i].ms, ent[i].seq);
				int pr = ent[i].record.n ? ts_parse_record(p, ent[i].record.p, ent[i].record.n,
									   &rec)
							 : TS_EFIELD;
				if (pr == TS_ENOMEM) {
					r->fatal = pr;
					break;
				}
				if (!pr)
					pr = on_record(r, &rec, name, 0);
				if (pr == 1) { /* a stop after this record, or a fatal error */
					if (!r->fatal) {
						r->src.records++;
						done = i + 1;
					}
					break;
				}
				if (pr < 0) {
					char detail[64];
					snprintf(detail, sizeof detail, "entry %llu-%llu",
						 (unsigned long long)ent[i].ms, (unsigned long long)ent[i].seq);
					r->src.skipped++;
					r->src.by_reason[-pr]++;
					on_skip(r, pr, name, 0, detail);
				} else {
					r->src.records++;
				}
				done = i + 1;
			}
			if (done < n)
				ts_rstream_unread(r->rstream, n - done);
			if (!r->fatal && n && (ts_engine_pending_events(r->engine) ||
					       now() - r->last_checkpoint >= 1.0))
				r->fatal = stream_checkpoint(r);
			housekeeping(&x);
		}
		ts_parser_free(p);
	} else if (sc->use_stdin) {
		ts_source_cb cb = {on_record, on_skip, NULL, r, NULL, stdin_idle, 1000, NULL};
		cb.ctx = r;
		/* stdin_idle needs the stream context: pass it through run */
		r->stream_ctx = &x;
		int rc = ts_source_read("-", ro, po, &r->src, &cb);
		if (rc < 0 && !r->fatal)
			r->fatal = rc;
		/* the end of the input (not a signal): close what is open, as
		 * an idle timeout would */
		if (!rc && !stop_flag && !r->fatal)
			r->fatal = ts_engine_advance(r->engine, x.lateness + 1);
	} else {
		ts_watch *w = NULL;
		char err[512];
		int rc = ts_watch_new(sc->watch_dir, &w, err, sizeof err);
		if (rc) {
			ts_error("%s", err);
			return EXIT_USAGE;
		}
		ts_pathlist paths = {0};
		ts_source_cb cb = {on_record, on_skip, on_file_done, r, on_file_begin, NULL, 0, on_passed};
		char *args[1] = {(char *)sc->watch_dir};
		rc = ts_source_collect(args, 1, &paths, &r->src, &cb);
		for (size_t i = 0; i < paths.n && !rc; i++)
			rc = ts_watch_seen(w, paths.paths[i]);
		if (!rc && !force)
			rc = drop_done_files(store, &paths, &r->files_already);
		if (rc) {
			ts_error("%s", rc == TS_ESTORE ? store->errstr : ts_strerror(rc));
			ts_pathlist_free(&paths);
			ts_watch_free(w);
			return EXIT_STORE;
		}
		ts_info("stream: %zu files to read first, %zu folders watched", paths.n,
			ts_watch_count(w));
		for (size_t i = 0; i < paths.n && !stop_flag && !r->fatal; i++) {
			stream_file(&x, paths.paths[i], ro, po);
			housekeeping(&x);
		}
		ts_pathlist_free(&paths);
		while (!stop_flag && !r->fatal) {
			ts_pathlist ready = {0};
			int n = ts_watch_poll(w, 1000, &ready);
			if (n < 0) {
				ts_error("watch '%s': %s", sc->watch_dir, ts_strerror(n));
				r->fatal = n;
			}
			for (size_t i = 0; i < ready.n && !r->fatal; i++) {
				stream_file(&x, ready.paths[i], ro, po);
				housekeeping(&x);
			}
			ts_pathlist_free(&ready);
			housekeeping(&x);
		}
		ts_watch_free(w);
	}
	/* graceful end: store what is counted, write what is made */
	if (!r->fatal)
		r->fatal = stream_checkpoint(r);
	ts_rstream_free(r->rstream);
	r->rstream = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	gsl_set_error_handler_off();
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("trailsight %s\n", TS_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "backfill") == 0)
		return cmd_run(argc - 1, argv + 1, 0);
	if (strcmp(argv[1], "stream") == 0)
		return cmd_run(argc - 1, argv + 1, 1);
	if (strcmp(argv[1], "report") == 0)
		return ts_report_cli(argc - 1, argv + 1, find_models_dir(NULL));
	ts_error("unknown command '%s'", argv[1]);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}
