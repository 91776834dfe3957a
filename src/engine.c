/* engine.c - records in, insight events out.
 *
 * Per partition (epart): a ring of the last DETAIL_RING closed minutes'
 * attribution counts (for insight windows and the partial hour of a
 * baseline window), and the tally of the current hour, written to the
 * store when the hour closes. Per metric (emetric): the detector and the
 * baselines of the current day and the day before (a ts_mdet, idle while
 * the series is quiet; fitted lazily at the first closed minute of each
 * UTC day) and, while an episode is open, what its End repeats from its
 * Start. Events are written at once, or held and sorted by
 * eventTime at finish (backfill), so the output does not depend on the
 * order in which partitions were read.
 */
#include <math.h>
#include <stdlib.h>

#include "agg.h"
#include "codec.h"
#include "detect.h"
#include "engine.h"
#include "insight.h"
#include "mdet.h"
#include "model.h"
#include "order.h"
#include "overflow.h"
#include "tally.h"

#define DETAIL_RING 256
#define LAT_MAX 100000
#define BASELINE_DAYS 7

typedef struct detail_slot {
	int64_t minute; /* INT64_MIN: empty */
	ts_attr_count *e;
	uint32_t n, alloc;
} detail_slot;

typedef struct epart {
	detail_slot detail[DETAIL_RING];
	ts_tally hour;            /* (metric, kind, value) -> count of the open hour */
	ts_tally hour_nvals;      /* (metric, kind, 0) -> distinct values in hour */
	int64_t hour_start;    /* first minute of the open hour */
	int64_t attrs_flushed; /* attribution hours before this minute are stored */
	int dirty;             /* changed since the last checkpoint */
	uint32_t *files;       /* e->files[] indices read into it since then */
	uint32_t nfiles, files_alloc;
	int has_pos;           /* an ordered source's position counted through */
	uint64_t pos_ms, pos_seq;
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

typedef struct saved_attr {
	uint32_t value;
	double average;
} saved_attr;

/* What an open episode's End repeats from its Start. */
typedef struct open_info {
	int64_t start;
	double baseline_average;
	int64_t baseline_duration;
	unsigned nbase[TS_A_KINDS];
	saved_attr base[TS_A_KINDS][TS_ATTR_TOP];
	double p_value, expected;
	int start_written;
} open_info;

typedef struct emetric {
	ts_mdet md;      /* the detector and its baselines */
	open_info *open;
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
	epart **parts;
	uint32_t nparts;
	emetric **m;       /* per metric id: NULL until the detector first sees it */
	uint32_t nm;
	ts_baseline *fit_scratch; /* a full baseline, compacted into each metric's */
	ts_engine_stats st;
	ts_overflow *overflow;
	uint32_t null_vid;
	uint32_t last_pid;
	int have_last;
	uint32_t *hist, *hist2, *hist3; /* scratch: history reads and window sums */
	size_t hist_len;
	ts_buf line;
	held_event *held;
	size_t nheld, held_alloc;
	uint32_t cur_pid;  /* partition of the event being built */
	efile *files;      /* since the last checkpoint; the last may be open */
	uint32_t nfiles, files_alloc;
	int in_file;
	cur_part *cur;     /* partitions of the open file */
	uint32_t ncur, cur_alloc;
	ts_buf scratch;    /* state blobs */
	int pos_on;        /* records carry an ordered source position */
	int finishing;     /* in ts_engine_finish: checkpoints are confirmed */
	int checkpoint_due; /* the store asked for a checkpoint (see on_close) */
	uint64_t pos_ms, pos_seq;
	ts_order *order;   /* holds records to put them in time order; the guard */
	const char *origin; /* where the record being added comes from */
	uint64_t origin_off;
	double *lat;       /* Start latencies (opts.clock), at most LAT_MAX */
	size_t nlat;
	int err; /* sticky fatal error */
};

void ts_engine_opts_defaults(ts_engine_opts *o)
{
	memset(o, 0, sizeof *o);
	ts_profile_defaults(&o->profile);
	o->lateness = 20;
	o->sorted = 1;
	o->trailsight_context = 1;
	o->future_minutes = 60;
}

static int on_close(void *ctx, const ts_minute_batch *b);
static int order_feed(void *ctx, const ts_held *ev);
static void order_future(void *ctx, const char *path, uint64_t off, int64_t t, int ro, int err);
static int64_t order_wall(void *ctx);
static int on_late(void *ctx, uint32_t pid, int64_t minute, uint32_t metric,
		   const uint32_t vals[TS_A_KINDS]);

ts_engine *ts_engine_new(const ts_engine_opts *o, ts_registry *reg, ts_store *store,
			 ts_emit_fn emit, void *ctx)
{
	ts_engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->o = *o;
	e->reg = reg;
	e->store = store;
	e->emit = emit;
	e->ctx = ctx;
	ts_agg_cb cb = {on_close, on_late, e};
	e->agg = ts_agg_new(reg, o->lateness, &cb);
	/* a gap: after the baseline's history has seen only empty minutes,
	 * every detector is quiet; the last minutes before the next count
	 * rebuild the detector windows and the detail ring */
	int hd = o->profile.history_days > BASELINE_DAYS ? o->profile.history_days : BASELINE_DAYS;
	if (e->agg)
		ts_agg_set_skip(e->agg,
				(int64_t)(hd + 2) * TS_MIN_PER_DAY + o->profile.cooldown +
					o->profile.end_after + o->profile.insight_minutes,
				DETAIL_RING + 120 + TS_WINDOW_MAX);
	ts_order_opts oo = {
		.mode = o->order,
		.lateness = o->lateness,
		.future_secs = o->future_minutes > 0 ? (int64_t)o->future_minutes * 60 : 0,
		.auto_events = o->order_auto_events,
		.hold_cap = o->hold_cap,
	};
	ts_order_cb ocb = {order_feed, order_future, o->wall ? order_wall : NULL, e};
	e->order = ts_order_new(&oo, &ocb);
	int days = o->profile.history_days > BASELINE_DAYS + 2 ? o->profile.history_days
								: BASELINE_DAYS + 2;
	e->hist_len = (size_t)days * TS_MIN_PER_DAY;
	e->hist = malloc(e->hist_len * sizeof *e->hist);
	e->hist2 = malloc(e->hist_len * sizeof *e->hist2);
	e->hist3 = malloc(e->hist_len * sizeof *e->hist3);
	if (!e->o.max_attr_values)
		e->o.max_attr_values = 1000;
	e->overflow = ts_overflow_new(0);
	if (!e->agg || !e->order || !e->hist || !e->hist2 || !e->hist3 || !e->overflow ||
	    ts_registry_value(reg, ts_str_c("null"), &e->null_vid)) {
		ts_engine_free(e);
		return NULL;
	}
	return e;
}

void ts_engine_free(ts_engine *e)
{
	if (!e)
		return;
	ts_agg_free(e->agg);
	ts_order_free(e->order);
	ts_overflow_free(e->overflow);
	for (uint32_t i = 0; i < e->nparts; i++) {
		if (!e->parts[i])
			continue;
		for (int s = 0; s < DETAIL_RING; s++)
			free(e->parts[i]->detail[s].e);
		ts_tally_free(&e->parts[i]->hour);
		ts_tally_free(&e->parts[i]->hour_nvals);
		free(e->parts[i]->files);
		free(e->parts[i]);
	}
	free(e->parts);
	for (uint32_t i = 0; i < e->nfiles; i++)
		free((char *)e->files[i].id.name);
	free(e->files);
	free(e->cur);
	free(e->lat);
	ts_buf_free(&e->scratch);
	for (uint32_t i = 0; i < e->nm; i++) {
		if (!e->m[i])
			continue;
		ts_mdet_free(&e->m[i]->md);
		free(e->m[i]->open);
		free(e->m[i]);
	}
	free(e->m);
	free(e->fit_scratch);
	free(e->hist);
	free(e->hist2);
	free(e->hist3);
	for (size_t i = 0; i < e->nheld; i++)
		free(e->held[i].json);
	free(e->held);
	ts_buf_free(&e->line);
	free(e);
}

/* metric mid's state, made on first use; NULL on ENOMEM. */
static emetric *get_metric(ts_engine *e, uint32_t mid)
{
	if (mid >= e->nm) {
		uint32_t n = e->nm ? e->nm : 64;
		while (n <= mid)
			n *= 2;
		emetric **m = realloc(e->m, n * sizeof *m);
		if (!m)
			return NULL;
		memset(m + e->nm, 0, (n - e->nm) * sizeof *m);
		e->m = m;
		e->nm = n;
	}
	if (!e->m[mid]) {
		emetric *em = calloc(1, sizeof *em);
		if (!em)
			return NULL;
		ts_mdet_init(&em->md);
		e->m[mid] = em;
	}
	return e->m[mid];
}

/* metric mid's state, or NULL when it has none yet. */
static emetric *peek_metric(const ts_engine *e, uint32_t mid)
{
	return mid < e->nm ? e->m[mid] : NULL;
}

/* A store call's result as the engine returns it: 0, TS_ENOMEM (a store
 * out of memory says so), or TS_ESTORE (the store's errstr says why). */
static int store_err(int rc)
{
	return rc == 0 || rc == TS_ENOMEM ? rc : TS_ESTORE;
}

static epart *get_part(ts_engine *e, uint32_t pid)
{
	if (pid >= e->nparts) {
		uint32_t n = e->nparts ? e->nparts : 16;
		while (n <= pid)
			n *= 2;
		epart **p = realloc(e->parts, n * sizeof *p);
		if (!p)
			return NULL;
		memset(p + e->nparts, 0, (n - e->nparts) * sizeof *p);
		e->parts = p;
		e->nparts = n;
	}
	if (!e->parts[pid]) {
		epart *p = calloc(1, sizeof *p);
		if (!p)
			return NULL;
		for (int s = 0; s < DETAIL_RING; s++)
			p->detail[s].minute = INT64_MIN;
		p->hour_start = INT64_MIN;
		p->attrs_flushed = INT64_MIN;
		e->parts[pid] = p;
	}
	return e->parts[pid];
}

/* ---- counting ---- */

static int name_is_read(ts_str name)
{
	static const char *prefixes[] = {"Get", "Describe", "List", "Head", "Lookup",
					 "Search", "Scan", "Query", "BatchGet", "Select"};
	for (size_t i = 0; i < TS_ARRAY_LEN(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		if (name.n > n && memcmp(name.p, prefixes[i], n) == 0 && name.p[n] >= 'A' &&
		    name.p[n] <= 'Z')
			return 1;
	}
	return 0;
}

/* An account or Region a partition may be named by: not empty, and free of
 * ':' (the store lists partitions as "ACCOUNT:REGION", split at the last
 * ':'; keys carry "{ACCOUNT:REGION}"), of braces (the hash tag) and of
 * control characters (NUL ends a listed name). */
static int part_name_ok(ts_str s)
{
	if (!s.n)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c < 0x20 || c == ':' || c == '{' || c == '}' || c == 0x7f)
			return 0;
	}
	return 1;
}

