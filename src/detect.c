/* detect.c - the Start/End state machine over trailing windows.
 *
 * State: the last TS_WINDOW_MAX observations in a ring, the open episode
 * (start, direction, newest unusual minute) and the hold counter of a
 * Start that is being confirmed. Invariant: ring slots for minutes in
 * (floor, last] hold real observations; windows never reach at or before
 * floor (set at warm-up gaps and at each End, so one episode's minutes
 * never trigger the next). It saves and loads itself (the end of this
 * file): the ring as runs of equal observations, then the scalars.
 * Real-valued series (ts_detector_step_value) run the same machine with
 * their own window test (judge_value_window) against the model's nulls;
 * the count path never takes those branches.
 */
#include <math.h>
#include <string.h>

#include "codec.h"
#include "detect.h"
#include "err.h"
#include "model.h"

/* The kind of series: is_error of ts_detector_step (0 call rate, 1 error
 * rate), or a real-valued series (ts_detector_step_value). */
#define K_VALUE 2
/* A real-valued window's spread test counts at this multiple of its tail
 * probability (bench/nab.md: 4 to 16 score alike on NAB, 1 lower). */
#define SPREAD_FACTOR 4.0

void ts_detector_init(ts_detector *d)
{
	memset(d, 0, sizeof *d);
	d->last = INT64_MIN;
	d->floor = INT64_MIN;
	d->quiet_until = INT64_MIN;
}

static const ts_det_obs *at(const ts_detector *d, int64_t minute)
{
	return &d->ring[((minute % TS_WINDOW_MAX) + TS_WINDOW_MAX) % TS_WINDOW_MAX];
}

static int judged(const ts_det_obs *o, int is_error)
{
	return is_error ? o->q >= 0 : o->lam >= 0; /* K_VALUE: q as for errors */
}

/* Does minute o deviate in direction dir, however slightly? */
static int deviates(const ts_det_obs *o, int is_error, int dir)
{
	if (is_error == K_VALUE)
		return dir > 0 ? o->dev > 0 : o->dev < 0;
	if (is_error)
		return o->x > 0 && o->x > o->q * o->n;
	return dir > 0 ? o->x > o->lam : o->x < o->steady;
}

static int leans(const ts_det_obs *o, const ts_profile *p, int is_error, int dir);

typedef struct win_result {
	double p;
	int dir;
	int w;
	double expected;
} win_result;

/* Judge the window of w rows of a real-valued series ending at d->last
 * against its null f: both sides, p twice the smaller tail. */
static void judge_value_window(const ts_detector *d, const ts_vnull *f, int w, win_result *r)
{
	double s = 0, l = 0;
	for (int i = 0; i < w; i++) {
		const ts_det_obs *o = at(d, d->last - i);
		s += o->dev;
		l += o->lam;
	}
	double hi = ts_model_p_value(f, s, 1), lo = ts_model_p_value(f, s, -1);
	r->w = w;
	r->dir = hi < lo ? 1 : -1;
	r->p = fmin(1, 2 * fmin(hi, lo));
	r->expected = l / w;
	/* a rise in spread: the sum of the absolute differences of the
	 * window's consecutive deviations (a level shift adds one difference,
	 * noisier rows add them all), upper tail only, against the window's
	 * spread null when the model fitted one; SPREAD_FACTOR times its tail
	 * probability, so it Starts less readily than the level */
	const ts_vnull *g = f + TS_MAX_WINDOWS;
	if (!g->ok)
		return;
	double a = 0;
	for (int i = 0; i + 1 < w; i++)
		a += fabs((double)at(d, d->last - i)->dev - at(d, d->last - i - 1)->dev);
	double ps = fmin(1, SPREAD_FACTOR * ts_model_p_value(g, a, 1));
	if (ps < r->p)
		r->p = ps;
}

