/* run_report.c - what a run reports, from one set of counters.
 *
 * ts_run_counters_get gathers every figure once: the source's (files,
 * bytes, records, skips by reason), the engine's and the run's. Skips are
 * counted in one place, the source's table by reason (the engine's
 * refusals, TS_EFIELD and TS_ECAP, reach it as the record callback's
 * result; a backfill's future_time records at finish and a Redis Stream's
 * bad entries are added by the run the same way), and `skipped` is their
 * sum; --stats, the stderr summary and the metrics file all print these.
 */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "insight.h"
#include "lease.h"
#include "overflow.h"
#include "rulematch.h"
#include "util.h"

void ts_run_counters_get(const ts_run *r, double secs, ts_run_counters *c)
{
	const ts_source_stats *s = &r->src;
	memset(c, 0, sizeof *c);
	ts_engine_get_stats(r->engine, &c->es);
	ts_cli_stats_add(&c->es, &r->prior); /* --group: the earlier batches */
	c->open_insights = ts_engine_open_insights(r->engine);
	if (r->stream)
		c->es.open_at_end = c->open_insights;
	c->files = s->files;
	c->files_failed = s->files_failed;
	c->files_ignored = s->files_ignored;
	c->files_already = r->files_already;
	c->bytes_in = s->bytes_in;
	c->bytes_out = s->bytes_out;
	c->records_read = s->records + c->es.skipped_fields + c->es.skipped_cap;
	c->ignored_digests = s->ignored_digests;
	c->ignored_control = s->ignored_control;
	for (int i = 1; i < TS_ERR_COUNT; i++) {
		c->skipped_by[i] = s->by_reason[i];
		c->skipped += s->by_reason[i];
	}
	c->apis = ts_registry_napis(r->reg);
	c->series = ts_registry_nmetrics(r->reg);
	c->secs = secs;
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		c->rss_kb = ru.ru_maxrss;
}

/* --group: "group":{...}, the worker's leases and what it left to others */
static void write_group_json(FILE *f, const ts_run *r, const ts_engine_stats *es)
{
	if (!r->leases)
		return;
	ts_lease_stats ls;
	ts_leases_get_stats(r->leases, &ls);
	fprintf(f, "\"group\":{\"partitions\":%zu,\"finished_here\":%zu,\"claimed\":%llu,"
		   "\"busy\":%llu,\"renewals\":%llu,\"lost\":%llu,\"fenced\":%llu,"
		   "\"released\":%llu,\"lease_commands\":%llu,\"records_not_owned\":%llu,"
		   "\"events_dropped\":%llu},",
		r->group_parts, r->group_mine, (unsigned long long)ls.claimed,
		(unsigned long long)ls.busy, (unsigned long long)ls.renewals,
		(unsigned long long)ls.lost, (unsigned long long)ls.fenced,
		(unsigned long long)ls.released, (unsigned long long)ls.commands,
		(unsigned long long)es->not_owned, (unsigned long long)es->events_dropped);
}

#define OVERFLOW_TOP 20

/* The overflow rows with the most records, as a JSON array. */
static void write_overflow_json(FILE *f, const ts_run *r)
{
	const ts_overflow *o = ts_engine_overflow(r->engine);
	ts_overflow_row *rows;
	uint32_t n;
	fprintf(f, "\"overflow\":{\"series_records\":%llu,\"error_code_records\":%llu,\"rows\":%u,\"top\":[",
		(unsigned long long)ts_overflow_total(o, TS_OV_SERIES),
		(unsigned long long)ts_overflow_total(o, TS_OV_CODE), ts_overflow_rows(o));
	if (ts_overflow_top(o, OVERFLOW_TOP, &rows, &n) == 0) {
		ts_buf b = {0};
		for (uint32_t i = 0; i < n; i++) {
			ts_partition *p = ts_registry_get_partition(r->reg, rows[i].partition);
			ts_buf_reset(&b);
			if (ts_json_string(&b, p->account) || ts_buf_add(&b, ",\"region\":", 10) ||
			    ts_json_string(&b, p->region) || ts_buf_add(&b, ",\"eventSource\":", 15) ||
			    ts_json_string(&b, rows[i].source))
				break;
			fprintf(f, "%s{\"account\":%.*s,\"series_records\":%llu,\"error_code_records\":%llu}",
				i ? "," : "", (int)b.len, b.p, (unsigned long long)rows[i].count[TS_OV_SERIES],
				(unsigned long long)rows[i].count[TS_OV_CODE]);
		}
		ts_buf_free(&b);
		free(rows);
	}
	fprintf(f, "]},");
}

