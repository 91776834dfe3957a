/* sqs.c - the SQS client (sqs.h). One blocking curl easy handle, reset
 * for each request; the answer gathered in a capped buffer (16 MiB: ten
 * messages of up to 1 MiB each, escaped) and read by s3xml.c. The form
 * of a request is built with its parameters in name order, percent-encoded
 * the canonical way. The session-token header list is made anew for each
 * request (one request at a time: nothing else holds it).
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <strings.h>

#include "backoff.h"
#include "sqs.h"

#define ANSWER_MAX ((size_t)16 << 20)
#define UNREACHABLE_TRIES 3

struct ts_sqs {
	ts_awscfg cfg;
	char *queue_url;
	char *endpoint;       /* requests are POSTed to endpoint + "/" */
	char region[64];
	char sigv4[96];
	int64_t next_refresh; /* after a failed refresh: not before */
	CURL *h;
	ts_sqs_opts o;
	ts_sqs_stats st;
	int global;
};

void ts_sqs_free(ts_sqs *q)
{
	if (!q)
		return;
	if (q->h)
		curl_easy_cleanup(q->h);
	if (q->global)
		curl_global_cleanup();
	free(q->queue_url);
	free(q->endpoint);
	free(q);
}

const ts_sqs_stats *ts_sqs_get_stats(const ts_sqs *q) { return &q->st; }
const char *ts_sqs_region(const ts_sqs *q) { return q->region; }

/* The Region of an AWS queue host: sqs.REGION.amazonaws.com[.cn] or
 * REGION.queue.amazonaws.com, into out[cap]. 1 found, else 0. */
static int host_region(const char *host, size_t n, char *out, size_t cap)
{
	const char *p = host, *e = host + n, *dot;
	if (n > 4 && memcmp(p, "sqs.", 4) == 0)
		p += 4;
	dot = memchr(p, '.', (size_t)(e - p));
	if (!dot || dot == p || (size_t)(dot - p) >= cap)
		return 0;
	size_t rest = (size_t)(e - dot);
	if (!(rest >= 14 && memcmp(dot, ".amazonaws.com", 14) == 0) &&
	    !(rest >= 20 && memcmp(dot, ".queue.amazonaws.com", 20) == 0))
		return 0;
	memcpy(out, p, (size_t)(dot - p));
	out[dot - p] = 0;
	return 1;
}

ts_sqs *ts_sqs_new(const ts_awscfg *cfg, const char *queue_url, const char *endpoint,
		   const ts_sqs_opts *opts, char *err, size_t cap)
{
	const char *host = strncmp(queue_url, "https://", 8) == 0 ? queue_url + 8
			   : strncmp(queue_url, "http://", 7) == 0  ? queue_url + 7
								    : NULL;
	size_t hn = host ? strcspn(host, "/?#") : 0;
	if (!host || !hn) {
		snprintf(err, cap, "'%s': expected a queue URL, https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE",
			 queue_url);
		return NULL;
	}
	ts_sqs *q = calloc(1, sizeof *q);
	if (!q)
		goto nomem;
	q->cfg = *cfg;
	if (opts)
		q->o = *opts;
	if (q->o.retry_first_ms <= 0)
		q->o.retry_first_ms = 200;
	if (q->o.retry_budget_ms <= 0)
		q->o.retry_budget_ms = 60000;
	size_t on = (size_t)(host - queue_url) + hn; /* scheme and host */
	if (!(q->queue_url = strdup(queue_url)))
		goto nomem;
	if (endpoint && *endpoint) {
		size_t n = strlen(endpoint);
		while (n > 8 && endpoint[n - 1] == '/')
			n--;
		q->endpoint = strndup(endpoint, n);
	} else {
		q->endpoint = strndup(queue_url, on);
	}
	if (!q->endpoint)
		goto nomem;
	/* a port or user part in the host is no Region's */
	const char *colon = memchr(host, ':', hn), *at = memchr(host, '@', hn);
	if (colon || at || !host_region(host, hn, q->region, sizeof q->region))
		snprintf(q->region, sizeof q->region, "%s", cfg->region);
	snprintf(q->sigv4, sizeof q->sigv4, "aws:amz:%s:sqs", q->region);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, cap, "libcurl could not start");
		ts_sqs_free(q);
		return NULL;
	}
	q->global = 1;
	if (!(q->h = curl_easy_init()))
		goto nomem;
	return q;
nomem:
	snprintf(err, cap, "out of memory");
	ts_sqs_free(q);
	return NULL;
}

/* Keys that expire within 5 minutes fetched again (a failure is warned
 * about and tried again 30 s later; the old keys go on until then). */
