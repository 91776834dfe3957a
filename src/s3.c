/* s3.c - the S3 client: URLs, signed requests, listing pages and the fetch
 * pool (s3.h). libcurl is used here and in sink_webhook.c only.
 *
 * Listing is one blocking easy handle, reused, its answer gathered in a
 * capped buffer (32 MiB) and read by s3xml.c. Fetching is a curl multi
 * handle driving up to `connections` transfers, one slot each. Slots are
 * started in object order; the slot of the object next to hand on (the
 * head) passes its bytes straight to the consumer, the others gather
 * theirs (and pause past 16 MiB) until they become the head. Invariants:
 * objects are handed on strictly in order; a slot with bytes handed on is
 * never fetched again from its start (what was counted cannot be taken
 * back): it resumes where it broke off (Range, If-Match its ETag, and a
 * 206 required); every object gets exactly one end(). A bucket in another
 * Region is followed once (follow_region): cfg.region is then the
 * bucket's, region0 the one configured.
 *
 * The headers every request carries (the session token among them) are a
 * counted list (hlist): the client holds the current one, and each slot
 * the one its transfer was set up with, since curl reads the list it was
 * given for as long as the transfer runs. A refresh of the keys makes a new
 * current list; the replaced one is freed when its last slot lets go.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "backoff.h"
#include "s3.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define LIST_MAX ((size_t)32 << 20)  /* a listing page's body */
#define ERR_BODY_MAX ((size_t)64 << 10)
#define HOLD_MAX ((size_t)16 << 20)  /* bytes a waiting object gathers before pausing */
#define CONN_MAX 64

/* A header list and how many hold it (the client while it is current,
 * and each slot whose transfer was set up with it). */
typedef struct hlist {
	struct curl_slist *l;
	int refs;
} hlist;

static hlist *hlist_hold(hlist *h)
{
	h->refs++;
	return h;
}

static void hlist_drop(hlist *h)
{
	if (h && --h->refs == 0) {
		curl_slist_free_all(h->l);
		free(h);
	}
}

struct ts_s3 {
	ts_awscfg cfg;
	char sigv4[96];
	hlist *hdrs;              /* the current headers (one reference) */
	char region0[64];         /* the Region configured (cfg.region may follow the bucket's) */
	int followed;             /* the bucket's Region followed (once) */
	int64_t next_refresh;     /* after a failed refresh: not before */
	CURL *list_h;
	CURLM *multi;
	ts_s3_opts o;
	ts_s3_stats st;
	int global;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void ts_s3_free(ts_s3 *s)
{
	if (!s)
		return;
	if (s->list_h)
		curl_easy_cleanup(s->list_h);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	hlist_drop(s->hdrs);
	if (s->global)
		curl_global_cleanup();
	free(s);
}

/* The headers every request carries, held once (NULL when out of
 * memory). */
static hlist *make_headers(const ts_awscfg *cfg)
{
	char tok[sizeof cfg->token + 32];
	hlist *h = calloc(1, sizeof *h);
	struct curl_slist *l = h ? curl_slist_append(NULL, "x-amz-content-sha256: " EMPTY_SHA256) : NULL;
	if (l && cfg->token[0]) {
		snprintf(tok, sizeof tok, "x-amz-security-token: %s", cfg->token);
		struct curl_slist *m = curl_slist_append(l, tok);
		if (!m)
			curl_slist_free_all(l);
		l = m;
	}
	if (!l) {
		free(h);
		return NULL;
	}
	h->l = l;
	h->refs = 1;
	return h;
}

/* Keys that expire within 5 minutes fetched again (a failure is warned
 * about and tried again 30 s later; the old keys go on until then). */
static void fresh(ts_s3 *s)
{
	if (!s->cfg.fetched || !s->cfg.expires || !s->o.now)
		return;
	int64_t t = s->o.now(s->o.now_ctx);
	if (t < s->cfg.expires - 300 || t < s->next_refresh)
		return;
	ts_awscfg k = s->cfg;
	char err[700];
	hlist *h = NULL;
	int rc = ts_awscfg_refresh(&k, err, sizeof err);
	if (rc || !(h = make_headers(&k))) {
		ts_warn("refreshing AWS credentials from %s: %s", s->cfg.cred_from,
			rc ? err : "out of memory");
		s->next_refresh = t + 30;
		return;
	}
	hlist_drop(s->hdrs); /* freed now unless a running transfer holds it */
	s->hdrs = h;
	s->cfg = k;
	s->st.refreshes++;
}

ts_s3 *ts_s3_new(const ts_awscfg *cfg, const ts_s3_opts *opts)
{
	ts_s3 *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cfg = *cfg;
	if (opts)
		s->o = *opts;
	if (s->o.connections <= 0)
		s->o.connections = 8;
	if (s->o.connections > CONN_MAX)
		s->o.connections = CONN_MAX;
	if (s->o.retry_first_ms <= 0)
		s->o.retry_first_ms = 200;
	if (s->o.retry_budget_ms <= 0)
		s->o.retry_budget_ms = 60000;
	if (!s->o.hold_max)
		s->o.hold_max = HOLD_MAX;
	snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", cfg->region);
	snprintf(s->region0, sizeof s->region0, "%s", cfg->region);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto fail;
	s->global = 1;
	if (!(s->hdrs = make_headers(cfg)) || !(s->list_h = curl_easy_init()) || !(s->multi = curl_multi_init()))
		goto fail;
	curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)s->o.connections);
	return s;