static int restore_partition(ts_engine *e, uint32_t pid);
static int file_part(ts_engine *e, uint32_t pid, int *skip);

int ts_engine_add(ts_engine *e, const ts_record *r)
{
	if (e->err)
		return e->err;
	/* outside files (stdin) any record boundary is a safe checkpoint */
	if (!e->in_file && e->checkpoint_due) {
		int rc = ts_engine_checkpoint(e);
		if (rc)
			return rc;
	}
	int data = 0;
	if (ts_str_eqc(r->event_type, "AwsCloudTrailInsight")) {
		e->st.ignored_insight++;
		return 1;
	}
	if (r->event_category.p) {
		if (ts_str_eqc(r->event_category, "Data"))
			data = 1;
		else if (!ts_str_eqc(r->event_category, "Management")) {
			e->st.ignored_category++;
			return 1;
		}
	} else if (r->management == TS_FALSE) {
		data = 1;
	}
	if (data && !e->o.include_data) {
		e->st.ignored_data++;
		return 1;
	}
	if (!part_name_ok(r->account) || !part_name_ok(r->aws_region)) {
		e->st.skipped_fields++;
		return TS_EFIELD;
	}
	int ro = r->read_only == TS_ABSENT ? name_is_read(r->event_name) : r->read_only == TS_TRUE;

	int rc;
	uint32_t pid;
	if (e->have_last) {
		ts_partition *lp = ts_registry_get_partition(e->reg, e->last_pid);
		if (!ts_str_eq(lp->account, r->account) || !ts_str_eq(lp->region, r->aws_region))
			e->have_last = 0;
	}
	if (e->have_last) {
		pid = e->last_pid;
	} else {
		if ((rc = ts_registry_partition(e->reg, r->account, r->aws_region, &pid)))
			goto fail;
		e->last_pid = pid;
		e->have_last = 1;
	}
	if ((pid >= e->nparts || !e->parts[pid]) && (rc = restore_partition(e, pid)))
		goto fatal;
	if (e->in_file) {
		int skip;
		if ((rc = file_part(e, pid, &skip)))
			goto fatal;
		if (skip) {
			e->st.already_counted++;
			return 1;
		}
	}
	if (e->pos_on) {
		epart *p = e->parts[pid];
		if (p->has_pos && (e->pos_ms < p->pos_ms ||
				   (e->pos_ms == p->pos_ms && e->pos_seq <= p->pos_seq))) {
			e->st.already_counted++;
			return 1;
		}
		p->has_pos = 1;
		p->pos_ms = e->pos_ms;
		p->pos_seq = e->pos_seq;
	}
	e->parts[pid]->dirty = 1;
	uint32_t aid;
	if ((rc = ts_registry_api(e->reg, pid, r->event_source, r->event_name, data, &aid))) {
		if (rc != TS_ECAP)
			goto fatal;
		/* a new series past a cap: counted where it came from, never
		 * in place of one already there */
		if ((rc = ts_overflow_add(e->overflow, pid, r->event_source, TS_OV_SERIES)))
			goto fatal;
		e->st.overflow_series++;
		return 1;
	}
	ts_api *api = ts_registry_get_api(e->reg, aid);
	int64_t minute = ts_floordiv(r->time, 60);
	if (minute < api->first_minute)
		api->first_minute = minute;

	uint32_t vals[TS_A_KINDS] = {TS_NO_VALUE, TS_NO_VALUE, TS_NO_VALUE};
	if (r->arn.p && (rc = ts_registry_value(e->reg, r->arn, &vals[TS_A_ARN])))
		goto fail;
	if (r->user_agent.p && (rc = ts_registry_value(e->reg, r->user_agent, &vals[TS_A_AGENT])))
		goto fail;
	uint32_t code = e->null_vid;
	if (r->error_code.p && (rc = ts_registry_value(e->reg, r->error_code, &code)))
		goto fail;
	vals[TS_A_ERRCODE] = code;
	uint32_t emid = 0;
	int count_error = r->error_code.p != NULL;
	if (count_error && (rc = ts_registry_error_metric(e->reg, aid, code, &emid))) {
		if (rc != TS_ECAP)
			goto fatal;
		if ((rc = ts_overflow_add(e->overflow, pid, r->event_source, TS_OV_CODE)))
			goto fatal;
		e->st.overflow_codes++;
		count_error = 0;
	}
	/* the registry may have moved: take the API again */
	api = ts_registry_get_api(e->reg, aid);

	int counted_in_rate = !ro || e->o.include_read_only;
	ts_held ev[2];
	int nev = 1;
	ev[0] = (ts_held){.minute = minute, .pid = pid,
			  .metric = counted_in_rate ? api->calls : api->reads,
			  .has_vals = (uint8_t)counted_in_rate};
	memcpy(ev[0].vals, vals, sizeof vals);
	if (count_error) {
		ev[1] = (ts_held){.minute = minute, .pid = pid, .metric = emid, .has_vals = 1,
				  .vals = {vals[TS_A_ARN], vals[TS_A_AGENT], TS_NO_VALUE}};
		nev = 2;
	}
	rc = ts_order_add(e->order, pid, r->time, ev, nev, ro, count_error,
			  e->origin ? e->origin : "-", e->origin_off, ts_agg_newest(e->agg, pid));
	if (rc == TS_EFUTURE) {
		e->st.future_time++;
		return rc;
	}
	if (rc < 0)
		goto fatal;
	if (e->err)
		return e->err;
	e->st.counted++;
	e->st.late += rc == 1;
	e->st.errors += count_error;
	e->st.read_only += ro;
	return 0;
fail:
	if (rc == TS_ECAP) {
		e->st.skipped_cap++;
		return TS_ECAP;
	}
fatal:
	if (!e->err)
		e->err = rc;
	return rc;
}

