/* test_sink_format.c - payloads for alerting tools (sink_format.c) made
 * from events the insight writer wrote: the Alertmanager alert (labels,
 * startsAt, endsAt on the End only), the PagerDuty trigger and resolve,
 * the Slack line, the EventBridge envelope and the record without
 * trailsightContext (last member, first member, absent, not JSON); then the
 * alertmanager: sink against a local HTTP receiver on a fake clock: the
 * firing alert re-posted once the interval has passed and not after its
 * End, and an event that is not an insight dropped with a count. */
#include <stdlib.h>

#include "http_receiver.h"
#include "redis_server.h"

#include "../check.h"
#include "insight.h"
#include "sink.h"
#include "sink_format.h"

static int64_t clock_now;
static int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return clock_now;
}

/* An error-rate insight (state as given) written by ts_insight_write. */
static void write_event(ts_buf *out, int state, int with_context)
{
	ts_insight ins = {0};
	ins.state = state;
	ins.type = TS_ERROR_RATE;
	ins.account = ts_str_c("111122223333");
	ins.region = ts_str_c("eu-west-1");
	ins.event_source = ts_str_c("s3.amazonaws.com");
	ins.event_name = ts_str_c("Get\"Object");
	ins.error_code = ts_str_c("AccessDenied");
	ins.start_minute = ts_days_from_civil(2026, 1, 13) * TS_MIN_PER_DAY + 600; /* 10:00 */
	ins.baseline_average = 0.5;
	ins.baseline_duration = 10680;
	ins.insight_average = 41;
	ins.insight_duration = state == TS_STATE_END ? 7 : 1;
	if (with_context) {
		ins.model = "default";
		ins.expected = 0.61;
		ins.p_value = 1e-12;
	}
	ts_buf_reset(out);
	CHECK_INT(ts_insight_write(&ins, out), 0);
}

static int has(const ts_buf *b, const char *s) { return b->p && strstr(b->p, s) != NULL; }

static void test_alertmanager(void)
{
	ts_buf ev = {0}, out = {0};
	ts_fmt_info fi;
	char err[128];
	write_event(&ev, TS_STATE_START, 1);
	CHECK_INT(ts_fmt_payload(TS_PAYLOAD_ALERTMANAGER, NULL, ev.p, ev.len, &out, &fi, err,
				 sizeof err),
		  0);
	CHECK_INT(fi.state, TS_STATE_START);
	CHECK(out.p[0] == '[' && out.p[out.len - 1] == ']');
	CHECK_INT(fi.alert_off, 1);
	CHECK_INT(fi.alert_len, out.len - 2);
	CHECK(has(&out, "\"labels\":{\"alertname\":\"CloudTrailInsight\",\"insight_type\":"
			"\"ApiErrorRateInsight\",\"account\":\"111122223333\",\"region\":"
			"\"eu-west-1\",\"event_source\":\"s3.amazonaws.com\",\"event_name\":"
			"\"Get\\\"Object\",\"error_code\":\"AccessDenied\"}"));
	CHECK(has(&out, "\"observed_rate\":\"41\",\"expected_rate\":\"0.61\",\"baseline_rate\":\"0.5\""));
	CHECK(has(&out, "\"startsAt\":\"2026-01-13T10:00:00Z\"}"));
	CHECK(!has(&out, "endsAt"));
	/* the End: the same startsAt, endsAt at the End's eventTime */
	write_event(&ev, TS_STATE_END, 1);
	ts_buf_reset(&out);
	CHECK_INT(ts_fmt_payload(TS_PAYLOAD_ALERTMANAGER, NULL, ev.p, ev.len, &out, &fi, err,
				 sizeof err),
		  0);
	CHECK_INT(fi.state, TS_STATE_END);
	CHECK(has(&out, "\"startsAt\":\"2026-01-13T10:00:00Z\",\"endsAt\":\"2026-01-13T10:07:00Z\"}"));
	/* without trailsightContext the expected rate is the baseline */
	write_event(&ev, TS_STATE_START, 0);
	ts_buf_reset(&out);
	CHECK_INT(ts_fmt_payload(TS_PAYLOAD_ALERTMANAGER, NULL, ev.p, ev.len, &out, &fi, err,
				 sizeof err),
		  0);
	CHECK(has(&out, "\"expected_rate\":\"0.5\""));
	CHECK(!has(&out, "p_value"));
	/* not an insight event: an error, out unchanged */
	ts_buf_reset(&out);
	CHECK(ts_fmt_payload(TS_PAYLOAD_ALERTMANAGER, NULL, "{\"a\":1}", 7, &out, &fi, err,
			     sizeof err) < 0);
	CHECK_INT(out.len, 0);
	CHECK(ts_fmt_payload(TS_PAYLOAD_SLACK, NULL, "nope", 4, &out, &fi, err, sizeof err) < 0);
	CHECK_INT(out.len, 0);
	ts_buf_free(&ev);
	ts_buf_free(&out);
}

