/* test_awsfetch.c - credentials from the container endpoint, from
 * IMDSv2 and from STS for a web identity token, each served by a stand-in
 * server in the test; the order of the
 * sources in ts_awscfg_load; keys fetched again by the S3 client before
 * they expire. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "awsfetch.h"
#include "s3.h"
#include "s3_stub.h"

#define OK(body) "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" body
#define KEYS(id, exp)                                                                     \
	OK("{\"Code\" : \"Success\", \"LastUpdated\" : \"2026-12-04T18:00:00Z\", \"Type\" : " \
	   "\"AWS-HMAC\",\n \"AccessKeyId\" : \"" id "\",\n \"SecretAccessKey\" : \"s\\/ecret\","  \
	   "\n \"Token\" : \"TOKEN-" id "\",\n \"Expiration\" : \"" exp "\"\n}")

static void clean_env(void)
{
	static const char *vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
				     "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
				     "AWS_CONTAINER_CREDENTIALS_FULL_URI",
				     "AWS_CONTAINER_AUTHORIZATION_TOKEN",
				     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
				     "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
				     "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
				     "AWS_ENDPOINT_URL_S3", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
				     "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL_STS"};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
}

static void test_json(void)
{
	char v[16];
	const char *j = "{\"a\": \"x\\\"y\", \"AccessKeyId\":1, \"k\" :\"AccessKeyId\", \"AccessKeyId\" : \"AK\\/1\"}";
	CHECK_INT(ts_awsfetch_json_str(j, strlen(j), "a", v, sizeof v), 0);
	CHECK_STR(v, "x\"y");
	CHECK_INT(ts_awsfetch_json_str(j, strlen(j), "AccessKeyId", v, sizeof v), -1); /* a number first */
	CHECK_INT(ts_awsfetch_json_str(j, strlen(j), "nope", v, sizeof v), -1);
	const char *k = "{\"k\" :\"AccessKeyId\", \"AccessKeyId\" : \"AK\\/1\"}";
	CHECK_INT(ts_awsfetch_json_str(k, strlen(k), "AccessKeyId", v, sizeof v), 0);
	CHECK_STR(v, "AK/1");
	CHECK_INT(ts_awsfetch_json_str(k, strlen(k), "AccessKeyId", v, 4), -1);
	CHECK_INT(ts_awsfetch_json_str("{\"a\":\"unterminated", 18, "a", v, sizeof v), -1);
}

static void test_container(void)
{
	stub_route rt[] = {{"/creds", 0, NULL, KEYS("ASIACONT", "2026-12-04T20:00:00Z"), 0},
			   {"/bad", 0, NULL, OK("{\"Message\":\"no\"}"), 0},
			   {"/denied", 0, NULL, "HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n", 0}};
	stub s;
	CHECK_INT(stub_start(&s, rt, 3), 0);
	clean_env();
	char url[128], err[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/creds", s.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-token", 1);
	ts_awscfg c;
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.key_id, "ASIACONT");
	CHECK_STR(c.secret, "s/ecret");
	CHECK_STR(c.token, "TOKEN-ASIACONT");
	CHECK_INT(c.expires, 1796414400);
	CHECK_INT(c.fetched, 1);
	CHECK_STR(c.cred_from, "the container credentials endpoint");
	CHECK(s.nheads == 1 && strstr(s.heads[0], "Authorization: Bearer pod-token") != NULL);
	/* the token from a file wins over the variable */
	char tf[] = "/tmp/ts_tokfile_XXXXXX";
	int fd = mkstemp(tf);
	CHECK_INT(write(fd, "file-token\n", 11), 11);
	close(fd);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tf, 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK(s.nheads == 2 && strstr(s.heads[1], "Authorization: file-token\r\n") != NULL);
	unlink(tf);
	/* environment keys come first */
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "x", 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.key_id, "AKIDENV");
	CHECK_INT(c.fetched, 0);
	CHECK_INT(s.nheads, 2);
	unsetenv("AWS_ACCESS_KEY_ID");
	/* a configured endpoint that fails is an error, saying why */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/bad", s.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "no AccessKeyId") != NULL);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/denied", s.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "HTTP 403") != NULL);
	stub_stop(&s);
}

