/* awscfg.h - where an AWS request goes and whose keys sign it, found the
 * way the AWS CLI finds them: credentials, Region and the S3 endpoint from
 * the environment, the shared credentials file and the config file, with
 * profiles. A ts_awscfg is a plain value filled by ts_awscfg_load; it
 * holds no pointers and needs no freeing.
 *
 * Credentials, first found wins:
 *   1. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN too);
 *   2. a web identity token: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN
 *      (AWS_ROLE_SESSION_NAME, else "trailsight"), exchanged for keys with
 *      STS's AssumeRoleWithWebIdentity (AWS_ENDPOINT_URL_STS,
 *      AWS_ENDPOINT_URL, else https://sts.REGION.amazonaws.com);
 *   3. the profile (AWS_PROFILE, else "default") of the shared credentials
 *      file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials):
 *      aws_access_key_id, aws_secret_access_key, aws_session_token;
 *   4. the same keys in the profile's section of the config file
 *      (AWS_CONFIG_FILE, else ~/.aws/config; "[profile NAME]", or
 *      "[default]");
 *   5. the container credentials endpoint, when
 *      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI is set;
 *   6. else EC2 instance metadata (IMDSv2), unless
 *      AWS_EC2_METADATA_DISABLED=true (awsfetch.h says how).
 * 2, 5 and 6 expire: ts_awscfg_refresh fetches them again.
 * Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the
 * config file, else us-east-1.
 * Endpoint: the --endpoint-url option, AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL; a custom endpoint is addressed path-style
 * (ENDPOINT/BUCKET/KEY). Without one, https://BUCKET.s3.REGION.amazonaws.com.
 */
#ifndef TS_AWSCFG_H
#define TS_AWSCFG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ts_awscfg {
	char key_id[128];
	char secret[256];
	char token[4096];     /* session token; "" when none */
	char region[64];
	char endpoint[512];   /* scheme://host[:port][/path] with no trailing '/';
				 "" for AWS's own endpoint */
	char profile[128];    /* the profile the files were read for */
	const char *cred_from; /* where the keys came from (static text) */
	int64_t expires;      /* Unix seconds the keys expire at; 0: never */
	int fetched;          /* 1: from the container endpoint, 2: from IMDS,
				 3: from STS for a web identity token */
	const char *region_from;
} ts_awscfg;

/* Fill c. endpoint_opt is --endpoint-url (NULL: none). 0; TS_EINVAL when
 * no credentials are found, a value is too long or the endpoint is not
 * http:// or https:// (err[cap] says which and where it looked); a file
 * that cannot be read is as if absent (the AWS CLI does the same). */
int ts_awscfg_load(ts_awscfg *c, const char *endpoint_opt, char *err, size_t cap);

/* Fetch c's keys again from where they came (the container endpoint or
 * IMDS; keys from the environment or the files stay as they are). 0, or
 * TS_EIO with err[cap] (c keeps its old keys). */
int ts_awscfg_refresh(ts_awscfg *c, char *err, size_t cap);

/* The value of key in section (exact name, e.g. "default", "profile dev")
 * of the INI-style file at path, into out[cap]. 1 found, 0 not found, -1
 * when the file cannot be read, -2 when the value is cap bytes or longer. Lines are "key = value"; '#' and ';'
 * start comments; blanks around names and values are dropped. */
int ts_awscfg_ini_get(const char *path, const char *section, const char *key, char *out,
		      size_t cap);

#endif
