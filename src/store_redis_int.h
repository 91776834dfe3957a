/* store_redis_int.h - the private header of the Redis store, shared by its
 * four files and nothing else:
 *   store_redis.c        open (preflight, schema), the connection hook,
 *                        checkpoints (states, file marks), free;
 *   store_redis_keys.c   key and field names, the read caches, reads;
 *   store_redis_buf.c    the write buffer (cells by key), adds;
 *   store_redis_flush.c  the flush: script, arguments, chunks, MULTI/EXEC,
 *                        the index and partition list;
 *   store_redis_bg.c     the background flush thread.
 * The key scheme and the flush protocol are described in docs/DESIGN.md
 * ("The Redis key scheme") and at the top of each file.
 *
 * One redis_store owns everything below; rs_free (store_redis.c) frees it
 * all. Only one thread touches a redis_store, except the background flush,
 * which reads pend[first, end), writes their sent/acked flags and frees
 * the text (argv, arena, state blob) of those it saw applied, until
 * rs_bg_join returns (store_redis_bg.c says how).
 */
#ifndef TS_STORE_REDIS_INT_H
#define TS_STORE_REDIS_INT_H

#include <hiredis/hiredis.h>

#include "daycache.h"
#include "markcache.h"
#include "redis_conn.h"
#include "store.h"
#include "tally.h"

#define RS_MAX_CHUNK_KEYS 2000
#define RS_MAX_CHUNK_FIELDS 200000
#define RS_NO_TIME INT64_MIN

/* A buffered or cached key: (counts|attrs, metric, day). */
typedef struct rkey {
	int64_t day;
	uint32_t metric;
	uint32_t partition;
	uint8_t attr; /* 0 counts, 1 attributions */
} rkey;

/* --- the one argument builder -------------------------------------------
 * Arguments built into one arena (each followed by the NUL ts_buf keeps):
 * text appended between rs_args_begin and rs_args_end is one argument.
 * Used two ways: command batches (rs_args_cmd opens a command, rs_args_run
 * runs them all, pipelined) and flush-script chunks (arguments flagged as
 * KEYS or ARGV, turned into one EVALSHA by rs_chunk_make). Errors are
 * sticky: after the first, building does nothing and run returns it. */
typedef struct rs_arg {
	size_t off, len;
	uint32_t cmd;  /* the command it belongs to (batches) */
	uint8_t key;   /* a KEYS argument (chunks) */
} rs_arg;

typedef struct rs_args {
	ts_buf arena;
	rs_arg *a;
	size_t n, alloc;
	uint32_t ncmds;
	size_t nkeys;
	redisReply **r; /* after rs_args_run: one reply per command */
	int err;        /* sticky: the first failure while building */
	char *blob;     /* chunks: a partition's state, an argument by
			   reference (a[blob_at], empty in arena), not owned */
	size_t blob_len, blob_at;
} rs_args;

/* One frozen flush-script call (EVALSHA, or EVAL inside MULTI/EXEC).
 * argv/argvlen are the parallel arrays hiredis takes; they point into
 * arena (owned), but for argv[0..1] (static strings or the sha in arena),
 * argv[seq_arg] (seqbuf, owned, rewritten when renumbered) and the state
 * argument (blob: the partition's pstate blob, owned once the freeze
 * succeeded, so the state is never copied). */
