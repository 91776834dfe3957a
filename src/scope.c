/* scope.c - name patterns (exact, prefix, glob) and scopes of series.
 * A pattern owns a NUL-terminated copy of its text; matching allocates
 * nothing. The glob matcher backtracks to the last '*' only, so it runs in
 * O(len(pattern) x len(value)) at worst. */
#include <stdlib.h>

#include "scope.h"

int ts_pattern_set(ts_pattern *p, const char *v)
{
	ts_pattern_clear(p);
	size_t n = strlen(v);
	if (!n || n > 1000)
		return TS_EINVAL;
	char *t = malloc(n + 1);
	if (!t)
		return TS_ENOMEM;
	memcpy(t, v, n + 1);
	p->text = t;
	p->n = n;
	p->kind = TS_PAT_EXACT;
	const char *star = strchr(t, '*');
	if (strchr(t, '?') || (star && star != t + n - 1))
		p->kind = TS_PAT_GLOB;
	else if (star) {
		p->kind = TS_PAT_PREFIX;
		p->n = n - 1;
	}
	return 0;
}

void ts_pattern_clear(ts_pattern *p)
{
	free(p->text);
	*p = (ts_pattern){NULL, 0, TS_PAT_EXACT};
}

static int glob(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t i = 0, j = 0, star_p = (size_t)-1, star_s = 0;
	while (j < sn) {
		if (i < pn && (p[i] == '?' || (p[i] != '*' && p[i] == s[j]))) {
			i++;
			j++;
		} else if (i < pn && p[i] == '*') {
			star_p = i++;
			star_s = j;
		} else if (star_p != (size_t)-1) {
			i = star_p + 1;
			j = ++star_s;
		} else {
			return 0;
		}
	}
	while (i < pn && p[i] == '*')
		i++;
	return i == pn;
}

int ts_pattern_match(const ts_pattern *p, ts_str v)
{
	if (!v.p)
		return 0;
	switch (p->kind) {
	case TS_PAT_EXACT: return v.n == p->n && !memcmp(v.p, p->text, v.n);
	case TS_PAT_PREFIX: return v.n >= p->n && !memcmp(v.p, p->text, p->n);
	default: return glob(p->text, p->n, v.p, v.n);
	}
}

static const char *const scope_keys[TS_SC_N] = {"account", "region", "eventSource",
						 "eventName", "errorCode"};

int ts_scope_key(const char *key)
{
	for (int i = 0; i < TS_SC_N; i++)
		if (!strcmp(key, scope_keys[i]))
			return i;
	if (!strcmp(key, "recipientAccountId"))
		return TS_SC_ACCOUNT;
	if (!strcmp(key, "awsRegion"))
		return TS_SC_REGION;
	return -1;
}

const char *ts_scope_name(int i) { return i >= 0 && i < TS_SC_N ? scope_keys[i] : "?"; }

void ts_scope_clear(ts_scope *s)
{
	for (int i = 0; i < TS_SC_N; i++)
		ts_pattern_clear(&s->f[i]);
}

int ts_scope_match(const ts_scope *s, const ts_str v[TS_SC_N], int skip_code)
{
	for (int i = 0; i < TS_SC_N; i++) {
		if (!s->f[i].text || (skip_code && i == TS_SC_CODE))
			continue;
		if (!ts_pattern_match(&s->f[i], v[i]))
			return 0;
	}
	return 1;
}

int ts_scope_fields(const ts_scope *s)
{
	int n = 0;
	for (int i = 0; i < TS_SC_N; i++)
		n += s->f[i].text != NULL;
	return n;
}
