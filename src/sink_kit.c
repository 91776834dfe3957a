/* sink_kit.c - what the sink backends share (sink_kit.h): the retry
 * schedule from the sink options, failure and drop logging (each state
 * change logged once), the in-memory event queue, folder and write
 * helpers, and the event-key scan. It calls no backend and owns nothing
 * but the queue items it allocates (freed by pop and clear).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink_kit.h"
#include "util.h"

void ts_sink_backoff_init(ts_backoff *b, const ts_sink_opts *o)
{
	ts_backoff_set(b, o->retry_first_ms, o->retry_max_ms, 0);
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

/* --- the memory queue --- */

int ts_sink_queue_push(ts_sink_queue *q, const char *json, size_t len)
{
	ts_sink_qitem *it = malloc(sizeof *it + len + 1);
	if (!it)
		return TS_ENOMEM;
	it->next = NULL;
	it->len = len;
	if (len)
		memcpy(it->data, json, len);
	it->data[len] = '\0';
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
	return 0;
}

void ts_sink_queue_pop(ts_sink_queue *q)
{
	ts_sink_qitem *it = q->head;
	q->head = it->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	free(it);
}

void ts_sink_queue_clear(ts_sink_queue *q)
{
	while (q->head)
		ts_sink_queue_pop(q);
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

/* s[*i] is the '{' of insightDetails: move *i past its '}' and set the
 * span of its trailsightContext member in k. -1 when it is not an object
 * of "key": value members. */
static int scan_details(const char *s, size_t n, size_t *i, ts_event_keys *k)
{
	size_t j = skip_ws(s, *i + 1, n);
	size_t comma = 0; /* the comma before this member; 0 for the first */
	if (j < n && s[j] == '}') {
		*i = j + 1;
		return 0;
	}
	for (;;) {
		ts_str key;
		int esc;
		size_t member = j;
		if (j >= n || s[j] != '"' || scan_string(s, n, &j, &key, &esc))
			return -1;
		j = skip_ws(s, j, n);
		if (j >= n || s[j] != ':')
			return -1;
		j = skip_ws(s, j + 1, n);
		if (skip_value(s, n, &j))
			return -1;
		size_t end = j;
		j = skip_ws(s, j, n);
		int ctx = !esc && ts_str_eqc(key, "trailsightContext");
		if (ctx && comma) {
			k->ctx_from = comma;
			k->ctx_to = end;
		} else if (ctx) { /* the first member: take the comma after it */
			k->ctx_from = member;
			k->ctx_to = j < n && s[j] == ',' ? skip_ws(s, j + 1, n) : end;
		}
		if (j < n && s[j] == ',') {
			comma = j;
			j = skip_ws(s, j + 1, n);
			continue;
		}
		if (j < n && s[j] == '}') {
			*i = j + 1;
			return 0;
		}
		return -1;
	}
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
		} else if (!esc && ts_str_eqc(key, "insightDetails") && i < len && json[i] == '{') {
			if (scan_details(json, len, &i, k))
				return TS_EJSON;
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