/* The overflow in the summary: the total and the largest sources. */
static void print_overflow(const ts_run *r, const ts_engine_stats *es)
{
	if (!es->overflow_series && !es->overflow_codes && !es->attr_dropped)
		return;
	const ts_overflow *o = ts_engine_overflow(r->engine);
	fprintf(stderr,
		"trailsight: overflow: %llu records of new series past the series caps, %llu errors of "
		"codes past the per-series cap, %llu attribution values dropped; series already "
		"counted are unaffected\n",
		(unsigned long long)es->overflow_series, (unsigned long long)es->overflow_codes,
		(unsigned long long)es->attr_dropped);
	ts_overflow_row *rows;
	uint32_t n;
	if (ts_overflow_top(o, 5, &rows, &n))
		return;
	for (uint32_t i = 0; i < n; i++) {
		ts_partition *p = ts_registry_get_partition(r->reg, rows[i].partition);
		fprintf(stderr, "trailsight:   %.*s %.*s %.*s%s: %llu records\n", (int)p->account.n,
			p->account.p, (int)p->region.n, p->region.p,
			(int)(rows[i].source.n > 100 ? 100 : rows[i].source.n), rows[i].source.p,
			rows[i].source.n ? "" : "(other sources)",
			(unsigned long long)(rows[i].count[0] + rows[i].count[1]));
	}
	free(rows);
}

/* What each suppression rule took, and what matching cost, as JSON. */
static void write_rules_json(FILE *f, const ts_run *r)
{
	ts_engine_rule_tally t;
	ts_rulematch_stats ms;
	ts_engine_rule_costs(r->engine, &ms);
	fprintf(f, "\"rules\":{\"records_looked_at\":%llu,\"scope_evaluations\":%llu,"
		   "\"caller_evaluations\":%llu,\"cached\":%llu,\"by_rule\":[",
		(unsigned long long)ms.records, (unsigned long long)ms.scope_evals,
		(unsigned long long)ms.evals, (unsigned long long)ms.cached);
	for (size_t i = 0; ts_engine_rule_stats(r->engine, i, &t) == 0; i++)
		fprintf(f, "%s{\"name\":\"%s\",\"action\":\"%s\",\"records\":%llu,\"series\":%llu,"
			   "\"insights\":%llu}",
			i ? "," : "", t.name, ts_rules_action_name(t.action),
			(unsigned long long)t.records, (unsigned long long)t.series,
			(unsigned long long)t.insights);
	fprintf(f, "]},");
}

