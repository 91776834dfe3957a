/* sink_format.c - payloads for alerting tools made from an insight event
 * (see sink_format.h). The event is read back with ts_event_parse()
 * (insight_read.c), so every field used was checked; strings are written
 * again with ts_json_string(), numbers of rates as short decimal text.
 * The EventBridge form carries the record itself under "detail", cut of
 * insightDetails.trailsightContext by token positions (jsmn), every other
 * byte kept. Nothing is kept between calls; the only allocations are the
 * token array and the parsed event's pool, freed before returning.
 */
#include <inttypes.h>
#include <stdlib.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#include "insight.h"
#include "insight_read.h"
#include "sink_format.h"

#define STRIP_MAX_TOKENS 4096
#define PD_SUMMARY_MAX 1024 /* bytes of a PagerDuty summary */

/* A writer with a sticky error, as in insight.c. */
typedef struct fw {
	ts_buf *out;
	int rc;
} fw;

static void raw(fw *w, const char *s)
{
	if (!w->rc)
		w->rc = ts_buf_puts(w->out, s);
}

static void str(fw *w, const char *s)
{
	if (!w->rc)
		w->rc = ts_json_string(w->out, ts_str_c(s));
}

/* "key":"value" with a leading comma unless first */
static void kv(fw *w, int first, const char *key, const char *val)
{
	raw(w, first ? "\"" : ",\"");
	raw(w, key);
	raw(w, "\":");
	str(w, val);
}

/* A rate as short text: "41", "0.52", "9.8e-05". */
static void rate_text(double v, char out[32])
{
	snprintf(out, 32, "%.6g", v);
}

static void kv_num(fw *w, const char *key, double v)
{
	char t[32];
	rate_text(v, t);
	raw(w, ",\"");
	raw(w, key);
	raw(w, "\":");
	raw(w, t);
}

static const char *type_name(const ts_event *ev)
{
	return ev->type == TS_ERROR_RATE ? "ApiErrorRateInsight" : "ApiCallRateInsight";
}

/* The rate the detector expected: trailsightContext's, else the baseline. */
static double expected_rate(const ts_event *ev)
{
	return ev->has_context ? ev->expected : ev->baseline_average;
}

/* One readable line: "Start of ApiCallRateInsight: ec2.amazonaws.com
 * RunInstances in 111122223333 us-east-1 at 2026-01-13T10:05:00Z, 41
 * calls/min against 0.61 expected (baseline 0.52)". */
static int summary(const ts_event *ev, ts_buf *b)
{
	char when[21], obs[32], exp[32], base[32];
	ts_format_minute(ev->time, when);
	rate_text(ev->insight_average, obs);
	rate_text(expected_rate(ev), exp);
	rate_text(ev->baseline_average, base);
	const char *unit = ev->type == TS_ERROR_RATE ? "errors" : "calls";
	int rc = ts_buf_printf(b, "%s of %s: %s %s%s%s%s in %s %s at %s, ",
			       ev->state == TS_STATE_END ? "End" : "Start", type_name(ev),
			       ev->source, ev->name, ev->error_code[0] ? " (" : "", ev->error_code,
			       ev->error_code[0] ? ")" : "", ev->account, ev->region, when);
	if (!rc && ev->state == TS_STATE_END)
		rc = ts_buf_printf(b, "%s %s/min over %" PRId64 " min", obs, unit,
				   ev->insight_duration);
	else if (!rc)
		rc = ts_buf_printf(b, "%s %s/min", obs, unit);
	if (!rc)
		rc = ts_buf_printf(b, " against %s expected (baseline %s)", exp, base);
	return rc;
}

static void start_time(const ts_event *ev, char out[21])
{
	ts_format_minute(ev->state == TS_STATE_END ? ev->time - ev->insight_duration : ev->time,
			 out);
}

