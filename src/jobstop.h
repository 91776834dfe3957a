/* jobstop.h - a regular job that stops running, judged run by run.
 *
 * The baseline raises the minutes a learned job's run may take (a window:
 * consecutive minutes whose expectation lam exceeds the steady rate). A
 * ts_jobstop watches one call-rate series minute by minute: it sums the
 * calls of each window and of JOBSTOP_MARGIN minutes before and after it
 * (a run that drifts a little early or late, or lands the day before
 * where that day's baseline had no window; a window whose minutes before
 * were not all seen and judged is not judged), and once they are closed
 * judges them against the
 * smallest usual run (the run's calls, less two of its standard
 * deviations, at least two fifths of it) plus the steady rate, as Poisson.
 * Windows that each fall short (p below p_continue) add up; when their
 * sums fall short at p_start, a drop is Started, dated at the first short
 * window's first minute. The next window that holds a run ends it.
 * Plain data, no I/O, no allocation; it saves and loads itself.
 */
#ifndef TS_JOBSTOP_H
#define TS_JOBSTOP_H

#include <stdint.h>

#include "detect.h"
#include "profile.h"

struct ts_enc;
struct ts_dec;

#define JOBSTOP_MARGIN 3 /* minutes before or after a window a run may take */

typedef struct ts_jobstop {
	int64_t last;      /* newest minute fed; INT64_MIN before the first */
	int64_t from;      /* first minute of the window watched; INT64_MIN: none */
	int64_t closed;    /* first minute after it; INT64_MIN while it lasts */
	double x, steady;  /* calls and steady expectation of window and margin */
	double run, size;  /* the run's expected calls above steady, its NB size */
	int64_t short_from; /* first minute of the short windows summed; INT64_MIN: none */
	double short_x, short_e; /* their calls, and the least a run would bring */
	int64_t open;      /* onset of the reported stop; INT64_MIN: none */
	float back_x[JOBSTOP_MARGIN], back_s[JOBSTOP_MARGIN]; /* the minutes
			      before: calls and steady rate, [minute % MARGIN] */
	int nback;         /* how many of them are known (judged, in a row) */
	int whole;         /* the window opened with all its minutes before
			      known: only such a window is judged */
} ts_jobstop;

void ts_jobstop_init(ts_jobstop *j);

/* Feed one call-rate minute (after the previous one) with its
 * observation o (o->lam < 0: not judged, which forgets a window being
 * watched). may_start 0 holds back a Start (another episode is open).
 * Returns TS_DET_NONE, TS_DET_START (ev: dir -1, start, p_value,
 * expected per minute of the first short window) or TS_DET_END (ev:
 * start, duration to the minute before the run that ended it). */
int ts_jobstop_step(ts_jobstop *j, const ts_profile *p, int64_t minute, const ts_det_obs *o,
		    int may_start, ts_det_event *ev);

/* The least calls a usual run of expected calls run and NB size size
 * brings (size 0: Poisson). */
double ts_jobstop_run_low(double run, double size);

/* 1 when j holds nothing worth saving (as after init, but for last). */
int ts_jobstop_idle(const ts_jobstop *j);

/* Append j to a state. Cannot fail (the encoder records ENOMEM). */
void ts_jobstop_save(const ts_jobstop *j, struct ts_enc *enc);
/* Read what ts_jobstop_save wrote. 0, or TS_EINVAL (not finite, or a
 * minute out of range). */
int ts_jobstop_load(ts_jobstop *j, struct ts_dec *dec);

#endif
