/* source_mt.c - reading a list of inputs on worker threads.
 *
 * Workers take files in list order and read each, through a src_ctx of
 * their own, into a parsed_file: the records (strings copied into one
 * arena, each record kept as offsets into it, a kept_rec), the skips with their
 * offsets and details, and the file's stats. The calling thread replays
 * finished files strictly in list order through the caller's callbacks, so
 * the callbacks see what an inline read would show them. slots[i % nslots]
 * holds file i; a worker waits while it would run more than nslots files
 * ahead of the replay. A single input is cut in batches instead (below).
 *
 * ts_source_read_all owns the pool, its slots and threads; all are joined
 * and freed before it returns. A slot's memory is the worker's until it is
 * marked ready, then the calling thread's until it is cleared.
 */
#include <pthread.h>
#include <stdlib.h>

#include "source_int.h"
#include "source_mt.h"

typedef struct skip_item {
	int code;
	uint64_t offset;
	char detail[240]; /* as source.c words it */
} skip_item;

/* A record as a slot keeps it: its strings in the slot's arena, by
 * offset + 1 (0: absent) and length. About half a ts_record. */
#define NSTR 12
typedef struct kept_rec {
	int64_t time;
	uint64_t offset; /* the record's offset in its input */
	uint32_t at[NSTR], len[NSTR];
	signed char read_only, management;
} kept_rec;
/* a field added to ts_record must be added to kept_rec as well */
_Static_assert(sizeof(ts_record) == sizeof(int64_t) + NSTR * sizeof(ts_str) + 2 * sizeof(int),
	       "kept_rec holds every field of ts_record");

