/* redis_conn.c - the Redis plumbing every part of trailsight shares: the
 * redis:// spec, opening a connection (connect and command timeouts, AUTH,
 * SELECT) and the meaning of Redis' error replies (which are worth a retry,
 * and a hint for those that are not). No state: the store, the stream
 * source and the stream sink each own their connections and their retries;
 * the store's reconnect policy is in store_redis.c.
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "redis_conn.h"
#include "util.h"

int ts_redis_transient(const char *msg)
{
	return strncmp(msg, "LOADING", 7) == 0 || strncmp(msg, "BUSY", 4) == 0 ||
	       strncmp(msg, "TRYAGAIN", 8) == 0 || strncmp(msg, "MASTERDOWN", 10) == 0;
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
	if (strncmp(reply, "MISCONF", 7) == 0)
		return " [Redis cannot save to disk (MISCONF) and refuses writes: fix its disk or "
		       "save settings]";
	return "";
}

/* A setup command on a fresh connection: 0, 1 transient, -1 permanent. */
static int conn_cmd(redisContext *c, const char *what, int argc, const char **argv,
		    const size_t *lens, char *err, size_t errlen)
{
	redisReply *r = redisCommandArgv(c, argc, argv, lens);
	if (!r) {
		snprintf(err, errlen, "%s: %s", what, c->errstr);
		return 1;
	}
	int rc = 0;
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "%s failed: %s%s", what, r->str, ts_redis_hint(r->str));
		rc = ts_redis_transient(r->str) ? 1 : -1;
	}
	freeReplyObject(r);
	return rc;
}

int ts_redis_connect(const ts_redis_spec *sp, int connect_ms, int cmd_ms, redisContext **out,
		     char *errbuf, size_t errlen)
{
	struct timeval tv = {connect_ms / 1000, (connect_ms % 1000) * 1000};
	redisContext *c = redisConnectWithTimeout(sp->host, sp->port, tv);
	if (!c) {
		snprintf(errbuf, errlen, "out of memory");
		return 1;
	}
	int rc = 0;
	struct timeval ct = {cmd_ms / 1000, (cmd_ms % 1000) * 1000};
	if (c->err) {
		snprintf(errbuf, errlen, "%s", c->errstr);
		rc = 1;
	} else if (redisSetTimeout(c, ct) != REDIS_OK) {
		snprintf(errbuf, errlen, "cannot set the command timeout");
		rc = 1;
	}
	if (!rc && sp->pass[0]) {
		/* AUTH user pass (an ACL user) or AUTH pass */
		const char *av[3] = {"AUTH", sp->user[0] ? sp->user : sp->pass, sp->pass};
		size_t al[3] = {4, strlen(av[1]), strlen(sp->pass)};
		rc = conn_cmd(c, "AUTH", sp->user[0] ? 3 : 2, av, al, errbuf, errlen);
	}
	if (!rc && sp->db) {
		char db[16];
		snprintf(db, sizeof db, "%d", sp->db);
		const char *av[2] = {"SELECT", db};
		size_t al[2] = {6, strlen(db)};
		rc = conn_cmd(c, "SELECT", 2, av, al, errbuf, errlen);
	}
	if (rc) {
		redisFree(c);
		return rc;
	}
	*out = c;
	return 0;
}

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

int ts_store_redis_parse(const char *spec, ts_redis_spec *out, char *errbuf, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->port = 6379;
	const char *why;
	if (strncmp(spec, "redis://", 8) != 0) {
		why = "expected redis://";
		goto bad;
	}
	const char *p = spec + 8, *end = p + strlen(p);
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
	snprintf(errbuf, errlen, "store '%s': %s (expected redis://[user:pass@]host:port[/db])",
		 spec, why);
	memset(out, 0, sizeof *out);
	return TS_EINVAL;
}

