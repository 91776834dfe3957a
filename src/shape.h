/* shape.h - the wrappers CloudTrail records are delivered in, besides the
 * containers the reader splits (reader.h): one item the reader returned
 * that is not itself a record is looked at here, and either holds one
 * record, is something to ignore, or is not known.
 *
 * Known wrappers (each an object at the top level or in a container):
 *   - an event of `aws cloudtrail lookup-events`: the record is the JSON
 *     text in the string "CloudTrailEvent" (decoded once, into the
 *     shape's own buffer);
 *   - an EventBridge event: "detail-type" beside "detail", the record is
 *     the object "detail" (no copy: a slice of the item);
 *   - a CloudWatch Logs log event (an element of "logEvents"): the record
 *     is the JSON text in the string "message"; a subscription's
 *     "CWL CONTROL MESSAGE" is to ignore;
 *   - a CloudTrail digest file ("digestStartTime" at the root): to ignore.
 * Only the root of the item is looked at (ts_jscan): an item that is not
 * well-formed JSON, or has escapes in its keys, is not known, and the
 * caller reports the record parser's error for it.
 */
#ifndef TS_SHAPE_H
#define TS_SHAPE_H

#include <stddef.h>
#include <stdint.h>

enum {
	TS_SHAPE_NONE,    /* not a wrapper known here */
	TS_SHAPE_RECORD,  /* a wrapper: the record is in the result */
	TS_SHAPE_DIGEST,  /* a digest file: ignore */
	TS_SHAPE_CONTROL, /* a CloudWatch Logs control message: ignore */
};

typedef struct ts_shape ts_shape;

/* The record inside a wrapper. text is a slice of the item, or the
 * shape's decode buffer (valid until the next unwrap or the free). */
typedef struct ts_shape_inner {
	const char *text;
	size_t len;
	const char *wrapper; /* "lookup-events", "EventBridge", "CloudWatch Logs" */
} ts_shape_inner;

/* format: TS_FMT_* (reader.h): a forced format knows only its own
 * wrapper. max_tokens, max_depth: the record parser's caps (0: its
 * defaults). NULL when out of memory. */
ts_shape *ts_shape_new(int format, unsigned max_tokens, unsigned max_depth);
/* NULL is a no-op. */
void ts_shape_free(ts_shape *s);

/* Look at one item. Returns a TS_SHAPE_* kind (for TS_SHAPE_RECORD with
 * *in filled), TS_EJSON when a record string of a known wrapper has a bad
 * escape, or TS_ENOMEM. */
int ts_shape_unwrap(ts_shape *s, const char *text, size_t len, ts_shape_inner *in);

#endif
