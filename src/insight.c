/* insight.c - one insight event as a line of JSON, and its content-derived IDs.
 *
 * Owns the JSON writer for ts_insight (key order and number format of
 * docs/DESIGN.md), JSON string escaping and version-5 UUIDs (SHA-1 is sha1.c).
 * It allocates only through the caller's ts_buf, which any failure puts
 * back to its length on entry. IDs, in the trailsight namespace
 * 1a5b755d-cee1-40e4-9a2f-a4dccc957e1d (a random UUID fixed once):
 *   sharedEventID = uuid5(ns, "trailsight/1" F(account) F(region)
 *     F(eventSource) F(eventName) F(insightType) F(errorCode, "" for call
 *     rate) F("Management"|"Data") F(start minute, decimal))
 *   eventID = uuid5(ns, <sharedEventID, 36 lowercase chars> "\nStart"|"\nEnd")
 * where F(x) = "\n" <byte length of x, decimal> ":" <bytes of x>. The length
 * prefix keeps names distinct for any field bytes, newlines included. Any
 * change changes every ID already emitted: version it ("trailsight/2").
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "insight.h"
#include "sha1.h"

/* --- UUIDs --- */

/* trailsight's namespace: a random (version 4) UUID fixed once. */
static const uint8_t ts_namespace[16] = {0x1a, 0x5b, 0x75, 0x5d, 0xce, 0xe1, 0x40, 0xe4,
					 0x9a, 0x2f, 0xa4, 0xdc, 0xcc, 0x95, 0x7e, 0x1d};

/* The UUID from a finished hash of namespace + name. */
static void uuid5_final(ts_sha1_ctx *s, uint8_t out[16])
{
	uint8_t dg[20];
	ts_sha1_final(s, dg);
	memcpy(out, dg, 16);
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x50); /* version 5 */
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* variant 10xx: RFC 4122 */
}

void ts_uuid5(const uint8_t ns[16], const void *name, size_t len, uint8_t out[16])
{
	ts_sha1_ctx s;
	ts_sha1_init(&s);
	ts_sha1_update(&s, ns, 16);
	ts_sha1_update(&s, name, len);
	uuid5_final(&s, out);
}

