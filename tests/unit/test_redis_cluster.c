/* test_redis_cluster.c - the Redis Cluster client: CRC16 and hash tags, the
 * redis-cluster:// URL, and against real clusters of redis-server processes
 * (cluster_server.h): key slots equal to the server's CLUSTER KEYSLOT, a
 * batch over every master answered in the caller's order, MOVED after a
 * slot moved by hand and after redis-cli --cluster reshard, ASK and
 * TRYAGAIN during a slot migration, and a master failing over to its
 * replica (CLUSTER FAILOVER, then a master killed). */
#include <pthread.h>
#include <time.h>

#include "cluster_server.h"
#include "../check.h"
#include "err.h"
#include "redis_cluster.h"
#include "util.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int slot_of(const char *k) { return ts_rcluster_keyslot(k, strlen(k)); }

static void test_crc16_and_tags(void)
{
	/* the check value of CRC-16/XMODEM */
	CHECK_INT(ts_rcluster_crc16("123456789", 9), 0x31C3);
	CHECK_INT(ts_rcluster_crc16("", 0), 0);
	/* the examples of the CLUSTER KEYSLOT documentation */
	CHECK_INT(slot_of("somekey"), 11058);
	CHECK_INT(slot_of("foo{hash_tag}"), 2515);
	CHECK_INT(slot_of("bar{hash_tag}"), 2515);
	/* the hash tag rules of the specification */
	CHECK_INT(slot_of("{user1000}.following"), slot_of("user1000"));
	CHECK_INT(slot_of("{user1000}.followers"), slot_of("user1000"));
	CHECK_INT(slot_of("foo{}{bar}"), ts_rcluster_crc16("foo{}{bar}", 10) & 16383);
	CHECK_INT(slot_of("foo{{bar}}zap"), slot_of("{bar"));
	CHECK_INT(slot_of("foo{bar}{zap}"), slot_of("bar"));
	CHECK_INT(slot_of("{}"), ts_rcluster_crc16("{}", 2) & 16383);
	CHECK_INT(slot_of("{{a}}"), slot_of("{a"));
	CHECK_INT(slot_of("a{}b{c}"), ts_rcluster_crc16("a{}b{c}", 7) & 16383);
	CHECK_INT(slot_of("a{b"), ts_rcluster_crc16("a{b", 3) & 16383);
	CHECK_INT(slot_of("a}b{c}"), slot_of("c"));
	CHECK_INT(ts_rcluster_keyslot("", 0), 0);
	/* bytes after a NUL count; the tag may hold one */
	CHECK(ts_rcluster_keyslot("a\0b", 3) != ts_rcluster_keyslot("a", 1));
	CHECK_INT(ts_rcluster_keyslot("x{a\0b}y", 7), ts_rcluster_keyslot("a\0b", 3));
	/* every slot is reached by some short key */
	static unsigned char seen[16384];
	int distinct = 0;
	char k[16];
	for (int i = 0; i < 200000; i++) {
		int n = snprintf(k, sizeof k, "k%d", i);
		int s = ts_rcluster_keyslot(k, (size_t)n);
		CHECK(s >= 0 && s < 16384);
		if (s >= 0 && s < 16384 && !seen[s]++)
			distinct++;
	}
	CHECK_INT(distinct, 16384);
}

static void test_parse(void)
{
	ts_rcluster_spec sp;
	const char *why = NULL;
	CHECK_INT(ts_rcluster_parse("redis-cluster://127.0.0.1:7000", &sp, &why), 0);
	CHECK_INT(sp.nseeds, 1);
	CHECK_STR(sp.seed[0].host, "127.0.0.1");
	CHECK_INT(sp.seed[0].port, 7000);
	CHECK_STR(sp.pass, "");
	CHECK_INT(ts_rcluster_parse("redis-cluster://u:p%40ss@h1:7000,h2,[::1]:7002/0", &sp, &why),
		  0);
	CHECK_INT(sp.nseeds, 3);
	CHECK_STR(sp.user, "u");
	CHECK_STR(sp.pass, "p@ss");
	CHECK_STR(sp.seed[1].host, "h2");
	CHECK_INT(sp.seed[1].port, 6379);
	CHECK_STR(sp.seed[2].host, "::1");
	CHECK_INT(sp.seed[2].port, 7002);
	CHECK_INT(ts_rcluster_parse("redis-cluster://:secret@h:1", &sp, &why), 0);
	CHECK_STR(sp.user, "");
	CHECK_STR(sp.pass, "secret");
	static const char *const bad[] = {
		"redis://h:1",
		"redis-cluster://",
		"redis-cluster://h:1,",
		"redis-cluster://,h:1",
		"redis-cluster://h:1,,h:2",
		"redis-cluster://h:1/1",
		"redis-cluster://h:0",
		"redis-cluster://h:1,h:99999",
		"redis-cluster://u:@h:1",
		"redis-cluster://pw@h:1",
		"redis-cluster://h h:1",
		"redis-cluster://a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1,j:1,k:1,l:1,m:1,n:1,o:1,p:1,q:1",
	};
	for (size_t i = 0; i < TS_ARRAY_LEN(bad); i++) {
		why = NULL;
		int rc = ts_rcluster_parse(bad[i], &sp, &why);
		if (rc != TS_EINVAL)
			fprintf(stderr, "  accepted %s\n", bad[i]);
		CHECK_INT(rc, TS_EINVAL);
		CHECK(why && why[0]);
		CHECK_INT(sp.nseeds, 0);
	}
	/* the reason never quotes the URL */
	CHECK_INT(ts_rcluster_parse("redis-cluster://u:s3cret@h:1/5", &sp, &why), TS_EINVAL);
	CHECK(why && strstr(why, "s3cret") == NULL);
	CHECK_STR(sp.pass, "");
}

