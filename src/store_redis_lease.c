/* store_redis_lease.c - partition leases and fencing in the Redis store
 * (the store side of lease.h).
 *
 * Each partition has two keys in its own hash slot: its lease
 * ts:{ACCT:REGION}:lease, whose value "TOKEN/holder" expires after the
 * lease time, and its fencing counter ts:{ACCT:REGION}:fence, INCR'd by
 * every claim (never expires, so tokens only grow). Claim, renew and
 * release are one small script each (one slot: on a cluster they go to
 * the partition's node), sent pipelined for many partitions at once.
 * A release may leave ts:{ACCT:REGION}:finished = TOKEN (expiring with the
 * counts): the partition was finished (its insights written) under that
 * token; a claim reports it when no claim came between (token - 1).
 *
 * A fenced partition (rs_part.fence != 0) has its lease key and
 * "fence=TOKEN/holder" appended to every flush-script call made for it;
 * the script refuses a call whose lease is no longer that value (RS_FENCED)
 * before it writes anything. rs_fenced then drops the partition for good
 * (rs_part.fenced_out): its pending state and marks go, and rs_freeze and
 * rs_send_pending never send it again. Nothing here owns memory beyond
 * the rs_part fields and rs->holder; rs_free frees the rest.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "store_redis_int.h"
#include "util.h"

/* KEYS lease, fence, finished; ARGV holder, ms. {token, finished}: the
 * new token (0 if held) and 1 when the partition was finished under the
 * token just before it (no claim since). */