typedef struct parsed_file {
	kept_rec *recs;
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

/* string field i of ts_record, NULL past the last */
static const ts_str *rec_field(const ts_record *r, int i)
{
	const ts_str *f[NSTR] = {&r->event_time, &r->event_source, &r->event_name,
				 &r->aws_region, &r->account, &r->error_code,
				 &r->event_category, &r->event_type, &r->arn,
				 &r->identity_type, &r->invoked_by, &r->user_agent};
	return i < NSTR ? f[i] : NULL;
}

static int copy_record(void *ctx, const ts_record *rec, const char *path, uint64_t off)
{
	parsed_file *pf = ctx;
	(void)path;
	if (pf->n == pf->alloc) {
		size_t n = pf->alloc ? pf->alloc * 2 : 256;
		kept_rec *r = realloc(pf->recs, n * sizeof *r);
		if (!r)
			return pf->rc = TS_ENOMEM, TS_SOURCE_STOP;
		pf->recs = r;
		pf->alloc = n;
	}
	kept_rec *k = &pf->recs[pf->n];
	k->time = rec->time;
	k->offset = off;
	k->read_only = (signed char)rec->read_only;
	k->management = (signed char)rec->management;
	const ts_str *f;
	size_t need = 0;
	for (int i = 0; (f = rec_field(rec, i)); i++)
		need += f->n;
	if (pf->arena.len + need >= UINT32_MAX || ts_buf_grow(&pf->arena, need))
		return pf->rc = TS_ENOMEM, TS_SOURCE_STOP;
	/* most fields repeat the record before's (the account, Region,
	 * service, agent ...): those share its copy */
	const kept_rec *prev = pf->n ? k - 1 : NULL;
	for (int i = 0; (f = rec_field(rec, i)); i++) {
		k->len[i] = (uint32_t)f->n;
		if (!f->p) {
			k->at[i] = 0;
		} else if (prev && prev->at[i] && prev->len[i] == f->n &&
			   memcmp(pf->arena.p + prev->at[i] - 1, f->p, f->n) == 0) {
			k->at[i] = prev->at[i];
		} else {
			k->at[i] = (uint32_t)pf->arena.len + 1;
			if (f->n)
				memcpy(pf->arena.p + pf->arena.len, f->p, f->n);
			pf->arena.len += f->n;
		}
	}
	pf->n++;
	return 0;
}

/* The record a slot keeps at k, as the callbacks take it. */
static void unpack(const parsed_file *pf, const kept_rec *k, ts_record *r)
{
	r->time = k->time;
	r->read_only = k->read_only;
	r->management = k->management;
	for (int i = 0; i < NSTR; i++)
		*(ts_str *)rec_field(r, i) =
			k->at[i] ? (ts_str){pf->arena.p + k->at[i] - 1, k->len[i]} : (ts_str){NULL, 0};
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
	free(pf->skips);
	ts_buf_free(&pf->arena);
	memset(pf, 0, sizeof *pf);
}

/* Ready a replayed slot for its next file. Its arrays and arena are kept
 * (up to SLOT_KEEP bytes of strings): freeing them after every file gave
 * the pages back and cost a page fault for each again on the next. */
#define SLOT_KEEP ((size_t)8 << 20)
static void empty_file(parsed_file *pf)
{
	if (pf->arena.alloc > SLOT_KEEP || pf->alloc * sizeof *pf->recs > SLOT_KEEP) {
		clear_file(pf);
		return;
	}
	parsed_file keep = {.recs = pf->recs, .alloc = pf->alloc,
			    .arena = pf->arena, .skips = pf->skips, .skips_alloc = pf->skips_alloc};
	keep.arena.len = 0;
	*pf = keep;
}

static void *worker(void *arg)
{
	pool *p = arg;
	src_ctx x;
	int xrc = src_ctx_init(&x, p->ropts, p->popts);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->stop && p->next < p->l->n && p->next >= p->replayed + p->nslots)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop || p->next >= p->l->n) {
			pthread_mutex_unlock(&p->mu);
			src_ctx_free(&x);
			return NULL;
		}
		size_t i = p->next++;
		parsed_file *pf = &p->slots[i % p->nslots];
		pthread_mutex_unlock(&p->mu);

		ts_source_cb cb = {copy_record, keep_skip, NULL, pf, mark_opened, NULL, 0, NULL};
		int rc = xrc ? xrc : src_read_input(&x, p->l->paths[i], p->ropts, &pf->st, &cb);
		if (rc == TS_ENOMEM)
			pf->rc = rc;
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
		ts_record r;
		unpack(pf, &pf->recs[k], &r);
		int cr = cb->record(cb->ctx, &r, path, pf->recs[k].offset);
		if (cr == TS_SOURCE_STOP)
			return TS_SOURCE_STOP;
		if (cr < 0) {
			ts_source_count_skip(cb, st, cr, path, pf->recs[k].offset, NULL);
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
	src_ctx x;
	int rc = src_ctx_init(&x, q->ropts, q->popts);
	ts_source_cb cb = {pipe_record, pipe_skip, NULL, q, pipe_opened, NULL, 0, NULL};
	if (!rc)
		rc = src_read_input(&x, q->path, q->ropts, &q->st, &cb);
	src_ctx_free(&x);
	/* the last batch: whatever is left, the stats and how it ended */
	parsed_file *pf = pipe_filling(q);
	if (rc == TS_ENOMEM && !pf->rc)
		pf->rc = rc;
	pf->st = q->st;
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
		src_ctx x;
		rc = src_ctx_init(&x, ropts, popts);
		if (!rc)
			rc = src_read_input(&x, path, ropts, st, cb);
		src_ctx_free(&x);
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
				ts_record r;
				unpack(pf, &pf->recs[k], &r);
				uint64_t off = pf->recs[k].offset;
				int cr = cb->record(cb->ctx, &r, path, off);
				if (cr == TS_SOURCE_STOP)
					rc = TS_SOURCE_STOP;
				else if (cr < 0)
					ts_source_count_skip(cb, st, cr, path, off, NULL);
				else
					st->records++;
			}
			if (last && !rc) {
				merge_stats(st, &pf->st);
				if (begun && cb->file_done)
					cb->file_done(cb->ctx, path, st);
			}
		}
		empty_file(pf);
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
		src_ctx x;
		int rc = src_ctx_init(&x, ropts, popts);
		for (size_t i = 0; i < l->n && !rc; i++)
			rc = src_read_input(&x, l->paths[i], ropts, st, cb);
		src_ctx_free(&x);
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
		empty_file(pf);
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