static ts_rcluster *client_at(int port, const ts_redis_opts *o)
{
	char url[64];
	snprintf(url, sizeof url, "redis-cluster://127.0.0.1:%d", port);
	ts_rcluster_spec sp;
	const char *why;
	ts_rcluster *c = NULL;
	CHECK_INT(ts_rcluster_parse(url, &sp, &why), 0);
	CHECK_INT(ts_rcluster_new(&sp, o, &c), 0);
	return c;
}

/* Run one command routed by argv[1]: the reply, or NULL (error printed). */
static redisReply *run1(ts_rcluster *c, int argc, const char *const *argv)
{
	ts_rcluster_cmd cmd = {argc, argv, NULL, 1};
	redisReply *r = NULL;
	if (ts_rcluster_run(c, 1, &cmd, &r, NULL)) {
		fprintf(stderr, "  %s %s: %s\n", argv[0], argv[1], ts_rcluster_error(c));
		return NULL;
	}
	return r;
}

/* SET key val through the client: 1 if it said OK. */
static int cset(ts_rcluster *c, const char *key, const char *val)
{
	const char *av[3] = {"SET", key, val};
	redisReply *r = run1(c, 3, av);
	int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
	if (r)
		freeReplyObject(r);
	return ok;
}

/* GET key through the client into buf ("(nil)", "(error)"). */
static const char *cget(ts_rcluster *c, const char *key, char *buf, size_t n)
{
	const char *av[2] = {"GET", key};
	redisReply *r = run1(c, 2, av);
	snprintf(buf, n, "%s", !r ? "(error)" : r->type == REDIS_REPLY_STRING ? r->str : "(nil)");
	if (r)
		freeReplyObject(r);
	return buf;
}

/* GET keys[n] in one batch; the number whose value is "v:" + key. */
static int get_all(ts_rcluster *c, char (*keys)[32], int n, int *rc)
{
	ts_rcluster_cmd *cmds = calloc((size_t)n, sizeof *cmds);
	const char **av = calloc((size_t)n * 2, sizeof *av);
	redisReply **rep = calloc((size_t)n, sizeof *rep);
	int good = 0;
	*rc = -1;
	if (!cmds || !av || !rep)
		goto out;
	for (int i = 0; i < n; i++) {
		av[2 * i] = "GET";
		av[2 * i + 1] = keys[i];
		cmds[i] = (ts_rcluster_cmd){2, av + 2 * i, NULL, 1};
	}
	*rc = ts_rcluster_run(c, (size_t)n, cmds, rep, NULL);
	if (*rc) {
		fprintf(stderr, "  get_all: %s\n", ts_rcluster_error(c));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char want[40];
		snprintf(want, sizeof want, "v:%.31s", keys[i]);
		good += rep[i]->type == REDIS_REPLY_STRING && strcmp(rep[i]->str, want) == 0;
		freeReplyObject(rep[i]);
	}
out:
	free(cmds);
	free(av);
	free(rep);
	return good;
}

/* SET keys[n] to "v:" + key in one batch; 0 or the run's code. */
static int set_all(ts_rcluster *c, char (*keys)[32], int n)
{
	ts_rcluster_cmd *cmds = calloc((size_t)n, sizeof *cmds);
	const char **av = calloc((size_t)n * 3, sizeof *av);
	char (*vals)[40] = calloc((size_t)n, sizeof *vals);
	redisReply **rep = calloc((size_t)n, sizeof *rep);
	int rc = -1;
	if (!cmds || !av || !vals || !rep)
		goto out;
	for (int i = 0; i < n; i++) {
		snprintf(vals[i], sizeof vals[i], "v:%.31s", keys[i]);
		av[3 * i] = "SET";
		av[3 * i + 1] = keys[i];
		av[3 * i + 2] = vals[i];
		cmds[i] = (ts_rcluster_cmd){3, av + 3 * i, NULL, 1};
	}
	rc = ts_rcluster_run(c, (size_t)n, cmds, rep, NULL);
	if (rc)
		fprintf(stderr, "  set_all: %s\n", ts_rcluster_error(c));
	for (int i = 0; !rc && i < n; i++) {
		if (rep[i]->type != REDIS_REPLY_STATUS)
			rc = -1;
		freeReplyObject(rep[i]);
	}
out:
	free(cmds);
	free(av);
	free(vals);
	free(rep);
	return rc;
}

