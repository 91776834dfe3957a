/* sqs.h - an SQS client over libcurl for one queue: ReceiveMessage (long
 * polling), DeleteMessage(Batch) and ChangeMessageVisibility, in the query
 * protocol (form-encoded POST, XML answers read by s3xml.c).
 *
 * Requests go to the endpoint given (AWS_ENDPOINT_URL_SQS and the like,
 * chosen by the caller), else to the queue URL's scheme and host, and are
 * signed by libcurl (CURLOPT_AWS_SIGV4, "aws:amz:REGION:sqs"), the Region
 * being the one in the queue URL's host (sqs.REGION.amazonaws.com) or the
 * configuration's. A session token goes in x-amz-security-token; keys
 * that expire are fetched again 5 minutes before (ts_awscfg_refresh).
 * Throttling, server errors and connection failures are retried on the
 * schedule of backoff.h; other failures are described for a user (the
 * queue and the action named, SQS's code and message).
 *
 * A ts_sqs is used by one thread; _new/_free. It owns one curl handle and
 * copies of the configuration and the queue URL.
 */
#ifndef TS_SQS_H
#define TS_SQS_H

#include <stddef.h>
#include <stdint.h>

#include "awscfg.h"
#include "s3xml.h"

typedef struct ts_sqs ts_sqs;

typedef struct ts_sqs_stats {
	uint64_t receives;    /* ReceiveMessage requests answered */
	uint64_t messages;    /* messages received (again after a redelivery) */
	uint64_t deletes;     /* messages deleted */
	uint64_t extends;     /* ChangeMessageVisibility requests answered */
	uint64_t retries;     /* requests sent again after a failure */
	uint64_t refreshes;   /* keys fetched again before they expired */
} ts_sqs_stats;

typedef struct ts_sqs_opts {
	int retry_first_ms;  /* first wait before a retry (0: 200) */
	int retry_budget_ms; /* waiting budget per request (0: 60000) */
	/* the wall clock, Unix seconds (NULL: keys never refreshed) */
	int64_t (*now)(void *ctx);
	void *now_ctx;
} ts_sqs_opts;

/* A client for queue_url (http:// or https://), keys and Region from cfg
 * (its S3 endpoint is not used), requests sent to endpoint (NULL or "":
 * the queue URL's origin). NULL with err[cap] saying why: a queue URL
 * that is not a URL, out of memory, libcurl not starting. */
ts_sqs *ts_sqs_new(const ts_awscfg *cfg, const char *queue_url, const char *endpoint,
		   const ts_sqs_opts *opts, char *err, size_t cap);
void ts_sqs_free(ts_sqs *q);
const ts_sqs_stats *ts_sqs_get_stats(const ts_sqs *q);
/* The Region requests are signed for (static storage of q). */
const char *ts_sqs_region(const ts_sqs *q);

/* Up to max (1..10) messages, waiting up to wait_s seconds (0..20) for
 * one to come, each hidden from other receivers for visibility_s seconds
 * (0: the queue's own setting). *out is filled (free it with
 * ts_sqs_msgs_free, also after a failure; no message is not a failure).
 * 0; TS_EIO with err[cap] for a failure a retry did not mend; TS_EINVAL
 * for an answer that does not parse; TS_ENOMEM. */
int ts_sqs_receive(ts_sqs *q, int max, int wait_s, int visibility_s, ts_sqs_msgs *out,
		   char *err, size_t cap);

/* Delete the message received with receipt. 0 or TS_EIO with err[cap]. */
int ts_sqs_delete(ts_sqs *q, const char *receipt, char *err, size_t cap);

/* Delete the messages received with receipts[0..n) (n at most 10) in one
 * request; ok[i] set to 1 for each deleted. 0 when all were; TS_EIO with
 * err[cap] when the request failed or some were not (SQS's reason for the
 * first); TS_EINVAL for n over 10; TS_ENOMEM. */
int ts_sqs_delete_batch(ts_sqs *q, char *const *receipts, size_t n, uint8_t *ok, char *err,
			size_t cap);

/* Hide the message received with receipt for secs seconds from now. 0 or
 * TS_EIO with err[cap]. */
int ts_sqs_change_visibility(ts_sqs *q, const char *receipt, int secs, char *err, size_t cap);

#endif
