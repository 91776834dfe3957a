/* awscfg.c - credentials, Region and endpoint for S3 requests, from the
 * environment and the shared AWS files (the order is in awscfg.h). Reads
 * the files line by line with a fixed line buffer; holds nothing between
 * calls. A value longer than its field is an error, never cut.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "awscfg.h"
#include "awsfetch.h"
#include "util.h"

#define LINE_MAX_LEN 8192

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

int ts_awscfg_ini_get(const char *path, const char *section, const char *key, char *out,
		      size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char *line = malloc(LINE_MAX_LEN);
	int found = 0, in = 0;
	if (!line) {
		fclose(f);
		return -1;
	}
	while (!found && fgets(line, LINE_MAX_LEN, f)) {
		char *s = trim(line);
		if (*s == '#' || *s == ';' || !*s)
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e)
				continue;
			*e = 0;
			in = strcmp(trim(s + 1), section) == 0;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!in || !eq)
			continue;
		*eq = 0;
		if (strcmp(trim(s), key) != 0)
			continue;
		char *v = trim(eq + 1);
		if (strlen(v) >= cap) {
			found = -2;
			break;
		}
		snprintf(out, cap, "%s", v);
		found = 1;
	}
	free(line);
	fclose(f);
	return found;
}

/* path of a shared file: the variable's value, else ~/.aws/NAME */
static void file_path(char *out, size_t cap, const char *var, const char *name)
{
	const char *v = env(var), *home = env("HOME");
	if (v)
		snprintf(out, cap, "%s", v);
	else
		snprintf(out, cap, "%s/.aws/%s", home ? home : ".", name);
}

static int copy(char *dst, size_t cap, const char *src, const char *what, char *err, size_t ecap)
{
	if (strlen(src) >= cap) {
		snprintf(err, ecap, "%s is longer than %zu bytes", what, cap - 1);
		return TS_EINVAL;
	}
	snprintf(dst, cap, "%s", src);
	return 0;
}

/* The three keys from one section of one file. 1 found (a key id and a
 * secret), 0 not (or the file unreadable), TS_EINVAL for a value too long. */
static int keys_from(ts_awscfg *c, const char *path, const char *section, char *err, size_t cap)
{
	int a = ts_awscfg_ini_get(path, section, "aws_access_key_id", c->key_id, sizeof c->key_id);
	int b = ts_awscfg_ini_get(path, section, "aws_secret_access_key", c->secret, sizeof c->secret);
	int t = ts_awscfg_ini_get(path, section, "aws_session_token", c->token, sizeof c->token);
	if (a == -2 || b == -2 || t == -2) {
		snprintf(err, cap, "'%s' [%s]: a credential value is too long", path, section);
		return TS_EINVAL;
	}
	if (a != 1 || b != 1) {
		c->key_id[0] = c->secret[0] = c->token[0] = 0;
		return 0;
	}
	if (t != 1)
		c->token[0] = 0;
	return 1;
}

/* The keys from the container endpoint or IMDS, as the environment says.
 * 1 found, 0 none configured (why_not[cap] says why IMDS gave none),
 * TS_EIO when the configured endpoint failed (err says why). */
