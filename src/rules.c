/* rules.c - reading a rules file and matching one rule at a time.
 *
 * A rule is its name, action, scope and caller patterns (each pattern
 * owns its text); the set is an array in file order, at most
 * TS_MAX_RULES. Blocks are checked when the next one starts and at the
 * end of the file, so an incomplete block is named with its own line.
 */
#include <stdlib.h>

#include "kvfile.h"
#include "rules.h"

typedef struct rule {
	char name[TS_RULE_NAME + 1];
	int action; /* -1 until given */
	int line;
	ts_scope scope;
	ts_pattern caller[TS_CALLER_N];
} rule;

struct ts_rules {
	rule *v;
	size_t n;
};

static const char *const caller_keys[TS_CALLER_N] = {"userIdentity.arn", "userIdentity.type",
						      "userIdentity.invokedBy", "userAgent"};

static int caller_key(const char *k)
{
	for (int i = 0; i < TS_CALLER_N; i++)
		if (!strcmp(k, caller_keys[i]))
			return i;
	return -1;
}

const char *ts_rules_action_name(int action)
{
	switch (action) {
	case TS_RULE_DROP: return "drop";
	case TS_RULE_UNJUDGED: return "unjudged";
	case TS_RULE_MARK: return "mark";
	}
	return "?";
}

void ts_rules_free(ts_rules *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		ts_scope_clear(&rs->v[i].scope);
		for (int k = 0; k < TS_CALLER_N; k++)
			ts_pattern_clear(&rs->v[i].caller[k]);
	}
	free(rs->v);
	free(rs);
}

/* The block just read is usable: an action, something to match, caller
 * keys only on a drop rule. */
static int block_done(const ts_rules *rs, char *why, size_t whylen)
{
	if (!rs->n)
		return 0;
	const rule *r = &rs->v[rs->n - 1];
	int callers = 0;
	for (int k = 0; k < TS_CALLER_N; k++)
		callers += r->caller[k].text != NULL;
	const char *bad = NULL;
	if (r->action < 0)
		bad = "no action (drop, unjudged or mark)";
	else if (!callers && !ts_scope_fields(&r->scope))
		bad = "matches everything: give at least one key to match";
	else if (callers && r->action != TS_RULE_DROP)
		bad = "caller keys (userIdentity.*, userAgent) need action = drop";
	if (!bad)
		return 0;
	snprintf(why, whylen, "rule '%s' (line %d): %s", r->name, r->line, bad);
	return -1;
}

static int on_kv(void *ctx, const char *k, const char *v, int line, char *why, size_t whylen)
{
	ts_rules *rs = ctx;
	if (!strcmp(k, "rule")) {
		if (block_done(rs, why, whylen))
			return TS_KV_WHY;
		if (!ts_kv_name_ok(v, TS_RULE_NAME)) {
			snprintf(why, whylen, "rule name '%s': expected 1 to %d letters, digits, '-', "
				 "'_' or '.'", v, TS_RULE_NAME);
			return TS_KV_WHY;
		}
		for (size_t i = 0; i < rs->n; i++)
			if (!strcmp(rs->v[i].name, v)) {
				snprintf(why, whylen, "rule '%s' given twice", v);
				return TS_KV_WHY;
			}
		if (rs->n == TS_MAX_RULES) {
			snprintf(why, whylen, "more than %d rules", TS_MAX_RULES);
			return TS_KV_WHY;
		}
		rule *n = realloc(rs->v, (rs->n + 1) * sizeof *n);
		if (!n)
			return TS_KV_NOMEM;
		rs->v = n;
		rule *r = &n[rs->n++];
		memset(r, 0, sizeof *r);
		memcpy(r->name, v, strlen(v) + 1);
		r->action = -1;
		r->line = line;
		return TS_KV_OK;
	}
	if (!rs->n) {
		snprintf(why, whylen, "'%s' before the first 'rule = NAME' line", k);
		return TS_KV_WHY;
	}
	rule *r = &rs->v[rs->n - 1];
	if (!strcmp(k, "action")) {
		for (int a = TS_RULE_DROP; a <= TS_RULE_MARK; a++)
			if (!strcmp(v, ts_rules_action_name(a))) {
				r->action = a;
				return TS_KV_OK;
			}
		snprintf(why, whylen, "action '%s': expected drop, unjudged or mark", v);
		return TS_KV_WHY;
	}
	ts_pattern *p = NULL;
	int f = ts_scope_key(k);
	if (f >= 0)
		p = &r->scope.f[f];
	else if ((f = caller_key(k)) >= 0)
		p = &r->caller[f];
	if (!p)
		return TS_KV_UNKNOWN_KEY;
	if (p->text) {
		snprintf(why, whylen, "rule '%s': %s given twice", r->name, k);
		return TS_KV_WHY;
	}
	int rc = ts_pattern_set(p, v);
	return rc == TS_ENOMEM ? TS_KV_NOMEM : rc ? TS_KV_BAD_VALUE : TS_KV_OK;
}

