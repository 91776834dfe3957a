/* store_redis.c - the Redis backend of the store: open, the connection
 * hook, checkpoints (saved states and file marks), memory and free. The
 * rest of the backend is in store_redis_keys.c (names, read caches,
 * reads), store_redis_buf.c (the write buffer), store_redis_flush.c (the
 * flush) and store_redis_bg.c (the background flush), behind
 * store_redis_int.h; the key scheme and the flush protocol are in
 * docs/DESIGN.md.
 *
 * Connection: one Redis client (redis_conn.h) with the store's reconnect
 * options; on each new connection the hook below loads the flush script,
 * and on the first also runs the preflight (each command the store uses,
 * once, on ts:probe:* keys: a missing permission or a read-only replica
 * fails before any write) and sets ts:schema; on later ones it checks
 * ts:schema is still there.
 *
 * History loss: a store this process has written to must keep ts:schema
 * and each partition's flushseq. A reconnect that finds ts:schema gone, or
 * a batch the script answers -1, means Redis lost the history (restarted
 * without persistence, flushed, evicted): every later read would judge
 * against an empty baseline, so the store fails (TS_ESTORE, the message
 * naming the server) rather than go on. The next run opens the now empty
 * store as a new one (a note says so): series warm up again. Errors Redis
 * answers that no retry mends (OOM, READONLY, NOPERM, ...) fail at once,
 * with a hint from ts_redis_hint().
 *
 * Ownership: the redis_store owns its client, the background flush, the
 * write buffer, the pending chunks, the caches and the saved states; rs_free
 * frees them all and writes nothing (only a checkpoint writes).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "store_redis_int.h"
#include "util.h"

void rs_set_err(redis_store *rs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rs->base.errstr, sizeof rs->base.errstr, fmt, ap);
	va_end(ap);
}

void rs_history_lost(redis_store *rs, const char *why, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "%s lost the history this run was writing (%s: restarted without "
		 "persistence, flushed or evicted?); stopping rather than judging against an "
		 "empty baseline. Turn on persistence (appendonly yes) and keep "
		 "maxmemory-policy noeviction; the next run starts the store anew and its "
		 "series warm up again",
		 rs->where, why);
}

void rs_sync_counts(redis_store *rs)
{
	uint64_t trips, reconn;
	if (rs->rc) {
		ts_rcluster_stats cs;
		ts_rcluster_stats_get(rs->rc, &cs);
		trips = cs.round_trips;
		reconn = cs.reconnects;
	} else {
		trips = ts_redis_round_trips(rs->r);
		reconn = ts_redis_reconnects(rs->r);
	}
	rs->base.round_trips = trips + rs->bg_trips;
	rs->base.reconnects = reconn + rs->bg_reconnects;
}

int rs_run(redis_store *rs, size_t n, const ts_redis_cmd *cmds, redisReply **replies, int *sends)
{
	int rc;
	if (rs->rc) {
		rc = rs_cluster_send(rs->rc, n, cmds, replies, sends);
		if (rc == TS_ESTORE)
			rs_set_err(rs, "%s", ts_rcluster_error(rs->rc));
		else if (rc)
			rs_set_err(rs, "%s: %s", rs->where, ts_strerror(rc));
	} else {
		rc = ts_redis_run(rs->r, n, cmds, replies, sends);
		if (rc)
			rs_set_err(rs, "%s", ts_redis_error(rs->r));
	}
	rs_sync_counts(rs);
	return rc;
}

int rs_run1(redis_store *rs, int argc, const char **argv, const size_t *lens, redisReply **r)
{
	ts_redis_cmd c = {argc, argv, lens};
	return rs_run(rs, 1, &c, r, NULL);
}

/* --- the connection hook --- */

/* Run each command the store uses once, on ts:probe:* keys that expire,
 * in one pipeline on the new connection c: a missing permission (NOPERM) or
 * a server that refuses writes fails here, naming the command, before
 * anything is written. 0 or -1 (the reason in err). */
