/* record.h - parses the JSON text of one CloudTrail record (as split out by
 * the reader) into the few fields trailsight counts. jsmn lives here and
 * nowhere else; it is built with JSMN_PARENT_LINKS and JSMN_STRICT.
 *
 * jsmn does not validate JSON, so the parser checks the token structure of
 * every field it uses: a wrongly typed field or a key without a value is an
 * error, not a guess. Unknown fields are ignored. The whole record text must
 * be valid UTF-8.
 */
#ifndef TS_RECORD_H
#define TS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Tri-state booleans */
enum { TS_FALSE = 0, TS_TRUE = 1, TS_ABSENT = -1 };

/* The fields trailsight uses. Strings are decoded (JSON escapes resolved,
 * valid UTF-8) and not NUL-terminated; they point into the record text or
 * into the parser's scratch space, and are valid until the next parse with
 * the same parser or its free. A field that is absent or JSON null has
 * p == NULL and n == 0. */
typedef struct ts_record {
	int64_t time;          /* eventTime, epoch seconds (UTC) */
	ts_str event_time;     /* eventTime as written */
	ts_str event_source;   /* eventSource */
	ts_str event_name;     /* eventName */
	ts_str aws_region;     /* awsRegion */
	ts_str account;        /* recipientAccountId */
	ts_str error_code;     /* errorCode */
	ts_str event_category; /* eventCategory ("Management", "Data", ...) */
	ts_str event_type;     /* eventType ("AwsApiCall", ...) */
	ts_str arn;            /* userIdentity.arn */
	ts_str identity_type;  /* userIdentity.type ("IAMUser", "AWSService", ...) */
	ts_str invoked_by;     /* userIdentity.invokedBy (a service calling for a user) */
	ts_str user_agent;     /* userAgent */
	int read_only;         /* readOnly: boolean or "true"/"false" string;
				  null or absent: TS_ABSENT */
	int management;        /* managementEvent, the same way */
} ts_record;

typedef struct ts_parser ts_parser;

typedef struct ts_parser_opts {
	unsigned max_tokens; /* JSON tokens in one record; 0: 200000 */
	unsigned max_depth;  /* nesting depth; 0: 64 */
	int exact_only;      /* never the fast path (jscan.h): for comparing
				the two, which must agree on every input */
} ts_parser_opts;

/* A new parser (token array and scratch space reused across records), or
 * NULL when out of memory. opts may be NULL. */
ts_parser *ts_parser_new(const ts_parser_opts *opts);
/* NULL is a no-op. */
void ts_parser_free(ts_parser *p);

/* Parse one record. Returns 0 and fills *rec, or a negative code:
 *   TS_EUTF8     the text is not valid UTF-8;
 *   TS_EJSON     not one well-formed JSON object (trailing bytes count; the
 *                structure and every literal are checked; a string the
 *                parser uses may not hold a raw control character, a bad
 *                escape or an unpaired surrogate escape);
 *   TS_ETOKENS   more tokens than max_tokens; TS_EDEPTH deeper than max_depth;
 *   TS_ENOTIME   no eventTime (or null);
 *   TS_EBADTIME  eventTime not RFC 3339 "YYYY-MM-DDTHH:MM:SS[.f]" with "Z"
 *                or "+hh:mm"/"-hh:mm" (converted to UTC), or out of range,
 *                or not a string;
 *   TS_EFIELD    eventSource, eventName missing or not strings (an Insight
 *                event, eventType "AwsCloudTrailInsight", may lack them:
 *                they are then empty, not NULL), or any field
 *                the parser uses of the wrong JSON type (e.g. readOnly 3,
 *                userIdentity a string), or given twice;
 *   TS_EINVAL    p or rec NULL, text NULL with len > 0, or len over
 *                INT_MAX / 2;
 *   TS_ENOMEM.
 * Checked in this order: UTF-8, structure (EJSON, ETOKENS, EDEPTH),
 * eventTime, the other fields; a record with several faults reports the
 * first one found.
 * On error *rec is unspecified and ts_parser_errdetail() says which field
 * or what went wrong, e.g. "eventTime: \"2023-02-30T...\"" (a short text
 * owned by the parser, valid until the next call). */
int ts_parse_record(ts_parser *p, const char *text, size_t len, ts_record *rec);

/* ts_parse_record for a record whose end is not known yet: text[0..avail)
 * starts with it (its '{') and goes on past it. When the fast scan
 * (jscan.h) vouches for one JSON object there, *len is its length and the
 * return is what ts_parse_record(p, text, *len, rec) returns; else *len
 * is 0 and it returns 0, and the caller finds the end another way. */
int ts_parse_record_span(ts_parser *p, const char *text, size_t avail, size_t *len,
			 ts_record *rec);
const char *ts_parser_errdetail(const ts_parser *p);

#endif
