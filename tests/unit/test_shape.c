/* test_shape.c - the wrappers of shape.h: which record each holds, what is
 * ignored, what a forced format knows, and what is not a wrapper. */
#include <string.h>

#include "../check.h"
#include "err.h"
#include "reader.h"
#include "shape.h"

#define REC "{\"eventTime\":\"2024-10-01T10:00:00Z\",\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"RunInstances\",\"note\":\"Zürich\"}"
#define REC_ESC "{\\\"eventTime\\\":\\\"2024-10-01T10:00:00Z\\\",\\\"eventSource\\\":\\\"ec2.amazonaws.com\\\",\\\"eventName\\\":\\\"RunInstances\\\",\\\"note\\\":\\\"Z\\u00fcrich\\\"}"

static int unwrap(int format, const char *text, ts_shape_inner *in)
{
	ts_shape *s = ts_shape_new(format, 0, 0);
	CHECK(s != NULL);
	if (!s)
		return -99;
	int k = ts_shape_unwrap(s, text, strlen(text), in);
	static char keep[1024];
	if (k == TS_SHAPE_RECORD && in->len < sizeof keep) {
		memcpy(keep, in->text, in->len); /* the buffer goes with s */
		in->text = keep;
	}
	ts_shape_free(s);
	return k;
}

static void test_wrappers(void)
{
	ts_shape_inner in;
	const char *look = "{\"EventId\":\"1\",\"EventTime\":1727776800.0,\"CloudTrailEvent\":\"" REC_ESC "\"}";
	CHECK_INT(unwrap(TS_FMT_AUTO, look, &in), TS_SHAPE_RECORD);
	CHECK_MEM(in.text, in.len, REC);
	CHECK_STR(in.wrapper, "lookup-events");

	const char *eb = "{\"version\":\"0\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":" REC ",\"region\":\"x\"}";
	CHECK_INT(unwrap(TS_FMT_AUTO, eb, &in), TS_SHAPE_RECORD);
	CHECK_MEM(in.text, in.len, REC);
	CHECK_STR(in.wrapper, "EventBridge");
	/* "detail" alone is not EventBridge */
	CHECK_INT(unwrap(TS_FMT_AUTO, "{\"detail\":" REC "}", &in), TS_SHAPE_NONE);

	const char *cw = "{\"id\":\"3\",\"timestamp\":1727776800000,\"message\":\"" REC_ESC "\"}";
	CHECK_INT(unwrap(TS_FMT_AUTO, cw, &in), TS_SHAPE_RECORD);
	CHECK_MEM(in.text, in.len, REC);
	CHECK_STR(in.wrapper, "CloudWatch Logs");
	CHECK_INT(unwrap(TS_FMT_AUTO, "{\"id\":\"\",\"timestamp\":1,\"message\":\"CWL CONTROL MESSAGE: Checking health of destination Firehose.\"}", &in),
		  TS_SHAPE_CONTROL);
	CHECK_INT(unwrap(TS_FMT_AUTO, "{\"awsAccountId\":\"1\",\"digestStartTime\":\"2024-10-01T10:00:00Z\",\"logFiles\":[]}", &in),
		  TS_SHAPE_DIGEST);

	/* a forced format knows its own wrapper only (digests always) */
	CHECK_INT(unwrap(TS_FMT_EVENTBRIDGE, look, &in), TS_SHAPE_NONE);
	CHECK_INT(unwrap(TS_FMT_LOOKUP, look, &in), TS_SHAPE_RECORD);
	CHECK_INT(unwrap(TS_FMT_LOOKUP, eb, &in), TS_SHAPE_NONE);
	CHECK_INT(unwrap(TS_FMT_CWLOGS, cw, &in), TS_SHAPE_RECORD);
	CHECK_INT(unwrap(TS_FMT_RECORDS, cw, &in), TS_SHAPE_NONE);
	CHECK_INT(unwrap(TS_FMT_NDJSON, "{\"digestStartTime\":\"x\"}", &in), TS_SHAPE_DIGEST);

	/* broken: a bad escape in the record string, JSON that is not whole */
	CHECK_INT(unwrap(TS_FMT_AUTO, "{\"CloudTrailEvent\":\"{\\ud800}\"}", &in), TS_EJSON);
	CHECK_INT(unwrap(TS_FMT_AUTO, "{\"CloudTrailEvent\":\"x\"", &in), TS_SHAPE_NONE);
	CHECK_INT(unwrap(TS_FMT_AUTO, "{\"CloudTrailEvent\":1}", &in), TS_SHAPE_NONE);
	CHECK_INT(unwrap(TS_FMT_AUTO, "{\"eventTime\":\"x\"}", &in), TS_SHAPE_NONE);
}

TS_TESTS(test_wrappers)
