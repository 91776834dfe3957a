/* rstream.c - a Redis Stream consumer (hiredis, argv form only), on the
 * Redis client (redis_conn.h): its commands go through ts_redis_run, so
 * it reconnects and backs off as the store does.
 *
 * Owns its client, the last reply (whose strings the entries point
 * into) and the IDs read but not yet acknowledged. Reads the consumer's
 * pending entries (from "0", each read starting after the last ID of the
 * one before) until there are none, then new ones (">").
 */
#include <hiredis/hiredis.h>
#include <stdlib.h>

#include "redis_conn.h"
#include "rstream.h"
#include "util.h"

struct ts_rstream {
	ts_redis *r;
	char key[512], group[128], consumer[128];
	char name[400];
	char err[1024];
	redisReply *last;
	ts_rstream_entry *e;
	size_t ne, ealloc; /* ne: entries of the latest read */
	int pending_done; /* the pending entries were all read again */
	char pend_from[48]; /* pending entries are read after this ID */
	ts_pathlist unacked; /* IDs read, not acknowledged */
};

/* One command, with the client's reconnects and backoff. 0 and *out
 * (caller frees), or TS_ESTORE with s->err set. */
static int cmd(ts_rstream *s, int argc, const char **argv, redisReply **out)
{
	if (ts_redis_run1(s->r, argc, argv, NULL, out)) {
		snprintf(s->err, sizeof s->err, "%.900s (stream %.100s)", ts_redis_error(s->r), s->key);
		return TS_ESTORE;
	}
	return 0;
}

int ts_rstream_open(const char *spec, const char *group, const char *consumer,
		    ts_rstream **out, char *errbuf, size_t errlen)
{
	const char *hash = strrchr(spec, '#');
	if (!hash || !hash[1]) {
		snprintf(errbuf, errlen, "redis stream '%s': expected redis://host:port[/db]#KEY",
			 spec);
		return TS_EINVAL;
	}
	char url[1024];
	if ((size_t)(hash - spec) >= sizeof url) {
		snprintf(errbuf, errlen, "redis stream: spec too long");
		return TS_EINVAL;
	}
	memcpy(url, spec, (size_t)(hash - spec));
	url[hash - spec] = '\0';
	ts_rstream *s = calloc(1, sizeof *s);
	if (!s)
		return TS_ENOMEM;
	ts_redis_spec sp;
	const char *why;
	if (ts_redis_parse(url, &sp, &why)) {
		/* the URL may hold a password: name only the key */
		snprintf(errbuf, errlen,
			 "redis stream '…#%s': %s (expected redis://[user:pass@]host:port[/db]#KEY)",
			 hash + 1, why);
		free(s);
		return TS_EINVAL;
	}
	if (strlen(hash + 1) >= sizeof s->key || strlen(group) >= sizeof s->group ||
	    strlen(consumer) >= sizeof s->consumer) {
		snprintf(errbuf, errlen, "redis stream: key, group or consumer too long");
		free(s);
		return TS_EINVAL;
	}
	ts_redis_opts ro = {.connect_ms = 2000, .cmd_ms = 5000};
	if (ts_redis_new(&sp, &ro, &s->r)) {
		free(s);
		return TS_ENOMEM;
	}
	snprintf(s->key, sizeof s->key, "%s", hash + 1);
	snprintf(s->group, sizeof s->group, "%s", group);
	snprintf(s->consumer, sizeof s->consumer, "%s", consumer);
	snprintf(s->name, sizeof s->name, "redis://%.200s:%d#%.180s", sp.host, sp.port, s->key);
	const char *av[6] = {"XGROUP", "CREATE", s->key, s->group, "0", "MKSTREAM"};
	redisReply *r;
	int rc = cmd(s, 6, av, &r);
	if (!rc)
		freeReplyObject(r);
	else if (strstr(s->err, "BUSYGROUP"))
		rc = 0; /* the group is there */
	if (rc) {
		snprintf(errbuf, errlen, "%s", s->err);
		ts_rstream_free(s);
		return TS_ESTORE;
	}
	*out = s;
	return 0;
}

static int parse_id(const char *p, size_t n, uint64_t *ms, uint64_t *seq)
{
	uint64_t v[2] = {0, 0};
	int k = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '-' && k == 0) {
			k = 1;
			continue;
		}
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v[k] = v[k] * 10 + (uint64_t)(p[i] - '0');
	}
	*ms = v[0];
	*seq = v[1];
	return k == 1 ? 0 : -1;
}

