/* redis_cluster.c - the Redis Cluster client (redis_cluster.h): key slots,
 * the redis-cluster:// URL, the slot map and the routing of a batch.
 *
 * A ts_rcluster owns its spec (credentials included: they go only into
 * the specs of its ts_redis), its nodes (each a ts_redis; a node is freed
 * when a new slot map leaves it out and it is not a seed of the URL, and by
 * ts_rcluster_free), the slot map (slot -> index into nodes, -1: no node)
 * and the message of its last failure. Replies it hands out belong to the
 * caller. Invariants: every index in the slot map, and in the ASK targets
 * of a run, is below nnodes; nodes are pruned only by read_map, which
 * rebuilds the map, and a run clears its ASK targets after each read_map.
 * Each node has an id no other node of the client ever had, so a map can
 * be told from an earlier one whatever the indices (map_sig).
 */
#include <hiredis/hiredis.h>
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>

#include "backoff.h"
#include "err.h"
#include "redis_cluster.h"
#include "util.h"

/* Rounds of redirects in one run before the backoff applies to them too
 * (nodes that disagree cannot make a run spin). */
#define QUICK_ROUNDS 8
/* A wait is slept in slices this long, the map read after each: it ends
 * when the map changes (a replica promoted), not when the schedule says. */
#define WATCH_MS 200

typedef struct node {
	char host[256];
	int port;
	int seed; /* from the URL: kept when a map leaves it out */
	int mark; /* named by the map being read */
	uint64_t id; /* 1, 2, ...: never reused by the client */
	ts_redis *r;
} node;

struct ts_rcluster {
	ts_rcluster_spec sp;
	ts_redis_opts o;
	node *nodes[TS_RCLUSTER_MAX_NODES];
	int nnodes;
	int last_good; /* the node that gave the last map: asked first */
	int have_map;
	uint64_t next_id;   /* ids given to nodes */
	uint64_t watch_sig; /* map_sig when the wait began (wait_watch) */
	int16_t slot[TS_RCLUSTER_SLOTS];
	ts_backoff bo;
	uint64_t moved, ask, refreshes, waits;
	uint64_t gone_trips, gone_reconnects; /* of nodes freed */
	char err[1024];
};

