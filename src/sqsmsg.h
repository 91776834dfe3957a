/* sqsmsg.h - what an SQS message about new S3 objects names: the bucket
 * and the keys, from the notification shapes users have:
 *   - an S3 event notification, {"Records":[{"eventSource":"aws:s3",
 *     "eventName":"ObjectCreated:Put","s3":{"bucket":{"name":..},
 *     "object":{"key":..,"size":..,"eTag":..}}}]} (keys URL-encoded, form
 *     style: '+' is a blank), sent to the queue directly or by SNS;
 *   - CloudTrail's own SNS notification, {"s3Bucket":..,
 *     "s3ObjectKey":[..]}, in SNS's envelope or raw;
 *   - an EventBridge "Object Created" event from aws.s3, {"detail-type":
 *     "Object Created","source":"aws.s3","detail":{"bucket":{"name":..},
 *     "object":{"key":..,"size":..,"etag":..}}};
 *   - S3's s3:TestEvent, and S3 events other than ObjectCreated, which
 *     name nothing to read.
 * SNS's envelope is {"Type":"Notification","Message":"<the JSON above as
 * a string>",...}. Bytes in, objects out, no I/O (fuzzed: fuzz_sqsmsg);
 * the JSON is walked with ts_jscan and must be one well-formed object.
 */
#ifndef TS_SQSMSG_H
#define TS_SQSMSG_H

#include <stddef.h>
#include <stdint.h>

#include "s3xml.h"

#define TS_SQSMSG_OBJECTS_MAX 1000 /* objects one message may name */
#define TS_SQSMSG_BODY_MAX ((size_t)1 << 20)

typedef struct ts_sqsmsg {
	const char *shape;   /* which shape it was (static text) */
	char bucket[256];    /* "" when it names no object */
	ts_s3_objs objs;     /* keys decoded; etag and size when the
				notification gave them ("" and 0 when not) */
	uint64_t other;      /* S3 event records of other kinds (ObjectRemoved...) */
} ts_sqsmsg;

/* Read body[0..n) into *m (zeroed first; free with ts_sqsmsg_free, also
 * after a failure). 0, with m->objs possibly empty (a test event, only
 * other kinds of events); TS_EINVAL for a body that is not one of the
 * shapes (err[cap] says what is wrong with it), TS_ECAP past a cap (the
 * body's size, TS_SQSMSG_OBJECTS_MAX, a key over 1024 bytes), TS_ENOMEM.
 * A message naming objects of two buckets is TS_EINVAL. */
int ts_sqsmsg_parse(const char *body, size_t n, ts_sqsmsg *m, char *err, size_t cap);
void ts_sqsmsg_free(ts_sqsmsg *m);

#endif