int ts_rstream_decode(const redisReply *r, ts_rstream_entry **entries, size_t *ealloc,
		      ts_pathlist *ids, size_t *n, size_t *listed)
{
	*n = *listed = 0;
	const redisReply *list = NULL;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2)
		list = r->element[0]->element[1];
	size_t m = list && list->type == REDIS_REPLY_ARRAY ? list->elements : 0;
	*listed = m;
	if (m > *ealloc) {
		ts_rstream_entry *e = realloc(*entries, m * sizeof *e);
		if (!e)
			return TS_ENOMEM;
		*entries = e;
		*ealloc = m;
	}
	size_t k = 0;
	for (size_t i = 0; i < m; i++) {
		const redisReply *ent = list->element[i];
		if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2 ||
		    ent->element[0]->type != REDIS_REPLY_STRING)
			continue;
		ts_rstream_entry *e = &(*entries)[k];
		if (parse_id(ent->element[0]->str, ent->element[0]->len, &e->ms, &e->seq))
			continue;
		e->record = (ts_str){"", 0};
		const redisReply *f = ent->element[1]; /* nil for a deleted entry */
		if (f->type == REDIS_REPLY_ARRAY) {
			for (size_t j = 0; j + 1 < f->elements; j += 2) {
				const redisReply *fk = f->element[j], *fv = f->element[j + 1];
				if (fv->type != REDIS_REPLY_STRING)
					continue;
				if ((fk->type == REDIS_REPLY_STRING && fk->len == 6 &&
				     memcmp(fk->str, "record", 6) == 0) ||
				    f->elements == 2)
					e->record = (ts_str){fv->str, fv->len};
			}
		}
		if (ts_pathlist_push(ids, ent->element[0]->str))
			return TS_ENOMEM;
		*n = ++k;
	}
	return 0;
}

int ts_rstream_read(ts_rstream *s, size_t max, int block_ms, const ts_rstream_entry **entries,
		    size_t *n)
{
	*n = 0;
	s->ne = 0;
	if (s->last) {
		freeReplyObject(s->last);
		s->last = NULL;
	}
	char count[24], block[24];
	snprintf(count, sizeof count, "%zu", max);
	snprintf(block, sizeof block, "%d", block_ms);
	const char *av[] = {"XREADGROUP", "GROUP", s->group, s->consumer, "COUNT", count,
			    "BLOCK", block, "STREAMS", s->key, s->pending_done ? ">" : "0"};
	redisReply *r;
	/* pending entries are read without blocking */
	int argc = 11;
	if (!s->pending_done) {
		av[6] = "STREAMS";
		av[7] = s->key;
		av[8] = s->pend_from[0] ? s->pend_from : "0";
		argc = 9;
	}
	int rc = cmd(s, argc, av, &r);
	if (rc)
		return rc;
	s->last = r;
	size_t m;
	rc = ts_rstream_decode(r, &s->e, &s->ealloc, &s->unacked, n, &m);
	s->ne = *n; /* each decoded entry pushed its ID */
	if (rc) {
		*n = 0;
		return rc;
	}
	if (!s->pending_done && *n == 0) {
		s->pending_done = 1; /* nothing left from before: new entries now */
		return ts_rstream_read(s, max, block_ms, entries, n);
	}
	if (!s->pending_done) /* the next pending read starts after this one */
		snprintf(s->pend_from, sizeof s->pend_from, "%llu-%llu",
			 (unsigned long long)s->e[*n - 1].ms, (unsigned long long)s->e[*n - 1].seq);
	*entries = s->e;
	return 0;
}

void ts_rstream_unread(ts_rstream *s, size_t k)
{
	/* the latest read pushed its s->ne IDs last */
	if (k > s->ne)
		k = s->ne;
	for (; k; k--) {
		free(s->unacked.paths[--s->unacked.n]);
		s->ne--;
	}
}

int ts_rstream_ack(ts_rstream *s)
{
	/* in slices; a failure keeps every ID (acknowledging twice is harmless) */
	for (size_t i = 0; i < s->unacked.n; i += 1000) {
		size_t k = s->unacked.n - i < 1000 ? s->unacked.n - i : 1000;
		const char **av = malloc((k + 3) * sizeof *av);
		if (!av)
			return TS_ENOMEM;
		av[0] = "XACK";
		av[1] = s->key;
		av[2] = s->group;
		for (size_t j = 0; j < k; j++)
			av[j + 3] = s->unacked.paths[i + j];
		redisReply *r;
		int rc = cmd(s, (int)k + 3, av, &r);
		free(av);
		if (rc)
			return rc;
		freeReplyObject(r);
	}
	ts_pathlist_free(&s->unacked);
	return 0;
}

const char *ts_rstream_name(const ts_rstream *s) { return s->name; }
const char *ts_rstream_error(const ts_rstream *s) { return s->err; }

void ts_rstream_free(ts_rstream *s)
{
	if (!s)
		return;
	if (s->last)
		freeReplyObject(s->last);
	ts_redis_free(s->r);
	ts_pathlist_free(&s->unacked);
	free(s->e);
	free(s);
}
