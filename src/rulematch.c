/* rulematch.c - per-API masks and a direct-mapped table of caller cases.
 *
 * apis[aid]: known (the mask was computed), mask (drop rules whose scope
 * holds the API) and seen (rules that took a record of it). slots[]: a
 * case (mask, code, arn, agent, type, invokedBy ids) and its verdict; a
 * new case overwrites its slot, so the table never grows. Invariant: a
 * slot's verdict is what ts_rules_record says for its key.
 */
#include <stdlib.h>

#include "intern.h"
#include "rulematch.h"

typedef struct api_info {
	uint64_t mask, seen;
	uint8_t known;
} api_info;

typedef struct slot {
	uint64_t mask;
	uint32_t id[5]; /* code, arn, agent, type, invokedBy */
	int16_t rule;
	uint8_t used;
} slot;

struct ts_rulematch {
	const ts_rules *rs;
	api_info *apis;
	size_t napis;
	slot *slots;
	ts_intern *types, *invoked;
	ts_rulematch_stats st;
};

ts_rulematch *ts_rulematch_new(const ts_rules *rs)
{
	ts_rulematch *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->rs = rs;
	m->slots = calloc(TS_RULEMATCH_SLOTS, sizeof *m->slots);
	m->types = ts_intern_new(TS_RULEMATCH_VALUES, 0);
	m->invoked = ts_intern_new(TS_RULEMATCH_VALUES, 0);
	if (!m->slots || !m->types || !m->invoked) {
		ts_rulematch_free(m);
		return NULL;
	}
	return m;
}

void ts_rulematch_free(ts_rulematch *m)
{
	if (!m)
		return;
	free(m->apis);
	free(m->slots);
	ts_intern_free(m->types);
	ts_intern_free(m->invoked);
	free(m);
}

/* The id of a caller value in t: UINT32_MAX when absent; 0 with *ok 0
 * when the table is full. */
static int value_id(ts_intern *t, ts_str v, uint32_t *id, int *ok)
{
	*id = UINT32_MAX;
	if (!v.p)
		return 0;
	int rc = ts_intern_put(t, v, id, NULL);
	if (rc == TS_ECAP) {
		*ok = 0;
		return 0;
	}
	return rc;
}

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

int ts_rulematch_record(ts_rulematch *m, uint32_t aid, const ts_rule_rec *r, int *rule,
			int *first)
{
	*rule = -1;
	*first = 0;
	m->st.records++;
	if (ts_grow(&m->apis, &m->napis, (size_t)aid + 1, sizeof *m->apis, 256))
		return TS_ENOMEM;
	api_info *a = &m->apis[aid];
	if (!a->known) {
		a->mask = ts_rules_candidates(m->rs, r->v);
		a->seen = 0;
		a->known = 1;
		m->st.scope_evals += ts_rules_count(m->rs);
	}
	if (!a->mask)
		return 0;
	int ok = 1, rc;
	uint32_t type_id, inv_id;
	if ((rc = value_id(m->types, r->c[TS_CALLER_TYPE], &type_id, &ok)) ||
	    (rc = value_id(m->invoked, r->c[TS_CALLER_INVOKED], &inv_id, &ok)))
		return rc;
	uint32_t id[5] = {r->code_id, r->arn_id, r->agent_id, type_id, inv_id};
	slot *s = NULL;
	if (ok) {
		uint64_t h = mix(0, a->mask);
		for (int i = 0; i < 5; i++)
			h = mix(h, id[i]);
		s = &m->slots[h % TS_RULEMATCH_SLOTS];
		if (s->used && s->mask == a->mask && !memcmp(s->id, id, sizeof id)) {
			m->st.cached++;
			*rule = s->rule;
			goto found;
		}
	}
	*rule = ts_rules_record(m->rs, a->mask, r->code, r->c, &m->st.evals);
	if (s) {
		s->used = 1;
		s->mask = a->mask;
		memcpy(s->id, id, sizeof id);
		s->rule = (int16_t)*rule;
	}
found:
	if (*rule >= 0 && !(a->seen & ((uint64_t)1 << *rule))) {
		a->seen |= (uint64_t)1 << *rule;
		*first = 1;
	}
	return 0;
}

void ts_rulematch_get_stats(const ts_rulematch *m, ts_rulematch_stats *st) { *st = m->st; }

size_t ts_rulematch_memory(const ts_rulematch *m)
{
	return sizeof *m + m->napis * sizeof *m->apis + TS_RULEMATCH_SLOTS * sizeof(slot) +
	       ts_intern_memory(m->types) + ts_intern_memory(m->invoked);
}