typedef struct chunk {
	uint32_t partition;
	uint64_t seq;
	int argc;
	const char **argv;
	size_t *argvlen;
	char *arena;
	size_t ncells, bytes;
	int seq_arg;    /* index in argv of the sequence number */
	int sent;       /* it may have reached Redis: a 0 reply means applied */
	char *seqbuf;   /* owned text of the sequence number */
	size_t sha_off; /* where the script's sha is in arena */
	int acked;      /* applied, as the background flush saw */
	uint64_t gen;   /* the freeze that made it: one partition's chunks of one
			   freeze are sent in one MULTI/EXEC */
	char *blob;     /* the state argument, taken from the partition's pstate */
	int owns_blob;  /* set once the freeze succeeded */
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

/* What the store keeps per partition id. */
typedef struct rs_part {
	uint64_t next_seq; /* valid where seq_known */
	uint8_t seq_known;
	uint8_t listed;    /* in ts:partitions: 0 no, 2 once written, 1 yes */
	pstate ps;         /* state to write at the next flush */
} rs_part;

/* What the store keeps per metric id: retention and the read cache
 * (attribution days are not cached: see rs_read_attrs). */
typedef struct rs_metric {
	int64_t newest_day, newest_hour; /* RS_NO_TIME unknown */
	ts_daycache cache;               /* count days (store_redis_keys.c) */
} rs_metric;

/* The write buffer's cells: (key index, field) -> sum, open addressing. */
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

struct rs_bg;

typedef struct redis_store {
	ts_store base;
	ts_redis_spec sp;
	char where[300]; /* "redis://host:port", for messages (no credentials) */
	ts_redis *r;     /* the client (connects again as redis_conn.h says) */
	char sha[41];    /* of the flush script, as the last connection loaded it */
	int cmd_ms;
	size_t flush_cells, max_cells;

	/* the write buffer (store_redis_buf.c) */
	rkey *keys;
	uint32_t nkeys, keys_alloc;
	uint32_t *kslot; /* indices into keys, UINT32_MAX empty */
	size_t kslots;
	ctab live;

	/* frozen chunks waiting for Redis (store_redis_flush.c) */
	chunk *pend;
	size_t npend, pend_alloc, pend_first, pend_cells, pend_bytes;
	uint64_t gen;       /* freezes so far */
	fmarks index;       /* files for the index, written after a flush */

	rs_part *part;      /* per partition id */
	uint32_t nparts;
	rs_metric *met;     /* per metric id */
	uint32_t nmetrics;
	size_t cache_bytes;
	rkey *unknown;      /* cached days whose Redis part is not added yet */
	size_t nunknown, unknown_alloc;
	struct rs_bg *bg;   /* the background flush, if one was started */
	uint64_t bg_trips, bg_reconnects;
	ts_markcache marks;  /* by mtime day: rs_mark_hash() of each mark read or
				written, partitions whose mark hash was read */
} redis_store;

/* --- store_redis.c --- */
void rs_set_err(redis_store *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Set errstr for a store whose history Redis lost (why: what showed it). */
void rs_history_lost(redis_store *rs, const char *why, char *err, size_t errlen);
/* ts_redis_run with the client's error copied to errstr and the counters
 * updated. 0 and replies[n], or TS_ESTORE. */
int rs_run(redis_store *rs, size_t n, const ts_redis_cmd *cmds, redisReply **replies, int *sends);
int rs_run1(redis_store *rs, int argc, const char **argv, const size_t *lens, redisReply **r);
/* Refresh base.round_trips and base.reconnects from the clients. */
void rs_sync_counts(redis_store *rs);
const char *rs_script(void);
size_t rs_script_len(void);

/* --- store_redis_keys.c: names, the read caches, reads --- */
int rs_part_prefix(redis_store *rs, uint32_t pid, ts_buf *b);
int rs_key_name(redis_store *rs, const rkey *k, ts_buf *b);
int rs_field_name(redis_store *rs, const rkey *k, uint64_t field, ts_buf *b);
int rs_add_u64(ts_buf *b, uint64_t v);
/* "ts:files:YYYYMMDD" (pid UINT32_MAX) or "ts:{ACCT:REGION}:files:..." */
int rs_mark_key(redis_store *rs, uint32_t pid, int64_t mtime, ts_buf *b);
int rs_mark_value(const fmark *m, ts_buf *b);
int64_t rs_mark_day(const fmark *m);
int rs_fmark_cmp(const void *a, const void *b);
uint64_t rs_mark_hash(uint32_t pid, const char *name, size_t nlen, const char *val, size_t vlen);
int rs_ensure_metric(redis_store *rs, uint32_t id);
int rs_cache_has(const redis_store *rs, uint32_t metric, int64_t day);
int rs_cache_add(redis_store *rs, uint32_t metric, int64_t minute, uint32_t count);
/* Days of file marks cached before the newest mtime day (markcache.h). */
#define RS_MARK_DAYS_KEPT 1
int rs_fetch_first(redis_store *rs, int64_t day, const uint32_t *metric, size_t n);
int rs_resolve_unknown(redis_store *rs);
void rs_caches_free(redis_store *rs);
int rs_read_counts(ts_store *st, uint32_t metric, int64_t from, size_t n, uint32_t *out);
int rs_read_attrs(ts_store *st, uint32_t metric, int64_t from, int64_t to, ts_attr_cb cb,
		  void *ctx);

/* --- store_redis_buf.c: the write buffer --- */
int rs_ensure_partition(redis_store *rs, uint32_t id);
int rs_key_get(redis_store *rs, const rkey *k, uint32_t *out);
void rs_live_clear(redis_store *rs);
int rs_has_states(const redis_store *rs);
size_t rs_buffered(const redis_store *rs);
void rs_fmarks_clear(fmarks *f);
void rs_fmarks_free(fmarks *f);
int rs_fmarks_add(fmarks *f, const ts_file_id *id);
int rs_add_minute(ts_store *st, uint32_t partition, int64_t minute, const ts_count *c, size_t n);
int rs_add_attrs(ts_store *st, uint32_t partition, int64_t hour_minute, const ts_attr_count *a,
		 size_t n);
int rs_flush_due(const ts_store *st);

/* --- store_redis_flush.c: arguments, chunks, the flush --- */
void rs_args_cmd(rs_args *b);
static inline void rs_args_begin(rs_args *b, size_t *off) { *off = b->arena.len; }
int rs_args_end(rs_args *b, size_t off, int key);
int rs_args_add(rs_args *b, const char *p, size_t n, int key);
static inline int rs_args_str(rs_args *b, const char *s) { return rs_args_add(b, s, strlen(s), 0); }
int rs_args_run(redis_store *rs, rs_args *b);
void rs_args_free(rs_args *b);
void rs_chunk_free(chunk *ch);
/* GET ts:{ACCT:REGION}:<what>: 0 and *r (caller frees), or an error. */
int rs_get_part_key(redis_store *rs, uint32_t pid, const char *what, redisReply **r);
int rs_freeze(redis_store *rs);
int rs_send_pending(redis_store *rs);
int rs_write_index_n(redis_store *rs, size_t n);
int rs_list_partitions(redis_store *rs);
int rs_flush(ts_store *st);
int rs_flush_begin(ts_store *st);

/* --- store_redis_bg.c: the background flush --- */
/* Send pend[pend_first, npend) from a thread; 0 once started, else the
 * result of sending them here. */
int rs_bg_start(redis_store *rs);
/* Wait for it, drop what it applied, write the index and partition list it
 * was for. 0 or an error of those writes. */
int rs_bg_join(redis_store *rs);
void rs_bg_free(redis_store *rs);

#endif
