/* redis_conn.c - the Redis client (redis_conn.h): the redis:// URL, opening
 * a connection, the meaning of error replies, and the one reconnect policy.
 *
 * A ts_redis owns its spec (credentials included: they never leave this
 * file but for AUTH), its redisContext (NULL while disconnected; freed on
 * any I/O error and by ts_redis_free) and the message of its last failure.
 * Replies it hands out belong to the caller. Invariant: after a failed
 * send the context is NULL, so a half-read pipeline is never reused.
 */
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdlib.h>

#include "backoff.h"
#include "err.h"
#include "redis_conn.h"
#include "util.h"

struct ts_redis {
	ts_redis_spec sp;
	ts_redis_opts o;
	char where[300]; /* "redis://host:port" */
	redisContext *c;
	int connected;   /* a connection was made before */
	ts_backoff bo;   /* ts_redis_run's waits */
	uint64_t trips, reconnects;
	char err[1024];
};

/* 1 if reply's first word is w. */
static int first_word(const char *reply, const char *w)
{
	size_t n = strlen(w);
	return strncmp(reply, w, n) == 0 && (reply[n] == ' ' || reply[n] == '\0');
}

int ts_redis_transient(const char *msg)
{
	return msg && (first_word(msg, "LOADING") || first_word(msg, "BUSY") ||
		       first_word(msg, "TRYAGAIN") || first_word(msg, "MASTERDOWN") ||
		       first_word(msg, "CLUSTERDOWN"));
}

const char *ts_redis_hint(const char *reply)
{
	if (!reply)
		return "";
	if (strncmp(reply, "OOM", 3) == 0 || strstr(reply, "OOM command not allowed"))
		return " [Redis is at its maxmemory and refuses writes (OOM): nothing of this "
		       "write was stored; raise maxmemory (keep maxmemory-policy noeviction: an "
		       "evicting policy would drop counts) and run again]";
	if (strncmp(reply, "READONLY", 8) == 0 || strstr(reply, "read only replica"))
		return " [this server is a read-only replica (READONLY): point the URL at the "
		       "primary]";
	if (strncmp(reply, "NOPERM", 6) == 0 || strstr(reply, "can't run this command"))
		return " [the Redis user lacks a permission trailsight needs (NOPERM): grant it "
		       "with the ACL SETUSER line in README.md]";
	if (strncmp(reply, "WRONGPASS", 9) == 0 || strncmp(reply, "NOAUTH", 6) == 0)
		return " [check the user and password in the URL]";
	if (first_word(reply, "MOVED") || first_word(reply, "ASK") ||
	    first_word(reply, "CROSSSLOT"))
		return " [this server is a Redis Cluster node: use a redis-cluster:// URL]";
	if (strncmp(reply, "MISCONF", 7) == 0)
		return " [Redis cannot save to disk (MISCONF) and refuses writes: fix its disk or "
		       "save settings]";
	return "";
}

void ts_redis_where(const ts_redis_spec *sp, char *buf, size_t n)
{
	snprintf(buf, n, strchr(sp->host, ':') ? "redis://[%s]:%d" : "redis://%s:%d", sp->host,
		 sp->port);
}

static void set_err(ts_redis *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(ts_redis *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
}

int ts_redis_setup_cmd(redisContext *c, const char *what, int argc, const char **argv,
		       const size_t *lens, redisReply **out, char *err, size_t errlen)
{
	redisReply *rep = redisCommandArgv(c, argc, argv, lens);
	if (!rep) {
		snprintf(err, errlen, "%s: %s", what, c->errstr);
		return 1;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "%s failed: %s%s", what, rep->str, ts_redis_hint(rep->str));
		int t = ts_redis_transient(rep->str);
		freeReplyObject(rep);
		return t ? 1 : -1;
	}
	if (out)
		*out = rep;
	else
		freeReplyObject(rep);
	return 0;
}

/* A setup command of the client (AUTH, SELECT): as ts_redis_setup_cmd,
 * the reason in r->err. */
static int setup_cmd(ts_redis *r, redisContext *c, const char *what, int argc,
		     const char **argv, const size_t *lens)
{
	char err[768];
	int rc = ts_redis_setup_cmd(c, what, argc, argv, lens, NULL, err, sizeof err);
	if (rc)
		set_err(r, "%s: %s", r->where, err);
	return rc;
}

int ts_redis_new(const ts_redis_spec *sp, const ts_redis_opts *o, ts_redis **out)
{
	ts_redis *r = calloc(1, sizeof *r);
	if (!r)
		return TS_ENOMEM;
	r->sp = *sp;
	if (o)
		r->o = *o;
	if (r->o.connect_ms <= 0)
		r->o.connect_ms = 2000;
	if (r->o.cmd_ms <= 0)
		r->o.cmd_ms = 5000;
	if (r->o.first_ms <= 0)
		r->o.first_ms = 100;
	if (r->o.max_ms <= 0)
		r->o.max_ms = 5000;
	if (r->o.total_ms <= 0)
		r->o.total_ms = 30000;
	ts_backoff_set(&r->bo, r->o.first_ms, r->o.max_ms, r->o.total_ms);
	ts_redis_where(sp, r->where, sizeof r->where);
	*out = r;
	return 0;
}

