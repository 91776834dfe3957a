/* mdet.h - one metric's detector and the baselines that feed it, held
 * in proportion to what the series does.
 *
 * A plain ts_detector keeps its last TS_WINDOW_MAX observations, about
 * 1 KB per metric, though for most series of an organization nothing in
 * them can make a window unusual. A ts_mdet holds the detector idle while
 * that is so: no episode open, no Start being confirmed, fewer events in
 * the last TS_WINDOW_MAX minutes than any window needs (min_count or the
 * rise scan's share of it, scan_min_share x min_count, or min_errors:
 * ts_detector_min_events), no expected rate a silence could be a drop
 * against, and at
 * most TS_MDET_NZ minutes with counts. An idle detector is its scalars
 * and those few minutes; every other observation of its ring is a zero
 * whose expectation is that of the baseline of its day (bl) or of the day
 * before (bl_prev, kept TS_WINDOW_MAX minutes into a day). So when a
 * minute could change the outcome, the ring is rebuilt exactly as the
 * plain detector holds it, and the detector is active (a whole
 * ts_detector) until it is quiet again. Fed the same minutes, a ts_mdet
 * gives the events of a plain ts_detector, bit for bit, and besides them
 * those of its stopped-job watch (jobstop.h; ev->job 1), which is stepped
 * on every call-rate minute, idle or not, once a regular job was seen.
 *
 * A zeroed struct is not valid: start with ts_mdet_init; ts_mdet_free
 * releases what it owns (the detector and the baselines).
 */
#ifndef TS_MDET_H
#define TS_MDET_H

#include <stddef.h>
#include <stdint.h>

#include "detect.h"
#include "jobstop.h"
#include "model.h"
#include "profile.h"

#define TS_MDET_NZ 3 /* minutes with counts an idle detector lists */

/* A minute with counts (x, or error rate n), by its low 32 bits. */
typedef struct ts_mdet_nz {
	uint32_t mlow, x, n;
} ts_mdet_nz;

typedef struct ts_mdet {
	ts_detector *full;      /* active: the whole detector; NULL: idle */
	ts_cbase *bl, *bl_prev; /* call rate: the baselines of fit_day and of
				   the day before it (NULL: none) */
	int64_t last, floor, quiet_until; /* idle: those of the detector */
	int64_t exact_from;     /* ring minutes before it (a restored ring)
				   may not be those of bl/bl_prev: not idle
				   while they are in the ring */
	int64_t fit_day;        /* day of bl; INT64_MIN: none yet */
	float q, q_prev;        /* error rate: the fractions of fit_day and
				   of the day before */
	uint8_t judged;         /* fit_day's minutes are judged */
	uint8_t safe;           /* bits: bl, bl_prev cannot make a drop */
	uint8_t nnz;
	ts_mdet_nz nz[TS_MDET_NZ]; /* idle: minutes with counts, in
				      (floor, last], the last TS_WINDOW_MAX */
	ts_jobstop *job;        /* call rate: the stopped-job watch, made at
				   the first minute of a regular job */
} ts_mdet;

void ts_mdet_init(ts_mdet *m);
void ts_mdet_free(ts_mdet *m); /* then as after init */

/* Start day (days since epoch), after the previous one: judged 0 (the
 * warm-up, or no baseline) leaves its minutes not judged; else b is the
 * call-rate baseline (is_error 0) or q the error fraction (is_error 1).
 * 0 or TS_ENOMEM (nothing changed). */
int ts_mdet_day(ts_mdet *m, const ts_profile *p, int is_error, int64_t day, int judged,
		const ts_baseline *b, float q);

/* Feed minute (of day fit_day, after the previous one): x events, and for
 * the error rate n calls of the API. Returns what ts_detector_step would
 * (TS_DET_NONE, TS_DET_START or TS_DET_END with *ev filled), or
 * TS_ENOMEM (the minute not fed). A call rate's regular jobs are also
 * watched (jobstop.h): when the detector has nothing to say and no episode
 * of its own, a job's stop is Started or Ended (ev->job 1); a Start of
 * the detector's own forgets an open stop (the caller ends what it
 * wrote). */
int ts_mdet_step(ts_mdet *m, const ts_profile *p, int is_error, int64_t minute, uint32_t x,
		 uint32_t n, ts_det_event *ev);

/* The detector as a plain ts_detector would hold it (an idle one
 * rebuilt; ring slots before its floor are zero). */
void ts_mdet_get(const ts_mdet *m, int is_error, ts_detector *out);
/* Replace the detector by d (a restored one): it stays active until the
 * minutes of its ring have left it. 0 or TS_ENOMEM. */
int ts_mdet_set(ts_mdet *m, const ts_detector *d);
/* The observation ts_mdet_step would make of minute (of day fit_day)
 * with x events and, for the error rate, n calls. */
ts_det_obs ts_mdet_obs(const ts_mdet *m, int is_error, int64_t minute, uint32_t x, uint32_t n);
/* Newest minute fed (INT64_MIN: none). */
int64_t ts_mdet_last(const ts_mdet *m);
/* What the call-rate expectation of minute t came from (the baseline of
 * t's day, else of fit_day); day_class TS_DAY_NONE when m has none. */
void ts_mdet_basis(const ts_mdet *m, int64_t t, ts_basis *out);
/* The stopped-job watch (NULL: none yet). */
const ts_jobstop *ts_mdet_job(const ts_mdet *m);
/* Replace the watch by j (a restored one). 0 or TS_ENOMEM. */
int ts_mdet_set_job(ts_mdet *m, const ts_jobstop *j);
/* Bytes held beyond the struct. */
size_t ts_mdet_memory(const ts_mdet *m);

#endif