/* Judge the window of w minutes ending at d->last. */
static void judge_window(const ts_detector *d, const ts_profile *p, int is_error, int w,
			 win_result *r)
{
	double s = 0, l = 0, v = 0, n = 0, qn = 0, ls = 0, vs = 0;
	for (int i = 0; i < w; i++) {
		const ts_det_obs *o = at(d, d->last - i);
		s += o->x;
		if (is_error) {
			n += o->n;
			qn += (double)o->q * o->n;
		} else {
			l += o->lam;
			v += o->size > 0 ? o->lam + (double)o->lam * o->lam / o->size : o->lam;
			ls += o->steady;
			vs += o->steady_size > 0
				      ? o->steady + (double)o->steady * o->steady / o->steady_size
				      : o->steady;
		}
	}
	r->p = 1;
	r->dir = 0;
	r->w = w;
	if (is_error) {
		if (n <= 0 || s < p->min_errors)
			return;
		double q = qn / n;
		double frac = s / n;
		if (frac < p->error_min_fraction || frac < p->error_min_ratio * q)
			return;
		r->p = ts_model_p_binom_high((uint64_t)s, (uint64_t)n, q);
		r->dir = 1;
		r->expected = q * n / w;
		return;
	}
	double size = v > l * 1.0001 ? l * l / (v - l) : 0;
	if (s >= p->min_count && s >= p->min_ratio * l && s > l + 3 * sqrt(v) + 1) {
		r->p = ts_model_p_high(s, l, size);
		r->dir = 1;
		r->expected = l / w;
	} else if (ls / w >= p->drop_min_rate && s <= p->drop_max_ratio * ls) {
		/* silence is judged against the steady rate: a cron run that
		 * comes late or not at all is not a drop */
		double ss = vs > ls * 1.0001 ? ls * ls / (vs - ls) : 0;
		r->p = ts_model_p_low(s, ls, ss);
		r->dir = -1;
		r->expected = ls / w;
	}
}

/* The rise scan: call rates upwards, every window length from
 * scan_min_minutes to the ring (those after floor) ending at d->last, so
 * a sustained rise of a small multiple on a thin series is judged on
 * exactly the minutes it has run, not diluted into the next fixed window
 * nor waiting for min_count. A length is judged as a fixed window is
 * (negative binomial, s >= min_ratio x lam, s > lam + 3 sqrt(v) + 1), with
 * scan_min_share x min_count for the fewest events (10 by default), and
 * only if the rise is sustained:
 * the newest minute leans upwards itself (leans()), so do at least
 * scan_min_minutes of the window's minutes, and no one minute holds more
 * than half its events (a one-minute burst is the fixed windows' to
 * judge, at min_count). p is the smallest tail times the number of lengths
 * that fit (Bonferroni), so the scan may Start no more readily than one
 * fixed window at p_start per length. p 1 when scan_min_share is 0. */
static void judge_rise(const ts_detector *d, const ts_profile *p, win_result *r)
{
	r->p = 1;
	r->dir = 0;
	r->w = 0;
	r->expected = 0;
	if (!(p->scan_min_share > 0) || !leans(at(d, d->last), p, 0, 1))
		return;
	int span = d->floor < d->last - TS_WINDOW_MAX ? TS_WINDOW_MAX : (int)(d->last - d->floor);
	int lengths = span - p->scan_min_minutes + 1;
	if (lengths < 1)
		return;
	double s = 0, l = 0, v = 0, best = 1;
	uint32_t top = 0;
	int leaning = 0;
	for (int i = 0; i < span; i++) {
		const ts_det_obs *o = at(d, d->last - i);
		s += o->x;
		l += o->lam;
		v += o->size > 0 ? o->lam + (double)o->lam * o->lam / o->size : o->lam;
		top = o->x > top ? o->x : top;
		leaning += leans(o, p, 0, 1);
		if (i + 1 < p->scan_min_minutes || leaning < p->scan_min_minutes ||
		    2.0 * top > s || s < p->scan_min_share * p->min_count || s < p->min_ratio * l ||
		    !(s > l + 3 * sqrt(v) + 1))
			continue;
		double size = v > l * 1.0001 ? l * l / (v - l) : 0;
		double pw = ts_model_p_high(s, l, size);
		if (pw < best) {
			best = pw;
			r->w = i + 1;
			r->expected = l / (i + 1);
		}
	}
	if (r->w) {
		r->p = fmin(1, best * lengths);
		r->dir = 1;
	}
}