static int http_keys(ts_awscfg *c, char *err, size_t cap)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	ts_awscfg k = *c;
	int rc;
	if (rel || full) {
		char url[1100], auth[8192] = "";
		const char *tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
		const char *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
		if (rel)
			snprintf(url, sizeof url, "http://169.254.170.2%s", rel);
		else
			snprintf(url, sizeof url, "%s", full);
		if (tokfile) {
			FILE *f = fopen(tokfile, "r");
			size_t n = f ? fread(auth, 1, sizeof auth - 1, f) : 0;
			if (f)
				fclose(f);
			auth[n] = 0;
			auth[strcspn(auth, "\r\n")] = 0;
		} else if (tok) {
			snprintf(auth, sizeof auth, "%s", tok);
		}
		if ((rc = ts_awsfetch_container(&k, url, auth, err, cap)))
			return rc;
		k.fetched = 1;
		k.cred_from = "the container credentials endpoint";
	} else {
		const char *off = env("AWS_EC2_METADATA_DISABLED");
		if (off && strcasecmp(off, "true") == 0) {
			snprintf(err, cap, "instance metadata: AWS_EC2_METADATA_DISABLED=true");
			return 0;
		}
		const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
		char e[600];
		snprintf(e, sizeof e, "%s", ep ? ep : "http://169.254.169.254");
		size_t n = strlen(e);
		while (n > 8 && e[n - 1] == '/')
			e[--n] = 0;
		if (ts_awsfetch_imds(&k, e, err, cap))
			return 0; /* not on EC2, or no role: no keys from there */
		k.fetched = 2;
		k.cred_from = "instance metadata (IMDSv2)";
	}
	*c = k;
	return 1;
}

/* The keys STS gives for the web identity token of
 * AWS_WEB_IDENTITY_TOKEN_FILE (read anew each time: the token rotates)
 * and the role AWS_ROLE_ARN, from AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL
 * or STS's endpoint in c's Region. 0 or TS_EIO with err[cap]. */
