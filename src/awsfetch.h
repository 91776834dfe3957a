/* awsfetch.h - AWS credentials served over HTTP, for a process that has no
 * keys of its own: STS for a web identity token (EKS service accounts),
 * the ECS (and EKS Pod Identity) container credentials endpoint and EC2
 * instance metadata (IMDSv2). Short-lived credentials
 * with an expiration, fetched again by the S3 client before they expire
 * (ts_awscfg_refresh). One blocking libcurl easy handle per call; nothing
 * is kept between calls.
 *
 *   container: GET AWS_CONTAINER_CREDENTIALS_FULL_URI, or
 *     http://169.254.170.2 + AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, with
 *     "Authorization: " the AWS_CONTAINER_AUTHORIZATION_TOKEN or the
 *     contents of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE when set;
 *   IMDSv2: PUT /latest/api/token (a 6-hour session token), then GET
 *     /latest/meta-data/iam/security-credentials/ (the role) and
 *     /latest/meta-data/iam/security-credentials/ROLE, each with the
 *     token; the endpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT or
 *     http://169.254.169.254, and AWS_EC2_METADATA_DISABLED=true turns it
 *     off.
 * Both answer {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}.
 */
#ifndef TS_AWSFETCH_H
#define TS_AWSFETCH_H

#include <stddef.h>

#include "awscfg.h"

/* The keys from the container endpoint at url, with auth as the
 * Authorization header (NULL: none), into c (key_id, secret, token,
 * expires). 0, or TS_EIO with err[cap] saying what failed. */
int ts_awsfetch_container(ts_awscfg *c, const char *url, const char *auth, char *err, size_t cap);

/* The keys of the instance's role from IMDSv2 at endpoint
 * ("http://169.254.169.254"), into c. 0, or TS_EIO with err[cap]. Gives
 * up quickly (1 s to connect, 3 s in all per request) off EC2. */
int ts_awsfetch_imds(ts_awscfg *c, const char *endpoint, char *err, size_t cap);

/* Keys for role_arn from STS's AssumeRoleWithWebIdentity (the Kubernetes
 * service-account form: the token is the contents of
 * AWS_WEB_IDENTITY_TOKEN_FILE), POSTed unsigned to sts_url
 * ("https://sts.REGION.amazonaws.com") with session as the
 * RoleSessionName, into c (key_id, secret, token, expires). 0, or TS_EIO
 * with err[cap] saying what failed (STS's code and message when it
 * answered with an error). */
int ts_awsfetch_web_identity(ts_awscfg *c, const char *sts_url, const char *role_arn,
			     const char *session, const char *token, char *err, size_t cap);

/* The string value of the top-level key name of the JSON object
 * json[0..n) (escapes decoded), into out[cap]. 0, or -1 when it is absent,
 * not a string, or does not fit. */
int ts_awsfetch_json_str(const char *json, size_t n, const char *name, char *out, size_t cap);

#endif
