/* store_redis_keys.c - the Redis store's key names, its read caches and its
 * reads.
 *
 * Names (the whole scheme is in docs/DESIGN.md, "The Redis key scheme"):
 *   ts:{ACCT:REGION}:c:YYYYMMDD:CAT:SOURCE:NAME:METRIC  hash minute-of-day -> count
 *   ts:{ACCT:REGION}:a:YYYYMMDD:CAT:SOURCE:NAME:METRIC  hash "HH:K:VALUE" -> count
 *   ts:{ACCT:REGION}:files:YYYYMMDD, ts:files:YYYYMMDD  hash name -> "SIZE:MTIME"
 * CAT is "m" or "d", METRIC "calls", "reads" or "err:" + errorCode; the
 * {ACCT:REGION} hash tag keeps a partition in one Redis Cluster slot.
 *
 * The cache: the count days this process wrote that Redis may not hold
 * all of yet, per metric (rs_metric), for retention_days + 1 days: what
 * Redis held when the day was first touched plus every increment this
 * store made since (one writer per partition). A day enters at its first
 * write, "unknown" (listed in rs->unknown) until Redis's part is added,
 * which happens before any increment of it is sent, so Redis's part has
 * none of ours. Once every chunk frozen before a metric's last write is
 * applied, Redis holds the whole of its days and the cache lets them go
 * (rs_cache_evict, at each checkpoint). So a read never needs a flush
 * (which would break a checkpoint's atomicity) and never misses a
 * buffered increment: days in the cache are served from it (unknown ones
 * resolved first), days not in it are whole in Redis and read from there,
 * not kept: the process holds about a checkpoint's counts, not the
 * history. Count days are held sparsely (ts_daycache). Attribution days
 * are not cached: a read of them
 * (an insight's windows) waits until the frozen chunks are applied, then
 * adds the live buffer to what Redis holds (rs_read_attrs). The caches are
 * the store's; rs_caches_free frees them. Retention: like the memory backend,
 * days more than retention_days before the newest day written for a metric
 * in this process are ignored on write and read.
 */
#include <stdlib.h>

#include "minattr.h"
#include "store_redis_int.h"
#include "util.h"

/* --- names -------------------------------------------------------------- */

static int add_str(ts_buf *b, ts_str s) { return ts_buf_add(b, s.p, s.n); }

/* "ts:{ACCT:REGION}:" */
int rs_part_prefix(redis_store *rs, uint32_t pid, ts_buf *b)
{
	ts_partition *p = ts_registry_get_partition(rs->base.reg, pid);
	if (!p)
		return TS_EINVAL;
	int rc;
	if ((rc = ts_buf_puts(b, "ts:{")) || (rc = add_str(b, p->account)) ||
	    (rc = ts_buf_puts(b, ":")) || (rc = add_str(b, p->region)) || (rc = ts_buf_puts(b, "}:")))
		return rc;
	return 0;
}

int rs_key_name(redis_store *rs, const rkey *k, ts_buf *b)
{
	const ts_metric *m = ts_registry_get_metric(rs->base.reg, k->metric);
	if (!m)
		return TS_EINVAL;
	ts_api *api = ts_registry_get_api(rs->base.reg, m->api);
	if (!api)
		return TS_EINVAL;
	int64_t y;
	unsigned mo, d;
	ts_civil_from_days(k->day, &y, &mo, &d);
	int rc;
	if ((rc = rs_part_prefix(rs, m->partition, b)) ||
	    (rc = ts_buf_printf(b, "%s:%04lld%02u%02u:%s:",
				k->attr == RS_MINUTES ? "am" : k->attr ? "a" : "c", (long long)y, mo,
				d, api->data ? "d" : "m")) ||
	    (rc = add_str(b, api->source)) || (rc = ts_buf_puts(b, ":")) ||
	    (rc = add_str(b, api->name)) || (rc = ts_buf_puts(b, ":")))
		return rc;
	if (m->kind == TS_M_CALLS)
		return ts_buf_puts(b, "calls");
	if (m->kind == TS_M_READS)
		return ts_buf_puts(b, "reads");
	if ((rc = ts_buf_puts(b, "err:")))
		return rc;
	return add_str(b, ts_registry_value_str(rs->base.reg, m->code));
}

