/* profile.c - defaults, keys and override blocks of sensitivity profiles,
 * read with kvfile.h. Unknown keys are errors, so a typo never silently
 * keeps a default. A file is read twice: the base keys (those before the
 * first "override" line), then each override block on top of the whole
 * base. ts_overrides owns its array and each override's scope patterns. */
#include <stdlib.h>

#include "kvfile.h"
#include "profile.h"
#include "util.h"

void ts_profile_defaults(ts_profile *p)
{
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "default");
	p->p_start = 1e-7;
	p->p_continue = 1e-2;
	static const int w[] = {1, 2, 5, 15, 30};
	p->n_windows = (int)TS_ARRAY_LEN(w);
	memcpy(p->windows, w, sizeof w);
	p->min_duration = 1;
	p->end_after = 5;
	p->cooldown = 10;
	p->min_count = 20;
	p->min_ratio = 2.0;
	p->scan_min_share = 0.5;
	p->scan_min_minutes = 3;
	p->drop_min_rate = 5;
	p->drop_max_ratio = 0.4;
	p->min_errors = 5;
	p->error_min_fraction = 0.05;
	p->error_min_ratio = 3.0;
	p->warmup_days = 7;
	p->history_days = 28;
	p->insight_minutes = 1;
	p->shrink = 30;
}

static int set_key(ts_profile *p, const char *k, const char *v)
{
	double d;
	struct {
		const char *key;
		double *dst;
		int *idst;
		double lo, hi;
	} keys[] = {
		{"p_start", &p->p_start, NULL, 1e-300, 0.5},
		{"p_continue", &p->p_continue, NULL, 1e-300, 0.5},
		{"min_duration", NULL, &p->min_duration, 1, 60},
		{"end_after", NULL, &p->end_after, 1, 1440},
		{"cooldown", NULL, &p->cooldown, 0, 10080},
		{"min_count", &p->min_count, NULL, 0, 1e9},
		{"min_ratio", &p->min_ratio, NULL, 1, 1e9},
		{"scan_min_share", &p->scan_min_share, NULL, 0, 1},
		{"scan_min_minutes", NULL, &p->scan_min_minutes, 1, TS_WINDOW_MAX},
		{"drop_min_rate", &p->drop_min_rate, NULL, 0, 1e9},
		{"drop_max_ratio", &p->drop_max_ratio, NULL, 0, 1},
		{"min_errors", &p->min_errors, NULL, 0, 1e9},
		{"error_min_fraction", &p->error_min_fraction, NULL, 0, 1},
		{"error_min_ratio", &p->error_min_ratio, NULL, 1, 1e9},
		{"warmup_days", NULL, &p->warmup_days, 1, 28},
		{"history_days", NULL, &p->history_days, 1, 28},
		{"insight_minutes", NULL, &p->insight_minutes, 1, 5},
		{"shrink", &p->shrink, NULL, 0, 100000},
		{"min_quiet", NULL, &p->min_quiet, 0, 10080},
		{"max_open", NULL, &p->max_open, 0, 1000000},
	};
	if (strcmp(k, "windows") == 0) {
		int n = 0;
		const char *s = v;
		while (*s) {
			char *end;
			long w = strtol(s, &end, 10);
			if (end == s || w < 1 || w > TS_WINDOW_MAX || n == TS_MAX_WINDOWS)
				return -1;
			p->windows[n++] = (int)w;
			s = end;
			while (*s == ',' || *s == ' ')
				s++;
		}
		if (!n)
			return -1;
		p->n_windows = n;
		return 0;
	}
	if (strcmp(k, "name") == 0) {
		snprintf(p->name, sizeof p->name, "%s", v);
		return 0;
	}
	for (size_t i = 0; i < TS_ARRAY_LEN(keys); i++) {
		if (strcmp(k, keys[i].key) != 0)
			continue;
		if (ts_parse_double(v, keys[i].lo, keys[i].hi, &d))
			return -1;
		if (keys[i].dst)
			*keys[i].dst = d;
		else if (d != (int)d)
			return -1;
		else
			*keys[i].idst = (int)d;
		return 0;
	}
	return -2;
}

int ts_profile_set(ts_profile *p, const char *key, const char *value)
{
	ts_profile c = *p;
	if (set_key(&c, key, value))
		return TS_EINVAL;
	*p = c;
	return 0;
}

/* Reading state: pass 0 reads the base keys, pass 1 the override blocks. */
typedef struct load_ctx {
	int pass;
	ts_profile *p;       /* the base */
	ts_overrides *ov;
	ts_override *cur;    /* pass 1: the block being read */
	int in_blocks;       /* an "override" line has been seen */
	int cur_line;
} load_ctx;

/* The block just read is complete: it has a scope and consistent days. */
static int block_done(const load_ctx *c, char *why, size_t whylen)
{
	const ts_override *o = c->cur;
	if (!o)
		return 0;
	if (!ts_scope_fields(&o->scope)) {
		snprintf(why, whylen, "override '%s' (line %d) has no scope key (account, region, "
			 "eventSource, eventName or errorCode)", o->name, c->cur_line);
		return -1;
	}
	if (o->p.warmup_days > o->p.history_days) {
		snprintf(why, whylen, "override '%s' (line %d): warmup_days exceeds history_days",
			 o->name, c->cur_line);
		return -1;
	}
	return 0;
}

