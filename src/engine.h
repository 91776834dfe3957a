/* engine.h - the pipeline from parsed records to insight events.
 *
 * The engine classifies each record (management or data event, read or
 * write, error), counts it in the minute aggregator, and, as the
 * aggregator closes minutes, writes them to the store, refits baselines at
 * each UTC day, runs the detector on every metric of the partition and
 * writes the Start/End events. It owns the aggregator and the detector
 * states; the registry and store are borrowed. Events are held until a
 * checkpoint has stored the state that made them (sorted: until finish),
 * so a run that stops between checkpoints loses none: the next one
 * restores each partition's state, with its unwritten events, and re-reads
 * the files not yet done.
 */
#ifndef TS_ENGINE_H
#define TS_ENGINE_H

#include <stdint.h>

#include "profile.h"
#include "record.h"
#include "series.h"
#include "store.h"

typedef struct ts_engine_opts {
	ts_profile profile;
	int lateness;          /* minutes a record may come after the newest one */
	int include_read_only; /* count read-only calls in the call rate */
	int include_data;      /* count data events (as their own series) */
	int sorted;            /* hold events, write them in time order at finish */
	int trailsight_context;/* add insightDetails.trailsightContext */
	int force;             /* count files even where the store has them done */
	/* distinct attribution values kept per series, kind and hour (past
	 * it, new values of that hour are dropped and counted); 0: 1000 */
	uint32_t max_attr_values;
	/* optional: seconds on some clock, to measure how long events wait
	 * between the minute close that made them and their writing */
	double (*clock)(void *ctx);
	void *clock_ctx;
	/* input order (src/order.h): TS_ORDER_TIME (default, a stream),
	 * TS_ORDER_AUTO or TS_ORDER_ANY (a backfill whose insights do not
	 * depend on the order of its records) */
	int order;
	size_t order_auto_events; /* TS_ORDER_AUTO: counts held before trusting order; 0: 262144 */
	size_t hold_cap;          /* most counts held (40 bytes each); 0: 32 Mi */
	/* clock skew guard: a record more than this many minutes ahead of
	 * every other record of its partition is skipped as future_time;
	 * 0: no guard. Defaults to 60. */
	int future_minutes;
	/* stream: unix seconds now (a record is refused at once when it is
	 * also more than 15 minutes ahead of it); NULL in a backfill */
	int64_t (*wall)(void *ctx);
	/* a record skipped as future_time at finish (a backfill): where it
	 * came from (path valid during the call) and its time; may be NULL */
	void (*on_future)(void *ctx, const char *path, uint64_t off, int64_t t);
	void *future_ctx;
	/* optional, borrowed (they must outlive the engine): the profile's
	 * override blocks (a series judged by the most specific one in whose
	 * scope it is, resolved once per series) and the suppression rules
	 * (rules.h) */
	const struct ts_overrides *overrides;
	const struct ts_rules *rules;
	/* optional: receives each event of a series a mark rule holds, as
	 * made (never sorted, never held for a checkpoint); without it they
	 * are only counted */
	int (*emit_marked)(void *ctx, const char *json, size_t len);
	void *marked_ctx;
	/* a stream (not sorted): write a Start as soon as the counts of the
	 * open minutes make an increase significant (src/early.c) */
	int early;
	/* re-detection (ts_engine_replay): the events of episodes that start
	 * before this minute are not written (0: every event) */
	int64_t since;
	/* optional: for a worker of a group (lease.h), 1 when it owns
	 * partition pid now. A record of a partition not owned is not counted
	 * (stats.not_owned), finish restores only owned partitions, a
	 * checkpoint saves only them, and the events of a partition not owned
	 * when they would be written are dropped (stats.events_dropped).
	 * NULL: every partition is owned. */
	int (*owns)(void *ctx, uint32_t pid);
	void *owns_ctx;
} ts_engine_opts;

/* Defaults: the default profile, lateness 20, management writes only,
 * sorted output, with trailsightContext, records in time order, the clock
 * skew guard at 60 minutes. */
void ts_engine_opts_defaults(ts_engine_opts *o);

