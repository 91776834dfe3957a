/* report_data.h - what a report page draws for one insight: the counts
 * per minute around the episode read from the store, the expected rate
 * and its 1-99 % band from the baseline model refitted the engine's way,
 * the same minutes a week earlier, and a replay of the detector over the
 * minutes shown (when the Start was decided, with what tail probability).
 * Internal to the report (report.c); no I/O but the store's reads.
 */
#ifndef TS_REPORT_DATA_H
#define TS_REPORT_DATA_H

#include <stdint.h>

#include "insight_read.h"
#include "profile.h"
#include "series.h"
#include "store.h"

#define TS_BAND_LO 0.01
#define TS_BAND_HI 0.99

typedef struct ts_rdata {
	int64_t t0;   /* first minute shown */
	size_t n;     /* minutes shown */
	double *observed, *expected, *lo, *hi, *lastweek; /* n each; NAN: no value */
	int judged;   /* the model had warmed up for some minute shown */
	int64_t decided;  /* minute whose close made the replayed Start; INT64_MIN: not found */
	double replay_p;  /* tail probability of the replayed Start */
	double peak;      /* highest (spike, error) or lowest (drop) count in the episode */
	int64_t peak_minute;
	double peak_expected; /* expected count at peak_minute (NAN: not judged) */
	/* scratch, owned */
	uint32_t *hist, *hist2, *hist3, *cnt, *cnt2, *cnt3;
	size_t hist_cap, cnt_cap;
	void *bl; /* ts_baseline */
} ts_rdata;

/* Free what d holds; d stays usable (zeroed). */
void ts_rdata_clear(ts_rdata *d);

/* Fill d for the episode [start, end) (end INT64_MIN: still open; drop: 1
 * for a call-rate drop) of the series ev names, showing before minutes
 * before start and after minutes after end. 0, TS_ESTORE, TS_ECAP (a
 * registry cap) or TS_ENOMEM. */
int ts_rdata_fill(ts_rdata *d, const ts_event *ev, int64_t start, int64_t end, int drop,
		  int before, int after, const ts_profile *p, ts_registry *reg, ts_store *store);

#endif
