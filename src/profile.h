/* profile.h - a sensitivity profile: the settings of the baseline model and
 * the detector, read from a small "key = value" text file under models/.
 */
#ifndef TS_PROFILE_H
#define TS_PROFILE_H

#include <stddef.h>

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
} ts_profile;

/* The built-in defaults (the same as models/default). */
void ts_profile_defaults(ts_profile *p);

/* Load a profile: spec is a path (contains '/' or ends in ".profile"), or a
 * name looked up as <models_dir>/<name>.profile. Starts from the defaults;
 * keys in the file override them. Returns 0, TS_EIO (cannot read), or
 * TS_EINVAL (unknown key or bad value; err says which file, line and key). */
int ts_profile_load(const char *spec, const char *models_dir, ts_profile *p, char *err,
		    size_t errlen);

#endif
