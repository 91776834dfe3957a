/* store_redis.c - the Redis backend of the store.
 *
 * Key scheme (read series with redis-cli: HGETALL <key>):
 *   ts:schema = "1"                     set at open; another value refuses to open
 *   ts:{ACCT:REGION}:c:YYYYMMDD:CAT:SOURCE:NAME:METRIC
 *       hash, field minute-of-day "0".."1439" -> count
 *   ts:{ACCT:REGION}:a:YYYYMMDD:CAT:SOURCE:NAME:METRIC
 *       hash, field "HH:K:VALUE" -> count (HH two-digit hour of that day, K one
 *       of arn/agent/code, VALUE the attribution string)
 *   ts:{ACCT:REGION}:flushseq = last flush sequence applied to the partition
 *   ts:{ACCT:REGION}:state = the partition's saved engine state
 *   ts:{ACCT:REGION}:files:YYYYMMDD  hash, file name -> "SIZE:MTIME" (files
 *       done for the partition, by the day of their mtime)
 *   ts:files:YYYYMMDD  the same for files done for every partition (an index)
 *   ts:partitions  set of "ACCT:REGION" with a saved state (an index)
 * CAT is "m" (management events) or "d" (data events); METRIC is "calls",
 * "reads" or "err:" + errorCode. {ACCT:REGION} is the partition's hash tag,
 * so a partition lives in one Redis Cluster slot. Every key expires
 * retention_days after its last write (EXPIRE relative to now).
 *
 * Writes are buffered: a hash table of cells (key, field) -> increment,
 * where keys are (counts|attrs, metric, day) in a second table, plus per
 * partition the state and file marks put_state gave. Only flush writes
 * (the engine flushes at its checkpoints; free discards what was not
 * flushed). flush freezes the buffer into chunks, one flush-script call
 * each (one partition, at most MAX_CHUNK_KEYS keys / MAX_CHUNK_FIELDS
 * fields, its own sequence number, the first carrying the state and
 * marks); one partition's chunks of one flush go in one MULTI/EXEC, so its
 * counts, state and marks land together or not at all. A chunk leaves
 * memory once Redis acknowledged it; a retried chunk carries the same
 * sequence number, so the script applies it exactly once. The index keys
 * are written after the partitions' batches.
 *
 * Flush script (ts_store_redis_script): KEYS = flushseq, state, mark keys,
 * data keys; ARGV = seq, ttl, state blob or '', number of mark keys, then
 * per key: nfields and field/value pairs (marks: set; data: added to). If
 * flushseq >= seq it returns 0 (already applied); if flushseq is missing
 * and seq > 1 it returns -1 (the history is lost: see below); else it applies
 * everything (HMGET + HSET in slices of 3000 fields, Lua's unpack limit;
 * EXPIRE ttl), sets the state and flushseq, and returns 1. Sequence numbers
 * start at GET flushseq + 1 per partition. A chunk that never reached Redis
 * and is answered 0 met another writer: it renumbers and goes again (one
 * writer per partition is the design; this only keeps a second one from
 * losing counts).
 *
 * Reads never flush, and writes never wait: every day this process writes
 * is kept in a cache that takes every increment (see "The caches" below).
 * A day starts there empty at its first write, marked unknown; what Redis
 * holds of it is added, one pipeline for all, before the next flush sends
 * anything, or before a read of that day.
 *
 * A backfill's mid-run checkpoints use flush_begin: a thread sends the
 * frozen groups on its own connection while counting goes on (see "the
 * background flush").
 *
 * History loss: a store this process has written to must keep ts:schema
 * and each partition's flushseq. A reconnect that finds ts:schema gone, or
 * a batch the script answers -1, means Redis lost the history (restarted
 * without persistence, flushed, evicted): every later read would judge
 * against an empty baseline, so the store fails (TS_ESTORE, the message
 * naming the server) rather than go on. The next run opens the now empty
 * store as a new one (a note says so): series warm up again.
 *
 * Errors Redis answers that no retry mends (OOM, READONLY, NOPERM, ...)
 * fail at once, with a hint from ts_redis_hint(). At open, a preflight
 * runs each command the store uses once on ts:probe:* keys (short TTL), so
 * a missing permission or a read-only replica fails before any write.
 *
 * Retention: besides the TTL, like the memory backend the store ignores
 * (on write and read) days more than retention_days before the newest day
 * it has written for a metric in this process.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include "daycache.h"
#include "store.h"
#include "tally.h"

#define MAX_CHUNK_KEYS 2000
#define MAX_CHUNK_FIELDS 200000
#define NO_TIME INT64_MIN

/* The flush script. KEYS[1] is the partition's flushseq key, KEYS[2] its
 * state key, then nmark file-mark keys, then data keys. ARGV: seq, ttl,
 * state blob ('' for none), nmark, then per mark key: nfields, field,
 * value, ..., then per data key: nfields, field, incr, ... Mark fields are
 * set; data fields are added to. Fields go to HMGET/HSET in slices of 3000
 * (Lua's unpack limit). A sequence number above 1 with no flushseq key
 * means the partition's earlier batches are gone from Redis (a restart
 * without persistence, a flush, an eviction): it returns -1 and writes
 * nothing. The "#!lua" line (Redis 7) makes Redis check maxmemory before
 * the script starts, and before EXEC runs any of a group: under OOM a
 * batch is refused whole, never half applied. */
static const char flush_script[] =
	"#!lua\n"
	"local seq = tonumber(ARGV[1])\n"
	"local raw = redis.call('GET', KEYS[1])\n"
	"if not raw and seq > 1 then return -1 end\n"
	"local cur = tonumber(raw or '0') or 0\n"
	"if cur >= seq then return 0 end\n"
	"local ttl = tonumber(ARGV[2])\n"
	"local nmark = tonumber(ARGV[4])\n"
	"local a = 5\n"
	"for k = 3, #KEYS do\n"
	"  local key = KEYS[k]\n"
	"  local n = tonumber(ARGV[a])\n"
	"  a = a + 1\n"
	"  local i = 0\n"
	"  while i < n do\n"
	"    local m = math.min(n - i, 3000)\n"
	"    local kv = {}\n"
	"    if k < 3 + nmark then\n"
	"      for j = 1, 2 * m do kv[j] = ARGV[a + 2 * i + j - 1] end\n"
	"    else\n"
	"      local f = {}\n"
	"      for j = 1, m do f[j] = ARGV[a + 2 * (i + j - 1)] end\n"
	"      local old = redis.call('HMGET', key, unpack(f))\n"
	"      for j = 1, m do\n"
	"        kv[2 * j - 1] = f[j]\n"
	"        kv[2 * j] = tostring((tonumber(old[j]) or 0) +\n"
	"                             tonumber(ARGV[a + 2 * (i + j - 1) + 1]))\n"
	"      end\n"
	"    end\n"
	"    redis.call('HSET', key, unpack(kv))\n"
	"    i = i + m\n"
	"  end\n"
	"  redis.call('EXPIRE', key, ttl)\n"
	"  a = a + 2 * n\n"
	"end\n"
	"if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl) end\n"
	"redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)\n"
	"return 1\n";

const char *ts_store_redis_script(void) { return flush_script; }

/* --- a hash table of cells: (key, field) -> sum ------------------------- */

typedef struct cell {
	uint64_t field;
	uint64_t sum;
	uint32_t key;
	uint32_t used;
} cell;

typedef struct ctab {
	cell *c;
	size_t n, slots; /* slots: 0 or a power of two; n <= slots / 2 */
} ctab;

static size_t cell_hash(uint32_t key, uint64_t field)
{
	uint64_t h = (field ^ ((uint64_t)key << 32 | key)) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h ^ (h >> 29));
}

