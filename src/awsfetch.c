/* awsfetch.c - credentials from the container endpoint, from IMDSv2 and
 * from STS for a web identity token (awsfetch.h). Each answer is gathered in a capped buffer (64 KiB) and
 * its four fields are read by a small scan of a flat JSON object; the
 * values are checked for length and for characters a header cannot carry.
 */
#include <curl/curl.h>
#include <stdlib.h>

#include "awsfetch.h"
#include "s3xml.h"
#include "util.h"

#define ANSWER_MAX (64 * 1024)

/* How long a GET or PUT to a metadata endpoint may take, in ms:
 * AWS_METADATA_SERVICE_TIMEOUT seconds (1 to 60), else 3 s. */
static long metadata_timeout_ms(void)
{
	const char *v = getenv("AWS_METADATA_SERVICE_TIMEOUT");
	char *end;
	long sec = v && *v ? strtol(v, &end, 10) : 0;
	return v && *v && !*end && sec >= 1 && sec <= 60 ? sec * 1000L : 3000L;
}

static size_t gather(char *p, size_t a, size_t b, void *ud)
{
	return ts_buf_add(ud, p, a * b) ? 0 : a * b;
}

/* One request: method "GET" or "PUT" (empty body), or "POST" with the
 * form post, headers hdr (may be NULL). 0 with the body in *out (a 2xx
 * answer), else TS_EIO and err (the answer's body kept in *out). */
static int request_form(const char *method, const char *url, struct curl_slist *hdr,
			const char *post, ts_buf *out, char *err, size_t cap)
{
	CURL *h = curl_easy_init();
	char cerr[CURL_ERROR_SIZE] = "";
	if (!h) {
		snprintf(err, cap, "%s: out of memory", url);
		return TS_EIO;
	}
	out->cap = ANSWER_MAX;
	ts_buf_reset(out);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, metadata_timeout_ms());
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, gather);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "trailsight");
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (post) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	}
	CURLcode cc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (cc != CURLE_OK) {
		snprintf(err, cap, "%s: %s", url, *cerr ? cerr : curl_easy_strerror(cc));
		return TS_EIO;
	}
	if (status < 200 || status > 299) {
		snprintf(err, cap, "%s: HTTP %ld", url, status);
		return TS_EIO;
	}
	return 0;
}

