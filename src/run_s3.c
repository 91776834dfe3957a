/* run_s3.c - `trailsight backfill s3://BUCKET/PREFIX`: the objects the
 * walk picks (s3walk.c) less those the store has as done, fetched by the
 * client's pool (s3.c) and pushed through the reader path of files
 * (ts_source_push), with the run's callbacks of run.c. Checkpoint names
 * are keys with their ETag: the part of the key from its last "AWSLogs/"
 * on (the whole key without one), '#', the ETag; the size and LastModified
 * stand for a file's size and mtime.
 *
 * An object whose name the folder rule cannot decide is read when its
 * first bytes look like JSON text (s3feed.c), as folders.c looks at a
 * file before reading it. Everything here lives for one call of
 * ts_cli_backfill_s3.
 */
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "s3.h"
#include "s3feed.h"
#include "s3walk.h"
#include "util.h"

static int64_t wall_now(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

int ts_cli_is_s3(const char *path) { return strncmp(path, "s3://", 5) == 0; }

typedef struct s3run {
	ts_run *r;
	ts_store *store;
	const ts_source_cb *cb;
	ts_s3 *s3;
	const char *bucket;
	ts_s3_objs objs;
	char **names;       /* checkpoint name of each object */
	ts_s3feed feed;     /* the object being read */
} s3run;

static int list_cb(void *ctx, const ts_s3_listreq *q, ts_s3_page *pg, char *err, size_t cap)
{
	s3run *x = ctx;
	return ts_s3_list_page(x->s3, x->bucket, q, pg, err, cap);
}

static void passed_cb(void *ctx, const char *key, const char *why)
{
	s3run *x = ctx;
	char path[1400];
	snprintf(path, sizeof path, "s3://%s/%s", x->bucket, key);
	if (x->cb->passed)
		x->cb->passed(x->cb->ctx, path, why);
}

char *ts_cli_s3_name(const char *key, const char *etag)
{
	const char *from = key, *p = key;
	while ((p = strstr(p, "AWSLogs/")) != NULL) {
		if (p == key || p[-1] == '/')
			from = p;
		p++;
	}
	size_t n = strlen(from) + strlen(etag) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s#%s", from, etag);
	return s;
}

static char *name_of(const ts_s3_obj *o) { return ts_cli_s3_name(o->key, o->etag); }

static ts_file_id id_of(const s3run *x, size_t i)
{
	return (ts_file_id){x->names[i], x->objs.v[i].size, x->objs.v[i].mtime};
}

/* Take the objects the store has as done out of x->objs and x->names. */
static int drop_done(s3run *x)
{
	size_t n = x->objs.n;
	ts_file_id *ids = calloc(n ? n : 1, sizeof *ids);
	uint8_t *done = calloc(n ? n : 1, 1);
	int rc = TS_ENOMEM;
	if (!ids || !done)
		goto out;
	for (size_t i = 0; i < n; i++)
		ids[i] = id_of(x, i);
	if (n && (rc = x->store->ops->files_done(x->store, ids, n, done)))
		goto out;
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (done[i]) {
			free(x->objs.v[i].key);
			free(x->names[i]);
			x->r->files_already++;
			continue;
		}
		x->objs.v[w] = x->objs.v[i];
		x->names[w++] = x->names[i];
	}
	x->objs.n = w;
	rc = 0;
out:
	free(ids);
	free(done);
	return rc;
}

static int on_begin(void *ctx, size_t i, const ts_s3_meta *m)
{
	s3run *x = ctx;
	(void)m; /* the listing said the same */
	const char *key = x->objs.v[i].key, *base = strrchr(key, '/');
	ts_file_id id = id_of(x, i);
	return ts_s3feed_begin(&x->feed, i, x->bucket, key, &id,
			       !ts_folders_is_log_name(base ? base + 1 : key));
}

static int on_data(void *ctx, size_t i, const void *p, size_t n)
{
	(void)i;
	return ts_s3feed_data(&((s3run *)ctx)->feed, p, n);
}

static void on_end(void *ctx, size_t i, int rc, const char *detail)
{
	s3run *x = ctx;
	ts_s3feed_end(&x->feed, i, x->bucket, x->objs.v[i].key, rc, detail);
}

/* "s3://BUCKET/PREFIX" into bucket[cap] and *prefix (into arg). 0 or -1. */
static int parse_url(const char *arg, char *bucket, size_t cap, const char **prefix)
{
	const char *b = arg + 5, *slash = strchr(b, '/');
	size_t n = slash ? (size_t)(slash - b) : strlen(b);
	if (!n || n >= cap)
		return -1;
	memcpy(bucket, b, n);
	bucket[n] = 0;
	*prefix = slash ? slash + 1 : "";
	return 0;
}

