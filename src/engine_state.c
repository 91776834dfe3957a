/* engine_state.c - a partition's checkpoint state: assembling it from the
 * modules that own each part, and rebuilding a partition from it.
 *
 * A state (codec.h framing, magic TSP3) holds, in this order: the
 * partition's metrics by name (kind, eventSource, eventName, data, first
 * minute, error code); the aggregator's open minutes (ts_agg_save); the
 * attribution windows (ts_attrwin_save) from the earliest minute the open
 * hour or an open episode still needs; per metric, whether it has a
 * detector, the detector (ts_detector_save), its open episode
 * (ts_episode_save) and whether it has a stopped-job watch, the watch
 * (ts_jobstop_save); the events not yet written; an ordered source's
 * position. Each module writes and reads its own part; this file only
 * orders them and maps metrics to their partition-local indexes. TSP2
 * (no watches) and TSP1 (no watches, a detector's ring one observation
 * per slot) are still read.
 */
#include <stdlib.h>

#include "engine_int.h"

#define STATE_MAGIC "TSP3"
#define STATE_MAGIC_V2 "TSP2"
#define STATE_MAGIC_V1 "TSP1"

/* Encode partition pid's state into out. 0 or TS_ENOMEM. */
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
		const ts_api *api = ts_registry_get_api(e->reg, m->api);
		ts_enc_u64(&enc, m->kind);
		ts_enc_str(&enc, api->source);
		ts_enc_str(&enc, api->name);
		ts_enc_u64(&enc, api->data);
		ts_enc_i64(&enc, api->first_minute);
		if (m->kind == TS_M_ERRORS)
			ts_enc_value(&enc, m->code);
	}
	ts_agg_save(e->agg, pid, &enc);

	/* attribution minutes from the earliest hour still needed: the open
	 * hour's and each open episode's first hour */
	int64_t cut = ts_agg_closed(e->agg, pid);
	cut = cut == INT64_MIN ? INT64_MAX : ts_floordiv(cut + 1, 60) * 60;
	for (uint32_t i = 0; i < part->nmetrics; i++) {
		const emetric *em = ts_engine_peek_metric_(e, part->metrics[i]);
		if (em && em->open) {
			int64_t h = ts_floordiv(em->open->start, 60) * 60;
			cut = h < cut ? h : cut;
		}
	}
	ts_attrwin_save(p->win, &enc, e->reg, cut);

	for (uint32_t i = 0; i < part->nmetrics; i++) {
		uint32_t mid = part->metrics[i];
		const emetric *em = ts_engine_peek_metric_(e, mid);
		int has = em && (ts_mdet_last(&em->md) != INT64_MIN || em->open);
		ts_enc_u64(&enc, (uint64_t)has);
		if (!has)
			continue;
		ts_detector det;
		ts_mdet_get(&em->md, ts_registry_get_metric(e->reg, mid)->kind == TS_M_ERRORS, &det);
		ts_detector_save(&det, &enc);
		ts_enc_u64(&enc, em->open != NULL);
		if (em->open)
			ts_episode_save(em->open, &enc);
		const ts_jobstop *job = ts_mdet_job(&em->md);
		ts_enc_u64(&enc, job != NULL);
		if (job)
			ts_jobstop_save(job, &enc);
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

/* The metrics a state names, made in the registry: mids[i] for local
 * index i. 0, TS_EINVAL, TS_ECAP or TS_ENOMEM. */
static int decode_metrics(ts_engine *e, uint32_t pid, ts_dec *d, uint32_t *mids, uint32_t nm)
{
	for (uint32_t i = 0; i < nm; i++) {
		uint64_t kind = ts_dec_count(d, TS_M_ERRORS);
		ts_str src = ts_dec_str(d), name = ts_dec_str(d);
		uint64_t data = ts_dec_count(d, 1);
		int64_t first = ts_dec_minute(d);
		uint32_t code = kind == TS_M_ERRORS ? ts_dec_value(d) : 0;
		if (!ts_dec_ok(d, 0))
			return TS_EINVAL;
		uint32_t aid;
		int rc = ts_registry_api(e->reg, pid, src, name, (int)data, &aid);
		if (rc)
			return rc;
		ts_registry_api_seen(e->reg, aid, first);
		const ts_api *api = ts_registry_get_api(e->reg, aid);
		if (kind == TS_M_CALLS)
			mids[i] = api->calls;
		else if (kind == TS_M_READS)
			mids[i] = api->reads;
		else if ((rc = ts_registry_error_metric(e->reg, aid, code, &mids[i])))
			return rc;
	}
	return 0;
}

/* Each metric's detector, open episode and (version 3) stopped-job
 * watch. 0, TS_EINVAL or TS_ENOMEM. */
static int decode_detectors(ts_engine *e, ts_dec *d, const uint32_t *mids, uint32_t nm, int v1,
			    int v3)
{
	for (uint32_t i = 0; i < nm; i++) {
		if (!ts_dec_count(d, 1))
			continue;
		emetric *em = ts_engine_metric_(e, mids[i]);
		if (!em)
			return TS_ENOMEM;
		ts_detector det;
		if (ts_detector_load(&det, d, v1))
			return TS_EINVAL;
		if (ts_mdet_set(&em->md, &det))
			return TS_ENOMEM;
		if (ts_dec_count(d, 1)) {
			if (!em->open && !(em->open = calloc(1, sizeof *em->open)))
				return TS_ENOMEM;
			int rc = ts_episode_load(em->open, d);
			if (rc)
				return rc;
		}
		if (!v3 || !ts_dec_count(d, 1))
			continue;
		ts_jobstop job;
		if (ts_jobstop_load(&job, d))
			return TS_EINVAL;
		if (ts_mdet_set_job(&em->md, &job))
			return TS_ENOMEM;
	}
	return 0;
}

/* Rebuild partition pid (new to this engine) from its saved state. 0,
 * TS_EINVAL (corrupt), TS_ECAP (a registry cap) or TS_ENOMEM. */
static int decode_state(ts_engine *e, uint32_t pid, const void *blob, size_t len)
{
	ts_dec d;
	uint32_t *mids = NULL;
	int v1 = 0, v3 = 1;
	int rc = ts_dec_open(&d, blob, len, STATE_MAGIC, e->reg);
	if (rc == TS_EINVAL && len >= 4 &&
	    (!memcmp(blob, STATE_MAGIC_V1, 4) || !memcmp(blob, STATE_MAGIC_V2, 4))) {
		ts_dec_free(&d);
		v1 = !memcmp(blob, STATE_MAGIC_V1, 4);
		v3 = 0;
		rc = ts_dec_open(&d, blob, len, v1 ? STATE_MAGIC_V1 : STATE_MAGIC_V2, e->reg);
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
	if ((rc = decode_metrics(e, pid, &d, mids, nm)) || (rc = ts_agg_load(e->agg, pid, &d, mids, nm)))
		goto out;
	epart *p = e->parts[pid];
	if ((rc = ts_attrwin_load(p->win, &d, mids, nm, len)) ||
	    (rc = decode_detectors(e, &d, mids, nm, v1, v3)))
		goto out;

	uint64_t nev = ts_dec_count(&d, len);
	for (uint64_t i = 0; i < nev; i++) {
		int64_t minute = ts_dec_minute(&d);
		ts_str json = ts_dec_str(&d);
		rc = TS_EINVAL;
		if (!ts_dec_ok(&d, 0))
			goto out;
		if ((rc = ts_engine_hold_(e, minute, json, pid, 0, 0)))
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

int ts_engine_restore_(ts_engine *e, uint32_t pid)
{
	if (!ts_engine_part_(e, pid))
		return TS_ENOMEM;
	ts_buf *b = &e->scratch;
	int rc = ts_engine_store_err_(e->store->ops->get_state(e->store, pid, b));
	if (rc || !b->len)
		return rc;
	rc = decode_state(e, pid, b->p, b->len);
	if (rc && rc != TS_ENOMEM) {
		ts_partition *part = ts_registry_get_partition(e->reg, pid);
		int an = (int)part->account.n, rn = (int)part->region.n;
		ts_store_errorf(e->store,
				"the saved state of partition %.*s/%.*s (%zu bytes, key "
				"ts:{%.*s:%.*s}:state) cannot be decoded (%s): it is corrupt or from "
				"another trailsight. To start the partition anew (its series warm up "
				"again), delete that key (redis-cli DEL 'ts:{%.*s:%.*s}:state') and "
				"run again",
				an, part->account.p, rn, part->region.p, b->len, an, part->account.p,
				rn, part->region.p, ts_strerror(rc), an, part->account.p, rn,
				part->region.p);
		return TS_ESTORE;
	}
	if (!rc)
		e->st.restored++;
	return rc;
}

int ts_engine_next_partition_(const ts_buf *list, size_t *off, ts_str *account, ts_str *region)
{
	while (*off < list->len) {
		const char *m = list->p + *off;
		size_t n = strlen(m);
		*off += n + 1;
		const char *colon = NULL;
		for (size_t i = 0; i < n; i++)
			if (m[i] == ':')
				colon = m + i;
		if (!colon)
			continue;
		*account = (ts_str){m, (size_t)(colon - m)};
		*region = (ts_str){colon + 1, n - (size_t)(colon + 1 - m)};
		return 1;
	}
	return 0;
}

int ts_engine_restore_all_(ts_engine *e)
{
	ts_buf list = {0};
	int rc = e->store->ops->partitions(e->store, &list);
	if (rc) {
		ts_buf_free(&list);
		return rc == TS_ENOMEM ? rc : TS_ESTORE;
	}
	size_t off = 0;
	ts_str acct, region;
	while (!rc && ts_engine_next_partition_(&list, &off, &acct, &region)) {
		uint32_t pid;
		rc = ts_registry_partition(e->reg, acct, region, &pid);
		if (!rc && (pid >= e->nparts || !e->parts[pid]) &&
		    (!e->o.owns || e->o.owns(e->o.owns_ctx, pid)))
			rc = ts_engine_restore_(e, pid);
	}
	ts_buf_free(&list);
	return rc;
}

int ts_engine_save_(ts_engine *e, uint32_t pid, const ts_file_id *ids, size_t nids)
{
	int rc = encode_state(e, pid, &e->scratch);
	if (rc)
		return rc;
	return ts_engine_store_err_(
		e->store->ops->put_state(e->store, pid, e->scratch.p, e->scratch.len, ids, nids));
}
