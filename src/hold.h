/* hold.h - the events of a backfill held back until their order is known.
 *
 * When records may come in any order, the engine does not count them in
 * the minute aggregator as they come: it appends each of its counts
 * (partition, minute, metric, attribution values) here, with the number of
 * the record it came from, then sorts them by minute and replays them in
 * time order. Each event costs sizeof(ts_held) bytes (40); the buffer
 * grows by doubling up to a cap on the number of events. Owns its array.
 */
#ifndef TS_HOLD_H
#define TS_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "series.h"

typedef struct ts_held {
	int64_t minute;
	uint64_t seq;     /* the record's number, in input order */
	uint32_t pid, metric;
	uint32_t vals[TS_A_KINDS]; /* TS_NO_VALUE for none */
	uint8_t has_vals; /* vals apply (a rate counted in the call rate) */
	uint8_t first;    /* the record's first event */
} ts_held;

typedef struct ts_hold ts_hold;

/* cap: most events held (0: 32 Mi). NULL on ENOMEM. */
ts_hold *ts_hold_new(size_t cap);
void ts_hold_free(ts_hold *h); /* NULL is a no-op */

/* Append a copy of *ev. 0, TS_ECAP (the cap is reached: nothing added)
 * or TS_ENOMEM. */
int ts_hold_add(ts_hold *h, const ts_held *ev);
/* Sort by (minute, seq): the order the events would have come in had the
 * records come in time order (stable for equal minutes). */
void ts_hold_sort(ts_hold *h);
/* The i-th event (i < ts_hold_count), owned by h until the next add or
 * reset. */
const ts_held *ts_hold_at(const ts_hold *h, size_t i);
size_t ts_hold_count(const ts_hold *h);
/* Forget every event and give the memory back. */
void ts_hold_reset(ts_hold *h);
/* Bytes allocated. */
size_t ts_hold_memory(const ts_hold *h);

#endif
