/* test_classify.c - which records are counted, ignored or skipped, and
 * how a counted one is counted (classify.c). */
#include "../check.h"
#include "classify.h"

static ts_record base(void)
{
	ts_record r;
	memset(&r, 0, sizeof r);
	r.time = 1700000000;
	r.event_source = ts_str_c("ec2.amazonaws.com");
	r.event_name = ts_str_c("RunInstances");
	r.aws_region = ts_str_c("us-east-1");
	r.account = ts_str_c("111122223333");
	r.event_type = ts_str_c("AwsApiCall");
	r.read_only = TS_ABSENT;
	r.management = TS_ABSENT;
	return r;
}

static void test_management_counted(void)
{
	ts_record r = base();
	ts_record_kind k = {-1, -1};
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_COUNT);
	CHECK_INT(k.data, 0);
	CHECK_INT(k.read_only, 0); /* RunInstances: not a read verb */
	r.event_category = ts_str_c("Management");
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_COUNT);
	CHECK_INT(k.data, 0);
}

static void test_ignored(void)
{
	ts_record_kind k;
	ts_record r = base();
	r.event_type = ts_str_c("AwsCloudTrailInsight");
	CHECK_INT(ts_classify(&r, 1, &k), TS_CLASS_INSIGHT);
	/* the insight check comes before the partition names */
	r.account = TS_STR_NULL;
	CHECK_INT(ts_classify(&r, 1, &k), TS_CLASS_INSIGHT);

	r = base();
	r.event_category = ts_str_c("NetworkActivity");
	CHECK_INT(ts_classify(&r, 1, &k), TS_CLASS_CATEGORY);
	r.event_category = ts_str_c("management"); /* case matters */
	CHECK_INT(ts_classify(&r, 1, &k), TS_CLASS_CATEGORY);

	/* data events: by category, or by managementEvent false without one */
	r = base();
	r.event_category = ts_str_c("Data");
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_DATA);
	CHECK_INT(ts_classify(&r, 1, &k), TS_CLASS_COUNT);
	CHECK_INT(k.data, 1);
	r = base();
	r.management = TS_FALSE;
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_DATA);
	CHECK_INT(ts_classify(&r, 1, &k), TS_CLASS_COUNT);
	CHECK_INT(k.data, 1);
	/* a category wins over managementEvent */
	r.event_category = ts_str_c("Management");
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_COUNT);
	CHECK_INT(k.data, 0);
	r = base();
	r.management = TS_TRUE;
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_COUNT);
}

static void test_bad_partition(void)
{
	ts_record_kind k;
	static const char *bad[] = {"", "1111:2222", "a{b", "a}b", "a\nb", "a\x7f"};
	for (size_t i = 0; i < TS_ARRAY_LEN(bad); i++) {
		ts_record r = base();
		r.account = ts_str_c(bad[i]);
		CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_BAD_PARTITION);
		r = base();
		r.aws_region = ts_str_c(bad[i]);
		CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_BAD_PARTITION);
	}
	ts_record r = base();
	r.account = TS_STR_NULL;
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_BAD_PARTITION);
	/* NUL inside a name (JSON \u0000) */
	r = base();
	r.aws_region = (ts_str){"us\0east", 7};
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_BAD_PARTITION);
	/* an ignored data event is ignored, not skipped, even with bad names */
	r = base();
	r.event_category = ts_str_c("Data");
	r.account = ts_str_c("a:b");
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_DATA);
	CHECK(ts_partition_name_ok(ts_str_c("us-gov-west-1")));
	CHECK(ts_partition_name_ok(ts_str_c("caf\xc3\xa9")));
}

static void test_read_only(void)
{
	ts_record_kind k;
	ts_record r = base();
	static const char *reads[] = {"GetObject", "DescribeInstances", "ListBuckets",
				      "HeadObject", "LookupEvents", "SearchResources",
				      "Scan", "QueryX", "BatchGetItem", "SelectObjectContent"};
	for (size_t i = 0; i < TS_ARRAY_LEN(reads); i++) {
		r.event_name = ts_str_c(reads[i]);
		if (i == 6) /* "Scan" alone: no upper case letter after the verb */
			continue;
		CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_COUNT);
		CHECK_INT(k.read_only, 1);
	}
	static const char *writes[] = {"Get", "Getaway", "Listen", "PutObject", "getObject",
				       "Describe", "Scan", ""};
	for (size_t i = 0; i < TS_ARRAY_LEN(writes); i++) {
		CHECK_INT(ts_name_is_read(ts_str_c(writes[i])), 0);
		r.event_name = ts_str_c(writes[i]);
		CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_COUNT);
		CHECK_INT(k.read_only, 0);
	}
	/* a name is its slice only: the bytes after it (here "Object", as in
	 * a buffer the name is cut from) do not make "Get" a read */
	CHECK_INT(ts_name_is_read((ts_str){"GetObject", 3}), 0);
	CHECK_INT(ts_name_is_read((ts_str){"ListTags", 4}), 0);
	/* readOnly, when present, decides */
	r.event_name = ts_str_c("GetObject");
	r.read_only = TS_FALSE;
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_COUNT);
	CHECK_INT(k.read_only, 0);
	r.event_name = ts_str_c("PutObject");
	r.read_only = TS_TRUE;
	CHECK_INT(ts_classify(&r, 0, &k), TS_CLASS_COUNT);
	CHECK_INT(k.read_only, 1);
}

TS_TESTS(test_management_counted, test_ignored, test_bad_partition, test_read_only)
