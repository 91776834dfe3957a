/* run_detect.c - `trailsight detect`: re-detection over the counts a Redis
 * store already holds (options parsed by cli_opts.c in TS_CLI_DETECT mode).
 *
 * Three stores: the Redis store given (read only: saved states for the
 * series, counts, attribution hours), a memory store the engine counts
 * into as a memory-store backfill does, and the view over both that the
 * engine is given (store_view.c: attribution hours from Redis, the rest
 * from memory). The engine replays the Redis counts (engine_replay.c) and
 * finishes; its events go to the sinks, sorted, as a backfill's. This
 * file owns the registry, the stores, the sinks and the engine of the run
 * and frees them all before it returns.
 */
#include <errno.h>
#include <signal.h>

#include "cli.h"

typedef struct detect_run {
	ts_sinks *sinks;
	ts_marked_out marked; /* --marked-out */
} detect_run;

static void print_summary(const ts_engine_replay_stats *rs, const ts_engine_stats *es,
			  double secs, const ts_store *redis)
{
	char a[21] = "-", b[21] = "-";
	if (rs->first != INT64_MIN) {
		ts_format_minute(rs->first, a);
		ts_format_minute(rs->last, b);
	}
	fprintf(stderr,
		"trailsight: detect: %llu partitions, %llu series (%llu metrics) from the store, "
		"%llu counts of the minutes %s to %s replayed (%llu metric-days read, %llu round "
		"trips) in %.2f s\n",
		(unsigned long long)rs->partitions, (unsigned long long)rs->series,
		(unsigned long long)rs->metrics, (unsigned long long)rs->counts, a, b,
		(unsigned long long)rs->days, (unsigned long long)redis->round_trips, secs);
	fprintf(stderr,
		"trailsight: insights: %llu (%llu Starts, %llu Ends), %llu still open at the end, "
		"%llu marked, %llu capped; %llu baselines fitted\n",
		(unsigned long long)(es->starts + es->ends), (unsigned long long)es->starts,
		(unsigned long long)es->ends, (unsigned long long)es->open_at_end,
		(unsigned long long)es->marked, (unsigned long long)es->capped,
		(unsigned long long)es->fits);
}

int ts_cli_redetect(ts_redetect *d, ts_store *redis, ts_registry *reg, const ts_engine_opts *eo,
		    int64_t until, ts_emit_fn emit, void *ctx)
{
	memset(d, 0, sizeof *d);
	ts_store_opts so = {.retention_days = redis->retention_days};
	int rc = ts_store_mem_new(reg, &so, &d->mem);
	if (!rc)
		rc = ts_store_view_new(d->mem, redis, &d->view);
	if (rc)
		return rc;
	ts_engine_opts o = *eo;
	o.sorted = 1;
	if (!(d->engine = ts_engine_new(&o, reg, d->view, emit, ctx)))
		return TS_ENOMEM;
	rc = ts_engine_replay(d->engine, redis, until, &d->rs);
	if (!rc)
		rc = ts_engine_finish(d->engine);
	if (rc == TS_ESTORE && !d->view->errstr[0])
		memcpy(d->view->errstr, redis->errstr, sizeof d->view->errstr);
	return rc;
}

void ts_cli_redetect_free(ts_redetect *d)
{
	ts_engine_free(d->engine);
	ts_store_free(d->view);
	ts_store_free(d->mem);
	memset(d, 0, sizeof *d);
}

int ts_cli_detect(ts_cli_opts *o)
{
	detect_run d = {0};
	char err[512];
	int rc, exit_code = TS_EXIT_OK;
	ts_store *redis = NULL;
	ts_redetect rd = {0};
	ts_registry *reg = ts_registry_new(&o->caps);
	if (!reg) {
		ts_error("out of memory");
		return TS_EXIT_STORE;
	}
	int hd = o->eo.profile.history_days;
	for (size_t i = 0; i < o->overrides.n; i++)
		hd = o->overrides.v[i].p.history_days > hd ? o->overrides.v[i].p.history_days : hd;
	ts_store_opts so = {.retention_days = hd + 2};
	(void)signal(SIGPIPE, SIG_IGN);
	if ((rc = ts_store_open(o->store_spec, reg, &so, &redis, err, sizeof err))) {
		ts_error("%s", err);
		exit_code = rc == TS_EINVAL ? TS_EXIT_USAGE : TS_EXIT_STORE;
		goto out;
	}
	ts_sink_opts sko = {.spool_dir = o->spool_dir,
			    .queue_max_events = o->sink_queue,
			    .alert_repost_ms = o->alert_repost_s * 1000};
	if (!(d.sinks = ts_sinks_new(&sko))) {
		ts_error("out of memory");
		exit_code = TS_EXIT_STORE;
		goto out;
	}
	if (!o->nouts)
		o->outs[o->nouts++] = "-";
	for (size_t i = 0; i < o->nouts; i++)
		if ((rc = ts_sinks_add(d.sinks, o->outs[i], err, sizeof err))) {
			ts_error("%s", err);
			exit_code = rc == TS_EINVAL ? TS_EXIT_USAGE : TS_EXIT_STORE;
			goto out;
		}
	ts_engine_opts eo = o->eo;
	if (o->marked_out) {
		if (ts_marked_open(&d.marked, o->marked_out)) {
			exit_code = TS_EXIT_USAGE;
			goto out;
		}
		eo.emit_marked = ts_marked_emit;
		eo.marked_ctx = &d.marked;
	}

	double t0 = ts_cli_now();
	rc = ts_cli_redetect(&rd, redis, reg, &eo, o->until, ts_sinks_emit_fn, d.sinks);
	double secs = ts_cli_now() - t0;
	ts_sinks_finish(d.sinks);
	uint64_t dropped = ts_sinks_given_up(d.sinks);
	if (rc) {
		const char *why = ts_strerror(rc);
		if (rc == TS_ESTORE && rd.view && rd.view->errstr[0])
			why = rd.view->errstr;
		else if (rc == TS_ESTORE && redis->errstr[0])
			why = redis->errstr;
		ts_error("detect stopped: %s", why);
		exit_code = TS_EXIT_STORE;
	}
	ts_engine_stats es = {0};
	if (rd.engine)
		ts_engine_get_stats(rd.engine, &es);
	if (!o->quiet)
		print_summary(&rd.rs, &es, secs, redis);
	if (!exit_code && (dropped || d.marked.failed))
		exit_code = TS_EXIT_STORE;
out:
	ts_cli_redetect_free(&rd);
	ts_marked_close(&d.marked);
	ts_sinks_free(d.sinks);
	ts_store_free(redis);
	ts_registry_free(reg);
	return exit_code;
}
