/* report.h - a static HTML report of insights: an index and one page per
 * insight with its chart (svg.h), attributions, decision and event JSON.
 *
 * The insights are the events a run wrote (given one at a time, or as an
 * NDJSON file); the counts drawn come from the store, and the expected
 * rate and its band from the baseline model refitted from the store's
 * counts with the report's profile, as the engine fits it. The report
 * borrows the registry and the store for ts_report_write only; it may add
 * the series the events name to the registry (find-or-add).
 *
 * Folder layout: DIR/index.html (all insights, newest first),
 * DIR/account-ACCT.html, DIR/region-REGION.html, DIR/type-call.html,
 * DIR/type-error.html (the same list filtered), DIR/i/SHAREDID.html.
 * Pages are self-contained: inline CSS and SVG, no script, no external
 * reference.
 */
#ifndef TS_REPORT_H
#define TS_REPORT_H

#include <stdint.h>

#include "profile.h"
#include "series.h"
#include "store.h"

#define TS_REPORT_MAX_EVENT (1u << 20) /* longest event line accepted */

typedef struct ts_report_opts {
	ts_profile profile;  /* the profile the band is drawn with */
	int64_t since, until; /* epoch minutes: insights whose Start is in
				 [since, until); INT64_MIN / INT64_MAX: all */
	const char *source;  /* where the counts come from, for the footer
				(copied; may be NULL) */
	size_t max_events;   /* events kept; 0: 200000 */
	int before_minutes;  /* chart minutes before a Start; 0: 180 */
	int after_minutes;   /* chart minutes after an End; 0: 60 */
} ts_report_opts;

typedef struct ts_report_stats {
	size_t events;     /* events taken */
	size_t bad;        /* events skipped as unreadable */
	size_t insights;   /* insights (Start/End pairs) in the report */
	size_t pages;      /* files written */
	size_t not_reproduced; /* insights whose Start the detector replay did
				  not find at the same minute */
} ts_report_stats;

typedef struct ts_report ts_report;

/* A report with no events yet, or NULL on ENOMEM. o is copied. */
ts_report *ts_report_new(const ts_report_opts *o);
void ts_report_free(ts_report *r); /* NULL is a no-op */

/* Take one insight event (its JSON text, copied). 0; TS_EJSON or
 * TS_EFIELD for an event that cannot be read (err says why; counted in
 * stats.bad, nothing kept); TS_ECAP past max_events; TS_ENOMEM. */
int ts_report_add_event(ts_report *r, const char *json, size_t len, char *err, size_t errlen);

/* Take the events of an NDJSON file (one event per line; blank lines
 * ignored). Unreadable lines are reported with the file and line number
 * (the first 20), counted and skipped. 0; TS_EIO when the file cannot be
 * read (err says why); TS_ECAP; TS_ENOMEM. */
int ts_report_add_file(ts_report *r, const char *path, char *err, size_t errlen);

/* Write the report into dir (created, with dir/i; files of the same
 * names are replaced). 0; TS_EIO (err names the file); TS_ESTORE
 * (store->errstr); TS_ECAP (a registry cap); TS_ENOMEM. st may be NULL. */
int ts_report_write(ts_report *r, const char *dir, ts_registry *reg, ts_store *store,
		    ts_report_stats *st, char *err, size_t errlen);

/* An emit callback (engine.h's ts_emit_fn shape) that adds each event to
 * the report passed as ctx, so a run can tee its events into one. */
int ts_report_emit(void *ctx, const char *json, size_t len);

#endif
