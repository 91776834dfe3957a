/* order.h - putting a backfill's records in time order, and the clock
 * skew guard.
 *
 * The engine gives each classified record (its one or two counts, as
 * ts_held events) to ts_order_add instead of the minute aggregator. What
 * happens to it depends on the mode:
 *  - TS_ORDER_TIME: counted at once (the watermark and its lateness
 *    decide what is late), as a stream must.
 *  - TS_ORDER_ANY: held (src/hold.h) until ts_order_finish, then sorted
 *    by minute and counted: the result does not depend on input order;
 *    memory grows by 40 bytes per count until the hold cap.
 *  - TS_ORDER_AUTO: held while input may be out of order; once auto_events
 *    counts are held, or at the end of the first input file, if no record
 *    came more than the lateness behind the newest but one of its
 *    partition, they are replayed in time order and the rest is counted at
 *    once, in bounded memory. A record that comes that late first keeps
 *    everything held, as TS_ORDER_ANY.
 * Clock skew guard (future_secs > 0): a record more than future_secs ahead
 * of every other record of its partition does not move the watermark. In
 * a stream (wall != NULL) it is refused at once when it is also more than
 * 15 minutes ahead of the wall clock. In a backfill it is kept aside (one
 * per partition) until a record within future_secs of it, or newer, shows
 * it was not alone (then it is counted); at finish, one still alone is
 * given to the future callback, with the file and offset it came from.
 * The caller feeds counts through the feed callback. Owns the held events,
 * the per-partition state and copies of the paths it reports.
 */
#ifndef TS_ORDER_H
#define TS_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "hold.h"

enum { TS_ORDER_TIME = 0, TS_ORDER_AUTO = 1, TS_ORDER_ANY = 2 };

#define TS_FUTURE_WALL_SECS 900 /* stream: ahead of the wall clock by more */

typedef struct ts_order_cb {
	/* count one event now: TS_COUNT_ON_TIME, TS_COUNT_LATE, or a fatal
	 * negative code */
	int (*feed)(void *ctx, const ts_held *ev);
	/* a record judged future_time, not counted (ro, err: as given to
	 * ts_order_add); path valid during the call */
	void (*future)(void *ctx, const char *path, uint64_t off, int64_t t, int ro, int err);
	/* stream: unix seconds now; NULL in a backfill */
	int64_t (*wall)(void *ctx);
	void *ctx;
} ts_order_cb;

typedef struct ts_order_opts {
	int mode;              /* TS_ORDER_* */
	int lateness;          /* minutes, as the aggregator's */
	int64_t future_secs;   /* 0: no guard */
	size_t auto_events;    /* TS_ORDER_AUTO: counts held before trusting order; 0: 262144 */
	size_t hold_cap;       /* most counts held; 0: ts_hold's default */
} ts_order_opts;

typedef struct ts_order_stats {
	uint64_t late;        /* records given late to the aggregator by a replay */
	uint64_t held_peak;   /* most counts held at once */
	size_t held_bytes;    /* memory they took */
	int replayed;         /* a replay put held counts in time order */
	int disorder;         /* a held record came more than the lateness behind */
	int holding;          /* still holding (everything so far held) */
	int capped;           /* the hold cap was reached: counted as they came since */
	uint64_t kept_aside;  /* records kept aside as possibly far ahead */
} ts_order_stats;

typedef struct ts_order ts_order;

ts_order *ts_order_new(const ts_order_opts *o, const ts_order_cb *cb); /* NULL: ENOMEM */
void ts_order_free(ts_order *o); /* NULL is a no-op */

/* One record of partition pid at unix time t, with its counts ev[0..nev)
 * (nev 1 or 2; ev->seq is set here). ro/err describe it for the future
 * callback; path (copied if kept) and off say where it came from;
 * agg_newest is the aggregator's newest minute for pid (a restored
 * partition), INT64_MIN for none. Returns TS_COUNT_ON_TIME (held, kept
 * aside or counted), TS_COUNT_LATE (counted late), TS_EFUTURE (stream: refused, not counted) or a fatal
 * code from feed / TS_ENOMEM. */
int ts_order_add(ts_order *o, uint32_t pid, int64_t t, ts_held *ev, int nev, int ro, int err,
		 const char *path, uint64_t off, int64_t agg_newest);
/* The end of an input file (not stdin). TS_ORDER_AUTO: if no record has
 * come out of order so far, the held counts are replayed in time order and
 * the rest is counted at once, as after auto_events counts (a folder of
 * log files in the S3 layout, each in order, keeps its checkpoints from the
 * first file on). 0 or a fatal code. */
int ts_order_file_end(ts_order *o);
/* Everything so far is held (checkpoints must wait: the aggregator has
 * not seen it). */
int ts_order_holding(const ts_order *o);
/* Counting at once: the newest record time (unix seconds) counted for
 * partition pid, a record kept aside by the guard not included;
 * INT64_MIN when none was (or while holding). */
int64_t ts_order_newest(const ts_order *o, uint32_t pid);
/* Count what is held, in time order, and judge the records kept aside:
 * those still alone go to the future callback. 0 or a fatal code. */
int ts_order_finish(ts_order *o);
void ts_order_get_stats(const ts_order *o, ts_order_stats *st);
/* "time", "auto" or "any" to its TS_ORDER_*; -1 for anything else. */
int ts_order_mode_parse(const char *s);

#endif