typedef struct ts_engine_stats {
	uint64_t counted;          /* records counted */
	uint64_t late;             /* of those, for an already closed minute */
	uint64_t read_only;        /* of those, read-only calls */
	uint64_t errors;           /* of those, with an errorCode */
	uint64_t ignored_data;     /* data events (without include_data) */
	uint64_t ignored_insight;  /* insight events in the input */
	uint64_t ignored_category; /* other event categories */
	uint64_t skipped_fields;   /* no account or region, or one with ':',
				      braces or control characters */
	uint64_t skipped_cap;      /* a registry cap was reached (partitions, values) */
	uint64_t overflow_series;  /* records of new series past the series caps */
	uint64_t overflow_codes;   /* errors of new codes past the per-series cap
				      (the call itself is counted) */
	uint64_t attr_dropped;     /* attribution counts past max_attr_values */
	uint64_t starts, ends;     /* insight events written */
	uint64_t suppressed;       /* records a drop rule took (not counted) */
	uint64_t marked;           /* events of marked series (not written) */
	uint64_t capped;           /* Starts past the profile's max_open in their
				      partition: not written, nor their Ends */
	uint64_t early_starts;     /* of the starts, made on open minutes */
	uint64_t open_at_end;      /* episodes still open at finish (not marked) */
	uint64_t minutes_closed;
	uint64_t cells;            /* non-zero (metric, minute) counts written */
	uint64_t attr_cells;       /* (metric, hour, kind, value) counts written */
	uint64_t fits;             /* baselines fitted */
	uint64_t already_counted;  /* records of a file already done for their partition */
	uint64_t future_time;      /* records far ahead of their partition's others:
				      not counted (counted does not include them) */
	uint64_t held_peak;        /* most counts held at once to order them */
	uint64_t held_bytes;       /* the memory they took */
	int reordered;             /* records came out of order (more than the
				      lateness) and held counts were replayed
				      in time order */
	int hold_capped;           /* the hold cap was reached */
	uint64_t restored;         /* partitions whose saved state was loaded */
	uint64_t not_owned;        /* records of partitions another worker owns */
	uint64_t events_dropped;   /* events of partitions no longer owned */
	uint64_t checkpoints;      /* checkpoints written */
	/* with opts.clock: seconds from the close of the minute that made a
	 * Start to its writing; the median, 90th and 99th percentiles (nearest
	 * rank) and max of the Starts written (the first 100000) */
	uint64_t latency_n;
	double latency_median, latency_p90, latency_p99, latency_max;
} ts_engine_stats;

/* Receives each event as one line of JSON (no newline). Non-zero return
 * stops the engine with that code. */
typedef int (*ts_emit_fn)(void *ctx, const char *json, size_t len);

typedef struct ts_engine ts_engine;

/* NULL on ENOMEM or a bad option (lateness out of range). */
ts_engine *ts_engine_new(const ts_engine_opts *o, ts_registry *reg, ts_store *store,
			 ts_emit_fn emit, void *ctx);
void ts_engine_free(ts_engine *e); /* NULL is a no-op */

/* Where the next record comes from (path borrowed until the next call;
 * copied if kept), for the clock skew guard's reports. */
void ts_engine_set_origin(ts_engine *e, const char *path, uint64_t off);

/* What ts_engine_add did with a record it did not refuse. */
enum ts_add_result {
	TS_ADD_COUNTED = 0, /* counted (or held; see opts.order) */
	TS_ADD_IGNORED = 1  /* ignored by policy, already counted, or past a
			       series cap (see stats; counted in the overflow
			       table) */
};

/* Count one record: TS_ADD_COUNTED, TS_ADD_IGNORED;
 * TS_EFUTURE: a stream's record far ahead (see opts.future_minutes), not
 * counted;
 * TS_EFIELD (no account/region, or one with ':', braces or control
 * characters) or TS_ECAP: the record was skipped;
 * TS_ESTORE / TS_ENOMEM or an emit error: fatal, stop the run. */
int ts_engine_add(ts_engine *e, const ts_record *r);

/* Close every open minute, write the held events (sorted mode), and
 * checkpoint. 0 or a fatal code. */
int ts_engine_finish(ts_engine *e);

/* Checkpoints. The records between file_begin and file_end come from file
 * f (copied). A partition's records are skipped (counted as
 * already_counted) when the store has f done for that partition, unless
 * opts.force. file_end checkpoints when the store asks for a flush.
 * A partition is restored from its saved state when the engine first
 * sees it. ts_engine_checkpoint (only between files) saves every changed
 * partition's state with the files read into it, marks the files read to
 * the end as done, flushes the store, and then (not sorted) writes the
 * events held since the last checkpoint. Each returns 0, TS_EINVAL
 * (misuse), or a fatal code (TS_ESTORE: store->errstr says why). */
int ts_engine_file_begin(ts_engine *e, const ts_file_id *f);
int ts_engine_file_end(ts_engine *e);
int ts_engine_checkpoint(ts_engine *e);

/* Advance every partition's event time by minutes, as if a record that
 * much newer than its newest had come (closes what that closes): how a
 * streaming source that went idle still closes minutes. 0 or a fatal
 * code. */
