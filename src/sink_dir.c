/* sink_dir.c - the dir:PATH sink: CloudTrail-Insight log files.
 *
 * Events are batched per (recipientAccountId, awsRegion, UTC day of
 * eventTime), all three read from the event. A batch is the uncompressed
 * text {"Records":[e1,e2,...]} in memory; it is written when it holds
 * dir_max_events events or dir_max_bytes bytes, when it is dir_max_age_ms
 * old (tick), when dir_max_open batches are open and a new one is needed
 * (the oldest goes), and at close. It is written as gzip to
 *   PATH/AWSLogs/<acct>/CloudTrail-Insight/<region>/YYYY/MM/DD/
 *     <acct>_CloudTrail-Insight_<region>_YYYYMMDDTHHMMZ_<16 hex>.json.gz
 * where the time is the newest eventTime minute in the batch (AWS names a
 * file by its delivery time, after every record in it; the newest record
 * is the earliest such time the events themselves give) and the 16 hex
 * digits begin the SHA-1 of the uncompressed text (a re-run writing the
 * same events writes the same name). The records are AWS's keys only:
 * insightDetails.trailsightContext is cut out of each event unless the spec
 * asks for it, dir:PATH?context=1. The file is written as .<name>.tmp in
 * the same folder, fsynced and renamed, so readers see whole files only.
 *
 * A failed write (a full disk, a folder that cannot be made) keeps the
 * batch: it is retried after a backoff, from tick or the next emit, and the
 * failure is logged once, with the path, until a write succeeds. While
 * writes fail, batches keep taking events (each up to 4 x dir_max_bytes,
 * past which it is dropped with an error), more than dir_max_open batches
 * may be held, and at most queue_max_events events wait in all: past that
 * cap new events are dropped with their own error. At the end of the run
 * (finish) each batch gets one last try; what still cannot be written is
 * dropped, logged once with the folder and the reason. This module and the
 * reader are the two users of zlib.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sha1.h"
#include "sink_kit.h"
#include "util.h"

#define SEG_MAX 64 /* longest account id or region accepted */

typedef struct batch {
	char account[SEG_MAX + 1];
	char region[SEG_MAX + 1];
	int64_t day;          /* UTC day of the events (epoch days) */
	int64_t last_minute;  /* newest eventTime minute: the file's name */
	int64_t opened;       /* clock ms of the first event */
	unsigned n;           /* events in text */
	ts_buf text;          /* {"Records":[ ... (without the closing ]}) */
} batch;

typedef struct dir_sink {
	ts_sink base;
	char *root;
	int context; /* keep insightDetails.trailsightContext */
	batch *b;
	size_t nb, ab;
	ts_backoff bo;
	char err[512]; /* why the last write failed */
} dir_sink;

/* An account id or region we are willing to put in a path. */
static int seg_ok(ts_str s)
{
	if (!s.p || s.n == 0 || s.n > SEG_MAX)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static void batch_remove(dir_sink *ds, size_t i)
{
	ts_buf_free(&ds->b[i].text);
	ds->b[i] = ds->b[--ds->nb];
}

/* Gzip text[0..n) into path (created or truncated), fsync. 0 or -1 with
 * errno (EIO for a zlib failure). */
static int write_gzip(const char *path, const char *text, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	unsigned char out[1 << 16];
	int rc = 0, zr;
	z.next_in = (Bytef *)(uintptr_t)text;
	z.avail_in = (uInt)n; /* n <= 4 x dir_max_bytes, checked at open */
	do {
		z.next_out = out;
		z.avail_out = sizeof out;
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			errno = EIO;
			rc = -1;
			break;
		}
		if (ts_sink_write_all(fd, out, sizeof out - z.avail_out)) {
			rc = -1;
			break;
		}
	} while (zr != Z_STREAM_END);
	int e = errno;
	deflateEnd(&z);
	if (rc == 0 && fsync(fd) != 0) {
		e = errno;
		rc = -1;
	}
	if (close(fd) != 0 && rc == 0) {
		e = errno;
		rc = -1;
	}
	errno = e;
	return rc;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd); /* best effort: the file itself is synced */
		close(fd);
	}
}

