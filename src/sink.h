/* sink.h - where insight events go, and a set of sinks fed by the engine.
 *
 * A sink takes one event at a time (one line of JSON, no newline) and
 * delivers it to one destination, named by a spec string:
 *   -                  NDJSON on stdout (or opts.stdout_fp), flushed per event;
 *   dir:PATH[?context=1]
 *                      CloudTrail-Insight log files under PATH, in the S3
 *                      layout of docs/DESIGN.md (gzip of {"Records":[...]}),
 *                      records with AWS's keys only unless context=1 keeps
 *                      insightDetails.trailsightContext;
 *   redis-stream:redis://[user:pass@]host:port[/db]#KEY
 *                      XADD KEY MAXLEN ~ N * event JSON;
 *   webhook:URL        HTTP POST of each event (application/json), with
 *                      undeliverable events spooled to disk and resent;
 *   alertmanager:URL   the same machinery, posting Alertmanager v2 alerts
 *                      to URL/api/v2/alerts (firing alerts re-posted every
 *                      alert_repost_ms, resolved by the End);
 *   pagerduty:KEY[@URL] PagerDuty Events v2 trigger/resolve, dedup_key the
 *                      sharedEventID (pagerduty:URL takes the key from
 *                      $TRAILSIGHT_PAGERDUTY_KEY);
 *   slack:URL          {"text": one line} for Slack-compatible webhooks;
 *   eventbridge:URL    the EventBridge envelope of an AWS Insight, the
 *                      record under "detail" without trailsightContext;
 *   exec:CMD           NDJSON to the standard input of /bin/sh -c CMD,
 *                      restarted with a backoff when it exits; events it
 *                      had not read are written again (at least once).
 *
 * A failing destination never fails the caller: emit returns 0 unless out of
 * memory; the failure is logged (once when the sink starts failing, once
 * when it recovers) and counted in the sink's stats. Sinks that can retry
 * hold what they could not deliver (dir: the open batches; redis-stream: a
 * bounded queue in memory; webhook: a spool folder on disk, and a bounded
 * queue in memory while the spool cannot be written) and retry after an
 * exponential backoff, from ts_sink_tick() or the next emit. An event given
 * up on (a queue or spool over its cap, a webhook answering 4xx, what
 * ts_sink_finish() cannot deliver or keep) is counted as dropped and logged
 * as an error, never silently; a run of drops for one cap is logged once,
 * with a count when it ends.
 *
 * Time: a sink reads a monotonic millisecond clock, opts.clock_ms (tests
 * pass a fake one); it is used for backoffs and for closing idle files only.
 * File names and paths come from the events themselves, never the clock.
 * Sinks are not thread-safe: one thread drives a sink or a set.
 */
#ifndef TS_SINK_H
#define TS_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

/* Counters of one sink, for --stats and metrics. */
typedef struct ts_sink_stats {
	uint64_t events;    /* events handed to the sink */
	uint64_t delivered; /* events that reached the destination */
	uint64_t failed;    /* delivery attempts that failed (write, XADD, POST) */
	uint64_t spooled;   /* events put aside for a retry (queue or spool) */
	uint64_t dropped;   /* events given up on, each logged as an error */
	uint64_t pending;   /* events held now (open files, queue, spool) */
} ts_sink_stats;

typedef struct ts_sink_opts {
	FILE *stdout_fp;               /* "-" writes here; NULL: stdout */
	int64_t (*clock_ms)(void *ctx); /* monotonic ms; NULL: CLOCK_MONOTONIC */
	void *clock_ctx;
	/* retries (dir writes, redis-stream, webhook) */
	int retry_first_ms;     /* first backoff; 0: 1000 */
	int retry_max_ms;       /* backoff cap; 0: 60000 */
	unsigned retry_batch;   /* events resent per sink per tick; 0: 1000 */
	/* dir: a file per (account, region, UTC day of eventTime) is open until
	 * it holds dir_max_events events or dir_max_bytes bytes of JSON, or
	 * dir_max_age_ms after its first event (checked by tick), or close. */
	unsigned dir_max_events; /* 0: 100 */
	int dir_max_age_ms;      /* 0: 60000 */
	size_t dir_max_bytes;    /* 0: 8 MiB */
	unsigned dir_max_open;   /* open files; past it the oldest is written; 0: 256 */
	/* redis-stream */
	long long stream_maxlen;  /* MAXLEN ~ N; 0: 100000 */
	int redis_timeout_ms;     /* connect and each command; 0: 2000 */
	size_t queue_max_events;  /* held in memory while Redis is away, while dir
				     writes fail, while a webhook spool cannot be
				     written; 0: 10000 */
	/* webhook */
	int http_connect_timeout_ms; /* 0: 2000 */
	int http_timeout_ms;         /* whole request; 0: 5000 */
	const char *spool_dir; /* each webhook spools under SPOOL/webhook-<hash of
				  URL>; NULL: $STATE_DIRECTORY/spool, else
				  $XDG_STATE_HOME/trailsight/spool, else
				  $HOME/.local/state/trailsight/spool */
	size_t spool_max_events; /* 0: 1000000 */
	/* alertmanager: firing alerts re-posted this often; 0: 60000 */
	int alert_repost_ms;
	/* exec: at finish, how long to wait for the command to read what is
	 * queued and exit; 0: 10000 */
	int exec_finish_ms;
} ts_sink_opts;

