/* source.c - reading one input: a regular file of up to 64 MiB is read
 * whole (gzip decoded whole when it is made of whole, valid members within
 * the caps, plain text scanned where it lies), anything else (standard
 * input, a pipe, a larger file, --stream-only) in 256 KiB reads pushed
 * into one ts_reader and drained after every read. Each item goes through
 * the src_ctx's record parser, and through shape.c when it is not a record
 * by itself. Skips are counted by reason and reported with the offset the
 * reader gives (in decompressed bytes for gzip input).
 *
 * Owns, per call of ts_source_read, one src_ctx (freed before it returns)
 * and per input one ts_reader and one read buffer (freed when the input is
 * done). The records handed to the callback point into the reader's or
 * the parser's memory and are valid until the callback returns.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_int.h"

#define READ_SIZE (256 * 1024)
#define WHOLE_MAX_IN ((uint64_t)64 << 20)  /* files read whole up to this */
#define WHOLE_MAX_OUT ((uint64_t)512 << 20) /* and decoded whole up to this */
#define WHOLE_KEEP ((size_t)16 << 20)       /* raw buffer kept between files */

void ts_source_count_skip(const ts_source_cb *cb, ts_source_stats *st, int code, const char *path,
			  uint64_t off, const char *detail)
{
	st->skipped++;
	if (code < 0 && -code < TS_ERR_COUNT)
		st->by_reason[-code]++;
	if (cb->skip)
		cb->skip(cb->ctx, code, path, off, detail ? detail : "");
}

void src_ctx_free(src_ctx *x)
{
	ts_parser_free(x->parser);
	ts_shape_free(x->shape);
	ts_gunzip_free(x->gz);
	free(x->raw);
	memset(x, 0, sizeof *x);
}

int src_ctx_init(src_ctx *x, const ts_reader_opts *ropts, const ts_parser_opts *popts)
{
	memset(x, 0, sizeof *x);
	x->parser = ts_parser_new(popts);
	x->shape = ts_shape_new(ropts ? ropts->format : 0, popts ? popts->max_tokens : 0,
				popts ? popts->max_depth : 0);
	x->gz = ts_gunzip_new();
	if (!x->parser || !x->shape || !x->gz) {
		src_ctx_free(x);
		return TS_ENOMEM;
	}
	return 0;
}

/* How many records a lost item held, where that can be told: its
 * "eventTime" keys. */
static size_t count_times(const char *s, size_t n)
{
	static const char key[] = "\"eventTime\"";
	size_t k = 0, kl = sizeof key - 1;
	const char *e = s + n;
	while ((size_t)(e - s) >= kl) {
		const char *q = memchr(s, '"', (size_t)(e - s) - kl + 1);
		if (!q)
			break;
		if (!memcmp(q, key, kl))
			k++;
		s = q + 1;
	}
	return k;
}

enum { ITEM_RECORD = 0, ITEM_IGNORED = 1 };

/* Parse one item the reader returned: a record, or a wrapper of one
 * (shape.h). ITEM_RECORD with *rec filled; ITEM_IGNORED when it is to be
 * ignored (counted here); else a skip code with detail[cap] written. */
static int parse_item(src_ctx *x, const ts_reader_item *it, ts_record *rec,
		      ts_source_stats *st, char *detail, size_t cap)
{
	int pr;
	if (it->text == x->span_text && it->len == x->span_len) {
		*rec = x->span_rec;
		pr = x->span_rc;
	} else {
		pr = ts_parse_record(x->parser, it->text, it->len, rec);
	}
	x->span_text = NULL;
	if (!pr || pr == TS_ENOMEM)
		return pr;
	if (pr == TS_ENOTIME || pr == TS_EFIELD) {
		ts_shape_inner in;
		int k = ts_shape_unwrap(x->shape, it->text, it->len, &in);
		if (k == TS_ENOMEM)
			return k;
		if (k == TS_SHAPE_DIGEST) {
			st->ignored_digests++;
			return ITEM_IGNORED;
		}
		if (k == TS_SHAPE_CONTROL) {
			st->ignored_control++;
			return ITEM_IGNORED;
		}
		if (k == TS_EJSON) {
			snprintf(detail, cap, "a wrapped record: bad escape or lone surrogate");
			return k;
		}
		if (k == TS_SHAPE_RECORD) {
			pr = ts_parse_record(x->parser, in.text, in.len, rec);
			if (pr)
				snprintf(detail, cap, "in a %s event: %s", in.wrapper,
					 ts_parser_errdetail(x->parser));
			return pr;
		}
	}
	/* an item lost whole: broken, or an unknown wrapper (no eventTime
	 * at its top, records inside) */
	size_t lost = pr == TS_EJSON || pr == TS_ETOKENS || pr == TS_EDEPTH || pr == TS_EUTF8 ||
			      pr == TS_ENOTIME
			      ? count_times(it->text, it->len)
			      : 0;
	if (lost > (pr == TS_ENOTIME ? 0u : 1u))
		snprintf(detail, cap, "%s; it holds %zu records (by their eventTime keys), lost with it",
			 ts_parser_errdetail(x->parser), lost);
	else
		snprintf(detail, cap, "%s", ts_parser_errdetail(x->parser));
	return pr;
}