/* Write batch i and remove it. 0, TS_ENOMEM, or TS_EIO (the batch stays,
 * the failure is counted and logged, the backoff started). */
static int write_batch(dir_sink *ds, size_t i, int64_t now)
{
	ts_sink *s = &ds->base;
	batch *b = &ds->b[i];
	size_t keep = b->text.len;
	ts_buf dir = {0}, tmp = {0}, fin = {0};
	int rc = ts_buf_puts(&b->text, "]}");
	if (rc)
		goto out;
	uint8_t sha[20];
	ts_sha1(b->text.p, b->text.len, sha);
	char hex[17];
	for (int k = 0; k < 8; k++) {
		hex[2 * k] = "0123456789abcdef"[sha[k] >> 4];
		hex[2 * k + 1] = "0123456789abcdef"[sha[k] & 15];
	}
	hex[16] = '\0';
	int64_t y;
	unsigned mo, d;
	ts_civil_from_days(b->day, &y, &mo, &d);
	int64_t mod = b->last_minute - b->day * TS_MIN_PER_DAY;
	int hh = (int)(mod / 60), mm = (int)(mod % 60);
	rc = ts_buf_printf(&dir, "%s/AWSLogs/%s/CloudTrail-Insight/%s/%04lld/%02u/%02u", ds->root,
			   b->account, b->region, (long long)y, mo, d);
	if (!rc)
		rc = ts_buf_printf(&fin, "%s/%s_CloudTrail-Insight_%s_%04lld%02u%02uT%02d%02dZ_%s.json.gz",
				   dir.p, b->account, b->region, (long long)y, mo, d, hh, mm, hex);
	if (!rc)
		rc = ts_buf_printf(&tmp, "%s/.%s.tmp", dir.p, fin.p + dir.len + 1);
	if (rc)
		goto out;
	const char *what = dir.p;
	if (ts_sink_mkdirs(dir.p, 0) == 0) {
		what = tmp.p;
		if (write_gzip(tmp.p, b->text.p, b->text.len) == 0) {
			what = fin.p;
			if (rename(tmp.p, fin.p) == 0) {
				fsync_dir(dir.p);
				s->st.delivered += b->n;
				s->st.pending -= b->n;
				batch_remove(ds, i);
				ts_backoff_ok(&ds->bo);
				ts_sink_ok(s);
				rc = 0;
				goto out_bufs;
			}
		}
		int e = errno;
		unlink(tmp.p);
		errno = e;
	}
	s->st.failed++;
	snprintf(ds->err, sizeof ds->err, "cannot write '%s': %s", what, strerror(errno));
	ts_sink_fail(s, "%s", ds->err);
	ts_backoff_fail(&ds->bo, now);
	rc = TS_EIO;
out:
	b->text.len = keep;
	if (b->text.p)
		b->text.p[keep] = '\0';
out_bufs:
	ts_buf_free(&dir);
	ts_buf_free(&tmp);
	ts_buf_free(&fin);
	return rc;
}

static int full(const dir_sink *ds, const batch *b)
{
	return b->n >= ds->base.o.dir_max_events || b->text.len >= ds->base.o.dir_max_bytes;
}

