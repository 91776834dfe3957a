/* profile.h - a sensitivity profile: the settings of the baseline model and
 * the detector, read from a small "key = value" text file under models/
 * (kvfile.h), and its overrides: blocks that start with "override = NAME",
 * give a scope (scope.h) and change any keys for the series in it.
 */
#ifndef TS_PROFILE_H
#define TS_PROFILE_H

#include <stddef.h>

#include "scope.h"

#define TS_MAX_WINDOWS 6
#define TS_WINDOW_MAX 32 /* longest window, minutes */

typedef struct ts_profile {
	char name[64];
	double p_start;        /* tail probability below which a window is unusual */
	double p_continue;     /* looser probability that keeps an episode open */
	int windows[TS_MAX_WINDOWS]; /* window lengths judged, minutes */
	int n_windows;
	int min_duration;      /* minutes the start condition must hold */
	int end_after;         /* normal minutes that end an episode */
	int cooldown;          /* minutes after an End before the series may Start again */
	double min_count;      /* spikes: fewest events in the unusual window */
	double min_ratio;      /* spikes: observed / expected at least this */
	double scan_min_share; /* rise scan: fewest events in a scanned window,
				  as a share of min_count (0..1); 0: no scan
				  (detect.c, judge_rise) */
	int scan_min_minutes;  /* rise scan: shortest window scanned, minutes */
	double drop_min_rate;  /* drops: expected events per minute needed to judge */
	double drop_max_ratio; /* drops: observed / expected at most this */
	double min_errors;     /* error rate: fewest errors in the unusual window */
	double error_min_fraction; /* error rate: errors / calls at least this */
	double error_min_ratio;    /* error rate: fraction at least this x baseline */
	int warmup_days;       /* days of history before a series is judged */
	int history_days;      /* trailing window the baseline learns from (7..28) */
	int insight_minutes;   /* minutes in a Start's insight window (1 or 5) */
	double shrink;         /* pull of hour-of-day rates toward the day's level:
				  a prior worth this many minutes */
	int min_quiet;         /* quiet time after an End, minutes: no Start is
				  judged before max(cooldown, min_quiet), and
				  with it set no window reaches back into that
				  time; 0: off (the cooldown alone) */
	int max_open;          /* open insights per partition at most (a Start
				  past it is not written); 0: no cap */
} ts_profile;

#define TS_MAX_OVERRIDES 64
#define TS_OVERRIDE_NAME 40 /* longest override name */

/* A profile for the series in a scope: the base profile with the keys of
 * the override block on top. p.name is "BASE/NAME". */
typedef struct ts_override {
	char name[TS_OVERRIDE_NAME + 1];
	ts_scope scope;
	ts_profile p;
} ts_override;

/* The overrides of one profile file, in file order (owned; free with
 * ts_overrides_free). A zeroed struct is empty. */
typedef struct ts_overrides {
	ts_override *v;
	size_t n;
} ts_overrides;

/* The built-in defaults (the same as models/default). */
void ts_profile_defaults(ts_profile *p);

/* Set one key of p as a profile file would ("windows" = "1,2,5"). 0, or
 * TS_EINVAL for an unknown key or a bad value (p unchanged). */
int ts_profile_set(ts_profile *p, const char *key, const char *value);

/* Load a profile: spec is a path (contains '/' or ends in ".profile"), or a
 * name looked up as <models_dir>/<name>.profile. Starts from the defaults;
 * keys in the file override them. Returns 0, TS_EIO (cannot read), or
 * TS_EINVAL (unknown key or bad value; err says which file, line and key),
 * or TS_ENOMEM. Override blocks are checked, and left out. */
int ts_profile_load(const char *spec, const char *models_dir, ts_profile *p, char *err,
		    size_t errlen);
/* The same, and the override blocks into *ov (emptied first; the caller
 * frees it with ts_overrides_free, also after an error). The base keys
 * come before the first "override = NAME" line; each block's keys apply
 * on top of the whole base, whatever their order. A block needs at least
 * one scope key; "name" is not allowed in it; at most TS_MAX_OVERRIDES. */
int ts_profile_load_scoped(const char *spec, const char *models_dir, ts_profile *p,
			   ts_overrides *ov, char *err, size_t errlen);
void ts_overrides_free(ts_overrides *ov); /* then empty */
/* The override in force for a series with values v (scope.h): the one with
 * the most scope fields set among those that match, the later in the file
 * among as many; -1 when none matches (the base profile). */
int ts_overrides_resolve(const ts_overrides *ov, const ts_str v[TS_SC_N]);

#endif
