/* sink.c - the public side of sinks: opening one from its spec (the
 * factory, which alone knows the backends), the calls that dispatch to a
 * backend, and the set of sinks. What backends share is in sink_kit.c.
 *
 * A ts_sink is the first member of each backend's struct (sink_dir.c,
 * sink_redis.c, sink_webhook.c, sink_exec.c, sink_stdout.c); ts_sink_close() calls
 * the backend's close, which frees it. A ts_sinks owns its sinks and a copy
 * of its options (the spool_dir string included).
 *
 * Invariant for every backend: st.events + (events a webhook found in its
 * spool at open) == st.delivered + st.dropped + st.pending once a call
 * returns; failed and spooled count attempts and set-asides, not events in
 * a state. Sinks are not thread-safe: one thread drives a sink or a set.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sink_kit.h"
#include "util.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ts_sink_now(const ts_sink *s)
{
	return s->o.clock_ms ? s->o.clock_ms(s->o.clock_ctx) : mono_ms();
}

static void fill_defaults(ts_sink_opts *d, const ts_sink_opts *src)
{
	if (src)
		*d = *src;
	else
		memset(d, 0, sizeof *d);
	if (d->retry_first_ms <= 0)
		d->retry_first_ms = 1000;
	if (d->retry_max_ms <= 0)
		d->retry_max_ms = 60000;
	if (d->retry_max_ms < d->retry_first_ms)
		d->retry_max_ms = d->retry_first_ms;
	if (!d->retry_batch)
		d->retry_batch = 1000;
	if (!d->dir_max_events)
		d->dir_max_events = 100;
	if (d->dir_max_age_ms <= 0)
		d->dir_max_age_ms = 60000;
	if (!d->dir_max_bytes)
		d->dir_max_bytes = (size_t)8 << 20;
	if (!d->dir_max_open)
		d->dir_max_open = 256;
	if (d->stream_maxlen <= 0)
		d->stream_maxlen = 100000;
	if (d->redis_timeout_ms <= 0)
		d->redis_timeout_ms = 2000;
	if (!d->queue_max_events)
		d->queue_max_events = 10000;
	if (d->http_connect_timeout_ms <= 0)
		d->http_connect_timeout_ms = 2000;
	if (d->http_timeout_ms <= 0)
		d->http_timeout_ms = 5000;
	if (!d->spool_max_events)
		d->spool_max_events = 1000000;
	if (d->alert_repost_ms <= 0)
		d->alert_repost_ms = 60000;
	if (d->exec_finish_ms <= 0)
		d->exec_finish_ms = 10000;
}

/* The default spool base folder into buf; 0, or -1 when no variable gives
 * one. */
static int default_spool(char *buf, size_t n)
{
	const char *v;
	int w;
	if ((v = getenv("STATE_DIRECTORY")) && *v) {
		/* systemd may pass several, ':'-separated: take the first */
		size_t k = strcspn(v, ":");
		w = snprintf(buf, n, "%.*s/spool", (int)k, v);
	} else if ((v = getenv("XDG_STATE_HOME")) && *v) {
		w = snprintf(buf, n, "%s/trailsight/spool", v);
	} else if ((v = getenv("HOME")) && *v) {
		w = snprintf(buf, n, "%s/.local/state/trailsight/spool", v);
	} else {
		return -1;
	}
	return w > 0 && (size_t)w < n ? 0 : -1;
}

#define KINDS                                                                              \
	"-, dir:PATH, redis-stream:redis://HOST:PORT#KEY, webhook:URL, alertmanager:URL, "  \
	"pagerduty:KEY[@URL], slack:URL, eventbridge:URL or exec:CMD"

/* the kinds posted by the webhook sink, each with its payload format */
static const struct {
	const char *prefix;
	ts_sink_format fmt;
} webhook_kinds[] = {
	{"webhook:", TS_PAYLOAD_RAW},           {"alertmanager:", TS_PAYLOAD_ALERTMANAGER},
	{"pagerduty:", TS_PAYLOAD_PAGERDUTY},   {"slack:", TS_PAYLOAD_SLACK},
	{"eventbridge:", TS_PAYLOAD_EVENTBRIDGE},
};