/* "a,b,,c" into l (empty items left out). 0 or TS_ENOMEM. */
static int split(const char *s, ts_pathlist *l)
{
	while (s && *s) {
		size_t n = strcspn(s, ",");
		char item[64];
		if (n && n < sizeof item) {
			memcpy(item, s, n);
			item[n] = 0;
			if (ts_pathlist_push(l, item))
				return TS_ENOMEM;
		}
		s += n + (s[n] == ',');
	}
	return 0;
}

int ts_cli_backfill_s3(ts_run *r, const ts_cli_opts *o, ts_store *store, const ts_source_cb *cb)
{
	ts_awscfg cfg;
	char err[2048];
	int rc = ts_awscfg_load(&cfg, o->endpoint_url, err, sizeof err);
	if (rc) {
		ts_error("%s", err);
		return TS_EXIT_USAGE;
	}
	ts_s3_opts so = {.connections = o->s3_connections, .now = wall_now};
	s3run x = {.r = r, .store = store, .cb = cb, .feed = {.r = r, .cb = cb}};
	x.s3 = ts_s3_new(&cfg, &so);
	x.feed.push = ts_source_push_new(&o->ro, &o->po);
	int exit_code = 0;
	ts_pathlist accounts = {0}, regions = {0};
	if (!x.s3 || !x.feed.push || split(o->s3_accounts, &accounts) || split(o->s3_regions, &regions)) {
		ts_error("out of memory (or libcurl could not start)");
		exit_code = TS_EXIT_STORE;
		goto out;
	}
	for (size_t a = 0; a < o->npaths && !exit_code; a++) {
		char bucket[256];
		const char *prefix;
		if (parse_url(o->paths[a], bucket, sizeof bucket, &prefix)) {
			ts_error("'%s': expected s3://BUCKET/PREFIX", o->paths[a]);
			exit_code = TS_EXIT_USAGE;
			break;
		}
		x.bucket = bucket;
		ts_s3walk_opts wo = {
			.since_day = o->since == INT64_MIN ? INT64_MIN : ts_day_of(o->since),
			.until_day = o->until == INT64_MAX ? INT64_MAX
							    : ts_day_of(o->until + TS_MIN_PER_DAY - 1),
			.accounts = &accounts, .regions = &regions,
			.passed = passed_cb, .ctx = &x, .list = list_cb, .list_ctx = &x};
		rc = ts_s3walk(prefix, &wo, &x.objs, &r->src.files_ignored, err, sizeof err);
		if (rc) {
			ts_error("%s", rc == TS_ENOMEM ? "out of memory" : err);
			exit_code = rc == TS_ENOMEM ? TS_EXIT_STORE : TS_EXIT_USAGE;
			ts_s3_objs_free(&x.objs);
			break;
		}
		x.names = calloc(x.objs.n ? x.objs.n : 1, sizeof *x.names);
		for (size_t i = 0; x.names && i < x.objs.n; i++)
			if (!(x.names[i] = name_of(&x.objs.v[i])))
				break;
		if (!x.names || (x.objs.n && !x.names[x.objs.n - 1])) {
			ts_error("out of memory");
			exit_code = TS_EXIT_STORE;
		}
		if (!exit_code && !o->eo.force && (rc = drop_done(&x))) {
			ts_error("%s", rc == TS_ESTORE ? store->errstr : ts_strerror(rc));
			exit_code = TS_EXIT_STORE;
		}
		if (!exit_code) {
			r->files_total += x.objs.n;
			ts_s3_consumer c = {on_begin, on_data, on_end, &x};
			rc = ts_s3_fetch(x.s3, bucket, x.objs.v, x.objs.n, &c);
			if (rc == TS_ENOMEM || x.feed.fatal == TS_ENOMEM)
				r->fatal = TS_ENOMEM;
			if (r->fatal)
				exit_code = TS_EXIT_STORE;
		}
		for (size_t i = 0; x.names && i < x.objs.n; i++)
			free(x.names[i]);
		free(x.names);
		x.names = NULL;
		ts_s3_objs_free(&x.objs);
	}
	r->s3 = *ts_s3_get_stats(x.s3);
	r->s3_used = 1;
out:
	ts_pathlist_free(&accounts);
	ts_pathlist_free(&regions);
	ts_s3_free(x.s3);
	ts_source_push_free(x.feed.push);
	return exit_code;
}