void ts_uuid_format(const uint8_t u[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;
	for (unsigned i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[u[i] >> 4];
		out[k++] = hex[u[i] & 15];
	}
	out[k] = '\0';
}

static const char *type_name(int type)
{
	return type == TS_CALL_RATE ? "ApiCallRateInsight"
	       : type == TS_ERROR_RATE ? "ApiErrorRateInsight"
				       : NULL;
}

static const char *state_name(int state)
{
	return state == TS_STATE_START ? "Start" : state == TS_STATE_END ? "End" : NULL;
}

/* Feed F(x) = "\n" <len> ":" <bytes> (see the top of the file). */
static void name_field(ts_sha1_ctx *s, const void *p, size_t n)
{
	char hdr[32];
	int k = snprintf(hdr, sizeof hdr, "\n%zu:", n);
	assert(k > 0 && (size_t)k < sizeof hdr);
	ts_sha1_update(s, hdr, (size_t)k);
	if (n)
		ts_sha1_update(s, p, n);
}

static void name_str(ts_sha1_ctx *s, ts_str x) { name_field(s, x.p, x.p ? x.n : 0); }
static void name_cstr(ts_sha1_ctx *s, const char *x) { name_field(s, x, x ? strlen(x) : 0); }

void ts_insight_ids(const ts_insight *ins, char shared[37], char event[37])
{
	static const char prefix[] = "trailsight/1";
	ts_sha1_ctx s;
	uint8_t u[16];
	char minute[32];
	int k = snprintf(minute, sizeof minute, "%" PRId64, ins->start_minute);
	assert(k > 0 && (size_t)k < sizeof minute);

	ts_sha1_init(&s);
	ts_sha1_update(&s, ts_namespace, 16);
	ts_sha1_update(&s, prefix, sizeof prefix - 1);
	name_str(&s, ins->account);
	name_str(&s, ins->region);
	name_str(&s, ins->event_source);
	name_str(&s, ins->event_name);
	name_cstr(&s, type_name(ins->type));
	name_str(&s, ins->type == TS_ERROR_RATE ? ins->error_code : TS_STR_NULL);
	name_cstr(&s, ins->data_events ? "Data" : "Management");
	name_field(&s, minute, (size_t)k);
	uuid5_final(&s, u);
	ts_uuid_format(u, shared);

	const char *st = state_name(ins->state);
	ts_sha1_init(&s);
	ts_sha1_update(&s, ts_namespace, 16);
	ts_sha1_update(&s, shared, 36);
	ts_sha1_update(&s, "\n", 1);
	if (st)
		ts_sha1_update(&s, st, strlen(st));
	uuid5_final(&s, u);
	ts_uuid_format(u, event);
}

/* --- JSON values --- */

/* Put the buffer back to length len after a failed append. */
static void buf_truncate(ts_buf *b, size_t len)
{
	b->len = len;
	if (b->p)
		b->p[len] = '\0';
}

/* The shortest decimal digits of a > 0 that read back as a: digits (no
 * trailing zeros, at least one) and the exponent of the first digit
 * (a = d.ddd x 10^exp). printf rounds correctly, so the first precision
 * that round-trips is the shortest; 17 digits always do. Where one digit
 * would do, Java takes the closest two-digit decimal instead (which only
 * differs for subnormals). Reading the text
 * back with strtod uses the same locale as printf wrote it in. */
static size_t shortest_digits(double a, char dig[24], int *exp10)
{
	char tmp[64];
	size_t nd = 0;
	for (int prec = 0; prec < 17; prec++) {
		int n = snprintf(tmp, sizeof tmp, "%.*e", prec, a);
		(void)n; /* "d.<16 digits>e-308" and a separator fit in 64 */
		assert(n > 0 && (size_t)n < sizeof tmp);
		if (strtod(tmp, NULL) == a || prec == 16) {
			/* Java: when one digit is enough, the closest of two
			 * digits (Double.MIN_VALUE is "4.9E-324", not "5.0E-324") */
			if (prec == 0)
				n = snprintf(tmp, sizeof tmp, "%.1e", a);
			break;
		}
	}
	/* d[sep]ddd e±x: the separator may be any bytes of the locale */
	const char *p = tmp;
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			dig[nd++] = *p;
	assert(*p == 'e' && nd > 0 && nd <= 17);
	*exp10 = (int)strtol(p + 1, NULL, 10);
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	dig[nd] = '\0';
	return nd;
}

size_t ts_java_double(double v, char out[TS_JAVA_DOUBLE_MAX])
{
	char dig[24];
	int e;
	size_t k = 0;
	assert(isfinite(v));
	if (v == 0) { /* -0 too: "0.0" */
		memcpy(out, "0.0", 4);
		return 3;
	}
	if (v < 0) {
		out[k++] = '-';
		v = -v;
	}
	size_t nd = shortest_digits(v, dig, &e);
	if (e >= -3 && e < 7) {
		/* 10^-3 <= v < 10^7: plain decimal, a digit after the point at least */
		if (e < 0) {
			out[k++] = '0';
			out[k++] = '.';
			for (int z = -1; z > e; z--)
				out[k++] = '0';
			memcpy(out + k, dig, nd);
			k += nd;
		} else {
			size_t ni = (size_t)e + 1;
			for (size_t i = 0; i < ni; i++)
				out[k++] = i < nd ? dig[i] : '0';
			out[k++] = '.';
			if (nd > ni) {
				memcpy(out + k, dig + ni, nd - ni);
				k += nd - ni;
			} else {
				out[k++] = '0';
			}
		}
	} else {
		/* computerized scientific notation: d.ddd E exponent, no '+' */
		out[k++] = dig[0];
		out[k++] = '.';
		if (nd > 1) {
			memcpy(out + k, dig + 1, nd - 1);
			k += nd - 1;
		} else {
			out[k++] = '0';
		}
		k += (size_t)snprintf(out + k, TS_JAVA_DOUBLE_MAX - k, "E%d", e);
	}
	assert(k < TS_JAVA_DOUBLE_MAX);
	out[k] = '\0';
	return k;
}

int ts_json_number(ts_buf *out, double v)
{
	/* %.10f of DBL_MAX: 309 integer digits, sign, point, 10 decimals */
	char tmp[400], res[TS_JAVA_DOUBLE_MAX];
	if (!isfinite(v))
		return TS_EINVAL;
	int n = snprintf(tmp, sizeof tmp, "%.10f", v);
	if (n < 12 || (size_t)n >= sizeof tmp)
		return TS_EINVAL;
	/* printf rounds the exact binary value to 10 decimals; strtod reads
	 * it back in the locale it was written in */
	double r = strtod(tmp, NULL);
	size_t k = ts_java_double(r, res);
	return ts_buf_add(out, res, k);
}

/* A probability rounded to 6 significant digits, clamped to [0, 1], in
 * Java's spelling ("1.2E-40"). NaN is TS_EINVAL. */
static int json_pvalue(ts_buf *out, double pv)
{
	char tmp[64], res[TS_JAVA_DOUBLE_MAX];
	if (isnan(pv))
		return TS_EINVAL;
	if (!(pv > 0)) /* also turns -0 into 0 */
		pv = 0;
	else if (pv > 1)
		pv = 1;
	int n = snprintf(tmp, sizeof tmp, "%.5e", pv);
	if (n <= 0 || (size_t)n >= sizeof tmp)
		return TS_EINVAL;
	size_t k = ts_java_double(strtod(tmp, NULL), res);
	return ts_buf_add(out, res, k);
}

/* Length of the UTF-8 sequence at p (n > 0 bytes left). *ok = 1 if it is a
 * well-formed character (Unicode Table 3-7: no overlongs, no surrogates,
 * at most U+10FFFF); else *ok = 0 and the length is that of the maximal
 * subpart, at least 1, which becomes one U+FFFD. */
static size_t utf8_seq(const unsigned char *p, size_t n, int *ok)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else {
		*ok = 0;
		return 1;
	}
	size_t i = 1;
	for (; i < len && i < n; i++) {
		unsigned b = p[i];
		if (i == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80)
			break;
	}
	*ok = i == len;
	return i;
}

