/* daywin.h - a sliding window of days of per-minute counts: days[i] is NULL
 * or a uint32_t[1440] for day base + i. Writing a day past the window slides
 * it forward and frees the days that fall out, so memory stays at most n
 * days per window. Used by the memory store and the Redis store's cache.
 * A zeroed struct is an empty window.
 */
#ifndef TS_DAYWIN_H
#define TS_DAYWIN_H

#include <stdint.h>

typedef struct ts_daywin {
	int64_t base;    /* day of days[0] */
	uint32_t n;      /* days in the window; 0 until first use */
	uint32_t **days;
} ts_daywin;

/* The slot of `day` in a window of n days (n is fixed at first use, when the
 * window is made to end at `day`). Days after the window slide it forward;
 * *nfreed (if not NULL) is increased by the number of day arrays freed.
 * Returns NULL for a day before the window (*nomem 0) or when out of memory
 * (*nomem 1). The slot may hold NULL: the caller fills it. */
uint32_t **ts_daywin_slot(ts_daywin *w, uint32_t n, int64_t day, unsigned *nfreed, int *nomem);
/* The counts of `day`, or NULL when not held. */
uint32_t *ts_daywin_get(const ts_daywin *w, int64_t day);
/* Free every day and the window; it is empty afterwards. */
void ts_daywin_free(ts_daywin *w);

#endif
