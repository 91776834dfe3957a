/* store_redis_flush.c - the Redis store's flush: the flush script, the one
 * argument builder, checkpoint chunks, MULTI/EXEC groups, and the index
 * and partition list written after them.
 *
 * flush freezes the write buffer into chunks, one flush-script call each
 * (one partition, at most RS_MAX_CHUNK_KEYS keys / RS_MAX_CHUNK_FIELDS
 * fields, its own sequence number, the first carrying the state and file
 * marks); one partition's chunks of one freeze go in one MULTI/EXEC, so
 * its counts, state and marks land together or not at all. A chunk leaves
 * memory once Redis acknowledged it; a retried chunk carries the same
 * sequence number, so the script applies it exactly once. Sequence numbers
 * start at GET flushseq + 1 per partition. A chunk that never reached
 * Redis and is answered 0 met another writer: it renumbers and goes again
 * (one writer per partition is the design; this only keeps a second one
 * from losing counts). The index keys and ts:partitions are written after
 * the partitions' batches.
 *
 * Chunks are compact until sent (store_redis_chunk.c); the pending list rs->pend[pend_first, npend) owns its chunks.
 */
#include <stdlib.h>

#include "minattr.h"
#include "store_redis_int.h"
#include "util.h"

/* The flush script. KEYS[1] is the partition's flushseq key, KEYS[2] its
 * state key, then nmark file-mark keys, then data keys. ARGV: seq, ttl,
 * state blob ('' for none), nmark, then per mark key: nfields, field,
 * value, ..., then per data key: nfields, field, incr, ... or, for a
 * minute-attribution key, "+" and a segment to APPEND. Mark fields are
 * set; data fields are added to. Fields go to HMGET/HSET in slices of 3000
 * (Lua's unpack limit). If flushseq >= seq it returns 0 (already applied).
 * A sequence number above 1 with no flushseq key means the partition's
 * earlier batches are gone from Redis (a restart without persistence, a
 * flush, an eviction): it returns -1 and writes nothing. Else it applies
 * everything (EXPIRE ttl on each key), sets the state and flushseq, and
 * returns 1. The "#!lua" line (Redis 7) makes Redis check maxmemory before
 * the script starts, and before EXEC runs any of a group: under OOM a
 * batch is refused whole, never half applied. A fenced call has one more
 * KEYS, the partition's lease key (ts:{P}:lease, a name no data key has),
 * and one more ARGV, "fence=VALUE", both last: when the lease's value is
 * not VALUE it returns -2 (RS_FENCED) and writes nothing. */
static const char flush_script[] =
	"#!lua\n"
	/* a fenced call (store_redis_lease.c): the lease must still be ours */
	"if KEYS[#KEYS] == string.sub(KEYS[1], 1, -9) .. 'lease' and\n"
	"   string.sub(ARGV[#ARGV], 1, 6) == 'fence=' then\n"
	"  local lease = table.remove(KEYS)\n"
	"  if redis.call('GET', lease) ~= string.sub(table.remove(ARGV), 7) then return -2 end\n"
	"end\n"
	"local seq = tonumber(ARGV[1])\n"
	"local raw = redis.call('GET', KEYS[1])\n"
	"if not raw and seq > 1 then return -1 end\n"
	"local cur = tonumber(raw or '0') or 0\n"
	"if cur >= seq then return 0 end\n"
	"local ttl = tonumber(ARGV[2])\n"
	"local nmark = tonumber(ARGV[4])\n"
	"local a = 5\n"
	"for k = 3, #KEYS do\n"
	"  local key = KEYS[k]\n"
	"  if ARGV[a] == '+' then\n"
	"    redis.call('APPEND', key, ARGV[a + 1])\n"
	"    a = a + 2\n"
	"  else\n"
	"    local n = tonumber(ARGV[a])\n"
	"    a = a + 1\n"
	"    local i = 0\n"
	"    while i < n do\n"
	"      local m = math.min(n - i, 3000)\n"
	"      local kv = {}\n"
	"      if k < 3 + nmark then\n"
	"        for j = 1, 2 * m do kv[j] = ARGV[a + 2 * i + j - 1] end\n"
	"      else\n"
	"        local f = {}\n"
	"        for j = 1, m do f[j] = ARGV[a + 2 * (i + j - 1)] end\n"
	"        local old = redis.call('HMGET', key, unpack(f))\n"
	"        for j = 1, m do\n"
	"          kv[2 * j - 1] = f[j]\n"
	"          kv[2 * j] = tostring((tonumber(old[j]) or 0) +\n"
	"                               tonumber(ARGV[a + 2 * (i + j - 1) + 1]))\n"
	"        end\n"
	"      end\n"
	"      redis.call('HSET', key, unpack(kv))\n"
	"      i = i + m\n"
	"    end\n"
	"    a = a + 2 * n\n"
	"  end\n"
	"  redis.call('EXPIRE', key, ttl)\n"
	"end\n"
	"if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl) end\n"
	"redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)\n"
	"return 1\n";