void ts_engine_set_origin(ts_engine *e, const char *path, uint64_t off)
{
	e->origin = path;
	e->origin_off = off;
}

static int order_feed(void *ctx, const ts_held *ev)
{
	ts_engine *e = ctx;
	return ts_agg_count(e->agg, ev->pid, ev->minute, ev->metric, ev->has_vals ? ev->vals : NULL);
}

static void order_future(void *ctx, const char *path, uint64_t off, int64_t t, int ro, int err)
{
	ts_engine *e = ctx;
	e->st.counted--;
	e->st.read_only -= (uint64_t)ro;
	e->st.errors -= (uint64_t)err;
	e->st.future_time++;
	if (e->o.on_future)
		e->o.on_future(e->o.future_ctx, path, off, t);
}

static int64_t order_wall(void *ctx)
{
	ts_engine *e = ctx;
	return e->o.wall(e->o.future_ctx);
}

/* *ok = 1 when (metric, kind, value) may be counted in p's open hour: it
 * is there already, or its series has fewer than max_attr_values values
 * of that kind in the hour (it becomes one of them). Else *ok = 0 and the
 * count is dropped. 0 or TS_ENOMEM. */
static int attr_admit(ts_engine *e, epart *p, uint32_t metric, unsigned kind, uint32_t value,
		      int *ok)
{
	*ok = 1;
	if (ts_tally_get(&p->hour, ts_attr_key(metric, kind, value)))
		return 0;
	uint64_t nk = ts_attr_key(metric, kind, 0);
	if (ts_tally_get(&p->hour_nvals, nk) >= e->o.max_attr_values) {
		*ok = 0;
		e->st.attr_dropped++;
		return 0;
	}
	return ts_tally_add(&p->hour_nvals, nk, 1);
}

static int on_late(void *ctx, uint32_t pid, int64_t minute, uint32_t metric,
		   const uint32_t vals[TS_A_KINDS])
{
	ts_engine *e = ctx;
	ts_count c = {metric, 1};
	int rc = e->store->ops->add_minute(e->store, pid, minute, &c, 1);
	if (rc)
		return store_err(rc);
	ts_attr_count a[TS_A_KINDS];
	size_t n = 0;
	for (int k = 0; k < TS_A_KINDS; k++)
		if (vals[k] != TS_NO_VALUE)
			a[n++] = (ts_attr_count){metric, vals[k], 1, (uint8_t)k};
	int64_t hour = ts_floordiv(minute, 60) * 60;
	epart *p = get_part(e, pid);
	if (!p)
		return TS_ENOMEM;
	p->dirty = 1;
	if (hour == p->hour_start) {
		for (size_t i = 0; i < n; i++) {
			int ok, rc2 = attr_admit(e, p, metric, a[i].kind, a[i].value, &ok);
			if (rc2)
				return rc2;
			if (ok && ts_tally_add(&p->hour, ts_attr_key(metric, a[i].kind, a[i].value), 1))
				return TS_ENOMEM;
		}
		return 0;
	}
	return n ? store_err(e->store->ops->add_attrs(e->store, pid, hour, a, n)) : 0;
}

/* ---- attribution windows ---- */

static int add_to_tally(void *ctx, int kind, uint32_t value, uint64_t count)
{
	return ts_tally_add(ctx, ts_attr_key(0, (unsigned)kind, value), count);
}

/* Attribution counts of metric over minutes [from, to) into t: whole hours
 * already in the store from the store, the rest from the detail ring. A
 * partial hour no longer in the ring is taken whole from the store. */
static int attr_window(ts_engine *e, uint32_t pid, uint32_t metric, int64_t from, int64_t to,
		       ts_tally *t)
{
	epart *p = e->parts[pid];
	int64_t h = ts_floordiv(from, 60) * 60;
	int64_t run_from = INT64_MIN, run_to = INT64_MIN;
	int rc = 0;
	for (; h < to && !rc; h += 60) {
		int64_t a = from > h ? from : h, b = to < h + 60 ? to : h + 60;
		int stored = h + 60 <= p->attrs_flushed;
		int whole = a == h && b == h + 60;
		int in_ring = 1;
		for (int64_t m = a; m < b && in_ring; m++)
			in_ring = p->detail[((m % DETAIL_RING) + DETAIL_RING) % DETAIL_RING].minute == m;
		if (stored && (whole || !in_ring)) {
			if (run_to != h) {
				if (run_from != INT64_MIN)
					rc = e->store->ops->read_attrs(e->store, metric, run_from, run_to,
								       add_to_tally, t);
				run_from = h;
			}
			run_to = h + 60;
			continue;
		}
		for (int64_t m = a; m < b && !rc; m++) {
			detail_slot *s = &p->detail[((m % DETAIL_RING) + DETAIL_RING) % DETAIL_RING];
			if (s->minute != m)
				continue;
			for (uint32_t i = 0; i < s->n && !rc; i++)
				if (s->e[i].metric == metric)
					rc = ts_tally_add(t, ts_attr_key(0, s->e[i].kind, s->e[i].value),
						       s->e[i].count);
		}
	}
	if (!rc && run_from != INT64_MIN)
		rc = e->store->ops->read_attrs(e->store, metric, run_from, run_to, add_to_tally, t);
	return rc;
}

typedef struct ranked {
	uint32_t value;
	uint64_t count;
	ts_str str;
} ranked;

static int by_count(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	size_t n = x->str.n < y->str.n ? x->str.n : y->str.n;
	int c = memcmp(x->str.p, y->str.p, n);
	if (c)
		return c;
	return x->str.n < y->str.n ? -1 : x->str.n > y->str.n;
}

/* Top values of one kind in t, as averages over duration minutes. */
static int top_values(ts_engine *e, const ts_tally *t, int kind, double duration, saved_attr *out,
		      unsigned *nout)
{
	ranked *r = malloc((t->n ? t->n : 1) * sizeof *r);
	if (!r)
		return TS_ENOMEM;
	size_t n = 0;
	uint64_t k, c;
	for (uint32_t i = 0; ts_tally_next(t, &i, &k, &c);) {
		if (!c || (int)ts_attr_key_kind(k) != kind)
			continue;
		r[n].value = ts_attr_key_value(k);
		r[n].count = c;
		r[n].str = ts_registry_value_str(e->reg, r[n].value);
		n++;
	}
	qsort(r, n, sizeof *r, by_count);
	*nout = n < TS_ATTR_TOP ? (unsigned)n : TS_ATTR_TOP;
	for (unsigned i = 0; i < *nout; i++) {
		out[i].value = r[i].value;
		out[i].average = (double)r[i].count / duration;
	}
	free(r);
	return 0;
}

/* ---- events ---- */

static uint64_t window_sum(ts_engine *e, uint32_t metric, int64_t from, int64_t to, int *rc)
{
	uint64_t s = 0;
	while (from < to && !*rc) {
		size_t n = (size_t)(to - from) < e->hist_len ? (size_t)(to - from) : e->hist_len;
		*rc = e->store->ops->read_counts(e->store, metric, from, n, e->hist2);
		for (size_t i = 0; i < n; i++)
			s += e->hist2[i];
		from += (int64_t)n;
	}
	return s;
}

/* Append a copy of json to the held events. 0 or TS_ENOMEM. */
static int hold(ts_engine *e, int64_t minute, ts_str json, uint32_t pid, double made, int start)
{
	if (e->nheld == e->held_alloc) {
		size_t n = e->held_alloc ? e->held_alloc * 2 : 64;
		held_event *h = realloc(e->held, n * sizeof *h);
		if (!h)
			return TS_ENOMEM;
		e->held = h;
		e->held_alloc = n;
	}
	char *copy = malloc(json.n + 1);
	if (!copy)
		return TS_ENOMEM;
	memcpy(copy, json.p, json.n);
	copy[json.n] = '\0';
	e->held[e->nheld++] = (held_event){minute, copy, json.n, pid, made, start};
	return 0;
}

static int write_event(ts_engine *e, const ts_insight *ins)
{
	ts_buf_reset(&e->line);
	int rc = ts_insight_write(ins, &e->line);
	if (rc)
		return rc;
	if (ins->state == TS_STATE_START)
		e->st.starts++;
	else
		e->st.ends++;
	/* held until a checkpoint has saved the state that made it (or, sorted,
	 * until finish) */
	int64_t minute = ins->start_minute + (ins->state == TS_STATE_END ? ins->insight_duration : 0);
	return hold(e, minute, (ts_str){e->line.p, e->line.len}, e->cur_pid,
		    e->o.clock ? e->o.clock(e->o.clock_ctx) : 0, ins->state == TS_STATE_START);
}