uint16_t ts_rcluster_crc16(const void *buf, size_t n)
{
	const unsigned char *p = buf;
	uint16_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc = (uint16_t)(crc ^ (p[i] << 8));
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

int ts_rcluster_keyslot(const void *key, size_t n)
{
	const char *k = key;
	const char *open = n ? memchr(k, '{', n) : NULL;
	if (open) {
		const char *tag = open + 1;
		const char *close = memchr(tag, '}', n - (size_t)(tag - k));
		if (close && close > tag)
			return ts_rcluster_crc16(tag, (size_t)(close - tag)) & (TS_RCLUSTER_SLOTS - 1);
	}
	return ts_rcluster_crc16(k, n) & (TS_RCLUSTER_SLOTS - 1);
}

static void set_err(ts_rcluster *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(ts_rcluster *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
}

/* --- nodes --- */

static int node_find(const ts_rcluster *c, const char *host, int port)
{
	for (int i = 0; i < c->nnodes; i++)
		if (c->nodes[i]->port == port && strcmp(c->nodes[i]->host, host) == 0)
			return i;
	return -1;
}

/* The index of host:port, added if new. The index, or TS_EINVAL (host too
 * long, port out of range), TS_ECAP, TS_ENOMEM, the reason in c->err. */
static int node_get(ts_rcluster *c, const char *host, int port, int seed)
{
	int i = node_find(c, host, port);
	if (i >= 0)
		return i;
	if (strlen(host) >= sizeof c->nodes[0]->host || !host[0] || port <= 0 || port > 65535) {
		set_err(c, "redis-cluster: bad node address (port %d) in a reply", port);
		return TS_EINVAL;
	}
	if (c->nnodes == TS_RCLUSTER_MAX_NODES) {
		set_err(c, "redis-cluster: more than %d nodes", TS_RCLUSTER_MAX_NODES);
		return TS_ECAP;
	}
	node *nd = calloc(1, sizeof *nd);
	if (!nd)
		goto nomem;
	snprintf(nd->host, sizeof nd->host, "%s", host);
	nd->port = port;
	nd->seed = seed;
	nd->id = ++c->next_id;
	ts_redis_spec rs;
	memset(&rs, 0, sizeof rs);
	snprintf(rs.host, sizeof rs.host, "%s", host);
	snprintf(rs.user, sizeof rs.user, "%s", c->sp.user);
	snprintf(rs.pass, sizeof rs.pass, "%s", c->sp.pass);
	rs.port = port;
	int rc = ts_redis_new(&rs, &c->o, &nd->r);
	memset(&rs, 0, sizeof rs);
	if (rc) {
		free(nd);
		goto nomem;
	}
	c->nodes[c->nnodes] = nd;
	return c->nnodes++;
nomem:
	set_err(c, "redis-cluster: out of memory");
	return TS_ENOMEM;
}

static void node_free(ts_rcluster *c, node *nd)
{
	c->gone_trips += ts_redis_round_trips(nd->r);
	c->gone_reconnects += ts_redis_reconnects(nd->r);
	ts_redis_free(nd->r);
	free(nd);
}

/* --- the slot map --- */

static int is_int(const redisReply *r) { return r && r->type == REDIS_REPLY_INTEGER; }
static int is_str(const redisReply *r)
{
	return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* The node of a CLUSTER SLOTS address [host, port, id, ...] from the
 * reply of node `from` (an empty host is from's, as the reply means).
 * The index; -1 for an address the reply says is unknown ("?"); or a
 * negative TS_E* code (c->err says why). */
static int map_node(ts_rcluster *c, const node *from, const redisReply *a)
{
	if (!a || a->type != REDIS_REPLY_ARRAY || a->elements < 2 || !is_str(a->element[0]) ||
	    !is_int(a->element[1]) || a->element[1]->integer <= 0 ||
	    a->element[1]->integer > 65535) {
		set_err(c, "redis://%s:%d: CLUSTER SLOTS: malformed node address", from->host,
			from->port);
		return TS_EINVAL;
	}
	const char *host = a->element[0]->str;
	if (strcmp(host, "?") == 0)
		return -1;
	char h[256];
	snprintf(h, sizeof h, "%s", host[0] ? host : from->host);
	int i = node_get(c, h, (int)a->element[1]->integer, 0);
	if (i >= 0)
		c->nodes[i]->mark = 1;
	return i;
}

/* Build the map from a CLUSTER SLOTS reply of node k into map[]. 0 or a
 * negative TS_E* code (c->err says why). Nodes may be added. */
static int parse_slots(ts_rcluster *c, int k, const redisReply *rep, int16_t *map)
{
	const node *from = c->nodes[k]; /* node_get adds nodes, never moves them */
	if (rep->type != REDIS_REPLY_ARRAY) {
		set_err(c, "redis://%s:%d: CLUSTER SLOTS: not an array", from->host, from->port);
		return TS_EINVAL;
	}
	for (size_t e = 0; e < rep->elements; e++) {
		const redisReply *en = rep->element[e];
		if (en->type != REDIS_REPLY_ARRAY || en->elements < 3 || !is_int(en->element[0]) ||
		    !is_int(en->element[1]) || en->element[0]->integer < 0 ||
		    en->element[1]->integer < en->element[0]->integer ||
		    en->element[1]->integer >= TS_RCLUSTER_SLOTS) {
			set_err(c, "redis://%s:%d: CLUSTER SLOTS: malformed slot range", from->host,
				from->port);
			return TS_EINVAL;
		}
		int m = map_node(c, from, en->element[2]);
		if (m < -1)
			return m;
		for (long long s = en->element[0]->integer; s <= en->element[1]->integer; s++)
			map[s] = (int16_t)m;
		/* replicas: known, so the map can be read from them when their
		 * master is gone */
		for (size_t j = 3; j < en->elements; j++) {
			int rr = map_node(c, from, en->element[j]);
			if (rr < -1)
				return rr;
		}
	}
	return 0;
}

/* Free the nodes the new map left out (seeds stay), renumbering map[]. */
static void prune(ts_rcluster *c, int16_t *map)
{
	int remap[TS_RCLUSTER_MAX_NODES], kept = 0;
	for (int i = 0; i < c->nnodes; i++) {
		node *nd = c->nodes[i];
		if (nd->mark || nd->seed) {
			remap[i] = kept;
			c->nodes[kept++] = nd;
		} else {
			remap[i] = -1;
			node_free(c, nd);
		}
	}
	for (int i = kept; i < c->nnodes; i++)
		c->nodes[i] = NULL;
	for (int s = 0; s < TS_RCLUSTER_SLOTS; s++)
		if (map[s] >= 0) {
			assert(remap[map[s]] >= 0);
			map[s] = (int16_t)remap[map[s]];
		}
	c->last_good = c->last_good < c->nnodes && remap[c->last_good] >= 0 ? remap[c->last_good] : 0;
	c->nnodes = kept;
}

/* Read the map from the first node that gives one, starting with the one
 * that gave the last. 0; 1 no node gave one (unreachable, transient
 * replies); -1 a node refused in a way no retry mends (cluster support
 * disabled, a permission, AUTH, on_connect). c->err says why. */
static int read_map(ts_rcluster *c)
{
	static const char *const av[2] = {"CLUSTER", "SLOTS"};
	const ts_redis_cmd cmd = {2, av, NULL};
	int16_t *map = malloc(sizeof c->slot);
	if (!map) {
		set_err(c, "redis-cluster: out of memory");
		return -1;
	}
	int rc = 1, n0 = c->nnodes;
	for (int t = 0; t < n0 && rc == 1; t++) {
		int k = (c->last_good + t) % n0;
		ts_redis *r = c->nodes[k]->r;
		int cr = ts_redis_connect(r);
		redisReply *rep = NULL;
		if (cr < 0)
			rc = -1;
		if (cr) {
			set_err(c, "%s", ts_redis_error(r));
			continue;
		}
		if (ts_redis_send(r, 1, &cmd, &rep, NULL)) {
			set_err(c, "%s", ts_redis_error(r));
			continue;
		}
		if (rep->type == REDIS_REPLY_ERROR) {
			set_err(c, "%s: CLUSTER SLOTS: %s%s", ts_redis_name(r), rep->str,
				ts_redis_hint(rep->str));
			if (!ts_redis_transient(rep->str))
				rc = -1;
			freeReplyObject(rep);
			continue;
		}
		for (int i = 0; i < c->nnodes; i++)
			c->nodes[i]->mark = 0;
		for (int s = 0; s < TS_RCLUSTER_SLOTS; s++)
			map[s] = -1;
		int prc = parse_slots(c, k, rep, map);
		freeReplyObject(rep);
		if (prc == TS_EINVAL || prc == TS_ECAP)
			continue; /* this node's answer is unusable; ask another */
		if (prc) {
			rc = -1;
			break;
		}
		c->nodes[k]->mark = 1;
		c->last_good = k;
		prune(c, map);
		memcpy(c->slot, map, sizeof c->slot);
		c->have_map = 1;
		c->refreshes++;
		rc = 0;
	}
	free(map);
	return rc;
}

int ts_rcluster_refresh(ts_rcluster *c) { return read_map(c) ? TS_ESTORE : 0; }

/* --- the client --- */

int ts_rcluster_new(const ts_rcluster_spec *sp, const ts_redis_opts *o, ts_rcluster **out)
{
	assert(sp->nseeds > 0 && sp->nseeds <= TS_RCLUSTER_MAX_SEEDS);
	ts_rcluster *c = calloc(1, sizeof *c);
	if (!c)
		return TS_ENOMEM;
	c->sp = *sp;
	if (o)
		c->o = *o;
	if (c->o.first_ms <= 0)
		c->o.first_ms = 100;
	if (c->o.max_ms <= 0)
		c->o.max_ms = 5000;
	if (c->o.total_ms <= 0)
		c->o.total_ms = 30000;
	ts_backoff_set(&c->bo, c->o.first_ms, c->o.max_ms, c->o.total_ms);
	for (int s = 0; s < TS_RCLUSTER_SLOTS; s++)
		c->slot[s] = -1;
	for (int i = 0; i < sp->nseeds; i++)
		if (node_get(c, sp->seed[i].host, sp->seed[i].port, 1) == TS_ENOMEM) {
			ts_rcluster_free(c);
			return TS_ENOMEM;
		}
	*out = c;
	return 0;
}

void ts_rcluster_free(ts_rcluster *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nnodes; i++)
		node_free(c, c->nodes[i]);
	memset(&c->sp, 0, sizeof c->sp);
	free(c);
}

/* Parse "MOVED 3999 host:port" / "ASK 3999 host:port" after its first
 * word: the slot and the target node (an empty host is from's). The node
 * index, or a negative TS_E* code (c->err says why). */
static int redirect_target(ts_rcluster *c, const node *from, const char *msg, int *slot)
{
	const char *p = strchr(msg, ' ');
	char *end;
	long s = p ? strtol(p + 1, &end, 10) : -1;
	const char *addr = s >= 0 && s < TS_RCLUSTER_SLOTS && *end == ' ' ? end + 1 : NULL;
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!colon || *end || port <= 0 || port > 65535 || (size_t)(colon - addr) >= 256) {
		set_err(c, "redis://%s:%d: malformed redirect: %.100s", from->host, from->port, msg);
		return TS_EINVAL;
	}
	char host[256];
	if (colon == addr)
		snprintf(host, sizeof host, "%s", from->host);
	else
		snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
	*slot = (int)s;
	return node_get(c, host, (int)port, 0);
}

static int first_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	return strncmp(s, w, n) == 0 && (s[n] == ' ' || s[n] == '\0');
}

/* The wait of the backoff (watch: ended early by watch(c)), the reason
 * appended when the budget is spent. 0 or -1. */
static int wait_more_(ts_rcluster *c, int (*watch)(void *))
{
	c->waits++;
	if ((watch ? ts_backoff_sleep_watch(&c->bo, WATCH_MS, watch, c)
		   : ts_backoff_sleep(&c->bo)) == 0)
		return 0;
	size_t l = strlen(c->err);
	snprintf(c->err + l, sizeof c->err - l, " (gave up after %d ms of retries)", c->bo.spent_ms);
	return -1;
}
static int wait_more(ts_rcluster *c) { return wait_more_(c, NULL); }

/* A fingerprint of the map: FNV-1a over the id of each slot's node. */
static uint64_t map_sig(const ts_rcluster *c)
{
	uint64_t h = 14695981039346656037ULL;
	for (int s = 0; s < TS_RCLUSTER_SLOTS; s++) {
		h ^= c->slot[s] >= 0 ? c->nodes[c->slot[s]]->id : 0;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Between slices of a wait: the map read again; 1 if it changed. */
static int map_moved(void *ctx)
{
	ts_rcluster *c = ctx;
	return read_map(c) == 0 && map_sig(c) != c->watch_sig;
}

/* The wait before a round is tried again, ended as soon as the map changes
 * (a node failing over is retried once its replica is promoted). 0 or -1. */
static int wait_watch(ts_rcluster *c)
{
	c->watch_sig = map_sig(c);
	return wait_more_(c, map_moved);
}

/* Before the next round: one that asked to wait goes at once if the map
 * changed since it was sent (by the map of fingerprint sig), else waits;
 * past QUICK_ROUNDS without a wait, it waits anyway. 0 or -1. */
static int between_rounds(ts_rcluster *c, int wait, int *quick, uint64_t sig)
{
	if (wait && *quick < QUICK_ROUNDS && map_sig(c) != sig) {
		++*quick;
		return 0;
	}
	if (!wait && ++*quick > QUICK_ROUNDS)
		wait = 1;
	return wait ? wait_watch(c) : 0;
}

/* The scratch of one run: per command its state, per round the commands
 * grouped per node (an ASKING before each asked command). */
typedef struct run_state {
	int *ask;        /* [n] ASK target node, -1: the map's */
	int *sends;      /* [n] times written out where it may have run */
	int *slot;       /* [n] its slot */
	int *where;      /* [n] the node of the round, -1: none */
	unsigned char *done;
	ts_redis_cmd *bc; /* [2n] the round's batches, grouped per node */
	int *bi;          /* [2n] caller index of each, -1 for ASKING */
	redisReply **br;  /* [2n] their replies */
} run_state;

static void run_state_free(run_state *st)
{
	free(st->ask);
	free(st->sends);
	free(st->slot);
	free(st->where);
	free(st->done);
	free(st->bc);
	free(st->bi);
	free(st->br);
}

static int run_state_init(run_state *st, size_t n)
{
	memset(st, 0, sizeof *st);
	if (n > SIZE_MAX / 2 / sizeof(ts_redis_cmd))
		return TS_ENOMEM;
	st->ask = malloc(n * sizeof *st->ask);
	st->sends = calloc(n, sizeof *st->sends);
	st->slot = malloc(n * sizeof *st->slot);
	st->where = malloc(n * sizeof *st->where);
	st->done = calloc(n, 1);
	st->bc = malloc(2 * n * sizeof *st->bc);
	st->bi = malloc(2 * n * sizeof *st->bi);
	st->br = malloc(2 * n * sizeof *st->br);
	if (!st->ask || !st->sends || !st->slot || !st->where || !st->done || !st->bc || !st->bi ||
	    !st->br) {
		run_state_free(st);
		return TS_ENOMEM;
	}
	return 0;
}

static const char *const asking_argv[1] = {"ASKING"};

int ts_rcluster_run(ts_rcluster *c, size_t n, const ts_rcluster_cmd *cmds, redisReply **replies,
		    int *sendsp)
{
	int dummy;
	if (!sendsp)
		sendsp = &dummy;
	*sendsp = 0;
	if (!n)
		return 0;
	run_state st;
	if (run_state_init(&st, n)) {
		set_err(c, "redis-cluster: out of memory");
		return TS_ESTORE;
	}
	for (size_t i = 0; i < n; i++) {
		const ts_rcluster_cmd *cm = &cmds[i];
		assert(cm->key >= 1 && cm->key < cm->argc);
		size_t kl = cm->lens ? cm->lens[cm->key] : strlen(cm->argv[cm->key]);
		st.slot[i] = ts_rcluster_keyslot(cm->argv[cm->key], kl);
		st.ask[i] = -1;
		replies[i] = NULL;
	}
	size_t left = n;
	int noscript = 0, quick = 0, fatal = 0;
	ts_backoff_ok(&c->bo); /* each batch has the whole budget */
	while (left && !fatal) {
		int refresh = 0, wait = 0, reload = 0;
		if (!c->have_map) {
			int mr = read_map(c);
			if (mr < 0) {
				fatal = 1;
				break;
			}
			if (mr > 0) {
				if (wait_more(c))
					fatal = 1;
				continue;
			}
		}
		uint64_t sig = map_sig(c); /* the map this round is sent by */
		/* group the pending commands per node, in the caller's order */
		int cnt[TS_RCLUSTER_MAX_NODES + 1], start[TS_RCLUSTER_MAX_NODES + 1];
		int posted[TS_RCLUSTER_MAX_NODES];
		memset(cnt, 0, sizeof cnt);
		memset(posted, 0, sizeof posted);
		int *where = st.where;
		for (size_t i = 0; i < n; i++) {
			where[i] = -1;
			if (st.done[i])
				continue;
			int k = st.ask[i] >= 0 ? st.ask[i] : c->slot[st.slot[i]];
			if (k < 0) {
				set_err(c, "redis-cluster: slot %d is served by no node the map knows",
					st.slot[i]);
				refresh = wait = 1;
				continue;
			}
			where[i] = k;
			cnt[k] += 1 + (st.ask[i] >= 0);
		}
		start[0] = 0;
		for (int k = 0; k < c->nnodes; k++)
			start[k + 1] = start[k] + cnt[k];
		int fill[TS_RCLUSTER_MAX_NODES];
		memcpy(fill, start, sizeof(int) * (size_t)c->nnodes);
		for (size_t i = 0; i < n; i++) {
			int k = where[i];
			if (k < 0)
				continue;
			if (st.ask[i] >= 0) {
				st.bc[fill[k]] = (ts_redis_cmd){1, asking_argv, NULL};
				st.bi[fill[k]++] = -1;
			}
			st.bc[fill[k]] = (ts_redis_cmd){cmds[i].argc, cmds[i].argv, cmds[i].lens};
			st.bi[fill[k]++] = (int)i;
		}
		/* every node's batch on the wire, then the replies */
		for (int k = 0; k < c->nnodes; k++) {
			if (!cnt[k])
				continue;
			ts_redis *r = c->nodes[k]->r;
			int cr = ts_redis_connect(r), sent = 0;
			if (cr < 0) {
				set_err(c, "%s", ts_redis_error(r));
				fatal = 1;
				break;
			}
			if (cr > 0 || ts_redis_post(r, (size_t)cnt[k], st.bc + start[k], &sent)) {
				set_err(c, "%s", ts_redis_error(r));
				for (int j = start[k]; sent && j < start[k + 1]; j++)
					if (st.bi[j] >= 0)
						st.sends[st.bi[j]]++;
				refresh = wait = 1;
				continue;
			}
			posted[k] = 1;
		}
		for (int k = 0; k < c->nnodes; k++) {
			if (!posted[k])
				continue;
			node *nd = c->nodes[k];
			if (fatal) {
				ts_redis_drop(nd->r); /* its replies are not read */
				continue;
			}
			if (ts_redis_collect(nd->r, (size_t)cnt[k], st.br + start[k])) {
				set_err(c, "%s", ts_redis_error(nd->r));
				for (int j = start[k]; j < start[k + 1]; j++)
					if (st.bi[j] >= 0)
						st.sends[st.bi[j]]++;
				refresh = wait = 1;
				continue;
			}
			for (int j = start[k]; j < start[k + 1]; j++) {
				redisReply *rep = st.br[j];
				int i = st.bi[j];
				if (i < 0 || fatal) {
					freeReplyObject(rep); /* ASKING's +OK */
					continue;
				}
				if (rep->type != REDIS_REPLY_ERROR) {
					replies[i] = rep;
					st.done[i] = 1;
					st.sends[i]++;
					left--;
					continue;
				}
				const char *m = rep->str;
				int slot, t;
				if (first_word(m, "MOVED") || first_word(m, "ASK")) {
					int moved = m[0] == 'M';
					t = redirect_target(c, nd, m, &slot);
					if (t < 0) {
						fatal = 1;
					} else if (moved) {
						c->moved++;
						c->slot[slot] = (int16_t)t;
						st.ask[i] = -1;
						refresh = 1;
					} else {
						c->ask++;
						st.ask[i] = t;
					}
				} else if (first_word(m, "NOSCRIPT") && noscript < 3) {
					/* connecting again loads the scripts (on_connect) */
					reload = 1;
					ts_redis_drop(nd->r);
				} else if (ts_redis_transient(m)) {
					set_err(c, "%s: %s: %s", ts_redis_name(nd->r), cmds[i].argv[0], m);
					wait = 1;
				} else {
					set_err(c, "%s: %s: %s%s", ts_redis_name(nd->r), cmds[i].argv[0], m,
						ts_redis_hint(m));
					fatal = 1;
				}
				freeReplyObject(rep);
			}
		}
		if (fatal || !left)
			break;
		noscript += reload;
		if (refresh) {
			if (read_map(c) < 0 && !c->have_map)
				fatal = 1;
			for (size_t i = 0; i < n; i++)
				st.ask[i] = -1; /* node indices may have changed */
		}
		if (between_rounds(c, wait, &quick, sig))
			fatal = 1;
	}
	if (fatal) {
		for (size_t i = 0; i < n; i++) {
			if (replies[i])
				freeReplyObject(replies[i]);
			replies[i] = NULL;
		}
		run_state_free(&st);
		return TS_ESTORE;
	}
	for (size_t i = 0; i < n; i++)
		if (st.sends[i] > *sendsp)
			*sendsp = st.sends[i];
	run_state_free(&st);
	return 0;
}

/* The replies of one transaction: the queueing replies (MULTI's and each
 * command's) checked for redirects and refusals. 0 all queued; 1 retry
 * (*ask, *refresh, *wait set); -1 fatal (c->err says why). */
static int tx_queued(ts_rcluster *c, const node *nd, size_t n, const ts_rcluster_cmd *cmds,
		     redisReply **q, int *ask, int *refresh, int *wait)
{
	for (size_t j = 0; j < n + 1; j++) {
		const redisReply *rep = q[j];
		if (rep->type != REDIS_REPLY_ERROR)
			continue;
		const char *m = rep->str, *what = j ? cmds[j - 1].argv[0] : "MULTI";
		int slot;
		if (first_word(m, "MOVED") || first_word(m, "ASK")) {
			int t = redirect_target(c, nd, m, &slot);
			if (t < 0)
				return -1;
			if (m[0] == 'M') {
				c->moved++;
				c->slot[slot] = (int16_t)t;
				*ask = -1;
				*refresh = 1;
			} else {
				c->ask++;
				*ask = t;
			}
			return 1;
		}
		if (ts_redis_transient(m)) {
			set_err(c, "%s: %s: %s", ts_redis_name(nd->r), what, m);
			*wait = 1;
			return 1;
		}
		set_err(c, "%s: %s: %s%s", ts_redis_name(nd->r), what, m, ts_redis_hint(m));
		return -1;
	}
	return 0;
}

int ts_rcluster_run_tx(ts_rcluster *c, size_t n, const ts_rcluster_cmd *cmds,
		       redisReply **replies, int *sendsp)
{
	static const char *const multi_argv[1] = {"MULTI"}, *const exec_argv[1] = {"EXEC"};
	int dummy, slot = -1;
	if (!sendsp)
		sendsp = &dummy;
	*sendsp = 0;
	for (size_t i = 0; i < n; i++) {
		const ts_rcluster_cmd *cm = &cmds[i];
		assert(cm->key >= 1 && cm->key < cm->argc);
		size_t kl = cm->lens ? cm->lens[cm->key] : strlen(cm->argv[cm->key]);
		int s = ts_rcluster_keyslot(cm->argv[cm->key], kl);
		if (slot >= 0 && s != slot) {
			set_err(c, "redis-cluster: a transaction spans slots %d and %d", slot, s);
			return TS_ESTORE;
		}
		slot = s;
	}
	if (!n)
		return 0;
	/* [ASKING] MULTI cmds... EXEC */
	ts_redis_cmd *bc = malloc((n + 3) * sizeof *bc);
	redisReply **br = calloc(n + 3, sizeof *br);
	if (!bc || !br) {
		free(bc);
		free(br);
		set_err(c, "redis-cluster: out of memory");
		return TS_ESTORE;
	}
	int ask = -1, quick = 0, fatal = 0, done = 0;
	ts_backoff_ok(&c->bo);
	while (!done && !fatal) {
		int refresh = 0, wait = 0;
		if (!c->have_map) {
			int mr = read_map(c);
			if (mr < 0)
				break;
			if (mr > 0) {
				fatal = wait_more(c) != 0;
				continue;
			}
		}
		uint64_t sig = map_sig(c); /* the map this round is sent by */
		int k = ask >= 0 ? ask : c->slot[slot];
		if (k < 0) {
			set_err(c, "redis-cluster: slot %d is served by no node the map knows", slot);
			refresh = wait = 1;
		} else {
			size_t m = 0, a = ask >= 0;
			if (a)
				bc[m++] = (ts_redis_cmd){1, asking_argv, NULL};
			bc[m++] = (ts_redis_cmd){1, multi_argv, NULL};
			for (size_t i = 0; i < n; i++)
				bc[m++] = (ts_redis_cmd){cmds[i].argc, cmds[i].argv, cmds[i].lens};
			bc[m++] = (ts_redis_cmd){1, exec_argv, NULL};
			node *nd = c->nodes[k];
			int cr = ts_redis_connect(nd->r), sent = 0;
			if (cr < 0) {
				set_err(c, "%s", ts_redis_error(nd->r));
				break;
			}
			if (cr > 0 || ts_redis_send(nd->r, m, bc, br, &sent)) {
				set_err(c, "%s", ts_redis_error(nd->r));
				*sendsp += sent;
				refresh = wait = 1;
			} else {
				redisReply **q = br + a; /* MULTI's reply, then the queued */
				int qr = tx_queued(c, nd, n, cmds, q, &ask, &refresh, &wait);
				const redisReply *ex = q[n + 1];
				if (qr == 0 && ex->type == REDIS_REPLY_ARRAY) {
					*sendsp += 1;
					done = 1;
				} else if (qr == 0 && ex->type == REDIS_REPLY_ERROR &&
					   ts_redis_transient(ex->str)) {
					set_err(c, "%s: EXEC: %s", ts_redis_name(nd->r), ex->str);
					wait = 1;
				} else if (qr == 0) {
					set_err(c, "%s: EXEC: %s%s", ts_redis_name(nd->r),
						ex->type == REDIS_REPLY_ERROR ? ex->str : "unexpected reply",
						ex->type == REDIS_REPLY_ERROR ? ts_redis_hint(ex->str) : "");
					fatal = 1;
				} else if (qr < 0) {
					fatal = 1;
				}
				for (size_t j = 0; j < m; j++) {
					if (done && j >= a)
						replies[j - a] = br[j];
					else
						freeReplyObject(br[j]);
					br[j] = NULL;
				}
			}
		}
		if (done || fatal)
			break;
		if (refresh) {
			if (read_map(c) < 0 && !c->have_map)
				fatal = 1;
			ask = -1;
		}
		if (between_rounds(c, wait, &quick, sig))
			fatal = 1;
	}
	free(bc);
	free(br);
	return done ? 0 : TS_ESTORE;
}

const char *ts_rcluster_error(const ts_rcluster *c) { return c->err; }

int ts_rcluster_owner(const ts_rcluster *c, int slot, char *buf, size_t n)
{
	int k = slot >= 0 && slot < TS_RCLUSTER_SLOTS ? c->slot[slot] : -1;
	if (k < 0) {
		if (n)
			buf[0] = '\0';
		return -1;
	}
	const node *nd = c->nodes[k];
	snprintf(buf, n, strchr(nd->host, ':') ? "[%s]:%d" : "%s:%d", nd->host, nd->port);
	return 0;
}

void ts_rcluster_stats_get(const ts_rcluster *c, ts_rcluster_stats *out)
{
	memset(out, 0, sizeof *out);
	out->round_trips = c->gone_trips;
	out->reconnects = c->gone_reconnects;
	for (int i = 0; i < c->nnodes; i++) {
		out->round_trips += ts_redis_round_trips(c->nodes[i]->r);
		out->reconnects += ts_redis_reconnects(c->nodes[i]->r);
	}
	out->moved = c->moved;
	out->ask = c->ask;
	out->refreshes = c->refreshes;
	out->waits = c->waits;
	out->nodes = c->nnodes;
}

/* --- the URL --- */

int ts_rcluster_parse(const char *url, ts_rcluster_spec *out, const char **whyp)
{
	static const char pfx[] = "redis-cluster://";
	const size_t pl = sizeof pfx - 1;
	memset(out, 0, sizeof *out);
	const char *why = NULL;
	char buf[4200];
	ts_redis_spec rs;
	memset(&rs, 0, sizeof rs);
	if (strncmp(url, pfx, pl) != 0) {
		why = "expected redis-cluster://";
		goto bad;
	}
	const char *p = url + pl;
	if (strlen(p) > 4000) {
		why = "URL too long";
		goto bad;
	}
	const char *at = strrchr(p, '@');
	const char *hosts = at ? at + 1 : p;
	int credlen = at ? (int)(at - p) + 1 : 0; /* with the '@' */
	const char *slash = strchr(hosts, '/');
	const char *hend = slash ? slash : hosts + strlen(hosts);
	if (slash && slash[1] && strcmp(slash + 1, "0") != 0) {
		why = "a cluster has only database 0";
		goto bad;
	}
	for (const char *h = hosts;;) {
		const char *comma = memchr(h, ',', (size_t)(hend - h));
		const char *e = comma ? comma : hend;
		if (e == h) {
			why = "missing host in the list";
			goto bad;
		}
		if (out->nseeds == TS_RCLUSTER_MAX_SEEDS) {
			why = "more than 16 host:port pairs";
			goto bad;
		}
		snprintf(buf, sizeof buf, "redis://%.*s%.*s", credlen, p, (int)(e - h), h);
		if (ts_redis_parse(buf, &rs, &why))
			goto bad;
		snprintf(out->seed[out->nseeds].host, sizeof out->seed[0].host, "%s", rs.host);
		out->seed[out->nseeds++].port = rs.port;
		snprintf(out->user, sizeof out->user, "%s", rs.user);
		snprintf(out->pass, sizeof out->pass, "%s", rs.pass);
		if (!comma)
			break;
		h = comma + 1;
	}
	memset(buf, 0, sizeof buf);
	memset(&rs, 0, sizeof rs);
	return 0;
bad:
	memset(buf, 0, sizeof buf);
	memset(&rs, 0, sizeof rs);
	memset(out, 0, sizeof *out);
	*whyp = why;
	return TS_EINVAL;
}
