/* insight_read.c - reads an insight event's JSON back (see insight_read.h).
 *
 * jsmn tokenises the text into a fixed array (an event has a few hundred
 * tokens at most; more is an error); the fields are looked up by key path.
 * jsmn does not validate, so every field read checks its token's type.
 * Strings are unescaped (\uXXXX, surrogate pairs included) into fixed
 * fields or into the event's pool, both capped. Nothing but the pool is
 * allocated.
 */
#include <math.h>
#include <stdlib.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#include "insight_read.h"

#define MAX_TOKENS 1024

typedef struct rd {
	const char *js;
	jsmntok_t *t;
	int n;
	char *err;
	size_t errlen;
} rd;

static int fail(rd *r, int code, const char *what)
{
	snprintf(r->err, r->errlen, "%s", what);
	return code;
}

/* The token after the whole subtree at i. */
static int skip(const rd *r, int i)
{
	int j = i + 1;
	while (j < r->n && r->t[j].start < r->t[i].end)
		j++;
	return j;
}

/* The value of key in the object at obj, or -1. */
static int get(const rd *r, int obj, const char *key)
{
	if (obj < 0 || obj >= r->n || r->t[obj].type != JSMN_OBJECT)
		return -1;
	size_t kl = strlen(key);
	int k = obj + 1;
	for (int c = 0; c < r->t[obj].size && k + 1 < r->n; c++) {
		const jsmntok_t *kt = &r->t[k];
		if (kt->type == JSMN_STRING && (size_t)(kt->end - kt->start) == kl &&
		    memcmp(r->js + kt->start, key, kl) == 0)
			return k + 1;
		k = skip(r, k + 1);
	}
	return -1;
}