static void test_keyslot_vs_server(void)
{
	test_cluster tc;
	if (tc_start(&tc, 3, 0)) {
		CHECK(!"the Redis Cluster did not start");
		return;
	}
	redisContext *rc = tr_connect(&tc.node[0]);
	CHECK(rc != NULL);
	if (!rc)
		goto out;
	/* the edge cases, then keys of random bytes rich in braces */
	static const char *const edge[] = {
		"", "{}", "{{a}}", "a{}b{c}", "{", "}", "}{", "{a", "a}", "{a}", "{}{a}", "x{}",
		"{{}}", "a{b}c{d}", "{user1000}.following", "foo{{bar}}zap", "{{", "}}", "{}}",
		"a{{b}}", "\xff{\x80}", "123456789",
	};
	enum { RANDOM = 4000 };
	size_t nk = TS_ARRAY_LEN(edge) + RANDOM;
	char(*keys)[24] = calloc(nk, sizeof *keys);
	size_t *lens = calloc(nk, sizeof *lens);
	if (!keys || !lens)
		goto out_mem;
	for (size_t i = 0; i < TS_ARRAY_LEN(edge); i++) {
		lens[i] = strlen(edge[i]);
		memcpy(keys[i], edge[i], lens[i]);
	}
	uint32_t x = 2463534242u;
	static const char alpha[] = "{}{}{}ab{c}d\0\xff";
	for (size_t i = TS_ARRAY_LEN(edge); i < nk; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		lens[i] = x % 20;
		for (size_t j = 0; j < lens[i]; j++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			keys[i][j] = (i & 1) ? alpha[x % (sizeof alpha - 1)] : (char)(x >> 8);
		}
	}
	for (size_t i = 0; i < nk; i++)
		redisAppendCommand(rc, "CLUSTER KEYSLOT %b", keys[i], lens[i]);
	int agree = 0, tagged = 0;
	for (size_t i = 0; i < nk; i++) {
		void *v = NULL;
		if (redisGetReply(rc, &v) != REDIS_OK || !v) {
			CHECK(!"CLUSTER KEYSLOT: no reply");
			break;
		}
		redisReply *r = v;
		int mine = ts_rcluster_keyslot(keys[i], lens[i]);
		if (r->type == REDIS_REPLY_INTEGER && r->integer == mine)
			agree++;
		else
			fprintf(stderr, "  key %zu (%zu bytes): server %lld, ours %d\n", i, lens[i],
				r->type == REDIS_REPLY_INTEGER ? r->integer : -1LL, mine);
		if (mine != (ts_rcluster_crc16(keys[i], lens[i]) & 16383))
			tagged++;
		freeReplyObject(r);
	}
	CHECK_INT(agree, (int)nk);
	CHECK(tagged > 500); /* the hash tag rules were exercised */
out_mem:
	free(keys);
	free(lens);
out:
	if (rc)
		redisFree(rc);
	tc_stop(&tc);
}