static void test_imds(void)
{
	stub_route rt[] = {
		{"/latest/api/token", 0, NULL, OK("IMDSTOKEN"), 0},
		{"/latest/meta-data/iam/security-credentials/my-role", 0, NULL,
		 KEYS("ASIAIMDS", "2026-12-04T20:00:00Z"), 0},
		{"/latest/meta-data/iam/security-credentials/", 0, NULL, OK("my-role\n"), 0},
	};
	stub s;
	CHECK_INT(stub_start(&s, rt, 3), 0);
	clean_env();
	char ep[128], err[512];
	snprintf(ep, sizeof ep, "http://127.0.0.1:%d/", s.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
	ts_awscfg c;
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), 0);
	CHECK_STR(c.key_id, "ASIAIMDS");
	CHECK_STR(c.token, "TOKEN-ASIAIMDS");
	CHECK_INT(c.fetched, 2);
	CHECK_STR(c.cred_from, "instance metadata (IMDSv2)");
	CHECK_INT(s.nheads, 3);
	if (s.nheads == 3) {
		CHECK(strncmp(s.heads[0], "PUT /latest/api/token ", 22) == 0);
		CHECK(strstr(s.heads[0], "X-aws-ec2-metadata-token-ttl-seconds: 21600") != NULL);
		CHECK(strstr(s.heads[1], "X-aws-ec2-metadata-token: IMDSTOKEN") != NULL);
		CHECK(strncmp(s.heads[2], "GET /latest/meta-data/iam/security-credentials/my-role ", 55) == 0);
		CHECK(strstr(s.heads[2], "X-aws-ec2-metadata-token: IMDSTOKEN") != NULL);
	}
	/* turned off: no request, and the message says so */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "AWS_EC2_METADATA_DISABLED") != NULL);
	CHECK_INT(s.nheads, 3);
	stub_stop(&s);
	/* nobody there: no keys, said quickly */
	unsetenv("AWS_EC2_METADATA_DISABLED");
	CHECK_INT(ts_awscfg_load(&c, NULL, err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "no AWS credentials") != NULL);
}

static int64_t clock_now;
static int64_t fake_now(void *ctx)
{
	(void)ctx;
	return clock_now;
}

