/* s3walk.c - the objects of a bucket to read: the key rule and the walk
 * (s3walk.h). Holds nothing between calls; each page is freed once its
 * objects are moved into the caller's list.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "folders.h"
#include "s3walk.h"

#define DISCOVERY_MAX 100000
#define DAYS_EACH 31 /* a closed range up to this long is listed day by day */

int ts_s3walk_pick(const char *key, const char **why, size_t *folder_len)
{
	size_t n = strlen(key);
	if (folder_len)
		*folder_len = 0;
	if (!n || key[n - 1] == '/')
		return TS_S3WALK_SKIP;
	const char *c = key;
	for (;;) {
		const char *e = strchr(c, '/');
		size_t len = e ? (size_t)(e - c) : strlen(c);
		char name[256];
		memcpy(name, c, len < sizeof name ? len : sizeof name - 1);
		name[len < sizeof name ? len : sizeof name - 1] = 0;
		const char *w = NULL;
		ts_folders_verdict v = name[0] == '.' ? TS_FOLDERS_PASS
						      : ts_folders_pick(name, e ? S_IFDIR : S_IFREG, &w);
		if (v == TS_FOLDERS_PASS) {
			if (e && folder_len)
				*folder_len = (size_t)(e + 1 - key);
			if (name[0] == '.')
				return TS_S3WALK_SKIP;
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

static void pass(walk *w, const char *key, const char *why)
{
	++*w->passed;
	if (w->o->passed)
		w->o->passed(w->o->ctx, key, why);
}

/* An object of a listing through the rule into w->out (its key taken). */
static int take(walk *w, ts_s3_obj *o)
{
	const char *why = NULL;
	int v = ts_s3walk_pick(o->key, &why, NULL);
	if (v == TS_S3WALK_PASS)
		pass(w, o->key, why);
	if (v == TS_S3WALK_PASS || v == TS_S3WALK_SKIP)
		return 0;
	int rc = ts_s3_objs_push(w->out, o);
	if (rc)
		snprintf(w->err, w->cap, "out of memory");
	return rc;
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

/* The day of "YYYY/MM/DD/..." at rest, into *day; -1 when it is none. */
static int day_of(const char *rest, int64_t *day)
{
	int y = num(rest, 4), m = y < 0 ? -1 : num(rest + 5, 2), d = m < 0 ? -1 : num(rest + 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	*day = ts_days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

static int dated(const walk *w)
{
	return w->o->since_day != INT64_MIN || w->o->until_day != INT64_MAX;
}

static int in_list(const ts_pathlist *l, const char *s, size_t n)
{
	if (!l || !l->n)
		return 1;
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->paths[i]) == n && memcmp(l->paths[i], s, n) == 0)
			return 1;
	return 0;
}

/* Whether the Region's folder base ("...ACCT/CloudTrail/REGION/", blen
 * bytes) is one of those asked for. */
static int wanted(const walk *w, const char *base, size_t blen)
{
	const char *r = base + blen - 1, *a; /* r: the '/' after the Region */
	const char *rs = r;
	while (rs > base && rs[-1] != '/')
		rs--;
	/* rs - 11 is "CloudTrail/"; the account is the part before it */
	const char *ct = rs - 11;
	if (ct <= base || ct[-1] != '/') /* no account: "CloudTrail/" opens the key */
		return !(w->o->accounts && w->o->accounts->n) &&
		       in_list(w->o->regions, rs, (size_t)(r - rs));
	const char *ae = ct - 1;
	a = ae;
	while (a > base && a[-1] != '/')
		a--;
	return in_list(w->o->accounts, a, (size_t)(ae - a)) &&
	       in_list(w->o->regions, rs, (size_t)(r - rs));
}

#define UNDATED "not under ACCT/CloudTrail/REGION/YYYY/MM/DD/, which --since, --until, " \
		"--account and --region select by"

/* Every page of one listing, the objects through the rule. */
static int list_all(walk *w, const char *prefix)
{
	char token[1100] = "";
	for (;;) {
		ts_s3_page pg;
		ts_s3_listreq q = {.prefix = prefix, .token = token};
		int rc = w->o->list(w->o->list_ctx, &q, &pg, w->err, w->cap);
		for (size_t i = 0; !rc && i < pg.objs.n; i++)
			rc = take(w, &pg.objs.v[i]);
		int more = pg.truncated && pg.next_token[0];
		if (more)
			snprintf(token, sizeof token, "%s", pg.next_token);
		ts_s3_page_free(&pg);
		if (rc || !more)
			return rc;
	}
}

/* A closed range of up to DAYS_EACH days: each day's folder of the Region
 * (base: the first blen bytes of prefix, which may go deeper) listed by
 * its own prefix. */
static int list_each_day(walk *w, const char *prefix, size_t blen)
{
	size_t pl = strlen(prefix);
	for (int64_t d = w->o->since_day; d < w->o->until_day; d++) {
		int64_t y;
		unsigned m, dd;
		char day[1200];
		ts_civil_from_days(d, &y, &m, &dd);
		snprintf(day, sizeof day, "%.*s%04lld/%02u/%02u/", (int)blen, prefix,
			 (long long)(y < 0 ? 0 : y > 9999 ? 9999 : y), m, dd);
		size_t dl = strlen(day);
		int rc = 0;
		if (strncmp(day, prefix, pl) == 0) /* the prefix holds the day */
			rc = list_all(w, day);
		else if (pl > dl && strncmp(prefix, day, dl) == 0) /* the day holds the prefix */
			rc = list_all(w, prefix);
		if (rc)
			return rc;
	}
	return 0;
}

/* A Region's folder (base: "...CloudTrail/REGION/", the first blen bytes
 * of prefix, which may go deeper) for the range: a short closed range day
 * by day, else from the range's first day on (start-after), until a key's
 * day passes its end. */
static int list_days(walk *w, const char *prefix, size_t blen)
{
	if (!wanted(w, prefix, blen))
		return 0;
	if (!dated(w))
		return list_all(w, prefix);
	if (w->o->since_day != INT64_MIN && w->o->until_day != INT64_MAX &&
	    w->o->until_day - w->o->since_day <= DAYS_EACH)
		return list_each_day(w, prefix, blen);
	char after[1200] = "", token[1100] = "";
	const ts_s3walk_opts *o = w->o;
	if (o->since_day != INT64_MIN) {
		int64_t y;
		unsigned m, d;
		ts_civil_from_days(o->since_day, &y, &m, &d);
		snprintf(after, sizeof after, "%.*s%04lld/%02u/%02u", (int)blen, prefix,
			 (long long)(y < 0 ? 0 : y > 9999 ? 9999 : y), m, d);
		if (strcmp(after, prefix) < 0)
			after[0] = 0; /* the prefix starts later */
	}
	for (int done = 0; !done;) {
		ts_s3_page pg;
		ts_s3_listreq q = {.prefix = prefix, .start_after = token[0] ? NULL : after,
				   .token = token};
		int rc = o->list(o->list_ctx, &q, &pg, w->err, w->cap);
		for (size_t i = 0; !rc && !done && i < pg.objs.n; i++) {
			const char *k = pg.objs.v[i].key;
			int64_t day;
			if (strlen(k) < blen || day_of(k + blen, &day)) {
				pass(w, k, UNDATED);
				continue;
			}
			if (day >= o->until_day)
				done = 1; /* keys are in order: the rest is later */
			else if (day >= o->since_day)
				rc = take(w, &pg.objs.v[i]);
		}
		int more = pg.truncated && pg.next_token[0];
		if (more)
			snprintf(token, sizeof token, "%s", pg.next_token);
		ts_s3_page_free(&pg);
		if (rc)
			return rc;
		done = done || !more;
	}
	return 0;
}

/* The start-after that skips every key of folder f ("X/"): "X0", since
 * '0' comes right after '/' (only a key that is exactly "X0" is skipped
 * with them). A character above every other (U+FFFF) would do without
 * that, but it is not allowed in XML, and S3 answers with the start-after
 * in its XML. */
static void past(char *out, size_t cap, const char *f)
{
	size_t n = strlen(f);
	snprintf(out, cap, "%.*s0", (int)(n ? n - 1 : 0), f);
}

/* Discovery under prefix (holding no Region folder itself). */
static int discover(walk *w, const char *prefix)
{
	char after[1200] = "";
	for (int asked = 0;; asked++) {
		if (asked >= DISCOVERY_MAX) {
			snprintf(w->err, w->cap, "'%s': more than %d folders and undated objects to "
				 "look at, with --since or --until", prefix, DISCOVERY_MAX);
			return TS_ECAP;
		}
		ts_s3_page pg;
		ts_s3_listreq q = {.prefix = prefix, .start_after = after, .max_keys = 1};
		int rc = w->o->list(w->o->list_ctx, &q, &pg, w->err, w->cap);
		if (rc || !pg.objs.n) {
			ts_s3_page_free(&pg);
			return rc;
		}
		const char *k = pg.objs.v[0].key;
		size_t base = region_base(k), flen;
		const char *why = NULL;
		int v = ts_s3walk_pick(k, &why, &flen);
		if (flen && (!base || flen <= base)) {
			/* a passed-over (or hidden) folder above the Region: skipped whole */
			char f[1100];
			snprintf(f, sizeof f, "%.*s", (int)flen, k);
			if (v == TS_S3WALK_PASS)
				pass(w, f, why);
			past(after, sizeof after, f);
		} else if (base) {
			char b[1100];
			snprintf(b, sizeof b, "%.*s", (int)base, k);
			rc = list_days(w, b, base);
			past(after, sizeof after, b);
		} else {
			if (v != TS_S3WALK_SKIP)
				pass(w, k, UNDATED);
			snprintf(after, sizeof after, "%s", k);
		}
		ts_s3_page_free(&pg);
		if (rc)
			return rc;
	}
}

int ts_s3walk(const char *prefix, const ts_s3walk_opts *o, ts_s3_objs *out, uint64_t *passed,
	      char *err, size_t cap)
{
	walk w = {o, out, passed, err, cap};
	if (!dated(&w) && !(o->accounts && o->accounts->n) && !(o->regions && o->regions->n))
		return list_all(&w, prefix);
	size_t base = region_base(prefix);
	return base ? list_days(&w, prefix, base) : discover(&w, prefix);
}