static void test_batch(void)
{
	test_cluster tc;
	if (tc_start(&tc, 3, 0)) {
		CHECK(!"the Redis Cluster did not start");
		return;
	}
	/* one seed: the client finds the other masters in the map */
	ts_rcluster *c = client_at(tc.node[1].port, NULL);
	if (!c)
		goto out;
	enum { N = 300 };
	static char keys[N][32], vals[N][32];
	static const char *av[2 * N][3];
	static ts_rcluster_cmd cmds[2 * N];
	static redisReply *rep[2 * N];
	int owners[3] = {0, 0, 0};
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "key:%d", i);
		snprintf(vals[i], sizeof vals[i], "val:%d", i * 7);
		/* SET i, then GET of the key set just before it (the first GET
		 * sees nothing): replies must follow the caller's order */
		av[2 * i][0] = "SET", av[2 * i][1] = keys[i], av[2 * i][2] = vals[i];
		cmds[2 * i] = (ts_rcluster_cmd){3, av[2 * i], NULL, 1};
		av[2 * i + 1][0] = "GET", av[2 * i + 1][1] = keys[i ? i - 1 : N - 1];
		cmds[2 * i + 1] = (ts_rcluster_cmd){2, av[2 * i + 1], NULL, 1};
	}
	CHECK_INT(ts_rcluster_run(c, 2 * N, cmds, rep, NULL), 0);
	int good = 0;
	for (int i = 0; i < N; i++) {
		redisReply *s = rep[2 * i], *g = rep[2 * i + 1];
		if (!s || !g)
			break;
		int ok = s->type == REDIS_REPLY_STATUS && strcmp(s->str, "OK") == 0;
		if (i == 0)
			ok = ok && g->type == REDIS_REPLY_NIL;
		else
			ok = ok && g->type == REDIS_REPLY_STRING && strcmp(g->str, vals[i - 1]) == 0;
		good += ok;
		freeReplyObject(s);
		freeReplyObject(g);
	}
	CHECK_INT(good, N);
	ts_rcluster_stats st;
	ts_rcluster_stats_get(c, &st);
	/* one CLUSTER SLOTS, then one pipelined trip per master */
	CHECK_INT(st.refreshes, 1);
	CHECK_INT(st.round_trips, 1 + 3);
	CHECK_INT(st.nodes, 3);
	CHECK_INT(st.moved, 0);
	CHECK_INT(st.ask, 0);
	/* the keys are where the servers say they belong, on every master */
	long long total = 0;
	for (int i = 0; i < N; i++) {
		char own[64], want[64];
		int s = slot_of(keys[i]);
		int o = tc_owner(&tc, 0, s);
		CHECK_INT(tc_keyslot(&tc, 0, keys[i]), s);
		CHECK_INT(ts_rcluster_owner(c, s, own, sizeof own), 0);
		snprintf(want, sizeof want, "127.0.0.1:%d", o >= 0 ? tc.node[o].port : 0);
		CHECK_STR(own, want);
		if (o >= 0 && o < 3)
			owners[o]++;
	}
	for (int i = 0; i < 3; i++) {
		CHECK(owners[i] > 50);
		redisReply *r = tc_cmd(&tc, i, "DBSIZE");
		CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == owners[i]);
		if (r && r->type == REDIS_REPLY_INTEGER)
			total += r->integer;
		if (r)
			freeReplyObject(r);
	}
	CHECK_INT(total, N);
	/* an error reply that is an answer fails the batch, keeping nothing,
	 * and names the node and the command */
	const char *s1[3] = {"SET", "word", "abc"}, *s2[2] = {"INCR", "word"},
		   *s3[2] = {"GET", "key:1"};
	ts_rcluster_cmd bad[3] = {{3, s1, NULL, 1}, {2, s2, NULL, 1}, {2, s3, NULL, 1}};
	redisReply *br[3] = {NULL, NULL, NULL};
	int64_t t0 = now_ms();
	CHECK_INT(ts_rcluster_run(c, 3, bad, br, NULL), TS_ESTORE);
	CHECK(now_ms() - t0 < 1000);
	CHECK(br[0] == NULL && br[1] == NULL && br[2] == NULL);
	CHECK(strstr(ts_rcluster_error(c), "INCR: ERR value is not an integer") != NULL);
	CHECK(strstr(ts_rcluster_error(c), "redis://127.0.0.1:") != NULL);
	/* a client whose seed is no cluster node gives up with the reason */
	ts_redis_opts o = {.first_ms = 10, .max_ms = 20, .total_ms = 100};
	test_redis plain;
	if (tr_start(&plain) == 0) {
		ts_rcluster *p = client_at(plain.port, &o);
		char buf[32];
		if (p) {
			CHECK_STR(cget(p, "k", buf, sizeof buf), "(error)");
			CHECK(strstr(ts_rcluster_error(p), "cluster support disabled") != NULL);
		}
		ts_rcluster_free(p);
		tr_stop(&plain);
	} else {
		CHECK(!"redis-server did not start");
	}
out:
	ts_rcluster_free(c);
	tc_stop(&tc);
}