/* keys about to expire are fetched again before a request */
static void test_refresh(void)
{
	stub_route rt[] = {
		{"/creds", 1, KEYS("ASIAONE", "2026-12-04T20:00:00Z"), KEYS("ASIATWO", "2026-12-04T21:00:00Z"), 0},
		{"/trail/", 0, NULL,
		 OK("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"), 0},
	};
	stub s;
	CHECK_INT(stub_start(&s, rt, 2), 0);
	clean_env();
	char url[128], err[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/creds", s.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
	ts_awscfg c;
	CHECK_INT(ts_awscfg_load(&c, url, err, sizeof err), 0);
	CHECK_STR(c.key_id, "ASIAONE");
	ts_s3_opts o = {.connections = 1, .now = fake_now};
	ts_s3 *cl = ts_s3_new(&c, &o);
	ts_s3_page pg;
	ts_s3_listreq q = {.prefix = ""};
	clock_now = c.expires - 600; /* 10 minutes left: used as they are */
	CHECK_INT(ts_s3_list_page(cl, "trail", &q, &pg, err, sizeof err), 0);
	ts_s3_page_free(&pg);
	clock_now = c.expires - 120; /* 2 minutes left: fetched again */
	CHECK_INT(ts_s3_list_page(cl, "trail", &q, &pg, err, sizeof err), 0);
	ts_s3_page_free(&pg);
	CHECK_INT(ts_s3_get_stats(cl)->refreshes, 1);
	CHECK_INT(s.nheads, 4);
	if (s.nheads == 4) {
		CHECK(strstr(s.heads[1], "Credential=ASIAONE/") != NULL);
		CHECK(strstr(s.heads[1], "x-amz-security-token: TOKEN-ASIAONE") != NULL);
		CHECK(strncmp(s.heads[2], "GET /creds ", 11) == 0);
		CHECK(strstr(s.heads[3], "Credential=ASIATWO/") != NULL);
		CHECK(strstr(s.heads[3], "x-amz-security-token: TOKEN-ASIATWO") != NULL);
	}
	ts_s3_free(cl);
	stub_stop(&s);
}

#define STS_KEYS(id, exp)                                                                  \
	OK("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">" \
	   "<AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>system:serviceaccount:ns:sa" \
	   "</SubjectFromWebIdentityToken><Credentials><SessionToken>TOKEN-" id "</SessionToken>"     \
	   "<SecretAccessKey>s/ecret</SecretAccessKey><Expiration>" exp "</Expiration>"                \
	   "<AccessKeyId>" id "</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult>"         \
	   "</AssumeRoleWithWebIdentityResponse>")

/* AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN: keys from STS (its error
 * named when it refuses the token), ahead of the files, fetched again
 * with the token read anew before they expire */
static void test_web_identity(void)
{
	stub_route rt[] = {
		{"/trail/", 0, NULL,
		 OK("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"), 0},
		{"/", 1,
		 "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n<ErrorResponse><Error><Type>Sender"
		 "</Type><Code>InvalidIdentityToken</Code><Message>No OpenIDConnect provider found"
		 "</Message></Error></ErrorResponse>",
		 STS_KEYS("ASIAWEB", "2026-12-04T20:00:00Z"), 0},
	};
	stub s;
	CHECK_INT(stub_start(&s, rt, 2), 0);
	clean_env();
	char tokfile[] = "/tmp/ts_webid_XXXXXX", url[128], err[1024];
	int fd = mkstemp(tokfile);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, "eyJhbGciOiJSUzI1NiJ9.e30.sig\n", 29), 29);
	close(fd);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokfile, 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/trail-reader", 1);
	setenv("AWS_REGION", "eu-west-1", 1);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
	setenv("AWS_ENDPOINT_URL_STS", url, 1);
	ts_awscfg c;
	CHECK_INT(ts_awscfg_load(&c, url, err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "InvalidIdentityToken: No OpenIDConnect provider found") != NULL);
	CHECK(strstr(err, "AWS_WEB_IDENTITY_TOKEN_FILE") != NULL);
	CHECK_INT(ts_awscfg_load(&c, url, err, sizeof err), 0);
	CHECK_STR(c.key_id, "ASIAWEB");
	CHECK_STR(c.secret, "s/ecret");
	CHECK_STR(c.token, "TOKEN-ASIAWEB");
	CHECK_INT(c.fetched, 3);
	CHECK_INT(c.expires, 1796414400);
	CHECK(c.cred_from && strstr(c.cred_from, "web identity") != NULL);
	CHECK(s.nheads >= 2 && strncmp(s.heads[1], "POST / ", 7) == 0);
	CHECK(s.nheads >= 2 && strstr(s.heads[1], "Authorization:") == NULL); /* unsigned */
	/* refreshed through the S3 client: STS asked again */
	ts_s3_opts o = {.connections = 1, .now = fake_now};
	ts_s3 *cl = ts_s3_new(&c, &o);
	ts_s3_page pg;
	ts_s3_listreq q = {.prefix = ""};
	clock_now = c.expires - 120;
	CHECK_INT(ts_s3_list_page(cl, "trail", &q, &pg, err, sizeof err), 0);
	ts_s3_page_free(&pg);
	CHECK_INT(ts_s3_get_stats(cl)->refreshes, 1);
	CHECK_INT(s.nheads, 4);
	if (s.nheads == 4) {
		CHECK(strncmp(s.heads[2], "POST / ", 7) == 0);
		CHECK(strstr(s.heads[3], "x-amz-security-token: TOKEN-ASIAWEB") != NULL);
	}
	ts_s3_free(cl);
	unlink(tokfile);
	clean_env();
	stub_stop(&s);
}

TS_TESTS(test_json, test_container, test_imds, test_refresh, test_web_identity)