int ts_json_string(ts_buf *out, ts_str s)
{
	static const char hex[] = "0123456789abcdef";
	if (!s.p && s.n)
		return TS_EINVAL;
	if (!s.p) /* no arithmetic on a null pointer */
		s.p = "";
	size_t start = out->len;
	const unsigned char *p = (const unsigned char *)s.p, *e = p + s.n, *run = p;
	int rc = ts_buf_add(out, "\"", 1);
	while (!rc && p < e) {
		unsigned c = *p;
		char esc[8];
		size_t elen = 2, skip = 1;
		int ok = 1;
		if (c >= 0x80)
			skip = utf8_seq(p, (size_t)(e - p), &ok);
		else if (c >= 0x20 && c != '"' && c != '\\')
			skip = 1;
		else
			ok = 0;
		if (ok) {
			p += skip;
			continue;
		}
		/* flush the run of bytes kept as they are, then the escape */
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			if (c >= 0x80) {
				memcpy(esc + 1, "ufffd", 5);
			} else {
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
			}
			elen = 6;
		}
		rc = ts_buf_add(out, run, (size_t)(p - run));
		if (!rc)
			rc = ts_buf_add(out, esc, elen);
		p += skip;
		run = p;
	}
	if (!rc)
		rc = ts_buf_add(out, run, (size_t)(p - run));
	if (!rc)
		rc = ts_buf_add(out, "\"", 1);
	if (rc)
		buf_truncate(out, start);
	return rc;
}

/* --- the event --- */

