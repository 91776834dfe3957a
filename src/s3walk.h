/* s3walk.h - which objects of a bucket to read, and the listing that finds
 * them: the folder rule of folders.h applied to keys, and the CloudTrail
 * layout AWSLogs/[o-ORG/]ACCT/CloudTrail/REGION/YYYY/MM/DD/ pruned by day.
 *
 * Without a day range, everything under the prefix is listed in one
 * paginated listing (no delimiter: the fewest requests). With one, the
 * walk lists level by level with the delimiter '/': above a
 * CloudTrail/REGION/ folder every child folder is walked into (but
 * CloudTrail-Digest, CloudTrail-Insight and hidden ones); below it only
 * the years, months and days that meet the range, and a day folder is
 * listed whole; objects above the day folders are passed over (they
 * cannot be dated). Objects are returned in the listing's order (UTF-8 binary
 * order of keys, as the folder walk's bytewise order).
 *
 * The listing is a callback, so tests walk a bucket held in memory.
 */
#ifndef TS_S3WALK_H
#define TS_S3WALK_H

#include <stdint.h>

#include "s3xml.h"

/* One ListObjectsV2 page (s3.h's ts_s3_list_page, bucket bound): 0 or an
 * error code with err[cap] written. */
typedef int (*ts_s3walk_list_fn)(void *ctx, const char *prefix, const char *delim,
				 const char *token, ts_s3_page *pg, char *err, size_t cap);

typedef struct ts_s3walk_opts {
	/* days since 1970-01-01: key days in [since_day, until_day) are
	 * listed; INT64_MIN / INT64_MAX: no bound (both: no pruning) */
	int64_t since_day, until_day;
	/* a key passed over by the rule and why (may be NULL) */
	void (*passed)(void *ctx, const char *key, const char *why);
	void *ctx;
	ts_s3walk_list_fn list;
	void *list_ctx;
} ts_s3walk_opts;

/* What the rule makes of a key. */
enum ts_s3walk_verdict {
	TS_S3WALK_SKIP = 0,  /* a folder marker or a hidden name: neither read nor counted */
	TS_S3WALK_PASS = 1,  /* passed over (*why) */
	TS_S3WALK_LOG = 2,   /* read: a log by its name */
	TS_S3WALK_LOOK = 3,  /* read if its first bytes look like JSON text */
};
/* The verdict on key; *why set for TS_S3WALK_PASS (static text). */
int ts_s3walk_pick(const char *key, const char **why);

/* List the objects to read under prefix into out (appended; the caller
 * frees it), counting what the rule passes over into *passed. 0, or the
 * listing's error (err[cap] from it), TS_EDEPTH for folders more than 16
 * levels under the prefix, TS_ENOMEM. */
int ts_s3walk(const char *prefix, const ts_s3walk_opts *o, ts_s3_objs *out, uint64_t *passed,
	      char *err, size_t cap);

#endif