fail:
	ts_s3_free(s);
	return NULL;
}

const ts_s3_stats *ts_s3_get_stats(const ts_s3 *s) { return &s->st; }

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* Append s percent-encoded (keeping '/' when keep_slash) to b. */
static int enc(ts_buf *b, const char *str, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		int rc = unreserved(*p) || (keep_slash && *p == '/') ? ts_buf_add(b, p, 1)
								      : ts_buf_add(b, e, 3);
		if (rc)
			return rc;
	}
	return 0;
}

/* A bucket name that can be a host name label (virtual-hosted style over
 * https: no dots, which the wildcard certificate would not cover). */
static int host_style(const char *bucket)
{
	for (const char *p = bucket; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	return *bucket != 0;
}

static int url_buf(const ts_s3 *s, const char *bucket, const char *key, ts_buf *b)
{
	int rc;
	if (s->cfg.endpoint[0]) {
		rc = ts_buf_printf(b, "%s/", s->cfg.endpoint);
		rc = rc ? rc : enc(b, bucket, 0);
		rc = rc ? rc : ts_buf_puts(b, "/");
	} else if (host_style(bucket)) {
		rc = ts_buf_printf(b, "https://%s.s3.%s.amazonaws.com/", bucket, s->cfg.region);
	} else {
		rc = ts_buf_printf(b, "https://s3.%s.amazonaws.com/", s->cfg.region);
		rc = rc ? rc : enc(b, bucket, 0);
		rc = rc ? rc : ts_buf_puts(b, "/");
	}
	if (!rc && key)
		rc = enc(b, key, 1);
	return rc;
}

int ts_s3_url(const ts_s3 *s, const char *bucket, const char *key, char *out, size_t cap)
{
	ts_buf b = {.cap = cap ? cap - 1 : 0};
	int rc = cap ? url_buf(s, bucket, key, &b) : TS_ECAP;
	if (!rc)
		snprintf(out, cap, "%s", b.p);
	else if (rc == TS_ENOMEM)
		rc = TS_ECAP;
	ts_buf_free(&b);
	return rc;
}

/* The settings every request shares. */
static void setup(ts_s3 *s, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, s->hdrs->l);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, s->cfg.key_id);
	curl_easy_setopt(h, CURLOPT_PASSWORD, s->cfg.secret);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "trailsight");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	/* a transfer that stalls (under 1 byte/s for 60 s) fails and is retried */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
}

/* x-amz-bucket-region, kept by a header callback */
static void grab_region(const char *line, size_t n, char *out, size_t cap)
{
	static const char name[] = "x-amz-bucket-region:";
	size_t k = sizeof name - 1;
	if (n <= k || strncasecmp(line, name, k) != 0)
		return;
	const char *v = line + k, *e = line + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		e--;
	snprintf(out, cap, "%.*s", (int)(e - v), v);
}

/* A server that cannot be reached at all (refused, no such host) is tried
 * this many times; throttling and server errors for the whole budget. */
