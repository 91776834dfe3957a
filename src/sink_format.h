/* sink_format.h - an insight event turned into the payload an alerting
 * tool takes: Prometheus Alertmanager v2, PagerDuty Events v2, a
 * Slack-compatible incoming webhook, or the EventBridge envelope AWS puts
 * around Insights. Pure functions over text: the event JSON in, the
 * payload appended to a ts_buf; no I/O, no clock. The webhook sink
 * (sink_webhook.c) posts what they make, with its retries and spool.
 */
#ifndef TS_SINK_FORMAT_H
#define TS_SINK_FORMAT_H

#include <stddef.h>

#include "util.h"

typedef enum ts_sink_format {
	TS_PAYLOAD_RAW = 0,      /* the event as it is */
	TS_PAYLOAD_ALERTMANAGER, /* [{labels, annotations, startsAt[, endsAt]}] */
	TS_PAYLOAD_PAGERDUTY,    /* {routing_key, event_action, dedup_key, payload} */
	TS_PAYLOAD_SLACK,        /* {"text": one line} */
	TS_PAYLOAD_EVENTBRIDGE,  /* {version, id, detail-type, ..., detail: the event} */
} ts_sink_format;

/* What the caller needs to know of the event it formatted. */
typedef struct ts_fmt_info {
	int state;           /* TS_STATE_START or TS_STATE_END */
	char shared_id[40];  /* sharedEventID */
	/* alertmanager: the alert object inside the array, out->p + alert_off,
	 * alert_len bytes (a Start's is what a re-post sends) */
	size_t alert_off, alert_len;
} ts_fmt_info;

/* Append the payload of format fmt for the event json[0..len) to out.
 * routing_key is used by TS_PAYLOAD_PAGERDUTY only (not NULL there). 0 and
 * *info filled; TS_EJSON or TS_EFIELD when json is not an insight event
 * (err says which field), TS_ENOMEM; out is unchanged on failure.
 * TS_PAYLOAD_RAW appends json as it is. */
int ts_fmt_payload(ts_sink_format fmt, const char *routing_key, const char *json, size_t len,
		   ts_buf *out, ts_fmt_info *info, char *err, size_t errlen);

/* Append json[0..len) to out without insightDetails.trailsightContext
 * (the record as AWS writes it); the text is copied as it is otherwise.
 * 0, TS_EJSON (not one JSON object), TS_ENOMEM; out unchanged on failure. */
int ts_fmt_strip_context(const char *json, size_t len, ts_buf *out);

#endif