typedef struct ts_sink ts_sink;

/* Open one sink from its spec; opts may be NULL (all defaults) and is
 * copied (spool_dir too). Returns 0 and *out, or TS_EINVAL (a spec it does
 * not understand), TS_EIO (a folder that cannot be made or a spool locked
 * by another process), TS_ENOMEM; the message in errbuf names the sink and
 * the reason. Unreachable servers are not an error here: the sink starts
 * and retries. */
int ts_sink_open(const char *spec, const ts_sink_opts *opts, ts_sink **out, char *errbuf,
		 size_t errlen);
/* Deliver one event (json[0..len), one JSON object). 0, or TS_ENOMEM;
 * any other failure is counted and logged, not returned. */
int ts_sink_emit(ts_sink *s, const char *json, size_t len);
/* Call about once a second: retries what is held once its backoff has
 * passed, writes dir files that are old enough. Cannot fail. */
void ts_sink_tick(ts_sink *s);
/* The end of a run: one last try at what is held, backoff or not (dir
 * files, the redis-stream queue, one pass over the webhook spool, the
 * webhook's memory queue into the spool); what can be neither delivered nor
 * kept on disk is given up on: counted in st.dropped and logged as one
 * error naming the reason and path. Events left in a webhook spool stay on
 * disk for the next start (st.pending), not dropped. The sink stays usable;
 * a second call with no emit between does nothing. NULL is a no-op. */
void ts_sink_finish(ts_sink *s);
/* ts_sink_finish(), then free. NULL is a no-op. */
void ts_sink_close(ts_sink *s);
/* The spec with secrets left out ("webhook:https://host/…",
 * "redis-stream:redis://user@host:6379/0#KEY"), for logs and metric
 * labels; owned by the sink. */
const char *ts_sink_name(const ts_sink *s);
/* "stdout", "dir", "redis-stream", "webhook", "alertmanager",
 * "pagerduty", "slack", "eventbridge" or "exec" (static storage). */
const char *ts_sink_kind(const ts_sink *s);
void ts_sink_get_stats(const ts_sink *s, ts_sink_stats *st);

/* --- a set of sinks (repeatable --out) --- */
typedef struct ts_sinks ts_sinks;

/* An empty set with the options every sink of it opens with (copied;
 * NULL: defaults). NULL when out of memory. */
ts_sinks *ts_sinks_new(const ts_sink_opts *opts);
/* Open a sink from spec and add it. Same returns as ts_sink_open(). */
int ts_sinks_add(ts_sinks *set, const char *spec, char *errbuf, size_t errlen);
/* Deliver one event to every sink, in the order they were added; one
 * sink's failure never keeps the event from the others. 0, or TS_ENOMEM
 * when some sink ran out of memory (the others still got the event). */
int ts_sinks_emit(ts_sinks *set, const char *json, size_t len);
/* ts_sinks_emit() with the engine's ts_emit_fn signature (ctx: the set). */
int ts_sinks_emit_fn(void *ctx, const char *json, size_t len);
/* ts_sink_tick() on every sink. */
void ts_sinks_tick(ts_sinks *set);
size_t ts_sinks_count(const ts_sinks *set);
/* The i-th sink (borrowed, for its name and stats), NULL past the end. */
ts_sink *ts_sinks_get(const ts_sinks *set, size_t i);
/* ts_sink_finish() on every sink: read the stats after it to know what a
 * run gave up on. */
void ts_sinks_finish(ts_sinks *set);
/* After ts_sinks_finish: each sink that gave up on events named on stderr
 * with how many; returns their total. */
uint64_t ts_sinks_given_up(const ts_sinks *set);
/* ts_sink_close() on every sink, then free the set. NULL is a no-op. */
void ts_sinks_free(ts_sinks *set);

#endif