#define UNREACHABLE_TRIES 3

static int unreachable(CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST;
}

static int retryable(long status, CURLcode cc)
{
	if (cc == CURLE_OK)
		return status == 500 || status == 502 || status == 503 || status == 504;
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
	       cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_PARTIAL_FILE ||
	       cc == CURLE_GOT_NOTHING || cc == CURLE_COULDNT_RESOLVE_HOST;
}

void ts_s3_describe(char *out, size_t cap, long status, const char *curl_err, const char *body,
		    size_t len, const char *bucket_region, const char *action, const char *what,
		    const char *region)
{
	ts_s3_err e;
	int have = body && len && ts_s3xml_error(body, len, &e) == 0;
	if (!have)
		memset(&e, 0, sizeof e);
	const char *breg = bucket_region && *bucket_region ? bucket_region : e.region;
	if (status == 0) {
		snprintf(out, cap, "%s: %s failed: %s", what, action, curl_err ? curl_err : "no answer");
	} else if (*breg && strcmp(breg, region) != 0 &&
		   (status == 301 || status == 307 || status == 400 ||
		    strcmp(e.code, "PermanentRedirect") == 0 ||
		    strcmp(e.code, "AuthorizationHeaderMalformed") == 0)) {
		snprintf(out, cap,
			 "%s: the bucket is in Region %s, not %s: set AWS_REGION=%s (HTTP %ld%s%s)",
			 what, breg, region, breg, status, *e.code ? " " : "", e.code);
	} else if (status == 403 && (!*e.code || strcmp(e.code, "AccessDenied") == 0)) {
		snprintf(out, cap,
			 "%s: access denied: %s is not allowed to these credentials (HTTP 403%s%s)",
			 what, action, *e.message ? ": " : "", e.message);
	} else if (status == 301 || (status == 400 && strcmp(e.code, "AuthorizationHeaderMalformed") == 0)) {
		snprintf(out, cap, "%s: the bucket is in another Region than %s%s%s (HTTP %ld %s)",
			 what, region, *e.endpoint ? ": use its endpoint " : "", e.endpoint, status,
			 e.code);
	} else if (*e.code) {
		snprintf(out, cap, "%s: %s: HTTP %ld %s%s%s", what, action, status, e.code,
			 *e.message ? ": " : "", e.message);
	} else {
		snprintf(out, cap, "%s: %s: HTTP %ld", what, action, status);
	}
}

/* A bucket in another Region than the client's (a 301 PermanentRedirect,
 * a 307, a 400 AuthorizationHeaderMalformed) that x-amz-bucket-region or
 * the error body names: requests are signed for that Region from now on,
 * and on AWS's endpoints sent to it. 1 when followed (the request is to be
 * made again), else 0. Once per client: a second move is reported. */
