/* sink.c - opening sinks from their specs, the set of sinks, what the
 * backends share (backoff, failure logging, folders, the event-key scan),
 * and the stdout backend.
 *
 * A ts_sink is the first member of each backend's struct (sink_dir.c,
 * sink_redis.c, sink_webhook.c, stdout_sink below); ts_sink_close() calls
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

#include "sink.h"
#include "util.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sink_now(const ts_sink *s)
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
		snprintf(errbuf, errlen, "sink '': empty spec (expected -, dir:PATH, "
					 "redis-stream:redis://HOST:PORT#KEY or webhook:URL)");
		return TS_EINVAL;
	}
	if (strcmp(spec, "-") == 0)
		return ts_sink_stdout_new(&o, out, errbuf, errlen);
	if (strncmp(spec, "dir:", 4) == 0)
		return ts_sink_dir_new(spec + 4, &o, out, errbuf, errlen);
	if (strncmp(spec, "redis-stream:", 13) == 0)
		return ts_sink_redis_new(spec + 13, &o, out, errbuf, errlen);
	if (strncmp(spec, "webhook:", 8) == 0) {
		char def[1024];
		if (!spool_base) {
			if (default_spool(def, sizeof def)) {
				snprintf(errbuf, errlen,
					 "sink 'webhook:…': no spool folder: give one, or set "
					 "STATE_DIRECTORY or HOME");
				return TS_EINVAL;
			}
			spool_base = def;
		}
		return ts_sink_webhook_new(spec + 8, &o, spool_base, out, errbuf, errlen);
	}
	/* the spec may hold a secret: show only what names the kind */
	size_t k = strcspn(spec, ":");
	snprintf(errbuf, errlen,
		 "sink '%.*s': unknown kind (expected -, dir:PATH, "
		 "redis-stream:redis://HOST:PORT#KEY or webhook:URL)",
		 (int)(k < 32 ? k : 32), spec);
	return TS_EINVAL;
}

int ts_sink_emit(ts_sink *s, const char *json, size_t len)
{
	if (!s || (!json && len))
		return TS_EINVAL;
	s->finished = 0;
	return s->ops->emit(s, json, len, sink_now(s));
}

void ts_sink_tick(ts_sink *s)
{
	if (s)
		s->ops->tick(s, sink_now(s));
}

void ts_sink_finish(ts_sink *s)
{
	if (!s || s->finished)
		return;
	s->finished = 1;
	int64_t now = sink_now(s);
	s->ops->finish(s, now);
	ts_sink_drop_report(s);
}

void ts_sink_close(ts_sink *s)
{
	if (!s)
		return;
	ts_sink_finish(s);
	s->ops->close(s, sink_now(s));
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

/* --- shared by the backends --- */

void ts_backoff_init(ts_backoff *b, const ts_sink_opts *o)
{
	b->first_ms = o->retry_first_ms;
	b->max_ms = o->retry_max_ms;
	b->cur_ms = b->first_ms;
	b->until = INT64_MIN;
}

void ts_backoff_fail(ts_backoff *b, int64_t now)
{
	b->until = now + b->cur_ms;
	b->cur_ms = b->cur_ms > b->max_ms / 2 ? b->max_ms : b->cur_ms * 2;
}

void ts_backoff_ok(ts_backoff *b)
{
	b->cur_ms = b->first_ms;
	b->until = INT64_MIN;
}

void ts_sink_fail(ts_sink *s, const char *fmt, ...)
{
	if (s->failing)
		return;
	s->failing = 1;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ts_warn("sink %s: %s (holding events and retrying)", s->name, msg);
}

void ts_sink_ok(ts_sink *s)
{
	ts_sink_drop_report(s);
	if (!s->failing)
		return;
	s->failing = 0;
	/* at the warning's level, so whoever saw it sees the end */
	ts_warn("sink %s: delivering again", s->name);
}

void ts_sink_drop(ts_sink *s, uint64_t n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->st.dropped += n;
	ts_error("sink %s: dropped %llu event%s: %s", s->name, (unsigned long long)n,
		 n == 1 ? "" : "s", msg);
}

void ts_sink_drop_once(ts_sink *s, uint64_t n, const char *fmt, ...)
{
	if (s->dropping) {
		s->st.dropped += n;
		s->drop_quiet += n;
		return;
	}
	s->dropping = 1;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ts_sink_drop(s, n, "%s (more drops for the same reason are counted, not logged)", msg);
}

void ts_sink_drop_report(ts_sink *s)
{
	if (s->drop_quiet)
		ts_error("sink %s: dropped %llu more event%s for the same reason", s->name,
			 (unsigned long long)s->drop_quiet, s->drop_quiet == 1 ? "" : "s");
	s->drop_quiet = 0;
	s->dropping = 0;
}

int ts_sink_mkdirs(const char *path, int private_)
{
	size_t n = strlen(path);
	char *p = malloc(n + 1);
	if (!p) {
		errno = ENOMEM;
		return TS_EIO;
	}
	memcpy(p, path, n + 1);
	mode_t mode = private_ ? 0700 : 0755;
	int rc = 0;
	/* make each prefix that ends before a '/', then the whole path */
	for (size_t i = 1; i <= n && !rc; i++) {
		if (i < n && p[i] != '/')
			continue;
		char c = p[i];
		p[i] = '\0';
		struct stat st;
		if (mkdir(p, mode) != 0) {
			if (errno != EEXIST || stat(p, &st) != 0) {
				rc = TS_EIO;
			} else if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				rc = TS_EIO;
			}
		}
		p[i] = c;
	}
	int e = errno;
	free(p);
	errno = e;
	return rc;
}

