/* run.c - one run of `trailsight backfill` or `trailsight stream`: opens
 * the store, the sinks and the engine that the options name, feeds the
 * engine from the source (a backfill here; a stream in run_stream.c),
 * and at the end reports from the run's counters (run_report.c) and
 * decides the exit status. The source callbacks every run uses (records
 * to the engine, skips and files named on stderr, progress) are here too.
 * A ts_run owns its engine, sinks and report; the registry and store are
 * made and freed by ts_cli_run.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lease.h"
#include "order.h"
#include "util.h"

void ts_cli_progress_clear(ts_run *r)
{
	if (r->progress && r->last_progress > 0)
		fprintf(stderr, "\r\033[K");
}

/* --report: the sinks get each event, and so does the report */
static int tee_emit(void *ctx, const char *json, size_t len)
{
	ts_run *r = ctx;
	int rc = ts_sinks_emit_fn(r->sinks, json, len);
	return rc ? rc : ts_report_emit(r->report, json, len);
}

int ts_marked_open(ts_marked_out *m, const char *path)
{
	m->failed = 0;
	if ((m->f = fopen(path, "a")))
		return 0;
	ts_error("--marked-out: cannot open '%s': %s", path, strerror(errno));
	return -1;
}

int ts_marked_emit(void *ctx, const char *json, size_t len)
{
	ts_marked_out *m = ctx;
	if (!m->f || m->failed)
		return 0;
	if (fwrite(json, 1, len, m->f) != len || fputc('\n', m->f) == EOF || fflush(m->f) != 0) {
		ts_error("--marked-out: cannot write: %s", strerror(errno));
		m->failed = 1;
	}
	return 0;
}

int ts_marked_close(ts_marked_out *m)
{
	if (m->f && fclose(m->f) != 0 && !m->failed) {
		ts_error("--marked-out: cannot write: %s", strerror(errno));
		m->failed = 1;
	}
	m->f = NULL;
	return m->failed;
}

/* stream: once, when most records come later than the lateness */
static void warn_if_late(ts_run *r)
{
	uint64_t counted, late;
	ts_engine_late(r->engine, &counted, &late);
	if (counted < 1024 || late * 2 < counted)
		return;
	r->late_warned = 1;
	if (r->quiet)
		return;
	ts_cli_progress_clear(r);
	ts_warn("%llu of %llu records came more than --lateness %d minutes behind newer ones "
		"and were counted but not judged: stream expects records in time order. For "
		"exported, newest-first or shuffled files use 'trailsight backfill' (any order)",
		(unsigned long long)late, (unsigned long long)counted, r->lateness);
}

int ts_cli_on_record(void *ctx, const ts_record *rec, const char *path, uint64_t off)
{
	ts_run *r = ctx;
	ts_engine_set_origin(r->engine, path, off);
	int rc = ts_engine_add(r->engine, rec);
	int taken = rc == TS_ADD_COUNTED || rc == TS_ADD_IGNORED;
	if (r->stream && taken && !r->late_warned && ++r->late_check % 1024 == 0)
		warn_if_late(r);
	if (r->stream && taken) {
		r->since_checkpoint++;
		/* stdin has no file boundaries: any record boundary will do */
		if (strcmp(path, "-") == 0 && (ts_engine_pending_events(r->engine) ||
					       (r->since_checkpoint % 256 == 0 &&
						ts_cli_now() - r->last_checkpoint >= 1.0)))
			rc = ts_cli_stream_checkpoint(r);
		/* a stop comes between records of an input without file
		 * boundaries (stdin, a Redis Stream), but only between files:
		 * a file is marked counted when it ends, so one stopped
		 * halfway would lose the rest of its records, and its minutes
		 * would close (under the next file's records) on part of them */
		if (!rc && ts_cli_stopping() && !r->in_file)
			return TS_SOURCE_STOP;
	}
	if (r->leases && taken && ++r->lease_check % 1024 == 0 && ts_cli_lease_tick(r))
		return TS_SOURCE_STOP;
	if (rc == TS_ADD_COUNTED || rc == TS_ADD_IGNORED)
		return TS_SOURCE_GO_ON;
	if (rc == TS_EFIELD || rc == TS_ECAP || rc == TS_EFUTURE)
		return rc;
	r->fatal = rc;
	return TS_SOURCE_STOP;
}

static int64_t wall_seconds(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

/* "eventTime YYYY-MM-DDTHH:MM:SSZ is more than N minutes ahead of ..." */
static void fmt_future(char *buf, size_t n, int64_t t)
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
	ts_run *r = ctx;
	char detail[96];
	fmt_future(detail, sizeof detail, t);
	r->src.skipped++;
	r->src.by_reason[-TS_EFUTURE]++;
	ts_cli_on_skip(r, TS_EFUTURE, path, off, detail);
}

