/* attrwin.h - one partition's attribution windows: which ARNs, user agents
 * and error codes made a metric's calls over a span of minutes.
 *
 * A ts_attrwin owns a ring of the last TS_ATTRWIN_RING closed minutes'
 * attribution counts (for insight windows and the partial hour at the end
 * of a baseline window) and the tally of the open hour, which goes to the
 * store, whole, when the hour closes. With a store that keeps minutes
 * (add_attr_minute and read_attr_minutes), the ring holds only which
 * minute each slot has and the counts are read back from the store: the
 * same sums in a fraction of the memory. Whole hours before attrs_flushed are
 * read back from the store. At most max_values distinct values of each
 * (metric, kind) are kept per hour; past it, new values of that hour are
 * dropped and counted. The store is borrowed at each call, never kept.
 * Invariants: ring slot m % TS_ATTRWIN_RING holds minute m or another
 * minute (stale) or none; hour_start is INT64_MIN or a multiple of 60 at
 * or after attrs_flushed.
 */
#ifndef TS_ATTRWIN_H
#define TS_ATTRWIN_H

#include <stdint.h>

#include "codec.h"
#include "store.h"
#include "tally.h"

#define TS_ATTRWIN_RING 256

typedef struct ts_attrwin ts_attrwin;

/* Counters the windows add to (owned by the caller). */
typedef struct ts_attrwin_counts {
	uint64_t dropped; /* counts past max_values */
	uint64_t cells;   /* (metric, hour, kind, value) counts written */
} ts_attrwin_counts;

/* NULL on ENOMEM. max_values: distinct values per (metric, kind) and hour;
 * minutes_in_store: every call passes a store that keeps minutes (the
 * ring's counts are read from it). */
ts_attrwin *ts_attrwin_new(uint32_t max_values, int minutes_in_store);
void ts_attrwin_free(ts_attrwin *w); /* NULL is a no-op */

/* The attributions a of minute (closed now, the newest closed minute of
 * the partition): the open hour is flushed first if minute is in a later
 * one; they go into the ring and the hour's tally. 0, TS_ENOMEM or
 * TS_ESTORE (the store's errstr says why). */
int ts_attrwin_minute(ts_attrwin *w, ts_store *s, uint32_t pid, int64_t minute,
		      const ts_attr_count *a, size_t n, ts_attrwin_counts *c);
/* After the minute's detection: when minute is its hour's last, the hour
 * goes to the store. 0, TS_ENOMEM or TS_ESTORE. */
int ts_attrwin_minute_done(ts_attrwin *w, ts_store *s, uint32_t pid, int64_t minute,
			   ts_attrwin_counts *c);
/* A count for a minute already closed, with values vals[kind]
 * (TS_NO_VALUE: none): into the open hour's tally when it is that hour,
 * else straight to the store. 0, TS_ENOMEM or TS_ESTORE. */
int ts_attrwin_late(ts_attrwin *w, ts_store *s, uint32_t pid, int64_t minute, uint32_t metric,
		    const uint32_t vals[TS_A_KINDS], ts_attrwin_counts *c);
/* Write the open hour (if any) to the store and close it. 0, TS_ENOMEM or
 * TS_ESTORE. */
int ts_attrwin_flush(ts_attrwin *w, ts_store *s, uint32_t pid, ts_attrwin_counts *c);

/* Attribution counts of metric over minutes [from, to) added into t, keyed
 * ts_attr_key(0, kind, value): whole hours already in the store from the
 * store, the rest from the ring. A partial hour no longer in the ring is
 * taken whole from the store. 0, TS_ENOMEM or TS_ESTORE. */
int ts_attrwin_window(const ts_attrwin *w, ts_store *s, uint32_t metric, int64_t from, int64_t to,
		      ts_tally *t);

/* Save: the open hour, its tally and the ring minutes at or after cut
 * (the earliest minute an open episode or the open hour may still need).
 * Metrics are written by their partition-local index. Cannot fail (the
 * encoder records ENOMEM for ts_enc_finish). */
void ts_attrwin_save(const ts_attrwin *w, ts_enc *enc, const ts_registry *reg, int64_t cut);
/* Load into a new window what ts_attrwin_save wrote; mids[nm] maps local
 * indexes to metric ids; len bounds the counts read. 0, TS_EINVAL (a
 * corrupt state) or TS_ENOMEM. */
int ts_attrwin_load(ts_attrwin *w, ts_dec *d, const uint32_t *mids, uint32_t nm, size_t len);

size_t ts_attrwin_memory(const ts_attrwin *w);

#endif