static int preflight(redis_store *rs, redisContext *c, char *err, size_t errlen)
{
	static const char *const probe_keys[] = {"ts:probe:seq", "ts:probe:state", "ts:probe:h",
						 "ts:probe:a"};
	const char *script_args[] = {"1", "60", "", "0", "1", "f", "0", "+", "x"};
	enum { MAXARGS = 18, NCMD = 15 };
	const char *cmds[NCMD][MAXARGS] = {
		{"SET", "ts:probe:s", "1", "EX", "60"},
		{"GET", "ts:probe:s"},
		{"HSET", "ts:probe:h", "f", "0"},
		{"HMGET", "ts:probe:h", "f"},
		{"HGETALL", "ts:probe:h"},
		{"EXPIRE", "ts:probe:h", "60"},
		{"SADD", "ts:probe:p", "x"},
		{"SMEMBERS", "ts:probe:p"},
		{"EXPIRE", "ts:probe:p", "60"},
		{"APPEND", "ts:probe:a", "x"},
		{"EXPIRE", "ts:probe:a", "60"},
		{"MULTI"},
		{"EXEC"},
		{"EVALSHA", rs->sha, "4"},
		{"EVAL", rs_script(), "4"},
	};
	int argc[NCMD];
	for (int i = 0; i < NCMD; i++) {
		int n = 0;
		while (n < MAXARGS && cmds[i][n])
			n++;
		if (n == 3 && strncmp(cmds[i][0], "EVAL", 4) == 0) {
			/* the flush script on probe keys: KEYS, then ARGV */
			for (size_t k = 0; k < TS_ARRAY_LEN(probe_keys); k++)
				cmds[i][n++] = probe_keys[k];
			for (size_t k = 0; k < TS_ARRAY_LEN(script_args); k++)
				cmds[i][n++] = script_args[k];
		}
		argc[i] = n;
	}
	for (int i = 0; i < NCMD; i++)
		if (redisAppendCommandArgv(c, argc[i], cmds[i], NULL) != REDIS_OK) {
			snprintf(err, errlen, "%s: preflight: %s", rs->where, c->errstr);
			return -1;
		}
	int rc = 0;
	for (int i = 0; i < NCMD; i++) {
		void *v;
		if (redisGetReply(c, &v) != REDIS_OK) {
			snprintf(err, errlen, "%s: preflight: %s", rs->where, c->errstr);
			return -1;
		}
		redisReply *r = v;
		if (r->type == REDIS_REPLY_ERROR && !rc) {
			snprintf(err, errlen, "%s: %s failed: %s%s", rs->where, cmds[i][0], r->str,
				 ts_redis_hint(r->str));
			rc = -1;
		}
		freeReplyObject(r);
	}
	return rc;
}

/* On the first connection: the preflight, then SET ts:schema 1 NX (a
 * warning when that made a new, empty store) and check it reads "1". */
static int check_schema(redis_store *rs, redisContext *c, char *err, size_t errlen)
{
	const char *sv[4] = {"SET", "ts:schema", "1", "NX"};
	size_t sl[4] = {3, 9, 1, 2};
	char why[768];
	redisReply *r;
	if (preflight(rs, c, err, errlen))
		return -1;
	if (ts_redis_setup_cmd(c, "SET ts:schema", 4, sv, sl, &r, why, sizeof why))
		goto out_fail;
	if (r->type == REDIS_REPLY_STATUS)
		ts_warn("store %s holds no history yet (ts:schema was not set): a new one starts "
			"here, and every series warms up before it is judged",
			rs->where);
	freeReplyObject(r);
	const char *gv[2] = {"GET", "ts:schema"};
	size_t gl[2] = {3, 9};
	if (ts_redis_setup_cmd(c, "GET ts:schema", 2, gv, gl, &r, why, sizeof why))
		goto out_fail;
	int ok = r->type == REDIS_REPLY_STRING && r->len == 1 && r->str[0] == '1';
	if (!ok)
		snprintf(err, errlen, "%s: ts:schema is '%.40s', this trailsight writes schema 1",
			 rs->where, r->type == REDIS_REPLY_STRING ? r->str : "(not a string)");
	freeReplyObject(r);
	return ok ? 0 : -1;
out_fail:
	snprintf(err, errlen, "%s: %s", rs->where, why);
	return -1;
}

