/* agg.h - the minute aggregator: counts per metric and minute, and
 * attribution counts, for the minutes of each partition that are still
 * open, and the watermark that closes them.
 *
 * Per partition, the watermark is the largest eventTime minute seen minus
 * the allowed lateness; every minute at or before it is closed, in time
 * order, exactly once, through the close callback. A record for a minute
 * already closed goes to the late callback instead. ts_agg_close_all()
 * closes every open minute (the end of a backfill).
 */
#ifndef TS_AGG_H
#define TS_AGG_H

#include <stdint.h>

#include "series.h"
#include "store.h"

#define TS_AGG_RING 128   /* open minutes per partition; lateness < RING - 8 */
#define TS_NO_VALUE UINT32_MAX

/* One closed minute of one partition. dense[i] is the count of the i-th
 * metric of the partition (registry order; ndense of them); counts lists
 * the non-zero ones for the store; attrs its attribution counts. All owned
 * by the aggregator, valid during the callback. */
typedef struct ts_minute_batch {
	uint32_t partition;
	int64_t minute;
	const uint32_t *dense;
	uint32_t ndense;
	const ts_count *counts;
	size_t ncounts;
	const ts_attr_count *attrs;
	size_t nattrs;
} ts_minute_batch;

typedef struct ts_agg_cb {
	/* a minute closed; non-zero return stops and is returned by the call
	 * that closed it */
	int (*close)(void *ctx, const ts_minute_batch *b);
	/* one late event: metric counted once at minute, with its attributions
	 * (vals[kind] or TS_NO_VALUE) */
	int (*late)(void *ctx, uint32_t partition, int64_t minute, uint32_t metric,
		    const uint32_t vals[TS_A_KINDS]);
	void *ctx;
} ts_agg_cb;

typedef struct ts_agg ts_agg;

/* What counting one event did (ts_agg_count; the order hold's feed). */
enum ts_count_result { TS_COUNT_ON_TIME = 0, TS_COUNT_LATE = 1 };

/* lateness: minutes, 0..TS_AGG_RING-8. NULL on ENOMEM or bad lateness. */
ts_agg *ts_agg_new(ts_registry *reg, int lateness, const ts_agg_cb *cb);
void ts_agg_free(ts_agg *a); /* NULL is a no-op */

/* Count one event of metric (in partition pid) at minute, with its
 * attribution values vals[kind] (TS_NO_VALUE for none; vals may be NULL).
 * May first close minutes (callbacks run inside). Returns TS_COUNT_ON_TIME,
 * TS_COUNT_LATE (the event was late: given to the late callback), a
 * callback's non-zero return, or TS_ENOMEM. */
int ts_agg_count(ts_agg *a, uint32_t pid, int64_t minute, uint32_t metric,
		 const uint32_t vals[TS_A_KINDS]);

/* Advance the watermark of partition pid as if an event at minute had been
 * seen (closes what that closes). Same returns as ts_agg_count, never
 * TS_COUNT_LATE. */
int ts_agg_advance(ts_agg *a, uint32_t pid, int64_t minute);

/* Bound the work of a gap. Once a partition's closed minute is more than
 * settle minutes past its newest minute with a count, and more than tail
 * minutes remain to close, the empty minutes up to tail before the target
 * are passed over without the close callback: the caller promises that
 * after settle empty minutes, closing more empty ones changes nothing but
 * what the last tail of them rebuild. So a gap costs at most
 * settle + tail closes per partition, whatever its length. settle 0 (the
 * default): every minute is closed. */
void ts_agg_set_skip(ts_agg *a, int64_t settle, int64_t tail);

/* Close every open minute of every partition, through its newest minute. */
int ts_agg_close_all(ts_agg *a);
/* The same for partition pid alone (none: a no-op). */
int ts_agg_close_partition(ts_agg *a, uint32_t pid);

/* Newest minute seen and newest closed minute of a partition (INT64_MIN
 * when it has none). */
int64_t ts_agg_newest(const ts_agg *a, uint32_t pid);
/* Newest minute of partition pid that had a count on time (or was
 * restored as its newest): ts_agg_advance moves the newest minute past
 * it, never this one (INT64_MIN when it has none). */
int64_t ts_agg_active(const ts_agg *a, uint32_t pid);
/* Save partition pid's watermark and open minutes (counts and
 * attributions) into enc, naming metrics by their index in the partition. */
struct ts_enc;
struct ts_dec;
void ts_agg_save(const ts_agg *a, uint32_t pid, struct ts_enc *enc);
/* Load what ts_agg_save wrote into partition pid, which must have seen
 * nothing yet; mids[i] is the metric id of partition index i (nm of them).
 * 0, TS_EINVAL (malformed) or TS_ENOMEM. */
int ts_agg_load(ts_agg *a, uint32_t pid, struct ts_dec *dec, const uint32_t *mids, uint32_t nm);
int64_t ts_agg_closed(const ts_agg *a, uint32_t pid);
/* The count of metric (of partition pid) in the partition's open minute,
 * so far: 0 when the minute is not open (at or before the closed one,
 * after the newest) or has none. */
uint32_t ts_agg_open_count(const ts_agg *a, uint32_t pid, uint32_t metric, int64_t minute);
/* The attribution counts of partition pid's open minute so far, keys
 * ts_attr_key(metric, kind, value) (owned by the aggregator, valid until
 * the next count or close), or NULL when it has none or is not open. */
struct ts_tally;
const struct ts_tally *ts_agg_open_attrs(const ts_agg *a, uint32_t pid, int64_t minute);
size_t ts_agg_memory(const ts_agg *a);

#endif