/* Newest minute of the w-window that deviates (the newest minute when
 * none does). */
static int64_t newest_deviating(const ts_detector *d, int is_error, int dir, int w)
{
	for (int i = 0; i < w; i++)
		if (deviates(at(d, d->last - i), is_error, dir))
			return d->last - i;
	return d->last;
}

/* The profile's longest window, minutes. */
static int longest_window(const ts_profile *p)
{
	int m = 1;
	for (int i = 0; i < p->n_windows; i++)
		if (p->windows[i] > m)
			m = p->windows[i];
	return m < TS_WINDOW_MAX ? m : TS_WINDOW_MAX;
}

/* x * log(x / y), 0 when x is 0 (y > 0). */
static double xlog(double x, double y)
{
	return x > 0 ? x * log(x / y) : 0;
}

/* The change point of a Start in direction dir decided at d->last: of the
 * minutes k in (floor, last], at most span of them, the one that makes
 * "from minute k on, the series runs at a constant multiple of its
 * expectation" most likely against "as expected throughout", by the log
 * likelihood ratio of the minutes [k, last]. Call rates: Poisson against
 * the expected rate (lam upwards, the steady rate downwards), the
 * multiple S/L of the sums; error rates: binomial against each minute's
 * baseline fraction, the common fraction errors/calls. Only a multiple in
 * dir counts (above the expectation upwards, below it downwards); ties go
 * to the later minute. So a stray event well before a burst is not its
 * onset: the quiet minutes between them weigh against reaching back. The
 * oldest minute of the triggering window (w) when nothing qualifies. */
static int64_t change_point(const ts_detector *d, int is_error, int dir, int span, int w)
{
	const double tiny = 1e-9;
	double s = 0, l = 0, n = 0, base = 0, best = -1;
	int64_t k = d->last - w + 1;
	for (int i = 0; i < span && d->last - i > d->floor; i++) {
		const ts_det_obs *o = at(d, d->last - i);
		double llr;
		s += o->x;
		if (is_error == K_VALUE) {
			/* a constant shift of the deviations from row k on: the
			 * Gaussian log likelihood ratio, up to the scale */
			l += o->dev;
			if (dir > 0 ? !(l > 0) : !(l < 0))
				continue;
			llr = l * l / (i + 1);
		} else if (is_error) {
			double q = o->q < tiny ? tiny : o->q > 1 - tiny ? 1 - tiny : o->q;
			double x = o->x < o->n ? o->x : o->n;
			n += o->n;
			l += q * o->n;
			base += x * log(q) + (o->n - x) * log(1 - q);
			if (!(s > l) || n <= 0)
				continue;
			double sx = s < n ? s : n;
			llr = xlog(sx, n) + xlog(n - sx, n) - base;
		} else {
			l += dir > 0 ? o->lam : o->steady;
			double ll = l > tiny ? l : tiny;
			if (dir > 0 ? !(s > ll) : !(s < ll))
				continue;
			llr = xlog(s, ll) - s + ll;
		}
		if (llr > best) {
			best = llr;
			k = d->last - i;
		}
	}
	return k;
}

/* The end of a call-rate drop, dated at its recovery: of the minutes k in
 * (a, last_elevated + 1], a the episode's oldest minute the ring still
 * holds, the one that makes "minutes [a, k) at a constant multiple below
 * 1 of the steady rate, from k on as expected" most likely, by the Poisson
 * log likelihood ratio of [a, k) (the minutes from k on weigh alike under
 * both); ties go to the earlier minute. So a recovered minute that merely
 * leans low (leans() lets a drop's minutes reach twice drop_max_ratio) and
 * closes a window still holding the drop's minutes does not lengthen the
 * episode: it is more likely at the expectation than at the drop's level.
 * last_elevated + 1 when no minute qualifies (or the ring no longer holds
 * them: end_after above TS_WINDOW_MAX). */