/* count keys whose slot the servers now give to node dst */
static void test_moved(void)
{
	test_cluster tc;
	if (tc_start(&tc, 3, 0)) {
		CHECK(!"the Redis Cluster did not start");
		return;
	}
	ts_rcluster *c = client_at(tc.node[0].port, NULL);
	enum { TAGGED = 40, N = 400 };
	static char keys[N][32];
	char buf[64], own[64], want[64];
	int rc;
	if (!c)
		goto out;
	for (int i = 0; i < N; i++)
		snprintf(keys[i], sizeof keys[i], i < TAGGED ? "{mv}:%d" : "plain:%d", i);
	CHECK_INT(set_all(c, keys, N), 0);
	/* move the slot of {mv} by hand to another master */
	int s = slot_of("{mv}");
	int src = tc_owner(&tc, 0, s), dst = (src + 1) % 3;
	CHECK(src >= 0);
	if (src < 0)
		goto out;
	CHECK_INT(tc_migrate_begin(&tc, s, src, dst), 0);
	CHECK_INT(tc_migrate_end(&tc, s, src, dst), 0);
	CHECK_INT(tc_owner(&tc, src, s), dst);
	ts_rcluster_stats st;
	ts_rcluster_stats_get(c, &st);
	CHECK_INT(st.moved, 0);
	CHECK_INT(st.refreshes, 1);
	/* the client's map still says src: the batch meets MOVED, reads the
	 * map again and finds every value on dst */
	CHECK_INT(get_all(c, keys, N, &rc), N);
	CHECK_INT(rc, 0);
	ts_rcluster_stats_get(c, &st);
	CHECK(st.moved >= 1);
	CHECK_INT(st.refreshes, 2);
	CHECK_INT(st.ask, 0);
	CHECK_INT(st.waits, 0);
	CHECK_INT(ts_rcluster_owner(c, s, own, sizeof own), 0);
	snprintf(want, sizeof want, "127.0.0.1:%d", tc.node[dst].port);
	CHECK_STR(own, want);
	CHECK(cset(c, "{mv}:new", "here"));
	redisReply *r = tc_cmd(&tc, dst, "GET {mv}:new");
	CHECK(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "here") == 0);
	if (r)
		freeReplyObject(r);
	/* redis-cli --cluster reshard moves 1500 slots, with their keys, from
	 * one master to another */
	int from = tc_owner(&tc, 0, 0), to = (from + 1) % 3;
	char fid[41], tid[41], seed[32], nslots[8], log[128];
	CHECK_INT(tc_id(&tc, from, fid), 0);
	CHECK_INT(tc_id(&tc, to, tid), 0);
	int before[N];
	for (int i = 0; i < N; i++)
		before[i] = tc_owner(&tc, 0, slot_of(keys[i]));
	snprintf(seed, sizeof seed, "127.0.0.1:%d", tc.node[0].port);
	snprintf(nslots, sizeof nslots, "%d", 1500);
	snprintf(log, sizeof log, "%s/reshard.log", tc.node[0].dir);
	char *argv[] = {"redis-cli", "--cluster", "reshard", seed, "--cluster-from", fid,
			"--cluster-to", tid, "--cluster-slots", nslots, "--cluster-yes", NULL};
	int rs = tc_exec(argv, log);
	CHECK_INT(rs, 0);
	if (rs)
		tc_show_log(log);
	CHECK_INT(tc_wait_settled(&tc, 10000), 0);
	int moved_keys = 0;
	for (int i = 0; i < N; i++)
		moved_keys += before[i] == from && tc_owner(&tc, 0, slot_of(keys[i])) == to;
	CHECK(moved_keys > 5); /* the reshard did move keys the client reads */
	uint64_t moved0 = st.moved;
	CHECK_INT(get_all(c, keys, N, &rc), N);
	CHECK_INT(rc, 0);
	ts_rcluster_stats_get(c, &st);
	CHECK(st.moved > moved0);
	for (int i = 0; i < N; i += 7) {
		int o = tc_owner(&tc, 0, slot_of(keys[i]));
		CHECK_INT(ts_rcluster_owner(c, slot_of(keys[i]), own, sizeof own), 0);
		snprintf(want, sizeof want, "127.0.0.1:%d", o >= 0 ? tc.node[o].port : 0);
		CHECK_STR(own, want);
	}
	CHECK_STR(cget(c, "{mv}:new", buf, sizeof buf), "here");
out:
	ts_rcluster_free(c);
	tc_stop(&tc);
}

typedef struct mover {
	const test_cluster *tc;
	int src, dst, delay_ms, rc;
	const char *key;
} mover;

static void *move_later(void *arg)
{
	mover *m = arg;
	tr_sleep_ms(m->delay_ms);
	m->rc = tc_migrate_key(m->tc, m->src, m->dst, m->key);
	return NULL;
}