/* Load the script (its sha in rs->sha); then check_schema on the first
 * connection, or that ts:schema is still there on a later one. 0, 1
 * transient, -1 permanent (the message in err). */
ts_redis_opts rs_conn_opts(redis_store *rs,
			   int (*on_connect)(void *, redisContext *, int, char *, size_t))
{
	return (ts_redis_opts){
		.connect_ms = 2000,
		.cmd_ms = rs->cmd_ms,
		.first_ms = rs->ro_first_ms,
		.max_ms = rs->ro_max_ms,
		.total_ms = rs->ro_total_ms,
		.label = "store",
		.on_connect = on_connect,
		.ctx = rs,
	};
}

static int on_connect(void *ctx, redisContext *c, int again, char *err, size_t errlen)
{
	redis_store *rs = ctx;
	char why[768];
	const char *av[3] = {"SCRIPT", "LOAD", rs_script()};
	size_t al[3] = {6, 4, rs_script_len()};
	redisReply *r = NULL;
	int rc = ts_redis_setup_cmd(c, "SCRIPT LOAD", 3, av, al, &r, why, sizeof why);
	if (rc) {
		snprintf(err, errlen, "%s: %s", rs->where, why);
		return rc;
	}
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		snprintf(err, errlen, "%s: SCRIPT LOAD: unexpected reply", rs->where);
		freeReplyObject(r);
		return -1;
	}
	memcpy(rs->sha, r->str, 40);
	rs->sha[40] = '\0';
	freeReplyObject(r);
	if (!again)
		return check_schema(rs, c, err, errlen);
	/* connected again: ts:schema must still be there */
	const char *gv[2] = {"GET", "ts:schema"};
	size_t gl[2] = {3, 9};
	if ((rc = ts_redis_setup_cmd(c, "GET ts:schema", 2, gv, gl, &r, why, sizeof why))) {
		snprintf(err, errlen, "%s: %s", rs->where, why);
		return rc;
	}
	int gone = r->type != REDIS_REPLY_STRING;
	freeReplyObject(r);
	if (gone) {
		rs_history_lost(rs, "ts:schema is gone", err, errlen);
		return -1;
	}
	return 0;
}

/* --- checkpoints and the partition list --- */

static int rs_partitions(ts_store *st, ts_buf *out)
{
	redis_store *rs = (redis_store *)st;
	ts_buf_reset(out);
	const char *av[2] = {"SMEMBERS", "ts:partitions"};
	size_t al[2] = {8, 13};
	redisReply *r;
	int rc = rs_run1(rs, 2, av, al, &r);
	if (rc)
		return rc;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && !rc; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    !memchr(r->element[i]->str, 0, r->element[i]->len)) {
			rc = ts_buf_add(out, r->element[i]->str, r->element[i]->len);
			if (!rc)
				rc = ts_buf_add(out, "", 1);
		}
	freeReplyObject(r);
	return rc;
}

static int rs_put_state(ts_store *st, uint32_t partition, const void *blob, size_t len,
			const ts_file_id *files, size_t nfiles)
{
	redis_store *rs = (redis_store *)st;
	if (rs_ensure_partition(rs, partition))
		return TS_ENOMEM;
	pstate *ps = &rs->part[partition].ps;
	rs->state_bytes -= ps->has ? ps->blob.len : 0;
	ps->has = 0;
	ts_buf_reset(&ps->blob);
	int rc = ts_buf_add(&ps->blob, blob, len);
	if (rc)
		return rc;
	ps->has = 1;
	rs->state_bytes += len;
	for (size_t i = 0; i < nfiles && !rc; i++) {
		char v[48];
		int vl = snprintf(v, sizeof v, "%llu:%lld", (unsigned long long)files[i].size,
				  (long long)files[i].mtime);
		rc = rs_fmarks_add(&ps->marks, &files[i]);
		if (!rc)
			rc = ts_mk_add(&rs->marks, ts_floordiv(files[i].mtime, 86400),
				       rs_mark_hash(partition, files[i].name, strlen(files[i].name), v,
						    (size_t)vl));
	}
	return rc;
}

