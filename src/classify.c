/* classify.c - record classification (see classify.h): which records are
 * counted, ignored by policy or skipped for their partition's names. */
#include <string.h>

#include "classify.h"

int ts_name_is_read(ts_str name)
{
	static const char *prefixes[] = {"Get", "Describe", "List", "Head", "Lookup",
					 "Search", "Scan", "Query", "BatchGet", "Select"};
	for (size_t i = 0; i < TS_ARRAY_LEN(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		if (name.n > n && memcmp(name.p, prefixes[i], n) == 0 && name.p[n] >= 'A' &&
		    name.p[n] <= 'Z')
			return 1;
	}
	return 0;
}

int ts_partition_name_ok(ts_str s)
{
	if (!s.n)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c < 0x20 || c == ':' || c == '{' || c == '}' || c == 0x7f)
			return 0;
	}
	return 1;
}

ts_class ts_classify(const ts_record *r, int include_data, ts_record_kind *k)
{
	int data = 0;
	if (ts_str_eqc(r->event_type, "AwsCloudTrailInsight"))
		return TS_CLASS_INSIGHT;
	if (r->event_category.p) {
		if (ts_str_eqc(r->event_category, "Data"))
			data = 1;
		else if (!ts_str_eqc(r->event_category, "Management"))
			return TS_CLASS_CATEGORY;
	} else if (r->management == TS_FALSE) {
		data = 1;
	}
	if (data && !include_data)
		return TS_CLASS_DATA;
	if (!ts_partition_name_ok(r->account) || !ts_partition_name_ok(r->aws_region))
		return TS_CLASS_BAD_PARTITION;
	k->data = data;
	k->read_only = r->read_only == TS_ABSENT ? ts_name_is_read(r->event_name)
						 : r->read_only == TS_TRUE;
	return TS_CLASS_COUNT;
}