static void test_ask(void)
{
	test_cluster tc;
	if (tc_start(&tc, 3, 0)) {
		CHECK(!"the Redis Cluster did not start");
		return;
	}
	ts_redis_opts o = {.first_ms = 50, .max_ms = 200, .total_ms = 10000};
	ts_rcluster *c = client_at(tc.node[2].port, &o);
	char buf[64], own[64], want[64];
	if (!c)
		goto out;
	CHECK(cset(c, "a{q}", "A"));
	CHECK(cset(c, "b{q}", "B"));
	int s = slot_of("{q}");
	int src = tc_owner(&tc, 0, s), dst = (src + 2) % 3;
	CHECK(src >= 0);
	if (src < 0)
		goto out;
	/* the slot is migrating: a{q} is on dst already, b{q} still on src */
	CHECK_INT(tc_migrate_begin(&tc, s, src, dst), 0);
	CHECK_INT(tc_migrate_key(&tc, src, dst, "a{q}"), 0);
	ts_rcluster_stats st0, st;
	ts_rcluster_stats_get(c, &st0);
	const char *g1[2] = {"GET", "a{q}"}, *g2[2] = {"GET", "b{q}"},
		   *s3[3] = {"SET", "c{q}", "C"};
	ts_rcluster_cmd cmds[3] = {{2, g1, NULL, 1}, {2, g2, NULL, 1}, {3, s3, NULL, 1}};
	redisReply *rep[3] = {NULL, NULL, NULL};
	CHECK_INT(ts_rcluster_run(c, 3, cmds, rep, NULL), 0);
	CHECK(rep[0] && rep[0]->type == REDIS_REPLY_STRING && strcmp(rep[0]->str, "A") == 0);
	CHECK(rep[1] && rep[1]->type == REDIS_REPLY_STRING && strcmp(rep[1]->str, "B") == 0);
	CHECK(rep[2] && rep[2]->type == REDIS_REPLY_STATUS && strcmp(rep[2]->str, "OK") == 0);
	for (int i = 0; i < 3; i++)
		if (rep[i])
			freeReplyObject(rep[i]);
	ts_rcluster_stats_get(c, &st);
	/* a{q} and the new c{q} were asked for on dst; the map is kept */
	CHECK_INT(st.ask - st0.ask, 2);
	CHECK_INT(st.moved, 0);
	CHECK_INT(st.refreshes, st0.refreshes);
	CHECK_INT(ts_rcluster_owner(c, s, own, sizeof own), 0);
	snprintf(want, sizeof want, "127.0.0.1:%d", tc.node[src].port);
	CHECK_STR(own, want);
	/* c{q} was written on dst, under ASKING */
	redisContext *d = tr_connect(&tc.node[dst]);
	CHECK(d != NULL);
	if (d) {
		redisReply *r = redisCommand(d, "ASKING");
		if (r)
			freeReplyObject(r);
		r = redisCommand(d, "GET c{q}");
		CHECK(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "C") == 0);
		if (r)
			freeReplyObject(r);
		redisFree(d);
	}
	/* MGET of a{q} (on dst) and b{q} (on src) cannot run until the
	 * migration of b{q}: TRYAGAIN, retried after the backoff until a
	 * thread migrates b{q} 600 ms later */
	mover m = {&tc, src, dst, 600, -1, "b{q}"};
	pthread_t th;
	int started = pthread_create(&th, NULL, move_later, &m) == 0;
	CHECK(started);
	const char *mg[3] = {"MGET", "a{q}", "b{q}"};
	int64_t t0 = now_ms();
	redisReply *r = run1(c, 3, mg);
	int64_t took = now_ms() - t0;
	if (started)
		pthread_join(th, NULL);
	CHECK_INT(m.rc, 0);
	CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
		CHECK(r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "A") == 0);
		CHECK(r->element[1]->type == REDIS_REPLY_STRING && strcmp(r->element[1]->str, "B") == 0);
	}
	if (r)
		freeReplyObject(r);
	CHECK(took >= 500);
	ts_rcluster_stats_get(c, &st);
	CHECK(st.waits >= 1);
	CHECK_INT(st.moved, 0);
	/* the migration ends: MOVED, the map read again, dst owns the slot */
	CHECK_INT(tc_migrate_end(&tc, s, src, dst), 0);
	CHECK_STR(cget(c, "a{q}", buf, sizeof buf), "A");
	CHECK_STR(cget(c, "b{q}", buf, sizeof buf), "B");
	CHECK_STR(cget(c, "c{q}", buf, sizeof buf), "C");
	ts_rcluster_stats_get(c, &st);
	CHECK(st.moved >= 1);
	CHECK_INT(ts_rcluster_owner(c, s, own, sizeof own), 0);
	snprintf(want, sizeof want, "127.0.0.1:%d", tc.node[dst].port);
	CHECK_STR(own, want);
out:
	ts_rcluster_free(c);
	tc_stop(&tc);
}

/* ts_rcluster_run_tx of argv lists (each routed by argv[1]): 0 and
 * rep[n + 2], or the error. */
static int tx(ts_rcluster *c, int n, const char *const *const *argv, const int *argc,
	      redisReply **rep, int *sends)
{
	ts_rcluster_cmd cmds[8];
	for (int i = 0; i < n; i++)
		cmds[i] = (ts_rcluster_cmd){argc[i], argv[i], NULL, 1};
	return ts_rcluster_run_tx(c, (size_t)n, cmds, rep, sends);
}

static void free_n(redisReply **r, int n)
{
	for (int i = 0; i < n; i++)
		if (r[i])
			freeReplyObject(r[i]);
}

static int is_str_reply(const redisReply *r, const char *want)
{
	return r && r->type == REDIS_REPLY_STRING && strcmp(r->str, want) == 0;
}

/* A transaction on the node of its slot: MULTI, QUEUED..., EXEC's array;
 * refused whole across slots; after the slot moved (MOVED) and while it is
 * migrating with every key on the target (ASK: ASKING before MULTI). */
