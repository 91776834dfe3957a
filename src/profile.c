/* profile.c - defaults and the "key = value" reader for sensitivity
 * profiles. Unknown keys are errors, so a typo never silently keeps a
 * default. '#' starts a comment. */
#include <errno.h>
#include <stdlib.h>

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
	p->drop_min_rate = 5;
	p->drop_max_ratio = 0.25;
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
		{"drop_min_rate", &p->drop_min_rate, NULL, 0, 1e9},
		{"drop_max_ratio", &p->drop_max_ratio, NULL, 0, 1},
		{"min_errors", &p->min_errors, NULL, 0, 1e9},
		{"error_min_fraction", &p->error_min_fraction, NULL, 0, 1},
		{"error_min_ratio", &p->error_min_ratio, NULL, 1, 1e9},
		{"warmup_days", NULL, &p->warmup_days, 1, 28},
		{"history_days", NULL, &p->history_days, 1, 28},
		{"insight_minutes", NULL, &p->insight_minutes, 1, 5},
		{"shrink", &p->shrink, NULL, 0, 100000},
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

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int ts_profile_load(const char *spec, const char *models_dir, ts_profile *p, char *err,
		    size_t errlen)
{
	char path[4096];
	size_t sl = strlen(spec);
	int is_path = strchr(spec, '/') || (sl > 8 && strcmp(spec + sl - 8, ".profile") == 0);
	if (is_path)
		snprintf(path, sizeof path, "%s", spec);
	else
		snprintf(path, sizeof path, "%s/%s.profile", models_dir ? models_dir : "models", spec);
	ts_profile_defaults(p);
	/* the name defaults to the file's base name */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t bl = strlen(base);
	if (bl > 8 && strcmp(base + bl - 8, ".profile") == 0)
		bl -= 8;
	snprintf(p->name, sizeof p->name, "%.*s", (int)(bl < 63 ? bl : 63), base);

	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read profile '%s': %s", path, strerror(errno));
		return TS_EIO;
	}
	char line[1024];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
			rc = TS_EINVAL;
			break;
		}
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		int r = set_key(p, k, v);
		if (r) {
			snprintf(err, errlen, "%s:%d: %s '%s'", path, lineno,
				 r == -2 ? "unknown key" : "bad value for", k);
			rc = TS_EINVAL;
			break;
		}
	}
	fclose(f);
	if (!rc && p->warmup_days > p->history_days) {
		snprintf(err, errlen, "%s: warmup_days exceeds history_days", path);
		rc = TS_EINVAL;
	}
	return rc;
}
