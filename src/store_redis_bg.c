/* store_redis_bg.c - the Redis store's background flush.
 *
 * A mid-run checkpoint of a backfill need not wait for Redis to run its
 * scripts: flush_begin freezes the buffer as flush does, then a thread
 * sends the frozen groups (pend[first, end)) on a client of its own and
 * marks each one applied, while counting goes on. The thread touches only
 * those chunks (built strings: no registry, no other state) and its own
 * rs_bg; the main thread does not touch the pending list until it joins
 * it, which every other flush, and free, does first. After the join the
 * applied chunks leave memory, and the index and the partition list are
 * written; anything the thread could not confirm stays pending and the
 * next flush sends it again (its sequence numbers make that safe). The
 * thread makes one attempt per group and stops at the first failure: it
 * never waits, the next flush retries under the store's reconnect policy.
 * On a cluster the thread has a ts_rcluster of its own (no wait: a budget
 * of 1 ms), each group routed as rs_cluster_send does.
 * The rs_bg and its client belong to the store (rs_bg_free).
 */
#include <pthread.h>
#include <stdlib.h>

#include "store_redis_int.h"
#include "util.h"

typedef struct rs_bg {
	pthread_t th;
	int running;
	redis_store *rs;
	ts_redis *r;       /* its own client, made at the first start */
	ts_rcluster *c;    /* on a cluster: its own cluster client instead */
	size_t first, end; /* pend[first, end) */
	size_t index_n;    /* index marks to write once confirmed */
	int rc;
	int fenced;        /* a group was refused for its lease (not an error:
			      the next flush sends it, sees it and drops it) */
	char err[1024];
} rs_bg;

/* Check the replies of one group of k chunks (r[n]: MULTI ... EXEC, or one
 * script reply). 1 if every script applied the chunk now, else 0 with
 * b->err set. */
static int group_ok(rs_bg *b, size_t k, redisReply **r, size_t n)
{
	const char *where = b->rs->where;
	int ok = 1;
	for (size_t i = 0; i < n && ok; i++) {
		if (i == n - 1) {
			/* the script results: each must be 1 (applied now) */
			if (k == 1)
				ok = r[i]->type == REDIS_REPLY_INTEGER && r[i]->integer == 1;
			else
				ok = r[i]->type == REDIS_REPLY_ARRAY && r[i]->elements == k;
			for (size_t x = 0; ok && k > 1 && x < k; x++)
				ok = r[i]->element[x]->type == REDIS_REPLY_INTEGER &&
				     r[i]->element[x]->integer == 1;
			for (size_t x = 0; !ok && k > 1 && r[i]->type == REDIS_REPLY_ARRAY &&
					   x < r[i]->elements; x++)
				b->fenced |= r[i]->element[x]->type == REDIS_REPLY_INTEGER &&
					     r[i]->element[x]->integer == RS_FENCED;
			b->fenced |= !ok && k == 1 && r[i]->type == REDIS_REPLY_INTEGER &&
				     r[i]->integer == RS_FENCED;
			if (!ok && r[i]->type == REDIS_REPLY_ERROR)
				snprintf(b->err, sizeof b->err, "%s: background flush: %s%s", where,
					 r[i]->str, ts_redis_hint(r[i]->str));
			else if (!ok)
				snprintf(b->err, sizeof b->err,
					 "%s: background flush: the flush script did not apply a batch",
					 where);
		} else if (r[i]->type == REDIS_REPLY_ERROR) {
			ok = 0;
			snprintf(b->err, sizeof b->err, "%s: background flush: %s%s", where, r[i]->str,
				 ts_redis_hint(r[i]->str));
		}
	}
	return ok;
}