static const char *attr_names[TS_A_KINDS] = {"userIdentityArn", "userAgent", "errorCode"};

/* Build and write the Start (end_duration 0) or End of metric's episode. */
static int emit_insight(ts_engine *e, uint32_t mid, int64_t end_duration)
{
	const ts_metric *m = ts_registry_get_metric(e->reg, mid);
	ts_api *api = ts_registry_get_api(e->reg, m->api);
	ts_partition *part = ts_registry_get_partition(e->reg, m->partition);
	emetric *em = e->m[mid];
	open_info *oi = em->open;
	int is_error = m->kind == TS_M_ERRORS;
	unsigned nkinds = is_error ? 2 : 3;
	int rc = 0;
	ts_tally t = {0};

	ts_insight ins;
	memset(&ins, 0, sizeof ins);
	ins.state = end_duration ? TS_STATE_END : TS_STATE_START;
	ins.type = is_error ? TS_ERROR_RATE : TS_CALL_RATE;
	ins.account = part->account;
	ins.region = part->region;
	ins.event_source = api->source;
	ins.event_name = api->name;
	if (is_error)
		ins.error_code = ts_registry_value_str(e->reg, m->code);
	ins.data_events = api->data;
	ins.start_minute = oi->start;
	e->cur_pid = m->partition;

	if (ins.state == TS_STATE_START) {
		int64_t from = (ts_day_of(oi->start) - BASELINE_DAYS) * TS_MIN_PER_DAY;
		oi->baseline_duration = oi->start - from;
		uint64_t bc = window_sum(e, mid, from, oi->start, &rc);
		oi->baseline_average = (double)bc / (double)oi->baseline_duration;
		if (!rc)
			rc = attr_window(e, m->partition, mid, from, oi->start, &t);
		for (unsigned k = 0; k < nkinds && !rc; k++)
			rc = top_values(e, &t, (int)k, (double)oi->baseline_duration, oi->base[k],
					&oi->nbase[k]);
		ts_tally_clear(&t);
	}
	int64_t dur = end_duration ? end_duration : e->o.profile.insight_minutes;
	uint64_t ic = rc ? 0 : window_sum(e, mid, oi->start, oi->start + dur, &rc);
	if (!rc)
		rc = attr_window(e, m->partition, mid, oi->start, oi->start + dur, &t);
	ins.baseline_average = oi->baseline_average;
	ins.baseline_duration = oi->baseline_duration;
	ins.insight_average = (double)ic / (double)dur;
	ins.insight_duration = dur;
	ins.n_attrs = nkinds;
	for (unsigned k = 0; k < nkinds && !rc; k++) {
		ts_attr_list *l = &ins.attrs[k];
		saved_attr top[TS_ATTR_TOP];
		l->attribute = attr_names[k];
		rc = top_values(e, &t, (int)k, (double)dur, top, &l->n_insight);
		for (unsigned i = 0; i < l->n_insight; i++)
			l->insight[i] = (ts_attr_value){ts_registry_value_str(e->reg, top[i].value),
							top[i].average};
		l->n_baseline = oi->nbase[k];
		for (unsigned i = 0; i < l->n_baseline; i++)
			l->baseline[i] = (ts_attr_value){
				ts_registry_value_str(e->reg, oi->base[k][i].value),
				oi->base[k][i].average};
	}
	ts_tally_free(&t);
	if (rc)
		return rc == TS_ENOMEM ? rc : TS_ESTORE;
	if (e->o.trailsight_context) {
		ins.model = e->o.profile.name;
		ins.expected = oi->expected;
		ins.p_value = oi->p_value;
	}
	return write_event(e, &ins);
}

/* ---- baselines ---- */

static int fit(ts_engine *e, uint32_t mid, emetric *em, int64_t day)
{
	const ts_metric *m = ts_registry_get_metric(e->reg, mid);
	ts_api *api = ts_registry_get_api(e->reg, m->api);
	const ts_profile *p = &e->o.profile;
	int is_error = m->kind == TS_M_ERRORS;
	/* warm-up: warmup_days UTC days of history before this one (the
	 * first may be partial: a series seen at 00:03 has that day) */
	if (api->first_minute == INT64_MAX || day - ts_day_of(api->first_minute) < p->warmup_days)
		return ts_mdet_day(&em->md, p, is_error, day, 0, NULL, 0);
	int64_t avail = day - ts_day_of(api->first_minute);
	int nd = avail < p->history_days ? (int)avail : p->history_days;
	int64_t from = (day - nd) * TS_MIN_PER_DAY;
	size_t n = (size_t)nd * TS_MIN_PER_DAY;
	ts_store *s = e->store;
	int rc = store_err(s->ops->read_counts(s, mid, from, n, e->hist));
	if (rc)
		return rc;
	e->st.fits++;
	if (is_error) {
		if ((rc = store_err(s->ops->read_counts(s, api->calls, from, n, e->hist2))))
			return rc;
		uint32_t *calls = e->hist2, *reads = e->hist3;
		if ((rc = store_err(s->ops->read_counts(s, api->reads, from, n, reads))))
			return rc;
		for (size_t i = 0; i < n; i++)
			calls[i] += reads[i];
		ts_baseline b;
		rc = ts_model_fit_error(e->hist, calls, nd, day, &b);
		if (rc)
			return rc;
		return ts_mdet_day(&em->md, p, 1, day, 1, NULL, (float)b.q);
	}
	if (!e->fit_scratch && !(e->fit_scratch = malloc(sizeof *e->fit_scratch)))
		return TS_ENOMEM;
	rc = ts_model_fit_rate(e->hist, nd, day, p, e->fit_scratch);
	if (rc)
		return rc;
	return ts_mdet_day(&em->md, p, 0, day, 1, e->fit_scratch, 0);
}

/* ---- closing a minute ---- */

static int flush_hour(ts_engine *e, uint32_t pid, epart *p)
{
	if (p->hour_start == INT64_MIN)
		return 0;
	if (p->hour.n) {
		ts_attr_count *a = malloc(p->hour.n * sizeof *a);
		if (!a)
			return TS_ENOMEM;
		size_t n = 0;
		uint64_t k, c;
		for (uint32_t i = 0; ts_tally_next(&p->hour, &i, &k, &c);)
			a[n++] = (ts_attr_count){ts_attr_key_metric(k), ts_attr_key_value(k),
						 (uint32_t)c, (uint8_t)ts_attr_key_kind(k)};
		e->st.attr_cells += n;
		int rc = e->store->ops->add_attrs(e->store, pid, p->hour_start, a, n);
		free(a);
		if (rc)
			return store_err(rc);
		ts_tally_reset(&p->hour);
	}
	ts_tally_reset(&p->hour_nvals);
	p->attrs_flushed = p->hour_start + 60;
	p->hour_start = INT64_MIN;
	return 0;
}

static int detect_minute(ts_engine *e, const ts_minute_batch *b)
{
	ts_partition *part = ts_registry_get_partition(e->reg, b->partition);
	const ts_profile *prof = &e->o.profile;
	int64_t day = ts_day_of(b->minute);
	for (uint32_t i = 0; i < b->ndense; i++) {
		uint32_t mid = part->metrics[i];
		const ts_metric *m = ts_registry_get_metric(e->reg, mid);
		if (m->kind == TS_M_READS)
			continue;
		emetric *em = get_metric(e, mid);
		if (!em)
			return TS_ENOMEM;
		int rc;
		if (em->md.fit_day != day && (rc = fit(e, mid, em, day)))
			return rc;
		int is_error = m->kind == TS_M_ERRORS;
		uint32_t n = 0;
		if (is_error) {
			ts_api *api = ts_registry_get_api(e->reg, m->api);
			const ts_metric *c = ts_registry_get_metric(e->reg, api->calls);
			const ts_metric *r = ts_registry_get_metric(e->reg, api->reads);
			n = b->dense[c->local] + b->dense[r->local];
		}
		ts_det_event ev;
		int k = ts_mdet_step(&em->md, prof, is_error, b->minute, b->dense[i], n, &ev);
		if (k < 0)
			return k;
		if (k == TS_DET_START) {
			if (!em->open && !(em->open = calloc(1, sizeof *em->open)))
				return TS_ENOMEM;
			memset(em->open, 0, sizeof *em->open);
			em->open->start = ev.start;
			em->open->p_value = ev.p_value;
			em->open->expected = ev.expected;
		}
		/* a Start is written once its insight window has closed */
		if (em->open && !em->open->start_written &&
		    (k == TS_DET_END ||
		     b->minute >= em->open->start + prof->insight_minutes - 1)) {
			if ((rc = emit_insight(e, mid, 0)))
				return rc;
			em->open->start_written = 1;
		}
		if (k == TS_DET_END && em->open) {
			if ((rc = emit_insight(e, mid, ev.duration)))
				return rc;
			free(em->open);
			em->open = NULL;
		}
	}
	return 0;
}