static int ctab_add(ctab *t, uint32_t key, uint64_t field, uint64_t inc)
{
	if ((t->n + 1) * 2 > t->slots) {
		size_t ns = t->slots ? t->slots * 2 : 1024;
		cell *nc = calloc(ns, sizeof *nc);
		if (!nc)
			return TS_ENOMEM;
		for (size_t i = 0; i < t->slots; i++) {
			if (!t->c[i].used)
				continue;
			size_t j = cell_hash(t->c[i].key, t->c[i].field) & (ns - 1);
			while (nc[j].used)
				j = (j + 1) & (ns - 1);
			nc[j] = t->c[i];
		}
		free(t->c);
		t->c = nc;
		t->slots = ns;
	}
	size_t j = cell_hash(key, field) & (t->slots - 1);
	while (t->c[j].used && (t->c[j].key != key || t->c[j].field != field))
		j = (j + 1) & (t->slots - 1);
	if (!t->c[j].used) {
		t->c[j] = (cell){.field = field, .key = key, .used = 1};
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

/* --- buffered keys: (attr, metric, day) -------------------------------- */

typedef struct rkey {
	int64_t day;
	uint32_t metric;
	uint32_t partition;
	uint8_t attr; /* 0 counts, 1 attributions */
} rkey;

/* One frozen EVALSHA: argv points into arena. */
typedef struct chunk {
	uint32_t partition;
	uint64_t seq;
	int argc;
	const char **argv;
	size_t *argvlen;
	char *arena;
	size_t ncells, bytes;
	int seq_arg;  /* index in argv of the sequence number */
	int sent;     /* it may have reached Redis: a 0 reply means applied */
	char *seqbuf; /* owned text of the sequence number */
	size_t sha_off; /* where the script's sha is in arena */
	int acked;      /* applied, as the background flush saw */
	uint64_t gen; /* the freeze that made it: one partition's chunks of one
			 freeze are sent in one MULTI/EXEC */
} chunk;

/* A file mark: a checkpoint's file id with its own copy of the name. */
typedef struct fmark {
	char *name;
	uint64_t size;
	int64_t mtime;
} fmark;

typedef struct fmarks {
	fmark *m;
	size_t n, alloc;
} fmarks;

/* A partition's state and file marks waiting for the next flush. */
typedef struct pstate {
	ts_buf blob;
	int has;
	fmarks marks;
} pstate;

/* Attribution counts of one metric and day written or read by this
 * process: key ts_attr_key(hour of day, kind, value) -> count. */
typedef struct attr_day {
	int64_t day;
	ts_tally t;
} attr_day;

typedef struct attr_cache {
	attr_day *d;
	uint32_t n, alloc;
} attr_cache;

typedef struct redis_store {
	ts_store base;
	ts_redis_spec sp;
	char where[300]; /* "redis://host:port", for messages (no credentials) */
	redisContext *c; /* NULL while disconnected */
	char sha[41];
	int sha_known; /* connected before */
	int first_ms, max_ms, total_ms, cmd_ms;
	size_t flush_cells, max_cells;

	rkey *keys;
	uint32_t nkeys, keys_alloc;
	uint32_t *kslot; /* indices into keys, UINT32_MAX empty */
	size_t kslots;
	ctab live;

	chunk *pend;
	size_t npend, pend_alloc, pend_first, pend_cells, pend_bytes;

	uint64_t *next_seq; /* per partition; valid where seq_known */
	uint8_t *seq_known;
	pstate *ps;         /* per partition: state to write at the next flush */
	uint32_t nparts;
	uint64_t gen;       /* freezes so far */
	fmarks index;       /* files for the index, written after a flush */
	uint8_t *listed;    /* per partition: in ts:partitions (this process knows) */

	int64_t *newest_day, *newest_hour; /* per metric; NO_TIME unknown */
	ts_daycache *cache;                /* per metric: count days (below) */
	attr_cache *acache;                /* per metric: attribution days */
	uint32_t nmetrics;
	size_t cache_bytes;
	rkey *unknown;   /* cached days whose Redis part could not be fetched */
	size_t nunknown, unknown_alloc;
	struct bg_flush *bg;  /* the background flush, if one was started */
	ts_tally marks_read;  /* (partition, mtime day) whose mark hash was read */
	ts_tally marks_seen;  /* mark_hash() of each mark read or written */
} redis_store;

/* The caches: every count day and attribution day this process wrote
 * (or read), per metric, for retention_days + 1 days: what Redis held when
 * the day was first touched plus every increment this store made since
 * (one writer per partition). A day enters at its first write, unknown
 * until Redis's part is added (before any increment of it is sent, so
 * Redis's part has none of ours), so a read never needs a flush (which
 * would break a checkpoint's atomicity) and never misses a buffered
 * increment: days in the cache are served from it (unknown ones resolved
 * first), days not in it were never written by this process and Redis
 * has all of them. Count days are held sparsely (ts_daycache: bytes per
 * non-zero minute, dense days only for busy series). */

static size_t key_hash(uint8_t attr, uint32_t metric, int64_t day)
{
	uint64_t h = ((uint64_t)metric << 1 | attr) * 0x9E3779B97F4A7C15ull;
	h ^= (uint64_t)day * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(h ^ (h >> 31));
}

static int key_get(redis_store *rs, uint8_t attr, uint32_t metric, uint32_t partition, int64_t day,
		   uint32_t *out)
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
	size_t j = key_hash(attr, metric, day) & (rs->kslots - 1);
	while (rs->kslot[j] != UINT32_MAX) {
		rkey *k = &rs->keys[rs->kslot[j]];
		if (k->attr == attr && k->metric == metric && k->day == day) {
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
	rs->keys[rs->nkeys] = (rkey){.day = day, .metric = metric, .partition = partition, .attr = attr};
	rs->kslot[j] = rs->nkeys;
	*out = rs->nkeys++;
	return 0;
}

static void live_clear(redis_store *rs)
{
	ctab_free(&rs->live);
	free(rs->keys);
	free(rs->kslot);
	rs->keys = NULL;
	rs->kslot = NULL;
	rs->nkeys = rs->keys_alloc = 0;
	rs->kslots = 0;
}

static int ensure_metric(redis_store *rs, uint32_t id)
{
	if (id < rs->nmetrics)
		return 0;
	uint32_t n = rs->nmetrics ? rs->nmetrics : 64;
	while (n <= id)
		n *= 2;
	int64_t *d = realloc(rs->newest_day, n * sizeof *d);
	if (!d)
		return TS_ENOMEM;
	rs->newest_day = d;
	int64_t *h = realloc(rs->newest_hour, n * sizeof *h);
	if (!h)
		return TS_ENOMEM;
	rs->newest_hour = h;
	ts_daycache *c = realloc(rs->cache, n * sizeof *c);
	if (!c)
		return TS_ENOMEM;
	rs->cache = c;
	attr_cache *ac = realloc(rs->acache, n * sizeof *ac);
	if (!ac)
		return TS_ENOMEM;
	rs->acache = ac;
	for (uint32_t i = rs->nmetrics; i < n; i++) {
		d[i] = h[i] = NO_TIME;
		memset(&c[i], 0, sizeof c[i]);
		memset(&ac[i], 0, sizeof ac[i]);
	}
	rs->nmetrics = n;
	return 0;
}

/* 1 if the day of a metric is cached. */
static int cache_has(const redis_store *rs, uint32_t metric, int64_t day)
{
	return metric < rs->nmetrics && ts_dc_has(&rs->cache[metric], day);
}

/* Cache the day of a metric, with no counts if it was not cached. 0
 * (cached), 1 (older than the window: not kept) or TS_ENOMEM. */
static int cache_hold(redis_store *rs, uint32_t metric, int64_t day)
{
	if (ensure_metric(rs, metric))
		return TS_ENOMEM;
	int64_t bytes = 0;
	int rc = ts_dc_hold(&rs->cache[metric], (uint32_t)rs->base.retention_days + 1, day, &bytes);
	rs->cache_bytes = (size_t)((int64_t)rs->cache_bytes + bytes);
	return rc;
}

/* Add count to minute of a cached day. 0 or TS_ENOMEM. */
static int cache_add(redis_store *rs, uint32_t metric, int64_t minute, uint32_t count)
{
	int64_t bytes = 0;
	int rc = ts_dc_add(&rs->cache[metric], minute, count, &bytes);
	rs->cache_bytes = (size_t)((int64_t)rs->cache_bytes + bytes);
	return rc;
}

/* Add a day's counts[1440] to the cached day. 0 or TS_ENOMEM. */
static int cache_add_day(redis_store *rs, uint32_t metric, int64_t day, const uint32_t *counts)
{
	int rc = 0;
	for (int m = 0; m < TS_MIN_PER_DAY && !rc; m++)
		if (counts[m])
			rc = cache_add(rs, metric, day * TS_MIN_PER_DAY + m, counts[m]);
	return rc;
}

static int ensure_partition(redis_store *rs, uint32_t id)
{
	if (id < rs->nparts)
		return 0;
	uint32_t n = rs->nparts ? rs->nparts : 16;
	while (n <= id)
		n *= 2;
	uint64_t *s = realloc(rs->next_seq, n * sizeof *s);
	if (!s)
		return TS_ENOMEM;
	rs->next_seq = s;
	uint8_t *k = realloc(rs->seq_known, n);
	if (!k)
		return TS_ENOMEM;
	rs->seq_known = k;
	pstate *ps = realloc(rs->ps, n * sizeof *ps);
	if (!ps)
		return TS_ENOMEM;
	rs->ps = ps;
	uint8_t *li = realloc(rs->listed, n);
	if (!li)
		return TS_ENOMEM;
	rs->listed = li;
	memset(li + rs->nparts, 0, n - rs->nparts);
	memset(ps + rs->nparts, 0, (n - rs->nparts) * sizeof *ps);
	memset(k + rs->nparts, 0, n - rs->nparts);
	memset(s + rs->nparts, 0, (n - rs->nparts) * sizeof *s);
	rs->nparts = n;
	return 0;
}

/* --- names -------------------------------------------------------------- */

static int add_str(ts_buf *b, ts_str s) { return ts_buf_add(b, s.p, s.n); }

/* "ts:{ACCT:REGION}:" */
static int part_prefix(redis_store *rs, uint32_t pid, ts_buf *b)
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

static int key_name(redis_store *rs, uint8_t attr, uint32_t metric, int64_t day, ts_buf *b)
{
	const ts_metric *m = ts_registry_get_metric(rs->base.reg, metric);
	if (!m)
		return TS_EINVAL;
	ts_api *api = ts_registry_get_api(rs->base.reg, m->api);
	if (!api)
		return TS_EINVAL;
	int64_t y;
	unsigned mo, d;
	ts_civil_from_days(day, &y, &mo, &d);
	int rc;
	if ((rc = part_prefix(rs, m->partition, b)) ||
	    (rc = ts_buf_printf(b, "%s:%04lld%02u%02u:%s:", attr ? "a" : "c", (long long)y, mo, d,
				api->data ? "d" : "m")) ||
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

static const char *const kind_names[TS_A_KINDS] = {"arn", "agent", "code"};

/* Append v in decimal (a flush formats millions of these). */
static int add_u64(ts_buf *b, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return ts_buf_add(b, tmp + sizeof tmp - n, (size_t)n);
}

/* Attribution cell field: hour of day << 40 | kind << 32 | value id. */
static int field_name(redis_store *rs, const rkey *k, uint64_t field, ts_buf *b)
{
	if (!k->attr)
		return add_u64(b, (uint32_t)field);
	unsigned hh = (unsigned)(field >> 40), kind = (unsigned)(field >> 32) & 0xff;
	int rc = ts_buf_printf(b, "%02u:%s:", hh, kind < TS_A_KINDS ? kind_names[kind] : "?");
	if (rc)
		return rc;
	return add_str(b, ts_registry_value_str(rs->base.reg, (uint32_t)field));
}

/* --- connection --------------------------------------------------------- */

/* Set the store's errstr (truncated to fit). */
static void set_err(redis_store *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(redis_store *rs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rs->base.errstr, sizeof rs->base.errstr, fmt, ap);
	va_end(ap);
}

/* A command on a fresh connection during setup. 0, 1 transient failure,
 * -1 permanent (errstr set either way). *out gets the reply if asked. */
static int setup_cmd(redis_store *rs, redisContext *c, const char *what, int argc,
		     const char **argv, const size_t *lens, redisReply **out)
{
	redisReply *r = redisCommandArgv(c, argc, argv, lens);
	if (!r) {
		set_err(rs, "%s: %s: %s", rs->where, what,
			 c->errstr);
		return 1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		set_err(rs, "%s: %s failed: %s%s", rs->where, what, r->str, ts_redis_hint(r->str));
		int t = ts_redis_transient(r->str);
		freeReplyObject(r);
		return t ? 1 : -1;
	}
	if (out)
		*out = r;
	else
		freeReplyObject(r);
	return 0;
}

/* Set errstr for a store whose history Redis lost (why: what showed it). */
static void history_lost(redis_store *rs, const char *why)
{
	set_err(rs, "%s lost the history this run was writing (%s: restarted without "
		"persistence, flushed or evicted?); stopping rather than judging against an "
		"empty baseline. Turn on persistence (appendonly yes) and keep "
		"maxmemory-policy noeviction; the next run starts the store anew and its "
		"series warm up again",
		rs->where, why);
}

/* Connect (ts_redis_connect) and load the script. 0, 1 transient, -1
 * permanent (errstr set). */
static int rconnect(redis_store *rs)
{
	redisContext *c;
	char err[512];
	int rc = ts_redis_connect(&rs->sp, 2000, rs->cmd_ms, &c, err, sizeof err);
	if (rc) {
		set_err(rs, "%s: %s", rs->where, err);
		return rc;
	}
	const char *av[3] = {"SCRIPT", "LOAD", flush_script};
	size_t al[3] = {6, 4, sizeof flush_script - 1};
	redisReply *r = NULL;
	if ((rc = setup_cmd(rs, c, "SCRIPT LOAD", 3, av, al, &r)))
		goto out_free;
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		set_err(rs, "%s: SCRIPT LOAD: unexpected reply", rs->where);
		freeReplyObject(r);
		rc = -1;
		goto out_free;
	}
	memcpy(rs->sha, r->str, 40);
	rs->sha[40] = '\0';
	freeReplyObject(r);
	r = NULL;
	if (rs->sha_known) {
		/* connected again: ts:schema must still be there */
		const char *gv[2] = {"GET", "ts:schema"};
		size_t gl[2] = {3, 9};
		if ((rc = setup_cmd(rs, c, "GET ts:schema", 2, gv, gl, &r)))
			goto out_free;
		int gone = r->type != REDIS_REPLY_STRING;
		freeReplyObject(r);
		if (gone) {
			history_lost(rs, "ts:schema is gone");
			rc = -1;
			goto out_free;
		}
	}
	rs->c = c;
	if (rs->sha_known) {
		rs->base.reconnects++;
		ts_warn("store %s: connected again (after: %s)", rs->where, rs->base.errstr);
	}
	rs->sha_known = 1;
	return 0;
out_free:
	redisFree(c);
	return rc;
}

static void drop_conn(redis_store *rs)
{
	if (rs->c)
		redisFree(rs->c);
	rs->c = NULL;
}

typedef struct backoff {
	int delay, spent;
} backoff;

/* Sleep before the next attempt. 0, or -1 when the budget is spent (the
 * errstr of the last failure gets the reason appended). */
static int backoff_wait(redis_store *rs, backoff *b)
{
	if (b->spent >= rs->total_ms) {
		size_t l = strlen(rs->base.errstr);
		snprintf(rs->base.errstr + l, sizeof rs->base.errstr - l,
			 " (gave up after %d ms of retries)", b->spent);
		return -1;
	}
	int d = b->delay;
	if (d > rs->total_ms - b->spent)
		d = rs->total_ms - b->spent;
	struct timespec ts = {d / 1000, (long)(d % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	b->spent += d;
	b->delay = b->delay * 2 > rs->max_ms ? rs->max_ms : b->delay * 2;
	return 0;
}

/* Run n commands pipelined, reconnecting with backoff on I/O errors and
 * transient replies (the whole batch is resent, so use it for idempotent
 * commands or the flush script). A NOSCRIPT reply reloads the script and
 * resends. 0 and replies[n] (caller frees), or TS_ESTORE with errstr.
 * *sends (if not NULL) counts the rounds that may have reached the server
 * and run there (NOSCRIPT rounds do not count). */
static int run(redis_store *rs, size_t n, const int *argc, const char *const *const *argv,
	       const size_t *const *lens, redisReply **replies, int *sends)
{
	backoff b = {rs->first_ms, 0};
	int noscript = 0, dummy;
	if (!sends)
		sends = &dummy;
	*sends = 0;
	for (;;) {
		if (!rs->c) {
			int rc = rconnect(rs);
			if (rc < 0)
				return TS_ESTORE;
			if (rc > 0) {
				if (backoff_wait(rs, &b))
					return TS_ESTORE;
				continue;
			}
		}
		size_t i, got = 0;
		int io = 0, retry = 0;
		for (i = 0; i < n; i++)
			if (redisAppendCommandArgv(rs->c, argc[i], (const char **)argv[i], lens[i]) !=
			    REDIS_OK)
				break;
		if (i < n) {
			io = 1;
		} else {
			++*sends;
			rs->base.round_trips++;
		}
		for (; !io && got < n; got++) {
			void *r;
			if (redisGetReply(rs->c, &r) != REDIS_OK) {
				io = 1;
				break;
			}
			replies[got] = r;
		}
		if (io) {
			set_err(rs, "%s: %s", rs->where,
				 rs->c->errstr[0] ? rs->c->errstr : "I/O error");
			for (size_t k = 0; k < got; k++)
				freeReplyObject(replies[k]);
			drop_conn(rs);
			if (backoff_wait(rs, &b))
				return TS_ESTORE;
			continue;
		}
		int fatal = 0;
		for (i = 0; i < n; i++) {
			redisReply *r = replies[i];
			if (r->type != REDIS_REPLY_ERROR)
				continue;
			if (strncmp(r->str, "NOSCRIPT", 8) == 0 && noscript < 3)
				retry = 2;
			else if (ts_redis_transient(r->str))
				retry = retry ? retry : 1;
			else
				fatal = 1;
			set_err(rs, "%s: %s: %s%s", rs->where, argv[i][0], r->str,
				ts_redis_hint(r->str));
		}
		if (!fatal && !retry)
			return 0;
		for (i = 0; i < n; i++)
			freeReplyObject(replies[i]);
		if (fatal)
			return TS_ESTORE;
		if (retry == 2) {
			/* reconnecting loads the script again */
			noscript++;
			--*sends;
			drop_conn(rs);
			continue;
		}
		if (backoff_wait(rs, &b))
			return TS_ESTORE;
	}
}

static int run1(redis_store *rs, int argc, const char **argv, const size_t *lens, redisReply **r)
{
	const char *const *av = argv;
	return run(rs, 1, &argc, &av, &lens, r, NULL);
}

/* --- flush -------------------------------------------------------------- */

static void chunk_free(chunk *ch)
{
	free(ch->argv);
	free(ch->argvlen);
	free(ch->arena);
	free(ch->seqbuf);
}

typedef struct argref {
	size_t off, len;
} argref;

typedef struct builder {
	ts_buf arena;
	argref *k, *a; /* KEYS and ARGV */
	size_t nk, ka, na, aa;
	size_t nfields, ncells;
} builder;

static int push_ref(argref **v, size_t *n, size_t *alloc, size_t off, size_t len)
{
	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 64;
		argref *nv = realloc(*v, na * sizeof *nv);
		if (!nv)
			return TS_ENOMEM;
		*v = nv;
		*alloc = na;
	}
	(*v)[(*n)++] = (argref){off, len};
	return 0;
}

/* --- command batches ------------------------------------------------------
 * A pipeline of commands whose arguments are built into one arena (each
 * followed by the NUL ts_buf keeps), for run(): callers open a command,
 * add arguments (text appended between cb_begin and cb_end is one
 * argument), run the batch, read b->r[i], and free it. */
typedef struct cmdbatch {
	ts_buf arena;
	argref *args;
	size_t nargs, args_alloc;
	argref *cmds; /* per command: .off first argument, .len argument count */
	size_t ncmds, cmds_alloc;
	redisReply **r; /* after cb_run: one reply per command */
	int err;        /* sticky: the first failure while building */
} cmdbatch;

static void cb_cmd(cmdbatch *b)
{
	if (!b->err)
		b->err = push_ref(&b->cmds, &b->ncmds, &b->cmds_alloc, b->nargs, 0);
}

static void cb_begin(cmdbatch *b, size_t *off) { *off = b->arena.len; }

static void cb_end(cmdbatch *b, size_t off)
{
	if (!b->err)
		b->err = push_ref(&b->args, &b->nargs, &b->args_alloc, off, b->arena.len - off);
	if (!b->err)
		b->err = ts_buf_add(&b->arena, "", 1);
	if (!b->err)
		b->cmds[b->ncmds - 1].len++;
}

static void cb_arg(cmdbatch *b, const char *p, size_t n)
{
	size_t off;
	cb_begin(b, &off);
	if (!b->err)
		b->err = ts_buf_add(&b->arena, p, n);
	cb_end(b, off);
}

static void cb_str(cmdbatch *b, const char *s) { cb_arg(b, s, strlen(s)); }

/* Run the batch; 0 and b->r[0..ncmds) set, or the build or run error. */
static int cb_run(redis_store *rs, cmdbatch *b)
{
	if (b->err)
		return b->err;
	size_t n = b->ncmds;
	int *argc = malloc((n ? n : 1) * sizeof *argc);
	const char **av = malloc((b->nargs ? b->nargs : 1) * sizeof *av);
	size_t *al = malloc((b->nargs ? b->nargs : 1) * sizeof *al);
	const char *const **argv = malloc((n ? n : 1) * sizeof *argv);
	const size_t **lens = malloc((n ? n : 1) * sizeof *lens);
	b->r = calloc(n ? n : 1, sizeof *b->r);
	int rc = TS_ENOMEM;
	if (argc && av && al && argv && lens && b->r) {
		for (size_t i = 0; i < b->nargs; i++) {
			av[i] = b->arena.p + b->args[i].off;
			al[i] = b->args[i].len;
		}
		for (size_t i = 0; i < n; i++) {
			argc[i] = (int)b->cmds[i].len;
			argv[i] = &av[b->cmds[i].off];
			lens[i] = &al[b->cmds[i].off];
		}
		rc = n ? run(rs, n, argc, argv, lens, b->r, NULL) : 0;
		if (rc)
			memset(b->r, 0, n * sizeof *b->r);
	}
	free(argc);
	free(av);
	free(al);
	free(argv);
	free(lens);
	return rc;
}

static void cb_free(cmdbatch *b)
{
	for (size_t i = 0; b->r && i < b->ncmds; i++)
		if (b->r[i])
			freeReplyObject(b->r[i]);
	free(b->r);
	ts_buf_free(&b->arena);
	free(b->args);
	free(b->cmds);
	memset(b, 0, sizeof *b);
}

/* Append text to the arena and reference it as a key (is_key) or arg. */
static void b_begin(builder *b, size_t *off) { *off = b->arena.len; }
static int b_end(builder *b, size_t off, int is_key)
{
	/* the NUL ts_buf keeps after len separates arguments */
	int rc = is_key ? push_ref(&b->k, &b->nk, &b->ka, off, b->arena.len - off)
			: push_ref(&b->a, &b->na, &b->aa, off, b->arena.len - off);
	if (rc)
		return rc;
	return ts_buf_add(&b->arena, "", 1);
}

static void builder_reset(builder *b)
{
	ts_buf_free(&b->arena);
	free(b->k);
	free(b->a);
	memset(b, 0, sizeof *b);
}

/* Turn the builder into a chunk (the builder is left empty). */
static int builder_finish(redis_store *rs, builder *b, uint32_t pid, uint64_t seq, chunk *ch)
{
	memset(ch, 0, sizeof *ch);
	size_t argc = 3 + b->nk + b->na;
	ch->argv = malloc(argc * sizeof *ch->argv);
	ch->argvlen = malloc(argc * sizeof *ch->argvlen);
	char *nkeys = malloc(24);
	ch->seqbuf = malloc(24);
	if (!ch->argv || !ch->argvlen || !nkeys || !ch->seqbuf) {
		free(nkeys);
		chunk_free(ch);
		return TS_ENOMEM;
	}
	/* numkeys and seq live in the arena too: append them now */
	snprintf(nkeys, 24, "%zu", b->nk);
	size_t noff = b->arena.len;
	int rc = ts_buf_add(&b->arena, nkeys, strlen(nkeys) + 1);
	free(nkeys);
	size_t shaoff = b->arena.len;
	if (!rc)
		rc = ts_buf_add(&b->arena, rs->sha, 41);
	if (rc) {
		chunk_free(ch);
		return rc;
	}
	ch->arena = b->arena.p;
	ch->argv[0] = "EVALSHA";
	ch->argvlen[0] = 7;
	ch->sha_off = shaoff;
	ch->argv[1] = ch->arena + shaoff;
	ch->argvlen[1] = 40;
	ch->argv[2] = ch->arena + noff;
	ch->argvlen[2] = strlen(ch->argv[2]);
	size_t i = 3;
	for (size_t j = 0; j < b->nk; j++, i++) {
		ch->argv[i] = ch->arena + b->k[j].off;
		ch->argvlen[i] = b->k[j].len;
	}
	for (size_t j = 0; j < b->na; j++, i++) {
		ch->argv[i] = ch->arena + b->a[j].off;
		ch->argvlen[i] = b->a[j].len;
	}
	ch->argc = (int)argc;
	ch->partition = pid;
	ch->seq = seq;
	/* the sequence number is the first ARGV; keep it rewritable */
	ch->seq_arg = (int)(3 + b->nk);
	snprintf(ch->seqbuf, 24, "%llu", (unsigned long long)seq);
	ch->argv[ch->seq_arg] = ch->seqbuf;
	ch->argvlen[ch->seq_arg] = strlen(ch->seqbuf);
	ch->ncells = b->ncells;
	ch->bytes = b->arena.alloc + argc * (sizeof *ch->argv + sizeof *ch->argvlen);
	b->arena.p = NULL;
	b->arena.len = b->arena.alloc = 0;
	builder_reset(b);
	return 0;
}

static int mark_key(redis_store *rs, uint32_t pid, int64_t mtime, ts_buf *b)
{
	int64_t y;
	unsigned mo, d;
	ts_civil_from_days(ts_floordiv(mtime, 86400), &y, &mo, &d);
	int rc = pid == UINT32_MAX ? ts_buf_puts(b, "ts:") : part_prefix(rs, pid, b);
	if (!rc)
		rc = ts_buf_printf(b, "files:%04lld%02u%02u", (long long)y, mo, d);
	return rc;
}

static int64_t mark_day(const fmark *m) { return ts_floordiv(m->mtime, 86400); }

static int fmark_cmp(const void *a, const void *b)
{
	int64_t x = mark_day(a), y = mark_day(b);
	return x < y ? -1 : x > y;
}

static int mark_value(const fmark *m, ts_buf *b)
{
	return ts_buf_printf(b, "%llu:%lld", (unsigned long long)m->size, (long long)m->mtime);
}

/* A 63-bit hash of (partition, file name, mark value). */
static uint64_t mark_hash(uint32_t pid, const char *name, size_t nlen, const char *val,
			  size_t vlen)
{
	uint64_t h = ts_hash(name, nlen, pid);
	return ts_hash(val, vlen, h) >> 1;
}

/* Start a chunk: KEYS flushseq, state, one mark key per file of st; ARGV
 * seq, ttl, the state blob (or ''), the mark count and each mark. */
static int builder_start(redis_store *rs, builder *b, uint32_t pid, uint64_t seq, const pstate *st)
{
	size_t off;
	int rc;
	b_begin(b, &off);
	if ((rc = part_prefix(rs, pid, &b->arena)) || (rc = ts_buf_puts(&b->arena, "flushseq")) ||
	    (rc = b_end(b, off, 1)))
		return rc;
	b_begin(b, &off);
	if ((rc = part_prefix(rs, pid, &b->arena)) || (rc = ts_buf_puts(&b->arena, "state")) ||
	    (rc = b_end(b, off, 1)))
		return rc;
	b_begin(b, &off);
	if ((rc = ts_buf_printf(&b->arena, "%llu", (unsigned long long)seq)) ||
	    (rc = b_end(b, off, 0)))
		return rc;
	b_begin(b, &off);
	if ((rc = ts_buf_printf(&b->arena, "%lld", (long long)rs->base.retention_days * 86400)) ||
	    (rc = b_end(b, off, 0)))
		return rc;
	b_begin(b, &off);
	if (st && st->has && (rc = ts_buf_add(&b->arena, st->blob.p, st->blob.len)))
		return rc;
	if ((rc = b_end(b, off, 0)))
		return rc;
	/* marks grouped by their key (the mtime day), sorted by it */
	size_t n = st ? st->marks.n : 0, nkeys = 0;
	if (n)
		qsort(st->marks.m, n, sizeof *st->marks.m, fmark_cmp);
	for (size_t i = 0; i < n; i++)
		nkeys += i == 0 || mark_day(&st->marks.m[i]) != mark_day(&st->marks.m[i - 1]);
	b_begin(b, &off);
	if ((rc = ts_buf_printf(&b->arena, "%zu", nkeys)) || (rc = b_end(b, off, 0)))
		return rc;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && mark_day(&st->marks.m[j]) == mark_day(&st->marks.m[i]))
			j++;
		b_begin(b, &off);
		if ((rc = mark_key(rs, pid, st->marks.m[i].mtime, &b->arena)) ||
		    (rc = b_end(b, off, 1)))
			return rc;
		b_begin(b, &off);
		if ((rc = ts_buf_printf(&b->arena, "%zu", j - i)) || (rc = b_end(b, off, 0)))
			return rc;
		for (; i < j; i++) {
			const fmark *m = &st->marks.m[i];
			b_begin(b, &off);
			if ((rc = ts_buf_puts(&b->arena, m->name)) || (rc = b_end(b, off, 0)))
				return rc;
			b_begin(b, &off);
			if ((rc = mark_value(m, &b->arena)) || (rc = b_end(b, off, 0)))
				return rc;
		}
	}
	return 0;
}

/* A buffered key and its index, sorted by partition to cut chunks. */
typedef struct key_ord {
	rkey k;
	uint32_t idx;
} key_ord;

static int key_cmp(const void *a, const void *b)
{
	const rkey *x = &((const key_ord *)a)->k, *y = &((const key_ord *)b)->k;
	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	if (x->attr != y->attr)
		return x->attr < y->attr ? -1 : 1;
	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	return x->day < y->day ? -1 : x->day > y->day;
}

/* GET ts:{ACCT:REGION}:<what> of a partition: 0 and *r (caller frees), or
 * an error. */
static int get_part_key(redis_store *rs, uint32_t pid, const char *what, redisReply **r)
{
	ts_buf kb = {0};
	int rc = part_prefix(rs, pid, &kb);
	if (!rc)
		rc = ts_buf_puts(&kb, what);
	if (!rc) {
		const char *av[2] = {"GET", kb.p};
		size_t al[2] = {3, kb.len};
		rc = run1(rs, 2, av, al, r);
	}
	ts_buf_free(&kb);
	return rc;
}

/* The flush sequence number Redis holds for a partition (0 if none). */
static int get_seq(redis_store *rs, uint32_t pid, uint64_t *cur)
{
	redisReply *r;
	int rc = get_part_key(rs, pid, "flushseq", &r);
	if (rc)
		return rc;
	*cur = 0;
	if (r->type == REDIS_REPLY_STRING)
		*cur = strtoull(r->str, NULL, 10);
	freeReplyObject(r);
	return 0;
}

static int learn_seq(redis_store *rs, uint32_t pid)
{
	if (ensure_partition(rs, pid))
		return TS_ENOMEM;
	if (rs->seq_known[pid])
		return 0;
	uint64_t cur;
	int rc = get_seq(rs, pid, &cur);
	if (rc)
		return rc;
	rs->next_seq[pid] = cur + 1;
	rs->seq_known[pid] = 1;
	return 0;
}

/* Learn the next sequence number of each partition in the live buffer. */
static int learn_seqs(redis_store *rs)
{
	int rc = 0;
	for (uint32_t i = 0; i < rs->nkeys && !rc; i++)
		rc = learn_seq(rs, rs->keys[i].partition);
	for (uint32_t pid = 0; pid < rs->nparts && !rc; pid++)
		if (rs->ps[pid].has || rs->ps[pid].marks.n)
			rc = learn_seq(rs, pid);
	return rc;
}

static void fmarks_clear(fmarks *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->m[i].name);
	f->n = 0;
}

static void fmarks_free(fmarks *f)
{
	fmarks_clear(f);
	free(f->m);
	memset(f, 0, sizeof *f);
}

static int fmarks_add(fmarks *f, const ts_file_id *id)
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

static int chunk_push(chunk **v, size_t *n, size_t *alloc)
{
	if (*n < *alloc)
		return 0;
	size_t na = *alloc ? *alloc * 2 : 8;
	chunk *nv = realloc(*v, na * sizeof *nv);
	if (!nv)
		return TS_ENOMEM;
	*v = nv;
	*alloc = na;
	return 0;
}

/* Move the live buffer and the waiting states into frozen chunks at the
 * end of the pending list: per partition (in id order), chunks of at most
 * MAX_CHUNK_KEYS keys / MAX_CHUNK_FIELDS fields, the first carrying the
 * partition's state and file marks. */
static int freeze(redis_store *rs)
{
	int rc = learn_seqs(rs);
	if (rc)
		return rc == TS_ENOMEM ? rc : TS_ESTORE;
	uint32_t nk = rs->nkeys;
	size_t *start = calloc((size_t)nk + 1, sizeof *start);
	size_t *pos = malloc((rs->live.n ? rs->live.n : 1) * sizeof *pos);
	key_ord *ko = malloc((nk ? nk : 1) * sizeof *ko);
	chunk *made = NULL;
	size_t nmade = 0, made_alloc = 0;
	builder b = {0};
	uint64_t gen = rs->gen + 1;
	rc = TS_ENOMEM;
	if (!start || !pos || !ko)
		goto out_free;
	/* group cell indices by key (counting sort) */
	for (size_t i = 0; i < rs->live.slots; i++)
		if (rs->live.c[i].used)
			start[rs->live.c[i].key + 1]++;
	for (uint32_t k = 0; k < nk; k++)
		start[k + 1] += start[k];
	for (size_t i = 0; i < rs->live.slots; i++)
		if (rs->live.c[i].used)
			pos[start[rs->live.c[i].key]++] = i;
	for (uint32_t k = nk; k > 0; k--)
		start[k] = start[k - 1];
	start[0] = 0;
	for (uint32_t k = 0; k < nk; k++)
		ko[k] = (key_ord){rs->keys[k], k};
	qsort(ko, nk, sizeof *ko, key_cmp);

	uint32_t oi = 0;
	for (uint32_t pid = 0; pid < rs->nparts; pid++) {
		pstate *st = &rs->ps[pid];
		int has_keys = oi < nk && ko[oi].k.partition == pid;
		if (!has_keys && !st->has && !st->marks.n)
			continue;
		int open = 0;
		if ((rc = builder_start(rs, &b, pid, rs->next_seq[pid], st)))
			goto out_free;
		open = 1;
		for (; oi < nk && ko[oi].k.partition == pid; oi++) {
			uint32_t ki = ko[oi].idx;
			const rkey *k = &rs->keys[ki];
			size_t nf = start[ki + 1] - start[ki];
			if (!open || b.nk - 2 >= MAX_CHUNK_KEYS ||
			    (b.nfields && b.nfields + nf > MAX_CHUNK_FIELDS)) {
				if (open) {
					if ((rc = chunk_push(&made, &nmade, &made_alloc)) ||
					    (rc = builder_finish(rs, &b, pid, rs->next_seq[pid]++,
								 &made[nmade])))
						goto out_free;
					made[nmade++].gen = gen;
				}
				if ((rc = builder_start(rs, &b, pid, rs->next_seq[pid], NULL)))
					goto out_free;
				open = 1;
			}
			size_t off;
			b_begin(&b, &off);
			if ((rc = key_name(rs, k->attr, k->metric, k->day, &b.arena)) ||
			    (rc = b_end(&b, off, 1)))
				goto out_free;
			b_begin(&b, &off);
			if ((rc = ts_buf_printf(&b.arena, "%zu", nf)) || (rc = b_end(&b, off, 0)))
				goto out_free;
			for (size_t p = start[ki]; p < start[ki + 1]; p++) {
				const cell *c = &rs->live.c[pos[p]];
				b_begin(&b, &off);
				if ((rc = field_name(rs, k, c->field, &b.arena)) ||
				    (rc = b_end(&b, off, 0)))
					goto out_free;
				b_begin(&b, &off);
				if ((rc = add_u64(&b.arena, c->sum)) ||
				    (rc = b_end(&b, off, 0)))
					goto out_free;
			}
			b.nfields += nf;
			b.ncells += nf;
		}
		if ((rc = chunk_push(&made, &nmade, &made_alloc)) ||
		    (rc = builder_finish(rs, &b, pid, rs->next_seq[pid]++, &made[nmade])))
			goto out_free;
		made[nmade++].gen = gen;
	}
	rc = TS_ENOMEM;
	/* append the made chunks to the pending list */
	if (rs->npend + nmade > rs->pend_alloc) {
		size_t na = rs->pend_alloc ? rs->pend_alloc : 8;
		while (na < rs->npend + nmade)
			na *= 2;
		chunk *np = realloc(rs->pend, na * sizeof *np);
		if (!np)
			goto out_free;
		rs->pend = np;
		rs->pend_alloc = na;
	}
	for (size_t i = 0; i < nmade; i++) {
		rs->pend[rs->npend++] = made[i];
		rs->pend_cells += made[i].ncells;
		rs->pend_bytes += made[i].bytes;
	}
	nmade = 0;
	rs->gen = gen;
	live_clear(rs);
	for (uint32_t pid = 0; pid < rs->nparts; pid++) {
		rs->ps[pid].has = 0;
		ts_buf_free(&rs->ps[pid].blob);
		fmarks_clear(&rs->ps[pid].marks);
	}
	rc = 0;
out_free:
	/* on failure, give back the sequence numbers never sent */
	for (size_t i = 0; i < nmade; i++) {
		if (made[i].seq < rs->next_seq[made[i].partition])
			rs->next_seq[made[i].partition] = made[i].seq;
		chunk_free(&made[i]);
	}
	builder_reset(&b);
	free(made);
	free(start);
	free(pos);
	free(ko);
	return rc;
}

/* Send the frozen chunks in order; each leaves memory once applied. The
 * chunks one freeze made for one partition go together: one EVALSHA when
 * there is one, else MULTI, EVAL..., EXEC (EVAL: a NOSCRIPT inside EXEC
 * would break the group's atomicity). A chunk that never reached Redis
 * before and is answered "already applied" met a flushseq another writer
 * advanced: it takes the next number after that writer's and goes again. */
static int send_pending(redis_store *rs)
{
	int conflicts = 0;
	while (rs->pend_first < rs->npend) {
		size_t i = rs->pend_first, j = i + 1;
		chunk *ch = &rs->pend[i];
		while (j < rs->npend && rs->pend[j].gen == ch->gen &&
		       rs->pend[j].partition == ch->partition)
			j++;
		size_t k = j - i, n = k == 1 ? 1 : k + 2;
		int *argc = malloc(n * sizeof *argc);
		const char *const **argv = malloc(n * sizeof *argv);
		const size_t **lens = malloc(n * sizeof *lens);
		redisReply **r = calloc(n, sizeof *r);
		static const char *const multi[1] = {"MULTI"}, *const exec[1] = {"EXEC"};
		static const size_t multi_len[1] = {5}, exec_len[1] = {4};
		if (!argc || !argv || !lens || !r) {
			free(argc);
			free(argv);
			free(lens);
			free(r);
			return TS_ENOMEM;
		}
		size_t c = 0;
		if (k > 1) {
			argc[c] = 1, argv[c] = multi, lens[c++] = multi_len;
		}
		for (size_t x = i; x < j; x++) {
			chunk *h = &rs->pend[x];
			if (k == 1) {
				h->argv[0] = "EVALSHA";
				h->argvlen[0] = 7;
				h->argv[1] = h->arena + h->sha_off;
				h->argvlen[1] = 40;
				/* the sha may differ if the server's script cache was replaced */
				memcpy(h->arena + h->sha_off, rs->sha, 40);
			} else {
				h->argv[0] = "EVAL";
				h->argvlen[0] = 4;
				h->argv[1] = flush_script;
				h->argvlen[1] = sizeof flush_script - 1;
			}
			argc[c] = h->argc, argv[c] = h->argv, lens[c++] = h->argvlen;
		}
		if (k > 1) {
			argc[c] = 1, argv[c] = exec, lens[c++] = exec_len;
		}
		int sends, rc = run(rs, n, argc, argv, lens, r, &sends);
		free(argc);
		free(argv);
		free(lens);
		unsigned char *was_sent = malloc(k);
		for (size_t x = i; x < j; x++) {
			if (was_sent)
				was_sent[x - i] = (unsigned char)rs->pend[x].sent;
			if (sends)
				rs->pend[x].sent = 1;
		}
		if (rc || !was_sent) {
			if (!rc)
				for (size_t x = 0; x < n; x++)
					freeReplyObject(r[x]);
			free(r);
			free(was_sent);
			return rc ? rc : TS_ENOMEM;
		}
		/* the script replies: r[0] alone, or EXEC's array */
		redisReply *res = k == 1 ? NULL : r[n - 1];
		int ok = k == 1 ? r[0]->type == REDIS_REPLY_INTEGER
				: res->type == REDIS_REPLY_ARRAY && res->elements == k;
		for (size_t x = 0; ok && k > 1 && x < k; x++)
			ok = res->element[x]->type == REDIS_REPLY_INTEGER;
		for (size_t x = 0; ok && x < k; x++) {
			chunk *h = &rs->pend[i + x];
			long long applied = k == 1 ? r[0]->integer : res->element[x]->integer;
			if (applied < 0) {
				ts_partition *p = ts_registry_get_partition(rs->base.reg, h->partition);
				char why[300];
				snprintf(why, sizeof why, "key ts:{%.*s:%.*s}:flushseq is gone",
					 (int)p->account.n, p->account.p, (int)p->region.n, p->region.p);
				history_lost(rs, why);
				rc = TS_ESTORE;
				break;
			}
			if (applied == 0 && !was_sent[x] && sends == 1) {
				uint64_t cur;
				if (++conflicts > 100) {
					set_err(rs, "%s: flush sequence keeps moving: another writer?",
						rs->where);
					rc = TS_ESTORE;
					break;
				}
				if ((rc = get_seq(rs, h->partition, &cur)))
					break;
				ts_warn("store %s: partition %u flushed by another writer (sequence %llu, "
					"Redis has %llu); renumbering",
					rs->where, h->partition, (unsigned long long)h->seq,
					(unsigned long long)cur);
				h->seq = cur + 1;
				snprintf(h->seqbuf, 24, "%llu", (unsigned long long)h->seq);
				h->argvlen[h->seq_arg] = strlen(h->seqbuf);
				h->sent = 0;
				h->gen = ++rs->gen; /* goes again on its own */
				if (rs->next_seq[h->partition] <= h->seq)
					rs->next_seq[h->partition] = h->seq + 1;
				continue;
			}
		}
		for (size_t x = 0; x < n; x++)
			freeReplyObject(r[x]);
		free(r);
		free(was_sent);
		if (!ok) {
			set_err(rs, "%s: flush script: unexpected reply", rs->where);
			return TS_ESTORE;
		}
		if (rc)
			return rc;
		/* drop the applied chunks; renumbered ones (sent == 0) stay */
		for (size_t x = i; x < j; x++) {
			chunk *h = &rs->pend[x];
			if (!h->sent) /* renumbered: move it to the front of what is left */
				continue;
			rs->pend_cells -= h->ncells;
			rs->pend_bytes -= h->bytes;
			chunk_free(h);
			h->argv = NULL;
		}
		/* compact [i, j): renumbered chunks stay, in order, at the front */
		size_t keep = i;
		for (size_t x = i; x < j; x++)
			if (rs->pend[x].argv)
				rs->pend[keep++] = rs->pend[x];
		if (keep == i) {
			rs->pend_first = j;
		} else {
			/* close the gap left by dropped chunks */
			memmove(&rs->pend[keep], &rs->pend[j], (rs->npend - j) * sizeof *rs->pend);
			rs->npend -= j - keep;
			rs->pend_first = i;
		}
	}
	rs->npend = rs->pend_first = 0;
	return 0;
}

/* Write the index of files done: per mtime day, HSET ts:files:DAY
 * name size:mtime ... and EXPIRE, pipelined; the marks leave memory once
 * written. */
static int write_index_n(redis_store *rs, size_t n);
static int write_index(redis_store *rs) { return write_index_n(rs, rs->index.n); }

/* Write the first n marks of the index (sorting them first). */
static int write_index_n(redis_store *rs, size_t n)
{
	if (!n)
		return 0;
	qsort(rs->index.m, n, sizeof *rs->index.m, fmark_cmp);
	char ttl[24];
	snprintf(ttl, sizeof ttl, "%lld", (long long)rs->base.retention_days * 86400);
	cmdbatch b = {0};
	for (size_t i = 0; i < n && !b.err;) {
		size_t off, key_off, j = i;
		while (j < n && mark_day(&rs->index.m[j]) == mark_day(&rs->index.m[i]))
			j++;
		cb_cmd(&b);
		cb_str(&b, "HSET");
		cb_begin(&b, &key_off);
		if (!b.err)
			b.err = mark_key(rs, UINT32_MAX, rs->index.m[i].mtime, &b.arena);
		cb_end(&b, key_off);
		size_t key_len = b.err ? 0 : b.args[b.nargs - 1].len;
		for (; i < j && !b.err; i++) {
			cb_str(&b, rs->index.m[i].name);
			cb_begin(&b, &off);
			if (!b.err)
				b.err = mark_value(&rs->index.m[i], &b.arena);
			cb_end(&b, off);
		}
		cb_cmd(&b);
		cb_str(&b, "EXPIRE");
		if (!b.err) /* the key again (the arena may have moved: copy by offset) */
			b.err = ts_buf_grow(&b.arena, key_len + 1);
		cb_begin(&b, &off);
		if (!b.err)
			b.err = ts_buf_add(&b.arena, b.arena.p + key_off, key_len);
		cb_end(&b, off);
		cb_str(&b, ttl);
	}
	int rc = cb_run(rs, &b);
	cb_free(&b);
	if (!rc) {
		/* drop the n written marks, keep any added after them */
		for (size_t i = 0; i < n; i++)
			free(rs->index.m[i].name);
		memmove(rs->index.m, rs->index.m + n, (rs->index.n - n) * sizeof *rs->index.m);
		rs->index.n -= n;
	}
	return rc;
}

/* SADD ts:partitions "ACCT:REGION" for partitions whose first state was
 * just written. */
static int list_partitions(redis_store *rs)
{
	cmdbatch b = {0};
	size_t n = 0;
	for (uint32_t pid = 0; pid < rs->nparts && !b.err; pid++) {
		if (rs->listed[pid] != 2)
			continue;
		if (!n++) {
			cb_cmd(&b);
			cb_str(&b, "SADD");
			cb_str(&b, "ts:partitions");
		}
		ts_partition *p = ts_registry_get_partition(rs->base.reg, pid);
		size_t off;
		cb_begin(&b, &off);
		if (!b.err)
			b.err = ts_buf_printf(&b.arena, "%.*s:%.*s", (int)p->account.n, p->account.p,
					      (int)p->region.n, p->region.p);
		cb_end(&b, off);
	}
	int rc = cb_run(rs, &b);
	cb_free(&b);
	for (uint32_t pid = 0; !rc && pid < rs->nparts; pid++)
		if (rs->listed[pid] == 2)
			rs->listed[pid] = 1;
	return rc;
}

static int rs_partitions(ts_store *st, ts_buf *out)
{
	redis_store *rs = (redis_store *)st;
	ts_buf_reset(out);
	const char *av[2] = {"SMEMBERS", "ts:partitions"};
	size_t al[2] = {8, 13};
	redisReply *r;
	int rc = run1(rs, 2, av, al, &r);
	if (rc)
		return rc;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && !rc; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    !memchr(r->element[i]->str, 0, r->element[i]->len)) {
			rc = ts_buf_add(out, r->element[i]->str, r->element[i]->len);
			if (!rc)
				rc = ts_buf_add(out, "", 1);
		}
	freeReplyObject(r);
	return rc;
}

static int has_states(const redis_store *rs)
{
	for (uint32_t pid = 0; pid < rs->nparts; pid++)
		if (rs->ps[pid].has || rs->ps[pid].marks.n)
			return 1;
	return 0;
}

static int resolve_unknown(redis_store *rs);
static int list_partitions(redis_store *rs);

/* --- the background flush ---------------------------------------------
 *
 * A mid-run checkpoint of a backfill need not wait for Redis to run its
 * scripts: flush_begin freezes the buffer as flush does, then a thread
 * sends the frozen groups on a connection of its own and marks each one
 * applied, while counting goes on. The thread touches only those chunks
 * (built strings: no registry, no other state); the main thread does not
 * touch the pending list until it joins it, which every other flush, and
 * free, does first. After the join the applied chunks leave memory, and
 * the index and the partition list are written; anything the thread could
 * not confirm stays pending and the next flush sends it again (its
 * sequence numbers make that safe). */
typedef struct bg_flush {
	pthread_t th;
	int running;
	redis_store *rs;
	size_t first, end; /* pend[first, end) */
	size_t index_n;    /* index marks to write once confirmed */
	int rc;
	char err[1024];
	uint64_t trips;
	uint64_t reconnects; /* connections made again after a failure */
	int connected;       /* has had a connection */
	redisContext *c;
} bg_flush;

static int bg_connect(bg_flush *b)
{
	char err[512];
	if (ts_redis_connect(&b->rs->sp, 2000, b->rs->cmd_ms, &b->c, err, sizeof err)) {
		snprintf(b->err, sizeof b->err, "%s: background flush: %s", b->rs->where, err);
		b->c = NULL;
		return -1;
	}
	b->reconnects += b->connected;
	b->connected = 1;
	return 0;
}

static void *bg_main(void *arg)
{
	bg_flush *b = arg;
	redis_store *rs = b->rs;
	b->rc = 0;
	if (!b->c && bg_connect(b)) {
		b->rc = TS_ESTORE;
		return NULL;
	}
	for (size_t i = b->first; i < b->end && !b->rc;) {
		size_t j = i + 1;
		while (j < b->end && rs->pend[j].gen == rs->pend[i].gen &&
		       rs->pend[j].partition == rs->pend[i].partition)
			j++;
		size_t k = j - i;
		int io = 0;
		if (k > 1)
			io = redisAppendCommand(b->c, "MULTI") != REDIS_OK;
		for (size_t x = i; x < j && !io; x++) {
			chunk *h = &rs->pend[x];
			io = redisAppendCommandArgv(b->c, h->argc, h->argv, h->argvlen) != REDIS_OK;
		}
		if (k > 1 && !io)
			io = redisAppendCommand(b->c, "EXEC") != REDIS_OK;
		for (size_t x = i; x < j; x++)
			rs->pend[x].sent = 1; /* may reach Redis from here on */
		b->trips++;
		int ok = !io;
		for (size_t n = 0; n < (k > 1 ? k + 2 : 1) && !io; n++) {
			void *v;
			if (redisGetReply(b->c, &v) != REDIS_OK) {
				io = 1;
				break;
			}
			redisReply *r = v;
			size_t last = k > 1 ? k + 1 : 0;
			if (n == last) {
				/* the script results: each must be 1 (applied now) */
				if (k == 1)
					ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
				else
					ok = r->type == REDIS_REPLY_ARRAY && r->elements == k;
				for (size_t x = 0; ok && k > 1 && x < k; x++)
					ok = r->element[x]->type == REDIS_REPLY_INTEGER &&
					     r->element[x]->integer == 1;
				if (!ok && r->type == REDIS_REPLY_ERROR)
					snprintf(b->err, sizeof b->err, "%s: background flush: %s%s",
						 rs->where, r->str, ts_redis_hint(r->str));
				else if (!ok)
					snprintf(b->err, sizeof b->err,
						 "%s: background flush: the flush script did not "
						 "apply a batch",
						 rs->where);
			} else if (r->type == REDIS_REPLY_ERROR) {
				ok = 0;
				snprintf(b->err, sizeof b->err, "%s: background flush: %s%s", rs->where,
					 r->str, ts_redis_hint(r->str));
			}
			freeReplyObject(r);
		}
		if (io) {
			snprintf(b->err, sizeof b->err, "%s: background flush: %s", rs->where,
				 b->c->errstr[0] ? b->c->errstr : "I/O error");
			redisFree(b->c);
			b->c = NULL;
			b->rc = TS_ESTORE;
			break;
		}
		if (!ok) {
			b->rc = TS_ESTORE;
			break;
		}
		for (size_t x = i; x < j; x++)
			rs->pend[x].acked = 1;
		i = j;
	}
	return NULL;
}

/* Wait for the background flush; drop what it applied; write the index
 * and partition list it was for. Its failures are not errors here: what it
 * did not confirm is sent again by the next flush. 0 or an error of the
 * index writes. */
static int bg_join(redis_store *rs)
{
	bg_flush *b = rs->bg;
	if (!b || !b->running)
		return 0;
	pthread_join(b->th, NULL);
	b->running = 0;
	rs->base.round_trips += b->trips;
	rs->base.reconnects += b->reconnects;
	b->trips = b->reconnects = 0;
	size_t w = rs->pend_first;
	for (size_t i = rs->pend_first; i < rs->npend; i++) {
		chunk *h = &rs->pend[i];
		if (h->acked) {
			rs->pend_cells -= h->ncells;
			rs->pend_bytes -= h->bytes;
			chunk_free(h);
		} else {
			rs->pend[w++] = *h;
		}
	}
	rs->npend = w;
	if (rs->pend_first == rs->npend)
		rs->npend = rs->pend_first = 0;
	if (b->rc) {
		ts_warn("%s; sending again", b->err);
		return 0;
	}
	int rc = write_index_n(rs, b->index_n);
	return rc ? rc : list_partitions(rs);
}

static int rs_flush_begin(ts_store *st)
{
	redis_store *rs = (redis_store *)st;
	int rc = bg_join(rs);
	if (!rc)
		rc = resolve_unknown(rs);
	if (!rc)
		rc = send_pending(rs); /* anything left from before, at once */
	if (rc)
		return rc;
	for (uint32_t pid = 0; pid < rs->nparts; pid++)
		if (rs->ps[pid].has && !rs->listed[pid])
			rs->listed[pid] = 2;
	if (!rs->live.n && !has_states(rs))
		return write_index(rs);
	if ((rc = freeze(rs)))
		return rc == TS_ENOMEM ? rc : TS_ESTORE;
	if (!rs->bg && !(rs->bg = calloc(1, sizeof *rs->bg)))
		return send_pending(rs);
	bg_flush *b = rs->bg;
	b->rs = rs;
	b->first = rs->pend_first;
	b->end = rs->npend;
	b->index_n = rs->index.n;
	/* groups of several chunks use EVAL (see send_pending); the thread
	 * uses EVAL for all, as its connection has not loaded the script */
	for (size_t i = b->first; i < b->end; i++) {
		chunk *h = &rs->pend[i];
		h->argv[0] = "EVAL";
		h->argvlen[0] = 4;
		h->argv[1] = flush_script;
		h->argvlen[1] = sizeof flush_script - 1;
	}
	if (pthread_create(&b->th, NULL, bg_main, b) != 0)
		return send_pending(rs); /* no thread: do it here */
	b->running = 1;
	return 0;
}

static int rs_flush(ts_store *st)
{
	redis_store *rs = (redis_store *)st;
	int rc = bg_join(rs);
	if (!rc)
		rc = resolve_unknown(rs);
	if (!rc)
		rc = send_pending(rs);
	if (rc)
		return rc;
	for (uint32_t pid = 0; pid < rs->nparts; pid++)
		if (rs->ps[pid].has && !rs->listed[pid])
			rs->listed[pid] = 2; /* to be listed once written */
	if (rs->live.n || has_states(rs)) {
		if ((rc = freeze(rs)))
			return rc == TS_ENOMEM ? rc : TS_ESTORE;
		if ((rc = send_pending(rs)))
			return rc;
	}
	if ((rc = write_index(rs)))
		return rc;
	return list_partitions(rs);
}

static size_t buffered(const redis_store *rs) { return rs->live.n + rs->pend_cells; }

static int rs_flush_due(const ts_store *st)
{
	const redis_store *rs = (const redis_store *)st;
	/* what is frozen is being written (or will be sent again by the next
	 * flush anyway): only the live buffer asks for a checkpoint */
	return rs->live.n >= rs->flush_cells;
}

static int check_cap(redis_store *rs, size_t n)
{
	if (buffered(rs) + n <= rs->max_cells)
		return 0;
	set_err(rs, "Redis unreachable and %zu unwritten cells buffered", buffered(rs));
	return TS_ECAP;
}

/* --- reads -------------------------------------------------------------- */

/* HGETALL keys (attr, metric[i], day[i]) for i < n, pipelined. 0 and
 * replies[n] (caller frees each), or an error. */
static int fetch_keys(redis_store *rs, uint8_t attr, const uint32_t *metric, const int64_t *day,
		      size_t n, redisReply ***out)
{
	cmdbatch b = {0};
	for (size_t i = 0; i < n && !b.err; i++) {
		size_t off;
		cb_cmd(&b);
		cb_str(&b, "HGETALL");
		cb_begin(&b, &off);
		if (!b.err)
			b.err = key_name(rs, attr, metric[i], day[i], &b.arena);
		cb_end(&b, off);
	}
	int rc = cb_run(rs, &b);
	if (!rc) {
		*out = b.r; /* the caller frees the replies */
		b.r = NULL;
	}
	cb_free(&b);
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

/* An attribution day from an HGETALL reply into t (keys
 * ts_attr_key(hour of day, kind, value)). 0, TS_ENOMEM or TS_ECAP. */
static int parse_attr_day(redis_store *rs, const redisReply *r, ts_tally *t)
{
	for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e + 1 < r->elements; e += 2) {
		redisReply *f = r->element[e], *v = r->element[e + 1];
		uint64_t hh, cnt;
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || f->len < 4 ||
		    f->str[2] != ':' || parse_u64(f->str, 2, &hh) || hh >= 24 ||
		    parse_u64(v->str, v->len, &cnt))
			continue;
		const char *k = f->str + 3, *colon = memchr(k, ':', f->len - 3);
		if (!colon)
			continue;
		int kind = -1;
		for (int j = 0; j < TS_A_KINDS; j++)
			if ((size_t)(colon - k) == strlen(kind_names[j]) &&
			    memcmp(k, kind_names[j], (size_t)(colon - k)) == 0)
				kind = j;
		if (kind < 0)
			continue;
		ts_str val = {colon + 1, f->len - (size_t)(colon + 1 - f->str)};
		uint32_t vid;
		int rc = ts_registry_value(rs->base.reg, val, &vid);
		if (!rc)
			rc = ts_tally_add(t, ts_attr_key((uint32_t)hh, (unsigned)kind, vid), cnt);
		if (rc)
			return rc;
	}
	return 0;
}