int rs_mark_key(redis_store *rs, uint32_t pid, int64_t mtime, ts_buf *b)
{
	int64_t y;
	unsigned mo, d;
	ts_civil_from_days(ts_floordiv(mtime, 86400), &y, &mo, &d);
	int rc = pid == UINT32_MAX ? ts_buf_puts(b, "ts:") : rs_part_prefix(rs, pid, b);
	if (!rc)
		rc = ts_buf_printf(b, "files:%04lld%02u%02u", (long long)y, mo, d);
	return rc;
}

int64_t rs_mark_day(const fmark *m) { return ts_floordiv(m->mtime, 86400); }

int rs_fmark_cmp(const void *a, const void *b)
{
	int64_t x = rs_mark_day(a), y = rs_mark_day(b);
	return x < y ? -1 : x > y;
}

int rs_mark_value(const fmark *m, ts_buf *b)
{
	return ts_buf_printf(b, "%llu:%lld", (unsigned long long)m->size, (long long)m->mtime);
}

/* A 63-bit hash of (partition, file name, mark value). */
uint64_t rs_mark_hash(uint32_t pid, const char *name, size_t nlen, const char *val, size_t vlen)
{
	uint64_t h = ts_hash(name, nlen, pid);
	return ts_hash(val, vlen, h) >> 1;
}

/* --- the caches --------------------------------------------------------- */

int rs_ensure_metric(redis_store *rs, uint32_t id)
{
	if (id < rs->nmetrics)
		return 0;
	/* a quarter more, not double: every entry is written (not zero), so
	 * the whole array is resident */
	uint64_t want = (uint64_t)rs->nmetrics + rs->nmetrics / 4 + 64;
	if (want <= id)
		want = (uint64_t)id + id / 4 + 64;
	uint32_t n = want > UINT32_MAX ? UINT32_MAX : (uint32_t)want;
	rs_metric *m = realloc(rs->met, n * sizeof *m);
	if (!m)
		return TS_ENOMEM;
	rs->met = m;
	for (uint32_t i = rs->nmetrics; i < n; i++)
		m[i] = (rs_metric){.newest_day = RS_NO_TIME, .newest_hour = RS_NO_TIME};
	rs->nmetrics = n;
	return 0;
}

/* 1 if the day of a metric is cached. */
int rs_cache_has(const redis_store *rs, uint32_t metric, int64_t day)
{
	return metric < rs->nmetrics && rs->met[metric].cache &&
	       ts_dc_has(rs->met[metric].cache, day);
}

/* Cache the day of a metric, with no counts if it was not cached. 0
 * (cached), 1 (older than the window: not kept) or TS_ENOMEM. */
static int cache_hold(redis_store *rs, uint32_t metric, int64_t day)
{
	if (rs_ensure_metric(rs, metric))
		return TS_ENOMEM;
	rs_metric *m = &rs->met[metric];
	if (!m->cache) {
		if (!(m->cache = calloc(1, sizeof *m->cache)))
			return TS_ENOMEM;
		rs->cache_bytes += sizeof *m->cache;
	}
	int64_t bytes = 0;
	int rc = ts_dc_hold(m->cache, (uint32_t)rs->base.retention_days + 1, day, &bytes);
	rs->cache_bytes = (size_t)((int64_t)rs->cache_bytes + bytes);
	return rc;
}

static void cache_drop(redis_store *rs, rs_metric *m)
{
	rs->cache_bytes -= ts_dc_memory(m->cache) + sizeof *m->cache;
	ts_dc_free(m->cache);
	free(m->cache);
	m->cache = NULL;
}

