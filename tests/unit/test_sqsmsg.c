/* test_sqsmsg.c - the notification shapes of sqsmsg.h: an S3 event
 * notification direct and through SNS (keys URL-decoded, other events
 * counted apart), CloudTrail's notification raw and through SNS, an
 * EventBridge Object Created event, S3's test event, and bodies that are
 * none of these, each refused with a reason. */
#include <string.h>

#include "../check.h"
#include "sqsmsg.h"

#define K1 "AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/03/x_20260103T0000Z_a.json.gz"

static int parse(const char *body, ts_sqsmsg *m, char *err, size_t cap)
{
	return ts_sqsmsg_parse(body, strlen(body), m, err, cap);
}

static void test_s3_event(void)
{
	const char *b =
		"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\","
		"\"s3\":{\"bucket\":{\"name\":\"trail\",\"arn\":\"a\"},\"object\":{\"key\":"
		"\"cloud+trail%2F" K1 "\",\"size\":1234,\"eTag\":\"0123abcd\"}}},"
		"{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectRemoved:Delete\",\"s3\":{}} ]}";
	ts_sqsmsg m;
	char err[200] = "";
	CHECK_INT(parse(b, &m, err, sizeof err), 0);
	CHECK_STR(m.shape, "S3 event notification");
	CHECK_STR(m.bucket, "trail");
	CHECK_INT(m.objs.n, 1);
	CHECK_INT(m.other, 1);
	if (m.objs.n == 1) {
		CHECK_STR(m.objs.v[0].key, "cloud trail/" K1);
		CHECK_STR(m.objs.v[0].etag, "0123abcd");
		CHECK_INT(m.objs.v[0].size, 1234);
	}
	ts_sqsmsg_free(&m);
	/* the same through SNS: Message is the event as a JSON string */
	const char *sns =
		"{\"Type\":\"Notification\",\"MessageId\":\"1\",\"Message\":\"{\\\"Records\\\":[{"
		"\\\"eventSource\\\":\\\"aws:s3\\\",\\\"eventName\\\":\\\"ObjectCreated:CompleteMultipartUpload\\\","
		"\\\"s3\\\":{\\\"bucket\\\":{\\\"name\\\":\\\"trail\\\"},\\\"object\\\":{\\\"key\\\":\\\"a%20b\\\"}}}]}\"}";
	CHECK_INT(parse(sns, &m, err, sizeof err), 0);
	CHECK_STR(m.shape, "S3 event notification (through SNS)");
	CHECK_INT(m.objs.n, 1);
	if (m.objs.n == 1)
		CHECK_STR(m.objs.v[0].key, "a b");
	ts_sqsmsg_free(&m);
}

static void test_cloudtrail(void)
{
	ts_sqsmsg m;
	char err[200] = "";
	CHECK_INT(parse("{\"s3Bucket\":\"trail\",\"s3ObjectKey\":[\"" K1 "\", \"k+2\"]}", &m, err, sizeof err), 0);
	CHECK_STR(m.shape, "CloudTrail notification");
	CHECK_INT(m.objs.n, 2);
	if (m.objs.n == 2) {
		CHECK_STR(m.objs.v[0].key, K1);
		CHECK_STR(m.objs.v[1].key, "k+2"); /* not URL-encoded */
		CHECK_STR(m.objs.v[1].etag, "");
	}
	ts_sqsmsg_free(&m);
	CHECK_INT(parse("{\"Type\":\"Notification\",\"Message\":\"{\\\"s3Bucket\\\":\\\"b\\\","
			"\\\"s3ObjectKey\\\":[\\\"k\\\\u00e9\\\"]}\",\"Timestamp\":\"t\"}", &m, err, sizeof err), 0);
	CHECK_STR(m.shape, "CloudTrail notification (through SNS)");
	CHECK_INT(m.objs.n, 1);
	if (m.objs.n == 1)
		CHECK_STR(m.objs.v[0].key, "k\xc3\xa9");
	ts_sqsmsg_free(&m);
}

static void test_eventbridge_and_test_event(void)
{
	ts_sqsmsg m;
	char err[200] = "";
	CHECK_INT(parse("{\"version\":\"0\",\"detail-type\":\"Object Created\",\"source\":\"aws.s3\","
			"\"detail\":{\"bucket\":{\"name\":\"trail\"},\"object\":{\"key\":\"" K1 "\","
			"\"size\":99,\"etag\":\"ffee\"}}}", &m, err, sizeof err), 0);
	CHECK_STR(m.shape, "EventBridge Object Created");
	CHECK_INT(m.objs.n, 1);
	if (m.objs.n == 1) {
		CHECK_STR(m.objs.v[0].key, K1);
		CHECK_STR(m.objs.v[0].etag, "ffee");
		CHECK_INT(m.objs.v[0].size, 99);
	}
	ts_sqsmsg_free(&m);
	CHECK_INT(parse("{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Bucket\":\"trail\"}", &m, err,
			sizeof err), 0);
	CHECK_STR(m.shape, "S3 test event");
	CHECK_INT(m.objs.n, 0);
	ts_sqsmsg_free(&m);
}

static void test_refused(void)
{
	static const struct {
		const char *body, *why;
		int rc;
	} cases[] = {
		{"not json", "not a JSON object", TS_EINVAL},
		{"{\"a\":1}", "not an S3 event notification", TS_EINVAL},
		{"{\"Records\":\"x\"}", "not an array", TS_EINVAL},
		{"{\"Records\":[{\"eventSource\":\"aws:sqs\",\"eventName\":\"x\"}]}", "not S3's", TS_EINVAL},
		{"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{}}]}",
		 "no bucket or object", TS_EINVAL},
		{"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":"
		 "{\"name\":\"b\"},\"object\":{\"key\":\"a%zz\"}}}]}", "bad %-escape", TS_EINVAL},
		{"{\"s3Bucket\":\"a\",\"s3ObjectKey\":[\"k\",1]}", "not a key", TS_EINVAL},
		{"{\"s3Bucket\":\"a\",\"s3ObjectKey\":\"k\"}", "not an array", TS_EINVAL},
		{"{\"Type\":\"Notification\",\"Message\":\"hello\"}", "SNS's Message is not", TS_EINVAL},
		{"{\"detail-type\":\"Object Deleted\",\"source\":\"aws.s3\"}", "other than", TS_EINVAL},
		{"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":"
		 "{\"name\":\"a\"},\"object\":{\"key\":\"k\"}}},{\"eventSource\":\"aws:s3\",\"eventName\":"
		 "\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}]}",
		 "more than one bucket", TS_EINVAL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ts_sqsmsg m;
		char err[200] = "";
		CHECK_INT(parse(cases[i].body, &m, err, sizeof err), cases[i].rc);
		if (!strstr(err, cases[i].why))
			fprintf(stderr, "case %zu: '%s'\n", i, err);
		CHECK(strstr(err, cases[i].why) != NULL);
		ts_sqsmsg_free(&m);
	}
}

TS_TESTS(test_s3_event, test_cloudtrail, test_eventbridge_and_test_event, test_refused)
