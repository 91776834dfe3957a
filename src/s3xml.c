/* s3xml.c - ListObjectsV2 pages and S3 error bodies, SQS's
 * ReceiveMessage answers and error bodies, and STS's web identity
 * credentials, through expat. One
 * parser per document; the element path is a fixed stack of names (8
 * deep) and the text of the innermost element is gathered in a capped
 * buffer, then read at its end tag. A document type declaration stops the
 * parse: S3 never sends one, and entities are where XML's bombs live.
 * Nothing is kept between calls; a page owns its keys until freed.
 */
#include <expat.h>
#include <stdlib.h>

#include "s3xml.h"

#define DEPTH_MAX 8
#define NAME_MAX_LEN 32
#define VALUE_MAX 1024
#define ITEMS_MAX 10000
#define BODY_MAX ((size_t)1 << 20) /* an SQS message body (SQS: 256 KiB) */
#define SQS_MSGS_MAX 10
#define STS_VALUE_MAX 8192

void ts_s3_objs_free(ts_s3_objs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].key);
	free(l->v);
	memset(l, 0, sizeof *l);
}

int ts_s3_objs_push(ts_s3_objs *l, ts_s3_obj *o)
{
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 64;
		ts_s3_obj *v = realloc(l->v, na * sizeof *v);
		if (!v) {
			free(o->key);
			o->key = NULL;
			return TS_ENOMEM;
		}
		l->v = v;
		l->alloc = na;
	}
	l->v[l->n++] = *o;
	o->key = NULL;
	return 0;
}

void ts_s3_page_free(ts_s3_page *pg)
{
	ts_s3_objs_free(&pg->objs);
	ts_pathlist_free(&pg->prefixes);
}

/* The parse of one document. */
typedef struct xctx {
	XML_Parser p;
	char path[DEPTH_MAX][NAME_MAX_LEN];
	int depth;        /* elements open (may exceed DEPTH_MAX: then an error) */
	ts_buf text;      /* of the innermost element */
	int rc;           /* first failure, sticky */
	char *err;
	size_t cap;
	/* a page */
	ts_s3_page *pg;
	ts_s3_obj cur;    /* the Contents being read */
	int has_key, has_size, has_time;
	int saw_token;
	/* an error body */
	ts_s3_err *e;
	/* SQS: ReceiveMessageResponse (msgs), or ErrorResponse (e, sqs_err) */
	ts_sqs_msgs *msgs;
	ts_sqs_msg m;     /* the Message being read */
	char attr_name[64];
	int sqs_err;
	/* STS: AssumeRoleWithWebIdentityResponse */
	ts_sts_creds *sts;
	/* SQS: DeleteMessageBatchResponse (ok[nok], e: the first failure) */
	uint8_t *ok;
	size_t nok;
	int batch, in_err_entry, saw_err;
	char entry_id[16];
} xctx;

void ts_sqs_msgs_free(ts_sqs_msgs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].receipt);
		free(l->v[i].body);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static void msg_clear(ts_sqs_msg *m)
{
	free(m->id);
	free(m->receipt);
	free(m->body);
	memset(m, 0, sizeof *m);
}

static void fail(xctx *x, int rc, const char *what)
{
	if (x->rc)
		return;
	x->rc = rc;
	if (x->err)
		snprintf(x->err, x->cap, "%s at line %lu", what,
			 (unsigned long)XML_GetCurrentLineNumber(x->p));
	XML_StopParser(x->p, XML_FALSE);
}

static int at(const xctx *x, int d, const char *name)
{
	return x->depth == d + 1 && strcmp(x->path[d], name) == 0;
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sys, const XML_Char *pub,
		       int internal)
{
	(void)name, (void)sys, (void)pub, (void)internal;
	fail(ud, TS_EINVAL, "a document type declaration");
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attr)
{
	xctx *x = ud;
	(void)attr;
	if (x->depth >= DEPTH_MAX) {
		fail(x, TS_ECAP, "elements nested too deep");
		return;
	}
	snprintf(x->path[x->depth], NAME_MAX_LEN, "%s", strlen(name) < NAME_MAX_LEN ? name : "?");
	x->depth++;
	ts_buf_reset(&x->text);
	if (x->pg && x->depth == 1 && strcmp(name, "ListBucketResult") != 0)
		fail(x, TS_EINVAL, "not a ListBucketResult");
	if (x->e && !x->batch && x->depth == 1 &&
	    strcmp(name, x->sqs_err ? "ErrorResponse" : "Error") != 0)
		fail(x, TS_EINVAL, x->sqs_err ? "not an ErrorResponse" : "not an Error");
	if (x->batch && x->depth == 1 && strcmp(name, "DeleteMessageBatchResponse") != 0)
		fail(x, TS_EINVAL, "not a DeleteMessageBatchResponse");
	if (x->batch && x->depth == 3)
		x->entry_id[0] = 0;
	if (x->sts && x->depth == 1 && strcmp(name, "AssumeRoleWithWebIdentityResponse") != 0)
		fail(x, TS_EINVAL, "not an AssumeRoleWithWebIdentityResponse");
	if (x->msgs && x->depth == 1 && strcmp(name, "ReceiveMessageResponse") != 0)
		fail(x, TS_EINVAL, "not a ReceiveMessageResponse");
	if (x->msgs && x->depth == 3 && strcmp(x->path[1], "ReceiveMessageResult") == 0 &&
	    strcmp(name, "Message") == 0)
		msg_clear(&x->m);
	if (x->pg && at(x, 1, "Contents")) {
		free(x->cur.key);
		memset(&x->cur, 0, sizeof x->cur);
		x->has_key = x->has_size = x->has_time = 0;
	}
}

