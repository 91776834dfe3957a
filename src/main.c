/* main.c - the trailsight command line: parses options, opens the store,
 * runs the source -> engine pipeline, prints insights to stdout and the
 * summary to stderr, writes --stats. The only file that reads the wall
 * clock (for elapsed time and progress) and that exits.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "engine.h"
#include "sink.h"
#include "source.h"
#include "store.h"
#include "util.h"

#define TS_VERSION "0.1.0"
#define MAX_WARNINGS 20

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_STORE = 2, EXIT_SKIPPED = 3 };

static const char usage_text[] =
	"usage: trailsight backfill [options] PATH...\n"
	"\n"
	"Reads CloudTrail logs, counts API calls and errors per minute for every\n"
	"eventSource/eventName, learns each API's normal rate, and writes\n"
	"CloudTrail Insights events (ApiCallRateInsight, ApiErrorRateInsight; a\n"
	"Start when unusual activity begins, an End when it stops) to stdout, one\n"
	"JSON object per line, in CloudTrail's own format.\n"
	"\n"
	"PATH is a log file ({\"Records\":[...]} or NDJSON, gzipped or not), a folder\n"
	"(walked recursively, e.g. an S3 sync of AWSLogs/<acct>/CloudTrail/...), or -\n"
	"for standard input.\n"
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
	"  --stats FILE            write a JSON summary of the run to FILE\n"
	"  --lateness MIN          minutes a record may arrive after newer ones (default 20)\n"
	"  --include-read-only     count read-only calls in the call rate too\n"
	"  --include-data-events   count data events, as their own series\n"
	"  --max-record BYTES      largest record accepted (default 1048576)\n"
	"  --force                 read files the store has as already counted, and count\n"
	"                          them again\n"
	"  --checkpoint-cells N    Redis store: checkpoint (write counts, state and files\n"
	"                          done) once N counts are buffered (default 500000)\n"
	"  --threads N             files read and parsed in parallel (default: the number\n"
	"                          of cores); results do not depend on it\n"
	"  --strict                exit 3 if any input was skipped\n"
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
} run;

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

static int on_record(void *ctx, const ts_record *rec, const char *path, uint64_t off)
{
	run *r = ctx;
	(void)path;
	(void)off;
	int rc = ts_engine_add(r->engine, rec);
	if (rc == 0 || rc == 1)
		return 0;
	if (rc == TS_EFIELD || rc == TS_ECAP)
		return rc;
	r->fatal = rc;
	return 1;
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
	fprintf(f, "\"records_ignored\":{\"data_events\":%llu,\"insight_events\":%llu,\"other_category\":%llu},",
		(unsigned long long)es->ignored_data, (unsigned long long)es->ignored_insight,
		(unsigned long long)es->ignored_category);
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
	fprintf(f, "\"elapsed_seconds\":%.3f,\"records_per_second\":%.0f,\"peak_rss_kb\":%ld}\n", secs,
		secs > 0 ? (double)es->counted / secs : 0.0, rss_kb);
}

static void print_summary(const run *r, const ts_engine_stats *es, double secs, uint32_t apis,
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
	if (es->restored)
		fprintf(stderr, "trailsight: %llu partitions resumed from their saved state\n",
			(unsigned long long)es->restored);
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

static int cmd_backfill(int argc, char **argv)
{
	enum {
		O_STORE = 256, O_MODEL, O_MODELS_DIR, O_OUT, O_STATS, O_LATENESS, O_READ, O_DATA,
		O_MAXREC, O_THREADS, O_STRICT, O_NOCTX, O_VERSION, O_FORCE, O_FLUSH, O_SPOOL
	};
	static const struct option longopts[] = {
		{"store", required_argument, 0, O_STORE},
		{"model", required_argument, 0, O_MODEL},
		{"models-dir", required_argument, 0, O_MODELS_DIR},
		{"out", required_argument, 0, O_OUT},
		{"spool-dir", required_argument, 0, O_SPOOL},
		{"stats", required_argument, 0, O_STATS},
		{"lateness", required_argument, 0, O_LATENESS},
		{"include-read-only", no_argument, 0, O_READ},
		{"include-data-events", no_argument, 0, O_DATA},
		{"max-record", required_argument, 0, O_MAXREC},
		{"threads", required_argument, 0, O_THREADS},
		{"strict", no_argument, 0, O_STRICT},
		{"force", no_argument, 0, O_FORCE},
		{"checkpoint-cells", required_argument, 0, O_FLUSH},
		{"no-trailsight-context", no_argument, 0, O_NOCTX},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *store_spec = getenv("TRAILSIGHT_STORE"), *model = "default", *models_dir = NULL;
	const char *stats_path = NULL;
	int strict = 0, c;
	size_t flush_cells = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int threads = ncpu > 0 ? (int)(ncpu > 64 ? 64 : ncpu) : 1;
	long v;
	run r;
	memset(&r, 0, sizeof r);
	const char *outs[16];
	size_t nouts = 0;
	const char *spool_dir = NULL;
	ts_engine_opts eo;
	ts_engine_opts_defaults(&eo);
	ts_reader_opts ro = {0};
	ts_parser_opts po = {0};

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
			if (parse_long(optarg, 0, 120, &v)) {
				ts_error("--lateness '%s': expected minutes from 0 to 120", optarg);
				return EXIT_USAGE;
			}
			eo.lateness = (int)v;
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
		case O_THREADS:
			if (parse_long(optarg, 1, 256, &v)) {
				ts_error("--threads '%s': expected 1 to 256", optarg);
				return EXIT_USAGE;
			}
			threads = (int)v;
			break;
		case O_STRICT: strict = 1; break;
		case O_FORCE: eo.force = 1; break;
		case O_FLUSH:
			if (parse_long(optarg, 1, 100000000, &v)) {
				ts_error("--checkpoint-cells '%s': expected 1 to 100000000", optarg);
				return EXIT_USAGE;
			}
			flush_cells = (size_t)v;
			break;
		case O_NOCTX: eo.trailsight_context = 0; break;
		case 'q': r.quiet = 1; ts_log_level = 0; break;
		case 'v': ts_log_level = 3; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: fputs(usage_text, stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		ts_error("backfill: no PATH given (a file, a folder, or - for stdin)");
		fputs(usage_text, stderr);
		return EXIT_USAGE;
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
	if (eo.lateness > 120 - 8) {
		ts_error("--lateness: at most %d minutes", 120 - 8);
		return EXIT_USAGE;
	}

	int exit_code = EXIT_OK;
	ts_registry *reg = ts_registry_new(NULL);
	ts_store *store = NULL;
	ts_pathlist paths = {0};
	if (!reg) {
		ts_error("out of memory");
		return EXIT_STORE;
	}
	ts_store_opts so = {.retention_days = eo.profile.history_days + 2, .flush_cells = flush_cells};
	rc = ts_store_open(store_spec, reg, &so, &store, err, sizeof err);
	if (rc) {
		ts_error("%s", err);
		exit_code = rc == TS_EINVAL ? EXIT_USAGE : EXIT_STORE;
		goto out_reg;
	}
	ts_sink_opts sko = {.spool_dir = spool_dir};
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
	r.engine = ts_engine_new(&eo, reg, store, ts_sinks_emit_fn, r.sinks);
	if (!r.engine) {
		ts_error("out of memory");
		exit_code = EXIT_STORE;
		goto out_sinks;
	}

	r.t0 = now();
	r.progress = !r.quiet && isatty(2);
	ts_source_cb cb = {on_record, on_skip, on_file_done, &r, on_file_begin};
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
	progress_clear(&r);
	double secs = now() - r.t0;
	/* sinks: read their counters, then close (writes what they hold) */
	uint64_t dropped = 0;
	for (size_t i = 0; i < ts_sinks_count(r.sinks); i++) {
		ts_sink_stats ss;
		ts_sink_get_stats(ts_sinks_get(r.sinks, i), &ss);
		dropped += ss.dropped;
	}

	ts_engine_stats es;
	ts_engine_get_stats(r.engine, &es);
	r.src.skipped += es.skipped_fields + es.skipped_cap;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	if (r.fatal) {
		ts_error("run stopped: %s", r.fatal == TS_ESTORE && store->errstr[0]
						    ? store->errstr : ts_strerror(r.fatal));
		exit_code = EXIT_STORE;
	}
	if (!r.quiet)
		print_summary(&r, &es, secs, ts_registry_napis(reg), ts_registry_nmetrics(reg));
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
		ts_error("%llu insight events could not be delivered (see the sink errors above)",
			 (unsigned long long)dropped);
		exit_code = EXIT_STORE;
	}
	if (!exit_code && strict && (r.src.skipped || r.src.files_failed))
		exit_code = EXIT_SKIPPED;
out_engine:
	ts_pathlist_free(&paths);
	ts_engine_free(r.engine);
out_sinks:
	ts_sinks_free(r.sinks);
out_store:
	ts_store_free(store);
out_reg:
	ts_registry_free(reg);
	return exit_code;
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
		return cmd_backfill(argc - 1, argv + 1);
	ts_error("unknown command '%s'", argv[1]);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}