static int follow_region(ts_s3 *s, long status, const char *hdr_region, const char *body,
			 size_t len)
{
	if (s->followed || !(status == 301 || status == 307 || status == 400))
		return 0;
	char reg[64];
	ts_s3_err e;
	snprintf(reg, sizeof reg, "%s", hdr_region ? hdr_region : "");
	if (!reg[0] && body && len && ts_s3xml_error(body, len, &e) == 0)
		snprintf(reg, sizeof reg, "%s", e.region);
	if (!reg[0] || strcmp(reg, s->cfg.region) == 0)
		return 0;
	for (const char *c = reg; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return 0;
	ts_warn("the bucket is in Region %s, not %s: following it (AWS_REGION=%s saves a "
		"request)", reg, s->cfg.region, reg);
	snprintf(s->cfg.region, sizeof s->cfg.region, "%s", reg);
	snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", reg);
	s->followed = 1;
	return 1;
}

/* --- listing --- */

typedef struct answer {
	ts_buf body;
	char region[64];
	int rc;         /* why the body could not be taken (TS_ECAP, TS_ENOMEM) */
} answer;

static size_t on_list_body(char *p, size_t sz, size_t nm, void *ud)
{
	answer *a = ud;
	a->rc = ts_buf_add(&a->body, p, sz * nm);
	return a->rc ? 0 : sz * nm;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	char *region = ud;
	grab_region(p, sz * nm, region, 64);
	return sz * nm;
}

/* Append "&name=value" (the first with '?') when value is set. */
static int param(ts_buf *b, int *first, const char *name, const char *value)
{
	if (!value || !*value)
		return 0;
	int rc = ts_buf_printf(b, "%c%s=", *first ? '?' : '&', name);
	*first = 0;
	return rc ? rc : enc(b, value, 0);
}

int ts_s3_list_page(ts_s3 *s, const char *bucket, const ts_s3_listreq *q, ts_s3_page *pg,
		    char *err, size_t cap)
{
	memset(pg, 0, sizeof *pg);
	ts_buf url = {0};
	answer a = {.body = {.cap = LIST_MAX}};
	const char *prefix = q->prefix;
	char mk[16] = "";
	if (q->max_keys > 0)
		snprintf(mk, sizeof mk, "%d", q->max_keys);
	int first = 1;
	int rc = url_buf(s, bucket, NULL, &url);
	/* parameters in name order and encoded the canonical way, so the
	 * URL is its own canonical query string */
	rc = rc ? rc : param(&url, &first, "continuation-token", q->token);
	rc = rc ? rc : param(&url, &first, "delimiter", q->delim);
	rc = rc ? rc : param(&url, &first, "list-type", "2");
	rc = rc ? rc : param(&url, &first, "max-keys", mk);
	if (!rc) {
		rc = ts_buf_puts(&url, "&prefix=");
		rc = rc ? rc : enc(&url, prefix, 0);
	}
	rc = rc ? rc : param(&url, &first, "start-after", q->start_after);
	if (rc) {
		snprintf(err, cap, "s3://%s/%s: %s", bucket, prefix, ts_strerror(rc));
		goto out;
	}
	char what[1400], cerr[CURL_ERROR_SIZE];
	snprintf(what, sizeof what, "s3://%s/%s", bucket, prefix);
	ts_backoff bo;
	ts_backoff_set(&bo, s->o.retry_first_ms, 5000, s->o.retry_budget_ms);
	int tries = 0;
	for (;;) {
		CURL *h = s->list_h;
		fresh(s);
		curl_easy_reset(h);
		setup(s, h);
		ts_buf_reset(&a.body);
		a.region[0] = cerr[0] = 0;
		a.rc = 0;
		curl_easy_setopt(h, CURLOPT_URL, url.p);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_list_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, a.region);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 120000L);
		s->st.list_requests++;
		CURLcode cc = curl_easy_perform(h);
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (cc == CURLE_WRITE_ERROR && a.rc) {
			if (a.rc == TS_ECAP)
				snprintf(err, cap, "%s: a listing page over 32 MiB", what);
			else
				snprintf(err, cap, "out of memory");
			rc = a.rc;
			break;
		}
		if (cc == CURLE_OK && status == 200) {
			ts_backoff_ok(&bo);
			char perr[200];
			rc = ts_s3xml_page(a.body.p ? a.body.p : "", a.body.len, pg, perr, sizeof perr);
			if (rc)
				snprintf(err, cap, "%s: ListObjectsV2 answer: %s", what,
					 rc == TS_ENOMEM ? "out of memory" : perr);
			break;
		}
		if (cc == CURLE_OK && follow_region(s, status, a.region, a.body.p, a.body.len))
			continue;
		if (cc == CURLE_OK && status == 503)
			s->st.throttled++;
		tries++;
		if (retryable(status, cc) && (!unreachable(cc) || tries < UNREACHABLE_TRIES) &&
		    ts_backoff_sleep(&bo) == 0) {
			s->st.retries++;
			continue;
		}
		ts_s3_describe(err, cap, cc == CURLE_OK ? status : 0,
			       *cerr ? cerr : curl_easy_strerror(cc), a.body.p, a.body.len, a.region,
			       "s3:ListBucket", what, s->region0);
		if (retryable(status, cc)) {
			size_t k = strlen(err);
			snprintf(err + k, cap - k, " (gave up after %d tries)", tries);
		}
		rc = TS_EIO;
		break;
	}
out:
	ts_buf_free(&url);
	ts_buf_free(&a.body);
	return rc;
}

/* --- the fetch pool --- */