const char *rs_script(void) { return flush_script; }
size_t rs_script_len(void) { return sizeof flush_script - 1; }

/* --- the argument builder ------------------------------------------------ */

static int push_arg(rs_args *b, size_t off, size_t len)
{
	if (b->n == b->alloc) {
		size_t na = b->alloc ? b->alloc * 2 : 64;
		rs_arg *nv = realloc(b->a, na * sizeof *nv);
		if (!nv)
			return TS_ENOMEM;
		b->a = nv;
		b->alloc = na;
	}
	b->a[b->n++] = (rs_arg){off, len, b->ncmds ? b->ncmds - 1 : 0};
	return 0;
}

void rs_args_cmd(rs_args *b)
{
	if (!b->err)
		b->ncmds++;
}

int rs_args_end(rs_args *b, size_t off)
{
	/* the NUL ts_buf keeps after len separates arguments */
	if (!b->err)
		b->err = push_arg(b, off, b->arena.len - off);
	if (!b->err)
		b->err = ts_buf_add(&b->arena, "", 1);
	return b->err;
}

int rs_args_add(rs_args *b, const char *p, size_t n)
{
	size_t off;
	rs_args_begin(b, &off);
	if (!b->err)
		b->err = ts_buf_add(&b->arena, p, n);
	return rs_args_end(b, off);
}

/* Run the commands; 0 and b->r[0..ncmds) set, or the build or run error. */
int rs_args_run(redis_store *rs, rs_args *b)
{
	if (b->err)
		return b->err;
	size_t n = b->ncmds;
	const char **av = malloc((b->n ? b->n : 1) * sizeof *av);
	size_t *al = malloc((b->n ? b->n : 1) * sizeof *al);
	ts_redis_cmd *cmds = calloc(n ? n : 1, sizeof *cmds);
	b->r = calloc(n ? n : 1, sizeof *b->r);
	int rc = TS_ENOMEM;
	if (av && al && cmds && b->r) {
		for (size_t i = 0; i < b->n; i++) {
			const rs_arg *a = &b->a[i];
			av[i] = b->arena.p + a->off;
			al[i] = a->len;
			if (!cmds[a->cmd].argc++) {
				cmds[a->cmd].argv = &av[i];
				cmds[a->cmd].lens = &al[i];
			}
		}
		rc = n ? rs_run(rs, n, cmds, b->r, NULL) : 0;
		if (rc)
			memset(b->r, 0, n * sizeof *b->r);
	}
	free(av);
	free(al);
	free(cmds);
	return rc;
}

void rs_args_free(rs_args *b)
{
	for (size_t i = 0; b->r && i < b->ncmds; i++)
		if (b->r[i])
			freeReplyObject(b->r[i]);
	free(b->r);
	ts_buf_free(&b->arena);
	free(b->a);
	memset(b, 0, sizeof *b);
}

/* --- chunks ---------------------------------------------------------------- */

/* Start a chunk: KEYS flushseq, state, one mark key per file of st; ARGV
 * seq, ttl, the state blob (or ''), the mark count and each mark. */