static void *bg_main(void *arg)
{
	rs_bg *b = arg;
	redis_store *rs = b->rs;
	static const char *const multi[1] = {"MULTI"}, *const exec[1] = {"EXEC"};
	b->rc = 0;
	b->fenced = 0;
	if (b->r && ts_redis_connect(b->r)) {
		snprintf(b->err, sizeof b->err, "background flush: %s", ts_redis_error(b->r));
		b->rc = TS_ESTORE;
		return NULL;
	}
	for (size_t i = b->first; i < b->end && !b->rc;) {
		size_t j = i + 1;
		while (j < b->end && rs->pend[j].gen == rs->pend[i].gen &&
		       rs->pend[j].partition == rs->pend[i].partition)
			j++;
		size_t k = j - i, n = k > 1 ? k + 2 : 1, c = 0;
		ts_redis_cmd *cmds = malloc(n * sizeof *cmds);
		redisReply **r = calloc(n, sizeof *r);
		if (!cmds || !r) {
			free(cmds);
			free(r);
			snprintf(b->err, sizeof b->err, "%s: background flush: out of memory", rs->where);
			b->rc = TS_ENOMEM;
			break;
		}
		int rc = 0;
		if (k > 1)
			cmds[c++] = (ts_redis_cmd){1, multi, NULL};
		/* EVAL for all: this connection has not loaded the script */
		for (size_t x = i; x < j && !rc; x++) {
			chunk *h = &rs->pend[x];
			rc = rs_chunk_expand(h, "EVAL", rs_script(), rs_script_len());
			cmds[c++] = (ts_redis_cmd){h->argc, h->argv, h->argvlen};
		}
		if (k > 1)
			cmds[c++] = (ts_redis_cmd){1, exec, NULL};
		if (rc) {
			for (size_t x = i; x < j; x++)
				rs_chunk_shrink(&rs->pend[x]);
			free(cmds);
			free(r);
			snprintf(b->err, sizeof b->err, "%s: background flush: %s", rs->where,
				 ts_strerror(rc));
			b->rc = rc;
			break;
		}
		for (size_t x = i; x < j; x++)
			rs->pend[x].sent = 1; /* may reach Redis from here on */
		rc = b->c ? rs_cluster_send(b->c, n, cmds, r, NULL)
			  : ts_redis_send(b->r, n, cmds, r, NULL);
		free(cmds);
		for (size_t x = i; x < j; x++)
			rs_chunk_shrink(&rs->pend[x]);
		if (rc) {
			snprintf(b->err, sizeof b->err, "background flush: %s",
				 b->c ? ts_rcluster_error(b->c) : ts_redis_error(b->r));
			b->rc = TS_ESTORE;
			free(r);
			break;
		}
		int ok = group_ok(b, k, r, n);
		for (size_t x = 0; x < n; x++)
			freeReplyObject(r[x]);
		free(r);
		if (!ok) {
			b->rc = TS_ESTORE;
			break;
		}
		for (size_t x = i; x < j; x++) {
			/* applied: its text goes now, the rest at the join */
			chunk *h = &rs->pend[x];
			rs_chunk_free(h);
			h->acked = 1;
		}
		i = j;
	}
	return NULL;
}

int rs_bg_start(redis_store *rs)
{
	if (!rs->bg) {
		rs_bg *b = calloc(1, sizeof *b);
		ts_redis_opts ro = {.cmd_ms = rs->cmd_ms};
		ts_redis_opts co = {.cmd_ms = rs->cmd_ms, .first_ms = 1, .max_ms = 1, .total_ms = 1};
		if (!b || (rs->rc ? ts_rcluster_new(&rs->csp, &co, &b->c)
				  : ts_redis_new(&rs->sp, &ro, &b->r))) {
			free(b);
			return rs_send_pending(rs); /* no thread: do it here */
		}
		rs->bg = b;
	}
	rs_bg *b = rs->bg;
	b->rs = rs;
	b->first = rs->pend_first;
	b->end = rs->npend;
	b->index_n = rs->index.n;
	if (pthread_create(&b->th, NULL, bg_main, b) != 0)
		return rs_send_pending(rs); /* no thread: do it here */
	b->running = 1;
	return 0;
}

/* Its failures are not errors here: what it did not confirm is sent again
 * by the next flush. */
int rs_bg_join(redis_store *rs)
{
	rs_bg *b = rs->bg;
	if (!b || !b->running)
		return 0;
	pthread_join(b->th, NULL);
	b->running = 0;
	if (b->c) {
		ts_rcluster_stats cs;
		ts_rcluster_stats_get(b->c, &cs);
		rs->bg_trips = cs.round_trips;
		rs->bg_reconnects = cs.reconnects;
	} else {
		rs->bg_trips = ts_redis_round_trips(b->r);
		rs->bg_reconnects = ts_redis_reconnects(b->r);
	}
	rs_sync_counts(rs);
	size_t w = rs->pend_first;
	for (size_t i = rs->pend_first; i < rs->npend; i++) {
		chunk *h = &rs->pend[i];
		if (h->acked) {
			rs->pend_cells -= h->ncells;
			rs->pend_bytes -= h->bytes;
			rs_chunk_free(h);
		} else {
			rs->pend[w++] = *h;
		}
	}
	rs->npend = w;
	if (rs->pend_first == rs->npend)
		rs->npend = rs->pend_first = 0;
	if (b->rc) {
		if (!b->fenced)
			ts_warn("%s; sending again", b->err);
		return 0;
	}
	int rc = rs_write_index_n(rs, b->index_n);
	return rc ? rc : rs_list_partitions(rs);
}

void rs_bg_free(redis_store *rs)
{
	rs_bg_join(rs);
	if (rs->bg) {
		ts_redis_free(rs->bg->r);
		ts_rcluster_free(rs->bg->c);
		free(rs->bg);
		rs->bg = NULL;
	}
}