static void fresh(ts_sqs *q)
{
	if (!q->cfg.fetched || !q->cfg.expires || !q->o.now)
		return;
	int64_t t = q->o.now(q->o.now_ctx);
	if (t < q->cfg.expires - 300 || t < q->next_refresh)
		return;
	ts_awscfg k = q->cfg;
	char err[700];
	if (ts_awscfg_refresh(&k, err, sizeof err)) {
		ts_warn("refreshing AWS credentials from %s: %s", q->cfg.cred_from, err);
		q->next_refresh = t + 30;
		return;
	}
	q->cfg = k;
	q->st.refreshes++;
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* Append "&name=value", value percent-encoded. 0, TS_ECAP or TS_ENOMEM. */
static int param(ts_buf *b, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = ts_buf_printf(b, "%s%s=", b->len ? "&" : "", name);
	for (const unsigned char *p = (const unsigned char *)value; !rc && *p; p++) {
		char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		rc = unreserved(*p) ? ts_buf_add(b, p, 1) : ts_buf_add(b, e, 3);
	}
	return rc;
}

static size_t gather(char *p, size_t a, size_t b, void *ud)
{
	return ts_buf_add(ud, p, a * b) ? 0 : a * b;
}

/* Worth another try: throttling, a server error, a connection failure. */
static int retryable(long status, CURLcode cc, const char *code)
{
	if (cc != CURLE_OK)
		return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
		       cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_PARTIAL_FILE ||
		       cc == CURLE_GOT_NOTHING || cc == CURLE_COULDNT_RESOLVE_HOST;
	if (status == 500 || status == 502 || status == 503 || status == 504)
		return 1;
	return status == 400 && (strstr(code, "Throttl") || strstr(code, "RequestThrottled"));
}

/* One action on the queue: form is its parameters after Action, Version
 * and QueueUrl (name order: the caller's come after "QueueUrl"). 0 with
 * SQS's answer in *ans; TS_EIO with err[cap]; TS_ENOMEM. */
static int call(ts_sqs *q, const char *action, const ts_buf *form, long timeout_ms, ts_buf *ans,
		char *err, size_t cap)
{
	ts_buf body = {0}, url = {0};
	struct curl_slist *hdrs = NULL;
	char cerr[CURL_ERROR_SIZE];
	int rc = param(&body, "Action", action);
	rc = rc ? rc : param(&body, "QueueUrl", q->queue_url);
	rc = rc ? rc : param(&body, "Version", "2012-11-05");
	if (!rc && form->len)
		rc = ts_buf_printf(&body, "&%.*s", (int)form->len, form->p);
	rc = rc ? rc : ts_buf_printf(&url, "%s/", q->endpoint);
	if (rc) {
		snprintf(err, cap, "out of memory");
		rc = TS_ENOMEM;
		goto out;
	}
	ts_backoff bo;
	ts_backoff_set(&bo, q->o.retry_first_ms, 5000, q->o.retry_budget_ms);
	int tries = 0;
	for (;;) {
		CURL *h = q->h;
		fresh(q);
		curl_slist_free_all(hdrs);
		hdrs = NULL;
		if (q->cfg.token[0]) {
			char tok[sizeof q->cfg.token + 32];
			snprintf(tok, sizeof tok, "x-amz-security-token: %s", q->cfg.token);
			if (!(hdrs = curl_slist_append(NULL, tok))) {
				snprintf(err, cap, "out of memory");
				rc = TS_ENOMEM;
				break;
			}
		}
		curl_easy_reset(h);
		ans->cap = ANSWER_MAX;
		ts_buf_reset(ans);
		cerr[0] = 0;
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_URL, url.p);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.p);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body.len);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, q->sigv4);
		curl_easy_setopt(h, CURLOPT_USERNAME, q->cfg.key_id);
		curl_easy_setopt(h, CURLOPT_PASSWORD, q->cfg.secret);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "trailsight");
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, gather);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, ans);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
		CURLcode cc = curl_easy_perform(h);
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		tries++;
		if (cc == CURLE_OK && status == 200) {
			rc = 0;
			break;
		}
		ts_s3_err e;
		if (cc != CURLE_OK || !ans->len || ts_s3xml_sqs_error(ans->p, ans->len, &e))
			memset(&e, 0, sizeof e);
		int unreach = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST;
		if (retryable(status, cc, e.code) && (!unreach || tries < UNREACHABLE_TRIES) &&
		    ts_backoff_sleep(&bo) == 0) {
			q->st.retries++;
			continue;
		}
		if (cc == CURLE_WRITE_ERROR)
			snprintf(err, cap, "%s: sqs:%s: an answer over 16 MiB", q->queue_url, action);
		else if (cc != CURLE_OK)
			snprintf(err, cap, "%s: sqs:%s failed: %s", q->queue_url, action,
				 *cerr ? cerr : curl_easy_strerror(cc));
		else if (status == 403 && (!*e.code || strstr(e.code, "AccessDenied")))
			snprintf(err, cap,
				 "%s: access denied: sqs:%s is not allowed to these credentials (HTTP 403%s%s)",
				 q->queue_url, action, *e.message ? ": " : "", e.message);
		else if (strstr(e.code, "NonExistentQueue"))
			snprintf(err, cap, "%s: sqs:%s: no such queue (in Region %s; HTTP %ld %s)",
				 q->queue_url, action, q->region, status, e.code);
		else
			snprintf(err, cap, "%s: sqs:%s: HTTP %ld%s%s%s%s", q->queue_url, action, status,
				 *e.code ? " " : "", e.code, *e.message ? ": " : "", e.message);
		if (retryable(status, cc, e.code)) {
			size_t k = strlen(err);
			snprintf(err + k, cap - k, " (gave up after %d tries)", tries);
		}
		rc = TS_EIO;
		break;
	}