static int on_close(void *ctx, const ts_minute_batch *b)
{
	ts_engine *e = ctx;
	epart *p = get_part(e, b->partition);
	if (!p)
		return TS_ENOMEM;
	p->dirty = 1;
	e->st.minutes_closed++;
	e->st.cells += b->ncounts;
	int rc;
	if (b->ncounts &&
	    (rc = e->store->ops->add_minute(e->store, b->partition, b->minute, b->counts,
					    b->ncounts)))
		return e->err = store_err(rc);
	/* asked once per closed minute, acted on at the next safe point */
	if (!e->checkpoint_due)
		e->checkpoint_due = e->store->ops->flush_due(e->store);

	/* the minute's attributions: into the detail ring and the hour tally */
	int64_t hour = ts_floordiv(b->minute, 60) * 60;
	if (p->hour_start != hour && (rc = flush_hour(e, b->partition, p)))
		return e->err = rc;
	p->hour_start = hour;
	detail_slot *s = &p->detail[((b->minute % DETAIL_RING) + DETAIL_RING) % DETAIL_RING];
	s->minute = b->minute;
	s->n = 0;
	/* a slot that held a burst gives its memory back */
	if (s->alloc > 64 && b->nattrs * 8 < s->alloc) {
		free(s->e);
		s->e = NULL;
		s->alloc = 0;
	}
	if (b->nattrs > s->alloc) {
		ts_attr_count *x = realloc(s->e, b->nattrs * sizeof *x);
		if (!x)
			return e->err = TS_ENOMEM;
		s->e = x;
		s->alloc = (uint32_t)b->nattrs;
	}
	for (size_t i = 0; i < b->nattrs; i++) {
		const ts_attr_count *a = &b->attrs[i];
		int ok;
		if ((rc = attr_admit(e, p, a->metric, a->kind, a->value, &ok)))
			return e->err = rc;
		if (!ok)
			continue;
		s->e[s->n++] = *a;
		if (ts_tally_add(&p->hour, ts_attr_key(a->metric, a->kind, a->value), a->count))
			return e->err = TS_ENOMEM;
	}
	if ((rc = detect_minute(e, b)))
		return e->err = rc;
	/* the hour's last minute: its attribution counts go to the store */
	if (b->minute == hour + 59 && (rc = flush_hour(e, b->partition, p)))
		return e->err = rc;
	return 0;
}

static int by_minute(const void *a, const void *b)
{
	const held_event *x = a, *y = b;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->json, y->json, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Write the held events: all of them, sorted by time (sorted mode), or in
 * the order they were made. Their partitions' states then no longer
 * carry them. */
static int emit_held(ts_engine *e)
{
	int rc = 0;
	if (e->o.sorted && e->nheld)
		qsort(e->held, e->nheld, sizeof *e->held, by_minute);
	size_t i = 0;
	for (; i < e->nheld && !rc; i++) {
		rc = e->emit(e->ctx, e->held[i].json, e->held[i].len);
		if (!rc && e->o.clock && e->held[i].start && e->held[i].made > 0) {
			if (!e->lat)
				e->lat = malloc(LAT_MAX * sizeof *e->lat);
			if (e->lat && e->nlat < LAT_MAX)
				e->lat[e->nlat++] = e->o.clock(e->o.clock_ctx) - e->held[i].made;
		}
		if (e->held[i].pid < e->nparts && e->parts[e->held[i].pid])
			e->parts[e->held[i].pid]->dirty = 1;
		free(e->held[i].json);
	}
	/* after an emit error, keep what was not written */
	memmove(e->held, e->held + i, (e->nheld - i) * sizeof *e->held);
	e->nheld -= i;
	return rc;
}

/* Restore every partition the store has a state for that this run has
 * not seen, so that finish closes their open minutes and writes the events
 * their states hold. */
static int restore_all(ts_engine *e)
{
	ts_buf list = {0};
	int rc = e->store->ops->partitions(e->store, &list);
	if (rc) {
		ts_buf_free(&list);
		return rc == TS_ENOMEM ? rc : TS_ESTORE;
	}
	for (size_t off = 0; off < list.len && !rc;) {
		const char *m = list.p + off;
		size_t n = strlen(m);
		off += n + 1;
		const char *colon = NULL;
		for (size_t i = 0; i < n; i++)
			if (m[i] == ':')
				colon = m + i;
		uint32_t pid;
		if (!colon)
			continue;
		rc = ts_registry_partition(e->reg, (ts_str){m, (size_t)(colon - m)},
					   (ts_str){colon + 1, n - (size_t)(colon + 1 - m)}, &pid);
		if (!rc && (pid >= e->nparts || !e->parts[pid]))
			rc = restore_partition(e, pid);
	}
	ts_buf_free(&list);
	return rc;
}

int ts_engine_finish(ts_engine *e)
{
	if (e->err)
		return e->err;
	if (e->in_file)
		return e->err = TS_EINVAL;
	e->finishing = 1;
	int rc = ts_order_finish(e->order);
	if (rc)
		return e->err = rc;
	rc = restore_all(e);
	if (rc)
		return e->err = rc;
	rc = ts_agg_close_all(e->agg);
	if (rc)
		return e->err = rc;
	for (uint32_t pid = 0; pid < e->nparts; pid++)
		if (e->parts[pid] && (rc = flush_hour(e, pid, e->parts[pid])))
			return e->err = rc;
	for (uint32_t i = 0; i < e->nm; i++)
		e->st.open_at_end += e->m[i] && e->m[i]->open != NULL;
	/* save the closed state with its events first, so a stop while they
	 * are written loses none (the next run writes them again) */
	if ((rc = ts_engine_checkpoint(e)))
		return rc;
	if (!e->nheld)
		return 0;
	if ((rc = emit_held(e)))
		return e->err = rc;
	return ts_engine_checkpoint(e);
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void ts_engine_late(const ts_engine *e, uint64_t *counted, uint64_t *late)
{
	*counted = e->st.counted;
	*late = e->st.late;
}

void ts_engine_get_stats(const ts_engine *e, ts_engine_stats *st)
{
	*st = e->st;
	ts_order_stats os;
	ts_order_get_stats(e->order, &os);
	st->late += os.late;
	st->held_peak = os.held_peak;
	st->held_bytes = os.held_bytes;
	st->reordered = os.replayed && os.disorder;
	st->hold_capped = os.capped;
	st->latency_n = e->nlat;
	if (e->nlat) {
		qsort(e->lat, e->nlat, sizeof *e->lat, by_double);
		st->latency_median = e->nlat % 2 ? e->lat[e->nlat / 2]
						 : (e->lat[e->nlat / 2 - 1] + e->lat[e->nlat / 2]) / 2;
		st->latency_p90 = e->lat[(e->nlat * 9 + 9) / 10 - 1];
		st->latency_p99 = e->lat[(e->nlat * 99 + 99) / 100 - 1];
		st->latency_max = e->lat[e->nlat - 1];
	}
}

int ts_engine_advance(ts_engine *e, int64_t minutes)
{
	if (e->err)
		return e->err;
	for (uint32_t pid = 0; pid < e->nparts; pid++) {
		int64_t newest = ts_agg_newest(e->agg, pid);
		if (!e->parts[pid] || newest == INT64_MIN)
			continue;
		int rc = ts_agg_advance(e->agg, pid, newest + minutes);
		if (rc)
			return e->err = rc;
		e->parts[pid]->dirty = 1;
	}
	return 0;
}

size_t ts_engine_pending_events(const ts_engine *e) { return e->nheld; }

const ts_overflow *ts_engine_overflow(const ts_engine *e) { return e->overflow; }

void ts_engine_set_position(ts_engine *e, uint64_t ms, uint64_t seq)
{
	e->pos_on = 1;
	e->pos_ms = ms;
	e->pos_seq = seq;
}

uint64_t ts_engine_open_insights(const ts_engine *e)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < e->nm; i++)
		n += e->m[i] && e->m[i]->open != NULL;
	return n;
}