int ts_rules_load(const char *path, ts_rules **out, char *err, size_t errlen)
{
	*out = NULL;
	ts_rules *rs = calloc(1, sizeof *rs);
	if (!rs)
		return TS_ENOMEM;
	int rc = ts_kv_read(path, "rules file", on_kv, rs, err, errlen);
	char why[256];
	if (!rc && block_done(rs, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", path, why);
		rc = TS_EINVAL;
	}
	if (!rc && !rs->n) {
		snprintf(err, errlen, "%s: no rules (each starts with 'rule = NAME')", path);
		rc = TS_EINVAL;
	}
	if (rc) {
		ts_rules_free(rs);
		return rc;
	}
	*out = rs;
	return 0;
}

size_t ts_rules_count(const ts_rules *rs) { return rs ? rs->n : 0; }
const char *ts_rules_name(const ts_rules *rs, size_t i) { return rs->v[i].name; }
int ts_rules_action(const ts_rules *rs, size_t i) { return rs->v[i].action; }

uint64_t ts_rules_drop_mask(const ts_rules *rs)
{
	uint64_t m = 0;
	for (size_t i = 0; rs && i < rs->n; i++)
		if (rs->v[i].action == TS_RULE_DROP)
			m |= (uint64_t)1 << i;
	return m;
}

int ts_rules_series(const ts_rules *rs, const ts_str v[TS_SC_N])
{
	for (size_t i = 0; rs && i < rs->n; i++)
		if (rs->v[i].action != TS_RULE_DROP && ts_scope_match(&rs->v[i].scope, v, 0))
			return (int)i;
	return -1;
}

uint64_t ts_rules_candidates(const ts_rules *rs, const ts_str v[TS_SC_N])
{
	uint64_t m = 0;
	for (size_t i = 0; rs && i < rs->n; i++)
		if (rs->v[i].action == TS_RULE_DROP && ts_scope_match(&rs->v[i].scope, v, 1))
			m |= (uint64_t)1 << i;
	return m;
}

int ts_rules_record(const ts_rules *rs, uint64_t mask, ts_str code, const ts_str c[TS_CALLER_N],
		    uint64_t *evals)
{
	for (size_t i = 0; mask && i < rs->n; i++, mask >>= 1) {
		if (!(mask & 1))
			continue;
		const rule *r = &rs->v[i];
		(*evals)++;
		if (r->scope.f[TS_SC_CODE].text && !ts_pattern_match(&r->scope.f[TS_SC_CODE], code))
			continue;
		int k = 0;
		while (k < TS_CALLER_N && (!r->caller[k].text || ts_pattern_match(&r->caller[k], c[k])))
			k++;
		if (k == TS_CALLER_N)
			return (int)i;
	}
	return -1;
}