/* Add count to minute of a cached day. 0 or TS_ENOMEM. */
int rs_cache_add(redis_store *rs, uint32_t metric, int64_t minute, uint32_t count)
{
	rs->met[metric].wgen = rs->live_gen;
	int64_t bytes = 0;
	int rc = ts_dc_add(rs->met[metric].cache, minute, count, &bytes);
	rs->cache_bytes = (size_t)((int64_t)rs->cache_bytes + bytes);
	return rc;
}

/* Add a day's counts[1440] to the cached day. 0 or TS_ENOMEM. */
static int cache_add_day(redis_store *rs, uint32_t metric, int64_t day, const uint32_t *counts)
{
	int rc = 0;
	for (int m = 0; m < TS_MIN_PER_DAY && !rc; m++)
		if (counts[m])
			rc = rs_cache_add(rs, metric, day * TS_MIN_PER_DAY + m, counts[m]);
	return rc;
}

void rs_caches_free(redis_store *rs)
{
	for (uint32_t i = 0; i < rs->nmetrics; i++)
		if (rs->met[i].cache)
			cache_drop(rs, &rs->met[i]);
	free(rs->met);
	rs->met = NULL;
	rs->nmetrics = 0;
	free(rs->unknown);
	rs->unknown = NULL;
	rs->nunknown = rs->unknown_alloc = 0;
}

void rs_cache_evict(redis_store *rs, int all)
{
	for (uint32_t i = 0; i < rs->nmetrics; i++) {
		rs_metric *m = &rs->met[i];
		if (m->cache && (all || m->wgen != rs->live_gen))
			cache_drop(rs, m);
	}
}

/* Before the first write of (metric, day) for the metrics listed (all of
 * one day; UINT32_MAX entries skipped): start each count day not cached
 * yet empty, as "unknown": what Redis holds of it is added later, in one
 * pipeline, before the next flush sends anything or a read needs it
 * (resolve_sel). No round trip here, so counting never waits for Redis
 * (busy with a background flush, or away). */
int rs_fetch_first(redis_store *rs, int64_t day, const uint32_t *metric, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t m = metric[i];
		if (m == UINT32_MAX || rs_cache_has(rs, m, day))
			continue;
		int rc = cache_hold(rs, m, day);
		if (rc < 0)
			return rc;
		if (rc)
			continue; /* older than the window: not kept */
		if (rs->nunknown == rs->unknown_alloc) {
			size_t na = rs->unknown_alloc ? rs->unknown_alloc * 2 : 64;
			rkey *u = realloc(rs->unknown, na * sizeof *u);
			if (!u)
				return TS_ENOMEM;
			rs->unknown = u;
			rs->unknown_alloc = na;
		}
		rs->unknown[rs->nunknown++] = (rkey){.day = day, .metric = m};
	}
	return 0;
}

/* --- reads -------------------------------------------------------------- */

/* HGETALL keys[n], pipelined. 0 and replies[n] (caller frees each), or an
 * error. */
static int fetch_keys(redis_store *rs, const rkey *keys, size_t n, redisReply ***out)
{
	rs_args b = {0};
	for (size_t i = 0; i < n && !b.err; i++) {
		size_t off;
		rs_args_cmd(&b);
		rs_args_str(&b, keys[i].attr == RS_MINUTES ? "GET" : "HGETALL");
		rs_args_begin(&b, &off);
		if (!b.err)
			b.err = rs_key_name(rs, &keys[i], &b.arena);
		rs_args_end(&b, off);
	}
	int rc = rs_args_run(rs, &b);
	if (!rc) {
		*out = b.r; /* the caller frees the replies */
		b.r = NULL;
	}
	rs_args_free(&b);
	return rc;
}

static void free_replies(redisReply **r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		freeReplyObject(r[i]);
	free(r);
}

/* Parse a decimal count; 0 on success. */
static int parse_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t x = 0;
	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