static void on_text(void *ud, const XML_Char *s, int len)
{
	xctx *x = ud;
	int rc = ts_buf_add(&x->text, s, (size_t)len);
	if (rc)
		fail(x, rc, rc == TS_ECAP ? "a value longer than its cap" : "out of memory");
}

static int parse_u64(const char *s, uint64_t *out)
{
	if (!*s || strlen(s) > 19)
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static void page_end(xctx *x)
{
	const char *t = x->text.p ? x->text.p : "";
	ts_s3_page *pg = x->pg;
	if (at(x, 1, "IsTruncated")) {
		pg->truncated = strcmp(t, "true") == 0;
	} else if (at(x, 1, "NextContinuationToken")) {
		if (strlen(t) >= sizeof pg->next_token) {
			fail(x, TS_ECAP, "a continuation token too long");
			return;
		}
		snprintf(pg->next_token, sizeof pg->next_token, "%s", t);
		x->saw_token = 1;
	} else if (x->depth == 3 && strcmp(x->path[1], "Contents") == 0) {
		const char *f = x->path[2];
		if (strcmp(f, "Key") == 0) {
			free(x->cur.key);
			if (!(x->cur.key = strdup(t))) {
				fail(x, TS_ENOMEM, "out of memory");
				return;
			}
			x->has_key = 1;
		} else if (strcmp(f, "ETag") == 0) {
			size_t n = strlen(t);
			if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
				t++;
				n -= 2;
			}
			if (n >= sizeof x->cur.etag) {
				fail(x, TS_ECAP, "an ETag too long");
				return;
			}
			memcpy(x->cur.etag, t, n);
			x->cur.etag[n] = 0;
		} else if (strcmp(f, "Size") == 0) {
			if (parse_u64(t, &x->cur.size))
				fail(x, TS_EINVAL, "a bad Size");
			x->has_size = 1;
		} else if (strcmp(f, "LastModified") == 0) {
			if (ts_parse_time(t, strlen(t), &x->cur.mtime))
				fail(x, TS_EINVAL, "a bad LastModified");
			x->has_time = 1;
		}
	} else if (at(x, 1, "Contents")) {
		if (!x->has_key || !x->has_size) {
			fail(x, TS_EINVAL, "a Contents without Key or Size");
			return;
		}
		if (pg->objs.n >= ITEMS_MAX) {
			fail(x, TS_ECAP, "more than 10000 objects in a page");
			return;
		}
		if (ts_s3_objs_push(&pg->objs, &x->cur))
			fail(x, TS_ENOMEM, "out of memory");
	} else if (x->depth == 3 && strcmp(x->path[1], "CommonPrefixes") == 0 &&
		   strcmp(x->path[2], "Prefix") == 0) {
		if (pg->prefixes.n >= ITEMS_MAX) {
			fail(x, TS_ECAP, "more than 10000 prefixes in a page");
			return;
		}
		if (ts_pathlist_push(&pg->prefixes, t))
			fail(x, TS_ENOMEM, "out of memory");
	}
}

/* a copy of the text being ended into *dst (freed first) */
static void take_text(xctx *x, char **dst)
{
	free(*dst);
	*dst = malloc(x->text.len + 1);
	if (!*dst) {
		fail(x, TS_ENOMEM, "out of memory");
		return;
	}
	if (x->text.len)
		memcpy(*dst, x->text.p, x->text.len);
	(*dst)[x->text.len] = 0;
}

