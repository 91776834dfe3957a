/* sink_kit.h - the toolkit the sink backends (src/sink_*.c) are built
 * with, as ts_store_ops is for the store backends: the backend table and
 * the ts_sink base struct, the retry schedule, failure and drop logging,
 * the in-memory event queue, folder and write helpers, and the event-key
 * scan. sink.c (the public factory and the set) and the backends include
 * it; nothing else does. The toolkit calls no backend: the factory depends
 * on the backends, the backends on the toolkit, never the other way.
 */
#ifndef TS_SINK_KIT_H
#define TS_SINK_KIT_H

#include <stddef.h>
#include <stdint.h>

#include "backoff.h"
#include "sink.h"
#include "sink_format.h"
#include "util.h"

typedef struct ts_sink_ops {
	const char *kind;
	/* Deliver or hold one event; stats updated. 0 or TS_ENOMEM. */
	int (*emit)(ts_sink *s, const char *json, size_t len, int64_t now);
	void (*tick)(ts_sink *s, int64_t now);
	/* See ts_sink_finish(). */
	void (*finish)(ts_sink *s, int64_t now);
	/* Free the backend (finish has run). */
	void (*close)(ts_sink *s, int64_t now);
} ts_sink_ops;

struct ts_sink {
	const ts_sink_ops *ops;
	ts_sink_opts o;     /* defaults filled in; o.spool_dir is not kept (NULL) */
	char name[192];     /* see ts_sink_name() */
	ts_sink_stats st;
	int failing;        /* 1 between a logged failure and the recovery */
	int finished;       /* 1 after ts_sink_finish() until the next emit */
	int dropping;       /* 1 between a logged ts_sink_drop_once() and the recovery */
	uint64_t drop_quiet; /* drops since, counted and not logged */
};

/* Set b to the retry schedule of o (retry_first_ms doubling up to
 * retry_max_ms, no budget), for ts_backoff_fail/ready/ok (backoff.h). */
void ts_sink_backoff_init(ts_backoff *b, const ts_sink_opts *o);
/* Log "sink NAME: <message>" as a warning when the sink starts failing
 * (not again while it stays failing); ts_sink_ok() logs the recovery, as a
 * warning too. */
void ts_sink_fail(ts_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ts_sink_ok(ts_sink *s);
/* Log "sink NAME: dropped N event(s): <reason>" as an error and count them. */
void ts_sink_drop(ts_sink *s, uint64_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* ts_sink_drop() for what repeats per event (a queue over its cap, a
 * broken stdout): the first drop of a run is logged, the next ones only
 * counted, until ts_sink_ok() or finish logs how many more went. */
void ts_sink_drop_once(ts_sink *s, uint64_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Log the count of drops ts_sink_drop_once() did not log (ts_sink_ok()
 * and finish call it), and end the run. */
void ts_sink_drop_report(ts_sink *s);

/* mkdir -p with mode 0755 (0700 when private). 0 or TS_EIO (errno kept). */
int ts_sink_mkdirs(const char *path, int private_);
/* Write all of p[0..n) to fd, retrying short writes and EINTR. 0 or -1. */
int ts_sink_write_all(int fd, const void *p, size_t n);

/* Backend constructors: spec is the part after the prefix ("PATH", the
 * redis URL with #KEY, the URL); o has its defaults filled in. Each
 * allocates its sink zeroed and sets base.ops, base.o and base.name. Same
 * returns as ts_sink_open(). */
int ts_sink_stdout_new(const ts_sink_opts *o, ts_sink **out, char *errbuf, size_t errlen);
int ts_sink_dir_new(const char *spec, const ts_sink_opts *o, ts_sink **out, char *errbuf,
		    size_t errlen);
int ts_sink_redis_new(const char *spec, const ts_sink_opts *o, ts_sink **out, char *errbuf,
		      size_t errlen);
/* The webhook family: spec is what follows "webhook:", "alertmanager:",
 * "pagerduty:", "slack:" or "eventbridge:"; fmt says which (sink.h). */
int ts_sink_webhook_new(ts_sink_format fmt, const char *spec, const ts_sink_opts *o,
			const char *spool_base, ts_sink **out, char *errbuf, size_t errlen);
int ts_sink_exec_new(const char *cmd, const ts_sink_opts *o, ts_sink **out, char *errbuf,
		     size_t errlen);
/* The sink's clock now (opts.clock_ms, else CLOCK_MONOTONIC), in ms. */
int64_t ts_sink_now(const ts_sink *s);

/* A FIFO of event copies held in memory (redis-stream while Redis is away;
 * webhook while its spool cannot be written). The queue owns its items
 * (each a copy of the event, NUL-terminated); caps and stats are the
 * caller's. A zeroed struct is an empty queue. */
typedef struct ts_sink_qitem {
	struct ts_sink_qitem *next;
	size_t len;
	char data[];
} ts_sink_qitem;

typedef struct ts_sink_queue {
	ts_sink_qitem *head, *tail; /* NULL when empty */
	size_t n;
} ts_sink_queue;

/* Append a copy of json[0..len). 0 or TS_ENOMEM (the queue unchanged). */
int ts_sink_queue_push(ts_sink_queue *q, const char *json, size_t len);
/* Free the oldest event (the queue must not be empty). */
void ts_sink_queue_pop(ts_sink_queue *q);
/* Free every event. */
void ts_sink_queue_clear(ts_sink_queue *q);

/* The top-level fields of an event that sinks need, as slices of the
 * event text (raw JSON string contents, quotes left out). A field that is
 * absent, not a string, or holds a backslash escape has p == NULL. */
typedef struct ts_event_keys {
	ts_str account;    /* recipientAccountId */
	ts_str region;     /* awsRegion */
	ts_str event_time; /* eventTime */
	ts_str event_id;   /* eventID */
	/* json[ctx_from..ctx_to) is insightDetails.trailsightContext with one
	 * comma next to it: cut out, the rest is the event without it.
	 * ctx_to == 0 when the event has none. */
	size_t ctx_from, ctx_to;
} ts_event_keys;
/* Scan json[0..len) for them. 0, or TS_EJSON when the text is not one
 * JSON object (nested values are skipped by bracket counting, not
 * validated; insightDetails, when an object, is walked member by member). */
int ts_sink_event_keys(const char *json, size_t len, ts_event_keys *k);

#endif
