/* store.h - where per-minute counts and attribution counts live.
 *
 * A store is a table of functions with two backends that pass one shared
 * conformance test: memory (the default, no server) and Redis. Counts are
 * written once per closed minute per partition (never per record);
 * attribution counts once per closed hour per partition. Reads return dense
 * per-minute arrays for a metric, and summed attribution counts.
 *
 * Metric, partition and value ids are those of the registry the store was
 * opened with; backends that persist (Redis) name things by their strings.
 */
#ifndef TS_STORE_H
#define TS_STORE_H

#include <stdint.h>

#include "fileid.h"
#include "series.h"

typedef struct ts_count {
	uint32_t metric;
	uint32_t count;
} ts_count;

typedef struct ts_attr_count {
	uint32_t metric;
	uint32_t value; /* registry value id */
	uint32_t count;
	uint8_t kind;   /* enum ts_attr_kind */
} ts_attr_count;

/* Called once per (kind, value) by read_attrs with the summed count. */
typedef int (*ts_attr_cb)(void *ctx, int kind, uint32_t value, uint64_t count);
/* Called once per (minute, kind, value) by read_attr_minutes. */
typedef int (*ts_attr_minute_cb)(void *ctx, int64_t minute, int kind, uint32_t value,
				 uint64_t count);

typedef struct ts_store ts_store;

typedef struct ts_store_ops {
	const char *name;
	/* Add the counts of one closed minute of one partition (entries all
	 * belong to that partition). 0 or a negative code. */
	int (*add_minute)(ts_store *s, uint32_t partition, int64_t minute, const ts_count *c,
			  size_t n);
	/* Counts of one metric for minutes [from, from + n) into out[n];
	 * minutes never written read as 0. */
	int (*read_counts)(ts_store *s, uint32_t metric, int64_t from, size_t n, uint32_t *out);
	/* Add attribution counts of one partition for the hour starting at
	 * minute hour (a multiple of 60). */
	int (*add_attrs)(ts_store *s, uint32_t partition, int64_t hour, const ts_attr_count *a,
			 size_t n);
	/* Sum attribution counts of one metric over hours [from, to) (minutes,
	 * multiples of 60) and call cb once per (kind, value). */
	int (*read_attrs)(ts_store *s, uint32_t metric, int64_t from, int64_t to, ts_attr_cb cb,
			  void *ctx);
	/* Bytes of memory the backend holds (an estimate). */
	size_t (*memory)(const ts_store *s);
	/* Of those, the bytes of history held (counts and attributions of
	 * past days: all of them in memory, a cache in front of Redis), and
	 * of that the attributions' into *attrs. May be NULL. */
	size_t (*history_memory)(const ts_store *s, size_t *attrs);
	void (*free)(ts_store *s);
	/* Write everything buffered; 0 or TS_ESTORE (s->errstr says why; what
	 * was buffered stays buffered, so a later flush can retry). */
	int (*flush)(ts_store *s);
	/* May be NULL. Start writing what flush would write and return before
	 * it is confirmed; the next flush (or flush_begin, or free) waits for
	 * it and sends again what was not confirmed. For checkpoints whose
	 * effects need not be confirmed before going on (a backfill's). */
	int (*flush_begin)(ts_store *s);

	/* Checkpoints. put_state saves a partition's engine state (blob, copied)
	 * and marks files[n] done for that partition; it takes effect at the
	 * next flush, atomically with every count of the partition added
	 * before it. get_state reads the saved blob into out (reset; len 0
	 * when there is none). */
	int (*put_state)(ts_store *s, uint32_t partition, const void *blob, size_t len,
			 const ts_file_id *files, size_t nfiles);
	int (*get_state)(ts_store *s, uint32_t partition, ts_buf *out);
	/* *done = 1 if f (same name, size and mtime) is done for partition. */
	int (*file_done_in)(ts_store *s, uint32_t partition, const ts_file_id *f, int *done);
	/* The index of files done for every partition they touch: mark_files
	 * adds f[n] at the next flush (after the partitions' writes);
	 * files_done sets done[i] to 1 for each f[i] in it, else 0. */
	int (*mark_files)(ts_store *s, const ts_file_id *f, size_t n);
	int (*files_done)(ts_store *s, const ts_file_id *f, size_t n, uint8_t *done);
	/* Every partition with a saved state, as "ACCOUNT:REGION" strings
	 * (split at the last ':'), each followed by a NUL, into out (reset). */
	int (*partitions)(ts_store *s, ts_buf *out);
	/* 1 when enough is buffered that the caller should checkpoint and
	 * flush soon (at its next safe point); 0 otherwise. */
	int (*flush_due)(const ts_store *s);

	/* Attributions by minute, for re-detection (ts_engine_replay): both
	 * NULL in a store that keeps them only by hour (memory). add_attr_minute
	 * adds the attribution counts of one closed minute of one partition,
	 * as the windows admitted them (late counts are not in them);
	 * read_attr_minutes calls cb once per (minute, kind, value) of metric
	 * in minutes [from, to), minutes in increasing order. 0 or a negative
	 * code. */
	int (*add_attr_minute)(ts_store *s, uint32_t partition, int64_t minute,
			       const ts_attr_count *a, size_t n);
	int (*read_attr_minutes)(ts_store *s, uint32_t metric, int64_t from, int64_t to,
				 ts_attr_minute_cb cb, void *ctx);

	/* Partition leases and fencing (lease.h): all three NULL in a store
	 * without them (memory). lease runs op on the lease of each of
	 * pids[n], pipelined; a lease's value is "TOKEN/holder", kept ms
	 * milliseconds. TS_LEASE_CLAIM takes each free lease with a new
	 * fencing token (INCR of the partition's counter) into tokens[i], 0
	 * when another holds it, and sets finished[i] (may be NULL) to 1 when
	 * the last release before was marked finished; TS_LEASE_RENEW extends
	 * each lease still holder's with token tokens[i] (else tokens[i]
	 * becomes 0); TS_LEASE_RELEASE deletes each such lease, marked
	 * finished where finished[i] (may be NULL). 0, TS_ESTORE (errstr) or
	 * TS_ENOMEM. */
	int (*lease)(ts_store *s, int op, const char *holder, int ms, size_t n,
		     const uint32_t *pids, uint64_t *tokens, uint8_t *finished);
	/* From now on each checkpoint of partition checks, in the script
	 * call that writes it, that the lease is still token/holder's (the
	 * holder of the last lease call); a refused one writes nothing and
	 * the store drops the partition for good: nothing of it is sent
	 * again and fenced_out returns 1. Token 0: no check. 0 or
	 * TS_ENOMEM. */
	int (*fence)(ts_store *s, uint32_t partition, uint64_t token);
	int (*fenced_out)(const ts_store *s, uint32_t partition);
} ts_store_ops;

