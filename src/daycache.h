/* daycache.h - one metric's cached days of minute counts, in memory
 * proportional to their non-zero minutes.
 *
 * Which days are held is a bitset over the window of the counts (a
 * ts_mincounts of n_days days, ending at the newest day held or written):
 * bit i is the window's first day + i, so a day that falls out of the
 * window leaves both. Up to 64 days the bits live in the struct (a held
 * day with no counts costs nothing); a longer window allocates
 * ceil(n_days / 64) words at the first hold. The Redis store keeps one per
 * metric for the days it wrote or read (see store_redis_keys.c). A
 * zeroed struct is empty; ts_dc_free releases it.
 */
#ifndef TS_DAYCACHE_H
#define TS_DAYCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "mincounts.h"

typedef struct ts_daycache {
	ts_mincounts mc;
	union {
		uint64_t bits;   /* mc.n_days <= 64: held days of mc's window */
		uint64_t *words; /* else: ceil(mc.n_days / 64) words, owned */
	} held;
} ts_daycache;

/* 1 if day is held, else 0. */
int ts_dc_has(const ts_daycache *c, int64_t day);
/* Hold day (with no counts if it was not held) in a window of n_days
 * days; a day past the window slides it, dropping the days before it.
 * 0 (held), 1 (before the window: not held) or TS_ENOMEM. *bytes (if not
 * NULL) is moved by the change in memory held. */
int ts_dc_hold(ts_daycache *c, uint32_t n_days, int64_t day, int64_t *bytes);
/* Add count to minute, whose day is held. 0 or TS_ENOMEM. */
int ts_dc_add(ts_daycache *c, int64_t minute, uint32_t count, int64_t *bytes);
/* Counts of minutes [from, from + n) into out[n], zeros where none (the
 * caller reads held days only). */
void ts_dc_read(const ts_daycache *c, int64_t from, size_t n, uint32_t *out);
/* Bytes held (allocations, not the struct). */
size_t ts_dc_memory(const ts_daycache *c);
void ts_dc_free(ts_daycache *c);

#endif