/* The cached attribution day of a metric, or NULL. */
static ts_tally *acache_get(redis_store *rs, uint32_t metric, int64_t day)
{
	if (metric >= rs->nmetrics)
		return NULL;
	attr_cache *ac = &rs->acache[metric];
	for (uint32_t i = 0; i < ac->n; i++)
		if (ac->d[i].day == day)
			return &ac->d[i].t;
	return NULL;
}

/* Add an (empty) attribution day to a metric's cache, dropping days older
 * than the history kept. NULL on ENOMEM. */
static ts_tally *acache_add(redis_store *rs, uint32_t metric, int64_t day)
{
	attr_cache *ac = &rs->acache[metric];
	int64_t oldest = day - rs->base.retention_days - 1;
	uint32_t w = 0;
	for (uint32_t i = 0; i < ac->n; i++) {
		if (ac->d[i].day < oldest) {
			rs->cache_bytes -= ts_tally_memory(&ac->d[i].t);
			ts_tally_free(&ac->d[i].t);
		} else {
			ac->d[w++] = ac->d[i];
		}
	}
	ac->n = w;
	if (ac->n == ac->alloc) {
		uint32_t na = ac->alloc ? ac->alloc * 2 : 4;
		attr_day *nd = realloc(ac->d, na * sizeof *nd);
		if (!nd)
			return NULL;
		ac->d = nd;
		ac->alloc = na;
	}
	ac->d[ac->n] = (attr_day){.day = day};
	return &ac->d[ac->n++].t;
}