static int chunk_start(redis_store *rs, rs_spec *s, uint32_t pid, const pstate *st)
{
	size_t off;
	if (!rs_spec_str_begin(s, 1, &off) && !(s->err = rs_part_prefix(rs, pid, &s->b)))
		s->err = ts_buf_puts(&s->b, "flushseq");
	rs_spec_str_end(s, off);
	if (!rs_spec_str_begin(s, 1, &off) && !(s->err = rs_part_prefix(rs, pid, &s->b)))
		s->err = ts_buf_puts(&s->b, "state");
	rs_spec_str_end(s, off);
	rs_spec_seq(s);
	rs_spec_num(s, (uint64_t)rs->base.retention_days * 86400);
	if (st && st->has && st->blob.len) /* referred to, not copied */
		rs_spec_blob(s, st->blob.p, st->blob.len);
	else
		rs_spec_str(s, 0, "", 0);
	/* marks grouped by their key (the mtime day), sorted by it */
	size_t n = st ? st->marks.n : 0, nkeys = 0;
	if (n)
		qsort(st->marks.m, n, sizeof *st->marks.m, rs_fmark_cmp);
	for (size_t i = 0; i < n; i++)
		nkeys += i == 0 || rs_mark_day(&st->marks.m[i]) != rs_mark_day(&st->marks.m[i - 1]);
	rs_spec_num(s, nkeys);
	for (size_t i = 0; i < n && !s->err;) {
		size_t j = i;
		while (j < n && rs_mark_day(&st->marks.m[j]) == rs_mark_day(&st->marks.m[i]))
			j++;
		if (!rs_spec_str_begin(s, 1, &off))
			s->err = rs_mark_key(rs, pid, st->marks.m[i].mtime, &s->b);
		rs_spec_str_end(s, off);
		rs_spec_num(s, j - i);
		for (; i < j; i++) {
			const fmark *m = &st->marks.m[i];
			rs_spec_str(s, 0, m->name, strlen(m->name));
			if (!rs_spec_str_begin(s, 0, &off))
				s->err = rs_mark_value(m, &s->b);
			rs_spec_str_end(s, off);
		}
	}
	return s->err;
}

/* A minute-attribution key's cells as one segment to append (minattr.h):
 * the marker "+" and the segment. */
static int chunk_minutes(redis_store *rs, rs_spec *s, const cell *const *c, size_t nf)
{
	if (s->err)
		return s->err;
	ts_minattr *v = malloc((nf ? nf : 1) * sizeof *v);
	ts_buf seg = {0};
	if (!v)
		return s->err = TS_ENOMEM;
	for (size_t q = 0; q < nf; q++) {
		uint64_t f = c[q]->field;
		v[q] = (ts_minattr){(uint32_t)(f >> 40), (uint32_t)(f >> 32) & 0xff, (uint32_t)f,
				    c[q]->sum};
	}
	s->err = ts_minattr_pack(v, nf, rs->base.reg, &seg);
	rs_spec_str(s, 0, "+", 1);
	rs_spec_str(s, 0, seg.p, seg.len);
	ts_buf_free(&seg);
	free(v);
	return s->err;
}

/* One buffered key and its cells: the key name, the field count, then
 * field and sum per cell (attribution fields by their value's id); a
 * minute-attribution key: the name, "+" and its segment. */
static int chunk_key(redis_store *rs, rs_spec *s, const rkey *k, const cell *const *c, size_t nf)
{
	size_t off;
	if (!rs_spec_str_begin(s, 1, &off))
		s->err = rs_key_name(rs, k, &s->b);
	rs_spec_str_end(s, off);
	if (k->attr == RS_MINUTES)
		return chunk_minutes(rs, s, c, nf);
	rs_spec_num(s, nf);
	for (size_t q = 0; q < nf && !s->err; q++) {
		if (!k->attr) {
			rs_spec_num(s, (uint32_t)c[q]->field);
		} else {
			uint64_t f = c[q]->field;
			uint32_t vid = (uint32_t)f;
			ts_str v = ts_registry_value_str(rs->base.reg, vid);
			rs_spec_attr(s, (unsigned)(f >> 40), (unsigned)(f >> 32) & 0xff, vid, v.p, v.n);
		}
		rs_spec_num(s, c[q]->sum);
	}
	return s->err;
}

/* A buffered key and its index, sorted by partition to cut chunks. */
typedef struct key_ord {
	rkey k;
	uint32_t idx;
} key_ord;

static int key_cmp(const void *a, const void *b)
{
	const rkey *x = &((const key_ord *)a)->k, *y = &((const key_ord *)b)->k;
	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	if (x->attr != y->attr)
		return x->attr < y->attr ? -1 : 1;
	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	return x->day < y->day ? -1 : x->day > y->day;
}

