/* sqsmsg.c - the notification shapes of sqsmsg.h. Each object of the
 * text is walked with ts_jscan, which validates it whole and finds the
 * members asked for; arrays are stepped through on the validated text
 * (skip_value), each element walked again. SNS's Message is decoded once
 * into its own buffer and read as a body of its own (one level: an
 * envelope inside an envelope is not a shape). Caps: the body's size, the
 * tokens and depth of ts_jscan, objects per message, key length.
 */
#include <stdlib.h>

#include "jscan.h"
#include "sqsmsg.h"

#define TOKENS_MAX 200000u
#define DEPTH_MAX 32u
#define KEY_MAX 1024

void ts_sqsmsg_free(ts_sqsmsg *m)
{
	if (m)
		ts_s3_objs_free(&m->objs);
}

/* name lookups for ts_jscan, one per kind of object */
static int lookup(const char *const *names, int k, const char *s, size_t n)
{
	for (int i = 0; i < k; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return i;
	return -1;
}

enum { R_RECORDS, R_TYPE, R_MESSAGE, R_S3BUCKET, R_S3KEYS, R_DETAILTYPE, R_SOURCE, R_DETAIL, R_EVENT, R_N };
static const char *const root_names[R_N] = {"Records", "Type", "Message", "s3Bucket", "s3ObjectKey",
					    "detail-type", "source", "detail", "Event"};
static int root_slot(const char *s, size_t n) { return lookup(root_names, R_N, s, n); }

enum { D_BUCKET, D_OBJECT, D_N };
static const char *const detail_names[D_N] = {"bucket", "object"};
static int detail_slot(const char *s, size_t n) { return lookup(detail_names, D_N, s, n); }

enum { E_SOURCE, E_NAME, E_S3, E_N };
static const char *const rec_names[E_N] = {"eventSource", "eventName", "s3"};
static int rec_slot(const char *s, size_t n) { return lookup(rec_names, E_N, s, n); }

enum { B_NAME, B_N };
static const char *const bucket_names[B_N] = {"name"};
static int bucket_slot(const char *s, size_t n) { return lookup(bucket_names, B_N, s, n); }

enum { O_KEY, O_SIZE, O_ETAG, O_ETAG2, O_N };
static const char *const obj_names[O_N] = {"key", "size", "eTag", "etag"};
static int obj_slot(const char *s, size_t n) { return lookup(obj_names, O_N, s, n); }

typedef struct pctx {
	ts_sqsmsg *m;
	char *err;
	size_t cap;
} pctx;

static int bad(pctx *c, int rc, const char *what)
{
	snprintf(c->err, c->cap, "%s", what);
	return rc;
}

/* Walk the object s[tok] (or the whole text: tok NULL) for names. 0 or
 * TS_EINVAL. */
static int walk(const char *s, size_t n, const ts_jtok *tok, int (*root)(const char *, size_t),
		int nroot, int sub_of, int (*sub)(const char *, size_t), int nsub, ts_jtok *rv,
		ts_jtok *sv)
{
	size_t off = tok ? (size_t)tok->start : 0, len = tok ? (size_t)(tok->end - tok->start) : n;
	if (tok && tok->type != TS_JT_OBJECT)
		return TS_EINVAL;
	ts_jscan_want w = {root, nroot, sub_of, sub, nsub, TOKENS_MAX, DEPTH_MAX};
	unsigned flags;
	ts_jtok dummy;
	if (!ts_jscan(s + off, len, &w, rv, sv ? sv : &dummy, &flags))
		return TS_EINVAL;
	for (int i = 0; i < nroot; i++)
		if (rv[i].type != TS_JT_NONE)
			rv[i].start += (int)off, rv[i].end += (int)off;
	for (int i = 0; sv && i < nsub; i++)
		if (sv[i].type != TS_JT_NONE)
			sv[i].start += (int)off, sv[i].end += (int)off;
	return 0;
}

/* The string s[tok] decoded into out[cap]. 0, or -1 when not a string,
 * a bad escape or too long. */
static int str_of(const char *s, const ts_jtok *tok, char *out, size_t cap)
{
	if (tok->type != TS_JT_STRING || (size_t)(tok->end - tok->start) >= cap)
		return -1;
	long k = ts_json_unescape(s + tok->start, (size_t)(tok->end - tok->start), out);
	if (k < 0)
		return -1;
	out[k] = 0;
	return 0;
}

static int is_str(const char *s, const ts_jtok *tok, const char *want)
{
	size_t n = strlen(want);
	return tok->type == TS_JT_STRING && (size_t)(tok->end - tok->start) == n &&
	       memcmp(s + tok->start, want, n) == 0;
}

/* The end of the JSON value at p, on text ts_jscan validated. */
static const char *skip_value(const char *p, const char *e)
{
	if (*p == '"') {
		for (p++; p < e && *p != '"'; p += *p == '\\' ? 2 : 1)
			;
		return p < e ? p + 1 : e;
	}
	if (*p == '{' || *p == '[') {
		int d = 0;
		for (; p < e; p++) {
			if (*p == '"') {
				p = skip_value(p, e) - 1;
			} else if (*p == '{' || *p == '[') {
				d++;
			} else if ((*p == '}' || *p == ']') && --d == 0) {
				return p + 1;
			}
		}
		return e;
	}
	while (p < e && *p != ',' && *p != ']' && *p != '}' && *p != ' ' && *p != '\t' &&
	       *p != '\r' && *p != '\n')
		p++;
	return p;
}

static const char *blanks(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* "a%2Fb+c" to "a/b c" in place. 0 or -1 (a bad escape, or a NUL). */
static int url_decode(char *s)
{
	char *w = s;
	for (const char *p = s; *p; p++) {
		if (*p == '+') {
			*w++ = ' ';
		} else if (*p == '%') {
			int v = 0;
			for (int i = 1; i <= 2; i++) {
				char h = p[i];
				int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
					: h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
				if (d < 0)
					return -1;
				v = v * 16 + d;
			}
			if (!v)
				return -1;
			*w++ = (char)v;
			p += 2;
		} else {
			*w++ = *p;
		}
	}
	*w = 0;
	return 0;
}

/* One object of bucket into m. 0 or an error code. */
static int add(pctx *c, const char *bucket, const char *key, const char *etag, uint64_t size)
{
	ts_sqsmsg *m = c->m;
	if (!*bucket || !*key)
		return bad(c, TS_EINVAL, "an object without a bucket name or a key");
	if (!m->bucket[0])
		snprintf(m->bucket, sizeof m->bucket, "%s", bucket);
	else if (strcmp(m->bucket, bucket) != 0)
		return bad(c, TS_EINVAL, "objects of more than one bucket");
	if (m->objs.n >= TS_SQSMSG_OBJECTS_MAX)
		return bad(c, TS_ECAP, "more than 1000 objects");
	ts_s3_obj o = {.size = size};
	if (!(o.key = strdup(key)))
		return bad(c, TS_ENOMEM, "out of memory");
	snprintf(o.etag, sizeof o.etag, "%s", etag);
	return ts_s3_objs_push(&m->objs, &o) ? bad(c, TS_ENOMEM, "out of memory") : 0;
}

/* {"bucket":{"name":..},"object":{"key":..,"size":..,"eTag"|"etag":..}}
 * (the members of s3 or of detail, in bo[D_N]) into m. */
static int bucket_object(pctx *c, const char *s, size_t n, const ts_jtok *bo, int encoded)
{
	ts_jtok bv[B_N], ov[O_N];
	char bucket[256], key[KEY_MAX + 1], etag[80] = "";
	uint64_t size = 0;
	if (walk(s, n, &bo[D_BUCKET], bucket_slot, B_N, -1, NULL, 0, bv, NULL) ||
	    walk(s, n, &bo[D_OBJECT], obj_slot, O_N, -1, NULL, 0, ov, NULL))
		return bad(c, TS_EINVAL, "no bucket or object in the event");
	if (str_of(s, &bv[B_NAME], bucket, sizeof bucket))
		return bad(c, TS_EINVAL, "no bucket name (a string under 256 bytes)");
	if (str_of(s, &ov[O_KEY], key, sizeof key))
		return bad(c, ov[O_KEY].type == TS_JT_STRING ? TS_ECAP : TS_EINVAL,
			   "no object key (a string of at most 1024 bytes)");
	if (encoded && url_decode(key))
		return bad(c, TS_EINVAL, "an object key with a bad %-escape");
	const ts_jtok *et = ov[O_ETAG].type != TS_JT_NONE ? &ov[O_ETAG] : &ov[O_ETAG2];
	if (et->type != TS_JT_NONE && str_of(s, et, etag, sizeof etag))
		return bad(c, TS_EINVAL, "a bad eTag");
	if (ov[O_SIZE].type == TS_JT_PRIMITIVE) {
		for (int i = ov[O_SIZE].start; i < ov[O_SIZE].end; i++) {
			if (s[i] < '0' || s[i] > '9' || size > UINT64_MAX / 10 - 1)
				return bad(c, TS_EINVAL, "a bad object size");
			size = size * 10 + (uint64_t)(s[i] - '0');
		}
	}
	return add(c, bucket, key, etag, size);
}

/* Records of an S3 event notification. */
static int s3_records(pctx *c, const char *s, size_t n, const ts_jtok *arr)
{
	if (arr->type != TS_JT_ARRAY)
		return bad(c, TS_EINVAL, "Records is not an array");
	const char *e = s + arr->end - 1, *p = s + arr->start + 1;
	for (p = blanks(p, e); p < e && *p != ']'; p = blanks(p, e)) {
		const char *q = skip_value(p, e);
		ts_jtok el = {*p == '{' ? TS_JT_OBJECT : TS_JT_NONE, (int)(p - s), (int)(q - s)};
		ts_jtok rv[E_N], sv[D_N];
		char src[64], name[128];
		if (walk(s, n, &el, rec_slot, E_N, E_S3, detail_slot, D_N, rv, sv))
			return bad(c, TS_EINVAL, "a record that is not an object");
		if (str_of(s, &rv[E_SOURCE], src, sizeof src) || str_of(s, &rv[E_NAME], name, sizeof name))
			return bad(c, TS_EINVAL, "a record without eventSource or eventName");
		size_t sl = strlen(src);
		if (sl < 3 || strcmp(src + sl - 3, ":s3") != 0)
			return bad(c, TS_EINVAL, "a record whose eventSource is not S3's");
		const char *kind = strncmp(name, "s3:", 3) == 0 ? name + 3 : name; /* MinIO's */
		if (strncmp(kind, "ObjectCreated:", 14) != 0) {
			c->m->other++;
		} else {
			int rc = bucket_object(c, s, n, sv, 1);
			if (rc)
				return rc;
		}
		p = blanks(q, e);
		if (p < e && *p == ',')
			p++;
	}
	return 0;
}

/* CloudTrail's notification: s3Bucket and the s3ObjectKey list. */
static int cloudtrail(pctx *c, const char *s, const ts_jtok *rv)
{
	char bucket[256], key[KEY_MAX + 1];
	if (str_of(s, &rv[R_S3BUCKET], bucket, sizeof bucket))
		return bad(c, TS_EINVAL, "s3Bucket is not a bucket name");
	if (rv[R_S3KEYS].type != TS_JT_ARRAY)
		return bad(c, TS_EINVAL, "s3ObjectKey is not an array");
	const char *e = s + rv[R_S3KEYS].end - 1, *p = s + rv[R_S3KEYS].start + 1;
	for (p = blanks(p, e); p < e && *p != ']'; p = blanks(p, e)) {
		const char *q = skip_value(p, e);
		ts_jtok el = {*p == '"' ? TS_JT_STRING : TS_JT_NONE, (int)(p - s) + 1, (int)(q - s) - 1};
		if (str_of(s, &el, key, sizeof key))
			return bad(c, el.type == TS_JT_STRING ? TS_ECAP : TS_EINVAL,
				   "an s3ObjectKey item that is not a key (a string of at most 1024 bytes)");
		int rc = add(c, bucket, key, "", 0);
		if (rc)
			return rc;
		p = blanks(q, e);
		if (p < e && *p == ',')
			p++;
	}
	return 0;
}

static int parse(pctx *c, const char *s, size_t n, int in_sns)
{
	ts_jtok rv[R_N], dv[D_N];
	if (walk(s, n, NULL, root_slot, R_N, R_DETAIL, detail_slot, D_N, rv, dv))
		return bad(c, TS_EINVAL, in_sns ? "SNS's Message is not a JSON object"
						 : "not a JSON object (or one trailsight cannot read: "
						   "a key with escapes, a NUL, past the caps)");
	ts_sqsmsg *m = c->m;
	if (!in_sns && is_str(s, &rv[R_TYPE], "Notification") && rv[R_MESSAGE].type == TS_JT_STRING) {
		size_t k = (size_t)(rv[R_MESSAGE].end - rv[R_MESSAGE].start);
		char *inner = malloc(k + 1);
		if (!inner)
			return bad(c, TS_ENOMEM, "out of memory");
		long len = ts_json_unescape(s + rv[R_MESSAGE].start, k, inner);
		int rc = len < 0 ? bad(c, TS_EINVAL, "SNS's Message has a bad escape")
				 : parse(c, inner, (size_t)len, 1);
		free(inner);
		return rc;
	}
	if (rv[R_RECORDS].type != TS_JT_NONE) {
		m->shape = in_sns ? "S3 event notification (through SNS)" : "S3 event notification";
		return s3_records(c, s, n, &rv[R_RECORDS]);
	}
	if (rv[R_S3KEYS].type != TS_JT_NONE || rv[R_S3BUCKET].type != TS_JT_NONE) {
		m->shape = in_sns ? "CloudTrail notification (through SNS)" : "CloudTrail notification";
		return cloudtrail(c, s, rv);
	}
	if (is_str(s, &rv[R_DETAILTYPE], "Object Created") && is_str(s, &rv[R_SOURCE], "aws.s3")) {
		m->shape = "EventBridge Object Created";
		return bucket_object(c, s, n, dv, 0);
	}
	if (is_str(s, &rv[R_EVENT], "s3:TestEvent")) {
		m->shape = "S3 test event";
		return 0;
	}
	if (rv[R_DETAILTYPE].type == TS_JT_STRING)
		return bad(c, TS_EINVAL, "an EventBridge event other than aws.s3's Object Created");
	return bad(c, TS_EINVAL, "not an S3 event notification, a CloudTrail notification or an "
				 "EventBridge Object Created event");
}

int ts_sqsmsg_parse(const char *body, size_t n, ts_sqsmsg *m, char *err, size_t cap)
{
	memset(m, 0, sizeof *m);
	pctx c = {m, err, cap};
	if (n > TS_SQSMSG_BODY_MAX)
		return bad(&c, TS_ECAP, "a body over 1 MiB");
	if (n > INT32_MAX / 2)
		return bad(&c, TS_ECAP, "a body too long");
	return parse(&c, body, n, 0);
}
