/* s3.h - an S3 client over libcurl: ListObjectsV2 pages, and objects
 * fetched over a bounded pool of connections and handed to a consumer in
 * the order asked, as their bytes arrive.
 *
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4, "aws:amz:REGION:s3")
 * with the keys of a ts_awscfg; every request carries
 * x-amz-content-sha256 (the hash of the empty payload of a GET) and, with
 * a session token, x-amz-security-token. Throttling and server errors
 * (500, 502, 503, 504, connection failures) are retried on the one
 * schedule of backoff.h before anything of the answer was handed on.
 * A bucket in another Region (a redirect or AuthorizationHeaderMalformed
 * naming the bucket's Region) is followed once, with a warning: requests
 * are then signed for (and on AWS sent to) its Region. Failures are
 * described for a user (ts_s3_describe): access denied names the action
 * and the bucket or key, a wrong Region names the bucket's.
 *
 * A ts_s3 is used by one thread; _new/_free. It owns its curl handles and
 * copies of the configuration.
 */
#ifndef TS_S3_H
#define TS_S3_H

#include <stddef.h>
#include <stdint.h>

#include "awscfg.h"
#include "s3xml.h"

typedef struct ts_s3 ts_s3;

typedef struct ts_s3_stats {
	uint64_t list_requests;  /* ListObjectsV2 requests sent (retries too) */
	uint64_t get_requests;   /* GetObject requests sent (retries too) */
	uint64_t retries;        /* requests sent again after a failure */
	uint64_t throttled;      /* 503 SlowDown answers */
	uint64_t bytes;          /* object bytes handed on */
	uint64_t refreshes;      /* keys fetched again before they expired */
} ts_s3_stats;

typedef struct ts_s3_opts {
	int connections;   /* objects fetched at once (1..64; 0: 8) */
	int retry_first_ms; /* first wait before a retry (0: 200) */
	int retry_budget_ms; /* waiting budget per request (0: 60000) */
	size_t hold_max;   /* bytes an object waiting for its turn gathers before
			      its transfer pauses (0: 16 MiB) */
	/* the wall clock, Unix seconds (NULL: keys never refreshed): keys
	 * that expire (ts_awscfg.expires) are fetched again 5 minutes before */
	int64_t (*now)(void *ctx);
	void *now_ctx;
} ts_s3_opts;

/* A client for cfg (copied). NULL when out of memory or libcurl cannot be
 * initialised. opts may be NULL. */
ts_s3 *ts_s3_new(const ts_awscfg *cfg, const ts_s3_opts *opts);
void ts_s3_free(ts_s3 *s);
const ts_s3_stats *ts_s3_get_stats(const ts_s3 *s);

/* The URL of key in bucket (key NULL: the bucket itself, for a listing)
 * into out[cap], key bytes percent-encoded except unreserved ones and '/'.
 * 0 or TS_ECAP. */
int ts_s3_url(const ts_s3 *s, const char *bucket, const char *key, char *out, size_t cap);

/* What one ListObjectsV2 request asks: keys under prefix (not NULL; may
 * be ""), after start_after (NULL or "": from the first), rolled up at
 * delim (NULL: not), at most max_keys (0: S3's default, 1000), from the
 * continuation token of the previous page (NULL or "": the first page). */
typedef struct ts_s3_listreq {
	const char *prefix, *start_after, *delim, *token;
	int max_keys;
} ts_s3_listreq;

/* One ListObjectsV2 page of bucket. *pg is filled (free it with
 * ts_s3_page_free, also after a failure). 0; TS_EIO with err[cap]
 * describing the failure for a user (ts_s3_describe); TS_EINVAL or
 * TS_ECAP for a page that does not parse (err says why); TS_ENOMEM. */
int ts_s3_list_page(ts_s3 *s, const char *bucket, const ts_s3_listreq *q, ts_s3_page *pg,
		    char *err, size_t cap);

/* What the answer said of an object, at its first byte: its ETag (quotes
 * removed; "" when none), size (Content-Length; UINT64_MAX when not
 * given) and Last-Modified (Unix seconds; INT64_MIN when not given). */
typedef struct ts_s3_meta {
	const char *etag;
	uint64_t size;
	int64_t mtime;
} ts_s3_meta;

/* What receives fetched objects. For each object i in order: begin(i, m)
 * before its first byte (m borrowed for the call), data(i, ...) any number of times, then end(i)
 * once; end(i) of one object comes before begin of the next. begin is not
 * called for an object that failed before any byte was handed on. end's
 * rc is 0 (the whole object), or TS_EIO with detail saying what failed.
 * begin and data return 0 to go on, anything else to stop every transfer
 * (ts_s3_fetch then returns it). */
typedef struct ts_s3_consumer {
	int (*begin)(void *ctx, size_t i, const ts_s3_meta *m);
	int (*data)(void *ctx, size_t i, const void *p, size_t n);
	void (*end)(void *ctx, size_t i, int rc, const char *detail);
	void *ctx;
} ts_s3_consumer;

/* Fetch objs[0..n) of bucket, up to the client's connections at once,
 * each object after the first waiting in memory (at most hold_max bytes
 * each, then its transfer pauses) until the one before it is done. 0, a stop
 * code from the consumer, or TS_ENOMEM. A failed object is reported
 * through end and the rest go on. */
int ts_s3_fetch(ts_s3 *s, const char *bucket, const ts_s3_obj *objs, size_t n,
		const ts_s3_consumer *c);

/* A failure for a user, into out[cap]: status is the HTTP status (0: no
 * answer, then curl_err says why), body[0..len) the answer's body (an S3
 * error document or not), bucket_region the x-amz-bucket-region header
 * ("" when none), action the S3 action ("s3:ListBucket",
 * "s3:GetObject"), what the bucket or object URL ("s3://B/K"). */
void ts_s3_describe(char *out, size_t cap, long status, const char *curl_err, const char *body,
		    size_t len, const char *bucket_region, const char *action, const char *what,
		    const char *region);

#endif