int rs_get_part_key(redis_store *rs, uint32_t pid, const char *what, redisReply **r)
{
	ts_buf kb = {0};
	int rc = rs_part_prefix(rs, pid, &kb);
	if (!rc)
		rc = ts_buf_puts(&kb, what);
	if (!rc) {
		const char *av[2] = {"GET", kb.p};
		size_t al[2] = {3, kb.len};
		rc = rs_run1(rs, 2, av, al, r);
	}
	ts_buf_free(&kb);
	return rc;
}

/* The flush sequence number Redis holds for a partition (0 if none). */
static int get_seq(redis_store *rs, uint32_t pid, uint64_t *cur)
{
	redisReply *r;
	int rc = rs_get_part_key(rs, pid, "flushseq", &r);
	if (rc)
		return rc;
	*cur = 0;
	if (r->type == REDIS_REPLY_STRING)
		*cur = strtoull(r->str, NULL, 10);
	freeReplyObject(r);
	return 0;
}

static int learn_seq(redis_store *rs, uint32_t pid)
{
	if (rs_ensure_partition(rs, pid))
		return TS_ENOMEM;
	rs_part *p = &rs->part[pid];
	if (p->seq_known)
		return 0;
	uint64_t cur;
	int rc = get_seq(rs, pid, &cur);
	if (rc)
		return rc;
	p->next_seq = cur + 1;
	p->seq_known = 1;
	return 0;
}

/* Learn the next sequence number of each partition in the live buffer. */
static int learn_seqs(redis_store *rs)
{
	int rc = 0;
	for (uint32_t i = 0; i < rs->nkeys && !rc; i++)
		rc = learn_seq(rs, rs->keys[i].partition);
	for (uint32_t pid = 0; pid < rs->nparts && !rc; pid++)
		if (rs->part[pid].ps.has || rs->part[pid].ps.marks.n)
			rc = learn_seq(rs, pid);
	return rc;
}

static int chunk_push(chunk **v, size_t *n, size_t *alloc)
{
	if (*n < *alloc)
		return 0;
	size_t na = *alloc ? *alloc * 2 : 8;
	chunk *nv = realloc(*v, na * sizeof *nv);
	if (!nv)
		return TS_ENOMEM;
	*v = nv;
	*alloc = na;
	return 0;
}

/* Move the live buffer and the waiting states into frozen chunks at the
 * end of the pending list: per partition (in id order), chunks of at most
 * RS_MAX_CHUNK_KEYS keys / RS_MAX_CHUNK_FIELDS fields, the first carrying
 * the partition's state and file marks. */
