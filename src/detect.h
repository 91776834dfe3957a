/* detect.h - the per-metric state machine: Normal -> Start ... End.
 *
 * The detector sees one observation per closed minute, in time order, and
 * judges the trailing windows of the profile (1, 2, 5, 15, 30 minutes by
 * default) against the baseline's expectation: call rates as negative
 * binomial counts (spikes, and drops where the expected rate is high enough
 * for silence to mean something), error rates as binomial against the
 * calls of the same minutes. A Start is dated at its change point: the
 * minute of the trailing minutes (the profile's longest window) from which
 * a constant multiple of the expectation explains them best (the most
 * likely split under the model, so a stray event long before a burst is
 * not its onset); an End once end_after minutes in a row were no longer
 * unusual, with the episode's length (a call-rate drop's End is dated at its
 * recovery: the minute from which the expectation explains the minutes
 * better than the drop's own level does).
 * No I/O, no allocation: a ts_detector is plain data; it saves and loads
 * itself (ts_detector_save, ts_detector_load) into a checkpoint state.
 */
#ifndef TS_DETECT_H
#define TS_DETECT_H

#include <stdint.h>

#include "profile.h"

struct ts_enc;
struct ts_dec;

struct ts_vnull;

/* One minute as the detector sees it (or one row of a real-valued series,
 * ts_detector_step_value: x and n 0, lam the row's expected value, dev
 * its deviation from it, q >= 0 when judged, < 0 not). */
typedef struct ts_det_obs {
	uint32_t x;   /* events (call rate) or errors of the code (error rate) */
	uint32_t n;   /* error rate: all calls of the API in the minute */
	float lam;    /* call rate: expected events; < 0: not judged (warm-up) */
	union {
		float size; /* call rate: negative binomial size, 0 for Poisson */
		float dev;  /* real value: the value minus its expectation */
	};
	float q;      /* error rate: baseline error fraction; < 0: not judged */
	float steady; /* call rate: expected events without regular bursts
			 (cron minutes); drops are judged against this */
	float steady_size; /* its negative binomial size, 0 for Poisson */
} ts_det_obs;

typedef struct ts_detector {
	ts_det_obs ring[TS_WINDOW_MAX]; /* the last minutes, ring[minute % max] */
	int64_t last;     /* newest minute seen; INT64_MIN before the first */
	int64_t floor;    /* windows only use minutes after this one */
	int64_t quiet_until; /* no Start before this minute (cool-down); with
				profile min_quiet, windows start after it */
	int open;         /* an episode is open */
	int dir;          /* +1 spike, -1 drop */
	int64_t start;    /* onset (change point) of the open episode */
	int64_t last_elevated; /* newest minute still unusual */
	int held;         /* minutes in a row the start condition has held */
	int64_t cand_start; /* onset of the Start being confirmed */
	double cand_p, cand_expected;
	int cand_dir;
} ts_detector;

enum { TS_DET_NONE = 0, TS_DET_START = 1, TS_DET_END = 2 };

typedef struct ts_det_event {
	int kind;          /* TS_DET_START or TS_DET_END */
	int dir;           /* +1 spike, -1 drop */
	int64_t start;     /* onset: the change point */
	int64_t duration;  /* END: minutes from start to the last unusual one
			      (a call-rate drop: to its recovery) */
	double p_value;    /* START: tail probability of the triggering window */
	double expected;   /* START: expected events per minute at start */
	int job;           /* a regular job's stop (jobstop.h), not a window's */
} ts_det_event;

void ts_detector_init(ts_detector *d);

/* Feed minute `minute` (> the previous one; skipped minutes count as
 * not judged). is_error selects the error-rate test. Returns TS_DET_NONE,
 * or TS_DET_START / TS_DET_END with *ev filled. */
int ts_detector_step(ts_detector *d, const ts_profile *p, int is_error, int64_t minute,
		     const ts_det_obs *o, ts_det_event *ev);

/* The same state machine over the rows of a real-valued series (model.h,
 * ts_model_fit_value): `minute` is the row's index; each window of the
 * profile (that fits after floor) is judged on the sum of its rows' dev
 * against nulls[i], the null of the profile's window i (both sides; p is
 * twice the smaller tail), with no minimum size, and where
 * nulls[TS_MAX_WINDOWS + i] is fitted, on the rise of its spread (ts_vbase
 * .null, model.h); nulls holds 2 x TS_MAX_WINDOWS; an open episode stays
 * open while a window ending at the row is unusual in its direction at
 * p_continue. The Start is dated at the most likely onset of a constant
 * shift of the deviations within the longest window. Returns as
 * ts_detector_step; the event's expected is the expected value at the
 * onset. */
int ts_detector_step_value(ts_detector *d, const ts_profile *p, int64_t minute,
			   const ts_det_obs *o, const struct ts_vnull *nulls, ts_det_event *ev);

/* The fewest events (errors, for is_error) in the last TS_WINDOW_MAX
 * minutes that any Start of ts_detector_step needs: min_count, or the rise
 * scan's scan_min_share x min_count when the scan is on; min_errors. */
double ts_detector_min_events(const ts_profile *p, int is_error);

/* Append d to a state: its ring as runs of equal observations (length,
 * observation), then its scalars. Cannot fail (the encoder records
 * ENOMEM for ts_enc_finish). */
void ts_detector_save(const ts_detector *d, struct ts_enc *enc);
/* Read what ts_detector_save wrote into d (initialised first); one_per_slot
 * reads the older layout, one observation per slot (state TSP1). 0, or
 * TS_EINVAL for a state a detector cannot be in: a count out of range, a
 * value not finite (a NaN would reach an event), an open episode or a
 * candidate Start at a minute no event can name. */
int ts_detector_load(ts_detector *d, struct ts_dec *dec, int one_per_slot);

#endif