typedef struct slot {
	CURL *h;
	size_t idx;         /* the object */
	int active;         /* in the multi handle */
	int done;           /* finished (cc, status set) */
	int waiting;        /* failed, to be tried again at retry_at */
	int begun;          /* begin() was called */
	int paused;
	CURLcode cc;
	long status;
	uint64_t handed;    /* bytes handed on */
	uint64_t resumed_at; /* this request asked for the bytes from here (Range) */
	int bad_resume;     /* a resumed request answered with the whole object */
	struct curl_slist *hdrs; /* a resumed request's headers (Range, If-Match) */
	hlist *uses;        /* the headers its transfer was set up with (held) */
	char etag[80];      /* the answer's ETag, quotes removed */
	ts_buf hold;        /* bytes gathered while not the head, or an error body */
	char region[64];
	char cerr[CURL_ERROR_SIZE];
	double retry_at;
	int tries;          /* requests made for the object */
	ts_backoff bo;
	struct pool *pool;
} slot;

typedef struct pool {
	ts_s3 *s;
	const char *bucket;
	const ts_s3_obj *objs;
	size_t n;
	const ts_s3_consumer *c;
	size_t head;        /* next object to hand on */
	int stop;           /* the consumer's stop code */
} pool;

static int is_ok(const slot *sl) { return sl->status == 200 || sl->status == 206; }

/* Hand bytes of the head object on. 0 or the consumer's stop code. */
static int hand(pool *p, slot *sl, const void *b, size_t n)
{
	if (!sl->begun) {
		sl->begun = 1;
		ts_s3_meta m = {.etag = sl->etag, .size = UINT64_MAX, .mtime = INT64_MIN};
		curl_off_t len = -1, ft = -1;
		if (curl_easy_getinfo(sl->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len) == CURLE_OK && len >= 0)
			m.size = (uint64_t)len;
		if (curl_easy_getinfo(sl->h, CURLINFO_FILETIME_T, &ft) == CURLE_OK && ft >= 0)
			m.mtime = (int64_t)ft;
		int rc = p->c->begin(p->c->ctx, sl->idx, &m);
		if (rc)
			return rc;
	}
	if (!n)
		return 0;
	sl->handed += n;
	p->s->st.bytes += n;
	return p->c->data(p->c->ctx, sl->idx, b, n);
}

