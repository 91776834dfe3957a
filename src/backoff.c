/* backoff.c - the retry schedule (backoff.h): pure arithmetic, and the one
 * sleep of a blocking retry. No state beyond the struct its user owns.
 */
#include <errno.h>
#include <limits.h>
#include <time.h>

#include "backoff.h"
#include "util.h"

void ts_backoff_set(ts_backoff *b, int first_ms, int max_ms, int total_ms)
{
	b->first_ms = first_ms;
	b->max_ms = max_ms < first_ms ? first_ms : max_ms;
	b->total_ms = total_ms;
	ts_backoff_ok(b);
}

int ts_backoff_next(ts_backoff *b)
{
	int d = b->cur_ms;
	if (b->total_ms > 0) {
		if (b->spent_ms >= b->total_ms)
			return -1;
		if (d > b->total_ms - b->spent_ms)
			d = b->total_ms - b->spent_ms;
		b->spent_ms += d;
	}
	b->cur_ms = b->cur_ms > b->max_ms / 2 ? b->max_ms : b->cur_ms * 2;
	return d;
}

int ts_backoff_sleep(ts_backoff *b) { return ts_backoff_sleep_watch(b, INT_MAX, NULL, NULL); }

int ts_backoff_sleep_watch(ts_backoff *b, int slice_ms, int (*over)(void *), void *ctx)
{
	int d = ts_backoff_next(b), slept = 0;
	if (d < 0)
		return -1;
	while (slept < d) {
		int ms = d - slept < slice_ms ? d - slept : slice_ms;
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		slept += ms;
		if (slept < d && over && over(ctx))
			break;
	}
	if (b->total_ms > 0)
		b->spent_ms -= d - slept; /* given back: d was counted whole */
	return 0;
}

void ts_backoff_fail(ts_backoff *b, int64_t now) { b->until = now + ts_backoff_next(b); }

void ts_backoff_ok(ts_backoff *b)
{
	b->cur_ms = b->first_ms;
	b->spent_ms = 0;
	b->until = INT64_MIN;
}
