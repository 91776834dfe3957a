/* test_s3.c - the S3 client against a stand-in server on loopback: the
 * SigV4 signature of AWS's published example (libcurl signs, as the
 * client sets it up), the headers every request carries, listing pages,
 * errors a user can act on, retries after throttling, and objects handed
 * on in order with a failed one reported. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "s3.h"
#include "s3_stub.h"
#include "s3walk.h"

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static size_t discard(char *p, size_t a, size_t b, void *u)
{
	(void)p, (void)u;
	return a * b;
}

/* The example "GET Object" of AWS's Signature Version 4 documentation
 * (Authenticating Requests: Using the Authorization Header): bucket
 * examplebucket, key test.txt, Range bytes=0-9, 2013-05-24T00:00:00Z,
 * us-east-1, the documentation's example keys. Its signature is
 * f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41. */
static void test_sigv4_example(void)
{
	stub_route rt[] = {{"/", 0, NULL, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 0}};
	stub s;
	CHECK_INT(stub_start(&s, rt, 1), 0);
	CURL *h = curl_easy_init();
	char connect[128];
	snprintf(connect, sizeof connect, "examplebucket.s3.amazonaws.com:80:127.0.0.1:%d", s.port);
	struct curl_slist *ct = curl_slist_append(NULL, connect);
	struct curl_slist *hd = curl_slist_append(NULL, "Range: bytes=0-9");
	hd = curl_slist_append(hd, "x-amz-content-sha256: " EMPTY_SHA);
	hd = curl_slist_append(hd, "x-amz-date: 20130524T000000Z");
	curl_easy_setopt(h, CURLOPT_URL, "http://examplebucket.s3.amazonaws.com/test.txt");
	curl_easy_setopt(h, CURLOPT_CONNECT_TO, ct);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
	curl_easy_setopt(h, CURLOPT_USERNAME, "AKIAIOSFODNN7EXAMPLE");
	curl_easy_setopt(h, CURLOPT_PASSWORD, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	CHECK_INT(curl_easy_perform(h), CURLE_OK);
	CHECK_INT(s.nheads, 1);
	const char *auth = s.nheads ? strstr(s.heads[0], "Authorization: ") : NULL;
	CHECK(auth != NULL);
	if (auth) {
		CHECK(strstr(auth, "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request") != NULL);
		CHECK(strstr(auth, "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date") != NULL);
		CHECK(strstr(auth, "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") != NULL);
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(ct);
	curl_slist_free_all(hd);
	stub_stop(&s);
}

static size_t hold_max; /* for the clients made next (0: the default) */

static ts_s3 *client(int port, const char *token, int conns)
{
	ts_awscfg c;
	memset(&c, 0, sizeof c);
	snprintf(c.key_id, sizeof c.key_id, "AKIDTEST");
	snprintf(c.secret, sizeof c.secret, "secret");
	snprintf(c.token, sizeof c.token, "%s", token);
	snprintf(c.region, sizeof c.region, "us-east-1");
	snprintf(c.endpoint, sizeof c.endpoint, "http://127.0.0.1:%d", port);
	ts_s3_opts o = {.connections = conns, .retry_first_ms = 5, .retry_budget_ms = 200,
			.hold_max = hold_max};
	return ts_s3_new(&c, &o);
}

#define XML_OK(body) "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n" body

static void test_url(void)
{
	ts_s3 *s = client(9, "", 1);
	char u[256];
	CHECK_INT(ts_s3_url(s, "trail", "AWSLogs/1/a b+c=é.json", u, sizeof u), 0);
	CHECK_STR(u, "http://127.0.0.1:9/trail/AWSLogs/1/a%20b%2Bc%3D%C3%A9.json");
	CHECK_INT(ts_s3_url(s, "trail", "k", u, 10), TS_ECAP);
	ts_s3_free(s);
	/* AWS's own endpoint: virtual-hosted, path-style for a dotted name */
	ts_awscfg c;
	memset(&c, 0, sizeof c);
	snprintf(c.region, sizeof c.region, "eu-west-1");
	s = ts_s3_new(&c, NULL);
	CHECK_INT(ts_s3_url(s, "trail-1", "AWSLogs/x y", u, sizeof u), 0);
	CHECK_STR(u, "https://trail-1.s3.eu-west-1.amazonaws.com/AWSLogs/x%20y");
	CHECK_INT(ts_s3_url(s, "logs.example.com", NULL, u, sizeof u), 0);
	CHECK_STR(u, "https://s3.eu-west-1.amazonaws.com/logs.example.com/");
	ts_s3_free(s);
}

static void test_list_pages(void)
{
	stub_route rt[] = {
		{"/trail/?continuation-token=t%2F1%2B%3D&list-type=2&prefix=AWSLogs%2F", 0, NULL,
		 XML_OK("<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>AWSLogs/b.json"
			"</Key><Size>2</Size><ETag>\"e2\"</ETag></Contents></ListBucketResult>"), 0},
		{"/trail/?list-type=2&prefix=AWSLogs%2F", 0, NULL,
		 XML_OK("<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t/1+="
			"</NextContinuationToken><Contents><Key>AWSLogs/a.json</Key><Size>1</Size>"
			"<ETag>\"e1\"</ETag><LastModified>2026-01-02T00:00:00Z</LastModified></Contents>"
			"</ListBucketResult>"), 0},
	};
	stub s;
	CHECK_INT(stub_start(&s, rt, 2), 0);
	ts_s3 *c = client(s.port, "SESSIONTOKEN", 2);
	ts_s3_page pg;
	char err[512];
	CHECK_INT(ts_s3_list_page(c, "trail", &(ts_s3_listreq){.prefix = "AWSLogs/"}, &pg, err, sizeof err), 0);
	CHECK_INT(pg.objs.n, 1);
	CHECK_STR(pg.next_token, "t/1+=");
	CHECK_INT(pg.truncated, 1);
	ts_s3_page next;
	CHECK_INT(ts_s3_list_page(c, "trail", &(ts_s3_listreq){.prefix = "AWSLogs/", .token = pg.next_token}, &next, err, sizeof err), 0);
	CHECK_INT(next.objs.n, 1);
	CHECK_STR(next.objs.v[0].key, "AWSLogs/b.json");
	CHECK_INT(next.truncated, 0);
	ts_s3_page_free(&pg);
	ts_s3_page_free(&next);
	CHECK_INT(rt[0].hits, 1);
	CHECK_INT(rt[1].hits, 1);
	/* every request carries the payload hash and the session token, signed */
	CHECK_INT(s.nheads, 2);
	for (int i = 0; i < s.nheads; i++) {
		CHECK(strstr(s.heads[i], "x-amz-content-sha256: " EMPTY_SHA) != NULL);
		CHECK(strstr(s.heads[i], "x-amz-security-token: SESSIONTOKEN") != NULL);
		CHECK(strstr(s.heads[i], "SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
					 "x-amz-security-token") != NULL);
		CHECK(strstr(s.heads[i], "Credential=AKIDTEST/") != NULL);
	}
	CHECK_INT(ts_s3_get_stats(c)->list_requests, 2);
	ts_s3_free(c);
	stub_stop(&s);
}

static void test_list_errors(void)
{
	stub_route rt[] = {
		{"/denied/", 0, NULL,
		 "HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n<?xml version=\"1.0\"?><Error>"
		 "<Code>AccessDenied</Code><Message>Access Denied</Message></Error>", 0},
		{"/moved/", 0, NULL,
		 "HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: eu-west-1\r\nConnection: close"
		 "\r\n\r\n<Error><Code>PermanentRedirect</Code><Message>use the endpoint</Message></Error>", 0},
		{"/slow/?delimiter=%2F&list-type=2&max-keys=1&prefix=&start-after=a%20b", 2, "HTTP/1.1 503 Slow Down\r\nConnection: close\r\n\r\n<Error><Code>SlowDown</Code>"
		 "<Message>Please reduce your request rate.</Message></Error>",
		 XML_OK("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"), 0},
		{"/busy/", 1000, "HTTP/1.1 503 Slow Down\r\nConnection: close\r\n\r\n<Error><Code>SlowDown"
		 "</Code></Error>", "", 0},
		{"/garbage/", 0, NULL, XML_OK("<ListBucketResult><Contents>"), 0},
	};
	stub s;
	CHECK_INT(stub_start(&s, rt, 5), 0);
	ts_s3 *c = client(s.port, "", 1);
	ts_s3_page pg;
	char err[512];
	CHECK_INT(ts_s3_list_page(c, "denied", &(ts_s3_listreq){.prefix = "AWSLogs/"}, &pg, err, sizeof err), TS_EIO);
	ts_s3_page_free(&pg);
	CHECK(strstr(err, "s3://denied/AWSLogs/") != NULL);
	CHECK(strstr(err, "access denied") != NULL);
	CHECK(strstr(err, "s3:ListBucket") != NULL);
	CHECK_INT(ts_s3_list_page(c, "moved", &(ts_s3_listreq){.prefix = ""}, &pg, err, sizeof err), TS_EIO);
	ts_s3_page_free(&pg);
	CHECK(strstr(err, "in Region eu-west-1, not us-east-1") != NULL);
	CHECK(strstr(err, "AWS_REGION=eu-west-1") != NULL);
	CHECK_INT(ts_s3_list_page(c, "slow", &(ts_s3_listreq){.prefix = "", .delim = "/", .start_after = "a b", .max_keys = 1}, &pg, err, sizeof err), 0);
	ts_s3_page_free(&pg);
	CHECK_INT(rt[2].hits, 3);
	CHECK_INT(ts_s3_get_stats(c)->throttled, 2);
	CHECK_INT(ts_s3_get_stats(c)->retries, 2);
	CHECK_INT(ts_s3_list_page(c, "busy", &(ts_s3_listreq){.prefix = ""}, &pg, err, sizeof err), TS_EIO);
	ts_s3_page_free(&pg);
	CHECK(strstr(err, "SlowDown") != NULL);
	CHECK(strstr(err, "gave up") != NULL);
	CHECK(rt[3].hits > 2);
	CHECK_INT(ts_s3_list_page(c, "garbage", &(ts_s3_listreq){.prefix = ""}, &pg, err, sizeof err), TS_EINVAL);
	ts_s3_page_free(&pg);
	CHECK(strstr(err, "s3://garbage/") != NULL);
	ts_s3_free(c);
	stub_stop(&s);
}

/* what the consumer saw, as text: "b0 d0:... e0:0 ..." */
typedef struct seen {
	ts_buf log;
	int stop_at; /* begin of this object stops (-1: never) */
} seen;

static int c_begin(void *ctx, size_t i, const ts_s3_meta *m)
{
	seen *v = ctx;
	(void)m;
	ts_buf_printf(&v->log, "b%zu ", i);
	return (int)i == v->stop_at ? 42 : 0;
}

static int c_data(void *ctx, size_t i, const void *p, size_t n)
{
	seen *v = ctx;
	ts_buf_printf(&v->log, "d%zu:%.*s ", i, (int)n, (const char *)p);
	return 0;
}

static void c_end(void *ctx, size_t i, int rc, const char *detail)
{
	seen *v = ctx;
	ts_buf_printf(&v->log, "e%zu:%d%s ", i, rc, rc && strstr(detail, "NoSuchKey") ? "(NoSuchKey)" : "");
}

#define BODY(s) "HTTP/1.1 200 OK\r\nContent-Length: " #s "\r\nConnection: close\r\n\r\n"

static void test_fetch(void)
{
	stub_route rt[] = {
		{"/trail/k0", 0, NULL, BODY(5) "zero0", 0},
		{"/trail/k1", 1, "HTTP/1.1 500 Internal Error\r\nConnection: close\r\n\r\n", BODY(3) "one", 0},
		{"/trail/k2", 0, NULL,
		 "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n<Error><Code>NoSuchKey</Code></Error>", 0},
		{"/trail/k3", 0, NULL, BODY(0), 0},
		{"/trail/k4", 0, NULL, BODY(4) "four", 0},
	};
	stub s;
	CHECK_INT(stub_start(&s, rt, 5), 0);
	ts_s3_obj objs[5];
	char keys[5][16];
	for (int i = 0; i < 5; i++) {
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		objs[i] = (ts_s3_obj){.key = keys[i]};
	}
	for (int conns = 1; conns <= 4; conns += 3) {
		ts_s3 *c = client(s.port, "", conns);
		seen v = {.stop_at = -1};
		ts_s3_consumer cs = {c_begin, c_data, c_end, &v};
		for (int i = 0; i < 5; i++)
			rt[i].hits = 0;
		CHECK_INT(ts_s3_fetch(c, "trail", objs, 5, &cs), 0);
		CHECK_STR(v.log.p, "b0 d0:zero0 e0:0 b1 d1:one e1:0 e2:-2(NoSuchKey) b3 e3:0 b4 d4:four e4:0 ");
		CHECK_INT(ts_s3_get_stats(c)->get_requests, 6);
		CHECK_INT(ts_s3_get_stats(c)->retries, 1);
		ts_buf_free(&v.log);
		/* a stop from the consumer ends the fetch */
		v.stop_at = 1;
		CHECK_INT(ts_s3_fetch(c, "trail", objs, 5, &cs), 42);
		CHECK(strncmp(v.log.p, "b0 d0:zero0 e0:0 b1 ", 20) == 0);
		CHECK(strstr(v.log.p, "b2") == NULL);
		ts_buf_free(&v.log);
		ts_s3_free(c);
	}
	stub_stop(&s);
}

/* objects waiting for their turn pause past hold_max and go on in order */
static void test_fetch_paused(void)
{
	char big[4][4200];
	stub_route rt[4];
	ts_s3_obj objs[4];
	char keys[4][24], want[20000] = "";
	for (int i = 0; i < 4; i++) {
		char body[4001];
		memset(body, 'a' + i, 4000);
		body[4000] = 0;
		snprintf(big[i], sizeof big[i], BODY(4000) "%s", body);
		snprintf(keys[i], sizeof keys[i], "/trail/p%d", i);
		rt[i] = (stub_route){keys[i], 0, NULL, big[i], 0};
		objs[i] = (ts_s3_obj){.key = keys[i] + 7};
	}
	stub s;
	CHECK_INT(stub_start(&s, rt, 4), 0);
	hold_max = 100;
	ts_s3 *c = client(s.port, "", 4);
	hold_max = 0;
	seen v = {.stop_at = -1};
	ts_s3_consumer cs = {c_begin, c_data, c_end, &v};
	CHECK_INT(ts_s3_fetch(c, "trail", objs, 4, &cs), 0);
	/* what each object handed on, in order, whole */
	ts_buf got = {0};
	for (const char *p = v.log.p; p && *p;) {
		if (*p == 'd') {
			const char *colon = strchr(p, ':'), *sp = strchr(colon, ' ');
			ts_buf_add(&got, colon + 1, (size_t)(sp - colon - 1));
			p = sp + 1;
		} else {
			p = strchr(p, ' ') + 1;
		}
	}
	for (int i = 0; i < 4; i++)
		memset(want + i * 4000, 'a' + i, 4000);
	CHECK_INT(got.len, 16000);
	CHECK(got.p && memcmp(got.p, want, 16000) == 0);
	CHECK(strstr(v.log.p, "e3:0 ") != NULL);
	ts_buf_free(&got);
	ts_buf_free(&v.log);
	ts_s3_free(c);
	stub_stop(&s);
}

/* a transfer broken off after bytes were handed on resumes with a Range
 * from there (If-Match the ETag); a server that answers the whole object
 * again is refused, never handed on twice */
static void test_fetch_resume(void)
{
	stub_route rt[] = {
		{"/trail/r0", 1, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabcde",
		 "HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfghij", 0},
		{"/trail/r1", 1, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nABCDE",
		 BODY(10) "ABCDEFGHIJ", 0},
		{"/trail/r2", 0, NULL, BODY(3) "end", 0},
	};
	stub s;
	CHECK_INT(stub_start(&s, rt, 3), 0);
	ts_s3_obj objs[3] = {{.key = "r0", .etag = "etag0"}, {.key = "r1", .etag = "etag1"},
			     {.key = "r2", .etag = "etag2"}};
	ts_s3 *c = client(s.port, "", 1);
	seen v = {.stop_at = -1};
	ts_s3_consumer cs = {c_begin, c_data, c_end, &v};
	CHECK_INT(ts_s3_fetch(c, "trail", objs, 3, &cs), 0);
	CHECK_STR(v.log.p, "b0 d0:abcde d0:fghij e0:0 b1 d1:ABCDE e1:-2 b2 d2:end e2:0 ");
	CHECK_INT(s.nheads, 5);
	if (s.nheads == 5) {
		CHECK(strstr(s.heads[1], "Range: bytes=5-\r\n") != NULL);
		CHECK(strstr(s.heads[1], "If-Match: \"etag0\"\r\n") != NULL);
		CHECK(strstr(s.heads[1], "x-amz-content-sha256: ") != NULL);
		CHECK(strstr(s.heads[1], "SignedHeaders=host;if-match;range;") != NULL);
		CHECK(strstr(s.heads[0], "Range:") == NULL);
	}
	ts_buf_free(&v.log);
	ts_s3_free(c);
	stub_stop(&s);
}

static int64_t late_clock(void *ctx)
{
	(void)ctx;
	return 1000000000; /* 2001: past the keys' expiry, every request refreshes them */
}

/* what begin is told of an object: ETag, size and Last-Modified */
static int meta_begin(void *ctx, size_t i, const ts_s3_meta *m)
{
	seen *v = ctx;
	ts_buf_printf(&v->log, "b%zu:%s:%llu:%lld ", i, m->etag, (unsigned long long)m->size,
		      (long long)m->mtime);
	return 0;
}

/* Keys from the container endpoint that are always about to expire: each
 * request fetches them anew, far more often than transfers run at once,
 * and every replaced header list is freed once no transfer holds it (the
 * sanitizer build finds a list freed too early or never) */
static void test_refresh_many(void)
{
	enum { N = 60 };
	char routes[N][32];
	stub_route rt[N + 1];
	ts_s3_obj objs[N];
	rt[0] = (stub_route){"/creds", 0, NULL,
			     "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"AccessKeyId\":\"AKIDNEW\","
			     "\"SecretAccessKey\":\"s2\",\"Token\":\"tok2\","
			     "\"Expiration\":\"2000-01-01T00:00:00Z\"}", 0};
	for (int i = 0; i < N; i++) {
		snprintf(routes[i], sizeof routes[i], "/trail/f%02d", i);
		rt[i + 1] = (stub_route){routes[i], 0, NULL,
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nETag: \"e1\"\r\n"
			"Last-Modified: Sat, 03 Jan 2026 10:00:00 GMT\r\nConnection: close\r\n\r\nok", 0};
		objs[i] = (ts_s3_obj){.key = routes[i] + 7};
	}
	stub s;
	CHECK_INT(stub_start(&s, rt, N + 1), 0);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/creds", s.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	/* the stub serves the keys between four transfers: on a loaded
	 * machine that can take longer than the 3 s a refresh is given */
	setenv("AWS_METADATA_SERVICE_TIMEOUT", "30", 1);
	ts_awscfg c;
	memset(&c, 0, sizeof c);
	snprintf(c.key_id, sizeof c.key_id, "AKIDOLD");
	snprintf(c.secret, sizeof c.secret, "s1");
	snprintf(c.token, sizeof c.token, "tok1");
	snprintf(c.region, sizeof c.region, "us-east-1");
	snprintf(c.endpoint, sizeof c.endpoint, "http://127.0.0.1:%d", s.port);
	c.fetched = 1;
	c.expires = 1;
	c.cred_from = "the container credentials endpoint";
	ts_s3_opts o = {.connections = 4, .retry_first_ms = 5, .retry_budget_ms = 200, .now = late_clock};
	ts_s3 *cl = ts_s3_new(&c, &o);
	seen v = {.stop_at = -1};
	ts_s3_consumer cs = {meta_begin, c_data, c_end, &v};
	CHECK_INT(ts_s3_fetch(cl, "trail", objs, N, &cs), 0);
	CHECK_INT(ts_s3_get_stats(cl)->refreshes, N);
	CHECK_INT(ts_s3_get_stats(cl)->get_requests, N);
	CHECK(v.log.p && strstr(v.log.p, "b59:e1:2:1767434400 d59:ok e59:0 ") != NULL);
	/* every object request carries the refreshed keys */
	int gets = 0;
	for (int i = 0; i < s.nheads; i++)
		if (strncmp(s.heads[i], "GET /trail/", 11) == 0) {
			gets++;
			CHECK(strstr(s.heads[i], "x-amz-security-token: tok2\r\n") != NULL);
			CHECK(strstr(s.heads[i], "Credential=AKIDNEW/") != NULL);
		}
	CHECK(gets > 20);
	ts_buf_free(&v.log);
	ts_s3_free(cl);
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_METADATA_SERVICE_TIMEOUT");
	stub_stop(&s);
}

/* a bucket in another Region is followed once: the request made again,
 * signed for the bucket's Region (named by x-amz-bucket-region, or by the
 * error body), for a listing and for an object */
static void test_region_follow(void)
{
	stub_route rt[] = {
		{"/far/?", 1,
		 "HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: eu-west-1\r\nConnection: close"
		 "\r\n\r\n<Error><Code>PermanentRedirect</Code></Error>",
		 XML_OK("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"), 0},
		{"/far/k", 1,
		 "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n<Error><Code>"
		 "AuthorizationHeaderMalformed</Code><Region>ap-south-1</Region></Error>",
		 BODY(2) "ok", 0},
	};
	stub s;
	CHECK_INT(stub_start(&s, rt, 2), 0);
	ts_s3 *c = client(s.port, "", 1);
	ts_s3_page pg;
	char err[512];
	CHECK_INT(ts_s3_list_page(c, "far", &(ts_s3_listreq){.prefix = ""}, &pg, err, sizeof err), 0);
	ts_s3_page_free(&pg);
	CHECK_INT(s.nheads, 2);
	CHECK(s.nheads == 2 && strstr(s.heads[0], "/us-east-1/s3/aws4_request") != NULL);
	CHECK(s.nheads == 2 && strstr(s.heads[1], "/eu-west-1/s3/aws4_request") != NULL);
	ts_s3_free(c);
	c = client(s.port, "", 1);
	ts_s3_obj o = {.key = "k"};
	seen v = {.stop_at = -1};
	ts_s3_consumer cs = {c_begin, c_data, c_end, &v};
	CHECK_INT(ts_s3_fetch(c, "far", &o, 1, &cs), 0);
	CHECK_STR(v.log.p, "b0 d0:ok e0:0 ");
	CHECK(s.nheads == 4 && strstr(s.heads[3], "/ap-south-1/s3/aws4_request") != NULL);
	ts_buf_free(&v.log);
	ts_s3_free(c);
	stub_stop(&s);
}

TS_TESTS(test_refresh_many, test_region_follow, test_sigv4_example, test_url, test_list_pages, test_list_errors, test_fetch,
	 test_fetch_paused, test_fetch_resume)