int rs_freeze(redis_store *rs)
{
	int rc = learn_seqs(rs);
	if (rc)
		return rc == TS_ENOMEM ? rc : TS_ESTORE;
	uint32_t nk = rs->nkeys;
	size_t *start = calloc((size_t)nk + 1, sizeof *start);
	const cell **pos = malloc((rs->live.n ? rs->live.n : 1) * sizeof *pos);
	key_ord *ko = malloc((nk ? nk : 1) * sizeof *ko);
	chunk *made = NULL;
	size_t nmade = 0, made_alloc = 0, nfields = 0;
	rs_spec *s = &rs->spec;
	uint64_t gen = rs->gen + 1;
	rc = TS_ENOMEM;
	if (!start || !pos || !ko)
		goto out_free;
	/* group cells by key (counting sort) */
	for (size_t i = 0; i < rs->live.slots; i++)
		if (rs->live.c[i].key1)
			start[rs->live.c[i].key1]++;
	for (uint32_t k = 0; k < nk; k++)
		start[k + 1] += start[k];
	for (size_t i = 0; i < rs->live.slots; i++)
		if (rs->live.c[i].key1)
			pos[start[rs->live.c[i].key1 - 1]++] = &rs->live.c[i];
	for (uint32_t k = nk; k > 0; k--)
		start[k] = start[k - 1];
	start[0] = 0;
	for (uint32_t k = 0; k < nk; k++)
		ko[k] = (key_ord){rs->keys[k], k};
	qsort(ko, nk, sizeof *ko, key_cmp);

	uint32_t oi = 0;
	for (uint32_t pid = 0; pid < rs->nparts; pid++) {
		rs_part *p = &rs->part[pid];
		int has_keys = oi < nk && ko[oi].k.partition == pid;
		if (!has_keys && !p->ps.has && !p->ps.marks.n)
			continue;
		if (p->fenced_out) { /* dropped: nothing of it is sent again */
			while (oi < nk && ko[oi].k.partition == pid)
				oi++;
			continue;
		}
		if ((rc = chunk_start(rs, s, pid, &p->ps)))
			goto out_free;
		nfields = 0;
		uint32_t nkeys = 0;
		for (; oi < nk && ko[oi].k.partition == pid; oi++) {
			uint32_t ki = ko[oi].idx;
			size_t nf = start[ki + 1] - start[ki];
			if (nkeys >= RS_MAX_CHUNK_KEYS || (nfields && nfields + nf > RS_MAX_CHUNK_FIELDS)) {
				if ((rc = chunk_push(&made, &nmade, &made_alloc)) ||
				    (rc = rs_chunk_fence(rs, s, pid)) ||
				    (rc = rs_spec_take(s, pid, p->next_seq++, nfields, &made[nmade])))
					goto out_free;
				made[nmade++].gen = gen;
				if ((rc = chunk_start(rs, s, pid, NULL)))
					goto out_free;
				nfields = 0;
				nkeys = 0;
			}
			if ((rc = chunk_key(rs, s, &rs->keys[ki], pos + start[ki], nf)))
				goto out_free;
			nfields += nf;
			nkeys++;
		}
		if ((rc = chunk_push(&made, &nmade, &made_alloc)) || (rc = rs_chunk_fence(rs, s, pid)) ||
		    (rc = rs_spec_take(s, pid, p->next_seq++, nfields, &made[nmade])))
			goto out_free;
		made[nmade++].gen = gen;
	}
	rc = TS_ENOMEM;
	/* append the made chunks to the pending list */
	if (rs->npend + nmade > rs->pend_alloc) {
		size_t na = rs->pend_alloc ? rs->pend_alloc : 8;
		while (na < rs->npend + nmade)
			na *= 2;
		chunk *np = realloc(rs->pend, na * sizeof *np);
		if (!np)
			goto out_free;
		rs->pend = np;
		rs->pend_alloc = na;
	}
	for (size_t i = 0; i < nmade; i++) {
		if (made[i].blob) { /* the chunk has the state now */
			made[i].owns_blob = 1;
			memset(&rs->part[made[i].partition].ps.blob, 0, sizeof(ts_buf));
		}
		rs->pend[rs->npend++] = made[i];
		rs->pend_cells += made[i].ncells;
		rs->pend_bytes += made[i].bytes;
	}
	nmade = 0;
	rs->gen = gen;
	rs_live_clear(rs);
	rs->live_gen++;
	rs->state_bytes = 0;
	for (uint32_t pid = 0; pid < rs->nparts; pid++) {
		pstate *ps = &rs->part[pid].ps;
		ps->has = 0;
		ts_buf_free(&ps->blob);
		rs_fmarks_clear(&ps->marks);
	}
	rc = 0;
out_free:
	/* on failure, give back the sequence numbers never sent */
	for (size_t i = 0; i < nmade; i++) {
		rs_part *p = &rs->part[made[i].partition];
		if (made[i].seq < p->next_seq)
			p->next_seq = made[i].seq;
		made[i].blob = NULL; /* still the partition's */
		rs_chunk_free(&made[i]);
	}
	if (rc) { /* what was being built goes too */
		chunk tmp;
		s->err = 0;
		rs_spec_take(s, 0, 0, 0, &tmp);
		tmp.blob = NULL;
		rs_chunk_free(&tmp);
	}
	free(made);
	free(start);
	free(pos);
	free(ko);
	return rc;
}

/* Send the frozen chunks in order; each leaves memory once applied. The
 * chunks one freeze made for one partition go together: one EVALSHA when
 * there is one, else MULTI, EVAL..., EXEC (EVAL: a NOSCRIPT inside EXEC
 * would break the group's atomicity). A chunk that never reached Redis
 * before and is answered "already applied" met a flushseq another writer
 * advanced: it takes the next number after that writer's and goes again. */
