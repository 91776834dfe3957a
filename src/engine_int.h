/* engine_int.h - the engine's private state, shared by engine.c (the
 * pipeline) and engine_state.c (a partition's checkpoint state). Nothing
 * else includes it.
 *
 * Per partition (epart): its attribution windows, whether it changed
 * since the last checkpoint, the files read into it since then and an
 * ordered source's position. Per metric (emetric): the detector with its
 * baselines and, while an episode is open, the episode. Events are held
 * (held_event) until a checkpoint has stored the state that made them.
 * The engine owns all of these; ts_engine_free releases them.
 */
#ifndef TS_ENGINE_INT_H
#define TS_ENGINE_INT_H

#include "agg.h"
#include "attrwin.h"
#include "engine.h"
#include "episode.h"
#include "mdet.h"
#include "order.h"
#include "overflow.h"
#include "rulematch.h"

typedef struct epart {
	ts_attrwin *win;       /* the partition's attribution windows */
	int dirty;             /* changed since the last checkpoint */
	uint32_t *files;       /* e->files[] indices read into it since then */
	size_t nfiles, files_alloc;
	int has_pos;           /* an ordered source's position counted through */
	uint64_t pos_ms, pos_seq;
	uint32_t *touched;     /* early.c: metrics counted in open minutes since
				  they were last judged, each once */
	size_t ntouched, touched_alloc;
} epart;

/* A file read since the last checkpoint (name owned). */
typedef struct efile {
	ts_file_id id;
	int ended; /* read to the end */
} efile;

/* A partition seen in the current file: whether its records are skipped
 * because the file is already counted for it. */
typedef struct cur_part {
	uint32_t pid;
	int skip;
} cur_part;

typedef struct emetric {
	ts_mdet md;        /* the detector and its baselines */
	ts_episode *open;  /* the open episode, or NULL */
	uint8_t prof;      /* the profile in force: 0 the base, i + 1 override i */
	uint8_t rule;      /* 0, or i + 1: rule i (unjudged or mark) holds it */
	int touched;       /* listed in its partition's touched */
} emetric;

typedef struct held_event {
	int64_t minute;
	char *json;
	size_t len;
	uint32_t pid;
	double made; /* opts.clock when made, or 0 */
	int start;   /* a Start event */
} held_event;

struct ts_engine {
	ts_engine_opts o;
	ts_registry *reg;
	ts_store *store;
	ts_agg *agg;
	ts_emit_fn emit;
	void *ctx;
	epart **parts;     /* per partition id: NULL until first seen */
	size_t nparts;
	emetric **m;       /* per metric id: NULL until the detector first sees it */
	size_t nm;
	ts_baseline *fit_scratch; /* a full baseline, compacted into each metric's */
	ts_engine_stats st;
	ts_attrwin_counts attr;   /* the windows' dropped and written counts */
	ts_overflow *overflow;
	uint32_t null_vid;
	uint32_t last_pid;
	int have_last;
	uint32_t *hist, *hist2, *hist3; /* scratch: history reads and window sums */
	size_t hist_len;
	ts_buf line;
	held_event *held;
	size_t nheld, held_alloc;
	efile *files;      /* since the last checkpoint; the last may be open */
	size_t nfiles, files_alloc;
	int in_file;
	cur_part *cur;     /* partitions of the open file */
	size_t ncur, cur_alloc;
	ts_buf scratch;    /* state blobs */
	int pos_on;        /* records carry an ordered source position */
	int finishing;     /* in ts_engine_finish: checkpoints are confirmed */
	int checkpoint_due; /* the store asked for a checkpoint (see on_close) */
	uint64_t pos_ms, pos_seq;
	ts_order *order;   /* holds records to put them in time order; the guard */
	const char *origin; /* where the record being added comes from */
	uint64_t origin_off;
	ts_rulematch *rm;  /* with drop rules: their per-API masks and cache */
	uint64_t *rule_tally; /* per rule: records, series, insights */
	double *lat;       /* Start latencies (opts.clock), at most LAT_MAX */
	size_t nlat;
	int err; /* sticky fatal error */
};

/* Partition pid's state, made on first use; NULL on ENOMEM. */
epart *ts_engine_part_(ts_engine *e, uint32_t pid);
/* Metric mid's state, made on first use; NULL on ENOMEM. */
emetric *ts_engine_metric_(ts_engine *e, uint32_t mid);
/* Metric mid's state, or NULL when it has none yet. */
const emetric *ts_engine_peek_metric_(const ts_engine *e, uint32_t mid);
/* Append a copy of json to the held events. 0 or TS_ENOMEM. */
int ts_engine_hold_(ts_engine *e, int64_t minute, ts_str json, uint32_t pid, double made,
		    int start);
/* Build and hold the Start (end_duration 0) or End of metric mid's
 * episode, made as minute `closing` closed or, early, on the open minutes
 * (early.c). 0, TS_ENOMEM, TS_ESTORE or TS_EINVAL (the writer's). */