/* The reader's span callback: the record at s parsed in one pass with
 * finding its end, kept for parse_item. */
static size_t span_record(void *ctx, const char *s, size_t avail)
{
	src_ctx *x = ctx;
	size_t len;
	int rc = ts_parse_record_span(x->parser, s, avail, &len, &x->span_rec);
	x->span_text = len ? s : NULL;
	x->span_len = len;
	x->span_rc = rc;
	return len;
}

/* Pull every item the reader has and hand it on. 0, 1 (stop) or
 * TS_ENOMEM. */
static int drain(ts_reader *r, src_ctx *x, const char *path, ts_source_stats *st,
		 const ts_source_cb *cb)
{
	ts_reader_item it;
	int k;
	char detail[240];
	while ((k = ts_reader_next(r, &it)) != 0) {
		if (k == TS_ENOMEM)
			return k;
		if (k < 0) {
			ts_source_count_skip(cb, st, k, path, it.offset, NULL);
			continue;
		}
		ts_record rec;
		int pr = parse_item(x, &it, &rec, st, detail, sizeof detail);
		if (pr == TS_ENOMEM)
			return pr;
		if (pr == ITEM_IGNORED)
			continue;
		if (pr) {
			ts_source_count_skip(cb, st, pr, path, it.offset, detail);
			continue;
		}
		int cr = cb->record(cb->ctx, &rec, path, it.offset);
		if (cr == TS_SOURCE_STOP)
			return TS_SOURCE_STOP;
		if (cr < 0) {
			ts_source_count_skip(cb, st, cr, path, it.offset, NULL);
			continue;
		}
		st->records++;
	}
	return 0;
}

/* Read a regular file of size bytes into x->raw: the number of bytes read
 * (fewer when the file shrank or a read failed: *err is then errno, else
 * 0), or -1 when the buffer cannot be had. */