static void test_pagerduty_slack(void)
{
	ts_buf ev = {0}, out = {0};
	ts_fmt_info fi;
	char err[128], shared[40];
	write_event(&ev, TS_STATE_START, 1);
	CHECK_INT(ts_fmt_payload(TS_PAYLOAD_PAGERDUTY, "KEY", ev.p, ev.len, &out, &fi, err,
				 sizeof err),
		  0);
	snprintf(shared, sizeof shared, "%s", fi.shared_id);
	CHECK_INT(strlen(shared), 36);
	char want[128];
	snprintf(want, sizeof want,
		 "{\"routing_key\":\"KEY\",\"event_action\":\"trigger\",\"dedup_key\":\"%s\","
		 "\"payload\":{\"summary\":",
		 shared);
	CHECK(strncmp(out.p, want, strlen(want)) == 0);
	CHECK(has(&out, "\"severity\":\"error\",\"timestamp\":\"2026-01-13T10:00:00Z\""));
	CHECK(has(&out, "\"class\":\"ApiErrorRateInsight\""));
	write_event(&ev, TS_STATE_END, 1);
	ts_buf_reset(&out);
	CHECK_INT(ts_fmt_payload(TS_PAYLOAD_PAGERDUTY, "KEY", ev.p, ev.len, &out, &fi, err,
				 sizeof err),
		  0);
	snprintf(want, sizeof want,
		 "{\"routing_key\":\"KEY\",\"event_action\":\"resolve\",\"dedup_key\":\"%s\"}",
		 shared);
	CHECK_STR(out.p, want);
	/* slack: one line, the End's duration */
	ts_buf_reset(&out);
	CHECK_INT(ts_fmt_payload(TS_PAYLOAD_SLACK, NULL, ev.p, ev.len, &out, &fi, err, sizeof err),
		  0);
	CHECK(strncmp(out.p, "{\"text\":\"End of ApiErrorRateInsight: s3.amazonaws.com "
			     "Get\\\"Object (AccessDenied) in 111122223333 eu-west-1 at "
			     "2026-01-13T10:07:00Z, 41 errors/min over 7 min against 0.61 expected",
		      120) == 0);
	CHECK(!has(&out, "\\n"));
	ts_buf_free(&ev);
	ts_buf_free(&out);
}

/* The longest names an event may carry make a summary over PagerDuty's
 * 1024 characters: it is cut, and stays well-formed UTF-8. */