int ts_sink_open(const char *spec, const ts_sink_opts *opts, ts_sink **out, char *errbuf,
		 size_t errlen)
{
	*out = NULL;
	if (errlen)
		errbuf[0] = '\0';
	ts_sink_opts o;
	fill_defaults(&o, opts);
	const char *spool_base = o.spool_dir;
	o.spool_dir = NULL;
	if (!spec || !*spec) {
		snprintf(errbuf, errlen, "sink '': empty spec (expected " KINDS ")");
		return TS_EINVAL;
	}
	if (strcmp(spec, "-") == 0)
		return ts_sink_stdout_new(&o, out, errbuf, errlen);
	if (strncmp(spec, "dir:", 4) == 0)
		return ts_sink_dir_new(spec + 4, &o, out, errbuf, errlen);
	if (strncmp(spec, "redis-stream:", 13) == 0)
		return ts_sink_redis_new(spec + 13, &o, out, errbuf, errlen);
	if (strncmp(spec, "exec:", 5) == 0)
		return ts_sink_exec_new(spec + 5, &o, out, errbuf, errlen);
	for (size_t i = 0; i < TS_ARRAY_LEN(webhook_kinds); i++) {
		size_t k = strlen(webhook_kinds[i].prefix);
		if (strncmp(spec, webhook_kinds[i].prefix, k) != 0)
			continue;
		char def[1024];
		if (!spool_base) {
			if (default_spool(def, sizeof def)) {
				snprintf(errbuf, errlen,
					 "sink '%.*s…': no spool folder: give one, or set "
					 "STATE_DIRECTORY or HOME",
					 (int)k, spec);
				return TS_EINVAL;
			}
			spool_base = def;
		}
		return ts_sink_webhook_new(webhook_kinds[i].fmt, spec + k, &o, spool_base, out,
					   errbuf, errlen);
	}
	/* the spec may hold a secret: show only what names the kind */
	size_t k = strcspn(spec, ":");
	snprintf(errbuf, errlen, "sink '%.*s': unknown kind (expected " KINDS ")",
		 (int)(k < 32 ? k : 32), spec);
	return TS_EINVAL;
}

int ts_sink_emit(ts_sink *s, const char *json, size_t len)
{
	if (!s || (!json && len))
		return TS_EINVAL;
	s->finished = 0;
	return s->ops->emit(s, json, len, ts_sink_now(s));
}

void ts_sink_tick(ts_sink *s)
{
	if (s)
		s->ops->tick(s, ts_sink_now(s));
}

void ts_sink_finish(ts_sink *s)
{
	if (!s || s->finished)
		return;
	s->finished = 1;
	int64_t now = ts_sink_now(s);
	s->ops->finish(s, now);
	ts_sink_drop_report(s);
}

void ts_sink_close(ts_sink *s)
{
	if (!s)
		return;
	ts_sink_finish(s);
	s->ops->close(s, ts_sink_now(s));
}

const char *ts_sink_name(const ts_sink *s) { return s->name; }
const char *ts_sink_kind(const ts_sink *s) { return s->ops->kind; }
void ts_sink_get_stats(const ts_sink *s, ts_sink_stats *st) { *st = s->st; }

/* --- the set --- */

struct ts_sinks {
	ts_sink_opts o;
	char *spool_dir; /* owned copy of o.spool_dir */
	ts_sink **s;
	size_t n, alloc;
};

ts_sinks *ts_sinks_new(const ts_sink_opts *opts)
{
	ts_sinks *set = calloc(1, sizeof *set);
	if (!set)
		return NULL;
	if (opts)
		set->o = *opts;
	if (set->o.spool_dir) {
		size_t n = strlen(set->o.spool_dir);
		set->spool_dir = malloc(n + 1);
		if (!set->spool_dir) {
			free(set);
			return NULL;
		}
		memcpy(set->spool_dir, set->o.spool_dir, n + 1);
		set->o.spool_dir = set->spool_dir;
	}
	return set;
}

int ts_sinks_add(ts_sinks *set, const char *spec, char *errbuf, size_t errlen)
{
	if (set->n == set->alloc) {
		size_t na = set->alloc ? set->alloc * 2 : 4;
		ts_sink **p = realloc(set->s, na * sizeof *p);
		if (!p) {
			snprintf(errbuf, errlen, "sink: out of memory");
			return TS_ENOMEM;
		}
		set->s = p;
		set->alloc = na;
	}
	ts_sink *s;
	int rc = ts_sink_open(spec, &set->o, &s, errbuf, errlen);
	if (rc)
		return rc;
	set->s[set->n++] = s;
	return 0;
}

int ts_sinks_emit(ts_sinks *set, const char *json, size_t len)
{
	int ret = 0;
	for (size_t i = 0; i < set->n; i++) {
		int rc = ts_sink_emit(set->s[i], json, len);
		if (rc == TS_ENOMEM)
			ret = rc;
	}
	return ret;
}

int ts_sinks_emit_fn(void *ctx, const char *json, size_t len)
{
	return ts_sinks_emit(ctx, json, len);
}

void ts_sinks_tick(ts_sinks *set)
{
	for (size_t i = 0; i < set->n; i++)
		ts_sink_tick(set->s[i]);
}

size_t ts_sinks_count(const ts_sinks *set) { return set->n; }

ts_sink *ts_sinks_get(const ts_sinks *set, size_t i) { return i < set->n ? set->s[i] : NULL; }

void ts_sinks_finish(ts_sinks *set)
{
	for (size_t i = 0; i < set->n; i++)
		ts_sink_finish(set->s[i]);
}

uint64_t ts_sinks_given_up(const ts_sinks *set)
{
	uint64_t dropped = 0;
	for (size_t i = 0; i < set->n; i++) {
		ts_sink_stats ss;
		ts_sink_get_stats(set->s[i], &ss);
		if (ss.dropped)
			ts_error("sink %s: %llu of %llu events given up on (see above)",
				 ts_sink_name(set->s[i]), (unsigned long long)ss.dropped,
				 (unsigned long long)ss.events);
		dropped += ss.dropped;
	}
	return dropped;
}

void ts_sinks_free(ts_sinks *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		ts_sink_close(set->s[i]);
	free(set->s);
	free(set->spool_dir);
	free(set);
}