static const char claim_script[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return {0, 0} end\n"
	"local t = redis.call('INCR', KEYS[2])\n"
	"if not redis.call('SET', KEYS[1], t .. '/' .. ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
	"  return {0, 0}\n"
	"end\n"
	"local f = tonumber(redis.call('GET', KEYS[3]) or '0') or 0\n"
	"if f == t - 1 and f > 0 then return {t, 1} end\n"
	"return {t, 0}\n";
/* KEYS lease; ARGV value, ms. 1 if still ours (extended), else 0. */
static const char renew_script[] =
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
	"redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"return 1\n";
/* KEYS lease, finished; ARGV value, token or '' (finished under it), ttl.
 * 1 if it was ours (deleted), else 0. */
static const char release_script[] =
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
	"if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end\n"
	"redis.call('DEL', KEYS[1])\n"
	"return 1\n";

static int add_key(redis_store *rs, rs_args *b, uint32_t pid, const char *what)
{
	size_t off;
	rs_args_begin(b, &off);
	if (!b->err && !(b->err = rs_part_prefix(rs, pid, &b->arena)))
		b->err = ts_buf_puts(&b->arena, what);
	return rs_args_end(b, off);
}

int rs_lease(ts_store *st, int op, const char *holder, int ms, size_t n, const uint32_t *pids,
	     uint64_t *tokens, uint8_t *finished)
{
	redis_store *rs = (redis_store *)st;
	if (strlen(holder) >= sizeof rs->holder || strchr(holder, '/') == NULL) {
		rs_set_err(rs, "%s: lease holder '%s': expected GROUP/WORKER, shorter than %zu",
			   rs->where, holder, sizeof rs->holder);
		return TS_EINVAL;
	}
	snprintf(rs->holder, sizeof rs->holder, "%s", holder);
	rs_args b = {0};
	char num[24], ttl[24];
	snprintf(num, sizeof num, "%d", ms);
	snprintf(ttl, sizeof ttl, "%lld", (long long)rs->base.retention_days * 86400);
	size_t sent = 0;
	for (size_t i = 0; i < n && !b.err; i++) {
		if (op != TS_LEASE_CLAIM && !tokens[i])
			continue; /* not held: nothing to renew or release */
		rs_args_cmd(&b);
		rs_args_str(&b, "EVAL");
		rs_args_str(&b, op == TS_LEASE_CLAIM   ? claim_script
				: op == TS_LEASE_RENEW ? renew_script
						       : release_script);
		rs_args_str(&b, op == TS_LEASE_CLAIM ? "3" : op == TS_LEASE_RENEW ? "1" : "2");
		add_key(rs, &b, pids[i], "lease");
		if (op == TS_LEASE_CLAIM) {
			add_key(rs, &b, pids[i], "fence");
			add_key(rs, &b, pids[i], "finished");
			rs_args_str(&b, holder);
			rs_args_str(&b, num);
			sent++;
			continue;
		}
		if (op == TS_LEASE_RELEASE)
			add_key(rs, &b, pids[i], "finished");
		size_t off;
		rs_args_begin(&b, &off);
		if (!b.err)
			b.err = ts_buf_printf(&b.arena, "%" PRIu64 "/%s", tokens[i], holder);
		rs_args_end(&b, off);
		if (op == TS_LEASE_RENEW) {
			rs_args_str(&b, num);
		} else {
			rs_args_begin(&b, &off);
			if (!b.err && finished && finished[i])
				b.err = ts_buf_printf(&b.arena, "%" PRIu64, tokens[i]);
			rs_args_end(&b, off);
			rs_args_str(&b, ttl);
		}
		sent++;
	}
	int rc = sent || b.err ? rs_args_run(rs, &b) : 0;
	for (size_t i = 0, c = 0; !rc && i < n; i++) {
		if (op != TS_LEASE_CLAIM && !tokens[i])
			continue;
		redisReply *r = b.r[c++];
		int ok = op == TS_LEASE_CLAIM
				 ? r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
					   r->element[0]->type == REDIS_REPLY_INTEGER &&
					   r->element[0]->integer >= 0 &&
					   r->element[1]->type == REDIS_REPLY_INTEGER
				 : r->type == REDIS_REPLY_INTEGER && r->integer >= 0;
		if (!ok) {
			rs_set_err(rs, "%s: lease script: %s", rs->where,
				   r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
			rc = TS_ESTORE;
			break;
		}
		if (op == TS_LEASE_CLAIM) {
			tokens[i] = (uint64_t)r->element[0]->integer;
			if (finished)
				finished[i] = r->element[1]->integer == 1;
		} else if (op == TS_LEASE_RENEW && r->integer != 1) {
			tokens[i] = 0;
		}
	}
	rs_args_free(&b);
	return rc;
}

int rs_fence(ts_store *st, uint32_t partition, uint64_t token)
{
	redis_store *rs = (redis_store *)st;
	if (rs_ensure_partition(rs, partition))
		return TS_ENOMEM;
	rs->part[partition].fence = token;
	if (token)
		rs->fencing = 1;
	return 0;
}

int rs_fenced_out(const ts_store *st, uint32_t partition)
{
	const redis_store *rs = (const redis_store *)st;
	return partition < rs->nparts && rs->part[partition].fenced_out;
}

int rs_chunk_fence(redis_store *rs, rs_spec *s, uint32_t pid)
{
	if (s->err || pid >= rs->nparts || !rs->part[pid].fence)
		return s->err;
	size_t off;
	if (!rs_spec_str_begin(s, 1, &off) && !(s->err = rs_part_prefix(rs, pid, &s->b)))
		s->err = ts_buf_puts(&s->b, "lease");
	rs_spec_str_end(s, off);
	if (!rs_spec_str_begin(s, 0, &off))
		s->err = ts_buf_printf(&s->b, "fence=%" PRIu64 "/%s", rs->part[pid].fence,
				       rs->holder);
	rs_spec_str_end(s, off);
	return s->err;
}

void rs_fenced(redis_store *rs, uint32_t pid)
{
	rs_part *p = &rs->part[pid];
	rs->fence_refused++;
	if (p->fenced_out)
		return;
	p->fenced_out = 1;
	p->ps.has = 0;
	ts_buf_free(&p->ps.blob);
	rs_fmarks_clear(&p->ps.marks);
	ts_partition *tp = ts_registry_get_partition(rs->base.reg, pid);
	ts_warn("store %s: partition %.*s:%.*s: checkpoint refused (%s): its lease "
		"ts:{%.*s:%.*s}:lease is no longer token %" PRIu64
		"; nothing of it is written again by this worker",
		rs->where, (int)tp->account.n, tp->account.p, (int)tp->region.n, tp->region.p,
		ts_errname(TS_EFENCED), (int)tp->account.n, tp->account.p, (int)tp->region.n,
		tp->region.p, p->fence);
}