void ts_run_write_stats(FILE *f, const ts_run *r, const ts_run_counters *c, const ts_store *store)
{
	const ts_engine_stats *es = &c->es;
	double secs = c->secs;
	fprintf(f, "{\"files\":%llu,\"files_failed\":%llu,\"files_ignored\":%llu,",
		(unsigned long long)c->files, (unsigned long long)c->files_failed,
		(unsigned long long)c->files_ignored);
	fprintf(f, "\"bytes_read\":%llu,\"bytes_inflated\":%llu,", (unsigned long long)c->bytes_in,
		(unsigned long long)c->bytes_out);
	if (r->s3_used)
		fprintf(f, "\"s3\":{\"list_requests\":%llu,\"get_requests\":%llu,\"retries\":%llu,"
			   "\"throttled\":%llu,\"bytes\":%llu,\"refreshes\":%llu},",
			(unsigned long long)r->s3.list_requests, (unsigned long long)r->s3.get_requests,
			(unsigned long long)r->s3.retries, (unsigned long long)r->s3.throttled,
			(unsigned long long)r->s3.bytes, (unsigned long long)r->s3.refreshes);
	if (r->sqs_used)
		fprintf(f, "\"sqs\":{\"receives\":%llu,\"messages\":%llu,\"deleted\":%llu,"
			   "\"left\":%llu,\"naming_nothing\":%llu,\"visibility_extended\":%llu,"
			   "\"retries\":%llu},",
			(unsigned long long)r->sqs_st.receives, (unsigned long long)r->sqs_st.messages,
			(unsigned long long)r->sqs_deleted, (unsigned long long)r->sqs_left,
			(unsigned long long)r->sqs_empty, (unsigned long long)r->sqs_st.extends,
			(unsigned long long)r->sqs_st.retries);
	fprintf(f, "\"records_read\":%llu,\"records_counted\":%llu,\"records_late\":%llu,"
		   "\"records_suppressed\":%llu,",
		(unsigned long long)c->records_read,
		(unsigned long long)es->counted, (unsigned long long)es->late,
		(unsigned long long)es->suppressed);
	fprintf(f, "\"records_ignored\":{\"data_events\":%llu,\"insight_events\":%llu,\"other_category\":%llu,\"digests\":%llu,\"control_messages\":%llu},",
		(unsigned long long)es->ignored_data, (unsigned long long)es->ignored_insight,
		(unsigned long long)es->ignored_category, (unsigned long long)c->ignored_digests,
		(unsigned long long)c->ignored_control);
	fprintf(f, "\"skipped\":%llu,\"skipped_by_reason\":{", (unsigned long long)c->skipped);
	int first = 1;
	for (int i = 1; i < TS_ERR_COUNT; i++) {
		if (!c->skipped_by[i])
			continue;
		fprintf(f, "%s\"%s\":%llu", first ? "" : ",", ts_errname(-i),
			(unsigned long long)c->skipped_by[i]);
		first = 0;
	}
	fprintf(f, "},\"apis\":%u,\"series\":%u,\"minutes_closed\":%llu,\"cells_written\":%llu,\"attribution_cells_written\":%llu,",
		c->apis, c->series, (unsigned long long)es->minutes_closed, (unsigned long long)es->cells,
		(unsigned long long)es->attr_cells);
	fprintf(f, "\"files_already_counted\":%llu,\"records_already_counted\":%llu,\"partitions_restored\":%llu,\"checkpoints\":%llu,",
		(unsigned long long)c->files_already, (unsigned long long)es->already_counted,
		(unsigned long long)es->restored, (unsigned long long)es->checkpoints);
	fprintf(f, "\"attribution_values_dropped\":%llu,", (unsigned long long)es->attr_dropped);
	fprintf(f, "\"order\":{\"held_peak\":%llu,\"held_bytes\":%llu,\"out_of_order\":%s,\"hold_capped\":%s},",
		(unsigned long long)es->held_peak, (unsigned long long)es->held_bytes,
		es->reordered ? "true" : "false", es->hold_capped ? "true" : "false");
	write_overflow_json(f, r);
	write_rules_json(f, r);
	write_group_json(f, r, es);
	fprintf(f, "\"sinks\":[");
	for (size_t i = 0; i < ts_sinks_count(r->sinks); i++) {
		ts_sink *sk = ts_sinks_get(r->sinks, i);
		ts_sink_stats ss;
		ts_sink_get_stats(sk, &ss);
		fprintf(f, "%s{\"kind\":\"%s\",\"events\":%llu,\"delivered\":%llu,\"failed\":%llu,\"spooled\":%llu,\"dropped\":%llu,\"pending\":%llu}",
			i ? "," : "", ts_sink_kind(sk), (unsigned long long)ss.events,
			(unsigned long long)ss.delivered, (unsigned long long)ss.failed,
			(unsigned long long)ss.spooled, (unsigned long long)ss.dropped,
			(unsigned long long)ss.pending);
	}
	fprintf(f, "],");
	fprintf(f, "\"store\":{\"backend\":\"%s\",\"round_trips\":%llu,\"reconnects\":%llu},",
		store->ops->name, (unsigned long long)store->round_trips,
		(unsigned long long)store->reconnects);
	fprintf(f, "\"insights\":{\"start\":%llu,\"early_starts\":%llu,\"end\":%llu,"
		   "\"open_at_end\":%llu,\"marked\":%llu,\"capped\":%llu},",
		(unsigned long long)es->starts, (unsigned long long)es->early_starts,
		(unsigned long long)es->ends, (unsigned long long)es->open_at_end,
		(unsigned long long)es->marked, (unsigned long long)es->capped);
	if (es->latency_n)
		fprintf(f, "\"start_latency_seconds\":{\"n\":%llu,\"median\":%.3f,\"p90\":%.3f,"
			   "\"p99\":%.3f,\"max\":%.3f},",
			(unsigned long long)es->latency_n, es->latency_median, es->latency_p90,
			es->latency_p99, es->latency_max);
	fprintf(f, "\"elapsed_seconds\":%.3f,\"records_per_second\":%.0f,\"peak_rss_kb\":%ld}\n", secs,
		secs > 0 ? (double)es->counted / secs : 0.0, c->rss_kb);
}