int ts_engine_emit_(ts_engine *e, uint32_t mid, int64_t end_duration, int64_t closing, int early);
/* A store call's result as the engine returns it: 0, TS_ENOMEM (a store
 * out of memory says so), or TS_ESTORE (the store's errstr says why). */
int ts_engine_store_err_(int rc);
/* engine_stats.c: at -v, where the memory goes (bytes asked of malloc). */
void ts_engine_memory_log_(const ts_engine *e);

/* engine_state.c: restore partition pid (new to this engine) from the
 * state the store has for it, if any; restore every partition the store
 * has a state for that this engine has not seen; save partition pid's
 * state with the files read into it. 0, TS_ENOMEM or TS_ESTORE (a state
 * that cannot be decoded is TS_ESTORE, with the store's errstr saying
 * which and what to do). */
int ts_engine_restore_(ts_engine *e, uint32_t pid);
int ts_engine_restore_all_(ts_engine *e);
/* The next "ACCOUNT:REGION" of a store's partitions list (NUL-separated,
 * as ops->partitions gives it) from *off, split at its last ':'; entries
 * without one are passed over. 1 and *off moved past it, or 0 at the end. */
int ts_engine_next_partition_(const ts_buf *list, size_t *off, ts_str *account, ts_str *region);
int ts_engine_save_(ts_engine *e, uint32_t pid, const ts_file_id *ids, size_t nids);

/* engine_rules.c: overrides and suppression rules.
 * Set up and release the engine's rule state (0 or TS_ENOMEM). */
int ts_engine_rules_init_(ts_engine *e);
void ts_engine_rules_free_(ts_engine *e);
/* Resolve a new metric's profile and series rule (once, at creation). */
void ts_engine_series_scope_(ts_engine *e, uint32_t mid, emetric *em);
/* The profile in force for em. */
const ts_profile *ts_engine_profile_(const ts_engine *e, const emetric *em);
/* Whether a drop rule takes record r of API aid (arn and agent ids in
 * vals, TS_NO_VALUE when absent): *dropped, tallied. 0 or TS_ENOMEM. */
int ts_engine_drop_(ts_engine *e, const ts_record *r, uint32_t aid,
		    const uint32_t vals[TS_A_KINDS], int *dropped);
/* 1 (counted in st.capped if count) when a Start of em, not marked, would
 * pass its profile's max_open in partition pid, else 0. */
int ts_engine_start_capped_(ts_engine *e, const emetric *em, uint32_t pid, int count);
/* The longest history_days, and of cooldown or min_quiet plus end_after
 * and insight_minutes, over the base profile and its overrides. */
void ts_engine_profile_spans_(const ts_engine_opts *o, int *hist_days, int64_t *tail);
/* Count a Start of a marked series for its rule. */
void ts_engine_rule_insight_(ts_engine *e, const emetric *em);
/* The name of em's mark rule, or NULL. */
const char *ts_engine_mark_(const ts_engine *e, const emetric *em);
/* 1 when em's series is not judged (an unjudged rule). */
int ts_engine_unjudged_(const ts_engine *e, const emetric *em);
/* early.c: when a Start of partition pid made as minute `closing` closed
 * (or, early, on the open minutes) was decided, unix seconds of data time;
 * 0 when nothing is known. */
int64_t ts_engine_decision_time_(const ts_engine *e, uint32_t pid, int64_t closing);
/* early.c (opts.early, a stream): mark metric mid of partition pid as
 * counted in an open minute; judge partition pid's marked metrics (or
 * every partition's) on the open minutes and write the early Starts they
 * make. 0, or TS_ENOMEM or a fatal code of writing a Start. */
int ts_early_touch_(ts_engine *e, uint32_t pid, uint32_t mid);
/* early.c: 1 when a record at time t (unix seconds) of partition pid is to
 * be preceded by judging the marked metrics: it opens a newer minute
 * (newer_minute) or a newer step of TS_EARLY_STEP seconds than the
 * partition's newest eventTime. */
int ts_early_due_(const ts_engine *e, uint32_t pid, int64_t t, int newer_minute);
int ts_early_judge_(ts_engine *e, uint32_t pid);
int ts_early_judge_all_(ts_engine *e);
/* A closed minute's detector step k (ev filled for a Start or End) for a
 * metric whose open episode began early: what the engine acts on
 * (TS_DET_NONE or TS_DET_END with ev's duration counted from the
 * episode's start), or TS_ENOMEM. */
int ts_early_closed_(ts_engine *e, emetric *em, int is_error, int64_t minute, int k,
		     ts_det_event *ev);
/* The episode's open callback (episode.h): a stream's open minutes. */
int ts_early_open_counts_(void *ctx, uint32_t metric, int64_t from, int64_t to, uint64_t *sum,
			  ts_tally *t);

#endif
