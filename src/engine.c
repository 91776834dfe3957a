/* engine.c - records in, insight events out: the orchestration.
 *
 * Each record is classified (classify.h), put in time order (order.h) and
 * counted in the minute aggregator (agg.h). As the aggregator closes a
 * minute of a partition, the engine writes its counts to the store, gives
 * its attributions to the partition's windows (attrwin.h), refits each
 * metric's baselines at the first closed minute of a UTC day, steps each
 * metric's detector (mdet.h) and, at a Start or End, has the episode
 * (episode.h) build the event. Events are held until a checkpoint has
 * stored the state that made them (sorted: until finish), so the output
 * does not depend on the order in which partitions were read. A
 * partition's checkpoint state is assembled in engine_state.c, its
 * counters and memory reported in engine_stats.c; the structures these
 * files share are in engine_int.h.
 */
#include <stdlib.h>

#include "classify.h"
#include "engine_int.h"
#include "model.h"
#include "profile.h"
#include "tally.h"

#define LAT_MAX 100000

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
	 * rebuild the detector windows and the attribution ring. The longest
	 * of the base profile and its overrides. */
	int hist_days;
	int64_t tail;
	ts_engine_profile_spans_(o, &hist_days, &tail);
	int hd = hist_days > TS_BASELINE_DAYS ? hist_days : TS_BASELINE_DAYS;
	if (e->agg)
		ts_agg_set_skip(e->agg, (int64_t)(hd + 2) * TS_MIN_PER_DAY + tail,
				TS_ATTRWIN_RING + 120 + TS_WINDOW_MAX);
	ts_order_opts oo = {
		.mode = o->order,
		.lateness = o->lateness,
		.future_secs = o->future_minutes > 0 ? (int64_t)o->future_minutes * 60 : 0,
		.auto_events = o->order_auto_events,
		.hold_cap = o->hold_cap,
	};
	ts_order_cb ocb = {order_feed, order_future, o->wall ? order_wall : NULL, e};
	e->order = ts_order_new(&oo, &ocb);
	int days = hist_days > TS_BASELINE_DAYS + 2 ? hist_days : TS_BASELINE_DAYS + 2;
	e->hist_len = (size_t)days * TS_MIN_PER_DAY;
	e->hist = malloc(e->hist_len * sizeof *e->hist);
	e->hist2 = malloc(e->hist_len * sizeof *e->hist2);
	e->hist3 = malloc(e->hist_len * sizeof *e->hist3);
	if (!e->o.max_attr_values)
		e->o.max_attr_values = 1000;
	e->overflow = ts_overflow_new(0);
	if (!e->agg || !e->order || !e->hist || !e->hist2 || !e->hist3 || !e->overflow ||
	    ts_engine_rules_init_(e) || ts_registry_value(reg, ts_str_c("null"), &e->null_vid)) {
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
	ts_engine_rules_free_(e);
	for (size_t i = 0; i < e->nparts; i++) {
		if (!e->parts[i])
			continue;
		ts_attrwin_free(e->parts[i]->win);
		free(e->parts[i]->files);
		free(e->parts[i]->touched);
		free(e->parts[i]);
	}
	free(e->parts);
	for (size_t i = 0; i < e->nfiles; i++)
		free((char *)e->files[i].id.name);
	free(e->files);
	free(e->cur);
	free(e->lat);
	ts_buf_free(&e->scratch);
	for (size_t i = 0; i < e->nm; i++) {
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

emetric *ts_engine_metric_(ts_engine *e, uint32_t mid)
{
	if (ts_grow(&e->m, &e->nm, (size_t)mid + 1, sizeof *e->m, 64))
		return NULL;
	if (!e->m[mid]) {
		emetric *em = calloc(1, sizeof *em);
		if (!em)
			return NULL;
		ts_mdet_init(&em->md);
		ts_engine_series_scope_(e, mid, em);
		e->m[mid] = em;
	}
	return e->m[mid];
}

const emetric *ts_engine_peek_metric_(const ts_engine *e, uint32_t mid)
{
	return mid < e->nm ? e->m[mid] : NULL;
}

int ts_engine_store_err_(int rc)
{
	return rc == 0 || rc == TS_ENOMEM ? rc : TS_ESTORE;
}

epart *ts_engine_part_(ts_engine *e, uint32_t pid)
{
	if (ts_grow(&e->parts, &e->nparts, (size_t)pid + 1, sizeof *e->parts, 16))
		return NULL;
	if (!e->parts[pid]) {
		epart *p = calloc(1, sizeof *p);
		if (!p)
			return NULL;
		const ts_store_ops *so = e->store->ops;
		int in_store = so->add_attr_minute && so->read_attr_minutes;
		if (!(p->win = ts_attrwin_new(e->o.max_attr_values, in_store))) {
			free(p);
			return NULL;
		}
		e->parts[pid] = p;
	}
	return e->parts[pid];
}

/* ---- counting ---- */

static int file_part(ts_engine *e, uint32_t pid, int *skip);

/* Count a record ts_classify took (kind k) in partition pid: its series,
 * values and error metric, then into the order hold. */
static int count_record(ts_engine *e, const ts_record *r, const ts_record_kind *k);

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
	ts_record_kind k;
	switch (ts_classify(r, e->o.include_data, &k)) {
	case TS_CLASS_INSIGHT:
		e->st.ignored_insight++;
		return TS_ADD_IGNORED;
	case TS_CLASS_CATEGORY:
		e->st.ignored_category++;
		return TS_ADD_IGNORED;
	case TS_CLASS_DATA:
		e->st.ignored_data++;
		return TS_ADD_IGNORED;
	case TS_CLASS_BAD_PARTITION:
		e->st.skipped_fields++;
		return TS_EFIELD;
	case TS_CLASS_COUNT:
		break;
	}
	return count_record(e, r, &k);
}

static int count_record(ts_engine *e, const ts_record *r, const ts_record_kind *k)
{
	int rc, ro = k->read_only;
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
	if (e->o.owns && !e->o.owns(e->o.owns_ctx, pid)) {
		e->st.not_owned++;
		return TS_ADD_IGNORED;
	}
	if ((pid >= e->nparts || !e->parts[pid]) && (rc = ts_engine_restore_(e, pid)))
		goto fatal;
	if (e->in_file) {
		int skip;
		if ((rc = file_part(e, pid, &skip)))
			goto fatal;
		if (skip) {
			e->st.already_counted++;
			return TS_ADD_IGNORED;
		}
	}
	if (e->pos_on) {
		epart *p = e->parts[pid];
		if (p->has_pos && (e->pos_ms < p->pos_ms ||
				   (e->pos_ms == p->pos_ms && e->pos_seq <= p->pos_seq))) {
			e->st.already_counted++;
			return TS_ADD_IGNORED;
		}
		p->has_pos = 1;
		p->pos_ms = e->pos_ms;
		p->pos_seq = e->pos_seq;
	}
	e->parts[pid]->dirty = 1;
	uint32_t aid;
	if ((rc = ts_registry_api(e->reg, pid, r->event_source, r->event_name, k->data, &aid))) {
		if (rc != TS_ECAP)
			goto fatal;
		/* a new series past a cap: counted where it came from, never
		 * in place of one already there */
		if ((rc = ts_overflow_add(e->overflow, pid, r->event_source, TS_OV_SERIES)))
			goto fatal;
		e->st.overflow_series++;
		return TS_ADD_IGNORED;
	}
	uint32_t vals[TS_A_KINDS] = {TS_NO_VALUE, TS_NO_VALUE, TS_NO_VALUE};
	if (r->arn.p && (rc = ts_registry_value(e->reg, r->arn, &vals[TS_A_ARN])))
		goto fail;
	if (r->user_agent.p && (rc = ts_registry_value(e->reg, r->user_agent, &vals[TS_A_AGENT])))
		goto fail;
	uint32_t code = e->null_vid;
	if (r->error_code.p && (rc = ts_registry_value(e->reg, r->error_code, &code)))
		goto fail;
	vals[TS_A_ERRCODE] = code;
	/* a drop rule's record is counted under the rule, in no series */
	int dropped;
	if ((rc = ts_engine_drop_(e, r, aid, vals, &dropped)))
		goto fatal;
	if (dropped)
		return TS_ADD_IGNORED;
	int64_t minute = ts_floordiv(r->time, 60);
	ts_registry_api_seen(e->reg, aid, minute);
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
	/* the registry may have moved: take the API afresh */
	const ts_api *api = ts_registry_get_api(e->reg, aid);

	/* AWS's call rate: write management calls, every data call (reads
	 * too); --include-read-only adds the management reads */
	int counted_in_rate = !ro || k->data || e->o.include_read_only;
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
	int64_t newest = ts_agg_newest(e->agg, pid);
	/* early: a newer minute or quarter of one begins; judge what the open
	 * minutes hold */
	if (e->o.early && !e->o.sorted && newest != INT64_MIN &&
	    ts_early_due_(e, pid, r->time, minute > newest) && (rc = ts_early_judge_(e, pid)))
		goto fatal;
	rc = ts_order_add(e->order, pid, r->time, ev, nev, ro, count_error,
			  e->origin ? e->origin : "-", e->origin_off, newest);
	if (rc == TS_EFUTURE) {
		e->st.future_time++;
		return rc;
	}
	if (rc < 0)
		goto fatal;
	if (e->err)
		return e->err;
	if (e->o.early && !e->o.sorted && rc == TS_COUNT_ON_TIME &&
	    ((counted_in_rate && (rc = ts_early_touch_(e, pid, ev[0].metric))) ||
	     (count_error && (rc = ts_early_touch_(e, pid, emid)))))
		goto fatal;
	e->st.counted++;
	e->st.late += rc == TS_COUNT_LATE;
	e->st.errors += count_error;
	e->st.read_only += ro;
	return TS_ADD_COUNTED;
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

static int on_late(void *ctx, uint32_t pid, int64_t minute, uint32_t metric,
		   const uint32_t vals[TS_A_KINDS])
{
	ts_engine *e = ctx;
	ts_count c = {metric, 1};
	int rc = e->store->ops->add_minute(e->store, pid, minute, &c, 1);
	if (rc)
		return ts_engine_store_err_(rc);
	epart *p = ts_engine_part_(e, pid);
	if (!p)
		return TS_ENOMEM;
	p->dirty = 1;
	return ts_attrwin_late(p->win, e->store, pid, minute, metric, vals, &e->attr);
}

/* ---- events ---- */

/* Append a copy of json to the held events. 0 or TS_ENOMEM. */
int ts_engine_hold_(ts_engine *e, int64_t minute, ts_str json, uint32_t pid, double made,
		    int start)
{
	if (ts_grow(&e->held, &e->held_alloc, e->nheld + 1, sizeof *e->held, 64))
		return TS_ENOMEM;
	char *copy = malloc(json.n + 1);
	if (!copy)
		return TS_ENOMEM;
	memcpy(copy, json.p, json.n);
	copy[json.n] = '\0';
	e->held[e->nheld++] = (held_event){minute, copy, json.n, pid, made, start};
	return 0;
}

int ts_engine_emit_(ts_engine *e, uint32_t mid, int64_t end_duration, int64_t closing, int early)
{
	const ts_metric *m = ts_registry_get_metric(e->reg, mid);
	const emetric *em = e->m[mid];
	const ts_profile *prof = ts_engine_profile_(e, em);
	const char *mark = ts_engine_mark_(e, em);
	ts_episode *ep = em->open;
	ts_episode_env env = {
		.reg = e->reg,
		.store = e->store,
		.win = e->parts[m->partition]->win,
		.scratch = e->hist2,
		.scratch_len = e->hist_len,
		.insight_minutes = prof->insight_minutes,
		.open = early ? ts_early_open_counts_ : NULL,
		.open_ctx = e,
	};
	/* what the expectation at the start came from: known while the
	 * detector still holds the start's baseline, kept by the episode */
	if (!end_duration && ep->basis.day_class == TS_DAY_NONE && m->kind != TS_M_ERRORS)
		ts_mdet_basis(&em->md, ep->start, &ep->basis);
	ts_insight ins;
	int rc = ts_episode_event(ep, &env, mid, end_duration, &ins);
	if (rc)
		return rc;
	if (ins.start_minute < e->o.since)
		return 0; /* re-detection: an episode before the range asked for */
	if (e->o.trailsight_context || mark) {
		ins.model = prof->name;
		ins.expected = ep->expected;
		ins.p_value = ep->p_value;
		ins.suppressed_by = mark;
		ins.basis = ep->basis;
		if (ins.state == TS_STATE_START) {
			ins.decision_time = ts_engine_decision_time_(e, m->partition, closing);
			ins.decision_wall = !e->o.sorted && e->o.wall ? e->o.wall(e->o.future_ctx) : 0;
			ins.early = early;
		}
	}
	ts_buf_reset(&e->line);
	if ((rc = ts_insight_write(&ins, &e->line)))
		return rc;
	if (mark) {
		/* a mark rule's series: counted under the rule, to no sink */
		e->st.marked++;
		if (ins.state == TS_STATE_START)
			ts_engine_rule_insight_(e, em);
		return e->o.emit_marked ? e->o.emit_marked(e->o.marked_ctx, e->line.p, e->line.len)
					: 0;
	}
	if (ins.state == TS_STATE_START)
		e->st.starts++;
	else
		e->st.ends++;
	/* held until a checkpoint has saved the state that made it (or, sorted,
	 * until finish) */
	int64_t minute = ins.start_minute + (ins.state == TS_STATE_END ? ins.insight_duration : 0);
	return ts_engine_hold_(e, minute, (ts_str){e->line.p, e->line.len}, m->partition,
			       e->o.clock ? e->o.clock(e->o.clock_ctx) : 0,
			       ins.state == TS_STATE_START);
}

/* ---- baselines ---- */

static int fit(ts_engine *e, uint32_t mid, emetric *em, int64_t day)
{
	const ts_metric *m = ts_registry_get_metric(e->reg, mid);
	const ts_api *api = ts_registry_get_api(e->reg, m->api);
	const ts_profile *p = ts_engine_profile_(e, em);
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
	int rc = ts_engine_store_err_(s->ops->read_counts(s, mid, from, n, e->hist));
	if (rc)
		return rc;
	e->st.fits++;
	if (is_error) {
		if ((rc = ts_engine_store_err_(s->ops->read_counts(s, api->calls, from, n, e->hist2))))
			return rc;
		uint32_t *calls = e->hist2, *reads = e->hist3;
		if ((rc = ts_engine_store_err_(s->ops->read_counts(s, api->reads, from, n, reads))))
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

static int detect_minute(ts_engine *e, const ts_minute_batch *b)
{
	ts_partition *part = ts_registry_get_partition(e->reg, b->partition);
	int64_t day = ts_day_of(b->minute);
	for (uint32_t i = 0; i < b->ndense; i++) {
		uint32_t mid = part->metrics[i];
		const ts_metric *m = ts_registry_get_metric(e->reg, mid);
		if (m->kind == TS_M_READS)
			continue;
		emetric *em = ts_engine_metric_(e, mid);
		if (!em)
			return TS_ENOMEM;
		if (ts_engine_unjudged_(e, em))
			continue;
		const ts_profile *prof = ts_engine_profile_(e, em);
		int rc;
		if (em->md.fit_day != day && (rc = fit(e, mid, em, day)))
			return rc;
		int is_error = m->kind == TS_M_ERRORS;
		uint32_t n = 0;
		if (is_error) {
			const ts_api *api = ts_registry_get_api(e->reg, m->api);
			const ts_metric *c = ts_registry_get_metric(e->reg, api->calls);
			const ts_metric *r = ts_registry_get_metric(e->reg, api->reads);
			n = b->dense[c->local] + b->dense[r->local];
		}
		ts_det_event ev;
		int k = ts_mdet_step(&em->md, prof, is_error, b->minute, b->dense[i], n, &ev);
		if (k >= 0 && em->open && em->open->early)
			k = ts_early_closed_(e, em, is_error, b->minute, k, &ev);
		if (k < 0)
			return k;
		/* past the partition's cap of open insights the episode runs in
		 * the detector unwritten, Start and End */
		if (k == TS_DET_START && ts_engine_start_capped_(e, em, b->partition, 1))
			k = TS_DET_NONE;
		if (k == TS_DET_START) {
			/* a job's stop the detector's own Start takes over: ended */
			if (em->open && em->open->start_written &&
			    (rc = ts_engine_emit_(e, mid, b->minute - em->open->start, b->minute, 0)))
				return rc;
			if (!em->open && !(em->open = calloc(1, sizeof *em->open)))
				return TS_ENOMEM;
			memset(em->open, 0, sizeof *em->open);
			em->open->start = ev.start;
			em->open->p_value = ev.p_value;
			em->open->expected = ev.expected;
			if (ev.job) {
				ts_mdet_basis(&em->md, ev.start, &em->open->basis);
				em->open->basis.job_stop = 1;
			}
		}
		/* a Start is written once its insight window has closed */
		if (em->open && !em->open->start_written &&
		    (k == TS_DET_END ||
		     b->minute >= em->open->start + prof->insight_minutes - 1)) {
			if ((rc = ts_engine_emit_(e, mid, 0, b->minute, 0)))
				return rc;
			em->open->start_written = 1;
		}
		if (k == TS_DET_END && em->open) {
			if ((rc = ts_engine_emit_(e, mid, ev.duration, b->minute, 0)))
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
	epart *p = ts_engine_part_(e, b->partition);
	if (!p)
		return TS_ENOMEM;
	p->dirty = 1;
	e->st.minutes_closed++;
	e->st.cells += b->ncounts;
	int rc;
	if (b->ncounts &&
	    (rc = e->store->ops->add_minute(e->store, b->partition, b->minute, b->counts,
					    b->ncounts)))
		return e->err = ts_engine_store_err_(rc);
	/* asked once per closed minute, acted on at the next safe point */
	if (!e->checkpoint_due)
		e->checkpoint_due = e->store->ops->flush_due(e->store);
	/* the minute's attributions: into the ring and the hour tally */
	if ((rc = ts_attrwin_minute(p->win, e->store, b->partition, b->minute, b->attrs, b->nattrs,
				    &e->attr)))
		return e->err = rc;
	if ((rc = detect_minute(e, b)))
		return e->err = rc;
	/* the hour's last minute: its attribution counts go to the store */
	if ((rc = ts_attrwin_minute_done(p->win, e->store, b->partition, b->minute, &e->attr)))
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
		if (e->o.owns && !e->o.owns(e->o.owns_ctx, e->held[i].pid)) {
			e->st.events_dropped++; /* its partition's new owner writes it */
			free(e->held[i].json);
			continue;
		}
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

#define FINISH_SLICE 64 /* partitions closed at finish per checkpoint */

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
	/* every partition the store has a state for: finish closes their
	 * open minutes and writes the events their states hold */
	rc = ts_engine_restore_all_(e);
	if (rc)
		return e->err = rc;
	/* the open minutes are closed partition by partition, with a
	 * checkpoint first (so each one after it holds only partitions
	 * closed since) and after every FINISH_SLICE partitions they changed:
	 * the states of an organization's partitions are never all held at
	 * once */
	if ((rc = ts_engine_checkpoint(e)))
		return rc;
	uint32_t changed = 0;
	for (uint32_t pid = 0; pid < e->nparts; pid++) {
		if ((rc = ts_agg_close_partition(e->agg, pid)))
			return e->err = rc;
		epart *p = e->parts[pid];
		if (p && (rc = ts_attrwin_flush(p->win, e->store, pid, &e->attr)))
			return e->err = rc;
		if (p && p->dirty && ++changed % FINISH_SLICE == 0 && (rc = ts_engine_checkpoint(e)))
			return rc;
	}
	for (size_t i = 0; i < e->nm; i++)
		e->st.open_at_end += e->m[i] && e->m[i]->open && !ts_engine_mark_(e, e->m[i]);
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

int ts_engine_close_open(ts_engine *e)
{
	if (e->err)
		return e->err;
	for (uint32_t pid = 0; pid < e->nparts; pid++) {
		int64_t active = ts_agg_active(e->agg, pid);
		if (!e->parts[pid] || active == INT64_MIN)
			continue;
		int64_t to = active + e->o.lateness + 1;
		if (to <= ts_agg_newest(e->agg, pid))
			continue;
		int rc = ts_agg_advance(e->agg, pid, to);
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
	for (size_t i = 0; i < e->nm; i++)
		n += e->m[i] && e->m[i]->open && !ts_engine_mark_(e, e->m[i]);
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

/* ---- files and checkpoints ---- */

static int file_part(ts_engine *e, uint32_t pid, int *skip)
{
	for (size_t i = 0; i < e->ncur; i++)
		if (e->cur[i].pid == pid) {
			*skip = e->cur[i].skip;
			return 0;
		}
	int done = 0, rc;
	if (!e->o.force &&
	    (rc = e->store->ops->file_done_in(e->store, pid, &e->files[e->nfiles - 1].id, &done)))
		return ts_engine_store_err_(rc);
	if (ts_grow(&e->cur, &e->cur_alloc, e->ncur + 1, sizeof *e->cur, 8))
		return TS_ENOMEM;
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
	if (ts_grow(&e->files, &e->files_alloc, e->nfiles + 1, sizeof *e->files, 16))
		return e->err = TS_ENOMEM;
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
	uint32_t fi = (uint32_t)e->nfiles - 1;
	for (size_t i = 0; i < e->ncur; i++) {
		if (e->cur[i].skip)
			continue;
		epart *p = e->parts[e->cur[i].pid];
		if (ts_grow(&p->files, &p->files_alloc, p->nfiles + 1, sizeof *p->files, 8))
			return e->err = TS_ENOMEM;
		p->files[p->nfiles++] = fi;
	}
	e->files[fi].ended = 1;
	e->in_file = 0;
	e->ncur = 0;
	if (e->o.early && !e->o.sorted && (rc = ts_early_judge_all_(e)))
		return e->err = rc;
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
		if (!p || (!p->dirty && !p->nfiles) || (e->o.owns && !e->o.owns(e->o.owns_ctx, pid)))
			continue;
		for (size_t i = 0; i < p->nfiles; i++)
			ids[i] = e->files[p->files[i]].id;
		rc = ts_engine_save_(e, pid, ids, p->nfiles);
	}
	size_t n = 0;
	for (size_t i = 0; i < e->nfiles && !rc; i++)
		if (e->files[i].ended)
			ids[n++] = e->files[i].id;
	if (!rc && n)
		rc = ts_engine_store_err_(e->store->ops->mark_files(e->store, ids, n));
	free(ids);
	/* a backfill's mid-run checkpoints need not wait for the store: its
	 * events are written at finish, after a confirmed flush */
	if (ts_log_level >= 3)
		ts_engine_memory_log_(e);
	int (*flush)(ts_store *) = e->o.sorted && !e->finishing && e->store->ops->flush_begin
					   ? e->store->ops->flush_begin
					   : e->store->ops->flush;
	if (!rc)
		rc = ts_engine_store_err_(flush(e->store));
	if (rc)
		return e->err = rc;
	e->st.checkpoints++;
	e->checkpoint_due = 0;
	for (uint32_t pid = 0; pid < e->nparts; pid++)
		if (e->parts[pid]) {
			e->parts[pid]->dirty = 0;
			e->parts[pid]->nfiles = 0;
		}
	for (size_t i = 0; i < e->nfiles; i++)
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