void ts_run_print_summary(const ts_run *r, const ts_run_counters *c, const ts_store *store)
{
	const ts_run_counters *s = c;
	const ts_engine_stats *es = &c->es;
	double secs = c->secs;
	fprintf(stderr,
		"trailsight: read %llu files (%.1f MB, %.1f MB inflated), %llu records counted in %.2f s (%.0f records/s)",
		(unsigned long long)s->files, (double)s->bytes_in / 1e6, (double)s->bytes_out / 1e6,
		(unsigned long long)es->counted, secs, secs > 0 ? (double)es->counted / secs : 0.0);
	if (es->late)
		fprintf(stderr, ", %llu late", (unsigned long long)es->late);
	fprintf(stderr, "\n");
	uint64_t ignored = es->ignored_data + es->ignored_insight + es->ignored_category;
	if (ignored)
		fprintf(stderr,
			"trailsight: ignored %llu records (data events %llu, insight events %llu, other categories %llu)\n",
			(unsigned long long)ignored, (unsigned long long)es->ignored_data,
			(unsigned long long)es->ignored_insight,
			(unsigned long long)es->ignored_category);
	if (s->ignored_digests || s->ignored_control)
		fprintf(stderr, "trailsight: ignored %llu digest files, %llu CloudWatch Logs control messages\n",
			(unsigned long long)s->ignored_digests, (unsigned long long)s->ignored_control);
	if (r->s3_used)
		fprintf(stderr, "trailsight: S3: %llu list requests, %llu object requests (%llu "
				"retries, %llu throttled), %.1f MB fetched\n",
			(unsigned long long)r->s3.list_requests, (unsigned long long)r->s3.get_requests,
			(unsigned long long)r->s3.retries, (unsigned long long)r->s3.throttled,
			(double)r->s3.bytes / 1e6);
	if (r->sqs_used)
		fprintf(stderr, "trailsight: SQS: %llu messages received, %llu deleted, %llu left in "
				"the queue (not processed)\n",
			(unsigned long long)r->sqs_st.messages, (unsigned long long)r->sqs_deleted,
			(unsigned long long)r->sqs_left);
	if (s->files_ignored)
		fprintf(stderr, "trailsight: passed over %llu files or folders (named above%s)\n",
			(unsigned long long)s->files_ignored,
			s->files_ignored > TS_CLI_MAX_WARNINGS ? ", the first ones" : "");
	if (c->skipped || c->files_failed) {
		fprintf(stderr, "trailsight: skipped %llu (", (unsigned long long)c->skipped);
		int first = 1;
		for (int i = 1; i < TS_ERR_COUNT; i++) {
			if (!c->skipped_by[i])
				continue;
			fprintf(stderr, "%s%s %llu", first ? "" : ", ", ts_strerror(-i),
				(unsigned long long)c->skipped_by[i]);
			first = 0;
		}
		fprintf(stderr, "); %llu files could not be read\n", (unsigned long long)s->files_failed);
	}
	if (c->files_already || es->already_counted)
		fprintf(stderr,
			"trailsight: %llu files already counted in the store, not read; %llu records "
			"of partly counted files skipped (--force reads and counts them again)\n",
			(unsigned long long)c->files_already, (unsigned long long)es->already_counted);
	if (es->reordered)
		fprintf(stderr, "trailsight: records out of time order: %llu counts held (%.1f MB) "
				"and put in time order%s\n",
			(unsigned long long)es->held_peak, (double)es->held_bytes / 1e6,
			es->hold_capped ? " up to the hold cap; the rest counted as it came" : "");
	if (es->late && !r->stream)
		fprintf(stderr,
			"trailsight: %llu records came more than --lateness %d minutes behind newer ones "
			"of their partition (with --order time, or after --order auto trusted the "
			"order): counted but not judged. --order any holds every record and puts them "
			"in time order\n",
			(unsigned long long)es->late, r->lateness);
	print_overflow(r, es);
	ts_engine_rule_tally t;
	for (size_t i = 0; ts_engine_rule_stats(r->engine, i, &t) == 0; i++)
		fprintf(stderr, "trailsight: rule %s (%s): %llu records, %llu series, %llu insights\n",
			t.name, ts_rules_action_name(t.action), (unsigned long long)t.records,
			(unsigned long long)t.series, (unsigned long long)t.insights);
	if (es->capped)
		fprintf(stderr, "trailsight: %llu Starts not written: their partition had max_open "
				"insights open\n", (unsigned long long)es->capped);
	if (es->restored)
		fprintf(stderr, "trailsight: %llu partitions resumed from their saved state\n",
			(unsigned long long)es->restored);
	if (r->leases) {
		ts_lease_stats ls;
		ts_leases_get_stats(r->leases, &ls);
		fprintf(stderr,
			"trailsight: group: %llu leases taken, %llu lost, %llu checkpoints refused "
			"(fenced); %llu records and %llu events of other workers' partitions left "
			"to them\n",
			(unsigned long long)ls.claimed, (unsigned long long)ls.lost,
			(unsigned long long)ls.fenced, (unsigned long long)es->not_owned,
			(unsigned long long)es->events_dropped);
	}
	if (store && store->reconnects)
		fprintf(stderr, "trailsight: store connections made again after a failure: %llu\n",
			(unsigned long long)store->reconnects);
	if (es->latency_n)
		fprintf(stderr,
			"trailsight: Starts written %.3f s (median), %.3f s (max) after their minute closed\n",
			es->latency_median, es->latency_max);
	fprintf(stderr, "trailsight: %u APIs, %u series; insights: %llu Start, %llu End, %llu still open\n",
		c->apis, c->series, (unsigned long long)es->starts, (unsigned long long)es->ends,
		(unsigned long long)es->open_at_end);
}

