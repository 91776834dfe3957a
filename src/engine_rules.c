/* engine_rules.c - the engine's side of profile overrides and suppression
 * rules (profile.h, rules.h, rulematch.h).
 *
 * Per metric, resolved once when the engine first makes its state: the
 * profile in force (emetric.prof) and the unjudged or mark rule that holds
 * the series (emetric.rule), both small indexes. Per record, with drop
 * rules: the matcher's verdict. The engine owns the matcher and the tally
 * (3 counters per rule: records, series, insights); the rules and the
 * overrides are borrowed from the options.
 */
#include <stdlib.h>

#include "engine_int.h"
#include "profile.h"
#include "rules.h"

enum { T_RECORDS, T_SERIES, T_INSIGHTS, T_N };

int ts_engine_rules_init_(ts_engine *e)
{
	size_t n = ts_rules_count(e->o.rules);
	if (!n)
		return 0;
	if (!(e->rule_tally = calloc(n * T_N, sizeof *e->rule_tally)))
		return TS_ENOMEM;
	if (ts_rules_drop_mask(e->o.rules) && !(e->rm = ts_rulematch_new(e->o.rules)))
		return TS_ENOMEM;
	return 0;
}

void ts_engine_rules_free_(ts_engine *e)
{
	ts_rulematch_free(e->rm);
	free(e->rule_tally);
}

void ts_engine_series_scope_(ts_engine *e, uint32_t mid, emetric *em)
{
	em->prof = 0;
	em->rule = 0;
	const ts_overrides *ov = e->o.overrides;
	if ((!ov || !ov->n) && !ts_rules_count(e->o.rules))
		return;
	const ts_metric *m = ts_registry_get_metric(e->reg, mid);
	const ts_api *api = ts_registry_get_api(e->reg, m->api);
	const ts_partition *p = ts_registry_get_partition(e->reg, m->partition);
	ts_str v[TS_SC_N] = {p->account, p->region, api->source, api->name, TS_STR_NULL};
	if (m->kind == TS_M_ERRORS)
		v[TS_SC_CODE] = ts_registry_value_str(e->reg, m->code);
	int o = ts_overrides_resolve(ov, v);
	em->prof = (uint8_t)(o + 1);
	int r = m->kind == TS_M_READS ? -1 : ts_rules_series(e->o.rules, v);
	if (r >= 0) {
		em->rule = (uint8_t)(r + 1);
		e->rule_tally[(size_t)r * T_N + T_SERIES]++;
	}
}

const ts_profile *ts_engine_profile_(const ts_engine *e, const emetric *em)
{
	return em->prof ? &e->o.overrides->v[em->prof - 1].p : &e->o.profile;
}

int ts_engine_drop_(ts_engine *e, const ts_record *r, uint32_t aid,
		    const uint32_t vals[TS_A_KINDS], int *dropped)
{
	*dropped = 0;
	if (!e->rm)
		return 0;
	const ts_api *api = ts_registry_get_api(e->reg, aid);
	ts_str v[TS_SC_N] = {r->account, r->aws_region, api->source, api->name, r->error_code};
	ts_str c[TS_CALLER_N] = {r->arn, r->identity_type, r->invoked_by, r->user_agent};
	uint32_t code_id = TS_NO_VALUE;
	/* the error code's id, when the registry has it (the engine interns
	 * it before asking); NULL code: none */
	if (r->error_code.p && vals[TS_A_ERRCODE] != TS_NO_VALUE)
		code_id = vals[TS_A_ERRCODE];
	ts_rule_rec rr = {v, r->error_code, c, code_id, vals[TS_A_ARN], vals[TS_A_AGENT]};
	int rule, first;
	int rc = ts_rulematch_record(e->rm, aid, &rr, &rule, &first);
	if (rc || rule < 0)
		return rc;
	*dropped = 1;
	e->st.suppressed++;
	e->rule_tally[(size_t)rule * T_N + T_RECORDS]++;
	e->rule_tally[(size_t)rule * T_N + T_SERIES] += (uint64_t)first;
	return 0;
}

int ts_engine_start_capped_(ts_engine *e, const emetric *em, uint32_t pid, int count)
{
	const ts_profile *prof = ts_engine_profile_(e, em);
	if (prof->max_open <= 0 || ts_engine_mark_(e, em))
		return 0;
	/* Starts are rare: count the partition's open episodes when one comes */
	ts_partition *p = ts_registry_get_partition(e->reg, pid);
	uint64_t n = 0;
	for (uint32_t i = 0; i < p->nmetrics; i++) {
		const emetric *o = ts_engine_peek_metric_(e, p->metrics[i]);
		n += o && o->open && !ts_engine_mark_(e, o);
	}
	if (n < (uint64_t)prof->max_open)
		return 0;
	if (count)
		e->st.capped++;
	return 1;
}

void ts_engine_profile_spans_(const ts_engine_opts *o, int *hist_days, int64_t *tail)
{
	*hist_days = 0;
	*tail = 0;
	for (size_t i = 0; i <= (o->overrides ? o->overrides->n : 0); i++) {
		const ts_profile *q = i ? &o->overrides->v[i - 1].p : &o->profile;
		*hist_days = q->history_days > *hist_days ? q->history_days : *hist_days;
		int64_t t = (int64_t)(q->min_quiet > q->cooldown ? q->min_quiet : q->cooldown) +
			    q->end_after + q->insight_minutes;
		*tail = t > *tail ? t : *tail;
	}
}

void ts_engine_rule_insight_(ts_engine *e, const emetric *em)
{
	if (em->rule)
		e->rule_tally[(size_t)(em->rule - 1) * T_N + T_INSIGHTS]++;
}

const char *ts_engine_mark_(const ts_engine *e, const emetric *em)
{
	if (!em->rule || ts_rules_action(e->o.rules, em->rule - 1u) != TS_RULE_MARK)
		return NULL;
	return ts_rules_name(e->o.rules, em->rule - 1u);
}

int ts_engine_unjudged_(const ts_engine *e, const emetric *em)
{
	return em->rule && ts_rules_action(e->o.rules, em->rule - 1u) == TS_RULE_UNJUDGED;
}

int ts_engine_rule_stats(const ts_engine *e, size_t i, ts_engine_rule_tally *out)
{
	if (i >= ts_rules_count(e->o.rules))
		return TS_EINVAL;
	const uint64_t *t = e->rule_tally + i * T_N;
	*out = (ts_engine_rule_tally){ts_rules_name(e->o.rules, i), ts_rules_action(e->o.rules, i),
				      t[T_RECORDS], t[T_SERIES], t[T_INSIGHTS]};
	return 0;
}

void ts_engine_rule_costs(const ts_engine *e, ts_rulematch_stats *out)
{
	memset(out, 0, sizeof *out);
	if (e->rm)
		ts_rulematch_get_stats(e->rm, out);
}