/* Before the first write of (metric, day) for the metrics listed (all of
 * one day; UINT32_MAX entries skipped): start each day not cached yet
 * empty, as "unknown": what Redis holds of it is added later, in one
 * pipeline, before the next flush sends anything or a read needs it
 * (resolve_sel). No round trip here, so counting never waits for Redis
 * (busy with a background flush, or away). attr selects count or
 * attribution days. */
static int fetch_first(redis_store *rs, uint8_t attr, int64_t day, const uint32_t *metric,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t m = metric[i];
		if (m == UINT32_MAX ||
		    (attr ? acache_get(rs, m, day) != NULL : cache_has(rs, m, day)))
			continue;
		if (attr) {
			if (!acache_add(rs, m, day))
				return TS_ENOMEM;
		} else {
			int rc = cache_hold(rs, m, day);
			if (rc < 0)
				return rc;
			if (rc)
				continue; /* older than the window: not kept */
		}
		if (rs->nunknown == rs->unknown_alloc) {
			size_t na = rs->unknown_alloc ? rs->unknown_alloc * 2 : 64;
			rkey *u = realloc(rs->unknown, na * sizeof *u);
			if (!u)
				return TS_ENOMEM;
			rs->unknown = u;
			rs->unknown_alloc = na;
		}
		rs->unknown[rs->nunknown++] = (rkey){.day = day, .metric = m, .attr = attr};
	}
	return 0;
}