/* A Prometheus label value: backslash, quote and newline escaped, at most
 * 200 bytes. */
static void put_label(FILE *f, ts_str s)
{
	for (size_t i = 0; i < s.n && i < 200; i++) {
		char c = s.p[i];
		if (c == '\\' || c == '"')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else
			fputc(c, f);
	}
}

/* The overflow by account, Region and eventSource, the top rows only. */
static void write_overflow_metrics(FILE *f, const ts_run *r)
{
	ts_overflow_row *rows;
	uint32_t n;
	if (ts_overflow_top(ts_engine_overflow(r->engine), OVERFLOW_TOP, &rows, &n) || !n)
		return;
	fprintf(f, "# HELP trailsight_overflow_source_records_total Records of new series past the caps, "
		   "by source (the %d largest).\n"
		   "# TYPE trailsight_overflow_source_records_total counter\n",
		OVERFLOW_TOP);
	for (uint32_t i = 0; i < n; i++) {
		ts_partition *p = ts_registry_get_partition(r->reg, rows[i].partition);
		fputs("trailsight_overflow_source_records_total{account=\"", f);
		put_label(f, p->account);
		fputs("\",region=\"", f);
		put_label(f, p->region);
		fputs("\",eventSource=\"", f);
		put_label(f, rows[i].source);
		fprintf(f, "\"} %llu\n", (unsigned long long)(rows[i].count[0] + rows[i].count[1]));
	}
	free(rows);
}

/* The engine's own account of its memory, by part, and the C heap as
 * malloc sees it (in use, and free but not given back). */
static void write_memory_metrics(FILE *f, const ts_run *r)
{
	ts_engine_mem m;
	ts_engine_memory_parts(r->engine, &m);
	fprintf(f, "# HELP trailsight_memory_bytes Memory held, by part (estimates; history is part "
		   "of store).\n"
		   "# TYPE trailsight_memory_bytes gauge\n");
	const struct {
		const char *part;
		size_t v;
	} parts[] = {{"agg", m.agg},
		     {"store", m.store},
		     {"history", m.history},
		     {"history_attrs", m.history_attrs},
		     {"order", m.order},
		     {"registry", m.registry},
		     {"detectors", m.detectors},
		     {"partitions", m.partitions},
		     {"scratch", m.scratch},
		     {"watch", r->watch ? ts_watch_memory(r->watch) : 0}};
	for (size_t i = 0; i < TS_ARRAY_LEN(parts); i++)
		fprintf(f, "trailsight_memory_bytes{part=\"%s\"} %zu\n", parts[i].part, parts[i].v);
#ifdef __GLIBC__
	/* all zero when another allocator (a sanitizer's) serves malloc */
	struct mallinfo2 mi = mallinfo2();
	if (mi.uordblks + mi.hblkhd + mi.fordblks)
		fprintf(f, "# HELP trailsight_heap_bytes The C heap: bytes in use and free (not returned).\n"
			   "# TYPE trailsight_heap_bytes gauge\n"
			   "trailsight_heap_bytes{state=\"in_use\"} %zu\n"
			   "trailsight_heap_bytes{state=\"free\"} %zu\n",
			mi.uordblks + mi.hblkhd, mi.fordblks);
#endif
}