static int hexval(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Unescape the string token at i onto out (with a NUL). 0, TS_EFIELD
 * (not a string, a bad escape), TS_ECAP or TS_ENOMEM. */
static int unescape(const rd *r, int i, ts_buf *out)
{
	if (i < 0 || r->t[i].type != JSMN_STRING)
		return TS_EFIELD;
	const char *p = r->js + r->t[i].start, *e = r->js + r->t[i].end;
	int rc = 0;
	while (!rc && p < e) {
		if (*p != '\\') {
			const char *q = p;
			while (q < e && *q != '\\')
				q++;
			rc = ts_buf_add(out, p, (size_t)(q - p));
			p = q;
			continue;
		}
		if (e - p < 2)
			return TS_EFIELD;
		char c = p[1], ch;
		p += 2;
		switch (c) {
		case '"': case '\\': case '/': ch = c; break;
		case 'b': ch = '\b'; break;
		case 'f': ch = '\f'; break;
		case 'n': ch = '\n'; break;
		case 'r': ch = '\r'; break;
		case 't': ch = '\t'; break;
		case 'u': {
			unsigned u, lo;
			if (e - p < 4 || hexval(p, &u))
				return TS_EFIELD;
			p += 4;
			if (u >= 0xd800 && u < 0xdc00 && e - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
			    !hexval(p + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (u >= 0xd800 && u < 0xe000) {
				u = 0xfffd;
			}
			char b[4];
			size_t k;
			if (u < 0x80) {
				b[0] = (char)u, k = 1;
			} else if (u < 0x800) {
				b[0] = (char)(0xc0 | (u >> 6)), b[1] = (char)(0x80 | (u & 0x3f)), k = 2;
			} else if (u < 0x10000) {
				b[0] = (char)(0xe0 | (u >> 12)), b[1] = (char)(0x80 | ((u >> 6) & 0x3f));
				b[2] = (char)(0x80 | (u & 0x3f)), k = 3;
			} else {
				b[0] = (char)(0xf0 | (u >> 18)), b[1] = (char)(0x80 | ((u >> 12) & 0x3f));
				b[2] = (char)(0x80 | ((u >> 6) & 0x3f)), b[3] = (char)(0x80 | (u & 0x3f));
				k = 4;
			}
			rc = ts_buf_add(out, b, k);
			continue;
		}
		default: return TS_EFIELD;
		}
		rc = ts_buf_add(out, &ch, 1);
	}
	return rc;
}

/* A string field into a fixed array (NUL-terminated). */
static int str_field(rd *r, int i, char *out, size_t cap, const char *what)
{
	ts_buf b = {.p = NULL, .cap = 1024};
	int rc = unescape(r, i, &b);
	if (!rc && b.len >= cap)
		rc = TS_ECAP;
	if (!rc)
		memcpy(out, b.p ? b.p : "", b.len + 1);
	ts_buf_free(&b);
	if (rc == TS_ENOMEM)
		return rc;
	if (rc) {
		snprintf(r->err, r->errlen, "%s: %s", what,
			 i < 0 ? "missing" : rc == TS_ECAP ? "too long" : "not a valid string");
		return TS_EFIELD;
	}
	return 0;
}

static int num_field(rd *r, int i, double *out, const char *what)
{
	if (i < 0 || r->t[i].type != JSMN_PRIMITIVE) {
		snprintf(r->err, r->errlen, "%s: %s", what, i < 0 ? "missing" : "not a number");
		return TS_EFIELD;
	}
	char tmp[64];
	int len = r->t[i].end - r->t[i].start;
	if (len <= 0 || len >= (int)sizeof tmp) {
		snprintf(r->err, r->errlen, "%s: not a number", what);
		return TS_EFIELD;
	}
	memcpy(tmp, r->js + r->t[i].start, (size_t)len);
	tmp[len] = '\0';
	char *end;
	double v = strtod(tmp, &end);
	if (*end || !isfinite(v)) {
		snprintf(r->err, r->errlen, "%s: not a number", what);
		return TS_EFIELD;
	}
	*out = v;
	return 0;
}

static int read_values(rd *r, int arr, ts_event *ev, ts_event_value *out, unsigned *n)
{
	*n = 0;
	if (arr < 0)
		return 0;
	if (r->t[arr].type != JSMN_ARRAY)
		return fail(r, TS_EFIELD, "attributions: not an array");
	int k = arr + 1;
	for (int c = 0; c < r->t[arr].size; c++) {
		if (*n == TS_ATTR_TOP)
			return fail(r, TS_EFIELD, "attributions: more than 5 values");
		size_t off = ev->pool.len;
		int rc = unescape(r, get(r, k, "value"), &ev->pool);
		if (!rc)
			rc = ts_buf_add(&ev->pool, "", 1); /* the NUL between values */
		if (rc == TS_ENOMEM)
			return rc;
		if (rc)
			return fail(r, TS_EFIELD, "attributions: value missing or too long");
		out[*n].off = off;
		if ((rc = num_field(r, get(r, k, "average"), &out[*n].average, "attributions: average")))
			return rc;
		++*n;
		k = skip(r, k);
	}
	return 0;
}

static int parse(rd *r, ts_event *ev)
{
	int rc;
	if (r->n < 1 || r->t[0].type != JSMN_OBJECT)
		return fail(r, TS_EJSON, "not a JSON object");
	char tmp[64];
	if ((rc = str_field(r, get(r, 0, "eventType"), tmp, sizeof tmp, "eventType")))
		return rc;
	if (strcmp(tmp, "AwsCloudTrailInsight") != 0)
		return fail(r, TS_EJSON, "not an insight event (eventType)");
	if ((rc = str_field(r, get(r, 0, "eventTime"), tmp, sizeof tmp, "eventTime")))
		return rc;
	int64_t sec;
	if (ts_parse_time(tmp, strlen(tmp), &sec))
		return fail(r, TS_EFIELD, "eventTime: malformed");
	ev->time = ts_floordiv(sec, 60);
	if ((rc = str_field(r, get(r, 0, "awsRegion"), ev->region, sizeof ev->region, "awsRegion")) ||
	    (rc = str_field(r, get(r, 0, "recipientAccountId"), ev->account, sizeof ev->account,
			    "recipientAccountId")) ||
	    (rc = str_field(r, get(r, 0, "sharedEventID"), ev->shared_id, sizeof ev->shared_id,
			    "sharedEventID")) ||
	    (rc = str_field(r, get(r, 0, "eventID"), ev->event_id, sizeof ev->event_id, "eventID")))
		return rc;
	int d = get(r, 0, "insightDetails");
	if (d < 0)
		return fail(r, TS_EFIELD, "insightDetails: missing");
	if ((rc = str_field(r, get(r, d, "state"), tmp, sizeof tmp, "insightDetails.state")))
		return rc;
	if (strcmp(tmp, "Start") && strcmp(tmp, "End"))
		return fail(r, TS_EFIELD, "insightDetails.state: neither Start nor End");
	ev->state = strcmp(tmp, "Start") == 0 ? TS_STATE_START : TS_STATE_END;
	if ((rc = str_field(r, get(r, d, "insightType"), tmp, sizeof tmp, "insightType")))
		return rc;
	if (strcmp(tmp, "ApiCallRateInsight") && strcmp(tmp, "ApiErrorRateInsight"))
		return fail(r, TS_EFIELD, "insightType: unknown");
	ev->type = strcmp(tmp, "ApiCallRateInsight") == 0 ? TS_CALL_RATE : TS_ERROR_RATE;
	if ((rc = str_field(r, get(r, d, "eventSource"), ev->source, sizeof ev->source,
			    "eventSource")) ||
	    (rc = str_field(r, get(r, d, "eventName"), ev->name, sizeof ev->name, "eventName")))
		return rc;
	ev->error_code[0] = '\0';
	if (ev->type == TS_ERROR_RATE &&
	    (rc = str_field(r, get(r, d, "errorCode"), ev->error_code, sizeof ev->error_code,
			    "errorCode")))
		return rc;
	int cat = get(r, d, "sourceEventCategory");
	if (cat >= 0 && (rc = str_field(r, cat, tmp, sizeof tmp, "sourceEventCategory")))
		return rc;
	ev->data_events = cat >= 0 && strcmp(tmp, "Data") == 0;

	int ctx = get(r, d, "insightContext"), st = get(r, ctx, "statistics");
	double v;
	if ((rc = num_field(r, get(r, get(r, st, "baseline"), "average"), &ev->baseline_average,
			    "statistics.baseline.average")) ||
	    (rc = num_field(r, get(r, get(r, st, "insight"), "average"), &ev->insight_average,
			    "statistics.insight.average")) ||
	    (rc = num_field(r, get(r, st, "insightDuration"), &v, "statistics.insightDuration")))
		return rc;
	if (v < 0 || v > 1e9)
		return fail(r, TS_EFIELD, "statistics.insightDuration: out of range");
	ev->insight_duration = (int64_t)v;
	if ((rc = num_field(r, get(r, st, "baselineDuration"), &v, "statistics.baselineDuration")))
		return rc;
	ev->baseline_duration = v < 0 ? 0 : v > 1e9 ? (int64_t)1e9 : (int64_t)v;

	int at = get(r, ctx, "attributions");
	ev->n_attrs = 0;
	if (at >= 0) {
		if (r->t[at].type != JSMN_ARRAY)
			return fail(r, TS_EFIELD, "attributions: not an array");
		int k = at + 1;
		for (int c = 0; c < r->t[at].size; c++) {
			if (ev->n_attrs == TS_ARRAY_LEN(ev->attrs))
				return fail(r, TS_EFIELD, "attributions: more than 3 attributes");
			ts_event_attr *a = &ev->attrs[ev->n_attrs];
			if ((rc = str_field(r, get(r, k, "attribute"), a->attribute, sizeof a->attribute,
					    "attributions: attribute")) ||
			    (rc = read_values(r, get(r, k, "insight"), ev, a->insight, &a->n_insight)) ||
			    (rc = read_values(r, get(r, k, "baseline"), ev, a->baseline, &a->n_baseline)))
				return rc;
			ev->n_attrs++;
			k = skip(r, k);
		}
	}
	int tc = get(r, d, "trailsightContext");
	ev->has_context = tc >= 0;
	if (tc >= 0) {
		if ((rc = str_field(r, get(r, tc, "model"), ev->model, sizeof ev->model,
				    "trailsightContext.model")) ||
		    (rc = num_field(r, get(r, tc, "expectedAverage"), &ev->expected,
				    "trailsightContext.expectedAverage")) ||
		    (rc = num_field(r, get(r, tc, "pValue"), &ev->p_value, "trailsightContext.pValue")))
			return rc;
	}
	return 0;
}

int ts_event_parse(const char *json, size_t len, ts_event *ev, char *err, size_t errlen)
{
	memset(ev, 0, sizeof *ev);
	ev->pool.cap = TS_EVENT_POOL_MAX;
	jsmntok_t *t = malloc(MAX_TOKENS * sizeof *t);
	if (!t)
		return TS_ENOMEM;
	jsmn_parser jp;
	jsmn_init(&jp);
	int n = jsmn_parse(&jp, json, len, t, MAX_TOKENS);
	rd r = {json, t, n, err, errlen};
	int rc;
	if (n == JSMN_ERROR_NOMEM)
		rc = fail(&r, TS_EFIELD, "more JSON tokens than an insight event has");
	else if (n < 0)
		rc = fail(&r, TS_EJSON, "not valid JSON");
	else
		rc = parse(&r, ev);
	free(t);
	if (rc)
		ts_event_clear(ev);
	return rc;
}

void ts_event_clear(ts_event *ev)
{
	if (ev)
		ts_buf_free(&ev->pool);
}