static int dir_emit(ts_sink *s, const char *json, size_t len, int64_t now)
{
	dir_sink *ds = (dir_sink *)s;
	s->st.events++;
	ts_event_keys k;
	int64_t sec;
	if (ts_sink_event_keys(json, len, &k)) {
		ts_sink_drop(s, 1, "not a JSON object");
		return 0;
	}
	if (!seg_ok(k.account) || !seg_ok(k.region)) {
		ts_sink_drop(s, 1, "no recipientAccountId or awsRegion fit for a path");
		return 0;
	}
	if (!k.event_time.p || ts_parse_time(k.event_time.p, k.event_time.n, &sec)) {
		ts_sink_drop(s, 1, "no valid eventTime");
		return 0;
	}
	int64_t minute = ts_floordiv(sec, 60), day = ts_day_of(minute);
	size_t i;
	for (i = 0; i < ds->nb; i++) {
		batch *b = &ds->b[i];
		if (b->day == day && ts_str_eqc(k.account, b->account) &&
		    ts_str_eqc(k.region, b->region))
			break;
	}
	if (s->failing && s->st.pending >= s->o.queue_max_events) {
		ts_sink_drop_once(s, 1, "%llu events wait to be written under '%s', its cap",
				 (unsigned long long)s->st.pending, ds->root);
		return 0;
	}
	if (i == ds->nb && ds->nb >= s->o.dir_max_open && ts_backoff_ready(&ds->bo, now)) {
		/* the oldest is written; while writes fail it is kept and more
		 * batches are held, within queue_max_events events */
		size_t old = 0;
		for (size_t j = 1; j < ds->nb; j++)
			if (ds->b[j].opened < ds->b[old].opened)
				old = j;
		int rc = write_batch(ds, old, now);
		if (rc == TS_ENOMEM) {
			ts_sink_drop(s, 1, "%s", ts_strerror(rc));
			return rc;
		}
		i = ds->nb;
	}
	if (i == ds->nb) {
		if (ds->nb == ds->ab) {
			size_t na = ds->ab ? ds->ab * 2 : 8;
			batch *p = realloc(ds->b, na * sizeof *p);
			if (!p) {
				ts_sink_drop(s, 1, "out of memory");
				return TS_ENOMEM;
			}
			ds->b = p;
			ds->ab = na;
		}
		batch *b = &ds->b[ds->nb];
		memset(b, 0, sizeof *b);
		memcpy(b->account, k.account.p, k.account.n);
		memcpy(b->region, k.region.p, k.region.n);
		b->day = day;
		b->last_minute = minute;
		b->opened = now;
		if (ts_buf_puts(&b->text, "{\"Records\":[")) {
			ts_buf_free(&b->text);
			ts_sink_drop(s, 1, "out of memory");
			return TS_ENOMEM;
		}
		ds->nb++;
	}
	batch *b = &ds->b[i];
	if (b->n && b->text.len + len > 4 * s->o.dir_max_bytes) {
		/* only reachable while writes fail */
		ts_sink_drop_once(s, b->n, "file for %s/%s cannot be written and is over %zu "
				 "bytes, its cap", b->account, b->region, 4 * s->o.dir_max_bytes);
		s->st.pending -= b->n;
		b->n = 0;
		b->text.len = 0;
		if (ts_buf_puts(&b->text, "{\"Records\":[")) {
			ts_sink_drop(s, 1, "out of memory");
			return TS_ENOMEM;
		}
	}
	size_t keep = b->text.len, cut = len, cut_to = len;
	if (!ds->context && k.ctx_to) {
		cut = k.ctx_from;
		cut_to = k.ctx_to;
	}
	if ((b->n && ts_buf_add(&b->text, ",", 1)) || ts_buf_add(&b->text, json, cut) ||
	    ts_buf_add(&b->text, json + cut_to, len - cut_to)) {
		b->text.len = keep;
		b->text.p[keep] = '\0';
		ts_sink_drop(s, 1, "out of memory");
		return TS_ENOMEM;
	}
	b->n++;
	s->st.pending++;
	if (minute > b->last_minute)
		b->last_minute = minute;
	if (full(ds, b) && ts_backoff_ready(&ds->bo, now)) {
		int rc = write_batch(ds, i, now);
		if (rc == TS_ENOMEM)
			return rc;
	}
	return 0;
}

static void dir_tick(ts_sink *s, int64_t now)
{
	dir_sink *ds = (dir_sink *)s;
	for (size_t i = 0; i < ds->nb && ts_backoff_ready(&ds->bo, now);) {
		batch *b = &ds->b[i];
		if (full(ds, b) || now - b->opened >= s->o.dir_max_age_ms ||
		    ds->nb > s->o.dir_max_open) {
			if (write_batch(ds, i, now) == 0)
				continue; /* slot i now holds another batch */
		}
		i++;
	}
}

