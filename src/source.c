/* source.c - walking folders and reading inputs.
 *
 * Reading: 256 KiB reads pushed into one ts_reader per input, drained after
 * every read; each record text goes through one ts_parser (reused across
 * inputs of the call). Skips are counted by reason and reported with the
 * offset the reader gives (in decompressed bytes for gzip input).
 * The walker collects paths into a ts_pathlist that the caller frees.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gunzip.h"
#include "shape.h"
#include "sniff.h"
#include "source.h"

#define READ_SIZE (256 * 1024)
#define WHOLE_MAX_IN ((uint64_t)64 << 20)  /* files read whole up to this */
#define WHOLE_MAX_OUT ((uint64_t)512 << 20) /* and decoded whole up to this */
#define WHOLE_KEEP ((size_t)16 << 20)       /* raw buffer kept between files */

static int push_path(ts_pathlist *l, const char *p);
int ts_pathlist_push(ts_pathlist *l, const char *p) { return push_path(l, p); }

static int push_path(ts_pathlist *l, const char *p)
{
	if (ts_grow(&l->paths, &l->alloc, l->n + 1, sizeof *l->paths, 64))
		return TS_ENOMEM;
	size_t len = strlen(p);
	char *c = malloc(len + 1);
	if (!c)
		return TS_ENOMEM;
	memcpy(c, p, len + 1);
	l->paths[l->n++] = c;
	return 0;
}