static void receive_end(xctx *x)
{
	const char *t = x->text.p ? x->text.p : "";
	if (x->depth < 3 || strcmp(x->path[1], "ReceiveMessageResult") != 0 ||
	    strcmp(x->path[2], "Message") != 0)
		return;
	ts_sqs_msg *m = &x->m;
	if (x->depth == 4) {
		const char *f = x->path[3];
		if (strcmp(f, "MessageId") == 0) {
			take_text(x, &m->id);
		} else if (strcmp(f, "ReceiptHandle") == 0) {
			take_text(x, &m->receipt);
		} else if (strcmp(f, "Body") == 0) {
			take_text(x, &m->body);
			m->body_len = x->text.len;
		}
	} else if (x->depth == 5 && strcmp(x->path[3], "Attribute") == 0) {
		if (strcmp(x->path[4], "Name") == 0)
			snprintf(x->attr_name, sizeof x->attr_name, "%s", t);
		else if (strcmp(x->path[4], "Value") == 0 &&
			 strcmp(x->attr_name, "ApproximateReceiveCount") == 0) {
			uint64_t v;
			m->receives = parse_u64(t, &v) || v > UINT32_MAX ? 0 : (unsigned)v;
		}
	} else if (x->depth == 3) { /* the Message ends */
		if (!m->id || !m->receipt || !m->body) {
			fail(x, TS_EINVAL, "a Message without MessageId, ReceiptHandle or Body");
			return;
		}
		if (x->msgs->n >= SQS_MSGS_MAX) {
			fail(x, TS_ECAP, "more than 10 messages in an answer");
			return;
		}
		if (x->msgs->n == x->msgs->alloc) {
			ts_sqs_msg *v = realloc(x->msgs->v, SQS_MSGS_MAX * sizeof *v);
			if (!v) {
				fail(x, TS_ENOMEM, "out of memory");
				return;
			}
			x->msgs->v = v;
			x->msgs->alloc = SQS_MSGS_MAX;
		}
		x->msgs->v[x->msgs->n++] = *m;
		memset(m, 0, sizeof *m);
	}
}

/* DeleteMessageBatchResult/(DeleteMessageBatchResultEntry|
 * BatchResultErrorEntry)/(Id|Code|Message) */
static void batch_end(xctx *x)
{
	const char *t = x->text.p ? x->text.p : "";
	if (x->depth < 3 || strcmp(x->path[1], "DeleteMessageBatchResult") != 0)
		return;
	int okent = strcmp(x->path[2], "DeleteMessageBatchResultEntry") == 0;
	int errent = strcmp(x->path[2], "BatchResultErrorEntry") == 0;
	if (x->depth == 4 && (okent || errent)) {
		if (strcmp(x->path[3], "Id") == 0)
			snprintf(x->entry_id, sizeof x->entry_id, "%s", t);
		else if (errent && !x->saw_err && strcmp(x->path[3], "Code") == 0)
			snprintf(x->e->code, sizeof x->e->code, "%s", t);
		else if (errent && !x->saw_err && strcmp(x->path[3], "Message") == 0)
			snprintf(x->e->message, sizeof x->e->message, "%s", t);
	} else if (x->depth == 3 && (okent || errent)) {
		uint64_t id;
		if (parse_u64(x->entry_id, &id) || id >= x->nok) {
			fail(x, TS_EINVAL, "an entry Id that was not asked for");
			return;
		}
		if (okent)
			x->ok[id] = 1;
		else
			x->saw_err = 1;
	}
}

/* AssumeRoleWithWebIdentityResult/Credentials/FIELD */
static void sts_end(xctx *x)
{
	const char *t = x->text.p ? x->text.p : "";
	if (x->depth != 4 || strcmp(x->path[1], "AssumeRoleWithWebIdentityResult") != 0 ||
	    strcmp(x->path[2], "Credentials") != 0)
		return;
	const char *f = x->path[3];
	char *dst = NULL;
	size_t cap = 0;
	if (strcmp(f, "AccessKeyId") == 0)
		dst = x->sts->key_id, cap = sizeof x->sts->key_id;
	else if (strcmp(f, "SecretAccessKey") == 0)
		dst = x->sts->secret, cap = sizeof x->sts->secret;
	else if (strcmp(f, "SessionToken") == 0)
		dst = x->sts->token, cap = sizeof x->sts->token;
	else if (strcmp(f, "Expiration") == 0)
		dst = x->sts->expiration, cap = sizeof x->sts->expiration;
	if (!dst)
		return;
	if (strlen(t) >= cap) {
		fail(x, TS_ECAP, "a credential longer than its field");
		return;
	}
	snprintf(dst, cap, "%s", t);
}