void ts_redis_drop(ts_redis *r)
{
	if (r->c)
		redisFree(r->c);
	r->c = NULL;
}

void ts_redis_free(ts_redis *r)
{
	if (!r)
		return;
	ts_redis_drop(r);
	free(r);
}

int ts_redis_connect(ts_redis *r)
{
	if (r->c)
		return 0;
	int ms = r->o.connect_ms, cms = r->o.cmd_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	redisContext *c = redisConnectWithTimeout(r->sp.host, r->sp.port, tv);
	if (!c) {
		set_err(r, "%s: out of memory", r->where);
		return 1;
	}
	int rc = 0;
	struct timeval ct = {cms / 1000, (cms % 1000) * 1000};
	if (c->err) {
		set_err(r, "%s: %s", r->where, c->errstr);
		rc = 1;
	} else if (redisSetTimeout(c, ct) != REDIS_OK) {
		set_err(r, "%s: cannot set the command timeout", r->where);
		rc = 1;
	}
	if (!rc && r->sp.pass[0]) {
		/* AUTH user pass (an ACL user) or AUTH pass */
		const char *av[3] = {"AUTH", r->sp.user[0] ? r->sp.user : r->sp.pass, r->sp.pass};
		size_t al[3] = {4, strlen(av[1]), strlen(r->sp.pass)};
		rc = setup_cmd(r, c, "AUTH", r->sp.user[0] ? 3 : 2, av, al);
	}
	if (!rc && r->sp.db) {
		char db[16];
		snprintf(db, sizeof db, "%d", r->sp.db);
		const char *av[2] = {"SELECT", db};
		size_t al[2] = {6, strlen(db)};
		rc = setup_cmd(r, c, "SELECT", 2, av, al);
	}
	if (!rc && r->o.on_connect) {
		char err[768];
		rc = r->o.on_connect(r->o.ctx, c, r->connected, err, sizeof err);
		if (rc)
			set_err(r, "%s", err);
	}
	if (rc) {
		redisFree(c);
		return rc;
	}
	r->c = c;
	if (r->connected) {
		r->reconnects++;
		if (r->o.label && r->err[0])
			ts_warn("%s %s: connected again (after: %s)", r->o.label, r->where, r->err);
		else if (r->o.label) /* dropped on purpose (a node's scripts to load again) */
			ts_warn("%s %s: connected again", r->o.label, r->where);
	}
	r->connected = 1;
	return 0;
}

/* After an I/O error: the reason, the connection dropped. TS_ESTORE. */
static int io_failed(ts_redis *r)
{
	set_err(r, "%s: %s", r->where, r->c->errstr[0] ? r->c->errstr : "I/O error");
	ts_redis_drop(r);
	return TS_ESTORE;
}

int ts_redis_post(ts_redis *r, size_t n, const ts_redis_cmd *cmds, int *sent)
{
	int dummy;
	if (!sent)
		sent = &dummy;
	*sent = 0;
	if (ts_redis_connect(r))
		return TS_ESTORE;
	for (size_t i = 0; i < n; i++)
		if (redisAppendCommandArgv(r->c, cmds[i].argc, (const char **)cmds[i].argv,
					   cmds[i].lens) != REDIS_OK)
			return io_failed(r);
	*sent = 1;
	r->trips++;
	int done = 0;
	while (!done)
		if (redisBufferWrite(r->c, &done) != REDIS_OK)
			return io_failed(r);
	return 0;
}

int ts_redis_collect(ts_redis *r, size_t n, redisReply **replies)
{
	if (!r->c) {
		set_err(r, "%s: not connected", r->where);
		return TS_ESTORE;
	}
	for (size_t got = 0; got < n; got++) {
		void *v;
		if (redisGetReply(r->c, &v) != REDIS_OK) {
			for (size_t k = 0; k < got; k++)
				freeReplyObject(replies[k]);
			return io_failed(r);
		}
		replies[got] = v;
	}
	return 0;
}

int ts_redis_send(ts_redis *r, size_t n, const ts_redis_cmd *cmds, redisReply **replies, int *sent)
{
	int rc = ts_redis_post(r, n, cmds, sent);
	return rc ? rc : ts_redis_collect(r, n, replies);
}

/* ts_backoff_sleep with the reason appended to the error when the budget
 * is spent. 0 or -1. */
static int wait_more(ts_redis *r)
{
	if (ts_backoff_sleep(&r->bo) == 0)
		return 0;
	size_t l = strlen(r->err);
	snprintf(r->err + l, sizeof r->err - l, " (gave up after %d ms of retries)", r->bo.spent_ms);
	return -1;
}