static void dir_finish(ts_sink *s, int64_t now)
{
	dir_sink *ds = (dir_sink *)s;
	uint64_t lost = 0;
	const char *why = NULL;
	while (ds->nb) {
		/* one last try each, backoff or not */
		ts_backoff_ok(&ds->bo);
		int rc = write_batch(ds, ds->nb - 1, now);
		if (rc == 0)
			continue;
		if (!why)
			why = rc == TS_EIO ? ds->err : ts_strerror(rc);
		batch *b = &ds->b[ds->nb - 1];
		lost += b->n;
		s->st.pending -= b->n;
		batch_remove(ds, ds->nb - 1);
	}
	if (lost)
		ts_sink_drop(s, lost, "still failing at the end of the run (%s)", why);
}

static void dir_close(ts_sink *s, int64_t now)
{
	(void)now;
	dir_sink *ds = (dir_sink *)s;
	free(ds->b);
	free(ds->root);
	free(ds);
}

static const ts_sink_ops dir_ops = {"dir", dir_emit, dir_tick, dir_finish, dir_close};

static int dir_open(const char *path, int context, const ts_sink_opts *o, ts_sink **out,
		    char *errbuf, size_t errlen);

/* The options after the last '?' of a dir: spec, '&'-separated: only
 * context=0|1 so far. 0, or TS_EINVAL with the message in errbuf. */
static int dir_options(const char *spec, const char *q, int *context, char *errbuf,
		       size_t errlen)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		if (n == 9 && (memcmp(q, "context=0", 9) == 0 || memcmp(q, "context=1", 9) == 0)) {
			*context = q[8] == '1';
		} else {
			snprintf(errbuf, errlen, "sink 'dir:%s': unknown option '%.*s' (expected "
				 "context=0 or context=1)", spec, (int)(n < 64 ? n : 64), q);
			return TS_EINVAL;
		}
		q += n;
		q += *q == '&';
	}
	return 0;
}

int ts_sink_dir_new(const char *spec, const ts_sink_opts *o, ts_sink **out, char *errbuf,
		    size_t errlen)
{
	int context = 0;
	const char *q = strrchr(spec, '?');
	size_t n = q ? (size_t)(q - spec) : strlen(spec);
	if (q && dir_options(spec, q + 1, &context, errbuf, errlen))
		return TS_EINVAL;
	char *path = malloc(n + 1);
	if (!path) {
		snprintf(errbuf, errlen, "sink 'dir:%s': out of memory", spec);
		return TS_ENOMEM;
	}
	memcpy(path, spec, n);
	path[n] = '\0';
	int rc = dir_open(path, context, o, out, errbuf, errlen);
	free(path);
	return rc;
}

/* dir_new for the folder path alone. */
static int dir_open(const char *path, int context, const ts_sink_opts *o, ts_sink **out,
		    char *errbuf, size_t errlen)
{
	if (!*path) {
		snprintf(errbuf, errlen, "sink 'dir:': no folder given (dir:PATH)");
		return TS_EINVAL;
	}
	if (o->dir_max_bytes > (size_t)UINT32_MAX / 8) {
		snprintf(errbuf, errlen, "sink 'dir:%s': file size cap over %u bytes", path,
			 UINT32_MAX / 8);
		return TS_EINVAL;
	}
	if (ts_sink_mkdirs(path, 0)) {
		snprintf(errbuf, errlen, "sink 'dir:%s': cannot make the folder: %s", path,
			 strerror(errno));
		return TS_EIO;
	}
	dir_sink *ds = calloc(1, sizeof *ds);
	size_t n = strlen(path);
	if (ds)
		ds->root = malloc(n + 1);
	if (!ds || !ds->root) {
		free(ds);
		snprintf(errbuf, errlen, "sink 'dir:%s': out of memory", path);
		return TS_ENOMEM;
	}
	memcpy(ds->root, path, n + 1);
	ds->context = context;
	while (n > 1 && ds->root[n - 1] == '/')
		ds->root[--n] = '\0';
	ds->base.ops = &dir_ops;
	ds->base.o = *o;
	snprintf(ds->base.name, sizeof ds->base.name, "dir:%s%s", path, context ? "?context=1" : "");
	ts_sink_backoff_init(&ds->bo, o);
	*out = &ds->base;
	return 0;
}
