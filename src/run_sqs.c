/* run_sqs.c - `trailsight stream --sqs QUEUE_URL`: messages about new S3
 * objects received from the queue (sqs.c), read as notifications
 * (sqsmsg.c), the objects they name picked by the folder rule on keys
 * (ts_s3walk_pick: digests and Insight files passed over by key),
 * fetched by the S3 client's pool (s3.c) and pushed through the reader
 * path of files (ts_source_push), one round of up to 50 messages at a
 * time (ReceiveMessage gives 10: more are asked for at once while the
 * answers are full), their objects in delivery order over the client's
 * pool of connections.
 *
 * An object is named for checkpoints as in a backfill of s3:// (the key
 * from "AWSLogs/" on, '#', the ETag; size and Last-Modified), from what
 * the GET answered, so a message delivered again, or a later backfill,
 * finds it done and reads nothing twice. A message is deleted only after
 * the checkpoint that stored the counts of all its objects
 * (ts_cli_sqs_ack, from ts_cli_stream_checkpoint); one whose body is not
 * a notification, or one of whose objects could not be read, is reported
 * and left in the queue, to come back after its visibility timeout and
 * in the end to go where the queue's redrive policy sends it. While a
 * batch is being read, its messages' visibility is extended every half
 * timeout. Everything lives in a ts_sqsrun owned by the ts_run.
 */
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "s3feed.h"
#include "s3walk.h"
#include "sqs.h"
#include "sqsmsg.h"
#include "util.h"

#define RECEIVE 10 /* messages per ReceiveMessage (SQS's most) */
#define BATCH 50   /* messages read in one round: receives go on while answers are full */

struct ts_sqsrun {
	ts_run *r;
	ts_store *store;
	ts_source_cb cb;
	int force;
	int visibility;      /* seconds a received message stays hidden */
	ts_s3 *s3;
	ts_sqs *q;
	/* the batch being read */
	ts_sqs_msgs msgs;
	ts_sqsmsg notes[BATCH];
	int left[BATCH];     /* cannot be processed: not deleted */
	char why[BATCH][300];
	ts_s3_obj *objs;     /* the objects of one bucket to fetch (borrowed keys) */
	size_t *owner;       /* the message of each */
	size_t nobjs;
	const char *bucket;
	double extend_at;    /* when the batch's visibility is extended */
	ts_s3feed feed;      /* the object being read */
	char *name;          /* its checkpoint name */
	ts_pathlist acks;    /* receipts to delete after the next checkpoint */
};