/* A writer with a sticky error: after the first failure every call is a
 * no-op, so the event reads top to bottom and is checked once. */
typedef struct jw {
	ts_buf *out;
	int rc;
} jw;

static void jw_raw(jw *w, const char *s)
{
	if (!w->rc)
		w->rc = ts_buf_puts(w->out, s);
}
static void jw_str(jw *w, ts_str s)
{
	if (!w->rc)
		w->rc = ts_json_string(w->out, s);
}
static void jw_num(jw *w, double v)
{
	if (!w->rc)
		w->rc = ts_json_number(w->out, v);
}
static void jw_int(jw *w, int64_t v)
{
	if (!w->rc)
		w->rc = ts_buf_printf(w->out, "%" PRId64, v);
}

static void jw_values(jw *w, const ts_attr_value *v, unsigned n)
{
	jw_raw(w, "[");
	for (unsigned i = 0; i < n; i++) {
		jw_raw(w, i ? ",{\"value\":" : "{\"value\":");
		jw_str(w, v[i].value);
		jw_raw(w, ",\"average\":");
		jw_num(w, v[i].average);
		jw_raw(w, "}");
	}
	jw_raw(w, "]");
}

/* trailsightContext.expectedFrom: the day class the expected rate was
 * learned from, the weekend ratio applied and the evidence behind it, and
 * whether the start minute is a regular job's. */
static void write_basis(jw *w, const ts_basis *b)
{
	static const char *const days[] = {NULL, "all", "weekday", "weekend", "weekendRatio"};
	if (b->day_class <= TS_DAY_NONE || b->day_class > TS_DAY_WEEKEND_RATIO)
		return;
	jw_raw(w, ",\"expectedFrom\":{\"days\":\"");
	jw_raw(w, days[b->day_class]);
	jw_raw(w, "\",\"weekendDays\":");
	jw_int(w, b->weekend_days);
	if (b->day_class == TS_DAY_WEEKEND_RATIO) {
		jw_raw(w, ",\"weekendRatio\":");
		jw_num(w, b->ratio_e4 / 1e4);
		jw_raw(w, ",\"weekendRatioSeen\":");
		jw_num(w, b->ratio_raw_e4 / 1e4);
		jw_raw(w, ",\"dayLevelSd\":");
		jw_num(w, b->ratio_sd_e3 / 1e3);
	}
	jw_raw(w, b->regular ? ",\"regularJob\":true" : ",\"regularJob\":false");
	jw_raw(w, b->job_stop ? ",\"jobStopped\":true}" : "}");
}

/* TS_EINVAL for what the writer cannot express or no event can mean. */
static int check_insight(const ts_insight *ins)
{
	int64_t end_of_9999 = ts_days_from_civil(10000, 1, 1) * TS_MIN_PER_DAY;
	if (!state_name(ins->state) || !type_name(ins->type))
		return TS_EINVAL;
	if (ins->start_minute < 0 || ins->start_minute >= end_of_9999 ||
	    ins->insight_duration < 0 || ins->baseline_duration < 0)
		return TS_EINVAL;
	if (ins->state == TS_STATE_END &&
	    ins->insight_duration >= end_of_9999 - ins->start_minute)
		return TS_EINVAL;
	if (ins->n_attrs > TS_ARRAY_LEN(ins->attrs))
		return TS_EINVAL;
	for (unsigned i = 0; i < ins->n_attrs; i++) {
		const ts_attr_list *a = &ins->attrs[i];
		if (!a->attribute || a->n_insight > TS_ATTR_TOP || a->n_baseline > TS_ATTR_TOP)
			return TS_EINVAL;
	}
	return 0;
}

