/* overflow.h - what the cardinality caps turned away.
 *
 * Records whose series (or error code) would pass a registry cap are not
 * counted in any series; they are counted here by partition and
 * eventSource, so the summary, --stats and the metrics can say where a
 * flood of new names came from. The table of (partition, eventSource)
 * keys has its own cap: past it, records count under the partition with
 * an empty eventSource ("other sources"). Nothing here ever touches the
 * series already registered.
 */
#ifndef TS_OVERFLOW_H
#define TS_OVERFLOW_H

#include <stdint.h>

#include "util.h"

enum ts_overflow_kind {
	TS_OV_SERIES = 0, /* a new API past the series caps */
	TS_OV_CODE = 1,   /* a new errorCode past the per-series cap */
	TS_OV_KINDS = 2
};

typedef struct ts_overflow ts_overflow;

/* One (partition, eventSource) row. source is owned by the table. */
typedef struct ts_overflow_row {
	uint32_t partition;
	ts_str source; /* empty: sources past the table's cap */
	uint64_t count[TS_OV_KINDS];
} ts_overflow_row;

/* A new table of at most max_keys (partition, eventSource) rows (0:
 * 10000); NULL on ENOMEM. */
ts_overflow *ts_overflow_new(uint32_t max_keys);
void ts_overflow_free(ts_overflow *o); /* NULL is a no-op */

/* Count one record of kind for (partition, source). 0 or TS_ENOMEM. */
int ts_overflow_add(ts_overflow *o, uint32_t partition, ts_str source, int kind);
/* Totals per kind. */
uint64_t ts_overflow_total(const ts_overflow *o, int kind);
/* The rows, most records first (then by partition and source), at most
 * max of them, into a new array *rows (*n of them; the caller frees the
 * array, not the strings). 0 or TS_ENOMEM. */
int ts_overflow_top(const ts_overflow *o, uint32_t max, ts_overflow_row **rows, uint32_t *n);
/* All rows. */
uint32_t ts_overflow_rows(const ts_overflow *o);
size_t ts_overflow_memory(const ts_overflow *o);

#endif
