/* fuzz_sqsmsg.c - an SQS message body read as a notification of new S3
 * objects (sqsmsg.h). On success every object has a non-empty key of at
 * most 1024 bytes, NUL-terminated, and an ETag NUL-terminated within its
 * field, there are at most TS_SQSMSG_OBJECTS_MAX of them, with a bucket
 * named when there is one, and a shape is named; on failure the message
 * is non-empty and the code one of those documented. Any breach aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sqsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_sqsmsg m;
	char err[200] = "";
	int rc = ts_sqsmsg_parse((const char *)data, size, &m, err, sizeof err);
	if (rc == 0) {
		if (!m.shape || m.objs.n > TS_SQSMSG_OBJECTS_MAX || (m.objs.n && !m.bucket[0]) ||
		    !memchr(m.bucket, 0, sizeof m.bucket))
			abort();
		for (size_t i = 0; i < m.objs.n; i++)
			if (!m.objs.v[i].key || !m.objs.v[i].key[0] || strlen(m.objs.v[i].key) > 1024 ||
			    !memchr(m.objs.v[i].etag, 0, sizeof m.objs.v[i].etag))
				abort();
	} else if (!err[0] || (rc != TS_EINVAL && rc != TS_ECAP && rc != TS_ENOMEM)) {
		abort();
	}
	ts_sqsmsg_free(&m);
	return 0;
}