int ts_sink_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* --- the event-key scan --- */

static size_t skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* s[*i] is '"': move *i past the closing quote; the contents in *out,
 * *esc set when they hold a backslash. -1 when unterminated. */
static int scan_string(const char *s, size_t n, size_t *i, ts_str *out, int *esc)
{
	size_t j = *i + 1;
	*esc = 0;
	while (j < n && s[j] != '"') {
		if (s[j] == '\\') {
			*esc = 1;
			j++;
		}
		j++;
	}
	if (j >= n)
		return -1;
	*out = (ts_str){s + *i + 1, j - *i - 1};
	*i = j + 1;
	return 0;
}

/* Move *i past one value (strings and brackets counted, not checked). */
static int skip_value(const char *s, size_t n, size_t *i)
{
	ts_str str;
	int esc;
	if (*i >= n)
		return -1;
	if (s[*i] == '"')
		return scan_string(s, n, i, &str, &esc);
	if (s[*i] == '{' || s[*i] == '[') {
		size_t depth = 0;
		while (*i < n) {
			char c = s[*i];
			if (c == '"') {
				if (scan_string(s, n, i, &str, &esc))
					return -1;
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if (c == '}' || c == ']') {
				if (--depth == 0) {
					(*i)++;
					return 0;
				}
			}
			(*i)++;
		}
		return -1;
	}
	size_t start = *i;
	while (*i < n && s[*i] != ',' && s[*i] != '}' && s[*i] != ']' && s[*i] != ' ' &&
	       s[*i] != '\t' && s[*i] != '\n' && s[*i] != '\r')
		(*i)++;
	return *i > start ? 0 : -1;
}

int ts_sink_event_keys(const char *json, size_t len, ts_event_keys *k)
{
	memset(k, 0, sizeof *k);
	if (!json)
		return TS_EJSON;
	size_t i = skip_ws(json, 0, len);
	if (i >= len || json[i] != '{')
		return TS_EJSON;
	i = skip_ws(json, i + 1, len);
	if (i < len && json[i] == '}')
		return skip_ws(json, i + 1, len) == len ? 0 : TS_EJSON;
	for (;;) {
		ts_str key, val;
		int esc;
		if (i >= len || json[i] != '"' || scan_string(json, len, &i, &key, &esc))
			return TS_EJSON;
		i = skip_ws(json, i, len);
		if (i >= len || json[i] != ':')
			return TS_EJSON;
		i = skip_ws(json, i + 1, len);
		ts_str *slot = NULL;
		if (ts_str_eqc(key, "recipientAccountId"))
			slot = &k->account;
		else if (ts_str_eqc(key, "awsRegion"))
			slot = &k->region;
		else if (ts_str_eqc(key, "eventTime"))
			slot = &k->event_time;
		else if (ts_str_eqc(key, "eventID"))
			slot = &k->event_id;
		if (slot && i < len && json[i] == '"') {
			if (scan_string(json, len, &i, &val, &esc))
				return TS_EJSON;
			*slot = esc ? TS_STR_NULL : val;
		} else if (skip_value(json, len, &i)) {
			return TS_EJSON;
		}
		i = skip_ws(json, i, len);
		if (i < len && json[i] == ',') {
			i = skip_ws(json, i + 1, len);
			continue;
		}
		if (i < len && json[i] == '}')
			return skip_ws(json, i + 1, len) == len ? 0 : TS_EJSON;
		return TS_EJSON;
	}
}

/* --- stdout: one line per event, flushed --- */

typedef struct stdout_sink {
	ts_sink base;
	FILE *fp;
} stdout_sink;

static int stdout_emit(ts_sink *s, const char *json, size_t len, int64_t now)
{
	(void)now;
	stdout_sink *ss = (stdout_sink *)s;
	s->st.events++;
	errno = 0;
	if ((len && fwrite(json, 1, len, ss->fp) != len) || fputc('\n', ss->fp) == EOF ||
	    fflush(ss->fp) != 0) {
		int e = errno;
		clearerr(ss->fp);
		s->st.failed++;
		/* a broken stdout does not come back: nothing to hold it for */
		ts_sink_drop_once(s, 1, "cannot write: %s", e ? strerror(e) : "write error");
		return 0;
	}
	s->st.delivered++;
	ts_sink_ok(s);
	return 0;
}

static void stdout_tick(ts_sink *s, int64_t now)
{
	(void)s;
	(void)now;
}

static void stdout_finish(ts_sink *s, int64_t now)
{
	(void)now;
	fflush(((stdout_sink *)s)->fp);
}

static void stdout_close(ts_sink *s, int64_t now)
{
	(void)now;
	free(s);
}

static const ts_sink_ops stdout_ops = {"stdout", stdout_emit, stdout_tick, stdout_finish,
				       stdout_close};

int ts_sink_stdout_new(const ts_sink_opts *o, ts_sink **out, char *errbuf, size_t errlen)
{
	stdout_sink *ss = calloc(1, sizeof *ss);
	if (!ss) {
		snprintf(errbuf, errlen, "sink -: out of memory");
		return TS_ENOMEM;
	}
	ss->base.ops = &stdout_ops;
	ss->base.o = *o;
	snprintf(ss->base.name, sizeof ss->base.name, "-");
	ss->fp = o->stdout_fp ? o->stdout_fp : stdout;
	*out = &ss->base;
	return 0;
}