/* A count day from an HGETALL reply: a new uint32_t[1440], or NULL. */
static uint32_t *parse_count_day(const redisReply *r)
{
	uint32_t *day = calloc(TS_MIN_PER_DAY, sizeof *day);
	if (!day)
		return NULL;
	for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e + 1 < r->elements; e += 2) {
		redisReply *f = r->element[e], *v = r->element[e + 1];
		uint64_t mod, cnt;
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
		    parse_u64(f->str, f->len, &mod) || mod >= TS_MIN_PER_DAY ||
		    parse_u64(v->str, v->len, &cnt))
			continue; /* not ours: skip */
		day[mod] = cnt > UINT32_MAX ? UINT32_MAX : (uint32_t)cnt;
	}
	return day;
}

/* An attribution field "SLOT:kind:VALUE" (SLOT: digits digits below lim,
 * the hour or the minute of the day) and its count value. 0 and the
 * parts (val borrowed from f), or -1 for a field that is not ours. */
static int parse_attr_field(const redisReply *f, const redisReply *v, size_t digits,
			    uint64_t lim, uint64_t *slot, int *kind, ts_str *val, uint64_t *cnt)
{
	if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
	    f->len < digits + 2 || f->str[digits] != ':' || parse_u64(f->str, digits, slot) ||
	    *slot >= lim || parse_u64(v->str, v->len, cnt))
		return -1;
	const char *k = f->str + digits + 1, *colon = memchr(k, ':', f->len - digits - 1);
	if (!colon)
		return -1;
	*kind = -1;
	for (int j = 0; j < TS_A_KINDS; j++)
		if ((size_t)(colon - k) == strlen(rs_attr_kind_name((unsigned)j)) &&
		    memcmp(k, rs_attr_kind_name((unsigned)j), (size_t)(colon - k)) == 0)
			*kind = j;
	*val = (ts_str){colon + 1, f->len - (size_t)(colon + 1 - f->str)};
	return *kind < 0 ? -1 : 0;
}

/* An attribution day from an HGETALL reply into t (keys
 * ts_attr_key(hour of day, kind, value)). 0, TS_ENOMEM or TS_ECAP. */
static int parse_attr_day(redis_store *rs, const redisReply *r, ts_tally *t)
{
	for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e + 1 < r->elements; e += 2) {
		redisReply *f = r->element[e], *v = r->element[e + 1];
		uint64_t hh, cnt;
		int kind;
		ts_str val;
		if (parse_attr_field(f, v, 2, 24, &hh, &kind, &val, &cnt))
			continue;
		uint32_t vid;
		int rc = ts_registry_value(rs->base.reg, val, &vid);
		if (!rc)
			rc = ts_tally_add(t, ts_attr_key((uint32_t)hh, (unsigned)kind, vid), cnt);
		if (rc)
			return rc;
	}
	return 0;
}

/* 1 if unknown day u is one resolve_sel was asked for. */
static int selected(const rkey *u, uint32_t metric, int64_t d0, int64_t d1)
{
	return (metric == UINT32_MAX || u->metric == metric) && u->day >= d0 && u->day <= d1;
}

/* Add what Redis holds to the unknown cached count days (rs_fetch_first)
 * of metric (UINT32_MAX: all) from day d0 to d1, in pipelines of up to
 * 1000 keys. Runs before a flush sends anything and before a read of those
 * days, so Redis holds none of our increments of them yet. 0 or an error
 * (the days stay unknown). */
static int resolve_sel(redis_store *rs, uint32_t metric, int64_t d0, int64_t d1)
{
	enum { SLICE = 1000 };
	rkey sel[SLICE];
	int rc = 0;
	for (;;) {
		size_t k = 0;
		for (size_t i = 0; i < rs->nunknown && k < SLICE; i++)
			if (selected(&rs->unknown[i], metric, d0, d1))
				sel[k++] = rs->unknown[i];
		if (!k)
			break;
		redisReply **r;
		if ((rc = fetch_keys(rs, sel, k, &r)))
			break;
		for (size_t i = 0; i < k && !rc; i++) {
			uint32_t *base = parse_count_day(r[i]);
			if (!base)
				rc = TS_ENOMEM;
			else if (rs_cache_has(rs, sel[i].metric, sel[i].day))
				rc = cache_add_day(rs, sel[i].metric, sel[i].day, base);
			free(base);
		}
		free_replies(r, k);
		if (rc)
			break;
		/* drop the resolved entries: the first k selected ones */
		size_t w = 0, j = 0;
		for (size_t i = 0; i < rs->nunknown; i++) {
			if (j < k && selected(&rs->unknown[i], metric, d0, d1)) {
				j++;
				continue;
			}
			rs->unknown[w++] = rs->unknown[i];
		}
		rs->nunknown = w;
	}
	return rc;
}

