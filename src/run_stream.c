/* run_stream.c - `trailsight stream`: reads a watched folder, stdin, a
 * Redis Stream or an SQS queue (run_sqs.c) until SIGTERM or SIGINT, the end of stdin or a fatal error,
 * checkpointing once a second when there is news (and at once when events
 * wait), advancing time over idle sources, letting the sinks retry and
 * writing the metrics file. The signal flag is the one mutable global of
 * the command line; only the handler sets it.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "lease.h"
#include "watch.h"

static volatile sig_atomic_t stop_flag;

int ts_cli_stopping(void) { return stop_flag != 0; }

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int ts_cli_stream_checkpoint(ts_run *r)
{
	int rc = ts_engine_checkpoint(r->engine);
	r->last_checkpoint = ts_cli_now();
	r->since_checkpoint = 0;
	/* what the checkpoint stored may be acknowledged now */
	if (!rc && r->rstream && ts_rstream_ack(r->rstream)) {
		ts_error("%s", ts_rstream_error(r->rstream));
		rc = TS_ESTORE;
	}
	if (!rc)
		rc = ts_cli_sqs_ack(r);
	return rc;
}

typedef struct ts_stream_ctx {
	ts_run *r;
	const ts_stream_cfg *sc;
	ts_store *store;
	double last_tick, last_metrics, advanced_at;
	int idle_advanced;
	uint64_t records_seen;
} stream_ctx;

/* Once a second or so: sinks retry, an idle source advances time, a
 * checkpoint writes what is new, metrics are written. Non-zero: stop. */
static int housekeeping(stream_ctx *x)
{
	ts_run *r = x->r;
	double t = ts_cli_now();
	if (r->src.records != x->records_seen) {
		x->records_seen = r->src.records;
		r->last_record = t;
		x->idle_advanced = 0;
	}
	int rc = 0;
	if (t - r->last_record >= x->sc->idle_timeout) {
		if (!x->idle_advanced) {
			rc = ts_engine_close_open(r->engine);
			x->idle_advanced = 1;
			x->advanced_at = t;
		} else if (t - x->advanced_at >= 60) {
			rc = ts_engine_advance(r->engine, 1);
			x->advanced_at += 60;
		}
	}
	if (!rc && (r->since_checkpoint || ts_engine_pending_events(r->engine) ||
		    x->idle_advanced) && t - r->last_checkpoint >= 1.0)
		rc = ts_cli_stream_checkpoint(r);
	if (rc && !r->fatal)
		r->fatal = rc;
	if (t - x->last_tick >= 1.0) {
		ts_sinks_tick(r->sinks);
		x->last_tick = t;
	}
	if (x->sc->metrics_file && t - x->last_metrics >= x->sc->metrics_interval) {
		ts_run_write_metrics(x->sc->metrics_file, r, x->store);
		x->last_metrics = t;
	}
	return stop_flag || r->fatal;
}

static int stdin_idle(void *ctx) { return housekeeping(((ts_run *)ctx)->stream_ctx); }
static int sqs_tick(void *ctx) { return housekeeping(ctx); }

/* Read one file of the watched folder and checkpoint if it made events
 * or a second has passed. */
static int stream_file(stream_ctx *x, const char *path, const ts_reader_opts *ro,
		       const ts_parser_opts *po)
{
	ts_run *r = x->r;
	ts_source_cb cb = {ts_cli_on_record, ts_cli_on_skip, ts_cli_on_file_done, r,
			   ts_cli_on_file_begin, NULL, 0, ts_cli_on_passed};
	int rc = ts_source_read(path, ro, po, &r->src, &cb);
	if (rc < 0 && !r->fatal)
		r->fatal = rc;
	if (!r->fatal && (ts_engine_pending_events(r->engine) || ts_cli_now() - r->last_checkpoint >= 1.0))
		r->fatal = ts_cli_stream_checkpoint(r);
	return r->fatal;
}

/* --group: the leases renewed if due, and the waiting files of the
 * partitions just claimed (their leases lapsed) or of those whose newer
 * file just came, read now, in the order they came (run_group.c). */
static int group_catch_up(stream_ctx *x, const ts_reader_opts *ro, const ts_parser_opts *po)
{
	ts_run *r = x->r;
	ts_pathlist due = {0};
	if (r->leases && !r->fatal && !ts_cli_lease_tick(r) &&
	    (r->fatal = ts_cli_group_poll(r, x->store, &due)) == 0)
		for (size_t i = 0; i < due.n && !stop_flag && !r->fatal; i++) {
			stream_file(x, due.paths[i], ro, po);
			housekeeping(x);
		}
	ts_pathlist_free(&due);
	return r->fatal;
}

/* A file of the watched folder: read now, or (--group) when its
 * partition is another worker's, left waiting; then what waits and is
 * due. */
static int group_file(stream_ctx *x, const char *path, const ts_reader_opts *ro,
		      const ts_parser_opts *po)
{
	ts_run *r = x->r;
	int now = 1;
	if (r->leases && !r->fatal && (r->fatal = ts_cli_group_file(r, path, &now)))
		return r->fatal;
	if (now && stream_file(x, path, ro, po))
		return r->fatal;
	return group_catch_up(x, ro, po);
}