static void test_pagerduty_long_summary(void)
{
	char src[256], name[256], code[256], acct[64], region[64];
	memset(src, 'a', 255);
	memset(name, 'b', 255);
	memset(acct, '1', 63);
	for (int i = 0; i < 254; i += 2)
		memcpy(code + i, "\xc3\xa9", 2); /* e acute */
	for (int i = 0; i < 62; i += 2)
		memcpy(region + i, "\xc3\xa9", 2);
	src[255] = name[255] = code[254] = acct[63] = region[62] = '\0';
	ts_insight ins = {0};
	ins.state = TS_STATE_START;
	ins.type = TS_ERROR_RATE;
	ins.account = ts_str_c(acct);
	ins.region = ts_str_c(region);
	ins.event_source = ts_str_c(src);
	ins.event_name = ts_str_c(name);
	ins.error_code = ts_str_c(code);
	ins.start_minute = 29000000;
	ins.baseline_average = 1.23456789e-5;
	ins.insight_average = 1.23456789e-3;
	ins.insight_duration = 1;
	ts_buf ev = {0}, out = {0};
	ts_fmt_info fi;
	char err[128];
	CHECK_INT(ts_insight_write(&ins, &ev), 0);
	CHECK_INT(ts_fmt_payload(TS_PAYLOAD_PAGERDUTY, "K", ev.p, ev.len, &out, &fi, err,
				 sizeof err),
		  0);
	const char *a = out.p ? strstr(out.p, "\"summary\":\"") : NULL;
	const char *b = a ? strstr(a, "\",\"source\"") : NULL;
	CHECK(a && b);
	if (a && b) {
		a += strlen("\"summary\":\"");
		CHECK_INT((size_t)(b - a), 1024); /* cut: ASCII there */
		CHECK(ts_utf8_valid(a, (size_t)(b - a)));
	}
	/* Slack keeps the whole line */
	ts_buf_reset(&out);
	CHECK_INT(ts_fmt_payload(TS_PAYLOAD_SLACK, NULL, ev.p, ev.len, &out, &fi, err, sizeof err),
		  0);
	CHECK(out.len > 1024 + 12);
	ts_buf_free(&ev);
	ts_buf_free(&out);
}

static void test_eventbridge_strip(void)
{
	ts_buf ev = {0}, bare = {0}, out = {0};
	ts_fmt_info fi;
	char err[128];
	write_event(&ev, TS_STATE_START, 1);
	write_event(&bare, TS_STATE_START, 0);
	CHECK(has(&ev, "trailsightContext"));
	/* the record without the context is what --no-trailsight-context writes */
	CHECK_INT(ts_fmt_strip_context(ev.p, ev.len, &out), 0);
	CHECK_STR(out.p, bare.p);
	/* no context: unchanged */
	ts_buf_reset(&out);
	CHECK_INT(ts_fmt_strip_context(bare.p, bare.len, &out), 0);
	CHECK_STR(out.p, bare.p);
	/* the context as the first member, and a key of that name elsewhere */
	const char *first = "{\"a\":{\"trailsightContext\":1},\"insightDetails\":{ \"trailsightContext\""
			    ":{\"x\":[1,{\"y\":2}]} , \"state\":\"Start\"}}";
	ts_buf_reset(&out);
	CHECK_INT(ts_fmt_strip_context(first, strlen(first), &out), 0);
	CHECK_STR(out.p, "{\"a\":{\"trailsightContext\":1},\"insightDetails\":{  \"state\":\"Start\"}}");
	const char *only = "{\"insightDetails\":{\"trailsightContext\":{}}}";
	ts_buf_reset(&out);
	CHECK_INT(ts_fmt_strip_context(only, strlen(only), &out), 0);
	CHECK_STR(out.p, "{\"insightDetails\":{}}");
	ts_buf_reset(&out);
	CHECK_INT(ts_fmt_strip_context("[1]", 3, &out), TS_EJSON);
	CHECK_INT(ts_fmt_strip_context("{\"a\":", 5, &out), TS_EJSON);
	CHECK_INT(out.len, 0);
	/* the envelope */
	CHECK_INT(ts_fmt_payload(TS_PAYLOAD_EVENTBRIDGE, NULL, ev.p, ev.len, &out, &fi, err,
				 sizeof err),
		  0);
	const char *head = "{\"version\":\"0\",\"id\":\"";
	CHECK(strncmp(out.p, head, strlen(head)) == 0);
	CHECK(has(&out, "\",\"detail-type\":\"AWS Insight via CloudTrail\",\"source\":"
			"\"aws.cloudtrail\",\"account\":\"111122223333\",\"time\":"
			"\"2026-01-13T10:00:00Z\",\"region\":\"eu-west-1\",\"resources\":[],"
			"\"detail\":{\"eventVersion\""));
	const char *detail = strstr(out.p, "\"detail\":");
	CHECK(detail && strlen(detail) == strlen("\"detail\":") + bare.len + 1);
	CHECK(detail && strncmp(detail + 9, bare.p, bare.len) == 0);
	ts_buf_free(&ev);
	ts_buf_free(&bare);
	ts_buf_free(&out);
}

