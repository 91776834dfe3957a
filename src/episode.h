/* episode.h - an insight episode from its Start to its End: the two
 * CloudTrail Insights events and what the End repeats from the Start.
 *
 * A ts_episode is plain data owned by whoever holds the metric's detector
 * (the engine, one per metric with an episode open). The Start fixes the
 * baseline (the 7 UTC days before the start's day: the average rate and
 * the top attribution values); the End repeats it and measures the
 * insight window again over the episode's whole length. Counts come from
 * the store and attributions from the partition's ts_attrwin, both
 * borrowed for the call. An episode saves and loads itself.
 */
#ifndef TS_EPISODE_H
#define TS_EPISODE_H

#include <stdint.h>

#include "attrwin.h"
#include "codec.h"
#include "insight.h"
#include "model.h"
#include "series.h"
#include "store.h"

#define TS_BASELINE_DAYS 7 /* UTC days an event's baseline covers */

typedef struct ts_episode_attr {
	uint32_t value; /* registry value id */
	double average; /* per minute over the window */
} ts_episode_attr;

typedef struct ts_episode {
	int64_t start;              /* onset: the detector's change point */
	double baseline_average;    /* set when the Start is built */
	int64_t baseline_duration;
	unsigned nbase[TS_A_KINDS];
	ts_episode_attr base[TS_A_KINDS][TS_ATTR_TOP];
	double p_value, expected;   /* from the detector's Start */
	int start_written;          /* the Start event was made */
	int early;                  /* the Start was made on open minutes
				       (early.h); saved with start_written */
	ts_basis basis;             /* what the expectation at start came from
				       (set by the engine with the Start) */
} ts_episode;

/* What building an event reads; all borrowed. */
typedef struct ts_episode_env {
	ts_registry *reg;
	ts_store *store;
	const ts_attrwin *win; /* the windows of the metric's partition */
	uint32_t *scratch;     /* scratch_len counts, for reads from the store */
	size_t scratch_len;
	int64_t insight_minutes; /* the insight window of a Start */
	/* optional (NULL: none): counts in neither the store nor the windows
	 * yet (a stream's open minutes), added to each window: metric's
	 * counts in minutes [from, to) to *sum and, when t is not NULL, its
	 * attribution counts to t as ts_attr_key(0, kind, value). 0 or
	 * TS_ENOMEM. */
	int (*open)(void *ctx, uint32_t metric, int64_t from, int64_t to, uint64_t *sum,
		    ts_tally *t);
	void *open_ctx;
} ts_episode_env;

/* Fill ins with the Start (end_duration 0) or the End (end_duration: the
 * episode's length in minutes) of metric mid's episode ep. Building the
 * Start also sets ep's baseline. ins's strings borrow from the registry;
 * the trailsightContext fields (model, expected, p_value) are left to the
 * caller. 0, TS_ENOMEM or TS_ESTORE (the store's errstr says why). */
int ts_episode_event(ts_episode *ep, const ts_episode_env *env, uint32_t mid,
		     int64_t end_duration, ts_insight *ins);

/* Append ep to a state. Cannot fail (see ts_enc_finish). */
void ts_episode_save(const ts_episode *ep, ts_enc *enc);
/* Read what ts_episode_save wrote. 0, or TS_EINVAL (a count out of range,
 * a value not finite, a start before the epoch). */
int ts_episode_load(ts_episode *ep, ts_dec *d);

#endif
