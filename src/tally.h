/* tally.h - a counter map from 64-bit keys to 64-bit counts, with the
 * packing of attribution keys (metric, kind, value) into one key. Used for
 * open minutes' attributions (agg), hour tallies and attribution windows
 * (engine). A zeroed struct is an empty tally.
 */
#ifndef TS_TALLY_H
#define TS_TALLY_H

#include <stddef.h>
#include <stdint.h>

/* Open addressing, linear probing; keys[i] holds key + 1 (0: empty);
 * n <= cap / 2; cap is 0 or a power of two. */
typedef struct ts_tally {
	uint64_t *keys;
	uint64_t *cnt;
	uint32_t cap, n;
} ts_tally;

/* Add n to key's count (0 if new). 0 or TS_ENOMEM (the tally unchanged). */
int ts_tally_add(ts_tally *t, uint64_t key, uint64_t n);
/* key's count, 0 when absent. */
uint64_t ts_tally_get(const ts_tally *t, uint64_t key);
/* Empty the tally, keeping its memory. */
void ts_tally_clear(ts_tally *t);
/* Empty the tally; release its memory when it held under an eighth of its
 * capacity (a burst passed), so a tally reused at every minute or hour
 * does not keep the size of its busiest one. */
void ts_tally_reset(ts_tally *t);
/* Release the memory; the tally is empty afterwards. */
void ts_tally_free(ts_tally *t);
size_t ts_tally_memory(const ts_tally *t);

/* Visit entries: for (i = 0; ts_tally_next(t, &i, &key, &count); ) ... */
static inline int ts_tally_next(const ts_tally *t, uint32_t *i, uint64_t *key, uint64_t *count)
{
	for (; *i < t->cap; (*i)++) {
		if (t->keys[*i]) {
			*key = t->keys[*i] - 1;
			*count = t->cnt[*i];
			(*i)++;
			return 1;
		}
	}
	return 0;
}

/* Attribution keys: metric (30 bits) | kind (2 bits) | value (32 bits). */
static inline uint64_t ts_attr_key(uint32_t metric, unsigned kind, uint32_t value)
{
	return (uint64_t)metric << 34 | (uint64_t)(kind & 3) << 32 | value;
}
static inline uint32_t ts_attr_key_metric(uint64_t k) { return (uint32_t)(k >> 34); }
static inline unsigned ts_attr_key_kind(uint64_t k) { return (unsigned)((k >> 32) & 3); }
static inline uint32_t ts_attr_key_value(uint64_t k) { return (uint32_t)k; }

#endif