int rs_resolve_unknown(redis_store *rs)
{
	return resolve_sel(rs, UINT32_MAX, INT64_MIN, INT64_MAX);
}

/* Copy the minutes of day d (counts[1440]) that fall in [from, from + n). */
static void copy_day(const uint32_t *counts, int64_t d, int64_t from, size_t n, uint32_t *out)
{
	int64_t base = d * TS_MIN_PER_DAY, end = from + (int64_t)n;
	int64_t a = from > base ? from : base;
	int64_t b = end < base + TS_MIN_PER_DAY ? end : base + TS_MIN_PER_DAY;
	if (a < b)
		memcpy(out + (a - from), counts + (a - base), (size_t)(b - a) * sizeof *out);
}

int rs_read_counts(ts_store *st, uint32_t metric, int64_t from, size_t n, uint32_t *out)
{
	redis_store *rs = (redis_store *)st;
	memset(out, 0, n * sizeof *out);
	if (!n)
		return 0;
	int64_t d0 = ts_day_of(from), d1 = ts_day_of(from + (int64_t)n - 1);
	if (metric < rs->nmetrics && rs->met[metric].newest_day != RS_NO_TIME &&
	    d0 < rs->met[metric].newest_day - st->retention_days)
		d0 = rs->met[metric].newest_day - st->retention_days;
	if (d0 > d1)
		return 0;
	int rc = resolve_sel(rs, metric, d0, d1);
	if (rc)
		return rc;
	/* cached days are copied now; the others (whole in Redis) are read
	 * from Redis in one pipeline and copied, not kept */
	size_t nd = (size_t)(d1 - d0 + 1), k = 0;
	rkey *keys = malloc(nd * sizeof *keys);
	redisReply **r = NULL;
	if (!keys)
		return TS_ENOMEM;
	for (int64_t d = d0; d <= d1; d++) {
		if (rs_cache_has(rs, metric, d)) {
			int64_t a = d * TS_MIN_PER_DAY > from ? d * TS_MIN_PER_DAY : from;
			int64_t b = (d + 1) * TS_MIN_PER_DAY < from + (int64_t)n ? (d + 1) * TS_MIN_PER_DAY
										 : from + (int64_t)n;
			ts_dc_read(rs->met[metric].cache, a, (size_t)(b - a), out + (a - from));
		} else {
			keys[k++] = (rkey){.day = d, .metric = metric, .attr = 0};
		}
	}
	if (!k || (rc = fetch_keys(rs, keys, k, &r)))
		goto out_free;
	for (size_t i = 0; i < k; i++) {
		uint32_t *day = parse_count_day(r[i]);
		if (!day) {
			rc = TS_ENOMEM;
			break;
		}
		copy_day(day, keys[i].day, from, n, out);
		free(day);
	}
	free_replies(r, k);
out_free:
	free(keys);
	return rc;
}

/* Add the hours [h0, h1) of attribution day d (tally t) into acc. */
static int sum_attr_day(const ts_tally *t, int64_t d, int64_t h0, int64_t h1, ts_tally *acc)
{
	uint64_t key, cnt;
	for (uint32_t i = 0; ts_tally_next(t, &i, &key, &cnt);) {
		int64_t h = d * 24 + ts_attr_key_metric(key);
		if (h < h0 || h >= h1 || !cnt)
			continue;
		if (ts_tally_add(acc, ts_attr_key(0, ts_attr_key_kind(key), ts_attr_key_value(key)),
				 cnt))
			return TS_ENOMEM;
	}
	return 0;
}