int rs_send_pending(redis_store *rs)
{
	int conflicts = 0;
	while (rs->pend_first < rs->npend) {
		size_t i = rs->pend_first, j = i + 1;
		chunk *ch = &rs->pend[i];
		while (j < rs->npend && rs->pend[j].gen == ch->gen &&
		       rs->pend[j].partition == ch->partition)
			j++;
		if (rs->part[ch->partition].fenced_out) { /* refused before: dropped */
			for (size_t x = i; x < j; x++) {
				rs->pend_cells -= rs->pend[x].ncells;
				rs->pend_bytes -= rs->pend[x].bytes;
				rs_chunk_free(&rs->pend[x]);
			}
			rs->pend_first = j;
			continue;
		}
		size_t k = j - i, n = k == 1 ? 1 : k + 2;
		ts_redis_cmd *cmds = malloc(n * sizeof *cmds);
		redisReply **r = calloc(n, sizeof *r);
		static const char *const multi[1] = {"MULTI"}, *const exec[1] = {"EXEC"};
		static const size_t multi_len[1] = {5}, exec_len[1] = {4};
		if (!cmds || !r) {
			free(cmds);
			free(r);
			return TS_ENOMEM;
		}
		size_t c = 0;
		int rc = 0;
		if (k > 1)
			cmds[c++] = (ts_redis_cmd){1, multi, multi_len};
		for (size_t x = i; x < j && !rc; x++) {
			chunk *h = &rs->pend[x];
			/* EVALSHA alone (the sha may have changed if the server's
			 * script cache was replaced); EVAL inside a group */
			rc = k == 1 ? rs_chunk_expand(h, "EVALSHA", rs->sha, 40)
				    : rs_chunk_expand(h, "EVAL", rs_script(), rs_script_len());
			cmds[c++] = (ts_redis_cmd){h->argc, h->argv, h->argvlen};
		}
		if (k > 1)
			cmds[c++] = (ts_redis_cmd){1, exec, exec_len};
		int sends = 0;
		if (!rc)
			rc = rs_run(rs, n, cmds, r, &sends);
		free(cmds);
		for (size_t x = i; x < j; x++)
			rs_chunk_shrink(&rs->pend[x]);
		unsigned char *was_sent = malloc(k);
		for (size_t x = i; x < j; x++) {
			if (was_sent)
				was_sent[x - i] = (unsigned char)rs->pend[x].sent;
			if (sends)
				rs->pend[x].sent = 1;
		}
		if (rc || !was_sent) {
			if (!rc)
				for (size_t x = 0; x < n; x++)
					freeReplyObject(r[x]);
			free(r);
			free(was_sent);
			return rc ? rc : TS_ENOMEM;
		}
		/* the script replies: r[0] alone, or EXEC's array */
		redisReply *res = k == 1 ? NULL : r[n - 1];
		int ok = k == 1 ? r[0]->type == REDIS_REPLY_INTEGER
				: res->type == REDIS_REPLY_ARRAY && res->elements == k;
		for (size_t x = 0; ok && k > 1 && x < k; x++)
			ok = res->element[x]->type == REDIS_REPLY_INTEGER;
		for (size_t x = 0; ok && x < k; x++) {
			chunk *h = &rs->pend[i + x];
			long long applied = k == 1 ? r[0]->integer : res->element[x]->integer;
			if (applied == RS_FENCED) { /* the group goes whole: dropped below */
				rs_fenced(rs, h->partition);
				continue;
			}
			if (applied < 0) {
				ts_partition *p = ts_registry_get_partition(rs->base.reg, h->partition);
				char why[300];
				snprintf(why, sizeof why, "key ts:{%.*s:%.*s}:flushseq is gone",
					 (int)p->account.n, p->account.p, (int)p->region.n, p->region.p);
				rs_history_lost(rs, why, rs->base.errstr, sizeof rs->base.errstr);
				rc = TS_ESTORE;
				break;
			}
			if (applied == 0 && !was_sent[x] && sends == 1) {
				uint64_t cur;
				if (++conflicts > 100) {
					rs_set_err(rs, "%s: flush sequence keeps moving: another writer?",
						rs->where);
					rc = TS_ESTORE;
					break;
				}
				if ((rc = get_seq(rs, h->partition, &cur)))
					break;
				ts_warn("store %s: partition %u flushed by another writer (sequence %llu, "
					"Redis has %llu); renumbering",
					rs->where, h->partition, (unsigned long long)h->seq,
					(unsigned long long)cur);
				h->seq = cur + 1;
				h->sent = 0;
				h->gen = ++rs->gen; /* goes again on its own */
				if (rs->part[h->partition].next_seq <= h->seq)
					rs->part[h->partition].next_seq = h->seq + 1;
				continue;
			}
		}
		for (size_t x = 0; x < n; x++)
			freeReplyObject(r[x]);
		free(r);
		free(was_sent);
		if (!ok) {
			rs_set_err(rs, "%s: flush script: unexpected reply", rs->where);
			return TS_ESTORE;
		}
		if (rc)
			return rc;
		/* drop the applied chunks; renumbered ones (sent == 0) stay */
		for (size_t x = i; x < j; x++) {
			chunk *h = &rs->pend[x];
			if (!h->sent && !rs->part[h->partition].fenced_out)
				continue; /* renumbered: move it to the front of what is left */
			rs->pend_cells -= h->ncells;
			rs->pend_bytes -= h->bytes;
			rs_chunk_free(h);
		}
		/* compact [i, j): renumbered chunks stay, in order, at the front */
		size_t keep = i;
		for (size_t x = i; x < j; x++)
			if (rs->pend[x].spec)
				rs->pend[keep++] = rs->pend[x];
		if (keep == i) {
			rs->pend_first = j;
		} else {
			/* close the gap left by dropped chunks */
			memmove(&rs->pend[keep], &rs->pend[j], (rs->npend - j) * sizeof *rs->pend);
			rs->npend -= j - keep;
			rs->pend_first = i;
		}
	}
	rs->npend = rs->pend_first = 0;
	return 0;
}