int64_t ts_engine_newest(const ts_engine *e)
{
	int64_t n = INT64_MIN;
	for (uint32_t pid = 0; pid < e->nparts; pid++) {
		int64_t x = ts_agg_newest(e->agg, pid);
		n = x > n ? x : n;
	}
	return n;
}

size_t ts_engine_memory(const ts_engine *e)
{
	ts_order_stats os;
	ts_order_get_stats(e->order, &os);
	size_t m = ts_agg_memory(e->agg) + e->store->ops->memory(e->store) + os.held_bytes +
		   ts_registry_memory(e->reg) + (size_t)e->nm * sizeof *e->m +
		   3 * e->hist_len * sizeof *e->hist;
	for (uint32_t i = 0; i < e->nm; i++)
		if (e->m[i])
			m += sizeof *e->m[i] + ts_mdet_memory(&e->m[i]->md) +
			     (e->m[i]->open ? sizeof *e->m[i]->open : 0);
	for (uint32_t i = 0; i < e->nparts; i++)
		if (e->parts[i]) {
			m += sizeof *e->parts[i] + ts_tally_memory(&e->parts[i]->hour) +
			     ts_tally_memory(&e->parts[i]->hour_nvals);
			for (int s = 0; s < DETAIL_RING; s++)
				m += e->parts[i]->detail[s].alloc * sizeof(ts_attr_count);
		}
	return m;
}

/* ---- checkpoints ---- */

/* TSP2 writes a detector's ring as runs of equal observations (a quiet
 * series' 32 minutes are a few runs); TSP1, one observation per slot, is
 * still read. */
#define STATE_MAGIC "TSP2"
#define STATE_MAGIC_V1 "TSP1"

static void enc_obs(ts_enc *enc, const ts_det_obs *o)
{
	ts_enc_u64(enc, o->x);
	ts_enc_u64(enc, o->n);
	ts_enc_f32(enc, o->lam);
	ts_enc_f32(enc, o->size);
	ts_enc_f32(enc, o->q);
	ts_enc_f32(enc, o->steady);
	ts_enc_f32(enc, o->steady_size);
}

/* 0 and *o, or TS_EINVAL (not finite: a NaN would reach an event). */
static int dec_obs(ts_dec *d, ts_det_obs *o)
{
	o->x = (uint32_t)ts_dec_count(d, UINT32_MAX);
	o->n = (uint32_t)ts_dec_count(d, UINT32_MAX);
	o->lam = ts_dec_f32(d);
	o->size = ts_dec_f32(d);
	o->q = ts_dec_f32(d);
	o->steady = ts_dec_f32(d);
	o->steady_size = ts_dec_f32(d);
	return isfinite(o->lam) && isfinite(o->size) && isfinite(o->q) && isfinite(o->steady) &&
			       isfinite(o->steady_size)
		       ? 0
		       : TS_EINVAL;
}

/* The ring in slot order as runs: (length, observation). */
static void enc_ring(ts_enc *enc, const ts_detector *d)
{
	for (int r = 0; r < TS_WINDOW_MAX;) {
		int k = 1;
		while (r + k < TS_WINDOW_MAX && !memcmp(&d->ring[r + k], &d->ring[r], sizeof d->ring[r]))
			k++;
		ts_enc_u64(enc, (uint64_t)k);
		enc_obs(enc, &d->ring[r]);
		r += k;
	}
}

static int dec_ring(ts_dec *dec, ts_detector *d, int v1)
{
	for (int r = 0; r < TS_WINDOW_MAX;) {
		int k = v1 ? 1 : (int)ts_dec_count(dec, (uint64_t)(TS_WINDOW_MAX - r));
		if (k < 1 || dec_obs(dec, &d->ring[r]))
			return TS_EINVAL;
		for (int i = 1; i < k; i++)
			d->ring[r + i] = d->ring[r];
		r += k;
	}
	return ts_dec_ok(dec, 0) ? 0 : TS_EINVAL;
}

static void enc_attr(ts_enc *enc, const ts_registry *reg, uint32_t mid, unsigned kind,
		     uint32_t value, uint64_t count)
{
	ts_enc_u64(enc, ts_registry_get_metric(reg, mid)->local);
	ts_enc_u64(enc, kind);
	ts_enc_value(enc, value);
	ts_enc_u64(enc, count);
}

static void enc_saved(ts_enc *enc, const saved_attr *a, unsigned n)
{
	ts_enc_u64(enc, n);
	for (unsigned i = 0; i < n; i++) {
		ts_enc_value(enc, a[i].value);
		ts_enc_f64(enc, a[i].average);
	}
}

/* Encode partition pid's state into out: its metrics (by name), the
 * aggregator's open minutes, the open hour's attribution tally, the detail
 * minutes an open episode or the open hour may still need, each metric's
 * detector and open episode, and the events not yet written. */
static int encode_state(ts_engine *e, uint32_t pid, ts_buf *out)
{
	ts_partition *part = ts_registry_get_partition(e->reg, pid);
	epart *p = e->parts[pid];
	ts_enc enc;
	ts_enc_init(&enc, e->reg);
	ts_enc_str(&enc, part->account);
	ts_enc_str(&enc, part->region);
	ts_enc_u64(&enc, part->nmetrics);
	for (uint32_t i = 0; i < part->nmetrics; i++) {
		const ts_metric *m = ts_registry_get_metric(e->reg, part->metrics[i]);
		ts_api *api = ts_registry_get_api(e->reg, m->api);
		ts_enc_u64(&enc, m->kind);
		ts_enc_str(&enc, api->source);
		ts_enc_str(&enc, api->name);
		ts_enc_u64(&enc, api->data);
		ts_enc_i64(&enc, api->first_minute);
		if (m->kind == TS_M_ERRORS)
			ts_enc_value(&enc, m->code);
	}
	ts_agg_save(e->agg, pid, &enc);

	ts_enc_i64(&enc, p->hour_start);
	ts_enc_i64(&enc, p->attrs_flushed);
	ts_enc_u64(&enc, p->hour.n);
	uint64_t k, c;
	for (uint32_t i = 0; ts_tally_next(&p->hour, &i, &k, &c);)
		enc_attr(&enc, e->reg, ts_attr_key_metric(k), ts_attr_key_kind(k), ts_attr_key_value(k),
			 c);

	/* detail minutes from the earliest hour still needed: the open hour's
	 * and each open episode's first hour */
	int64_t cut = ts_agg_closed(e->agg, pid);
	cut = cut == INT64_MIN ? INT64_MAX : ts_floordiv(cut + 1, 60) * 60;
	for (uint32_t i = 0; i < part->nmetrics; i++) {
		uint32_t mid = part->metrics[i];
		const emetric *em = peek_metric(e, mid);
		if (em && em->open) {
			int64_t h = ts_floordiv(em->open->start, 60) * 60;
			cut = h < cut ? h : cut;
		}
	}
	uint64_t nslots = 0;
	for (int s = 0; s < DETAIL_RING; s++)
		nslots += p->detail[s].minute != INT64_MIN && p->detail[s].minute >= cut;
	ts_enc_u64(&enc, nslots);
	for (int s = 0; s < DETAIL_RING; s++) {
		const detail_slot *d = &p->detail[s];
		if (d->minute == INT64_MIN || d->minute < cut)
			continue;
		ts_enc_i64(&enc, d->minute);
		ts_enc_u64(&enc, d->n);
		for (uint32_t j = 0; j < d->n; j++)
			enc_attr(&enc, e->reg, d->e[j].metric, d->e[j].kind, d->e[j].value,
				 d->e[j].count);
	}

	for (uint32_t i = 0; i < part->nmetrics; i++) {
		uint32_t mid = part->metrics[i];
		const emetric *em = peek_metric(e, mid);
		int has = em && (ts_mdet_last(&em->md) != INT64_MIN || em->open);
		ts_enc_u64(&enc, (uint64_t)has);
		if (!has)
			continue;
		ts_detector det;
		ts_mdet_get(&em->md, ts_registry_get_metric(e->reg, mid)->kind == TS_M_ERRORS, &det);
		const ts_detector *d = &det;
		enc_ring(&enc, d);
		ts_enc_i64(&enc, d->last);
		ts_enc_i64(&enc, d->floor);
		ts_enc_i64(&enc, d->quiet_until);
		ts_enc_i64(&enc, d->open);
		ts_enc_i64(&enc, d->dir);
		ts_enc_i64(&enc, d->start);
		ts_enc_i64(&enc, d->last_elevated);
		ts_enc_i64(&enc, d->held);
		ts_enc_i64(&enc, d->cand_start);
		ts_enc_f64(&enc, d->cand_p);
		ts_enc_f64(&enc, d->cand_expected);
		ts_enc_i64(&enc, d->cand_dir);
		const open_info *oi = em->open;
		ts_enc_u64(&enc, oi != NULL);
		if (!oi)
			continue;
		ts_enc_i64(&enc, oi->start);
		ts_enc_f64(&enc, oi->baseline_average);
		ts_enc_i64(&enc, oi->baseline_duration);
		for (int kk = 0; kk < TS_A_KINDS; kk++)
			enc_saved(&enc, oi->base[kk], oi->nbase[kk]);
		ts_enc_f64(&enc, oi->p_value);
		ts_enc_f64(&enc, oi->expected);
		ts_enc_u64(&enc, (uint64_t)oi->start_written);
	}

	uint64_t nh = 0;
	for (size_t i = 0; i < e->nheld; i++)
		nh += e->held[i].pid == pid;
	ts_enc_u64(&enc, nh);
	for (size_t i = 0; i < e->nheld; i++) {
		if (e->held[i].pid != pid)
			continue;
		ts_enc_i64(&enc, e->held[i].minute);
		ts_enc_str(&enc, (ts_str){e->held[i].json, e->held[i].len});
	}
	ts_enc_u64(&enc, (uint64_t)p->has_pos);
	ts_enc_u64(&enc, p->pos_ms);
	ts_enc_u64(&enc, p->pos_seq);
	return ts_enc_finish(&enc, STATE_MAGIC, out);
}