static int64_t recovery_point(const ts_detector *d)
{
	int64_t a = d->start;
	if (a <= d->floor)
		a = d->floor + 1;
	if (a < d->last - TS_WINDOW_MAX + 1)
		a = d->last - TS_WINDOW_MAX + 1;
	int64_t k = d->last_elevated + 1;
	double s = 0, l = 0, best = -1;
	for (int64_t m = a; m <= d->last_elevated; m++) {
		const ts_det_obs *o = at(d, m);
		s += o->x;
		l += o->steady;
		if (!(s < l))
			continue;
		double llr = xlog(s, l) - s + l;
		if (llr > best) {
			best = llr;
			k = m + 1;
		}
	}
	return k;
}

/* Does the newest minute clearly lean the episode's way? (A window may
 * stay significant for a few minutes after an episode ends because it still
 * holds the episode's minutes; only a minute that leans itself extends it.) */
static int leans(const ts_det_obs *o, const ts_profile *p, int is_error, int dir)
{
	if (is_error)
		return o->n > 0 && (double)o->x / o->n >= p->error_min_fraction &&
		       (double)o->x / o->n >= p->error_min_ratio * o->q;
	if (dir > 0)
		return o->x >= 1 && o->x >= p->min_ratio * o->lam;
	double cut = 2 * p->drop_max_ratio < 1 ? 2 * p->drop_max_ratio : 1;
	return o->x <= cut * o->steady;
}

/* Is the newest minute still unusual in the episode's direction, at the
 * looser p_continue: on its own, or (for low rates) together with the
 * episode's last few minutes when it leans the same way itself? */
static int still_unusual(const ts_detector *d, const ts_profile *p, int is_error,
			 const ts_vnull *nulls)
{
	const ts_det_obs *o = at(d, d->last);
	if (is_error == K_VALUE) {
		/* a real value: any window of the profile ending now */
		for (int i = 0; i < p->n_windows; i++) {
			int w = p->windows[i];
			win_result r;
			if (d->last - w < d->floor)
				continue;
			judge_value_window(d, &nulls[i], w, &r);
			if (r.dir == d->dir && r.p < p->p_continue)
				return 1;
		}
		return 0;
	}
	double pm = 1;
	if (is_error) {
		if (o->n > 0 && o->x > 0 && (double)o->x / o->n >= p->error_min_fraction)
			pm = ts_model_p_binom_high(o->x, o->n, o->q);
	} else if (d->dir > 0) {
		if (o->x > o->lam)
			pm = ts_model_p_high(o->x, o->lam, o->size);
	} else if (o->x < o->steady) {
		pm = ts_model_p_low(o->x, o->steady, o->steady_size);
	}
	if (pm < p->p_continue)
		return 1;
	if (!leans(o, p, is_error, d->dir))
		return 0;
	int64_t span = d->last - d->start + 1;
	int w = span < 5 ? (int)span : 5;
	if (d->last - w < d->floor)
		return 0;
	double s = 0, l = 0, v = 0, n = 0, qn = 0;
	for (int i = 0; i < w; i++) {
		const ts_det_obs *q = at(d, d->last - i);
		s += q->x;
		n += q->n;
		qn += (double)q->q * q->n;
		float lam = d->dir > 0 ? q->lam : q->steady;
		float sz = d->dir > 0 ? q->size : q->steady_size;
		l += lam;
		v += sz > 0 ? lam + (double)lam * lam / sz : lam;
	}
	double pw = 1;
	if (is_error) {
		if (n > 0)
			pw = ts_model_p_binom_high((uint64_t)s, (uint64_t)n, qn / n);
	} else {
		double size = v > l * 1.0001 ? l * l / (v - l) : 0;
		pw = d->dir > 0 ? (s > l ? ts_model_p_high(s, l, size) : 1)
				: (s < l ? ts_model_p_low(s, l, size) : 1);
	}
	return pw < p->p_continue;
}

double ts_detector_min_events(const ts_profile *p, int is_error)
{
	if (is_error)
		return p->min_errors;
	return p->scan_min_share > 0 ? p->scan_min_share * p->min_count : p->min_count;
}

/* ts_detector_step and ts_detector_step_value: is_error 0, 1 or K_VALUE;
 * nulls only for K_VALUE. */
