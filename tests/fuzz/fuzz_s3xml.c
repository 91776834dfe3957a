/* fuzz_s3xml.c - the S3 and SQS answers read with expat: the input is
 * read as a ListObjectsV2 page, an error body, a ReceiveMessage answer
 * (every message with its three strings, at most 10), an SQS error, a
 * DeleteMessageBatch answer (ok flags 0 or 1) and an
 * STS web identity answer (three keys, NUL-terminated in their fields). On success every key must be a
 * NUL-terminated string of at most 1024 bytes, the ETags and the token
 * NUL-terminated within their fields, and a truncated page must carry a
 * token; on failure the message must be non-empty. Any breach aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_s3_page pg;
	char err[200] = "";
	int rc = ts_s3xml_page((const char *)data, size, &pg, err, sizeof err);
	if (rc == 0) {
		for (size_t i = 0; i < pg.objs.n; i++) {
			if (!pg.objs.v[i].key || strlen(pg.objs.v[i].key) > 1024 ||
			    !memchr(pg.objs.v[i].etag, 0, sizeof pg.objs.v[i].etag))
				abort();
		}
		if (!memchr(pg.next_token, 0, sizeof pg.next_token) ||
		    (pg.truncated && !pg.next_token[0]) || pg.objs.n > 10000 || pg.prefixes.n > 10000)
			abort();
	} else if (!err[0] || (rc != TS_EINVAL && rc != TS_ECAP && rc != TS_ENOMEM)) {
		abort();
	}
	ts_s3_page_free(&pg);
	ts_s3_err e;
	if (ts_s3xml_error((const char *)data, size, &e) == 0 &&
	    (!memchr(e.code, 0, sizeof e.code) || !memchr(e.message, 0, sizeof e.message) ||
	     !memchr(e.region, 0, sizeof e.region)))
		abort();
	ts_sqs_msgs ms;
	rc = ts_s3xml_sqs_receive((const char *)data, size, &ms, err, sizeof err);
	if (rc == 0) {
		if (ms.n > 10)
			abort();
		for (size_t i = 0; i < ms.n; i++)
			if (!ms.v[i].id || !ms.v[i].receipt || !ms.v[i].body ||
			    strlen(ms.v[i].body) > ms.v[i].body_len)
				abort();
	} else if (rc != TS_EINVAL && rc != TS_ECAP && rc != TS_ENOMEM) {
		abort();
	}
	ts_sqs_msgs_free(&ms);
	if (ts_s3xml_sqs_error((const char *)data, size, &e) == 0 &&
	    (!memchr(e.code, 0, sizeof e.code) || !memchr(e.message, 0, sizeof e.message)))
		abort();
	uint8_t ok[10];
	if (ts_s3xml_sqs_batch((const char *)data, size, ok, 10, &e) == 0) {
		for (int i = 0; i < 10; i++)
			if (ok[i] > 1)
				abort();
		if (!memchr(e.code, 0, sizeof e.code))
			abort();
	}
	ts_sts_creds k;
	if (ts_s3xml_sts((const char *)data, size, &k, err, sizeof err) == 0 &&
	    (!k.key_id[0] || !k.secret[0] || !k.token[0] || !memchr(k.token, 0, sizeof k.token) ||
	     !memchr(k.expiration, 0, sizeof k.expiration)))
		abort();
	return 0;
}