int ts_redis_run(ts_redis *r, size_t n, const ts_redis_cmd *cmds, redisReply **replies, int *sends)
{
	int noscript = 0, dummy;
	if (!sends)
		sends = &dummy;
	*sends = 0;
	ts_backoff_ok(&r->bo); /* each batch has the whole budget */
	for (;;) {
		if (!r->c) {
			int rc = ts_redis_connect(r);
			if (rc < 0)
				return TS_ESTORE;
			if (rc > 0) {
				if (wait_more(r))
					return TS_ESTORE;
				continue;
			}
		}
		int sent;
		if (ts_redis_send(r, n, cmds, replies, &sent)) {
			*sends += sent;
			if (wait_more(r))
				return TS_ESTORE;
			continue;
		}
		++*sends;
		int fatal = 0, retry = 0;
		for (size_t i = 0; i < n; i++) {
			redisReply *rep = replies[i];
			if (rep->type != REDIS_REPLY_ERROR)
				continue;
			if (strncmp(rep->str, "NOSCRIPT", 8) == 0 && noscript < 3)
				retry = 2;
			else if (ts_redis_transient(rep->str))
				retry = retry ? retry : 1;
			else
				fatal = 1;
			set_err(r, "%s: %s: %s%s", r->where, cmds[i].argv[0], rep->str,
				ts_redis_hint(rep->str));
		}
		if (!fatal && !retry)
			return 0;
		for (size_t i = 0; i < n; i++)
			freeReplyObject(replies[i]);
		if (fatal)
			return TS_ESTORE;
		if (retry == 2) {
			/* reconnecting loads the scripts again */
			noscript++;
			--*sends;
			ts_redis_drop(r);
			continue;
		}
		if (wait_more(r))
			return TS_ESTORE;
	}
}

int ts_redis_run1(ts_redis *r, int argc, const char *const *argv, const size_t *lens,
		  redisReply **reply)
{
	ts_redis_cmd c = {argc, argv, lens};
	return ts_redis_run(r, 1, &c, reply, NULL);
}

const char *ts_redis_error(const ts_redis *r) { return r->err; }
const char *ts_redis_name(const ts_redis *r) { return r->where; }
redisContext *ts_redis_context(ts_redis *r) { return r->c; }
uint64_t ts_redis_round_trips(const ts_redis *r) { return r->trips; }
uint64_t ts_redis_reconnects(const ts_redis *r) { return r->reconnects; }

/* --- the URL --- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into out[cap]; 0 or -1 (bad escape, NUL, too long). */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '%') {
			int hi, lo;
			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			ch = (char)(hi << 4 | lo);
			if (!ch)
				return -1;
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

static int parse_int(const char *s, size_t n, long max, int *out)
{
	long v = 0;
	if (!n || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int ts_redis_parse(const char *url, ts_redis_spec *out, const char **whyp)
{
	memset(out, 0, sizeof *out);
	out->port = 6379;
	const char *why;
	if (strncmp(url, "redis://", 8) != 0) {
		why = "expected redis://";
		goto bad;
	}
	const char *p = url + 8, *end = p + strlen(p);
	const char *at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (!colon) {
			why = "credentials need user:password (or :password)";
			goto bad;
		}
		if (pct_decode(p, (size_t)(colon - p), out->user, sizeof out->user) ||
		    pct_decode(colon + 1, (size_t)(at - colon - 1), out->pass, sizeof out->pass)) {
			why = "bad percent-encoding in user or password";
			goto bad;
		}
		if (!out->pass[0]) {
			why = "empty password";
			goto bad;
		}
		p = at + 1;
	}
	const char *slash = memchr(p, '/', (size_t)(end - p));
	const char *hend = slash ? slash : end;
	const char *hs = p, *he, *portp = NULL;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(hend - p));
		if (!rb) {
			why = "unclosed '[' in host";
			goto bad;
		}
		hs = p + 1;
		he = rb;
		if (rb + 1 < hend) {
			if (rb[1] != ':') {
				why = "junk after ']'";
				goto bad;
			}
			portp = rb + 2;
		}
	} else {
		const char *colon = memchr(p, ':', (size_t)(hend - p));
		he = colon ? colon : hend;
		if (colon)
			portp = colon + 1;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof out->host) {
		why = "missing or overlong host";
		goto bad;
	}
	for (const char *q = hs; q < he; q++)
		if (*q == '@' || *q == ':' || *q == '/' || (unsigned char)*q <= ' ') {
			if (*q == ':' && *p == '[')
				continue;
			why = "bad character in host";
			goto bad;
		}
	memcpy(out->host, hs, (size_t)(he - hs));
	out->host[he - hs] = '\0';
	if (portp && (parse_int(portp, (size_t)(hend - portp), 65535, &out->port) || !out->port)) {
		why = "port must be 1-65535";
		goto bad;
	}
	if (slash && slash + 1 < end && parse_int(slash + 1, (size_t)(end - slash - 1), 1000000,
						  &out->db)) {
		why = "db must be a number";
		goto bad;
	}
	return 0;
bad:
	*whyp = why;
	memset(out, 0, sizeof *out);
	return TS_EINVAL;
}