/* Add the live buffer's attribution cells of metric in hours [h0, h1)
 * into acc. */
static int sum_live_attrs(const redis_store *rs, uint32_t metric, int64_t h0, int64_t h1,
			  ts_tally *acc)
{
	for (size_t i = 0; i < rs->live.slots; i++) {
		const cell *c = &rs->live.c[i];
		if (!c->key1)
			continue;
		const rkey *k = &rs->keys[c->key1 - 1];
		int64_t h = k->day * 24 + (int64_t)(c->field >> 40);
		if (k->attr != 1 || k->metric != metric || h < h0 || h >= h1 || !c->sum)
			continue;
		uint64_t key = ts_attr_key(0, (unsigned)(c->field >> 32) & 0xff, (uint32_t)c->field);
		if (ts_tally_add(acc, key, c->sum))
			return TS_ENOMEM;
	}
	return 0;
}

/* Attribution days are not cached (they are read only for an insight's
 * windows): once the frozen chunks are applied, Redis holds every
 * increment but the live buffer's, which is added from memory. */
int rs_read_attrs(ts_store *st, uint32_t metric, int64_t from, int64_t to, ts_attr_cb cb,
		  void *ctx)
{
	redis_store *rs = (redis_store *)st;
	int64_t h0 = ts_floordiv(from, 60), h1 = ts_floordiv(to, 60);
	if (metric < rs->nmetrics && rs->met[metric].newest_hour != RS_NO_TIME) {
		int64_t lo = rs->met[metric].newest_hour - ((int64_t)st->retention_days + 1) * 24 + 1;
		if (h0 < lo)
			h0 = lo;
	}
	if (h0 >= h1)
		return 0;
	int rc = rs_bg_join(rs);
	if (!rc)
		rc = rs_send_pending(rs);
	if (rc)
		return rc;
	int64_t d0 = ts_floordiv(h0, 24), d1 = ts_floordiv(h1 - 1, 24);
	size_t nd = (size_t)(d1 - d0 + 1);
	rkey *keys = calloc(nd, sizeof *keys);
	ts_tally acc = {0};
	redisReply **r = NULL;
	if (!keys)
		return TS_ENOMEM;
	for (size_t i = 0; i < nd; i++)
		keys[i] = (rkey){.day = d0 + (int64_t)i, .metric = metric, .attr = 1};
	if ((rc = fetch_keys(rs, keys, nd, &r)))
		goto out_free;
	for (size_t i = 0; i < nd && !rc; i++) {
		ts_tally t = {0};
		rc = parse_attr_day(rs, r[i], &t);
		if (!rc)
			rc = sum_attr_day(&t, keys[i].day, h0, h1, &acc);
		ts_tally_free(&t);
	}
	free_replies(r, nd);
	if (!rc)
		rc = sum_live_attrs(rs, metric, h0, h1, &acc);
	uint64_t key, cnt;
	for (uint32_t i = 0; !rc && ts_tally_next(&acc, &i, &key, &cnt);)
		rc = cb(ctx, (int)ts_attr_key_kind(key), ts_attr_key_value(key), cnt);
out_free:
	ts_tally_free(&acc);
	free(keys);
	return rc;
}

/* A minute-attribution day (day d) from a GET reply (minattr.h): each
 * entry of a minute in [from, to) into out (minute, kind, value, count). A
 * damaged segment is skipped with a warning naming the key; the entries
 * before it count. 0, TS_ENOMEM or TS_ECAP. */
typedef struct mattr {
	int64_t minute;
	uint32_t value;
	int kind;
	uint64_t count;
} mattr;

typedef struct mattr_acc {
	int64_t day, from, to;
	mattr **out;
	size_t *n, *alloc;
} mattr_acc;

