/* store_redis_int.h - the private header of the Redis store, shared by its
 * files and nothing else:
 *   store_redis.c        open (preflight, schema), the connection hook,
 *                        checkpoints (states, file marks), free;
 *   store_redis_keys.c   key and field names, the read caches, reads;
 *   store_redis_buf.c    the write buffer (cells by key), adds;
 *   store_redis_flush.c  the flush: script, arguments, chunks, MULTI/EXEC,
 *                        the index and partition list;
 *   store_redis_chunk.c  a frozen chunk's compact form and its expansion;
 *   store_redis_bg.c     the background flush thread;
 *   store_redis_cluster.c the store on a Redis Cluster: open, routing.
 * The key scheme and the flush protocol are described in docs/DESIGN.md
 * ("The Redis key scheme") and at the top of each file.
 *
 * One redis_store owns everything below; rs_free (store_redis.c) frees it
 * all. Only one thread touches a redis_store, except the background flush,
 * which reads pend[first, end), expands each chunk for its send, writes
 * their sent/acked flags and frees those it saw applied, until
 * rs_bg_join returns (store_redis_bg.c says how).
 */
#ifndef TS_STORE_REDIS_INT_H
#define TS_STORE_REDIS_INT_H

#include <hiredis/hiredis.h>

#include "daycache.h"
#include "markcache.h"
#include "redis_cluster.h"
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
	uint8_t attr; /* 0 counts, 1 attributions by hour, 2 by minute (RS_MINUTES) */
} rkey;
#define RS_MINUTES 2

/* --- the one argument builder -------------------------------------------
 * Commands built into one arena (each argument followed by the NUL ts_buf
 * keeps): rs_args_cmd opens a command, text appended between
 * rs_args_begin and rs_args_end is one argument, rs_args_run runs them
 * all, pipelined. Errors are sticky: after the first, building does
 * nothing and run returns it. (Checkpoint chunks have their own compact
 * form: store_redis_chunk.c.) */
typedef struct rs_arg {
	size_t off, len;
	uint32_t cmd;  /* the command it belongs to */
} rs_arg;

typedef struct rs_args {
	ts_buf arena;
	rs_arg *a;
	size_t n, alloc;
	uint32_t ncmds;
	redisReply **r; /* after rs_args_run: one reply per command */
	int err;        /* sticky: the first failure while building */
} rs_args;

/* One frozen flush-script call, compact (store_redis_chunk.c says how):
 * spec holds its arguments as items; argv/argvlen/text are the call made
 * from them by rs_chunk_expand for one send and dropped by
 * rs_chunk_shrink. The state argument is blob: the partition's pstate
 * blob, owned once the freeze succeeded, so the state is never copied. */
typedef struct chunk {
	uint32_t partition;
	uint64_t seq;          /* written into the call at each expand */
	unsigned char *spec;   /* owned; NULL once freed */
	size_t spec_len;
	uint32_t nkeys, nargs; /* KEYS and ARGV of the script */
	size_t ncells, bytes;
	int sent;       /* it may have reached Redis: a 0 reply means applied */
	int acked;      /* applied, as the background flush saw */
	uint64_t gen;   /* the freeze that made it: one partition's chunks of one
			   freeze are sent in one MULTI/EXEC */
	char *blob;     /* the state argument, taken from the partition's pstate */
	size_t blob_len;
	int owns_blob;  /* set once the freeze succeeded */
	int argc;       /* the expanded call, or 0 and NULLs */
	const char **argv;
	size_t *argvlen;
	char *text;
} chunk;

/* A chunk's spec being built: the items, the KEYS and ARGV counted, the
 * state blob referred to, and the chunk's value table (registry value id
 * -> offset of its VAL item; entries of older chunks have older stamps). */
typedef struct rs_vslot {
	uint32_t vid, off, stamp;
} rs_vslot;

typedef struct rs_spec {
	ts_buf b;
	uint32_t nkeys, nargs;
	int err; /* sticky */
	char *blob;
	size_t blob_len;
	rs_vslot *vtab;
	size_t vslots, nvals;
	uint32_t stamp; /* the chunk's; never 0 once used (0: an empty slot) */
} rs_spec;

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
	uint64_t fence;    /* lease token its chunks are checked against; 0 none */
	uint8_t fenced_out; /* a chunk was refused for the lease: dropped for good */
} rs_part;

