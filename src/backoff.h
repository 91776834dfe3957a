/* backoff.h - the one retry schedule of trailsight: after a failure wait
 * first_ms, then twice as long after each further failure, up to max_ms;
 * a success starts over at first_ms.
 *
 * Two ways to follow it. A caller that may block (the Redis store, the
 * Redis Stream source) sleeps each wait (ts_backoff_sleep) until a budget
 * of total_ms of waiting is spent. A caller that must not block (the sinks)
 * notes when the next try may happen (ts_backoff_fail) and asks
 * ts_backoff_ready on its next call. A ts_backoff is plain data owned by
 * its user; nothing to free.
 */
#ifndef TS_BACKOFF_H
#define TS_BACKOFF_H

#include <stdint.h>

typedef struct ts_backoff {
	int first_ms, max_ms; /* first wait, cap on a wait (max_ms >= first_ms > 0) */
	int total_ms;         /* waiting budget of a blocking caller; 0: none */
	int cur_ms;           /* the next wait */
	int spent_ms;         /* waited since the last success */
	int64_t until;        /* non-blocking callers: no try before this (ms) */
} ts_backoff;

/* Set the schedule and start over. max_ms below first_ms counts as first_ms. */
void ts_backoff_set(ts_backoff *b, int first_ms, int max_ms, int total_ms);
/* The next wait in ms (advancing the schedule), cut to what is left of the
 * budget; -1 when a budget is set and spent. */
int ts_backoff_next(ts_backoff *b);
/* Blocking form: sleep the next wait. 0, or -1 when the budget is spent. */
int ts_backoff_sleep(ts_backoff *b);
/* Non-blocking form: a failure at now (ms); no try before now + the wait. */
void ts_backoff_fail(ts_backoff *b, int64_t now);
static inline int ts_backoff_ready(const ts_backoff *b, int64_t now) { return now >= b->until; }
/* Blocking form, watched: sleep the next wait in slices of at most
 * slice_ms, calling over(ctx) (if not NULL) between slices; a non-zero
 * answer ends the wait early, and the part not slept goes back to the
 * budget. 0, or -1 when the budget is spent. ts_backoff_sleep is it
 * unwatched. */
int ts_backoff_sleep_watch(ts_backoff *b, int slice_ms, int (*over)(void *), void *ctx);
/* A success: the next failure waits first_ms again. */
void ts_backoff_ok(ts_backoff *b);

#endif
