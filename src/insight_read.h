/* insight_read.h - an insight event's JSON read back into fields: the
 * inverse of insight.h, for tools that take the events a run wrote (the
 * report). Reads what ts_insight_write writes and what CloudTrail writes
 * (trailsightContext optional). No I/O.
 */
#ifndef TS_INSIGHT_READ_H
#define TS_INSIGHT_READ_H

#include <stdint.h>

#include "insight.h"
#include "util.h"

#define TS_EVENT_POOL_MAX (1u << 20) /* bytes of attribution values per event */

typedef struct ts_event_value {
	size_t off;     /* the value's text at pool.p + off, NUL-terminated */
	double average; /* events per minute */
} ts_event_value;

typedef struct ts_event_attr {
	char attribute[32]; /* "userIdentityArn", "userAgent", "errorCode" */
	unsigned n_insight, n_baseline;
	ts_event_value insight[TS_ATTR_TOP], baseline[TS_ATTR_TOP];
} ts_event_attr;

typedef struct ts_event {
	int state; /* TS_STATE_START or TS_STATE_END */
	int type;  /* TS_CALL_RATE or TS_ERROR_RATE */
	int data_events;
	char account[64], region[64], source[256], name[256];
	char error_code[256]; /* "" for call rate */
	char shared_id[40], event_id[40];
	int64_t time; /* eventTime, epoch minutes */
	double baseline_average, insight_average;
	int64_t insight_duration, baseline_duration;
	unsigned n_attrs;
	ts_event_attr attrs[3];
	int has_context; /* trailsightContext present */
	char model[64];
	double expected, p_value;
	ts_buf pool; /* owned: attribution values */
} ts_event;

/* Parse one event. 0 and *ev filled (ev->pool owned by ev: release with
 * ts_event_clear); TS_EJSON when it is not JSON or not an insight event,
 * TS_EFIELD when a field is missing, malformed or too long, TS_ENOMEM.
 * On failure err says which field, and ev holds nothing to free. */
int ts_event_parse(const char *json, size_t len, ts_event *ev, char *err, size_t errlen);
/* Free ev's pool; NULL is a no-op. */
void ts_event_clear(ts_event *ev);
/* The text of a value of ev (borrowed from ev->pool). */
static inline const char *ts_event_text(const ts_event *ev, const ts_event_value *v)
{
	return ev->pool.p ? ev->pool.p + v->off : "";
}

#endif