static void test_tx(void)
{
	test_cluster tc;
	if (tc_start(&tc, 3, 0)) {
		CHECK(!"the Redis Cluster did not start");
		return;
	}
	ts_redis_opts o = {.first_ms = 50, .max_ms = 200, .total_ms = 10000};
	ts_rcluster *c = client_at(tc.node[1].port, &o);
	char buf[64];
	redisReply *rep[8] = {0};
	int sends = 0;
	if (!c)
		goto out;
	const char *s1[3] = {"SET", "a{t}", "1"}, *i1[3] = {"INCRBY", "b{t}", "5"},
		   *g1[2] = {"GET", "a{t}"}, *g2[2] = {"GET", "b{t}"};
	const char *const *av[3] = {s1, i1, g1};
	const int ac[3] = {3, 3, 2};
	CHECK_INT(tx(c, 3, av, ac, rep, &sends), 0);
	CHECK_INT(sends, 1);
	CHECK(rep[0] && rep[0]->type == REDIS_REPLY_STATUS && strcmp(rep[0]->str, "OK") == 0);
	for (int i = 1; i <= 3; i++)
		CHECK(rep[i] && rep[i]->type == REDIS_REPLY_STATUS && strcmp(rep[i]->str, "QUEUED") == 0);
	CHECK(rep[4] && rep[4]->type == REDIS_REPLY_ARRAY && rep[4]->elements == 3);
	if (rep[4] && rep[4]->type == REDIS_REPLY_ARRAY && rep[4]->elements == 3) {
		CHECK(rep[4]->element[1]->type == REDIS_REPLY_INTEGER &&
		      rep[4]->element[1]->integer == 5);
		CHECK(is_str_reply(rep[4]->element[2], "1"));
	}
	free_n(rep, 5);
	/* two slots: refused before anything is sent */
	const char *x1[3] = {"SET", "x{a}", "1"}, *x2[3] = {"SET", "x{b}", "1"};
	const char *const *avc[2] = {x1, x2};
	const int acx[2] = {3, 3};
	memset(rep, 0, sizeof rep);
	CHECK_INT(tx(c, 2, avc, acx, rep, &sends), TS_ESTORE);
	CHECK(strstr(ts_rcluster_error(c), "spans slots") != NULL);
	CHECK_INT(sends, 0);
	CHECK_STR(cget(c, "x{a}", buf, sizeof buf), "(nil)");
	/* the slot moves by hand: the transaction meets MOVED, the map is read
	 * again, and it runs once on the new owner */
	int s = slot_of("{t}");
	int src = tc_owner(&tc, 0, s), dst = (src + 1) % 3, third = (src + 2) % 3;
	CHECK(src >= 0);
	if (src < 0)
		goto out;
	CHECK_INT(tc_migrate_begin(&tc, s, src, dst), 0);
	CHECK_INT(tc_migrate_end(&tc, s, src, dst), 0);
	ts_rcluster_stats st0, st;
	ts_rcluster_stats_get(c, &st0);
	const char *i2[3] = {"INCRBY", "b{t}", "1"};
	const char *const *av2[2] = {i2, g1};
	const int ac2[2] = {3, 2};
	CHECK_INT(tx(c, 2, av2, ac2, rep, &sends), 0);
	CHECK_INT(sends, 1);
	CHECK(rep[3] && rep[3]->type == REDIS_REPLY_ARRAY && rep[3]->elements == 2);
	if (rep[3] && rep[3]->type == REDIS_REPLY_ARRAY && rep[3]->elements == 2) {
		CHECK(rep[3]->element[0]->type == REDIS_REPLY_INTEGER &&
		      rep[3]->element[0]->integer == 6);
		CHECK(is_str_reply(rep[3]->element[1], "1"));
	}
	free_n(rep, 4);
	ts_rcluster_stats_get(c, &st);
	CHECK(st.moved > st0.moved);
	redisReply *r = tc_cmd(&tc, dst, "GET b{t}");
	CHECK(is_str_reply(r, "6"));
	if (r)
		freeReplyObject(r);
	/* migrating to a third master with both keys there already: ASK, then
	 * ASKING, MULTI ... EXEC on the target */
	CHECK_INT(tc_migrate_begin(&tc, s, dst, third), 0);
	CHECK_INT(tc_migrate_key(&tc, dst, third, "a{t}"), 0);
	CHECK_INT(tc_migrate_key(&tc, dst, third, "b{t}"), 0);
	ts_rcluster_stats_get(c, &st0);
	const char *const *av3[2] = {g1, g2};
	const int ac3[2] = {2, 2};
	CHECK_INT(tx(c, 2, av3, ac3, rep, &sends), 0);
	CHECK(rep[3] && rep[3]->type == REDIS_REPLY_ARRAY && rep[3]->elements == 2);
	if (rep[3] && rep[3]->type == REDIS_REPLY_ARRAY && rep[3]->elements == 2) {
		CHECK(is_str_reply(rep[3]->element[0], "1"));
		CHECK(is_str_reply(rep[3]->element[1], "6"));
	}
	free_n(rep, 4);
	ts_rcluster_stats_get(c, &st);
	CHECK(st.ask > st0.ask);
	CHECK_INT(st.refreshes, st0.refreshes);
	CHECK_INT(tc_migrate_end(&tc, s, dst, third), 0);
	CHECK_STR(cget(c, "b{t}", buf, sizeof buf), "6");
out:
	ts_rcluster_free(c);
	tc_stop(&tc);
}

/* Wait up to ms until replica i holds as many keys as its master m. */
static int wait_synced(const test_cluster *tc, int i, int m, int ms)
{
	for (int t = 0; t < ms; t += 50) {
		redisReply *a = tc_cmd(tc, i, "DBSIZE"), *b = tc_cmd(tc, m, "DBSIZE");
		int ok = a && b && a->type == REDIS_REPLY_INTEGER && b->type == REDIS_REPLY_INTEGER &&
			 a->integer == b->integer;
		if (a)
			freeReplyObject(a);
		if (b)
			freeReplyObject(b);
		if (ok)
			return 0;
		tr_sleep_ms(50);
	}
	return -1;
}

