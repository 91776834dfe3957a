/* markcache.h - the file marks a store has read or written, by the UTC
 * day of the files' mtime, so the days no longer written can be let go.
 *
 * The Redis store asks "is this file done for this partition?" once per
 * file and partition. It answers from a cache: per mtime day, the hashes
 * of the marks it read (the partition's mark hash of that day, fetched once
 * and remembered as read) or wrote. Without a bound the cache grows with
 * every file a stream reads, for as long as it runs; ts_mk_prune drops the
 * days more than keep days before the newest, which the store calls once
 * every mark it wrote is in Redis, so a pruned day is read again from
 * Redis if a file of it comes again. So a stream holds the marks of about
 * keep + 1 days of files, however long it runs; a backfill (which prunes at
 * its end) holds those of its input, as the file list it reads does.
 *
 * A zeroed struct is empty; ts_mk_free releases what it holds.
 */
#ifndef TS_MARKCACHE_H
#define TS_MARKCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tally.h"

typedef struct ts_mk_day {
	int64_t day;
	ts_tally read; /* partition + 1 -> 1: its mark hash of the day was read */
	ts_tally seen; /* mark hash -> 1: marks of the day read or written */
} ts_mk_day;

typedef struct ts_markcache {
	ts_mk_day *d; /* unordered */
	uint32_t n, alloc;
} ts_markcache;

/* Remember a mark (its 63-bit hash) of day. 0 or TS_ENOMEM. */
int ts_mk_add(ts_markcache *c, int64_t day, uint64_t hash);
/* 1 if the mark is cached, else 0. */
int ts_mk_has(const ts_markcache *c, int64_t day, uint64_t hash);
/* Note that partition's marks of day were read from the store (0 or
 * TS_ENOMEM); whether they were (1) or not (0). */
int ts_mk_set_read(ts_markcache *c, int64_t day, uint32_t partition);
int ts_mk_was_read(const ts_markcache *c, int64_t day, uint32_t partition);
/* Drop the days before the newest held minus keep_days (keep_days >= 0:
 * the newest and the keep_days before it stay). */
void ts_mk_prune(ts_markcache *c, int64_t keep_days);
/* Days held, marks held (over all days). */
uint32_t ts_mk_days(const ts_markcache *c);
size_t ts_mk_count(const ts_markcache *c);
/* Bytes held. */
size_t ts_mk_memory(const ts_markcache *c);
void ts_mk_free(ts_markcache *c);

#endif
