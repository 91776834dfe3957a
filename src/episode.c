/* episode.c - the Start and End events of an episode (see episode.h).
 *
 * An event's statistics: the average count per minute over the baseline
 * window (from TS_BASELINE_DAYS UTC days before the start's day to the
 * start) and over the insight window (insight_minutes from the start for
 * a Start, the episode's length for an End), and in each the top
 * TS_ATTR_TOP values of each attribution kind by count (ties by value,
 * bytewise), as averages per minute.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "episode.h"

typedef struct ranked {
	uint32_t value;
	uint64_t count;
	ts_str str;
} ranked;

static int by_count(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	size_t n = x->str.n < y->str.n ? x->str.n : y->str.n;
	int c = memcmp(x->str.p, y->str.p, n);
	if (c)
		return c;
	return x->str.n < y->str.n ? -1 : x->str.n > y->str.n;
}

/* Top values of one kind in t, as averages over duration minutes. 0 or
 * TS_ENOMEM. */
static int top_values(const ts_registry *reg, const ts_tally *t, int kind, double duration,
		      ts_episode_attr *out, unsigned *nout)
{
	ranked *r = malloc((t->n ? t->n : 1) * sizeof *r);
	if (!r)
		return TS_ENOMEM;
	size_t n = 0;
	uint64_t k, c;
	for (uint32_t i = 0; ts_tally_next(t, &i, &k, &c);) {
		if (!c || (int)ts_attr_key_kind(k) != kind)
			continue;
		r[n].value = ts_attr_key_value(k);
		r[n].count = c;
		r[n].str = ts_registry_value_str(reg, r[n].value);
		n++;
	}
	qsort(r, n, sizeof *r, by_count);
	*nout = n < TS_ATTR_TOP ? (unsigned)n : TS_ATTR_TOP;
	for (unsigned i = 0; i < *nout; i++) {
		out[i].value = r[i].value;
		out[i].average = (double)r[i].count / duration;
	}
	free(r);
	return 0;
}

/* Sum of metric's counts over minutes [from, to); *rc set by a failed
 * read (and then the sum is partial). */
static uint64_t window_sum(const ts_episode_env *env, uint32_t metric, int64_t from, int64_t to,
			   int *rc)
{
	uint64_t s = 0;
	ts_store *st = env->store;
	while (from < to && !*rc) {
		size_t n = (size_t)(to - from) < env->scratch_len ? (size_t)(to - from)
								  : env->scratch_len;
		*rc = st->ops->read_counts(st, metric, from, n, env->scratch);
		for (size_t i = 0; i < n; i++)
			s += env->scratch[i];
		from += (int64_t)n;
	}
	return s;
}

static const char *attr_names[TS_A_KINDS] = {"userIdentityArn", "userAgent", "errorCode"};

int ts_episode_event(ts_episode *ep, const ts_episode_env *env, uint32_t mid,
		     int64_t end_duration, ts_insight *ins)
{
	const ts_metric *m = ts_registry_get_metric(env->reg, mid);
	const ts_api *api = ts_registry_get_api(env->reg, m->api);
	const ts_partition *part = ts_registry_get_partition(env->reg, m->partition);
	int is_error = m->kind == TS_M_ERRORS;
	unsigned nkinds = is_error ? 2 : 3;
	int rc = 0;
	ts_tally t = {0};

	memset(ins, 0, sizeof *ins);
	ins->state = end_duration ? TS_STATE_END : TS_STATE_START;
	ins->type = is_error ? TS_ERROR_RATE : TS_CALL_RATE;
	ins->account = part->account;
	ins->region = part->region;
	ins->event_source = api->source;
	ins->event_name = api->name;
	if (is_error)
		ins->error_code = ts_registry_value_str(env->reg, m->code);
	ins->data_events = api->data;
	ins->start_minute = ep->start;

	if (ins->state == TS_STATE_START) {
		int64_t from = (ts_day_of(ep->start) - TS_BASELINE_DAYS) * TS_MIN_PER_DAY;
		ep->baseline_duration = ep->start - from;
		uint64_t bc = window_sum(env, mid, from, ep->start, &rc);
		if (!rc)
			rc = ts_attrwin_window(env->win, env->store, mid, from, ep->start, &t);
		if (!rc && env->open)
			rc = env->open(env->open_ctx, mid, from, ep->start, &bc, &t);
		ep->baseline_average = (double)bc / (double)ep->baseline_duration;
		for (unsigned k = 0; k < nkinds && !rc; k++)
			rc = top_values(env->reg, &t, (int)k, (double)ep->baseline_duration,
					ep->base[k], &ep->nbase[k]);
		ts_tally_clear(&t);
	}
	int64_t dur = end_duration ? end_duration : env->insight_minutes;
	uint64_t ic = rc ? 0 : window_sum(env, mid, ep->start, ep->start + dur, &rc);
	if (!rc)
		rc = ts_attrwin_window(env->win, env->store, mid, ep->start, ep->start + dur, &t);
	if (!rc && env->open)
		rc = env->open(env->open_ctx, mid, ep->start, ep->start + dur, &ic, &t);
	ins->baseline_average = ep->baseline_average;
	ins->baseline_duration = ep->baseline_duration;
	ins->insight_average = (double)ic / (double)dur;
	ins->insight_duration = dur;
	ins->n_attrs = nkinds;
	for (unsigned k = 0; k < nkinds && !rc; k++) {
		ts_attr_list *l = &ins->attrs[k];
		ts_episode_attr top[TS_ATTR_TOP];
		l->attribute = attr_names[k];
		rc = top_values(env->reg, &t, (int)k, (double)dur, top, &l->n_insight);
		for (unsigned i = 0; i < l->n_insight; i++)
			l->insight[i] = (ts_attr_value){ts_registry_value_str(env->reg, top[i].value),
							top[i].average};
		l->n_baseline = ep->nbase[k];
		for (unsigned i = 0; i < l->n_baseline; i++)
			l->baseline[i] = (ts_attr_value){
				ts_registry_value_str(env->reg, ep->base[k][i].value),
				ep->base[k][i].average};
	}
	ts_tally_free(&t);
	return rc == 0 || rc == TS_ENOMEM ? rc : TS_ESTORE;
}

