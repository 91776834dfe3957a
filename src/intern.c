/* intern.c - string interning with an open-addressing hash table.
 *
 * Strings live in fixed 64 KiB chunks (larger strings get their own chunk)
 * so that pointers handed out never move. strs[id] points at the copy;
 * slots[] holds id+1 (0 = empty) with linear probing, load factor <= 1/2.
 * Caps: max_strings and max_bytes; past them TS_ECAP, the table unchanged.
 */
#include <stdlib.h>

#include "intern.h"

#define CHUNK 65536

struct ts_intern {
	uint32_t *slots;   /* id + 1, or 0 */
	uint64_t *hashes;  /* hash of strs[id] */
	ts_str *strs;      /* by id */
	uint32_t nslots;   /* power of two */
	uint32_t count;
	uint32_t max_strings;
	size_t max_bytes, bytes;
	char **chunks;
	size_t nchunks, chunk_used, chunk_size;
};

ts_intern *ts_intern_new(uint32_t max_strings, size_t max_bytes)
{
	ts_intern *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->nslots = 1024;
	t->slots = calloc(t->nslots, sizeof *t->slots);
	t->strs = malloc((t->nslots / 2) * sizeof *t->strs);
	t->hashes = malloc((t->nslots / 2) * sizeof *t->hashes);
	if (!t->slots || !t->strs || !t->hashes) {
		ts_intern_free(t);
		return NULL;
	}
	t->max_strings = max_strings ? max_strings : UINT32_MAX - 1;
	t->max_bytes = max_bytes ? max_bytes : SIZE_MAX;
	return t;
}

void ts_intern_free(ts_intern *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nchunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->slots);
	free(t->strs);
	free(t->hashes);
	free(t);
}

static uint32_t lookup(const ts_intern *t, ts_str s, uint64_t h, int *found)
{
	uint32_t mask = t->nslots - 1, i = (uint32_t)h & mask;
	for (;; i = (i + 1) & mask) {
		uint32_t v = t->slots[i];
		if (!v) {
			*found = 0;
			return i;
		}
		if (t->hashes[v - 1] == h && ts_str_eq(t->strs[v - 1], s)) {
			*found = 1;
			return i;
		}
	}
}

static int rehash(ts_intern *t)
{
	uint32_t n = t->nslots * 2;
	uint32_t *slots = calloc(n, sizeof *slots);
	ts_str *strs = realloc(t->strs, (n / 2) * sizeof *strs);
	if (strs)
		t->strs = strs;
	uint64_t *hashes = realloc(t->hashes, (n / 2) * sizeof *hashes);
	if (hashes)
		t->hashes = hashes;
	if (!slots || !strs || !hashes) {
		free(slots);
		return TS_ENOMEM;
	}
	for (uint32_t id = 0; id < t->count; id++) {
		uint32_t i = (uint32_t)t->hashes[id] & (n - 1);
		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = id + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
	return 0;
}

static char *store_bytes(ts_intern *t, ts_str s)
{
	size_t need = s.n + 1;
	if (!t->nchunks || t->chunk_size - t->chunk_used < need) {
		size_t size = need > CHUNK ? need : CHUNK;
		char **chunks = realloc(t->chunks, (t->nchunks + 1) * sizeof *chunks);
		if (!chunks)
			return NULL;
		t->chunks = chunks;
		char *c = malloc(size);
		if (!c)
			return NULL;
		/* a big string gets its own chunk; keep filling the current one */
		if (size > CHUNK && t->nchunks) {
			t->chunks[t->nchunks] = t->chunks[t->nchunks - 1];
			t->chunks[t->nchunks - 1] = c;
			t->nchunks++;
			memcpy(c, s.p, s.n);
			c[s.n] = '\0';
			return c;
		}
		t->chunks[t->nchunks++] = c;
		t->chunk_size = size;
		t->chunk_used = 0;
	}
	char *p = t->chunks[t->nchunks - 1] + t->chunk_used;
	if (s.n)
		memcpy(p, s.p, s.n);
	p[s.n] = '\0';
	t->chunk_used += need;
	return p;
}

int ts_intern_put(ts_intern *t, ts_str s, uint32_t *id, int *added)
{
	uint64_t h = ts_hash(s.p, s.n, 0);
	int found;
	uint32_t i = lookup(t, s, h, &found);
	if (added)
		*added = !found;
	if (found) {
		*id = t->slots[i] - 1;
		return 0;
	}
	if (t->count >= t->max_strings || s.n + 1 > t->max_bytes - t->bytes)
		return TS_ECAP;
	if ((t->count + 1) * 2 > t->nslots) {
		int rc = rehash(t);
		if (rc)
			return rc;
		i = lookup(t, s, h, &found);
	}
	char *copy = store_bytes(t, s);
	if (!copy)
		return TS_ENOMEM;
	t->strs[t->count] = (ts_str){copy, s.n};
	t->hashes[t->count] = h;
	t->slots[i] = t->count + 1;
	t->bytes += s.n + 1;
	*id = t->count++;
	return 0;
}

int ts_intern_find(const ts_intern *t, ts_str s, uint32_t *id)
{
	int found;
	uint32_t i = lookup(t, s, ts_hash(s.p, s.n, 0), &found);
	if (!found)
		return TS_EINVAL;
	*id = t->slots[i] - 1;
	return 0;
}

ts_str ts_intern_str(const ts_intern *t, uint32_t id) { return t->strs[id]; }
uint32_t ts_intern_count(const ts_intern *t) { return t->count; }

size_t ts_intern_memory(const ts_intern *t)
{
	return t->nslots * sizeof *t->slots +
	       (t->nslots / 2) * (sizeof *t->strs + sizeof *t->hashes) +
	       t->nchunks * CHUNK;
}