static void alertmanager(fw *w, const ts_event *ev, const char *sum, ts_fmt_info *info)
{
	char t[21];
	raw(w, "[");
	info->alert_off = w->out->len;
	raw(w, "{\"labels\":{");
	kv(w, 1, "alertname", "CloudTrailInsight");
	kv(w, 0, "insight_type", type_name(ev));
	kv(w, 0, "account", ev->account);
	kv(w, 0, "region", ev->region);
	kv(w, 0, "event_source", ev->source);
	kv(w, 0, "event_name", ev->name);
	if (ev->error_code[0])
		kv(w, 0, "error_code", ev->error_code);
	raw(w, "},\"annotations\":{");
	kv(w, 1, "summary", sum);
	char obs[32], exp[32], base[32];
	rate_text(ev->insight_average, obs);
	rate_text(expected_rate(ev), exp);
	rate_text(ev->baseline_average, base);
	kv(w, 0, "observed_rate", obs);
	kv(w, 0, "expected_rate", exp);
	kv(w, 0, "baseline_rate", base);
	kv(w, 0, "shared_event_id", ev->shared_id);
	if (ev->has_context) {
		char p[32];
		snprintf(p, sizeof p, "%.3g", ev->p_value);
		kv(w, 0, "model", ev->model);
		kv(w, 0, "p_value", p);
	}
	start_time(ev, t);
	raw(w, "},\"startsAt\":\"");
	raw(w, t);
	raw(w, "\"");
	if (ev->state == TS_STATE_END) {
		ts_format_minute(ev->time, t);
		raw(w, ",\"endsAt\":\"");
		raw(w, t);
		raw(w, "\"");
	}
	raw(w, "}");
	info->alert_len = w->out->len - info->alert_off;
	raw(w, "]");
}

static void pagerduty(fw *w, const ts_event *ev, const char *key, const char *sum)
{
	char t[21];
	raw(w, "{");
	kv(w, 1, "routing_key", key);
	kv(w, 0, "event_action", ev->state == TS_STATE_END ? "resolve" : "trigger");
	kv(w, 0, "dedup_key", ev->shared_id);
	if (ev->state == TS_STATE_END) {
		raw(w, "}");
		return;
	}
	ts_buf src = {0};
	if (!w->rc)
		w->rc = ts_buf_printf(&src, "%s in %s %s", ev->source, ev->account, ev->region);
	ts_format_minute(ev->time, t);
	raw(w, ",\"payload\":{");
	/* Events v2 takes at most 1024 characters; the longest names an event
	 * may carry (255 bytes each) can pass that: cut at a UTF-8 boundary */
	char cut[PD_SUMMARY_MAX + 1];
	size_t n = strlen(sum);
	if (n > PD_SUMMARY_MAX) {
		n = PD_SUMMARY_MAX;
		while (n > 0 && ((unsigned char)sum[n] & 0xc0) == 0x80)
			n--;
		memcpy(cut, sum, n);
		cut[n] = '\0';
		sum = cut;
	}
	kv(w, 1, "summary", sum);
	kv(w, 0, "source", src.p ? src.p : "");
	kv(w, 0, "severity", ev->type == TS_ERROR_RATE ? "error" : "warning");
	kv(w, 0, "timestamp", t);
	kv(w, 0, "component", ev->source);
	kv(w, 0, "group", ev->account);
	kv(w, 0, "class", type_name(ev));
	raw(w, ",\"custom_details\":{");
	kv(w, 1, "eventSource", ev->source);
	kv(w, 0, "eventName", ev->name);
	if (ev->error_code[0])
		kv(w, 0, "errorCode", ev->error_code);
	kv(w, 0, "recipientAccountId", ev->account);
	kv(w, 0, "awsRegion", ev->region);
	kv(w, 0, "eventID", ev->event_id);
	kv_num(w, "observedRate", ev->insight_average);
	kv_num(w, "expectedRate", expected_rate(ev));
	kv_num(w, "baselineRate", ev->baseline_average);
	if (ev->has_context)
		kv(w, 0, "model", ev->model);
	raw(w, "}},\"client\":\"trailsight\"}");
	ts_buf_free(&src);
}

static void eventbridge(fw *w, const ts_event *ev, const char *json, size_t len)
{
	char t[21];
	ts_format_minute(ev->time, t);
	raw(w, "{\"version\":\"0\"");
	kv(w, 0, "id", ev->event_id);
	kv(w, 0, "detail-type", "AWS Insight via CloudTrail");
	kv(w, 0, "source", "aws.cloudtrail");
	kv(w, 0, "account", ev->account);
	kv(w, 0, "time", t);
	kv(w, 0, "region", ev->region);
	raw(w, ",\"resources\":[],\"detail\":");
	if (!w->rc)
		w->rc = ts_fmt_strip_context(json, len, w->out);
	raw(w, "}");
}