static ssize_t read_whole(src_ctx *x, int fd, size_t size, int *err)
{
	*err = 0;
	if (x->raw_alloc > WHOLE_KEEP) {
		free(x->raw);
		x->raw = NULL;
		x->raw_alloc = 0;
	}
	if (x->raw_alloc < size) {
		unsigned char *p = realloc(x->raw, size);
		if (!p)
			return -1;
		x->raw = p;
		x->raw_alloc = size;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, x->raw + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* A regular file read whole. Gzip is decoded in one call when it is made
 * of whole, valid members within the caps (output and ratio, see
 * ts_reader_set_text); plain text is scanned where it lies. Anything else
 * goes through the streaming reader from the bytes already read, so faults
 * are reported exactly as the streaming path reports them. Returns what
 * drain() returns. */
static int read_whole_input(src_ctx *x, ts_reader *r, const unsigned char *raw, size_t len,
			    const char *failed, const char *path, const ts_reader_opts *ropts,
			    ts_source_stats *st, const ts_source_cb *cb);

static int read_regular(src_ctx *x, ts_reader *r, int fd, size_t size, const char *path,
			const ts_reader_opts *ropts, ts_source_stats *st, const ts_source_cb *cb)
{
	int err;
	ssize_t n = read_whole(x, fd, size, &err);
	if (n < 0)
		return TS_ENOMEM;
	return read_whole_input(x, r, x->raw, (size_t)n, err ? strerror(err) : NULL, path, ropts,
				st, cb);
}

/* An input held whole in raw[0..len) (failed: it was cut short, and why;
 * counted and skipped as TS_EIO, and what there is still counts). */
static int read_whole_input(src_ctx *x, ts_reader *r, const unsigned char *raw, size_t len,
			    const char *failed, const char *path, const ts_reader_opts *ropts,
			    ts_source_stats *st, const ts_source_cb *cb)
{
	int set = -1;
	if (failed) {
		st->files_failed++;
		ts_source_count_skip(cb, st, TS_EIO, path, 0, failed);
		/* what was read so far still counts: streamed, below */
	} else if (len >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
		uint64_t max_out = ropts && ropts->max_output ? ropts->max_output : WHOLE_MAX_OUT;
		const char *text;
		size_t tlen;
		int g = ts_gunzip_all(x->gz, raw, len, max_out < WHOLE_MAX_OUT ? max_out : WHOLE_MAX_OUT,
				      &text, &tlen);
		if (g == TS_ENOMEM)
			return g;
		if (!g)
			set = ts_reader_set_text(r, text, tlen, len);
	} else {
		set = ts_reader_set_text(r, (const char *)raw, len, len);
	}
	if (set != 0) {
		int rc = len ? ts_reader_feed(r, raw, len) : 0;
		if (rc)
			return rc;
		ts_reader_finish(r);
	}
	return drain(r, x, path, st, cb);
}

/* Read one input through x: a regular file of a moderate size whole,
 * anything else (standard input, a pipe, a large file, or every input
 * with ropts->stream_only) in READ_SIZE pieces. */
int src_read_input(src_ctx *x, const char *path, const ts_reader_opts *ropts,
		   ts_source_stats *st, const ts_source_cb *cb)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st->files_failed++;
		ts_source_count_skip(cb, st, TS_EIO, path, 0, strerror(errno));
		return 0;
	}
	if (cb->file_begin)
		cb->file_begin(cb->ctx, path);
	ts_reader *r = ts_reader_new(ropts);
	char *buf = NULL;
	int rc = 0, done = 0;
	if (!r) {
		rc = TS_ENOMEM;
		goto out;
	}
	ts_reader_set_span(r, span_record, x);
	x->span_text = NULL;
	struct stat sb;
	if (fd > 0 && !cb->idle && !(ropts && ropts->stream_only) && fstat(fd, &sb) == 0 &&
	    S_ISREG(sb.st_mode) && sb.st_size > 0 && (uint64_t)sb.st_size <= WHOLE_MAX_IN) {
		rc = read_regular(x, r, fd, (size_t)sb.st_size, path, ropts, st, cb);
		done = 1;
	} else if (!(buf = malloc(READ_SIZE))) {
		rc = TS_ENOMEM;
		goto out;
	}
	while (!done && !rc) {
		if (cb->idle) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			int pr = poll(&pfd, 1, cb->idle_ms > 0 ? cb->idle_ms : 1000);
			if (pr == 0 || (pr < 0 && errno == EINTR)) {
				if (cb->idle(cb->ctx))
					rc = TS_SOURCE_STOP;
				continue;
			}
		}
		ssize_t n = read(fd, buf, READ_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			st->files_failed++;
			ts_source_count_skip(cb, st, TS_EIO, path, 0, strerror(errno));
			/* what was read so far still counts */
			ts_reader_finish(r);
			done = 1;
		} else if (n == 0) {
			ts_reader_finish(r);
			done = 1;
		} else if ((rc = ts_reader_feed(r, buf, (size_t)n))) {
			break;
		}
		rc = drain(r, x, path, st, cb);
	}
	if (!rc || rc == TS_SOURCE_STOP)
		st->files++;
	ts_reader_stats rs;
	ts_reader_get_stats(r, &rs);
	st->bytes_in += rs.in_bytes;
	st->bytes_out += rs.out_bytes;
	if (cb->file_done)
		cb->file_done(cb->ctx, path, st);
out:
	free(buf);
	ts_reader_free(r);
	if (fd > 0)
		close(fd);
	return rc;
}

int ts_source_read(const char *path, const ts_reader_opts *ropts, const ts_parser_opts *popts,
		   ts_source_stats *st, const ts_source_cb *cb)
{
	src_ctx x;
	if (src_ctx_init(&x, ropts, popts))
		return TS_ENOMEM;
	int rc = src_read_input(&x, path, ropts, st, cb);
	src_ctx_free(&x);
	return rc;
}

/* --- inputs pushed in pieces --- */

/* An input is held whole (in x.raw) up to WHOLE_MAX_IN bytes and then read
 * as a file read whole is (gzip decoded in one call); past that, or with
 * stream_only, it is streamed: what was held first, then each piece. */
struct ts_source_push {
	src_ctx x;
	ts_reader_opts ro;
	int has_ro;
	ts_reader *r;      /* the input's reader; NULL between inputs */
	char *name;
	ts_source_stats *st;
	const ts_source_cb *cb;
	int stopped;
	int streaming;     /* fed piece by piece, not held */
	size_t held;       /* bytes held in x.raw */
};