/* S3: Error/FIELD; SQS: ErrorResponse/Error/FIELD */
static void err_end(xctx *x)
{
	const char *t = x->text.p ? x->text.p : "";
	ts_s3_err *e = x->e;
	const char *f;
	if (x->sqs_err && x->depth == 3 && strcmp(x->path[1], "Error") == 0)
		f = x->path[2];
	else if (!x->sqs_err && x->depth == 2)
		f = x->path[1];
	else
		return;
	if (strcmp(f, "Code") == 0)
		snprintf(e->code, sizeof e->code, "%s", t);
	else if (strcmp(f, "Message") == 0)
		snprintf(e->message, sizeof e->message, "%s", t);
	else if (strcmp(f, "Region") == 0)
		snprintf(e->region, sizeof e->region, "%s", t);
	else if (strcmp(f, "Bucket") == 0 || strcmp(f, "BucketName") == 0)
		snprintf(e->bucket, sizeof e->bucket, "%s", t);
	else if (strcmp(f, "Endpoint") == 0)
		snprintf(e->endpoint, sizeof e->endpoint, "%s", t);
}

static void on_end(void *ud, const XML_Char *name)
{
	xctx *x = ud;
	(void)name;
	if (x->rc)
		return;
	if (x->pg)
		page_end(x);
	else if (x->msgs)
		receive_end(x);
	else if (x->sts)
		sts_end(x);
	else if (x->batch)
		batch_end(x);
	else
		err_end(x);
	x->depth--;
	ts_buf_reset(&x->text);
}

/* Parse xml[0..n) with x's handlers. 0 or x->rc (set on failure). */
static int run(xctx *x, const char *xml, size_t n)
{
	x->text.cap = x->msgs ? BODY_MAX : x->sts ? STS_VALUE_MAX : VALUE_MAX;
	x->p = XML_ParserCreate("UTF-8");
	if (!x->p)
		return TS_ENOMEM;
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	if (n > INT32_MAX)
		fail(x, TS_ECAP, "a document over 2 GiB");
	else if (XML_Parse(x->p, xml, (int)n, 1) != XML_STATUS_OK && !x->rc) {
		enum XML_Error c = XML_GetErrorCode(x->p);
		char what[160];
		snprintf(what, sizeof what, "XML: %s", XML_ErrorString(c));
		fail(x, c == XML_ERROR_NO_MEMORY ? TS_ENOMEM : TS_EINVAL, what);
	}
	XML_ParserFree(x->p);
	x->p = NULL;
	ts_buf_free(&x->text);
	return x->rc;
}

int ts_s3xml_page(const char *xml, size_t n, ts_s3_page *pg, char *err, size_t cap)
{
	memset(pg, 0, sizeof *pg);
	xctx x;
	memset(&x, 0, sizeof x);
	x.pg = pg;
	x.err = err;
	x.cap = cap;
	int rc = run(&x, xml, n);
	free(x.cur.key);
	if (!rc && pg->truncated && !x.saw_token) {
		snprintf(err, cap, "a truncated page without NextContinuationToken");
		rc = TS_EINVAL;
	}
	return rc;
}

int ts_s3xml_error(const char *xml, size_t n, ts_s3_err *e)
{
	memset(e, 0, sizeof *e);
	xctx x;
	memset(&x, 0, sizeof x);
	x.e = e;
	int rc = run(&x, xml, n);
	return rc ? TS_EINVAL : 0;
}

int ts_s3xml_sqs_receive(const char *xml, size_t n, ts_sqs_msgs *out, char *err, size_t cap)
{
	memset(out, 0, sizeof *out);
	xctx x;
	memset(&x, 0, sizeof x);
	x.msgs = out;
	x.err = err;
	x.cap = cap;
	int rc = run(&x, xml, n);
	msg_clear(&x.m);
	return rc;
}

int ts_s3xml_sqs_error(const char *xml, size_t n, ts_s3_err *e)
{
	memset(e, 0, sizeof *e);
	xctx x;
	memset(&x, 0, sizeof x);
	x.e = e;
	x.sqs_err = 1;
	int rc = run(&x, xml, n);
	return rc ? TS_EINVAL : 0;
}

int ts_s3xml_sts(const char *xml, size_t n, ts_sts_creds *c, char *err, size_t cap)
{
	memset(c, 0, sizeof *c);
	xctx x;
	memset(&x, 0, sizeof x);
	x.sts = c;
	x.err = err;
	x.cap = cap;
	int rc = run(&x, xml, n);
	if (!rc && (!c->key_id[0] || !c->secret[0] || !c->token[0])) {
		snprintf(err, cap, "no AccessKeyId, SecretAccessKey and SessionToken in Credentials");
		rc = TS_EINVAL;
	}
	return rc;
}

int ts_s3xml_sqs_batch(const char *xml, size_t n, uint8_t *ok, size_t nok, ts_s3_err *e)
{
	memset(ok, 0, nok);
	memset(e, 0, sizeof *e);
	xctx x;
	memset(&x, 0, sizeof x);
	x.batch = 1;
	x.ok = ok;
	x.nok = nok;
	x.e = e;
	int rc = run(&x, xml, n);
	return rc ? TS_EINVAL : 0;
}
