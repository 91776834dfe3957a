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
 * Chunks own their argv arrays, arena and sequence text (rs_chunk_free);
 * the pending list rs->pend[pend_first, npend) owns its chunks.
 */
#include <stdlib.h>

#include "store_redis_int.h"
#include "util.h"

/* The flush script. KEYS[1] is the partition's flushseq key, KEYS[2] its
 * state key, then nmark file-mark keys, then data keys. ARGV: seq, ttl,
 * state blob ('' for none), nmark, then per mark key: nfields, field,
 * value, ..., then per data key: nfields, field, incr, ... Mark fields are
 * set; data fields are added to. Fields go to HMGET/HSET in slices of 3000
 * (Lua's unpack limit). If flushseq >= seq it returns 0 (already applied).
 * A sequence number above 1 with no flushseq key means the partition's
 * earlier batches are gone from Redis (a restart without persistence, a
 * flush, an eviction): it returns -1 and writes nothing. Else it applies
 * everything (EXPIRE ttl on each key), sets the state and flushseq, and
 * returns 1. The "#!lua" line (Redis 7) makes Redis check maxmemory before
 * the script starts, and before EXEC runs any of a group: under OOM a
 * batch is refused whole, never half applied. */
static const char flush_script[] =
	"#!lua\n"
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
	"  local n = tonumber(ARGV[a])\n"
	"  a = a + 1\n"
	"  local i = 0\n"
	"  while i < n do\n"
	"    local m = math.min(n - i, 3000)\n"
	"    local kv = {}\n"
	"    if k < 3 + nmark then\n"
	"      for j = 1, 2 * m do kv[j] = ARGV[a + 2 * i + j - 1] end\n"
	"    else\n"
	"      local f = {}\n"
	"      for j = 1, m do f[j] = ARGV[a + 2 * (i + j - 1)] end\n"
	"      local old = redis.call('HMGET', key, unpack(f))\n"
	"      for j = 1, m do\n"
	"        kv[2 * j - 1] = f[j]\n"
	"        kv[2 * j] = tostring((tonumber(old[j]) or 0) +\n"
	"                             tonumber(ARGV[a + 2 * (i + j - 1) + 1]))\n"
	"      end\n"
	"    end\n"
	"    redis.call('HSET', key, unpack(kv))\n"
	"    i = i + m\n"
	"  end\n"
	"  redis.call('EXPIRE', key, ttl)\n"
	"  a = a + 2 * n\n"
	"end\n"
	"if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl) end\n"
	"redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)\n"
	"return 1\n";

const char *rs_script(void) { return flush_script; }
size_t rs_script_len(void) { return sizeof flush_script - 1; }

/* --- the argument builder ------------------------------------------------ */

static int push_arg(rs_args *b, size_t off, size_t len, int key)
{
	if (b->n == b->alloc) {
		size_t na = b->alloc ? b->alloc * 2 : 64;
		rs_arg *nv = realloc(b->a, na * sizeof *nv);
		if (!nv)
			return TS_ENOMEM;
		b->a = nv;
		b->alloc = na;
	}
	b->a[b->n++] = (rs_arg){off, len, b->ncmds ? b->ncmds - 1 : 0, (uint8_t)key};
	b->nkeys += key != 0;
	return 0;
}

void rs_args_cmd(rs_args *b)
{
	if (!b->err)
		b->ncmds++;
}

int rs_args_end(rs_args *b, size_t off, int key)
{
	/* the NUL ts_buf keeps after len separates arguments */
	if (!b->err)
		b->err = push_arg(b, off, b->arena.len - off, key);
	if (!b->err)
		b->err = ts_buf_add(&b->arena, "", 1);
	return b->err;
}