enum ts_lease_op { TS_LEASE_CLAIM = 1, TS_LEASE_RENEW = 2, TS_LEASE_RELEASE = 3 };

struct ts_store {
	const ts_store_ops *ops;
	ts_registry *reg;    /* borrowed */
	int retention_days;  /* history kept, in days */
	char errstr[768];    /* last error, for messages */
	uint64_t round_trips; /* requests sent and answered (0 for in-process stores) */
	uint64_t reconnects;  /* connections made again after a failure */
};

typedef struct ts_store_opts {
	int retention_days; /* 0: 28 */
	/* Redis backend only; 0 takes the default. */
	int reconnect_first_ms; /* first backoff delay; 0: 100 */
	int reconnect_max_ms;   /* backoff delay cap; 0: 5000 */
	int reconnect_total_ms; /* give up after this much backoff; 0: 30000 */
	size_t flush_cells;     /* flush_due() past this many cells; 0: 250000 */
	size_t max_cells;       /* past this, adds fail with TS_ECAP; 0: 5000000 */
	int command_timeout_ms; /* per command; 0: 5000 */
} ts_store_opts;

/* Open a store from a spec: "mem" (or NULL/empty) or
 * "redis://[user:pass@]host:port[/db]". Returns 0 and *out, TS_EINVAL for a
 * spec it does not understand (message in errbuf), TS_ESTORE when the
 * backend cannot start, or TS_ENOMEM. reg is borrowed and must outlive the
 * store. */
int ts_store_open(const char *spec, ts_registry *reg, const ts_store_opts *opts,
		  ts_store **out, char *errbuf, size_t errlen);
/* NULL is a no-op. */
void ts_store_free(ts_store *s);
/* Set s->errstr, the message behind a TS_ESTORE, from a printf format
 * (cut to fit). For the store's users that find a store's content
 * unusable (a state that cannot be decoded). */
void ts_store_errorf(ts_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A store that does everything in counts except read_attrs, which it
 * asks of attrs (store_view.c): re-detection counts into a memory store
 * and reads attribution hours from the Redis store that kept them. Both
 * are borrowed and must outlive the view; ts_store_free frees the view
 * alone. 0 and *out, or TS_ENOMEM. */
int ts_store_view_new(ts_store *counts, ts_store *attrs, ts_store **out);

/* The memory backend, for tests that want it directly. */
int ts_store_mem_new(ts_registry *reg, const ts_store_opts *opts, ts_store **out);

/* Open the Redis backend: connect, AUTH, SELECT, check ts:schema, load the
 * flush script. 0 and *out; TS_EINVAL for a bad spec; TS_ESTORE when Redis
 * cannot be reached or refuses (message in errbuf); TS_ENOMEM. */
int ts_store_redis_new(const char *spec, ts_registry *reg, const ts_store_opts *opts,
		       ts_store **out, char *errbuf, size_t errlen);
/* The Lua text of the flush script (static storage), for tests and
 * operators. */
const char *ts_store_redis_script(void);

#endif
