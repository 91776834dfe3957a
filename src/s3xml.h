/* s3xml.h - the XML S3 answers with, read with expat: a ListObjectsV2 page
 * (ListBucketResult) and an error body (<Error>). Bytes in, plain values
 * out; no I/O, so tests and fuzzers feed byte strings.
 *
 * Caps: a key or prefix of 1024 bytes (S3's own limit), any other value of
 * 1024 bytes, 10000 objects and 10000 prefixes per page (S3 sends at most
 * 1000), elements nested 8 deep. Past a cap, or on XML that does not parse,
 * the page is refused as a whole.
 */
#ifndef TS_S3XML_H
#define TS_S3XML_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* One object of a listing. key owned by the ts_s3_page (or the list it was
 * moved to). etag without its quotes. */
typedef struct ts_s3_obj {
	char *key;
	char etag[80];
	uint64_t size;
	int64_t mtime; /* LastModified, Unix seconds */
} ts_s3_obj;

/* A growing list of objects, in the order added; owns the keys. {0} is
 * empty; ts_s3_objs_free frees it and leaves it empty. */
typedef struct ts_s3_objs {
	ts_s3_obj *v;
	size_t n, alloc;
} ts_s3_objs;

void ts_s3_objs_free(ts_s3_objs *l);
/* Append o, taking its key (o->key is owned by l afterwards, even when
 * this fails: then it is freed). 0 or TS_ENOMEM. */
int ts_s3_objs_push(ts_s3_objs *l, ts_s3_obj *o);

/* One ListObjectsV2 page. */
typedef struct ts_s3_page {
	ts_s3_objs objs;        /* Contents */
	ts_pathlist prefixes;   /* CommonPrefixes/Prefix */
	int truncated;          /* IsTruncated true */
	char next_token[1100];  /* NextContinuationToken ("" when none) */
} ts_s3_page;

/* Read a ListBucketResult of n bytes into *pg (zeroed first; free it with
 * ts_s3_page_free, also after a failure). 0; TS_EINVAL for XML that does not parse or is not a ListBucketResult, a Contents
 * without Key, a bad Size or LastModified, or truncated without a token;
 * TS_ECAP past a cap; TS_ENOMEM. err[cap] says what, at which line. */
int ts_s3xml_page(const char *xml, size_t n, ts_s3_page *pg, char *err, size_t cap);
void ts_s3_page_free(ts_s3_page *pg);

/* An S3 error body: <Error><Code>..</Code><Message>..</Message>
 * <Region>..</Region><Bucket>..</Bucket><Endpoint>..</Endpoint></Error>. */
typedef struct ts_s3_err {
	char code[64];
	char message[512];
	char region[64];   /* the bucket's Region, when S3 says it */
	char bucket[256];
	char endpoint[256];
} ts_s3_err;

/* Read an error body (every field "" when absent or cut at its size).
 * 0, or TS_EINVAL when it is not XML with an Error root (e.g. an empty
 * body, or a proxy's HTML page). */
int ts_s3xml_error(const char *xml, size_t n, ts_s3_err *e);

/* SQS's answers (query protocol). One message of a ReceiveMessage
 * answer: its MessageId, ReceiptHandle and Body (entities decoded; NUL
 * terminated, body_len bytes), and the ApproximateReceiveCount attribute
 * (0 when not given). */
typedef struct ts_sqs_msg {
	char *id, *receipt, *body;
	size_t body_len;
	unsigned receives;
} ts_sqs_msg;

/* The messages of one answer, in its order; owns their strings. {0} is
 * empty; ts_sqs_msgs_free frees it and leaves it empty. */
typedef struct ts_sqs_msgs {
	ts_sqs_msg *v;
	size_t n, alloc;
} ts_sqs_msgs;

void ts_sqs_msgs_free(ts_sqs_msgs *l);

/* Read a ReceiveMessageResponse of n bytes into *out (zeroed first; free
 * it with ts_sqs_msgs_free, also after a failure). 0; TS_EINVAL for XML
 * that does not parse or is not a ReceiveMessageResponse, or a Message
 * without MessageId, ReceiptHandle or Body; TS_ECAP for more than 10
 * messages, a body over 1 MiB or elements nested too deep; TS_ENOMEM.
 * err[cap] says what, at which line. */
int ts_s3xml_sqs_receive(const char *xml, size_t n, ts_sqs_msgs *out, char *err, size_t cap);

/* An SQS error body, <ErrorResponse><Error><Code>..</Code><Message>..
 * </Message></Error></ErrorResponse>, into e (code and message). 0 or
 * TS_EINVAL when it is not one. */
int ts_s3xml_sqs_error(const char *xml, size_t n, ts_s3_err *e);

/* The Credentials of an STS AssumeRoleWithWebIdentity answer. */
typedef struct ts_sts_creds {
	char key_id[128], secret[256], token[4096], expiration[64];
} ts_sts_creds;

/* Read an AssumeRoleWithWebIdentityResponse into c (zeroed first). 0;
 * TS_EINVAL for XML that does not parse, is not that answer, or lacks
 * AccessKeyId, SecretAccessKey or SessionToken; TS_ECAP for a value
 * longer than its field. err[cap] says what. */
int ts_s3xml_sts(const char *xml, size_t n, ts_sts_creds *c, char *err, size_t cap);

/* A DeleteMessageBatchResponse for entries with Ids "0".."n-1": ok[i]
 * set to 1 for each entry deleted (else 0), e holding the first failed
 * entry's Code and Message ("" when none). 0, or TS_EINVAL when it is not
 * such an answer. */
int ts_s3xml_sqs_batch(const char *xml, size_t n, uint8_t *ok, size_t nok, ts_s3_err *e);

#endif
