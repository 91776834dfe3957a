/* scope.h - patterns over names, and scopes: which series (account,
 * Region, eventSource, eventName, errorCode) a profile override or a rule
 * applies to.
 *
 * A pattern is exact text, a prefix ("iam.*": ends with the one '*') or a
 * glob ('*' any run of bytes, '/' and ':' included; '?' one byte). It
 * matches present values only: an absent field (JSON null or missing)
 * matches no pattern, not even "*", so "invokedBy = *" means "invokedBy
 * is set". A scope's unset fields match anything; its errorCode, when
 * set, matches error-rate series (and records) of that code only.
 * A ts_pattern owns its text: ts_pattern_clear frees it.
 */
#ifndef TS_SCOPE_H
#define TS_SCOPE_H

#include "util.h"

enum { TS_PAT_EXACT = 0, TS_PAT_PREFIX = 1, TS_PAT_GLOB = 2 };

typedef struct ts_pattern {
	char *text; /* NULL: unset (matches anything where it is optional) */
	size_t n;   /* length; for a prefix, without the '*' */
	int kind;   /* TS_PAT_* */
} ts_pattern;

/* Set p from v (copied; p cleared first). 0, TS_EINVAL (empty, or longer
 * than 1000 bytes) or TS_ENOMEM. */
int ts_pattern_set(ts_pattern *p, const char *v);
void ts_pattern_clear(ts_pattern *p);
/* 1 if the present value v (v.p != NULL) matches p, else 0. p must be set. */
int ts_pattern_match(const ts_pattern *p, ts_str v);

/* The fields of a scope, in the order of the keys. */
enum { TS_SC_ACCOUNT, TS_SC_REGION, TS_SC_SOURCE, TS_SC_NAME, TS_SC_CODE, TS_SC_N };

typedef struct ts_scope {
	ts_pattern f[TS_SC_N];
} ts_scope;

/* The field named key ("account", "region", "eventSource", "eventName",
 * "errorCode"; "awsRegion" and "recipientAccountId" too), or -1. */
int ts_scope_key(const char *key);
/* The key name of field i. */
const char *ts_scope_name(int i);
void ts_scope_clear(ts_scope *s); /* frees the patterns; then all unset */
/* 1 if series or record values v[TS_SC_N] (v[TS_SC_CODE].p NULL for a
 * call rate or a record without errorCode) are in scope s. Unset fields
 * match anything; skip_code ignores the errorCode field (it is checked
 * apart). */
int ts_scope_match(const ts_scope *s, const ts_str v[TS_SC_N], int skip_code);
/* Fields set: the more, the more specific. */
int ts_scope_fields(const ts_scope *s);

#endif