/* Hold n more bytes; -1 when they would pass the cap or out of memory. */
static int push_hold(ts_source_push *p, const void *buf, size_t n)
{
	if (n > WHOLE_MAX_IN - p->held)
		return -1;
	if (p->held + n > p->x.raw_alloc) {
		size_t na = p->x.raw_alloc ? p->x.raw_alloc : 256 * 1024;
		while (na < p->held + n)
			na *= 2;
		unsigned char *q = realloc(p->x.raw, na);
		if (!q)
			return -1;
		p->x.raw = q;
		p->x.raw_alloc = na;
	}
	memcpy(p->x.raw + p->held, buf, n);
	p->held += n;
	return 0;
}

ts_source_push *ts_source_push_new(const ts_reader_opts *ropts, const ts_parser_opts *popts)
{
	ts_source_push *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	if (src_ctx_init(&p->x, ropts, popts)) {
		free(p);
		return NULL;
	}
	if (ropts) {
		p->ro = *ropts;
		p->has_ro = 1;
	}
	return p;
}

void ts_source_push_free(ts_source_push *p)
{
	if (!p)
		return;
	ts_reader_free(p->r);
	free(p->name);
	src_ctx_free(&p->x);
	free(p);
}

int ts_source_push_begin(ts_source_push *p, const char *name, ts_source_stats *st,
			 const ts_source_cb *cb)
{
	ts_reader_free(p->r);
	free(p->name);
	p->r = ts_reader_new(p->has_ro ? &p->ro : NULL);
	p->name = strdup(name);
	p->st = st;
	p->cb = cb;
	p->stopped = 0;
	p->held = 0;
	p->streaming = p->has_ro && p->ro.stream_only;
	if (p->x.raw_alloc > WHOLE_KEEP) {
		free(p->x.raw);
		p->x.raw = NULL;
		p->x.raw_alloc = 0;
	}
	if (!p->r || !p->name) {
		ts_reader_free(p->r);
		free(p->name);
		p->r = NULL;
		p->name = NULL;
		return TS_ENOMEM;
	}
	ts_reader_set_span(p->r, span_record, &p->x);
	p->x.span_text = NULL;
	if (cb->file_begin)
		cb->file_begin(cb->ctx, p->name);
	return 0;
}

int ts_source_push_bytes(ts_source_push *p, const void *buf, size_t n)
{
	assert(p->r);
	if (p->stopped)
		return TS_SOURCE_STOP;
	if (!p->streaming && push_hold(p, buf, n) == 0)
		return 0;
	int rc = 0;
	if (!p->streaming) { /* too big to hold: streamed from here on */
		p->streaming = 1;
		rc = p->held ? ts_reader_feed(p->r, p->x.raw, p->held) : 0;
		p->held = 0;
		if (!rc)
			rc = drain(p->r, &p->x, p->name, p->st, p->cb);
		if (rc) {
			if (rc == TS_SOURCE_STOP)
				p->stopped = 1;
			return rc;
		}
	}
	rc = ts_reader_feed(p->r, buf, n);
	if (!rc)
		rc = drain(p->r, &p->x, p->name, p->st, p->cb);
	if (rc == TS_SOURCE_STOP)
		p->stopped = 1;
	return rc;
}

int ts_source_push_end(ts_source_push *p, const char *failed)
{
	assert(p->r);
	ts_source_stats *st = p->st;
	const ts_source_cb *cb = p->cb;
	int rc = 0;
	if (!p->streaming && !p->stopped && p->held) {
		rc = read_whole_input(&p->x, p->r, p->x.raw, p->held, failed, p->name,
				      p->has_ro ? &p->ro : NULL, st, cb);
	} else {
		if (failed) {
			st->files_failed++;
			ts_source_count_skip(cb, st, TS_EIO, p->name, 0, failed);
		}
		if (p->stopped) {
			rc = TS_SOURCE_STOP;
		} else {
			ts_reader_finish(p->r);
			rc = drain(p->r, &p->x, p->name, st, cb);
		}
	}
	if (!rc || rc == TS_SOURCE_STOP)
		st->files++;
	ts_reader_stats rs;
	ts_reader_get_stats(p->r, &rs);
	st->bytes_in += rs.in_bytes;
	st->bytes_out += rs.out_bytes;
	if (cb->file_done)
		cb->file_done(cb->ctx, p->name, st);
	ts_reader_free(p->r);
	p->r = NULL;
	return rc;
}
