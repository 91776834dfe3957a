/* rulematch.h - the drop rules applied to records, each distinct case
 * matched once.
 *
 * A record's verdict depends on its API's scope (fixed per API) and on
 * (errorCode, userIdentity.arn, userIdentity.type, userIdentity.invokedBy,
 * userAgent). The scope part is matched once per API, when its first
 * record comes: the drop rules that may apply there, as a mask (0 for
 * most APIs: nothing more to do). The rest is matched once per distinct
 * (mask, caller) case and remembered in a fixed table of recent cases,
 * keyed by interned ids, so a record costs a hash and a compare, and the
 * patterns run only on a case not seen (or pushed out) before.
 *
 * Owns its per-API array (24 bytes per API id up to the highest seen), its table
 * (TS_RULEMATCH_SLOTS entries) and two interned tables of caller types
 * and invokedBy values (at most TS_RULEMATCH_VALUES each; past them a
 * record is matched by its patterns, uncached). Borrows the rules.
 */
#ifndef TS_RULEMATCH_H
#define TS_RULEMATCH_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

#define TS_RULEMATCH_SLOTS 4096
#define TS_RULEMATCH_VALUES 4096

typedef struct ts_rulematch ts_rulematch;

/* How much matching cost. */
typedef struct ts_rulematch_stats {
	uint64_t records;     /* records looked at */
	uint64_t scope_evals; /* rule scopes matched against an API (once per API) */
	uint64_t evals;       /* rules tried against a record's code and caller */
	uint64_t cached;      /* records answered from the table */
} ts_rulematch_stats;

/* NULL on ENOMEM. rs is borrowed and must outlive the matcher. */
ts_rulematch *ts_rulematch_new(const ts_rules *rs);
void ts_rulematch_free(ts_rulematch *m); /* NULL is a no-op */

/* A record's values: its API's scope v (the errorCode field is read from
 * code), interned ids where the caller has them (code_id, arn_id,
 * agent_id: UINT32_MAX when absent) and the caller's fields c. */
typedef struct ts_rule_rec {
	const ts_str *v;          /* [TS_SC_N] */
	ts_str code;
	const ts_str *c;          /* [TS_CALLER_N] */
	uint32_t code_id, arn_id, agent_id;
} ts_rule_rec;

/* The drop rule that takes a record of API aid, in *rule (-1: none), and
 * *first 1 when it is that rule's first record of this API. 0 or
 * TS_ENOMEM. */
int ts_rulematch_record(ts_rulematch *m, uint32_t aid, const ts_rule_rec *r, int *rule,
			int *first);
void ts_rulematch_get_stats(const ts_rulematch *m, ts_rulematch_stats *st);
size_t ts_rulematch_memory(const ts_rulematch *m);

#endif