static int dec_attr(ts_dec *d, const uint32_t *mids, uint32_t nm, ts_attr_count *a)
{
	uint64_t li = ts_dec_count(d, nm ? nm - 1 : 0);
	uint64_t kind = ts_dec_count(d, TS_A_KINDS - 1);
	uint32_t v = ts_dec_value(d);
	uint64_t c = ts_dec_u64(d);
	if (!ts_dec_ok(d, 0) || !nm || c > UINT32_MAX)
		return TS_EINVAL;
	*a = (ts_attr_count){mids[li], v, (uint32_t)c, (uint8_t)kind};
	return 0;
}

static int dec_saved(ts_dec *d, saved_attr *a, unsigned *n)
{
	*n = (unsigned)ts_dec_count(d, TS_ATTR_TOP);
	int finite = 1;
	for (unsigned i = 0; i < *n; i++) {
		a[i].value = ts_dec_value(d);
		a[i].average = ts_dec_f64(d);
		finite &= isfinite(a[i].average) != 0;
	}
	return ts_dec_ok(d, 0) && finite ? 0 : TS_EINVAL;
}

/* Rebuild partition pid (new to this engine) from its saved state. */
static int decode_state(ts_engine *e, uint32_t pid, const void *blob, size_t len)
{
	ts_dec d;
	uint32_t *mids = NULL;
	int v1 = 0;
	int rc = ts_dec_open(&d, blob, len, STATE_MAGIC, e->reg);
	if (rc == TS_EINVAL && len >= 4 && !memcmp(blob, STATE_MAGIC_V1, 4)) {
		ts_dec_free(&d);
		v1 = 1;
		rc = ts_dec_open(&d, blob, len, STATE_MAGIC_V1, e->reg);
	}
	if (rc)
		goto out;
	ts_partition *part = ts_registry_get_partition(e->reg, pid);
	ts_str acct = ts_dec_str(&d), region = ts_dec_str(&d);
	rc = TS_EINVAL;
	if (!ts_dec_ok(&d, 0) || !ts_str_eq(acct, part->account) || !ts_str_eq(region, part->region))
		goto out;
	uint32_t nm = (uint32_t)ts_dec_count(&d, len);
	rc = TS_ENOMEM;
	if (!(mids = malloc((nm ? nm : 1) * sizeof *mids)))
		goto out;
	for (uint32_t i = 0; i < nm; i++) {
		uint64_t kind = ts_dec_count(&d, TS_M_ERRORS);
		ts_str src = ts_dec_str(&d), name = ts_dec_str(&d);
		uint64_t data = ts_dec_count(&d, 1);
		int64_t first = ts_dec_minute(&d);
		uint32_t code = kind == TS_M_ERRORS ? ts_dec_value(&d) : 0;
		rc = TS_EINVAL;
		if (!ts_dec_ok(&d, 0))
			goto out;
		uint32_t aid;
		if ((rc = ts_registry_api(e->reg, pid, src, name, (int)data, &aid)))
			goto out;
		ts_api *api = ts_registry_get_api(e->reg, aid);
		if (first < api->first_minute)
			api->first_minute = first;
		if (kind == TS_M_CALLS)
			mids[i] = api->calls;
		else if (kind == TS_M_READS)
			mids[i] = api->reads;
		else if ((rc = ts_registry_error_metric(e->reg, aid, code, &mids[i])))
			goto out;
	}
	if ((rc = ts_agg_load(e->agg, pid, &d, mids, nm)))
		goto out;

	epart *p = e->parts[pid];
	p->hour_start = ts_dec_minute(&d);
	p->attrs_flushed = ts_dec_minute(&d);
	uint64_t nh = ts_dec_count(&d, len);
	for (uint64_t i = 0; i < nh; i++) {
		ts_attr_count a;
		if ((rc = dec_attr(&d, mids, nm, &a)) ||
		    (rc = ts_tally_add(&p->hour, ts_attr_key(a.metric, a.kind, a.value), a.count)) ||
		    (rc = ts_tally_add(&p->hour_nvals, ts_attr_key(a.metric, a.kind, 0), 1)))
			goto out;
	}
	uint64_t nslots = ts_dec_count(&d, DETAIL_RING);
	for (uint64_t i = 0; i < nslots; i++) {
		int64_t minute = ts_dec_minute(&d);
		uint64_t n = ts_dec_count(&d, len);
		rc = TS_EINVAL;
		if (!ts_dec_ok(&d, 0) || minute == INT64_MIN)
			goto out;
		detail_slot *s = &p->detail[((minute % DETAIL_RING) + DETAIL_RING) % DETAIL_RING];
		rc = TS_ENOMEM;
		ts_attr_count *x = realloc(s->e, (n ? n : 1) * sizeof *x);
		if (!x)
			goto out;
		s->e = x;
		s->alloc = (uint32_t)(n ? n : 1);
		s->minute = minute;
		s->n = 0;
		for (uint64_t j = 0; j < n; j++, s->n++)
			if ((rc = dec_attr(&d, mids, nm, &s->e[j])))
				goto out;
	}

	for (uint32_t i = 0; i < nm; i++) {
		uint64_t has = ts_dec_count(&d, 1);
		if (!has)
			continue;
		emetric *em = get_metric(e, mids[i]);
		rc = TS_ENOMEM;
		if (!em)
			goto out;
		ts_detector det, *dt = &det;
		ts_detector_init(dt);
		int finite = dec_ring(&d, dt, v1) == 0;
		/* minutes in range, so the detector's sums cannot overflow */
		dt->last = ts_dec_minute(&d);
		dt->floor = ts_dec_minute(&d);
		dt->quiet_until = ts_dec_minute(&d);
		dt->open = (int)ts_dec_i64_in(&d, 0, 1);
		dt->dir = (int)ts_dec_i64_in(&d, -1, 1);
		dt->start = ts_dec_minute(&d);
		dt->last_elevated = ts_dec_minute(&d);
		dt->held = (int)ts_dec_i64_in(&d, 0, INT32_MAX / 2);
		dt->cand_start = ts_dec_minute(&d);
		dt->cand_p = ts_dec_f64(&d);
		dt->cand_expected = ts_dec_f64(&d);
		dt->cand_dir = (int)ts_dec_i64_in(&d, -1, 1);
		rc = TS_EINVAL;
		/* an episode, or a candidate about to become one, starts at a
		 * minute an event can name */
		if (!finite || !isfinite(dt->cand_p) || !isfinite(dt->cand_expected) ||
		    (dt->open && (dt->start < 0 || dt->last_elevated < dt->start)) ||
		    (dt->held && dt->cand_start < 0))
			goto out;
		rc = TS_ENOMEM;
		if (ts_mdet_set(&em->md, dt))
			goto out;
		if (!ts_dec_count(&d, 1))
			continue;
		rc = TS_ENOMEM;
		if (!em->open && !(em->open = calloc(1, sizeof *em->open)))
			goto out;
		open_info *oi = em->open;
		oi->start = ts_dec_minute(&d);
		oi->baseline_average = ts_dec_f64(&d);
		oi->baseline_duration = ts_dec_i64_in(&d, 0, TS_DEC_MINUTE_END);
		for (int k = 0; k < TS_A_KINDS; k++)
			if ((rc = dec_saved(&d, oi->base[k], &oi->nbase[k])))
				goto out;
		oi->p_value = ts_dec_f64(&d);
		oi->expected = ts_dec_f64(&d);
		oi->start_written = (int)ts_dec_count(&d, 1);
		rc = TS_EINVAL;
		if (!ts_dec_ok(&d, 0) || oi->start < 0 || !isfinite(oi->baseline_average) ||
		    !isfinite(oi->p_value) || !isfinite(oi->expected))
			goto out;
	}

	uint64_t nev = ts_dec_count(&d, len);
	for (uint64_t i = 0; i < nev; i++) {
		int64_t minute = ts_dec_minute(&d);
		ts_str json = ts_dec_str(&d);
		rc = TS_EINVAL;
		if (!ts_dec_ok(&d, 0))
			goto out;
		if ((rc = hold(e, minute, json, pid, 0, 0)))
			goto out;
	}
	p->has_pos = (int)ts_dec_count(&d, 1);
	p->pos_ms = ts_dec_u64(&d);
	p->pos_seq = ts_dec_u64(&d);
	rc = ts_dec_ok(&d, 1) ? 0 : TS_EINVAL;
out:
	ts_dec_free(&d);
	free(mids);
	return rc;
}