/* Add what Redis holds to the unknown cached days (fetch_first) of kind
 * attr (-1: both) and metric (UINT32_MAX: all) from day d0 to d1, in
 * pipelines of up to 1000 keys. Runs before a flush sends anything and
 * before a read of those days, so Redis holds none of our increments of
 * them yet. 0 or an error (the days stay unknown). */
static int resolve_sel(redis_store *rs, int attr, uint32_t metric, int64_t d0, int64_t d1)
{
	enum { SLICE = 1000 };
	for (int kind = 0; kind < 2; kind++) {
		if (attr >= 0 && attr != kind)
			continue;
		for (;;) {
			size_t k = 0;
			uint32_t ms[SLICE];
			int64_t days[SLICE];
			size_t idx[SLICE];
			for (size_t i = 0; i < rs->nunknown && k < SLICE; i++) {
				const rkey *u = &rs->unknown[i];
				if (u->attr != kind || (metric != UINT32_MAX && u->metric != metric) ||
				    u->day < d0 || u->day > d1)
					continue;
				ms[k] = u->metric;
				days[k] = u->day;
				idx[k++] = i;
			}
			if (!k)
				break;
			redisReply **r;
			int rc = fetch_keys(rs, (uint8_t)kind, ms, days, k, &r);
			if (rc)
				return rc;
			for (size_t i = 0; i < k && !rc; i++) {
				if (kind) {
					ts_tally *t = acache_get(rs, ms[i], days[i]);
					if (t) {
						size_t before = ts_tally_memory(t);
						rc = parse_attr_day(rs, r[i], t);
						rs->cache_bytes += ts_tally_memory(t) - before;
					}
				} else {
					uint32_t *base = parse_count_day(r[i]);
					if (!base)
						rc = TS_ENOMEM;
					else if (cache_has(rs, ms[i], days[i]))
						rc = cache_add_day(rs, ms[i], days[i], base);
					free(base);
				}
			}
			free_replies(r, k);
			if (rc)
				return rc;
			/* drop the resolved entries (idx ascending) */
			size_t w = 0, j = 0;
			for (size_t i = 0; i < rs->nunknown; i++) {
				if (j < k && idx[j] == i) {
					j++;
					continue;
				}
				rs->unknown[w++] = rs->unknown[i];
			}
			rs->nunknown = w;
		}
	}
	return 0;
}

