/* store_redis_buf.c - the Redis store's write buffer: what adds write
 * before a flush sends it.
 *
 * Two private hash tables (open addressing, linear probing, load <= 1/2):
 * keys, (counts|attrs, metric, day) -> index into rs->keys (which keeps
 * the partition too), and cells, (key index, field) -> summed increment,
 * where the field is the minute of day (counts) or hour << 40 | kind << 32
 * | value id (attributions; minute of day << 40 | ... for those by minute). Per partition (rs_part), the state and file
 * marks put_state gave wait in the same buffer. Only a flush empties it
 * (rs_freeze moves it into chunks; rs_live_clear frees the tables); free
 * discards what was not flushed. Every add also goes to the read cache
 * (store_redis_keys.c), so reads never need a flush.
 *
 * Caps: adds fail with TS_ECAP once max_cells cells wait (buffered plus
 * frozen and not yet acknowledged: Redis away); flush_due asks for a
 * checkpoint past flush_cells buffered cells.
 */
#include <stdlib.h>

#include "store_redis_int.h"
#include "util.h"

static size_t cell_hash(uint32_t key, uint64_t field)
{
	uint64_t h = (field ^ ((uint64_t)key << 32 | key)) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h ^ (h >> 29));
}

static int ctab_add(ctab *t, uint32_t key, uint64_t field, uint32_t inc)
{
	if ((t->n + 1) * 2 > t->slots) {
		size_t ns = t->slots ? t->slots * 2 : 1024;
		cell *nc = calloc(ns, sizeof *nc);
		if (!nc)
			return TS_ENOMEM;
		for (size_t i = 0; i < t->slots; i++) {
			if (!t->c[i].key1)
				continue;
			size_t j = cell_hash(t->c[i].key1 - 1, t->c[i].field) & (ns - 1);
			while (nc[j].key1)
				j = (j + 1) & (ns - 1);
			nc[j] = t->c[i];
		}
		free(t->c);
		t->c = nc;
		t->slots = ns;
	}
	size_t j = cell_hash(key, field) & (t->slots - 1);
	while (t->c[j].key1 && (t->c[j].key1 != key + 1 || t->c[j].field != field))
		j = (j + 1) & (t->slots - 1);
	if (t->c[j].key1 && t->c[j].sum > UINT32_MAX - inc)
		return TS_ECAP; /* over 4 billion calls of one API in one minute */
	if (!t->c[j].key1) {
		t->c[j] = (cell){.field = field, .key1 = key + 1};
		t->n++;
	}
	t->c[j].sum += inc;
	return 0;
}

static void ctab_free(ctab *t)
{
	free(t->c);
	memset(t, 0, sizeof *t);
}

static size_t key_hash(uint8_t attr, uint32_t metric, int64_t day)
{
	uint64_t h = ((uint64_t)metric << 1 | attr) * 0x9E3779B97F4A7C15ull;
	h ^= (uint64_t)day * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(h ^ (h >> 31));
}

/* The index of key k in rs->keys, added if new. 0 or TS_ENOMEM. */
int rs_key_get(redis_store *rs, const rkey *key, uint32_t *out)
{
	if ((size_t)(rs->nkeys + 1) * 2 > rs->kslots) {
		size_t ns = rs->kslots ? rs->kslots * 2 : 256;
		uint32_t *nk = malloc(ns * sizeof *nk);
		if (!nk)
			return TS_ENOMEM;
		memset(nk, 0xff, ns * sizeof *nk);
		for (uint32_t i = 0; i < rs->nkeys; i++) {
			rkey *k = &rs->keys[i];
			size_t j = key_hash(k->attr, k->metric, k->day) & (ns - 1);
			while (nk[j] != UINT32_MAX)
				j = (j + 1) & (ns - 1);
			nk[j] = i;
		}
		free(rs->kslot);
		rs->kslot = nk;
		rs->kslots = ns;
	}
	size_t j = key_hash(key->attr, key->metric, key->day) & (rs->kslots - 1);
	while (rs->kslot[j] != UINT32_MAX) {
		rkey *k = &rs->keys[rs->kslot[j]];
		if (k->attr == key->attr && k->metric == key->metric && k->day == key->day) {
			*out = rs->kslot[j];
			return 0;
		}
		j = (j + 1) & (rs->kslots - 1);
	}
	if (rs->nkeys == rs->keys_alloc) {
		uint32_t na = rs->keys_alloc ? rs->keys_alloc * 2 : 64;
		rkey *nk = realloc(rs->keys, na * sizeof *nk);
		if (!nk)
			return TS_ENOMEM;
		rs->keys = nk;
		rs->keys_alloc = na;
	}
	rs->keys[rs->nkeys] = *key;
	rs->kslot[j] = rs->nkeys;
	*out = rs->nkeys++;
	return 0;
}

