/* jobstop.c - the stopped-job watch of jobstop.h.
 *
 * State: the window being watched (from, closed, its sums), the short
 * windows summed so far (short_from, short_x, short_e) and the open stop
 * (open). Invariants: closed is set only while from is; short_from only
 * when a short window was judged and no run seen since; open only after a
 * Start. A minute not judged or not next to the last forgets the window
 * being watched (its calls are not all known) but keeps the sums and the
 * open stop: a stop goes on until a run is seen.
 */
#include <math.h>

#include "codec.h"
#include "err.h"
#include "jobstop.h"
#include "model.h"

void ts_jobstop_init(ts_jobstop *j)
{
	*j = (ts_jobstop){.last = INT64_MIN, .from = INT64_MIN, .closed = INT64_MIN,
			  .short_from = INT64_MIN, .open = INT64_MIN};
}

double ts_jobstop_run_low(double run, double size)
{
	double f = size > 0 ? 1 - 2 / sqrt(size) : 1;
	return run * (f > 0.4 ? f : 0.4);
}

int ts_jobstop_idle(const ts_jobstop *j)
{
	return j->from == INT64_MIN && j->short_from == INT64_MIN && j->open == INT64_MIN;
}

static unsigned slot_of(int64_t minute)
{
	return (unsigned)(((minute % JOBSTOP_MARGIN) + JOBSTOP_MARGIN) % JOBSTOP_MARGIN);
}

/* Judge the closed window [from, minute): 1 with *ev a Start or End. */
static int judge(ts_jobstop *j, const ts_profile *p, int64_t minute, int may_start,
		 ts_det_event *ev)
{
	double e = ts_jobstop_run_low(j->run, j->size) + j->steady;
	double pw = ts_model_p_low(j->x, e, 0);
	int64_t from = j->from, len = minute - from;
	j->from = j->closed = INT64_MIN;
	if (!j->whole)
		return 0; /* not all its minutes seen: neither a run nor a miss */
	if (!(pw < p->p_continue)) {
		/* a run: what was short is over */
		j->short_from = INT64_MIN;
		j->short_x = j->short_e = 0;
		if (j->open == INT64_MIN)
			return 0;
		*ev = (ts_det_event){.kind = TS_DET_END, .dir = -1, .start = j->open, .job = 1,
				     .duration = from - j->open};
		j->open = INT64_MIN;
		return 1;
	}
	if (j->short_from == INT64_MIN) {
		j->short_from = from;
		j->short_x = j->short_e = 0;
	}
	j->short_x += j->x;
	j->short_e += e;
	double ps = ts_model_p_low(j->short_x, j->short_e, 0);
	if (j->open != INT64_MIN || !may_start || !(ps < p->p_start))
		return 0;
	j->open = j->short_from;
	*ev = (ts_det_event){.kind = TS_DET_START, .dir = -1, .start = j->open, .job = 1, .p_value = ps,
			     .expected = e / (double)len};
	return 1;
}

int ts_jobstop_step(ts_jobstop *j, const ts_profile *p, int64_t minute, const ts_det_obs *o,
		    int may_start, ts_det_event *ev)
{
	int next = j->last != INT64_MIN && minute == j->last + 1;
	j->last = minute;
	if (!next || o->lam < 0) {
		j->from = j->closed = INT64_MIN;
		j->nback = 0;
	}
	if (o->lam < 0)
		return TS_DET_NONE;
	int burst = o->lam > o->steady;
	if (burst) {
		if (j->from == INT64_MIN) {
			/* the window opens with the minutes before it */
			j->from = minute - j->nback;
			j->whole = j->nback == JOBSTOP_MARGIN;
			j->x = j->steady = j->run = j->size = 0;
			for (int k = 1; k <= j->nback; k++) {
				unsigned b = slot_of(minute - k);
				j->x += j->back_x[b];
				j->steady += j->back_s[b];
			}
		}
		j->closed = INT64_MIN; /* a window that goes on past a short gap */
		double r = (double)o->lam - o->steady;
		if (r > j->run) {
			j->run = r;
			j->size = o->size;
		}
	} else if (j->from != INT64_MIN && j->closed == INT64_MIN) {
		j->closed = minute;
	}
	unsigned slot = slot_of(minute);
	j->back_x[slot] = (float)o->x;
	j->back_s[slot] = o->steady;
	j->nback = j->nback < JOBSTOP_MARGIN ? j->nback + 1 : JOBSTOP_MARGIN;
	if (j->from == INT64_MIN)
		return TS_DET_NONE;
	j->x += o->x;
	j->steady += o->steady;
	if (j->closed != INT64_MIN && minute - j->closed + 1 >= JOBSTOP_MARGIN &&
	    judge(j, p, minute + 1, may_start, ev))
		return ev->kind;
	return TS_DET_NONE;
}

void ts_jobstop_save(const ts_jobstop *j, ts_enc *enc)
{
	ts_enc_i64(enc, j->last);
	ts_enc_i64(enc, j->from);
	ts_enc_i64(enc, j->closed);
	ts_enc_f64(enc, j->x);
	ts_enc_f64(enc, j->steady);
	ts_enc_f64(enc, j->run);
	ts_enc_f64(enc, j->size);
	ts_enc_i64(enc, j->short_from);
	ts_enc_f64(enc, j->short_x);
	ts_enc_f64(enc, j->short_e);
	ts_enc_i64(enc, j->open);
	ts_enc_u64(enc, (uint64_t)j->nback);
	ts_enc_u64(enc, (uint64_t)j->whole);
	for (int i = 0; i < JOBSTOP_MARGIN; i++) {
		ts_enc_f64(enc, j->back_x[i]);
		ts_enc_f64(enc, j->back_s[i]);
	}
}

int ts_jobstop_load(ts_jobstop *j, ts_dec *dec)
{
	ts_jobstop_init(j);
	j->last = ts_dec_minute(dec);
	j->from = ts_dec_minute(dec);
	j->closed = ts_dec_minute(dec);
	j->x = ts_dec_f64(dec);
	j->steady = ts_dec_f64(dec);
	j->run = ts_dec_f64(dec);
	j->size = ts_dec_f64(dec);
	j->short_from = ts_dec_minute(dec);
	j->short_x = ts_dec_f64(dec);
	j->short_e = ts_dec_f64(dec);
	j->open = ts_dec_minute(dec);
	j->nback = (int)ts_dec_count(dec, JOBSTOP_MARGIN);
	j->whole = (int)ts_dec_count(dec, 1);
	for (int i = 0; i < JOBSTOP_MARGIN; i++) {
		j->back_x[i] = (float)ts_dec_f64(dec);
		j->back_s[i] = (float)ts_dec_f64(dec);
	}
	if (!ts_dec_ok(dec, 0))
		return TS_EINVAL;
	double v[] = {j->x, j->steady, j->run, j->size, j->short_x, j->short_e};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (!isfinite(v[i]) || v[i] < 0)
			return TS_EINVAL;
	for (int i = 0; i < JOBSTOP_MARGIN; i++)
		if (!isfinite(j->back_x[i]) || !(j->back_x[i] >= 0) || !isfinite(j->back_s[i]) ||
		    !(j->back_s[i] >= 0))
			return TS_EINVAL;
	if ((j->closed != INT64_MIN && j->from == INT64_MIN) ||
	    (j->open != INT64_MIN && j->open < 0))
		return TS_EINVAL;
	return 0;
}