static int resolve_unknown(redis_store *rs)
{
	return resolve_sel(rs, -1, UINT32_MAX, INT64_MIN, INT64_MAX);
}

static int rs_add_minute(ts_store *st, uint32_t partition, int64_t minute, const ts_count *c,
			 size_t n)
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
		if ((rc = ensure_metric(rs, m->id)))
			goto out_free;
		int64_t *nd = &rs->newest_day[m->id];
		if (*nd == NO_TIME || day > *nd)
			*nd = day;
		if (day >= *nd - st->retention_days)
			take[i] = m->id;
	}
	if ((rc = fetch_first(rs, 0, day, take, n)))
		goto out_free;
	for (size_t i = 0; i < n; i++) {
		if (take[i] == UINT32_MAX)
			continue;
		const ts_metric *m = ts_registry_get_metric(st->reg, take[i]);
		uint32_t k;
		if ((rc = key_get(rs, 0, m->id, m->partition, day, &k)) ||
		    (rc = ctab_add(&rs->live, k, mod, c[i].count)))
			goto out_free;
		if (cache_has(rs, m->id, day) &&
		    (rc = cache_add(rs, m->id, day * TS_MIN_PER_DAY + mod, c[i].count)))
			goto out_free;
	}
out_free:
	free(take);
	return rc;
}