void rs_live_clear(redis_store *rs)
{
	ctab_free(&rs->live);
	free(rs->keys);
	free(rs->kslot);
	rs->keys = NULL;
	rs->kslot = NULL;
	rs->nkeys = rs->keys_alloc = 0;
	rs->kslots = 0;
}

int rs_ensure_partition(redis_store *rs, uint32_t id)
{
	if (id < rs->nparts)
		return 0;
	uint32_t n = rs->nparts ? rs->nparts : 16;
	while (n <= id)
		n *= 2;
	rs_part *p = realloc(rs->part, n * sizeof *p);
	if (!p)
		return TS_ENOMEM;
	memset(p + rs->nparts, 0, (n - rs->nparts) * sizeof *p);
	rs->part = p;
	rs->nparts = n;
	return 0;
}

int rs_has_states(const redis_store *rs)
{
	for (uint32_t pid = 0; pid < rs->nparts; pid++)
		if (rs->part[pid].ps.has || rs->part[pid].ps.marks.n)
			return 1;
	return 0;
}

size_t rs_buffered(const redis_store *rs) { return rs->live.n + rs->pend_cells; }

int rs_flush_due(const ts_store *st)
{
	const redis_store *rs = (const redis_store *)st;
	/* what is frozen is being written (or will be sent again by the next
	 * flush anyway): only the live buffer asks for a checkpoint */
	return rs->live.n >= rs->flush_cells;
}

static int check_cap(redis_store *rs, size_t n)
{
	if (rs_buffered(rs) + n <= rs->max_cells)
		return 0;
	rs_set_err(rs, "Redis unreachable and %zu unwritten cells buffered", rs_buffered(rs));
	return TS_ECAP;
}

void rs_fmarks_clear(fmarks *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->m[i].name);
	f->n = 0;
}

void rs_fmarks_free(fmarks *f)
{
	rs_fmarks_clear(f);
	free(f->m);
	memset(f, 0, sizeof *f);
}

int rs_fmarks_add(fmarks *f, const ts_file_id *id)
{
	if (f->n == f->alloc) {
		size_t na = f->alloc ? f->alloc * 2 : 16;
		fmark *nm = realloc(f->m, na * sizeof *nm);
		if (!nm)
			return TS_ENOMEM;
		f->m = nm;
		f->alloc = na;
	}
	size_t l = strlen(id->name);
	char *name = malloc(l + 1);
	if (!name)
		return TS_ENOMEM;
	memcpy(name, id->name, l + 1);
	f->m[f->n++] = (fmark){name, id->size, id->mtime};
	return 0;
}

