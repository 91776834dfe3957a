/* s3feed.h - one fetched S3 object at a time into the reader path of
 * files, for the s3:// backfill (run_s3.c) and stream --sqs (run_sqs.c).
 *
 * An object is named "s3://BUCKET/KEY" to the reader and counted in the
 * run's source stats as a file. When the caller asks to look first (a key
 * the folder rule cannot decide), its first TS_S3FEED_LOOK bytes are held
 * and read only if they look like JSON text (ts_sniff_json); otherwise
 * the object is passed over, as folders.c does with a file.
 */
#ifndef TS_S3FEED_H
#define TS_S3FEED_H

#include "cli.h"

#define TS_S3FEED_LOOK 4096

typedef struct ts_s3feed {
	ts_run *r;
	const ts_source_cb *cb;
	ts_source_push *push;
	size_t cur;          /* the object begun last */
	int reading;         /* pushed into the reader (begun) */
	int looking;         /* holding the first bytes */
	int passed;          /* passed over: the rest is dropped */
	int fatal;           /* TS_ENOMEM or a stop: the caller ends its fetch */
	ts_file_id id;       /* the object's checkpoint id (name borrowed) */
	char path[1400];     /* "s3://BUCKET/KEY" */
	unsigned char look[TS_S3FEED_LOOK];
	size_t nlook;
} ts_s3feed;

/* Object i of a fetch begins: id is its checkpoint id (the name must live
 * until ts_s3feed_end). look: hold its first bytes and decide; else it is
 * read at once. 0, or TS_ENOMEM (also kept in f->fatal). */
int ts_s3feed_begin(ts_s3feed *f, size_t i, const char *bucket, const char *key,
		    const ts_file_id *id, int look);

/* Object i begins and is passed over unread (counted before). */
void ts_s3feed_skip(ts_s3feed *f, size_t i, const char *bucket, const char *key);

/* Bytes of the object begun. 0, or a fatal code (also in f->fatal). */
int ts_s3feed_data(ts_s3feed *f, const void *p, size_t n);

/* Object i (KEY in BUCKET) ended: rc non-zero when the fetch failed,
 * detail the client's words (beginning with the object's URL). One that
 * failed before its first byte is counted failed; one read is ended in
 * the reader. */
void ts_s3feed_end(ts_s3feed *f, size_t i, const char *bucket, const char *key, int rc,
		   const char *detail);

#endif