/* Prometheus text format, written to a temporary name and renamed. */
/* Per suppression rule: records, series, insights; the Starts capped. */
static void write_rules_metrics(FILE *f, const ts_run *r, const ts_engine_stats *e)
{
	fprintf(f, "# HELP trailsight_insights_capped_total Starts not written: their partition "
		   "had max_open insights open.\n"
		   "# TYPE trailsight_insights_capped_total counter\n"
		   "trailsight_insights_capped_total %llu\n",
		(unsigned long long)e->capped);
	ts_engine_rule_tally t;
	if (ts_engine_rule_stats(r->engine, 0, &t))
		return;
	static const char *const what[] = {"records", "series", "insights"};
	static const char *const help[] = {"Records a drop rule counted apart.",
					   "Series a rule took records of or holds.",
					   "Insights of series a mark rule holds (not sent)."};
	for (int k = 0; k < 3; k++) {
		fprintf(f, "# HELP trailsight_rule_%s_total %s\n# TYPE trailsight_rule_%s_total counter\n",
			what[k], help[k], what[k]);
		for (size_t i = 0; ts_engine_rule_stats(r->engine, i, &t) == 0; i++) {
			uint64_t v[] = {t.records, t.series, t.insights};
			fprintf(f, "trailsight_rule_%s_total{rule=\"%s\",action=\"%s\"} %llu\n", what[k],
				t.name, ts_rules_action_name(t.action), (unsigned long long)v[k]);
		}
	}
}