static int64_t wall_now(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

void ts_cli_sqs_free(ts_sqsrun *x)
{
	if (!x)
		return;
	ts_s3_free(x->s3);
	ts_sqs_free(x->q);
	ts_source_push_free(x->feed.push);
	ts_sqs_msgs_free(&x->msgs);
	for (int i = 0; i < BATCH; i++)
		ts_sqsmsg_free(&x->notes[i]);
	free(x->objs);
	free(x->owner);
	free(x->name);
	ts_pathlist_free(&x->acks);
	free(x);
}

int ts_cli_sqs_ack(ts_run *r)
{
	ts_sqsrun *x = r->sqs;
	if (!x)
		return 0;
	for (size_t i = 0; i < x->acks.n; i += 10) {
		char err[1200];
		uint8_t ok[10];
		size_t k = x->acks.n - i < 10 ? x->acks.n - i : 10;
		int rc = ts_sqs_delete_batch(x->q, x->acks.paths + i, k, ok, err, sizeof err);
		if (rc)
			ts_warn("%s (what is not deleted comes back; its objects are counted and "
				"will be passed over)", err);
		for (size_t j = 0; j < k; j++)
			r->sqs_deleted += ok[j];
	}
	ts_pathlist_free(&x->acks);
	return 0;
}

/* Every message of the batch hidden for another visibility timeout, when
 * half of the last one has passed. */
static void extend(ts_sqsrun *x)
{
	double t = ts_cli_now();
	if (t < x->extend_at)
		return;
	for (size_t i = 0; i < x->msgs.n; i++) {
		char err[1200];
		if (ts_sqs_change_visibility(x->q, x->msgs.v[i].receipt, x->visibility, err, sizeof err))
			ts_warn("%s", err);
	}
	x->extend_at = t + x->visibility / 2.0;
}

/* The run's record callback, except that a stop asked for by a signal
 * lets the batch finish: an object cut short would be checkpointed as
 * read to its end, and its message would come back to find it done. */
static int on_record(void *ctx, const ts_record *rec, const char *path, uint64_t off)
{
	int rc = ts_cli_on_record(ctx, rec, path, off);
	return rc == TS_SOURCE_STOP && !((ts_run *)ctx)->fatal ? TS_SOURCE_GO_ON : rc;
}

static void leave(ts_sqsrun *x, size_t msg, const char *why)
{
	if (!x->left[msg])
		snprintf(x->why[msg], sizeof x->why[msg], "%s", why);
	x->left[msg] = 1;
}

static int on_begin(void *ctx, size_t i, const ts_s3_meta *m)
{
	ts_sqsrun *x = ctx;
	const ts_s3_obj *o = &x->objs[i];
	extend(x);
	free(x->name);
	x->name = ts_cli_s3_name(o->key, *m->etag ? m->etag : o->etag);
	if (!x->name)
		return x->feed.fatal = TS_ENOMEM;
	ts_file_id id = {x->name, m->size != UINT64_MAX ? m->size : o->size,
			 m->mtime != INT64_MIN ? m->mtime : 0};
	if (!x->force) {
		uint8_t done = 0;
		int rc = x->store->ops->files_done(x->store, &id, 1, &done);
		if (rc) {
			ts_error("%s", rc == TS_ESTORE ? x->store->errstr : ts_strerror(rc));
			return x->feed.fatal = rc;
		}
		if (done) { /* counted before: a message delivered again */
			ts_s3feed_skip(&x->feed, i, x->bucket, o->key);
			x->r->files_already++;
			return 0;
		}
	}
	const char *why, *base = strrchr(o->key, '/');
	int look = ts_s3walk_pick(o->key, &why, NULL) == TS_S3WALK_LOOK &&
		   !ts_folders_is_log_name(base ? base + 1 : o->key);
	return ts_s3feed_begin(&x->feed, i, x->bucket, o->key, &id, look);
}

static int on_data(void *ctx, size_t i, const void *p, size_t n)
{
	ts_sqsrun *x = ctx;
	(void)i;
	extend(x);
	return ts_s3feed_data(&x->feed, p, n);
}

static void on_end(void *ctx, size_t i, int rc, const char *detail)
{
	ts_sqsrun *x = ctx;
	extend(x);
	if (rc)
		leave(x, x->owner[i], detail);
	ts_s3feed_end(&x->feed, i, x->bucket, x->objs[i].key, rc, detail);
}

/* Read the notes of the batch and fetch their objects, bucket by bucket
 * in delivery order. 0 or a fatal code. */
static int read_batch(ts_sqsrun *x)
{
	ts_run *r = x->r;
	size_t total = 0;
	for (size_t m = 0; m < x->msgs.n; m++) {
		char err[200];
		const ts_sqs_msg *g = &x->msgs.v[m];
		x->left[m] = 0;
		int rc = ts_sqsmsg_parse(g->body, g->body_len, &x->notes[m], err, sizeof err);
		if (rc == TS_ENOMEM)
			return TS_ENOMEM;
		if (rc)
			leave(x, m, err);
		total += x->notes[m].objs.n;
	}
	free(x->objs);
	free(x->owner);
	x->objs = calloc(total ? total : 1, sizeof *x->objs);
	x->owner = calloc(total ? total : 1, sizeof *x->owner);
	if (!x->objs || !x->owner)
		return TS_ENOMEM;
	for (size_t m = 0; m < x->msgs.n && !x->feed.fatal && !r->fatal;) {
		/* a run of messages of one bucket */
		x->bucket = x->notes[m].bucket;
		x->nobjs = 0;
		size_t end = m;
		for (; end < x->msgs.n && (!x->notes[end].objs.n ||
					   strcmp(x->notes[end].bucket, x->bucket) == 0); end++) {
			const ts_sqsmsg *n = &x->notes[end];
			for (size_t k = 0; k < n->objs.n; k++) {
				const char *why;
				const ts_s3_obj *o = &n->objs.v[k];
				int v = ts_s3walk_pick(o->key, &why, NULL);
				if (v == TS_S3WALK_PASS) {
					char path[1400];
					snprintf(path, sizeof path, "s3://%s/%s", n->bucket, o->key);
					r->src.files_ignored++;
					if (x->cb.passed)
						x->cb.passed(x->cb.ctx, path, why);
				} else if (v != TS_S3WALK_SKIP) {
					x->objs[x->nobjs] = *o;
					x->owner[x->nobjs++] = end;
				}
			}
		}
		if (x->nobjs) {
			r->files_total += x->nobjs;
			ts_s3_consumer c = {on_begin, on_data, on_end, x};
			int rc = ts_s3_fetch(x->s3, x->bucket, x->objs, x->nobjs, &c);
			if (rc == TS_ENOMEM || x->feed.fatal == TS_ENOMEM)
				return TS_ENOMEM;
			if (x->feed.fatal)
				return x->feed.fatal;
		}
		m = end;
	}
	return 0;
}

/* Receive a round's messages into x->msgs: a long poll, then more at once
 * while the answers are full, up to BATCH. 0 or an error code (err[cap]). */
static int receive_round(ts_sqsrun *x, char *err, size_t cap)
{
	int wait = x->acks.n ? 1 : 10; /* deletions waiting for a checkpoint: back soon */
	while (x->msgs.n + RECEIVE <= BATCH) {
		ts_sqs_msgs got;
		int rc = ts_sqs_receive(x->q, RECEIVE, wait, x->visibility, &got, err, cap);
		size_t n = got.n;
		if (!rc && n) {
			ts_sqs_msg *v = realloc(x->msgs.v, (x->msgs.n + n) * sizeof *v);
			if (!v) {
				snprintf(err, cap, "out of memory");
				rc = TS_ENOMEM;
			} else {
				memcpy(v + x->msgs.n, got.v, n * sizeof *v);
				x->msgs.v = v;
				x->msgs.n += n;
				x->msgs.alloc = x->msgs.n;
				free(got.v);
				got = (ts_sqs_msgs){0};
			}
		}
		ts_sqs_msgs_free(&got);
		if (rc)
			return rc;
		if (n < RECEIVE)
			break;
		wait = 0;
	}
	return 0;
}

/* The batch read: each message whole is to be deleted after the next
 * checkpoint, the others reported and left. 0 or TS_ENOMEM. */
static int settle(ts_sqsrun *x)
{
	ts_run *r = x->r;
	for (size_t m = 0; m < x->msgs.n; m++) {
		const ts_sqs_msg *g = &x->msgs.v[m];
		if (x->left[m]) {
			r->sqs_left++;
			ts_warn("SQS message %s (received %u times): cannot be processed: %s; left in the "
				"queue for its redrive policy", g->id, g->receives, x->why[m]);
			continue;
		}
		if (!x->notes[m].objs.n)
			r->sqs_empty++;
		if (ts_pathlist_push(&x->acks, g->receipt))
			return TS_ENOMEM;
	}
	for (int i = 0; i < BATCH; i++)
		ts_sqsmsg_free(&x->notes[i]);
	ts_sqs_msgs_free(&x->msgs);
	return 0;
}

int ts_cli_stream_sqs(ts_run *r, const ts_stream_cfg *sc, ts_store *store,
		      const ts_reader_opts *ro, const ts_parser_opts *po, int force,
		      int (*tick)(void *), void *tick_ctx)
{
	ts_awscfg cfg;
	char err[2048];
	if (ts_awscfg_load(&cfg, sc->endpoint_url, err, sizeof err)) {
		ts_error("%s", err);
		return TS_EXIT_USAGE;
	}
	ts_sqsrun *x = calloc(1, sizeof *x);
	if (!x) {
		ts_error("out of memory");
		return TS_EXIT_STORE;
	}
	r->sqs = x;
	x->r = r;
	x->store = store;
	x->force = force;
	x->visibility = sc->sqs_visibility > 0 ? sc->sqs_visibility : 300;
	x->cb = (ts_source_cb){on_record, ts_cli_on_skip, ts_cli_on_file_done, r,
			       ts_cli_on_file_begin, NULL, 0, ts_cli_on_passed};
	x->feed.r = r;
	x->feed.cb = &x->cb;
	const char *qep = getenv("AWS_ENDPOINT_URL_SQS");
	if (!qep || !*qep)
		qep = getenv("AWS_ENDPOINT_URL");
	ts_sqs_opts qo = {.now = wall_now};
	ts_s3_opts so = {.connections = sc->s3_connections, .now = wall_now};
	if (!(x->q = ts_sqs_new(&cfg, sc->sqs_url, qep, &qo, err, sizeof err))) {
		ts_error("--sqs: %s", err);
		return TS_EXIT_USAGE;
	}
	x->s3 = ts_s3_new(&cfg, &so);
	x->feed.push = ts_source_push_new(ro, po);
	if (!x->s3 || !x->feed.push) {
		ts_error("out of memory (or libcurl could not start)");
		return TS_EXIT_STORE;
	}
	r->s3_used = r->sqs_used = 1;
	ts_info("stream: SQS queue %s (Region %s), objects from %s", sc->sqs_url,
		ts_sqs_region(x->q), cfg.endpoint[0] ? cfg.endpoint : "S3");
	while (!ts_cli_stopping() && !r->fatal) {
		int rc = receive_round(x, err, sizeof err);
		if (rc) {
			ts_error("%s", err);
			r->fatal = rc == TS_ENOMEM ? TS_ENOMEM : TS_EIO;
			break;
		}
		x->extend_at = ts_cli_now() + x->visibility / 2.0;
		rc = read_batch(x);
		if (!rc)
			rc = settle(x);
		if (rc && !r->fatal)
			r->fatal = rc;
		if (!r->fatal && x->acks.n &&
		    (ts_engine_pending_events(r->engine) || ts_cli_now() - r->last_checkpoint >= 1.0))
			r->fatal = ts_cli_stream_checkpoint(r);
		tick(tick_ctx); /* its stop shows in the loop's test */
	}
	r->s3 = *ts_s3_get_stats(x->s3);
	r->sqs_st = *ts_sqs_get_stats(x->q);
	return 0;
}