static int web_keys(ts_awscfg *c, char *err, size_t cap)
{
	const char *path = env("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = env("AWS_ROLE_ARN");
	const char *session = env("AWS_ROLE_SESSION_NAME");
	const char *ep = env("AWS_ENDPOINT_URL_STS");
	char url[600], *tok = NULL;
	if (!path || !role) {
		snprintf(err, cap, "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are no longer set");
		return TS_EIO;
	}
	if (!ep)
		ep = env("AWS_ENDPOINT_URL");
	if (ep)
		snprintf(url, sizeof url, "%s", ep);
	else
		snprintf(url, sizeof url, "https://sts.%s.amazonaws.com", c->region);
	size_t n = strlen(url);
	while (n > 8 && url[n - 1] == '/')
		url[--n] = 0;
	FILE *f = fopen(path, "r");
	size_t len = 0;
	if (f && (tok = malloc(16385)) != NULL)
		len = fread(tok, 1, 16384, f);
	int toolong = f && tok && len == 16384 && fgetc(f) != EOF;
	if (f)
		fclose(f);
	if (!tok || !len || toolong) {
		snprintf(err, cap, "web identity token '%s': %s", path,
			 !f ? strerror(errno) : !tok ? "out of memory" : toolong ? "over 16 KiB" : "empty");
		free(tok);
		return TS_EIO;
	}
	tok[len] = 0;
	tok[strcspn(tok, "\r\n")] = 0;
	ts_awscfg k = *c;
	int rc = ts_awsfetch_web_identity(&k, url, role, session ? session : "trailsight", tok, err,
					  cap);
	free(tok);
	if (rc)
		return rc;
	k.fetched = 3;
	k.cred_from = "web identity (STS AssumeRoleWithWebIdentity)";
	*c = k;
	return 0;
}

int ts_awscfg_refresh(ts_awscfg *c, char *err, size_t cap)
{
	if (!c->fetched)
		return 0;
	if (c->fetched == 3)
		return web_keys(c, err, cap);
	int rc = http_keys(c, err, cap);
	return rc == 1 ? 0 : TS_EIO;
}

static int endpoint_ok(const char *e)
{
	return strncasecmp(e, "http://", 7) == 0 || strncasecmp(e, "https://", 8) == 0;
}

int ts_awscfg_load(ts_awscfg *c, const char *endpoint_opt, char *err, size_t cap)
{
	memset(c, 0, sizeof *c);
	char cred_path[1024], conf_path[1024], section[160];
	const char *prof = env("AWS_PROFILE");
	if (!prof)
		prof = env("AWS_DEFAULT_PROFILE");
	int rc = copy(c->profile, sizeof c->profile, prof ? prof : "default", "AWS_PROFILE", err, cap);
	int web = 0;
	if (rc)
		return rc;
	file_path(cred_path, sizeof cred_path, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
	file_path(conf_path, sizeof conf_path, "AWS_CONFIG_FILE", "config");
	if (strcmp(c->profile, "default") == 0)
		snprintf(section, sizeof section, "default");
	else
		snprintf(section, sizeof section, "profile %s", c->profile);

	const char *id = env("AWS_ACCESS_KEY_ID"), *sec = env("AWS_SECRET_ACCESS_KEY");
	if (id && sec) {
		const char *tok = env("AWS_SESSION_TOKEN");
		if ((rc = copy(c->key_id, sizeof c->key_id, id, "AWS_ACCESS_KEY_ID", err, cap)) ||
		    (rc = copy(c->secret, sizeof c->secret, sec, "AWS_SECRET_ACCESS_KEY", err, cap)) ||
		    (rc = copy(c->token, sizeof c->token, tok ? tok : "", "AWS_SESSION_TOKEN", err, cap)))
			return rc;
		c->cred_from = "the environment";
	} else if (env("AWS_WEB_IDENTITY_TOKEN_FILE") && env("AWS_ROLE_ARN")) {
		web = 1; /* once the Region is known: STS's endpoint is in it */
	} else if ((rc = keys_from(c, cred_path, c->profile, err, cap)) != 0) {
		if (rc < 0)
			return rc;
		c->cred_from = "the shared credentials file";
	} else if ((rc = keys_from(c, conf_path, section, err, cap)) != 0) {
		if (rc < 0)
			return rc;
		c->cred_from = "the config file";
	} else {
		char why[600] = "";
		if ((rc = http_keys(c, why, sizeof why)) < 0) {
			snprintf(err, cap, "AWS credentials: %s", why);
			return TS_EINVAL;
		}
		if (!rc) {
			snprintf(err, cap,
				 "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
				 "or give profile '%s' aws_access_key_id and aws_secret_access_key in "
				 "'%s' or '%s' (%s)",
				 c->profile, cred_path, conf_path, why);
			return TS_EINVAL;
		}
	}

	const char *reg = env("AWS_REGION");
	c->region_from = "AWS_REGION";
	if (!reg) {
		reg = env("AWS_DEFAULT_REGION");
		c->region_from = "AWS_DEFAULT_REGION";
	}
	if (reg) {
		if ((rc = copy(c->region, sizeof c->region, reg, c->region_from, err, cap)))
			return rc;
	} else if (ts_awscfg_ini_get(conf_path, section, "region", c->region, sizeof c->region) == 1) {
		c->region_from = "the config file";
	} else {
		snprintf(c->region, sizeof c->region, "us-east-1");
		c->region_from = "the default";
	}
	for (const char *p = c->region; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-') {
			snprintf(err, cap, "Region '%s' (from %s): expected letters, digits and '-'",
				 c->region, c->region_from);
			return TS_EINVAL;
		}

	if (web && (rc = web_keys(c, err, cap))) {
		size_t n = strlen(err);
		snprintf(err + n, cap - n, " (AWS credentials from AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)");
		return TS_EINVAL;
	}

	const char *ep = endpoint_opt;
	const char *ep_from = "--endpoint-url";
	if (!ep && (ep = env("AWS_ENDPOINT_URL_S3")))
		ep_from = "AWS_ENDPOINT_URL_S3";
	else if (!ep && (ep = env("AWS_ENDPOINT_URL")))
		ep_from = "AWS_ENDPOINT_URL";
	if (ep) {
		if (!endpoint_ok(ep)) {
			snprintf(err, cap, "%s '%s': expected http://HOST[:PORT] or https://HOST[:PORT]",
				 ep_from, ep);
			return TS_EINVAL;
		}
		if ((rc = copy(c->endpoint, sizeof c->endpoint, ep, ep_from, err, cap)))
			return rc;
		size_t n = strlen(c->endpoint);
		while (n > 8 && c->endpoint[n - 1] == '/')
			c->endpoint[--n] = 0;
	}
	return 0;
}
