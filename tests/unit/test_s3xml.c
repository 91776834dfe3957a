/* test_s3xml.c - ListObjectsV2 pages and S3 error bodies. */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "s3xml.h"

static const char page1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	"<Name>trail</Name><Prefix>AWSLogs/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
	"<IsTruncated>true</IsTruncated>"
	"<Contents><Key>AWSLogs/1/CloudTrail/us-east-1/2026/01/02/a.json.gz</Key>"
	"<LastModified>2026-01-02T00:05:01.000Z</LastModified>"
	"<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>"
	"<StorageClass>STANDARD</StorageClass></Contents>"
	"<Contents><Key>AWSLogs/1/x &amp; y.json</Key><LastModified>2026-01-03T10:00:00Z</LastModified>"
	"<ETag>\"e-2\"</ETag><Size>0</Size></Contents>"
	"<CommonPrefixes><Prefix>AWSLogs/2/</Prefix></CommonPrefixes>"
	"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
	"</ListBucketResult>";

static void test_page(void)
{
	ts_s3_page pg;
	char err[200];
	CHECK_INT(ts_s3xml_page(page1, strlen(page1), &pg, err, sizeof err), 0);
	CHECK_INT(pg.objs.n, 2);
	CHECK_STR(pg.objs.v[0].key, "AWSLogs/1/CloudTrail/us-east-1/2026/01/02/a.json.gz");
	CHECK_STR(pg.objs.v[0].etag, "9b2cf535f27731c974343645a3985328");
	CHECK_INT(pg.objs.v[0].size, 1234);
	CHECK_INT(pg.objs.v[0].mtime, 1767312301);
	CHECK_STR(pg.objs.v[1].key, "AWSLogs/1/x & y.json");
	CHECK_STR(pg.objs.v[1].etag, "e-2");
	CHECK_INT(pg.objs.v[1].size, 0);
	CHECK_INT(pg.prefixes.n, 1);
	CHECK_STR(pg.prefixes.paths[0], "AWSLogs/2/");
	CHECK_INT(pg.truncated, 1);
	CHECK_STR(pg.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	ts_s3_page_free(&pg);

	static const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated>"
				   "<KeyCount>0</KeyCount></ListBucketResult>";
	CHECK_INT(ts_s3xml_page(last, strlen(last), &pg, err, sizeof err), 0);
	CHECK_INT(pg.objs.n, 0);
	CHECK_INT(pg.truncated, 0);
	CHECK_STR(pg.next_token, "");
	ts_s3_page_free(&pg);
}

static int page_rc(const char *xml, char *err, size_t cap)
{
	ts_s3_page pg;
	int rc = ts_s3xml_page(xml, strlen(xml), &pg, err, cap);
	ts_s3_page_free(&pg);
	return rc;
}

static void test_page_bad(void)
{
	char err[200];
	/* cut anywhere: refused, never a crash or a leak */
	for (size_t n = 0; n + 1 < sizeof page1; n += 7) {
		ts_s3_page pg;
		int rc = ts_s3xml_page(page1, n, &pg, err, sizeof err);
		CHECK(rc == TS_EINVAL);
		ts_s3_page_free(&pg);
	}
	CHECK_INT(page_rc("<Error><Code>AccessDenied</Code></Error>", err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "not a ListBucketResult") != NULL);
	CHECK_INT(page_rc("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
			  err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "without Key") != NULL);
	CHECK_INT(page_rc("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents>"
			  "</ListBucketResult>", err, sizeof err), TS_EINVAL);
	CHECK_INT(page_rc("<ListBucketResult><Contents><Key>k</Key><Size>1</Size><LastModified>"
			  "yesterday</LastModified></Contents></ListBucketResult>", err, sizeof err),
		  TS_EINVAL);
	CHECK_INT(page_rc("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
			  err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "NextContinuationToken") != NULL);
	CHECK_INT(page_rc("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><ListBucketResult>&a;</ListBucketResult>",
			  err, sizeof err), TS_EINVAL);
	CHECK_INT(page_rc("<ListBucketResult><a><b><c><d><e><f><g><h><i/></h></g></f></e></d></c></b>"
			  "</a></ListBucketResult>", err, sizeof err), TS_ECAP);
	/* a key over 1024 bytes */
	char *big = malloc(4096);
	int k = snprintf(big, 4096, "<ListBucketResult><Contents><Key>");
	memset(big + k, 'k', 1100);
	snprintf(big + k + 1100, 4096 - (size_t)k - 1100, "</Key><Size>1</Size></Contents></ListBucketResult>");
	CHECK_INT(page_rc(big, err, sizeof err), TS_ECAP);
	free(big);
}

static void test_error(void)
{
	ts_s3_err e;
	static const char denied[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied"
				     "</Code><Message>Access Denied</Message><RequestId>X</RequestId>"
				     "</Error>";
	CHECK_INT(ts_s3xml_error(denied, strlen(denied), &e), 0);
	CHECK_STR(e.code, "AccessDenied");
	CHECK_STR(e.message, "Access Denied");
	CHECK_STR(e.region, "");
	static const char moved[] = "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the "
				    "region 'us-east-1' is wrong; expecting 'eu-west-1'</Message>"
				    "<Region>eu-west-1</Region></Error>";
	CHECK_INT(ts_s3xml_error(moved, strlen(moved), &e), 0);
	CHECK_STR(e.region, "eu-west-1");
	static const char redirect[] = "<Error><Code>PermanentRedirect</Code><Bucket>trail</Bucket>"
				       "<Endpoint>trail.s3.eu-west-1.amazonaws.com</Endpoint></Error>";
	CHECK_INT(ts_s3xml_error(redirect, strlen(redirect), &e), 0);
	CHECK_STR(e.bucket, "trail");
	CHECK_STR(e.endpoint, "trail.s3.eu-west-1.amazonaws.com");
	CHECK_INT(ts_s3xml_error("", 0, &e), TS_EINVAL);
	CHECK_INT(ts_s3xml_error("<html>502</html>", 16, &e), TS_EINVAL);
	CHECK_INT(ts_s3xml_error("<Error><Code>x", 14, &e), TS_EINVAL);
}

TS_TESTS(test_page, test_page_bad, test_error)
