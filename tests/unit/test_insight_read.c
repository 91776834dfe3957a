/* test_insight_read.c - events written by insight.c read back field by
 * field (escapes and non-ASCII included), and unreadable events refused
 * with a message naming the field.
 */
#include <math.h>

#include "../check.h"
#include "insight_read.h"

static void test_round_trip(void)
{
	ts_insight in = {0};
	in.state = TS_STATE_END;
	in.type = TS_ERROR_RATE;
	in.account = ts_str_c("111122223333");
	in.region = ts_str_c("eu-west-1");
	in.event_source = ts_str_c("ec2.amazonaws.com");
	in.event_name = ts_str_c("RunInstances");
	in.error_code = ts_str_c("Client.UnauthorizedOperation");
	in.start_minute = 29470000;
	in.baseline_average = 0.25;
	in.baseline_duration = 10500;
	in.insight_average = 12.5;
	in.insight_duration = 17;
	in.n_attrs = 2;
	in.attrs[0].attribute = "userIdentityArn";
	in.attrs[0].n_insight = 2;
	in.attrs[0].insight[0] = (ts_attr_value){ts_str_c("arn:aws:iam::1:user/\"q\"\\x"), 10};
	in.attrs[0].insight[1] = (ts_attr_value){ts_str_c("arn:aws:iam::1:user/j\xc3\xa9r\xc3\xb4me"), 2.5};
	in.attrs[0].n_baseline = 1;
	in.attrs[0].baseline[0] = (ts_attr_value){ts_str_c("line\nbreak\x01"), 0.125};
	in.attrs[1].attribute = "userAgent";
	in.model = "default";
	in.expected = 0.3;
	in.p_value = 1.5e-40;
	ts_buf b = {0};
	CHECK_INT(ts_insight_write(&in, &b), 0);
	ts_event ev;
	char err[128] = "";
	CHECK_INT(ts_event_parse(b.p, b.len, &ev, err, sizeof err), 0);
	CHECK_INT(ev.state, TS_STATE_END);
	CHECK_INT(ev.type, TS_ERROR_RATE);
	CHECK_STR(ev.account, "111122223333");
	CHECK_STR(ev.region, "eu-west-1");
	CHECK_STR(ev.source, "ec2.amazonaws.com");
	CHECK_STR(ev.name, "RunInstances");
	CHECK_STR(ev.error_code, "Client.UnauthorizedOperation");
	CHECK_INT(ev.time, 29470000 + 17); /* an End's eventTime */
	CHECK_INT(ev.insight_duration, 17);
	CHECK_INT(ev.baseline_duration, 10500);
	CHECK(ev.insight_average == 12.5 && ev.baseline_average == 0.25);
	CHECK_INT(ev.n_attrs, 2);
	CHECK_STR(ev.attrs[0].attribute, "userIdentityArn");
	CHECK_INT(ev.attrs[0].n_insight, 2);
	CHECK_STR(ts_event_text(&ev, &ev.attrs[0].insight[0]), "arn:aws:iam::1:user/\"q\"\\x");
	CHECK_STR(ts_event_text(&ev, &ev.attrs[0].insight[1]), "arn:aws:iam::1:user/j\xc3\xa9r\xc3\xb4me");
	CHECK(ev.attrs[0].insight[1].average == 2.5);
	CHECK_STR(ts_event_text(&ev, &ev.attrs[0].baseline[0]), "line\nbreak\x01");
	CHECK_INT(ev.attrs[1].n_insight, 0);
	CHECK(ev.has_context);
	CHECK_STR(ev.model, "default");
	CHECK(fabs(ev.p_value - 1.5e-40) < 1e-50 && fabs(ev.expected - 0.3) < 1e-12);
	CHECK_INT(strlen(ev.shared_id), 36);
	ts_event_clear(&ev);
	ts_buf_free(&b);
}

static void bad(const char *json, int want, const char *msg)
{
	ts_event ev;
	char err[128] = "";
	CHECK_INT(ts_event_parse(json, strlen(json), &ev, err, sizeof err), want);
	if (!strstr(err, msg))
		fprintf(stderr, "  message '%s' lacks '%s'\n", err, msg);
	CHECK(strstr(err, msg) != NULL);
	CHECK(ev.pool.p == NULL);
}

static void test_bad_events(void)
{
	bad("not json", TS_EJSON, "not valid JSON");
	bad("[1,2]", TS_EJSON, "not a JSON object");
	bad("{\"eventType\":\"AwsApiCall\"}", TS_EJSON, "not an insight event");
	bad("{\"eventType\":\"AwsCloudTrailInsight\"}", TS_EFIELD, "eventTime: missing");
	bad("{\"eventType\":\"AwsCloudTrailInsight\",\"eventTime\":\"2026-02-30T00:00:00Z\"}",
	    TS_EFIELD, "eventTime: malformed");
	bad("{\"eventType\":\"AwsCloudTrailInsight\",\"eventTime\":\"2026-01-01T00:00:00Z\","
	    "\"awsRegion\":\"r\",\"recipientAccountId\":\"1\",\"sharedEventID\":\"s\",\"eventID\":\"e\","
	    "\"insightDetails\":{\"state\":\"Middle\"}}",
	    TS_EFIELD, "state: neither Start nor End");
	bad("{\"eventType\":\"AwsCloudTrailInsight\",\"eventTime\":\"2026-01-01T00:00:00Z\","
	    "\"awsRegion\":\"r\",\"recipientAccountId\":\"1\",\"sharedEventID\":\"s\",\"eventID\":\"e\","
	    "\"insightDetails\":{\"state\":\"Start\",\"insightType\":\"ApiCallRateInsight\","
	    "\"eventSource\":\"x\",\"eventName\":\"y\",\"insightContext\":{\"statistics\":{"
	    "\"baseline\":{\"average\":\"1\"}}}}}",
	    TS_EFIELD, "baseline.average: not a number");
	char big[1400];
	memset(big, 'a', sizeof big);
	memcpy(big, "{\"eventType\":\"", 14);
	memcpy(big + sizeof big - 3, "\"}", 3);
	bad(big, TS_EFIELD, "eventType: too long");
}

TS_TESTS(test_round_trip, test_bad_events)