int rs_add_minute(ts_store *st, uint32_t partition, int64_t minute, const ts_count *c, size_t n)
{
	redis_store *rs = (redis_store *)st;
	(void)partition;
	int rc = check_cap(rs, n);
	if (rc)
		return rc;
	int64_t day = ts_day_of(minute);
	uint64_t mod = (uint64_t)(minute - day * TS_MIN_PER_DAY);
	/* which metrics take this write (within the history kept) */
	uint32_t *take = calloc(n ? n : 1, sizeof *take);
	if (!take)
		return TS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		take[i] = UINT32_MAX;
		const ts_metric *m = ts_registry_get_metric(st->reg, c[i].metric);
		if (!m) {
			rc = TS_EINVAL;
			goto out_free;
		}
		if (!c[i].count)
			continue;
		if ((rc = rs_ensure_metric(rs, m->id)))
			goto out_free;
		int64_t *nd = &rs->met[m->id].newest_day;
		if (*nd == RS_NO_TIME || day > *nd)
			*nd = day;
		if (day >= *nd - st->retention_days)
			take[i] = m->id;
	}
	if ((rc = rs_fetch_first(rs, day, take, n)))
		goto out_free;
	for (size_t i = 0; i < n; i++) {
		if (take[i] == UINT32_MAX)
			continue;
		const ts_metric *m = ts_registry_get_metric(st->reg, take[i]);
		rkey key = {.day = day, .metric = m->id, .partition = m->partition, .attr = 0};
		uint32_t k;
		if ((rc = rs_key_get(rs, &key, &k)) || (rc = ctab_add(&rs->live, k, mod, c[i].count)))
			goto out_free;
		if (rs_cache_has(rs, m->id, day) &&
		    (rc = rs_cache_add(rs, m->id, day * TS_MIN_PER_DAY + mod, c[i].count)))
			goto out_free;
	}
out_free:
	free(take);
	return rc;
}

int rs_add_attrs(ts_store *st, uint32_t partition, int64_t hour_minute, const ts_attr_count *a,
		 size_t n)
{
	redis_store *rs = (redis_store *)st;
	(void)partition;
	int rc = check_cap(rs, n);
	if (rc)
		return rc;
	int64_t hour = ts_floordiv(hour_minute, 60);
	int64_t day = ts_floordiv(hour, 24);
	uint64_t hh = (uint64_t)(hour - day * 24);
	int64_t keep = ((int64_t)st->retention_days + 1) * 24;
	uint32_t *take = calloc(n ? n : 1, sizeof *take);
	if (!take)
		return TS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		take[i] = UINT32_MAX;
		const ts_metric *m = ts_registry_get_metric(st->reg, a[i].metric);
		if (!m || a[i].kind >= TS_A_KINDS) {
			rc = TS_EINVAL;
			goto out_free;
		}
		if (!a[i].count)
			continue;
		if ((rc = rs_ensure_metric(rs, m->id)))
			goto out_free;
		int64_t *nh = &rs->met[m->id].newest_hour;
		if (*nh == RS_NO_TIME || hour > *nh)
			*nh = hour;
		if (hour > *nh - keep)
			take[i] = m->id;
	}
	for (size_t i = 0; i < n; i++) {
		if (take[i] == UINT32_MAX)
			continue;
		const ts_metric *m = ts_registry_get_metric(st->reg, take[i]);
		rkey key = {.day = day, .metric = m->id, .partition = m->partition, .attr = 1};
		uint32_t k;
		uint64_t field = hh << 40 | (uint64_t)a[i].kind << 32 | a[i].value;
		if ((rc = rs_key_get(rs, &key, &k)) || (rc = ctab_add(&rs->live, k, field, a[i].count)))
			goto out_free;
	}
out_free:
	free(take);
	return rc;
}

int rs_add_attr_minute(ts_store *st, uint32_t partition, int64_t minute, const ts_attr_count *a,
		       size_t n)
{
	redis_store *rs = (redis_store *)st;
	(void)partition;
	int rc = check_cap(rs, n);
	if (rc)
		return rc;
	int64_t day = ts_floordiv(minute, TS_MIN_PER_DAY);
	uint64_t mod = (uint64_t)(minute - day * TS_MIN_PER_DAY);
	for (size_t i = 0; i < n; i++) {
		const ts_metric *m = ts_registry_get_metric(st->reg, a[i].metric);
		if (!m || a[i].kind >= TS_A_KINDS)
			return TS_EINVAL;
		if (!a[i].count)
			continue;
		rkey key = {.day = day, .metric = m->id, .partition = m->partition,
			    .attr = RS_MINUTES};
		uint32_t k;
		uint64_t field = mod << 40 | (uint64_t)a[i].kind << 32 | a[i].value;
		if ((rc = rs_key_get(rs, &key, &k)) || (rc = ctab_add(&rs->live, k, field, a[i].count)))
			return rc;
	}
	return 0;
}