int rs_args_add(rs_args *b, const char *p, size_t n, int key)
{
	size_t off;
	rs_args_begin(b, &off);
	if (!b->err)
		b->err = ts_buf_add(&b->arena, p, n);
	return rs_args_end(b, off, key);
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

void rs_chunk_free(chunk *ch)
{
	free(ch->argv);
	free(ch->argvlen);
	free(ch->arena);
	free(ch->seqbuf);
	if (ch->owns_blob)
		free(ch->blob);
}

/* Turn the arguments into a chunk: EVALSHA sha numkeys KEYS... ARGV...
 * (the arena moves into the chunk; b is left empty). The sequence number
 * is the first ARGV. */
static int chunk_make(redis_store *rs, rs_args *b, uint32_t pid, uint64_t seq, size_t ncells,
		      chunk *ch)
{
	memset(ch, 0, sizeof *ch);
	size_t argc = 3 + b->n;
	ch->argv = malloc(argc * sizeof *ch->argv);
	ch->argvlen = malloc(argc * sizeof *ch->argvlen);
	ch->seqbuf = malloc(24);
	char nkeys[24];
	if (!ch->argv || !ch->argvlen || !ch->seqbuf) {
		rs_chunk_free(ch);
		return TS_ENOMEM;
	}
	/* numkeys and the sha live in the arena too: append them now */
	snprintf(nkeys, sizeof nkeys, "%zu", b->nkeys);
	size_t noff = b->arena.len;
	int rc = ts_buf_add(&b->arena, nkeys, strlen(nkeys) + 1);
	size_t shaoff = b->arena.len;
	if (!rc)
		rc = ts_buf_add(&b->arena, rs->sha, 41);
	if (rc) {
		rs_chunk_free(ch);
		return rc;
	}
	/* the arena is final: give back what it grew past its length */
	char *fit = realloc(b->arena.p, b->arena.len + 1);
	if (fit) {
		b->arena.p = fit;
		b->arena.alloc = b->arena.len + 1;
	}
	ch->arena = b->arena.p;
	ch->argv[0] = "EVALSHA";
	ch->argvlen[0] = 7;
	ch->sha_off = shaoff;
	ch->argv[1] = ch->arena + shaoff;
	ch->argvlen[1] = 40;
	ch->argv[2] = ch->arena + noff;
	ch->argvlen[2] = strlen(ch->argv[2]);
	size_t k = 3, a = 3 + b->nkeys;
	for (size_t j = 0; j < b->n; j++) {
		size_t i = b->a[j].key ? k++ : a++;
		ch->argv[i] = ch->arena + b->a[j].off;
		ch->argvlen[i] = b->a[j].len;
		if (b->blob && j == b->blob_at) {
			ch->argv[i] = b->blob;
			ch->argvlen[i] = b->blob_len;
			ch->blob = b->blob;
		}
	}
	ch->argc = (int)argc;
	ch->partition = pid;
	ch->seq = seq;
	/* the sequence number is the first ARGV; keep it rewritable */
	ch->seq_arg = (int)(3 + b->nkeys);
	snprintf(ch->seqbuf, 24, "%llu", (unsigned long long)seq);
	ch->argv[ch->seq_arg] = ch->seqbuf;
	ch->argvlen[ch->seq_arg] = strlen(ch->seqbuf);
	ch->ncells = ncells;
	ch->bytes = b->arena.alloc + argc * (sizeof *ch->argv + sizeof *ch->argvlen) +
		    (b->blob ? b->blob_len : 0);
	b->arena.p = NULL;
	b->arena.len = b->arena.alloc = 0;
	rs_args_free(b);
	return 0;
}

/* Start a chunk: KEYS flushseq, state, one mark key per file of st; ARGV
 * seq, ttl, the state blob (or ''), the mark count and each mark. */
static int chunk_start(redis_store *rs, rs_args *b, uint32_t pid, uint64_t seq, const pstate *st)
{
	size_t off;
	int rc;
	rs_args_begin(b, &off);
	if ((rc = rs_part_prefix(rs, pid, &b->arena)) || (rc = ts_buf_puts(&b->arena, "flushseq")) ||
	    (rc = rs_args_end(b, off, 1)))
		return rc;
	rs_args_begin(b, &off);
	if ((rc = rs_part_prefix(rs, pid, &b->arena)) || (rc = ts_buf_puts(&b->arena, "state")) ||
	    (rc = rs_args_end(b, off, 1)))
		return rc;
	rs_args_begin(b, &off);
	if ((rc = ts_buf_printf(&b->arena, "%llu", (unsigned long long)seq)) ||
	    (rc = rs_args_end(b, off, 0)))
		return rc;
	rs_args_begin(b, &off);
	if ((rc = ts_buf_printf(&b->arena, "%lld", (long long)rs->base.retention_days * 86400)) ||
	    (rc = rs_args_end(b, off, 0)))
		return rc;
	rs_args_begin(b, &off);
	if (st && st->has && st->blob.len) { /* referred to, not copied */
		b->blob = st->blob.p;
		b->blob_len = st->blob.len;
		b->blob_at = b->n;
	}
	if ((rc = rs_args_end(b, off, 0)))
		return rc;
	/* marks grouped by their key (the mtime day), sorted by it */
	size_t n = st ? st->marks.n : 0, nkeys = 0;
	if (n)
		qsort(st->marks.m, n, sizeof *st->marks.m, rs_fmark_cmp);
	for (size_t i = 0; i < n; i++)
		nkeys += i == 0 || rs_mark_day(&st->marks.m[i]) != rs_mark_day(&st->marks.m[i - 1]);
	rs_args_begin(b, &off);
	if ((rc = ts_buf_printf(&b->arena, "%zu", nkeys)) || (rc = rs_args_end(b, off, 0)))
		return rc;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && rs_mark_day(&st->marks.m[j]) == rs_mark_day(&st->marks.m[i]))
			j++;
		rs_args_begin(b, &off);
		if ((rc = rs_mark_key(rs, pid, st->marks.m[i].mtime, &b->arena)) ||
		    (rc = rs_args_end(b, off, 1)))
			return rc;
		rs_args_begin(b, &off);
		if ((rc = ts_buf_printf(&b->arena, "%zu", j - i)) || (rc = rs_args_end(b, off, 0)))
			return rc;
		for (; i < j; i++) {
			const fmark *m = &st->marks.m[i];
			if ((rc = rs_args_add(b, m->name, strlen(m->name), 0)))
				return rc;
			rs_args_begin(b, &off);
			if ((rc = rs_mark_value(m, &b->arena)) || (rc = rs_args_end(b, off, 0)))
				return rc;
		}
	}
	return 0;
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
	size_t *pos = malloc((rs->live.n ? rs->live.n : 1) * sizeof *pos);
	key_ord *ko = malloc((nk ? nk : 1) * sizeof *ko);
	chunk *made = NULL;
	size_t nmade = 0, made_alloc = 0, nfields = 0;
	rs_args b = {0};
	uint64_t gen = rs->gen + 1;
	rc = TS_ENOMEM;
	if (!start || !pos || !ko)
		goto out_free;
	/* group cell indices by key (counting sort) */
	for (size_t i = 0; i < rs->live.slots; i++)
		if (rs->live.c[i].used)
			start[rs->live.c[i].key + 1]++;
	for (uint32_t k = 0; k < nk; k++)
		start[k + 1] += start[k];
	for (size_t i = 0; i < rs->live.slots; i++)
		if (rs->live.c[i].used)
			pos[start[rs->live.c[i].key]++] = i;
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
		if ((rc = chunk_start(rs, &b, pid, p->next_seq, &p->ps)))
			goto out_free;
		nfields = 0;
		for (; oi < nk && ko[oi].k.partition == pid; oi++) {
			uint32_t ki = ko[oi].idx;
			const rkey *k = &rs->keys[ki];
			size_t nf = start[ki + 1] - start[ki];
			if (b.nkeys - 2 >= RS_MAX_CHUNK_KEYS ||
			    (nfields && nfields + nf > RS_MAX_CHUNK_FIELDS)) {
				if ((rc = chunk_push(&made, &nmade, &made_alloc)) ||
				    (rc = chunk_make(rs, &b, pid, p->next_seq++, nfields, &made[nmade])))
					goto out_free;
				made[nmade++].gen = gen;
				if ((rc = chunk_start(rs, &b, pid, p->next_seq, NULL)))
					goto out_free;
				nfields = 0;
			}
			size_t off;
			rs_args_begin(&b, &off);
			if ((rc = rs_key_name(rs, k, &b.arena)) || (rc = rs_args_end(&b, off, 1)))
				goto out_free;
			rs_args_begin(&b, &off);
			if ((rc = ts_buf_printf(&b.arena, "%zu", nf)) || (rc = rs_args_end(&b, off, 0)))
				goto out_free;
			for (size_t q = start[ki]; q < start[ki + 1]; q++) {
				const cell *c = &rs->live.c[pos[q]];
				rs_args_begin(&b, &off);
				if ((rc = rs_field_name(rs, k, c->field, &b.arena)) ||
				    (rc = rs_args_end(&b, off, 0)))
					goto out_free;
				rs_args_begin(&b, &off);
				if ((rc = rs_add_u64(&b.arena, c->sum)) || (rc = rs_args_end(&b, off, 0)))
					goto out_free;
			}
			nfields += nf;
		}
		if ((rc = chunk_push(&made, &nmade, &made_alloc)) ||
		    (rc = chunk_make(rs, &b, pid, p->next_seq++, nfields, &made[nmade])))
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
		rs_chunk_free(&made[i]);
	}
	rs_args_free(&b);
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
		if (k > 1)
			cmds[c++] = (ts_redis_cmd){1, multi, multi_len};
		for (size_t x = i; x < j; x++) {
			chunk *h = &rs->pend[x];
			if (k == 1) {
				h->argv[0] = "EVALSHA";
				h->argvlen[0] = 7;
				h->argv[1] = h->arena + h->sha_off;
				h->argvlen[1] = 40;
				/* the sha may differ if the server's script cache was replaced */
				memcpy(h->arena + h->sha_off, rs->sha, 40);
			} else {
				h->argv[0] = "EVAL";
				h->argvlen[0] = 4;
				h->argv[1] = rs_script();
				h->argvlen[1] = rs_script_len();
			}
			cmds[c++] = (ts_redis_cmd){h->argc, h->argv, h->argvlen};
		}
		if (k > 1)
			cmds[c++] = (ts_redis_cmd){1, exec, exec_len};
		int sends, rc = rs_run(rs, n, cmds, r, &sends);
		free(cmds);
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
				snprintf(h->seqbuf, 24, "%llu", (unsigned long long)h->seq);
				h->argvlen[h->seq_arg] = strlen(h->seqbuf);
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
			if (!h->sent) /* renumbered: move it to the front of what is left */
				continue;
			rs->pend_cells -= h->ncells;
			rs->pend_bytes -= h->bytes;
			rs_chunk_free(h);
			h->argv = NULL;
		}
		/* compact [i, j): renumbered chunks stay, in order, at the front */
		size_t keep = i;
		for (size_t x = i; x < j; x++)
			if (rs->pend[x].argv)
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
		rs_args_end(&b, key_off, 0);
		size_t key_len = b.err ? 0 : b.a[b.n - 1].len;
		for (; i < j && !b.err; i++) {
			rs_args_str(&b, rs->index.m[i].name);
			rs_args_begin(&b, &off);
			if (!b.err)
				b.err = rs_mark_value(&rs->index.m[i], &b.arena);
			rs_args_end(&b, off, 0);
		}
		rs_args_cmd(&b);
		rs_args_str(&b, "EXPIRE");
		if (!b.err) /* the key again (the arena may have moved: copy by offset) */
			b.err = ts_buf_grow(&b.arena, key_len + 1);
		rs_args_begin(&b, &off);
		if (!b.err)
			b.err = ts_buf_add(&b.arena, b.arena.p + key_off, key_len);
		rs_args_end(&b, off, 0);
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
		rs_args_end(&b, off, 0);
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
		cnt += ts_dc_memory(&rs->met[i].cache);
	ts_debug("store memory: count days %zu, per metric %zu, live cells %zu (%zu slots), "
		 "keys %zu, pending %zu bytes (%zu cells), unknown %zu, marks %zu",
		 cnt, (size_t)rs->nmetrics * sizeof(rs_metric), rs->live.n,
		 rs->live.slots * sizeof(cell),
		 rs->keys_alloc * sizeof(rkey) + rs->kslots * sizeof(uint32_t), rs->pend_bytes,
		 rs->pend_cells, rs->unknown_alloc * sizeof(rkey), ts_mk_memory(&rs->marks));
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
	/* every mark is in Redis now: the mark cache lets go of its older
	 * days (read again from Redis) */
	if (!rs->npend && !rs->nunknown && !rs->live.n && !rs_has_states(rs))
		ts_mk_prune(&rs->marks, RS_MARK_DAYS_KEPT);
	return 0;
}