/* What the store keeps per metric id: retention and the count days not
 * yet all in Redis (attribution days are not cached: see rs_read_attrs). */
typedef struct rs_metric {
	int64_t newest_day, newest_hour; /* RS_NO_TIME unknown */
	ts_daycache *cache; /* count days (store_redis_keys.c); NULL: none */
	uint32_t wgen;      /* live_gen of its last write into the cache */
} rs_metric;

/* The write buffer's cells: (key index, field) -> sum, open addressing. */
typedef struct cell {
	uint64_t field;
	uint32_t key1; /* key index + 1; 0: an empty slot */
	uint32_t sum;  /* a minute's count is 32 bits wide everywhere */
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
	ts_redis *r;     /* the client (connects again as redis_conn.h says);
			    NULL on a cluster */
	ts_rcluster *rc; /* on a cluster (redis-cluster://): its client; else NULL */
	ts_rcluster_spec csp; /* on a cluster: its seeds, for the background flush */
	int ro_first_ms, ro_max_ms, ro_total_ms; /* the reconnect options */
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
	rs_spec spec;       /* the chunk being frozen (its table kept between) */
	fmarks index;       /* files for the index, written after a flush */

	rs_part *part;      /* per partition id */
	uint32_t nparts;
	rs_metric *met;     /* per metric id */
	uint32_t nmetrics;
	size_t cache_bytes;  /* the count days' cells and structs */
	size_t state_bytes;  /* the partitions' states waiting for a freeze */
	uint32_t live_gen;  /* freezes of the live cells so far (wraps) */
	rkey *unknown;      /* cached days whose Redis part is not added yet */
	size_t nunknown, unknown_alloc;
	struct rs_bg *bg;   /* the background flush, if one was started */
	uint64_t bg_trips, bg_reconnects;
	char holder[200];    /* leases: "GROUP/WORKER" of the last lease call */
	uint64_t fence_refused; /* chunks refused for a lease held by another */
	int fencing;         /* some partition is fenced: the index is not written */
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
/* The connection options of the store's clients (one server or each
 * cluster node): its timeouts and backoff, on_connect run on each. */
ts_redis_opts rs_conn_opts(redis_store *rs,
			   int (*on_connect)(void *, redisContext *, int, char *, size_t));

/* --- store_redis_keys.c: names, the read caches, reads --- */
int rs_part_prefix(redis_store *rs, uint32_t pid, ts_buf *b);
int rs_key_name(redis_store *rs, const rkey *k, ts_buf *b);
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
/* Let go of the cached count days of every metric with no write since the
 * last freeze (all: of every metric); call only when every frozen chunk is
 * applied, so Redis holds all of what is let go. */
void rs_cache_evict(redis_store *rs, int all);
void rs_caches_free(redis_store *rs);
int rs_read_counts(ts_store *st, uint32_t metric, int64_t from, size_t n, uint32_t *out);
int rs_read_attrs(ts_store *st, uint32_t metric, int64_t from, int64_t to, ts_attr_cb cb,
		  void *ctx);
int rs_read_attr_minutes(ts_store *st, uint32_t metric, int64_t from, int64_t to,
			 ts_attr_minute_cb cb, void *ctx);

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
int rs_add_attr_minute(ts_store *st, uint32_t partition, int64_t minute, const ts_attr_count *a,
		       size_t n);
int rs_flush_due(const ts_store *st);

/* --- store_redis_chunk.c: a chunk's compact spec, expanded for a send --- */
const char *rs_attr_kind_name(unsigned kind);
/* Append an argument (KEYS if key): a string written between begin and
 * end into s->b, a string, a number, the state blob (referred to, not
 * copied), the sequence number, an attribution field "HH:kind:VALUE"
 * (VALUE, registry value vid, stored once per chunk). Errors are sticky. */
int rs_spec_str_begin(rs_spec *s, int key, size_t *off);
int rs_spec_str_end(rs_spec *s, size_t off);
int rs_spec_str(rs_spec *s, int key, const char *p, size_t n);
int rs_spec_num(rs_spec *s, uint64_t v);
int rs_spec_blob(rs_spec *s, char *blob, size_t len);
int rs_spec_seq(rs_spec *s);
int rs_spec_attr(rs_spec *s, unsigned hh, unsigned kind, uint32_t vid, const char *val,
		 size_t n);
/* Move what was built into *ch, the spec left empty for the next chunk. */
int rs_spec_take(rs_spec *s, uint32_t pid, uint64_t seq, size_t ncells, chunk *ch);
void rs_spec_free(rs_spec *s);
/* Make h's call: argv[0] cmd, argv[1] a1 (the script or its sha, not
 * copied: it must outlive the send), then numkeys, KEYS and ARGV. 0,
 * TS_ENOMEM or TS_EINVAL (a spec this build did not write). */
int rs_chunk_expand(chunk *h, const char *cmd, const char *a1, size_t a1len);
void rs_chunk_shrink(chunk *h);
/* Free what h owns: spec, the expanded call, the blob if owned. */
void rs_chunk_free(chunk *h);

/* --- store_redis_flush.c: arguments, chunks, the flush --- */
void rs_args_cmd(rs_args *b);
static inline void rs_args_begin(rs_args *b, size_t *off) { *off = b->arena.len; }
int rs_args_end(rs_args *b, size_t off);
int rs_args_add(rs_args *b, const char *p, size_t n);
static inline int rs_args_str(rs_args *b, const char *s) { return rs_args_add(b, s, strlen(s)); }
int rs_args_run(redis_store *rs, rs_args *b);
void rs_args_free(rs_args *b);
/* GET ts:{ACCT:REGION}:<what>: 0 and *r (caller frees), or an error. */
int rs_get_part_key(redis_store *rs, uint32_t pid, const char *what, redisReply **r);
int rs_freeze(redis_store *rs);
int rs_send_pending(redis_store *rs);
int rs_write_index_n(redis_store *rs, size_t n);
int rs_list_partitions(redis_store *rs);
int rs_flush(ts_store *st);
int rs_flush_begin(ts_store *st);

/* --- store_redis_cluster.c: the store on a Redis Cluster --- */
/* Open rs (its options set, rs->r NULL) on the cluster of spec: 0, or an
 * error with errbuf set (rs is freed by the caller). */
int rs_cluster_open(redis_store *rs, const char *spec, char *errbuf, size_t errlen);
/* Send a store batch through c: each command routed by its key, a batch
 * MULTI ... EXEC as one transaction on its slot's node. As
 * ts_rcluster_run: 0 and replies[n], or TS_ESTORE (TS_EINVAL, TS_ENOMEM
 * for a batch it cannot route or no memory). */
int rs_cluster_send(ts_rcluster *c, size_t n, const ts_redis_cmd *cmds, redisReply **replies,
		    int *sends);

/* --- store_redis_lease.c: partition leases and fencing --- */
int rs_lease(ts_store *st, int op, const char *holder, int ms, size_t n, const uint32_t *pids,
	     uint64_t *tokens, uint8_t *finished);
int rs_fence(ts_store *st, uint32_t partition, uint64_t token);
int rs_fenced_out(const ts_store *st, uint32_t partition);
/* A chunk of a fenced partition: its last KEYS the lease key, its last
 * ARGV "fence=TOKEN/holder" (the flush script checks and drops them). */
int rs_chunk_fence(redis_store *rs, rs_spec *s, uint32_t pid);
/* A flush script reply refusing a chunk for its lease. */
#define RS_FENCED (-2)
/* Drop partition pid after a refusal: its pending state, marks and
 * future chunks (counted, warned once). */
void rs_fenced(redis_store *rs, uint32_t pid);

/* --- store_redis_bg.c: the background flush --- */
/* Send pend[pend_first, npend) from a thread; 0 once started, else the
 * result of sending them here. */
int rs_bg_start(redis_store *rs);
/* Wait for it, drop what it applied, write the index and partition list it
 * was for. 0 or an error of those writes. */
int rs_bg_join(redis_store *rs);
void rs_bg_free(redis_store *rs);

#endif