int ts_cli_stream(ts_run *r, const ts_stream_cfg *sc, ts_store *store, const ts_reader_opts *ro,
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
	r->last_record = r->last_checkpoint = ts_cli_now();
	stream_ctx x = {.r = r, .sc = sc, .store = store};
	x.last_tick = x.last_metrics = ts_cli_now() - 3600;
	ts_info("stream: %s, store %s", sc->watch_dir ? sc->watch_dir : sc->sqs_url ? sc->sqs_url : "stdin",
		store->ops->name);
	if (sc->sqs_url) {
		int rc = ts_cli_stream_sqs(r, sc, store, ro, po, force, sqs_tick, &x);
		if (rc) {
			ts_cli_sqs_free(r->sqs);
			r->sqs = NULL;
			return rc;
		}
	} else if (sc->redis_stream) {
		char err[1024], host[256] = "trailsight";
		gethostname(host, sizeof host - 1);
		int rc = ts_rstream_open(sc->redis_stream, sc->group,
					 sc->consumer ? sc->consumer : host, &r->rstream, err, sizeof err);
		if (rc) {
			ts_error("%s", err);
			return rc == TS_EINVAL ? TS_EXIT_USAGE : TS_EXIT_STORE;
		}
		ts_parser *p = ts_parser_new(po);
		if (!p) {
			ts_rstream_free(r->rstream);
			r->rstream = NULL;
			return TS_EXIT_STORE;
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
					pr = ts_cli_on_record(r, &rec, name, 0);
				if (pr == TS_SOURCE_STOP) { /* a stop after this record, or a fatal error */
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
					ts_cli_on_skip(r, pr, name, 0, detail);
				} else {
					r->src.records++;
				}
				done = i + 1;
			}
			if (done < n)
				ts_rstream_unread(r->rstream, n - done);
			if (!r->fatal && n && (ts_engine_pending_events(r->engine) ||
					       ts_cli_now() - r->last_checkpoint >= 1.0))
				r->fatal = ts_cli_stream_checkpoint(r);
			housekeeping(&x);
		}
		ts_parser_free(p);
	} else if (sc->use_stdin) {
		ts_source_cb cb = {ts_cli_on_record, ts_cli_on_skip, NULL, r, NULL, stdin_idle, 1000, NULL};
		cb.ctx = r;
		/* stdin_idle needs the stream context: pass it through run */
		r->stream_ctx = &x;
		int rc = ts_source_read("-", ro, po, &r->src, &cb);
		if (rc < 0 && !r->fatal)
			r->fatal = rc;
		/* the end of the input (not a signal): close what is open, as
		 * an idle timeout would */
		if (!rc && !stop_flag && !r->fatal)
			r->fatal = ts_engine_close_open(r->engine);
	} else {
		ts_watch *w = NULL;
		char err[512];
		int rc = ts_watch_new(sc->watch_dir, &w, err, sizeof err);
		if (rc) {
			ts_error("%s", err);
			return TS_EXIT_USAGE;
		}
		ts_pathlist paths = {0};
		ts_source_cb cb = {ts_cli_on_record, ts_cli_on_skip, ts_cli_on_file_done, r,
			   ts_cli_on_file_begin, NULL, 0, ts_cli_on_passed};
		char *args[1] = {(char *)sc->watch_dir};
		rc = ts_folders_collect(args, 1, &paths, &r->src, &cb);
		for (size_t i = 0; i < paths.n && !rc; i++)
			rc = ts_watch_seen(w, paths.paths[i]);
		if (!rc && !force)
			rc = ts_cli_drop_done_files(store, &paths, &r->files_already);
		if (rc) {
			ts_error("%s", rc == TS_ESTORE ? store->errstr : ts_strerror(rc));
			ts_pathlist_free(&paths);
			ts_watch_free(w);
			return TS_EXIT_STORE;
		}
		ts_info("stream: %zu files to read first, %zu folders watched", paths.n,
			ts_watch_count(w));
		r->watch = w;
		for (size_t i = 0; i < paths.n && !stop_flag && !r->fatal; i++) {
			group_file(&x, paths.paths[i], ro, po);
			housekeeping(&x);
		}
		ts_pathlist_free(&paths);
		while (!stop_flag && !r->fatal) {
			ts_pathlist ready = {0};
			/* --group: back before a lease renewal is due */
			int ms = 1000;
			if (r->leases) {
				double due = ts_leases_due_in(r->leases, ts_cli_now());
				ms = due * 1000 < ms ? (int)(due * 1000) + 1 : ms;
			}
			int n = ts_watch_poll(w, ms, &ready);
			if (n < 0) {
				ts_error("watch '%s': %s", sc->watch_dir, ts_strerror(n));
				r->fatal = n;
			}
			/* a stop between two files: the rest are read after a
			 * restart (none of them is marked counted) */
			for (size_t i = 0; i < ready.n && !stop_flag && !r->fatal; i++) {
				group_file(&x, ready.paths[i], ro, po);
				housekeeping(&x);
			}
			ts_pathlist_free(&ready);
			group_catch_up(&x, ro, po); /* --group: leases that lapsed */
			housekeeping(&x);
		}
		r->watch = NULL;
		ts_watch_free(w);
	}
	/* graceful end: store what is counted, write what is made */
	if (!r->fatal)
		r->fatal = ts_cli_stream_checkpoint(r);
	ts_cli_sqs_free(r->sqs);
	r->sqs = NULL;
	ts_rstream_free(r->rstream);
	r->rstream = NULL;
	ts_cli_group_defer_free(r->defer);
	r->defer = NULL;
	return 0;
}
