/* engine_stats.c - what the engine reports of itself: its counters, the
 * latency of the events it wrote, and its memory by part (estimates:
 * bytes asked of malloc by each structure, not its overhead).
 */
#include <stdlib.h>

#include "engine_int.h"

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
	st->attr_dropped = e->attr.dropped;
	st->attr_cells = e->attr.cells;
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

void ts_engine_memory_parts(const ts_engine *e, ts_engine_mem *out)
{
	ts_order_stats os;
	ts_order_get_stats(e->order, &os);
	memset(out, 0, sizeof *out);
	out->agg = ts_agg_memory(e->agg);
	out->store = e->store->ops->memory(e->store);
	if (e->store->ops->history_memory)
		out->history = e->store->ops->history_memory(e->store, &out->history_attrs);
	out->order = os.held_bytes;
	out->registry = ts_registry_memory(e->reg) + (e->rm ? ts_rulematch_memory(e->rm) : 0);
	out->scratch = 3 * e->hist_len * sizeof *e->hist;
	out->detectors = e->nm * sizeof *e->m;
	for (size_t i = 0; i < e->nm; i++)
		if (e->m[i])
			out->detectors += sizeof *e->m[i] + ts_mdet_memory(&e->m[i]->md) +
					  (e->m[i]->open ? sizeof *e->m[i]->open : 0);
	for (size_t i = 0; i < e->nparts; i++)
		if (e->parts[i])
			out->partitions += sizeof *e->parts[i] + ts_attrwin_memory(e->parts[i]->win);
}

size_t ts_engine_memory(const ts_engine *e)
{
	ts_engine_mem m;
	ts_engine_memory_parts(e, &m);
	return m.agg + m.store + m.order + m.registry + m.detectors + m.partitions + m.scratch;
}

void ts_engine_memory_log_(const ts_engine *e)
{
	ts_engine_mem m;
	ts_engine_memory_parts(e, &m);
	size_t ndet = 0, idle = 0;
	for (size_t i = 0; i < e->nm; i++)
		if (e->m[i]) {
			ndet++;
			idle += e->m[i]->md.full == NULL;
		}
	ts_debug("memory: registry %zu, agg %zu, store %zu (history %zu, attributions %zu), "
		 "order %zu, detectors %zu (%zu, %zu idle), partitions %zu, scratch %zu",
		 m.registry, m.agg, m.store, m.history, m.history_attrs, m.order, m.detectors,
		 ndet, idle, m.partitions, m.scratch);
}