static int step(ts_detector *d, const ts_profile *p, int is_error, int64_t minute,
		const ts_det_obs *o, const ts_vnull *nulls, ts_det_event *ev)
{
	/* minutes skipped since the last call were not judged */
	if (d->last != INT64_MIN && minute > d->last + 1 && d->floor < minute - 1 && !d->open)
		d->floor = minute - 1;
	d->ring[((minute % TS_WINDOW_MAX) + TS_WINDOW_MAX) % TS_WINDOW_MAX] = *o;
	d->last = minute;
	if (!judged(o, is_error)) {
		d->floor = minute;
		d->held = 0;
		return TS_DET_NONE;
	}

	if (d->open) {
		if (still_unusual(d, p, is_error, nulls))
			d->last_elevated = minute;
		if (minute - d->last_elevated >= p->end_after) {
			ev->kind = TS_DET_END;
			ev->dir = d->dir;
			ev->start = d->start;
			/* a call-rate drop ends where it recovered */
			if (is_error == 0 && d->dir < 0)
				d->last_elevated = recovery_point(d) - 1;
			ev->duration = d->last_elevated - d->start + 1;
			ev->p_value = 1;
			ev->expected = 0;
			d->open = 0;
			d->floor = minute;
			d->quiet_until = minute + (p->min_quiet > p->cooldown ? p->min_quiet : p->cooldown);
			return TS_DET_END;
		}
		return TS_DET_NONE;
	}

	/* the quiet time: its minutes never count toward the next Start */
	if (p->min_quiet > 0 && minute < d->quiet_until) {
		d->floor = minute;
		d->held = 0;
		return TS_DET_NONE;
	}
	win_result best = {1, 0, 0, 0};
	for (int i = 0; i < p->n_windows; i++) {
		int w = p->windows[i];
		if (minute - w < d->floor)
			continue;
		win_result r;
		if (is_error == K_VALUE)
			judge_value_window(d, &nulls[i], w, &r);
		else
			judge_window(d, p, is_error, w, &r);
		if (r.dir && r.p < best.p)
			best = r;
	}
	if (!is_error) {
		win_result r;
		judge_rise(d, p, &r);
		if (r.dir && r.p < best.p)
			best = r;
	}
	if (!(best.p < p->p_start) || minute < d->quiet_until) {
		d->held = 0;
		return TS_DET_NONE;
	}
	if (d->held == 0 || best.dir != d->cand_dir) {
		d->cand_p = best.p;
		d->cand_expected = best.expected;
		d->cand_dir = best.dir;
	}
	/* the onset as the minutes so far date it */
	d->cand_start = change_point(d, is_error, d->cand_dir, longest_window(p), best.w);
	if (best.p < d->cand_p)
		d->cand_p = best.p;
	d->held++;
	if (d->held < p->min_duration)
		return TS_DET_NONE;
	d->open = 1;
	d->dir = d->cand_dir;
	d->start = d->cand_start;
	d->last_elevated = newest_deviating(d, is_error, d->dir, best.w);
	if (d->last_elevated < d->start)
		d->last_elevated = d->start;
	d->held = 0;
	const ts_det_obs *s0 = at(d, d->start);
	ev->kind = TS_DET_START;
	ev->dir = d->dir;
	ev->start = d->start;
	ev->duration = 0;
	ev->p_value = d->cand_p;
	if (is_error == K_VALUE)
		ev->expected = s0->lam;
	else
		ev->expected = is_error ? (double)s0->q * s0->n : d->dir > 0 ? s0->lam : s0->steady;
	return TS_DET_START;
}

int ts_detector_step(ts_detector *d, const ts_profile *p, int is_error, int64_t minute,
		     const ts_det_obs *o, ts_det_event *ev)
{
	return step(d, p, is_error ? 1 : 0, minute, o, NULL, ev);
}

int ts_detector_step_value(ts_detector *d, const ts_profile *p, int64_t minute,
			   const ts_det_obs *o, const ts_vnull *nulls, ts_det_event *ev)
{
	return step(d, p, K_VALUE, minute, o, nulls, ev);
}

/* ---- saved state ---- */

