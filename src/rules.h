/* rules.h - suppression rules: which records, series or insights a user
 * has declared noise, read from a rules file in the profiles' plain
 * format (kvfile.h). Each block starts with "rule = NAME" and gives an
 * action and what it matches:
 *
 *   drop      a matching record is counted apart (under its rule), not in
 *             its series; it matches on the scope (account, region,
 *             eventSource, eventName, errorCode) and on its caller
 *             (userIdentity.arn, userIdentity.type, userIdentity.invokedBy,
 *             userAgent);
 *   unjudged  a series in the scope is counted but never judged;
 *   mark      a series in the scope is judged, and its insights carry the
 *             rule's name and go to no sink.
 *
 * The first matching rule in file order takes a record or a series.
 * Patterns are those of scope.h. A ts_rules is immutable once loaded and
 * owns its patterns; the per-record matching caches live in rulematch.h.
 */
#ifndef TS_RULES_H
#define TS_RULES_H

#include <stdint.h>

#include "scope.h"

#define TS_MAX_RULES 64 /* a rule set is a 64-bit mask */
#define TS_RULE_NAME 40

enum ts_rule_action { TS_RULE_DROP = 0, TS_RULE_UNJUDGED = 1, TS_RULE_MARK = 2 };

/* A record's caller fields, in the order of the keys. */
enum { TS_CALLER_ARN, TS_CALLER_TYPE, TS_CALLER_INVOKED, TS_CALLER_AGENT, TS_CALLER_N };

typedef struct ts_rules ts_rules;

/* Read a rules file into *out (the caller frees it with ts_rules_free).
 * 0; TS_EIO (cannot read); TS_EINVAL (err says "PATH:LINE: ..." for a
 * line, or "PATH: rule 'N' (line L): ..." for a block that is incomplete:
 * no action, nothing to match, caller keys on a series action); TS_ENOMEM.
 * *out is NULL after an error. */
int ts_rules_load(const char *path, ts_rules **out, char *err, size_t errlen);
void ts_rules_free(ts_rules *rs); /* NULL is a no-op */

size_t ts_rules_count(const ts_rules *rs);
const char *ts_rules_name(const ts_rules *rs, size_t i); /* owned by rs */
int ts_rules_action(const ts_rules *rs, size_t i);
const char *ts_rules_action_name(int action); /* "drop", "unjudged", "mark" */
/* The drop rules, a bit per rule index. */
uint64_t ts_rules_drop_mask(const ts_rules *rs);

/* The first unjudged or mark rule whose scope holds a series with values
 * v (scope.h), or -1. */
int ts_rules_series(const ts_rules *rs, const ts_str v[TS_SC_N]);
/* The drop rules whose scope, errorCode aside, holds an API (v's errorCode
 * is not read): a bit per rule index. */
uint64_t ts_rules_candidates(const ts_rules *rs, const ts_str v[TS_SC_N]);
/* The first drop rule in mask that takes a record with errorCode code
 * (p NULL: none) and caller c, or -1. Adds the rules it tried to *evals. */
int ts_rules_record(const ts_rules *rs, uint64_t mask, ts_str code, const ts_str c[TS_CALLER_N],
		    uint64_t *evals);

#endif
