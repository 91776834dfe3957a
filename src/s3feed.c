/* s3feed.c - one fetched S3 object at a time into the reader path of
 * files (see s3feed.h).
 */
#include <stdio.h>
#include <string.h>

#include "s3feed.h"
#include "sniff.h"

static void begin(ts_s3feed *f, size_t i, const char *bucket, const char *key)
{
	f->cur = i;
	f->reading = f->looking = f->passed = 0;
	f->nlook = 0;
	snprintf(f->path, sizeof f->path, "s3://%s/%s", bucket, key);
}

/* Push the object into the reader: begin (the engine's file begins with
 * the object's id), then the held bytes. */
static int start_reading(ts_s3feed *f)
{
	f->r->cur_id = &f->id;
	int rc = ts_source_push_begin(f->push, f->path, &f->r->src, f->cb);
	f->r->cur_id = NULL;
	if (rc)
		return rc;
	f->reading = 1;
	f->looking = 0;
	if (f->nlook) {
		rc = ts_source_push_bytes(f->push, f->look, f->nlook);
		f->nlook = 0;
	}
	return rc;
}

/* The held first bytes decide: read, or pass over. */
static int decide(ts_s3feed *f)
{
	if (ts_sniff_json(f->look, f->nlook))
		return start_reading(f);
	f->looking = 0;
	f->passed = 1;
	f->r->src.files_ignored++;
	if (f->cb->passed)
		f->cb->passed(f->cb->ctx, f->path, f->nlook ? "not JSON text" : "empty");
	return 0;
}

int ts_s3feed_begin(ts_s3feed *f, size_t i, const char *bucket, const char *key,
		    const ts_file_id *id, int look)
{
	begin(f, i, bucket, key);
	f->id = *id;
	f->looking = look;
	if (look)
		return 0;
	int rc = start_reading(f);
	return rc == TS_ENOMEM ? (f->fatal = rc) : 0;
}

void ts_s3feed_skip(ts_s3feed *f, size_t i, const char *bucket, const char *key)
{
	begin(f, i, bucket, key);
	f->passed = 1;
}

int ts_s3feed_data(ts_s3feed *f, const void *p, size_t n)
{
	int rc = 0;
	if (f->passed)
		return 0;
	if (f->looking) {
		size_t k = n < TS_S3FEED_LOOK - f->nlook ? n : TS_S3FEED_LOOK - f->nlook;
		memcpy(f->look + f->nlook, p, k);
		f->nlook += k;
		p = (const char *)p + k;
		n -= k;
		if (f->nlook < TS_S3FEED_LOOK)
			return 0;
		if ((rc = decide(f)) || !f->reading)
			goto out;
	}
	if (n)
		rc = ts_source_push_bytes(f->push, p, n);
out:
	if (rc == TS_ENOMEM || rc == TS_SOURCE_STOP)
		return f->fatal = rc;
	return 0;
}

void ts_s3feed_end(ts_s3feed *f, size_t i, const char *bucket, const char *key, int rc,
		   const char *detail)
{
	char path[sizeof f->path];
	snprintf(path, sizeof path, "s3://%s/%s", bucket, key);
	/* the detail begins with the object's URL: the callbacks name it */
	size_t pl = strlen(path);
	const char *why = strncmp(detail, path, pl) == 0 && detail[pl] == ':' ? detail + pl + 2 : detail;
	if (f->cur != i || (!f->reading && !f->looking && !f->passed)) {
		/* failed before its first byte */
		f->r->src.files_failed++;
		ts_source_count_skip(f->cb, &f->r->src, TS_EIO, path, 0, why);
		f->r->files_done++;
		return;
	}
	if (f->looking && !f->fatal) {
		int d = decide(f);
		if (d) {
			f->fatal = d;
			return;
		}
	}
	if (f->passed) {
		f->r->files_done++;
		return;
	}
	int e = ts_source_push_end(f->push, rc ? why : NULL);
	if ((e == TS_ENOMEM || e == TS_SOURCE_STOP) && !f->fatal)
		f->fatal = e;
	f->reading = 0;
}