static void enc_obs(ts_enc *enc, const ts_det_obs *o)
{
	ts_enc_u64(enc, o->x);
	ts_enc_u64(enc, o->n);
	ts_enc_f32(enc, o->lam);
	ts_enc_f32(enc, o->size);
	ts_enc_f32(enc, o->q);
	ts_enc_f32(enc, o->steady);
	ts_enc_f32(enc, o->steady_size);
}

/* 0 and *o, or TS_EINVAL (not finite). */
static int dec_obs(ts_dec *d, ts_det_obs *o)
{
	o->x = (uint32_t)ts_dec_count(d, UINT32_MAX);
	o->n = (uint32_t)ts_dec_count(d, UINT32_MAX);
	o->lam = ts_dec_f32(d);
	o->size = ts_dec_f32(d);
	o->q = ts_dec_f32(d);
	o->steady = ts_dec_f32(d);
	o->steady_size = ts_dec_f32(d);
	return isfinite(o->lam) && isfinite(o->size) && isfinite(o->q) && isfinite(o->steady) &&
			       isfinite(o->steady_size)
		       ? 0
		       : TS_EINVAL;
}

void ts_detector_save(const ts_detector *d, ts_enc *enc)
{
	for (int r = 0; r < TS_WINDOW_MAX;) {
		int k = 1;
		while (r + k < TS_WINDOW_MAX && !memcmp(&d->ring[r + k], &d->ring[r], sizeof d->ring[r]))
			k++;
		ts_enc_u64(enc, (uint64_t)k);
		enc_obs(enc, &d->ring[r]);
		r += k;
	}
	ts_enc_i64(enc, d->last);
	ts_enc_i64(enc, d->floor);
	ts_enc_i64(enc, d->quiet_until);
	ts_enc_i64(enc, d->open);
	ts_enc_i64(enc, d->dir);
	ts_enc_i64(enc, d->start);
	ts_enc_i64(enc, d->last_elevated);
	ts_enc_i64(enc, d->held);
	ts_enc_i64(enc, d->cand_start);
	ts_enc_f64(enc, d->cand_p);
	ts_enc_f64(enc, d->cand_expected);
	ts_enc_i64(enc, d->cand_dir);
}

static int dec_ring(ts_dec *dec, ts_detector *d, int one_per_slot)
{
	for (int r = 0; r < TS_WINDOW_MAX;) {
		int k = one_per_slot ? 1 : (int)ts_dec_count(dec, (uint64_t)(TS_WINDOW_MAX - r));
		if (k < 1 || dec_obs(dec, &d->ring[r]))
			return TS_EINVAL;
		for (int i = 1; i < k; i++)
			d->ring[r + i] = d->ring[r];
		r += k;
	}
	return ts_dec_ok(dec, 0) ? 0 : TS_EINVAL;
}

int ts_detector_load(ts_detector *d, ts_dec *dec, int one_per_slot)
{
	ts_detector_init(d);
	int finite = dec_ring(dec, d, one_per_slot) == 0;
	/* minutes in range, so the detector's sums cannot overflow */
	d->last = ts_dec_minute(dec);
	d->floor = ts_dec_minute(dec);
	d->quiet_until = ts_dec_minute(dec);
	d->open = (int)ts_dec_i64_in(dec, 0, 1);
	d->dir = (int)ts_dec_i64_in(dec, -1, 1);
	d->start = ts_dec_minute(dec);
	d->last_elevated = ts_dec_minute(dec);
	d->held = (int)ts_dec_i64_in(dec, 0, INT32_MAX / 2);
	d->cand_start = ts_dec_minute(dec);
	d->cand_p = ts_dec_f64(dec);
	d->cand_expected = ts_dec_f64(dec);
	d->cand_dir = (int)ts_dec_i64_in(dec, -1, 1);
	/* an episode, or a candidate about to become one, starts at a minute
	 * an event can name */
	if (!finite || !isfinite(d->cand_p) || !isfinite(d->cand_expected) ||
	    (d->open && (d->start < 0 || d->last_elevated < d->start)) ||
	    (d->held && d->cand_start < 0))
		return TS_EINVAL;
	return 0;
}