static int rs_add_attrs(ts_store *st, uint32_t partition, int64_t hour_minute,
			const ts_attr_count *a, size_t n)
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
		if ((rc = ensure_metric(rs, m->id)))
			goto out_free;
		int64_t *nh = &rs->newest_hour[m->id];
		if (*nh == NO_TIME || hour > *nh)
			*nh = hour;
		if (hour > *nh - keep)
			take[i] = m->id;
	}
	if ((rc = fetch_first(rs, 1, day, take, n)))
		goto out_free;
	for (size_t i = 0; i < n; i++) {
		if (take[i] == UINT32_MAX)
			continue;
		const ts_metric *m = ts_registry_get_metric(st->reg, take[i]);
		uint32_t k;
		uint64_t field = hh << 40 | (uint64_t)a[i].kind << 32 | a[i].value;
		if ((rc = key_get(rs, 1, m->id, m->partition, day, &k)) ||
		    (rc = ctab_add(&rs->live, k, field, a[i].count)))
			goto out_free;
		ts_tally *t = acache_get(rs, m->id, day);
		if (t) {
			size_t before = ts_tally_memory(t);
			if ((rc = ts_tally_add(t, ts_attr_key((uint32_t)hh, a[i].kind, a[i].value),
					       a[i].count)))
				goto out_free;
			rs->cache_bytes += ts_tally_memory(t) - before;
		}
	}
out_free:
	free(take);
	return rc;
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

static int rs_read_counts(ts_store *st, uint32_t metric, int64_t from, size_t n, uint32_t *out)
{
	redis_store *rs = (redis_store *)st;
	memset(out, 0, n * sizeof *out);
	if (!n)
		return 0;
	int64_t d0 = ts_day_of(from), d1 = ts_day_of(from + (int64_t)n - 1);
	if (metric < rs->nmetrics && rs->newest_day[metric] != NO_TIME &&
	    d0 < rs->newest_day[metric] - st->retention_days)
		d0 = rs->newest_day[metric] - st->retention_days;
	if (d0 > d1)
		return 0;
	int rc = resolve_sel(rs, 0, metric, d0, d1);
	if (rc)
		return rc;
	/* cached days are copied now; the others (never written by this
	 * process) are read from Redis in one pipeline, copied, then cached */
	size_t nd = (size_t)(d1 - d0 + 1), k = 0;
	uint32_t *ms = malloc(nd * sizeof *ms);
	int64_t *days = malloc(nd * sizeof *days);
	rc = TS_ENOMEM;
	if (!ms || !days)
		goto out_free;
	for (int64_t d = d0; d <= d1; d++) {
		if (cache_has(rs, metric, d)) {
			int64_t a = d * TS_MIN_PER_DAY > from ? d * TS_MIN_PER_DAY : from;
			int64_t b = (d + 1) * TS_MIN_PER_DAY < from + (int64_t)n ? (d + 1) * TS_MIN_PER_DAY
										 : from + (int64_t)n;
			ts_dc_read(&rs->cache[metric], a, (size_t)(b - a), out + (a - from));
		} else {
			ms[k] = metric;
			days[k++] = d;
		}
	}
	rc = 0;
	if (!k)
		goto out_free;
	redisReply **r;
	if ((rc = fetch_keys(rs, 0, ms, days, k, &r)))
		goto out_free;
	for (size_t i = 0; i < k; i++) {
		uint32_t *day = parse_count_day(r[i]);
		if (!day) {
			rc = TS_ENOMEM;
			break;
		}
		copy_day(day, days[i], from, n, out);
		/* cached from now on (a day older than the window is not) */
		int held = cache_hold(rs, metric, days[i]);
		if (held < 0 || (!held && cache_add_day(rs, metric, days[i], day)))
			rc = TS_ENOMEM;
		free(day);
		if (rc)
			break;
	}
	free_replies(r, k);
out_free:
	free(ms);
	free(days);
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

static int rs_read_attrs(ts_store *st, uint32_t metric, int64_t from, int64_t to, ts_attr_cb cb,
			 void *ctx)
{
	redis_store *rs = (redis_store *)st;
	int64_t h0 = ts_floordiv(from, 60), h1 = ts_floordiv(to, 60);
	if (metric < rs->nmetrics && rs->newest_hour[metric] != NO_TIME) {
		int64_t lo = rs->newest_hour[metric] - ((int64_t)st->retention_days + 1) * 24 + 1;
		if (h0 < lo)
			h0 = lo;
	}
	if (h0 >= h1)
		return 0;
	int64_t d0 = ts_floordiv(h0, 24), d1 = ts_floordiv(h1 - 1, 24);
	int rc = resolve_sel(rs, 1, metric, d0, d1);
	if (rc)
		return rc;
	size_t nd = (size_t)(d1 - d0 + 1), k = 0;
	uint32_t *ms = malloc(nd * sizeof *ms);
	int64_t *days = malloc(nd * sizeof *days);
	ts_tally acc = {0};
	rc = TS_ENOMEM;
	if (!ms || !days)
		goto out_free;
	rc = 0;
	for (int64_t d = d0; d <= d1 && !rc; d++) {
		const ts_tally *t = acache_get(rs, metric, d);
		if (t) {
			rc = sum_attr_day(t, d, h0, h1, &acc);
		} else {
			ms[k] = metric;
			days[k++] = d;
		}
	}
	if (rc || !k)
		goto out_sum;
	redisReply **r;
	if ((rc = fetch_keys(rs, 1, ms, days, k, &r)))
		goto out_free;
	for (size_t i = 0; i < k && !rc; i++) {
		ts_tally t = {0};
		rc = parse_attr_day(rs, r[i], &t);
		if (!rc)
			rc = sum_attr_day(&t, days[i], h0, h1, &acc);
		ts_tally_free(&t);
	}
	free_replies(r, k);
out_sum:
	{
		uint64_t key, cnt;
		for (uint32_t i = 0; !rc && ts_tally_next(&acc, &i, &key, &cnt);)
			rc = cb(ctx, (int)ts_attr_key_kind(key), ts_attr_key_value(key), cnt);
	}
out_free:
	ts_tally_free(&acc);
	free(ms);
	free(days);
	return rc;
}

/* --- checkpoints -------------------------------------------------------- */

static int rs_put_state(ts_store *st, uint32_t partition, const void *blob, size_t len,
			const ts_file_id *files, size_t nfiles)
{
	redis_store *rs = (redis_store *)st;
	if (ensure_partition(rs, partition))
		return TS_ENOMEM;
	pstate *ps = &rs->ps[partition];
	ts_buf_reset(&ps->blob);
	int rc = ts_buf_add(&ps->blob, blob, len);
	if (rc)
		return rc;
	ps->has = 1;
	for (size_t i = 0; i < nfiles && !rc; i++) {
		char v[48];
		int vl = snprintf(v, sizeof v, "%llu:%lld", (unsigned long long)files[i].size,
				  (long long)files[i].mtime);
		rc = fmarks_add(&ps->marks, &files[i]);
		if (!rc)
			rc = ts_tally_add(&rs->marks_seen,
					  mark_hash(partition, files[i].name, strlen(files[i].name), v,
						    (size_t)vl),
					  1);
	}
	return rc;
}

static int rs_get_state(ts_store *st, uint32_t partition, ts_buf *out)
{
	redis_store *rs = (redis_store *)st;
	ts_buf_reset(out);
	if (partition < rs->nparts && rs->ps[partition].has)
		return ts_buf_add(out, rs->ps[partition].blob.p, rs->ps[partition].blob.len);
	redisReply *r;
	int rc = get_part_key(rs, partition, "state", &r);
	if (rc)
		return rc;
	if (r->type == REDIS_REPLY_STRING)
		rc = ts_buf_add(out, r->str, r->len);
	freeReplyObject(r);
	return rc;
}

/* Look each file up in the index: one HMGET per mtime day, pipelined;
 * done[i] = 1 where the mark matches size and mtime. */
static int index_lookup(redis_store *rs, const ts_file_id *f, size_t n, uint8_t *done)
{
	if (!n)
		return 0;
	size_t *ord = malloc(n * sizeof *ord), *first = malloc((n + 1) * sizeof *first);
	if (!ord || !first) {
		free(ord);
		free(first);
		return TS_ENOMEM;
	}
	/* order by day (insertion sort on a copy of indices: n is modest) */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		int64_t d = ts_floordiv(f[i].mtime, 86400);
		while (j > 0 && ts_floordiv(f[ord[j - 1]].mtime, 86400) > d) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = i;
	}
	cmdbatch b = {0};
	size_t ng = 0;
	for (size_t i = 0; i < n && !b.err; ng++) {
		int64_t d = ts_floordiv(f[ord[i]].mtime, 86400);
		size_t off;
		first[ng] = i;
		cb_cmd(&b);
		cb_str(&b, "HMGET");
		cb_begin(&b, &off);
		if (!b.err)
			b.err = mark_key(rs, UINT32_MAX, f[ord[i]].mtime, &b.arena);
		cb_end(&b, off);
		for (; i < n && ts_floordiv(f[ord[i]].mtime, 86400) == d; i++)
			cb_str(&b, f[ord[i]].name);
	}
	first[ng] = n;
	int rc = cb_run(rs, &b);
	for (size_t g = 0; !rc && g < ng; g++) {
		const redisReply *r = b.r[g];
		for (size_t i = first[g]; i < first[g + 1]; i++) {
			const ts_file_id *x = &f[ord[i]];
			const redisReply *v = r->type == REDIS_REPLY_ARRAY &&
						      r->elements == first[g + 1] - first[g]
						      ? r->element[i - first[g]]
						      : NULL;
			char want[48];
			int wl = snprintf(want, sizeof want, "%llu:%lld", (unsigned long long)x->size,
					  (long long)x->mtime);
			done[ord[i]] = v && v->type == REDIS_REPLY_STRING && v->len == (size_t)wl &&
				       memcmp(v->str, want, (size_t)wl) == 0;
		}
	}
	cb_free(&b);
	free(ord);
	free(first);
	return rc;
}