int ts_engine_advance(ts_engine *e, int64_t minutes);
/* Close every open minute of every partition through its newest minute
 * with a count, as if a record lateness + 1 minutes after that one had
 * come: how a stream that went idle closes what it read. A partition
 * whose event time was already advanced that far (by an earlier call, and
 * no newer record since) is left as it is, so idle times between records
 * of other partitions never close a partition's minutes before their
 * records come. 0 or a fatal code. */
int ts_engine_close_open(ts_engine *e);
/* For an ordered source (a Redis Stream): the next records come from
 * position (ms, seq), positions only growing. Each partition saves the
 * position it has counted through with its state, and a record at or
 * before it is skipped (already_counted): so entries read again after a
 * restart, before they were acknowledged, count once. */
void ts_engine_set_position(ts_engine *e, uint64_t ms, uint64_t seq);
/* Events made and not yet written (they go out at the next checkpoint,
 * or at finish when sorted). */
size_t ts_engine_pending_events(const ts_engine *e);
/* Episodes open now (of series whose events go to the sinks). */
uint64_t ts_engine_open_insights(const ts_engine *e);
/* Newest eventTime minute seen over all partitions (INT64_MIN: none). */
int64_t ts_engine_newest(const ts_engine *e);

/* Re-detection (engine_replay.c): what a replay read. */
typedef struct ts_engine_replay_stats {
	uint64_t partitions;     /* partitions with a saved state in src */
	uint64_t series;         /* their series (APIs) */
	uint64_t metrics;        /* their metrics (calls, reads, error codes) */
	uint64_t days;           /* (metric, day) count reads */
	uint64_t counts;         /* counts fed (a call with an error is two) */
	int64_t first, last;     /* minutes replayed (INT64_MIN: none) */
} ts_engine_replay_stats;

/* Feed the engine, as a backfill of the records behind them would, the
 * counts that store src holds: for every partition src has a saved state
 * for, the series that state names (with their first minutes), and their
 * counts per minute from the first minute of any of them through the
 * newest minute the partition had seen, stopping before minute until
 * (INT64_MAX: no end), in time order. Attribution values are not fed:
 * the engine's store must answer read_attrs with src's hours (see
 * ts_store_view_new). The engine must be new (nothing counted), with a
 * store other than src; call ts_engine_finish after. 0, TS_ESTORE (src's
 * errstr says why; a state that does not decode is one), TS_ECAP,
 * TS_ENOMEM, or a fatal code of the engine. */
int ts_engine_replay(ts_engine *e, ts_store *src, int64_t until, ts_engine_replay_stats *st);

void ts_engine_get_stats(const ts_engine *e, ts_engine_stats *st);
/* Records counted and, of those, late so far (cheap, unlike get_stats). */
void ts_engine_late(const ts_engine *e, uint64_t *counted, uint64_t *late);
/* The records the caps turned away, by partition and eventSource (owned
 * by the engine). */
struct ts_overflow;
const struct ts_overflow *ts_engine_overflow(const ts_engine *e);
size_t ts_engine_memory(const ts_engine *e);
/* The bytes ts_engine_memory counts, by part (estimates, as it). */
typedef struct ts_engine_mem {
	size_t agg;        /* open minutes (ts_agg) */
	size_t store;      /* the store's buffers and caches */
	size_t history;    /* of store: history held (ops->history_memory) */
	size_t history_attrs; /* of history: attribution counts */
	size_t order;      /* records held to sort them */
	size_t registry;   /* series names and attribution values (and the
			      drop rules' per-API masks and case table) */
	size_t detectors;  /* per metric: detector, baselines, open episode */
	size_t partitions; /* per partition: detail ring, hour tallies */
	size_t scratch;    /* history read buffers */
} ts_engine_mem;
void ts_engine_memory_parts(const ts_engine *e, ts_engine_mem *out);

/* What suppression rule i took: records (drop), series (drop: APIs it
 * took records of; unjudged and mark: series in its scope), insights
 * (mark: Starts of its series). 0, or TS_EINVAL when there is no rule i. */
typedef struct ts_engine_rule_tally {
	const char *name; /* owned by the rules */
	int action;       /* enum ts_rule_action */
	uint64_t records, series, insights;
} ts_engine_rule_tally;
int ts_engine_rule_stats(const ts_engine *e, size_t i, ts_engine_rule_tally *out);
/* What matching the drop rules cost (zeros without drop rules). */
struct ts_rulematch_stats;
void ts_engine_rule_costs(const ts_engine *e, struct ts_rulematch_stats *out);

#endif