static void test_failover(void)
{
	test_cluster tc;
	if (tc_start(&tc, 3, 1)) {
		CHECK(!"the Redis Cluster (3 masters, 3 replicas) did not start");
		return;
	}
	ts_redis_opts o = {.first_ms = 50, .max_ms = 500, .total_ms = 30000};
	char seeds[128];
	snprintf(seeds, sizeof seeds, "redis-cluster://127.0.0.1:%d,127.0.0.1:%d",
		 tc.node[0].port, tc.node[1].port);
	ts_rcluster_spec sp;
	const char *why;
	ts_rcluster *c = NULL;
	CHECK_INT(ts_rcluster_parse(seeds, &sp, &why), 0);
	CHECK_INT(ts_rcluster_new(&sp, &o, &c), 0);
	enum { N = 200 };
	static char keys[N][32];
	char own[64], want[64];
	int rc;
	if (!c)
		goto out;
	for (int i = 0; i < N; i++)
		snprintf(keys[i], sizeof keys[i], "fo:%d", i);
	CHECK_INT(set_all(c, keys, N), 0);
	ts_rcluster_stats st;
	/* the master of fo:0 and its replica */
	int s = slot_of(keys[0]);
	int m = tc_owner(&tc, 0, s), rep = -1;
	for (int i = 0; i < tc.n; i++)
		if (i != m && tc_master_of(&tc, i) == m)
			rep = i;
	CHECK(m >= 0 && rep >= 0);
	if (m < 0 || rep < 0)
		goto out;
	CHECK_INT(wait_synced(&tc, rep, m, 10000), 0);
	/* the replicas are in the map once the masters have heard of their
	 * replication offsets (CLUSTER SLOTS leaves out replicas at offset 0) */
	for (int t = 0; t < 100; t++) {
		CHECK_INT(ts_rcluster_refresh(c), 0);
		ts_rcluster_stats_get(c, &st);
		if (st.nodes == 6)
			break;
		tr_sleep_ms(100);
	}
	CHECK_INT(st.nodes, 6);
	/* a planned failover: the replica becomes master, the old master its
	 * replica; the old map leads to MOVED */
	CHECK(TC_OK(&tc, rep, "CLUSTER FAILOVER"));
	int promoted = 0;
	for (int t = 0; t < 150 && !promoted; t++) {
		promoted = tc_is_master(&tc, rep) && tc_master_of(&tc, m) == rep &&
			   tc_owner(&tc, m, s) == rep;
		if (!promoted)
			tr_sleep_ms(100);
	}
	CHECK(promoted);
	CHECK_INT(get_all(c, keys, N, &rc), N);
	CHECK_INT(rc, 0);
	ts_rcluster_stats_get(c, &st);
	CHECK(st.moved >= 1);
	CHECK_INT(ts_rcluster_owner(c, s, own, sizeof own), 0);
	snprintf(want, sizeof want, "127.0.0.1:%d", tc.node[rep].port);
	CHECK_STR(own, want);
	/* new values, copied to the old master before the new one dies */
	for (int i = 0; i < N; i++)
		snprintf(keys[i], sizeof keys[i], "fo2:%d", i);
	CHECK_INT(set_all(c, keys, N), 0);
	CHECK_INT(wait_synced(&tc, m, rep, 10000), 0);
	/* the new master is killed: connection refused, the map read from the
	 * other nodes, CLUSTERDOWN while the cluster votes, until the old
	 * master is promoted again; the batch succeeds within its budget */
	tr_kill(&tc.node[rep], SIGKILL);
	uint64_t waits0 = st.waits;
	int64_t t0 = now_ms();
	CHECK_INT(get_all(c, keys, N, &rc), N);
	CHECK_INT(rc, 0);
	fprintf(stderr, "  failover after a kill: %lld ms\n", (long long)(now_ms() - t0));
	ts_rcluster_stats_get(c, &st);
	CHECK(st.waits > waits0);
	CHECK_INT(ts_rcluster_owner(c, s, own, sizeof own), 0);
	snprintf(want, sizeof want, "127.0.0.1:%d", tc.node[m].port);
	CHECK_STR(own, want);
	CHECK(tc_is_master(&tc, m));
	/* and writes go on */
	for (int i = 0; i < N; i++)
		snprintf(keys[i], sizeof keys[i], "fo3:%d", i);
	CHECK_INT(set_all(c, keys, N), 0);
	CHECK_INT(get_all(c, keys, N, &rc), N);
out:
	ts_rcluster_free(c);
	tc_stop(&tc);
}

TS_TESTS(test_crc16_and_tags, test_parse, test_keyslot_vs_server, test_batch, test_moved, test_ask,
	 test_tx, test_failover)