/* ---- saved state ---- */

static void enc_top(ts_enc *enc, const ts_episode_attr *a, unsigned n)
{
	ts_enc_u64(enc, n);
	for (unsigned i = 0; i < n; i++) {
		ts_enc_value(enc, a[i].value);
		ts_enc_f64(enc, a[i].average);
	}
}

static int dec_top(ts_dec *d, ts_episode_attr *a, unsigned *n)
{
	*n = (unsigned)ts_dec_count(d, TS_ATTR_TOP);
	int finite = 1;
	for (unsigned i = 0; i < *n; i++) {
		a[i].value = ts_dec_value(d);
		a[i].average = ts_dec_f64(d);
		finite &= isfinite(a[i].average) != 0;
	}
	return ts_dec_ok(d, 0) && finite ? 0 : TS_EINVAL;
}

void ts_episode_save(const ts_episode *ep, ts_enc *enc)
{
	ts_enc_i64(enc, ep->start);
	ts_enc_f64(enc, ep->baseline_average);
	ts_enc_i64(enc, ep->baseline_duration);
	for (int k = 0; k < TS_A_KINDS; k++)
		enc_top(enc, ep->base[k], ep->nbase[k]);
	ts_enc_f64(enc, ep->p_value);
	ts_enc_f64(enc, ep->expected);
	/* bit 0: the Start was made; bit 1: early; then the basis, bit 63 a
	 * job's stop (older states: bits 0-1 only, the basis TS_DAY_NONE) */
	const ts_basis *b = &ep->basis;
	ts_enc_u64(enc, (uint64_t)ep->start_written | (uint64_t)ep->early << 1 |
				(uint64_t)b->day_class << 2 | (uint64_t)b->regular << 5 |
				(uint64_t)b->weekend_days << 6 | (uint64_t)b->ratio_e4 << 11 |
				(uint64_t)b->ratio_raw_e4 << 31 | (uint64_t)b->ratio_sd_e3 << 51 |
				(uint64_t)(b->job_stop != 0) << 63);
}

int ts_episode_load(ts_episode *ep, ts_dec *d)
{
	int rc;
	ep->start = ts_dec_minute(d);
	ep->baseline_average = ts_dec_f64(d);
	ep->baseline_duration = ts_dec_i64_in(d, 0, TS_DEC_MINUTE_END);
	for (int k = 0; k < TS_A_KINDS; k++)
		if ((rc = dec_top(d, ep->base[k], &ep->nbase[k])))
			return rc;
	ep->p_value = ts_dec_f64(d);
	ep->expected = ts_dec_f64(d);
	uint64_t w = ts_dec_u64(d);
	ep->start_written = (int)(w & 1);
	ep->early = (int)(w >> 1 & 1);
	ep->basis = (ts_basis){.day_class = (int)(w >> 2 & 7),
			       .regular = (int)(w >> 5 & 1),
			       .weekend_days = (int)(w >> 6 & 31),
			       .ratio_e4 = (uint32_t)(w >> 11 & TS_BASIS_RATIO_MAX),
			       .ratio_raw_e4 = (uint32_t)(w >> 31 & TS_BASIS_RATIO_MAX),
			       .ratio_sd_e3 = (uint32_t)(w >> 51 & TS_BASIS_SD_MAX),
			       .job_stop = (int)(w >> 63)};
	if (ep->basis.day_class > TS_DAY_WEEKEND_RATIO)
		return TS_EINVAL;
	if (!ts_dec_ok(d, 0) || ep->start < 0 || !isfinite(ep->baseline_average) ||
	    !isfinite(ep->p_value) || !isfinite(ep->expected))
		return TS_EINVAL;
	return 0;
}
