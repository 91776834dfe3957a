/* tally.c - the counter map of tally.h. Grows by doubling at half full. */
#include <stdlib.h>

#include "tally.h"
#include "util.h"

int ts_tally_add(ts_tally *t, uint64_t key, uint64_t n)
{
	if ((t->n + 1) * 2 > t->cap) {
		uint32_t nc = t->cap ? t->cap * 2 : 16;
		uint64_t *k = calloc(nc, sizeof *k), *c = calloc(nc, sizeof *c);
		if (!k || !c) {
			free(k);
			free(c);
			return TS_ENOMEM;
		}
		for (uint32_t i = 0; i < t->cap; i++) {
			if (!t->keys[i])
				continue;
			uint32_t j = (uint32_t)ts_hash(&t->keys[i], 8, 1) & (nc - 1);
			while (k[j])
				j = (j + 1) & (nc - 1);
			k[j] = t->keys[i];
			c[j] = t->cnt[i];
		}
		free(t->keys);
		free(t->cnt);
		t->keys = k;
		t->cnt = c;
		t->cap = nc;
	}
	key += 1;
	uint32_t j = (uint32_t)ts_hash(&key, 8, 1) & (t->cap - 1);
	while (t->keys[j] && t->keys[j] != key)
		j = (j + 1) & (t->cap - 1);
	if (!t->keys[j]) {
		t->keys[j] = key;
		t->cnt[j] = 0;
		t->n++;
	}
	t->cnt[j] += n;
	return 0;
}

uint64_t ts_tally_get(const ts_tally *t, uint64_t key)
{
	if (!t->n)
		return 0;
	key += 1;
	uint32_t j = (uint32_t)ts_hash(&key, 8, 1) & (t->cap - 1);
	while (t->keys[j] && t->keys[j] != key)
		j = (j + 1) & (t->cap - 1);
	return t->keys[j] ? t->cnt[j] : 0;
}

void ts_tally_clear(ts_tally *t)
{
	if (t->n)
		memset(t->keys, 0, t->cap * sizeof *t->keys);
	t->n = 0;
}

void ts_tally_reset(ts_tally *t)
{
	if (t->cap > 64 && (size_t)t->n * 8 < t->cap)
		ts_tally_free(t);
	else
		ts_tally_clear(t);
}

void ts_tally_free(ts_tally *t)
{
	free(t->keys);
	free(t->cnt);
	memset(t, 0, sizeof *t);
}

size_t ts_tally_memory(const ts_tally *t) { return (size_t)t->cap * 16; }