static int rs_get_state(ts_store *st, uint32_t partition, ts_buf *out)
{
	redis_store *rs = (redis_store *)st;
	ts_buf_reset(out);
	if (partition < rs->nparts && rs->part[partition].ps.has)
		return ts_buf_add(out, rs->part[partition].ps.blob.p, rs->part[partition].ps.blob.len);
	redisReply *r;
	int rc = rs_get_part_key(rs, partition, "state", &r);
	if (rc)
		return rc;
	if (r->type == REDIS_REPLY_STRING)
		rc = ts_buf_add(out, r->str, r->len);
	freeReplyObject(r);
	return rc;
}

/* Look each file up in the index: one HMGET per mtime day, pipelined;
 * done[i] = 1 where the mark matches size and mtime. */
static int index_lookup(redis_store *rs, const ts_file_id *f, size_t n, uint8_t *done)
{
	if (!n)
		return 0;
	size_t *ord = malloc(n * sizeof *ord), *first = malloc((n + 1) * sizeof *first);
	if (!ord || !first) {
		free(ord);
		free(first);
		return TS_ENOMEM;
	}
	/* order by day (insertion sort on a copy of indices: n is modest) */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		int64_t d = ts_floordiv(f[i].mtime, 86400);
		while (j > 0 && ts_floordiv(f[ord[j - 1]].mtime, 86400) > d) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = i;
	}
	rs_args b = {0};
	size_t ng = 0;
	for (size_t i = 0; i < n && !b.err; ng++) {
		int64_t d = ts_floordiv(f[ord[i]].mtime, 86400);
		size_t off;
		first[ng] = i;
		rs_args_cmd(&b);
		rs_args_str(&b, "HMGET");
		rs_args_begin(&b, &off);
		if (!b.err)
			b.err = rs_mark_key(rs, UINT32_MAX, f[ord[i]].mtime, &b.arena);
		rs_args_end(&b, off);
		for (; i < n && ts_floordiv(f[ord[i]].mtime, 86400) == d; i++)
			rs_args_str(&b, f[ord[i]].name);
	}
	first[ng] = n;
	int rc = rs_args_run(rs, &b);
	for (size_t g = 0; !rc && g < ng; g++) {
		const redisReply *r = b.r[g];
		for (size_t i = first[g]; i < first[g + 1]; i++) {
			const ts_file_id *x = &f[ord[i]];
			const redisReply *v = r->type == REDIS_REPLY_ARRAY &&
						      r->elements == first[g + 1] - first[g]
						      ? r->element[i - first[g]]
						      : NULL;
			char want[48];
			int wl = snprintf(want, sizeof want, "%llu:%lld", (unsigned long long)x->size,
					  (long long)x->mtime);
			done[ord[i]] = v && v->type == REDIS_REPLY_STRING && v->len == (size_t)wl &&
				       memcmp(v->str, want, (size_t)wl) == 0;
		}
	}
	rs_args_free(&b);
	free(ord);
	free(first);
	return rc;
}

/* Done for a partition: its mark hash for the file's mtime day is read
 * once (HGETALL) and remembered, with the marks this store writes. With
 * leases (rs->holder set), a partition this worker does not hold has its
 * marks written by another: the marks found stay cached (marks only come)
 * but the hash is read again on each question whose mark is not cached,
 * never remembered as read, so a worker that claims the partition later
 * sees every file its predecessor marked. */