static int on_mattr(void *ctx, const ts_minattr *a)
{
	mattr_acc *acc = ctx;
	int64_t t = acc->day * TS_MIN_PER_DAY + (int64_t)a->mod;
	if (t < acc->from || t >= acc->to || !a->count)
		return 0;
	if (ts_grow(acc->out, acc->alloc, *acc->n + 1, sizeof **acc->out, 64))
		return TS_ENOMEM;
	(*acc->out)[(*acc->n)++] = (mattr){t, a->value, (int)a->kind, a->count};
	return 0;
}

static int parse_mattr_day(redis_store *rs, const redisReply *r, const rkey *k, int64_t from,
			   int64_t to, mattr **out, size_t *n, size_t *alloc)
{
	if (r->type != REDIS_REPLY_STRING)
		return 0; /* none (or not ours) */
	mattr_acc acc = {k->day, from, to, out, n, alloc};
	size_t bad = 0;
	int rc = ts_minattr_parse(r->str, r->len, rs->base.reg, on_mattr, &acc, &bad);
	if (rc == TS_EINVAL) {
		ts_buf kb = {0};
		if (!rs_key_name(rs, k, &kb))
			ts_warn("redis: %s: damaged minute attributions at byte %zu of %zu, "
				"the rest of the key skipped",
				kb.p, bad, r->len);
		ts_buf_free(&kb);
		rc = 0;
	}
	return rc;
}

static int mattr_cmp(const void *a, const void *b)
{
	const mattr *x = a, *y = b;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->value > y->value) - (x->value < y->value);
}

/* Minutes are kept like hours (Redis holds every increment once the
 * frozen chunks are applied; the live buffer's cells are added from
 * memory); a (minute, kind, value) found in both is summed. */
int rs_read_attr_minutes(ts_store *st, uint32_t metric, int64_t from, int64_t to,
			 ts_attr_minute_cb cb, void *ctx)
{
	redis_store *rs = (redis_store *)st;
	if (from >= to)
		return 0;
	int rc = rs_bg_join(rs);
	if (!rc)
		rc = rs_send_pending(rs);
	if (rc)
		return rc;
	int64_t d0 = ts_floordiv(from, TS_MIN_PER_DAY), d1 = ts_floordiv(to - 1, TS_MIN_PER_DAY);
	size_t nd = (size_t)(d1 - d0 + 1);
	rkey *keys = calloc(nd, sizeof *keys);
	mattr *v = NULL;
	size_t n = 0, alloc = 0;
	redisReply **r = NULL;
	if (!keys)
		return TS_ENOMEM;
	for (size_t i = 0; i < nd; i++)
		keys[i] = (rkey){.day = d0 + (int64_t)i, .metric = metric, .attr = RS_MINUTES};
	if ((rc = fetch_keys(rs, keys, nd, &r)))
		goto out_free;
	for (size_t i = 0; i < nd && !rc; i++)
		rc = parse_mattr_day(rs, r[i], &keys[i], from, to, &v, &n, &alloc);
	free_replies(r, nd);
	for (size_t i = 0; i < rs->live.slots && !rc; i++) {
		const cell *c = &rs->live.c[i];
		if (!c->key1)
			continue;
		const rkey *k = &rs->keys[c->key1 - 1];
		int64_t t = k->day * TS_MIN_PER_DAY + (int64_t)(c->field >> 40);
		if (k->attr != RS_MINUTES || k->metric != metric || t < from || t >= to || !c->sum)
			continue;
		if (ts_grow(&v, &alloc, n + 1, sizeof *v, 64)) {
			rc = TS_ENOMEM;
			break;
		}
		v[n++] = (mattr){t, (uint32_t)c->field, (int)(c->field >> 32) & 0xff, c->sum};
	}
	if (!rc && n)
		qsort(v, n, sizeof *v, mattr_cmp);
	for (size_t i = 0; i < n && !rc;) {
		size_t j = i + 1;
		uint64_t sum = v[i].count;
		for (; j < n && !mattr_cmp(&v[i], &v[j]); j++)
			sum += v[j].count;
		rc = cb(ctx, v[i].minute, v[i].kind, v[i].value, sum);
		i = j;
	}
out_free:
	free(v);
	free(keys);
	return rc;
}