int ts_fmt_payload(ts_sink_format fmt, const char *routing_key, const char *json, size_t len,
		   ts_buf *out, ts_fmt_info *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (errlen)
		err[0] = '\0';
	size_t start = out->len;
	ts_event ev;
	int rc = ts_event_parse(json, len, &ev, err, errlen);
	if (rc)
		return rc;
	info->state = ev.state;
	snprintf(info->shared_id, sizeof info->shared_id, "%s", ev.shared_id);
	if (fmt == TS_PAYLOAD_RAW) {
		rc = ts_buf_add(out, json, len);
		ts_event_clear(&ev);
		return rc;
	}
	ts_buf sum = {0};
	fw w = {out, summary(&ev, &sum)};
	switch (fmt) {
	case TS_PAYLOAD_ALERTMANAGER: alertmanager(&w, &ev, sum.p, info); break;
	case TS_PAYLOAD_PAGERDUTY: pagerduty(&w, &ev, routing_key ? routing_key : "", sum.p); break;
	case TS_PAYLOAD_SLACK:
		raw(&w, "{\"text\":");
		if (!w.rc)
			w.rc = ts_buf_printf(&sum, " [%s]", ev.shared_id);
		str(&w, w.rc ? "" : sum.p);
		raw(&w, "}");
		break;
	case TS_PAYLOAD_EVENTBRIDGE: eventbridge(&w, &ev, json, len); break;
	default: w.rc = TS_EINVAL;
	}
	ts_buf_free(&sum);
	ts_event_clear(&ev);
	if (w.rc) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
	}
	return w.rc;
}

/* --- the record without trailsightContext --- */

/* The token after the subtree at i. */
static int subtree_end(const jsmntok_t *t, int n, int i)
{
	int j = i + 1;
	while (j < n && t[j].start < t[i].end)
		j++;
	return j;
}

/* The key token of key in the object at obj, or -1. */
static int find_key(const char *js, const jsmntok_t *t, int n, int obj, const char *key,
		    int *first)
{
	size_t kl = strlen(key);
	int k = obj + 1;
	for (int c = 0; c < t[obj].size && k + 1 < n; c++) {
		if (t[k].type == JSMN_STRING && (size_t)(t[k].end - t[k].start) == kl &&
		    memcmp(js + t[k].start, key, kl) == 0) {
			*first = c == 0;
			return k;
		}
		k = subtree_end(t, n, k + 1);
	}
	return -1;
}

int ts_fmt_strip_context(const char *json, size_t len, ts_buf *out)
{
	jsmntok_t *t = malloc(STRIP_MAX_TOKENS * sizeof *t);
	if (!t)
		return TS_ENOMEM;
	jsmn_parser jp;
	jsmn_init(&jp);
	int n = jsmn_parse(&jp, json, len, t, STRIP_MAX_TOKENS);
	int rc = 0, first;
	size_t cut0 = len, cut1 = len; /* the bytes [cut0, cut1) go */
	if (n <= 0 || t[0].type != JSMN_OBJECT) {
		rc = TS_EJSON;
		goto out_tokens;
	}
	int d = find_key(json, t, n, 0, "insightDetails", &first);
	if (d < 0 || t[d + 1].type != JSMN_OBJECT)
		goto copy;
	int k = find_key(json, t, n, d + 1, "trailsightContext", &first);
	if (k < 0 || k + 1 >= n)
		goto copy;
	size_t key0 = (size_t)t[k].start - 1; /* the opening quote */
	size_t vend = (size_t)t[k + 1].end;
	if (!first) {
		cut0 = key0;
		while (cut0 > 0 && json[cut0 - 1] != ',')
			cut0--;
		cut0 = cut0 ? cut0 - 1 : key0;
		cut1 = vend;
	} else {
		cut0 = key0;
		cut1 = vend;
		while (cut1 < len && json[cut1] != ',' && json[cut1] != '}')
			cut1++;
		if (cut1 < len && json[cut1] == ',')
			cut1++;
	}
copy:
	rc = ts_buf_add(out, json, cut0);
	if (!rc && cut1 < len && (rc = ts_buf_add(out, json + cut1, len - cut1)))
		out->len -= cut0;
	if (rc && out->p)
		out->p[out->len] = '\0';
out_tokens:
	free(t);
	return rc;
}