static int rs_file_done_in(ts_store *st, uint32_t partition, const ts_file_id *f, int *done)
{
	redis_store *rs = (redis_store *)st;
	int64_t day = ts_floordiv(f->mtime, 86400);
	char want[48];
	int wl = snprintf(want, sizeof want, "%llu:%lld", (unsigned long long)f->size,
			  (long long)f->mtime);
	uint64_t h = rs_mark_hash(partition, f->name, strlen(f->name), want, (size_t)wl);
	int others = rs->holder[0] && (partition >= rs->nparts || !rs->part[partition].fence);
	if ((others && !ts_mk_has(&rs->marks, day, h)) || !ts_mk_was_read(&rs->marks, day, partition)) {
		ts_buf key = {0};
		int rc = rs_mark_key(rs, partition, f->mtime, &key);
		if (rc) {
			ts_buf_free(&key);
			return rc;
		}
		const char *av[2] = {"HGETALL", key.p};
		size_t al[2] = {7, key.len};
		redisReply *r;
		rc = rs_run1(rs, 2, av, al, &r);
		ts_buf_free(&key);
		if (rc)
			return rc;
		for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e + 1 < r->elements && !rc; e += 2)
			if (r->element[e]->type == REDIS_REPLY_STRING &&
			    r->element[e + 1]->type == REDIS_REPLY_STRING)
				rc = ts_mk_add(&rs->marks, day,
					       rs_mark_hash(partition, r->element[e]->str,
							    r->element[e]->len, r->element[e + 1]->str,
							    r->element[e + 1]->len));
		freeReplyObject(r);
		if (rc || (!others && (rc = ts_mk_set_read(&rs->marks, day, partition))))
			return rc;
	}
	*done = ts_mk_has(&rs->marks, day, h);
	return 0;
}

static int rs_mark_files(ts_store *st, const ts_file_id *f, size_t n)
{
	redis_store *rs = (redis_store *)st;
	/* with leases, a file's marks per partition are the only record: a
	 * file in the index could hide counts a fenced partition lost */
	if (rs->fencing)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (rs_fmarks_add(&rs->index, &f[i]))
			return TS_ENOMEM;
	return 0;
}

static int rs_files_done(ts_store *st, const ts_file_id *f, size_t n, uint8_t *done)
{
	/* in slices, so one pipeline stays modest */
	for (size_t i = 0; i < n; i += 1000) {
		int rc = index_lookup((redis_store *)st, f + i, n - i < 1000 ? n - i : 1000, done + i);
		if (rc)
			return rc;
	}
	return 0;
}

static size_t rs_memory(const ts_store *st)
{
	const redis_store *rs = (const redis_store *)st;
	return sizeof *rs + rs->keys_alloc * sizeof(rkey) + rs->kslots * sizeof(uint32_t) +
	       rs->live.slots * sizeof(cell) + rs->pend_bytes + rs->pend_alloc * sizeof(chunk) +
	       rs->nparts * sizeof(rs_part) + rs->nmetrics * sizeof(rs_metric) + rs->cache_bytes +
	       rs->state_bytes + ts_mk_memory(&rs->marks);
}

static size_t rs_history_memory(const ts_store *st, size_t *attrs)
{
	const redis_store *rs = (const redis_store *)st;
	*attrs = 0; /* attribution days are read from Redis, not held */
	return rs->cache_bytes;
}

static void rs_free(ts_store *st)
{
	redis_store *rs = (redis_store *)st;
	rs_bg_free(rs);
	/* no flush here: only a checkpoint writes, so that counts never reach
	 * Redis without the state and file marks that go with them */
	if (rs_buffered(rs) || (rs->part && rs_has_states(rs)))
		ts_debug("store %s: %zu cells after the last checkpoint not written", rs->where,
			 rs_buffered(rs));
	for (size_t i = rs->pend_first; i < rs->npend; i++)
		rs_chunk_free(&rs->pend[i]);
	free(rs->pend);
	rs_spec_free(&rs->spec);
	rs_live_clear(rs);
	rs_caches_free(rs);
	for (uint32_t i = 0; i < rs->nparts; i++) {
		ts_buf_free(&rs->part[i].ps.blob);
		rs_fmarks_free(&rs->part[i].ps.marks);
	}
	free(rs->part);
	rs_fmarks_free(&rs->index);
	ts_mk_free(&rs->marks);
	ts_redis_free(rs->r);
	ts_rcluster_free(rs->rc);
	memset(&rs->csp, 0, sizeof rs->csp);
	free(rs);
}