static void test_alertmanager_repost(void)
{
	char spool[64];
	snprintf(spool, sizeof spool, "/tmp/ts-fmt-XXXXXX");
	if (!mkdtemp(spool)) {
		CHECK(!"mkdtemp");
		return;
	}
	http_rx rx;
	CHECK_INT(hr_start(&rx, 0), 0);
	char spec[128], err[256] = "";
	snprintf(spec, sizeof spec, "alertmanager:http://127.0.0.1:%d/", rx.port);
	ts_sink_opts o = {0};
	o.clock_ms = fake_clock;
	o.spool_dir = spool;
	o.alert_repost_ms = 1000;
	clock_now = 0;
	ts_sink *s = NULL;
	CHECK_INT(ts_sink_open(spec, &o, &s, err, sizeof err), 0);
	if (!s) {
		fprintf(stderr, "  %s\n", err);
		goto out_rx;
	}
	CHECK_STR(ts_sink_kind(s), "alertmanager");
	ts_buf ev = {0};
	write_event(&ev, TS_STATE_START, 1);
	CHECK_INT(ts_sink_emit(s, ev.p, ev.len), 0);
	CHECK_INT(hr_bodies(&rx), 1);
	CHECK_STR(rx.path, "/api/v2/alerts");
	clock_now = 900;
	ts_sink_tick(s);
	CHECK_INT(hr_bodies(&rx), 1); /* not yet */
	clock_now = 1000;
	ts_sink_tick(s);
	CHECK_INT(hr_bodies(&rx), 2); /* re-posted, the same alert */
	if (rx.nbody >= 2)
		CHECK_STR(rx.body[1], rx.body[0]);
	clock_now = 1500;
	ts_sink_tick(s);
	CHECK_INT(hr_bodies(&rx), 2);
	clock_now = 2000;
	ts_sink_tick(s);
	CHECK_INT(hr_bodies(&rx), 3);
	/* the End resolves it: posted once, never re-posted */
	write_event(&ev, TS_STATE_END, 1);
	CHECK_INT(ts_sink_emit(s, ev.p, ev.len), 0);
	CHECK_INT(hr_bodies(&rx), 4);
	if (rx.nbody >= 4)
		CHECK(strstr(rx.body[3], "\"endsAt\":\"2026-01-13T10:07:00Z\"") != NULL);
	clock_now = 10000;
	ts_sink_tick(s);
	CHECK_INT(hr_bodies(&rx), 4);
	/* not an insight event: dropped and counted */
	CHECK_INT(ts_sink_emit(s, "{\"x\":1}", 7), 0);
	ts_sink_stats st;
	ts_sink_get_stats(s, &st);
	CHECK_INT(st.events, 3);
	CHECK_INT(st.delivered, 2); /* re-posts are not events */
	CHECK_INT(st.dropped, 1);
	CHECK_INT(hr_bodies(&rx), 4);
	ts_sink_close(s);
	ts_buf_free(&ev);
out_rx:
	hr_free(&rx);
	tr_rm_tree(spool);
}

TS_TESTS(test_alertmanager, test_pagerduty_slack, test_pagerduty_long_summary,
	 test_eventbridge_strip, test_alertmanager_repost)