static int restore_partition(ts_engine *e, uint32_t pid)
{
	if (!get_part(e, pid))
		return TS_ENOMEM;
	ts_buf *b = &e->scratch;
	int rc = store_err(e->store->ops->get_state(e->store, pid, b));
	if (rc || !b->len)
		return rc;
	rc = decode_state(e, pid, b->p, b->len);
	if (rc && rc != TS_ENOMEM) {
		ts_partition *part = ts_registry_get_partition(e->reg, pid);
		int an = (int)part->account.n, rn = (int)part->region.n;
		snprintf(e->store->errstr, sizeof e->store->errstr,
			 "the saved state of partition %.*s/%.*s (%zu bytes, key ts:{%.*s:%.*s}:state) "
			 "cannot be decoded (%s): it is corrupt or from another trailsight. To start "
			 "the partition anew (its series warm up again), delete that key "
			 "(redis-cli DEL 'ts:{%.*s:%.*s}:state') and run again",
			 an, part->account.p, rn, part->region.p, b->len, an, part->account.p, rn,
			 part->region.p, ts_strerror(rc), an, part->account.p, rn, part->region.p);
		return TS_ESTORE;
	}
	if (!rc)
		e->st.restored++;
	return rc;
}

static int file_part(ts_engine *e, uint32_t pid, int *skip)
{
	for (uint32_t i = 0; i < e->ncur; i++)
		if (e->cur[i].pid == pid) {
			*skip = e->cur[i].skip;
			return 0;
		}
	int done = 0, rc;
	if (!e->o.force &&
	    (rc = e->store->ops->file_done_in(e->store, pid, &e->files[e->nfiles - 1].id, &done)))
		return store_err(rc);
	if (e->ncur == e->cur_alloc) {
		uint32_t n = e->cur_alloc ? e->cur_alloc * 2 : 8;
		cur_part *c = realloc(e->cur, n * sizeof *c);
		if (!c)
			return TS_ENOMEM;
		e->cur = c;
		e->cur_alloc = n;
	}
	e->cur[e->ncur++] = (cur_part){pid, done};
	*skip = done;
	return 0;
}

int ts_engine_file_begin(ts_engine *e, const ts_file_id *f)
{
	if (e->err)
		return e->err;
	if (e->in_file)
		return TS_EINVAL;
	if (e->nfiles == e->files_alloc) {
		uint32_t n = e->files_alloc ? e->files_alloc * 2 : 16;
		efile *x = realloc(e->files, n * sizeof *x);
		if (!x)
			return e->err = TS_ENOMEM;
		e->files = x;
		e->files_alloc = n;
	}
	size_t l = strlen(f->name);
	char *name = malloc(l + 1);
	if (!name)
		return e->err = TS_ENOMEM;
	memcpy(name, f->name, l + 1);
	e->files[e->nfiles++] = (efile){{name, f->size, f->mtime}, 0};
	e->in_file = 1;
	e->ncur = 0;
	return 0;
}

int ts_engine_file_end(ts_engine *e)
{
	if (e->err)
		return e->err;
	if (!e->in_file)
		return TS_EINVAL;
	int rc = ts_order_file_end(e->order);
	if (rc)
		return e->err = rc;
	uint32_t fi = e->nfiles - 1;
	for (uint32_t i = 0; i < e->ncur; i++) {
		if (e->cur[i].skip)
			continue;
		epart *p = e->parts[e->cur[i].pid];
		if (p->nfiles == p->files_alloc) {
			uint32_t n = p->files_alloc ? p->files_alloc * 2 : 8;
			uint32_t *x = realloc(p->files, n * sizeof *x);
			if (!x)
				return e->err = TS_ENOMEM;
			p->files = x;
			p->files_alloc = n;
		}
		p->files[p->nfiles++] = fi;
	}
	e->files[fi].ended = 1;
	e->in_file = 0;
	e->ncur = 0;
	if (e->store->ops->flush_due(e->store))
		return ts_engine_checkpoint(e);
	return 0;
}

int ts_engine_checkpoint(ts_engine *e)
{
	if (e->err)
		return e->err;
	if (e->in_file)
		return TS_EINVAL;
	/* held records are in no state yet: nothing can be saved before
	 * they are counted */
	if (ts_order_holding(e->order))
		return 0;
	ts_file_id *ids = malloc((e->nfiles ? e->nfiles : 1) * sizeof *ids);
	int rc = ids ? 0 : TS_ENOMEM;
	for (uint32_t pid = 0; pid < e->nparts && !rc; pid++) {
		epart *p = e->parts[pid];
		if (!p || (!p->dirty && !p->nfiles))
			continue;
		if ((rc = encode_state(e, pid, &e->scratch)))
			break;
		for (uint32_t i = 0; i < p->nfiles; i++)
			ids[i] = e->files[p->files[i]].id;
		rc = store_err(e->store->ops->put_state(e->store, pid, e->scratch.p,
							e->scratch.len, ids, p->nfiles));
	}
	size_t n = 0;
	for (uint32_t i = 0; i < e->nfiles && !rc; i++)
		if (e->files[i].ended)
			ids[n++] = e->files[i].id;
	if (!rc && n)
		rc = store_err(e->store->ops->mark_files(e->store, ids, n));
	free(ids);
	/* a backfill's mid-run checkpoints need not wait for the store: its
	 * events are written at finish, after a confirmed flush */
	int (*flush)(ts_store *) = e->o.sorted && !e->finishing && e->store->ops->flush_begin
					   ? e->store->ops->flush_begin
					   : e->store->ops->flush;
	if (!rc)
		rc = store_err(flush(e->store));
	if (rc)
		return e->err = rc;
	e->st.checkpoints++;
	e->checkpoint_due = 0;
	for (uint32_t pid = 0; pid < e->nparts; pid++)
		if (e->parts[pid]) {
			e->parts[pid]->dirty = 0;
			e->parts[pid]->nfiles = 0;
		}
	for (uint32_t i = 0; i < e->nfiles; i++)
		free((char *)e->files[i].id.name);
	e->nfiles = 0;
	/* streaming: the events this state made may go out now; then store
	 * the states without them at once, so a stop can repeat an event only
	 * if it comes while the events are being written */
	if (!e->o.sorted && e->nheld) {
		if ((rc = emit_held(e)))
			return e->err = rc;
		return ts_engine_checkpoint(e);
	}
	return 0;
}