int ts_awsfetch_json_str(const char *json, size_t n, const char *name, char *out, size_t cap)
{
	size_t kl = strlen(name);
	const char *e = json + n;
	for (const char *p = json; p + kl + 2 <= e; p++) {
		if (*p != '"' || memcmp(p + 1, name, kl) != 0 || p[kl + 1] != '"')
			continue;
		const char *q = p + kl + 2;
		while (q < e && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
			q++;
		if (q >= e || *q != ':')
			continue; /* a value that happens to be the name */
		q++;
		while (q < e && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
			q++;
		if (q >= e || *q != '"')
			return -1;
		const char *v = ++q;
		while (q < e && *q != '"')
			q += *q == '\\' && q + 1 < e ? 2 : 1;
		if (q >= e || (size_t)(q - v) >= cap)
			return -1;
		long len = ts_json_unescape(v, (size_t)(q - v), out);
		if (len < 0)
			return -1;
		out[len] = 0;
		return 0;
	}
	return -1;
}

static int request(const char *method, const char *url, struct curl_slist *hdr, ts_buf *out,
		   char *err, size_t cap)
{
	return request_form(method, url, hdr, NULL, out, err, cap);
}

/* the four fields of a credentials answer into c */
static int take_keys(ts_awscfg *c, const ts_buf *b, const char *url, char *err, size_t cap)
{
	char exp[64];
	const char *s = b->p ? b->p : "";
	if (ts_awsfetch_json_str(s, b->len, "AccessKeyId", c->key_id, sizeof c->key_id) ||
	    ts_awsfetch_json_str(s, b->len, "SecretAccessKey", c->secret, sizeof c->secret) ||
	    ts_awsfetch_json_str(s, b->len, "Token", c->token, sizeof c->token) || !c->key_id[0] ||
	    !c->secret[0]) {
		snprintf(err, cap, "%s: no AccessKeyId, SecretAccessKey and Token in the answer", url);
		c->key_id[0] = c->secret[0] = c->token[0] = 0;
		return TS_EIO;
	}
	for (const char *f[] = {c->key_id, c->secret, c->token}, **q = f; q < f + 3; q++)
		for (const char *p = *q; *p; p++)
			if ((unsigned char)*p < 0x21 || *p == 0x7f || *p == ':') {
				snprintf(err, cap, "%s: a credential with a character a header cannot carry", url);
				c->key_id[0] = c->secret[0] = c->token[0] = 0;
				return TS_EIO;
			}
	c->expires = 0;
	if (ts_awsfetch_json_str(s, b->len, "Expiration", exp, sizeof exp) == 0 &&
	    ts_parse_time(exp, strlen(exp), &c->expires) != 0)
		c->expires = 0;
	return 0;
}

int ts_awsfetch_container(ts_awscfg *c, const char *url, const char *auth, char *err, size_t cap)
{
	ts_buf b = {0};
	struct curl_slist *h = NULL;
	char line[8300];
	if (auth && *auth) {
		snprintf(line, sizeof line, "Authorization: %s", auth);
		if (!(h = curl_slist_append(NULL, line))) {
			snprintf(err, cap, "out of memory");
			return TS_EIO;
		}
	}
	int rc = request("GET", url, h, &b, err, cap);
	if (!rc)
		rc = take_keys(c, &b, url, err, cap);
	curl_slist_free_all(h);
	ts_buf_free(&b);
	return rc;
}

int ts_awsfetch_imds(ts_awscfg *c, const char *endpoint, char *err, size_t cap)
{
	ts_buf b = {0};
	char url[700], line[700], role[256];
	struct curl_slist *h = curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
	int rc = TS_EIO;
	if (!h) {
		snprintf(err, cap, "out of memory");
		return rc;
	}
	snprintf(url, sizeof url, "%s/latest/api/token", endpoint);
	if ((rc = request("PUT", url, h, &b, err, cap)))
		goto out;
	curl_slist_free_all(h);
	snprintf(line, sizeof line, "X-aws-ec2-metadata-token: %.600s", b.p ? b.p : "");
	if (!(h = curl_slist_append(NULL, line))) {
		rc = TS_EIO;
		goto out;
	}
	snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", endpoint);
	if ((rc = request("GET", url, h, &b, err, cap)))
		goto out;
	/* the first line is the role */
	size_t n = b.p ? strcspn(b.p, "\r\n") : 0;
	if (!n || n >= sizeof role) {
		snprintf(err, cap, "%s: no role (is an instance profile attached?)", url);
		rc = TS_EIO;
		goto out;
	}
	snprintf(role, sizeof role, "%.*s", (int)n, b.p);
	snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", endpoint, role);
	if (!(rc = request("GET", url, h, &b, err, cap)))
		rc = take_keys(c, &b, url, err, cap);
out:
	curl_slist_free_all(h);
	ts_buf_free(&b);
	return rc;
}

/* Append "&name=value" (the first without '&'), value percent-encoded. */
static int form_add(ts_buf *b, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = ts_buf_printf(b, "%s%s=", b->len ? "&" : "", name);
	for (const unsigned char *p = (const unsigned char *)value; !rc && *p; p++) {
		int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~';
		char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		rc = plain ? ts_buf_add(b, p, 1) : ts_buf_add(b, e, 3);
	}
	return rc;
}

int ts_awsfetch_web_identity(ts_awscfg *c, const char *sts_url, const char *role_arn,
			     const char *session, const char *token, char *err, size_t cap)
{
	ts_buf form = {0}, b = {0};
	int rc = form_add(&form, "Action", "AssumeRoleWithWebIdentity");
	rc = rc ? rc : form_add(&form, "RoleArn", role_arn);
	rc = rc ? rc : form_add(&form, "RoleSessionName", session);
	rc = rc ? rc : form_add(&form, "Version", "2011-06-15");
	rc = rc ? rc : form_add(&form, "WebIdentityToken", token);
	if (rc) {
		snprintf(err, cap, "out of memory");
		ts_buf_free(&form);
		return TS_EIO;
	}
	char url[700];
	snprintf(url, sizeof url, "%s/", sts_url);
	rc = request_form("POST", url, NULL, form.p, &b, err, cap);
	ts_sts_creds k;
	char perr[200];
	if (rc) {
		ts_s3_err e; /* STS's error body: its code and message */
		if (b.len && ts_s3xml_sqs_error(b.p, b.len, &e) == 0 && e.code[0]) {
			size_t n = strlen(err);
			snprintf(err + n, cap - n, ": sts:AssumeRoleWithWebIdentity %s%s%s", e.code,
				 *e.message ? ": " : "", e.message);
		}
	} else if (ts_s3xml_sts(b.p ? b.p : "", b.len, &k, perr, sizeof perr)) {
		snprintf(err, cap, "%s: AssumeRoleWithWebIdentity answer: %s", url, perr);
		rc = TS_EIO;
	} else {
		snprintf(c->key_id, sizeof c->key_id, "%s", k.key_id);
		snprintf(c->secret, sizeof c->secret, "%s", k.secret);
		snprintf(c->token, sizeof c->token, "%s", k.token);
		c->expires = 0;
		if (k.expiration[0] && ts_parse_time(k.expiration, strlen(k.expiration), &c->expires))
			c->expires = 0;
	}
	ts_buf_free(&form);
	ts_buf_free(&b);
	return rc;
}