void ts_cli_on_skip(void *ctx, int code, const char *path, uint64_t off, const char *detail)
{
	ts_run *r = ctx;
	if (r->quiet)
		return;
	r->warnings++;
	if (r->warnings > TS_CLI_MAX_WARNINGS)
		return;
	ts_cli_progress_clear(r);
	const char *what = code == TS_EFIELD && !*detail ? "no recipientAccountId or awsRegion"
							 : detail;
	if (code == TS_EIO)
		ts_warn("cannot read '%s': %s", path, detail);
	else
		ts_warn("'%s': offset %llu: %s%s%s, skipped", path, (unsigned long long)off,
			ts_strerror(code), *what ? ": " : "", what);
	if (r->warnings == TS_CLI_MAX_WARNINGS)
		ts_warn("further skips are counted in the summary but not shown");
}

/* A file or folder the walk passes over: named, up to a cap. */
void ts_cli_on_passed(void *ctx, const char *path, const char *why)
{
	ts_run *r = ctx;
	if (r->quiet)
		return;
	if (r->passed_shown < TS_CLI_MAX_WARNINGS)
		ts_warn("'%s': passed over (%s)", path, why);
	else if (r->passed_shown == TS_CLI_MAX_WARNINGS)
		ts_warn("further files passed over are counted in the summary but not named");
	r->passed_shown++;
}

void ts_cli_on_file_begin(void *ctx, const char *path)
{
	ts_run *r = ctx;
	char name[4096];
	ts_file_id id;
	if (r->cur_id)
		id = *r->cur_id;
	else if (r->fatal || strcmp(path, "-") == 0 || ts_file_id_of(path, name, sizeof name, &id))
		return; /* read without a checkpoint */
	if (r->fatal)
		return;
	int rc = ts_engine_file_begin(r->engine, &id);
	if (rc)
		r->fatal = rc;
	else
		r->in_file = 1;
}

void ts_cli_on_file_done(void *ctx, const char *path, const ts_source_stats *st)
{
	ts_run *r = ctx;
	(void)path;
	if (r->in_file) {
		r->in_file = 0;
		int rc = ts_engine_file_end(r->engine);
		if (rc && !r->fatal)
			r->fatal = rc;
	}
	r->files_done++;
	ts_cli_lease_tick(r);
	if (!r->progress)
		return;
	double t = ts_cli_now();
	if (t - r->last_progress < 0.5 && r->files_done != r->files_total)
		return;
	r->last_progress = t;
	double secs = t - r->t0;
	fprintf(stderr, "\r\033[Ktrailsight: %zu/%zu files, %llu records, %.0f MB/s", r->files_done,
		r->files_total, (unsigned long long)st->records,
		secs > 0 ? (double)st->bytes_out / 1e6 / secs : 0.0);
}

double ts_cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double clock_cb(void *ctx)
{
	(void)ctx;
	return ts_cli_now();
}

/* Take the files the store's index has as done out of the list (their
 * count into *dropped). 0, TS_ESTORE or TS_ENOMEM. */
int ts_cli_drop_done_files(ts_store *store, ts_pathlist *l, uint64_t *dropped)
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
		if (strcmp(l->paths[i], "-") == 0 || ts_file_id_of(l->paths[i], buf, sizeof buf, &id))
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