out:
	curl_slist_free_all(hdrs);
	ts_buf_free(&body);
	ts_buf_free(&url);
	return rc;
}

int ts_sqs_receive(ts_sqs *q, int max, int wait_s, int visibility_s, ts_sqs_msgs *out,
		   char *err, size_t cap)
{
	memset(out, 0, sizeof *out);
	ts_buf form = {0}, ans = {0};
	char n[16], w[16], v[16];
	snprintf(n, sizeof n, "%d", max < 1 ? 1 : max > 10 ? 10 : max);
	snprintf(w, sizeof w, "%d", wait_s < 0 ? 0 : wait_s > 20 ? 20 : wait_s);
	snprintf(v, sizeof v, "%d", visibility_s);
	/* parameters in name order */
	int rc = param(&form, "AttributeName.1", "ApproximateReceiveCount");
	rc = rc ? rc : param(&form, "MaxNumberOfMessages", n);
	if (!rc && visibility_s > 0)
		rc = param(&form, "VisibilityTimeout", v);
	rc = rc ? rc : param(&form, "WaitTimeSeconds", w);
	if (rc) {
		snprintf(err, cap, "out of memory");
		rc = TS_ENOMEM;
		goto out;
	}
	rc = call(q, "ReceiveMessage", &form, (long)(wait_s + 30) * 1000, &ans, err, cap);
	if (rc)
		goto out;
	q->st.receives++;
	char perr[200];
	rc = ts_s3xml_sqs_receive(ans.p ? ans.p : "", ans.len, out, perr, sizeof perr);
	if (rc)
		snprintf(err, cap, "%s: sqs:ReceiveMessage answer: %s", q->queue_url,
			 rc == TS_ENOMEM ? "out of memory" : perr);
	else
		q->st.messages += out->n;
out:
	ts_buf_free(&form);
	ts_buf_free(&ans);
	return rc;
}

int ts_sqs_delete(ts_sqs *q, const char *receipt, char *err, size_t cap)
{
	ts_buf form = {0}, ans = {0};
	int rc = param(&form, "ReceiptHandle", receipt);
	rc = rc ? TS_EIO : call(q, "DeleteMessage", &form, 30000, &ans, err, cap);
	if (!rc)
		q->st.deletes++;
	ts_buf_free(&form);
	ts_buf_free(&ans);
	return rc ? TS_EIO : 0;
}

int ts_sqs_change_visibility(ts_sqs *q, const char *receipt, int secs, char *err, size_t cap)
{
	ts_buf form = {0}, ans = {0};
	char v[16];
	snprintf(v, sizeof v, "%d", secs);
	int rc = param(&form, "ReceiptHandle", receipt);
	rc = rc ? rc : param(&form, "VisibilityTimeout", v);
	rc = rc ? TS_EIO : call(q, "ChangeMessageVisibility", &form, 30000, &ans, err, cap);
	if (!rc)
		q->st.extends++;
	ts_buf_free(&form);
	ts_buf_free(&ans);
	return rc ? TS_EIO : 0;
}

int ts_sqs_delete_batch(ts_sqs *q, char *const *receipts, size_t n, uint8_t *ok, char *err,
			size_t cap)
{
	ts_buf form = {0}, ans = {0};
	int rc = 0;
	memset(ok, 0, n);
	if (n > 10) {
		snprintf(err, cap, "more than 10 messages in a DeleteMessageBatch");
		return TS_EINVAL;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		char name[96], id[24];
		snprintf(id, sizeof id, "%zu", i);
		snprintf(name, sizeof name, "DeleteMessageBatchRequestEntry.%zu.Id", i + 1);
		rc = param(&form, name, id);
		snprintf(name, sizeof name, "DeleteMessageBatchRequestEntry.%zu.ReceiptHandle", i + 1);
		rc = rc ? rc : param(&form, name, receipts[i]);
	}
	if (rc) {
		snprintf(err, cap, "out of memory");
		rc = TS_ENOMEM;
		goto out;
	}
	if ((rc = call(q, "DeleteMessageBatch", &form, 30000, &ans, err, cap)))
		goto out;
	ts_s3_err e;
	if (ts_s3xml_sqs_batch(ans.p ? ans.p : "", ans.len, ok, n, &e)) {
		snprintf(err, cap, "%s: sqs:DeleteMessageBatch: an answer that does not parse", q->queue_url);
		memset(ok, 0, n);
		rc = TS_EIO;
		goto out;
	}
	size_t done = 0;
	for (size_t i = 0; i < n; i++)
		done += ok[i];
	q->st.deletes += done;
	if (done < n) {
		snprintf(err, cap, "%s: sqs:DeleteMessageBatch: %zu of %zu not deleted: %s%s%s",
			 q->queue_url, n - done, n, e.code, *e.message ? ": " : "", e.message);
		rc = TS_EIO;
	}
out:
	ts_buf_free(&form);
	ts_buf_free(&ans);
	return rc;
}