static size_t on_obj_body(char *b, size_t sz, size_t nm, void *ud)
{
	slot *sl = ud;
	pool *p = sl->pool;
	size_t n = sz * nm;
	if (!sl->status)
		curl_easy_getinfo(sl->h, CURLINFO_RESPONSE_CODE, &sl->status);
	if (sl->resumed_at && sl->status == 200) { /* the Range not honoured */
		sl->bad_resume = 1;
		return 0;
	}
	if (!is_ok(sl)) { /* an error body: kept (capped) for the message */
		if (sl->hold.len < ERR_BODY_MAX)
			ts_buf_add(&sl->hold, b, n < ERR_BODY_MAX - sl->hold.len ? n : ERR_BODY_MAX - sl->hold.len);
		return n;
	}
	if (sl->idx == p->head && sl->hold.len == 0) {
		int rc = hand(p, sl, b, n);
		if (rc) {
			p->stop = rc;
			return 0;
		}
		return n;
	}
	if (n > p->s->o.hold_max - sl->hold.len) { /* held enough: wait to be the head */
		sl->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (ts_buf_add(&sl->hold, b, n)) {
		p->stop = TS_ENOMEM;
		return 0;
	}
	return n;
}

static size_t on_obj_header(char *b, size_t sz, size_t nm, void *ud)
{
	slot *sl = ud;
	size_t n = sz * nm;
	grab_region(b, n, sl->region, sizeof sl->region);
	if (n > 5 && strncasecmp(b, "etag:", 5) == 0) {
		const char *v = b + 5, *e = b + n;
		while (v < e && (*v == ' ' || *v == '\t' || *v == '"'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '"'))
			e--;
		snprintf(sl->etag, sizeof sl->etag, "%.*s", (int)(e - v), v);
	}
	return n;
}

/* Start (or start again) sl's transfer of objs[sl->idx]. 0 or TS_ENOMEM. */
static int start(pool *p, slot *sl)
{
	ts_s3 *s = p->s;
	ts_buf url = {0};
	int rc = url_buf(s, p->bucket, p->objs[sl->idx].key, &url);
	if (rc) {
		ts_buf_free(&url);
		return rc == TS_ECAP ? TS_ENOMEM : rc;
	}
	fresh(s);
	curl_easy_reset(sl->h);
	setup(s, sl->h);
	hlist_drop(sl->uses);
	sl->uses = hlist_hold(s->hdrs);
	curl_slist_free_all(sl->hdrs);
	sl->hdrs = NULL;
	sl->resumed_at = sl->handed;
	sl->bad_resume = 0;
	if (sl->handed) { /* the rest of an object broken off */
		char line[160];
		struct curl_slist *l = NULL;
		for (struct curl_slist *h = s->hdrs->l; h; h = h->next)
			if (!(l = curl_slist_append(sl->hdrs = l, h->data)))
				break;
		snprintf(line, sizeof line, "Range: bytes=%llu-", (unsigned long long)sl->handed);
		if (l)
			l = curl_slist_append(sl->hdrs = l, line);
		snprintf(line, sizeof line, "If-Match: \"%s\"", p->objs[sl->idx].etag);
		if (l)
			l = curl_slist_append(sl->hdrs = l, line);
		if (!l) {
			ts_buf_free(&url);
			return TS_ENOMEM;
		}
		sl->hdrs = l;
		curl_easy_setopt(sl->h, CURLOPT_HTTPHEADER, sl->hdrs);
	}
	curl_easy_setopt(sl->h, CURLOPT_URL, url.p);
	ts_buf_free(&url); /* curl keeps its own copy */
	curl_easy_setopt(sl->h, CURLOPT_WRITEFUNCTION, on_obj_body);
	curl_easy_setopt(sl->h, CURLOPT_WRITEDATA, sl);
	curl_easy_setopt(sl->h, CURLOPT_HEADERFUNCTION, on_obj_header);
	curl_easy_setopt(sl->h, CURLOPT_HEADERDATA, sl);
	curl_easy_setopt(sl->h, CURLOPT_ERRORBUFFER, sl->cerr);
	curl_easy_setopt(sl->h, CURLOPT_PRIVATE, sl);
	curl_easy_setopt(sl->h, CURLOPT_FILETIME, 1L);
	sl->cerr[0] = sl->region[0] = sl->etag[0] = 0;
	sl->status = 0;
	sl->done = sl->waiting = sl->paused = 0;
	ts_buf_reset(&sl->hold);
	if (curl_multi_add_handle(s->multi, sl->h) != CURLM_OK)
		return TS_ENOMEM;
	sl->active = 1;
	s->st.get_requests++;
	return 0;
}

static void stop_slot(pool *p, slot *sl)
{
	if (sl->active)
		curl_multi_remove_handle(p->s->multi, sl->h);
	sl->active = 0;
}

/* The head slot is done (or failed for good): its end(), and the slot is
 * free again. */
static void finish_head(pool *p, slot *sl)
{
	char detail[1800];
	int rc = 0;
	if (sl->done && sl->cc == CURLE_OK && is_ok(sl)) {
		detail[0] = 0;
		int hr = hand(p, sl, NULL, 0); /* an empty object still begins */
		if (hr) {
			p->stop = hr;
			return;
		}
	} else {
		char what[1400];
		snprintf(what, sizeof what, "s3://%s/%s", p->bucket, p->objs[sl->idx].key);
		if (sl->bad_resume)
			snprintf(detail, sizeof detail, "%s: s3:GetObject: the server sent the whole "
				 "object again, not the rest asked for (Range)", what);
		else
			ts_s3_describe(detail, sizeof detail, sl->cc == CURLE_OK ? sl->status : 0,
				       *sl->cerr ? sl->cerr : curl_easy_strerror(sl->cc),
				       is_ok(sl) ? NULL : sl->hold.p, is_ok(sl) ? 0 : sl->hold.len,
				       sl->region, "s3:GetObject", what, p->s->region0);
		if (sl->handed) {
			size_t k = strlen(detail);
			snprintf(detail + k, sizeof detail - k, " after %llu bytes",
				 (unsigned long long)sl->handed);
		}
		rc = TS_EIO;
	}
	p->c->end(p->c->ctx, sl->idx, rc, detail);
	stop_slot(p, sl);
	ts_buf_reset(&sl->hold);
	sl->idx = SIZE_MAX;
	sl->begun = 0;
	sl->handed = 0;
	sl->resumed_at = 0;
	p->head++;
}

int ts_s3_fetch(ts_s3 *s, const char *bucket, const ts_s3_obj *objs, size_t n,
		const ts_s3_consumer *c)
{
	pool p = {.s = s, .bucket = bucket, .objs = objs, .n = n, .c = c};
	int nslots = s->o.connections;
	slot *sl = calloc((size_t)nslots, sizeof *sl);
	int rc = 0;
	size_t next = 0;
	if (!sl)
		return TS_ENOMEM;
	for (int i = 0; i < nslots; i++) {
		sl[i].idx = SIZE_MAX;
		sl[i].pool = &p;
		sl[i].hold.cap = s->o.hold_max;
		if (!(sl[i].h = curl_easy_init())) {
			rc = TS_ENOMEM;
			goto out;
		}
	}
	while (p.head < n && !p.stop) {
		/* fill free slots with the next objects */
		for (int i = 0; i < nslots && next < n; i++) {
			if (sl[i].idx != SIZE_MAX)
				continue;
			sl[i].idx = next++;
			sl[i].tries = 0;
			ts_backoff_set(&sl[i].bo, s->o.retry_first_ms, 5000, s->o.retry_budget_ms);
			if ((rc = start(&p, &sl[i])))
				goto out;
		}
		/* the head: hand on what it gathered, unpause it, end it */
		slot *h = NULL;
		for (int i = 0; i < nslots; i++)
			if (sl[i].idx == p.head)
				h = &sl[i];
		if (h && h->hold.len && is_ok(h) && !h->waiting) {
			ts_buf keep = h->hold;
			h->hold = (ts_buf){.cap = keep.cap};
			int hr = hand(&p, h, keep.p, keep.len);
			ts_buf_free(&keep);
			if (hr) {
				p.stop = hr;
				break;
			}
		}
		if (h && h->paused) {
			h->paused = 0;
			curl_easy_pause(h->h, CURLPAUSE_CONT);
		}
		if (h && h->done && !h->waiting) {
			finish_head(&p, h);
			if (p.stop)
				break;
			continue;
		}
		/* retries that are due */
		double t = now_s();
		for (int i = 0; i < nslots; i++)
			if (sl[i].waiting && t >= sl[i].retry_at) {
				s->st.retries++;
				if ((rc = start(&p, &sl[i])))
					goto out;
			}
		int running = 0;
		curl_multi_perform(s->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(s->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			slot *d = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&d);
			d->cc = m->data.result;
			curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &d->status);
			stop_slot(&p, d);
			d->done = 1;
			if (d->cc == CURLE_OK && !d->begun &&
			    follow_region(s, d->status, d->region, d->hold.p, d->hold.len)) {
				d->waiting = 1; /* again at once, for the bucket's Region */
				d->retry_at = 0;
				continue;
			}
			if (d->cc == CURLE_OK && d->status == 503)
				s->st.throttled++;
			d->tries++;
			/* from the start while nothing was handed on, else the rest
			 * (an object with an ETag) */
			int again = !d->handed ? !d->begun : objs[d->idx].etag[0] && !d->bad_resume;
			if (!p.stop && again && retryable(d->status, d->cc) &&
			    (!unreachable(d->cc) || d->tries < UNREACHABLE_TRIES)) {
				int w = ts_backoff_next(&d->bo);
				if (w >= 0) {
					d->waiting = 1;
					d->retry_at = now_s() + w / 1000.0;
				}
			}
		}
		if (p.stop)
			break;
		curl_multi_poll(s->multi, NULL, 0, 50, NULL);
	}
	rc = p.stop;
out:
	for (int i = 0; i < nslots; i++) {
		if (sl[i].h) {
			stop_slot(&p, &sl[i]);
			curl_easy_cleanup(sl[i].h);
		}
		curl_slist_free_all(sl[i].hdrs);
		hlist_drop(sl[i].uses);
		ts_buf_free(&sl[i].hold);
	}
	free(sl);
	return rc;
}