int ts_cli_run(ts_cli_opts *o, int stream)
{
	ts_run r;
	memset(&r, 0, sizeof r);
	r.quiet = o->quiet;
	ts_engine_opts eo = o->eo;
	char err[512];
	int rc;
	int exit_code = TS_EXIT_OK;
	ts_registry *reg = ts_registry_new(&o->caps);
	ts_store *store = NULL;
	ts_pathlist paths = {0};
	ts_redetect rd = {0}; /* every file counted already: the events derived again */
	if (!reg) {
		ts_error("out of memory");
		return TS_EXIT_STORE;
	}
	/* a report draws an insight with the history before it: keep twice
	 * the history, so the last history_days days' insights are whole */
	int hd = o->eo.profile.history_days;
	for (size_t i = 0; i < o->overrides.n; i++)
		hd = o->overrides.v[i].p.history_days > hd ? o->overrides.v[i].p.history_days : hd;
	int keep = hd + 2 + (o->report_dir ? hd : 0);
	ts_store_opts so = {.retention_days = keep, .flush_cells = o->flush_cells};
	rc = ts_store_open(o->store_spec, reg, &so, &store, err, sizeof err);
	if (rc) {
		ts_error("%s", err);
		exit_code = rc == TS_EINVAL ? TS_EXIT_USAGE : TS_EXIT_STORE;
		goto out_reg;
	}
	if (o->lease_group) {
		char host[128] = "host", worker[160];
		if (gethostname(host, sizeof host) != 0)
			snprintf(host, sizeof host, "host");
		host[sizeof host - 1] = 0;
		for (char *c = host; *c; c++)
			*c = *c == '/' ? '_' : *c;
		snprintf(worker, sizeof worker, "%s:%ld", host, (long)getpid());
		rc = ts_leases_new(store, o->lease_group, worker, o->lease_ms, &r.leases, err,
				   sizeof err);
		if (rc) {
			ts_error("%s", rc == TS_ENOMEM ? "out of memory" : err);
			exit_code = rc == TS_EINVAL ? TS_EXIT_USAGE : TS_EXIT_STORE;
			goto out_store;
		}
	}
	ts_sink_opts sko = {.spool_dir = o->spool_dir,
			    .queue_max_events = o->sink_queue,
			    .alert_repost_ms = o->alert_repost_s * 1000};
	r.sinks = ts_sinks_new(&sko);
	if (!r.sinks) {
		ts_error("out of memory");
		exit_code = TS_EXIT_STORE;
		goto out_store;
	}
	if (!o->nouts)
		o->outs[o->nouts++] = "-";
	for (size_t i = 0; i < o->nouts; i++) {
		rc = ts_sinks_add(r.sinks, o->outs[i], err, sizeof err);
		if (rc) {
			ts_error("%s", err);
			exit_code = rc == TS_EINVAL ? TS_EXIT_USAGE : TS_EXIT_STORE;
			goto out_sinks;
		}
	}
	if (o->report_dir) {
		ts_report_opts rpo = {.profile = eo.profile, .since = INT64_MIN, .until = INT64_MAX,
				      .source = store->ops->name[0] == 'm' ? "the memory store of this backfill"
									 : "the store of this backfill"};
		if (!(r.report = ts_report_new(&rpo))) {
			ts_error("out of memory");
			exit_code = TS_EXIT_STORE;
			goto out_sinks;
		}
	}
	r.reg = reg;
	if (stream) {
		eo.clock = clock_cb;
		eo.wall = wall_seconds;
	}
	eo.on_future = on_future;
	eo.future_ctx = &r;
	if (o->marked_out) {
		if (ts_marked_open(&r.marked, o->marked_out)) {
			exit_code = TS_EXIT_USAGE;
			goto out_sinks;
		}
		eo.emit_marked = ts_marked_emit;
		eo.marked_ctx = &r.marked;
	}
	if (r.leases) { /* --group: only the partitions this worker owns */
		eo.owns = ts_cli_owns;
		eo.owns_ctx = r.leases;
	}
	r.engine = ts_engine_new(&eo, reg, store, o->report_dir ? tee_emit : ts_sinks_emit_fn,
				 o->report_dir ? (void *)&r : (void *)r.sinks);
	if (!r.engine) {
		ts_error("out of memory");
		exit_code = TS_EXIT_STORE;
		goto out_sinks;
	}

	r.t0 = ts_cli_now();
	r.lateness = eo.lateness;
	if (stream) {
		rc = ts_cli_stream(&r, &o->sc, store, &o->ro, &o->po, eo.force);
		if (rc) {
			exit_code = rc;
			goto out_engine;
		}
	} else {
		/* a store connection that breaks is an error to handle (the
		 * store reconnects), not a signal that ends the run */
		signal(SIGPIPE, SIG_IGN);
		r.progress = !r.quiet && isatty(2);
		ts_source_cb cb = {ts_cli_on_record, ts_cli_on_skip, ts_cli_on_file_done, &r,
				   ts_cli_on_file_begin, NULL, 0, ts_cli_on_passed};
		int s3 = o->npaths && ts_cli_is_s3(o->paths[0]);
		if (s3) {
			/* listed, the done objects left out, fetched and read */
			if ((rc = ts_cli_backfill_s3(&r, o, store, &cb))) {
				exit_code = rc;
				if (!r.fatal)
					goto out_engine;
			}
		} else if (ts_folders_collect(o->paths, o->npaths, &paths, &r.src, &cb)) {
			ts_error("out of memory");
			exit_code = TS_EXIT_STORE;
			goto out_engine;
		}
		if (!s3 && !eo.force &&
		    (rc = ts_cli_drop_done_files(store, &paths, &r.files_already))) {
			ts_error("%s", rc == TS_ESTORE ? store->errstr : ts_strerror(rc));
			exit_code = TS_EXIT_STORE;
			goto out_engine;
		}
		if (!s3)
			r.files_total = paths.n;
		if (r.leases && !s3) {
			r.files_total = 0; /* counted per batch */
			ts_cli_backfill_group(&r, o, store, &paths, &cb, &eo,
					      o->report_dir ? tee_emit : ts_sinks_emit_fn,
					      o->report_dir ? (void *)&r : (void *)r.sinks);
		} else if (!r.fatal && (s3 ? !r.src.files : !r.files_total) && r.files_already &&
			   strcmp(store->ops->name, "redis") == 0) {
			/* every file is counted already (s3://: fetched, and none read,
			 * e.g. a note looked at and passed over): nothing is counted
			 * again, and the events are derived again from the store's counts */
			rc = ts_cli_redetect(&rd, store, reg, &eo, INT64_MAX,
					     o->report_dir ? tee_emit : ts_sinks_emit_fn,
					     o->report_dir ? (void *)&r : (void *)r.sinks);
			if (rc == TS_ESTORE && rd.view && rd.view->errstr[0])
				memcpy(store->errstr, rd.view->errstr, sizeof store->errstr);
			if (rd.engine) {
				ts_engine_free(r.engine);
				r.engine = rd.engine;
				rd.engine = NULL;
			}
			r.fatal = rc;
		} else {
			if (!s3) {
				rc = ts_source_read_all(&paths, o->threads, &o->ro, &o->po, &r.src,
							&cb);
				if (rc < 0 && !r.fatal)
					r.fatal = rc;
			}
			if (!r.fatal)
				r.fatal = ts_engine_finish(r.engine);
		}
	}
	ts_cli_progress_clear(&r);
	double secs = ts_cli_now() - r.t0;
	if (o->report_dir && !r.fatal) {
		ts_report_stats rs;
		double t = ts_cli_now();
		rc = ts_report_write(r.report, o->report_dir, reg, store, &rs, err, sizeof err);
		if (rc) {
			ts_error("report: %s", err);
			exit_code = TS_EXIT_STORE;
		} else if (!r.quiet) {
			fprintf(stderr, "trailsight: report of %zu insights written to %s in %.2f s\n",
				rs.insights, o->report_dir, ts_cli_now() - t);
		}
	}
	/* sinks: a last try at what they hold, then read what they gave up on */
	ts_sinks_finish(r.sinks);
	if (stream && o->sc.metrics_file)
		ts_run_write_metrics(o->sc.metrics_file, &r, store);
	uint64_t dropped = ts_sinks_given_up(r.sinks);

	ts_run_counters cn;
	ts_run_counters_get(&r, secs, &cn);
	if (r.fatal) {
		ts_error("run stopped: %s", r.fatal == TS_ESTORE && store->errstr[0]
						    ? store->errstr : ts_strerror(r.fatal));
		exit_code = TS_EXIT_STORE;
	}
	if (!r.quiet)
		ts_run_print_summary(&r, &cn, store);
	if (o->stats_path) {
		FILE *f = fopen(o->stats_path, "w");
		if (!f) {
			ts_error("cannot write '%s': %s", o->stats_path, strerror(errno));
			if (!exit_code)
				exit_code = TS_EXIT_USAGE;
		} else {
			ts_run_write_stats(f, &r, &cn, store);
			if (fclose(f) != 0 && !exit_code)
				exit_code = TS_EXIT_USAGE;
		}
	}
	if (!exit_code && dropped) {
		ts_error("%llu insight events could not be delivered: exit status 2",
			 (unsigned long long)dropped);
		exit_code = TS_EXIT_STORE;
	}
	if (!exit_code && r.marked.failed)
		exit_code = TS_EXIT_STORE;
	if (!exit_code && o->strict && (cn.skipped || cn.files_failed))
		exit_code = TS_EXIT_SKIPPED;
out_engine:
	ts_pathlist_free(&paths);
	ts_engine_free(r.engine);
	ts_cli_redetect_free(&rd);
out_sinks:
	ts_marked_close(&r.marked);
	ts_report_free(r.report);
	ts_sinks_free(r.sinks);
out_store:
	if (r.leases && ts_leases_release_all(r.leases))
		ts_error("releasing the leases: %s", store->errstr);
	ts_leases_free(r.leases);
	ts_store_free(store);
out_reg:
	ts_registry_free(reg);
	return exit_code;
}