static const ts_store_ops redis_ops = {
	.name = "redis",
	.add_minute = rs_add_minute,
	.read_counts = rs_read_counts,
	.add_attrs = rs_add_attrs,
	.read_attrs = rs_read_attrs,
	.memory = rs_memory,
	.history_memory = rs_history_memory,
	.free = rs_free,
	.flush = rs_flush,
	.flush_begin = rs_flush_begin,
	.put_state = rs_put_state,
	.get_state = rs_get_state,
	.file_done_in = rs_file_done_in,
	.mark_files = rs_mark_files,
	.files_done = rs_files_done,
	.flush_due = rs_flush_due,
	.partitions = rs_partitions,
	.add_attr_minute = rs_add_attr_minute,
	.read_attr_minutes = rs_read_attr_minutes,
	.lease = rs_lease,
	.fence = rs_fence,
	.fenced_out = rs_fenced_out,
};

const char *ts_store_redis_script(void) { return rs_script(); }

int ts_store_redis_new(const char *spec, ts_registry *reg, const ts_store_opts *opts,
		       ts_store **out, char *errbuf, size_t errlen)
{
	int cluster = strncmp(spec, "redis-cluster://", 16) == 0;
	ts_redis_spec sp;
	const char *why;
	if (!cluster && ts_redis_parse(spec, &sp, &why)) {
		snprintf(errbuf, errlen,
			 "store '%s': %s (expected redis://[user:pass@]host:port[/db])", spec, why);
		return TS_EINVAL;
	}
	redis_store *rs = calloc(1, sizeof *rs);
	if (!rs) {
		snprintf(errbuf, errlen, "redis store: %s", ts_strerror(TS_ENOMEM));
		return TS_ENOMEM;
	}
	rs->base.ops = &redis_ops;
	rs->base.reg = reg;
	rs->base.retention_days = opts && opts->retention_days > 0 ? opts->retention_days : 28;
	rs->cmd_ms = opts && opts->command_timeout_ms > 0 ? opts->command_timeout_ms : 5000;
	rs->flush_cells = opts && opts->flush_cells ? opts->flush_cells : 250000;
	rs->max_cells = opts && opts->max_cells ? opts->max_cells : 5000000;
	rs->ro_first_ms = opts ? opts->reconnect_first_ms : 0;
	rs->ro_max_ms = opts ? opts->reconnect_max_ms : 0;
	rs->ro_total_ms = opts ? opts->reconnect_total_ms : 0;
	if (cluster) {
		int rc = rs_cluster_open(rs, spec, errbuf, errlen);
		if (rc) {
			rs_free(&rs->base);
			return rc;
		}
		*out = &rs->base;
		return 0;
	}
	rs->sp = sp;
	ts_redis_where(&sp, rs->where, sizeof rs->where);
	ts_redis_opts ro = rs_conn_opts(rs, on_connect);
	if (ts_redis_new(&sp, &ro, &rs->r)) {
		free(rs);
		snprintf(errbuf, errlen, "redis store: %s", ts_strerror(TS_ENOMEM));
		return TS_ENOMEM;
	}
	/* open fails fast: one attempt, no backoff */
	if (ts_redis_connect(rs->r)) {
		snprintf(errbuf, errlen, "%s", ts_redis_error(rs->r));
		rs_free(&rs->base);
		return TS_ESTORE;
	}
	*out = &rs->base;
	return 0;
}
