/* s3walk.h - which objects of a bucket to read, and the listing that finds
 * them: the folder rule of folders.h applied to keys, and the CloudTrail
 * layout AWSLogs/[o-ORG/]ACCT/CloudTrail/REGION/YYYY/MM/DD/ pruned by day.
 *
 * Without a day range or an account or Region filter, everything under the
 * prefix is listed in one paginated listing (the fewest requests). With
 * one, no delimiter is needed (some S3-compatible servers roll up only one level):
 *   - discovery: one key at a time (max-keys 1, start-after), each found
 *     key naming its ACCT/CloudTrail/REGION/ folder, which is then read
 *     and skipped over whole (start-after "FOLDER0", '0' being the
 *     character after '/'); a
 *     CloudTrail-Digest, CloudTrail-Insight or hidden folder is skipped the
 *     same way, unlisted; a key outside the layout is passed over (it
 *     cannot be dated) and the next one asked for. So a bucket with R
 *     Regions' folders costs about R + 1 discovery requests.
 *   - in each Region's folder, a closed range of up to 31 days is listed
 *     day by day (prefix REGION/YYYY/MM/DD/: only the days asked); a
 *     longer or open range from its first day on (start-after
 *     REGION/YYYY/MM/DD), page by page, until a key's day passes its end.
 * Objects are returned in the listing's order (UTF-8 binary order of keys,
 * as the folder walk's bytewise order).
 *
 * The listing is a callback, so tests walk a bucket held in memory.
 */
#ifndef TS_S3WALK_H
#define TS_S3WALK_H

#include <stdint.h>

#include "s3.h"

/* One ListObjectsV2 page (s3.h's ts_s3_list_page, bucket bound): 0 or an
 * error code with err[cap] written. */
typedef int (*ts_s3walk_list_fn)(void *ctx, const ts_s3_listreq *q, ts_s3_page *pg, char *err,
				 size_t cap);

typedef struct ts_s3walk_opts {
	/* days since 1970-01-01: key days in [since_day, until_day) are
	 * listed; INT64_MIN / INT64_MAX: no bound (both: no pruning) */
	int64_t since_day, until_day;
	/* accounts and Regions to read (NULL or empty: all): a Region's
	 * folder ACCT/CloudTrail/REGION/ of another is not listed; with
	 * either, the walk is the discovery one even without a day range */
	const ts_pathlist *accounts, *regions;
	/* a key or folder passed over and why (may be NULL) */
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
/* The verdict on key; *why set for TS_S3WALK_PASS (static text). With
 * folder_len not NULL, *folder_len is set to the length of the key's part
 * up to and including the folder that decided (a passed-over or hidden
 * folder), else to 0. */
int ts_s3walk_pick(const char *key, const char **why, size_t *folder_len);

/* List the objects to read under prefix into out (appended; the caller
 * frees it), counting what is passed over into *passed. 0, or the
 * listing's error (err[cap] from it), TS_ECAP after 100000 discovery
 * requests, TS_ENOMEM. */
int ts_s3walk(const char *prefix, const ts_s3walk_opts *o, ts_s3_objs *out, uint64_t *passed,
	      char *err, size_t cap);

#endif