/* Write the index of files done: per mtime day, HSET ts:files:DAY
 * name size:mtime ... and EXPIRE, pipelined; the marks leave memory once
 * written. */

int rs_write_index_n(redis_store *rs, size_t n)
{
	if (!n)
		return 0;
	qsort(rs->index.m, n, sizeof *rs->index.m, rs_fmark_cmp);
	char ttl[24];
	snprintf(ttl, sizeof ttl, "%lld", (long long)rs->base.retention_days * 86400);
	rs_args b = {0};
	for (size_t i = 0; i < n && !b.err;) {
		size_t off, key_off, j = i;
		while (j < n && rs_mark_day(&rs->index.m[j]) == rs_mark_day(&rs->index.m[i]))
			j++;
		rs_args_cmd(&b);
		rs_args_str(&b, "HSET");
		rs_args_begin(&b, &key_off);
		if (!b.err)
			b.err = rs_mark_key(rs, UINT32_MAX, rs->index.m[i].mtime, &b.arena);
		rs_args_end(&b, key_off);
		size_t key_len = b.err ? 0 : b.a[b.n - 1].len;
		for (; i < j && !b.err; i++) {
			rs_args_str(&b, rs->index.m[i].name);
			rs_args_begin(&b, &off);
			if (!b.err)
				b.err = rs_mark_value(&rs->index.m[i], &b.arena);
			rs_args_end(&b, off);
		}
		rs_args_cmd(&b);
		rs_args_str(&b, "EXPIRE");
		if (!b.err) /* the key again (the arena may have moved: copy by offset) */
			b.err = ts_buf_grow(&b.arena, key_len + 1);
		rs_args_begin(&b, &off);
		if (!b.err)
			b.err = ts_buf_add(&b.arena, b.arena.p + key_off, key_len);
		rs_args_end(&b, off);
		rs_args_str(&b, ttl);
	}
	int rc = rs_args_run(rs, &b);
	rs_args_free(&b);
	if (!rc) {
		/* drop the n written marks, keep any added after them */
		for (size_t i = 0; i < n; i++)
			free(rs->index.m[i].name);
		memmove(rs->index.m, rs->index.m + n, (rs->index.n - n) * sizeof *rs->index.m);
		rs->index.n -= n;
	}
	return rc;
}

/* SADD ts:partitions "ACCT:REGION" for partitions whose first state was
 * just written. */