static int on_kv(void *ctx, const char *k, const char *v, int line, char *why, size_t whylen)
{
	load_ctx *c = ctx;
	if (strcmp(k, "override") == 0) {
		c->in_blocks = 1;
		if (c->pass == 0)
			return TS_KV_OK;
		if (block_done(c, why, whylen))
			return TS_KV_WHY;
		if (!ts_kv_name_ok(v, TS_OVERRIDE_NAME)) {
			snprintf(why, whylen, "override name '%s': expected 1 to %d letters, digits, "
				 "'-', '_' or '.'", v, TS_OVERRIDE_NAME);
			return TS_KV_WHY;
		}
		for (size_t i = 0; i < c->ov->n; i++)
			if (!strcmp(c->ov->v[i].name, v)) {
				snprintf(why, whylen, "override '%s' given twice", v);
				return TS_KV_WHY;
			}
		if (c->ov->n == TS_MAX_OVERRIDES) {
			snprintf(why, whylen, "more than %d overrides", TS_MAX_OVERRIDES);
			return TS_KV_WHY;
		}
		ts_override *n = realloc(c->ov->v, (c->ov->n + 1) * sizeof *n);
		if (!n)
			return TS_KV_NOMEM;
		c->ov->v = n;
		ts_override *o = &n[c->ov->n++];
		memset(o, 0, sizeof *o);
		memcpy(o->name, v, strlen(v) + 1);
		o->p = *c->p;
		/* "BASE/NAME", the base name cut to fit */
		size_t bl = strlen(c->p->name), nl = strlen(v);
		if (bl + 1 + nl > sizeof o->p.name - 1)
			bl = sizeof o->p.name - 2 - nl;
		memcpy(o->p.name, c->p->name, bl);
		o->p.name[bl] = '/';
		memcpy(o->p.name + bl + 1, v, nl + 1);
		c->cur = o;
		c->cur_line = line;
		return TS_KV_OK;
	}
	if (c->pass == 0) {
		if (c->in_blocks)
			return TS_KV_OK;
		return set_key(c->p, k, v);
	}
	if (!c->cur)
		return TS_KV_OK; /* a base key, read in pass 0 */
	int f = ts_scope_key(k);
	if (f >= 0) {
		if (c->cur->scope.f[f].text) {
			snprintf(why, whylen, "override '%s': %s given twice", c->cur->name, k);
			return TS_KV_WHY;
		}
		int rc = ts_pattern_set(&c->cur->scope.f[f], v);
		return rc == TS_ENOMEM ? TS_KV_NOMEM : rc ? TS_KV_BAD_VALUE : TS_KV_OK;
	}
	if (strcmp(k, "name") == 0) {
		snprintf(why, whylen, "'name' is not allowed in an override (it is named by its "
			 "override line)");
		return TS_KV_WHY;
	}
	return set_key(&c->cur->p, k, v);
}

void ts_overrides_free(ts_overrides *ov)
{
	if (!ov)
		return;
	for (size_t i = 0; i < ov->n; i++)
		ts_scope_clear(&ov->v[i].scope);
	free(ov->v);
	ov->v = NULL;
	ov->n = 0;
}

int ts_overrides_resolve(const ts_overrides *ov, const ts_str v[TS_SC_N])
{
	int best = -1, best_fields = -1;
	for (size_t i = 0; ov && i < ov->n; i++) {
		int nf = ts_scope_fields(&ov->v[i].scope);
		if (nf >= best_fields && ts_scope_match(&ov->v[i].scope, v, 0)) {
			best = (int)i;
			best_fields = nf;
		}
	}
	return best;
}

int ts_profile_load(const char *spec, const char *models_dir, ts_profile *p, char *err,
		    size_t errlen)
{
	ts_overrides ov = {0};
	int rc = ts_profile_load_scoped(spec, models_dir, p, &ov, err, errlen);
	ts_overrides_free(&ov);
	return rc;
}

int ts_profile_load_scoped(const char *spec, const char *models_dir, ts_profile *p,
			   ts_overrides *ov, char *err, size_t errlen)
{
	char path[4096];
	size_t sl = strlen(spec);
	int is_path = strchr(spec, '/') || (sl > 8 && strcmp(spec + sl - 8, ".profile") == 0);
	if (is_path)
		snprintf(path, sizeof path, "%s", spec);
	else
		snprintf(path, sizeof path, "%s/%s.profile", models_dir ? models_dir : "models", spec);
	ts_overrides_free(ov);
	ts_profile_defaults(p);
	/* the name defaults to the file's base name */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t bl = strlen(base);
	if (bl > 8 && strcmp(base + bl - 8, ".profile") == 0)
		bl -= 8;
	snprintf(p->name, sizeof p->name, "%.*s", (int)(bl < 63 ? bl : 63), base);

	load_ctx c = {.p = p, .ov = ov};
	int rc = ts_kv_read(path, "profile", on_kv, &c, err, errlen);
	if (!rc && p->warmup_days > p->history_days) {
		snprintf(err, errlen, "%s: warmup_days exceeds history_days", path);
		rc = TS_EINVAL;
	}
	if (rc || !c.in_blocks)
		return rc;
	c.pass = 1;
	c.in_blocks = 0;
	rc = ts_kv_read(path, "profile", on_kv, &c, err, errlen);
	char why[256];
	if (!rc && block_done(&c, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", path, why);
		rc = TS_EINVAL;
	}
	return rc;
}