void ts_pathlist_free(ts_pathlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	memset(l, 0, sizeof *l);
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

int ts_source_is_log_name(const char *name)
{
	if (name[0] == '.')
		return 0; /* hidden: temporary names of writers and syncs */
	static const char *ok[] = {".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson",
				   ".ndjson.gz"};
	if (strstr(name, "CloudTrail-Digest") || strstr(name, "CloudTrail-Insight"))
		return 0;
	for (size_t i = 0; i < TS_ARRAY_LEN(ok); i++)
		if (ends_with(name, ok[i]))
			return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ts_source_list_dir(const char *dir, ts_pathlist *names)
{
	DIR *d = opendir(dir);
	if (!d)
		return TS_EIO;
	struct dirent *ent;
	int rc = 0;
	while (!rc && (ent = readdir(d)))
		if (ent->d_name[0] != '.')
			rc = push_path(names, ent->d_name);
	closedir(d);
	if (!rc && names->n) /* an empty folder has no array at all */
		qsort(names->paths, names->n, sizeof *names->paths, cmp_str);
	return rc;
}

static void report(const ts_source_cb *cb, ts_source_stats *st, int code, const char *path,
		   uint64_t off, const char *detail)
{
	st->skipped++;
	if (code < 0 && -code < TS_ERR_COUNT)
		st->by_reason[-code]++;
	if (cb->skip)
		cb->skip(cb->ctx, code, path, off, detail ? detail : "");
}

static void passed(const ts_source_cb *cb, ts_source_stats *st, const char *path,
		   const char *why)
{
	st->files_ignored++;
	if (cb->passed)
		cb->passed(cb->ctx, path, why);
}

/* Whether a regular file of a name the walk does not know holds JSON
 * text, by its first bytes: NULL if so, else why it is passed over. */
static const char *sniff_file(const char *path)
{
	static const char *const why_empty = "empty", *const why_not = "not JSON text";
	unsigned char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL; /* reading it reports why */
	ssize_t n;
	do
		n = read(fd, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return NULL;
	if (n == 0)
		return why_empty;
	return ts_sniff_json(buf, (size_t)n) ? NULL : why_not;
}

static int walk(const char *dir, ts_pathlist *out, ts_source_stats *st, const ts_source_cb *cb,
		int depth)
{
	if (depth > 64) {
		st->files_failed++;
		report(cb, st, TS_EDEPTH, dir, 0, "folders nested too deep");
		return 0;
	}
	ts_pathlist names = {0};
	int rc = ts_source_list_dir(dir, &names);
	if (rc == TS_EIO) {
		st->files_failed++;
		report(cb, st, TS_EIO, dir, 0, strerror(errno));
		return 0;
	}
	if (rc)
		goto out;
	ts_buf path = {0};
	for (size_t i = 0; i < names.n && !rc; i++) {
		ts_buf_reset(&path);
		if ((rc = ts_buf_printf(&path, "%s/%s", dir, names.paths[i])))
			break;
		struct stat sb;
		if (stat(path.p, &sb) != 0) {
			st->files_failed++;
			report(cb, st, TS_EIO, path.p, 0, strerror(errno));
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (strcmp(names.paths[i], "CloudTrail-Digest") == 0 ||
			    strcmp(names.paths[i], "CloudTrail-Insight") == 0) {
				passed(cb, st, path.p, "digest or insight folder");
				continue;
			}
			rc = walk(path.p, out, st, cb, depth + 1);
		} else if (!S_ISREG(sb.st_mode)) {
			passed(cb, st, path.p, "not a regular file");
		} else if (ts_source_is_log_name(names.paths[i])) {
			rc = push_path(out, path.p);
		} else if (strstr(names.paths[i], "CloudTrail-Digest") ||
			   strstr(names.paths[i], "CloudTrail-Insight")) {
			passed(cb, st, path.p, "digest or insight file");
		} else {
			const char *why = sniff_file(path.p);
			if (why)
				passed(cb, st, path.p, why);
			else
				rc = push_path(out, path.p);
		}
	}
	ts_buf_free(&path);
out:
	ts_pathlist_free(&names);
	return rc;
}

int ts_source_collect(char *const *args, size_t nargs, ts_pathlist *out, ts_source_stats *st,
		      const ts_source_cb *cb)
{
	for (size_t i = 0; i < nargs; i++) {
		int rc;
		struct stat sb;
		if (strcmp(args[i], "-") == 0) {
			rc = push_path(out, "-");
		} else if (stat(args[i], &sb) != 0) {
			st->files_failed++;
			report(cb, st, TS_EIO, args[i], 0, strerror(errno));
			continue;
		} else if (S_ISDIR(sb.st_mode)) {
			size_t len = strlen(args[i]);
			while (len > 1 && args[i][len - 1] == '/')
				args[i][--len] = '\0';
			rc = walk(args[i], out, st, cb, 0);
		} else {
			rc = push_path(out, args[i]);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* What one thread reuses from input to input: the record parser, the
 * whole-file decoder and the buffer a whole file is read into. */
typedef struct rdctx {
	ts_parser *parser;
	ts_shape *shape;
	ts_gunzip *gz;
	unsigned char *raw;
	size_t raw_alloc;
} rdctx;

static void rdctx_free(rdctx *x)
{
	ts_parser_free(x->parser);
	ts_shape_free(x->shape);
	ts_gunzip_free(x->gz);
	free(x->raw);
	memset(x, 0, sizeof *x);
}

static int rdctx_init(rdctx *x, const ts_reader_opts *ropts, const ts_parser_opts *popts)
{
	memset(x, 0, sizeof *x);
	x->parser = ts_parser_new(popts);
	x->shape = ts_shape_new(ropts ? ropts->format : 0, popts ? popts->max_tokens : 0,
				popts ? popts->max_depth : 0);
	x->gz = ts_gunzip_new();
	if (!x->parser || !x->shape || !x->gz) {
		rdctx_free(x);
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
static int parse_item(rdctx *x, const ts_reader_item *it, ts_record *rec, ts_source_stats *st,
		      char *detail, size_t cap)
{
	int pr = ts_parse_record(x->parser, it->text, it->len, rec);
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

/* Pull every item the reader has and hand it on. 0, 1 (stop) or
 * TS_ENOMEM. */
static int drain(ts_reader *r, rdctx *x, const char *path, ts_source_stats *st,
		 const ts_source_cb *cb)
{
	ts_reader_item it;
	int k;
	char detail[240];
	while ((k = ts_reader_next(r, &it)) != 0) {
		if (k == TS_ENOMEM)
			return k;
		if (k < 0) {
			report(cb, st, k, path, it.offset, NULL);
			continue;
		}
		ts_record rec;
		int pr = parse_item(x, &it, &rec, st, detail, sizeof detail);
		if (pr == TS_ENOMEM)
			return pr;
		if (pr == ITEM_IGNORED)
			continue;
		if (pr) {
			report(cb, st, pr, path, it.offset, detail);
			continue;
		}
		int cr = cb->record(cb->ctx, &rec, path, it.offset);
		if (cr == TS_SOURCE_STOP)
			return TS_SOURCE_STOP;
		if (cr < 0) {
			report(cb, st, cr, path, it.offset, NULL);
			continue;
		}
		st->records++;
	}
	return 0;
}

/* Read a regular file of size bytes into x->raw: the number of bytes read
 * (fewer when the file shrank or a read failed: *err is then errno, else
 * 0), or -1 when the buffer cannot be had. */
static ssize_t read_whole(rdctx *x, int fd, size_t size, int *err)
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
 * ts_reader_set_text); plain text is scanned where it lies. Anything else goes through the streaming reader from the bytes
 * already read, so faults are reported exactly as the streaming path
 * reports them. Returns what drain() returns. */
static int read_regular(rdctx *x, ts_reader *r, int fd, size_t size, const char *path,
			const ts_reader_opts *ropts, ts_source_stats *st, const ts_source_cb *cb)
{
	int err;
	ssize_t n = read_whole(x, fd, size, &err);
	if (n < 0)
		return TS_ENOMEM;
	size_t len = (size_t)n;
	const unsigned char *raw = x->raw;
	int set = -1;
	if (err) {
		st->files_failed++;
		report(cb, st, TS_EIO, path, 0, strerror(err));
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
static int read_input(rdctx *x, const char *path, const ts_reader_opts *ropts,
		      ts_source_stats *st, const ts_source_cb *cb)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st->files_failed++;
		report(cb, st, TS_EIO, path, 0, strerror(errno));
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
			report(cb, st, TS_EIO, path, 0, strerror(errno));
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
	rdctx x;
	if (rdctx_init(&x, ropts, popts))
		return TS_ENOMEM;
	int rc = read_input(&x, path, ropts, st, cb);
	rdctx_free(&x);
	return rc;
}

/* ---- parallel reading ----
 * Workers take files in list order and read each into a parsed_file: the
 * records (strings copied into one arena, pointers fixed up when the file
 * is complete), the skips with their offsets and details, and the file's
 * stats. The calling thread replays finished files strictly in list order.
 * slots[i % nslots] holds file i; a worker waits while it would run more
 * than nslots files ahead of the replay. */
#include <pthread.h>

typedef struct skip_item {
	int code;
	uint64_t offset;
	char detail[240]; /* as drain() words it */
} skip_item;

typedef struct parsed_file {
	ts_record *recs;
	uint64_t *offs;
	size_t n, alloc;
	ts_buf arena;
	skip_item *skips;
	size_t nskips, skips_alloc;
	ts_source_stats st;
	int rc;
	int ready;
	int opened; /* the file could be opened: file_begin/file_done apply */
} parsed_file;

typedef struct pool {
	const ts_pathlist *l;
	const ts_reader_opts *ropts;
	const ts_parser_opts *popts;
	parsed_file *slots;
	size_t nslots;
	size_t next;     /* next file a worker takes */
	size_t replayed; /* files the caller has finished with */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} pool;

/* string fields of ts_record, for copying and fixing up */
static ts_str *rec_field(ts_record *r, int i)
{
	ts_str *f[] = {&r->event_time, &r->event_source, &r->event_name, &r->aws_region,
		       &r->account, &r->error_code, &r->event_category, &r->event_type,
		       &r->arn, &r->user_agent};
	return i < (int)TS_ARRAY_LEN(f) ? f[i] : NULL;
}

static int copy_record(void *ctx, const ts_record *rec, const char *path, uint64_t off)
{
	parsed_file *pf = ctx;
	(void)path;
	if (pf->n == pf->alloc) {
		size_t n = pf->alloc ? pf->alloc * 2 : 256;
		ts_record *r = realloc(pf->recs, n * sizeof *r);
		if (r)
			pf->recs = r;
		uint64_t *o = r ? realloc(pf->offs, n * sizeof *o) : NULL;
		if (!o)
			return pf->rc = TS_ENOMEM, TS_SOURCE_STOP;
		pf->offs = o;
		pf->alloc = n;
	}
	ts_record *r = &pf->recs[pf->n];
	*r = *rec;
	ts_str *f;
	for (int i = 0; (f = rec_field(r, i)); i++) {
		if (!f->p)
			continue;
		/* remember the arena offset; pointers are fixed up at the end */
		size_t at = pf->arena.len;
		if (ts_buf_add(&pf->arena, f->p, f->n))
			return pf->rc = TS_ENOMEM, TS_SOURCE_STOP;
		f->p = (const char *)(uintptr_t)(at + 1);
	}
	pf->offs[pf->n++] = off;
	return 0;
}

static void mark_opened(void *ctx, const char *path)
{
	(void)path;
	((parsed_file *)ctx)->opened = 1;
}

static void keep_skip(void *ctx, int code, const char *path, uint64_t off, const char *detail)
{
	parsed_file *pf = ctx;
	(void)path;
	if (ts_grow(&pf->skips, &pf->skips_alloc, pf->nskips + 1, sizeof *pf->skips, 8))
		return; /* the skip is still counted in the stats */
	skip_item *s = &pf->skips[pf->nskips++];
	s->code = code;
	s->offset = off;
	snprintf(s->detail, sizeof s->detail, "%s", detail);
}

static void clear_file(parsed_file *pf)
{
	free(pf->recs);
	free(pf->offs);
	free(pf->skips);
	ts_buf_free(&pf->arena);
	memset(pf, 0, sizeof *pf);
}

/* Turn the arena offsets copy_record left in the string fields into
 * pointers, once the arena has stopped growing. */
static void fix_pointers(parsed_file *pf)
{
	for (size_t k = 0; k < pf->n; k++) {
		ts_str *f;
		for (int j = 0; (f = rec_field(&pf->recs[k], j)); j++)
			if (f->p)
				f->p = pf->arena.p + ((uintptr_t)f->p - 1);
	}
}

static void *worker(void *arg)
{
	pool *p = arg;
	rdctx x;
	int xrc = rdctx_init(&x, p->ropts, p->popts);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->stop && p->next < p->l->n && p->next >= p->replayed + p->nslots)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop || p->next >= p->l->n) {
			pthread_mutex_unlock(&p->mu);
			rdctx_free(&x);
			return NULL;
		}
		size_t i = p->next++;
		parsed_file *pf = &p->slots[i % p->nslots];
		pthread_mutex_unlock(&p->mu);

		ts_source_cb cb = {copy_record, keep_skip, NULL, pf, mark_opened, NULL, 0, NULL};
		int rc = xrc ? xrc : read_input(&x, p->l->paths[i], p->ropts, &pf->st, &cb);
		if (rc == TS_ENOMEM)
			pf->rc = rc;
		fix_pointers(pf);
		pthread_mutex_lock(&p->mu);
		pf->ready = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
}

static void merge_stats(ts_source_stats *into, const ts_source_stats *s)
{
	into->files += s->files;
	into->files_failed += s->files_failed;
	into->files_ignored += s->files_ignored;
	into->ignored_digests += s->ignored_digests;
	into->ignored_control += s->ignored_control;
	into->bytes_in += s->bytes_in;
	into->bytes_out += s->bytes_out;
	into->skipped += s->skipped;
	for (int i = 0; i < TS_ERR_COUNT; i++)
		into->by_reason[i] += s->by_reason[i];
}

/* Replay one parsed file through the caller's callbacks. */
static int replay(parsed_file *pf, const char *path, ts_source_stats *st, const ts_source_cb *cb)
{
	if (pf->rc)
		return pf->rc;
	merge_stats(st, &pf->st);
	if (pf->opened && cb->file_begin)
		cb->file_begin(cb->ctx, path);
	for (size_t k = 0; k < pf->nskips; k++)
		if (cb->skip)
			cb->skip(cb->ctx, pf->skips[k].code, path, pf->skips[k].offset, pf->skips[k].detail);
	for (size_t k = 0; k < pf->n; k++) {
		int cr = cb->record(cb->ctx, &pf->recs[k], path, pf->offs[k]);
		if (cr == TS_SOURCE_STOP)
			return TS_SOURCE_STOP;
		if (cr < 0) {
			report(cb, st, cr, path, pf->offs[k], NULL);
			continue;
		}
		st->records++;
	}
	if (pf->opened && cb->file_done)
		cb->file_done(cb->ctx, path, st);
	return 0;
}

/* ---- one input on two threads ----
 * A single input (one file, or stdin in a backfill) has no other file to
 * overlap with, so it is cut in batches instead: a reader thread inflates,
 * splits and parses into batches of PIPE_BATCH records (the parsed_file of
 * the pool, one per slot), the calling thread replays each batch as soon as
 * it is complete. At most PIPE_SLOTS batches wait. Skips travel in the batch
 * that was being filled when they were found; the file's stats travel in
 * its last batch. */
#define PIPE_SLOTS 3
#define PIPE_BATCH 8192

typedef struct pipe1 {
	const char *path;
	const ts_reader_opts *ropts;
	const ts_parser_opts *popts;
	parsed_file slots[PIPE_SLOTS];
	size_t produced, consumed; /* batches published, batches replayed */
	int stop;                  /* the caller wants no more */
	ts_source_stats st;        /* the reader thread's, for the whole input */
	pthread_mutex_t mu;
	pthread_cond_t cv;
} pipe1;

/* Hand the batch being filled to the caller, then wait for a free slot.
 * 0, or 1 when the caller stopped. */
static int pipe_publish(pipe1 *q)
{
	fix_pointers(&q->slots[q->produced % PIPE_SLOTS]);
	pthread_mutex_lock(&q->mu);
	q->slots[q->produced % PIPE_SLOTS].ready = 1;
	q->produced++;
	pthread_cond_broadcast(&q->cv);
	while (!q->stop && q->produced - q->consumed >= PIPE_SLOTS)
		pthread_cond_wait(&q->cv, &q->mu);
	int stop = q->stop;
	pthread_mutex_unlock(&q->mu);
	return stop;
}

static parsed_file *pipe_filling(pipe1 *q) { return &q->slots[q->produced % PIPE_SLOTS]; }

static int pipe_record(void *ctx, const ts_record *rec, const char *path, uint64_t off)
{
	pipe1 *q = ctx;
	parsed_file *pf = pipe_filling(q);
	if (copy_record(pf, rec, path, off))
		return TS_SOURCE_STOP;
	return pf->n >= PIPE_BATCH ? pipe_publish(q) : 0;
}

static void pipe_skip(void *ctx, int code, const char *path, uint64_t off, const char *detail)
{
	keep_skip(pipe_filling(ctx), code, path, off, detail);
}

static void pipe_opened(void *ctx, const char *path)
{
	mark_opened(pipe_filling(ctx), path);
}

static void *pipe_reader(void *arg)
{
	pipe1 *q = arg;
	rdctx x;
	int rc = rdctx_init(&x, q->ropts, q->popts);
	ts_source_cb cb = {pipe_record, pipe_skip, NULL, q, pipe_opened, NULL, 0, NULL};
	if (!rc)
		rc = read_input(&x, q->path, q->ropts, &q->st, &cb);
	rdctx_free(&x);
	/* the last batch: whatever is left, the stats and how it ended */
	parsed_file *pf = pipe_filling(q);
	if (rc == TS_ENOMEM && !pf->rc)
		pf->rc = rc;
	pf->st = q->st;
	fix_pointers(pf);
	pthread_mutex_lock(&q->mu);
	pf->ready = 2;
	q->produced++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

static int read_pipelined(const char *path, const ts_reader_opts *ropts,
			  const ts_parser_opts *popts, ts_source_stats *st, const ts_source_cb *cb)
{
	pipe1 *q = calloc(1, sizeof *q);
	if (!q)
		return TS_ENOMEM;
	q->path = path;
	q->ropts = ropts;
	q->popts = popts;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	pthread_t th;
	int rc = 0;
	if (pthread_create(&th, NULL, pipe_reader, q) != 0) {
		/* no thread to be had: read inline */
		rdctx x;
		rc = rdctx_init(&x, ropts, popts);
		if (!rc)
			rc = read_input(&x, path, ropts, st, cb);
		rdctx_free(&x);
		goto out;
	}
	int begun = 0;
	for (;;) {
		parsed_file *pf = &q->slots[q->consumed % PIPE_SLOTS];
		pthread_mutex_lock(&q->mu);
		while (!pf->ready)
			pthread_cond_wait(&q->cv, &q->mu);
		pthread_mutex_unlock(&q->mu);
		int last = pf->ready == 2;
		if (pf->rc) {
			rc = pf->rc;
		} else {
			if (pf->opened && !begun && cb->file_begin) {
				cb->file_begin(cb->ctx, path);
				begun = 1;
			}
			for (size_t k = 0; k < pf->nskips; k++)
				if (cb->skip)
					cb->skip(cb->ctx, pf->skips[k].code, path, pf->skips[k].offset,
						 pf->skips[k].detail);
			for (size_t k = 0; k < pf->n && !rc; k++) {
				int cr = cb->record(cb->ctx, &pf->recs[k], path, pf->offs[k]);
				if (cr == TS_SOURCE_STOP)
					rc = TS_SOURCE_STOP;
				else if (cr < 0)
					report(cb, st, cr, path, pf->offs[k], NULL);
				else
					st->records++;
			}
			if (last && !rc) {
				merge_stats(st, &pf->st);
				if (begun && cb->file_done)
					cb->file_done(cb->ctx, path, st);
			}
		}
		clear_file(pf);
		pthread_mutex_lock(&q->mu);
		q->consumed++;
		if (rc)
			q->stop = 1;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		if (last || rc)
			break;
	}
	pthread_join(th, NULL);
	for (size_t i = 0; i < PIPE_SLOTS; i++)
		clear_file(&q->slots[i]);
out:
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
	return rc;
}

int ts_source_read_all(const ts_pathlist *l, int nthreads, const ts_reader_opts *ropts,
		       const ts_parser_opts *popts, ts_source_stats *st, const ts_source_cb *cb)
{
	if (nthreads > 1 && l->n == 1)
		return read_pipelined(l->paths[0], ropts, popts, st, cb);
	if (nthreads <= 1 || l->n < 2) {
		rdctx x;
		int rc = rdctx_init(&x, ropts, popts);
		for (size_t i = 0; i < l->n && !rc; i++)
			rc = read_input(&x, l->paths[i], ropts, st, cb);
		rdctx_free(&x);
		return rc;
	}
	pool p = {.l = l, .ropts = ropts, .popts = popts, .nslots = (size_t)nthreads * 2};
	p.slots = calloc(p.nslots, sizeof *p.slots);
	pthread_t *th = calloc((size_t)nthreads, sizeof *th);
	if (!p.slots || !th) {
		free(p.slots);
		free(th);
		return TS_ENOMEM;
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	int started = 0, rc = 0;
	for (; started < nthreads; started++)
		if (pthread_create(&th[started], NULL, worker, &p) != 0)
			break;
	if (!started) {
		rc = TS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < l->n && !rc; i++) {
		parsed_file *pf = &p.slots[i % p.nslots];
		pthread_mutex_lock(&p.mu);
		while (!pf->ready)
			pthread_cond_wait(&p.cv, &p.mu);
		pthread_mutex_unlock(&p.mu);
		rc = replay(pf, l->paths[i], st, cb);
		clear_file(pf);
		pthread_mutex_lock(&p.mu);
		p.replayed = i + 1;
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.mu);
	}
out:
	pthread_mutex_lock(&p.mu);
	p.stop = 1;
	pthread_cond_broadcast(&p.cv);
	pthread_mutex_unlock(&p.mu);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < p.nslots; i++)
		clear_file(&p.slots[i]);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	free(p.slots);
	free(th);
	return rc;
}

int ts_source_file_id(const char *path, char *name, size_t cap, ts_file_id *out)
{
	struct stat sb;
	char real[PATH_MAX]; /* on the stack: no allocation per file */
	if (!realpath(path, real) || stat(real, &sb) != 0 || cap == 0)
		return TS_EIO;
	const char *from = real, *p = real;
	while ((p = strstr(p, "/AWSLogs/")) != NULL)
		from = ++p;
	snprintf(name, cap, "%s", from);
	out->name = name;
	out->size = (uint64_t)sb.st_size;
	out->mtime = (int64_t)sb.st_mtime;
	return 0;
}
