/* s3walk.c - the objects of a bucket to read: the key rule and the walk
 * (s3walk.h). Holds nothing between calls; each page is freed once its
 * objects are moved into the caller's list.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "folders.h"
#include "s3walk.h"

#define WALK_DEPTH_MAX 16

int ts_s3walk_pick(const char *key, const char **why)
{
	size_t n = strlen(key);
	if (!n || key[n - 1] == '/')
		return TS_S3WALK_SKIP;
	const char *c = key;
	for (;;) {
		const char *e = strchr(c, '/');
		size_t len = e ? (size_t)(e - c) : strlen(c);
		char name[256];
		if (len >= sizeof name)
			len = sizeof name - 1;
		memcpy(name, c, len);
		name[len] = 0;
		if (name[0] == '.')
			return TS_S3WALK_SKIP;
		const char *w = NULL;
		ts_folders_verdict v = ts_folders_pick(name, e ? S_IFDIR : S_IFREG, &w);
		if (v == TS_FOLDERS_PASS) {
			if (why)
				*why = w;
			return TS_S3WALK_PASS;
		}
		if (!e)
			return v == TS_FOLDERS_LOG ? TS_S3WALK_LOG : TS_S3WALK_LOOK;
		c = e + 1;
	}
}

typedef struct walk {
	const ts_s3walk_opts *o;
	ts_s3_objs *out;
	uint64_t *passed;
	char *err;
	size_t cap;
} walk;

/* Every page of one listing; objects through the rule into w->out;
 * prefixes (with a delimiter) into *prefixes when not NULL. */
static int list_all(walk *w, const char *prefix, const char *delim, ts_pathlist *prefixes)
{
	/* with a day range, objects above the day folders cannot be dated */
	int undated = delim && (w->o->since_day != INT64_MIN || w->o->until_day != INT64_MAX);
	char token[1100] = "";
	for (;;) {
		ts_s3_page pg;
		int rc = w->o->list(w->o->list_ctx, prefix, delim, token, &pg, w->err, w->cap);
		for (size_t i = 0; !rc && i < pg.objs.n; i++) {
			const char *why = NULL;
			int v = ts_s3walk_pick(pg.objs.v[i].key, &why);
			if (v != TS_S3WALK_SKIP && undated) {
				v = TS_S3WALK_PASS;
				why = "not in a YYYY/MM/DD folder, with --since or --until";
			}
			if (v == TS_S3WALK_PASS) {
				++*w->passed;
				if (w->o->passed)
					w->o->passed(w->o->ctx, pg.objs.v[i].key, why);
			} else if (v != TS_S3WALK_SKIP) {
				rc = ts_s3_objs_push(w->out, &pg.objs.v[i]);
			}
		}
		for (size_t i = 0; !rc && prefixes && i < pg.prefixes.n; i++)
			rc = ts_pathlist_push(prefixes, pg.prefixes.paths[i]);
		int more = pg.truncated && pg.next_token[0];
		if (more)
			snprintf(token, sizeof token, "%s", pg.next_token);
		ts_s3_page_free(&pg);
		if (rc == TS_ENOMEM)
			snprintf(w->err, w->cap, "out of memory");
		if (rc || !more)
			return rc;
	}
}

/* The length of "...CloudTrail/REGION/" at the start of p when p holds
 * it (the last such part), else 0. */
static size_t region_base(const char *p)
{
	size_t base = 0;
	for (const char *q = p; (q = strstr(q, "CloudTrail/")) != NULL; q++) {
		if (q != p && q[-1] != '/')
			continue;
		const char *r = q + 11, *e = strchr(r, '/');
		if (e && e > r)
			base = (size_t)(e + 1 - p);
	}
	return base;
}

/* a number of exactly n digits at s, followed by '/'; -1 if not */
static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return s[n] == '/' ? v : -1;
}

/* Does the day range meet the folder below a region (rest: "YYYY/",
 * "YYYY/MM/" or "YYYY/MM/DD/")? 1 yes, 0 no, -1 not a date folder. */
static int meets(const walk *w, const char *rest)
{
	int y = num(rest, 4), m = -1, d = -1;
	if (y < 0)
		return -1;
	if (rest[5]) {
		if ((m = num(rest + 5, 2)) < 1 || m > 12)
			return -1;
		if (rest[8] && ((d = num(rest + 8, 2)) < 1 || d > 31))
			return -1;
	}
	int64_t lo, hi; /* the folder's days [lo, hi) */
	if (d > 0) {
		lo = ts_days_from_civil(y, (unsigned)m, (unsigned)d);
		hi = lo + 1;
	} else if (m > 0) {
		lo = ts_days_from_civil(y, (unsigned)m, 1);
		hi = m == 12 ? ts_days_from_civil(y + 1, 1, 1) : ts_days_from_civil(y, (unsigned)m + 1, 1);
	} else {
		lo = ts_days_from_civil(y, 1, 1);
		hi = ts_days_from_civil(y + 1, 1, 1);
	}
	return hi > w->o->since_day && lo < w->o->until_day;
}

static int walk_in(walk *w, const char *prefix, int depth)
{
	if (depth > WALK_DEPTH_MAX) {
		snprintf(w->err, w->cap, "'%s': folders deeper than %d levels, not walked", prefix,
			 WALK_DEPTH_MAX);
		return TS_EDEPTH;
	}
	size_t base = region_base(prefix);
	const char *rest = prefix + base;
	/* a day folder (or deeper): listed whole */
	if (base && num(rest, 4) >= 0 && num(rest + 5, 2) >= 0 && num(rest + 8, 2) >= 0)
		return meets(w, rest) == 0 ? 0 : list_all(w, prefix, NULL, NULL);
	ts_pathlist kids = {0};
	int rc = list_all(w, prefix, "/", &kids);
	for (size_t i = 0; !rc && i < kids.n; i++) {
		const char *k = kids.paths[i];
		size_t kb = region_base(k);
		if (kb && kb < strlen(k) && meets(w, k + kb) == 0)
			continue; /* a year, month or day out of the range */
		/* the folder's own name: the rule for folders */
		size_t n = strlen(k);
		const char *nm = k + n - 1;
		while (nm > k && nm[-1] != '/')
			nm--;
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(k + n - 1 - nm), nm);
		const char *why = NULL;
		if (name[0] == '.')
			continue;
		if (ts_folders_pick(name, S_IFDIR, &why) == TS_FOLDERS_PASS) {
			++*w->passed;
			if (w->o->passed)
				w->o->passed(w->o->ctx, k, why);
			continue;
		}
		rc = walk_in(w, k, depth + 1);
	}
	ts_pathlist_free(&kids);
	return rc;
}

int ts_s3walk(const char *prefix, const ts_s3walk_opts *o, ts_s3_objs *out, uint64_t *passed,
	      char *err, size_t cap)
{
	walk w = {o, out, passed, err, cap};
	if (o->since_day == INT64_MIN && o->until_day == INT64_MAX)
		return list_all(&w, prefix, NULL, NULL);
	return walk_in(&w, prefix, 0);
}