int ts_insight_write(const ts_insight *ins, ts_buf *out)
{
	char shared[37], event[37], when[21];
	size_t start = out->len;
	jw w = {out, check_insight(ins)};
	if (w.rc)
		return w.rc;
	ts_insight_ids(ins, shared, event);
	ts_format_minute(ins->start_minute +
				 (ins->state == TS_STATE_END ? ins->insight_duration : 0),
			 when);

	jw_raw(&w, "{\"eventVersion\":\"1.09\",\"eventTime\":\"");
	jw_raw(&w, when);
	jw_raw(&w, "\",\"awsRegion\":");
	jw_str(&w, ins->region);
	jw_raw(&w, ",\"eventID\":\"");
	jw_raw(&w, event);
	jw_raw(&w, "\",\"eventType\":\"AwsCloudTrailInsight\",\"recipientAccountId\":");
	jw_str(&w, ins->account);
	jw_raw(&w, ",\"sharedEventID\":\"");
	jw_raw(&w, shared);
	jw_raw(&w, "\",\"insightDetails\":{\"state\":\"");
	jw_raw(&w, state_name(ins->state));
	jw_raw(&w, "\",\"eventSource\":");
	jw_str(&w, ins->event_source);
	jw_raw(&w, ",\"eventName\":");
	jw_str(&w, ins->event_name);
	jw_raw(&w, ",\"insightType\":\"");
	jw_raw(&w, type_name(ins->type));
	jw_raw(&w, "\"");
	if (ins->type == TS_ERROR_RATE) {
		jw_raw(&w, ",\"errorCode\":");
		jw_str(&w, ins->error_code);
	}
	jw_raw(&w, ",\"sourceEventCategory\":\"");
	jw_raw(&w, ins->data_events ? "Data" : "Management");
	jw_raw(&w, "\",\"insightContext\":{\"statistics\":{\"baseline\":{\"average\":");
	jw_num(&w, ins->baseline_average);
	jw_raw(&w, "},\"insight\":{\"average\":");
	jw_num(&w, ins->insight_average);
	jw_raw(&w, "},\"insightDuration\":");
	jw_int(&w, ins->insight_duration);
	jw_raw(&w, ",\"baselineDuration\":");
	jw_int(&w, ins->baseline_duration);
	jw_raw(&w, "},\"attributions\":[");
	for (unsigned i = 0; i < ins->n_attrs; i++) {
		const ts_attr_list *a = &ins->attrs[i];
		jw_raw(&w, i ? ",{\"attribute\":" : "{\"attribute\":");
		jw_str(&w, ts_str_c(a->attribute));
		jw_raw(&w, ",\"insight\":");
		jw_values(&w, a->insight, a->n_insight);
		jw_raw(&w, ",\"baseline\":");
		jw_values(&w, a->baseline, a->n_baseline);
		jw_raw(&w, "}");
	}
	jw_raw(&w, "]}");
	if (ins->model) {
		jw_raw(&w, ",\"trailsightContext\":{\"model\":");
		jw_str(&w, ts_str_c(ins->model));
		jw_raw(&w, ",\"expectedAverage\":");
		jw_num(&w, ins->expected);
		jw_raw(&w, ",\"pValue\":");
		if (!w.rc)
			w.rc = json_pvalue(out, ins->p_value);
		write_basis(&w, &ins->basis);
		if (ins->suppressed_by) {
			jw_raw(&w, ",\"suppressedBy\":");
			jw_str(&w, ts_str_c(ins->suppressed_by));
		}
		if (ins->state == TS_STATE_START && ins->decision_time > 0) {
			char t[21];
			ts_format_time(ins->decision_time, t);
			jw_raw(&w, ",\"decisionEventTime\":\"");
			jw_raw(&w, t);
			jw_raw(&w, "\"");
			if (ins->decision_wall > 0) {
				ts_format_time(ins->decision_wall, t);
				jw_raw(&w, ",\"decisionWallTime\":\"");
				jw_raw(&w, t);
				jw_raw(&w, "\"");
			}
			if (ins->early)
				jw_raw(&w, ",\"early\":true");
		}
		jw_raw(&w, "}");
	}
	jw_raw(&w, "},\"eventCategory\":\"Insight\"}");
	if (w.rc)
		buf_truncate(out, start);
	return w.rc;
}