void ts_run_write_metrics(const char *path, const ts_run *r, const ts_store *store)
{
	ts_run_counters c;
	ts_run_counters_get(r, 0, &c);
	const ts_engine_stats *e = &c.es;
	ts_buf tmp = {0};
	if (ts_buf_printf(&tmp, "%s.tmp", path)) {
		ts_buf_free(&tmp);
		return;
	}
	FILE *f = fopen(tmp.p, "w");
	if (!f) {
		ts_warn("cannot write '%s': %s", tmp.p, strerror(errno));
		ts_buf_free(&tmp);
		return;
	}
	fprintf(f, "# HELP trailsight_records_read_total Records parsed from the input.\n"
		   "# TYPE trailsight_records_read_total counter\n"
		   "trailsight_records_read_total %llu\n",
		(unsigned long long)c.records_read);
	fprintf(f, "# HELP trailsight_records_counted_total Records counted in a series.\n"
		   "# TYPE trailsight_records_counted_total counter\n"
		   "trailsight_records_counted_total %llu\n",
		(unsigned long long)e->counted);
	fprintf(f, "# HELP trailsight_records_late_total Records for a minute already closed.\n"
		   "# TYPE trailsight_records_late_total counter\n"
		   "trailsight_records_late_total %llu\n",
		(unsigned long long)e->late);
	fprintf(f, "# HELP trailsight_skipped_total Inputs skipped, by reason.\n"
		   "# TYPE trailsight_skipped_total counter\n");
	for (int i = 1; i < TS_ERR_COUNT; i++)
		fprintf(f, "trailsight_skipped_total{reason=\"%s\"} %llu\n", ts_errname(-i),
			(unsigned long long)c.skipped_by[i]);
	fprintf(f, "# HELP trailsight_overflow_records_total Records turned away by the cardinality caps.\n"
		   "# TYPE trailsight_overflow_records_total counter\n"
		   "trailsight_overflow_records_total{cap=\"series\"} %llu\n"
		   "trailsight_overflow_records_total{cap=\"error_codes\"} %llu\n"
		   "trailsight_overflow_records_total{cap=\"attribution_values\"} %llu\n",
		(unsigned long long)e->overflow_series, (unsigned long long)e->overflow_codes,
		(unsigned long long)e->attr_dropped);
	write_overflow_metrics(f, r);
	write_rules_metrics(f, r, e);
	fprintf(f, "# HELP trailsight_files_total Input files read.\n"
		   "# TYPE trailsight_files_total counter\n"
		   "trailsight_files_total %llu\n",
		(unsigned long long)c.files);
	int64_t newest = ts_engine_newest(r->engine);
	if (newest != INT64_MIN) {
		fprintf(f, "# HELP trailsight_watermark_lag_seconds Wall clock minus the start of the newest eventTime's minute.\n"
			   "# TYPE trailsight_watermark_lag_seconds gauge\n"
			   "trailsight_watermark_lag_seconds %lld\n",
			(long long)time(NULL) - (long long)newest * 60);
	}
	fprintf(f, "# HELP trailsight_open_insights Insights started and not yet ended.\n"
		   "# TYPE trailsight_open_insights gauge\n"
		   "trailsight_open_insights %llu\n",
		(unsigned long long)c.open_insights);
	fprintf(f, "# HELP trailsight_insights_total Insight events made.\n"
		   "# TYPE trailsight_insights_total counter\n"
		   "trailsight_insights_total{state=\"Start\"} %llu\n"
		   "trailsight_insights_total{state=\"End\"} %llu\n",
		(unsigned long long)e->starts, (unsigned long long)e->ends);
	if (e->latency_n)
		fprintf(f, "# HELP trailsight_start_latency_seconds Seconds from a Start's minute "
			   "closing to its writing.\n"
			   "# TYPE trailsight_start_latency_seconds summary\n"
			   "trailsight_start_latency_seconds{quantile=\"0.5\"} %.3f\n"
			   "trailsight_start_latency_seconds{quantile=\"0.9\"} %.3f\n"
			   "trailsight_start_latency_seconds{quantile=\"0.99\"} %.3f\n"
			   "trailsight_start_latency_seconds{quantile=\"1\"} %.3f\n"
			   "trailsight_start_latency_seconds_count %llu\n",
			e->latency_median, e->latency_p90, e->latency_p99, e->latency_max,
			(unsigned long long)e->latency_n);
	fprintf(f, "# HELP trailsight_checkpoints_total Checkpoints stored.\n"
		   "# TYPE trailsight_checkpoints_total counter\n"
		   "trailsight_checkpoints_total %llu\n",
		(unsigned long long)e->checkpoints);
	fprintf(f, "# HELP trailsight_store_reconnects_total Store connections made again.\n"
		   "# TYPE trailsight_store_reconnects_total counter\n"
		   "trailsight_store_reconnects_total %llu\n",
		(unsigned long long)store->reconnects);
	fprintf(f, "# HELP trailsight_sink_events_total Events per sink and outcome.\n"
		   "# TYPE trailsight_sink_events_total counter\n");
	for (size_t i = 0; i < ts_sinks_count(r->sinks); i++) {
		ts_sink *sk = ts_sinks_get(r->sinks, i);
		ts_sink_stats ss;
		ts_sink_get_stats(sk, &ss);
		static const char *const res[] = {"delivered", "failed", "spooled", "dropped"};
		uint64_t v[] = {ss.delivered, ss.failed, ss.spooled, ss.dropped};
		for (int k = 0; k < 4; k++)
			fprintf(f, "trailsight_sink_events_total{sink=\"%zu\",kind=\"%s\",result=\"%s\"} %llu\n",
				i, ts_sink_kind(sk), res[k], (unsigned long long)v[k]);
	}
	fprintf(f, "# HELP trailsight_sink_failures_total Failed delivery attempts, all sinks.\n"
		   "# TYPE trailsight_sink_failures_total counter\n");
	uint64_t fails = 0;
	for (size_t i = 0; i < ts_sinks_count(r->sinks); i++) {
		ts_sink_stats ss;
		ts_sink_get_stats(ts_sinks_get(r->sinks, i), &ss);
		fails += ss.failed;
	}
	fprintf(f, "trailsight_sink_failures_total %llu\n", (unsigned long long)fails);
	write_memory_metrics(f, r);
	if (fclose(f) != 0 || rename(tmp.p, path) != 0)
		ts_warn("cannot write '%s': %s", path, strerror(errno));
	ts_buf_free(&tmp);
}
