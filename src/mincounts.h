/* mincounts.h - one metric's per-minute counts over a sliding window of
 * days, in memory proportional to what it holds.
 *
 * Sparse (the start): a vector of (minute, count) cells sorted by minute,
 * 8 bytes per non-zero minute. Dense: a ts_daywin of uint32_t[1440] days,
 * taken once the cells cost more than the days they span would
 * (TS_MC_DENSE_PER_DAY non-zero minutes a day on average); a dense series
 * stays dense. Either way the window is that of ts_daywin: n days ending
 * at the newest day written, fixed at the first write; writes before it
 * are dropped, days that fall out of it are freed. Reads see exactly what
 * a ts_daywin would. A zeroed struct is empty; ts_mc_free releases it.
 */
#ifndef TS_MINCOUNTS_H
#define TS_MINCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "daywin.h"

/* Non-zero minutes a day past which a series is stored dense: a cell is
 * 8 bytes, a dense minute 4. */
#define TS_MC_DENSE_PER_DAY 720

typedef struct ts_mc_cell {
	int32_t minute; /* minutes since the epoch */
	uint32_t count;
} ts_mc_cell;

typedef struct ts_mincounts {
	ts_mc_cell *cells;  /* sparse: sorted by minute, no zero counts */
	uint32_t n, alloc;
	int64_t base_day;   /* first day of the window (sparse); valid once n_days */
	uint32_t n_days;    /* window length in days; 0 until the first write */
	ts_daywin *dense;   /* non-NULL once dense (cells then unused) */
} ts_mincounts;

/* Add count to minute, in a window of n_days days. 0, or TS_ENOMEM (the
 * counts unchanged). *bytes (if not NULL) is moved by the change in the
 * memory held. A minute before the window is dropped (0). */
int ts_mc_add(ts_mincounts *c, uint32_t n_days, int64_t minute, uint32_t count, int64_t *bytes);
/* Move the window as a write at day would (fixing it at the first call),
 * without counting anything. 0, 1 (day is before the window) or
 * TS_ENOMEM. */
int ts_mc_slide(ts_mincounts *c, uint32_t n_days, int64_t day, int64_t *bytes);
/* The first day of the window (valid once n_days is set). */
int64_t ts_mc_first_day(const ts_mincounts *c);
/* Counts of minutes [from, from + n) into out[n] (zeros where none). */
void ts_mc_read(const ts_mincounts *c, int64_t from, size_t n, uint32_t *out);
/* Bytes held (allocations, not the struct itself). */
size_t ts_mc_memory(const ts_mincounts *c);
void ts_mc_free(ts_mincounts *c);

#endif