int rs_list_partitions(redis_store *rs)
{
	rs_args b = {0};
	size_t n = 0;
	for (uint32_t pid = 0; pid < rs->nparts && !b.err; pid++) {
		if (rs->part[pid].listed != 2)
			continue;
		if (!n++) {
			rs_args_cmd(&b);
			rs_args_str(&b, "SADD");
			rs_args_str(&b, "ts:partitions");
		}
		ts_partition *p = ts_registry_get_partition(rs->base.reg, pid);
		size_t off;
		rs_args_begin(&b, &off);
		if (!b.err)
			b.err = ts_buf_printf(&b.arena, "%.*s:%.*s", (int)p->account.n, p->account.p,
					      (int)p->region.n, p->region.p);
		rs_args_end(&b, off);
	}
	int rc = rs_args_run(rs, &b);
	rs_args_free(&b);
	for (uint32_t pid = 0; !rc && pid < rs->nparts; pid++)
		if (rs->part[pid].listed == 2)
			rs->part[pid].listed = 1;
	return rc;
}


/* Mark the partitions whose state this flush writes first, to be listed in
 * ts:partitions once written. */
static void to_list(redis_store *rs)
{
	for (uint32_t pid = 0; pid < rs->nparts; pid++)
		if (rs->part[pid].ps.has && !rs->part[pid].listed)
			rs->part[pid].listed = 2;
}

/* At -v, the store's memory by part (bytes asked of malloc). */
static void mem_log(const redis_store *rs)
{
	size_t cnt = 0;
	for (uint32_t i = 0; i < rs->nmetrics; i++)
		cnt += rs->met[i].cache ? ts_dc_memory(rs->met[i].cache) : 0;
	ts_debug("store memory: count days %zu, per metric %zu, live cells %zu (%zu slots), "
		 "keys %zu, pending %zu bytes (%zu cells), unknown %zu, marks %zu, states %zu",
		 cnt, (size_t)rs->nmetrics * sizeof(rs_metric), rs->live.n,
		 rs->live.slots * sizeof(cell),
		 rs->keys_alloc * sizeof(rkey) + rs->kslots * sizeof(uint32_t), rs->pend_bytes,
		 rs->pend_cells, rs->unknown_alloc * sizeof(rkey), ts_mk_memory(&rs->marks),
		 rs->state_bytes);
}

int rs_flush_begin(ts_store *st)
{
	redis_store *rs = (redis_store *)st;
	if (ts_log_level >= 3)
		mem_log(rs);
	int rc = rs_bg_join(rs);
	if (!rc)
		rc = rs_resolve_unknown(rs);
	if (!rc)
		rc = rs_send_pending(rs); /* anything left from before, at once */
	if (rc)
		return rc;
	/* every frozen chunk is applied: days not written since are whole in
	 * Redis */
	rs_cache_evict(rs, 0);
	to_list(rs);
	if (!rs->live.n && !rs_has_states(rs))
		return rs_write_index_n(rs, rs->index.n);
	if ((rc = rs_freeze(rs)))
		return rc == TS_ENOMEM ? rc : TS_ESTORE;
	return rs_bg_start(rs);
}

int rs_flush(ts_store *st)
{
	redis_store *rs = (redis_store *)st;
	int rc = rs_bg_join(rs);
	if (!rc)
		rc = rs_resolve_unknown(rs);
	if (!rc)
		rc = rs_send_pending(rs);
	if (rc)
		return rc;
	to_list(rs);
	if (rs->live.n || rs_has_states(rs)) {
		if ((rc = rs_freeze(rs)))
			return rc == TS_ENOMEM ? rc : TS_ESTORE;
		if ((rc = rs_send_pending(rs)))
			return rc;
	}
	if ((rc = rs_write_index_n(rs, rs->index.n)) || (rc = rs_list_partitions(rs)))
		return rc;
	if (!rs->npend && !rs->live.n)
		rs_cache_evict(rs, 1);
	/* every mark is in Redis now: the mark cache lets go of its older
	 * days (read again from Redis) */
	if (!rs->npend && !rs->nunknown && !rs->live.n && !rs_has_states(rs))
		ts_mk_prune(&rs->marks, RS_MARK_DAYS_KEPT);
	return 0;
}