/* Done for a partition: its mark hash for the file's mtime day is read
 * once (HGETALL) and remembered, with the marks this store writes. */
static int rs_file_done_in(ts_store *st, uint32_t partition, const ts_file_id *f, int *done)
{
	redis_store *rs = (redis_store *)st;
	int64_t day = ts_floordiv(f->mtime, 86400);
	uint64_t pd = ((uint64_t)partition << 32 | (uint32_t)day) >> 1;
	if (!ts_tally_get(&rs->marks_read, pd)) {
		ts_buf key = {0};
		int rc = mark_key(rs, partition, f->mtime, &key);
		if (rc) {
			ts_buf_free(&key);
			return rc;
		}
		const char *av[2] = {"HGETALL", key.p};
		size_t al[2] = {7, key.len};
		redisReply *r;
		rc = run1(rs, 2, av, al, &r);
		ts_buf_free(&key);
		if (rc)
			return rc;
		for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e + 1 < r->elements && !rc; e += 2)
			if (r->element[e]->type == REDIS_REPLY_STRING &&
			    r->element[e + 1]->type == REDIS_REPLY_STRING)
				rc = ts_tally_add(&rs->marks_seen,
						  mark_hash(partition, r->element[e]->str,
							    r->element[e]->len, r->element[e + 1]->str,
							    r->element[e + 1]->len),
						  1);
		freeReplyObject(r);
		if (rc || (rc = ts_tally_add(&rs->marks_read, pd, 1)))
			return rc;
	}
	char want[48];
	int wl = snprintf(want, sizeof want, "%llu:%lld", (unsigned long long)f->size,
			  (long long)f->mtime);
	*done = ts_tally_get(&rs->marks_seen,
			     mark_hash(partition, f->name, strlen(f->name), want, (size_t)wl)) != 0;
	return 0;
}

static int rs_mark_files(ts_store *st, const ts_file_id *f, size_t n)
{
	redis_store *rs = (redis_store *)st;
	for (size_t i = 0; i < n; i++)
		if (fmarks_add(&rs->index, &f[i]))
			return TS_ENOMEM;
	return 0;
}

static int rs_files_done(ts_store *st, const ts_file_id *f, size_t n, uint8_t *done)
{
	/* in slices, so one pipeline stays modest */
	for (size_t i = 0; i < n; i += 1000) {
		int rc = index_lookup((redis_store *)st, f + i, n - i < 1000 ? n - i : 1000, done + i);
		if (rc)
			return rc;
	}
	return 0;
}

static size_t rs_memory(const ts_store *st)
{
	const redis_store *rs = (const redis_store *)st;
	return sizeof *rs + rs->keys_alloc * sizeof(rkey) + rs->kslots * sizeof(uint32_t) +
	       rs->live.slots * sizeof(cell) + rs->pend_bytes + rs->pend_alloc * sizeof(chunk) +
	       rs->nparts * (sizeof(uint64_t) + 1 + sizeof(pstate)) +
	       rs->nmetrics * (2 * sizeof(int64_t) + sizeof(ts_daycache) + sizeof(attr_cache)) +
	       rs->cache_bytes;
}

static void rs_free(ts_store *st)
{
	redis_store *rs = (redis_store *)st;
	bg_join(rs);
	if (rs->bg) {
		if (rs->bg->c)
			redisFree(rs->bg->c);
		free(rs->bg);
	}
	/* no flush here: only a checkpoint writes, so that counts never reach
	 * Redis without the state and file marks that go with them */
	if (buffered(rs) || has_states(rs))
		ts_debug("store %s: %zu cells after the last checkpoint not written", rs->where,
			 buffered(rs));
	for (size_t i = rs->pend_first; i < rs->npend; i++)
		chunk_free(&rs->pend[i]);
	free(rs->pend);
	live_clear(rs);
	free(rs->next_seq);
	free(rs->seq_known);
	free(rs->newest_day);
	free(rs->newest_hour);
	for (uint32_t i = 0; i < rs->nmetrics; i++) {
		ts_dc_free(&rs->cache[i]);
		for (uint32_t d = 0; d < rs->acache[i].n; d++)
			ts_tally_free(&rs->acache[i].d[d].t);
		free(rs->acache[i].d);
	}
	free(rs->cache);
	free(rs->acache);
	for (uint32_t i = 0; i < rs->nparts; i++) {
		ts_buf_free(&rs->ps[i].blob);
		fmarks_free(&rs->ps[i].marks);
	}
	free(rs->ps);
	free(rs->listed);
	fmarks_free(&rs->index);
	free(rs->unknown);
	ts_tally_free(&rs->marks_read);
	ts_tally_free(&rs->marks_seen);
	drop_conn(rs);
	free(rs);
}

static const ts_store_ops redis_ops = {
	.name = "redis",
	.add_minute = rs_add_minute,
	.read_counts = rs_read_counts,
	.add_attrs = rs_add_attrs,
	.read_attrs = rs_read_attrs,
	.memory = rs_memory,
	.free = rs_free,
	.flush = rs_flush,
	.flush_begin = rs_flush_begin,
	.put_state = rs_put_state,
	.get_state = rs_get_state,
	.file_done_in = rs_file_done_in,
	.mark_files = rs_mark_files,
	.files_done = rs_files_done,
	.flush_due = rs_flush_due,
	.partitions = rs_partitions,
};

/* --- open ---------------------------------------------------------------- */

/* Run each command the store uses once, on ts:probe:* keys that expire,
 * in one pipeline: a missing permission (NOPERM) or a server that refuses
 * writes fails here, naming the command, before anything is written. 0 or
 * TS_ESTORE (errstr set). */
static int preflight(redis_store *rs)
{
	static const char *const probe_keys[] = {"ts:probe:seq", "ts:probe:state", "ts:probe:h"};
	const char *script_args[] = {"1", "60", "", "0", "1", "f", "0"};
	enum { MAXARGS = 16, NCMD = 13 };
	const char *cmds[NCMD][MAXARGS] = {
		{"SET", "ts:probe:s", "1", "EX", "60"},
		{"GET", "ts:probe:s"},
		{"HSET", "ts:probe:h", "f", "0"},
		{"HMGET", "ts:probe:h", "f"},
		{"HGETALL", "ts:probe:h"},
		{"EXPIRE", "ts:probe:h", "60"},
		{"SADD", "ts:probe:p", "x"},
		{"SMEMBERS", "ts:probe:p"},
		{"EXPIRE", "ts:probe:p", "60"},
		{"MULTI"},
		{"EXEC"},
		{"EVALSHA", rs->sha, "3"},
		{"EVAL", flush_script, "3"},
	};
	int argc[NCMD];
	for (int i = 0; i < NCMD; i++) {
		int n = 0;
		while (n < MAXARGS && cmds[i][n])
			n++;
		if (n == 3 && strncmp(cmds[i][0], "EVAL", 4) == 0) {
			/* the flush script on probe keys: KEYS, then ARGV */
			for (int k = 0; k < 3; k++)
				cmds[i][n++] = probe_keys[k];
			for (size_t k = 0; k < TS_ARRAY_LEN(script_args); k++)
				cmds[i][n++] = script_args[k];
		}
		argc[i] = n;
	}
	for (int i = 0; i < NCMD; i++)
		if (redisAppendCommandArgv(rs->c, argc[i], cmds[i], NULL) != REDIS_OK) {
			set_err(rs, "%s: preflight: %s", rs->where, rs->c->errstr);
			return TS_ESTORE;
		}
	int rc = 0;
	for (int i = 0; i < NCMD; i++) {
		void *v;
		if (redisGetReply(rs->c, &v) != REDIS_OK) {
			set_err(rs, "%s: preflight: %s", rs->where, rs->c->errstr);
			return TS_ESTORE;
		}
		redisReply *r = v;
		if (r->type == REDIS_REPLY_ERROR && !rc) {
			set_err(rs, "%s: %s failed: %s%s", rs->where, cmds[i][0], r->str,
				ts_redis_hint(r->str));
			rc = TS_ESTORE;
		}
		freeReplyObject(r);
	}
	return rc;
}

/* The preflight, then SET ts:schema 1 NX (a warning when that made a new,
 * empty store) and check it reads "1". */
static int check_schema(redis_store *rs)
{
	const char *sv[4] = {"SET", "ts:schema", "1", "NX"};
	size_t sl[4] = {3, 9, 1, 2};
	redisReply *r;
	if (preflight(rs) || setup_cmd(rs, rs->c, "SET ts:schema", 4, sv, sl, &r))
		return TS_ESTORE;
	if (r->type == REDIS_REPLY_STATUS)
		ts_warn("store %s holds no history yet (ts:schema was not set): a new one starts "
			"here, and every series warms up before it is judged",
			rs->where);
	freeReplyObject(r);
	const char *gv[2] = {"GET", "ts:schema"};
	size_t gl[2] = {3, 9};
	if (setup_cmd(rs, rs->c, "GET ts:schema", 2, gv, gl, &r))
		return TS_ESTORE;
	int ok = r->type == REDIS_REPLY_STRING && r->len == 1 && r->str[0] == '1';
	if (!ok)
		set_err(rs, "%s: ts:schema is '%.40s', this trailsight writes schema 1", rs->where,
			 r->type == REDIS_REPLY_STRING ? r->str : "(not a string)");
	freeReplyObject(r);
	return ok ? 0 : TS_ESTORE;
}

int ts_store_redis_new(const char *spec, ts_registry *reg, const ts_store_opts *opts,
		       ts_store **out, char *errbuf, size_t errlen)
{
	ts_redis_spec sp;
	int rc = ts_store_redis_parse(spec, &sp, errbuf, errlen);
	if (rc)
		return rc;
	redis_store *rs = calloc(1, sizeof *rs);
	if (!rs) {
		snprintf(errbuf, errlen, "redis store: %s", ts_strerror(TS_ENOMEM));
		return TS_ENOMEM;
	}
	rs->base.ops = &redis_ops;
	rs->base.reg = reg;
	rs->base.retention_days = opts && opts->retention_days > 0 ? opts->retention_days : 28;
	rs->sp = sp;
	snprintf(rs->where, sizeof rs->where, strchr(sp.host, ':') ? "redis://[%s]:%d" : "redis://%s:%d",
		 sp.host, sp.port);
	rs->first_ms = opts && opts->reconnect_first_ms > 0 ? opts->reconnect_first_ms : 100;
	rs->max_ms = opts && opts->reconnect_max_ms > 0 ? opts->reconnect_max_ms : 5000;
	rs->total_ms = opts && opts->reconnect_total_ms > 0 ? opts->reconnect_total_ms : 30000;
	rs->cmd_ms = opts && opts->command_timeout_ms > 0 ? opts->command_timeout_ms : 5000;
	rs->flush_cells = opts && opts->flush_cells ? opts->flush_cells : 500000;
	rs->max_cells = opts && opts->max_cells ? opts->max_cells : 5000000;
	/* open fails fast: one attempt, no backoff */
	if (rconnect(rs) || check_schema(rs)) {
		snprintf(errbuf, errlen, "%s", rs->base.errstr);
		rs_free(&rs->base);
		return TS_ESTORE;
	}
	*out = &rs->base;
	return 0;
}
